//! fargate-rtm: checks ECS task and service definitions against the GuardDuty Runtime
//! Monitoring prerequisites for AWS Fargate, and plans and applies the fixes.

pub mod agent;
pub mod app;
pub mod app_live;
pub mod apply;
pub mod apply_live;
pub mod aws;
pub mod check;
pub mod cli;
pub mod finding;
pub mod fingerprint;
pub mod iam;
pub mod jsontext;
pub mod live;
pub mod model;
pub mod operation;
pub mod plan;
pub mod plan_live;
pub mod printer;
pub mod redact;
pub mod render;
pub mod sizing;
pub mod source;
