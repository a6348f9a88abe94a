//! Side by side with what Terraform users run today: `cargo bench --bench checkov [-- --modules N]`.
//!
//! Generates N Terraform modules (default 1,000), one folder each, with three Fargate task
//! definitions and a service: one sized by literals (some invalid, some without agent
//! headroom), one by a variable's `default`, one by a `terraform.tfvars` entry. Installs the
//! pinned `checkov` into a venv under the target directory and times, on the same folder:
//! - `checkov -d DIR --framework terraform` (its `CKV_AWS_*` checks of `aws_ecs_*` resources do
//!   not know the GuardDuty agent or Fargate's size table);
//! - `fargate-rtm plan --format json DIR`.
//!
//! It counts what each reports on the ECS resources: checkov's failed checks by id, and
//! fargate-rtm's invalid sizes (by module and resource), so the comparison is like for like.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/pip.rs"]
mod pip;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CHECKOV: &str = "3.3.30";

fn checkov() -> PathBuf {
    pip::tool("checkov", CHECKOV, "checkov")
}

/// (cpu, memory, container memory): valid, invalid combination, no agent headroom.
fn sizes(i: usize) -> (&'static str, &'static str, u32) {
    [
        ("256", "512", 256),
        ("512", "525", 256),
        ("1024", "2048", 2048),
        ("2048", "4096", 1024),
        ("4096", "24576", 8192),
        ("256", "4096", 256),
    ][i % 6]
}

fn task(name: &str, cpu: &str, memory: &str, container_memory: u32) -> String {
    format!(
        r#"resource "aws_ecs_task_definition" "{name}" {{
  family                   = "{name}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = {cpu}
  memory                   = {memory}
  execution_role_arn       = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"

  container_definitions = jsonencode([
    {{
      name      = "{name}"
      image     = "nginx:1.27"
      memory    = {container_memory}
      essential = true
    }}
  ])
}}
"#
    )
}

fn module(dir: &Path, i: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let (cpu, mem, cmem) = sizes(i);
    let default = ["1024", "1000"][i % 2];
    let tfvars = ["2048", "2000"][(i / 2) % 2];
    let platform = ["LATEST", "1.3.0"][i % 2];
    let main = format!(
        "# generated for the benchmark\n\n{}\n{}\n{}\nresource \"aws_ecs_service\" \"app\" {{\n  name             = \"app\"\n  cluster          = \"prod\"\n  launch_type      = \"FARGATE\"\n  task_definition  = aws_ecs_task_definition.literal.arn\n  platform_version = \"{platform}\"\n  desired_count    = 2\n\n  network_configuration {{\n    subnets = [\"subnet-0a1b2c3d4e5f60001\"]\n  }}\n}}\n",
        task(
            "literal",
            &format!("\"{cpu}\""),
            &format!("\"{mem}\""),
            cmem
        ),
        task("from_default", "\"512\"", "var.task_memory", 256),
        task("from_tfvars", "\"1024\"", "var.prod_memory", 512),
    );
    std::fs::write(dir.join("main.tf"), main).unwrap();
    std::fs::write(
        dir.join("variables.tf"),
        format!(
            "variable \"task_memory\" {{\n  type    = string\n  default = \"{default}\"\n}}\n\nvariable \"prod_memory\" {{\n  type = string\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("terraform.tfvars"),
        format!("prod_memory = \"{tfvars}\"\n"),
    )
    .unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--modules")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1000usize);
    let checkov = checkov();
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..n {
        module(&tmp.path().join(format!("module-{i:05}")), i);
    }

    let t = Instant::now();
    let out = Command::new(&checkov)
        .args([
            "--framework",
            "terraform",
            "--output",
            "json",
            "--quiet",
            "--compact",
        ])
        .args(["--skip-download", "-d"])
        .arg(tmp.path())
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let checkov_s = t.elapsed().as_secs_f64();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov's output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // One report, or one per framework.
    let reports: Vec<&Value> = match &report {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut failed_ecs: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reports {
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if f["resource"]
                .as_str()
                .is_some_and(|r| r.starts_with("aws_ecs_"))
            {
                *failed_ecs
                    .entry(f["check_id"].as_str().unwrap_or("?").to_string())
                    .or_default() += 1;
            }
        }
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
                (
                    f["resource"].as_str().unwrap().to_string(),
                    f["subject"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let invalid = of("invalid-task-size").len();
    let headroom = of("agent-memory-headroom").len();
    let platform = of("platform-version-too-old").len();
    let changes = v["changes"].as_array().map_or(0, Vec::len);

    println!(
        "{n} Terraform modules (3 Fargate task definitions and a service each: literals, a variable default, a tfvars entry), checkov {CHECKOV}"
    );
    println!(
        "{:<34} {:>9} {:>15}  reports on aws_ecs_* resources",
        "tool", "seconds", "modules/second"
    );
    let ids: Vec<String> = failed_ecs.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "{:<34} {checkov_s:>9.2} {:>15.1}  failed: {}; invalid Fargate sizes: none (no such check)",
        "checkov -d --framework terraform",
        n as f64 / checkov_s,
        if ids.is_empty() {
            "none".into()
        } else {
            ids.join(", ")
        }
    );
    println!(
        "{:<34} {ours_s:>9.2} {:>15.0}  {invalid} invalid-task-size, {headroom} agent-memory-headroom, {platform} platform-version-too-old; {changes} documents with fixes",
        "fargate-rtm plan --format json",
        n as f64 / ours_s,
    );
    println!("ratio: fargate-rtm is {:.0}x faster", checkov_s / ours_s);
}
