//! `plan .` in a real repository: the walk respects `.gitignore`, hidden files and
//! `node_modules`; JSON that is not an ECS document is ignored (listed with `-v`, counted in the
//! summary), so the exit code reflects the ECS documents alone. A file named on the command line
//! is still an error when it is not an ECS document, and a broken ECS document is never ignored.

use crate::support::{root, run_in};
use std::path::Path;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A small service repository: two task definitions (one needing a fix), its tooling's JSON,
/// dependencies and an ignored build folder.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let td = std::fs::read_to_string(root().join("examples/task-definitions/api-memory-full.json"))
        .unwrap();
    write(d, "deploy/web.json", &td);
    let ok =
        std::fs::read_to_string(root().join("examples/task-definitions/checkout-ready-arm64.json"))
            .unwrap();
    write(d, "deploy/worker.json", &ok);
    write(
        d,
        "package.json",
        r#"{"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}"#,
    );
    write(
        d,
        "tsconfig.json",
        "{\n  // comments, as TypeScript allows\n  \"compilerOptions\": {\"strict\": true}\n}\n",
    );
    write(
        d,
        "reports/lint.sarif.json",
        r#"{"version": "2.1.0", "runs": []}"#,
    );
    write(d, "locales/en.json", r#"{"greeting": "Hello ${name}"}"#);
    write(d, "empty.json", "");
    // GitHub's deploy workflow keeps its task definition in a hidden folder: read.
    write(d, ".aws/task-definition.json", &td);
    // Never read: dependencies, a git-ignored build folder, version control.
    write(
        d,
        "node_modules/lib/task.json",
        "{\"containerDefinitions\": ",
    );
    write(d, ".gitignore", "build/\n");
    write(d, "build/task.json", "{\"containerDefinitions\": ");
    write(d, ".git/info/task.json", "{\"containerDefinitions\": ");
    dir
}

#[test]
fn plan_of_a_repository_judges_the_ecs_documents_alone() {
    let repo = repository();
    let r = run_in(repo.path(), &["plan", ".", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{}", r.stdout);
    assert_eq!(
        r.code, 2,
        "the web task definition needs a fix: {}",
        r.stdout
    );
    let ignored: Vec<&str> = v["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        ignored,
        [
            "./empty.json",
            "./locales/en.json",
            "./package.json",
            "./reports/lint.sarif.json",
            "./tsconfig.json"
        ],
        "{}",
        r.stdout
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("5 other files ignored: not ECS documents"),
        "{}",
        v["summary"]
    );
    // `-v` names each one on stderr.
    let r = run_in(repo.path(), &["plan", ".", "-v"], None);
    assert!(
        r.stderr.contains("ignored `./package.json`"),
        "{}",
        r.stderr
    );
}

#[test]
fn named_files_and_broken_ecs_documents_are_still_errors() {
    let repo = repository();
    let r = run_in(repo.path(), &["plan", "package.json"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // A task definition with a missing comma, found by the walk: an error, never ignored.
    write(
        repo.path(),
        "deploy/broken.json",
        "{\"family\": \"web\" \"containerDefinitions\": []}",
    );
    let r = run_in(repo.path(), &["plan", ".", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["errors"][0]["resource"], "./deploy/broken.json",
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 1);
}

#[test]
fn include_and_exclude_refine_the_walk() {
    let repo = repository();
    let r = run_in(
        repo.path(),
        &[
            "plan",
            ".",
            "--exclude",
            "deploy/web.json",
            "--exclude",
            ".aws/**",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run_in(
        repo.path(),
        &["plan", ".", "--include", "deploy/**", "--format", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ignored"], serde_json::json!([]), "{}", r.stdout);
    assert_eq!(r.code, 2);
    let r = run_in(repo.path(), &["plan", ".", "--include", "a{b"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--include a{b"), "{}", r.stderr);
}

/// The shortcut that ignores a walked file without parsing it never takes an ECS document (or a
/// broken one, or a CloudFormation template) for other JSON.
#[test]
fn no_ecs_document_is_ignored_unparsed() {
    fn json_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                json_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    for d in [
        "examples",
        "tests/fixtures/public",
        "tests/fixtures/checks",
        "tests/fixtures/account",
    ] {
        json_files(&root().join(d), &mut files);
    }
    assert!(files.len() > 40);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !fargate_rtm::model::clearly_not_ecs(&bytes),
            "{}",
            f.display()
        );
    }
    for text in [
        "{\"family\": \"web\" \"cpu\": \"256\"}",
        "{\"serviceName\": \"web\",}",
        "{\"AWSTemplateFormatVersion\": \"2010-09-09\"}",
        "[{\"name\": \"web\", \"image\": \"nginx\", \"portMappings\": []}]",
    ] {
        assert!(
            !fargate_rtm::model::clearly_not_ecs(text.as_bytes()),
            "{text}"
        );
    }
    for text in [
        "{\"name\": \"app\", \"version\": \"1.0.0\"}",
        "",
        "{\"greeting\": \"hi\"}",
    ] {
        assert!(
            fargate_rtm::model::clearly_not_ecs(text.as_bytes()),
            "{text}"
        );
    }
}
