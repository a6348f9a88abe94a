//! Saved plans: one format for files and accounts, and one loader. Pure: the caller reads and
//! writes the file.

use super::{DocPlan, Plan, PlanOptions, PlannedOperation};
use crate::check;
use crate::model::{Document, InputError, Origin};
use crate::redact;
use json_patch::PatchOperation;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The key that marks a saved plan file; its value is the format.
pub const PLAN_MARKER: &str = "fargate-rtm-plan";

/// The format written: 3 since account plans fingerprint whole documents and key new revisions
/// by their source (file plans of formats 1 and 2 are read the same).
pub const FORMAT: u32 = 4;

/// A saved plan, of files or of an account: what `apply PLAN_FILE` carries out, with the
/// fingerprints it checks first. Secrets are never in it (findings redacted, documents absent).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    #[serde(rename = "fargate-rtm-plan")]
    pub format: u32,
    pub created_by: String,
    /// File mode: the options the patches were made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<SavedOptions>,
    /// File mode: each input with its fingerprint and patch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<SavedInput>,
    /// Account mode: the operations, each with the fingerprint of what it changes.
    #[serde(default, rename = "live", skip_serializing_if = "Option::is_none")]
    pub account: Option<SavedAccount>,
    /// The findings as `plan --format json` shows them (secrets redacted), for review.
    pub findings: Vec<serde_json::Value>,
}

/// An account plan. It names no profile or credentials: `apply` takes those from its own
/// command line and environment only.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedAccount {
    /// What the plan was made with, to derive it again from the account at apply time.
    pub options: SavedAccountOptions,
    pub operations: Vec<PlannedOperation>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedAccountOptions {
    pub execution_role_arn: Option<String>,
    pub platform_version: Option<String>,
    pub ecr_policy: crate::check::EcrPolicy,
    /// `--cluster` and `--service` of the plan.
    #[serde(default)]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
}

impl SavedAccount {
    /// Checks the plan is only data the planner makes: every operation a kind the planner
    /// produces for a finding, each with the fingerprint of what it changes.
    pub fn validate(&self) -> Result<(), String> {
        for op in &self.operations {
            if !op.operation.is_planned_kind() {
                return Err(format!(
                    "`{}` is not an operation fargate-rtm plans",
                    op.operation.name()
                ));
            }
            if op.fingerprint.is_none() {
                return Err(format!(
                    "`{}` ({}) has no fingerprint of what it changes",
                    op.operation.name(),
                    op.title
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize, Default)]
pub struct SavedOptions {
    pub execution_role_arn: Option<String>,
    pub platform_version: Option<String>,
    pub registerable: bool,
    /// `--parameter NAME=VALUE` (CloudFormation).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedInput {
    /// As shown to the user.
    pub path: String,
    /// Absolute, to re-read it from any working directory.
    pub absolute: PathBuf,
    /// Below the argument that named it (for `--out-dir`).
    pub relative: PathBuf,
    pub sha256: String,
    pub patch: Vec<PatchOperation>,
}

impl SavedOptions {
    pub fn to_plan_options(&self) -> PlanOptions {
        PlanOptions {
            checks: check::Options {
                execution_role_arn: self.execution_role_arn.clone(),
                platform_version: self.platform_version.clone(),
                account: None,
            },
            registerable: self.registerable,
            materialize: true,
            fingerprint: false,
            parameters: self.parameters.clone(),
            hold_edits: None,
        }
    }
}

fn created_by() -> String {
    format!("fargate-rtm {}", env!("CARGO_PKG_VERSION"))
}

fn redacted_findings<'a>(
    findings: impl Iterator<Item = &'a crate::model::Finding>,
) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = findings.map(crate::model::Finding::to_json).collect();
    out.iter_mut().for_each(redact::redact_value);
    out
}

/// The saved form of an account plan.
pub fn for_account(plan: &Plan, options: SavedAccountOptions) -> SavedPlan {
    SavedPlan {
        format: FORMAT,
        created_by: created_by(),
        options: None,
        inputs: Vec::new(),
        account: Some(SavedAccount {
            options,
            operations: plan.account.operations.clone(),
        }),
        findings: redacted_findings(plan.findings()),
    }
}

/// The saved form of a file plan. Standard input cannot be re-read, so it cannot be saved.
pub fn for_files(docs: &[DocPlan], opts: &PlanOptions) -> Result<SavedPlan, String> {
    let mut inputs = Vec::new();
    for d in docs {
        let Origin::File { path, relative } = &d.origin else {
            return Err(
                "standard input cannot be saved in a plan: it cannot be re-read at apply time"
                    .into(),
            );
        };
        let absolute =
            std::path::absolute(path).map_err(|e| format!("`{}`: {e}", path.display()))?;
        inputs.push(SavedInput {
            path: d.resource.clone(),
            absolute,
            relative: relative.clone(),
            sha256: d
                .sha256
                .clone()
                .ok_or("the plan was made without fingerprints")?,
            patch: d.patch.clone(),
        });
    }
    Ok(SavedPlan {
        format: FORMAT,
        created_by: created_by(),
        options: Some(SavedOptions {
            execution_role_arn: opts.checks.execution_role_arn.clone(),
            platform_version: opts.checks.platform_version.clone(),
            registerable: opts.registerable,
            parameters: opts.parameters.clone(),
        }),
        inputs,
        account: None,
        findings: redacted_findings(docs.iter().flat_map(|d| d.findings.iter())),
    })
}

impl SavedPlan {
    /// The plan file's bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads a plan file's bytes (`None` when they are not a plan: an ordinary input). `name`
    /// is the file, for the error.
    pub fn parse(name: &str, bytes: &[u8]) -> Option<Result<SavedPlan, InputError>> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let format = value.get(PLAN_MARKER)?.as_u64();
        let (what, hint) = if value.get("live").is_some() {
            (
                "live plan",
                "save a new one with `fargate-rtm plan --live --out FILE`",
            )
        } else {
            (
                "plan file",
                "save a new one with `fargate-rtm plan --out FILE`",
            )
        };
        // Account plans before format 3 fingerprinted a subset of each task definition, named new
        // revisions by family and ordered endpoints before VPC DNS.
        if value.get("live").is_some() && format.is_some_and(|f| f < u64::from(FORMAT)) {
            return Some(Err(InputError::new(
                name,
                format!(
                    "a {what} saved by an older fargate-rtm (format {})",
                    format.unwrap_or(0)
                ),
                Some(hint),
            )));
        }
        Some(
            serde_json::from_value(value).map_err(|e| {
                InputError::new(name, format!("not a readable {what}: {e}"), Some(hint))
            }),
        )
    }
}

/// Replaces a document's planned patch with the saved one (apply exactly that plan).
pub fn use_saved_patch(
    doc: &mut DocPlan,
    parsed: &Document,
    patch: Vec<PatchOperation>,
) -> Result<(), InputError> {
    doc.patch = patch;
    let (change, edited) = if doc.patches() {
        super::materialize(&doc.resource, parsed, &doc.patch)?
    } else {
        (None, Vec::new())
    };
    doc.change = change;
    // The files a saved plan writes beside its input are derived again; the module files it
    // edits are the saved patch's.
    doc.derived.retain(|d| d.old_text.is_none());
    doc.derived.extend(edited);
    Ok(())
}
