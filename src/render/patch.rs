//! `--format patch`: the RFC 6902 patch of each changed document, keyed by its path.

use super::write_json;
use crate::plan::Plan;
use std::io::{self, Write};

/// Writes the patches of every changed document.
pub fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let map: serde_json::Map<String, serde_json::Value> = plan
        .changed()
        .filter(|d| d.patches())
        .map(|d| {
            (
                d.resource.clone(),
                serde_json::to_value(&d.patch).unwrap_or_default(),
            )
        })
        .collect();
    write_json(out, &serde_json::Value::Object(map))
}
