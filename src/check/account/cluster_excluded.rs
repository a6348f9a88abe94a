//! `cluster-excluded` (info, live): a cluster tagged `GuardDutyManaged=false`.

use super::{AccountContext, finding};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{CheckInfo, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "cluster-excluded",
    severity: Severity::Info,
    summary: "cluster tagged `GuardDutyManaged=false` (live)",
    explain: "\
The cluster is tagged `GuardDutyManaged=false`, which excludes it from Runtime Monitoring.

Why it is only information: the exclusion tag is how AWS tells you to opt a cluster out on
purpose. \"Adding the GuardDutyManaged:false tag stops GuardDuty from managing the security
agent, but doesn't uninstall an agent that is already installed.\" Tasks started while the tag
was set are not covered.

Fix: none when intended. To include it: set the tag to `true` (or remove it with automated
agent configuration on), then relaunch tasks or redeploy services.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-ecs-automated.html",
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
    for c in &inv.clusters {
        if c.tag("GuardDutyManaged")
            .is_some_and(|v| v.eq_ignore_ascii_case("false"))
            && inv.fargate_services().any(|s| s.cluster_arn == c.arn)
        {
            out.findings.push(finding(
                &INFO,
                &c.arn,
                format!("cluster `{}`", c.name),
                "tagged `GuardDutyManaged=false`: its tasks are excluded from Runtime Monitoring"
                    .into(),
                Fix::manual("none if intended; otherwise set the tag to `true` and redeploy"),
            ));
        }
    }
    out
}
