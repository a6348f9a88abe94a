//! The README's policy for `plan --live` lists exactly the AWS calls the code makes.

use crate::common::root;

#[test]
fn plan_live_policy_matches_the_calls_in_sdk_rs() {
    let src = std::fs::read_to_string(root().join("src/aws/sdk.rs")).unwrap();
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
    let policy =
        std::fs::read_to_string(root().join("templates/iam-plan-live-policy.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let listed: Vec<String> = v["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, calls);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&policy),
        "README.md shows templates/iam-plan-live-policy.json verbatim"
    );
}
