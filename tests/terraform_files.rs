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
    // Every fix applied to a copy: each written file parses (the plan reads it again) and the
    // modules plan with nothing left to write.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&dir, copy.path());
    let r = run_in(
        copy.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            ".",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("applied: 2 of 2 documents written"),
        "{}",
        r.stderr
    );
    let r = run_in(copy.path(), &["plan", "--format", "json", "."], None);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{}", r.stdout);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// An attribute added after a group of aligned attributes lines up its `=` as `terraform fmt`
/// does; after a nested block, or with a longer name than the group's, it does not pad.
#[test]
fn an_added_attribute_lines_up() {
    let plan = |text: &str| -> String {
        let dir = write_module(&[("main.tf", text)]);
        let r = run_in(
            dir.path(),
            &[
                "plan",
                "--execution-role-arn",
                "arn:aws:iam::1:role/e",
                "main.tf",
            ],
            None,
        );
        r.stdout
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        plan(
            "resource \"aws_ecs_task_definition\" \"x\" {\n  family                   = \"x\"\n  requires_compatibilities = [\"FARGATE\"]\n  cpu                      = \"256\"\n  memory                   = \"512\"\n}\n"
        ),
        "+  execution_role_arn       = \"arn:aws:iam::1:role/e\""
    );
    assert_eq!(
        plan(
            "resource \"aws_ecs_task_definition\" \"x\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu    = \"256\"\n  memory = \"512\"\n}\n"
        ),
        "+  execution_role_arn = \"arn:aws:iam::1:role/e\""
    );
    assert_eq!(
        plan(
            "resource \"aws_ecs_task_definition\" \"x\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu                      = \"256\"\n  memory                   = \"512\"\n  runtime_platform {\n    cpu_architecture = \"X86_64\"\n  }\n}\n"
        ),
        "+  execution_role_arn = \"arn:aws:iam::1:role/e\""
    );
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

/// A literal of the resource's own block is fixed in place (one line each), a value read from
/// tfvars or a variable's default where it is written; the written module plans with nothing
/// left to write.
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
    // What each file of the module changed, line by line.
    let changed_in = |f: &str| -> Vec<String> {
        let before = std::fs::read_to_string(root().join(MODULE).join(f)).unwrap();
        let after = std::fs::read_to_string(out.path().join(MODULE).join(f)).unwrap();
        similar::TextDiff::from_lines(&before, &after)
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
            .collect()
    };
    assert_eq!(
        changed_in("main.tf"),
        [
            "+  execution_role_arn       = \"arn:aws:iam::123456789012:role/exec\"",
            "-  platform_version = \"1.3.0\"",
            "+  platform_version = \"LATEST\"",
        ]
    );
    // The values read from tfvars and a variable's default are fixed where they are written.
    assert_eq!(
        changed_in("terraform.tfvars"),
        ["-api_memory = \"512\"", "+api_memory = \"1024\""]
    );
    assert_eq!(
        changed_in("variables.tf"),
        ["-  default = \"1536\"", "+  default = \"2048\""]
    );
    // Planned again beside its module files: nothing left to write.
    let to = out.path().join(MODULE).join("defs/worker.json");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(root().join(MODULE).join("defs/worker.json"), to).unwrap();
    let r = run_in(
        &out.path().join(MODULE),
        &["plan", "--format", "json", "main.tf"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
}

fn write_module(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn task(name: &str, cpu: &str, memory: &str, containers: &str) -> String {
    format!(
        "resource \"aws_ecs_task_definition\" \"{name}\" {{\n  family                   = \"{name}\"\n  requires_compatibilities = [\"FARGATE\"]\n  cpu                      = {cpu}\n  memory                   = {memory}\n  execution_role_arn       = \"arn:aws:iam::1:role/e\"\n  container_definitions    = jsonencode([{{ name = \"{name}\", image = \"x\"{containers} }}])\n}}\n"
    )
}

/// Each place a value can be written outside the resource (a `.tfvars` entry, a
/// `.tfvars.json` entry, a variable's `default`, a local) gets the fix there, one line, and the
/// module plans clean afterwards.
#[test]
fn values_are_fixed_where_they_are_written() {
    type Case = (
        &'static str,
        Vec<(&'static str, String)>,
        &'static str,
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            "tfvars",
            vec![
                ("main.tf", task("app", "\"256\"", "var.memory", "")),
                (
                    "variables.tf",
                    "variable \"memory\" {\n  default = \"4096\"\n}\n".into(),
                ),
                (
                    "terraform.tfvars",
                    "# sizes\nmemory = \"768\" # too small\n".into(),
                ),
            ],
            "terraform.tfvars",
            "memory = \"1024\" # too small",
        ),
        (
            "tfvars.json",
            vec![
                ("main.tf", task("app", "\"256\"", "var.memory", "")),
                ("variables.tf", "variable \"memory\" {}\n".into()),
                (
                    "prod.auto.tfvars.json",
                    "{\n  \"memory\": 768,\n  \"other\": true\n}\n".into(),
                ),
            ],
            "prod.auto.tfvars.json",
            "\"memory\": 1024,",
        ),
        (
            "default",
            vec![
                ("main.tf", task("app", "\"256\"", "var.memory", "")),
                (
                    "variables.tf",
                    "variable \"memory\" {\n  type    = number\n  default = 768\n}\n".into(),
                ),
            ],
            "variables.tf",
            "default = 1024",
        ),
        (
            "local",
            vec![(
                "main.tf",
                format!(
                    "locals {{\n  memory = \"768\"\n}}\n\n{}",
                    task("app", "\"256\"", "local.memory", "")
                ),
            )],
            "main.tf",
            "memory = \"1024\"",
        ),
    ];
    for (what, files, file, line) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let dir = write_module(&files);
        let before = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let r = run_in(dir.path(), &["plan", "main.tf"], None);
        assert_eq!(r.code, 2, "{what}: {}", r.stdout);
        assert!(
            r.stdout.contains("invalid-task-size"),
            "{what}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains(&format!("+++ {file} (planned)")),
            "{what}: {}",
            r.stdout
        );
        let r = run_in(
            dir.path(),
            &["apply", "--auto-approve", "--in-place", "main.tf"],
            None,
        );
        assert_eq!(r.code, 0, "{what}: {}{}", r.stdout, r.stderr);
        let after = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let changed: Vec<String> = similar::TextDiff::from_lines(&before, &after)
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| c.value().trim().to_string())
            .collect();
        assert_eq!(changed.len(), 2, "{what}: one line changed: {changed:?}");
        assert_eq!(changed[1], line, "{what}");
        let r = run_in(dir.path(), &["plan", "--format", "json", "."], None);
        assert_eq!(r.code, 0, "{what}: planned clean: {}", r.stdout);
    }
}

/// A value read by two resources: the fix is made there only when it clears the finding and
/// leaves the other resource no new finding; it names the other reader either way.
#[test]
fn a_shared_value_is_fixed_only_when_every_reader_stays_valid() {
    let vars = "variable \"memory\" {\n  default = \"512\"\n}\n";
    // Both need 1024: one edit, naming the other reader.
    let dir = write_module(&[
        (
            "main.tf",
            &format!(
                "{}\n{}",
                task("api", "\"256\"", "var.memory", ", memory = 512"),
                task("web", "\"256\"", "var.memory", ", memory = 512")
            ),
        ),
        ("variables.tf", vars),
    ]);
    let r = run_in(dir.path(), &["plan", "main.tf"], None);
    assert!(
        r.stdout.contains(
            "(written to the `default` of `var.memory`; also read by `aws_ecs_task_definition.web`)"
        ),
        "{}",
        r.stdout
    );
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "main.tf"],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run_in(dir.path(), &["plan", "."], None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // One needs 1024 (256 CPU), the other 8192 (4096 CPU): 1024 clears the first and leaves
    // the second as it was, so it is made; 8192 would make the first invalid, so it is not.
    let dir = write_module(&[
        (
            "main.tf",
            &format!(
                "{}\n{}",
                task("api", "\"256\"", "var.memory", ", memory = 512"),
                task("big", "\"4096\"", "var.memory", "")
            ),
        ),
        ("variables.tf", vars),
    ]);
    let r = run_in(dir.path(), &["plan", "--format", "json", "main.tf"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let titles: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fix"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "set `memory` to `\"1024\"` in `aws_ecs_task_definition.api` (written to the `default` of `var.memory`; also read by `aws_ecs_task_definition.big`)",
            "set `memory` to `\"8192\"` in `aws_ecs_task_definition.big` (written to the `default` of `var.memory`; also read by `aws_ecs_task_definition.api`) (made there, it would leave `invalid-task-size` on the task definition `aws_ecs_task_definition.api`)"
        ]
    );
    assert_eq!(
        v["changes"][0]["patch"],
        serde_json::json!([{"op": "replace", "path": "/variable/memory/default", "value": "1024"}])
    );
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "main.tf"],
        None,
    );
    assert_eq!(r.code, 0, "a manual fix is left: {}{}", r.stdout, r.stderr);
    let r = run_in(dir.path(), &["plan", "--format", "json", "main.tf"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{}", r.stdout);
}

/// Two `.tf` files of one module whose fixes edit one file: the same edit is shown and written
/// once; different edits of that file leave the second file's fixes manual, saying why.
#[test]
fn two_inputs_editing_one_module_file() {
    let vars =
        "variable \"a\" {\n  default = \"512\"\n}\n\nvariable \"b\" {\n  default = \"3072\"\n}\n";
    // Same variable, same edit.
    let dir = write_module(&[
        ("a.tf", &task("api", "\"256\"", "var.a", ", memory = 512")),
        ("b.tf", &task("web", "\"256\"", "var.a", ", memory = 512")),
        ("variables.tf", vars),
    ]);
    let r = run_in(dir.path(), &["plan", "."], None);
    assert_eq!(
        r.stdout.matches("variables.tf (planned)").count(),
        1,
        "{}",
        r.stdout
    );
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "."],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(run_in(dir.path(), &["plan", "."], None).code, 0);
    // Two variables of one file: the second input is held.
    let dir = write_module(&[
        ("a.tf", &task("api", "\"256\"", "var.a", ", memory = 512")),
        ("b.tf", &task("web", "\"2048\"", "var.b", "")),
        ("variables.tf", vars),
    ]);
    let r = run_in(dir.path(), &["plan", "."], None);
    assert!(
        r.stdout.contains("fix (manual): set `memory` to `\"4096\"` in `aws_ecs_task_definition.web` (the `default` of `var.b` in `variables.tf` line 6) (`./variables.tf` is also edited by the fixes of `./a.tf`: apply those, then plan again)"),
        "{}",
        r.stdout
    );
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "."],
        None,
    );
    assert_eq!(r.code, 0, "a manual fix is left: {}{}", r.stdout, r.stderr);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "."],
        None,
    );
    assert_eq!(r.code, 0, "then the second: {}{}", r.stdout, r.stderr);
    assert_eq!(run_in(dir.path(), &["plan", "."], None).code, 0);
}

/// Cases a review of the fixes made outside the resource found wrong: each now writes the value
/// Terraform uses, or stays manual.
#[test]
fn reviewed_module_edit_cases() {
    let vars = |default: &str| format!("variable \"memory\" {{\n  default = \"{default}\"\n}}\n");
    // A reader whose size checks are not checked (its containers come from `templatefile`):
    // the shared default is not edited.
    let small = "resource \"aws_ecs_task_definition\" \"small\" {\n  requires_compatibilities = [\"FARGATE\"]\n  cpu                      = \"256\"\n  memory                   = var.memory\n  execution_role_arn       = \"arn:aws:iam::1:role/e\"\n  container_definitions    = templatefile(\"${path.module}/small.json.tpl\", {})\n}\n";
    let dir = write_module(&[
        (
            "main.tf",
            &format!("{small}\n{}", task("big", "\"4096\"", "var.memory", "")),
        ),
        ("variables.tf", &vars("2048")),
    ]);
    let r = run_in(dir.path(), &["plan", "--format", "json", "main.tf"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(
        v["findings"][0]["fix"]["title"].as_str().unwrap().contains(
            "checks not run on the task definition `aws_ecs_task_definition.small`, which reads it too"
        ),
        "{}",
        r.stdout
    );
    // `*.auto.tfvars` wins over `terraform.tfvars.json`: the edit goes there.
    let dir = write_module(&[
        ("main.tf", &task("app", "\"256\"", "var.memory", "")),
        ("variables.tf", "variable \"memory\" {}\n"),
        ("terraform.tfvars.json", "{\"memory\": \"640\"}\n"),
        ("z.auto.tfvars", "memory = \"768\"\n"),
    ]);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "main.tf"],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("z.auto.tfvars")).unwrap(),
        "memory = \"1024\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("terraform.tfvars.json")).unwrap(),
        "{\"memory\": \"640\"}\n"
    );
    // A module called from a sibling folder of the repository takes the caller's value: its
    // default is not the deployed value and is not edited.
    let dir = write_module(&[
        (
            "modules/svc/main.tf",
            &task("app", "\"256\"", "var.memory", ""),
        ),
        ("modules/svc/variables.tf", &vars("768")),
        (
            "envs/prod/main.tf",
            "module \"svc\" {\n  source = \"../../modules/svc\"\n  memory = \"640\"\n}\n",
        ),
    ]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let r = run_in(dir.path(), &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(
        v["not_checked"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("var.memory"),
        "{}",
        r.stdout
    );
    // The same module file named two ways: the second input is held.
    let two =
        "variable \"a\" {\n  default = \"512\"\n}\n\nvariable \"b\" {\n  default = \"3072\"\n}\n";
    let dir = write_module(&[
        (
            "mod/a.tf",
            &task("api", "\"256\"", "var.a", ", memory = 512"),
        ),
        ("mod/b.tf", &task("web", "\"2048\"", "var.b", "")),
        ("mod/variables.tf", two),
    ]);
    let r = run_in(dir.path(), &["plan", "mod/a.tf", "./mod/b.tf"], None);
    assert_eq!(
        r.stdout.matches("variables.tf (planned)").count(),
        1,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("is also edited by the fixes of `mod/a.tf`"),
        "{}",
        r.stdout
    );
    // The title names where the patch writes (`cpu` in the block), not the finding's attribute.
    let dir = write_module(&[
        ("main.tf", &task("app", "\"256\"", "var.memory", "")),
        ("variables.tf", &vars("4096")),
    ]);
    let r = run_in(dir.path(), &["plan", "main.tf"], None);
    assert!(
        r.stdout.contains("fix (unsafe, raises the task's billed size): set `cpu` to `\"512\"` in `aws_ecs_task_definition.app`\n"),
        "{}",
        r.stdout
    );
}

/// A saved plan carries the module's fingerprint: it applies its edits of tfvars, and refuses
/// (writing nothing) when a module file changed since.
#[test]
fn saved_plans_with_module_edits() {
    let files = [
        ("main.tf", task("app", "\"256\"", "var.memory", "")),
        ("variables.tf", "variable \"memory\" {}\n".to_string()),
        ("terraform.tfvars", "memory = \"768\"\n".to_string()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = write_module(&files);
    let r = run_in(
        dir.path(),
        &["plan", "--out", "fix.plan.json", "main.tf"],
        None,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "fix.plan.json"],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("terraform.tfvars")).unwrap(),
        "memory = \"1024\"\n"
    );
    // Stale: a module file changed after the plan.
    let dir = write_module(&files);
    run_in(
        dir.path(),
        &["plan", "--out", "fix.plan.json", "main.tf"],
        None,
    );
    std::fs::write(dir.path().join("terraform.tfvars"), "memory = \"2048\"\n").unwrap();
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "fix.plan.json"],
        None,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("stale"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("terraform.tfvars")).unwrap(),
        "memory = \"2048\"\n"
    );
}

/// A tfvars file with a byte order mark keeps it; a CRLF file gets a CRLF line.
#[test]
fn bom_and_crlf_are_kept() {
    let dir = write_module(&[
        ("main.tf", &task("app", "\"256\"", "var.memory", "")),
        ("variables.tf", "variable \"memory\" {}\n"),
        ("terraform.tfvars", "\u{feff}memory = \"768\"\n"),
    ]);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "main.tf"],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("terraform.tfvars")).unwrap(),
        "\u{feff}memory = \"1024\"\n"
    );
    let crlf = "resource \"aws_ecs_task_definition\" \"x\" {\r\n  requires_compatibilities = [\"FARGATE\"]\r\n  cpu                      = \"256\"\r\n  memory                   = \"512\"\r\n}\r\n";
    let dir = write_module(&[("main.tf", crlf)]);
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--execution-role-arn",
            "arn:aws:iam::1:role/e",
            "main.tf",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "{text:?}"
    );
    assert!(text.contains("execution_role_arn"), "{text:?}");
}

/// JSON syntax (`.tf.json`): read as native syntax (`"${var.memory}"` is `var.memory`), lines
/// in the JSON, the resource's own literals fixed at their pointers, a value set elsewhere a
/// manual fix saying where; CDK for Terraform output is never edited.
#[test]
fn json_syntax() {
    let config = r#"{
  "variable": {"memory": {"default": "768"}},
  "resource": {
    "aws_ecs_task_definition": {
      "api": {
        "family": "api",
        "requires_compatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "${var.memory}",
        "container_definitions": "${jsonencode([{name = \"api\", image = \"x\", memory = 256}])}"
      },
      "web": {
        "family": "web",
        "requires_compatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1536",
        "execution_role_arn": "arn:aws:iam::1:role/e",
        "container_definitions": "[{\"name\": \"web\", \"image\": \"x\"}]"
      }
    },
    "aws_ecs_service": {
      "api": {"name": "api", "platform_version": "1.3.0", "task_definition": "${aws_ecs_task_definition.api.arn}"}
    }
  }
}
"#;
    let dir = write_module(&[("main.tf.json", config)]);
    let role = "arn:aws:iam::1:role/x";
    let r = run_in(
        dir.path(),
        &[
            "plan",
            "--execution-role-arn",
            role,
            "--format",
            "json",
            ".",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} line {} {}",
                f["check"].as_str().unwrap(),
                f["subject"].as_str().unwrap(),
                f["line"],
                f["fix"]["applicability"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "invalid-task-size task definition `aws_ecs_task_definition.api` line 9 manual",
            "missing-execution-role task definition `aws_ecs_task_definition.api` line 5 safe",
            "invalid-task-size task definition `aws_ecs_task_definition.web` line 16 unsafe",
            "platform-version-too-old service `aws_ecs_service.api` line 22 unsafe",
        ]
    );
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--execution-role-arn",
            role,
            ".",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("main.tf.json")).unwrap())
            .unwrap();
    let tds = &after["resource"]["aws_ecs_task_definition"];
    assert_eq!(tds["web"]["memory"], "2048");
    assert_eq!(tds["api"]["execution_role_arn"], role);
    assert_eq!(tds["api"]["memory"], "${var.memory}");
    let r = run_in(dir.path(), &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{}", r.stdout);
    // The same configuration synthesized by CDK for Terraform: every fix manual.
    let dir = write_module(&[("cdktf.out/stacks/app/cdk.tf.json", config)]);
    let r = run_in(dir.path(), &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(
        v["findings"][0]["fix"]["title"]
            .as_str()
            .unwrap()
            .contains("synthesized by CDK for Terraform"),
        "{}",
        r.stdout
    );
}
