//! Terraform `.tf` files read statically: each value where it is static (a literal, tfvars, a
//! variable's default, a local, `jsonencode`, `file()`, a heredoc), the rest not checked naming
//! the expression; fixes are manual and say where the value is set.

use crate::snap;
use crate::support::{root, run_in};

const MODULE: &str = "tests/fixtures/terraform/module";

#[test]
fn a_module_read_statically() {
    let r = run_in(&root(), &["plan", "--diff", "none", MODULE], None);
    assert_eq!(r.code, 1, "`var.batch_cpu` has no value: {}", r.stdout);
    snap!("terraform-module", r.transcript());
    let r = run_in(&root(), &["plan", "--format", "json", MODULE], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has =
        |check: &str, subject: &str| found.iter().any(|(c, s)| c == check && s.contains(subject));
    // terraform.tfvars wins over the default (4096 would have passed).
    assert!(
        has("agent-memory-headroom", "aws_ecs_task_definition.api"),
        "{found:?}"
    );
    // The variable's default with `local.worker_cpu` and the containers from `file()`.
    assert!(
        has("invalid-task-size", "aws_ecs_task_definition.worker"),
        "{found:?}"
    );
    assert!(
        has("missing-execution-role", "aws_ecs_task_definition.worker"),
        "{found:?}"
    );
    // A service without a launch type whose task definition requires Fargate alone.
    assert!(
        has("platform-version-too-old", "aws_ecs_service.api"),
        "{found:?}"
    );
    // A role from another resource's attribute is present.
    assert!(
        !has("missing-execution-role", "aws_ecs_task_definition.api"),
        "{found:?}"
    );
    let nc = v["not_checked"].as_array().unwrap();
    assert!(
        nc.iter().any(|n| n["subject"]
            .as_str()
            .unwrap()
            .contains("aws_ecs_task_definition.batch")
            && n["reason"].as_str().unwrap().contains("`var.batch_cpu`")),
        "{nc:?}"
    );
    // With the module input given a value in tfvars, the batch task is checked (and passes).
    let dir = tempfile::tempdir().unwrap();
    for f in ["main.tf", "variables.tf", "terraform.tfvars"] {
        std::fs::copy(root().join(MODULE).join(f), dir.path().join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("defs")).unwrap();
    std::fs::copy(
        root().join(MODULE).join("defs/worker.json"),
        dir.path().join("defs/worker.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("z.auto.tfvars"), "batch_cpu = \"1024\"\n").unwrap();
    let r = run_in(dir.path(), &["plan", "--format", "json", "main.tf"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["not_checked"].as_array().unwrap().is_empty(),
        "{}",
        r.stdout
    );
}

/// Every module of `../shared/fixtures/iac/terraform`: planned, never a panic, a snapshot.
#[test]
fn shared_modules() {
    let Some(dir) = crate::support::shared().map(|s| s.join("fixtures/iac/terraform")) else {
        crate::support::skipped("../shared/fixtures/iac/terraform is not beside this clone");
        return;
    };
    if !dir.is_dir() {
        crate::support::skipped("../shared/fixtures/iac/terraform is not there");
        return;
    }
    let r = run_in(&dir, &["plan", "--diff", "none", "."], None);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "no file is an error: {}", r.stderr);
    snap!("terraform-shared-modules", r.transcript());
}
