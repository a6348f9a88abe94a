//! `scp-blocks-agent` (live; was `scp-denies-telemetry`): every SCP level on the account's path
//! must allow the agent's ECR pull and `guardduty:SendSecurityTelemetry`, and none may deny them.

use super::{AccountContext, TELEMETRY_ACTION, agent_asks, finding, not_checked};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::inventory::ScpView;
use crate::model::{CheckInfo, Fix, Severity};
use crate::policy::Decision;

pub static INFO: CheckInfo = CheckInfo {
    slug: "scp-blocks-agent",
    severity: Severity::Error,
    summary: "an SCP on the account's path blocks the agent's image pull or telemetry (live)",
    explain: "\
A service control policy on the account's path to the organization root denies one of the
agent's requests, or a level of that path (the account, each parent OU, the root) has no SCP that
allows it. The requests: `ecr:GetAuthorizationToken`, `ecr:BatchCheckLayerAvailability`,
`ecr:GetDownloadUrlForLayer` and `ecr:BatchGetImage` on the region's agent repository (owned by
an AWS account, in no customer organization), and `guardduty:SendSecurityTelemetry`.

Why: an action is allowed only if every SCP level allows it and none denies it. AWS: \"you must
validate that it doesn't deny the guardduty:SendSecurityTelemetry action\"; the agent calls it to
deliver runtime events, and the ECR actions to pull its image with the task execution role.
SCPs never apply to the management account, nor when the organization has SCPs disabled: then
there is no SCP layer. For a member account the SCPs are read with the scan's credentials (a
delegated administrator can) or with `--org-profile PROFILE`; otherwise the check is not checked.
A `Condition` or policy variable that decides the answer, and an SCP that does not parse, are
reported as not checked.

Fix: manual. fargate-rtm never edits SCPs; it names the statement. AWS's example of a policy that
allows telemetry: {\"Effect\": \"Allow\", \"Action\": [\"guardduty:SendSecurityTelemetry\"], \"Resource\": \"*\"}.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html",
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
    let id = &inv.identity;
    let resource = format!("arn:{}:iam::{}:root", id.partition, id.account);
    let subject = format!("account {}", id.account);
    let levels = match &inv.scps {
        ScpView::Management | ScpView::NoOrganization => return out,
        ScpView::NotChecked(reason) => {
            out.not_checked
                .push(not_checked(&INFO, &resource, subject, reason.clone()));
            return out;
        }
        ScpView::Levels(levels) => levels,
    };
    if ctx.repository.is_none() {
        out.not_checked.push(not_checked(
            &INFO,
            &resource,
            subject.clone(),
            format!(
                "ECR actions: no known GuardDuty agent repository for region `{}`",
                inv.region
            ),
        ));
    }
    let asks = agent_asks(inv, ctx.repository.as_ref(), true);
    for level in levels {
        let target = &level.target;
        if let Some(bad) = level.policies.iter().find(|p| p.document.is_null()) {
            out.not_checked.push(not_checked(
                &INFO,
                &resource,
                subject.clone(),
                format!("{}, attached to `{target}`, does not parse", bad.name),
            ));
            continue;
        }
        let mut denied = Vec::new();
        let mut missing = Vec::new();
        for ask in &asks {
            match ask.evaluate(&level.policies) {
                Decision::Allowed { .. } => {}
                Decision::Denied { by } => denied.push((ask.action, by)),
                Decision::NotAllowed => missing.push(format!("`{}`", ask.action)),
                Decision::Undecided { by } => out.not_checked.push(not_checked(
                    &INFO,
                    &resource,
                    subject.clone(),
                    format!("`{}` depends on {by}, attached to `{target}`", ask.action),
                )),
            }
        }
        for (action, by) in denied {
            out.findings.push(finding(
                &INFO,
                &resource,
                subject.clone(),
                format!("{by}, attached to `{target}`, denies `{action}`"),
                Fix::manual(format!("remove `{action}` from the `Deny` in {by}")),
            ));
        }
        if !missing.is_empty() {
            let example = if missing.len() == 1 && missing[0].contains(TELEMETRY_ACTION) {
                String::new()
            } else {
                " (on the agent repository for the ECR actions)".into()
            };
            out.findings.push(finding(
                &INFO,
                &resource,
                subject.clone(),
                format!(
                    "no SCP attached to `{target}` allows {}",
                    missing.join(", ")
                ),
                Fix::manual(format!(
                    "attach an SCP to `{target}` that allows {}{example}",
                    missing.join(", ")
                )),
            ));
        }
    }
    out
}
