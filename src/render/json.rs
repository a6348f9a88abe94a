//! `--format json`: one object with findings, changes, skipped, not checked, errors and the
//! files a walk ignored.
//! Serialised straight from borrowed views of the plan (no intermediate `Value` tree).

use crate::model::Applicability;
use crate::model::finding::FindingOut;
use crate::plan::Plan;
use json_patch::PatchOperation;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
#[serde(untagged)]
enum ChangeOut<'a> {
    Patch {
        resource: &'a str,
        action: &'static str,
        patch: &'a [PatchOperation],
        /// `--registerable`: the `null` members the patch removes.
        #[serde(skip_serializing_if = "is_zero")]
        dropped_nulls: usize,
    },
    Operation {
        /// The AWS account of the resource.
        #[serde(skip_serializing_if = "Option::is_none")]
        account: Option<&'a str>,
        resource: &'a str,
        action: &'static str,
        title: &'a str,
        applicability: Applicability,
        reason: Option<&'a str>,
        operation: &'a crate::operation::Operation,
    },
    /// A new file beside the input (a snapshot's `update-service` input), or a file of its
    /// module a fix edits (`edit`, its new text).
    Write {
        resource: &'a str,
        action: &'static str,
        file: &'a str,
        content: serde_json::Value,
    },
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct SkipOut<'a> {
    resource: &'a str,
    subject: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct NotCheckedOut<'a> {
    check: &'static str,
    resource: &'a str,
    subject: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    resource: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

#[derive(Serialize)]
struct IgnoredOut<'a> {
    file: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Output<'a> {
    findings: Vec<FindingOut<'a>>,
    changes: Vec<ChangeOut<'a>>,
    skipped: Vec<SkipOut<'a>>,
    not_checked: Vec<NotCheckedOut<'a>>,
    errors: Vec<ErrorOut<'a>>,
    /// Files a directory walk found that are not ECS documents.
    ignored: Vec<IgnoredOut<'a>>,
    /// GuardDuty's coverage of each scanned cluster, each issue with the findings that explain
    /// it (live mode).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    coverage: &'a [crate::coverage::ClusterCoverage],
    /// Where coverage could not be read: `{account, region, reason}` (live mode).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coverage_not_checked: Vec<serde_json::Value>,
    /// GuardDuty's count of ECS clusters by coverage status, by account and region (live
    /// mode).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    coverage_counts: &'a crate::plan::CoverageCounts,
    summary: String,
    exit_code: i32,
}

pub fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let docs = &plan.docs;
    let output = Output {
        findings: plan.findings().map(FindingOut::from).collect(),
        changes: plan
            .changed()
            .filter(|d| !matches!(d.origin, crate::model::Origin::Account { .. }))
            .flat_map(|d| {
                let patch = d.patches().then_some(ChangeOut::Patch {
                    resource: &d.resource,
                    action: "patch",
                    patch: &d.patch,
                    dropped_nulls: d.dropped_nulls,
                });
                patch
                    .into_iter()
                    .chain(d.derived.iter().map(|w| match &w.old_text {
                        None => ChangeOut::Write {
                            resource: &d.resource,
                            action: "write",
                            file: &w.name,
                            content: serde_json::from_str(&w.text).unwrap_or_default(),
                        },
                        // A file of the module (HCL): its new text.
                        Some(_) => ChangeOut::Write {
                            resource: &d.resource,
                            action: "edit",
                            file: &w.name,
                            content: serde_json::Value::String(w.text.clone()),
                        },
                    }))
            })
            .chain(
                plan.account
                    .operations
                    .iter()
                    .map(|o| ChangeOut::Operation {
                        account: crate::model::finding::arn_account(&o.resource),
                        resource: &o.resource,
                        action: o.operation.name(),
                        title: &o.title,
                        applicability: o.applicability,
                        reason: o.reason.as_deref(),
                        operation: &o.operation,
                    }),
            )
            .collect(),
        skipped: docs
            .iter()
            .flat_map(|d| &d.skipped)
            .map(|s| SkipOut {
                resource: &s.resource,
                subject: &s.subject,
                reason: &s.reason,
            })
            .collect(),
        not_checked: plan
            .not_checked()
            .map(|n| NotCheckedOut {
                check: n.check.slug,
                resource: &n.resource,
                subject: &n.subject,
                reason: &n.reason,
            })
            .collect(),
        errors: plan
            .errors
            .iter()
            .map(|e| ErrorOut {
                resource: &e.resource,
                message: &e.message,
                hint: e.hint.as_deref(),
            })
            .collect(),
        ignored: plan
            .ignored
            .iter()
            .map(|(file, reason)| IgnoredOut { file, reason })
            .collect(),
        coverage: &plan.account.coverage,
        coverage_not_checked: plan
            .account
            .coverage_unread
            .iter()
            .map(|(account, region, reason)| {
                serde_json::json!({"account": account, "region": region, "reason": reason})
            })
            .collect(),
        coverage_counts: &plan.account.coverage_counts,
        summary: super::text::summary(plan),
        exit_code: plan.exit_code(),
    };
    let mut w = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &output)?;
    w.write_all(b"\n")?;
    w.flush()
}
