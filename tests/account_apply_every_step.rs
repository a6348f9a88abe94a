//! One `apply --live` against moto that takes every kind of step (create a role and attach its
//! policy, put an inline policy, turn on VPC DNS, create the endpoint group and its ingress
//! rule, interface endpoints, add a route table to the gateway endpoint, open egress, register
//! a revision, update services),
//! its operation log as a snapshot, the created resources tagged with the run, and `rollback`
//! back to the exact prior state: every resource described in full before and after.

use crate::snap;
use crate::support::block;
use crate::support::moto::{ACCOUNT, Moto};
use crate::support::seed::{Net, RolePolicy, Setup, seeded};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, NetworkConfiguration,
    NetworkMode,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every resource the apply could touch, described in full (`Debug` of the SDK's answer), by
/// id; only what moves on its own (service deployments and events) is left out.
async fn described(moto: &Moto) -> BTreeMap<String, String> {
    let conf = moto.config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let mut out = BTreeMap::new();
    for role in iam.list_roles().send().await.unwrap().roles() {
        let name = role.role_name();
        let got = iam.get_role().role_name(name).send().await.unwrap();
        let inline = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap();
        let mut docs = Vec::new();
        for p in inline.policy_names() {
            let d = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(p)
                .send()
                .await
                .unwrap();
            docs.push(format!("{p}: {}", d.policy_document()));
        }
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap();
        out.insert(
            format!("role {name}"),
            format!(
                "{:#?}\n{docs:#?}\n{:#?}",
                got.role(),
                attached.attached_policies()
            ),
        );
    }
    for v in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        let id = v.vpc_id().unwrap();
        let mut attrs = Vec::new();
        for a in [
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
        ] {
            let r = ec2
                .describe_vpc_attribute()
                .vpc_id(id)
                .attribute(a)
                .send()
                .await
                .unwrap();
            attrs.push(format!(
                "{:?} {:?}",
                r.enable_dns_support(),
                r.enable_dns_hostnames()
            ));
        }
        out.insert(format!("vpc {id}"), format!("{v:#?}\n{attrs:#?}"));
    }
    for s in ec2.describe_subnets().send().await.unwrap().subnets() {
        out.insert(
            format!("subnet {}", s.subnet_id().unwrap()),
            format!("{s:#?}"),
        );
    }
    for r in ec2
        .describe_route_tables()
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        out.insert(
            format!("route table {}", r.route_table_id().unwrap()),
            format!("{r:#?}"),
        );
    }
    for g in ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        out.insert(
            format!("group {}", g.group_id().unwrap()),
            format!("{g:#?}"),
        );
    }
    for e in ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
    {
        // AWS lists a deleted endpoint for a while, as `deleted`.
        if e.state()
            .is_some_and(|s| s.as_str().eq_ignore_ascii_case("deleted"))
        {
            continue;
        }
        out.insert(
            format!("endpoint {}", e.vpc_endpoint_id().unwrap()),
            format!("{e:#?}"),
        );
    }
    let tds = ecs.list_task_definitions().send().await.unwrap();
    for arn in tds.task_definition_arns() {
        let d = ecs
            .describe_task_definition()
            .task_definition(arn)
            .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
            .send()
            .await
            .unwrap();
        out.insert(
            format!("task definition {arn}"),
            format!("{:#?}\n{:#?}", d.task_definition(), d.tags()),
        );
    }
    let arns = ecs
        .list_services()
        .cluster("prod")
        .send()
        .await
        .unwrap()
        .service_arns()
        .to_vec();
    let services = ecs
        .describe_services()
        .cluster("prod")
        .set_services(Some(arns))
        .send()
        .await
        .unwrap();
    for s in services.services() {
        let mut s = s.clone();
        s.deployments = None;
        s.events = None;
        out.insert(
            format!("service {}", s.service_arn().unwrap()),
            format!("{s:#?}"),
        );
    }
    out
}

/// Adds an S3 gateway endpoint on `web`'s route table and family `api`, whose execution role
/// does not exist, run by service `api` in a second subnet (its own route table, not on the
/// gateway endpoint) with `web`'s group.
async fn add_api_service(moto: &Moto) {
    let conf = moto.config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let web_subnet = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("cidr-block")
                .values("10.0.1.0/24")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .clone();
    let vpc = web_subnet.vpc_id().unwrap().to_string();
    let web_rt = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(web_subnet.subnet_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.create_vpc_endpoint()
        .vpc_id(&vpc)
        .service_name("com.amazonaws.us-east-1.s3")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
        .route_table_ids(&web_rt)
        .send()
        .await
        .unwrap();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.2.0/24")
        .availability_zone("us-east-1b")
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let rt = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&rt)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    let group = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("task")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    let td = ecs
        .register_task_definition()
        .family("api")
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory("1024")
        .execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/apiExecutionRole"))
        .container_definitions(
            ContainerDefinition::builder()
                .name("api")
                .image("nginx:1.27")
                .memory(512)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap()
        .task_definition_arn
        .unwrap();
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(td)
        .desired_count(0)
        .launch_type(LaunchType::Fargate)
        .platform_version("LATEST")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(subnet)
                        .security_groups(group)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The journal's operations, one per line, with AWS's random ids numbered in order of
/// appearance (`vpc-1`, `sg-2`, ...), so the log compares from run to run.
fn operation_log(journal: &str) -> String {
    let mut ids: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for line in journal.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["phase"] != "before" {
            continue;
        }
        let mut op = v["operation"].to_string();
        for prefix in ["vpc-", "subnet-", "sg-", "rtb-", "pl-", "vpce-"] {
            let mut from = 0;
            while let Some(at) = op[from..].find(prefix).map(|i| i + from) {
                let end = op[at + prefix.len()..]
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(op.len(), |i| i + at + prefix.len());
                let id = op[at..end].to_string();
                let n = match ids.iter().position(|i| *i == id) {
                    Some(n) => n + 1,
                    None => {
                        ids.push(id.clone());
                        ids.len()
                    }
                };
                let short = format!("{prefix}{n}");
                op.replace_range(at..end, &short);
                from = at + short.len();
            }
        }
        lines.push(format!("{} {op}", v["seq"]));
    }
    lines.join("\n")
}

#[test]
fn every_kind_of_step_is_applied_tagged_and_rolled_back_to_the_exact_prior_state() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        net: Net::Private,
        dns: false,
        egress_open: false,
        task_memory: "512",
        platform: "1.3.0",
        ..Default::default()
    });
    block(add_api_service(&moto));
    let before = block(described(&moto));
    let journal = moto.home.path().join("j.jsonl");
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&journal).unwrap();
    let kinds: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["phase"] == "before").then(|| v["operation"]["operation"].as_str().unwrap().into())
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateSecurityGroup",
            "ec2:CreateVpcEndpoint",
            "ec2:ModifyVpcAttribute",
            "ec2:ModifyVpcEndpoint",
            "ecs:RegisterTaskDefinition",
            "ecs:UpdateService",
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:PutRolePolicy"
        ],
        "every kind of step the planner makes"
    );
    snap!("account-apply-every-step-log", operation_log(&text));
    // Each created resource carries the tool's tag and the run's id.
    let run = serde_json::from_str::<Value>(text.lines().next().unwrap()).unwrap()["run"]
        .as_str()
        .unwrap()
        .to_string();
    let after = block(described(&moto));
    let created: Vec<&String> = after
        .iter()
        .filter(|(k, _)| {
            !before.contains_key(*k)
                && (k.starts_with("role ") || k.starts_with("group ") || k.starts_with("endpoint "))
        })
        .map(|(_, v)| v)
        .collect();
    assert_eq!(created.len(), 4, "a role, a group, two endpoints");
    for c in created {
        assert!(
            c.contains("fargate-rtm:created-by") && c.contains("\"apply\"") && c.contains(&run),
            "{c}"
        );
    }
    let r = moto.run(&[
        "rollback",
        "--deregister",
        "--auto-approve",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let restored = block(described(&moto));
    let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&restored), keys(&before));
    for (k, v) in &before {
        assert_eq!(&restored[k], v, "{k} differs after rollback");
    }
}

/// A journal whose endpoint step was begun and never recorded as finished (killed during the
/// call): `rollback` finds the endpoint by the run's tag and deletes it with the rest.
#[test]
fn rollback_settles_a_creation_in_doubt_from_the_account() {
    let moto = seeded(&Setup {
        net: Net::Private,
        ..Default::default()
    });
    let before = block(described(&moto));
    let journal = moto.home.path().join("j.jsonl");
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&journal).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seq = records
        .iter()
        .find(|v| {
            v["phase"] == "before"
                && v["operation"]["service_name"]
                    .as_str()
                    .is_some_and(|s| s.ends_with(".ecr.dkr"))
        })
        .unwrap()["seq"]
        .clone();
    let kept: String = text
        .lines()
        .zip(&records)
        .filter(|(_, v)| !(v["seq"] == seq && v["phase"] == "after"))
        .map(|(l, _)| format!("{l}\n"))
        .collect();
    std::fs::write(&journal, kept).unwrap();
    let r = moto.run(&["rollback", "--auto-approve", journal.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("in doubt"), "{}", r.stderr);
    let restored = block(described(&moto));
    assert_eq!(
        restored.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        assert_eq!(&restored[k], v, "{k} differs after rollback");
    }
    // Settled and undone: a second rollback has nothing left, nothing in doubt.
    let r = moto.run(&["rollback", "--auto-approve", journal.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to roll back"), "{}", r.stderr);
}
