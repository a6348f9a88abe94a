//! Python tools the tests use, each pinned and installed once per target directory into its own
//! venv (the same way as `moto_server`), so a fresh clone needs only `python3`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The executable `bin` of the venv `name` (under the target directory) holding the pinned PyPI
/// `requirement` (`pre-commit==4.7.0`), installed on first use.
pub fn tool(name: &str, requirement: &str, bin: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let exe = venv.join("bin").join(bin);
    if exe.is_file() {
        return exe;
    }
    let log = PathBuf::from(format!("{}.log", venv.display()));
    let run = |cmd: &mut Command| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat()).ok();
        assert!(
            out.status.success(),
            "{cmd:?} failed; see {}",
            log.display()
        );
    };
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]));
    assert!(
        exe.is_file(),
        "{bin} missing after install; see {}",
        log.display()
    );
    exe
}
