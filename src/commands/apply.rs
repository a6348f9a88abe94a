//! `apply`: the plan shown, one confirmation, then files written (atomically) or the account
//! changed (behind preconditions, with a journal). A saved plan is applied exactly as saved.

use super::confirm::confirm;
use super::plan::account_plan;
use super::{
    Mode, build_plan, clients, expand_inputs, plan_options, plural, runtime, stderr_style,
};
use crate::apply::account::execute;
use crate::apply::files::{self as apply_files, Destination};
use crate::apply::journal::{self, Journal};
use crate::apply::preconditions::stale;
use crate::aws::sdk::SdkAws;
use crate::cli::{ApplyArgs, FixArgs, LiveArgs};
use crate::error::{Error, Kind, Result};
use crate::model::{Applicability, InputError, Origin, Severity};
use crate::plan::saved::{SavedAccount, SavedPlan};
use crate::plan::{self as planner, Plan, PlannedOperation};
use crate::printer::Printer;
use crate::render::text;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, IsTerminal, Write};

pub fn run(args: ApplyArgs, printer: &Printer) -> Result<i32> {
    match Mode::of(&args.paths, &args.live, &args.fix)? {
        Mode::Account(live) if live.many_accounts() => org_apply(live, &args, printer),
        Mode::Account(live) => {
            // The same option checks as `plan` (`--platform-version`, `--execution-role-arn`).
            let opts = plan_options(&args.fix)?;
            let show = !printer.quiet && io::stderr().is_terminal();
            let plan = account_plan(live, &opts, printer, show)?;
            plan.errors.iter().for_each(|e| printer.input_error(e));
            text::render(&plan, &mut printer.stderr(), stderr_style(printer))?;
            let profile = live.profile.as_deref();
            // What could not be read may need fixing too: the run is then not complete.
            let not_checked = plan.not_checked().count();
            let result = operations(
                &plan.account.operations,
                profile,
                &args,
                printer,
                !plan.errors.is_empty() || not_checked > 0,
            );
            if not_checked > 0 {
                printer.warning(&format!(
                    "{not_checked} check{} could not be run (see `not checked` above): the account may need more than this plan",
                    plural(not_checked)
                ));
            }
            result
        }
        Mode::Files(paths) => match saved_plan(paths)? {
            Some(SavedPlan {
                account: Some(account),
                ..
            }) => {
                text::operations(
                    &account.operations,
                    &mut printer.stderr(),
                    stderr_style(printer),
                )?;
                let ops = derived_again(&account, &args, printer)?;
                // Credentials and profile from this command line and environment, never the file.
                operations(&ops, args.live.profile.as_deref(), &args, printer, false)
            }
            // Files: every fix in a document is one patch.
            Some(_) | None if args.only.is_some() => Err(Error::usage(
                "`--only` chooses among account changes: give `--live` or a saved account plan",
            )),
            Some(saved) => {
                let plan = saved_file_plan(saved, printer)?;
                files(plan, true, &args, printer)
            }
            None => {
                let opts = plan_options(&args.fix)?;
                let inputs = expand_inputs(paths, &(&args.walk).into())?;
                files(build_plan(inputs, &opts), false, &args, printer)
            }
        },
    }
}

/// Refuses, changing nothing, when a resource an operation changes is not as the plan saw it.
async fn refuse_if_stale(
    regions: &BTreeMap<String, SdkAws>,
    ops: &[PlannedOperation],
) -> Result<()> {
    let stale = stale(regions, ops).await;
    if stale.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        Kind::StalePlan,
        format!(
            "the plan is stale: {}; nothing was changed",
            stale.join("; ")
        ),
    )
    .with_hint("run `fargate-rtm plan --live` again and review it"))
}

/// A saved account plan is data, not a program: only operations the planner makes, each with a
/// fingerprint, and each derived again from the account as it is now, with the options the plan
/// was made with. Anything else is refused before any change.
/// Returns the operations to carry out: the derived ones (their order, applicability and
/// fingerprints), exactly those the saved plan lists.
fn derived_again(
    account: &SavedAccount,
    args: &ApplyArgs,
    printer: &Printer,
) -> Result<Vec<PlannedOperation>> {
    let refuse = |why: String| {
        Error::new(
            Kind::StalePlan,
            format!("the plan cannot be applied: {why}; nothing was changed"),
        )
        .with_hint("run `fargate-rtm plan --live --out FILE` again and review it")
    };
    account.validate().map_err(refuse)?;
    // What changed since the plan is named first (the fingerprints), then the plan is derived
    // again.
    runtime()?.block_on(async {
        let regions = clients(
            args.live.profile.as_deref(),
            account
                .operations
                .iter()
                .map(|o| o.region.clone())
                .collect::<BTreeSet<_>>()
                .into_iter(),
        )
        .await;
        refuse_if_stale(&regions, &account.operations).await
    })?;
    let regions: BTreeSet<String> = account
        .operations
        .iter()
        .map(|o| o.region.clone())
        .collect();
    let live = LiveArgs {
        live: true,
        regions: regions.into_iter().collect(),
        profile: args.live.profile.clone(),
        org_profile: args.live.org_profile.clone(),
        ecr_policy: account.options.ecr_policy.into(),
        clusters: account.options.clusters.clone(),
        services: account.options.services.clone(),
        ..Default::default()
    };
    let opts = plan_options(&FixArgs {
        execution_role_arn: account.options.execution_role_arn.clone(),
        platform_version: account.options.platform_version.clone(),
        registerable: false,
        parameters: Vec::new(),
    })?;
    let now = account_plan(&live, &opts, printer, false)?;
    // The same operation; an IAM one (global) may have been planned from another region.
    let same = |a: &PlannedOperation, b: &PlannedOperation| {
        a.operation == b.operation && (a.region == b.region || a.operation.is_global())
    };
    for (i, op) in account.operations.iter().enumerate() {
        if account.operations[..i].iter().any(|o| same(o, op)) {
            return Err(refuse(format!("`{}` is listed twice", op.operation.name())));
        }
        if !now.account.operations.iter().any(|o| same(o, op)) {
            return Err(refuse(format!(
                "`{}` ({}) is not what the account needs now",
                op.operation.name(),
                op.title
            )));
        }
    }
    Ok(now
        .account
        .operations
        .into_iter()
        .filter(|o| account.operations.iter().any(|op| same(o, op)))
        .collect())
}

/// The saved plan `paths` names, if it is exactly one plan file.
fn saved_plan(paths: &[String]) -> Result<Option<SavedPlan>> {
    let [single] = paths else { return Ok(None) };
    let Ok(bytes) = std::fs::read(single) else {
        return Ok(None);
    };
    SavedPlan::parse(single, &bytes)
        .transpose()
        .map_err(Error::from)
}

/// A saved file plan, checked against its fingerprints, as the plan to carry out.
fn saved_file_plan(saved: SavedPlan, printer: &Printer) -> Result<Plan> {
    let stale = apply_files::stale_inputs(&saved);
    if !stale.is_empty() {
        let list = stale
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::new(
            Kind::StalePlan,
            format!("the plan is stale: {list} changed since it was saved; nothing was written"),
        )
        .with_hint("run `fargate-rtm plan --out FILE` again and review it"));
    }
    let opts = saved.options.unwrap_or_default().to_plan_options();
    let mut plan = Plan::default();
    for input in saved.inputs {
        let origin = Origin::File {
            // Absolute: the plan may be applied from another working directory.
            path: input.absolute.clone(),
            relative: input.relative.clone(),
        };
        let read = std::fs::read(&input.absolute)
            .map_err(|e| {
                InputError::new(
                    input.path.clone(),
                    format!("cannot read: {}", crate::input::files::io_reason(&e)),
                    None,
                )
            })
            .and_then(|b| crate::model::parse(origin, &b))
            .map(crate::input::files::with_module);
        let doc = read.and_then(|parsed| {
            let mut d = planner::plan_document(&parsed, &opts)?;
            planner::saved::use_saved_patch(&mut d, &parsed, input.patch)?;
            Ok(d)
        });
        match doc {
            Ok(d) => plan.docs.push(d),
            Err(e) => plan.errors.push(e),
        }
    }
    if !plan.errors.is_empty() {
        plan.errors.iter().for_each(|e| printer.input_error(e));
        return Err(Error::new(
            Kind::Input,
            "the plan cannot be applied; nothing was written",
        ));
    }
    Ok(plan)
}

/// Writes the changed documents: to their files, under `--out-dir`, or standard input to
/// standard output.
fn files(plan: Plan, from_file: bool, args: &ApplyArgs, printer: &Printer) -> Result<i32> {
    let has_files = plan
        .docs
        .iter()
        .any(|d| matches!(d.origin, Origin::File { .. }));
    let dest = match (&args.out_dir, args.in_place) {
        (Some(dir), _) => Some(Destination::OutDir(dir.clone())),
        (None, true) => Some(Destination::InPlace),
        (None, false) => None,
    };
    let changes = plan.changed().count();
    if has_files && dest.is_none() && changes > 0 {
        return Err(Error::usage("`apply` on files needs `--in-place` or `--out-dir DIR`").with_hint(
            "`--in-place` rewrites the inputs; `--out-dir DIR` writes patched copies; `-` reads stdin and writes stdout",
        ));
    }
    // The plan goes to stderr: stdout may carry the patched document.
    plan.errors.iter().for_each(|e| printer.input_error(e));
    text::render(&plan, &mut printer.stderr(), stderr_style(printer))?;
    if changes == 0 {
        if let Some(text) = plan.docs.iter().find_map(|d| d.stdin_text.as_ref()) {
            // Pass standard input through unchanged so pipelines keep working.
            printer.stdout().write_all(text.as_bytes())?;
        }
        printer.status("nothing to apply");
        return Ok(if plan.errors.is_empty() { 0 } else { 1 });
    }
    let prompt = format!("Apply the fixes to {changes} document{}?", plural(changes));
    confirm(&prompt, args.auto_approve, "nothing was written")?;
    let mut failed = plan.errors.len();
    let mut written = 0;
    for doc in &plan.docs {
        match &doc.origin {
            Origin::Stdin => match (apply_files::output_bytes(doc), doc.derived.as_slice()) {
                (Some(bytes), _) => {
                    printer.stdout().write_all(&bytes)?;
                    written += 1;
                }
                // A snapshot on stdin: its one `update-service` input goes to stdout.
                (None, [one]) => {
                    printer.stdout().write_all(one.text.as_bytes())?;
                    written += 1;
                }
                (None, []) => printer
                    .stdout()
                    .write_all(doc.stdin_text.as_deref().unwrap_or_default().as_bytes())?,
                (None, many) => {
                    failed += 1;
                    printer.input_error(&InputError::new(
                        "-",
                        format!(
                            "{} services change, and standard output holds one `update-service` input",
                            many.len()
                        ),
                        Some("give the snapshot as a file, with `--out-dir DIR`"),
                    ));
                }
            },
            Origin::File { .. } => {
                let Some(dest) = &dest else { continue };
                match apply_files::write_file(doc, dest) {
                    Ok(paths) => {
                        if !paths.is_empty() {
                            written += 1;
                        }
                        for path in paths {
                            printer.status(&format!("wrote `{}`", path.display()));
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        printer.input_error(&e);
                    }
                }
            }
            // Account resources are changed by `apply --live`, never written as files.
            Origin::Account { .. } => {}
        }
    }
    let manual = plan
        .findings()
        .filter(|f| f.fix.applicability == Applicability::Manual && f.severity == Severity::Error)
        .count();
    let source = if from_file {
        " from the saved plan"
    } else {
        ""
    };
    let mut msg = format!(
        "applied{source}: {written} of {changes} document{} written",
        plural(changes)
    );
    if manual > 0 {
        msg.push_str(&format!(
            "; {manual} finding{} need a manual fix",
            plural(manual)
        ));
    }
    printer.status(&msg);
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Confirms once, checks every precondition, then carries out the operations with a journal.
fn operations(
    ops: &[PlannedOperation],
    profile: Option<&str>,
    args: &ApplyArgs,
    printer: &Printer,
    had_errors: bool,
) -> Result<i32> {
    // `--only safe`: the other fixes stay in the plan, and the summary says which.
    let (ops, left): (Vec<PlannedOperation>, Vec<PlannedOperation>) = match args.only {
        Some(only) => {
            let only = Applicability::from(only);
            ops.iter().cloned().partition(|o| o.applicability == only)
        }
        None => (ops.to_vec(), Vec::new()),
    };
    let ops = ops.as_slice();
    if !left.is_empty() {
        let names: Vec<String> = left
            .iter()
            .map(|o| format!("`{}` ({})", o.operation.name(), o.applicability.as_str()))
            .collect();
        printer.status(&format!(
            "left in the plan by `--only`: {} operation{}: {}",
            left.len(),
            plural(left.len()),
            names.join(", ")
        ));
    }
    if ops.is_empty() {
        printer.status("nothing to apply");
        return Ok(if had_errors { 1 } else { 0 });
    }
    let n = ops.len();
    confirm(
        &format!("Carry out {n} AWS operation{}?", plural(n)),
        args.auto_approve,
        "nothing was changed",
    )?;
    runtime()?.block_on(async {
        let regions = clients(
            profile,
            ops.iter()
                .map(|o| o.region.clone())
                .collect::<BTreeSet<_>>()
                .into_iter(),
        )
        .await;
        refuse_if_stale(&regions, ops).await?;
        let path = args
            .journal
            .clone()
            .unwrap_or_else(journal::default_journal_path);
        let mut journal = Journal::open(&path).map_err(|e| {
            let mut err = Error::io("open the journal", &path, e)
                .with_hint("choose another path with `--journal`");
            err.message.push_str("; nothing was changed");
            err
        })?;
        let outcome = execute(&regions, ops, &mut journal)
            .await
            .map_err(|e| Error::io("write the journal", &path, e))?;
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
            Some((what, err)) => Err(Error::new(
                Kind::Aws,
                format!(
                    "{what}: {err}; stopped after {} of {n} operations",
                    outcome.done
                ),
            )
            .with_hint(format!(
                "undo what was done with `fargate-rtm rollback {}`",
                path.display()
            ))),
        }
    })
}

/// `apply --live --org` (or `--accounts`, `--accounts-file`): the organization's plan shown,
/// one confirmation for all of it, then each account in turn with its own credentials: its
/// operations checked against the account as it is now, carried out region by region with one
/// journal per account and region (`DIR/ACCOUNT-REGION.jsonl`, `DIR` from `--journal` or
/// `.fargate-rtm/run-TIME`). A failure stops that account only; the summary says what each got,
/// and `rollback DIR` undoes the whole run.
fn org_apply(live: &LiveArgs, args: &ApplyArgs, printer: &Printer) -> Result<i32> {
    use crate::model::finding::arn_account;
    let opts = plan_options(&args.fix)?;
    let show = !printer.quiet && io::stderr().is_terminal();
    let rt = runtime()?;
    let scan = rt.block_on(super::plan::org_scan(live, &opts, printer, show))?;
    let plan = &scan.plan;
    plan.errors.iter().for_each(|e| printer.input_error(e));
    text::render(plan, &mut printer.stderr(), stderr_style(printer))?;
    let only = args.only.map(Applicability::from);
    let (ops, left): (Vec<&PlannedOperation>, Vec<&PlannedOperation>) = plan
        .account
        .operations
        .iter()
        .partition(|o| only.is_none_or(|a| o.applicability == a));
    if !left.is_empty() {
        let names: Vec<String> = left
            .iter()
            .map(|o| format!("`{}` ({})", o.operation.name(), o.applicability.as_str()))
            .collect();
        printer.status(&format!(
            "left in the plan by `--only`: {} operation{}: {}",
            left.len(),
            plural(left.len()),
            names.join(", ")
        ));
    }
    // Every operation must belong to one scanned account, or nothing is changed.
    let scanned = |o: &PlannedOperation| {
        arn_account(&o.resource).is_some_and(|a| scan.accounts.iter().any(|(t, _)| t.account == a))
    };
    if let Some(o) = ops.iter().find(|o| !scanned(o)) {
        return Err(Error::new(
            Kind::Input,
            format!(
                "cannot tell which account `{}` ({}) changes; nothing was changed",
                o.operation.name(),
                o.resource
            ),
        )
        .with_hint("apply that account alone with its `--profile`"));
    }
    let had_errors = !plan.errors.is_empty() || plan.not_checked().next().is_some();
    if ops.is_empty() {
        printer.status("nothing to apply");
        return Ok(if had_errors { 1 } else { 0 });
    }
    let accounts: BTreeSet<&str> = ops
        .iter()
        .filter_map(|o| arn_account(&o.resource))
        .collect();
    let dir = args.journal.clone().unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        std::path::PathBuf::from(".fargate-rtm").join(format!("run-{now}"))
    });
    // A run's folder holds that run only (rollback undoes the whole folder).
    if dir.exists() {
        return Err(Error::usage(format!(
            "`{}` exists: a run's journals go in a new folder; nothing was changed",
            dir.display()
        ))
        .with_hint("give `--journal` a folder that does not exist yet"));
    }
    confirm(
        &format!(
            "Carry out {} AWS operation{} in {} account{}?",
            ops.len(),
            plural(ops.len()),
            accounts.len(),
            plural(accounts.len())
        ),
        args.auto_approve,
        "nothing was changed",
    )?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
    // The role each account was reached with, for `rollback DIR`.
    let roles: serde_json::Map<String, serde_json::Value> = scan
        .accounts
        .iter()
        .filter_map(|(t, _)| Some((t.account.clone(), t.role_arn.clone()?.into())))
        .collect();
    crate::apply::files::write_atomic(
        &dir.join("run.json"),
        &serde_json::to_vec_pretty(&serde_json::json!({"roles": roles})).unwrap_or_default(),
        Some(0o600),
    )
    .map_err(|e| Error::io("write", &dir.join("run.json"), e))?;
    // One run id in every journal of the run.
    let run_id = {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{nanos:x}-{:x}", std::process::id())
    };
    let mut failed = 0;
    let mut lines = Vec::new();
    for (target, config) in &scan.accounts {
        let mine: Vec<PlannedOperation> = ops
            .iter()
            .filter(|o| arn_account(&o.resource) == Some(target.account.as_str()))
            .map(|o| (*o).clone())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let shown = format!("`{}` ({})", target.account, target.name);
        let regions: BTreeSet<String> = mine.iter().map(|o| o.region.clone()).collect();
        let result: std::result::Result<usize, String> = rt.block_on(async {
            let clients: BTreeMap<String, SdkAws> = regions
                .iter()
                .map(|r| (r.clone(), SdkAws::new(config, r)))
                .collect();
            let stale = stale(&clients, &mine).await;
            if !stale.is_empty() {
                return Err(format!("stale, nothing changed: {}", stale.join("; ")));
            }
            let mut done = 0;
            // One run over the account's regions: what one region's steps changed is expected
            // changed in the next.
            let mut state = crate::apply::account::RunState::default();
            let stopped = |done: usize, why: String| {
                format!("{why}; stopped after {done} of {} operations", mine.len())
            };
            for region in &regions {
                let here: Vec<PlannedOperation> = mine
                    .iter()
                    .filter(|o| &o.region == region)
                    .cloned()
                    .collect();
                let path = dir.join(format!("{}-{region}.jsonl", target.account));
                let mut journal = Journal::open(&path).map_err(|e| {
                    stopped(
                        done,
                        format!("cannot open the journal `{}`: {e}", path.display()),
                    )
                })?;
                journal.run = run_id.clone();
                let outcome =
                    crate::apply::account::execute_in(&clients, &here, &mut journal, &mut state)
                        .await
                        .map_err(|e| {
                            stopped(
                                done,
                                format!("cannot write the journal `{}`: {e}", path.display()),
                            )
                        })?;
                done += outcome.done;
                if let Some((what, err)) = outcome.failed {
                    return Err(stopped(done, format!("{what}: {err}")));
                }
            }
            Ok(done)
        });
        match result {
            Ok(done) => lines.push(format!("{shown}: {done} of {} operations", mine.len())),
            Err(why) => {
                failed += 1;
                lines.push(format!("{shown}: {why}"));
            }
        }
    }
    printer.status(&format!(
        "applied, by account (journals in `{}`):\n  {}",
        dir.display(),
        lines.join("\n  ")
    ));
    if failed > 0 {
        printer.warning(&format!(
            "{failed} account{} stopped; undo the run with `fargate-rtm rollback {}`",
            plural(failed),
            dir.display()
        ));
        return Ok(1);
    }
    Ok(if had_errors { 1 } else { 0 })
}
