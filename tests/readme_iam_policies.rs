//! The README's IAM policies list exactly the AWS calls the code makes: the read-only ones for
//! `plan --live`, the changing ones (plus `iam:PassRole`) for `apply --live` and `rollback`.

use crate::support::root;

/// Every `"service:Operation"` string in `src/aws/sdk/`, the only place that calls AWS.
fn calls_in_sdk_rs() -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("src/aws/sdk"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 1, "one file per service in src/aws/sdk");
    let mut calls: Vec<String> = Vec::new();
    for src in files.iter().map(|f| std::fs::read_to_string(f).unwrap()) {
        calls.extend(api_strings(&src));
    }
    calls.sort();
    calls.dedup();
    calls
}

fn api_strings(src: &str) -> Vec<String> {
    let mut calls: Vec<String> = Vec::new();
    for part in src.split('"').skip(1).step_by(2) {
        let is_api = part.split_once(':').is_some_and(|(svc, op)| {
            ["ecs", "ec2", "iam", "sts", "guardduty", "organizations"].contains(&svc)
                && op.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && op.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if is_api && !calls.contains(&part.to_string()) {
            calls.push(part.to_string());
        }
    }
    calls.sort();
    calls
}

fn actions(file: &str, statement: usize) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let a = &v["Statement"][statement]["Action"];
    let list = match a {
        serde_json::Value::String(s) => vec![s.clone()],
        _ => a
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect(),
    };
    (text, list)
}

#[test]
fn policies_match_the_calls_in_sdk_rs() {
    let calls = calls_in_sdk_rs();
    let read_only = |a: &str| {
        ["Describe", "List", "Get"]
            .iter()
            .any(|p| a.split(':').nth(1).is_some_and(|op| op.starts_with(p)))
    };
    let (plan_text, plan) = actions("templates/iam-plan-live-policy.json", 0);
    assert_eq!(
        plan,
        calls
            .iter()
            .filter(|a| read_only(a))
            .cloned()
            .collect::<Vec<_>>()
    );
    // Every changing call, each in exactly one statement; the scoped ones under their condition.
    let (apply_text, mut apply) = actions("templates/iam-apply-live-policy.json", 0);
    apply.extend(actions("templates/iam-apply-live-policy.json", 1).1);
    apply.sort();
    assert_eq!(
        apply,
        calls
            .iter()
            .filter(|a| !read_only(a))
            .cloned()
            .collect::<Vec<_>>()
    );
    let policy: serde_json::Value = serde_json::from_str(&apply_text).unwrap();
    let statement = |i: usize| &policy["Statement"][i];
    assert_eq!(
        actions("templates/iam-apply-live-policy.json", 1).1,
        ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    );
    assert_eq!(
        statement(1)["Condition"]["ArnEquals"]["iam:PolicyARN"],
        fargate_rtm::check::account::MANAGED_POLICY,
        "only the managed policy the tool attaches"
    );
    assert_eq!(
        actions("templates/iam-apply-live-policy.json", 2).1,
        ["ecs:TagResource"]
    );
    assert_eq!(
        statement(2)["Condition"]["StringEquals"]["ecs:CreateAction"],
        "RegisterTaskDefinition",
        "tags only on the revisions apply registers (it copies their tags)"
    );
    assert_eq!(
        actions("templates/iam-apply-live-policy.json", 3).1,
        ["iam:PassRole"]
    );
    assert_eq!(
        statement(3)["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 4);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&plan_text),
        "README.md shows templates/iam-plan-live-policy.json verbatim"
    );
    assert!(
        readme.contains(&apply_text),
        "README.md shows templates/iam-apply-live-policy.json verbatim"
    );
}
