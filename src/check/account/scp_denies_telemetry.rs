//! `scp-denies-telemetry` (live): no SCP on the account's path may deny
//! `guardduty:SendSecurityTelemetry`, and each level must allow it.

use super::{AccountContext, TELEMETRY_ACTION, finding, not_checked};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::inventory::ScpView;
use crate::model::{CheckInfo, Fix, Severity};
use crate::policy::{self, Decision};

pub static INFO: CheckInfo = CheckInfo {
    slug: "scp-denies-telemetry",
    severity: Severity::Error,
    summary: "an SCP on the account's path denies `guardduty:SendSecurityTelemetry` (live)",
    explain: "\
A service control policy on the account's path to the organization root denies
`guardduty:SendSecurityTelemetry`, or a level of that path (the account, each parent OU, the
root) has no SCP that allows it.

Why: \"you must validate that it doesn't deny the guardduty:SendSecurityTelemetry action\"; the
agent calls it to deliver runtime events, and an SCP denial silences the agent (coverage issue
\"Agent not reporting\"). SCPs never apply to the management account: scanning it, this check
passes. For a member account the SCPs are read with the scan's credentials (a delegated
administrator can) or with `--org-profile PROFILE`; otherwise the check is not checked. A
`Condition` that decides the answer is reported as such.

Fix: manual. fargate-rtm never edits SCPs; it names the statement. AWS's example of a policy that
allows it: {\"Effect\": \"Allow\", \"Action\": [\"guardduty:SendSecurityTelemetry\"], \"Resource\": \"*\"}.",
    sources: &["https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html"],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let id = &ctx.inventory.identity;
    let resource = format!("arn:{}:iam::{}:root", id.partition, id.account);
    let subject = format!("account {}", id.account);
    match &ctx.inventory.scps {
        ScpView::Management | ScpView::NoOrganization => {}
        ScpView::NotChecked(reason) => {
            out.not_checked
                .push(not_checked(&INFO, &resource, subject, reason.clone()))
        }
        ScpView::Levels(levels) => {
            for level in levels {
                match policy::evaluate(&level.policies, TELEMETRY_ACTION, "*") {
                    Decision::Allowed { .. } => {}
                    Decision::Denied { by } => out.findings.push(finding(
                        &INFO,
                        &resource,
                        subject.clone(),
                        format!("{by}, attached to `{}`, denies `{TELEMETRY_ACTION}`", level.target),
                        Fix::manual(format!("remove `{TELEMETRY_ACTION}` from the `Deny` in {by}")),
                    )),
                    Decision::NotAllowed => out.findings.push(finding(
                        &INFO,
                        &resource,
                        subject.clone(),
                        format!("no SCP attached to `{}` allows `{TELEMETRY_ACTION}`", level.target),
                        Fix::manual(format!("attach an SCP to `{}` that allows `{TELEMETRY_ACTION}`", level.target)),
                    )),
                    Decision::Undecided { by } => out.not_checked.push(not_checked(
                        &INFO,
                        &resource,
                        subject.clone(),
                        format!("`{TELEMETRY_ACTION}` depends on the `Condition` of {by}, attached to `{}`", level.target),
                    )),
                }
            }
        }
    }
    out
}
