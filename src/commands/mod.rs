//! The commands: where the pure plan meets files, AWS, the terminal and exit codes. Each
//! command decides file mode or account mode once, in a `match` on `Mode`.

pub mod apply;
pub mod confirm;
pub mod explain;
pub mod plan;
pub mod rollback;

use crate::aws::sdk::{self, SdkAws};
use crate::check::{self, document::platform_version_too_old};
use crate::cli::{Cli, Command, FixArgs, LiveArgs};
use crate::error::{Error, Kind, Result};
use crate::input::files;
use crate::model::{self, InputError, Origin};
use crate::plan::{self as planner, Plan, PlanOptions};
use crate::printer::Printer;
use crate::render::text::Style;
use std::collections::BTreeMap;

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli, printer: &Printer) -> i32 {
    let result = match cli.command {
        Command::Plan(args) => plan::run(args, printer),
        Command::Apply(args) => apply::run(args, printer),
        Command::Explain(args) => explain::run(args, printer),
        Command::Rollback(args) => rollback::run(args, printer),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            printer.report(&e);
            1
        }
    }
}

/// Where a command reads (and apply changes): files, or an AWS account.
pub enum Mode<'a> {
    Files(&'a [String]),
    Account(&'a LiveArgs),
}

impl<'a> Mode<'a> {
    pub fn of(paths: &'a [String], live: &'a LiveArgs, fix: &FixArgs) -> Result<Self> {
        if live.live && fix.registerable {
            return Err(Error::usage(
                "`--registerable` shapes files for `register-task-definition`; it does not go with `--live`",
            )
            .with_hint("`apply --live` registers new revisions itself"));
        }
        match (live.live, paths.is_empty()) {
            (true, true) => Ok(Mode::Account(live)),
            (true, false) => Err(Error::usage("give either files or `--live`, not both")),
            (false, _) => Ok(Mode::Files(paths)),
        }
    }
}

/// The plan options from the command line, validated.
pub fn plan_options(fix: &FixArgs) -> Result<PlanOptions> {
    if let Some(v) = &fix.platform_version
        && platform_version_too_old::is_supported(v) != Some(true)
    {
        return Err(Error::usage(format!(
            "`--platform-version {v}` is not `LATEST` or `1.4.0` and later"
        )));
    }
    if let Some(arn) = &fix.execution_role_arn {
        let ok = arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/");
        if !ok {
            return Err(Error::usage(format!(
                "`--execution-role-arn {arn}` is not an IAM role ARN (`arn:aws:iam::ACCOUNT:role/NAME`)"
            )));
        }
    }
    let mut parameters = BTreeMap::new();
    for p in &fix.parameters {
        let Some((name, value)) = p.split_once('=').filter(|(n, _)| !n.is_empty()) else {
            return Err(
                Error::usage(format!("`--parameter {p}` is not `NAME=VALUE`"))
                    .with_hint("as `aws cloudformation deploy --parameter-overrides` takes them"),
            );
        };
        parameters.insert(name.to_string(), value.to_string());
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
        parameters,
        hold_edits: None,
    })
}

/// The command-line paths expanded into inputs (and the paths that could not be used).
pub fn expand_inputs(paths: &[String], filter: &files::Filter) -> Result<files::Expanded> {
    if paths.is_empty() {
        return Err(Error::usage("no input").with_hint(
            "give task or service definition files, directories, or `-` for standard input",
        ));
    }
    if paths.iter().filter(|p| *p == "-").count() > 1 {
        return Err(Error::usage("`-` (standard input) can be given once"));
    }
    files::expand(paths, filter).map_err(|e| {
        Error::usage(format!("bad glob {e}")).with_hint("globs are like `**/task-definition*.json`")
    })
}

/// Reads, parses and plans every input; a failure on one input never stops the others.
/// A file a walk found that is not an ECS document is ignored (with `-v` it is listed); one named
/// on the command line is an error.
pub fn build_plan(inputs: files::Expanded, opts: &PlanOptions) -> Plan {
    let files::Expanded {
        origins,
        mut errors,
        walked,
    } = inputs;
    let inputs: Vec<(Origin, bool)> = origins
        .into_iter()
        .enumerate()
        .map(|(i, o)| (o, walked.get(i).copied().unwrap_or(false)))
        .collect();
    // Reading dominates a repository walk: the inputs are split over the cores in contiguous
    // runs, and the outcomes kept in input order.
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    let outcomes: Vec<Outcome> = if threads < 2 || inputs.len() < 64 {
        inputs
            .into_iter()
            .map(|(o, f)| plan_input(o, f, opts))
            .collect()
    } else {
        let per = inputs.len().div_ceil(threads);
        let mut chunks: Vec<Vec<(Origin, bool)>> = Vec::new();
        let mut rest = inputs;
        while !rest.is_empty() {
            let tail = rest.split_off(per.min(rest.len()));
            chunks.push(rest);
            rest = tail;
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .into_iter()
                            .map(|(o, f)| plan_input(o, f, opts))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut docs = Vec::with_capacity(outcomes.len());
    let mut ignored = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Doc(d) => docs.push(*d),
            Outcome::Error(e) => errors.push(e),
            Outcome::Ignored(file, why) => ignored.push((file, why)),
        }
    }
    hold_shared_edits(&mut docs, opts);
    Plan {
        docs,
        errors,
        ignored,
        ..Default::default()
    }
}

/// Terraform inputs of one module may edit the same file (a tfvars entry, a variable's
/// `default`). The same edit is shown and written once; a different edit of a file another
/// input already changes makes the later input's fixes manual (it is planned again), so an
/// apply never writes half of two plans.
fn hold_shared_edits(docs: &mut [planner::DocPlan], opts: &PlanOptions) {
    use std::path::PathBuf;
    let mut written: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
    for slot in docs.iter_mut() {
        let doc = &*slot;
        let Origin::File { path, .. } = &doc.origin else {
            continue;
        };
        let path = path.clone();
        if doc.shape != model::Shape::Terraform {
            continue;
        }
        // The same file however it was named (`mod/a.tf`, `./mod/a.tf`).
        let key = |p: PathBuf| {
            std::fs::canonicalize(&p)
                .or_else(|_| std::path::absolute(&p))
                .unwrap_or(p)
        };
        let mut writes: Vec<(PathBuf, PathBuf, &str)> = Vec::new();
        if let Some(c) = &doc.change {
            writes.push((key(path.clone()), path.clone(), c.new_text.as_str()));
        }
        for d in &doc.derived {
            let at = path.with_file_name(&d.name);
            writes.push((key(at.clone()), at, d.text.as_str()));
        }
        let clash = writes
            .iter()
            .find_map(|(k, shown, text)| match written.get(k) {
                Some((t, by)) if t != text => Some((shown.clone(), by.clone())),
                _ => None,
            });
        if let Some((file, by)) = clash {
            let held = PlanOptions {
                hold_edits: Some(format!(
                    "`{}` is also edited by the fixes of `{by}`: apply those, then plan again",
                    file.display()
                )),
                ..opts.clone()
            };
            if let Outcome::Doc(d) = plan_input(doc.origin.clone(), false, &held) {
                *slot = *d;
            }
            continue;
        }
        let resource = doc.resource.clone();
        for (k, _, text) in writes {
            written
                .entry(k)
                .or_insert((text.to_string(), resource.clone()));
        }
        // An edit another input already makes is shown and written once.
        slot.derived.retain(|d| {
            d.old_text.is_none()
                || written
                    .get(&key(path.with_file_name(&d.name)))
                    .is_none_or(|(_, by)| *by == resource)
        });
    }
}

enum Outcome {
    Doc(Box<planner::DocPlan>),
    Error(InputError),
    Ignored(String, String),
}

fn plan_input(origin: Origin, found: bool, opts: &PlanOptions) -> Outcome {
    let bytes = match files::read(&origin) {
        Ok(b) => b,
        Err(e) => return Outcome::Error(e),
    };
    // Most JSON and YAML in a repository is not ECS: known without parsing it. YAML is read
    // only as a CloudFormation template with an ECS resource.
    let ext = match &origin {
        Origin::File { path, .. } => path.extension().map(|e| e.to_os_string()),
        _ => None,
    };
    let not_ecs = match ext.as_deref() {
        Some(e) if files::is_yaml(e) => memchr::memmem::find(&bytes, b"AWS::ECS::").is_none(),
        Some(e) if e == "tf" => {
            memchr::memmem::find(&bytes, b"aws_ecs_task_definition").is_none()
                && memchr::memmem::find(&bytes, b"aws_ecs_service").is_none()
        }
        _ => model::clearly_not_ecs(&bytes),
    };
    if found && not_ecs {
        return Outcome::Ignored(origin.display(), "not an ECS document".to_string());
    }
    let parsed = model::parse(origin, &bytes).map(files::with_module);
    match parsed.and_then(|doc| planner::plan_document(&doc, opts)) {
        Ok(d) => Outcome::Doc(Box::new(d)),
        Err(e) if found && e.not_ecs => {
            let what = if e
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("CloudFormation"))
            {
                "a CloudFormation template, not an ECS document"
            } else if e.message.contains("`containerDefinitions` array") {
                "a container list (Terraform reads it with `file()`)"
            } else {
                "not an ECS document"
            };
            Outcome::Ignored(e.resource, what.to_string())
        }
        Err(e) => Outcome::Error(e),
    }
}

/// Writes a saved plan (mode 0600, atomically).
fn save(saved: &planner::saved::SavedPlan, out: &std::path::Path) -> Result<()> {
    crate::apply::files::write_atomic(out, &saved.to_bytes(), Some(0o600))
        .map_err(|e| Error::io("write", out, e))
}

/// A single-threaded runtime for the AWS calls of one command.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(Kind::Io, "cannot start the async runtime").caused_by(e))
}

/// One SDK client set per region.
async fn clients(
    profile: Option<&str>,
    regions: impl Iterator<Item = String>,
) -> BTreeMap<String, SdkAws> {
    let config = sdk::load_config(profile, None).await;
    regions
        .map(|r| (r.clone(), SdkAws::new(&config, &r)))
        .collect()
}

/// How the plan is drawn on stderr (when stdout carries data, or before a confirmation).
fn stderr_style(printer: &Printer) -> Style {
    Style {
        color: printer.stderr_color,
        ..Default::default()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
