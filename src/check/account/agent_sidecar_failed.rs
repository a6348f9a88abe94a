//! `agent-sidecar-failed` (live): in running tasks of a service, the GuardDuty agent container
//! must be running, not stopped or unable to pull its image.

use super::{AccountContext, finding, not_checked};
use crate::agent;
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{CheckInfo, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "agent-sidecar-failed",
    severity: Severity::Error,
    summary: "the agent sidecar of running tasks stopped or failed to pull (live)",
    explain: "\
A running task of the service has the GuardDuty agent container (recognised by its image from
the agent repository) in state `STOPPED`, or stopped with a reason such as
`CannotPullContainerError` or `ResourceInitializationError`; the reason is shown.

Why: \"should the GuardDuty container (sidecar) be unable to launch in a healthy state, Runtime
Monitoring is designed to not prevent the tasks from running\": the task runs unmonitored, and
only the sidecar's state says so.

Fix: per reason, manual here. A pull error points at the execution role's ECR access, the network
path to ECR and S3, an endpoint or SCP policy (the matching checks name the cause); an
out-of-memory stop at the task size (`agent-memory-headroom`). Then replace the tasks (a new
deployment).",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-ecs-fargate.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

/// What to look at for a stop reason.
fn hint(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.contains("cannotpullcontainer") || r.contains("resourceinitialization") {
        "check the execution role's ECR access and the network path to ECR and S3 (`execution-role-lacks-ecr-access`, `no-ecr-network-path`, `endpoint-policy-blocks-agent`, `scp-blocks-agent`), then replace the tasks"
    } else if r.contains("outofmemory") || r.contains("oom") {
        "give the task memory for the agent (`agent-memory-headroom`), then replace the tasks"
    } else {
        "read the stop reason, fix its cause, then replace the tasks"
    }
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    for svc in inv.fargate_services() {
        let Some(tasks) = inv.tasks.get(&svc.arn) else {
            continue;
        };
        let subject = format!("service `{}`", svc.name);
        let tasks = match tasks {
            Ok(t) => t,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject, e.to_string()));
                continue;
            }
        };
        let mut failed: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for task in tasks {
            for (name, _) in task
                .containers
                .iter()
                .filter(|(_, i)| agent::is_agent_image(i))
            {
                let Some(state) = task.states.iter().find(|s| &s.name == name) else {
                    continue;
                };
                let stopped = state.last_status.eq_ignore_ascii_case("STOPPED");
                let reason = state.reason.as_deref().filter(|r| !r.is_empty());
                if !stopped && reason.is_none() {
                    continue;
                }
                let id = task.arn.rsplit('/').next().unwrap_or(&task.arn);
                let why = match (reason, state.exit_code) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(code)) => format!("exit code {code}"),
                    (None, None) => "no reason given".into(),
                };
                failed.push(format!("`{id}` ({why})"));
                if !reasons.contains(&why) {
                    reasons.push(why);
                }
            }
        }
        if failed.is_empty() {
            continue;
        }
        let hints: Vec<&str> = reasons
            .iter()
            .map(|r| hint(r))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "the GuardDuty agent container stopped in {} of {} running tasks: {}",
                failed.len(),
                tasks.len(),
                failed.join(", ")
            ),
            Fix::manual(hints.join("; ")),
        ));
    }
    out
}
