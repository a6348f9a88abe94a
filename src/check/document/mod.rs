//! Checks on one task or service definition (file mode, and the documents of an account).

pub mod agent_memory_headroom;
pub mod deployment_on_old_platform;
pub mod invalid_task_size;
pub mod missing_execution_role;
pub mod missing_task_size;
pub mod platform_version_too_old;
pub mod size_outside_agent_table;
pub mod unsupported_cpu_architecture;
pub mod unsupported_os;
