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
        Mode::Account(live) if live.many_accounts() && args.out.is_some() => {
            return Err(Error::usage(
                "`--out` saves one account's plan; `--org`, `--accounts` and `--accounts-file` scan many",
            )
            .with_hint("save each account's plan with `--profile`, then `fargate-rtm apply PLAN_FILE`"));
        }
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
                materialize: matches!(format, Format::Text | Format::Html),
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
        Format::Html => render::html::write(plan, out),
    }
}

/// Scans every region of the account concurrently and plans each.
pub(super) fn account_plan(
    live: &LiveArgs,
    opts: &PlanOptions,
    printer: &Printer,
    show_progress: bool,
) -> Result<Plan> {
    if live.many_accounts() {
        return runtime()?.block_on(org_plan(live, opts, printer, show_progress));
    }
    runtime()?.block_on(async {
        let config = sdk::load_config(live.profile.as_deref(), None).await;
        let regions = scan_regions(live, &config)?;
        let org_config = match &live.org_profile {
            Some(p) => Some(sdk::load_config(Some(p), regions.first().map(String::as_str)).await),
            None => None,
        };
        let scope = Scope {
            admin_coverage: None,
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

/// The regions to scan: `--region`, else the profile's or environment's.
fn scan_regions(live: &LiveArgs, config: &aws_config::SdkConfig) -> Result<Vec<String>> {
    if !live.regions.is_empty() {
        return Ok(live.regions.clone());
    }
    match config.region() {
        Some(r) => Ok(vec![r.to_string()]),
        None => Err(Error::usage("no AWS region")
            .with_hint("pass `--region REGION`, or set `AWS_REGION` or a region in the profile")),
    }
}

/// `config` with the credentials of `role_arn` assumed (refreshed by the SDK when they expire).
pub(super) async fn assumed(
    config: &aws_config::SdkConfig,
    role_arn: &str,
    external_id: Option<&str>,
    region: &str,
) -> aws_config::SdkConfig {
    let mut b = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("fargate-rtm")
        .configure(config)
        // STS needs a region even when only `--region` gives one.
        .region(aws_config::Region::new(region.to_string()));
    if let Some(id) = external_id {
        b = b.external_id(id);
    }
    let provider = b.build().await;
    config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build()
}

/// An organization scan: the plan, and each account with the configuration that reads it.
pub(super) struct OrgScan {
    pub plan: Plan,
    pub accounts: Vec<(crate::input::org::Target, aws_config::SdkConfig)>,
}

async fn org_plan(
    live: &LiveArgs,
    opts: &PlanOptions,
    printer: &Printer,
    show_progress: bool,
) -> Result<Plan> {
    org_scan(live, opts, printer, show_progress)
        .await
        .map(|s| s.plan)
}

/// Scans many accounts (`--org`, `--accounts`, `--accounts-file`): a role assumed in each,
/// accounts × regions scanned concurrently under one bound (`--concurrency`) with the SDK's
/// adaptive retry. An account that cannot be assumed or read is not checked, with the reason;
/// the others go on. The plan is grouped by account, then region.
pub(super) async fn org_scan(
    live: &LiveArgs,
    opts: &PlanOptions,
    printer: &Printer,
    show_progress: bool,
) -> Result<OrgScan> {
    use crate::aws::{Organizations as _, Sts as _};
    use crate::input::org::{self, Roles, Target};
    use futures::stream::{self, StreamExt};
    if live.concurrency == 0 {
        return Err(Error::usage("`--concurrency` must be at least 1"));
    }
    let config = sdk::load_config_with(live.profile.as_deref(), None, true).await;
    let regions = scan_regions(live, &config)?;
    let home = sdk::SdkAws::new(&config, &regions[0]);
    let me = home.caller_identity().await.map_err(|e| {
        Error::new(
            crate::error::Kind::Aws,
            format!("cannot read the caller's identity: {e}"),
        )
        .with_hint("check the credentials (`aws sts get-caller-identity`) and `--profile`")
    })?;
    if let Some(t) = &live.roles.role_arn_template
        && !t.contains("{account}")
    {
        return Err(
            Error::usage(format!("`--role-arn-template {t}` has no `{{account}}`"))
                .with_hint("write it as `arn:aws:iam::{account}:role/NAME`"),
        );
    }
    let roles = Roles {
        name: live.roles.role_name.clone(),
        template: live.roles.role_arn_template.clone(),
        partition: me.partition.clone(),
    };
    // Organizations (the account list, each member's SCPs) is read with `--org-profile`, else
    // with the caller's credentials, never with a member's role (members cannot read SCPs).
    let org_config = match &live.org_profile {
        Some(p) => Some(sdk::load_config_with(Some(p), Some(&regions[0]), true).await),
        None => None,
    };
    let org_reader = org_config.clone().unwrap_or_else(|| config.clone());
    let targets: Vec<Target> = if let Some(file) = &live.accounts_file {
        org::from_file(file, &roles, &me.account).map_err(Error::usage)?
    } else if !live.accounts.is_empty() {
        org::from_ids(&live.accounts, &roles, &me.account).map_err(Error::usage)?
    } else {
        let lister = home.with_organizations(&org_reader);
        let accounts = lister.accounts().await.map_err(|e| {
            Error::new(crate::error::Kind::Aws, format!("cannot list the organization's accounts: {e}"))
                .with_hint("run from the management account or a delegated administrator, or give `--org-profile PROFILE`, `--accounts` or `--accounts-file`")
        })?;
        org::from_organization(&accounts, &roles, &me.account)
    };
    if targets.is_empty() {
        return Err(Error::usage("no account to scan").with_hint(
            "`--org` found no `ACTIVE` account; check `--accounts` or the `accounts` of `--accounts-file`",
        ));
    }
    // One credential chain per account: the caller's, or the role assumed in it.
    let mut configs = Vec::new();
    for t in &targets {
        configs.push(match &t.role_arn {
            None => config.clone(),
            Some(arn) => {
                assumed(&config, arn, live.roles.external_id.as_deref(), &regions[0]).await
            }
        });
    }
    // A delegated GuardDuty administrator sees every member's coverage: read it once per region
    // (with the caller's credentials) and give each account its part, instead of a read per
    // account. Used only when the caller's view holds other accounts' records.
    let mut admin_calls: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let admin_coverage = {
        use crate::aws::GuardDuty as _;
        let mut all_regions: Vec<String> = targets
            .iter()
            .flat_map(|t| {
                if t.regions.is_empty() {
                    regions.clone()
                } else {
                    t.regions.clone()
                }
            })
            .collect();
        all_regions.sort();
        all_regions.dedup();
        let mut by_region = std::collections::BTreeMap::new();
        for region in &all_regions {
            let aws = sdk::SdkAws::new(&config, region);
            if let Ok(Some(d)) = aws.detector().await
                && d.runtime_monitoring
                && let Ok(records) = aws.ecs_coverage(&d.id, "").await
                && records.iter().any(|r| r.account != me.account)
            {
                by_region.insert(region.clone(), records);
            }
            for (api, n) in aws.calls() {
                *admin_calls.entry(api).or_default() += n;
            }
        }
        (!by_region.is_empty()).then(|| std::sync::Arc::new(by_region))
    };
    let scope = Scope {
        admin_coverage,
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
    let pairs: Vec<(usize, String)> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let rs = if t.regions.is_empty() {
                regions.clone()
            } else {
                t.regions.clone()
            };
            rs.into_iter().map(move |r| (i, r))
        })
        .collect();
    let (scope, bar, configs, org_reader) = (&scope, &bar, &configs, &org_reader);
    let mut results: Vec<_> = stream::iter(pairs)
        .map(|(i, region)| async move {
            let aws = sdk::SdkAws::new(&configs[i], &region).with_organizations(org_reader);
            let inv = account::scan(&aws, scope, bar).await;
            (i, region, inv, aws.calls())
        })
        .buffer_unordered(live.concurrency)
        .collect()
        .await;
    bar.finish();
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut plan = Plan::default();
    // The administrator's reads count too.
    let mut calls: std::collections::BTreeMap<&str, usize> = admin_calls;
    for (i, region, inv, region_calls) in results {
        let t = &targets[i];
        for (api, n) in region_calls {
            *calls.entry(api).or_default() += n;
        }
        match inv {
            Ok(inv) if inv.identity.account != t.account => plan.errors.push(InputError::new(
                format!("account {} ({}) region {region}", t.account, t.name),
                format!(
                    "not checked: the credentials read account {}, not {}",
                    inv.identity.account, t.account
                ),
                Some("check `--role-arn-template` and the roles in `--accounts-file`"),
            )),
            Ok(inv) => plan.extend(planner::account::plan_inventory(
                &inv,
                opts,
                live.ecr_policy.into(),
            )),
            Err(e) => plan.errors.push(InputError::new(
                format!("account {} ({}) region {region}", t.account, t.name),
                format!("not checked: {e}"),
                Some(match &t.role_arn {
                    Some(_) => "check that the role exists in that account and trusts the caller (`--role-name`, `--role-arn-template`, `--external-id`)",
                    None => "check the credentials (`aws sts get-caller-identity`) and `--profile`",
                }),
            )),
        }
    }
    if live.call_stats {
        let total: usize = calls.values().sum();
        let lines: Vec<String> = calls.iter().map(|(api, n)| format!("{api} {n}")).collect();
        printer.status(&format!("AWS calls: {total}\n{}", lines.join("\n")));
    }
    plan.accounts = targets
        .iter()
        .map(|t| (t.account.clone(), t.name.clone()))
        .collect();
    Ok(OrgScan {
        plan,
        accounts: targets
            .iter()
            .cloned()
            .zip(configs.iter().cloned())
            .collect(),
    })
}
