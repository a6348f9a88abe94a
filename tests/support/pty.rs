//! Running the binary on a pseudo-terminal, to answer its prompt.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `fargate-rtm ARGS` on a pseudo-terminal (util-linux `script`), types `keys`, and returns
/// what the terminal showed, ending with `EXIT=<code>`. `script` is a command already set up
/// with the environment and directory the run needs.
pub fn on_terminal(mut script: Command, args: &str, keys: &[u8]) -> String {
    let cmd = format!("{} {args}; echo EXIT=$?", env!("CARGO_BIN_EXE_fargate-rtm"));
    let mut child = script
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    child.stdin.take().unwrap().write_all(keys).unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}
