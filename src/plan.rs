//! The planner: findings per document, merged into one RFC 6902 patch per document, and the
//! document as it will be written. Pure: no file system, no printing.

use crate::check::{self, Context, Options};
use crate::finding::{Applicability, Finding, NotChecked, Severity};
use crate::jsontext;
use crate::model::{self, Resource, Shape};
use crate::redact;
use crate::source::{Document, InputError, Origin};
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, MoveOperation, PatchOperation, RemoveOperation};
use serde_json::Value;

/// A resource that is not checked because it does not run on Fargate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub resource: String,
    pub subject: String,
    pub reason: String,
}

/// A document that changes: its text before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub old_text: String,
    pub new_text: String,
    /// The secrets of both versions as JSON literals, hidden in diffs.
    pub secrets: Vec<String>,
}

/// The plan for one input document.
#[derive(Debug, Clone)]
pub struct DocPlan {
    pub resource: String,
    pub origin: Origin,
    /// SHA-256 of the input bytes, when the plan is to be saved (`PlanOptions::fingerprint`).
    pub sha256: Option<String>,
    pub bom: bool,
    pub shape: Shape,
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
    pub skipped: Vec<Skip>,
    /// The merged RFC 6902 patch of every non-manual fix (plus `--registerable`).
    pub patch: Vec<PatchOperation>,
    /// The document before and after, when `PlanOptions::materialize` asked for it.
    pub change: Option<Change>,
    /// The original text of standard input (passed through by `apply` when nothing changes).
    pub stdin_text: Option<String>,
}

/// How the plan is built.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub checks: Options,
    /// `--registerable`: strip read-only describe fields and unwrap `taskDefinition`.
    pub registerable: bool,
    /// Build the patched text of each changed document (for diffs and writes). Machine
    /// formats need only the patches.
    pub materialize: bool,
    /// Record each input's SHA-256 (for a saved plan).
    pub fingerprint: bool,
}

/// An AWS operation the plan would carry out (live mode), with why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlannedOperation {
    /// The ARN the operation changes (or is about).
    pub resource: String,
    pub title: String,
    pub applicability: Applicability,
    pub reason: Option<String>,
    pub operation: crate::operation::Operation,
    /// The region the operation runs in.
    pub region: String,
    /// What the resource looked like when planned (checked again before applying).
    pub fingerprint: Option<crate::fingerprint::Fingerprint>,
}

/// What live mode adds: findings on resources that are not documents (roles, VPCs,
/// clusters, the account) and the AWS operations of every fix.
#[derive(Debug, Clone, Default)]
pub struct LivePart {
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
    pub operations: Vec<PlannedOperation>,
}

/// The whole plan: documents and the inputs that could not be used.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub docs: Vec<DocPlan>,
    pub errors: Vec<InputError>,
    pub live: LivePart,
}

impl Plan {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.docs
            .iter()
            .flat_map(|d| d.findings.iter())
            .chain(self.live.findings.iter())
    }

    pub fn not_checked(&self) -> impl Iterator<Item = &NotChecked> {
        self.docs
            .iter()
            .flat_map(|d| d.not_checked.iter())
            .chain(self.live.not_checked.iter())
    }

    /// Exit code of `plan`: 1 when an input could not be used or read, or a check could not be
    /// run (not checked never counts as passing); else 2 when a finding of severity error
    /// remains; else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty()
            || self.findings().any(|f| f.unreadable)
            || self.not_checked().next().is_some()
        {
            1
        } else if self.findings().any(|f| f.severity == Severity::Error) {
            2
        } else {
            0
        }
    }

    /// Adds another plan (another region) to this one; identical live findings and operations
    /// (the same account-wide SCP finding seen from two regions) are kept once.
    pub fn extend(&mut self, other: Plan) {
        self.docs.extend(other.docs);
        self.errors.extend(other.errors);
        for f in other.live.findings {
            if !self.live.findings.iter().any(|g| {
                g.check.slug == f.check.slug && g.resource == f.resource && g.message == f.message
            }) {
                self.live.findings.push(f);
            }
        }
        for n in other.live.not_checked {
            if !self.live.not_checked.iter().any(|m| {
                m.check.slug == n.check.slug && m.resource == n.resource && m.reason == n.reason
            }) {
                self.live.not_checked.push(n);
            }
        }
        for op in other.live.operations {
            if !self
                .live
                .operations
                .iter()
                .any(|o| o.operation == op.operation)
            {
                self.live.operations.push(op);
            }
        }
    }

    pub fn changed(&self) -> impl Iterator<Item = &DocPlan> {
        self.docs.iter().filter(|d| d.is_changed())
    }
}

impl DocPlan {
    /// True when the patch changes the document (more than `test` operations).
    pub fn is_changed(&self) -> bool {
        self.patch
            .iter()
            .any(|op| !matches!(op, PatchOperation::Test(_)))
    }
}

/// The document with `patch` applied, as text that changes only the patched fields.
pub fn materialize(
    resource: &str,
    doc: &Document,
    patch: &[PatchOperation],
) -> Result<Change, InputError> {
    let (new_text, new_value) =
        jsontext::apply_to_text(&doc.text, &doc.value, patch).map_err(|e| {
            InputError::new(
                resource,
                format!("the patch does not apply: {e}"),
                Some("if the input changed, plan again; otherwise please report this"),
            )
        })?;
    Ok(Change {
        old_text: doc.text.clone(),
        new_text,
        secrets: {
            let mut s = redact::secret_literals(&doc.value);
            s.extend(redact::secret_literals(&new_value));
            s.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            s.dedup();
            s
        },
    })
}

/// Plans one parsed document.
pub fn plan_document(doc: &Document, opts: &PlanOptions) -> Result<DocPlan, InputError> {
    let resource = doc.origin.display();
    let ctx = Context {
        options: &opts.checks,
        document: &doc.value,
    };
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    let mut skipped = Vec::new();
    for r in model::resources(doc.shape, &doc.value) {
        let r = r.map_err(|e| {
            let at = e
                .pointer
                .as_ref()
                .and_then(|p| jsontext::line_of(&doc.text, p))
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            InputError {
                resource: resource.clone(),
                message: format!("{}{at}", e.message),
                hint: e.hint.or_else(|| {
                    Some("fix the field's type; ECS would reject this document".into())
                }),
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
            Resource::Service(svc) if svc.is_fargate() => check::service(svc, &ctx),
            Resource::Service(svc) => {
                let reason = match svc.launch_type.filter(|l| !l.is_empty()) {
                    Some(lt) => format!("not a Fargate service (`launchType` is `{lt}`)"),
                    None if !svc.capacity_providers.is_empty() => {
                        format!("not a Fargate service (capacity providers {})", svc.capacity_providers.join(", "))
                    }
                    None => "not a Fargate service (no `launchType` or Fargate capacity provider, so EC2)".to_string(),
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
        f.line = jsontext::line_of(&doc.text, &f.pointer).or_else(|| {
            f.pointer
                .parent()
                .and_then(|p| jsontext::line_of(&doc.text, p))
        });
    }
    for n in &mut not_checked {
        n.resource = resource.clone();
    }
    let mut patch = merge(
        findings
            .iter()
            .filter(|f| f.fix.applicability != Applicability::Manual)
            .flat_map(|f| f.fix.patch.iter()),
    );
    if opts.registerable {
        patch.extend(registerable_ops(doc));
    }
    let changes = patch
        .iter()
        .any(|op| !matches!(op, PatchOperation::Test(_)));
    let change = if changes && opts.materialize {
        Some(materialize(&resource, doc, &patch)?)
    } else {
        None
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
    })
}

/// Merges the fixes' operations: identical operations once, and a second write to a path that
/// is already written is dropped (the size checks share one fix, so they agree).
fn merge<'a>(ops: impl Iterator<Item = &'a PatchOperation>) -> Vec<PatchOperation> {
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

/// `--registerable`: remove `DescribeTaskDefinition`'s read-only fields, keep its `tags`, and
/// unwrap `taskDefinition`, so the result feeds `register-task-definition --cli-input-json`.
pub fn registerable_ops(doc: &Document) -> Vec<PatchOperation> {
    let (base, obj) = match doc.shape {
        Shape::DescribeTaskDefinition => (
            PointerBuf::from_tokens(["taskDefinition"]),
            doc.value.get("taskDefinition"),
        ),
        Shape::TaskDefinition => (PointerBuf::new(), Some(&doc.value)),
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
    if doc.shape == Shape::DescribeTaskDefinition {
        let tags = doc
            .value
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> DocPlan {
        let doc = crate::source::parse(Origin::Stdin, text.as_bytes()).unwrap();
        plan_document(
            &doc,
            &PlanOptions {
                materialize: true,
                ..Default::default()
            },
        )
        .unwrap()
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
    fn registerable_unwraps_describe_output() {
        let doc = crate::source::parse(
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
}
