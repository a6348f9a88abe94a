//! The checks: one file per check, each with its slug, its documentation and its logic.

pub mod agent_memory_headroom;
pub mod invalid_task_size;
pub mod live;
pub mod missing_execution_role;
pub mod missing_task_size;
pub mod platform_version_too_old;
mod resize;
pub mod size_outside_agent_table;
pub mod unsupported_cpu_architecture;
pub mod unsupported_os;

use crate::finding::{CheckInfo, Finding, NotChecked};
use crate::model::{Service, TaskDef};
use serde_json::Value;

/// What the user chose for fixes that need a value.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--execution-role-arn`.
    pub execution_role_arn: Option<String>,
    /// `--platform-version` (default `LATEST`).
    pub platform_version: Option<String>,
    /// The scanned account and partition (live mode), for the default execution role.
    pub account: Option<(String, String)>,
}

/// Everything a check may read: the options and the whole document (for the account id).
pub struct Context<'a> {
    pub options: &'a Options,
    pub document: &'a Value,
}

/// What the checks found on one resource.
#[derive(Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
}

/// Every check, in the order findings are reported.
pub const ALL: &[&CheckInfo] = &[
    &unsupported_os::INFO,
    &unsupported_cpu_architecture::INFO,
    &missing_task_size::INFO,
    &invalid_task_size::INFO,
    &agent_memory_headroom::INFO,
    &size_outside_agent_table::INFO,
    &missing_execution_role::INFO,
    &platform_version_too_old::INFO,
];

/// Every check, the file-mode ones then the live ones.
pub fn all() -> impl Iterator<Item = &'static CheckInfo> {
    ALL.iter().chain(live::ALL.iter()).copied()
}

pub fn by_slug(slug: &str) -> Option<&'static CheckInfo> {
    all().find(|c| c.slug == slug)
}

/// Runs the task-definition checks on a Fargate task definition.
pub fn task_def(td: &TaskDef<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    out.findings.extend(unsupported_os::check(td));
    out.findings.extend(unsupported_cpu_architecture::check(td));
    if !out.findings.is_empty() && unsupported_os::is_windows(td) {
        // GuardDuty cannot run on this task at all: sizing it for the agent would mislead.
        return out;
    }
    out.findings.extend(missing_task_size::check(td));
    out.findings.extend(invalid_task_size::check(td));
    out.findings.extend(agent_memory_headroom::check(td));
    out.findings.extend(size_outside_agent_table::check(td));
    out.findings.extend(missing_execution_role::check(td, ctx));
    out
}

/// Runs the service checks on a Fargate service.
pub fn service(svc: &Service<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    match platform_version_too_old::check(svc, ctx) {
        Ok(f) => out.findings.extend(f),
        Err(reason) => out.not_checked.push(NotChecked {
            check: &platform_version_too_old::INFO,
            resource: String::new(),
            subject: svc.label(),
            reason,
        }),
    }
    out
}
