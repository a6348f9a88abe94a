//! The checks that need an AWS account. Each reads the `Inventory` of one region.

pub mod boundary_blocks_agent;
pub mod cluster_excluded;
pub mod execution_role_lacks_ecr_access;
pub mod no_ecr_network_path;
pub mod runtime_monitoring_disabled;
pub mod s3_egress_blocked;
pub mod scp_denies_telemetry;
pub mod stale_deployment;
pub mod vpc_dns_disabled;

use super::Outcome;
use crate::agent::AgentRepository;
use crate::finding::{CheckInfo, NotChecked};
use crate::live::Inventory;

/// How the ECR fix is written: a scoped inline policy (default) or the managed policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EcrPolicy {
    #[default]
    Scoped,
    Managed,
}

pub struct LiveContext<'a> {
    pub inventory: &'a Inventory,
    pub repository: Option<AgentRepository>,
    pub ecr_policy: EcrPolicy,
}

/// The four ECR actions the execution role needs to pull the agent image.
pub const ECR_ACTIONS: [&str; 4] = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
];

pub const TELEMETRY_ACTION: &str = "guardduty:SendSecurityTelemetry";

pub const MANAGED_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// The resource each ECR action is checked on: `GetAuthorizationToken` is not
/// resource-scoped; the pull actions are on the region's agent repository.
pub fn ecr_resource(action: &str, repository_arn: &str) -> String {
    if action == "ecr:GetAuthorizationToken" {
        "*".into()
    } else {
        repository_arn.into()
    }
}

pub const ALL: &[&CheckInfo] = &[
    &execution_role_lacks_ecr_access::INFO,
    &boundary_blocks_agent::INFO,
    &scp_denies_telemetry::INFO,
    &no_ecr_network_path::INFO,
    &s3_egress_blocked::INFO,
    &vpc_dns_disabled::INFO,
    &runtime_monitoring_disabled::INFO,
    &cluster_excluded::INFO,
    &stale_deployment::INFO,
];

pub fn not_checked(
    check: &'static CheckInfo,
    resource: &str,
    subject: String,
    reason: impl Into<String>,
) -> NotChecked {
    NotChecked {
        check,
        resource: resource.to_string(),
        subject,
        reason: reason.into(),
    }
}

/// Runs every live check on a region's inventory.
pub fn run(ctx: &LiveContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    for f in [
        execution_role_lacks_ecr_access::check,
        boundary_blocks_agent::check,
        scp_denies_telemetry::check,
        no_ecr_network_path::check,
        s3_egress_blocked::check,
        vpc_dns_disabled::check,
        runtime_monitoring_disabled::check,
        cluster_excluded::check,
        stale_deployment::check,
    ] {
        let o = f(ctx);
        out.findings.extend(o.findings);
        out.not_checked.extend(o.not_checked);
    }
    out
}

/// A finding on a live resource (no document pointer).
pub fn finding(
    check: &'static CheckInfo,
    resource: &str,
    subject: String,
    message: String,
    fix: crate::finding::Fix,
) -> crate::finding::Finding {
    let mut f = crate::finding::Finding::new(check, subject, Default::default(), message, fix);
    f.resource = resource.to_string();
    f
}

/// The Fargate task definitions (`family:revision`) that use each execution role, by role name.
pub fn role_users(inv: &Inventory) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for td in inv.task_defs.values().flatten() {
        if let Some(role) = td
            .json
            .get("executionRoleArn")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            let short = td.arn.rsplit('/').next().unwrap_or(&td.arn).to_string();
            out.entry(crate::live::role_name(role))
                .or_default()
                .push(short);
        }
    }
    out
}
