//! The live commands: `plan --live --out`, `apply --live`, `apply PLAN_FILE` of a live plan,
//! and `rollback JOURNAL`.

use crate::app::{self, confirm};
use crate::apply::{self, PLAN_MARKER};
use crate::apply_live::{self, Journal};
use crate::aws::sdk::{self, SdkAws};
use crate::cli::{ApplyArgs, LiveArgs, RollbackArgs};
use crate::plan::{Plan, PlannedOperation};
use crate::printer::Printer;
use crate::render::text::{self, Style};
use crate::source::InputError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::Path;

/// A saved live plan: the operations with the fingerprints apply checks first.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedLivePlan {
    #[serde(rename = "fargate-rtm-plan")]
    pub format: u32,
    pub created_by: String,
    pub live: SavedLive,
    /// The findings as `--format json` shows them, for review.
    pub findings: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedLive {
    pub profile: Option<String>,
    pub operations: Vec<PlannedOperation>,
}

pub fn save_live_plan(plan: &Plan, live: &LiveArgs, out: &Path) -> Result<(), String> {
    let mut findings: Vec<serde_json::Value> =
        plan.findings().map(crate::render::json::finding).collect();
    findings.iter_mut().for_each(crate::redact::redact_value);
    let saved = SavedLivePlan {
        format: 1,
        created_by: format!("fargate-rtm {}", env!("CARGO_PKG_VERSION")),
        live: SavedLive {
            profile: live.profile.clone(),
            operations: plan.live.operations.clone(),
        },
        findings,
    };
    let mut bytes = serde_json::to_vec_pretty(&saved).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    apply::write_atomic(out, &bytes, Some(0o600))
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))
}

/// Reads a live plan file (`None` when `path` is not one).
pub fn load_live_plan(path: &Path) -> Option<Result<SavedLivePlan, InputError>> {
    let bytes = std::fs::read(path).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(PLAN_MARKER)?;
    value.get("live")?;
    Some(serde_json::from_value(value).map_err(|e| {
        InputError::new(
            path.display().to_string(),
            format!("not a readable live plan: {e}"),
            Some("save a new one with `fargate-rtm plan --live --out FILE`"),
        )
    }))
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// One SDK client set per region the operations touch.
async fn clients(
    profile: Option<&str>,
    regions: impl Iterator<Item = String>,
) -> BTreeMap<String, SdkAws> {
    let config = sdk::load_config(profile, None).await;
    regions
        .map(|r| (r.clone(), SdkAws::new(&config, &r)))
        .collect()
}

/// `apply --live`: plan, show, confirm once, check preconditions, apply with a journal.
pub fn apply_live_cmd(args: &ApplyArgs, printer: &Printer) -> io::Result<i32> {
    if !args.paths.is_empty() {
        printer.error("give either files or `--live`, not both", None);
        return Ok(1);
    }
    // The same option checks as `plan` (`--platform-version`, `--execution-role-arn`).
    let opts = match app::plan_options(&args.fix) {
        Ok(o) => o,
        Err(e) => {
            printer.error(&e, None);
            return Ok(1);
        }
    };
    let show = !printer.quiet && io::stderr().is_terminal();
    let plan = match app::live_plan(&args.live, &opts, printer, show) {
        Ok(p) => p,
        Err((msg, hint)) => {
            printer.error(&msg, hint.as_deref());
            return Ok(1);
        }
    };
    plan.errors.iter().for_each(|e| printer.input_error(e));
    text::render(
        &plan,
        &mut printer.stderr(),
        Style {
            color: printer.stderr_color,
            ..Default::default()
        },
    )?;
    run(
        &plan.live.operations,
        args.live.profile.as_deref(),
        args,
        printer,
        !plan.errors.is_empty(),
    )
}

/// `apply PLAN_FILE` for a live plan: exactly its operations, if nothing changed since.
pub fn apply_saved(saved: SavedLivePlan, args: &ApplyArgs, printer: &Printer) -> io::Result<i32> {
    text::operations(
        &saved.live.operations,
        &mut printer.stderr(),
        Style {
            color: printer.stderr_color,
            ..Default::default()
        },
    )?;
    let profile = args.live.profile.clone().or(saved.live.profile);
    run(
        &saved.live.operations,
        profile.as_deref(),
        args,
        printer,
        false,
    )
}

fn run(
    ops: &[PlannedOperation],
    profile: Option<&str>,
    args: &ApplyArgs,
    printer: &Printer,
    had_errors: bool,
) -> io::Result<i32> {
    let fixable: Vec<PlannedOperation> = ops.to_vec();
    if fixable.is_empty() {
        printer.status("nothing to apply");
        return Ok(if had_errors { 1 } else { 0 });
    }
    let n = fixable.len();
    let prompt = format!(
        "Carry out {n} AWS operation{}?",
        if n == 1 { "" } else { "s" }
    );
    if let Err(code) = confirm(printer, &prompt, args.auto_approve, "nothing was changed") {
        return Ok(code);
    }
    let rt = runtime()?;
    rt.block_on(async {
        let regions = clients(
            profile,
            fixable
                .iter()
                .map(|o| o.region.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter(),
        )
        .await;
        let stale = apply_live::stale(&regions, &fixable).await;
        if !stale.is_empty() {
            printer.error(
                &format!(
                    "the plan is stale: {}; nothing was changed",
                    stale.join("; ")
                ),
                Some("run `fargate-rtm plan --live` again and review it"),
            );
            return Ok(1);
        }
        let path = args
            .journal
            .clone()
            .unwrap_or_else(apply_live::default_journal_path);
        let mut journal = match Journal::open(&path) {
            Ok(j) => j,
            Err(e) => {
                printer.error(
                    &format!(
                        "cannot open the journal `{}`: {e}; nothing was changed",
                        path.display()
                    ),
                    Some("choose another path with `--journal`"),
                );
                return Ok(1);
            }
        };
        let outcome = apply_live::execute(&regions, &fixable, &mut journal).await?;
        for s in &outcome.skipped {
            printer.status(&format!("skipped: {s}"));
        }
        match &outcome.failed {
            None => {
                printer.status(&format!(
                    "applied: {} of {n} operations; journal `{}`",
                    outcome.done,
                    path.display()
                ));
                Ok(if had_errors { 1 } else { 0 })
            }
            Some((what, err)) => {
                printer.error(
                    &format!(
                        "{what}: {err}; stopped after {} of {n} operations",
                        outcome.done
                    ),
                    Some(&format!(
                        "undo what was done with `fargate-rtm rollback {}`",
                        path.display()
                    )),
                );
                Ok(1)
            }
        }
    })
}

/// `rollback JOURNAL`: undo the completed steps newest first, journaled in the same file.
pub fn rollback_cmd(args: RollbackArgs, printer: &Printer) -> io::Result<i32> {
    let text = match std::fs::read_to_string(&args.journal) {
        Ok(t) => t,
        Err(e) => {
            printer.error(
                &format!(
                    "`{}`: cannot read: {}",
                    args.journal.display(),
                    crate::source::io_reason(&e)
                ),
                None,
            );
            return Ok(1);
        }
    };
    let steps = match apply_live::pending_undo(&text) {
        Ok(s) => s,
        Err(e) => {
            printer.error(
                &format!(
                    "`{}`: not a fargate-rtm journal: {e}",
                    args.journal.display()
                ),
                None,
            );
            return Ok(1);
        }
    };
    if steps.is_empty() {
        printer.status("nothing to roll back");
        return Ok(0);
    }
    let ops: Vec<PlannedOperation> = steps
        .iter()
        .map(|s| PlannedOperation {
            resource: String::new(),
            title: format!("undo step {}", s.seq),
            applicability: crate::finding::Applicability::Unsafe,
            reason: None,
            operation: s.inverse.clone(),
            region: s.region.clone(),
            fingerprint: None,
        })
        .collect();
    text::operations(
        &ops,
        &mut printer.stderr(),
        Style {
            color: printer.stderr_color,
            ..Default::default()
        },
    )?;
    let n = steps.len();
    if let Err(code) = confirm(
        printer,
        &format!("Roll back {n} step{}?", if n == 1 { "" } else { "s" }),
        args.auto_approve,
        "nothing was changed",
    ) {
        return Ok(code);
    }
    let rt = runtime()?;
    rt.block_on(async {
        let regions = clients(args.profile.as_deref(), steps.iter().map(|s| s.region.clone()).collect::<std::collections::BTreeSet<_>>().into_iter()).await;
        let mut journal = Journal::open(&args.journal)?;
        let outcome = apply_live::rollback(&regions, &steps, args.deregister, &mut journal).await?;
        for s in &outcome.skipped {
            printer.status(&format!("skipped: {s}"));
        }
        match &outcome.failed {
            None => {
                printer.status(&format!("rolled back {} of {n} steps", outcome.done));
                Ok(0)
            }
            Some((what, err)) => {
                printer.error(&format!("{what}: {err}; stopped"), Some("fix the cause and run `fargate-rtm rollback` again: finished steps are not repeated"));
                Ok(1)
            }
        }
    })
}
