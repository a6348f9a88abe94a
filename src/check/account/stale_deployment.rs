//! `stale-deployment` (live): running tasks of a monitored service must carry the agent.

use super::{AccountContext, finding, not_checked, runtime_monitoring_disabled};
use crate::agent;
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;

pub static INFO: CheckInfo = CheckInfo {
    slug: "stale-deployment",
    severity: Severity::Error,
    summary: "running tasks of a service lack the agent sidecar (live)",
    explain: "\
A Fargate service in a cluster GuardDuty manages has running tasks without the GuardDuty agent
sidecar, recognised by its image from one of the agent repositories in AWS's table
(`ACCOUNT.dkr.ecr.REGION.amazonaws.com/aws-guardduty-agent-fargate`), never by a container name.

Why: \"GuardDuty will not deploy the sidecar when a task is already in a running state.\" Tasks of a
deployment that started before Runtime Monitoring (or the cluster tag) was turned on stay
unmonitored until replaced: \"it requires a new service deployment after you enable Runtime
Monitoring\".

Fix (unsafe: starts a new deployment and replaces the tasks): `ecs:UpdateService` with
`forceNewDeployment`. Only judged when GuardDuty manages the agent for the cluster; otherwise
`runtime-monitoring-disabled` or `cluster-excluded` reports the cause.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-ecs-automated.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html",
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
    for svc in inv.fargate_services() {
        let Some(tasks) = inv.tasks.get(&svc.arn) else {
            continue;
        };
        if runtime_monitoring_disabled::managed(ctx, &svc.cluster_arn) != Some(true) {
            continue;
        }
        let subject = format!("service `{}`", svc.name);
        let tasks = match tasks {
            Ok(t) => t,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject, e.to_string()));
                continue;
            }
        };
        let bare = tasks
            .iter()
            .filter(|t| {
                !t.containers
                    .iter()
                    .any(|(_, image)| agent::is_agent_image(image))
            })
            .count();
        if bare == 0 {
            continue;
        }
        let cluster = inv
            .cluster(&svc.cluster_arn)
            .map_or(svc.cluster_arn.clone(), |c| c.name.clone());
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "{bare} of {} running tasks have no GuardDuty agent sidecar",
                tasks.len()
            ),
            Fix {
                title: format!("force a new deployment of service `{}`", svc.name),
                applicability: Applicability::Unsafe,
                reason: Some("starts a new deployment that replaces the running tasks".into()),
                operations: vec![Operation::UpdateService {
                    cluster,
                    service: svc.name.clone(),
                    task_definition: None,
                    new_revision_of: None,
                    platform_version: None,
                    force_new_deployment: true,
                }],
                ..Default::default()
            },
        ));
    }
    out
}
