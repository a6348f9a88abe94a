//! The account planner: an `Inventory` becomes a `Plan`. Task definitions and services are
//! planned as documents, exactly as AWS returned them, with the same `plan::document` as a file
//! (the same checks, patches and diffs); the account checks add findings on roles, networks,
//! clusters and the account; every fix becomes AWS operations.

use crate::agent;
use crate::check::fix::endpoints::NEW_GROUP;
use crate::check::{self, AccountContext, EcrPolicy};
use crate::fingerprint::{self, Fingerprint, Subject};
use crate::model::inventory::{Inventory, RoleView};
use crate::model::{Applicability, Document, Finding, InputError, Origin, Shape};
use crate::operation::Operation;
use crate::plan::{self, DocPlan, Plan, PlanOptions, PlannedOperation};
use json_patch::PatchOperation;
use serde_json::Value;

/// A document read from the account, shown as pretty JSON (what the diff is made of).
fn document(arn: &str, value: &Value, shape: Shape) -> Document {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    Document {
        origin: Origin::Account {
            arn: arn.to_string(),
        },
        text,
        bom: false,
        value: value.clone(),
        shape,
        yaml: None,
        module: Vec::new(),
    }
}

/// One endpoint per service name and VPC, however many services need it: AWS allows one
/// endpoint with private DNS per service name in a VPC, and one subnet per Availability Zone.
/// The first operation keeps the subnets (one per zone) and route tables of all.
fn merge_endpoints(ops: &mut Vec<PlannedOperation>, inv: &Inventory) {
    let zone = |id: &str| {
        inv.network
            .as_ref()
            .ok()
            .and_then(|n| n.subnets.iter().find(|s| s.id == id))
            .map(|s| s.availability_zone.clone())
    };
    let mut merged: Vec<PlannedOperation> = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        let Operation::CreateVpcEndpoint {
            vpc_id,
            service_name,
            subnet_ids,
            route_table_ids,
            ..
        } = &op.operation
        else {
            merged.push(op);
            continue;
        };
        let first = merged.iter_mut().find_map(|o| match &mut o.operation {
            Operation::CreateVpcEndpoint {
                vpc_id: v,
                service_name: n,
                subnet_ids: s,
                route_table_ids: r,
                ..
            } if v == vpc_id && n == service_name => Some((s, r)),
            _ => None,
        });
        let Some((subnets, route_tables)) = first else {
            merged.push(op);
            continue;
        };
        for id in subnet_ids {
            let taken = subnets
                .iter()
                .any(|s| s == id || (zone(s).is_some() && zone(s) == zone(id)));
            if !taken {
                subnets.push(id.clone());
            }
        }
        for rt in route_table_ids {
            if !route_tables.contains(rt) {
                route_tables.push(rt.clone());
            }
        }
    }
    *ops = merged;
}

/// The name of a cluster (what `UpdateService` and the checks' operations name it by).
fn cluster_name(inv: &Inventory, arn: &str) -> String {
    inv.cluster(arn).map_or(arn.to_string(), |c| c.name.clone())
}

/// The strictest applicability among findings (unsafe beats safe).
fn strictest(findings: &[Finding]) -> (Applicability, Option<String>) {
    let unsafe_reason = findings
        .iter()
        .find(|f| f.fix.applicability == Applicability::Unsafe)
        .map(|f| f.fix.reason.clone());
    match unsafe_reason {
        Some(r) => (Applicability::Unsafe, r),
        None => (Applicability::Safe, None),
    }
}

/// The value a patch sets at `/platformVersion`, if any.
fn platform_from(patch: &[PatchOperation]) -> Option<String> {
    patch.iter().find_map(|op| match op {
        PatchOperation::Replace(r) if r.path.as_str() == "/platformVersion" => {
            r.value.as_str().map(str::to_string)
        }
        _ => None,
    })
}

/// What an operation touches, and how it looked when scanned.
fn fingerprint_of(inv: &Inventory, op: &Operation) -> Option<Fingerprint> {
    let net = inv.network.as_ref().ok();
    let (of, sha256) = match op {
        Operation::CreateRole { role_name, .. }
        | Operation::PutRolePolicy { role_name, .. }
        | Operation::AttachRolePolicy { role_name, .. } => {
            let sha = match inv.roles.get(role_name) {
                Some(RoleView::Found { fingerprint, .. }) => fingerprint.clone(),
                Some(RoleView::Missing) => fingerprint::role(None),
                _ => return None,
            };
            (
                Subject::Role {
                    name: role_name.clone(),
                },
                sha,
            )
        }
        // A rule on a group that exists: that group is what must not have changed.
        Operation::AuthorizeSecurityGroupIngress { group_id, .. } if group_id != NEW_GROUP => {
            let g = net?.security_groups.iter().find(|g| &g.id == group_id);
            (
                Subject::SecurityGroup {
                    id: group_id.clone(),
                },
                fingerprint::security_group(g),
            )
        }
        Operation::CreateSecurityGroup { vpc_id, .. }
        | Operation::AuthorizeSecurityGroupIngress { vpc_id, .. }
        | Operation::CreateVpcEndpoint { vpc_id, .. }
        | Operation::ModifyVpcEndpoint { vpc_id, .. }
        | Operation::ModifyVpcAttribute { vpc_id, .. } => {
            let net = net?;
            (
                Subject::Vpc { id: vpc_id.clone() },
                fingerprint::vpc(vpc_id, &net.route_tables, &net.endpoints),
            )
        }
        Operation::AuthorizeSecurityGroupEgress { group_id, .. } => {
            let g = net?.security_groups.iter().find(|g| &g.id == group_id);
            (
                Subject::SecurityGroup {
                    id: group_id.clone(),
                },
                fingerprint::security_group(g),
            )
        }
        Operation::RegisterTaskDefinition { from, .. } => {
            let td = inv.task_defs.get(from)?.as_ref().ok()?;
            (
                Subject::TaskDefinition { arn: from.clone() },
                fingerprint::task_definition(&td.document),
            )
        }
        Operation::UpdateService {
            cluster, service, ..
        } => {
            let svc = inv
                .services
                .iter()
                .find(|s| &s.name == service && cluster_name(inv, &s.cluster_arn) == *cluster)?;
            (
                Subject::Service {
                    cluster: svc.cluster_arn.clone(),
                    service: svc.name.clone(),
                },
                fingerprint::service(&svc.json),
            )
        }
        _ => return None,
    };
    Some(Fingerprint { of, sha256 })
}

pub fn plan_inventory(inv: &Inventory, opts: &PlanOptions, ecr_policy: EcrPolicy) -> Plan {
    let mut opts = opts.clone();
    opts.checks.account = Some((inv.identity.account.clone(), inv.identity.partition.clone()));
    opts.materialize = true;
    // Account documents are registered by `apply --live`, never reshaped for a file.
    opts.registerable = false;
    let mut plan = Plan::default();
    for (cluster, e) in &inv.errors {
        plan.errors.push(InputError::new(
            cluster.clone(),
            format!("cannot read services: {e}"),
            None,
        ));
    }
    let mut td_docs: Vec<DocPlan> = Vec::new();
    for (arn, td) in &inv.task_defs {
        match td {
            Ok(td) => {
                let doc = document(arn, &td.document, Shape::DescribeTaskDefinition);
                match plan::plan_document(&doc, &opts) {
                    Ok(d) => td_docs.push(d),
                    Err(e) => plan.errors.push(e),
                }
            }
            Err(e) => plan.errors.push(InputError::new(
                arn.clone(),
                format!("cannot read the task definition: {e}"),
                None,
            )),
        }
    }
    let mut svc_docs = Vec::new();
    for svc in &inv.services {
        match plan::plan_document(&document(&svc.arn, &svc.json, Shape::Service), &opts) {
            Ok(d) => svc_docs.push((svc, d)),
            Err(e) => plan.errors.push(e),
        }
    }

    let ctx = AccountContext {
        inventory: inv,
        repository: agent::repository(&inv.region),
        ecr_policy,
    };
    let mut outcome = check::run_account(&ctx);
    // GuardDuty's own coverage beside every finding of the region.
    let (coverage, cov) = {
        let all: Vec<&Finding> = td_docs
            .iter()
            .chain(svc_docs.iter().map(|(_, d)| d))
            .flat_map(|d| d.findings.iter())
            .chain(outcome.findings.iter())
            .collect();
        (
            crate::coverage::reconcile(inv, &all).unwrap_or_default(),
            check::run_coverage(&ctx, &all),
        )
    };
    outcome.extend(cov);
    // A finding on a cluster GuardDuty reports healthy is kept, and said to be unobserved.
    let unobserved = |f: &Finding| {
        let key = (f.check.slug, f.resource.clone());
        coverage
            .iter()
            .find(|c| c.not_yet_observed_keys.contains(&key))
            .map(|c| c.cluster.clone())
    };
    for f in td_docs
        .iter_mut()
        .chain(svc_docs.iter_mut().map(|(_, d)| d))
        .flat_map(|d| d.findings.iter_mut())
        .chain(outcome.findings.iter_mut())
    {
        if let Some(cluster) = unobserved(f) {
            f.message.push_str(&format!(
                " (GuardDuty reports cluster `{cluster}` `HEALTHY`: not yet observed by GuardDuty)"
            ));
        }
    }
    plan.account.coverage = coverage;
    if let crate::model::inventory::CoverageRead::Unreadable(e) = &inv.coverage {
        plan.account.coverage_unread.push((
            inv.identity.account.clone(),
            inv.region.clone(),
            e.to_string(),
        ));
    }
    if let crate::model::inventory::CoverageRead::Read {
        counts: Ok(counts), ..
    } = &inv.coverage
    {
        plan.account
            .coverage_counts
            .entry(inv.identity.account.clone())
            .or_default()
            .insert(inv.region.clone(), counts.clone());
    }
    let mut ops: Vec<PlannedOperation> = Vec::new();
    // Services to redeploy, by (cluster, service): a same-named service elsewhere is another.
    let mut force: Vec<(String, String)> = Vec::new();
    for f in &outcome.findings {
        for op in &f.fix.operations {
            if let Operation::UpdateService {
                cluster,
                service,
                force_new_deployment: true,
                ..
            } = op
            {
                // Merged into the service's one UpdateService below.
                force.push((cluster.clone(), service.clone()));
                continue;
            }
            if !ops.iter().any(|o| &o.operation == op) {
                ops.push(PlannedOperation {
                    region: String::new(),
                    fingerprint: None,
                    resource: f.resource.clone(),
                    title: f.fix.title.clone(),
                    applicability: f.fix.applicability,
                    reason: f.fix.reason.clone(),
                    operation: op.clone(),
                });
            }
        }
    }
    // One new revision per changed task definition, however many services use it.
    let mut registered: Vec<(String, String)> = Vec::new();
    for d in td_docs.iter().filter(|d| d.is_changed()) {
        let family = inv
            .task_defs
            .get(&d.resource)
            .and_then(|t| t.as_ref().ok())
            .and_then(|t| t.field("family"))
            .unwrap_or_default();
        let (applicability, reason) = strictest(&d.findings);
        ops.push(PlannedOperation {
            region: String::new(),
            fingerprint: None,
            resource: d.resource.clone(),
            title: format!("register a new revision of `{family}` (the current one is kept)"),
            applicability,
            reason,
            operation: Operation::RegisterTaskDefinition {
                from: d.resource.clone(),
                family: family.to_string(),
                patch: d.patch.clone(),
            },
        });
        registered.push((d.resource.clone(), family.to_string()));
    }
    // One UpdateService per service: new revision, platform version, forced deployment.
    for (svc, d) in &svc_docs {
        // Keyed by the source revision the service runs, never by family.
        let new_td = registered
            .iter()
            .find(|(arn, _)| *arn == svc.task_definition)
            .map(|(_, family)| family.clone());
        let platform = platform_from(&d.patch);
        let cluster = cluster_name(inv, &svc.cluster_arn);
        let forced = force.contains(&(cluster.clone(), svc.name.clone()))
            && new_td.is_none()
            && platform.is_none();
        if new_td.is_none() && platform.is_none() && !forced {
            continue;
        }
        let mut what = Vec::new();
        if let Some(f) = &new_td {
            what.push(format!("the new revision of `{f}`"));
        }
        if let Some(p) = &platform {
            what.push(format!("platform `{p}`"));
        }
        if forced {
            what.push("a new deployment".to_string());
        }
        ops.push(PlannedOperation {
            region: String::new(),
            fingerprint: None,
            resource: svc.arn.clone(),
            title: format!("update service `{}` to {}", svc.name, what.join(" and ")),
            applicability: Applicability::Unsafe,
            reason: Some("starts a new deployment that replaces the running tasks".into()),
            operation: Operation::UpdateService {
                cluster,
                service: svc.name.clone(),
                task_definition: None,
                new_revision_of: new_td.is_some().then(|| svc.task_definition.clone()),
                platform_version: platform,
                force_new_deployment: forced,
            },
        });
    }
    merge_endpoints(&mut ops, inv);
    for op in &mut ops {
        op.region = inv.region.clone();
        op.fingerprint = fingerprint_of(inv, &op.operation);
    }
    ops.sort_by_key(|o| o.operation.stage());
    plan.docs.extend(td_docs);
    plan.docs.extend(svc_docs.into_iter().map(|(_, d)| d));
    plan.account.findings = outcome.findings;
    plan.account.not_checked = outcome.not_checked;
    plan.account.operations = ops;
    plan
}
