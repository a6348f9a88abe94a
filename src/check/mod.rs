//! The checks. `REGISTRY` lists every check once, with its documentation (`CheckInfo`) and the
//! function that runs it: `document/` holds one file per check on a task or service definition,
//! `account/` one file per check on an account region's inventory, `fix/` the fixes several
//! checks share. A check's file is named after its slug.

pub mod account;
pub mod document;
pub mod fix;

use crate::model::{CheckInfo, Finding, NotChecked, Service, TaskDef};
use serde_json::Value;

pub use account::{AccountContext, EcrPolicy};

/// What the user chose for fixes that need a value.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--execution-role-arn`.
    pub execution_role_arn: Option<String>,
    /// `--platform-version` (default `LATEST`).
    pub platform_version: Option<String>,
    /// The scanned account and partition (account mode), for the default execution role.
    pub account: Option<(String, String)>,
}

/// Everything a document check may read: the options and the whole document (for the account id).
pub struct Context<'a> {
    pub options: &'a Options,
    pub document: &'a Value,
}

/// What the checks found on one resource.
#[derive(Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
}

impl Outcome {
    pub fn extend(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.not_checked.extend(other.not_checked);
    }
}

/// How a check runs: on a Fargate task definition, on a Fargate service, or on an account
/// region's inventory.
pub enum Runner {
    /// At most one finding on a task definition.
    TaskDefinition(fn(&TaskDef<'_>, &Context<'_>) -> Option<Finding>),
    /// Any number of findings on a task definition.
    TaskDefinitionFindings(fn(&TaskDef<'_>, &Context<'_>) -> Vec<Finding>),
    /// At most one finding on a service; `Err` is the reason the check could not decide
    /// (reported as not checked).
    Service(fn(&Service<'_>, &Context<'_>) -> Result<Option<Finding>, String>),
    Account(fn(&AccountContext<'_>) -> Outcome),
    /// On an account region's inventory and every other check's findings there (run last).
    Coverage(fn(&AccountContext<'_>, &[&Finding]) -> Outcome),
}

/// One check: its documentation and how it runs.
pub struct Check {
    pub info: &'static CheckInfo,
    pub run: Runner,
}

impl Check {
    /// True for the checks that need an AWS account (`--live`).
    pub fn needs_account(&self) -> bool {
        matches!(self.run, Runner::Account(_) | Runner::Coverage(_))
    }
}

/// Every check, in the order findings are reported: the document checks, then the account
/// checks.
pub static REGISTRY: &[Check] = &[
    document::unsupported_os::CHECK,
    document::unsupported_cpu_architecture::CHECK,
    document::missing_task_size::CHECK,
    document::invalid_task_size::CHECK,
    document::agent_memory_headroom::CHECK,
    document::size_outside_agent_table::CHECK,
    document::missing_execution_role::CHECK,
    document::platform_version_too_old::CHECK,
    document::deployment_on_old_platform::CHECK,
    account::execution_role_lacks_ecr_access::CHECK,
    account::boundary_blocks_agent::CHECK,
    account::scp_blocks_agent::CHECK,
    account::no_ecr_network_path::CHECK,
    account::endpoint_policy_blocks_agent::CHECK,
    account::endpoint_unreachable::CHECK,
    account::network_acl_blocks_agent::CHECK,
    account::task_egress_blocked::CHECK,
    account::guardduty_endpoint_unhealthy::CHECK,
    account::vpc_dns_disabled::CHECK,
    account::runtime_monitoring_disabled::CHECK,
    account::cluster_excluded::CHECK,
    account::stale_deployment::CHECK,
    account::agent_sidecar_failed::CHECK,
    account::coverage_unexplained::CHECK,
];

/// Runs the checks that compare the others' findings with what AWS reports (GuardDuty's
/// coverage), after them.
pub fn run_coverage(ctx: &AccountContext<'_>, findings: &[&Finding]) -> Outcome {
    let mut out = Outcome::default();
    for check in REGISTRY {
        if let Runner::Coverage(run) = check.run {
            out.extend(run(ctx, findings));
        }
    }
    out
}

/// Every check's documentation, in registry order.
pub fn all() -> impl Iterator<Item = &'static CheckInfo> {
    REGISTRY.iter().map(|c| c.info)
}

/// The document checks of a service (`service`) or of a task definition, in registry order.
pub fn document_checks(service: bool) -> impl Iterator<Item = &'static CheckInfo> {
    REGISTRY
        .iter()
        .filter_map(move |c| match (&c.run, service) {
            (Runner::Service(_), true)
            | (Runner::TaskDefinition(_) | Runner::TaskDefinitionFindings(_), false) => {
                Some(c.info)
            }
            _ => None,
        })
}

/// Slugs that were renamed: the old one still names the check.
pub const RENAMED: &[(&str, &str)] = &[
    ("scp-denies-telemetry", "scp-blocks-agent"),
    ("s3-egress-blocked", "task-egress-blocked"),
];

pub fn by_slug(slug: &str) -> Option<&'static CheckInfo> {
    let slug = RENAMED
        .iter()
        .find(|(old, _)| *old == slug)
        .map_or(slug, |(_, new)| *new);
    all().find(|c| c.slug == slug)
}

/// Runs the task-definition checks on a Fargate task definition.
pub fn task_def(td: &TaskDef<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    for check in REGISTRY {
        if check.info.slug == document::missing_task_size::INFO.slug
            && document::unsupported_os::is_windows(td)
        {
            // GuardDuty cannot run on this task at all: sizing it for the agent would mislead.
            return out;
        }
        match check.run {
            Runner::TaskDefinition(run) => out.findings.extend(run(td, ctx)),
            Runner::TaskDefinitionFindings(run) => out.findings.extend(run(td, ctx)),
            _ => {}
        }
    }
    out
}

/// Runs the service checks on a Fargate service.
pub fn service(svc: &Service<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    for check in REGISTRY {
        if let Runner::Service(run) = check.run {
            match run(svc, ctx) {
                Ok(f) => out.findings.extend(f),
                Err(reason) => out.not_checked.push(NotChecked {
                    check: check.info,
                    resource: String::new(),
                    subject: svc.label(),
                    reason,
                }),
            }
        }
    }
    out
}

/// Runs every account check on a region's inventory.
pub fn run_account(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    for check in REGISTRY {
        if let Runner::Account(run) = check.run {
            out.extend(run(ctx));
        }
    }
    out
}
