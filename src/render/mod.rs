//! Renderers: pure functions from a plan to text, JSON, RFC 6902 patches or SARIF, written to
//! any `io::Write`.

pub mod json;
pub mod sarif;
pub mod text;

use crate::plan::Plan;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Patch,
    Sarif,
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json(out: &mut dyn Write, value: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

/// `--format patch`: the RFC 6902 patch of each changed document, keyed by its path.
pub fn patches(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let map: serde_json::Map<String, serde_json::Value> = plan
        .changed()
        .map(|d| {
            (
                d.resource.clone(),
                serde_json::to_value(&d.patch).unwrap_or_default(),
            )
        })
        .collect();
    write_json(out, &serde_json::Value::Object(map))
}
