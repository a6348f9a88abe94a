//! `execution-role-lacks-ecr-access` (live): the execution role must be allowed the four ECR
//! actions on the region's agent repository.

use super::{AccountContext, TELEMETRY_ACTION, agent_asks, finding, not_checked};
use crate::check::Outcome;
use crate::check::fix::ecr_grant;
use crate::check::{Check, Runner};
use crate::model::inventory::RoleView;
use crate::model::{CheckInfo, Fix, Severity};
use crate::policy::{self, Decision};

pub static INFO: CheckInfo = CheckInfo {
    slug: "execution-role-lacks-ecr-access",
    severity: Severity::Error,
    summary: "the execution role cannot pull the agent image from ECR (live)",
    explain: "\
The task execution role's effective identity policies (attached managed policies and inline
policies) do not allow all of `ecr:GetAuthorizationToken` (on `*`),
`ecr:BatchCheckLayerAvailability`, `ecr:GetDownloadUrlForLayer` and `ecr:BatchGetImage` on the
region's GuardDuty agent repository (`arn:aws:ecr:REGION:ACCOUNT:repository/aws-guardduty-agent-fargate`,
account per region from AWS's table), or deny `guardduty:SendSecurityTelemetry`. Explicit `Deny`
statements win; a statement whose `Condition` or policy variable (`${...}`) decides the answer
is reported as not checked, never assumed, and each action is reported on its own. Conditions
on what is known of the request are decided: the repository's account
(`aws:ResourceAccount`) is AWS's, in no customer organization (`aws:ResourceOrgID`).

Why: \"The task execution role requires certain Amazon ECR permissions to download the GuardDuty
security agent container image.\" Without them the sidecar fails with `CannotPullContainerError`
and the task runs unmonitored.

Fix (safe): by default an inline policy `fargate-rtm-guardduty-agent-ecr-REGION` (one per region,
since the repository differs) with
`ecr:GetAuthorizationToken` on `*` and the three pull actions on the agent repository only; with
`--ecr-policy managed`, attach `AmazonECSTaskExecutionRolePolicy`. A role that does not exist is
created (trusting `ecs-tasks.amazonaws.com`, with the managed policy). An explicit `Deny` needs
a person: fargate-rtm never edits or removes your statements.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
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
    let users = super::role_users(inv);
    let arn_of = |name: &str| {
        format!(
            "arn:{}:iam::{}:role/{name}",
            inv.identity.partition, inv.identity.account
        )
    };
    for (name, view) in &inv.roles {
        let used_by = users
            .get(name)
            .map(|u| format!(" (used by {})", u.join(", ")))
            .unwrap_or_default();
        let subject = format!("role `{name}`");
        match view {
            RoleView::Missing => out.findings.push(finding(
                &INFO,
                &arn_of(name),
                subject,
                format!("the execution role does not exist{used_by}"),
                ecr_grant::create_role(name, &inv.identity.account, &inv.identity.partition),
            )),
            RoleView::Unreadable(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &arn_of(name), subject, e.to_string()))
            }
            RoleView::Found { role, policies, .. } => {
                let Some(repo) = &ctx.repository else {
                    out.not_checked.push(not_checked(
                        &INFO,
                        &role.arn,
                        subject,
                        format!(
                            "no known GuardDuty agent repository for region `{}`",
                            inv.region
                        ),
                    ));
                    continue;
                };
                let policies = match policies {
                    Ok(p) => p,
                    Err(e) => {
                        out.not_checked
                            .push(not_checked(&INFO, &role.arn, subject, e.to_string()));
                        continue;
                    }
                };
                // Each action on its own: one undecided action never hides another that is
                // denied or not allowed.
                let mut denied = Vec::new();
                let mut missing = Vec::new();
                for ask in agent_asks(inv, Some(repo), true) {
                    let decision = if ask.action == TELEMETRY_ACTION {
                        // No allow is needed for telemetry, only no deny: a `Deny` that may
                        // apply is undecided, never passed.
                        policy::denial(policies, ask.action, &ask.resource, &ask.context)
                    } else {
                        ask.evaluate(policies)
                    };
                    match decision {
                        Decision::Allowed { .. } => {}
                        Decision::Denied { by } => {
                            denied.push(format!("{by} denies `{}`", ask.action))
                        }
                        // The role needs no allow for telemetry, only no deny (AWS: "doesn't
                        // deny the guardduty:SendSecurityTelemetry action").
                        Decision::NotAllowed if ask.action == TELEMETRY_ACTION => {}
                        Decision::NotAllowed => missing.push(format!("`{}`", ask.action)),
                        Decision::Undecided { by } => out.not_checked.push(not_checked(
                            &INFO,
                            &role.arn,
                            subject.clone(),
                            format!("`{}` depends on {by}", ask.action),
                        )),
                    }
                }
                if !denied.is_empty() {
                    out.findings.push(finding(
                        &INFO,
                        &role.arn,
                        subject.clone(),
                        format!("{}{used_by}", denied.join("; ")),
                        Fix::manual("remove or narrow the `Deny`; fargate-rtm does not edit your statements"),
                    ));
                }
                if !missing.is_empty() {
                    out.findings.push(finding(
                        &INFO,
                        &role.arn,
                        subject,
                        format!(
                            "not allowed {} on `{}`{used_by}",
                            missing.join(", "),
                            repo.uri
                        ),
                        ecr_grant::grant(name, &inv.region, ctx.ecr_policy, &repo.arn),
                    ));
                }
            }
        }
    }
    out
}
