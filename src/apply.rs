//! Applying a plan in file mode: saved plans with fingerprints, atomic writes, destinations.

use crate::check;
use crate::plan::{self, DocPlan, PlanOptions};
use crate::redact;
use crate::render::json as render_json;
use crate::source::{self, InputError, Origin};
use json_patch::PatchOperation;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The key that marks a saved plan file.
pub const PLAN_MARKER: &str = "fargate-rtm-plan";

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    #[serde(rename = "fargate-rtm-plan")]
    pub format: u32,
    pub created_by: String,
    pub options: SavedOptions,
    pub inputs: Vec<SavedInput>,
    /// The findings as `plan --format json` shows them (secrets redacted), for review.
    pub findings: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
pub struct SavedOptions {
    pub execution_role_arn: Option<String>,
    pub platform_version: Option<String>,
    pub registerable: bool,
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
        }
    }
}

/// Builds the saved form of a plan. Standard input cannot be re-read, so it cannot be saved.
pub fn saved_plan(docs: &[DocPlan], opts: &PlanOptions) -> Result<SavedPlan, String> {
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
    let mut findings: Vec<serde_json::Value> = docs
        .iter()
        .flat_map(|d| d.findings.iter())
        .map(render_json::finding)
        .collect();
    findings.iter_mut().for_each(redact::redact_value);
    Ok(SavedPlan {
        format: 1,
        created_by: format!("fargate-rtm {}", env!("CARGO_PKG_VERSION")),
        options: SavedOptions {
            execution_role_arn: opts.checks.execution_role_arn.clone(),
            platform_version: opts.checks.platform_version.clone(),
            registerable: opts.registerable,
        },
        inputs,
        findings,
    })
}

/// Reads a plan file if `path` is one (`None` when it is an ordinary input).
pub fn load_plan(path: &Path) -> Option<Result<SavedPlan, InputError>> {
    let bytes = std::fs::read(path).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(PLAN_MARKER)?;
    Some(serde_json::from_value(value).map_err(|e| {
        InputError::new(
            path.display().to_string(),
            format!("not a readable plan file: {e}"),
            Some("save a new one with `fargate-rtm plan --out FILE`"),
        )
    }))
}

/// Checks every fingerprint of a saved plan. Returns the inputs that changed since.
pub fn stale_inputs(saved: &SavedPlan) -> Vec<String> {
    saved
        .inputs
        .iter()
        .filter(|i| {
            std::fs::read(&i.absolute)
                .map(|b| source::sha256_hex(&b))
                .ok()
                .as_deref()
                != Some(i.sha256.as_str())
        })
        .map(|i| i.path.clone())
        .collect()
}

/// Replaces a document's planned patch with the saved one (apply exactly that plan).
pub fn use_saved_patch(
    doc: &mut DocPlan,
    parsed: &source::Document,
    patch: Vec<PatchOperation>,
) -> Result<(), InputError> {
    doc.patch = patch;
    doc.change = if doc.is_changed() {
        Some(plan::materialize(&doc.resource, parsed, &doc.patch)?)
    } else {
        None
    };
    Ok(())
}

/// Where `apply` writes.
#[derive(Debug, Clone)]
pub enum Destination {
    InPlace,
    OutDir(PathBuf),
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed and
/// synced, then renamed over the target. The target's permissions are kept when it exists.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".fargate-rtm-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = mode
            .or_else(|| std::fs::metadata(path).ok().map(|m| m.permissions().mode()))
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The bytes to write for a changed document (byte order mark kept).
pub fn output_bytes(doc: &DocPlan) -> Option<Vec<u8>> {
    let change = doc.change.as_ref()?;
    let mut out = Vec::with_capacity(change.new_text.len() + 3);
    if doc.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(change.new_text.as_bytes());
    Some(out)
}

/// Writes one changed file document to its destination. Returns the path written.
pub fn write_file(doc: &DocPlan, dest: &Destination) -> Result<Option<PathBuf>, InputError> {
    let Origin::File { path, relative } = &doc.origin else {
        return Ok(None);
    };
    let Some(bytes) = output_bytes(doc) else {
        return Ok(None);
    };
    let err = |msg: String, hint: Option<&str>| InputError::new(doc.resource.clone(), msg, hint);
    let target = match dest {
        Destination::InPlace => path.clone(),
        Destination::OutDir(dir) => {
            let target = dir.join(relative);
            if let Ok(existing) = std::fs::read(&target)
                && existing != bytes
            {
                return Err(err(
                    format!(
                        "refusing to overwrite `{}`, which already exists",
                        target.display()
                    ),
                    Some("remove it or choose another `--out-dir`"),
                ));
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    err(
                        format!(
                            "cannot create `{}`: {}",
                            parent.display(),
                            source::io_reason(&e)
                        ),
                        None,
                    )
                })?;
            }
            target
        }
    };
    write_atomic(&target, &bytes, None).map_err(|e| {
        err(
            format!(
                "cannot write `{}`: {}",
                target.display(),
                source::io_reason(&e)
            ),
            None,
        )
    })?;
    Ok(Some(target))
}
