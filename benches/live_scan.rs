//! Live scan cost: `cargo bench --bench live_scan`.
//!
//! Seeds a local moto server (installed by the test helper into a venv) with 1 cluster, 500
//! Fargate services over 50 task definitions and 10 execution roles, then runs
//! `fargate-rtm plan --live --format json --call-stats` three times and reports the median wall
//! time and the AWS calls per API, next to the minimum that inventory needs.
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

const SERVICES: usize = 500;
const TASK_DEFS: usize = 50;
const ROLES: usize = 10;

async fn seed(conf: &aws_config::SdkConfig) {
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
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(*az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet.unwrap().subnet_id.unwrap());
    }
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
        let logs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]});
        iam.put_role_policy()
            .role_name(&name)
            .policy_name("logs")
            .policy_document(logs.to_string())
            .send()
            .await
            .unwrap();
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
            .execution_role_arn(format!("arn:aws:iam::123456789012:role/exec-{}", t % ROLES))
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
            .set_subnets(Some(subnets.clone()))
            .security_groups(&sg)
            .assign_public_ip(AssignPublicIp::Disabled)
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

/// The fewest calls this inventory needs, per API, with the APIs' page and batch sizes.
fn minimum() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("sts:GetCallerIdentity", 1),
        ("ecs:ListClusters", 1),
        ("ecs:DescribeClusters", 1),
        ("ecs:ListServices", SERVICES.div_ceil(100)),
        ("ecs:DescribeServices", SERVICES.div_ceil(10)),
        ("ecs:DescribeTaskDefinition", TASK_DEFS),
        ("iam:GetRole", ROLES),
        ("iam:ListAttachedRolePolicies", ROLES),
        ("iam:ListRolePolicies", ROLES),
        ("iam:GetRolePolicy", ROLES),
        ("iam:GetPolicy", 1),
        ("iam:GetPolicyVersion", 1),
        ("ec2:DescribeSubnets", 1),
        ("ec2:DescribeRouteTables", 1),
        ("ec2:DescribeVpcEndpoints", 1),
        ("ec2:DescribeVpcs", 1),
        ("ec2:DescribeVpcAttribute", 2),
        ("ec2:DescribeSecurityGroups", 1),
        ("ec2:DescribeManagedPrefixLists", 1),
        ("ec2:DescribeNatGateways", 1),
        ("ec2:DescribeNetworkAcls", 1),
        ("guardduty:ListDetectors", 1),
        ("organizations:DescribeOrganization", 1),
    ])
}

fn main() {
    let m = moto::Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    rt.block_on(async { seed(&m.config().await).await });
    println!(
        "seeded moto: 1 cluster, {SERVICES} services, {TASK_DEFS} task definitions, {ROLES} roles in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = m.run(&["plan", "--live", "--format", "json", "--call-stats"]);
        times.push(t.elapsed().as_secs_f64());
        assert!(r.code == 2, "exit {}: {}", r.code, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(v["findings"].as_array().unwrap().len() > 50);
        calls = r
            .stderr
            .lines()
            .skip(1)
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(a, n)| (a.to_string(), n.parse().unwrap_or(0)))
            .collect();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("plan --live wall time (median of 3): {:.2} s", times[1]);
    let min = minimum();
    println!("{:<36} {:>8} {:>8}", "API", "calls", "minimum");
    let mut apis: Vec<&str> = calls
        .keys()
        .map(String::as_str)
        .chain(min.keys().copied())
        .collect();
    apis.sort();
    apis.dedup();
    for api in apis {
        println!(
            "{api:<36} {:>8} {:>8}",
            calls.get(api).copied().unwrap_or(0),
            min.get(api).copied().unwrap_or(0)
        );
    }
    println!(
        "{:<36} {:>8} {:>8}",
        "total",
        calls.values().sum::<usize>(),
        min.values().sum::<usize>()
    );
}
