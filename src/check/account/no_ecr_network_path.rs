//! `no-ecr-network-path` (live): the service's subnets must reach ECR and S3, through the
//! internet (public IP + internet gateway, or NAT) or through VPC endpoints.

use super::{AccountContext, finding, not_checked};
use crate::aws::{AwsVpc, RouteTable, Service, Subnet};
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
table (explicit association, else the VPC's main table) has no default route through a NAT
gateway, nor through an internet gateway with `assignPublicIp` enabled, and the VPC lacks one of
the endpoints private subnets need: `com.amazonaws.REGION.ecr.api` (interface),
`com.amazonaws.REGION.ecr.dkr` (interface, private DNS enabled) and `com.amazonaws.REGION.s3`
(gateway, associated with the subnet's route table). A default route through a transit gateway,
peering connection, instance or network interface cannot be verified and is reported as not
checked.

Why: \"If your Fargate tasks run in private subnets without internet access, you must configure
VPC endpoints for ECR … Without these endpoints, tasks in private subnets cannot download the
GuardDuty container image.\" Platform 1.4.0 needs both ECR endpoints and the S3 gateway endpoint.

Fix (unsafe: interface endpoints are billed per hour and per GB): create the missing endpoints,
with a new security group allowing TCP 443 from the VPC CIDR for the interface endpoints, in one
subnet per Availability Zone of the service. An endpoint that exists but is misconfigured (no
private DNS, route table not associated) is left to a person. Alternatives: a NAT gateway, or a
public subnet with `assignPublicIp`.",
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

fn route_table<'a>(net: &'a Network, subnet: &Subnet) -> Option<&'a RouteTable> {
    net.route_tables
        .iter()
        .find(|rt| rt.subnet_ids.contains(&subnet.id))
        .or_else(|| {
            net.route_tables
                .iter()
                .find(|rt| rt.main && rt.vpc_id == subnet.vpc_id)
        })
}

enum Path {
    Internet,
    Undetermined(String),
    /// What is missing for the endpoint path.
    Missing(Vec<Missing>),
}

fn path(net: &Network, region: &str, vpc: &AwsVpc, subnet: &Subnet, rt: &RouteTable) -> Path {
    if let Some(default) = rt
        .routes
        .iter()
        .find(|r| r.active && r.destination == "0.0.0.0/0")
    {
        let t = default.target.as_str();
        if t.starts_with("nat-") || (t.starts_with("igw-") && vpc.assign_public_ip) {
            return Path::Internet;
        }
        if ["tgw-", "pcx-", "eni-", "i-"]
            .iter()
            .any(|p| t.starts_with(p))
        {
            return Path::Undetermined(format!(
                "default route of `{}` goes through `{t}`, which cannot be verified",
                rt.id
            ));
        }
    }
    let eps: Vec<_> = net
        .endpoints
        .iter()
        .filter(|e| e.usable && e.vpc_id == subnet.vpc_id)
        .collect();
    let mut missing = Vec::new();
    for suffix in ["ecr.api", "ecr.dkr"] {
        let name = format!("com.amazonaws.{region}.{suffix}");
        match eps
            .iter()
            .find(|e| e.service_name == name && e.kind.eq_ignore_ascii_case("Interface"))
        {
            None => missing.push(Missing::Interface(suffix)),
            Some(e) if suffix == "ecr.dkr" && !e.private_dns => {
                missing.push(Missing::PrivateDns(e.id.clone()))
            }
            Some(_) => {}
        }
    }
    let s3 = format!("com.amazonaws.{region}.s3");
    let gateways: Vec<_> = eps
        .iter()
        .filter(|e| e.service_name == s3 && e.kind.eq_ignore_ascii_case("Gateway"))
        .collect();
    if gateways.is_empty() {
        missing.push(Missing::Gateway);
    } else if !gateways.iter().any(|g| g.route_table_ids.contains(&rt.id)) {
        missing.push(Missing::GatewayRoute {
            endpoint: gateways[0].id.clone(),
            route_table: rt.id.clone(),
        });
    }
    if missing.is_empty() {
        Path::Internet
    } else {
        Path::Missing(missing)
    }
}

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
    let region = &ctx.inventory.region;
    let mut missing: BTreeMap<String, Vec<Missing>> = BTreeMap::new();
    let mut blocked_subnets = Vec::new();
    let mut route_tables = Vec::new();
    let mut subnets_by_az: BTreeMap<String, String> = BTreeMap::new();
    let mut vpc_id = String::new();
    for id in &vpc.subnets {
        let Some(subnet) = net.subnets.iter().find(|s| &s.id == id) else {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject.clone(),
                format!("subnet `{id}` was not found"),
            ));
            continue;
        };
        let Some(rt) = route_table(net, subnet) else {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject.clone(),
                format!("no route table found for subnet `{id}`"),
            ));
            continue;
        };
        match path(net, region, vpc, subnet, rt) {
            Path::Internet => {}
            Path::Undetermined(why) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject.clone(), why))
            }
            Path::Missing(m) => {
                blocked_subnets.push(format!("`{id}`"));
                vpc_id = subnet.vpc_id.clone();
                subnets_by_az
                    .entry(subnet.availability_zone.clone())
                    .or_insert_with(|| id.clone());
                if !route_tables.contains(&rt.id) {
                    route_tables.push(rt.id.clone());
                }
                missing.entry(subnet.vpc_id.clone()).or_default().extend(m);
            }
        }
    }
    let Some(mut needs) = missing.remove(&vpc_id) else {
        return;
    };
    needs.sort();
    needs.dedup();
    // The endpoint security group admits the VPC's CIDRs: without them, no fix to plan.
    let Some(cidrs) = net.vpcs.iter().find(|v| v.id == vpc_id).map(|v| v.cidrs()) else {
        out.not_checked.push(not_checked(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "VPC `{vpc_id}` was not found (its CIDRs decide the endpoints' security group)"
            ),
        ));
        return;
    };
    let interface_subnets: Vec<String> = subnets_by_az.into_values().collect();
    let (ops, manual) = endpoints::create(
        region,
        &vpc_id,
        &cidrs,
        &needs,
        &interface_subnets,
        &route_tables,
    );
    let what: Vec<String> = needs.iter().map(endpoints::describe).collect();
    let public_hint = if vpc.assign_public_ip {
        ""
    } else {
        "; `assignPublicIp` is disabled"
    };
    let fix = if manual.is_empty() {
        Fix {
            title: format!("create {} in `{vpc_id}`", what.join(", ")),
            applicability: Applicability::Unsafe,
            reason: Some("interface endpoints are billed per hour and per GB".into()),
            operations: ops,
            ..Default::default()
        }
    } else {
        Fix::manual(manual.join("; "))
    };
    out.findings.push(finding(
        &INFO,
        &svc.arn,
        subject,
        format!(
            "subnets {} have no NAT or internet route{public_hint}, and the VPC lacks {}",
            blocked_subnets.join(", "),
            what.join(", ")
        ),
        fix,
    ));
}
