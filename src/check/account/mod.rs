//! The checks that need an AWS account (`--live`). Each reads the `Inventory` of one region.

pub mod agent_sidecar_failed;
pub mod boundary_blocks_agent;
pub mod cluster_excluded;
pub mod coverage_unexplained;
pub mod endpoint_policy_blocks_agent;
pub mod endpoint_unreachable;
pub mod execution_role_lacks_ecr_access;
pub mod guardduty_endpoint_unhealthy;
pub mod network_acl_blocks_agent;
pub mod no_ecr_network_path;
pub mod path;
pub mod runtime_monitoring_disabled;
pub mod scp_blocks_agent;
pub mod stale_deployment;
pub mod task_egress_blocked;
pub mod vpc_dns_disabled;

use crate::agent::AgentRepository;
use crate::model::inventory::Inventory;
use crate::model::{CheckInfo, NotChecked};
use crate::policy::Known;

pub use crate::check::fix::ecr_grant::{EcrPolicy, MANAGED_POLICY};

pub struct AccountContext<'a> {
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

/// The resource each ECR action is checked on: `GetAuthorizationToken` is not
/// resource-scoped; the pull actions are on the region's agent repository.
pub fn ecr_resource(action: &str, repository_arn: &str) -> String {
    if action == "ecr:GetAuthorizationToken" {
        "*".into()
    } else {
        repository_arn.into()
    }
}

/// One request the agent makes, as the policies on its path see it.
pub struct Ask {
    pub action: &'static str,
    pub resource: String,
    /// What is known of the request's condition keys.
    pub context: Vec<(&'static str, Known)>,
}

/// The agent's requests: the four ECR actions on the region's agent repository (when one is
/// known) and `guardduty:SendSecurityTelemetry`. The repository belongs to an AWS account in no
/// customer's organization; the caller is the execution role of the scanned account.
pub fn agent_asks(
    inv: &Inventory,
    repository: Option<&AgentRepository>,
    telemetry: bool,
) -> Vec<Ask> {
    let common = || {
        vec![
            ("aws:requestedregion", Known::Value(inv.region.clone())),
            (
                "aws:principalaccount",
                Known::Value(inv.identity.account.clone()),
            ),
        ]
    };
    let mut asks = Vec::new();
    if let Some(repo) = repository {
        for action in ECR_ACTIONS {
            let mut context = common();
            if action != "ecr:GetAuthorizationToken" {
                context.push(("aws:resourceaccount", Known::Value(repo.account.clone())));
                context.push(("aws:resourceorgid", Known::Foreign));
                context.push(("aws:resourceorgpaths", Known::Foreign));
            }
            asks.push(Ask {
                action,
                resource: ecr_resource(action, &repo.arn),
                context,
            });
        }
    }
    if telemetry {
        asks.push(Ask {
            action: TELEMETRY_ACTION,
            resource: "*".into(),
            context: common(),
        });
    }
    asks
}

impl Ask {
    /// A copy, for another policy on the path.
    pub fn clone_ask(&self) -> Ask {
        Ask {
            action: self.action,
            resource: self.resource.clone(),
            context: self.context.clone(),
        }
    }

    pub fn evaluate(&self, policies: &[crate::policy::Policy]) -> crate::policy::Decision {
        crate::policy::evaluate_in(policies, self.action, &self.resource, &self.context)
    }
}

/// The region's network, or (when it could not be read) a "not checked" for each Fargate
/// service with a network, so no service passes a network check unread.
pub fn network_or_not_checked<'a>(
    check: &'static CheckInfo,
    inv: &'a Inventory,
    out: &mut crate::check::Outcome,
) -> Option<&'a crate::model::inventory::Network> {
    match &inv.network {
        Ok(n) => Some(n),
        Err(e) => {
            for svc in inv.fargate_services().filter(|s| s.network.is_some()) {
                out.not_checked.push(not_checked(
                    check,
                    &svc.arn,
                    format!("service `{}`", svc.name),
                    e.to_string(),
                ));
            }
            None
        }
    }
}

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

/// A finding on a live resource (no document pointer).
pub fn finding(
    check: &'static CheckInfo,
    resource: &str,
    subject: String,
    message: String,
    fix: crate::model::Fix,
) -> crate::model::Finding {
    let mut f = crate::model::Finding::new(check, subject, Default::default(), message, fix);
    f.resource = resource.to_string();
    f
}

/// The Fargate task definitions (`family:revision`) that use each execution role, by role name.
pub fn role_users(inv: &Inventory) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for td in inv.task_defs.values().flatten() {
        if let Some(role) = td.field("executionRoleArn").filter(|s| !s.is_empty()) {
            let short = td.arn.rsplit('/').next().unwrap_or(&td.arn).to_string();
            out.entry(crate::model::arn::role_name(role))
                .or_default()
                .push(short);
        }
    }
    out
}
