//! `guardduty-endpoint-unhealthy` (warning, live): where GuardDuty manages the agent, the task
//! VPC's `guardduty-data` endpoint must admit HTTPS from the VPC; a missing one is a warning (the
//! agent may use link-local connectivity instead).

use super::{AccountContext, finding, not_checked, runtime_monitoring_disabled};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::cidr;
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;

pub static INFO: CheckInfo = CheckInfo {
    slug: "guardduty-endpoint-unhealthy",
    severity: Severity::Warning,
    summary: "GuardDuty's `guardduty-data` endpoint is missing or does not admit 443 from the VPC (live)",
    explain: "\
In a VPC whose Fargate tasks GuardDuty monitors, the `com.amazonaws.REGION.guardduty-data`
interface endpoint the agent sends runtime events to is missing, or none of its security groups
admits TCP 443 from every IPv4 CIDR of the VPC.

Why: GuardDuty creates that endpoint and a security group \"that match[es] the VPC CIDR range for
your resource\"; AWS's validation steps ask for \"an ingress policy with Port range as 443 and
Source as the value copied from the IPv4 CIDR\". Newer documentation adds link-local
connectivity (`guardduty-data-v2`), which needs no endpoint, so a missing endpoint is a warning,
not an error. Only judged where GuardDuty manages the agent for the cluster.

Fix: for the security group (safe), allow TCP 443 in from the VPC's CIDRs on the endpoint's
first group; a missing endpoint is GuardDuty's to create (check Runtime Monitoring's automated
agent configuration).",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/validate-vpc-endpoint-config-runtime-monitoring.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-connectivity.html",
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
    let Ok(net) = &inv.network else {
        return out;
    };
    let region = &inv.region;
    let names = [
        format!("com.amazonaws.{region}.guardduty-data"),
        format!("com.amazonaws.{region}.guardduty-data-fips"),
    ];
    let mut seen: Vec<String> = Vec::new();
    for svc in inv.fargate_services() {
        let Some(vpc_cfg) = &svc.network else {
            continue;
        };
        if runtime_monitoring_disabled::managed(ctx, &svc.cluster_arn) != Some(true) {
            continue;
        }
        let Some(vpc_id) = vpc_cfg
            .subnets
            .iter()
            .find_map(|id| net.subnets.iter().find(|s| &s.id == id))
            .map(|s| s.vpc_id.clone())
        else {
            continue; // The network check reports the subnet it could not read.
        };
        if seen.contains(&vpc_id) {
            continue;
        }
        seen.push(vpc_id.clone());
        let resource = format!(
            "arn:{}:ec2:{region}:{}:vpc/{vpc_id}",
            inv.identity.partition, inv.identity.account
        );
        let subject = format!("VPC `{vpc_id}`");
        let Some(endpoint) = net
            .endpoints
            .iter()
            .find(|e| e.usable && e.vpc_id == vpc_id && names.contains(&e.service_name))
        else {
            out.findings.push(finding(
                &INFO,
                &resource,
                subject,
                format!(
                    "no `guardduty-data` endpoint (used by service `{}`): the agent needs it or link-local connectivity",
                    svc.name
                ),
                Fix::manual("let GuardDuty create it: check that automated agent configuration is on for the account"),
            ));
            continue;
        };
        let Some(cidrs) = net.vpcs.iter().find(|v| v.id == vpc_id).map(|v| v.cidrs()) else {
            out.not_checked.push(not_checked(
                &INFO,
                &resource,
                subject,
                format!("VPC `{vpc_id}` was not found"),
            ));
            continue;
        };
        let groups: Vec<_> = net
            .security_groups
            .iter()
            .filter(|g| endpoint.security_group_ids.contains(&g.id))
            .collect();
        if groups.is_empty() || groups.len() < endpoint.security_group_ids.len() {
            out.not_checked.push(not_checked(
                &INFO,
                &resource,
                subject,
                format!("a security group of `{}` was not found", endpoint.id),
            ));
            continue;
        }
        let missing: Vec<String> = cidrs
            .iter()
            .filter(|c| {
                !groups
                    .iter()
                    .flat_map(|g| g.ingress.iter())
                    .any(|r| r.allows_https() && r.cidrs.iter().any(|rc| cidr::contains(rc, c)))
            })
            .cloned()
            .collect();
        if missing.is_empty() {
            continue;
        }
        let group = &endpoint.security_group_ids[0];
        let list: Vec<String> = missing.iter().map(|c| format!("`{c}`")).collect();
        out.findings.push(finding(
            &INFO,
            &resource,
            subject,
            format!(
                "the security groups of `{}` (`guardduty-data`) admit no TCP 443 from {}",
                endpoint.id,
                list.join(", ")
            ),
            Fix {
                title: format!("allow TCP 443 in from {} on `{group}`", list.join(", ")),
                applicability: Applicability::Safe,
                operations: vec![Operation::AuthorizeSecurityGroupIngress {
                    vpc_id: vpc_id.clone(),
                    group_id: group.clone(),
                    cidrs: missing,
                }],
                ..Default::default()
            },
        ));
    }
    out
}
