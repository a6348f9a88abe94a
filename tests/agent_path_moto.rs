//! The agent's whole path, against moto: each gap a security team would try (endpoint
//! policies, private DNS, endpoint groups, a private NAT gateway, network ACLs, task egress, a
//! policy variable in a `Deny`) seeded beside a control that differs only in that gap. Every gap
//! is caught (a finding, or not checked naming why: never a pass) and every control is clean (no
//! finding, nothing not checked).

use crate::support::block;
use crate::support::moto::{Moto, REGION};
use crate::support::seed::{Net, RolePolicy, Setup, https_group, revoke_all_egress, seeded};
use aws_sdk_ec2::Client as Ec2;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, PrefixListId, RuleAction};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

type Tweak = for<'a> fn(&'a Ec2, &'a aws_sdk_iam::Client) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

async fn endpoint(ec2: &Ec2, suffix: &str) -> String {
    ec2.describe_vpc_endpoints()
        .filters(filter(
            "service-name",
            &format!("com.amazonaws.{REGION}.{suffix}"),
        ))
        .send()
        .await
        .unwrap()
        .vpc_endpoints()[0]
        .vpc_endpoint_id()
        .unwrap()
        .to_string()
}

async fn group(ec2: &Ec2, name: &str) -> String {
    ec2.describe_security_groups()
        .filters(filter("group-name", name))
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string()
}

/// The task subnet (`10.0.1.0/24`), its VPC and its route table.
async fn task_subnet(ec2: &Ec2) -> (String, String, String) {
    let s = ec2
        .describe_subnets()
        .filters(filter("cidr-block", "10.0.1.0/24"))
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .clone();
    let id = s.subnet_id().unwrap().to_string();
    let rt = ec2
        .describe_route_tables()
        .filters(filter("association.subnet-id", &id))
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .route_table_id()
        .unwrap()
        .to_string();
    (id, s.vpc_id().unwrap().to_string(), rt)
}

fn https_from(cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

async fn endpoint_policy(ec2: &Ec2, suffix: &str, policy: Value) {
    ec2.modify_vpc_endpoint()
        .vpc_endpoint_id(endpoint(ec2, suffix).await)
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
}

/// A data perimeter: the account's own resources only (the agent repository is AWS's).
async fn perimeter(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    endpoint_policy(
        ec2,
        "ecr.dkr",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Token", "Effect": "Allow", "Principal": "*", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "OwnAccount", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}}]}),
    )
    .await;
}

/// The control: the perimeter with the agent repository let through.
async fn perimeter_with_agent(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    endpoint_policy(
        ec2,
        "ecr.dkr",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Token", "Effect": "Allow", "Principal": "*", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "GuardDutyAgent", "Effect": "Allow", "Principal": "*", "Action": "ecr:*",
             "Resource": "arn:aws:ecr:us-east-1:593207742271:repository/aws-guardduty-agent-fargate"},
            {"Sid": "OwnAccount", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}}]}),
    )
    .await;
}

/// The `ecr.api` endpoint made again without private DNS (moto keeps the flag on modify).
async fn api_without_private_dns(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    let (subnet, vpc, _) = task_subnet(ec2).await;
    ec2.delete_vpc_endpoints()
        .vpc_endpoint_ids(endpoint(ec2, "ecr.api").await)
        .send()
        .await
        .unwrap();
    ec2.create_vpc_endpoint()
        .vpc_id(vpc)
        .service_name(format!("com.amazonaws.{REGION}.ecr.api"))
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .subnet_ids(subnet)
        .security_group_ids(group(ec2, "ecr-endpoints").await)
        .private_dns_enabled(false)
        .send()
        .await
        .unwrap();
}

async fn endpoint_group_from_elsewhere(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    let g = group(ec2, "ecr-endpoints").await;
    ec2.revoke_security_group_ingress()
        .group_id(&g)
        .ip_permissions(https_from("10.0.0.0/16"))
        .send()
        .await
        .unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(&g)
        .ip_permissions(https_from("192.168.0.0/16"))
        .send()
        .await
        .unwrap();
}

/// A NAT gateway for the task subnet, in a subnet of its own; a public one reaches the internet
/// only when `igw` gives its subnet a route to an internet gateway.
async fn nat(ec2: &Ec2, private: bool, igw: bool) {
    let (subnet, vpc, rt) = task_subnet(ec2).await;
    // The NAT gateway lives in another subnet of the VPC.
    let nat_subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.9.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let _ = subnet;
    let mut req = ec2.create_nat_gateway().subnet_id(&nat_subnet);
    if private {
        req = req.connectivity_type(aws_sdk_ec2::types::ConnectivityType::Private);
    } else {
        let eip = ec2.allocate_address().send().await.unwrap();
        req = req.allocation_id(eip.allocation_id().unwrap());
    }
    let id = req
        .send()
        .await
        .unwrap()
        .nat_gateway
        .unwrap()
        .nat_gateway_id
        .unwrap();
    let nat_rt = ec2
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
        .route_table_id(&nat_rt)
        .subnet_id(&nat_subnet)
        .send()
        .await
        .unwrap();
    if igw {
        let gw = ec2
            .create_internet_gateway()
            .send()
            .await
            .unwrap()
            .internet_gateway
            .unwrap()
            .internet_gateway_id
            .unwrap();
        ec2.attach_internet_gateway()
            .internet_gateway_id(&gw)
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        ec2.create_route()
            .route_table_id(&nat_rt)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&gw)
            .send()
            .await
            .unwrap();
    }
    ec2.create_route()
        .route_table_id(&rt)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&id)
        .send()
        .await
        .unwrap();
}

async fn private_nat(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    nat(ec2, true, true).await;
}

async fn public_nat(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    nat(ec2, false, true).await;
}

async fn public_nat_without_internet_gateway(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    nat(ec2, false, false).await;
}

/// A NAT gateway for the rest, and an `ecr.dkr` endpoint with private DNS whose policy keeps the
/// agent out: the pull goes to that endpoint whatever the NAT.
async fn dkr_endpoint_beside_nat(ec2: &Ec2, iam: &aws_sdk_iam::Client) {
    nat(ec2, false, true).await;
    dkr_endpoint(ec2, iam, true).await;
}

async fn open_dkr_endpoint_beside_nat(ec2: &Ec2, iam: &aws_sdk_iam::Client) {
    nat(ec2, false, true).await;
    dkr_endpoint(ec2, iam, false).await;
}

async fn dkr_endpoint(ec2: &Ec2, _: &aws_sdk_iam::Client, perimeter: bool) {
    let (subnet, vpc, _) = task_subnet(ec2).await;
    let g = https_group(ec2, &vpc, "dkr").await;
    let mut req = ec2
        .create_vpc_endpoint()
        .vpc_id(vpc)
        .service_name(format!("com.amazonaws.{REGION}.ecr.dkr"))
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .subnet_ids(subnet)
        .security_group_ids(g)
        .private_dns_enabled(true);
    if perimeter {
        req = req.policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "OwnAccount", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}},
                {"Sid": "Token", "Effect": "Allow", "Principal": "*", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]})
            .to_string(),
        );
    }
    req.send().await.unwrap();
}

/// Telemetry denied unless through one endpoint: the deny may apply; never passed.
async fn conditional_telemetry_deny(_: &Ec2, iam: &aws_sdk_iam::Client) {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Action": "guardduty:SendSecurityTelemetry", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]});
    iam.put_role_policy()
        .role_name("ecsTaskExecutionRole")
        .policy_name("telemetry-through-one-endpoint")
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
}

/// A custom network ACL on the task subnet: replies come in, and out goes only what
/// `outbound_https` lets.
async fn custom_acl(ec2: &Ec2, outbound_https: bool) {
    let (subnet, vpc, _) = task_subnet(ec2).await;
    let acl = ec2
        .create_network_acl()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .network_acl
        .unwrap()
        .network_acl_id
        .unwrap();
    let entry = |n: i32, egress: bool, from: i32, to: i32| {
        ec2.create_network_acl_entry()
            .network_acl_id(&acl)
            .rule_number(n)
            .egress(egress)
            .protocol("6")
            .port_range(
                aws_sdk_ec2::types::PortRange::builder()
                    .from(from)
                    .to(to)
                    .build(),
            )
            .cidr_block("0.0.0.0/0")
            .rule_action(RuleAction::Allow)
            .send()
    };
    entry(100, false, 1024, 65535).await.unwrap();
    if outbound_https {
        entry(100, true, 443, 443).await.unwrap();
    }
    let assoc = ec2
        .describe_network_acls()
        .filters(filter("association.subnet-id", &subnet))
        .send()
        .await
        .unwrap()
        .network_acls()[0]
        .associations()
        .iter()
        .find(|a| a.subnet_id() == Some(subnet.as_str()))
        .unwrap()
        .network_acl_association_id()
        .unwrap()
        .to_string();
    ec2.replace_network_acl_association()
        .association_id(assoc)
        .network_acl_id(&acl)
        .send()
        .await
        .unwrap();
}

async fn acl_without_outbound(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    custom_acl(ec2, false).await;
}

async fn acl_with_outbound(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    custom_acl(ec2, true).await;
}

/// The task group's only egress: HTTPS to the S3 prefix list (ECR's API is elsewhere).
async fn egress_to_s3_only(ec2: &Ec2, _: &aws_sdk_iam::Client) {
    let g = group(ec2, "task").await;
    revoke_all_egress(ec2, &g).await;
    let pl = ec2
        .describe_managed_prefix_lists()
        .filters(filter(
            "prefix-list-name",
            &format!("com.amazonaws.{REGION}.s3"),
        ))
        .send()
        .await
        .unwrap()
        .prefix_lists()[0]
        .prefix_list_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_egress()
        .group_id(&g)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .prefix_list_ids(PrefixListId::builder().prefix_list_id(pl).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn deny_with_variable(_: &Ec2, iam: &aws_sdk_iam::Client) {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ecr:*",
        "Resource": "arn:aws:ecr:${aws:RequestedRegion}:*:repository/aws-guardduty-*"}]});
    iam.put_role_policy()
        .role_name("ecsTaskExecutionRole")
        .policy_name("no-agent")
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
}

async fn nothing(_: &Ec2, _: &aws_sdk_iam::Client) {}

macro_rules! tweak {
    ($f:path) => {{
        fn boxed<'a>(
            ec2: &'a Ec2,
            iam: &'a aws_sdk_iam::Client,
        ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
            Box::pin($f(ec2, iam))
        }
        boxed as Tweak
    }};
}

struct Scenario {
    name: &'static str,
    setup: Setup,
    gap: Tweak,
    control: Tweak,
    /// The check that must catch the gap (as a finding, or as not checked).
    caught_by: &'static str,
    /// Caught as not checked (undecidable), not as a finding.
    not_checked: bool,
}

fn plan(moto: &Moto) -> (i32, Value) {
    let r = moto.run(&["plan", "--live", "--format", "json"]);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

fn listed(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["check"].as_str().unwrap(),
                f["message"].as_str().or(f["reason"].as_str()).unwrap_or("")
            )
        })
        .collect()
}

fn seeded_with(setup: &Setup, tweak: Tweak) -> Moto {
    let moto = seeded(setup);
    block(async {
        let conf = moto.config().await;
        tweak(&Ec2::new(&conf), &aws_sdk_iam::Client::new(&conf)).await;
    });
    moto
}

#[test]
fn every_gap_on_the_agents_path_is_caught_and_every_control_is_clean() {
    let private = Setup {
        net: Net::PrivateWithEndpoints,
        ..Default::default()
    };
    let scenarios = [
        Scenario {
            name: "ECR endpoint policy allowing the account's own resources only",
            setup: private.clone(),
            gap: tweak!(perimeter),
            control: tweak!(perimeter_with_agent),
            caught_by: "endpoint-policy-blocks-agent",
            not_checked: false,
        },
        Scenario {
            name: "`ecr.api` endpoint without private DNS",
            setup: private.clone(),
            gap: tweak!(api_without_private_dns),
            control: tweak!(nothing),
            caught_by: "no-ecr-network-path",
            not_checked: false,
        },
        Scenario {
            name: "endpoint group admitting 443 from an unrelated range",
            setup: private.clone(),
            gap: tweak!(endpoint_group_from_elsewhere),
            control: tweak!(nothing),
            caught_by: "endpoint-unreachable",
            not_checked: false,
        },
        Scenario {
            name: "default route through a private NAT gateway",
            setup: Setup {
                net: Net::Private,
                ..Default::default()
            },
            gap: tweak!(private_nat),
            control: tweak!(public_nat),
            caught_by: "no-ecr-network-path",
            not_checked: false,
        },
        Scenario {
            name: "default route through a public NAT gateway whose subnet has no internet gateway route",
            setup: Setup {
                net: Net::Private,
                ..Default::default()
            },
            gap: tweak!(public_nat_without_internet_gateway),
            control: tweak!(public_nat),
            caught_by: "no-ecr-network-path",
            not_checked: false,
        },
        Scenario {
            name: "`ecr.dkr` endpoint keeping the agent out, beside a NAT gateway",
            setup: Setup {
                net: Net::Private,
                ..Default::default()
            },
            gap: tweak!(dkr_endpoint_beside_nat),
            control: tweak!(open_dkr_endpoint_beside_nat),
            caught_by: "endpoint-policy-blocks-agent",
            not_checked: false,
        },
        Scenario {
            name: "a conditional `Deny` on `guardduty:SendSecurityTelemetry`",
            setup: Setup::default(),
            gap: tweak!(conditional_telemetry_deny),
            control: tweak!(nothing),
            caught_by: "execution-role-lacks-ecr-access",
            not_checked: true,
        },
        Scenario {
            name: "public subnet whose network ACL denies outbound traffic",
            setup: Setup::default(),
            gap: tweak!(acl_without_outbound),
            control: tweak!(acl_with_outbound),
            caught_by: "network-acl-blocks-agent",
            not_checked: false,
        },
        Scenario {
            name: "task group whose only egress is 443 to the S3 prefix list",
            setup: Setup::default(),
            gap: tweak!(egress_to_s3_only),
            control: tweak!(nothing),
            caught_by: "task-egress-blocked",
            not_checked: false,
        },
        Scenario {
            name: "`Deny` on `ecr:*` whose `Resource` uses a policy variable",
            setup: Setup {
                role: RolePolicy::Managed,
                ..Default::default()
            },
            gap: tweak!(deny_with_variable),
            control: tweak!(nothing),
            caught_by: "execution-role-lacks-ecr-access",
            not_checked: true,
        },
    ];
    let mut failures = Vec::new();
    for s in scenarios {
        let (code, v) = plan(&seeded_with(&s.setup, s.control));
        let (findings, nc) = (listed(&v, "findings"), listed(&v, "not_checked"));
        if !findings.is_empty() || !nc.is_empty() || code != 0 {
            failures.push(format!(
                "control of {}: exit {code}, findings {findings:?}, not checked {nc:?}",
                s.name
            ));
        }
        let (code, v) = plan(&seeded_with(&s.setup, s.gap));
        let (findings, nc) = (listed(&v, "findings"), listed(&v, "not_checked"));
        let caught = if s.not_checked { &nc } else { &findings };
        if !caught.iter().any(|f| f.starts_with(s.caught_by)) || code == 0 {
            failures.push(format!(
                "gap {}: exit {code}, findings {findings:?}, not checked {nc:?}",
                s.name
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
