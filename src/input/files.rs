//! Files into documents: command-line paths expanded (directories walked: every `*.json`
//! below, sorted, hidden folders skipped), bytes read (standard input at most once). This is an
//! edge module: it reads the file system; parsing is `model::document::parse`.

use crate::model::{InputError, Origin};
use std::io::Read;
use std::path::{Path, PathBuf};

/// ECS caps a task definition at 64 KiB; anything far larger is not one.
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// Expands the command-line paths into the list of inputs, in order.
pub fn expand(args: &[String]) -> (Vec<Origin>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Origin::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                if let Err(e) = walk(&path, &mut found) {
                    errors.push(InputError::new(
                        arg.clone(),
                        format!("cannot read the directory: {e}"),
                        None,
                    ));
                }
                found.sort();
                if found.is_empty() {
                    errors.push(InputError::new(
                        arg.clone(),
                        "no `*.json` file in this directory",
                        Some("give the files or a directory that holds them"),
                    ));
                }
                for f in found {
                    let relative = f
                        .strip_prefix(&path)
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|_| f.clone());
                    inputs.push(Origin::File { path: f, relative });
                }
            }
            Ok(_) => {
                let relative = path
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| path.clone());
                inputs.push(Origin::File { path, relative });
            }
            Err(e) => errors.push(InputError::new(
                arg.clone(),
                format!("cannot read: {}", io_reason(&e)),
                None,
            )),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let path = entry.path();
        if ft.is_dir() {
            // Symlinked directories are not followed (no loops); hidden ones like `.git` are skipped.
            if !entry.file_name().to_string_lossy().starts_with('.') {
                walk(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") && (ft.is_file() || path.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Reads the bytes of an input (standard input at most once).
pub fn read(origin: &Origin) -> Result<Vec<u8>, InputError> {
    let name = origin.display();
    let mut buf = Vec::new();
    let res = match origin {
        Origin::File { path, .. } => std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut buf)),
        Origin::Stdin => std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut buf),
        Origin::Account { .. } => Err(std::io::Error::other(
            "a live resource is read through AWS, not as a file",
        )),
    };
    res.map_err(|e| {
        InputError::new(
            name.clone(),
            format!("cannot read: {}", io_reason(&e)),
            None,
        )
    })?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::new(
            name,
            "file is larger than 32 MiB: not a task or service definition",
            None,
        ));
    }
    Ok(buf)
}
