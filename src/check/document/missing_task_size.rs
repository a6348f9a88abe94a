//! `missing-task-size`: a Fargate task definition needs task-level `cpu` and `memory`.

use crate::check::fix::resize;
use crate::check::{Check, Context, Runner};
use crate::model::{CheckInfo, Finding, Severity};
use crate::model::{SizeField, TaskDef};

pub static INFO: CheckInfo = CheckInfo {
    slug: "missing-task-size",
    severity: Severity::Error,
    summary: "Fargate task definition without task-level `cpu` or `memory`",
    explain: "\
The Fargate task definition has no task-level `cpu` or `memory` (absent or null).

Why: \"In the Fargate task definition, you must specify the CPU and memory value at the task
level\". GuardDuty sizes its agent sidecar from the task size, and ECS refuses to register a
Fargate task definition without one.

Fix (unsafe: sets the billed task size): the smallest valid Fargate size, in order of CPU then
memory, that is at least the value already present, at least the containers' summed `cpu`, and
holds the containers' summed `memory` (else `memoryReservation`) plus the GuardDuty agent's
memory limit for that size. The new value is written in the form of the other field (`\"1024\"`,
`1024` or `\"1 vCPU\"`).",
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
    let missing: Vec<&str> = [("cpu", &td.cpu), ("memory", &td.memory)]
        .into_iter()
        .filter(|(_, f)| matches!(f, SizeField::Missing))
        .map(|(name, _)| name)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let what = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let verb = if missing.len() == 1 { "is" } else { "are" };
    Some(Finding::new(
        &INFO,
        td.label(),
        td.field_pointer(missing[0]),
        format!(
            "task-level {what} {verb} missing: Fargate and the GuardDuty agent need a task size"
        ),
        resize::fix(td),
    ))
}
