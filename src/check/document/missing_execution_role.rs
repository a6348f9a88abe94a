//! `missing-execution-role`: the agent image is pulled with the task execution role.

use crate::check::{Check, Context, Runner};
use crate::model::{self, TaskDef};
use crate::model::{Applicability, CheckInfo, Finding, Fix, Severity};
use json_patch::{AddOperation, PatchOperation};

pub static INFO: CheckInfo = CheckInfo {
    slug: "missing-execution-role",
    severity: Severity::Error,
    summary: "no `executionRoleArn`",
    explain: "\
The Fargate task definition has no `executionRoleArn` (absent, null or empty).

Why: ECS pulls the GuardDuty agent image from Amazon ECR with the task execution role, and the
agent authenticates to GuardDuty with it. Without a role \"the task starts without the GuardDuty
security agent sidecar container\", and the coverage issue reads \"TaskExecutionRole missing from
TaskDefinition\".

Fix: set `executionRoleArn`.
- With `--execution-role-arn ARN`: that role (safe).
- Otherwise, when the document names its AWS account (an ARN or an ECR image URI), the
  conventional `ecsTaskExecutionRole` of that account (unsafe: the role must exist and allow the
  ECR pulls; `plan --live` verifies it).
- Otherwise: manual.
The role must trust `ecs-tasks.amazonaws.com` and carry `AmazonECSTaskExecutionRolePolicy` or an
equivalent ECR policy.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-guard-duty-troubleshooting.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::TaskDefinition(check),
};

pub fn check(td: &TaskDef<'_>, ctx: &Context<'_>) -> Option<Finding> {
    if td.execution_role.is_some() {
        return None;
    }
    let path = td.field_pointer("executionRoleArn");
    let set = |arn: String, applicability, reason: Option<String>| Fix {
        title: format!("set `executionRoleArn` to `{arn}`"),
        applicability,
        reason,
        patch: vec![PatchOperation::Add(AddOperation {
            path: path.clone(),
            value: arn.into(),
        })],
        ..Default::default()
    };
    let fix = if let Some(arn) = &ctx.options.execution_role_arn {
        set(arn.clone(), Applicability::Safe, None)
    } else if let Some((account, partition)) = ctx
        .options
        .account
        .clone()
        .or_else(|| model::arn::account_of(ctx.document))
    {
        set(
            format!("arn:{partition}:iam::{account}:role/ecsTaskExecutionRole"),
            Applicability::Unsafe,
            Some(format!(
                "assumes `ecsTaskExecutionRole` exists in account {account}; pass `--execution-role-arn` to choose"
            )),
        )
    } else {
        Fix::manual("pass `--execution-role-arn ARN` (the document names no AWS account)")
    };
    // Present but empty says something else than absent: it reads as set, and is not.
    let what = match td.raw.get("executionRoleArn") {
        Some(serde_json::Value::String(_)) => "`executionRoleArn` is empty",
        Some(serde_json::Value::Null) => "`executionRoleArn` is null",
        _ => "no `executionRoleArn`",
    };
    Some(Finding::new(
        &INFO,
        td.label(),
        path.clone(),
        format!("{what}: the task starts without the GuardDuty agent sidecar"),
        fix,
    ))
}
