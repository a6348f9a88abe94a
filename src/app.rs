//! The commands: where the pure plan meets files, the terminal and exit codes.

use crate::apply::{self, Destination};
use crate::aws::sdk;
use crate::check;
use crate::cli::{ApplyArgs, Cli, Command, ExplainArgs, FixArgs, LiveArgs, PlanArgs};
use crate::plan::{self, Plan, PlanOptions};
use crate::printer::Bar;
use crate::printer::Printer;
use crate::render::{self, Format, text::DiffMode, text::Style};
use crate::source::{self, InputError, Origin};
use crate::{live, plan_live};
use std::io::{self, IsTerminal, Write};
use std::path::Path;

pub fn run(cli: Cli, printer: &Printer) -> i32 {
    let result = match cli.command {
        Command::Plan(args) => plan_cmd(args, printer),
        Command::Apply(args) => apply_cmd(args, printer),
        Command::Explain(args) => explain_cmd(args, printer),
        Command::Rollback(args) => crate::app_live::rollback_cmd(args, printer),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`fargate-rtm plan | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            printer.error(&format!("cannot write output: {e}"), None);
            1
        }
    }
}

pub(crate) fn plan_options(fix: &FixArgs) -> Result<PlanOptions, String> {
    if let Some(v) = &fix.platform_version
        && check::platform_version_too_old::is_supported(v) != Some(true)
    {
        return Err(format!(
            "`--platform-version {v}` is not `LATEST` or `1.4.0` and later"
        ));
    }
    if let Some(arn) = &fix.execution_role_arn {
        let ok = arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/");
        if !ok {
            return Err(format!(
                "`--execution-role-arn {arn}` is not an IAM role ARN (`arn:aws:iam::ACCOUNT:role/NAME`)"
            ));
        }
    }
    Ok(PlanOptions {
        checks: check::Options {
            execution_role_arn: fix.execution_role_arn.clone(),
            platform_version: fix.platform_version.clone(),
            account: None,
        },
        registerable: fix.registerable,
        materialize: true,
        fingerprint: false,
    })
}

/// Reads, parses and plans every input; a failure on one input never stops the others.
pub fn build_plan(origins: Vec<Origin>, mut errors: Vec<InputError>, opts: &PlanOptions) -> Plan {
    let mut docs = Vec::with_capacity(origins.len());
    for origin in origins {
        let planned = source::read(&origin)
            .and_then(|bytes| source::parse(origin, &bytes))
            .and_then(|doc| plan::plan_document(&doc, opts));
        match planned {
            Ok(d) => docs.push(d),
            Err(e) => errors.push(e),
        }
    }
    Plan {
        docs,
        errors,
        ..Default::default()
    }
}

fn expand_inputs(paths: &[String], printer: &Printer) -> Option<(Vec<Origin>, Vec<InputError>)> {
    if paths.is_empty() {
        printer.error(
            "no input",
            Some("give task or service definition files, directories, or `-` for standard input"),
        );
        return None;
    }
    if paths.iter().filter(|p| *p == "-").count() > 1 {
        printer.error("`-` (standard input) can be given once", None);
        return None;
    }
    Some(source::expand(paths))
}

fn render(
    plan: &Plan,
    format: Format,
    out: &mut dyn Write,
    color: bool,
    diff: DiffMode,
) -> io::Result<()> {
    match format {
        Format::Text => render::text::render(plan, out, Style { color, diff }),
        Format::Json => render::json::write(plan, out),
        Format::Patch => render::patches(plan, out),
        Format::Sarif => render::write_json(out, &render::sarif::to_value(plan)),
    }
}

fn plan_cmd(args: PlanArgs, printer: &Printer) -> io::Result<i32> {
    let opts = match plan_options(&args.fix) {
        Ok(o) => o,
        Err(e) => {
            printer.error(&e, None);
            return Ok(1);
        }
    };
    let plan = if args.live.live {
        if !args.paths.is_empty() {
            printer.error("give either files or `--live`, not both", None);
            return Ok(1);
        }
        let show = args.format == Format::Text && !printer.quiet && io::stderr().is_terminal();
        match live_plan(&args.live, &opts, printer, show) {
            Ok(p) => p,
            Err((msg, hint)) => {
                printer.error(&msg, hint.as_deref());
                return Ok(1);
            }
        }
    } else {
        let Some((origins, errors)) = expand_inputs(&args.paths, printer) else {
            return Ok(1);
        };
        // Only the text format shows the patched documents; a saved plan needs fingerprints.
        let opts = PlanOptions {
            materialize: args.format == Format::Text,
            fingerprint: args.out.is_some(),
            ..opts.clone()
        };
        build_plan(origins, errors, &opts)
    };
    // In JSON-like formats the errors are part of the document; in text they go to stderr.
    if matches!(args.format, Format::Text | Format::Patch) {
        plan.errors.iter().for_each(|e| printer.input_error(e));
    }
    if args.format == Format::Patch {
        // Patches cannot say what was not checked: stderr does.
        for n in plan.not_checked() {
            printer.warning(&format!(
                "not checked: `{}` {}: {}: {}",
                n.resource, n.check.slug, n.subject, n.reason
            ));
        }
    }
    render(
        &plan,
        args.format,
        &mut printer.stdout(),
        printer.stdout_color,
        args.diff,
    )?;
    let mut code = plan.exit_code();
    if let Some(out) = &args.out {
        let saved = if args.live.live {
            crate::app_live::save_live_plan(&plan, &args.live, out)
        } else {
            save_plan(&plan, &opts, out)
        };
        match saved {
            Ok(()) => printer.status(&format!(
                "saved the plan to `{}`; apply it with `fargate-rtm apply {}`",
                out.display(),
                out.display()
            )),
            Err(e) => {
                printer.error(&e, None);
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Scans every region concurrently and plans each.
pub(crate) fn live_plan(
    live: &LiveArgs,
    opts: &PlanOptions,
    printer: &Printer,
    show_progress: bool,
) -> Result<Plan, (String, Option<String>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (format!("cannot start the async runtime: {e}"), None))?;
    rt.block_on(async {
        let config = sdk::load_config(live.profile.as_deref(), None).await;
        let regions: Vec<String> = if live.regions.is_empty() {
            match config.region() {
                Some(r) => vec![r.to_string()],
                None => {
                    return Err((
                        "no AWS region".to_string(),
                        Some("pass `--region REGION`, or set `AWS_REGION` or a region in the profile".to_string()),
                    ));
                }
            }
        } else {
            live.regions.clone()
        };
        let org_config = match &live.org_profile {
            Some(p) => Some(sdk::load_config(Some(p), regions.first().map(String::as_str)).await),
            None => None,
        };
        let scope = live::Scope {
            clusters: live.clusters.clone(),
            services: live.services.clone(),
            default_execution_role: Some(opts.checks.execution_role_arn.clone().unwrap_or_else(|| "ecsTaskExecutionRole".to_string())),
            org_profile: org_config.is_some(),
        };
        let bar = Bar::new(show_progress);
        let scans = regions.iter().map(|region| {
            let mut aws = sdk::SdkAws::new(&config, region);
            if let Some(c) = &org_config {
                aws = aws.with_organizations(c);
            }
            let (scope, bar) = (&scope, &bar);
            async move {
                let inv = live::scan(&aws, scope, bar).await;
                (region.clone(), inv, aws.calls())
            }
        });
        let results = futures::future::join_all(scans).await;
        bar.finish();
        let mut plan = Plan::default();
        let mut calls: std::collections::BTreeMap<&str, usize> = Default::default();
        for (region, inv, region_calls) in results {
            for (api, n) in region_calls {
                *calls.entry(api).or_default() += n;
            }
            match inv {
                Ok(inv) => plan.extend(plan_live::plan_inventory(&inv, opts, live.ecr_policy)),
                Err(e) => plan.errors.push(InputError::new(
                    format!("region {region}"),
                    e.to_string(),
                    Some("check the credentials (`aws sts get-caller-identity`), `--profile` and `--region`"),
                )),
            }
        }
        if live.call_stats {
            let total: usize = calls.values().sum();
            let lines: Vec<String> = calls.iter().map(|(api, n)| format!("{api} {n}")).collect();
            printer.status(&format!("AWS calls: {total}\n{}", lines.join("\n")));
        }
        Ok(plan)
    })
}

fn save_plan(plan: &Plan, opts: &PlanOptions, out: &Path) -> Result<(), String> {
    let saved = apply::saved_plan(&plan.docs, opts)?;
    let mut bytes = serde_json::to_vec_pretty(&saved).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    apply::write_atomic(out, &bytes, Some(0o600)).map_err(|e| {
        format!(
            "cannot write `{}`: {}",
            out.display(),
            source::io_reason(&e)
        )
    })
}

/// Builds the plan that `apply` carries out: from a saved plan file (checked against its
/// fingerprints) or from the inputs.
fn apply_plan(args: &ApplyArgs, printer: &Printer) -> Result<(Plan, bool), i32> {
    if let [single] = args.paths.as_slice()
        && let Some(saved) = apply::load_plan(Path::new(single))
    {
        let saved = saved.map_err(|e| {
            printer.input_error(&e);
            1
        })?;
        let stale = apply::stale_inputs(&saved);
        if !stale.is_empty() {
            let list = stale
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            printer.error(
                &format!(
                    "the plan is stale: {list} changed since it was saved; nothing was written"
                ),
                Some("run `fargate-rtm plan --out FILE` again and review it"),
            );
            return Err(1);
        }
        let opts = saved.options.to_plan_options();
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
                        format!("cannot read: {}", source::io_reason(&e)),
                        None,
                    )
                })
                .and_then(|b| source::parse(origin, &b));
            let doc = read.and_then(|parsed| {
                let mut d = plan::plan_document(&parsed, &opts)?;
                apply::use_saved_patch(&mut d, &parsed, input.patch)?;
                Ok(d)
            });
            match doc {
                Ok(d) => plan.docs.push(d),
                Err(e) => plan.errors.push(e),
            }
        }
        if !plan.errors.is_empty() {
            plan.errors.iter().for_each(|e| printer.input_error(e));
            printer.error("the plan cannot be applied; nothing was written", None);
            return Err(1);
        }
        return Ok((plan, true));
    }
    let opts = plan_options(&args.fix).map_err(|e| {
        printer.error(&e, None);
        1
    })?;
    let (origins, errors) = expand_inputs(&args.paths, printer).ok_or(1)?;
    Ok((build_plan(origins, errors, &opts), false))
}

fn apply_cmd(args: ApplyArgs, printer: &Printer) -> io::Result<i32> {
    if args.live.live {
        return crate::app_live::apply_live_cmd(&args, printer);
    }
    if let [single] = args.paths.as_slice()
        && let Some(saved) = crate::app_live::load_live_plan(Path::new(single))
    {
        return match saved {
            Ok(saved) => crate::app_live::apply_saved(saved, &args, printer),
            Err(e) => {
                printer.input_error(&e);
                Ok(1)
            }
        };
    }
    let (plan, from_file) = match apply_plan(&args, printer) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
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
        printer.error(
            "`apply` on files needs `--in-place` or `--out-dir DIR`",
            Some("`--in-place` rewrites the inputs; `--out-dir DIR` writes patched copies; `-` reads stdin and writes stdout"),
        );
        return Ok(1);
    }
    // The plan goes to stderr: stdout may carry the patched document.
    plan.errors.iter().for_each(|e| printer.input_error(e));
    render::text::render(
        &plan,
        &mut printer.stderr(),
        Style {
            color: printer.stderr_color,
            ..Default::default()
        },
    )?;
    if changes == 0 {
        if let Some(text) = plan.docs.iter().find_map(|d| d.stdin_text.as_ref()) {
            // Pass standard input through unchanged so pipelines keep working.
            printer.stdout().write_all(text.as_bytes())?;
        }
        printer.status("nothing to apply");
        return Ok(if plan.errors.is_empty() { 0 } else { 1 });
    }
    let prompt = format!(
        "Apply the fixes to {changes} document{}?",
        if changes == 1 { "" } else { "s" }
    );
    if let Err(code) = confirm(printer, &prompt, args.auto_approve, "nothing was written") {
        return Ok(code);
    }
    let mut failed = plan.errors.len();
    let mut written = 0;
    for doc in &plan.docs {
        match &doc.origin {
            Origin::Stdin => match apply::output_bytes(doc) {
                Some(bytes) => {
                    printer.stdout().write_all(&bytes)?;
                    written += 1;
                }
                None => printer
                    .stdout()
                    .write_all(doc.stdin_text.as_deref().unwrap_or_default().as_bytes())?,
            },
            Origin::File { .. } => {
                let Some(dest) = &dest else { continue };
                match apply::write_file(doc, dest) {
                    Ok(Some(path)) => {
                        written += 1;
                        printer.status(&format!("wrote `{}`", path.display()));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failed += 1;
                        printer.input_error(&e);
                    }
                }
            }
            // Live resources are changed by `apply --live`, never written as files.
            Origin::Live { .. } => {}
        }
    }
    let manual = plan
        .findings()
        .filter(|f| {
            f.fix.applicability == crate::finding::Applicability::Manual
                && f.severity == crate::finding::Severity::Error
        })
        .count();
    let source = if from_file {
        " from the saved plan"
    } else {
        ""
    };
    let mut msg = format!(
        "applied{source}: {written} of {changes} document{} written",
        if changes == 1 { "" } else { "s" }
    );
    if manual > 0 {
        msg.push_str(&format!(
            "; {manual} finding{} need a manual fix",
            if manual == 1 { "" } else { "s" }
        ));
    }
    printer.status(&msg);
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Asks once on a terminal (dialoguer); refuses without one unless `--auto-approve`.
pub(crate) fn confirm(
    printer: &Printer,
    prompt: &str,
    auto_approve: bool,
    nothing: &str,
) -> Result<(), i32> {
    if auto_approve {
        return Ok(());
    }
    if !(io::stdin().is_terminal() && io::stderr().is_terminal()) {
        printer.error(
            &format!("refusing to apply without confirmation: no terminal to ask on; {nothing}"),
            Some("review the plan, then run again with `--auto-approve`"),
        );
        return Err(1);
    }
    match dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())
    {
        Ok(true) => Ok(()),
        Ok(false) => {
            printer.error(&format!("declined; {nothing}"), None);
            Err(1)
        }
        Err(e) => {
            printer.error(
                &format!("cannot ask for confirmation: {e}; {nothing}"),
                Some("run again with `--auto-approve`"),
            );
            Err(1)
        }
    }
}

fn explain_cmd(args: ExplainArgs, printer: &Printer) -> io::Result<i32> {
    let mut out = printer.stdout();
    let Some(slug) = args.check else {
        for c in check::all() {
            writeln!(
                out,
                "{:<30} {:<8} {}",
                c.slug,
                c.severity.as_str(),
                c.summary
            )?;
        }
        return Ok(0);
    };
    let Some(c) = check::by_slug(&slug) else {
        let known = check::all()
            .map(|c| format!("`{}`", c.slug))
            .collect::<Vec<_>>()
            .join(", ");
        printer.error(
            &format!("unknown check `{slug}`"),
            Some(&format!("known checks: {known}")),
        );
        return Ok(1);
    };
    writeln!(out, "{} ({})\n", c.slug, c.severity.as_str())?;
    writeln!(out, "{}\n", c.explain)?;
    writeln!(out, "Sources:")?;
    for s in c.sources {
        writeln!(out, "- {s}")?;
    }
    Ok(0)
}
