//! The one confirmation before anything changes: asked on a terminal (dialoguer), refused
//! without one unless `--auto-approve`.

use crate::error::{Error, Kind, Result};
use std::io::{self, IsTerminal};

/// Asks `prompt` once. `nothing` says what did not happen when the answer is no.
pub fn confirm(prompt: &str, auto_approve: bool, nothing: &str) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !(io::stdin().is_terminal() && io::stderr().is_terminal()) {
        return Err(Error::new(
            Kind::NotConfirmed,
            format!("refusing to apply without confirmation: no terminal to ask on; {nothing}"),
        )
        .with_hint("review the plan, then run again with `--auto-approve`"));
    }
    match dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::new(
            Kind::NotConfirmed,
            format!("declined; {nothing}"),
        )),
        Err(e) => Err(Error::new(
            Kind::NotConfirmed,
            format!("cannot ask for confirmation: {e}; {nothing}"),
        )
        .with_hint("run again with `--auto-approve`")
        .caused_by(e)),
    }
}
