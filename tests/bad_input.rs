//! Bad input never panics: each bad file gets a clear error naming it, the good files are
//! still planned, and the exit code is 1.

use crate::snap;
use crate::support::run_in;

const GOOD: &str = r#"{"family": "good", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
  "executionRoleArn": "arn:aws:iam::123456789012:role/e", "containerDefinitions": [{"name": "a", "memory": 512}]}"#;

fn td(field: &str) -> String {
    format!(
        r#"{{"family": "bad", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "executionRoleArn": "r",
  "containerDefinitions": [{{"name": "a"}}],
  {field}}}"#
    )
}

#[test]
fn a_directory_mixing_good_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "{\"a\":".repeat(5000), "}".repeat(5000));
    let files: Vec<(&str, String)> = vec![
        ("a-good.json", GOOD.to_string()),
        (
            "b-malformed.json",
            "{\n  \"family\": \"x\",\n  \"cpu\": \"256\"\n  \"memory\": \"512\"\n}\n".into(),
        ),
        ("c-empty.json", String::new()),
        ("d-array.json", "[{\"family\": \"x\"}]".into()),
        ("e-memory-true.json", td("\"memory\": true")),
        (
            "f-abc-vcpu.json",
            td("\"memory\": \"512\", \"x\": 1")
                .replace("\"cpu\": \"256\"", "\"cpu\": \"abc vCPU\""),
        ),
        ("g-negative.json", td("\"memory\": \"-512\"")),
        ("h-huge-number.json", td("\"memory\": 1e309")),
        ("i-deep.json", deep),
        (
            "j-containers-string.json",
            r#"{"requiresCompatibilities": ["FARGATE"], "containerDefinitions": "app"}"#.into(),
        ),
        (
            "k-container-memory-string.json",
            td("\"memory\": \"512\"")
                .replace(r#"{"name": "a"}"#, r#"{"name": "a", "memory": "256"}"#),
        ),
        (
            "l-not-utf8.json",
            String::from_utf8_lossy(b"{\"family\": \"\xff\"}").into_owned(),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("m-latin1.json"),
        b"{\"family\": \"caf\xe9\"}",
    )
    .unwrap();
    // Named one by one: a named file is never ignored, whatever it holds.
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    names.push("m-latin1.json".into());
    names.sort();
    let args = |format: &str| {
        let mut a = vec!["plan".to_string(), "--format".into(), format.into()];
        a.extend(names.iter().cloned());
        a
    };
    let text_args = args("text");
    let r = run_in(
        dir.path(),
        &text_args.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("panicked"));
    // The good file is still planned.
    assert!(
        r.stdout
            .contains("a-good.json\n  error[agent-memory-headroom]"),
        "{}",
        r.stdout
    );
    for bad in [
        "b-malformed",
        "c-empty",
        "d-array",
        "h-huge-number",
        "i-deep",
        "j-containers-string",
        "m-latin1",
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&format!("`{bad}.json`")))
            .unwrap_or_else(|| panic!("{bad}: {}", r.stderr));
        assert!(line.starts_with("error: "), "{line}");
    }
    for (bad, what) in [
        ("e-memory-true", "`memory` `true` is a boolean"),
        ("f-abc-vcpu", "`abc vCPU` is not a cpu value"),
        ("g-negative", "`-512` is not a memory value"),
        (
            "k-container-memory-string",
            "container `memory` is `\"256\"`",
        ),
    ] {
        let at = r
            .stdout
            .find(&format!("{bad}.json"))
            .unwrap_or_else(|| panic!("{bad}"));
        assert!(r.stdout[at..].contains(what), "{bad}: {}", r.stdout);
    }
    let json_args = args("json");
    let json = run_in(
        dir.path(),
        &json_args.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 8, "{}", json.stdout);
    snap!("bad-input-directory", r.transcript());
    // Walked, the files that are not ECS documents are ignored; the broken ECS ones still fail.
    let walked = run_in(dir.path(), &["plan", "--format", "json", "."], None);
    let v: serde_json::Value = serde_json::from_str(&walked.stdout).unwrap();
    let ignored: Vec<&str> = v["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        ignored,
        [
            "./c-empty.json",
            "./d-array.json",
            "./i-deep.json",
            "./l-not-utf8.json",
            "./m-latin1.json"
        ],
        "{}",
        walked.stdout
    );
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"] == "./b-malformed.json"),
        "{}",
        walked.stdout
    );
    assert_eq!(walked.code, 1);
}

/// An input that cannot be read shows on stderr in every format, and SARIF says the run did
/// not do all it was asked (`executionSuccessful: false`, the error as a notification).
#[test]
fn unreadable_inputs_show_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"family\": \"web\"\n  \"cpu\": \"256\"\n}\n",
    )
    .unwrap();
    for format in ["text", "json", "sarif", "patch"] {
        let r = run_in(
            dir.path(),
            &["plan", "--format", format, "broken.json"],
            None,
        );
        assert_eq!(r.code, 1, "{format}");
        assert!(
            r.stderr.contains("`broken.json`") && r.stderr.contains("line 3, column 3"),
            "{format}: {}",
            r.stderr
        );
    }
    let r = run_in(
        dir.path(),
        &["plan", "--format", "sarif", "broken.json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    let note = &inv["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.json"
    );
    assert!(
        note["message"]["text"].as_str().unwrap().contains("line 3"),
        "{note}"
    );
}
