//! `--format json`: one object with findings, changes, skipped, not checked and errors.

use crate::finding::Finding;
use crate::plan::Plan;
use serde_json::{Value, json};

pub fn finding(f: &Finding) -> Value {
    json!({
        "check": f.check.slug,
        "severity": f.severity,
        "resource": f.resource,
        "subject": f.subject,
        "line": f.line,
        "pointer": f.pointer.as_str(),
        "message": f.message,
        "fix": {
            "applicability": f.fix.applicability,
            "title": f.fix.title,
            "reason": f.fix.reason,
        },
    })
}

pub fn to_value(plan: &Plan) -> Value {
    let findings: Vec<Value> = plan.findings().map(finding).collect();
    let changes: Vec<Value> = plan
        .changed()
        .map(|d| json!({"resource": d.resource, "action": "patch", "patch": d.patch}))
        .collect();
    let skipped: Vec<Value> = plan
        .docs
        .iter()
        .flat_map(|d| d.skipped.iter())
        .map(|s| json!({"resource": s.resource, "subject": s.subject, "reason": s.reason}))
        .collect();
    let not_checked: Vec<Value> = plan
        .docs
        .iter()
        .flat_map(|d| d.not_checked.iter())
        .map(|n| json!({"check": n.check.slug, "resource": n.resource, "subject": n.subject, "reason": n.reason}))
        .collect();
    let errors: Vec<Value> = plan
        .errors
        .iter()
        .map(|e| json!({"resource": e.resource, "message": e.message, "hint": e.hint}))
        .collect();
    json!({
        "findings": findings,
        "changes": changes,
        "skipped": skipped,
        "not_checked": not_checked,
        "errors": errors,
        "summary": super::text::summary(plan),
        "exit_code": plan.exit_code(),
    })
}
