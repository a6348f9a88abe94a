//! `runtime-monitoring-disabled` (live): GuardDuty must manage the agent for the cluster.

use super::{AccountContext, finding, not_checked};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{CheckInfo, Fix, Severity};
use std::collections::BTreeSet;

pub static INFO: CheckInfo = CheckInfo {
    slug: "runtime-monitoring-disabled",
    severity: Severity::Error,
    summary: "Runtime Monitoring or Fargate agent management is off for the cluster (live)",
    explain: "\
For a cluster that runs Fargate services: the region has no GuardDuty detector, or the
detector's `RUNTIME_MONITORING` feature is not enabled, or its `ECS_FARGATE_AGENT_MANAGEMENT`
configuration is not enabled while the cluster is not tagged `GuardDutyManaged=true`.

Why: \"Runtime Monitoring supports managing the security agent for your Amazon ECS clusters (AWS
Fargate) only through GuardDuty.\" With automated agent configuration off, GuardDuty manages the
agent \"only on the Amazon ECS clusters that you tag with GuardDutyManaged:true\". Clusters tagged
`GuardDutyManaged=false` are reported by `cluster-excluded` instead.

Fix: manual. Enable Runtime Monitoring and automated agent configuration for AWS Fargate (ECS
only) in GuardDuty (in an organization, from the delegated administrator), or tag the cluster
`GuardDutyManaged=true`; then redeploy services.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-ecs-automated.html",
        "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorAdditionalConfiguration.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

/// Whether GuardDuty manages the agent for a cluster (None when the detector is unreadable).
pub fn managed(ctx: &AccountContext<'_>, cluster_arn: &str) -> Option<bool> {
    let inv = ctx.inventory;
    let tag = inv
        .cluster(cluster_arn)
        .and_then(|c| c.tag("GuardDutyManaged"))
        .map(str::to_ascii_lowercase);
    if tag.as_deref() == Some("false") {
        return Some(false);
    }
    let detector = inv.detector.as_ref().ok()?;
    Some(detector.as_ref().is_some_and(|d| {
        d.runtime_monitoring && (d.ecs_fargate_agent_management || tag.as_deref() == Some("true"))
    }))
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    let clusters: BTreeSet<&str> = inv
        .fargate_services()
        .map(|s| s.cluster_arn.as_str())
        .collect();
    for arn in clusters {
        let cluster = inv.cluster(arn);
        let name = cluster.map_or(arn, |c| c.name.as_str());
        let subject = format!("cluster `{name}`");
        let tag = cluster
            .and_then(|c| c.tag("GuardDutyManaged"))
            .map(str::to_ascii_lowercase);
        if tag.as_deref() == Some("false") {
            continue;
        }
        let detector = match &inv.detector {
            Ok(d) => d,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, arn, subject, e.to_string()));
                continue;
            }
        };
        let message = match detector {
            None => format!("no GuardDuty detector in `{}`", inv.region),
            Some(d) if !d.runtime_monitoring => {
                format!("GuardDuty detector `{}` has Runtime Monitoring off", d.id)
            }
            Some(d) if !d.ecs_fargate_agent_management && tag.as_deref() != Some("true") => {
                format!(
                    "automated agent configuration for Fargate is off on detector `{}` and the cluster is not tagged `GuardDutyManaged=true`",
                    d.id
                )
            }
            Some(_) => continue,
        };
        out.findings.push(finding(
            &INFO,
            arn,
            subject,
            message,
            Fix::manual("enable Runtime Monitoring with automated agent configuration for AWS Fargate (ECS only), or tag the cluster `GuardDutyManaged=true`"),
        ));
    }
    out
}
