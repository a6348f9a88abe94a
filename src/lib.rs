//! fargate-rtm: checks ECS task and service definitions against the GuardDuty Runtime
//! Monitoring prerequisites for AWS Fargate, and plans and applies the fixes.

pub mod app;
pub mod apply;
pub mod check;
pub mod cli;
pub mod finding;
pub mod jsontext;
pub mod model;
pub mod plan;
pub mod printer;
pub mod redact;
pub mod render;
pub mod sizing;
pub mod source;
