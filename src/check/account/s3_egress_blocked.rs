//! `s3-egress-blocked` (live): the task's security groups must allow HTTPS egress to S3.

use super::{AccountContext, finding, not_checked};
use crate::aws::SgRule;
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;

pub static INFO: CheckInfo = CheckInfo {
    slug: "s3-egress-blocked",
    severity: Severity::Error,
    summary: "task security groups do not allow egress 443 to S3 (live)",
    explain: "\
None of the service's security groups allows outbound TCP 443 to `0.0.0.0/0` or to the region's
S3 managed prefix list (`com.amazonaws.REGION.s3`).

Why: \"The GuardDuty container images are in Amazon ECR and require Amazon S3 access … Add an
outbound rule in your security group that allows traffic to the S3 managed prefix list
(pl-xxxxxxxx) on port 443.\" Image layers come from S3 whether the path is a NAT gateway or the
S3 gateway endpoint.

Fix (safe): add an egress rule for TCP 443 to the S3 prefix list on the service's first security
group.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

fn allows_https(rule: &SgRule, prefix_list: Option<&str>) -> bool {
    let port_ok = rule.protocol == "-1"
        || (rule.protocol == "tcp" && rule.from_port <= 443 && rule.to_port >= 443);
    port_ok
        && (rule.cidrs.iter().any(|c| c == "0.0.0.0/0")
            || prefix_list.is_some_and(|pl| rule.prefix_lists.iter().any(|p| p == pl)))
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        if vpc.security_groups.is_empty() {
            continue;
        }
        let subject = format!("service `{}`", svc.name);
        let net = match &inv.network {
            Ok(n) => n,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject, e.to_string()));
                continue;
            }
        };
        let groups: Vec<_> = net
            .security_groups
            .iter()
            .filter(|g| vpc.security_groups.contains(&g.id))
            .collect();
        if groups.len() < vpc.security_groups.len() {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject,
                "a security group of the service was not found",
            ));
            continue;
        }
        let pl = net.s3_prefix_list.as_deref();
        if groups
            .iter()
            .any(|g| g.egress.iter().any(|r| allows_https(r, pl)))
        {
            continue;
        }
        let first = &vpc.security_groups[0];
        let fix = match pl {
            Some(pl) => Fix {
                title: format!("allow TCP 443 egress from `{first}` to S3 prefix list `{pl}`"),
                applicability: Applicability::Safe,
                operations: vec![Operation::AuthorizeSecurityGroupEgress {
                    group_id: first.clone(),
                    protocol: "tcp".into(),
                    port: 443,
                    prefix_list_id: pl.to_string(),
                }],
                ..Default::default()
            },
            None => Fix::manual(format!(
                "allow TCP 443 egress from `{first}` to the S3 prefix list (not found in this region)"
            )),
        };
        let ids: Vec<String> = vpc
            .security_groups
            .iter()
            .map(|g| format!("`{g}`"))
            .collect();
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "security groups {} allow no HTTPS egress to S3",
                ids.join(", ")
            ),
            fix,
        ));
    }
    out
}
