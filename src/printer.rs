//! All output goes through here: data to stdout, status and errors to stderr, colour only on a
//! terminal and never with `NO_COLOR`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::error::Error;
use crate::model::InputError;
use std::io::{self, IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub stdout_color: bool,
    pub stderr_color: bool,
    pub quiet: bool,
    /// `-v`: print the cause chain of errors.
    pub verbose: bool,
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Printer {
    pub fn new(choice: ColorChoice, quiet: bool, verbose: bool) -> Self {
        let decide = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color(),
        };
        Printer {
            stdout_color: decide(io::stdout().is_terminal()),
            stderr_color: decide(io::stderr().is_terminal()),
            quiet,
            verbose,
        }
    }

    pub fn stdout(&self) -> io::StdoutLock<'static> {
        io::stdout().lock()
    }

    pub fn stderr(&self) -> io::StderrLock<'static> {
        io::stderr().lock()
    }

    /// A status line on stderr (suppressed by `--quiet`).
    pub fn status(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr(), "{msg}");
        }
    }

    fn label(&self, code: &str, label: &str) -> String {
        if self.stderr_color {
            format!("\x1b[{code}m{label}\x1b[0m")
        } else {
            label.to_string()
        }
    }

    /// `error: ...` and `hint: ...` on stderr.
    pub fn error(&self, msg: &str, hint: Option<&str>) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{}: {msg}", self.label("1;31", "error"));
        if let Some(h) = hint {
            let _ = writeln!(err, "  {}: {h}", self.label("1;36", "hint"));
        }
    }

    /// An error: `error: ...`, with `-v` its kind and each `Caused by: ...`, then `hint: ...`.
    pub fn report(&self, e: &Error) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{}: {}", self.label("1;31", "error"), e.message);
        if self.verbose {
            let _ = writeln!(err, "  Kind: {}", e.kind.as_str());
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                let _ = writeln!(err, "  Caused by: {c}");
                cause = c.source();
            }
        }
        if let Some(h) = &e.hint {
            let _ = writeln!(err, "  {}: {h}", self.label("1;36", "hint"));
        }
    }

    /// `warning: ...` on stderr (not suppressed by `--quiet`).
    pub fn warning(&self, msg: &str) {
        let _ = writeln!(
            io::stderr().lock(),
            "{}: {msg}",
            self.label("1;33", "warning")
        );
    }

    pub fn input_error(&self, e: &InputError) {
        self.error(
            &format!("`{}`: {}", e.resource, e.message),
            e.hint.as_deref(),
        );
    }
}

/// Scan progress on stderr (indicatif): drawn only on a terminal, hidden otherwise.
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    pub fn new(visible: bool) -> Self {
        let bar = if visible {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{pos}/{len} clusters and services]",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar)
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl crate::input::account::Progress for Bar {
    fn stage(&self, region: &str, what: &str) {
        self.0.set_message(format!("{region}: {what}"));
    }
    fn add_total(&self, n: u64) {
        self.0.inc_length(n);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
