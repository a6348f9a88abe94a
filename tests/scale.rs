//! Output stays usable at scale: past 50 documents with findings the text output groups them by
//! check, and past 20 changed documents it shows no diff unless `--diff all`.

use crate::support::run_in;

fn many(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let td = serde_json::json!({"family": format!("t{i}"), "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
            "executionRoleArn": "arn:aws:iam::123456789012:role/e", "containerDefinitions": [{"name": "a", "memory": 512}]});
        std::fs::write(
            dir.path().join(format!("t{i:03}.json")),
            serde_json::to_string_pretty(&td).unwrap(),
        )
        .unwrap();
    }
    dir
}

#[test]
fn many_documents_are_grouped_and_diffs_are_opt_in() {
    let dir = many(60);
    let r = run_in(dir.path(), &["plan", "."], None);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("error[agent-memory-headroom] 60 documents: `./t000.json`, `./t001.json`, `./t002.json` and 57 more"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("60 documents change; diffs are not shown above 20"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("+++"), "no diff by default");
    assert!(r.stdout.lines().count() < 15, "{}", r.stdout);
    let all = run_in(dir.path(), &["plan", "--diff", "all", "."], None);
    assert_eq!(all.stdout.matches("+++ ").count(), 60);
    assert_eq!(
        all.stdout.matches("error[agent-memory-headroom]").count(),
        60
    );
    let none = run_in(many(3).path(), &["plan", "--diff", "none", "."], None);
    assert!(!none.stdout.contains("+++") && none.stdout.contains("error[agent-memory-headroom]"));
}

#[test]
fn a_few_documents_show_every_diff() {
    let dir = many(20);
    let r = run_in(dir.path(), &["plan", "."], None);
    assert_eq!(r.stdout.matches("+++ ").count(), 20);
}
