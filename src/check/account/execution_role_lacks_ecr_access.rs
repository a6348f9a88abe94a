//! `execution-role-lacks-ecr-access` (live): the execution role must be allowed the four ECR
//! actions on the region's agent repository.

use super::{AccountContext, ECR_ACTIONS, ecr_resource, finding, not_checked};
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
account per region from AWS's table). Explicit `Deny` statements win; a statement whose
`Condition` decides the answer is reported as not checked, never assumed.

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
                let decisions: Vec<(&str, Decision)> = ECR_ACTIONS
                    .iter()
                    .map(|a| {
                        (
                            *a,
                            policy::evaluate(policies, a, &ecr_resource(a, &repo.arn)),
                        )
                    })
                    .collect();
                if let Some((a, Decision::Denied { by })) = decisions
                    .iter()
                    .find(|(_, d)| matches!(d, Decision::Denied { .. }))
                {
                    out.findings.push(finding(
                        &INFO,
                        &role.arn,
                        subject,
                        format!("{by} denies `{a}` on the agent repository{used_by}"),
                        Fix::manual(format!("remove or narrow the `Deny` in {by}; fargate-rtm does not edit your statements")),
                    ));
                } else if let Some((a, Decision::Undecided { by })) = decisions
                    .iter()
                    .find(|(_, d)| matches!(d, Decision::Undecided { .. }))
                {
                    out.not_checked.push(not_checked(
                        &INFO,
                        &role.arn,
                        subject,
                        format!("`{a}` depends on the `Condition` of {by}"),
                    ));
                } else {
                    let missing: Vec<String> = decisions
                        .iter()
                        .filter(|(_, d)| *d == Decision::NotAllowed)
                        .map(|(a, _)| format!("`{a}`"))
                        .collect();
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
    }
    out
}
