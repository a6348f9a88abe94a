//! Organization scan cost: `cargo bench --bench org_scan [-- --accounts N] [--latency-ms MS]`.
//!
//! Seeds a local moto server with an organization of N member accounts (default 20), each with
//! 2 regions × 50 Fargate services (10 task definitions, 2 execution roles per region), reached
//! by assuming `OrganizationAccountAccessRole`. Times (median of 3) `plan --live` of one member
//! account (`--accounts ID`) and of all of them (`--accounts-file`), both over the 2 regions with
//! `--call-stats`, and compares the organization's calls with N times one account's.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "../tests/support/venv.rs"]
mod venv;

/// What `moto::Moto::run` returns (in the tests, `support::Run`).
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    NetworkConfiguration, NetworkMode,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

const REGIONS: [&str; 2] = ["us-east-1", "us-west-2"];
const SERVICES: usize = 50;
const TASK_DEFS: usize = 10;
const ROLES: usize = 2;

/// One region of one account: a VPC, 2 roles, 10 task definitions, 50 services.
async fn seed(conf: &aws_config::SdkConfig, account: &str, region: &str) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let ecs = aws_sdk_ecs::Client::new(conf);
    let iam = aws_sdk_iam::Client::new(conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.1.0/24")
        .availability_zone(format!("{region}a"))
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let sg = ec2
        .create_security_group()
        .group_name("task")
        .description("t")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    // IAM is global: the roles are made once, with the first region.
    if region == REGIONS[0] {
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        for r in 0..ROLES {
            let name = format!("exec-{r}");
            iam.create_role()
                .role_name(&name)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .unwrap();
            iam.attach_role_policy()
                .role_name(&name)
                .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
                .send()
                .await
                .unwrap();
        }
    }
    ecs.create_cluster()
        .cluster_name("bench")
        .send()
        .await
        .unwrap();
    let mut tds = Vec::new();
    for t in 0..TASK_DEFS {
        let td = ecs
            .register_task_definition()
            .family(format!("app-{t}"))
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu("256")
            .memory(if t % 5 == 0 { "512" } else { "1024" })
            .execution_role_arn(format!("arn:aws:iam::{account}:role/exec-{}", t % ROLES))
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("nginx:1.27")
                    .memory(512)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        tds.push(td.task_definition.unwrap().task_definition_arn.unwrap());
    }
    for s in 0..SERVICES {
        let net = AwsVpcConfiguration::builder()
            .subnets(&subnet)
            .security_groups(&sg)
            .assign_public_ip(AssignPublicIp::Enabled)
            .build()
            .unwrap();
        ecs.create_service()
            .cluster("bench")
            .service_name(format!("svc-{s:03}"))
            .task_definition(&tds[s % TASK_DEFS])
            .desired_count(0)
            .launch_type(LaunchType::Fargate)
            .platform_version(if s % 7 == 0 { "1.3.0" } else { "LATEST" })
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(net)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// A loopback proxy in front of moto that answers each request `latency` later, as a far
/// endpoint would (one request per connection, each on its own thread). Returns its URL.
fn latency_proxy(upstream: &str, latency: std::time::Duration) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut client = client;
                let _ = client.set_read_timeout(Some(std::time::Duration::from_secs(30)));
                // The request: headers, then the body its content-length gives.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                let head_end = loop {
                    let Ok(n) = client.read(&mut chunk) else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0usize);
                while buf.len() < head_end + len {
                    let Ok(n) = client.read(&mut chunk) else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                std::thread::sleep(latency);
                let Ok(mut up) = TcpStream::connect(&upstream) else {
                    return;
                };
                let _ = up.set_read_timeout(Some(std::time::Duration::from_secs(30)));
                let rewritten: String = head
                    .split("\r\n")
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .collect::<Vec<_>>()
                    .join("\r\n")
                    .replacen("\r\n\r\n", "\r\nconnection: close\r\n\r\n", 1);
                let _ = up.write_all(rewritten.as_bytes());
                let _ = up.write_all(&buf[head_end..]);
                let mut resp = Vec::new();
                let _ = up.read_to_end(&mut resp);
                let _ = client.write_all(&resp);
            });
        }
    });
    url
}

/// The median wall time of three runs, and the calls per API of the last.
fn timed(m: &moto::Moto, args: &[&str], endpoint: &str) -> (f64, BTreeMap<String, usize>, usize) {
    let mut times = Vec::new();
    let mut calls = BTreeMap::new();
    let mut findings = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let r = m.run_with(args, &[("AWS_ENDPOINT_URL", endpoint)]);
        times.push(t.elapsed().as_secs_f64());
        assert!(r.code == 2, "exit {}: {}", r.code, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        findings = v["findings"].as_array().unwrap().len();
        calls = r
            .stderr
            .lines()
            .skip(1)
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(a, n)| (a.to_string(), n.parse().unwrap_or(0)))
            .collect();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[1], calls, findings)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--accounts")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(20usize);
    let m = moto::Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let ids: Vec<String> = rt.block_on(async {
        let conf = m.config().await;
        let orgs = aws_sdk_organizations::Client::new(&conf);
        orgs.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap();
        let mut ids = Vec::new();
        for a in 0..n {
            let created = orgs
                .create_account()
                .email(format!("member-{a}@example.com"))
                .account_name(format!("member-{a}"))
                .send()
                .await
                .unwrap();
            let id = created
                .create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_string();
            for region in REGIONS {
                seed(&m.member_config(&id, region).await, &id, region).await;
            }
            ids.push(id);
        }
        ids
    });
    println!(
        "seeded moto: {n} member accounts × {} regions × {SERVICES} services in {:.1} s",
        REGIONS.len(),
        start.elapsed().as_secs_f64()
    );
    let file = m.home.path().join("accounts.yml");
    let mut yml = String::from("accounts:\n");
    for (i, id) in ids.iter().enumerate() {
        yml.push_str(&format!("- account_id: '{id}'\n  name: member-{i}\n"));
    }
    std::fs::write(&file, yml).unwrap();
    let regions = ["--region", REGIONS[0], "--region", REGIONS[1]];
    let mut one_args = vec![
        "plan",
        "--live",
        "--format",
        "json",
        "--call-stats",
        "--accounts",
    ];
    one_args.push(&ids[0]);
    one_args.extend(regions);
    // `-- --latency-ms N`: every call answered N ms later, as AWS's endpoints are far away.
    let latency = args
        .iter()
        .position(|a| a == "--latency-ms")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(0u64);
    let endpoint = if latency > 0 {
        latency_proxy(&m.url, std::time::Duration::from_millis(latency))
    } else {
        m.url.clone()
    };
    println!("latency added to every call: {latency} ms");
    let (one_s, one_calls, one_findings) = timed(&m, &one_args, &endpoint);
    let mut org_args = vec![
        "plan",
        "--live",
        "--format",
        "json",
        "--call-stats",
        "--accounts-file",
    ];
    let path = file.to_str().unwrap().to_string();
    org_args.push(&path);
    org_args.extend(regions);
    let (org_s, org_calls, org_findings) = timed(&m, &org_args, &endpoint);
    let one_total: usize = one_calls.values().sum();
    let org_total: usize = org_calls.values().sum();
    println!(
        "{:<44} {:>9} {:>7} {:>9}",
        "scan", "seconds", "calls", "findings"
    );
    println!(
        "{:<44} {one_s:>9.2} {one_total:>7} {one_findings:>9}",
        format!("one account × {} regions", REGIONS.len())
    );
    println!(
        "{:<44} {org_s:>9.2} {org_total:>7} {org_findings:>9}",
        format!(
            "{n} accounts × {} regions (--concurrency 16)",
            REGIONS.len()
        )
    );
    println!(
        "organization / one account: {:.2}x the wall time (target: within 3x); calls {} against {n} × {one_total} = {} (target: equal)",
        org_s / one_s,
        org_total,
        n * one_total
    );
    let mut apis: Vec<&String> = org_calls.keys().chain(one_calls.keys()).collect();
    apis.sort();
    apis.dedup();
    println!("{:<40} {:>10} {:>12}", "API", "org calls", "n × one");
    for api in apis {
        println!(
            "{api:<40} {:>10} {:>12}",
            org_calls.get(api).copied().unwrap_or(0),
            n * one_calls.get(api).copied().unwrap_or(0)
        );
    }
}
