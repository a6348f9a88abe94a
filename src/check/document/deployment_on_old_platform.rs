//! `deployment-on-old-platform` (warning): a service that asks for a supported platform version
//! while its PRIMARY deployment still runs one below `1.4.0` (a `describe-services` snapshot).

use super::platform_version_too_old::is_supported;
use crate::check::{Check, Context, Runner};
use crate::model::Service;
use crate::model::{Applicability, CheckInfo, Finding, Fix, Severity};
use json_patch::{AddOperation, PatchOperation};
use serde_json::Value;

pub static INFO: CheckInfo = CheckInfo {
    slug: "deployment-on-old-platform",
    severity: Severity::Warning,
    summary: "a service's PRIMARY deployment still runs a platform below `1.4.0`",
    explain: "\
The service asks for `LATEST` (or `1.4.0` or later), but its `PRIMARY` deployment (in a
`describe-services` snapshot) still runs a platform version below `1.4.0`: the tasks running now
started before the service was moved, and GuardDuty cannot add its sidecar to them.

Why: \"The corresponding platform version must be at least 1.4.0, or LATEST\", and a running task
keeps the platform it started on; only a new deployment replaces it. `LATEST` resolved to an
older version before 1.4.0 became the default, so old deployments can still show `1.3.0`.

Fix: force a new deployment, shown as the command to run (a snapshot is not the service):
`aws ecs update-service --cluster CLUSTER --service SERVICE --force-new-deployment`;
`apply --registerable` writes it as `update-service` input. Files only: with `--live` the
running tasks themselves are judged (`stale-deployment`).",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Service(check),
};

pub fn check(svc: &Service<'_>, ctx: &Context<'_>) -> Result<Option<Finding>, String> {
    // In an account the running tasks themselves are read (`stale-deployment`,
    // `agent-sidecar-failed`), and the platform fix's `UpdateService` starts a new deployment.
    if ctx.options.account.is_some() {
        return Ok(None);
    }
    // Only a service that asks for a supported version: below that, `platform-version-too-old`
    // already says so.
    if svc.platform_version.and_then(is_supported) == Some(false) {
        return Ok(None);
    }
    let Some(deployments) = svc.raw.get("deployments").and_then(Value::as_array) else {
        return Ok(None);
    };
    let Some((i, primary)) = deployments
        .iter()
        .enumerate()
        .find(|(_, d)| d.get("status").and_then(Value::as_str) == Some("PRIMARY"))
    else {
        return Ok(None);
    };
    let Some(running) = primary.get("platformVersion").and_then(Value::as_str) else {
        return Ok(None);
    };
    match is_supported(running) {
        Some(true) => Ok(None),
        None => Err(format!(
            "the PRIMARY deployment's `platformVersion` `{running}` is not a version like `1.4.0`"
        )),
        Some(false) => {
            let mut path = svc.field_pointer("deployments");
            path.push_back(i.to_string());
            path.push_back("platformVersion");
            let force = svc.field_pointer("forceNewDeployment");
            Ok(Some(Finding::new(
                &INFO,
                svc.label(),
                path,
                format!(
                    "the PRIMARY deployment runs platform `{running}`: its tasks started without the GuardDuty agent"
                ),
                Fix {
                    title: "force a new deployment".into(),
                    applicability: Applicability::Unsafe,
                    reason: Some("a new deployment replaces the running tasks".into()),
                    patch: vec![PatchOperation::Add(AddOperation {
                        path: force,
                        value: true.into(),
                    })],
                    ..Default::default()
                },
            )))
        }
    }
}
