//! Planning one document: run the checks on each resource in it, merge the fixes into one
//! RFC 6902 patch, and (when asked) the text as it will be written.

use super::{Change, Derived, DocPlan, PlanOptions, Skip};
use crate::check::{self, Context};
use crate::model::{
    self, Applicability, Document, Finding, InputError, NotChecked, Origin, Resource, Shape,
};
use crate::redact;
use crate::text_patch;
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, MoveOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::Value;

/// The document with `patch` applied, as text that changes only the patched fields, and the
/// other files of its module the patch changes (a Terraform variable's `default`, a tfvars
/// entry); `None` for the text when only those change.
pub fn materialize(
    resource: &str,
    doc: &Document,
    patch: &[PatchOperation],
) -> Result<(Option<Change>, Vec<Derived>), InputError> {
    let mut others = Vec::new();
    let edited = match &doc.yaml {
        // JSON syntax: the resource's own literals, at their JSON pointers (a value written in
        // another file stays a manual fix).
        None if doc.shape == Shape::Terraform && doc.value.is_object() => {
            if patch
                .iter()
                .any(|op| !op.path().as_str().starts_with("/resource/"))
            {
                Err("a value outside the resource is not edited in JSON syntax".into())
            } else {
                text_patch::apply_to_text(&doc.text, &doc.value, patch).map_err(|e| e.to_string())
            }
        }
        None if doc.shape == Shape::Terraform => {
            let this = terraform_file(doc);
            crate::model::tf::apply_module(&this, &doc.module, patch).map(|(text, edited)| {
                others = edited
                    .into_iter()
                    .map(|e| Derived {
                        name: e.name,
                        text: e.new,
                        old_text: Some(e.old),
                    })
                    .collect();
                (text, Value::Null)
            })
        }
        Some(y) => crate::yaml_patch::apply(&doc.text, y, patch),
        None => text_patch::apply_to_text(&doc.text, &doc.value, patch).map_err(|e| e.to_string()),
    };
    let (new_text, new_value) = edited.map_err(|e| {
        InputError::new(
            resource,
            format!("the patch does not apply: {e}"),
            Some("if the input changed, plan again; otherwise please report this"),
        )
    })?;
    if new_text == doc.text && doc.shape == Shape::Terraform {
        return Ok((None, others));
    }
    Ok((
        Some(Change {
            old_text: doc.text.clone(),
            new_text,
            secrets: {
                let mut s = redact::secret_literals(&doc.value);
                s.extend(redact::secret_literals(&new_value));
                s.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
                s.dedup();
                s
            },
        }),
        others,
    ))
}

/// A Terraform document's fixes made in a variable's `default`, a tfvars entry or a local change
/// every resource of the module that reads it: the module is read again with the edits, and
/// they stand only when each finding they fix is gone and no resource gets a finding it did not
/// have. Otherwise those fixes are manual, naming what the edit would leave.
fn verify_module_edits(
    doc: &Document,
    this: &crate::model::tf::File,
    module: &[crate::model::tf::File],
    all: &[crate::model::tf::Planned],
    plan: DocPlan,
    opts: &PlanOptions,
) -> DocPlan {
    use crate::model::tf::{self, Place};
    use std::collections::BTreeSet;
    let elsewhere = |f: &Finding| {
        f.fix.applicability != Applicability::Manual
            && f.fix
                .patch
                .iter()
                .any(|op| Place::from_pointer(op.path().as_str()).is_some())
    };
    if !plan.findings.iter().any(elsewhere) {
        return plan;
    }
    let quiet = PlanOptions {
        materialize: false,
        fingerprint: false,
        ..opts.clone()
    };
    type Keys = BTreeSet<(String, &'static str)>;
    // The findings of the module's resources, and the checks not run on them.
    let keys = |resources: &[tf::Planned]| -> (Keys, Keys) {
        let p = super::tfplan::plan_planned(doc, resources, resources, &quiet, false);
        (
            p.findings
                .iter()
                .map(|f| (f.subject.clone(), f.check.slug))
                .collect(),
            p.not_checked
                .iter()
                .map(|n| (n.subject.clone(), n.check.slug))
                .collect(),
        )
    };
    let (before, _) = keys(all);
    // What the module's resources are found with `patch` applied: the findings each would leave
    // (one it fixes, or one a resource did not have), and the checks not run on a resource that
    // reads an edited value; empty when the edit stands.
    let leaves = |patch: &[PatchOperation], fixed: &Keys| -> Vec<String> {
        let after = tf::apply_module(this, module, patch).and_then(|(new_this, edited)| {
            let files: Vec<tf::File> = module
                .iter()
                .map(|f| tf::File {
                    name: f.name.clone(),
                    text: if f.name == this.name {
                        new_this.clone()
                    } else {
                        edited
                            .iter()
                            .find(|e| e.name == f.name)
                            .map_or_else(|| f.text.clone(), |e| e.new.clone())
                    },
                })
                .collect();
            let mut resources = Vec::new();
            for f in files.iter().filter(|f| {
                tf::is_config(&f.name) && !f.name.starts_with('(') && !tf::is_override(&f.name)
            }) {
                resources.extend(tf::resources(f, &files)?);
            }
            let places: Vec<Place> = patch
                .iter()
                .filter_map(|op| Place::from_pointer(op.path().as_str()))
                .collect();
            let readers: Vec<String> = resources
                .iter()
                .filter(|r| r.sources.values().any(|p| places.contains(p)))
                .map(|r| {
                    let word = if r.kind == "aws_ecs_service" {
                        "service"
                    } else {
                        "task definition"
                    };
                    format!("{word} `{}`", r.address)
                })
                .collect();
            let (found, not_checked) = keys(&resources);
            Ok((found, not_checked, readers))
        });
        match after {
            Ok((after, not_checked, readers)) => {
                let mut left: Vec<String> = after
                    .iter()
                    .filter(|k| fixed.contains(*k) || !before.contains(*k))
                    .map(|(subject, slug)| format!("`{slug}` on the {subject}"))
                    .collect();
                let mut unknown: Vec<&String> = not_checked
                    .iter()
                    .filter(|(subject, _)| readers.contains(subject))
                    .map(|(subject, _)| subject)
                    .collect();
                unknown.dedup();
                left.extend(
                    unknown
                        .into_iter()
                        .map(|s| format!("checks not run on the {s}, which reads it too")),
                );
                left
            }
            Err(e) => vec![e],
        }
    };
    let key = |f: &Finding| (f.subject.clone(), f.check.slug);
    // Each fix alone first, then those that stand, together.
    let mut findings = plan.findings.clone();
    let mut held = false;
    for f in findings.iter_mut().filter(|f| elsewhere(f)) {
        let left = leaves(&f.fix.patch, &BTreeSet::from([key(f)]));
        if !left.is_empty() {
            held = true;
            f.fix = crate::model::Fix {
                title: format!(
                    "{} (made there, it would leave {})",
                    f.fix.title,
                    left.join(", ")
                ),
                applicability: Applicability::Manual,
                reason: f.fix.reason.clone(),
                ..Default::default()
            };
        }
    }
    let patch = fixes_patch(&findings);
    let fixed: BTreeSet<(String, &'static str)> =
        findings.iter().filter(|f| elsewhere(f)).map(key).collect();
    let left = if fixed.is_empty() {
        Vec::new()
    } else {
        leaves(&patch, &fixed)
    };
    if left.is_empty() && !held {
        return plan;
    }
    for f in findings
        .iter_mut()
        .filter(|f| elsewhere(f) && !left.is_empty())
    {
        f.fix = crate::model::Fix {
            title: format!(
                "{} (made with the other fixes, it would leave {})",
                f.fix.title,
                left.join(", ")
            ),
            applicability: Applicability::Manual,
            reason: f.fix.reason.clone(),
            ..Default::default()
        };
    }
    let patch = fixes_patch(&findings);
    let rebuilt = |findings, patch| {
        doc_plan(
            doc,
            opts,
            findings,
            plan.not_checked.clone(),
            plan.skipped.clone(),
            patch,
            plan.subjects.clone(),
        )
    };
    rebuilt(findings.clone(), patch).unwrap_or_else(|_| {
        // Never a half-written module: every fix manual.
        for f in &mut findings {
            if !f.fix.patch.is_empty() {
                f.fix = crate::model::Fix::manual(f.fix.title.clone());
            }
        }
        rebuilt(findings, Vec::new()).unwrap_or_else(|_| unreachable!("no patch: nothing to write"))
    })
}

/// A `.tf` document as a file of its module.
fn terraform_file(doc: &Document) -> crate::model::tf::File {
    crate::model::tf::File {
        name: match &doc.origin {
            Origin::File { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            _ => String::new(),
        },
        text: doc.text.clone(),
    }
}

/// Runs the checks on a resource read from infrastructure as code (a template's view, a
/// Terraform plan's values), as ECS API JSON of `shape`: findings only, no text.
pub(crate) fn plan_view(
    origin: &Origin,
    value: Value,
    shape: Shape,
    checks: &crate::check::Options,
) -> Result<DocPlan, InputError> {
    let doc = Document {
        origin: origin.clone(),
        text: String::new(),
        bom: false,
        value,
        shape,
        yaml: None,
        module: Vec::new(),
    };
    plan_document(
        &doc,
        &PlanOptions {
            checks: checks.clone(),
            ..Default::default()
        },
    )
}

/// Plans one parsed document.
pub fn plan_document(doc: &Document, opts: &PlanOptions) -> Result<DocPlan, InputError> {
    if doc.shape == Shape::CloudFormation {
        return super::template::plan_template(doc, opts);
    }
    if doc.shape == Shape::TerraformPlan {
        return super::tfplan::plan_terraform_plan(doc, opts);
    }
    if doc.shape == Shape::Terraform {
        let this = terraform_file(doc);
        let mut module = doc.module.clone();
        if !module.iter().any(|f| f.name == this.name) {
            module.push(this.clone());
        }
        let err = |m: String| InputError::new(doc.origin.display(), m, None);
        let mut resources = crate::model::tf::resources(&this, &module).map_err(err)?;
        if this.name.ends_with(".tf.json") {
            // Lines in the JSON the user wrote, not in its translation.
            for p in &mut resources {
                let at = format!("/resource/{}", p.address.replacen('.', "/", 1));
                let line = |ptr: &str| {
                    ptr.parse::<PointerBuf>()
                        .ok()
                        .and_then(|ptr| text_patch::line_of(&doc.text, &ptr))
                };
                p.line = line(&at);
                let attrs: Vec<String> = p.lines.keys().cloned().collect();
                for a in attrs {
                    match line(&format!("{at}/{a}")).or(p.line) {
                        Some(l) => p.lines.insert(a, l),
                        None => p.lines.remove(&a),
                    };
                }
            }
        }
        // Every resource of the module, for a service's task definition in another file.
        let mut all = Vec::new();
        for f in module.iter().filter(|f| {
            crate::model::tf::is_config(&f.name)
                && !f.name.starts_with('(')
                && !crate::model::tf::is_override(&f.name)
        }) {
            all.extend(crate::model::tf::resources(f, &module).map_err(err)?);
        }
        // CDK for Terraform output is synthesized from an app: the app is what to change.
        let cdktf = doc
            .value
            .get("//")
            .is_some_and(|m| m.get("metadata").is_some())
            || this.name == "cdk.tf.json";
        let held;
        let opts = if cdktf && opts.hold_edits.is_none() {
            held = PlanOptions {
                hold_edits: Some(
                    "synthesized by CDK for Terraform: change the app, then `cdktf synth`".into(),
                ),
                ..opts.clone()
            };
            &held
        } else {
            opts
        };
        let plan = super::tfplan::plan_planned(doc, &resources, &all, opts, false);
        return Ok(verify_module_edits(doc, &this, &module, &all, plan, opts));
    }
    let resource = doc.origin.display();
    let ctx = Context {
        options: &opts.checks,
        document: &doc.value,
    };
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    let mut skipped = Vec::new();
    let mut derived = Vec::new();
    let snapshot = is_service_snapshot(doc);
    for r in model::resources(doc.shape, &doc.value) {
        let r = r.map_err(|e| {
            let at = e
                .pointer
                .as_ref()
                .and_then(|p| text_patch::line_of(&doc.text, p))
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            InputError {
                resource: resource.clone(),
                message: format!("{}{at}", e.message),
                hint: e.hint.or_else(|| {
                    Some("fix the field's type; ECS would reject this document".into())
                }),
                not_ecs: false,
            }
        })?;
        let outcome = match &r {
            Resource::TaskDef(td) if td.is_fargate() => check::task_def(td, &ctx),
            Resource::TaskDef(td) => {
                let reason = if td.requires_compatibilities.is_empty() {
                    "not a Fargate task definition (no `requiresCompatibilities`, so EC2)"
                        .to_string()
                } else {
                    format!(
                        "not a Fargate task definition (`requiresCompatibilities` is {})",
                        td.requires_compatibilities.join(", ")
                    )
                };
                skipped.push(Skip {
                    resource: resource.clone(),
                    subject: td.label(),
                    reason,
                });
                continue;
            }
            Resource::Service(svc) if svc.is_fargate() => {
                let mut outcome = check::service(svc, &ctx);
                if snapshot {
                    // A snapshot is not the service: its fixes are `update-service` commands.
                    let stem = match &doc.origin {
                        Origin::File { path, .. } => path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        _ => "stdin".into(),
                    };
                    derived.extend(
                        update_service(svc, &mut outcome.findings, &stem)
                            .filter(|_| opts.registerable),
                    );
                }
                outcome
            }
            Resource::Service(svc) => {
                let kind = svc.kind();
                let reason = match svc.launch_type.filter(|l| !l.is_empty()) {
                    Some(lt) => format!("not a Fargate {kind} (`launchType` is `{lt}`)"),
                    None if !svc.capacity_providers.is_empty() => format!(
                        "not a Fargate {kind} (capacity providers {})",
                        svc.capacity_providers.join(", ")
                    ),
                    // Without either, ECS uses the cluster's default capacity provider
                    // strategy, or EC2 when there is none.
                    None => format!(
                        "not a Fargate {kind} (no `launchType` or Fargate capacity provider, so the cluster's default strategy or EC2)"
                    ),
                };
                skipped.push(Skip {
                    resource: resource.clone(),
                    subject: svc.label(),
                    reason,
                });
                continue;
            }
        };
        findings.extend(outcome.findings);
        not_checked.extend(outcome.not_checked);
    }
    for f in &mut findings {
        f.resource = resource.clone();
        f.line = text_patch::line_of(&doc.text, &f.pointer).or_else(|| {
            f.pointer
                .parent()
                .and_then(|p| text_patch::line_of(&doc.text, p))
        });
    }
    for n in &mut not_checked {
        n.resource = resource.clone();
    }
    let mut patch = fixes_patch(&findings);
    let mut dropped_nulls = 0;
    if opts.registerable {
        // A `null` the fixes set a value for is theirs, not a removal.
        let touched: Vec<String> = patch.iter().map(|op| op_path(op).to_string()).collect();
        let related = |p: &str| {
            touched.iter().any(|t| {
                t == p || t.starts_with(&format!("{p}/")) || p.starts_with(&format!("{t}/"))
            })
        };
        // The API takes the task size as strings (`"512"`); a number is written as one, from
        // the value the fixes leave (before the unwrap moves the document).
        if let Some((base, td)) = task_object(doc) {
            for key in ["cpu", "memory"] {
                let ptr = format!("{base}/{key}");
                let fixed = patch.iter().rev().find_map(|op| match op {
                    PatchOperation::Replace(r) if r.path.as_str() == ptr => Some(r.value.clone()),
                    PatchOperation::Add(a) if a.path.as_str() == ptr => Some(a.value.clone()),
                    _ => None,
                });
                let value = fixed.or_else(|| td.get(key).cloned());
                if let (Some(n), Ok(path)) = (
                    value.as_ref().and_then(Value::as_u64),
                    ptr.parse::<PointerBuf>(),
                ) {
                    patch.push(PatchOperation::Replace(ReplaceOperation {
                        path,
                        value: Value::String(n.to_string()),
                    }));
                }
            }
        }
        let ops: Vec<PatchOperation> = registerable_ops(doc)
            .into_iter()
            .filter(|op| !matches!(op, PatchOperation::Remove(r) if related(r.path.as_str())))
            .collect();
        let read_only = |p: &str| {
            model::READ_ONLY_TASK_FIELDS
                .iter()
                .any(|k| p == format!("/{k}") || p == format!("/taskDefinition/{k}"))
        };
        dropped_nulls = ops
            .iter()
            .filter(|op| {
                matches!(op, PatchOperation::Remove(r)
                    if !read_only(r.path.as_str())
                        && doc.value.pointer(r.path.as_str()).is_some_and(Value::is_null))
            })
            .count();
        patch.extend(ops);
    }
    let mut plan = doc_plan(doc, opts, findings, not_checked, skipped, patch, Vec::new())?;
    plan.derived.extend(derived);
    plan.dropped_nulls = dropped_nulls;
    Ok(plan)
}

/// The merged patch of the fixes of `findings` that are not manual.
pub(crate) fn fixes_patch(findings: &[Finding]) -> Vec<PatchOperation> {
    merge(
        findings
            .iter()
            .filter(|f| f.fix.applicability != Applicability::Manual)
            .flat_map(|f| f.fix.patch.iter()),
    )
}

/// A document's plan from what its checks found and the merged patch of their fixes, with the
/// text as it will be written when `opts.materialize` asks for it.
pub(crate) fn doc_plan(
    doc: &Document,
    opts: &PlanOptions,
    findings: Vec<Finding>,
    not_checked: Vec<NotChecked>,
    skipped: Vec<Skip>,
    patch: Vec<PatchOperation>,
    subjects: Vec<String>,
) -> Result<DocPlan, InputError> {
    let resource = doc.origin.display();
    let changes = patch
        .iter()
        .any(|op| !matches!(op, PatchOperation::Test(_)));
    let (change, derived) = if changes && opts.materialize {
        materialize(&resource, doc, &patch)?
    } else {
        (None, Vec::new())
    };
    Ok(DocPlan {
        resource,
        origin: doc.origin.clone(),
        sha256: opts.fingerprint.then(|| doc.sha256()),
        bom: doc.bom,
        shape: doc.shape,
        findings,
        not_checked,
        skipped,
        patch,
        change,
        stdin_text: (doc.origin == Origin::Stdin).then(|| doc.text.clone()),
        derived,
        dropped_nulls: 0,
        subjects,
    })
}

/// A `describe-services` snapshot, or one service of it (`serviceArn` and `deployments` are
/// read-only: `CreateService`/`UpdateService` input has neither).
fn is_service_snapshot(doc: &Document) -> bool {
    // In an account the service itself is read, and its fixes become `UpdateService` calls.
    if matches!(doc.origin, Origin::Account { .. }) {
        return false;
    }
    match doc.shape {
        Shape::DescribeServices => true,
        Shape::Service => doc
            .value
            .as_object()
            .is_some_and(|o| o.contains_key("serviceArn") || o.contains_key("deployments")),
        _ => false,
    }
}

/// Turns the fixes of one service of a snapshot into the `aws ecs update-service` command that
/// makes them in the account (each fix becomes manual: the snapshot is never edited), and
/// returns the same change as `UpdateService` input for `--registerable`.
fn update_service(
    svc: &model::Service<'_>,
    findings: &mut [model::Finding],
    stem: &str,
) -> Option<Derived> {
    let mut input = serde_json::Map::new();
    let mut converted = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.fix.applicability == Applicability::Manual {
            continue;
        }
        let members: Option<Vec<(String, Value)>> = f
            .fix
            .patch
            .iter()
            .filter(|op| !matches!(op, PatchOperation::Test(_)))
            .map(|op| {
                let (path, value) = match op {
                    PatchOperation::Replace(r) => (&r.path, &r.value),
                    PatchOperation::Add(a) => (&a.path, &a.value),
                    _ => return None,
                };
                // Only a member of the service itself maps to an `UpdateService` parameter.
                let rest = path.strip_prefix(&svc.base)?;
                let mut tokens = rest.tokens();
                let key = tokens.next()?.decoded().into_owned();
                tokens.next().is_none().then_some((key, value.clone()))
            })
            .collect();
        if let Some(members) = members {
            input.extend(members);
            converted.push(i);
        }
    }
    if input.is_empty() {
        return None;
    }
    let str_of = |k: &str| svc.raw.get(k).and_then(Value::as_str);
    // `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` (the old format has no cluster).
    let arn = str_of("serviceArn").map(|a| a.split(':').collect::<Vec<_>>());
    let from_arn: Option<(&str, Option<&str>)> = arn.as_ref().and_then(|parts| {
        let rest = parts.get(5)?.strip_prefix("service/")?;
        Some(match rest.split_once('/') {
            Some((cluster, name)) => (name, Some(cluster)),
            None => (rest, None),
        })
    });
    let cluster = str_of("clusterArn")
        .or_else(|| str_of("cluster"))
        .map(str::to_string)
        .or_else(|| {
            let parts = arn.as_ref()?;
            let c = from_arn?.1?;
            Some(format!(
                "arn:{}:ecs:{}:{}:cluster/{c}",
                parts.get(1)?,
                parts.get(3)?,
                parts.get(4)?
            ))
        });
    let cluster = cluster.as_deref();
    let name = svc.name.or_else(|| from_arn.map(|(n, _)| n));
    // The region is the service's, which may not be the CLI's default.
    let region = arn
        .as_ref()
        .and_then(|a| a.get(3).copied())
        .filter(|r| is_region(r));
    let mut command = String::from("aws ecs update-service");
    if let Some(r) = region {
        command.push_str(&format!(" --region {r}"));
    }
    command.push_str(&format!(
        " --cluster {} --service {}",
        shell_word(cluster.unwrap_or("CLUSTER")),
        shell_word(name.unwrap_or("SERVICE"))
    ));
    for (k, v) in &input {
        let flag: String = k
            .chars()
            .flat_map(|c| {
                if c.is_ascii_uppercase() {
                    vec!['-', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect();
        match v {
            Value::Bool(true) => command.push_str(&format!(" --{flag}")),
            Value::Bool(false) => command.push_str(&format!(" --no-{flag}")),
            Value::String(s) => command.push_str(&format!(" --{flag} {}", shell_word(s))),
            other => command.push_str(&format!(" --{flag} {}", shell_word(&other.to_string()))),
        }
    }
    for i in converted {
        let f = &mut findings[i];
        f.fix = model::Fix {
            title: format!("run `{command}`"),
            applicability: Applicability::Manual,
            reason: Some(
                "a `describe-services` snapshot is not the service: the command changes the service and starts a new deployment (`--registerable` writes it as `update-service` input)"
                    .into(),
            ),
            ..Default::default()
        };
    }
    // Written only for a service named by a valid ECS name (letters, digits, `-`, `_`): the
    // name is part of the file name, which must stay beside its input.
    let name = name.filter(|n| {
        !n.is_empty()
            && n.len() <= 255
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })?;
    let mut out = serde_json::Map::new();
    if let Some(c) = cluster {
        out.insert("cluster".into(), c.into());
    }
    out.insert("service".into(), name.into());
    out.extend(input);
    let mut text = serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default();
    text.push('\n');
    Some(Derived {
        name: format!("{stem}.{name}.update-service.json"),
        text,
        old_text: None,
    })
}

/// An AWS region name (`eu-west-3`, `us-gov-west-1`).
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// `s` as one shell word (quoted when it needs to be).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Merges the fixes' operations: identical operations once, and a second write to a path that
/// is already written is dropped (the size checks share one fix, so they agree).
pub(crate) fn merge<'a>(ops: impl Iterator<Item = &'a PatchOperation>) -> Vec<PatchOperation> {
    let mut out: Vec<PatchOperation> = Vec::new();
    for op in ops {
        let writes = |o: &PatchOperation| !matches!(o, PatchOperation::Test(_));
        let dup = out
            .iter()
            .any(|o| o == op || (writes(o) && writes(op) && o.path() == op.path()));
        if !dup {
            out.push(op.clone());
        }
    }
    out
}

/// `--registerable`: remove `DescribeTaskDefinition`'s read-only fields and every `null` member,
/// keep its `tags`, and unwrap `taskDefinition`, so the result feeds
/// `register-task-definition --cli-input-json`.
pub fn registerable_ops(doc: &Document) -> Vec<PatchOperation> {
    registerable_ops_for(doc.shape, &doc.value)
}

/// `registerable_ops` on a value of a known shape.
pub fn registerable_ops_for(shape: Shape, value: &Value) -> Vec<PatchOperation> {
    let (base, obj) = match shape {
        Shape::DescribeTaskDefinition => (
            PointerBuf::from_tokens(["taskDefinition"]),
            value.get("taskDefinition"),
        ),
        Shape::TaskDefinition => (PointerBuf::new(), Some(value)),
        _ => return Vec::new(),
    };
    let Some(Value::Object(obj)) = obj else {
        return Vec::new();
    };
    let mut ops: Vec<PatchOperation> = model::READ_ONLY_TASK_FIELDS
        .iter()
        .filter(|k| obj.contains_key(**k))
        .map(|k| {
            let mut path = base.clone();
            path.push_back(*k);
            PatchOperation::Remove(RemoveOperation { path })
        })
        .collect();
    // `null` members: the AWS CLI and SDKs reject them (`Invalid type for parameter ipcMode,
    // value: None`); absent means the same to ECS.
    let mut nulls = Vec::new();
    for (k, v) in obj {
        if !model::READ_ONLY_TASK_FIELDS.contains(&k.as_str()) {
            let mut path = base.clone();
            path.push_back(k);
            null_members(v, path, &mut nulls);
        }
    }
    ops.extend(
        nulls
            .into_iter()
            .map(|path| PatchOperation::Remove(RemoveOperation { path })),
    );
    // A member spelled in another case (ecspresso reads `Tags`; the API takes `tags` only).
    for k in obj.keys() {
        if let Some(member) = REGISTER_MEMBERS
            .iter()
            .find(|m| *m != k && m.eq_ignore_ascii_case(k) && !obj.contains_key(**m))
        {
            let mut from = base.clone();
            from.push_back(k);
            let mut path = base.clone();
            path.push_back(*member);
            ops.push(PatchOperation::Move(MoveOperation { from, path }));
        }
    }
    if shape == Shape::DescribeTaskDefinition {
        let tags = value
            .get("tags")
            .filter(|t| t.as_array().is_some_and(|a| !a.is_empty()));
        if let (Some(tags), false) = (tags, obj.contains_key("tags")) {
            ops.push(PatchOperation::Add(AddOperation {
                path: PointerBuf::from_tokens(["taskDefinition", "tags"]),
                value: tags.clone(),
            }));
        }
        ops.push(PatchOperation::Move(MoveOperation {
            from: base,
            path: PointerBuf::new(),
        }));
    }
    ops
}

/// The task definition object of a task-definition document and its pointer (`""` or
/// `/taskDefinition`).
fn task_object(doc: &Document) -> Option<(String, &serde_json::Map<String, Value>)> {
    match doc.shape {
        Shape::TaskDefinition => doc.value.as_object().map(|o| (String::new(), o)),
        Shape::DescribeTaskDefinition => doc
            .value
            .get("taskDefinition")
            .and_then(Value::as_object)
            .map(|o| ("/taskDefinition".to_string(), o)),
        _ => None,
    }
}

/// The members of `RegisterTaskDefinition`'s input (the ECS API model).
const REGISTER_MEMBERS: [&str; 19] = [
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
    "trustedExecutionConfiguration",
];

/// The path an operation writes or tests.
fn op_path(op: &PatchOperation) -> &str {
    match op {
        PatchOperation::Add(o) => o.path.as_str(),
        PatchOperation::Remove(o) => o.path.as_str(),
        PatchOperation::Replace(o) => o.path.as_str(),
        PatchOperation::Move(o) => o.path.as_str(),
        PatchOperation::Copy(o) => o.path.as_str(),
        PatchOperation::Test(o) => o.path.as_str(),
    }
}

/// The paths of `value` (at `at`) that are `null` object members, however deep.
fn null_members(value: &Value, at: PointerBuf, out: &mut Vec<PointerBuf>) {
    match value {
        Value::Null => out.push(at),
        Value::Object(o) => {
            for (k, v) in o {
                let mut p = at.clone();
                p.push_back(k);
                null_members(v, p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                // A `null` element is left in place: removing it would shift the others.
                if !v.is_null() {
                    let mut p = at.clone();
                    p.push_back(i.to_string());
                    null_members(v, p, out);
                }
            }
        }
        _ => {}
    }
}

/// The `RegisterTaskDefinition` input for a new revision: `DescribeTaskDefinition` output with
/// the planned patch applied, its read-only fields dropped, its tags moved in, unwrapped. Every
/// other field is kept as AWS returned it.
pub fn register_input(describe_output: &Value, patch: &[PatchOperation]) -> Result<Value, String> {
    let mut value = describe_output.clone();
    json_patch::patch(&mut value, patch).map_err(|e| format!("the patch does not apply: {e}"))?;
    let unwrap = registerable_ops_for(Shape::DescribeTaskDefinition, &value);
    json_patch::patch(&mut value, &unwrap).map_err(|e| format!("cannot unwrap: {e}"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> DocPlan {
        let doc = crate::model::parse(Origin::Stdin, text.as_bytes()).unwrap();
        plan_document(
            &doc,
            &PlanOptions {
                materialize: true,
                ..Default::default()
            },
        )
        .unwrap()
    }

    /// What a snapshot holds never escapes the command's words or the input's folder.
    #[test]
    fn snapshot_values_are_quoted_and_never_name_a_path() {
        let doc = crate::model::parse(
            Origin::Stdin,
            br#"{"services": [{"serviceArn": "arn:aws:ecs:eu-west-1 $(touch x):1:service/prod/web",
                "serviceName": "x/../../outside", "launchType": "FARGATE", "platformVersion": "1.3.0"}]}"#,
        )
        .unwrap();
        let p = plan_document(
            &doc,
            &PlanOptions {
                registerable: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(p.derived.is_empty(), "{:?}", p.derived);
        assert!(!p.is_changed());
        let title = &p.findings[0].fix.title;
        assert!(
            title.contains("--cluster 'arn:aws:ecs:eu-west-1 $(touch x):1:cluster/prod'")
                && !title.contains("--region"),
            "{title}"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert!(is_region("us-gov-west-1") && !is_region("eu-west-1 $(x)"));
    }

    #[test]
    fn size_checks_share_one_patch() {
        let p = plan(
            r#"{"requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "executionRoleArn": "r",
            "containerDefinitions": [{"name": "a", "memory": 512}]}"#,
        );
        assert_eq!(p.findings.len(), 1);
        assert_eq!(p.findings[0].check.slug, "agent-memory-headroom");
        let v: Value = serde_json::from_str(&p.change.unwrap().new_text).unwrap();
        assert_eq!(
            (v["cpu"].as_str(), v["memory"].as_str()),
            (Some("256"), Some("1024"))
        );
    }

    #[test]
    fn register_input_is_the_patched_document_without_read_only_fields() {
        let described = serde_json::json!({"taskDefinition": {"family": "f", "revision": 3, "status": "ACTIVE",
            "taskDefinitionArn": "arn:aws:ecs:r:1:task-definition/f:3", "memory": "512",
            "containerDefinitions": [{"name": "a", "memory": 512, "linuxParameters": {"initProcessEnabled": true}}]},
            "tags": [{"key": "k", "value": "v"}]});
        let patch: Vec<PatchOperation> = serde_json::from_value(serde_json::json!([
            {"op": "test", "path": "/taskDefinition/memory", "value": "512"},
            {"op": "replace", "path": "/taskDefinition/memory", "value": "1024"}
        ]))
        .unwrap();
        assert_eq!(
            register_input(&described, &patch).unwrap(),
            serde_json::json!({"family": "f", "memory": "1024",
                "containerDefinitions": [{"name": "a", "memory": 512, "linuxParameters": {"initProcessEnabled": true}}],
                "tags": [{"key": "k", "value": "v"}]})
        );
        let stale: Vec<PatchOperation> = serde_json::from_value(
            serde_json::json!([{"op": "test", "path": "/taskDefinition/memory", "value": "2048"}]),
        )
        .unwrap();
        assert!(register_input(&described, &stale).is_err());
    }

    #[test]
    fn registerable_unwraps_describe_output() {
        let doc = crate::model::parse(
            Origin::Stdin,
            br#"{"taskDefinition": {"family": "f", "revision": 3, "status": "ACTIVE", "containerDefinitions": []}, "tags": [{"key": "k", "value": "v"}]}"#,
        )
        .unwrap();
        let p = plan_document(
            &doc,
            &PlanOptions {
                registerable: true,
                materialize: true,
                ..Default::default()
            },
        )
        .unwrap();
        let v: Value = serde_json::from_str(&p.change.unwrap().new_text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"family": "f", "containerDefinitions": [], "tags": [{"key": "k", "value": "v"}]})
        );
    }

    #[test]
    fn registerable_drops_nulls_but_never_a_fixed_value() {
        let doc = crate::model::parse(
            Origin::Stdin,
            br#"{"taskDefinition": {"family": "f", "ipcMode": null, "pidMode": null, "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
                "containerDefinitions": [{"name": "a", "image": "x", "memory": 512, "healthCheck": null, "portMappings": [{"containerPort": 80, "hostPort": null}]}]}}"#,
        )
        .unwrap();
        let p = plan_document(
            &doc,
            &PlanOptions {
                registerable: true,
                materialize: true,
                ..Default::default()
            },
        )
        .unwrap();
        let text = p.change.unwrap().new_text;
        assert!(!text.contains("null"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["memory"], "1024", "the fix is kept: {text}");
        assert_eq!(
            v["containerDefinitions"][0]["portMappings"][0],
            serde_json::json!({"containerPort": 80})
        );
    }
}
