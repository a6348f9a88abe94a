//! The CLI on the bundled examples: every output format, exit codes, colour.

use crate::snap;
use crate::support::{root, run, run_in};

#[test]
fn plan_examples_text() {
    let r = run(&["plan", "examples"]);
    assert_eq!(r.code, 2, "not ready: the examples have error findings");
    assert!(!r.stdout.contains('\x1b'), "no colour in a pipe");
    assert!(!r.stdout.contains("example-not-a-real-secret"));
    snap!("plan-examples-text", r.transcript());
}

#[test]
fn plan_examples_json() {
    let r = run(&["plan", "--format", "json", "examples"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "", "JSON mode writes only JSON");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for f in v["findings"].as_array().unwrap() {
        for key in ["check", "severity", "resource", "message"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        assert!(f["fix"]["applicability"].is_string() && f["fix"]["title"].is_string());
        assert!(f["resource"].as_str().unwrap().starts_with("examples/"));
    }
    for c in v["changes"].as_array().unwrap() {
        let patch: json_patch::Patch =
            serde_json::from_value(c["patch"].clone()).expect("changes[].patch is RFC 6902");
        assert!(!patch.is_empty());
    }
    snap!("plan-examples-json", r.stdout);
}

#[test]
fn plan_examples_patch_applies_with_json_patch() {
    let r = run(&["plan", "--format", "patch", "examples"]);
    assert_eq!(r.code, 2);
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    // The `describe-services` snapshot is not patched: its fix is an `update-service` command.
    assert_eq!(v.len(), 5);
    for (path, patch) in v {
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(&path)).unwrap()).unwrap();
        let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
        json_patch::patch(&mut doc, &patch).expect("the patch applies to its file");
    }
    snap!("plan-examples-patch", r.stdout);
}

#[test]
fn plan_examples_sarif() {
    let r = run(&["plan", "--format", "sarif", "examples"]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "fargate-rtm");
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in run0["results"].as_array().unwrap() {
        assert!(rules.contains(&r["ruleId"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("examples/")
        );
        assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
    }
    snap!("plan-examples-sarif", r.stdout);
}

#[test]
fn exit_codes() {
    assert_eq!(
        run(&[
            "plan",
            "examples/task-definitions/checkout-ready-arm64.json"
        ])
        .code,
        0
    );
    // A warning alone is ready.
    assert_eq!(
        run(&[
            "plan",
            "examples/task-definitions/search-large-describe-output.json"
        ])
        .code,
        0
    );
    // Skipped only: ready.
    assert_eq!(
        run(&["plan", "examples/task-definitions/cron-ec2-only.json"]).code,
        0
    );
    assert_eq!(
        run(&["plan", "examples/task-definitions/api-memory-full.json"]).code,
        2
    );
    let r = run(&["plan", "no/such/file.json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: `no/such/file.json`: cannot read: no such file or directory\n"
    );
    let r = run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error: no input"));
    let r = run(&["plan", "--platform-version", "1.3.0", "examples"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("`--platform-version 1.3.0` is not `LATEST`")
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let r = run(&[
        "plan",
        "--color",
        "always",
        "examples/task-definitions/api-memory-full.json",
    ]);
    assert!(
        r.stdout.contains("\x1b[31m-    \"memory\": \"2 GB\","),
        "{}",
        r.stdout
    );
    let r = run(&[
        "plan",
        "--color",
        "never",
        "examples/task-definitions/api-memory-full.json",
    ]);
    assert!(!r.stdout.contains('\x1b'));
}

#[test]
fn no_color_environment_is_respected() {
    // `auto` on a pipe is already colourless; NO_COLOR must not turn it on or break anything.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fargate-rtm"));
    let out = cmd
        .args(["plan", "examples/task-definitions/api-memory-full.json"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn stdin_is_read_with_dash() {
    let text =
        std::fs::read_to_string(root().join("examples/task-definitions/api-memory-full.json"))
            .unwrap();
    let r = run_in(&root(), &["plan", "--format", "json", "-"], Some(&text));
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"][0]["resource"], "-");
    assert_eq!(v["findings"][0]["check"], "agent-memory-headroom");
}

#[test]
fn help_lists_the_commands() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for cmd in ["plan", "apply", "explain"] {
        assert!(r.stdout.contains(cmd));
    }
}

#[test]
fn secrets_next_to_a_fix_are_redacted_in_the_diff() {
    let doc = r#"{
  "family": "s",
  "requiresCompatibilities": ["FARGATE"],
  "containerDefinitions": [{"name": "a", "memory": 512,
    "environment": [{"name": "DB_PASSWORD", "value": "hunter2-very-secret"}],
    "dockerLabels": {"api_token": "tok-123456"}}],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::123456789012:role/e"
}
"#;
    let r = run_in(&root(), &["plan", "-"], Some(doc));
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("+  \"memory\": \"1024\","),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"<redacted>\""), "{}", r.stdout);
    assert!(
        !r.stdout.contains("hunter2") && !r.stdout.contains("tok-123456"),
        "{}",
        r.stdout
    );
}

#[test]
fn apply_live_checks_its_options_before_reaching_aws() {
    let r = run(&["apply", "--live", "--platform-version", "1.3.0"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("`--platform-version 1.3.0` is not `LATEST`"),
        "{}",
        r.stderr
    );
}

#[test]
fn errors_name_the_file_and_verbose_prints_the_cause() {
    let missing = "tests/fixtures/no-such-journal.jsonl";
    let r = run(&["rollback", missing]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!("error: cannot read `{missing}`: no such file or directory\n")
    );
    let r = run(&["-v", "rollback", missing]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("\n  Caused by: No such file or directory (os error 2)\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn registerable_does_not_go_with_live() {
    let r = run(&["plan", "--live", "--registerable"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "error: `--registerable` shapes files for `register-task-definition`; it does not go with `--live`"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn an_account_plan_saved_by_an_older_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for format in [1, 2, 3] {
        let old = dir.path().join("old.plan.json");
        std::fs::write(
            &old,
            format!(
                r#"{{"fargate-rtm-plan": {format}, "created_by": "fargate-rtm 0.1.0", "live": {{"profile": null, "operations": []}}, "findings": []}}"#
            ),
        )
        .unwrap();
        let r = run(&["apply", "--auto-approve", old.to_str().unwrap()]);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains(&format!(
                "a live plan saved by an older fargate-rtm (format {format})"
            )) && r.stderr.contains("`fargate-rtm plan --live --out FILE`"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn only_is_for_account_changes() {
    let r = run(&[
        "apply",
        "--only",
        "safe",
        "--auto-approve",
        "--out-dir",
        "/nonexistent",
        "examples/task-definitions/api-memory-full.json",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "error: `--only` chooses among account changes: give `--live` or a saved account plan"
        ),
        "{}",
        r.stderr
    );
}
