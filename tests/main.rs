//! Integration tests: one binary, one module per area.

#![allow(clippy::print_stderr, clippy::print_stdout)]

mod common;

mod apply;
mod bad_input;
mod checks;
mod cli;
mod faults;
mod fuzz;
mod iam_policy;
mod live_apply;
mod live_plan;
mod live_scan;
mod moto;
mod properties;
mod public_fixtures;
mod scale;
mod sdk_mocks;
mod secrets;
