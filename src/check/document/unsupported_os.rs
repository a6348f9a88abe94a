//! `unsupported-os`: GuardDuty Runtime Monitoring does not support Windows on Fargate.

use crate::check::{Check, Context, Runner};
use crate::model::TaskDef;
use crate::model::{CheckInfo, Finding, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "unsupported-os",
    severity: Severity::Error,
    summary: "task definition `runtimePlatform.operatingSystemFamily` is Windows",
    explain: "\
The task definition runs on Windows (`runtimePlatform.operatingSystemFamily` is a `WINDOWS_*` value).

Why: GuardDuty Runtime Monitoring on AWS Fargate (Amazon ECS only) needs a Linux platform. AWS says
\"The Windows platform versions are not yet supported\", so no GuardDuty agent sidecar is ever
attached to this task. The other checks are skipped for Windows task definitions.

Fix: manual. Run the workload on Linux (`LINUX` operating system family) if it must be monitored,
or accept that it is not covered.",
    sources: &["https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html"],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinition(check),
};

pub fn is_windows(td: &TaskDef<'_>) -> bool {
    td.os_family
        .is_some_and(|os| os.to_ascii_uppercase().starts_with("WINDOWS"))
}

pub fn check(td: &TaskDef<'_>, _: &Context<'_>) -> Option<Finding> {
    let os = td.os_family.filter(|_| is_windows(td))?;
    Some(Finding::new(
        &INFO,
        td.label(),
        td.field_pointer("runtimePlatform"),
        format!("runs on `{os}`: GuardDuty Runtime Monitoring supports only Linux on Fargate"),
        Fix::manual("run the task on `LINUX`; Windows tasks cannot be monitored"),
    ))
}
