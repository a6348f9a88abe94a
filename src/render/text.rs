//! Text output: findings grouped by resource, the unified diff of each changed document, and a
//! one-line summary. Colour only when the caller allows it.

use crate::model::{Applicability, Severity};
use crate::model::{Finding, NotChecked};
use crate::operation::Operation;
use crate::plan::{DocPlan, Plan, PlannedOperation, Skip};
use crate::redact;
use similar::{ChangeTag, TextDiff};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub diff: DiffMode,
}

/// Which diffs the text output shows (`--diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffMode {
    /// Every diff up to 20 changed documents; past that, none (the summary says how to see them).
    #[default]
    Auto,
    All,
    None,
}

/// Past this many documents with findings, the text output groups findings by check.
pub const GROUP_ABOVE: usize = 50;
/// Past this many changed documents, `--diff auto` shows no diff.
pub const DIFFS_UP_TO: usize = 20;

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, sev: Severity) -> String {
        match sev {
            Severity::Error => self.paint("1;31", "error"),
            Severity::Warning => self.paint("1;33", "warning"),
            Severity::Info => self.paint("1;36", "info"),
        }
    }
}

pub fn render(plan: &Plan, out: &mut dyn Write, style: Style) -> io::Result<()> {
    // Live findings about a document's resource (a service) are shown with it.
    let live_on = |r: &str| -> (Vec<&Finding>, Vec<&NotChecked>) {
        (
            plan.account
                .findings
                .iter()
                .filter(|f| f.resource == r)
                .collect(),
            plan.account
                .not_checked
                .iter()
                .filter(|n| n.resource == r)
                .collect(),
        )
    };
    let with_findings = plan
        .docs
        .iter()
        .filter(|d| !d.findings.is_empty() || !d.not_checked.is_empty())
        .count();
    if with_findings > GROUP_ABOVE && style.diff != DiffMode::All {
        grouped(plan, out, style)?;
    } else {
        // An organization: each account under its own heading.
        let mut current: Option<&str> = None;
        for doc in &plan.docs {
            if plan.accounts.len() > 1 {
                let account = crate::model::finding::arn_account(&doc.resource);
                if account.is_some() && account != current {
                    current = account;
                    let id = account.unwrap_or_default();
                    let name = plan
                        .accounts
                        .iter()
                        .find(|(a, _)| a == id)
                        .map(|(_, n)| n.as_str())
                        .filter(|n| *n != id);
                    match name {
                        Some(n) => writeln!(out, "== account {id} ({n})")?,
                        None => writeln!(out, "== account {id}")?,
                    }
                }
            }
            let (live_findings, live_not_checked) = live_on(&doc.resource);
            let findings: Vec<&Finding> = doc.findings.iter().chain(live_findings).collect();
            let not_checked: Vec<&NotChecked> =
                doc.not_checked.iter().chain(live_not_checked).collect();
            section(
                &doc.resource,
                &findings,
                &not_checked,
                &doc.skipped,
                out,
                style,
            )?;
        }
    }
    // The other live resources: roles, VPCs, clusters, the account.
    let mut resources: Vec<&str> = Vec::new();
    for r in plan
        .account
        .findings
        .iter()
        .map(|f| f.resource.as_str())
        .chain(plan.account.not_checked.iter().map(|n| n.resource.as_str()))
    {
        if !resources.contains(&r) && !plan.docs.iter().any(|d| d.resource == r) {
            resources.push(r);
        }
    }
    for r in resources {
        let (findings, not_checked) = live_on(r);
        section(r, &findings, &not_checked, &[], out, style)?;
    }
    let changed = plan
        .changed()
        .filter(|d| d.change.is_some() || !d.derived.is_empty())
        .count();
    let show_diffs = match style.diff {
        DiffMode::All => true,
        DiffMode::None => false,
        DiffMode::Auto => changed <= DIFFS_UP_TO,
    };
    if show_diffs {
        let mut first = true;
        for doc in plan.changed() {
            if first {
                writeln!(out)?;
                first = false;
            }
            diff(doc, out, style)?;
        }
    } else if changed > 0 && style.diff == DiffMode::Auto {
        writeln!(out)?;
        writeln!(
            out,
            "{changed} documents change; diffs are not shown above {DIFFS_UP_TO} (use `--diff all`, or `--format patch` or `--format json`)"
        )?;
    }
    dropped_nulls(plan, out)?;
    accounts(plan, out)?;
    coverage(plan, out)?;
    operations(&plan.account.operations, out, style)?;
    writeln!(out)?;
    writeln!(out, "{}", summary(plan))
}

/// Many documents: one line per check with how many documents and the first few.
fn grouped(plan: &Plan, out: &mut dyn Write, style: Style) -> io::Result<()> {
    const EXAMPLES: usize = 3;
    let mut by_check: Vec<(&str, Severity, Vec<&str>)> = Vec::new();
    for d in &plan.docs {
        for (slug, sev) in d
            .findings
            .iter()
            .map(|f| (f.check.slug, f.severity))
            .chain(d.not_checked.iter().map(|n| (n.check.slug, Severity::Info)))
        {
            match by_check.iter_mut().find(|(s, _, _)| *s == slug) {
                Some((_, _, docs)) => {
                    if docs.last() != Some(&d.resource.as_str()) {
                        docs.push(&d.resource);
                    }
                }
                None => by_check.push((slug, sev, vec![&d.resource])),
            }
        }
    }
    by_check.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.len().cmp(&a.2.len())));
    writeln!(out, "{}", style.paint("1", "Findings by check (`--format json` lists every finding; `--diff all` lists every document):"))?;
    for (slug, sev, docs) in by_check {
        let examples: Vec<String> = docs
            .iter()
            .take(EXAMPLES)
            .map(|d| format!("`{d}`"))
            .collect();
        let more = if docs.len() > EXAMPLES {
            format!(" and {} more", docs.len() - EXAMPLES)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {}[{slug}] {}: {}{more}",
            style.severity(sev),
            plural(docs.len(), "document", "documents"),
            examples.join(", ")
        )?;
    }
    let skipped = plan.docs.iter().filter(|d| !d.skipped.is_empty()).count();
    if skipped > 0 {
        writeln!(
            out,
            "  {} {}",
            style.paint("2", "skipped"),
            plural(skipped, "document (not Fargate)", "documents (not Fargate)")
        )?;
    }
    Ok(())
}

fn section(
    resource: &str,
    findings: &[&Finding],
    not_checked: &[&NotChecked],
    skipped: &[Skip],
    out: &mut dyn Write,
    style: Style,
) -> io::Result<()> {
    if findings.is_empty() && not_checked.is_empty() && skipped.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", style.paint("1", resource))?;
    for f in findings {
        let at = f.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        writeln!(
            out,
            "  {}[{}] {at}{}: {}",
            style.severity(f.severity),
            f.check.slug,
            f.subject,
            f.message
        )?;
        let mut how = f.fix.applicability.as_str().to_string();
        if let (Applicability::Unsafe, Some(r)) = (f.fix.applicability, &f.fix.reason) {
            how = format!("{how}, {r}");
        }
        writeln!(out, "    fix ({how}): {}", f.fix.title)?;
        if let (Applicability::Safe | Applicability::Manual, Some(r)) =
            (f.fix.applicability, &f.fix.reason)
        {
            writeln!(out, "    note: {r}")?;
        }
    }
    // Checks not run for one reason on one subject: one line naming them all.
    let mut i = 0;
    while i < not_checked.len() {
        let n = not_checked[i];
        let mut slugs = vec![n.check.slug];
        let mut j = i + 1;
        while j < not_checked.len()
            && not_checked[j].subject == n.subject
            && not_checked[j].reason == n.reason
        {
            slugs.push(not_checked[j].check.slug);
            j += 1;
        }
        writeln!(
            out,
            "  {}[{}] {}: {}",
            style.paint("1;35", "not checked"),
            slugs.join(", "),
            n.subject,
            n.reason
        )?;
        i = j;
    }
    for s in skipped {
        writeln!(
            out,
            "  {} {}: {}",
            style.paint("2", "skipped"),
            s.subject,
            s.reason
        )?;
    }
    Ok(())
}

/// The AWS operations of a live plan, like `terraform plan`: one block per operation with
/// its parameters.
pub fn operations(ops: &[PlannedOperation], out: &mut dyn Write, style: Style) -> io::Result<()> {
    if ops.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style.paint("1", "AWS operations (in apply order):")
    )?;
    for op in ops {
        let (sign, code) = match op.operation {
            Operation::ModifyVpcAttribute { .. }
            | Operation::ModifyVpcEndpoint { .. }
            | Operation::UpdateService { .. } => ("~", "33"),
            _ => ("+", "32"),
        };
        let mut how = op.applicability.as_str().to_string();
        if let Some(r) = &op.reason {
            how = format!("{how}, {r}");
        }
        writeln!(
            out,
            "  {} {} ({how})",
            style.paint(code, &format!("{sign} {}", op.operation.name())),
            op.title
        )?;
        writeln!(out, "      resource = {}", op.resource)?;
        if let Ok(serde_json::Value::Object(params)) = serde_json::to_value(&op.operation) {
            for (k, v) in params.iter().filter(|(k, _)| *k != "operation") {
                writeln!(out, "      {k} = {v}")?;
            }
        }
    }
    Ok(())
}

/// What `--registerable` drops: per document, or in one line past `DIFFS_UP_TO` documents.
fn dropped_nulls(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let docs: Vec<&DocPlan> = plan.docs.iter().filter(|d| d.dropped_nulls > 0).collect();
    let why = "the API rejects `null`; absent means the same";
    if docs.len() > DIFFS_UP_TO {
        let n: usize = docs.iter().map(|d| d.dropped_nulls).sum();
        writeln!(
            out,
            "`--registerable` drops {n} `null` members in {} documents ({why})",
            docs.len()
        )?;
    } else {
        for d in docs {
            writeln!(
                out,
                "`{}`: `--registerable` drops {} ({why})",
                d.resource,
                plural(d.dropped_nulls, "`null` member", "`null` members")
            )?;
        }
    }
    Ok(())
}

/// An organization scan: what each account got, one line each.
fn accounts(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    if plan.accounts.len() < 2 {
        return Ok(());
    }
    use crate::model::finding::arn_account;
    writeln!(out)?;
    writeln!(out, "Accounts:")?;
    for (id, name) in &plan.accounts {
        let shown = if name == id {
            format!("`{id}`")
        } else {
            format!("`{id}` ({name})")
        };
        let unread: Vec<&crate::model::InputError> = plan
            .errors
            .iter()
            .filter(|e| e.resource.starts_with(&format!("account {id} ")))
            .collect();
        let docs: Vec<&DocPlan> = plan
            .docs
            .iter()
            .filter(|d| arn_account(&d.resource) == Some(id.as_str()))
            .collect();
        let errors = plan
            .findings()
            .filter(|f| arn_account(&f.resource) == Some(id.as_str()))
            .filter(|f| f.severity == Severity::Error)
            .count();
        let ops = plan
            .account
            .operations
            .iter()
            .filter(|o| arn_account(&o.resource) == Some(id.as_str()))
            .count();
        let mut line = format!(
            "  {shown}: {}, {}, {}",
            plural(docs.len(), "document", "documents"),
            plural(errors, "error", "errors"),
            plural(ops, "AWS operation", "AWS operations")
        );
        if !unread.is_empty() {
            line.push_str(&format!(
                "; not checked in {}",
                plural(unread.len(), "region", "regions")
            ));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// How long ago an RFC 3339 time was (`3 days ago`), from now.
pub fn age(rfc3339: &str) -> Option<String> {
    let then = aws_smithy_types::DateTime::from_str(
        rfc3339,
        aws_smithy_types::date_time::Format::DateTime,
    )
    .ok()?
    .secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    let d = (now - then).max(0);
    Some(match d {
        0..=119 => "just now".to_string(),
        120..=7199 => format!("{} minutes ago", d / 60),
        7200..=172_799 => format!("{} hours ago", d / 3600),
        _ => format!("{} days ago", d / 86_400),
    })
}

/// GuardDuty's coverage of each scanned cluster, each issue beside the findings that explain it.
fn coverage(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    if plan.account.coverage.is_empty() && plan.account.coverage_unread.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "GuardDuty coverage (`ListCoverage`):")?;
    for (account, region, why) in &plan.account.coverage_unread {
        if plan.accounts.len() > 1 {
            writeln!(out, "  not checked in `{region}` of `{account}`: {why}")?;
        } else {
            writeln!(out, "  not checked in `{region}`: {why}")?;
        }
    }
    for c in &plan.account.coverage {
        let mut head = format!("  cluster `{}` ({}", c.cluster, c.region);
        if plan.account.coverage.iter().any(|o| o.account != c.account) {
            head.push_str(&format!(", account {}", c.account));
        }
        head.push_str(&format!("): {}", c.status));
        if let Some(u) = &c.updated_at {
            head.push_str(&format!(", updated {u}"));
            if let Some(a) = age(u) {
                head.push_str(&format!(" ({a})"));
            }
        }
        if let Some(m) = &c.management_type {
            head.push_str(&format!(", agent {m}"));
        }
        writeln!(out, "{head}")?;
        for i in &c.issues {
            let when = match (&i.task_definition, i.when) {
                (Some(td), Some(w)) => format!(" ({w}, `{td}`)"),
                _ => String::new(),
            };
            writeln!(out, "    issue {}{when}: \"{}\"", i.rule, i.text)?;
            if i.when == Some("not-scanned") && !i.unexplained() {
                writeln!(
                    out,
                    "      no scanned service runs it (a task that stopped since, a `RunTask` or scheduled task, or a service outside the scan)"
                )?;
            } else if i.explained_by.is_empty() {
                writeln!(
                    out,
                    "      explained by no finding (`coverage-unexplained`)"
                )?;
            } else {
                for e in &i.explained_by {
                    writeln!(out, "      explained by {e}")?;
                }
            }
        }
        if let Some(g) = c.ec2_gap {
            writeln!(
                out,
                "    EC2 container instances: {} of {} covered (outside Fargate: not checked here)",
                g.covered, g.compatible
            )?;
        }
        for f in &c.not_yet_observed {
            writeln!(out, "    not yet observed by GuardDuty: {f}")?;
        }
    }
    Ok(())
}

/// The unified diff of a changed document, with secrets redacted on both sides.
pub fn diff(doc: &DocPlan, out: &mut dyn Write, style: Style) -> io::Result<()> {
    // Files written beside the input: new files (a snapshot's `update-service` input), or files
    // of its module the fixes edit (a Terraform tfvars entry).
    for d in &doc.derived {
        let path = std::path::Path::new(&doc.resource).with_file_name(&d.name);
        let change = crate::plan::Change {
            old_text: d.old_text.clone().unwrap_or_default(),
            new_text: d.text.clone(),
            secrets: Vec::new(),
        };
        let shown = path.display().to_string();
        let old = if d.old_text.is_some() {
            shown.as_str()
        } else {
            "/dev/null"
        };
        unified(&change, old, &format!("{shown} (planned)"), out, style)?;
    }
    let Some(planned) = &doc.change else {
        return Ok(());
    };
    unified(
        planned,
        &doc.resource,
        &format!("{} (planned)", doc.resource),
        out,
        style,
    )
}

fn unified(
    planned: &crate::plan::Change,
    old: &str,
    new: &str,
    out: &mut dyn Write,
    style: Style,
) -> io::Result<()> {
    let diff = TextDiff::from_lines(planned.old_text.as_str(), planned.new_text.as_str());
    writeln!(out, "{}", style.paint("1", &format!("--- {old}")))?;
    writeln!(out, "{}", style.paint("1", &format!("+++ {new}")))?;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        writeln!(out, "{}", style.paint("36", &hunk.header().to_string()))?;
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ("-", "31"),
                ChangeTag::Insert => ("+", "32"),
                ChangeTag::Equal => (" ", ""),
            };
            let line = change
                .as_str()
                .unwrap_or_default()
                .trim_end_matches(['\n', '\r']);
            let text = format!("{sign}{}", redact::redact_line(line, &planned.secrets));
            writeln!(
                out,
                "{}",
                if code.is_empty() {
                    text
                } else {
                    style.paint(code, &text)
                }
            )?;
            if change.missing_newline() {
                writeln!(out, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line: documents by state, findings by severity, fixes by applicability.
pub fn summary(plan: &Plan) -> String {
    let mut ready = 0;
    let mut not_ready = 0;
    let mut skipped = 0;
    let mut undecided = 0;
    for d in &plan.docs {
        if !d.subjects.is_empty() {
            // A template: each of its resources is a document.
            for subject in &d.subjects {
                let of = |s: &str| s == subject || s.starts_with(&format!("{subject} ("));
                if d.findings
                    .iter()
                    .any(|f| of(&f.subject) && f.severity == Severity::Error)
                {
                    not_ready += 1;
                } else if d.not_checked.iter().any(|n| of(&n.subject)) {
                    undecided += 1;
                } else if d.skipped.iter().any(|k| of(&k.subject)) {
                    skipped += 1;
                } else {
                    ready += 1;
                }
            }
            continue;
        }
        // What the account checks found on the same resource (a service) counts too.
        let on_it = |r: &str| r == d.resource;
        let mut findings = d
            .findings
            .iter()
            .chain(plan.account.findings.iter().filter(|f| on_it(&f.resource)));
        let not_checked = !d.not_checked.is_empty()
            || plan.account.not_checked.iter().any(|n| on_it(&n.resource));
        if findings.any(|f| f.severity == Severity::Error) {
            not_ready += 1;
        } else if not_checked {
            // Never counted as ready: something that decides it could not be read.
            undecided += 1;
        } else if d.findings.is_empty() && !d.skipped.is_empty() {
            skipped += 1;
        } else {
            ready += 1;
        }
    }
    let count = |sev| plan.findings().filter(|f| f.severity == sev).count();
    let fixes = |a| {
        plan.findings()
            .filter(|f| {
                f.fix.applicability == a
                    && !(a == Applicability::Manual && f.severity != Severity::Error)
            })
            .count()
    };
    let mut parts = vec![format!(
        "{}: {ready} ready, {not_ready} not ready",
        plural(
            plan.docs
                .iter()
                .map(|d| d.subjects.len().max(1))
                .sum::<usize>()
                + plan.errors.len(),
            "document",
            "documents"
        )
    )];
    if undecided > 0 {
        parts[0].push_str(&format!(", {undecided} not checked"));
    }
    if skipped > 0 {
        parts[0].push_str(&format!(", {skipped} skipped"));
    }
    if !plan.errors.is_empty() {
        parts[0].push_str(&format!(", {} failed", plan.errors.len()));
    }
    // A value that cannot be read makes the exit code 1, as a failed input does: say so here.
    let unreadable = plan
        .docs
        .iter()
        .filter(|d| d.findings.iter().any(|f| f.unreadable))
        .count();
    if unreadable > 0 {
        parts[0].push_str(&format!(
            ", {} with values that cannot be read",
            plural(unreadable, "document", "documents")
        ));
    }
    if !plan.ignored.is_empty() {
        parts[0].push_str(&format!(
            " ({} ignored: not ECS documents)",
            plural(plan.ignored.len(), "other file", "other files")
        ));
    }
    parts.push(format!(
        "{}, {}",
        plural(count(Severity::Error), "error", "errors"),
        plural(count(Severity::Warning), "warning", "warnings")
    ));
    let not_checked = plan.not_checked().count();
    if not_checked > 0 {
        parts.push(format!("{not_checked} not checked"));
    }
    parts.push(format!(
        "fixes: {} safe, {} unsafe, {} manual; {} to change",
        fixes(Applicability::Safe),
        fixes(Applicability::Unsafe),
        fixes(Applicability::Manual),
        plural(
            plan.changed()
                .filter(|d| !matches!(d.origin, crate::model::Origin::Account { .. }))
                .count(),
            "document",
            "documents"
        )
    ));
    if !plan.account.operations.is_empty() {
        parts.push(plural(
            plan.account.operations.len(),
            "AWS operation",
            "AWS operations",
        ));
    }
    let cov = &plan.account.coverage;
    if !cov.is_empty() {
        let unhealthy = cov.iter().filter(|c| c.status != "HEALTHY").count();
        let issues: Vec<&crate::coverage::IssueView> =
            cov.iter().flat_map(|c| c.issues.iter()).collect();
        let unexplained = issues.iter().filter(|i| i.unexplained()).count();
        parts.push(format!(
            "GuardDuty coverage: {} healthy, {unhealthy} unhealthy ({}, {unexplained} unexplained)",
            cov.len() - unhealthy,
            plural(issues.len(), "issue", "issues")
        ));
    }
    parts.join("; ")
}
