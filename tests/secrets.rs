//! A planted secret appears in no output: text diffs, JSON, SARIF, patches, saved plans,
//! applied output's diff on stderr, and (live) the journal. Plan files and journals are 0600.

use crate::support::run_in;

const SECRET: &str = "hunter2-planted-secret-value";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn doc() -> String {
    format!(
        r#"{{
  "family": "s",
  "requiresCompatibilities": ["FARGATE"],
  "containerDefinitions": [{{"name": "a", "memory": 512,
    "environment": [{{"name": "DB_PASSWORD", "value": "{SECRET}"}}],
    "dockerLabels": {{"note": "{AWS_KEY}"}}}}],
  "cpu": "256",
  "memory": "512"
}}
"#
    )
}

#[test]
fn a_planted_secret_appears_in_no_file_mode_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("td.json"), doc()).unwrap();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "patch"] {
        let r = run_in(
            dir.path(),
            &["plan", "--format", format, "--diff", "all", "td.json"],
            None,
        );
        assert_eq!(r.code, 2, "{format}: {}", r.stderr);
        outputs.push((format.to_string(), r.stdout + &r.stderr));
    }
    let r = run_in(dir.path(), &["plan", "--out", "p.json", "td.json"], None);
    assert_eq!(r.code, 2);
    outputs.push((
        "saved plan".into(),
        std::fs::read_to_string(dir.path().join("p.json")).unwrap(),
    ));
    let r = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--out-dir", "out", "td.json"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    outputs.push(("apply".into(), r.stdout + &r.stderr));
    for (what, text) in &outputs {
        assert!(
            !text.contains(SECRET) && !text.contains(AWS_KEY),
            "{what} leaks:\n{text}"
        );
    }
    // The text diff shows the line, redacted, since it is next to the fix.
    assert!(
        outputs[0].1.contains("\"value\": \"<redacted>\""),
        "{}",
        outputs[0].1
    );
    // The patched copy itself keeps the value: it is the user's file.
    assert!(
        std::fs::read_to_string(dir.path().join("out/td.json"))
            .unwrap()
            .contains(SECRET)
    );
}

#[test]
fn a_planted_secret_appears_in_no_live_output_or_journal() {
    use crate::support::seed::Setup;
    let moto = crate::support::seed::seeded(&Setup {
        task_memory: "512",
        env_secret: Some(SECRET),
        ..Default::default()
    });
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif"] {
        let r = moto.run(&["plan", "--live", "--format", format, "--diff", "all"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        outputs.push((format.to_string(), r.stdout + &r.stderr));
    }
    let plan_file = moto.home.path().join("p.json");
    assert_eq!(
        moto.run(&["plan", "--live", "--out", plan_file.to_str().unwrap()])
            .code,
        2
    );
    outputs.push((
        "saved live plan".into(),
        std::fs::read_to_string(&plan_file).unwrap(),
    ));
    let journal = moto.home.path().join("j.jsonl");
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    outputs.push(("apply".into(), r.stdout + &r.stderr));
    outputs.push(("journal".into(), std::fs::read_to_string(&journal).unwrap()));
    for (what, text) in &outputs {
        assert!(!text.contains(SECRET), "{what} leaks:\n{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [&plan_file, &journal] {
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
                0o600,
                "{}",
                f.display()
            );
        }
    }
}
