//! `rollback`: undo an account apply's completed steps, newest first, journaled in the same file.

use super::account::{Outcome, RUN_TAG, perform};
use super::journal::{InDoubt, Journal, Undo};
use crate::aws::{Aws, AwsError, ErrorKind};
use crate::operation::Operation;
use serde_json::json;
use std::collections::BTreeMap;

/// What changed a resource since the apply left it, if anything: a service no longer on the
/// revision or platform the apply set, an inline policy no longer the one it put. Undoing then
/// would throw away someone else's change.
async fn changed_since<A: Aws>(aws: &A, applied: &Operation) -> Result<Option<String>, AwsError> {
    Ok(match applied {
        Operation::UpdateService {
            cluster,
            service,
            task_definition,
            platform_version,
            ..
        } => {
            let now = aws
                .describe_services(cluster, std::slice::from_ref(service))
                .await?;
            let Some(now) = now.first() else {
                return Ok(Some(format!("service `{service}` is gone")));
            };
            let platform = now.json["platformVersion"].as_str();
            match (task_definition, platform_version) {
                (Some(td), _) if *td != now.task_definition => Some(format!(
                    "service `{service}` now runs `{}`, not `{td}` as the apply left it",
                    now.task_definition
                )),
                (_, Some(pv)) if platform != Some(pv.as_str()) => Some(format!(
                    "service `{service}` is now on platform `{}`, not `{pv}` as the apply left it",
                    platform.unwrap_or("none")
                )),
                _ => None,
            }
        }
        Operation::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => match aws.inline_policy(role_name, policy_name).await? {
            Some(now) if now == *policy_document => None,
            _ => Some(format!(
                "inline policy `{policy_name}` of role `{role_name}` changed since the apply"
            )),
        },
        _ => None,
    })
}

/// What reading the account says of a step in doubt.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    /// It created these resources (tagged with its run): the operations undo them.
    Created(Vec<Operation>),
    /// It created nothing; why.
    NotCreated(String),
    /// Still not known; why.
    Unknown(String),
}

/// Finds what a creation begun and never recorded as finished created, by the run tag every
/// resource apply creates carries: a role by its name, a security group or an endpoint in its
/// VPC.
pub async fn resolve_in_doubt<A: Aws>(aws: &A, step: &InDoubt) -> Resolved {
    let run = step.run.as_str();
    let unreadable = |e: AwsError| Resolved::Unknown(format!("cannot read the account: {e}"));
    let creation = matches!(
        step.applied,
        Some(
            Operation::CreateRole { .. }
                | Operation::CreateSecurityGroup { .. }
                | Operation::CreateVpcEndpoint { .. }
        )
    );
    if creation && !step.tagged {
        return Resolved::Unknown(
            "the apply that wrote this journal did not tag what it created".into(),
        );
    }
    // One call creates one resource (retries carry one idempotency token): more than one
    // tagged with the run is not something rollback can settle alone.
    let one = |found: Vec<Operation>, what: String| match found.len() {
        0 => Resolved::NotCreated(format!("no {what} of this run")),
        1 => Resolved::Created(found),
        n => Resolved::Unknown(format!("{n} {what}s carry this run's tag")),
    };
    match &step.applied {
        Some(Operation::CreateRole {
            role_name,
            attach_policy_arns,
            ..
        }) => match aws.get_role(role_name).await {
            Ok(role) if role.tags.get(RUN_TAG).is_some_and(|r| r == run) => {
                Resolved::Created(vec![Operation::DeleteRole {
                    role_name: role_name.clone(),
                    detach_policy_arns: attach_policy_arns.clone(),
                }])
            }
            Ok(_) => Resolved::NotCreated(format!(
                "role `{role_name}` exists but was not created by this run"
            )),
            Err(e) if e.kind == ErrorKind::NotFound => {
                Resolved::NotCreated(format!("role `{role_name}` does not exist"))
            }
            Err(e) => unreadable(e),
        },
        Some(Operation::CreateSecurityGroup { vpc_id, .. }) => {
            match aws.security_groups_tagged(vpc_id, RUN_TAG, run).await {
                Ok(ids) => one(
                    ids.into_iter()
                        .map(|group_id| Operation::DeleteSecurityGroup { group_id })
                        .collect(),
                    format!("security group in `{vpc_id}`"),
                ),
                Err(e) => unreadable(e),
            }
        }
        Some(Operation::CreateVpcEndpoint {
            vpc_id,
            service_name,
            ..
        }) => match aws.vpc_endpoints_tagged(vpc_id, RUN_TAG, run).await {
            // In any state: a failed endpoint still exists; a deleted one is gone already.
            Ok(found) => one(
                found
                    .into_iter()
                    .filter(|e| e.service_name == *service_name)
                    .map(|e| Operation::DeleteVpcEndpoint {
                        vpc_endpoint_id: e.id,
                    })
                    .collect(),
                format!("`{service_name}` endpoint in `{vpc_id}`"),
            ),
            Err(e) => unreadable(e),
        },
        Some(Operation::RegisterTaskDefinition { family, .. }) => Resolved::Unknown(format!(
            "a revision of `{family}` may have been registered; rollback keeps revisions and moved no service to it"
        )),
        _ => Resolved::Unknown("the journal does not say what the step would undo".into()),
    }
}

/// Undoes the given steps, newest first, journaling each. `deregister` allows deregistering
/// revisions the apply registered (otherwise they are kept and reported). A resource changed
/// since the apply is left as it is, with the reason, unless `force`.
pub async fn rollback<A: Aws>(
    regions: &BTreeMap<String, A>,
    steps: &[Undo],
    deregister: bool,
    force: bool,
    journal: &mut Journal,
) -> std::io::Result<Outcome> {
    let mut out = Outcome::default();
    for step in steps {
        let label = format!("{} (undoes step {})", step.inverse.name(), step.seq);
        if out.failed.is_some() {
            out.skipped
                .push(format!("{label}: not run, an earlier step failed"));
            continue;
        }
        if !out.changed.is_empty() {
            // What came before that step may be what it now relies on (its role, its group).
            out.skipped.push(format!(
                "{label}: not run, an earlier step was left as it is"
            ));
            continue;
        }
        if matches!(step.inverse, Operation::DeregisterTaskDefinition { .. }) && !deregister {
            journal.record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "kept", "operation": step.inverse}))?;
            out.skipped.push(format!(
                "{label}: kept; pass `--deregister` to deregister the new revision"
            ));
            continue;
        }
        let Some(aws) = regions.get(&step.region) else {
            out.failed = Some((label, format!("no client for region `{}`", step.region)));
            continue;
        };
        if let (false, Some(applied)) = (force, &step.applied) {
            match changed_since(aws, applied).await {
                Ok(None) => {}
                Ok(Some(why)) => {
                    // Not counted as undone: `--force` can still undo it later.
                    journal.record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "changed", "reason": why}))?;
                    out.changed
                        .push(format!("{label}: {why}; pass `--force` to undo it anyway"));
                    continue;
                }
                Err(e) => {
                    out.failed = Some((label, format!("cannot read the resource: {e}")));
                    continue;
                }
            }
        }
        journal.record(json!({"run": step.run, "phase": "rollback-before", "of": step.seq, "region": step.region, "operation": step.inverse}))?;
        match perform(aws, &step.inverse, &BTreeMap::new(), &Default::default()).await {
            Ok(_) => {
                journal
                    .record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "ok"}))?;
                out.done += 1;
            }
            Err(e) => {
                journal.record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "failed", "error": e.to_string()}))?;
                out.failed = Some((label, e.to_string()));
            }
        }
    }
    Ok(out)
}
