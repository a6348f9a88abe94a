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

/// Cases a review found passing when they must not: each is now a finding or not checked.
#[test]
fn reviewed_cases_are_findings_or_not_checked() {
    let module = |files: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    };
    let plan = |dir: &std::path::Path| -> serde_json::Value {
        let r = run_in(dir, &["plan", "--format", "json", "."], None);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let checks = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["check"].as_str().unwrap(),
                    f["subject"].as_str().unwrap()
                )
            })
            .collect()
    };
    let td = "resource \"aws_ecs_task_definition\" \"app\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu = \"256\"\n  memory = \"512\"\n  execution_role_arn = \"arn:aws:iam::1:role/e\"\n  container_definitions = jsonencode([{ name = \"a\", image = \"b\" }])\n}\n";
    // A service and its task definition in two files of one module.
    let d = module(&[
        ("td.tf", td),
        (
            "svc.tf",
            "resource \"aws_ecs_service\" \"app\" {\n  name = \"app\"\n  task_definition = aws_ecs_task_definition.app.arn\n  platform_version = \"1.3.0\"\n}\n",
        ),
    ]);
    let v = plan(d.path());
    assert!(
        checks(&v, "findings")
            .iter()
            .any(|c| c.starts_with("platform-version-too-old")),
        "{v}"
    );
    // A role that may be null is not checked, not present.
    let d = module(&[(
        "main.tf",
        "variable \"use_role\" {\n  default = false\n}\nresource \"aws_ecs_task_definition\" \"a\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu = \"256\"\n  memory = \"512\"\n  execution_role_arn = var.use_role ? \"arn:aws:iam::1:role/x\" : null\n  container_definitions = jsonencode([{ name = \"a\", image = \"b\" }])\n}\n",
    )]);
    let v = plan(d.path());
    assert!(
        checks(&v, "not_checked")
            .iter()
            .any(|c| c.starts_with("missing-execution-role")),
        "{v}"
    );
    // A child module's input is its caller's value, not its own tfvars or default.
    let child = "variable \"memory\" {\n  default = \"512\"\n}\nresource \"aws_ecs_task_definition\" \"a\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu = \"256\"\n  memory = var.memory\n  execution_role_arn = \"arn:aws:iam::1:role/e\"\n  container_definitions = jsonencode([{ name = \"a\", image = \"b\" }])\n}\n";
    let d = module(&[
        (
            "main.tf",
            "module \"svc\" {\n  source = \"./modules/svc\"\n  memory = \"300\"\n}\n",
        ),
        ("modules/svc/main.tf", child),
        ("modules/svc/terraform.tfvars", "memory = \"1024\"\n"),
    ]);
    let v = plan(d.path());
    assert!(
        checks(&v, "not_checked")
            .iter()
            .any(|c| c.starts_with("invalid-task-size")),
        "{v}"
    );
    assert!(checks(&v, "findings").is_empty(), "{v}");
    // `*.auto.tfvars.json` is read (and wins over the default).
    let d = module(&[
        ("main.tf", child),
        ("x.auto.tfvars.json", "{\"memory\": \"300\"}"),
    ]);
    let v = plan(d.path());
    assert!(
        checks(&v, "findings")
            .iter()
            .any(|c| c.starts_with("invalid-task-size")),
        "{v}"
    );
    // An override file: the module's resources are not checked.
    let d = module(&[
        ("main.tf", td),
        (
            "override.tf",
            "resource \"aws_ecs_task_definition\" \"app\" {\n  memory = \"300\"\n}\n",
        ),
    ]);
    let v = plan(d.path());
    assert!(checks(&v, "findings").is_empty(), "{v}");
    assert!(!checks(&v, "not_checked").is_empty(), "{v}");
    assert_eq!(v["exit_code"], 1);
}

/// A literal of the resource's own block is fixed in place (one line each); a value set
/// elsewhere stays a manual fix; the written file plans with nothing left to write.
#[test]
fn literals_are_fixed_in_place() {
    let out = tempfile::tempdir().unwrap();
    let r = run_in(
        &root(),
        &[
            "apply",
            "--auto-approve",
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            "--out-dir",
            out.path().to_str().unwrap(),
            MODULE,
        ],
        None,
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let before = std::fs::read_to_string(root().join(MODULE).join("main.tf")).unwrap();
    let after = std::fs::read_to_string(out.path().join(MODULE).join("main.tf")).unwrap();
    let changed: Vec<String> = similar::TextDiff::from_lines(&before, &after)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        .collect();
    assert_eq!(
        changed,
        [
            "+  execution_role_arn = \"arn:aws:iam::123456789012:role/exec\"",
            "-  platform_version = \"1.3.0\"",
            "+  platform_version = \"LATEST\"",
        ]
    );
    // Planned again beside its module files: nothing left to write.
    for f in ["variables.tf", "terraform.tfvars", "defs/worker.json"] {
        let to = out.path().join(MODULE).join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(MODULE).join(f), to).unwrap();
    }
    let r = run_in(
        &out.path().join(MODULE),
        &["plan", "--format", "json", "main.tf"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
}
