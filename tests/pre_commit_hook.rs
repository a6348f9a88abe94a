//! The pre-commit hook of `.pre-commit-hooks.yaml`, run by `pre-commit try-repo` (pinned, from
//! the tests' venv) on a small git repository: it fails on a task definition that needs a fix,
//! and passes a commit that touches only other JSON.

use crate::support::root;
use crate::support::venv::tool;

const PRE_COMMIT_VERSION: &str = "4.7.0";
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn try_repo(dir: &Path, home: &Path, files: &[&str]) -> (i32, String) {
    let pre_commit = tool(
        &format!("pre-commit-venv-{PRE_COMMIT_VERSION}"),
        &format!("pre-commit=={PRE_COMMIT_VERSION}"),
        "pre-commit",
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_fargate-rtm"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut args = vec![
        "try-repo".to_string(),
        root().display().to_string(),
        "fargate-rtm-system".into(),
        "--files".into(),
    ];
    args.extend(files.iter().map(|f| f.to_string()));
    let out = Command::new(pre_commit)
        .args(&args)
        .current_dir(dir)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_hook_fails_a_commit_with_a_task_definition_to_fix_and_passes_other_json() {
    if !root().join(".git").exists() {
        crate::support::skipped("pre-commit try-repo needs this project as a git checkout");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let d = repo.path();
    git(d, &["init", "-q"]);
    std::fs::create_dir_all(d.join("deploy")).unwrap();
    std::fs::copy(
        root().join("examples/task-definitions/api-memory-full.json"),
        d.join("deploy/api.json"),
    )
    .unwrap();
    std::fs::write(d.join("package.json"), r#"{"name": "app"}"#).unwrap();
    git(d, &["add", "."]);
    let (code, out) = try_repo(d, home.path(), &["deploy/api.json", "package.json"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("agent-memory-headroom"), "{out}");
    let (code, out) = try_repo(d, home.path(), &["package.json"]);
    assert_eq!(code, 0, "{out}");
}
