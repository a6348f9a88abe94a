//! Side by side with what users run today: `cargo bench --bench cfn_lint [-- --files N]`.
//!
//! Generates N Fargate task definitions (default 1,000; sizes in every form, some invalid, some
//! without agent headroom), writes each both as `RegisterTaskDefinition` JSON and wrapped as a
//! CloudFormation template (`AWS::ECS::TaskDefinition`), installs the pinned `cfn-lint` into a
//! venv under the target directory, and times in one run:
//! - `cfn-lint` on the templates (its rule E3047 checks Fargate CPU/memory combinations);
//! - `fargate-rtm plan --format json` on the JSON files.
//!
//! It also counts how many invalid sizes each one reports, so the comparison is like for like.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CFN_LINT: &str = "1.58.0";

fn cfn_lint() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cfn-lint-venv-{CFN_LINT}"));
    let bin = venv.join("bin/cfn-lint");
    if !bin.is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success()
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    &format!("cfn-lint=={CFN_LINT}"),
                ])
                .status()
                .unwrap()
                .success();
        assert!(ok, "cannot install cfn-lint {CFN_LINT}");
    }
    bin
}

fn sizes(i: usize) -> (&'static str, &'static str, i64) {
    // (cpu, memory, container memory): valid, invalid combination, no agent headroom.
    [
        ("256", "512", 256),
        ("512", "525", 256),
        ("1024", "2048", 2048),
        ("1 vCPU", "3 GB", 1024),
        ("4096", "24576", 8192),
        ("256", "4096", 256),
    ][i % 6]
}

fn generate(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("json")).unwrap();
    std::fs::create_dir_all(dir.join("cfn")).unwrap();
    for i in 0..n {
        let (cpu, mem, cmem) = sizes(i);
        let td = json!({"family": format!("app-{i}"), "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": cpu, "memory": mem,
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": cmem, "essential": true}]});
        std::fs::write(
            dir.join(format!("json/td-{i:05}.json")),
            serde_json::to_vec_pretty(&td).unwrap(),
        )
        .unwrap();
        let cfn = json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": format!("app-{i}"), "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc", "Cpu": cpu, "Memory": mem,
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "ContainerDefinitions": [{"Name": "app", "Image": "nginx:1.27", "Memory": cmem, "Essential": true}]}}}});
        std::fs::write(
            dir.join(format!("cfn/td-{i:05}.json")),
            serde_json::to_vec_pretty(&cfn).unwrap(),
        )
        .unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1000usize);
    let lint = cfn_lint();
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), n);
    let templates: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(tmp.path().join("cfn"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };

    let t = Instant::now();
    let out = Command::new(&lint)
        .args(["--format", "parseable"])
        .args(&templates)
        .output()
        .unwrap();
    let lint_s = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let e3047 = text.lines().filter(|l| l.contains("E3047")).count();

    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fargate-rtm"))
        .args(["plan", "--format", "json"])
        .arg(tmp.path().join("json"))
        .output()
        .unwrap();
    let ours_s = t.elapsed().as_secs_f64();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let invalid = findings
        .iter()
        .filter(|f| f["check"] == "invalid-task-size")
        .count();
    let headroom = findings
        .iter()
        .filter(|f| f["check"] == "agent-memory-headroom")
        .count();

    println!(
        "{n} task definitions (cfn-lint {CFN_LINT} on the same definitions as CloudFormation templates)"
    );
    println!(
        "{:<34} {:>9} {:>13}  reports",
        "tool", "seconds", "files/second"
    );
    println!(
        "{:<34} {lint_s:>9.2} {:>13.0}  {e3047} E3047 (invalid Fargate size)",
        "cfn-lint",
        n as f64 / lint_s
    );
    println!(
        "{:<34} {ours_s:>9.2} {:>13.0}  {invalid} invalid-task-size, {headroom} agent-memory-headroom",
        "fargate-rtm plan --format json",
        n as f64 / ours_s
    );
    println!("cfn-lint / fargate-rtm time ratio: {:.0}", lint_s / ours_s);
}
