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
    if args.journal.is_dir() {
        return run_dir(&args, printer);
    }
    run_one(&args.journal, None, &args, printer, true)
}

/// `rollback DIR`: the run of `apply --live --org`, one journal per account and region
/// (`ACCOUNT-REGION.jsonl`), each undone with that account's credentials (the caller's, or the
/// role assumed in it as `--role-name`/`--role-arn-template` say), after one confirmation. A
/// journal that fails leaves the others to go on.
fn run_dir(args: &RollbackArgs, printer: &Printer) -> Result<i32> {
    use crate::aws::Sts as _;
    use crate::input::org::{Roles, is_account_id};
    let dir = &args.journal;
    let mut journals: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            let account = stem.split('-').next()?.to_string();
            is_account_id(&account).then_some((account, p))
        })
        .collect();
    // Newest first: an account's regions in the reverse of the order they were applied.
    journals.sort();
    journals.reverse();
    if journals.is_empty() {
        return Err(Error::new(
            Kind::Input,
            format!(
                "`{}` holds no `ACCOUNT-REGION.jsonl` journal",
                dir.display()
            ),
        )
        .with_hint("give the folder `apply --live --org` wrote, or one journal"));
    }
    let rt = runtime()?;
    let (config, me) = rt.block_on(async {
        let config = crate::aws::sdk::load_config(args.profile.as_deref(), None).await;
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
        let me = crate::aws::sdk::SdkAws::new(&config, &region)
            .caller_identity()
            .await;
        (config, me)
    });
    let me = me.map_err(|e| {
        Error::new(Kind::Aws, format!("cannot read the caller's identity: {e}"))
            .with_hint("check the credentials (`aws sts get-caller-identity`) and `--profile`")
    })?;
    if let Some(t) = &args.roles.role_arn_template
        && !t.contains("{account}")
    {
        return Err(Error::usage(format!(
            "`--role-arn-template {t}` has no `{{account}}`"
        )));
    }
    let roles = Roles {
        name: args.roles.role_name.clone(),
        template: args.roles.role_arn_template.clone(),
        partition: me.partition.clone(),
    };
    // The role each account was reached with when the run applied (`run.json`), if known.
    let applied_with: serde_json::Value = std::fs::read(dir.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let names: Vec<String> = journals
        .iter()
        .map(|(_, p)| format!("`{}`", p.display()))
        .collect();
    printer.status(&format!("journals of the run: {}", names.join(", ")));
    confirm(
        &format!(
            "Roll back {} journal{} of `{}`?",
            journals.len(),
            plural(journals.len()),
            dir.display()
        ),
        args.auto_approve,
        "nothing was changed",
    )?;
    let mut code = 0;
    for (account, path) in &journals {
        let region = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .and_then(|s| s.split_once('-').map(|(_, r)| r.to_string()))
            .unwrap_or_default();
        let conf = if *account == me.account {
            config.clone()
        } else {
            let arn = applied_with["roles"][account.as_str()]
                .as_str()
                .map_or_else(|| roles.arn(account, None), str::to_string);
            rt.block_on(super::plan::assumed(
                &config,
                &arn,
                args.roles.external_id.as_deref(),
                &region,
            ))
        };
        printer.status(&format!("account `{account}`, `{}`:", path.display()));
        // Only ever in the journal's own account.
        let reads = rt.block_on(async {
            crate::aws::sdk::SdkAws::new(&conf, &region)
                .caller_identity()
                .await
        });
        match reads {
            Ok(id) if id.account == *account => {}
            Ok(id) => {
                printer.warning(&format!(
                    "skipped `{}`: the credentials read account `{}`, not `{account}`",
                    path.display(),
                    id.account
                ));
                code = 1;
                continue;
            }
            Err(e) => {
                printer.warning(&format!(
                    "skipped `{}`: cannot reach account `{account}`: {e}",
                    path.display()
                ));
                code = 1;
                continue;
            }
        }
        match run_one(path, Some(&conf), args, printer, false) {
            Ok(c) => code = code.max(c),
            Err(e) => {
                printer.report(&e);
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Rolls back one journal, with `config`'s credentials (else `--profile`'s); `ask`: confirm.
fn run_one(
    journal_path: &std::path::Path,
    config: Option<&aws_config::SdkConfig>,
    args: &RollbackArgs,
    printer: &Printer,
    ask: bool,
) -> Result<i32> {
    let journal_text =
        std::fs::read_to_string(journal_path).map_err(|e| Error::io("read", journal_path, e))?;
    let pending = pending_undo(&journal_text, args.run.as_deref()).map_err(|e| {
        Error::new(
            Kind::Input,
            format!(
                "`{}`: not a fargate-rtm journal: {e}",
                journal_path.display()
            ),
        )
    })?;
    if pending.steps.is_empty() && pending.in_doubt.is_empty() {
        printer.status("nothing to roll back");
        return Ok(0);
    }
    let rt = runtime()?;
    let wanted = pending
        .steps
        .iter()
        .map(|s| s.region.clone())
        .chain(pending.in_doubt.iter().map(|d| d.region.clone()))
        .collect::<BTreeSet<_>>();
    let regions = match config {
        Some(c) => wanted
            .into_iter()
            .map(|r| (r.clone(), crate::aws::sdk::SdkAws::new(c, &r)))
            .collect(),
        None => rt.block_on(clients(args.profile.as_deref(), wanted.into_iter())),
    };
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
                let io = |e| Error::io("write the journal", journal_path, e);
                Journal::open(journal_path)
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
        args.auto_approve || !ask,
        "nothing was changed",
    )?;
    rt.block_on(async {
        let io = |e| Error::io("write the journal", journal_path, e);
        let mut journal = Journal::open(journal_path).map_err(io)?;
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
