//! Side by side with what users run today: `cargo bench --bench cfn_lint [-- --files N]`.
//!
//! Generates N CloudFormation templates (default 1,000; half JSON, half YAML), each with three
//! Fargate task definitions and a service: one sized by literals (sizes in every form, some
//! invalid, some without agent headroom), one by a parameter's `Default`, one by a mapping
//! entry. Installs the pinned `cfn-lint` into a venv under the target directory and times, on
//! the same files:
//! - `cfn-lint` (its rule E3047 checks Fargate CPU/memory combinations);
//! - `fargate-rtm plan --format json`.
//!
//! It counts the invalid sizes each one reports (by file and resource), so the comparison is
//! like for like.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/pip.rs"]
mod pip;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CFN_LINT: &str = "1.58.0";

fn cfn_lint() -> PathBuf {
    pip::tool("cfn-lint", CFN_LINT, "cfn-lint")
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

/// One template: `Literal` (literal sizes), `FromParameter` (`Memory: !Ref TaskMemory`, whose
/// `Default` is valid or not), `FromMapping` (`Cpu` and `Memory` from `Sizes`), and a service.
fn template(i: usize) -> Value {
    let (cpu, mem, cmem) = sizes(i);
    let (pcpu, pmem) = [("512", "1024"), ("512", "1000")][i % 2];
    let (mcpu, mmem) = [("1024", "2048"), ("2048", "2048")][(i / 2) % 2];
    let platform = ["LATEST", "1.3.0"][i % 2];
    let td = |cpu: Value, mem: Value, cmem: i64| {
        json!({"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc", "Cpu": cpu, "Memory": mem,
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "ContainerDefinitions": [{"Name": "app", "Image": "nginx:1.27", "Memory": cmem, "Essential": true}]}})
    };
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"TaskMemory": {"Type": "String", "Default": pmem}},
        "Mappings": {"Sizes": {"prod": {"Cpu": mcpu, "Memory": mmem}}},
        "Resources": {
            "Literal": td(json!(cpu), json!(mem), cmem),
            "FromParameter": td(json!(pcpu), json!({"Ref": "TaskMemory"}), 256),
            "FromMapping": td(
                json!({"Fn::FindInMap": ["Sizes", "prod", "Cpu"]}),
                json!({"Fn::FindInMap": ["Sizes", "prod", "Memory"]}),
                512
            ),
            "Service": {"Type": "AWS::ECS::Service", "Properties": {
                "Cluster": "prod", "LaunchType": "FARGATE", "TaskDefinition": {"Ref": "Literal"},
                "PlatformVersion": platform,
                "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-0a1b2c3d4e5f60001"]}}}}
        }
    })
}

/// The template as YAML with short-form tags (what most teams write).
fn yaml(v: &Value) -> String {
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => format!("'{s}'"),
            other => other.to_string(),
        }
    }
    fn node(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    match v {
                        Value::Object(inner) if inner.len() == 1 && inner.contains_key("Ref") => {
                            out.push_str(&format!(
                                "{pad}{k}: !Ref {}\n",
                                inner["Ref"].as_str().unwrap()
                            ));
                        }
                        Value::Object(inner)
                            if inner.len() == 1 && inner.contains_key("Fn::FindInMap") =>
                        {
                            let args: Vec<String> = inner["Fn::FindInMap"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|a| a.as_str().unwrap().to_string())
                                .collect();
                            out.push_str(&format!("{pad}{k}: !FindInMap [{}]\n", args.join(", ")));
                        }
                        Value::Object(_) => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            node(v, indent + 2, out);
                        }
                        Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
                            let items: Vec<String> = a.iter().map(scalar).collect();
                            out.push_str(&format!("{pad}{k}: [{}]\n", items.join(", ")));
                        }
                        Value::Array(a) => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            for item in a {
                                let mut inner = String::new();
                                node(item, indent + 4, &mut inner);
                                let inner = inner.trim_start().to_string();
                                out.push_str(&format!("{pad}  - {inner}"));
                            }
                        }
                        other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
                    }
                }
            }
            other => out.push_str(&format!("{pad}{}\n", scalar(other))),
        }
    }
    let mut out = String::from("# generated for the benchmark\n");
    node(v, 0, &mut out);
    out
}

fn generate(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let t = template(i);
        if i % 2 == 0 {
            std::fs::write(
                dir.join(format!("stack-{i:05}.json")),
                serde_json::to_vec_pretty(&t).unwrap(),
            )
            .unwrap();
        } else {
            std::fs::write(dir.join(format!("stack-{i:05}.yaml")), yaml(&t)).unwrap();
        }
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
        let mut v: Vec<PathBuf> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };

    let t = Instant::now();
    let out = Command::new(&lint)
        .args(["--format", "parseable", "--"])
        .args(&templates)
        .output()
        .unwrap();
    let lint_s = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    // `FILE:LINE:COL:LINE:COL:E3047:...`: the resource is found by its line in the file.
    let mut by_lint: BTreeSet<(String, usize)> = BTreeSet::new();
    for l in text.lines().filter(|l| l.contains(":E3047:")) {
        let parts: Vec<&str> = l.split(':').collect();
        let file = Path::new(parts[0])
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        by_lint.insert((file, parts[1].parse().unwrap_or(0)));
    }

    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fargate-rtm"))
        .args(["plan", "--format", "json"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let ours_s = t.elapsed().as_secs_f64();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let of = |check: &str| -> BTreeSet<(String, String)> {
        findings
            .iter()
            .filter(|f| f["check"] == check)
            .map(|f| {
                let file = Path::new(f["resource"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                (file, f["subject"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let invalid = of("invalid-task-size");
    let headroom = of("agent-memory-headroom").len();
    let platform = of("platform-version-too-old").len();
    // cfn-lint's files with an E3047 against ours with invalid-task-size.
    let lint_files: BTreeSet<&String> = by_lint.iter().map(|(f, _)| f).collect();
    let our_files: BTreeSet<&String> = invalid.iter().map(|(f, _)| f).collect();

    println!(
        "{n} CloudFormation templates (half JSON, half YAML; 3 task definitions and a service each), cfn-lint {CFN_LINT}"
    );
    println!(
        "{:<34} {:>9} {:>13}  reports",
        "tool", "seconds", "files/second"
    );
    println!(
        "{:<34} {lint_s:>9.2} {:>13.1}  {} E3047 (invalid Fargate size) in {} files",
        "cfn-lint",
        n as f64 / lint_s,
        by_lint.len(),
        lint_files.len()
    );
    println!(
        "{:<34} {ours_s:>9.2} {:>13.0}  {} invalid-task-size in {} files, {headroom} agent-memory-headroom, {platform} platform-version-too-old",
        "fargate-rtm plan --format json",
        n as f64 / ours_s,
        invalid.len(),
        our_files.len()
    );
    println!(
        "files where both report an invalid size: {}; only cfn-lint: {}; only fargate-rtm: {}",
        lint_files.intersection(&our_files).count(),
        lint_files.difference(&our_files).count(),
        our_files.difference(&lint_files).count()
    );
    println!(
        "literal sizes alone (what cfn-lint reads): cfn-lint {}, fargate-rtm {}",
        by_lint.len(),
        invalid
            .iter()
            .filter(|(_, s)| s.contains("`Literal`"))
            .count()
    );
    println!("cfn-lint / fargate-rtm time ratio: {:.0}", lint_s / ours_s);
}
