//! `vpc-dns-disabled` (live): the task VPC needs DNS support and DNS hostnames.

use super::{AccountContext, finding, not_checked};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;
use std::collections::BTreeSet;

pub static INFO: CheckInfo = CheckInfo {
    slug: "vpc-dns-disabled",
    severity: Severity::Error,
    summary: "`enableDnsSupport` or `enableDnsHostnames` false on the task VPC (live)",
    explain: "\
The VPC of a Fargate service has `enableDnsSupport` or `enableDnsHostnames` turned off.

Why: GuardDuty creates its `guardduty-data` VPC endpoint with private DNS, which \"requires both
enableDnsSupport and enableDnsHostnames VPC attributes set to true\"; otherwise coverage shows
\"VPC Endpoint Creation Failed\" and the agent cannot report. ECR interface endpoints with private
DNS need them too.

Fix (safe): `ec2:ModifyVpcAttribute` to enable each attribute that is off.",
    sources: &["https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html"],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    let net = match &inv.network {
        Ok(n) => n,
        Err(e) => {
            if inv.fargate_services().any(|s| s.network.is_some()) {
                let id = &inv.identity;
                out.not_checked.push(not_checked(
                    &INFO,
                    &format!(
                        "arn:{}:ec2:{}:{}:vpc/*",
                        id.partition, inv.region, id.account
                    ),
                    "VPCs".into(),
                    e.to_string(),
                ));
            }
            return out;
        }
    };
    let used: BTreeSet<&str> = net.subnets.iter().map(|s| s.vpc_id.as_str()).collect();
    for vpc in net.vpcs.iter().filter(|v| used.contains(v.id.as_str())) {
        let mut off = Vec::new();
        if !vpc.dns_support {
            off.push("enableDnsSupport");
        }
        if !vpc.dns_hostnames {
            off.push("enableDnsHostnames");
        }
        if off.is_empty() {
            continue;
        }
        let id = &inv.identity;
        let arn = format!(
            "arn:{}:ec2:{}:{}:vpc/{}",
            id.partition, inv.region, id.account, vpc.id
        );
        let names: Vec<String> = off.iter().map(|a| format!("`{a}`")).collect();
        out.findings.push(finding(
            &INFO,
            &arn,
            format!("VPC `{}`", vpc.id),
            format!(
                "{} {} off: GuardDuty's private-DNS endpoint cannot be created",
                names.join(" and "),
                if off.len() == 1 { "is" } else { "are" }
            ),
            Fix {
                title: format!("enable {} on `{}`", names.join(" and "), vpc.id),
                applicability: Applicability::Safe,
                operations: off
                    .iter()
                    .map(|a| Operation::ModifyVpcAttribute {
                        vpc_id: vpc.id.clone(),
                        attribute: a.to_string(),
                        value: true,
                    })
                    .collect(),
                ..Default::default()
            },
        ));
    }
    out
}
