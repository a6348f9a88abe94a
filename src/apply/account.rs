//! `apply --live`: carry out an account plan's operations in order, behind preconditions, with
//! a journal record before and after each call and the inverse of each step.

use super::journal::Journal;
use super::preconditions::{current, subject_label};
use crate::aws::{Aws, AwsError, EndpointSpec, ErrorKind, Tags};
use crate::fingerprint::Subject;
use crate::operation::Operation;
use crate::plan::PlannedOperation;
use crate::plan::document::register_input;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Stands for the security group a plan creates, until it exists.
pub use crate::check::fix::endpoints::NEW_GROUP;

/// The tag on every resource apply creates (the apply policy allows creating only with it, and
/// deleting only what carries it).
pub const CREATED_BY: (&str, &str) = ("fargate-rtm:created-by", "apply");
/// The tag that names the run that created a resource: how rollback finds what a step begun
/// and never recorded as finished created.
pub const RUN_TAG: &str = "fargate-rtm:run";

/// The tags of the resources run `run` creates.
pub fn created_tags(run: &str) -> Tags {
    Tags::from([
        (CREATED_BY.0.to_string(), CREATED_BY.1.to_string()),
        (RUN_TAG.to_string(), run.to_string()),
    ])
}

/// The outcome of a run: how many operations were done, and the failure that stopped it.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: usize,
    pub failed: Option<(String, String)>,
    /// Operations not run because an earlier step failed.
    pub skipped: Vec<String>,
    /// Rollback: steps left as they are because the resource changed since the apply.
    pub changed: Vec<String>,
}

/// What one run has done so far, carried from one journal to the next when a run spans several
/// (one per region of an account).
#[derive(Default)]
pub struct RunState {
    new_revisions: BTreeMap<String, String>,
    new_groups: BTreeMap<String, String>,
    /// Resources this run already changed: their fingerprint is expected to differ now.
    touched: Vec<Subject>,
    /// Task definitions as read (and found unchanged) right before their first change.
    documents: BTreeMap<String, Value>,
}

/// Runs the operations in order. Stops at the first failure; everything after it is skipped
/// with the reason.
pub async fn execute<A: Aws>(
    regions: &BTreeMap<String, A>,
    ops: &[PlannedOperation],
    journal: &mut Journal,
) -> std::io::Result<Outcome> {
    execute_in(regions, ops, journal, &mut RunState::default()).await
}

/// `execute`, continuing the run `state` describes (what earlier journals of it changed).
pub async fn execute_in<A: Aws>(
    regions: &BTreeMap<String, A>,
    ops: &[PlannedOperation],
    journal: &mut Journal,
    state: &mut RunState,
) -> std::io::Result<Outcome> {
    let mut out = Outcome::default();
    let RunState {
        new_revisions,
        new_groups,
        touched,
        documents,
    } = state;
    let tags = created_tags(&journal.run);
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
            if now.as_ref().ok().map(|c| &c.fingerprint) != Some(&fp.sha256) {
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
            if let (Subject::TaskDefinition { arn }, Ok(c)) = (&fp.of, now)
                && let Some(document) = c.document
            {
                documents.insert(arn.clone(), document);
            }
        }
        if let Some(fp) = &op.fingerprint {
            touched.push(fp.of.clone());
        }
        let operation = resolve(&op.operation, new_revisions, new_groups);
        // What undoes the step, when it is known before the call, is journaled with the
        // `before` record: a run killed during the call can still be rolled back.
        let undo = match undo_before(aws, &operation).await {
            Ok(u) => u,
            Err(e) => {
                journal.record(json!({"seq": seq, "phase": "precondition", "status": "failed", "region": op.region, "error": e.to_string()}))?;
                out.failed = Some((op.title.clone(), e.to_string()));
                continue;
            }
        };
        // A creation's tags go in its `before` record: rollback finds by them what a creation
        // killed during its call left.
        let created = matches!(
            operation,
            Operation::CreateRole { .. }
                | Operation::CreateSecurityGroup { .. }
                | Operation::CreateVpcEndpoint { .. }
        );
        journal.record(json!({"seq": seq, "phase": "before", "region": op.region, "resource": op.resource, "operation": operation, "undo": undo, "tags": created.then_some(&tags)}))?;
        match perform(aws, &operation, documents, &tags).await {
            Ok((result, inverse)) => {
                let inverse = undo.or(inverse);
                match (&operation, &result) {
                    (Operation::RegisterTaskDefinition { from, .. }, Value::String(arn)) => {
                        new_revisions.insert(from.clone(), arn.clone());
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
            task_definition,
            new_revision_of: Some(from),
            ..
        } => {
            if let Some(arn) = revisions.get(from.as_str()) {
                *task_definition = Some(arn.clone());
            }
        }
        Operation::AuthorizeSecurityGroupIngress {
            vpc_id, group_id, ..
        } => {
            if group_id == NEW_GROUP
                && let Some(id) = groups.get(vpc_id.as_str())
            {
                *group_id = id.clone();
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

/// A group id that stands for one, not the placeholder of a group this run did not create.
fn created_group(group_id: &str) -> Result<(), AwsError> {
    if group_id != NEW_GROUP {
        return Ok(());
    }
    Err(AwsError {
        api: "ec2:AuthorizeSecurityGroupIngress",
        kind: ErrorKind::Other,
        message: "the security group this plan creates was not created in this run".into(),
    })
}

/// The operation that undoes `op`, when it is known before the call: from the resource as it
/// is now (the previous inline policy, service revision and platform, VPC attribute) or from
/// the operation itself. `None` for creations, whose undo needs the id the call returns.
pub(crate) async fn undo_before<A: Aws>(
    aws: &A,
    op: &Operation,
) -> Result<Option<Operation>, AwsError> {
    Ok(match op {
        Operation::PutRolePolicy {
            role_name,
            policy_name,
            ..
        } => Some(match aws.inline_policy(role_name, policy_name).await? {
            Some(doc) => Operation::PutRolePolicy {
                role_name: role_name.clone(),
                policy_name: policy_name.clone(),
                policy_document: doc,
            },
            None => Operation::DeleteRolePolicy {
                role_name: role_name.clone(),
                policy_name: policy_name.clone(),
            },
        }),
        Operation::AttachRolePolicy {
            role_name,
            policy_arn,
        } => Some(Operation::DetachRolePolicy {
            role_name: role_name.clone(),
            policy_arn: policy_arn.clone(),
        }),
        Operation::ModifyVpcAttribute {
            vpc_id,
            attribute,
            value,
        } => {
            let before = aws.describe_vpcs(std::slice::from_ref(vpc_id)).await?;
            before
                .first()
                .map(|v| {
                    if attribute == "enableDnsSupport" {
                        v.dns_support
                    } else {
                        v.dns_hostnames
                    }
                })
                .filter(|p| p != value)
                .map(|p| Operation::ModifyVpcAttribute {
                    vpc_id: vpc_id.clone(),
                    attribute: attribute.clone(),
                    value: p,
                })
        }
        Operation::ModifyVpcEndpoint {
            vpc_id,
            vpc_endpoint_id,
            add_route_table_ids,
            remove_route_table_ids,
            private_dns_enabled,
        } => {
            // The endpoint's private DNS as it is now, to put it back.
            let now = aws
                .describe_vpc_endpoints(std::slice::from_ref(vpc_id))
                .await?;
            let Some(e) = now.iter().find(|e| &e.id == vpc_endpoint_id) else {
                return Err(AwsError {
                    api: "ec2:DescribeVpcEndpoints",
                    kind: ErrorKind::NotFound,
                    message: format!("endpoint `{vpc_endpoint_id}` not found"),
                });
            };
            Some(Operation::ModifyVpcEndpoint {
                vpc_id: vpc_id.clone(),
                vpc_endpoint_id: vpc_endpoint_id.clone(),
                add_route_table_ids: remove_route_table_ids
                    .iter()
                    .filter(|r| e.route_table_ids.contains(r))
                    .cloned()
                    .collect(),
                remove_route_table_ids: add_route_table_ids
                    .iter()
                    .filter(|r| !e.route_table_ids.contains(r))
                    .cloned()
                    .collect(),
                private_dns_enabled: private_dns_enabled
                    .filter(|on| *on != e.private_dns)
                    .map(|_| e.private_dns),
            })
        }
        Operation::AuthorizeSecurityGroupEgress {
            group_id,
            protocol,
            port,
            destination,
        } => Some(Operation::RevokeSecurityGroupEgress {
            group_id: group_id.clone(),
            protocol: protocol.clone(),
            port: *port,
            destination: destination.clone(),
        }),
        Operation::AuthorizeSecurityGroupIngress {
            group_id, cidrs, ..
        } => {
            created_group(group_id)?;
            Some(Operation::RevokeSecurityGroupIngress {
                group_id: group_id.clone(),
                cidrs: cidrs.clone(),
            })
        }
        Operation::UpdateService {
            cluster,
            service,
            task_definition,
            platform_version,
            ..
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
            let prev_pv = prev.json["platformVersion"].as_str().map(str::to_string);
            (task_definition.is_some() || platform_version.is_some()).then(|| {
                Operation::UpdateService {
                    cluster: cluster.clone(),
                    service: service.clone(),
                    task_definition: task_definition
                        .as_ref()
                        .map(|_| prev.task_definition.clone()),
                    new_revision_of: None,
                    platform_version: platform_version.as_ref().and(prev_pv),
                    force_new_deployment: false,
                }
            })
        }
        _ => None,
    })
}

/// Performs one operation; returns its result and, for a creation, the operation that undoes
/// it (the other undos are known before the call: `undo_before`). `documents`
/// holds the task definitions read by the preconditions, by ARN: a new revision is registered
/// from that document with the planned patch. What the step creates carries `tags`.
pub(crate) async fn perform<A: Aws>(
    aws: &A,
    op: &Operation,
    documents: &BTreeMap<String, Value>,
    tags: &Tags,
) -> Result<(Value, Option<Operation>), AwsError> {
    Ok(match op {
        Operation::CreateRole {
            role_name,
            assume_role_policy,
            attach_policy_arns,
        } => {
            aws.create_role(role_name, assume_role_policy, tags).await?;
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
            aws.put_role_policy(role_name, policy_name, policy_document)
                .await?;
            (Value::Null, None)
        }
        Operation::AttachRolePolicy {
            role_name,
            policy_arn,
        } => {
            aws.attach_role_policy(role_name, policy_arn).await?;
            (Value::Null, None)
        }
        Operation::CreateSecurityGroup {
            vpc_id,
            group_name,
            description,
        } => {
            let id = aws
                .create_security_group(vpc_id, group_name, description, tags)
                .await?;
            (
                Value::String(id.clone()),
                Some(Operation::DeleteSecurityGroup { group_id: id }),
            )
        }
        Operation::AuthorizeSecurityGroupIngress {
            group_id, cidrs, ..
        } => {
            created_group(group_id)?;
            aws.authorize_https_ingress(group_id, cidrs).await?;
            (Value::Null, None)
        }
        Operation::RevokeSecurityGroupIngress { group_id, cidrs } => {
            ignore_missing(aws.revoke_https_ingress(group_id, cidrs).await)?;
            (Value::Null, None)
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
                tags: tags.clone(),
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
            aws.modify_vpc_attribute(vpc_id, attribute, *value).await?;
            (Value::Null, None)
        }
        Operation::ModifyVpcEndpoint {
            vpc_endpoint_id,
            add_route_table_ids,
            remove_route_table_ids,
            private_dns_enabled,
            ..
        } => {
            if !add_route_table_ids.is_empty()
                || !remove_route_table_ids.is_empty()
                || private_dns_enabled.is_some()
            {
                aws.modify_vpc_endpoint(
                    vpc_endpoint_id,
                    add_route_table_ids,
                    remove_route_table_ids,
                    *private_dns_enabled,
                )
                .await?;
            }
            (Value::Null, None)
        }
        Operation::AuthorizeSecurityGroupEgress {
            group_id,
            protocol,
            port,
            destination,
        } => {
            aws.authorize_egress(group_id, protocol, *port, destination)
                .await?;
            (Value::Null, None)
        }
        Operation::RegisterTaskDefinition { from, patch, .. } => {
            // Only from the document the precondition read and found as planned: a plan
            // without the task definition's fingerprint does not say what it was made from.
            let document = documents.get(from).ok_or_else(|| AwsError {
                api: "ecs:RegisterTaskDefinition",
                kind: ErrorKind::Other,
                message: format!("`{from}` has no fingerprint in the plan; plan again"),
            })?;
            let input = register_input(document, patch).map_err(|message| AwsError {
                api: "ecs:RegisterTaskDefinition",
                kind: ErrorKind::Other,
                message: format!("`{from}`: {message}"),
            })?;
            let arn = aws.register_task_definition(&input).await?;
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
            new_revision_of,
            platform_version,
            force_new_deployment,
        } => {
            if let (Some(from), None) = (new_revision_of, task_definition) {
                return Err(AwsError {
                    api: "ecs:UpdateService",
                    kind: ErrorKind::Other,
                    message: format!("the new revision of `{from}` was not registered in this run"),
                });
            }
            aws.update_service(
                cluster,
                service,
                task_definition.as_deref(),
                platform_version.as_deref(),
                *force_new_deployment,
            )
            .await?;
            (Value::Null, None)
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
            // Endpoints deleted just before still hold the group while AWS removes them: wait
            // for them, bounded (about 4 minutes in all).
            let mut wait = std::time::Duration::from_secs(1);
            loop {
                match aws.delete_security_group(group_id).await {
                    Err(e) if e.kind == ErrorKind::InUse && wait.as_secs() <= 128 => {
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    other => break ignore_missing(other)?,
                }
            }
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
            destination,
        } => {
            ignore_missing(
                aws.revoke_egress(group_id, protocol, *port, destination)
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
