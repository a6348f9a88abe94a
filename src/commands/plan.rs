//! `plan`: read-only. Files or an account into a plan, rendered; `--out` saves it.

use super::{Mode, build_plan, expand_inputs, plan_options, runtime, save};
use crate::aws::sdk;
use crate::cli::{LiveArgs, PlanArgs};
use crate::error::{Error, Result};
use crate::input::account::{self, Scope};
use crate::model::InputError;
use crate::plan::{self as planner, Plan, PlanOptions};
use crate::printer::{Bar, Printer};
use crate::render::{self, Format, text::DiffMode, text::Style};
use std::io::{self, IsTerminal, Write};

pub fn run(args: PlanArgs, printer: &Printer) -> Result<i32> {
    let opts = plan_options(&args.fix)?;
    let format = Format::from(args.format);
    // File mode or account mode, decided once: the plan, and its saved form for `--out`.
    let (plan, saved) = match Mode::of(&args.paths, &args.live, &args.fix)? {
        Mode::Account(live) => {
            let show = format == Format::Text && !printer.quiet && io::stderr().is_terminal();
            let plan = account_plan(live, &opts, printer, show)?;
            let saved = args.out.as_ref().map(|_| {
                Ok(planner::saved::for_account(
                    &plan,
                    planner::saved::SavedAccountOptions {
                        execution_role_arn: opts.checks.execution_role_arn.clone(),
                        platform_version: opts.checks.platform_version.clone(),
                        ecr_policy: live.ecr_policy.into(),
                        clusters: live.clusters.clone(),
                        services: live.services.clone(),
                    },
                ))
            });
            (plan, saved)
        }
        Mode::Files(paths) => {
            let inputs = expand_inputs(paths, &(&args.walk).into())?;
            // Only the text format shows the patched documents; a saved plan needs fingerprints.
            let opts = PlanOptions {
                materialize: format == Format::Text,
                fingerprint: args.out.is_some(),
                ..opts.clone()
            };
            let plan = build_plan(inputs, &opts);
            let saved = args
                .out
                .as_ref()
                .map(|_| planner::saved::for_files(&plan.docs, &opts).map_err(Error::usage));
            (plan, saved)
        }
    };
    // On stderr in every format (JSON and SARIF also carry them in the document).
    plan.errors.iter().for_each(|e| printer.input_error(e));
    // What a walk left out, with `-v`.
    if printer.verbose {
        for (file, why) in &plan.ignored {
            printer.status(&format!("ignored `{file}`: {why}"));
        }
    }
    if format == Format::Patch {
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
        format,
        &mut printer.stdout(),
        printer.stdout_color,
        args.diff.into(),
    )?;
    let mut code = plan.exit_code();
    if let (Some(out), Some(saved)) = (&args.out, saved) {
        match saved.and_then(|s| save(&s, out)) {
            Ok(()) => printer.status(&format!(
                "saved the plan to `{}`; apply it with `fargate-rtm apply {}`",
                out.display(),
                out.display()
            )),
            Err(e) => {
                printer.report(&e);
                code = 1;
            }
        }
    }
    Ok(code)
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

/// Scans every region of the account concurrently and plans each.
pub(super) fn account_plan(
    live: &LiveArgs,
    opts: &PlanOptions,
    printer: &Printer,
    show_progress: bool,
) -> Result<Plan> {
    runtime()?.block_on(async {
        let config = sdk::load_config(live.profile.as_deref(), None).await;
        let regions: Vec<String> = if live.regions.is_empty() {
            match config.region() {
                Some(r) => vec![r.to_string()],
                None => {
                    return Err(Error::usage("no AWS region").with_hint(
                        "pass `--region REGION`, or set `AWS_REGION` or a region in the profile",
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
        let scope = Scope {
            clusters: live.clusters.clone(),
            services: live.services.clone(),
            default_execution_role: Some(
                opts.checks
                    .execution_role_arn
                    .clone()
                    .unwrap_or_else(|| "ecsTaskExecutionRole".to_string()),
            ),
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
                let inv = account::scan(&aws, scope, bar).await;
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
                Ok(inv) => plan.extend(planner::account::plan_inventory(
                    &inv,
                    opts,
                    live.ecr_policy.into(),
                )),
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
