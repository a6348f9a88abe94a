//! Renderers: pure functions from a plan to text, JSON, RFC 6902 patches or SARIF, written to
//! any `io::Write`.

pub mod html;
pub mod json;
pub mod patch;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Patch,
    Sarif,
    /// One self-contained page.
    Html,
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json(out: &mut dyn Write, value: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

pub use patch::write as patches;
