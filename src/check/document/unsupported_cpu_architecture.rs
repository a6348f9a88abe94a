//! `unsupported-cpu-architecture`: the agent runs on `X86_64` and `ARM64` only.

use crate::check::{Check, Context, Runner};
use crate::model::TaskDef;
use crate::model::{CheckInfo, Finding, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "unsupported-cpu-architecture",
    severity: Severity::Error,
    summary: "`runtimePlatform.cpuArchitecture` is not `X86_64` or `ARM64`",
    explain: "\
The task definition asks for a CPU architecture other than `X86_64` or `ARM64`.

Why: GuardDuty verifies its Fargate agent on x64 (AMD64) and Graviton (ARM64) only. A task on any
other architecture gets the coverage issue \"Unsupported CPU architecture\" and runs without the
agent. ECS itself accepts only these two values, so another value is usually a typo such as
`amd64` or `arm64` in lower case.

Fix: manual. Set `runtimePlatform.cpuArchitecture` to `X86_64` or `ARM64` (or remove it:
the default is `X86_64`).",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinition(check),
};

pub fn check(td: &TaskDef<'_>, _: &Context<'_>) -> Option<Finding> {
    let arch = td
        .cpu_architecture
        .filter(|a| !matches!(*a, "X86_64" | "ARM64"))?;
    Some(Finding::new(
        &INFO,
        td.label(),
        td.field_pointer("runtimePlatform"),
        format!("`cpuArchitecture` is `{arch}`: GuardDuty supports `X86_64` and `ARM64`"),
        Fix::manual("set `runtimePlatform.cpuArchitecture` to `X86_64` or `ARM64`"),
    ))
}
