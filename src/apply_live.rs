//! `apply --live` and `rollback`: carry out a live plan's operations against AWS behind
//! preconditions, with a journal of every call and its inverse.
//!
//! Journal: JSON lines, one record before and one after each call, each flushed and fsynced.
//! `{"seq", "phase": "before", "region", "operation"}` then `{"seq", "phase": "after", "status":
//! "ok"|"failed", "result", "error", "inverse"}`. Rollback appends `{"phase": "rollback-before" |
//! "rollback-after", "of": SEQ, ...}` to the same file, so a second rollback does nothing.

use crate::aws::{Aws, AwsError, EndpointSpec, ErrorKind};
use crate::fingerprint::{self, Fingerprint, Subject};
use crate::live::role_fingerprint;
use crate::operation::Operation;
use crate::plan::PlannedOperation;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Stands for the security group a plan creates, until it exists.
pub use crate::check::live::no_ecr_network_path::NEW_GROUP;

pub struct Journal {
    file: std::fs::File,
    pub path: PathBuf,
}

impl Journal {
    /// Opens a journal for appending (created with mode 0600 if new).
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        Ok(Journal {
            file: opts.open(path)?,
            path: path.to_path_buf(),
        })
    }

    /// Writes one record and makes it durable before returning.
    pub fn record(&mut self, mut value: Value) -> std::io::Result<()> {
        if let Value::Object(o) = &mut value {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            o.insert("time".into(), now.into());
        }
        crate::redact::redact_value(&mut value);
        let mut line = serde_json::to_vec(&value)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()?;
        self.file.sync_data()
    }
}

/// The default journal path: `.fargate-rtm/journal-<seconds>.jsonl` in the working directory.
pub fn default_journal_path() -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(".fargate-rtm").join(format!("journal-{now}.jsonl"))
}

/// The current fingerprint of a resource, read fresh.
pub async fn current<A: Aws>(aws: &A, of: &Subject) -> Result<String, AwsError> {
    Ok(match of {
        Subject::TaskDefinition { arn } => {
            fingerprint::task_definition(&aws.describe_task_definition(arn).await?.json)
        }
        Subject::Service { cluster, service } => {
            let s = aws
                .describe_services(cluster, std::slice::from_ref(service))
                .await?;
            match s.first() {
                Some(s) => fingerprint::service(
                    &s.task_definition,
                    s.json.get("platformVersion").and_then(Value::as_str),
                ),
                None => "missing".into(),
            }
        }
        Subject::Role { name } => match aws.get_role(name).await {
            Err(e) if e.kind == ErrorKind::NotFound => fingerprint::role(None),
            Err(e) => return Err(e),
            Ok(_) => role_fingerprint(&aws.role_policies(name).await?),
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
    })
}

fn subject_label(of: &Subject) -> String {
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
            Ok(now) if now == fp.sha256 => {}
            Ok(_) => changed.push(format!("{} changed", subject_label(&fp.of))),
            Err(e) => changed.push(format!("{} cannot be read: {e}", subject_label(&fp.of))),
        }
    }
    changed
}

/// The outcome of a run: how many operations were done, and the failure that stopped it.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: usize,
    pub failed: Option<(String, String)>,
    /// Operations not run because an earlier step failed.
    pub skipped: Vec<String>,
}

/// Runs the operations in order. Stops at the first failure; everything after it is skipped
/// with the reason.
pub async fn execute<A: Aws>(
    regions: &BTreeMap<String, A>,
    ops: &[PlannedOperation],
    journal: &mut Journal,
) -> std::io::Result<Outcome> {
    let mut out = Outcome::default();
    let mut new_revisions: BTreeMap<String, String> = BTreeMap::new();
    let mut new_groups: BTreeMap<String, String> = BTreeMap::new();
    // Resources this run already changed: their fingerprint is expected to differ now.
    let mut touched: Vec<Subject> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if out.failed.is_some() {
            out.skipped
                .push(format!("{}: not run, an earlier step failed", op.title));
            continue;
        }
        let seq = i + 1;
        let Some(aws) = regions.get(&op.region) else {
            out.failed = Some((
                op.title.clone(),
                format!("no client for region `{}`", op.region),
            ));
            continue;
        };
        // Re-read the resource right before changing it: nothing may have changed it since the
        // plan (the check before the run narrows the window; this closes it).
        if let Some(fp) = op
            .fingerprint
            .as_ref()
            .filter(|fp| !touched.contains(&fp.of))
        {
            let now = current(aws, &fp.of).await;
            if now.as_ref().ok() != Some(&fp.sha256) {
                let why = match now {
                    Ok(_) => format!("the plan is stale: {} changed", subject_label(&fp.of)),
                    Err(e) => format!(
                        "the plan is stale: {} cannot be read: {e}",
                        subject_label(&fp.of)
                    ),
                };
                journal.record(json!({"seq": seq, "phase": "precondition", "status": "failed", "region": op.region, "error": why}))?;
                out.failed = Some((op.title.clone(), why));
                continue;
            }
        }
        if let Some(fp) = &op.fingerprint {
            touched.push(fp.of.clone());
        }
        let operation = resolve(&op.operation, &new_revisions, &new_groups);
        journal.record(json!({"seq": seq, "phase": "before", "region": op.region, "resource": op.resource, "operation": operation}))?;
        match perform(aws, &operation).await {
            Ok((result, inverse)) => {
                match (&operation, &result) {
                    (Operation::RegisterTaskDefinition { family, .. }, Value::String(arn)) => {
                        new_revisions.insert(family.clone(), arn.clone());
                    }
                    (Operation::CreateSecurityGroup { vpc_id, .. }, Value::String(id)) => {
                        new_groups.insert(vpc_id.clone(), id.clone());
                    }
                    _ => {}
                }
                journal.record(json!({"seq": seq, "phase": "after", "status": "ok", "region": op.region, "result": result, "inverse": inverse}))?;
                out.done += 1;
            }
            Err(e) => {
                journal.record(json!({"seq": seq, "phase": "after", "status": "failed", "region": op.region, "error": e.to_string()}))?;
                out.failed = Some((op.title.clone(), e.to_string()));
            }
        }
    }
    Ok(out)
}

/// Replaces what only exists once earlier steps ran: the new revision's ARN, the new group's id.
fn resolve(
    op: &Operation,
    revisions: &BTreeMap<String, String>,
    groups: &BTreeMap<String, String>,
) -> Operation {
    let mut op = op.clone();
    match &mut op {
        Operation::UpdateService {
            task_definition: Some(td),
            ..
        } => {
            if let Some(arn) = revisions.get(td.as_str()) {
                *td = arn.clone();
            }
        }
        Operation::CreateVpcEndpoint {
            vpc_id,
            security_group_ids,
            ..
        } => {
            for g in security_group_ids.iter_mut() {
                if g == NEW_GROUP
                    && let Some(id) = groups.get(vpc_id.as_str())
                {
                    *g = id.clone();
                }
            }
        }
        _ => {}
    }
    op
}

/// Performs one operation; returns its result and the operation that undoes it.
async fn perform<A: Aws>(aws: &A, op: &Operation) -> Result<(Value, Option<Operation>), AwsError> {
    Ok(match op {
        Operation::CreateRole {
            role_name,
            assume_role_policy,
            attach_policy_arns,
        } => {
            aws.create_role(role_name, assume_role_policy).await?;
            for arn in attach_policy_arns {
                aws.attach_role_policy(role_name, arn).await?;
            }
            (
                Value::Null,
                Some(Operation::DeleteRole {
                    role_name: role_name.clone(),
                    detach_policy_arns: attach_policy_arns.clone(),
                }),
            )
        }
        Operation::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => {
            let previous = aws.inline_policy(role_name, policy_name).await?;
            aws.put_role_policy(role_name, policy_name, policy_document)
                .await?;
            let inverse = match previous {
                Some(doc) => Operation::PutRolePolicy {
                    role_name: role_name.clone(),
                    policy_name: policy_name.clone(),
                    policy_document: doc,
                },
                None => Operation::DeleteRolePolicy {
                    role_name: role_name.clone(),
                    policy_name: policy_name.clone(),
                },
            };
            (Value::Null, Some(inverse))
        }
        Operation::AttachRolePolicy {
            role_name,
            policy_arn,
        } => {
            aws.attach_role_policy(role_name, policy_arn).await?;
            (
                Value::Null,
                Some(Operation::DetachRolePolicy {
                    role_name: role_name.clone(),
                    policy_arn: policy_arn.clone(),
                }),
            )
        }
        Operation::CreateSecurityGroup {
            vpc_id,
            group_name,
            description,
            ingress_tcp_443_from,
        } => {
            let id = aws
                .create_https_security_group(vpc_id, group_name, description, ingress_tcp_443_from)
                .await?;
            (
                Value::String(id.clone()),
                Some(Operation::DeleteSecurityGroup { group_id: id }),
            )
        }
        Operation::CreateVpcEndpoint {
            vpc_id,
            service_name,
            vpc_endpoint_type,
            subnet_ids,
            security_group_ids,
            route_table_ids,
            private_dns_enabled,
        } => {
            let spec = EndpointSpec {
                vpc_id: vpc_id.clone(),
                service_name: service_name.clone(),
                interface: vpc_endpoint_type.eq_ignore_ascii_case("Interface"),
                subnet_ids: subnet_ids.clone(),
                security_group_ids: security_group_ids.clone(),
                route_table_ids: route_table_ids.clone(),
                private_dns: *private_dns_enabled,
            };
            let id = aws.create_vpc_endpoint(&spec).await?;
            (
                Value::String(id.clone()),
                Some(Operation::DeleteVpcEndpoint {
                    vpc_endpoint_id: id,
                }),
            )
        }
        Operation::ModifyVpcAttribute {
            vpc_id,
            attribute,
            value,
        } => {
            let before = aws.describe_vpcs(std::slice::from_ref(vpc_id)).await?;
            let previous = before.first().map(|v| {
                if attribute == "enableDnsSupport" {
                    v.dns_support
                } else {
                    v.dns_hostnames
                }
            });
            aws.modify_vpc_attribute(vpc_id, attribute, *value).await?;
            let inverse = previous
                .filter(|p| p != value)
                .map(|p| Operation::ModifyVpcAttribute {
                    vpc_id: vpc_id.clone(),
                    attribute: attribute.clone(),
                    value: p,
                });
            (Value::Null, inverse)
        }
        Operation::AuthorizeSecurityGroupEgress {
            group_id,
            protocol,
            port,
            prefix_list_id,
        } => {
            aws.authorize_egress(group_id, protocol, *port, prefix_list_id)
                .await?;
            let inverse = Operation::RevokeSecurityGroupEgress {
                group_id: group_id.clone(),
                protocol: protocol.clone(),
                port: *port,
                prefix_list_id: prefix_list_id.clone(),
            };
            (Value::Null, Some(inverse))
        }
        Operation::RegisterTaskDefinition { from, patch, .. } => {
            let changes = top_level_changes(patch).map_err(|message| AwsError {
                api: "ecs:RegisterTaskDefinition",
                kind: ErrorKind::Other,
                message,
            })?;
            let arn = aws.register_revision(from, &changes).await?;
            (
                Value::String(arn.clone()),
                Some(Operation::DeregisterTaskDefinition {
                    task_definition: arn,
                }),
            )
        }
        Operation::UpdateService {
            cluster,
            service,
            task_definition,
            platform_version,
            force_new_deployment,
        } => {
            let before = aws
                .describe_services(cluster, std::slice::from_ref(service))
                .await?;
            let Some(prev) = before.first() else {
                return Err(AwsError {
                    api: "ecs:DescribeServices",
                    kind: ErrorKind::NotFound,
                    message: format!("service `{service}` not found"),
                });
            };
            let prev_pv = prev
                .json
                .get("platformVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
            aws.update_service(
                cluster,
                service,
                task_definition.as_deref(),
                platform_version.as_deref(),
                *force_new_deployment,
            )
            .await?;
            let inverse = (task_definition.is_some() || platform_version.is_some()).then(|| {
                Operation::UpdateService {
                    cluster: cluster.clone(),
                    service: service.clone(),
                    task_definition: task_definition
                        .as_ref()
                        .map(|_| prev.task_definition.clone()),
                    platform_version: platform_version.as_ref().and(prev_pv),
                    force_new_deployment: false,
                }
            });
            (Value::Null, inverse)
        }
        Operation::DeleteRole {
            role_name,
            detach_policy_arns,
        } => {
            for arn in detach_policy_arns {
                ignore_missing(aws.detach_role_policy(role_name, arn).await)?;
            }
            ignore_missing(aws.delete_role(role_name).await)?;
            (Value::Null, None)
        }
        Operation::DeleteRolePolicy {
            role_name,
            policy_name,
        } => {
            ignore_missing(aws.delete_role_policy(role_name, policy_name).await)?;
            (Value::Null, None)
        }
        Operation::DetachRolePolicy {
            role_name,
            policy_arn,
        } => {
            ignore_missing(aws.detach_role_policy(role_name, policy_arn).await)?;
            (Value::Null, None)
        }
        Operation::DeleteSecurityGroup { group_id } => {
            ignore_missing(aws.delete_security_group(group_id).await)?;
            (Value::Null, None)
        }
        Operation::DeleteVpcEndpoint { vpc_endpoint_id } => {
            ignore_missing(aws.delete_vpc_endpoint(vpc_endpoint_id).await)?;
            (Value::Null, None)
        }
        Operation::RevokeSecurityGroupEgress {
            group_id,
            protocol,
            port,
            prefix_list_id,
        } => {
            ignore_missing(
                aws.revoke_egress(group_id, protocol, *port, prefix_list_id)
                    .await,
            )?;
            (Value::Null, None)
        }
        Operation::DeregisterTaskDefinition { task_definition } => {
            aws.deregister_task_definition(task_definition).await?;
            (Value::Null, None)
        }
    })
}

/// Undoing something already gone is done.
fn ignore_missing(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The top-level fields a task-definition patch sets (`/cpu`, `/memory`, `/executionRoleArn`).
pub fn top_level_changes(
    patch: &[json_patch::PatchOperation],
) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    for op in patch {
        let (path, value) = match op {
            json_patch::PatchOperation::Test(_) => continue,
            json_patch::PatchOperation::Replace(r) => (&r.path, &r.value),
            json_patch::PatchOperation::Add(a) => (&a.path, &a.value),
            other => {
                return Err(format!(
                    "`{}` cannot be applied to a live task definition",
                    other.path()
                ));
            }
        };
        if path.count() != 1 {
            return Err(format!(
                "`{path}` cannot be applied to a live task definition"
            ));
        }
        out.push((
            path.last()
                .map(|t| t.decoded().into_owned())
                .unwrap_or_default(),
            value.clone(),
        ));
    }
    Ok(out)
}

/// One completed step of a journal that rollback may undo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Undo {
    pub seq: u64,
    pub region: String,
    pub inverse: Operation,
}

/// Reads a journal: the completed steps with an inverse that are not rolled back yet, newest
/// first.
pub fn pending_undo(text: &str) -> Result<Vec<Undo>, String> {
    let mut done: Vec<Undo> = Vec::new();
    let mut undone: Vec<u64> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        match v["phase"].as_str() {
            Some("after") if v["status"] == "ok" && !v["inverse"].is_null() => {
                let inverse: Operation = serde_json::from_value(v["inverse"].clone())
                    .map_err(|e| format!("line {}: {e}", i + 1))?;
                done.push(Undo {
                    seq: v["seq"].as_u64().unwrap_or(0),
                    region: v["region"].as_str().unwrap_or_default().to_string(),
                    inverse,
                });
            }
            Some("rollback-after") if v["status"] == "ok" || v["status"] == "skipped" => {
                undone.extend(v["of"].as_u64())
            }
            _ => {}
        }
    }
    done.retain(|d| !undone.contains(&d.seq));
    done.reverse();
    Ok(done)
}

/// Undoes the given steps, newest first, journaling each. `deregister` allows deregistering
/// revisions the apply registered (otherwise they are kept and reported).
pub async fn rollback<A: Aws>(
    regions: &BTreeMap<String, A>,
    steps: &[Undo],
    deregister: bool,
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
        if matches!(step.inverse, Operation::DeregisterTaskDefinition { .. }) && !deregister {
            journal.record(json!({"phase": "rollback-after", "of": step.seq, "status": "kept", "operation": step.inverse}))?;
            out.skipped.push(format!(
                "{label}: kept; pass `--deregister` to deregister the new revision"
            ));
            continue;
        }
        let Some(aws) = regions.get(&step.region) else {
            out.failed = Some((label, format!("no client for region `{}`", step.region)));
            continue;
        };
        journal.record(json!({"phase": "rollback-before", "of": step.seq, "region": step.region, "operation": step.inverse}))?;
        match perform(aws, &step.inverse).await {
            Ok(_) => {
                journal
                    .record(json!({"phase": "rollback-after", "of": step.seq, "status": "ok"}))?;
                out.done += 1;
            }
            Err(e) => {
                journal.record(json!({"phase": "rollback-after", "of": step.seq, "status": "failed", "error": e.to_string()}))?;
                out.failed = Some((label, e.to_string()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_replay_finds_what_to_undo_newest_first() {
        let text = [
            json!({"seq": 1, "phase": "before", "operation": {}}),
            json!({"seq": 1, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "iam:DeleteRolePolicy", "role_name": "a", "policy_name": "p"}}),
            json!({"seq": 2, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "ec2:DeleteSecurityGroup", "group_id": "sg-1"}}),
            json!({"seq": 3, "phase": "after", "status": "failed", "region": "r", "error": "x"}),
        ]
        .iter()
        .map(|v| v.to_string() + "\n")
        .collect::<String>();
        let undo = pending_undo(&text).unwrap();
        assert_eq!(undo.iter().map(|u| u.seq).collect::<Vec<_>>(), [2, 1]);
        let after = text + &json!({"phase": "rollback-after", "of": 2, "status": "ok"}).to_string();
        assert_eq!(
            pending_undo(&after)
                .unwrap()
                .iter()
                .map(|u| u.seq)
                .collect::<Vec<_>>(),
            [1]
        );
        assert!(pending_undo("not json").is_err());
    }

    #[test]
    fn only_top_level_fields_are_applied_live() {
        let ops: Vec<json_patch::PatchOperation> = serde_json::from_value(json!([
            {"op": "test", "path": "/memory", "value": "512"},
            {"op": "replace", "path": "/memory", "value": "1024"},
            {"op": "add", "path": "/executionRoleArn", "value": "arn"}
        ]))
        .unwrap();
        assert_eq!(
            top_level_changes(&ops).unwrap(),
            vec![
                ("memory".into(), json!("1024")),
                ("executionRoleArn".into(), json!("arn"))
            ]
        );
        let bad: Vec<json_patch::PatchOperation> = serde_json::from_value(
            json!([{"op": "replace", "path": "/containerDefinitions/0/memory", "value": 1}]),
        )
        .unwrap();
        assert!(top_level_changes(&bad).is_err());
    }
}
