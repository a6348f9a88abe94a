//! Fingerprints of live resources: what a plan saw, so that `apply` can tell whether the
//! resource changed since ("the plan is stale"). Computed from the same typed values the scan
//! reads, so plan and apply agree.

use crate::aws::{RouteTable, SecurityGroup, VpcEndpoint};
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

pub fn task_definition(json: &Value) -> String {
    hash(&json.to_string())
}

pub fn service(task_definition: &str, platform_version: Option<&str>) -> String {
    hash(&format!(
        "{task_definition}\n{}",
        platform_version.unwrap_or("")
    ))
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
