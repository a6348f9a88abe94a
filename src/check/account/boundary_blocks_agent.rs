//! `boundary-blocks-agent` (live): a permissions boundary on the execution role must allow the
//! ECR pulls and `guardduty:SendSecurityTelemetry`.

use super::{AccountContext, agent_asks, finding, not_checked};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::inventory::RoleView;
use crate::model::{CheckInfo, Fix, Severity};
use crate::policy::Decision;

pub static INFO: CheckInfo = CheckInfo {
    slug: "boundary-blocks-agent",
    severity: Severity::Error,
    summary: "the execution role's permissions boundary does not allow the agent (live)",
    explain: "\
The execution role has a permissions boundary that does not allow one of the four ECR actions on
the agent repository, or `guardduty:SendSecurityTelemetry`.

Why: a boundary is an allow-list: an action is permitted only if the identity policies *and* the
boundary allow it. AWS asks to \"validate that the permissions boundaries associated with the role
and its policy doesn't restrict `guardduty:SendSecurityTelemetry` action\"; the agent uses the
task execution role to send runtime events. A `Condition` that decides the answer is reported as
not checked.

Fix: manual. Add the actions to the boundary policy or remove the boundary; fargate-rtm never
edits boundaries.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    for (name, view) in &ctx.inventory.roles {
        let RoleView::Found {
            role,
            boundary: Some(boundary),
            ..
        } = view
        else {
            continue;
        };
        let subject = format!("role `{name}`");
        let boundary = match boundary {
            Ok(b) => std::slice::from_ref(b),
            Err(e) => {
                out.not_checked.push(not_checked(
                    &INFO,
                    &role.arn,
                    subject,
                    format!("the permissions boundary cannot be read: {e}"),
                ));
                continue;
            }
        };
        if ctx.repository.is_none() {
            out.not_checked.push(not_checked(
                &INFO,
                &role.arn,
                subject.clone(),
                format!(
                    "ECR actions: no known GuardDuty agent repository for region `{}`",
                    ctx.inventory.region
                ),
            ));
        }
        let mut blocked = Vec::new();
        for ask in agent_asks(ctx.inventory, ctx.repository.as_ref(), true) {
            let action = ask.action;
            match ask.evaluate(boundary) {
                Decision::Allowed { .. } => {}
                Decision::Denied { by } => blocked.push(format!("`{action}` (denied by {by})")),
                Decision::NotAllowed => blocked.push(format!("`{action}`")),
                Decision::Undecided { by } => out.not_checked.push(not_checked(
                    &INFO,
                    &role.arn,
                    subject.clone(),
                    format!("`{action}` depends on {by}"),
                )),
            }
        }
        if !blocked.is_empty() {
            let arn = role.boundary_arn.clone().unwrap_or_default();
            out.findings.push(finding(
                &INFO,
                &role.arn,
                subject,
                format!("permissions boundary `{arn}` does not allow {}", blocked.join(", ")),
                Fix::manual(format!("allow these actions in boundary `{arn}` or remove the boundary from role `{name}`")),
            ));
        }
    }
    out
}
