//! `apply --live` and `rollback` end to end against moto: every fix applied and read back,
//! a shared task definition registered once, stale plans refused, a failure in the middle
//! rolled back to the exact prior state, and the confirmation rules.

use crate::support::block;
use crate::support::moto::{Moto, REGION};
use crate::support::seed::{Net, RolePolicy, Setup, seeded, slugs};
use serde_json::Value;

/// Everything a fix could touch, read back through the SDK, in a comparable form.
async fn state(moto: &Moto) -> Value {
    let conf = moto.config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let role = "ecsTaskExecutionRole";
    let mut inline: Vec<String> = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .policy_names()
        .to_vec();
    inline.sort();
    let mut attached: Vec<String> = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    attached.sort();
    let mut endpoints: Vec<String> = ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
        .iter()
        .filter_map(|e| e.service_name().map(str::to_string))
        .collect();
    endpoints.sort();
    let sgs = ec2.describe_security_groups().send().await.unwrap();
    let mut groups: Vec<String> = sgs
        .security_groups()
        .iter()
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect();
    groups.sort();
    let egress: Vec<String> = sgs
        .security_groups()
        .iter()
        .filter(|g| g.group_name() == Some("task"))
        .flat_map(|g| g.ip_permissions_egress().iter().map(|p| format!("{p:?}")))
        .collect();
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let mut dns = Vec::new();
    for v in vpcs.vpcs() {
        let id = v.vpc_id().unwrap();
        let s = ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
            .send()
            .await
            .unwrap();
        let h = ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send()
            .await
            .unwrap();
        dns.push((
            s.enable_dns_support().and_then(|a| a.value()),
            h.enable_dns_hostnames().and_then(|a| a.value()),
        ));
    }
    let tds: Vec<String> = ecs
        .list_task_definitions()
        .send()
        .await
        .unwrap()
        .task_definition_arns()
        .to_vec();
    let services = ecs
        .list_services()
        .cluster("prod")
        .send()
        .await
        .unwrap()
        .service_arns()
        .to_vec();
    let described = ecs
        .describe_services()
        .cluster("prod")
        .set_services(Some(services))
        .send()
        .await
        .unwrap();
    let mut svcs: Vec<String> = described
        .services()
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s.service_name().unwrap_or_default(),
                s.task_definition().unwrap_or_default(),
                s.platform_version().unwrap_or_default()
            )
        })
        .collect();
    svcs.sort();
    serde_json::json!({"inline": inline, "attached": attached, "endpoints": endpoints, "groups": groups, "egress": egress,
        "dns": format!("{dns:?}"), "task_definitions": tds, "services": svcs})
}

fn plan_json(moto: &Moto) -> Value {
    let r = moto.run(&["plan", "--live", "--format", "json"]);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
}

#[test]
fn every_live_fix_is_applied_and_read_back() {
    let setup = Setup {
        role: RolePolicy::NoEcr,
        net: Net::Private,
        dns: false,
        egress_open: false,
        task_memory: "512",
        platform: "1.3.0",
        ..Default::default()
    };
    let moto = seeded(&setup);
    let journal = moto.home.path().join("j.jsonl");
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("applied: 12 of 12 operations"),
        "{}",
        r.stderr
    );
    let s = block(state(&moto));
    assert_eq!(
        s["inline"],
        serde_json::json!(["fargate-rtm-guardduty-agent-ecr-us-east-1", "logs"])
    );
    assert_eq!(
        s["endpoints"],
        serde_json::json!([
            format!("com.amazonaws.{REGION}.ecr.api"),
            format!("com.amazonaws.{REGION}.ecr.dkr"),
            format!("com.amazonaws.{REGION}.guardduty-data"),
            format!("com.amazonaws.{REGION}.s3")
        ])
    );
    assert!(s["groups"].as_array().unwrap().iter().any(|g| {
        g.as_str()
            .unwrap()
            .starts_with("fargate-rtm-ecr-endpoints-")
    }));
    assert!(
        !s["dns"].as_str().unwrap().contains("false"),
        "{}",
        s["dns"]
    );
    // The tasks reach the S3 prefix list and the new endpoints (in the VPC's CIDR).
    let egress = s["egress"].to_string();
    assert!(
        egress.contains("pl-") && egress.contains("10.0.0.0/16"),
        "{egress}"
    );
    // A new revision is registered; the old one is kept.
    assert_eq!(s["task_definitions"].as_array().unwrap().len(), 2);
    assert_eq!(
        s["services"][0],
        "web arn:aws:ecs:us-east-1:123456789012:task-definition/web:2 LATEST"
    );
    // Idempotent: nothing left to fix, and a second apply changes nothing.
    let again = plan_json(&moto);
    assert_eq!(slugs(&again), Vec::<String>::new(), "{again:#}");
    assert!(again["changes"].as_array().unwrap().is_empty());
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("nothing to apply"), "{}", r.stderr);
    // The journal has a record before and after each call, and is private.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().count(), 24);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn a_task_definition_shared_by_three_services_is_registered_once() {
    let moto = seeded(&Setup {
        task_memory: "512",
        services: 3,
        ..Default::default()
    });
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        moto.home.path().join("j").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = block(state(&moto));
    assert_eq!(s["task_definitions"].as_array().unwrap().len(), 2);
    for svc in s["services"].as_array().unwrap() {
        assert!(
            svc.as_str().unwrap().contains("task-definition/web:2"),
            "{svc}"
        );
    }
    // The new revision is the old document with only the planned field changed: every other
    // field AWS returned is registered as it was.
    let (old, new) = block(async {
        use fargate_rtm::aws::Ecs;
        let aws = fargate_rtm::aws::sdk::SdkAws::new(&moto.config().await, REGION);
        let arn = |n| format!("arn:aws:ecs:{REGION}:123456789012:task-definition/web:{n}");
        (
            aws.describe_task_definition(&arn(1))
                .await
                .unwrap()
                .document,
            aws.describe_task_definition(&arn(2))
                .await
                .unwrap()
                .document,
        )
    });
    let strip = |doc: &Value| {
        let mut td = doc["taskDefinition"].clone();
        for k in fargate_rtm::model::READ_ONLY_TASK_FIELDS {
            td.as_object_mut().unwrap().remove(*k);
        }
        td
    };
    let (mut old_td, new_td) = (strip(&old), strip(&new));
    assert_eq!(
        (old_td["memory"].as_str(), new_td["memory"].as_str()),
        (Some("512"), Some("1024"))
    );
    old_td["memory"] = new_td["memory"].clone();
    assert_eq!(old_td, new_td);
    assert!(
        old_td["containerDefinitions"][0]["image"].is_string(),
        "{old_td:#}"
    );
}

#[test]
fn a_stale_plan_is_refused_and_changes_nothing() {
    let moto = seeded(&Setup {
        platform: "1.3.0",
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let plan_file = moto.home.path().join("live.plan.json");
    let r = moto.run(&["plan", "--live", "--out", plan_file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Someone changes the service between plan and apply.
    block(async {
        let ecs = aws_sdk_ecs::Client::new(&moto.config().await);
        ecs.update_service()
            .cluster("prod")
            .service("web")
            .platform_version("1.4.0")
            .send()
            .await
            .unwrap();
    });
    let before = block(state(&moto));
    let r = moto.run(&["apply", "--auto-approve", plan_file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("the plan is stale: service `web` changed; nothing was changed"),
        "{}",
        r.stderr
    );
    assert_eq!(block(state(&moto)), before);
}

#[test]
fn a_saved_live_plan_applies_exactly() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let plan_file = moto.home.path().join("live.plan.json");
    assert_eq!(
        moto.run(&["plan", "--live", "--out", plan_file.to_str().unwrap()])
            .code,
        2
    );
    let r = moto.run(&[
        "apply",
        "--auto-approve",
        "--journal",
        moto.home.path().join("j").to_str().unwrap(),
        plan_file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        block(state(&moto))["inline"],
        serde_json::json!(["fargate-rtm-guardduty-agent-ecr-us-east-1", "logs"])
    );
}

#[test]
fn a_failure_in_the_middle_stops_and_rollback_restores_the_prior_state() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        net: Net::Private,
        task_memory: "512",
        ..Default::default()
    });
    // Someone creates a group with the name the plan will use: CreateSecurityGroup fails after
    // the IAM step succeeded.
    block(async {
        let ec2 = aws_sdk_ec2::Client::new(&moto.config().await);
        let vpc = ec2
            .describe_vpcs()
            .send()
            .await
            .unwrap()
            .vpcs()
            .iter()
            .find(|v| v.is_default() != Some(true))
            .unwrap()
            .vpc_id()
            .unwrap()
            .to_string();
        ec2.create_security_group()
            .group_name(format!("fargate-rtm-ecr-endpoints-{vpc}"))
            .description("squatter")
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
    });
    let before = block(state(&moto));
    let journal = moto.home.path().join("j.jsonl");
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("stopped after 1 of"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("fargate-rtm rollback {}", journal.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("skipped: register a new revision of `web`"),
        "{}",
        r.stderr
    );
    assert_ne!(block(state(&moto)), before, "the IAM step was applied");
    let r = moto.run(&["rollback", "--auto-approve", journal.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(block(state(&moto)), before);
    // A second rollback does nothing.
    let r = moto.run(&["rollback", "--auto-approve", journal.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("nothing to roll back"), "{}", r.stderr);
}

#[test]
fn rollback_keeps_new_revisions_unless_asked() {
    let moto = seeded(&Setup {
        task_memory: "512",
        platform: "1.3.0",
        ..Default::default()
    });
    let before = block(state(&moto));
    let journal = moto.home.path().join("j.jsonl");
    assert_eq!(
        moto.run(&[
            "apply",
            "--live",
            "--auto-approve",
            "--journal",
            journal.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = moto.run(&["rollback", "--auto-approve", journal.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("pass `--deregister`"), "{}", r.stderr);
    let after = block(state(&moto));
    assert_eq!(
        after["services"], before["services"],
        "the service is back on web:1 with 1.3.0"
    );
    assert_eq!(
        after["task_definitions"].as_array().unwrap().len(),
        2,
        "the new revision is kept"
    );
}

#[test]
fn no_terminal_without_auto_approve_refuses() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let before = block(state(&moto));
    let r = moto.run(&["apply", "--live"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("refusing to apply without confirmation"),
        "{}",
        r.stderr
    );
    assert_eq!(block(state(&moto)), before);
}

#[test]
fn declined_on_a_terminal_changes_nothing() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let before = block(state(&moto));
    let out = crate::support::pty::on_terminal(moto.command("script"), "apply --live", b"n");
    assert!(
        out.contains("Carry out 1 AWS operation?")
            && out.contains("declined; nothing was changed")
            && out.contains("EXIT=1"),
        "{out}"
    );
    assert_eq!(block(state(&moto)), before);
}

#[test]
fn the_endpoint_group_admits_the_secondary_cidrs_read_from_aws() {
    let moto = seeded(&Setup {
        net: Net::Private,
        ..Default::default()
    });
    block(async {
        let ec2 = aws_sdk_ec2::Client::new(&moto.config().await);
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        // The seeded VPC, not moto's default one.
        let vpc = vpcs
            .vpcs()
            .iter()
            .find(|v| v.cidr_block() == Some("10.0.0.0/16"))
            .and_then(|v| v.vpc_id())
            .unwrap()
            .to_string();
        ec2.associate_vpc_cidr_block()
            .vpc_id(vpc)
            .cidr_block("100.64.0.0/16")
            .send()
            .await
            .unwrap();
    });
    let v = plan_json(&moto);
    let group = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"]["operation"] == "ec2:AuthorizeSecurityGroupIngress")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(
        group["operation"]["cidrs"],
        serde_json::json!(["10.0.0.0/16", "100.64.0.0/16"])
    );
}

#[test]
fn only_safe_applies_the_safe_fixes_and_says_what_it_left() {
    // A role without ECR access (safe: an inline policy) and an old platform (unsafe: a
    // redeployment).
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        platform: "1.3.0",
        ..Default::default()
    });
    let r = moto.run(&[
        "apply",
        "--live",
        "--auto-approve",
        "--only",
        "safe",
        "--journal",
        moto.home.path().join("j").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("left in the plan by `--only`: 1 operation: `ecs:UpdateService` (unsafe)")
            && r.stderr.contains("applied: 1 of 1 operations"),
        "{}",
        r.stderr
    );
    let s = block(state(&moto));
    assert_eq!(
        s["inline"],
        serde_json::json!(["fargate-rtm-guardduty-agent-ecr-us-east-1", "logs"])
    );
    assert!(
        s["services"][0].as_str().unwrap().ends_with(" 1.3.0"),
        "{}",
        s["services"][0]
    );
}

/// A saved account plan is data: an operation the planner never makes, one without a
/// fingerprint, or one that is not what the account needs now (an edited policy) is refused
/// before any change; a profile written into the file is never used.
#[test]
fn a_saved_account_plan_is_data_not_a_program() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let plan_file = moto.home.path().join("live.plan.json");
    assert_eq!(
        moto.run(&["plan", "--live", "--out", plan_file.to_str().unwrap()])
            .code,
        2
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert!(saved["live"].get("profile").is_none(), "{saved:#}");
    let before = block(state(&moto));
    let tampered = |edit: &dyn Fn(&mut Value), expect: &str| {
        let mut v = saved.clone();
        edit(&mut v);
        let f = moto.home.path().join("tampered.plan.json");
        std::fs::write(&f, v.to_string()).unwrap();
        let r = moto.run(&["apply", "--auto-approve", f.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{expect}: {}", r.stderr);
        assert!(
            r.stderr.contains(expect) && r.stderr.contains("nothing was changed"),
            "{expect}: {}",
            r.stderr
        );
        assert_eq!(block(state(&moto)), before, "{expect}");
    };
    tampered(
        &|v| {
            let mut extra = v["live"]["operations"][0].clone();
            extra["operation"] = serde_json::json!({"operation": "iam:DeleteRole", "role_name": "ecsTaskExecutionRole", "detach_policy_arns": []});
            v["live"]["operations"].as_array_mut().unwrap().push(extra);
        },
        "`iam:DeleteRole` is not an operation fargate-rtm plans",
    );
    tampered(
        &|v| v["live"]["operations"][0]["fingerprint"] = Value::Null,
        "has no fingerprint of what it changes",
    );
    tampered(
        &|v| {
            v["live"]["operations"][0]["operation"]["policy_document"]["Statement"][1]["Resource"] =
                serde_json::json!("*")
        },
        "is not what the account needs now",
    );
    // A profile in the file is ignored (this one does not exist: using it would fail).
    let mut v = saved.clone();
    v["live"]["profile"] = serde_json::json!("attacker");
    std::fs::write(&plan_file, v.to_string()).unwrap();
    let r = moto.run(&[
        "apply",
        "--auto-approve",
        "--journal",
        moto.home.path().join("j").to_str().unwrap(),
        plan_file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The operations carried out for a saved plan are the derived ones (their order,
/// applicability and fingerprints): a redeployment marked "safe" in the file is still unsafe.
#[test]
fn a_saved_plan_runs_the_derived_operations_not_the_files_labels() {
    let moto = seeded(&Setup {
        platform: "1.3.0",
        ..Default::default()
    });
    let plan_file = moto.home.path().join("live.plan.json");
    assert_eq!(
        moto.run(&["plan", "--live", "--out", plan_file.to_str().unwrap()])
            .code,
        2
    );
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    for op in v["live"]["operations"].as_array_mut().unwrap() {
        op["applicability"] = serde_json::json!("safe");
    }
    std::fs::write(&plan_file, v.to_string()).unwrap();
    let r = moto.run(&[
        "apply",
        "--auto-approve",
        "--only",
        "safe",
        "--journal",
        moto.home.path().join("j").to_str().unwrap(),
        plan_file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("left in the plan by `--only`: 1 operation: `ecs:UpdateService` (unsafe)"),
        "{}",
        r.stderr
    );
    assert!(
        block(state(&moto))["services"][0]
            .as_str()
            .unwrap()
            .ends_with(" 1.3.0")
    );
}
