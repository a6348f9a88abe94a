//! CloudFormation templates (JSON and YAML): detection, intrinsics, fixes where the value lives,
//! the file kept as written, and every edit validated by `cfn-lint`.

use crate::snap;
use crate::support::{root, run_in};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DIR: &str = "tests/fixtures/cfn";
const CFN_LINT: &str = "cfn-lint==1.58.0";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// The lines that differ between two texts (removed and added).
fn changed(a: &str, b: &str) -> Vec<String> {
    similar::TextDiff::from_lines(a, b)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        .collect()
}

fn templates(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir(dir)
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        })
        .collect();
    out.sort();
    out
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `cfn-lint`'s errors (rule ids by file name), from its parseable output.
fn lint(files: &[PathBuf]) -> BTreeSet<(String, String)> {
    let bin = crate::support::venv::tool("cfn-lint-1.58.0", CFN_LINT, "cfn-lint");
    let out = std::process::Command::new(bin)
        .args(["--format", "parseable", "--"])
        .args(files)
        .output()
        .unwrap();
    // 0: clean; 2, 4, 6, 8...: the levels it found (errors 2, warnings 4, informational 8).
    assert!(
        out.status.code().is_some_and(|c| c % 2 == 0 && c <= 14),
        "cfn-lint failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split(':').collect();
            let file = Path::new(parts.first()?).file_name()?.to_str()?.to_string();
            let rule = parts.get(5)?.to_string();
            rule.starts_with('E').then_some((file, rule))
        })
        .collect()
}

/// Every hand-made template, planned: the findings, where each fix goes, what is not checked.
#[test]
fn hand_made_templates() {
    let files = templates(&root().join(DIR));
    let mut out = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        out.push(run_in(&root(), &["plan", "--diff", "none", &rel], None).transcript());
    }
    snap!("cfn-hand-made", out.join("\n"));
}

/// A YAML template with comments, short-form tags, flow mappings and quoted values: the diff
/// is exactly the changed values, each where it lives (a parameter's `Default`, a mapping
/// entry, the service's literal), comments and quoting kept.
#[test]
fn yaml_fixes_change_only_their_values() {
    let src = root().join(DIR).join("intrinsics.yaml");
    let out = tempfile::tempdir().unwrap();
    let r = run_in(
        &root().join(DIR),
        &[
            "apply",
            "--auto-approve",
            "--out-dir",
            out.path().to_str().unwrap(),
            "--execution-role-arn",
            "arn:aws:iam::123456789012:role/exec",
            "intrinsics.yaml",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = read(&out.path().join("intrinsics.yaml"));
    assert_eq!(
        changed(&read(&src), &after),
        [
            "-    Default: '512'   # raised by hand in 2023",
            "+    Default: '1024'   # raised by hand in 2023",
            "-    prod: {Cpu: '256', BatchMemory: '1536'}",
            "+    prod: {Cpu: '256', BatchMemory: '2048'}",
            "-      ExecutionRoleArn: !If [IsProd, !GetAtt ExecRole.Arn, !Ref 'AWS::NoValue']",
            "+      ExecutionRoleArn: !If [IsProd, !GetAtt ExecRole.Arn, 'arn:aws:iam::123456789012:role/exec']",
            "-      PlatformVersion: 1.3.0  # pinned for EFS in 2020",
            "+      PlatformVersion: LATEST  # pinned for EFS in 2020",
        ]
    );
    // Planned again: nothing left to fix (what is not static stays not checked).
    let r = run_in(
        out.path(),
        &["plan", "--format", "json", "intrinsics.yaml"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert_eq!(v["not_checked"].as_array().unwrap().len(), 4);
}

/// A JSON template: a one-field fix is a one-line diff; `--format patch` speaks of the
/// template's JSON form; SARIF points at the line.
#[test]
fn json_template_one_line_patch_and_sarif() {
    let file = format!("{DIR}/literal.json");
    let out = tempfile::tempdir().unwrap();
    let r = run_in(
        &root(),
        &[
            "apply",
            "--auto-approve",
            "--out-dir",
            out.path().to_str().unwrap(),
            &file,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = read(&out.path().join(&file));
    assert_eq!(
        changed(&read(&root().join(&file)), &after),
        [
            "-        \"Memory\": \"1024\",",
            "+        \"Memory\": \"2048\","
        ]
    );
    let r = run_in(&root(), &["plan", "--format", "patch", &file], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v[&file][1]["path"], "/Resources/WebTaskDef/Properties/Memory",
        "{}",
        r.stdout
    );
    let r = run_in(&root(), &["plan", "--format", "sarif", &file], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["region"]["startLine"], 9, "{}", r.stdout);
}

/// `--parameter NAME=VALUE` gives a parameter without `Default` its value (and overrides a
/// `Default`), as deploy's `--parameter-overrides` does; a fix to such a value is manual.
#[test]
fn parameters_from_the_command_line() {
    let file = format!("{DIR}/no-default.yaml");
    let r = run_in(&root(), &["plan", "--format", "json", &file], None);
    assert_eq!(r.code, 1, "not checked without a value: {}", r.stdout);
    let r = run_in(
        &root(),
        &[
            "plan",
            "--format",
            "json",
            "--parameter",
            "TaskCPU=512",
            &file,
        ],
        None,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["check"], "agent-memory-headroom");
    // The memory still comes from its `Default`: fixed there.
    assert_eq!(
        f["fix"]["title"],
        "set `Memory` to `\"2048\"` in the `Default` of parameter `TaskMemory`"
    );
    // Given on the command line, the value is the deployer's to change.
    let r = run_in(
        &root(),
        &[
            "plan",
            "--format",
            "json",
            "--parameter",
            "TaskCPU=512",
            "--parameter",
            "TaskMemory=1024",
            &file,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["fix"]["applicability"], "manual", "{f}");
    assert!(
        f["fix"]["title"]
            .as_str()
            .unwrap()
            .contains("the value comes from `--parameter TaskMemory`"),
        "{f}"
    );
    let r = run_in(
        &root(),
        &[
            "plan",
            "--parameter",
            "TaskCPU=512",
            "--parameter",
            "TaskMemory=2048",
            &file,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run_in(&root(), &["plan", "--parameter", "TaskCPU", &file], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not `NAME=VALUE`"), "{}", r.stderr);
}

/// A directory walk reads YAML templates with ECS resources and ignores other YAML
/// (workflows, compose files) without an error.
#[test]
fn walks_read_yaml_templates_and_ignore_other_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join(DIR).join("literal.json"),
        dir.path().join("literal.json"),
    )
    .unwrap();
    std::fs::copy(
        root().join(DIR).join("intrinsics.yaml"),
        dir.path().join("stack.yml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(
        dir.path().join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("queue.yaml"),
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ignored: Vec<&str> = v["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        ignored,
        ["./.github/workflows/ci.yml", "./queue.yaml"],
        "{}",
        r.stdout
    );
    assert!(v["errors"].as_array().unwrap().is_empty(), "{}", r.stdout);
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .starts_with("6 documents: 1 ready, 4 not ready, 1 not checked"),
        "{}",
        v["summary"]
    );
}

/// Every template of `../shared/fixtures/iac/cloudformation` and the hand-made ones: planned
/// (a snapshot), every fix applied and planned again with nothing left to fix, and `cfn-lint`
/// finding no error in an edited template that it did not find in the original.
#[test]
fn shared_templates_are_fixed_and_stay_valid() {
    let mut dirs = vec![root().join(DIR)];
    match crate::support::shared().map(|s| s.join("fixtures/iac/cloudformation")) {
        Some(d) if d.is_dir() => dirs.push(d),
        _ => crate::support::skipped(
            "../shared/fixtures/iac/cloudformation: the bundled templates only",
        ),
    }
    let mut transcripts = Vec::new();
    let mut originals = Vec::new();
    let mut edited = Vec::new();
    let outs: Vec<tempfile::TempDir> = dirs.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    for (dir, out) in dirs.iter().zip(&outs) {
        let files = templates(dir);
        if dir != &root().join(DIR) {
            for f in &files {
                let name = f.file_name().unwrap().to_str().unwrap();
                transcripts.push(format!(
                    "== {name}\n{}",
                    run_in(dir, &["plan", "--diff", "none", name], None).transcript()
                ));
            }
        }
        let r = run_in(
            dir,
            &[
                "apply",
                "--auto-approve",
                "--execution-role-arn",
                "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                "--out-dir",
                out.path().to_str().unwrap(),
                ".",
            ],
            None,
        );
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
        assert!(!r.stderr.contains("does not apply"), "{}", r.stderr);
        for f in walkdir(out.path()) {
            let rel = f.strip_prefix(out.path()).unwrap();
            originals.push(dir.join(rel));
            edited.push(f.clone());
        }
        // Nothing left to fix where something was written.
        if !walkdir(out.path()).is_empty() {
            let r = run_in(out.path(), &["plan", "--format", "json", "."], None);
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let left: Vec<&serde_json::Value> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["fix"]["applicability"] != "manual")
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
    }
    if !transcripts.is_empty() {
        snap!("cfn-shared-templates", transcripts.join("\n"));
    }
    assert!(edited.len() >= 2, "{edited:?}");
    // The check can fail: an invalid size is an error to cfn-lint (E3047).
    let bad = outs[0].path().join("bad-size.yaml");
    std::fs::write(
        &bad,
        "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Cpu: '512'\n      Memory: '525'\n      RequiresCompatibilities: [FARGATE]\n      NetworkMode: awsvpc\n      ContainerDefinitions:\n        - Name: a\n          Image: b\n",
    )
    .unwrap();
    assert!(
        lint(&[bad]).contains(&("bad-size.yaml".to_string(), "E3047".to_string())),
        "cfn-lint runs and reports"
    );
    let before = lint(&originals);
    let after = lint(&edited);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(
        new.is_empty(),
        "cfn-lint errors the edits introduced: {new:?}"
    );
}
