//! `--format html`: one self-contained page (no external script, font or style): an accounts ×
//! regions readiness matrix, counts per check, every finding with its fix and the diff of its
//! document, GuardDuty's coverage beside the findings, and filters by account, check and
//! severity that work in the page itself (no server). The filters also read the page's
//! fragment (`#account=ID&check=SLUG&severity=error`), so a link opens a filtered view.

use super::text::{self, Style};
use crate::model::finding::arn_account;
use crate::model::{Finding, Severity};
use crate::plan::Plan;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// `&`, `<`, `>`, `"` and `'` as entities.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The region of a resource named by its ARN (`arn:aws:ecs:REGION:...`); IAM's is global.
fn arn_region(resource: &str) -> Option<&str> {
    let mut parts = resource.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(2))
        .flatten()
        .filter(|r| !r.is_empty())
}

/// Where a finding is: (account, region); files are `files`, a global resource `global`.
fn place(f: &Finding) -> (String, String) {
    match arn_account(&f.resource) {
        Some(a) => (
            a.to_string(),
            arn_region(&f.resource).unwrap_or("global").to_string(),
        ),
        None => ("files".into(), "files".into()),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
td.ready{background:#dff0d8}td.not-ready{background:#f8d7da}td.not-checked{background:#fff3cd}
td.none{background:#f4f4f4;color:#888}
tr.error td.sev{color:#a00;font-weight:600}tr.warning td.sev{color:#8a5a00}
pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:24em;margin:.3em 0}
.filters label{margin-right:1em}code{font-family:ui-monospace,monospace}
";

const SCRIPT: &str = "
(function(){
  var ids=['account','check','severity'];
  function apply(){
    var want={};
    ids.forEach(function(k){want[k]=document.getElementById('f-'+k).value;});
    var shown=0;
    document.querySelectorAll('tr.finding').forEach(function(tr){
      var ok=ids.every(function(k){return want[k]===''||tr.getAttribute('data-'+k)===want[k];});
      if(ok){tr.removeAttribute('hidden');shown++;}else{tr.setAttribute('hidden','');}
    });
    document.getElementById('shown').textContent=String(shown);
  }
  var params={};
  location.hash.replace(/^#/,'').split('&').forEach(function(p){
    var kv=p.split('=');if(kv[0]){params[decodeURIComponent(kv[0])]=decodeURIComponent(kv[1]||'');}
  });
  ids.forEach(function(k){
    var sel=document.getElementById('f-'+k);
    if(params[k]!==undefined){sel.value=params[k];}
    sel.addEventListener('change',apply);
  });
  apply();
})();
";

pub fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let findings: Vec<&Finding> = plan.findings().collect();
    // The matrix: every account and region seen, and what each cell holds.
    let mut accounts: Vec<String> = plan.accounts.iter().map(|(a, _)| a.clone()).collect();
    let mut regions: BTreeSet<String> = BTreeSet::new();
    let mut cells: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for d in &plan.docs {
        let (a, r) = match arn_account(&d.resource) {
            Some(a) => (
                a.to_string(),
                arn_region(&d.resource).unwrap_or("global").to_string(),
            ),
            None => ("files".into(), "files".into()),
        };
        cells.entry((a.clone(), r.clone())).or_default();
        if !accounts.contains(&a) {
            accounts.push(a);
        }
        regions.insert(r);
    }
    for f in &findings {
        let (a, r) = place(f);
        if r != "global" {
            if f.severity == Severity::Error {
                cells.entry((a.clone(), r.clone())).or_default().0 += 1;
            }
            regions.insert(r);
        }
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    }
    // A global resource's finding (an IAM role) counts in every region of its account.
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        let (a, r) = place(f);
        if r == "global" {
            let mut hit = false;
            for ((ca, _), c) in cells.iter_mut().filter(|((ca, _), _)| *ca == a) {
                let _ = ca;
                c.0 += 1;
                hit = true;
            }
            if !hit {
                cells.entry((a, "global".into())).or_default().0 += 1;
                regions.insert("global".into());
            }
        }
    }
    // What could not be read (an account, a region): `account ID (name) region R`.
    let mut unread: BTreeSet<(String, String)> = BTreeSet::new();
    for e in &plan.errors {
        if let Some(rest) = e.resource.strip_prefix("account ") {
            let id = rest.split(' ').next().unwrap_or_default().to_string();
            let region = rest
                .rsplit(" region ")
                .next()
                .unwrap_or_default()
                .to_string();
            if !accounts.contains(&id) {
                accounts.push(id.clone());
            }
            regions.insert(region.clone());
            unread.insert((id, region));
        }
    }
    for n in plan.not_checked() {
        if let Some(a) = arn_account(&n.resource) {
            let r = arn_region(&n.resource).unwrap_or("global").to_string();
            cells.entry((a.to_string(), r)).or_default().1 += 1;
        }
    }
    let name_of = |id: &str| {
        plan.accounts
            .iter()
            .find(|(a, _)| a == id)
            .map(|(_, n)| n.clone())
            .filter(|n| n != id)
    };

    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>fargate-rtm plan</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(
        out,
        "<h1>GuardDuty Runtime Monitoring on Fargate: readiness</h1>"
    )?;
    writeln!(out, "<p id=\"summary\">{}</p>", esc(&text::summary(plan)))?;

    // Accounts × regions.
    writeln!(
        out,
        "<h2>Accounts × regions</h2><table id=\"matrix\"><tr><th>account</th>"
    )?;
    for r in &regions {
        write!(out, "<th>{}</th>", esc(r))?;
    }
    writeln!(out, "</tr>")?;
    for a in &accounts {
        let shown = match name_of(a) {
            Some(n) => format!("{a} ({n})"),
            None => a.clone(),
        };
        write!(out, "<tr><th>{}</th>", esc(&shown))?;
        for r in &regions {
            let key = (a.clone(), r.clone());
            let (class, label) = if unread.contains(&key) {
                ("not-checked", "not checked".to_string())
            } else {
                match cells.get(&key) {
                    None => ("none", "—".to_string()),
                    Some((0, 0)) => ("ready", "ready".to_string()),
                    Some((0, n)) => ("not-checked", format!("{n} not checked")),
                    Some((e, _)) => (
                        "not-ready",
                        format!("{e} error{}", if *e == 1 { "" } else { "s" }),
                    ),
                }
            };
            write!(
                out,
                "<td class=\"{class}\" data-account=\"{}\" data-region=\"{}\">{}</td>",
                esc(a),
                esc(r),
                esc(&label)
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")?;

    // Counts per check.
    let mut by_check: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
    for f in &findings {
        by_check.entry(f.check.slug).or_insert((f.severity, 0)).1 += 1;
    }
    writeln!(
        out,
        "<h2>Checks</h2><table id=\"checks\"><tr><th>check</th><th>severity</th><th>findings</th></tr>"
    )?;
    for (slug, (sev, n)) in &by_check {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{n}</td></tr>",
            esc(slug),
            severity(*sev)
        )?;
    }
    writeln!(out, "</table>")?;

    // Findings, filterable.
    let checks: BTreeSet<&str> = findings.iter().map(|f| f.check.slug).collect();
    let finding_accounts: BTreeSet<String> = findings.iter().map(|f| place(f).0).collect();
    writeln!(
        out,
        "<h2>Findings (<span id=\"shown\">{}</span> shown)</h2><div class=\"filters\">",
        findings.len()
    )?;
    let select =
        |out: &mut dyn Write, id: &str, label: &str, values: &[String]| -> io::Result<()> {
            write!(
                out,
                "<label>{label} <select id=\"f-{id}\"><option value=\"\">all</option>"
            )?;
            for v in values {
                write!(out, "<option value=\"{0}\">{0}</option>", esc(v))?;
            }
            writeln!(out, "</select></label>")
        };
    select(
        out,
        "account",
        "account",
        &finding_accounts.into_iter().collect::<Vec<_>>(),
    )?;
    select(
        out,
        "check",
        "check",
        &checks.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    )?;
    select(
        out,
        "severity",
        "severity",
        &["error".into(), "warning".into(), "info".into()],
    )?;
    writeln!(
        out,
        "</div><table id=\"findings\"><tr><th>severity</th><th>check</th><th>where</th><th>finding</th><th>fix</th></tr>"
    )?;
    for f in &findings {
        let (a, r) = place(f);
        let sev = severity(f.severity);
        writeln!(
            out,
            "<tr class=\"finding {sev}\" data-account=\"{}\" data-region=\"{}\" data-check=\"{}\" data-severity=\"{sev}\"><td class=\"sev\">{sev}</td><td><code>{}</code></td><td>{}<br><small>{}</small></td><td>{}</td><td>{} ({})</td></tr>",
            esc(&a),
            esc(&r),
            esc(f.check.slug),
            esc(f.check.slug),
            esc(&f.subject),
            esc(&f.resource),
            esc(&f.message),
            esc(&f.fix.title),
            f.fix.applicability.as_str()
        )?;
    }
    writeln!(out, "</table>")?;

    // The diffs of the documents that change, and the AWS operations.
    let changed: Vec<_> = plan.changed().collect();
    if !changed.is_empty() {
        writeln!(out, "<h2>Changes</h2>")?;
        for d in changed {
            let mut buf = Vec::new();
            text::diff(d, &mut buf, Style::default())?;
            writeln!(
                out,
                "<h3><code>{}</code></h3><pre class=\"diff\">{}</pre>",
                esc(&d.resource),
                esc(&String::from_utf8_lossy(&buf))
            )?;
        }
    }
    if !plan.account.operations.is_empty() {
        let mut buf = Vec::new();
        text::operations(&plan.account.operations, &mut buf, Style::default())?;
        writeln!(
            out,
            "<h2>AWS operations</h2><pre>{}</pre>",
            esc(&String::from_utf8_lossy(&buf))
        )?;
    }

    // GuardDuty's coverage beside the findings.
    if !plan.account.coverage.is_empty() || !plan.account.coverage_unread.is_empty() {
        writeln!(
            out,
            "<h2>GuardDuty coverage</h2><table id=\"coverage\"><tr><th>account</th><th>region</th><th>cluster</th><th>status</th><th>issue</th><th>explained by</th></tr>"
        )?;
        for c in &plan.account.coverage {
            let rows = c.issues.len().max(1);
            for (i, issue) in c
                .issues
                .iter()
                .map(Some)
                .chain(std::iter::once(None))
                .take(rows)
                .enumerate()
            {
                write!(out, "<tr>")?;
                if i == 0 {
                    write!(
                        out,
                        "<td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td>",
                        esc(&c.account),
                        esc(&c.region),
                        esc(&c.cluster),
                        esc(&c.status)
                    )?;
                }
                match issue {
                    Some(issue) => {
                        let by = if issue.explained_by.is_empty() {
                            if issue.unexplained() {
                                "no finding (coverage-unexplained)".to_string()
                            } else {
                                "no scanned service runs it".to_string()
                            }
                        } else {
                            issue.explained_by.join("; ")
                        };
                        writeln!(
                            out,
                            "<td><code>{}</code> {}</td><td>{}</td></tr>",
                            esc(&issue.rule),
                            esc(&issue.text),
                            esc(&by)
                        )?;
                    }
                    None => writeln!(out, "<td>—</td><td>—</td></tr>")?,
                }
            }
        }
        for (a, r, why) in &plan.account.coverage_unread {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td colspan=\"4\">not checked: {}</td></tr>",
                esc(a),
                esc(r),
                esc(why)
            )?;
        }
        writeln!(out, "</table>")?;
    }
    if !plan.errors.is_empty() {
        writeln!(out, "<h2>Not checked</h2><ul id=\"errors\">")?;
        for e in &plan.errors {
            writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&e.resource),
                esc(&e.message)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "<script>{SCRIPT}</script></body></html>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_and_arns() {
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            super::arn_region("arn:aws:ecs:eu-west-1:123456789012:service/a/b"),
            Some("eu-west-1")
        );
        assert_eq!(super::arn_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(super::arn_region("main.tf"), None);
    }
}
