//! Fixes shared by several checks: resizing a task for the agent, granting the execution role
//! the agent's ECR pulls, creating the VPC endpoints of the agent's image pull.

pub mod ecr_grant;
pub mod endpoints;
pub mod resize;
