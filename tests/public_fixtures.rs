//! The real-world files of `../shared/fixtures/public/` (and the MIT ones copied into
//! `tests/fixtures/public/`): what each one gets, and that applying the fixes changes only the
//! patched lines and leaves nothing fixable behind.

use crate::snap;
use crate::support::{root, run_in, shared_fixtures};
use std::path::Path;

fn summary_of(dir: &Path) -> String {
    let r = run_in(dir, &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut lines = vec![format!("exit: {}", r.code)];
    let mut by_file: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in v["findings"].as_array().unwrap() {
        by_file
            .entry(f["resource"].as_str().unwrap().to_string())
            .or_default()
            .push(format!(
                "{}({})",
                f["check"].as_str().unwrap(),
                f["fix"]["applicability"].as_str().unwrap()
            ));
    }
    for s in v["skipped"].as_array().unwrap() {
        by_file
            .entry(s["resource"].as_str().unwrap().to_string())
            .or_default()
            .push("skipped".into());
    }
    for i in v["ignored"].as_array().unwrap() {
        by_file
            .entry(i["file"].as_str().unwrap().to_string())
            .or_default()
            .push(format!("ignored: {}", i["reason"].as_str().unwrap()));
    }
    for e in v["errors"].as_array().unwrap() {
        by_file
            .entry(e["resource"].as_str().unwrap().to_string())
            .or_default()
            .push(format!("error: {}", e["message"].as_str().unwrap()));
    }
    for file in walk(dir) {
        if file.extension().is_some_and(|e| e == "json") {
            let rel = format!("./{}", file.strip_prefix(dir).unwrap().display());
            by_file.entry(rel).or_insert_with(|| vec!["ready".into()]);
        }
    }
    for (file, what) in by_file {
        lines.push(format!("{file}: {}", what.join(", ")));
    }
    lines.join("\n") + "\n"
}

#[test]
fn copied_public_fixtures() {
    snap!(
        "public-fixtures-copied",
        summary_of(&root().join("tests/fixtures/public"))
    );
}

#[test]
fn shared_public_fixtures() {
    let Some(dir) = shared_fixtures() else {
        crate::support::skipped("../shared/fixtures/public is not beside this clone");
        return;
    };
    snap!("public-fixtures-shared", summary_of(&dir));
}

/// Apply every fix to every public fixture: only patched lines change, and planning the result
/// finds nothing left to fix.
#[test]
fn apply_round_trip_on_public_fixtures() {
    let src = shared_fixtures().unwrap_or_else(|| {
        crate::support::skipped(
            "../shared/fixtures/public is not beside this clone: the copied fixtures only",
        );
        root().join("tests/fixtures/public")
    });
    // What the plan says will change is what apply must write.
    let planned = run_in(
        &src,
        &[
            "plan",
            "--format",
            "json",
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            ".",
        ],
        None,
    );
    let planned: serde_json::Value = serde_json::from_str(&planned.stdout).unwrap();
    let mut expected: Vec<&str> = planned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"].as_str().unwrap())
        .collect();
    expected.sort();
    expected.dedup();
    assert!(!expected.is_empty(), "some public fixture needs a fix");
    let out = tempfile::tempdir().unwrap();
    let r = run_in(
        &src,
        &[
            "apply",
            "--auto-approve",
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            "--out-dir",
            out.path().to_str().unwrap(),
            ".",
        ],
        None,
    );
    // Invalid files make the exit code 1; everything else is written.
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    let mut written = 0;
    for entry in walk(out.path()) {
        written += 1;
        let rel = entry.strip_prefix(out.path()).unwrap();
        let before = std::fs::read_to_string(src.join(rel)).unwrap();
        let after = std::fs::read_to_string(&entry).unwrap();
        // A YAML template is compared in its JSON form.
        let form = |text: &str| -> serde_json::Value {
            if rel.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                fargate_rtm::model::yaml::parse(text).unwrap().value
            } else {
                serde_json::from_str(text).unwrap()
            }
        };
        let v_before = form(&before);
        let v_after = form(&after);
        let patch = json_patch::diff(&v_before, &v_after);
        let changed_lines = similar::TextDiff::from_lines(&before, &after)
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Insert)
            .count();
        // Every change is one patched field on one line (an added field may add a line).
        assert!(
            changed_lines <= patch.len() + 1,
            "{}: {changed_lines} lines for {} ops",
            rel.display(),
            patch.len()
        );
        let again = run_in(
            out.path(),
            &["plan", "--format", "json", rel.to_str().unwrap()],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert!(
            v["changes"].as_array().unwrap().is_empty(),
            "{}: {}",
            rel.display(),
            again.stdout
        );
        assert_eq!(again.code, 0, "{}: {}", rel.display(), again.stdout);
    }
    assert_eq!(written, expected.len(), "written vs planned: {expected:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `../shared/fixtures/realworld/`: the corpus of real files, what each gets; the files users
/// feed by mistake, each named on the command line, what the error says it is.
#[test]
fn realworld_files() {
    let Some(dir) = crate::support::shared().map(|s| s.join("fixtures/realworld")) else {
        crate::support::skipped("../shared/fixtures/realworld is not beside this clone");
        return;
    };
    if !dir.is_dir() {
        crate::support::skipped("../shared/fixtures/realworld is not there");
        return;
    }
    snap!("realworld-corpus", summary_of(&dir.join("corpus")));
    let mut lines = Vec::new();
    let mut files: Vec<_> = walk(&dir.join("mistakes"));
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let r = run_in(&dir.join("mistakes"), &["plan", &name], None);
        assert!(!r.stderr.contains("panicked"), "{name}");
        // An error names the file; a file that is read (a CloudFormation template) gets its
        // summary.
        let first = r
            .stderr
            .lines()
            .next()
            .or_else(|| r.stdout.lines().last())
            .unwrap_or("")
            .to_string();
        let hint = r
            .stderr
            .lines()
            .find(|l| l.trim_start().starts_with("hint:"))
            .unwrap_or("")
            .trim()
            .to_string();
        lines.push(format!("{name}: exit {}\n  {first}\n  {hint}", r.code));
    }
    snap!("realworld-mistakes", lines.join("\n") + "\n");
}

/// Every fixable file of the corpus, applied with `--registerable`: no `null` left, nothing
/// left to fix when planned again.
#[test]
fn realworld_registerable_outputs_plan_clean() {
    let Some(dir) = crate::support::shared().map(|s| s.join("fixtures/realworld/corpus")) else {
        crate::support::skipped("../shared/fixtures/realworld is not beside this clone");
        return;
    };
    if !dir.is_dir() {
        crate::support::skipped("../shared/fixtures/realworld is not there");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let r = run_in(
        &dir,
        &[
            "apply",
            "--auto-approve",
            "--registerable",
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            "--out-dir",
            out.path().to_str().unwrap(),
            ".",
        ],
        None,
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let written = walk(out.path());
    assert!(!written.is_empty());
    for f in written {
        let text = std::fs::read_to_string(&f).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            !has_null(&v),
            "{}: a null is left for register-task-definition",
            f.display()
        );
        let again = run_in(
            out.path(),
            &["plan", "--format", "json", f.to_str().unwrap()],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert!(
            v["changes"].as_array().unwrap().is_empty(),
            "{}: {}",
            f.display(),
            again.stdout
        );
    }
}

fn has_null(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.iter().any(has_null),
        serde_json::Value::Object(o) => o.values().any(has_null),
        _ => false,
    }
}

/// `--registerable` outputs are what AWS accepts: each patched task definition of the examples,
/// the copied fixtures and (when beside this clone) the real-world corpus passes botocore's
/// `ParamValidator` for `RegisterTaskDefinition`, the check the AWS CLI runs first.
#[test]
fn registerable_outputs_pass_the_ecs_api_model() {
    let mut sources = vec![
        root().join("examples/task-definitions"),
        root().join("examples/services"),
        root().join("tests/fixtures/public"),
    ];
    match crate::support::shared().map(|s| s.join("fixtures/realworld/corpus")) {
        Some(d) if d.is_dir() => sources.push(d),
        _ => crate::support::skipped("../shared/fixtures/realworld: the bundled files only"),
    }
    // Each output by the operation that takes it.
    let mut files: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    let outs: Vec<tempfile::TempDir> = sources
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    for (src, out) in sources.iter().zip(&outs) {
        let r = run_in(
            src,
            &[
                "apply",
                "--auto-approve",
                "--registerable",
                "--execution-role-arn",
                "arn:aws:iam::123456789012:role/exec",
                "--out-dir",
                out.path().to_str().unwrap(),
                ".",
            ],
            None,
        );
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
        for f in walk(out.path()) {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let name = f.display().to_string();
            let operation = if v.get("containerDefinitions").is_some() {
                "RegisterTaskDefinition"
            } else if name.ends_with(".update-service.json") {
                "UpdateService"
            } else if v.get("serviceName").is_some() && v.get("taskDefinition").is_some() {
                "CreateService"
            } else if v.get("service").is_some() {
                "UpdateService"
            } else if v.get("taskDefinition").is_some_and(|t| t.is_string()) {
                "RunTask"
            } else {
                // ecspresso service definitions leave `serviceName` to its config file.
                continue;
            };
            files.entry(operation).or_default().push(name);
        }
    }
    assert!(files["RegisterTaskDefinition"].len() > 5, "{files:?}");
    assert!(files.contains_key("CreateService"), "{files:?}");
    for (operation, files) in &files {
        let out = std::process::Command::new(crate::support::moto::venv_python())
            .arg(root().join("tests/tools/validate_ecs_input.py"))
            .arg(operation)
            .args(files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{operation}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
