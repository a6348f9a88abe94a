//! Each check fails on its `.fail.json` fixture and passes on its `.pass.json` fixture; the
//! text output of each failing fixture is snapshotted.

use crate::snap;
use crate::support::{run, slugs};
use fargate_rtm::check;
use fargate_rtm::model::CheckInfo;

/// The checks on documents, from the registry.
fn document_checks() -> impl Iterator<Item = &'static CheckInfo> {
    check::REGISTRY
        .iter()
        .filter(|c| !c.needs_account())
        .map(|c| c.info)
}

#[test]
fn every_check_has_a_failing_and_a_passing_fixture() {
    for c in document_checks() {
        let fail = format!("tests/fixtures/checks/{}.fail.json", c.slug);
        let pass = format!("tests/fixtures/checks/{}.pass.json", c.slug);
        let r = run(&["plan", "--format", "json", &fail]);
        assert_eq!(
            slugs(&r.stdout),
            vec![c.slug.to_string()],
            "{fail}: {}",
            r.stderr
        );
        let expected = if c.severity == fargate_rtm::model::Severity::Error {
            2
        } else {
            0
        };
        assert_eq!(r.code, expected, "{fail}");
        let r = run(&["plan", "--format", "json", &pass]);
        assert_eq!(slugs(&r.stdout), Vec::<String>::new(), "{pass}");
        assert_eq!(r.code, 0, "{pass}");
    }
}

#[test]
fn check_outputs() {
    for c in document_checks() {
        let fail = format!("tests/fixtures/checks/{}.fail.json", c.slug);
        snap!(
            format!("check-{}", c.slug),
            run(&["plan", &fail]).transcript()
        );
    }
}

#[test]
fn explain_every_check() {
    for c in check::all() {
        let r = run(&["explain", c.slug]);
        assert_eq!(r.code, 0);
        assert!(
            r.stdout.starts_with(c.slug) && r.stdout.contains("https://docs.aws.amazon.com/"),
            "{}",
            r.stdout
        );
    }
    snap!("explain-list", run(&["explain"]).transcript());
    snap!(
        "explain-agent-memory-headroom",
        run(&["explain", "agent-memory-headroom"]).transcript()
    );
    // Renamed checks still answer to their old slug.
    for (old, new) in check::RENAMED {
        let r = run(&["explain", old]);
        assert_eq!(r.code, 0, "{old}");
        assert!(r.stdout.starts_with(new), "{old}: {}", r.stdout);
    }
    let r = run(&["explain", "no-such-check"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown check `no-such-check`")
            && r.stderr.contains("`invalid-task-size`")
    );
}

/// An empty `executionRoleArn` is named as empty, not as absent.
#[test]
fn an_empty_execution_role_is_called_empty() {
    let text = r#"{"family": "x", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "1024",
        "executionRoleArn": "", "containerDefinitions": [{"name": "a", "image": "b", "memory": 256}]}"#;
    let r = crate::support::run_in(
        &crate::support::root(),
        &["plan", "-", "--format", "json"],
        Some(text),
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["check"], "missing-execution-role",
        "{}",
        r.stdout
    );
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("`executionRoleArn` is empty"),
        "{}",
        r.stdout
    );
}

/// `RunTask` input is a run configuration: judged for its platform version, worded as such,
/// skipped (with the reason) when it does not run on Fargate.
#[test]
fn run_task_input_is_a_run_configuration() {
    let plan = |text: &str| {
        crate::support::run_in(&crate::support::root(), &["plan", "-v", "-"], Some(text))
    };
    let fail = plan(
        r#"{"cluster": "c", "taskDefinition": "report:3", "launchType": "FARGATE", "platformVersion": "1.3.0"}"#,
    );
    let pass = plan(
        r#"{"cluster": "c", "taskDefinition": "report:3", "launchType": "FARGATE", "platformVersion": "LATEST"}"#,
    );
    let ec2 = plan(r#"{"taskDefinition": "report:3", "count": 2, "launchType": "EC2"}"#);
    assert_eq!(fail.code, 2);
    assert_eq!(pass.code, 0, "{}", pass.stdout);
    assert_eq!(ec2.code, 0);
    snap!(
        "run-task-input",
        [fail.transcript(), pass.transcript(), ec2.transcript()].join("\n")
    );
}
