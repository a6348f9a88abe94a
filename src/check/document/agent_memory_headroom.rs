//! `agent-memory-headroom`: the task must have room for the GuardDuty agent sidecar.

use crate::check::fix::resize;
use crate::check::{Check, Context, Runner};
use crate::model::TaskDef;
use crate::model::{CheckInfo, Finding, Severity};
use crate::sizing::{self, Quantity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "agent-memory-headroom",
    severity: Severity::Error,
    summary: "container memory + agent limit > task memory",
    explain: "\
The containers' memory plus the GuardDuty agent's memory limit is more than the task memory.

How it is computed: the sum over containers of `memory` (the hard limit), else
`memoryReservation`, else 0; plus the GuardDuty agent's maximum memory for the task size
(128 MiB up to 4096 CPU, 256 MiB for 8192 CPU with 16-28 GB, 512 MiB for 8192 CPU with 32-60 GB,
1 GiB for 16384 CPU); compared with the task-level `memory`.

Why: the agent runs as a sidecar inside the task's memory. AWS lists the agent's \"maximum memory
limit\" for each task size and warns that the agent \"consumes resources according to the size of
the workload\"; AWS Batch says \"the memory limit must include the size of the GuardDuty security
agent\". A task whose containers already use all of its memory risks out-of-memory kills once
the agent is attached. (The exact accounting is not documented; this check is the conservative
reading.)

Fix (unsafe: raises the billed task size): round the task size up as `invalid-task-size` does,
taking the agent limit at the new size. Alternatively lower the containers' memory.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-guard-duty-troubleshooting.html",
        "https://docs.aws.amazon.com/batch/latest/userguide/fargate-job-definitions.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinition(check),
};

pub fn check(td: &TaskDef<'_>, _: &Context<'_>) -> Option<Finding> {
    let (cpu, mem) = td.valid_size()?;
    if !td.container_errors.is_empty() {
        return None;
    }
    let agent = sizing::table().agent_limit(cpu, mem).mib;
    let used = td.container_memory();
    if used + agent <= mem {
        return None;
    }
    Some(Finding::new(
        &INFO,
        td.label(),
        td.field_pointer("memory"),
        format!(
            "containers use {} and the GuardDuty agent up to {agent} MiB: more than the task's {}",
            sizing::human(Quantity::Memory, used),
            sizing::human(Quantity::Memory, mem)
        ),
        resize::fix(td),
    ))
}
