//! Applying a file plan: destinations, atomic writes, the fingerprints of a saved plan.

use crate::input::files::io_reason;
use crate::model::{InputError, Origin, sha256_hex};
use crate::plan::DocPlan;
use crate::plan::saved::SavedPlan;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Checks every fingerprint of a saved plan. Returns the inputs that changed since.
pub fn stale_inputs(saved: &SavedPlan) -> Vec<String> {
    saved
        .inputs
        .iter()
        .filter(|i| {
            std::fs::read(&i.absolute)
                .map(|b| {
                    // A `.tf` file with its module (the files its fixes edit).
                    if i.absolute.extension().is_some_and(|e| e == "tf") {
                        crate::model::module_sha256(
                            &b,
                            &crate::input::files::module_files(&i.absolute),
                        )
                    } else {
                        sha256_hex(&b)
                    }
                })
                .ok()
                .as_deref()
                != Some(i.sha256.as_str())
        })
        .map(|i| i.path.clone())
        .collect()
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
    let tmp = synced_temp(path, bytes)?;
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

/// Writes a new file atomically, failing if `path` exists (never replacing it).
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    synced_temp(path, bytes)?
        .persist_noclobber(path)
        .map_err(|e| e.error)?;
    Ok(())
}

/// `bytes` in a temporary file beside `path`, flushed and synced, ready to be renamed over it.
fn synced_temp(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
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
    Ok(tmp)
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

/// Writes one changed file document to its destination, then the files the plan writes
/// beside it (never over a different existing file). Returns the paths written.
pub fn write_file(doc: &DocPlan, dest: &Destination) -> Result<Vec<PathBuf>, InputError> {
    let Origin::File { path, relative } = &doc.origin else {
        return Ok(Vec::new());
    };
    let mut written = Vec::new();
    // The files of the module the fixes edit are written only as they were planned (or left
    // when already edited the same way, by another input of the same module): all are compared
    // before anything is written.
    let mut already = Vec::new();
    let mut bom = Vec::new();
    for d in &doc.derived {
        let at = path.with_file_name(&d.name);
        if let Some(old) = &d.old_text {
            // Module files are read without their byte order mark, and keep it.
            let now = std::fs::read(&at).map(|b| match b.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) => {
                    bom.push(d.name.as_str());
                    rest.to_vec()
                }
                None => b,
            });
            match now {
                Ok(now) if now == d.text.as_bytes() => already.push(d.name.as_str()),
                Ok(now) if now == old.as_bytes() => {}
                _ => {
                    return Err(InputError::new(
                        doc.resource.clone(),
                        format!("`{}` changed since it was planned", at.display()),
                        Some("run `fargate-rtm plan` again"),
                    ));
                }
            }
        }
    }
    if let Some(bytes) = output_bytes(doc) {
        written.push(write_one(doc, dest, path, relative, &bytes, false)?);
    }
    for d in &doc.derived {
        let at = path.with_file_name(&d.name);
        if already.contains(&d.name.as_str()) {
            continue;
        }
        let mut bytes = Vec::new();
        if bom.contains(&d.name.as_str()) {
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        bytes.extend_from_slice(d.text.as_bytes());
        written.push(write_one(
            doc,
            dest,
            &at,
            &relative.with_file_name(&d.name),
            &bytes,
            d.old_text.is_none(),
        )?);
    }
    Ok(written)
}

fn write_one(
    doc: &DocPlan,
    dest: &Destination,
    path: &Path,
    relative: &Path,
    bytes: &[u8],
    new_file: bool,
) -> Result<PathBuf, InputError> {
    let err = |msg: String, hint: Option<&str>| InputError::new(doc.resource.clone(), msg, hint);
    let target = match dest {
        Destination::InPlace if !new_file => path.to_path_buf(),
        Destination::InPlace => {
            if let Ok(existing) = std::fs::read(path)
                && existing != bytes
            {
                return Err(err(
                    format!(
                        "refusing to overwrite `{}`, which already exists",
                        path.display()
                    ),
                    Some("remove it, or write to another folder with `--out-dir`"),
                ));
            }
            path.to_path_buf()
        }
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
                        format!("cannot create `{}`: {}", parent.display(), io_reason(&e)),
                        None,
                    )
                })?;
            }
            target
        }
    };
    if new_file {
        // A file the plan adds: the same bytes already there are kept; anything else that
        // appeared since the check above is never replaced.
        if std::fs::read(&target).is_ok_and(|b| b == bytes) {
            return Ok(target);
        }
        return write_new(&target, bytes)
            .map(|()| target.clone())
            .map_err(|e| {
                err(
                    format!("cannot write `{}`: {}", target.display(), io_reason(&e)),
                    Some("remove it or choose another `--out-dir`"),
                )
            });
    }
    write_atomic(&target, bytes, None).map_err(|e| {
        err(
            format!("cannot write `{}`: {}", target.display(), io_reason(&e)),
            None,
        )
    })?;
    Ok(target)
}
