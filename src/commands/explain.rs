//! `explain [CHECK]`: what a check means, why GuardDuty needs it, how it is fixed.

use crate::check;
use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::printer::Printer;
use std::io::Write;

pub fn run(args: ExplainArgs, printer: &Printer) -> Result<i32> {
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
        return Err(Error::usage(format!("unknown check `{slug}`"))
            .with_hint(format!("known checks: {known}")));
    };
    writeln!(out, "{} ({})\n", c.slug, c.severity.as_str())?;
    writeln!(out, "{}\n", c.explain)?;
    writeln!(out, "Sources:")?;
    for s in c.sources {
        writeln!(out, "- {s}")?;
    }
    Ok(0)
}
