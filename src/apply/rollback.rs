//! `rollback`: undo an account apply's completed steps, newest first, journaled in the same file.

use super::account::{Outcome, perform};
use super::journal::{Journal, Undo};
use crate::aws::Aws;
use crate::operation::Operation;
use serde_json::json;
use std::collections::BTreeMap;

/// Undoes the given steps, newest first, journaling each. `deregister` allows deregistering
/// revisions the apply registered (otherwise they are kept and reported).
pub async fn rollback<A: Aws>(
    regions: &BTreeMap<String, A>,
    steps: &[Undo],
    deregister: bool,
    journal: &mut Journal,
) -> std::io::Result<Outcome> {
    let mut out = Outcome::default();
    for step in steps {
        let label = format!("{} (undoes step {})", step.inverse.name(), step.seq);
        if out.failed.is_some() {
            out.skipped
                .push(format!("{label}: not run, an earlier step failed"));
            continue;
        }
        if matches!(step.inverse, Operation::DeregisterTaskDefinition { .. }) && !deregister {
            journal.record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "kept", "operation": step.inverse}))?;
            out.skipped.push(format!(
                "{label}: kept; pass `--deregister` to deregister the new revision"
            ));
            continue;
        }
        let Some(aws) = regions.get(&step.region) else {
            out.failed = Some((label, format!("no client for region `{}`", step.region)));
            continue;
        };
        journal.record(json!({"run": step.run, "phase": "rollback-before", "of": step.seq, "region": step.region, "operation": step.inverse}))?;
        match perform(aws, &step.inverse, &BTreeMap::new()).await {
            Ok(_) => {
                journal
                    .record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "ok"}))?;
                out.done += 1;
            }
            Err(e) => {
                journal.record(json!({"run": step.run, "phase": "rollback-after", "of": step.seq, "status": "failed", "error": e.to_string()}))?;
                out.failed = Some((label, e.to_string()));
            }
        }
    }
    Ok(out)
}
