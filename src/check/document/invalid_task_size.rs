//! `invalid-task-size`: task `cpu`/`memory` must be a valid Fargate combination and readable.

use crate::check::fix::resize;
use crate::check::{Check, Context, Runner};
use crate::model::{CheckInfo, Finding, Severity};
use crate::model::{SizeField, TaskDef};
use crate::sizing::{self, Quantity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "invalid-task-size",
    severity: Severity::Error,
    summary: "`cpu`/`memory` not a valid Fargate combination, or unreadable",
    explain: "\
The task-level `cpu` and `memory` are not one of the Fargate sizes, or a value cannot be read.

Why: ECS rejects other combinations (\"No Fargate configuration exists for given values\"), and
GuardDuty publishes its agent limits per valid size. Values are read in every documented form:
`1024`, `\"1024\"`, `\"1 vCPU\"`, `\"1vcpu\"`, `\".25 vCPU\"`, `\"2 GB\"`, `\"2GB\"`, `\"0.5 GB\"`.
Container `cpu`, `memory` and `memoryReservation` must be whole numbers.

Fix (unsafe: raises the billed task size): round up to the first valid size, in order of CPU
then memory, that keeps at least the current CPU and memory and holds the containers plus the
agent. Memory is never lowered; CPU is raised only when no memory of the current CPU fits. The
value keeps its form: `\"2 GB\"` becomes `\"3 GB\"`, `\"2048\"` becomes `\"3072\"`. A value that
cannot be read has a manual fix, and `fargate-rtm` exits 1 for it.

Valid sizes (Linux): 256 CPU with 512, 1024, 2048 MiB; 512 with 1-4 GB; 1024 with 2-8 GB;
2048 with 4-16 GB; 4096 with 8-30 GB (1 GB steps); 8192 with 16-60 GB (4 GB steps); 16384 with
32-120 GB (8 GB steps); 32768 with 60, 120 or 244 GB.",
    sources: &[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinitionFindings(check),
};

pub fn check(td: &TaskDef<'_>, _: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (q, field) in [(Quantity::Cpu, &td.cpu), (Quantity::Memory, &td.memory)] {
        if let SizeField::Unreadable { raw, error } = field {
            let message = match error {
                sizing::SizeError::WrongType(_) => format!("task `{}` `{raw}` {error}", q.field()),
                sizing::SizeError::Unreadable(why) => {
                    format!("task `{}` cannot be read: {why}", q.field())
                }
            };
            let mut f = Finding::new(
                &INFO,
                td.label(),
                td.field_pointer(q.field()),
                message,
                resize::fix(td),
            );
            f.unreadable = true;
            out.push(f);
        }
    }
    for e in &td.container_errors {
        let mut f = Finding::new(
            &INFO,
            td.label(),
            e.pointer.clone(),
            e.message.clone(),
            resize::fix(td),
        );
        f.unreadable = true;
        out.push(f);
    }
    if let (SizeField::Ok(cpu), SizeField::Ok(mem)) = (&td.cpu, &td.memory)
        && !sizing::table().is_valid(cpu.value, mem.value)
    {
        let valid: Vec<String> = sizing::table()
            .memories_for(cpu.value)
            .map(|m| m.to_string())
            .collect();
        let hint = if valid.is_empty() {
            format!("{} is not a Fargate CPU value", cpu.value)
        } else {
            format!(
                "valid memory for {} CPU: {} MiB",
                cpu.value,
                valid.join(", ")
            )
        };
        out.push(Finding::new(
            &INFO,
            td.label(),
            td.field_pointer("memory"),
            format!(
                "`cpu` {} with `memory` {} is not a Fargate size ({hint})",
                cpu.value,
                sizing::human(Quantity::Memory, mem.value)
            ),
            resize::fix(td),
        ));
    }
    out
}
