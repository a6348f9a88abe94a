//! Loading inputs: files, directories (every `*.json` below, sorted) and standard input, then
//! parsing and shape detection. This is an edge module: it reads the file system.

use crate::jsontext;
use crate::model::{self, Shape};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// ECS caps a task definition at 64 KiB; anything far larger is not one.
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file; `relative` is its path below the argument that named it (for `--out-dir`).
    File {
        path: PathBuf,
        relative: PathBuf,
    },
    Stdin,
    /// A resource read from AWS (`plan --live`), by ARN.
    Live {
        arn: String,
    },
}

impl Origin {
    pub fn display(&self) -> String {
        match self {
            Origin::File { path, .. } => path.display().to_string(),
            Origin::Stdin => "-".to_string(),
            Origin::Live { arn } => arn.clone(),
        }
    }
}

/// An input that could not be used: the message names the file and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub resource: String,
    pub message: String,
    pub hint: Option<String>,
}

impl InputError {
    pub fn new(
        resource: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) -> Self {
        InputError {
            resource: resource.into(),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

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
        Origin::Live { .. } => Err(std::io::Error::other(
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

/// A parsed input.
#[derive(Debug, Clone)]
pub struct Document {
    pub origin: Origin,
    /// The text without a UTF-8 byte order mark.
    pub text: String,
    /// Whether the file started with a byte order mark (kept on write).
    pub bom: bool,
    pub value: Value,
    pub shape: Shape,
}

impl Document {
    /// SHA-256 of the input bytes exactly as read (byte order mark included).
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        if self.bom {
            h.update(b"\xEF\xBB\xBF");
        }
        h.update(self.text.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses bytes into a document, or says exactly why not.
pub fn parse(origin: Origin, bytes: &[u8]) -> Result<Document, InputError> {
    let name = origin.display();
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let (line, col) = jsontext::line_col(
                &String::from_utf8_lossy(&body[..e.valid_up_to()]),
                e.valid_up_to(),
            );
            return Err(InputError::new(
                name,
                format!("not UTF-8 text (line {line}, column {col})"),
                Some("save the file as UTF-8"),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(InputError::new(
            name,
            "empty file",
            Some("expected a task or service definition in JSON"),
        ));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| json_error(&name, &text, &e))?;
    let shape = model::detect(&value).map_err(|e| {
        let at = e
            .pointer
            .as_ref()
            .and_then(|p| jsontext::line_of(&text, p))
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        InputError {
            resource: name.clone(),
            message: format!("{}{at}", e.message),
            hint: e.hint,
        }
    })?;
    Ok(Document {
        origin,
        text,
        bom,
        value,
        shape,
    })
}

fn json_error(name: &str, text: &str, e: &serde_json::Error) -> InputError {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; keep the reason and say where once.
    let reason = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(r, _)| r);
    let hint = if text
        .lines()
        .next()
        .is_some_and(|l| l.trim_start().starts_with('$') || l.contains("aws ecs"))
    {
        Some("the first line looks like a shell prompt; keep only the JSON")
    } else if text.contains("{{") || text.contains("<") || text.contains("${") {
        Some("template placeholders must be rendered (or quoted) before the file is valid JSON")
    } else if e.classify() == serde_json::error::Category::Eof {
        Some("the file ends early; is it complete?")
    } else {
        None
    };
    InputError::new(
        name,
        format!(
            "invalid JSON at line {}, column {}: {reason}",
            e.line(),
            e.column()
        ),
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> InputError {
        parse(Origin::Stdin, bytes).unwrap_err()
    }

    #[test]
    fn bad_inputs_get_located_errors() {
        assert_eq!(err(b"").message, "empty file");
        assert!(
            err(b"{\n  \"a\": 1,\n}")
                .message
                .starts_with("invalid JSON at line 3, column 1")
        );
        assert!(err(b"[1, 2]").message.contains("the document is an array"));
        assert!(err(b"{\"memory\": 1e309}").message.contains("invalid JSON"));
        assert!(err(b"\xff\xfe").message.contains("not UTF-8"));
        let deep = "[".repeat(10_000);
        assert!(err(deep.as_bytes()).message.contains("recursion limit"));
    }

    #[test]
    fn byte_order_mark_is_kept_aside() {
        let d = parse(Origin::Stdin, b"\xEF\xBB\xBF{\"containerDefinitions\": []}").unwrap();
        assert!(d.bom);
        assert_eq!(d.shape, Shape::TaskDefinition);
    }
}
