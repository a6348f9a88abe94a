//! fargate-rtm: checks ECS task and service definitions, from files or from an AWS account,
//! against the GuardDuty Runtime Monitoring prerequisites for AWS Fargate, and plans and applies
//! the fixes.
//!
//! Imports point inward: `commands` -> `apply` / `input` / `printer` -> `render` -> `plan` ->
//! `check` -> `model` / `sizing` / `policy`. The core (`model`, `sizing`, `policy`, `check`,
//! `plan`, `text_patch`, `render`) names no clap, tokio, SDK, file system or terminal.

pub mod agent;
pub mod apply;
pub mod aws;
pub mod check;
pub mod cidr;
pub mod cli;
pub mod commands;
pub mod coverage;
pub mod error;
pub mod fingerprint;
pub mod input;
pub mod model;
pub mod operation;
pub mod plan;
pub mod policy;
pub mod printer;
pub mod redact;
pub mod render;
pub mod sizing;
pub mod text_patch;
pub mod yaml_patch;
