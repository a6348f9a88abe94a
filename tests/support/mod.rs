//! Test support: run the real binary with a fixed environment, insta settings that keep every
//! snapshot in `snapshots/`, `../shared` when present; `moto` (a local moto server per test),
//! `seed` (an account seeded into it), `pty` (a pseudo-terminal).

pub mod moto;
pub mod pty;
pub mod seed;
pub mod venv;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` when it is beside this clone and not hidden with `FARGATE_RTM_HIDE_SHARED=1`
/// (`.ci/run` runs the suite once more that way, as a bare clone sees it).
pub fn shared() -> Option<PathBuf> {
    if std::env::var_os("FARGATE_RTM_HIDE_SHARED").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    let p = root().join("../shared");
    p.is_dir().then_some(p)
}

/// Says on the real stderr (not captured by the test harness) that a test did less or nothing
/// because `../shared` is not beside this clone.
pub fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// `../shared/fixtures/public` when `../shared` is there (see `shared`).
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = shared()?.join("fixtures/public");
    p.is_dir().then_some(p)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr, as a snapshot shows them.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn run_in(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fargate-rtm"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the binary in the project root, so paths in the output are relative and stable.
pub fn run(args: &[&str]) -> Run {
    run_in(&root(), args, None)
}

pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        $crate::support::settings().bind(|| insta::assert_snapshot!($name, $value))
    };
}

/// A temporary directory with copies of `files` (relative to the project root).
pub fn temp_with(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let src = root().join(f);
        let dst = dir.path().join(Path::new(f).file_name().unwrap());
        std::fs::copy(&src, &dst).unwrap();
    }
    dir
}

pub fn slugs(json_stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json_stdout).expect("stdout is JSON");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

/// A single-threaded runtime for seeding moto and calling the SDK from tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}
