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
    let (_, plan) = actions("templates/iam-plan-live-policy.json", 0);
    assert_eq!(
        plan,
        calls
            .iter()
            .filter(|a| read_only(a))
            .cloned()
            .collect::<Vec<_>>()
    );
    // Every changing call, and the authorizations AWS checks beside them (passing the role,
    // tagging on creation), in the statements below; the scoped ones under their conditions.
    let apply_text =
        std::fs::read_to_string(root().join("templates/iam-apply-live-policy.json")).unwrap();
    let policy: serde_json::Value = serde_json::from_str(&apply_text).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let by_sid = |sid: &str| {
        let i = statements
            .iter()
            .position(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement `{sid}`"));
        (
            &statements[i],
            actions("templates/iam-apply-live-policy.json", i).1,
        )
    };
    let mut apply: Vec<String> = (0..statements.len())
        .flat_map(|i| actions("templates/iam-apply-live-policy.json", i).1)
        .collect();
    apply.sort();
    apply.dedup();
    let mut expected: Vec<String> = calls.iter().filter(|a| !read_only(a)).cloned().collect();
    expected.extend(
        [
            "ec2:CreateTags",
            "ecs:TagResource",
            "iam:PassRole",
            "iam:TagRole",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(apply, expected);
    let (open, open_actions) = by_sid("FargateRtmApplyLive");
    assert_eq!(open["Resource"], "*");
    assert!(open.get("Condition").is_none());
    let (managed, managed_actions) = by_sid("FargateRtmManagedPolicyOnly");
    assert_eq!(
        managed_actions,
        ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    );
    assert_eq!(
        managed["Condition"]["ArnEquals"]["iam:PolicyARN"],
        fargate_rtm::check::account::MANAGED_POLICY,
        "only the managed policy the tool attaches"
    );
    let (tag, tag_actions) = by_sid("FargateRtmTagNewRevisions");
    assert_eq!(tag_actions, ["ecs:TagResource"]);
    assert_eq!(
        tag["Condition"]["StringEquals"]["ecs:CreateAction"], "RegisterTaskDefinition",
        "tags only on the revisions apply registers (it copies their tags)"
    );
    let (pass, pass_actions) = by_sid("FargateRtmPassExecutionRole");
    assert_eq!(pass_actions, ["iam:PassRole"]);
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    // What apply creates carries its tag, and deleting is allowed only on resources that
    // carry it.
    let (key, value) = fargate_rtm::apply::account::CREATED_BY;
    let creations = [
        "ec2:CreateSecurityGroup",
        "ec2:CreateVpcEndpoint",
        "iam:CreateRole",
    ];
    let (tagged, tagged_actions) = by_sid("FargateRtmCreateOnlyTagged");
    assert_eq!(
        tagged["Condition"]["StringEquals"][format!("aws:RequestTag/{key}")],
        value
    );
    for c in creations.iter().chain(&["iam:TagRole"]) {
        assert!(tagged_actions.iter().any(|a| a == c), "{c}");
    }
    let resources = tagged["Resource"].as_array().unwrap();
    assert!(
        resources.iter().all(|r| {
            let r = r.as_str().unwrap();
            r.ends_with(":security-group/*")
                || r.ends_with(":vpc-endpoint/*")
                || r.ends_with(":role/*")
        }),
        "only the resources created carry the condition's tag: {resources:?}"
    );
    let (inside, _) = by_sid("FargateRtmCreateInTheVpc");
    for r in inside["Resource"].as_array().unwrap() {
        let r = r.as_str().unwrap();
        assert!(
            !r.ends_with(":security-group/*") && !r.ends_with(":vpc-endpoint/*") && r != "*",
            "an untagged creation must not be allowed: {r}"
        );
    }
    // The interface endpoints attach the group apply created (and tagged), no other.
    let (group, group_actions) = by_sid("FargateRtmEndpointsInItsGroup");
    assert_eq!(group_actions, ["ec2:CreateVpcEndpoint"]);
    assert_eq!(group["Resource"], "arn:aws:ec2:*:*:security-group/*");
    assert_eq!(
        group["Condition"]["StringEquals"][format!("aws:ResourceTag/{key}")],
        value
    );
    let (on_create, _) = by_sid("FargateRtmTagOnCreate");
    assert_eq!(
        on_create["Condition"]["StringEquals"]["ec2:CreateAction"],
        serde_json::json!(["CreateSecurityGroup", "CreateVpcEndpoint"])
    );
    let (owned, owned_actions) = by_sid("FargateRtmOnlyWhatItCreated");
    assert_eq!(
        owned["Condition"]["StringEquals"][format!("aws:ResourceTag/{key}")],
        value
    );
    assert_eq!(
        owned_actions,
        [
            "ec2:DeleteSecurityGroup",
            "ec2:DeleteVpcEndpoints",
            "iam:DeleteRole"
        ]
    );
    // No action both open and scoped: the open statement would make the scope void.
    for a in &open_actions {
        for s in statements
            .iter()
            .filter(|s| s["Sid"] != "FargateRtmApplyLive")
        {
            assert!(!s["Action"].to_string().contains(a.as_str()), "{a}");
        }
    }
    let (plan_text, _) = actions("templates/iam-plan-live-policy.json", 0);
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
