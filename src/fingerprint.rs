//! Fingerprints of account resources: what a plan saw, so that `apply` can tell whether the
//! resource changed since ("the plan is stale"). Computed from the same typed values the scan
//! reads, so plan and apply agree.

use crate::aws::{RolePolicies, RouteTable, SecurityGroup, VpcEndpoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Which resource a fingerprint covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    TaskDefinition { arn: String },
    Service { cluster: String, service: String },
    Role { name: String },
    Vpc { id: String },
    SecurityGroup { id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub of: Subject,
    pub sha256: String,
}

fn hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The whole `DescribeTaskDefinition` output (a revision never changes, so any difference means
/// another resource).
pub fn task_definition(document: &Value) -> String {
    hash(&document.to_string())
}

/// What `DescribeServices` reports about a service's running state rather than its
/// configuration: it changes on its own (tasks start and stop, auto scaling sets the desired
/// count, deployments roll), so it is left out of the fingerprint. A deployment by someone
/// else still shows, in `taskDefinition`.
pub const SERVICE_STATE_FIELDS: &[&str] = &[
    "events",
    "runningCount",
    "pendingCount",
    "desiredCount",
    "deployments",
    "taskSets",
    "currentServiceDeployment",
    "currentServiceRevisions",
];

/// The whole service as `DescribeServices` returned it, less its running state.
pub fn service(json: &Value) -> String {
    let mut config = json.clone();
    if let Value::Object(o) = &mut config {
        for k in SERVICE_STATE_FIELDS {
            o.remove(*k);
        }
    }
    hash(&config.to_string())
}

/// The fingerprint of a role from its policy lists (see `role`).
pub fn role_policies(l: &RolePolicies) -> String {
    let inline: Vec<Inline> = l
        .inline
        .iter()
        .map(|p| (p.name.clone(), p.document.clone()))
        .collect();
    role(Some((&l.attached, &inline)))
}

/// An inline policy: its name and document.
pub type Inline = (String, Value);

/// A role's attached policy ARNs and inline documents; `None` when the role does not exist.
pub fn role(policies: Option<(&[String], &[Inline])>) -> String {
    match policies {
        None => hash("missing"),
        Some((attached, inline)) => {
            let mut a: Vec<&String> = attached.iter().collect();
            a.sort();
            let mut i: Vec<String> = inline.iter().map(|(n, d)| format!("{n}={d}")).collect();
            i.sort();
            hash(&format!("{a:?}\n{i:?}"))
        }
    }
}

/// The route tables and endpoints of one VPC.
pub fn vpc(id: &str, route_tables: &[RouteTable], endpoints: &[VpcEndpoint]) -> String {
    let mut rts: Vec<String> = route_tables
        .iter()
        .filter(|r| r.vpc_id == id)
        .map(|r| format!("{r:?}"))
        .collect();
    rts.sort();
    let mut eps: Vec<String> = endpoints
        .iter()
        .filter(|e| e.vpc_id == id && e.usable)
        .map(|e| format!("{e:?}"))
        .collect();
    eps.sort();
    hash(&format!("{rts:?}\n{eps:?}"))
}

pub fn security_group(group: Option<&SecurityGroup>) -> String {
    hash(
        &group
            .map(|g| format!("{:?}", g.egress))
            .unwrap_or_else(|| "missing".into()),
    )
}
