//! `apply` in file mode: confirmation rules, destinations, atomic writes, saved plans.

use crate::snap;
use crate::support::{root, run_in, temp_with};
use std::path::Path;

const API: &str = "examples/task-definitions/api-memory-full.json";
const WORKER: &str = "examples/task-definitions/worker-no-size-no-role.json";
const SEARCH: &str = "examples/task-definitions/search-large-describe-output.json";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn changed_lines(a: &str, b: &str) -> usize {
    similar::TextDiff::from_lines(a, b)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .count()
}

#[test]
fn refuses_without_terminal_or_auto_approve_and_writes_nothing() {
    let dir = temp_with(&[API]);
    let file = dir.path().join("api-memory-full.json");
    let before = read(&file);
    let r = run_in(
        dir.path(),
        &["apply", "--in-place", "api-memory-full.json"],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("refusing to apply without confirmation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`--auto-approve`"));
    assert_eq!(read(&file), before);
    snap!("apply-refused-no-terminal", r.transcript());
}

#[test]
fn files_need_a_destination() {
    let dir = temp_with(&[API]);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "api-memory-full.json"],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("needs `--in-place` or `--out-dir DIR`"));
}

#[test]
fn in_place_changes_exactly_the_patched_line_and_keeps_permissions() {
    let dir = temp_with(&[API]);
    let file = dir.path().join("api-memory-full.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let before = read(&file);
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "api-memory-full.json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = read(&file);
    // A 4-space file with one memory fix differs in one line (one removed, one added).
    assert_eq!(changed_lines(&before, &after), 2);
    assert_eq!(
        after,
        before.replace("\"memory\": \"2 GB\"", "\"memory\": \"3 GB\"")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Planning the result finds nothing left.
    let r = run_in(dir.path(), &["plan", "api-memory-full.json"], None);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn out_dir_keeps_relative_paths_and_never_overwrites() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("patched");
    let apply_examples = || {
        let dir = out_dir.to_str().unwrap();
        run_in(
            &root(),
            &["apply", "--auto-approve", "--out-dir", dir, "examples"],
            None,
        )
    };
    let r = apply_examples();
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Paths relative to the current directory.
    for rel in [
        "examples/task-definitions/api-memory-full.json",
        "examples/task-definitions/worker-no-size-no-role.json",
        "examples/services/legacy-api-service.json",
    ] {
        assert!(out_dir.join(rel).is_file(), "{rel}");
    }
    assert!(
        !out_dir
            .join("examples/task-definitions/checkout-ready-arm64.json")
            .exists(),
        "unchanged files are not written"
    );
    // The inputs are untouched.
    assert!(read(&root().join(API)).contains("\"2 GB\""));
    // Running again writes the same bytes: allowed. A different existing file: refused.
    let again = apply_examples();
    assert_eq!(again.code, 0, "{}", again.stderr);
    std::fs::write(
        out_dir.join("examples/task-definitions/api-memory-full.json"),
        "{}",
    )
    .unwrap();
    let r = apply_examples();
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
    assert_eq!(
        read(&out_dir.join("examples/task-definitions/api-memory-full.json")),
        "{}"
    );
    // Every written file plans clean except for findings without a fix.
    let r = run_in(
        &root(),
        &["plan", "--format", "json", out_dir.to_str().unwrap()],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["changes"].as_array().unwrap().is_empty(), "{}", r.stdout);
}

/// Two inputs of one name in different folders, one of them outside the current directory:
/// each keeps its own path, never one output for both.
#[test]
fn out_dir_never_maps_two_inputs_to_one_output() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let api = read(&root().join(API));
    for dir in ["a", "b"] {
        std::fs::create_dir_all(work.path().join(dir)).unwrap();
        std::fs::write(work.path().join(dir).join("task-definition.json"), &api).unwrap();
    }
    std::fs::create_dir_all(elsewhere.path().join("c")).unwrap();
    let outside = elsewhere.path().join("c/task-definition.json");
    std::fs::write(&outside, &api).unwrap();
    let r = run_in(
        work.path(),
        &[
            "apply",
            "--auto-approve",
            "--out-dir",
            "out",
            "a/task-definition.json",
            "b/task-definition.json",
            outside.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The outside one keeps its path below the inputs' common ancestor.
    let below = elsewhere
        .path()
        .strip_prefix(work.path().parent().unwrap())
        .unwrap()
        .join("c/task-definition.json");
    for rel in [
        std::path::Path::new("a/task-definition.json"),
        std::path::Path::new("b/task-definition.json"),
        below.as_path(),
    ] {
        assert!(
            work.path().join("out").join(rel).is_file(),
            "{}: {}",
            rel.display(),
            r.stderr
        );
    }
}

#[test]
fn stdin_to_stdout() {
    let text = read(&root().join(WORKER));
    let r = run_in(
        &root(),
        &[
            "apply",
            "--auto-approve",
            "--execution-role-arn",
            "arn:aws:iam::111122223333:role/worker-exec",
            "-",
        ],
        Some(&text),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["cpu"], "256");
    assert_eq!(v["memory"], "2048");
    assert_eq!(
        v["executionRoleArn"],
        "arn:aws:iam::111122223333:role/worker-exec"
    );
    // Round trip: the output plans clean.
    let again = run_in(&root(), &["plan", "-"], Some(&r.stdout));
    assert_eq!(again.code, 0, "{}", again.stdout);
    // Without changes, standard input passes through unchanged.
    let ready = read(&root().join("examples/task-definitions/checkout-ready-arm64.json"));
    let r = run_in(&root(), &["apply", "--auto-approve", "-"], Some(&ready));
    assert_eq!((r.code, r.stdout.as_str()), (0, ready.as_str()));
}

#[test]
fn registerable_strips_read_only_fields_and_unwraps() {
    let text = read(&root().join(SEARCH));
    let r = run_in(
        &root(),
        &["apply", "--auto-approve", "--registerable", "-"],
        Some(&text),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for k in fargate_rtm::model::READ_ONLY_TASK_FIELDS {
        assert!(v.get(*k).is_none(), "{k} is stripped");
    }
    assert_eq!(v["family"], "search");
    assert_eq!(
        v["tags"][0]["key"], "team",
        "tags move into the register input"
    );
    assert!(
        r.stdout.starts_with("{\n  \"family\": \"search\",\n"),
        "one level of indentation removed:\n{}",
        r.stdout
    );
    snap!("apply-registerable-stdout", r.stdout);
}

#[test]
fn saved_plan_applies_exactly_and_refuses_when_stale() {
    let dir = temp_with(&[API, WORKER]);
    let plan_file = dir.path().join("fix.plan.json");
    let r = run_in(
        dir.path(),
        &[
            "plan",
            "--out",
            "fix.plan.json",
            "api-memory-full.json",
            "worker-no-size-no-role.json",
        ],
        None,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("saved the plan to `fix.plan.json`"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&plan_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let saved = read(&plan_file);
    assert!(!saved.contains("example-not-a-real-secret"));

    // Stale: one input changed. Nothing is written, not even the unchanged one.
    let worker = dir.path().join("worker-no-size-no-role.json");
    let api = dir.path().join("api-memory-full.json");
    let api_before = read(&api);
    std::fs::write(&worker, read(&worker).replace("900", "901")).unwrap();
    let worker_before = read(&worker);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "fix.plan.json"],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("the plan is stale: `worker-no-size-no-role.json` changed"),
        "{}",
        r.stderr
    );
    assert_eq!(read(&api), api_before);
    assert_eq!(read(&worker), worker_before);

    // Fresh plan applies, from another working directory too.
    let r = run_in(
        dir.path(),
        &[
            "plan",
            "--out",
            "fix.plan.json",
            "api-memory-full.json",
            "worker-no-size-no-role.json",
        ],
        None,
    );
    assert_eq!(r.code, 2);
    let r = run_in(
        &root(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            plan_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("applied from the saved plan: 2 of 2 documents written"),
        "{}",
        r.stderr
    );
    assert!(read(&api).contains("\"3 GB\""));
    assert!(
        read(&worker).contains(
            "\"executionRoleArn\": \"arn:aws:iam::111122223333:role/ecsTaskExecutionRole\""
        )
    );
}

#[test]
fn standard_input_cannot_be_saved_in_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&root().join(API));
    let r = run_in(dir.path(), &["plan", "--out", "p.json", "-"], Some(&text));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("standard input cannot be saved"));
    assert!(!dir.path().join("p.json").exists());
}

fn on_terminal(dir: &Path, args: &str, keys: &str) -> String {
    let mut script = std::process::Command::new("script");
    script.current_dir(dir).env_remove("NO_COLOR");
    crate::support::pty::on_terminal(script, args, keys.as_bytes())
}

#[test]
fn asks_on_a_terminal_declined_and_accepted() {
    let dir = temp_with(&[API]);
    let file = dir.path().join("api-memory-full.json");
    let before = read(&file);
    let out = on_terminal(dir.path(), "apply --in-place api-memory-full.json", "n");
    assert!(out.contains("Apply the fixes to 1 document?"), "{out}");
    assert!(
        out.contains("declined; nothing was written") && out.contains("EXIT=1"),
        "{out}"
    );
    assert_eq!(read(&file), before);
    let out = on_terminal(dir.path(), "apply --in-place api-memory-full.json", "y");
    assert!(out.contains("EXIT=0"), "{out}");
    assert!(read(&file).contains("\"memory\": \"3 GB\""));
}

/// A `describe-services` snapshot is never edited: its fixes are `update-service` commands,
/// and `--registerable` writes each as `UpdateService` input beside it (in place or in
/// `--out-dir`); on standard input its one `update-service` input goes to stdout.
#[test]
fn a_services_snapshot_becomes_update_service_input_never_an_edit() {
    const SNAPSHOT: &str = "examples/services/spot-workers-describe-services.json";
    let dir = temp_with(&[SNAPSHOT]);
    let snapshot = dir.path().join("spot-workers-describe-services.json");
    let before = read(&snapshot);
    // Without `--registerable` there is nothing to write: the command is the fix.
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "."],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to apply"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "run `aws ecs update-service --region eu-west-1 --cluster arn:aws:ecs:eu-west-1:111122223333:cluster/prod --service workers --platform-version LATEST`"
        ),
        "{}",
        r.stderr
    );
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--registerable",
            ".",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&snapshot), before, "the snapshot is never edited");
    let written = dir
        .path()
        .join("spot-workers-describe-services.workers.update-service.json");
    let v: serde_json::Value = serde_json::from_str(&read(&written)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
            "service": "workers",
            "platformVersion": "LATEST"
        })
    );
    // Again: the same bytes are allowed; a different existing file is never overwritten.
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--registerable",
            ".",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(&written, "{}").unwrap();
    let r = run_in(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--in-place",
            "--registerable",
            ".",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
    assert_eq!(read(&written), "{}");
    // A saved plan does the same: the new file, never a rewrite of the snapshot.
    std::fs::remove_file(&written).unwrap();
    let r = run_in(
        dir.path(),
        &["plan", "--registerable", "--out", "p.plan.json", "."],
        None,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--in-place", "p.plan.json"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&snapshot), before);
    // The only file written is the new one (`...workers.update-service.json`).
    assert!(r.stderr.contains("update-service.json`"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("describe-services.json`"),
        "{}",
        r.stderr
    );
    assert!(written.is_file());
    // The written input is what the plan showed, as a new file.
    let r = run_in(&root(), &["plan", "--registerable", SNAPSHOT], None);
    assert!(
        r.stdout.contains("--- /dev/null\n+++ examples/services/spot-workers-describe-services.workers.update-service.json (planned)"),
        "{}",
        r.stdout
    );
    // Standard input: the one `update-service` input on stdout.
    let r = run_in(
        &root(),
        &["apply", "--auto-approve", "--registerable", "-"],
        Some(&before),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["platformVersion"], "LATEST");
    assert_eq!(v["service"], "workers");
}

/// `--registerable` says how many `null` members it drops.
#[test]
fn registerable_counts_the_nulls_it_drops() {
    let text = r#"{"family": "x", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
        "memory": "1024", "ipcMode": null, "pidMode": null, "executionRoleArn": "arn:aws:iam::1:role/e",
        "containerDefinitions": [{"name": "a", "image": "b", "memory": 256, "user": null}]}"#;
    let r = run_in(&root(), &["plan", "--registerable", "-"], Some(text));
    assert!(
        r.stdout
            .contains("`-`: `--registerable` drops 3 `null` members"),
        "{}",
        r.stdout
    );
}
