//! `rollback JOURNAL`: undo an account apply's completed steps, newest first, after one
//! confirmation; journaled in the same file, so a second rollback does nothing.

use super::confirm::confirm;
use super::{clients, plural, runtime, stderr_style};
use crate::apply::journal::Undo;
use crate::apply::journal::{Journal, pending_undo};
use crate::apply::rollback::{Resolved, resolve_in_doubt, rollback};
use crate::cli::RollbackArgs;
use crate::error::{Error, Kind, Result};
use crate::model::Applicability;
use crate::plan::PlannedOperation;
use crate::printer::Printer;
use crate::render::text;
use std::collections::BTreeSet;

pub fn run(args: RollbackArgs, printer: &Printer) -> Result<i32> {
    let journal_text =
        std::fs::read_to_string(&args.journal).map_err(|e| Error::io("read", &args.journal, e))?;
    let pending = pending_undo(&journal_text, args.run.as_deref()).map_err(|e| {
        Error::new(
            Kind::Input,
            format!(
                "`{}`: not a fargate-rtm journal: {e}",
                args.journal.display()
            ),
        )
    })?;
    if pending.steps.is_empty() && pending.in_doubt.is_empty() {
        printer.status("nothing to roll back");
        return Ok(0);
    }
    let rt = runtime()?;
    let regions = rt.block_on(clients(
        args.profile.as_deref(),
        pending
            .steps
            .iter()
            .map(|s| s.region.clone())
            .chain(pending.in_doubt.iter().map(|d| d.region.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter(),
    ));
    // Never ignored: a creation begun and never recorded as finished is looked for in the
    // account (by the run tag on what apply creates) and undone if it is there.
    let mut steps = pending.steps;
    let mut in_doubt = 0;
    for d in &pending.in_doubt {
        let resolved = match regions.get(&d.region) {
            Some(aws) => rt.block_on(resolve_in_doubt(aws, d)),
            None => Resolved::Unknown(format!("no client for region `{}`", d.region)),
        };
        match resolved {
            Resolved::Created(ops) => {
                // In its place among the run's steps, newest first.
                let at = steps
                    .iter()
                    .position(|s| s.run == d.run && s.seq < d.seq)
                    .unwrap_or(steps.len());
                for inverse in ops {
                    steps.insert(
                        at,
                        Undo {
                            run: d.run.clone(),
                            seq: d.seq,
                            region: d.region.clone(),
                            inverse,
                            applied: None,
                        },
                    );
                }
            }
            Resolved::NotCreated(why) => {
                // Settled: a later rollback does not read the account for it again.
                let io = |e| Error::io("write the journal", &args.journal, e);
                Journal::open(&args.journal)
                    .and_then(|mut j| {
                        j.record(serde_json::json!({"run": d.run, "phase": "rollback-after", "of": d.seq, "status": "skipped", "reason": why}))
                    })
                    .map_err(io)?;
                printer.status(&format!(
                    "step {} (`{}`) was not finished and created nothing: {why}",
                    d.seq, d.name
                ));
            }
            Resolved::Unknown(why) => {
                in_doubt = 1;
                printer.warning(&format!(
                    "in doubt: {}: {why}; check that resource by hand",
                    d.describe()
                ));
            }
        }
    }
    if steps.is_empty() {
        printer.status("nothing to roll back");
        return Ok(in_doubt);
    }
    let ops: Vec<PlannedOperation> = steps
        .iter()
        .map(|s| PlannedOperation {
            resource: String::new(),
            title: format!("undo step {}", s.seq),
            applicability: Applicability::Unsafe,
            reason: None,
            operation: s.inverse.clone(),
            region: s.region.clone(),
            fingerprint: None,
        })
        .collect();
    text::operations(&ops, &mut printer.stderr(), stderr_style(printer))?;
    let n = steps.len();
    confirm(
        &format!("Roll back {n} step{}?", plural(n)),
        args.auto_approve,
        "nothing was changed",
    )?;
    rt.block_on(async {
        let io = |e| Error::io("write the journal", &args.journal, e);
        let mut journal = Journal::open(&args.journal).map_err(io)?;
        let outcome = rollback(&regions, &steps, args.deregister, args.force, &mut journal)
            .await
            .map_err(io)?;
        for s in &outcome.skipped {
            printer.status(&format!("skipped: {s}"));
        }
        for c in &outcome.changed {
            printer.warning(&format!("left as it is: {c}"));
        }
        let in_doubt = if outcome.changed.is_empty() { in_doubt } else { 1 };
        match &outcome.failed {
            None => {
                printer.status(&format!("rolled back {} of {n} steps", outcome.done));
                Ok(in_doubt)
            }
            Some((what, err)) => Err(Error::new(Kind::Aws, format!("{what}: {err}; stopped"))
                .with_hint(
                    "fix the cause and run `fargate-rtm rollback` again: finished steps are not repeated",
                )),
        }
    })
}
