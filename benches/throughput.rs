//! Offline throughput: `cargo bench --bench throughput [-- --files N]`; a monorepo walk:
//! `cargo bench --bench throughput -- --monorepo 20000`.
//!
//! Generates N task and service definitions (mixed shapes, size forms, indentation and
//! failures) in a temporary directory, then measures, each in a fresh child process so that
//! peak memory is its own:
//! - `parse`: read every file and `serde_json::from_slice` it (the floor: the cost of reading
//!   the input);
//! - `plan`: what `fargate-rtm plan --format json DIR` does (read, parse, detect, check, plan,
//!   patch the text, render JSON).
//!
//! Each phase runs 3 times; the median wall time and the largest peak RSS (VmHWM) are shown.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() as usize) % items.len()]
    }
}

fn task_def(r: &mut Lcg, i: usize) -> Value {
    let sizes: &[(Value, Value)] = &[
        (json!("256"), json!("512")),
        (json!("512"), json!("1024")),
        (json!("1 vCPU"), json!("2 GB")),
        (json!(1024), json!(3072)),
        (json!("2048"), json!("4096")),
        (json!("4096"), json!("24576")),
        (json!("512"), json!("525")),
        (json!(".25 vCPU"), json!("0.5 GB")),
    ];
    let (cpu, mem) = r.pick(sizes).clone();
    let mem_mib = fargate_rtm::sizing::parse(fargate_rtm::sizing::Quantity::Memory, &mem)
        .map(|p| p.value)
        .unwrap_or(512);
    let container_mem = *r.pick(&[mem_mib / 2, mem_mib, 128]);
    let mut td = json!({
        "family": format!("service-{i}"),
        "requiresCompatibilities": [*r.pick(&["FARGATE", "FARGATE", "FARGATE", "EC2"])],
        "networkMode": "awsvpc",
        "cpu": cpu,
        "memory": mem,
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": *r.pick(&["X86_64", "ARM64"])},
        "containerDefinitions": [
            {
                "name": "app",
                "image": format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-{i}:1.{}", r.next() % 50),
                "essential": true,
                "memory": container_mem,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "DB_PASSWORD", "value": format!("secret-{}", r.next())}, {"name": "MODE", "value": "prod"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": format!("/ecs/app-{i}"), "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}}
            },
            {"name": "sidecar", "image": "public.ecr.aws/nginx/nginx:1.27", "essential": false, "memoryReservation": 64}
        ]
    });
    if !r.next().is_multiple_of(3) {
        td["executionRoleArn"] = json!("arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
    }
    if r.next().is_multiple_of(10) {
        td.as_object_mut().unwrap().remove("memory");
    }
    td
}

fn document(r: &mut Lcg, i: usize) -> Value {
    match i % 10 {
        0..=5 => task_def(r, i),
        6 => {
            json!({"taskDefinition": {"taskDefinitionArn": format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/service-{i}:3"), "revision": 3, "status": "ACTIVE", "td": task_def(r, i)}, "tags": []})
        }
        7 => {
            let mut td = task_def(r, i);
            td["revision"] = json!(7);
            td["compatibilities"] = json!(["EC2", "FARGATE"]);
            td
        }
        8 => {
            json!({"cluster": "prod", "serviceName": format!("svc-{i}"), "taskDefinition": format!("service-{i}:3"), "desiredCount": 2,
            "launchType": "FARGATE", "platformVersion": *r.pick(&["1.3.0", "1.4.0", "LATEST"]),
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}}})
        }
        _ => json!({"services": [
            {"serviceName": format!("a-{i}"), "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}], "platformVersion": "1.3.0", "taskDefinition": "x:1"},
            {"serviceName": format!("b-{i}"), "launchType": "FARGATE", "platformVersion": "LATEST", "taskDefinition": "y:1"}
        ], "failures": []}),
    }
}

fn fix_describe(mut v: Value) -> Value {
    // The describe shape nests the task definition itself under `taskDefinition`.
    if let Some(td) = v.get_mut("taskDefinition").and_then(|t| t.as_object_mut())
        && let Some(Value::Object(inner)) = td.remove("td")
    {
        td.extend(inner);
    }
    v
}

fn write(v: &Value, indent: &str) -> Vec<u8> {
    if indent.is_empty() {
        return serde_json::to_vec(v).unwrap();
    }
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes()),
    );
    v.serialize(&mut ser).unwrap();
    buf.push(b'\n');
    buf
}

fn generate(dir: &Path, n: usize) -> u64 {
    let mut r = Lcg(42);
    let mut bytes = 0;
    for i in 0..n {
        let v = fix_describe(document(&mut r, i));
        let indent = *r.pick(&["  ", "    ", "\t", ""]);
        let data = write(&v, indent);
        bytes += data.len() as u64;
        let sub = dir.join(format!("d{:03}", i / 1000));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("td-{i:06}.json")), data).unwrap();
    }
    bytes
}

/// A monorepo of `n` files: 10% ECS documents under `services/`, 60% other JSON (package
/// manifests, TypeScript configs, translations, SARIF reports) beside them, 30% under
/// `node_modules/` and a git-ignored `dist/`, which a walk never reads.
fn generate_monorepo(dir: &Path, n: usize) -> u64 {
    let mut bytes = generate(&dir.join("services"), n / 10);
    let other = |i: usize| -> String {
        match i % 4 {
            0 => format!("{{\"name\": \"pkg-{i}\", \"version\": \"1.0.{i}\", \"scripts\": {{\"test\": \"jest\"}}, \"dependencies\": {{\"react\": \"^18\"}}}}"),
            1 => "{\n  // TypeScript allows comments\n  \"compilerOptions\": {\"strict\": true, \"target\": \"es2022\"}\n}\n".to_string(),
            2 => format!("{{\"greeting\": \"Hello ${{name}}\", \"count\": \"{i} items\"}}"),
            _ => "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"eslint\"}}, \"results\": []}]}".to_string(),
        }
    };
    for i in 0..n * 6 / 10 {
        let sub = dir.join(format!("web/app{:03}", i / 500));
        std::fs::create_dir_all(&sub).unwrap();
        let text = other(i);
        bytes += text.len() as u64;
        std::fs::write(sub.join(format!("f{i:06}.json")), text).unwrap();
    }
    std::fs::write(dir.join(".gitignore"), "dist/\n").unwrap();
    for i in 0..n * 3 / 10 {
        let top = if i % 2 == 0 { "node_modules" } else { "dist" };
        let sub = dir.join(format!("{top}/m{:03}", i / 500));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("package-{i:06}.json")), other(i)).unwrap();
    }
    bytes
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one phase in this process and prints `seconds peak_kib`.
fn phase(name: &str, dir: &Path) {
    let start = Instant::now();
    match name {
        "parse" => {
            let mut ok = 0usize;
            for f in files(dir) {
                let bytes = std::fs::read(&f).unwrap();
                if serde_json::from_slice::<Value>(&bytes).is_ok() {
                    ok += 1;
                }
            }
            assert!(ok > 0);
        }
        // What any tool must do to know which files are ECS documents: read and parse every
        // JSON file the walk keeps.
        "parse-walked" => {
            for f in files(dir).into_iter().filter(|f| {
                let p = f.to_string_lossy();
                !p.contains("/node_modules/") && !p.contains("/dist/")
            }) {
                let bytes = std::fs::read(&f).unwrap();
                let _ = serde_json::from_slice::<Value>(&bytes);
            }
        }
        "plan" => {
            let opts = fargate_rtm::plan::PlanOptions::default();
            let inputs = fargate_rtm::input::files::expand(
                &[dir.display().to_string()],
                &Default::default(),
            )
            .unwrap();
            let plan = fargate_rtm::commands::build_plan(inputs, &opts);
            assert!(plan.errors.is_empty());
            fargate_rtm::render::json::write(&plan, &mut std::io::sink()).unwrap();
        }
        "plan-text" => {
            let opts = fargate_rtm::plan::PlanOptions {
                materialize: true,
                ..Default::default()
            };
            let inputs = fargate_rtm::input::files::expand(
                &[dir.display().to_string()],
                &Default::default(),
            )
            .unwrap();
            let plan = fargate_rtm::commands::build_plan(inputs, &opts);
            assert!(plan.errors.is_empty());
            fargate_rtm::render::text::render(
                &plan,
                &mut std::io::sink(),
                fargate_rtm::render::text::Style {
                    color: false,
                    ..Default::default()
                },
            )
            .unwrap();
        }
        _ => panic!("unknown phase {name}"),
    }
    println!("{} {}", start.elapsed().as_secs_f64(), peak_rss_kib());
}

fn measure(name: &str, dir: &Path) -> (f64, u64) {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..3 {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--phase", name, dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        times.push(it.next().unwrap().parse::<f64>().unwrap());
        peak = peak.max(it.next().unwrap().parse::<u64>().unwrap());
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[1], peak)
}

/// Slope of log(seconds) against log(files): 1.0 is linear.
fn exponent(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let xs: Vec<f64> = points.iter().map(|p| p.0.ln()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let num: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    num / den
}

/// Files, then seconds and peak KiB of: parse, plan --format json, plan text.
type Row = (usize, f64, u64, f64, u64, f64, u64);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        phase(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `--sizes 1000,10000,100000`, or one `--files N` (default 10,000).
    let sizes: Vec<usize> = match (arg("--sizes"), arg("--files")) {
        (Some(list), _) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        (None, Some(n)) => vec![n.parse().unwrap_or(10_000)],
        (None, None) => vec![10_000],
    };
    // `--dir DIR` keeps the generated files (for profiling a phase: `--phase plan DIR`).
    let keep = arg("--dir").map(PathBuf::from);
    // `--monorepo N`: `plan .` over N files of which 10% are ECS documents, against a bare read
    // and parse of those ECS documents alone.
    if let Some(n) = arg("--monorepo").and_then(|n| n.parse::<usize>().ok()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = keep.unwrap_or_else(|| tmp.path().to_path_buf());
        generate_monorepo(&dir, n);
        println!("monorepo of {n} files: {} ECS documents", n / 10);
        let (parse_s, _) = measure("parse", &dir.join("services"));
        let (walked_s, _) = measure("parse-walked", &dir);
        let (plan_s, plan_kib) = measure("plan", &dir);
        println!("bare read + parse of the ECS documents alone      {parse_s:.3} s");
        println!("bare read + parse of every JSON file a walk keeps {walked_s:.3} s");
        println!(
            "plan --format json . (walk, ignore the rest)      {plan_s:.3} s, {:.1} MiB",
            plan_kib as f64 / 1024.0
        );
        println!(
            "ratio to the ECS documents alone: {:.2}; to every kept JSON file: {:.2}",
            plan_s / parse_s,
            plan_s / walked_s
        );
        return;
    }
    let mut rows: Vec<Row> = Vec::new();
    for &n in &sizes {
        let tmp = tempfile::tempdir().unwrap();
        let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
        let bytes = generate(&dir, n);
        println!(
            "{n} generated documents, {:.1} MiB",
            bytes as f64 / 1048576.0
        );
        let (parse_s, parse_kib) = measure("parse", &dir);
        let (plan_s, plan_kib) = measure("plan", &dir);
        let (text_s, text_kib) = measure("plan-text", &dir);
        println!(
            "{:<28} {:>10} {:>14} {:>12}",
            "phase", "seconds", "files/second", "peak RSS"
        );
        for (name, s, kib) in [
            ("bare serde_json parse", parse_s, parse_kib),
            ("plan --format json", plan_s, plan_kib),
            ("plan (text, every diff)", text_s, text_kib),
        ] {
            println!(
                "{name:<28} {s:>10.3} {:>14.0} {:>9.1} MiB",
                n as f64 / s,
                kib as f64 / 1024.0
            );
        }
        println!(
            "plan --format json / parse time ratio: {:.2}",
            plan_s / parse_s
        );
        println!("plan text / parse time ratio: {:.2}", text_s / parse_s);
        rows.push((n, parse_s, parse_kib, plan_s, plan_kib, text_s, text_kib));
    }
    if rows.len() >= 2 {
        let e = |f: fn(&Row) -> f64| {
            exponent(&rows.iter().map(|r| (r.0 as f64, f(r))).collect::<Vec<_>>())
        };
        println!(
            "growth exponent (1.0 = linear): parse {:.2}, plan --format json {:.2}, plan text {:.2}",
            e(|r| r.1),
            e(|r| r.3),
            e(|r| r.5)
        );
        println!(
            "peak RSS per file at the largest size: plan --format json {:.2} KiB",
            rows.last().map_or(0.0, |r| r.4 as f64 / r.0 as f64)
        );
    }
}
