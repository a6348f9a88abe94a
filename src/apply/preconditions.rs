//! Preconditions of an account apply: each resource an operation changes is read again and its
//! fingerprint compared with the plan's ("the plan is stale").

use crate::aws::{Aws, AwsError, ErrorKind};
use crate::fingerprint::{self, Fingerprint, Subject};
use crate::plan::PlannedOperation;
use serde_json::Value;
use std::collections::BTreeMap;

/// A resource as read right now: its fingerprint, and for a task definition the document
/// itself (the new revision is registered from it once the fingerprint matches the plan's).
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub fingerprint: String,
    pub document: Option<Value>,
}

/// Reads a resource fresh.
pub async fn current<A: Aws>(aws: &A, of: &Subject) -> Result<Current, AwsError> {
    let fingerprint = match of {
        Subject::TaskDefinition { arn } => {
            let document = aws.describe_task_definition(arn).await?.document;
            return Ok(Current {
                fingerprint: fingerprint::task_definition(&document),
                document: Some(document),
            });
        }
        Subject::Service { cluster, service } => {
            let s = aws
                .describe_services(cluster, std::slice::from_ref(service))
                .await?;
            match s.first() {
                Some(s) => fingerprint::service(&s.json),
                None => "missing".into(),
            }
        }
        Subject::Role { name } => match aws.get_role(name).await {
            Err(e) if e.kind == ErrorKind::NotFound => fingerprint::role(None),
            Err(e) => return Err(e),
            Ok(_) => fingerprint::role_policies(&aws.role_policies(name).await?),
        },
        Subject::Vpc { id } => {
            let ids = std::slice::from_ref(id);
            fingerprint::vpc(
                id,
                &aws.describe_route_tables(ids).await?,
                &aws.describe_vpc_endpoints(ids).await?,
            )
        }
        Subject::SecurityGroup { id } => {
            let groups = aws
                .describe_security_groups(std::slice::from_ref(id))
                .await?;
            fingerprint::security_group(groups.first())
        }
    };
    Ok(Current {
        fingerprint,
        document: None,
    })
}

pub fn subject_label(of: &Subject) -> String {
    match of {
        Subject::TaskDefinition { arn } => format!("task definition `{arn}`"),
        Subject::Service { service, .. } => format!("service `{service}`"),
        Subject::Role { name } => format!("role `{name}`"),
        Subject::Vpc { id } => format!("VPC `{id}` (route tables, endpoints)"),
        Subject::SecurityGroup { id } => format!("security group `{id}`"),
    }
}

/// Checks every precondition; returns what changed since the plan.
pub async fn stale<A: Aws>(regions: &BTreeMap<String, A>, ops: &[PlannedOperation]) -> Vec<String> {
    let mut seen: Vec<&Fingerprint> = Vec::new();
    let mut changed = Vec::new();
    for op in ops {
        let Some(fp) = &op.fingerprint else { continue };
        if seen.iter().any(|s| s.of == fp.of) {
            continue;
        }
        seen.push(fp);
        let Some(aws) = regions.get(&op.region) else {
            continue;
        };
        match current(aws, &fp.of).await {
            Ok(now) if now.fingerprint == fp.sha256 => {}
            Ok(_) => changed.push(format!("{} changed", subject_label(&fp.of))),
            Err(e) => changed.push(format!("{} cannot be read: {e}", subject_label(&fp.of))),
        }
    }
    changed
}
