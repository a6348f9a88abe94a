//! `no-ecr-network-path` (live): the service's subnets must reach ECR and S3, through the
//! internet (public IP + internet gateway, or NAT) or through VPC endpoints.

use super::path::{self, Ecr, S3};
use super::{AccountContext, finding, not_checked};
use crate::aws::{AwsVpc, Service};
use crate::check::Outcome;
use crate::check::fix::endpoints::{self, Missing};
use crate::check::{Check, Runner};
use crate::model::inventory::Network;
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use std::collections::BTreeMap;

pub static INFO: CheckInfo = CheckInfo {
    slug: "no-ecr-network-path",
    severity: Severity::Error,
    summary: "service subnets have no route to ECR (live)",
    explain: "\
A subnet of the service has no way to reach Amazon ECR and S3 to pull the agent image: its route
table (explicit association, else the VPC's main table) has no default route through a public
NAT gateway (a private NAT gateway has no internet path), nor through an internet gateway with
`assignPublicIp` enabled, and the VPC lacks one of the endpoints private subnets need:
`com.amazonaws.REGION.ecr.api` and `com.amazonaws.REGION.ecr.dkr` (interface, both with private
DNS: Fargate resolves ECR's public names) and `com.amazonaws.REGION.s3` (gateway, associated
with the subnet's route table). A default route through a transit gateway, virtual private
gateway, peering connection, Gateway Load Balancer endpoint, Cloud WAN, instance or network
interface cannot be verified and is reported as not checked, naming the route.

Why: \"If your Fargate tasks run in private subnets without internet access, you must configure
VPC endpoints for ECR … Without these endpoints, tasks in private subnets cannot download the
GuardDuty container image.\" Platform 1.4.0 needs both ECR endpoints and the S3 gateway endpoint.

Fix: create the missing endpoints (unsafe: interface endpoints are billed per hour and per GB),
with a new security group allowing TCP 443 from the VPC's CIDRs for the interface endpoints, in
one subnet per Availability Zone of the service; turn on private DNS on an existing ECR endpoint
and add the subnet's route table to an existing S3 gateway endpoint (`ModifyVpcEndpoint`, safe
and free). In a shared VPC only the owner account can change endpoints and route tables: the fix
is manual and names it. Alternatives: a public NAT gateway, or a public subnet with
`assignPublicIp`.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        let subject = format!("service `{}`", svc.name);
        let net = match &inv.network {
            Ok(n) => n,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject, e.to_string()));
                continue;
            }
        };
        check_service(ctx, net, svc, vpc, subject, &mut out);
    }
    out
}

fn check_service(
    ctx: &AccountContext<'_>,
    net: &Network,
    svc: &Service,
    vpc: &AwsVpc,
    subject: String,
    out: &mut Outcome,
) {
    let inv = ctx.inventory;
    let region = &inv.region;
    let mut needs: Vec<Missing> = Vec::new();
    let mut blocked_subnets = Vec::new();
    let mut why_no_internet = Vec::new();
    let mut route_tables = Vec::new();
    let mut subnets_by_az: BTreeMap<String, String> = BTreeMap::new();
    let mut vpc_id = String::new();
    let mut owners: Vec<String> = Vec::new();
    for path in path::service_paths(net, region, vpc) {
        let p = match path {
            Ok(p) => p,
            Err(why) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject.clone(), why));
                continue;
            }
        };
        let mut missing = Vec::new();
        for step in [
            match &p.ecr {
                Ecr::Blocked(m) => Ok(m.clone()),
                Ecr::Unverifiable(why) => Err(why.clone()),
                _ => Ok(Vec::new()),
            },
            match &p.s3 {
                S3::Blocked(m) => Ok(vec![m.clone()]),
                S3::Unverifiable(why) => Err(why.clone()),
                _ => Ok(Vec::new()),
            },
        ] {
            match step {
                Ok(m) => missing.extend(m),
                Err(why) => {
                    if !out
                        .not_checked
                        .iter()
                        .any(|n| n.resource == svc.arn && n.reason == why)
                    {
                        out.not_checked
                            .push(not_checked(&INFO, &svc.arn, subject.clone(), why));
                    }
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        let subnet = p.subnet;
        blocked_subnets.push(format!("`{}`", subnet.id));
        why_no_internet.extend(p.no_internet.clone());
        vpc_id = subnet.vpc_id.clone();
        subnets_by_az
            .entry(subnet.availability_zone.clone())
            .or_insert_with(|| subnet.id.clone());
        if !route_tables.contains(&p.route_table.id) {
            route_tables.push(p.route_table.id.clone());
        }
        if !subnet.owner_id.is_empty()
            && subnet.owner_id != inv.identity.account
            && !owners.contains(&subnet.owner_id)
        {
            owners.push(subnet.owner_id.clone());
        }
        needs.extend(missing);
    }
    if needs.is_empty() {
        return;
    }
    needs.sort();
    needs.dedup();
    let what: Vec<String> = needs.iter().map(endpoints::describe).collect();
    let mut why = format!(
        "subnets {} have no NAT or internet route",
        blocked_subnets.join(", ")
    );
    why_no_internet.dedup();
    for w in &why_no_internet {
        why.push_str(&format!(" ({w})"));
    }
    if !vpc.assign_public_ip && why_no_internet.is_empty() {
        why.push_str("; `assignPublicIp` is disabled");
    }
    let message = format!("{why}, and the VPC lacks {}", what.join(", "));
    // A shared VPC: only its owner can create or change endpoints and route tables.
    if !owners.is_empty() {
        let owners: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            message,
            Fix::manual(format!(
                "the VPC is shared by account {}: ask its owner to add {} in `{vpc_id}`",
                owners.join(", "),
                what.join(", ")
            )),
        ));
        return;
    }
    let interfaces = needs.iter().any(|m| matches!(m, Missing::Interface(_)));
    // The endpoint security group admits the VPC's CIDRs: without them, no fix to plan.
    let cidrs = match net.vpcs.iter().find(|v| v.id == vpc_id).map(|v| v.cidrs()) {
        Some(c) => c,
        None if interfaces => {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject,
                format!(
                    "VPC `{vpc_id}` was not found (its CIDRs decide the endpoints' security group)"
                ),
            ));
            return;
        }
        None => Vec::new(),
    };
    let interface_subnets: Vec<String> = subnets_by_az.into_values().collect();
    let ops = endpoints::create(
        region,
        &vpc_id,
        &cidrs,
        &needs,
        &interface_subnets,
        &route_tables,
    );
    let fix = Fix {
        title: format!("add {} in `{vpc_id}`", what.join(", ")),
        applicability: if interfaces {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        reason: interfaces.then(|| "interface endpoints are billed per hour and per GB".into()),
        operations: ops,
        ..Default::default()
    };
    out.findings
        .push(finding(&INFO, &svc.arn, subject, message, fix));
}
