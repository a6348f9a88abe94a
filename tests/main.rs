//! Integration tests: one binary; `support/` holds the helpers, then one module per area, named
//! after what it tests.

#![allow(clippy::print_stderr, clippy::print_stdout)]

mod support;

mod account_apply_every_step;
mod account_apply_fake;
mod account_apply_moto;
mod account_checks;
mod account_plan;
mod account_scan_moto;
mod agent_path_moto;
mod apply_files;
mod aws_sdk_mocks;
mod bad_input;
mod cli;
mod cloudformation;
mod coverage;
mod document_checks;
mod fault_injection;
mod fuzz;
mod html_report;
mod org_scan_moto;
mod pre_commit_hook;
mod properties;
mod public_fixtures;
mod readme_iam_policies;
mod repository_walk;
mod scale;
mod secrets;
mod terraform_files;
mod terraform_plan;
