//! `size-outside-agent-table` (warning): a valid Fargate size with no published agent limit.

use crate::check::{Check, Context, Runner};
use crate::model::TaskDef;
use crate::model::{CheckInfo, Finding, Fix, Severity};
use crate::sizing;

pub static INFO: CheckInfo = CheckInfo {
    slug: "size-outside-agent-table",
    severity: Severity::Warning,
    summary: "a valid Fargate size for which GuardDuty publishes no agent limit",
    explain: "\
The task size is valid for ECS but GuardDuty's table has no agent memory limit for it.

Why: the ECS table allows 4096 CPU with 21-30 GB and 32768 CPU (60, 120, 244 GB); GuardDuty's
prerequisites table stops at 20 GB for 4096 CPU and at 16384 CPU. The agent still runs, but how
much memory it may use is not documented. `fargate-rtm` assumes the nearest row's limit (128 MiB
for 4096 CPU, 1 GiB for 32768 CPU) for `agent-memory-headroom`.

Fix: none needed. Leave extra headroom, or pick a size from GuardDuty's table if you want a
documented limit.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinition(check),
};

pub fn check(td: &TaskDef<'_>, _: &Context<'_>) -> Option<Finding> {
    let (cpu, mem) = td.valid_size()?;
    let limit = sizing::table().agent_limit(cpu, mem);
    if limit.published {
        return None;
    }
    Some(Finding::new(
        &INFO,
        td.label(),
        td.field_pointer("memory"),
        format!(
            "GuardDuty publishes no agent limit for `cpu` {} with `memory` {} MiB; {} MiB (nearest row) is assumed",
            cpu, mem, limit.mib
        ),
        Fix::manual("none needed; keep extra memory headroom for the agent"),
    ))
}
