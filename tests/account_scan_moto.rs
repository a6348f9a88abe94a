//! `plan --live` end to end against moto: each account check failing and passing, through the
//! real SDK and binary.

use crate::support::moto::Moto;
use crate::support::seed::*;
use serde_json::{Value, json};

fn not_checked(v: &Value) -> Vec<String> {
    v["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["check"].as_str().unwrap(),
                f["reason"].as_str().unwrap()
            )
        })
        .collect()
}

fn operations(v: &Value) -> Vec<String> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn compliant_service_passes() {
    let (code, v, _m) = scan(Setup::default());
    assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(not_checked(&v), Vec::<String>::new());
    assert_eq!(code, 0);
}

#[test]
fn platform_1_3_0_on_launch_type() {
    let (code, v, _m) = scan(Setup {
        platform: "1.3.0",
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["platform-version-too-old"]);
    assert_eq!(code, 2);
    let change = &v["changes"][0];
    assert_eq!(change["action"], "ecs:UpdateService");
    assert_eq!(change["operation"]["platform_version"], "LATEST");
    assert!(
        change["resource"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
    );
}

#[test]
fn private_subnet_without_nat_or_endpoints() {
    let (_, v, _m) = scan(Setup {
        net: Net::Private,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["no-ecr-network-path"]);
    let ops = operations(&v);
    assert_eq!(
        ops,
        [
            "ec2:CreateSecurityGroup",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateVpcEndpoint",
            "ec2:CreateVpcEndpoint",
            "ec2:CreateVpcEndpoint"
        ]
    );
    let services: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["operation"]["service_name"].as_str())
        .collect();
    assert_eq!(
        services,
        [
            "com.amazonaws.us-east-1.ecr.api",
            "com.amazonaws.us-east-1.ecr.dkr",
            "com.amazonaws.us-east-1.s3"
        ]
    );
    assert_eq!(v["changes"][2]["operation"]["private_dns_enabled"], true);
}

#[test]
fn private_subnet_with_all_three_endpoints_passes() {
    let (code, v, _m) = scan(Setup {
        net: Net::PrivateWithEndpoints,
        ..Default::default()
    });
    assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(not_checked(&v), Vec::<String>::new());
    assert_eq!(code, 0);
}

#[test]
fn public_subnet_without_public_ip() {
    let (_, v, _m) = scan(Setup {
        net: Net::PublicNoIp,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["no-ecr-network-path"]);
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`assignPublicIp` is disabled")
    );
}

#[test]
fn role_with_scoped_inline_policy_passes() {
    let (code, v, _m) = scan(Setup {
        role: RolePolicy::Scoped,
        ..Default::default()
    });
    assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(code, 0);
}

#[test]
fn role_without_ecr_access() {
    let (_, v, _m) = scan(Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["execution-role-lacks-ecr-access"]);
    let op = &v["changes"][0]["operation"];
    assert_eq!(op["operation"], "iam:PutRolePolicy");
    assert_eq!(
        op["policy_document"]["Statement"][1]["Resource"],
        AGENT_REPO
    );
}

#[test]
fn ecr_policy_managed_attaches_the_managed_policy() {
    let moto = seeded(&Setup {
        role: RolePolicy::NoEcr,
        ..Default::default()
    });
    let r = moto.run(&[
        "plan",
        "--live",
        "--format",
        "json",
        "--ecr-policy",
        "managed",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["changes"][0]["operation"],
        json!({"operation": "iam:AttachRolePolicy", "role_name": "ecsTaskExecutionRole", "policy_arn": MANAGED})
    );
}

#[test]
fn explicit_deny_on_the_agent_repository() {
    let (_, v, _m) = scan(Setup {
        role: RolePolicy::DenyAgentRepo,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["execution-role-lacks-ecr-access"]);
    let f = &v["findings"][0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("`NoGuardDutyAgent` denies"),
        "{f}"
    );
    assert_eq!(f["fix"]["applicability"], "manual");
}

#[test]
fn boundary_missing_telemetry() {
    let (_, v, _m) = scan(Setup {
        role: RolePolicy::BoundaryWithoutTelemetry,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["boundary-blocks-agent"]);
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`guardduty:SendSecurityTelemetry`")
    );
}

#[test]
fn cluster_tagged_excluded() {
    let (code, v, _m) = scan(Setup {
        cluster_tag: Some("false"),
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["cluster-excluded"]);
    assert_eq!(v["findings"][0]["severity"], "info");
    assert_eq!(code, 0);
}

#[test]
fn task_definition_without_execution_role() {
    let (_, v, _m) = scan(Setup {
        execution_role: false,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["missing-execution-role"]);
    let ops = operations(&v);
    assert_eq!(ops, ["ecs:RegisterTaskDefinition", "ecs:UpdateService"]);
    let patch = &v["changes"][0]["operation"]["patch"];
    assert_eq!(
        patch[0]["value"],
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    );
}

#[test]
fn memory_without_headroom_registers_once_for_three_services() {
    let (_, v, _m) = scan(Setup {
        task_memory: "512",
        services: 3,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["agent-memory-headroom"]);
    let ops = operations(&v);
    assert_eq!(
        ops,
        [
            "ecs:RegisterTaskDefinition",
            "ecs:UpdateService",
            "ecs:UpdateService",
            "ecs:UpdateService"
        ]
    );
}

#[test]
fn vpc_dns_off_and_s3_egress_blocked() {
    let (_, v, _m) = scan(Setup {
        dns: false,
        egress_open: false,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["task-egress-blocked", "vpc-dns-disabled"]);
    let ops = operations(&v);
    assert!(
        ops.contains(&"ec2:ModifyVpcAttribute".to_string()),
        "{ops:?}"
    );
    // The path is the internet: opening egress to `0.0.0.0/0` is left to a person.
    let egress = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "task-egress-blocked")
        .unwrap();
    assert_eq!(egress["fix"]["applicability"], "manual", "{egress}");
    assert!(
        egress["message"]
            .as_str()
            .unwrap()
            .contains("the internet (ECR)"),
        "{egress}"
    );
}

#[test]
fn no_detector_means_runtime_monitoring_disabled() {
    let (_, v, _m) = scan(Setup {
        detector: false,
        ..Default::default()
    });
    assert_eq!(slugs(&v), ["runtime-monitoring-disabled"]);
}

/// Creates an organization in the default (management) account (SCPs enabled on its root when
/// `scps`), a member account with a deny SCP on `deny_action`, and seeds a compliant service in
/// the member. Returns the member's temporary keys.
async fn member_with_scp(moto: &Moto, deny_action: Value, scps: bool) -> (String, String, String) {
    let mgmt = moto.config().await;
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    if scps {
        let roots = org.list_roots().send().await.unwrap();
        org.enable_policy_type()
            .root_id(roots.roots()[0].id().unwrap())
            .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .unwrap();
    }
    let status = org
        .create_account()
        .email("member@example.com")
        .account_name("member")
        .send()
        .await
        .unwrap();
    let member = status.create_account_status.unwrap().account_id.unwrap();
    let content = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoTelemetry", "Effect": "Deny", "Action": deny_action, "Resource": "*"}]});
    let policy = org
        .create_policy()
        .name("deny-guardduty")
        .description("test")
        .content(content.to_string())
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let id = policy.policy.unwrap().policy_summary.unwrap().id.unwrap();
    org.attach_policy()
        .policy_id(id)
        .target_id(&member)
        .send()
        .await
        .unwrap();
    let sts = aws_sdk_sts::Client::new(&mgmt);
    let creds = sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("fargate-rtm-test")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let keys = (
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
    );
    let member_conf = moto
        .config_with(aws_sdk_sts::config::Credentials::new(
            &keys.0,
            &keys.1,
            Some(keys.2.clone()),
            None,
            "member",
        ))
        .await;
    seed(&member_conf, &Setup::default()).await;
    keys
}

fn run_as_member(moto: &Moto, keys: &(String, String, String), extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["plan", "--live", "--format", "json"];
    args.extend(extra);
    let r = moto.run_with(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", &keys.0),
            ("AWS_SECRET_ACCESS_KEY", &keys.1),
            ("AWS_SESSION_TOKEN", &keys.2),
        ],
    );
    (
        r.code,
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr)),
    )
}

fn org_profile(moto: &Moto) {
    std::fs::write(
        moto.home.path().join("credentials"),
        "[org]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    std::fs::write(
        moto.home.path().join("config"),
        "[profile org]\nregion = us-east-1\n",
    )
    .unwrap();
}

#[test]
fn scp_blocking_the_agent_needs_the_org_view() {
    for (action, blocked) in [
        (
            json!("guardduty:SendSecurityTelemetry"),
            "`guardduty:SendSecurityTelemetry`",
        ),
        (json!("guardduty:*"), "`guardduty:SendSecurityTelemetry`"),
        (
            json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
            "`ecr:GetDownloadUrlForLayer`",
        ),
    ] {
        let moto = Moto::start();
        let rt = crate::support::runtime();
        let keys = rt.block_on(member_with_scp(&moto, action, true));
        // The member cannot read its SCPs: not checked, with a hint, exit 1.
        let (code, v) = run_as_member(&moto, &keys, &[]);
        assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
        let nc = not_checked(&v);
        assert!(
            nc.len() == 1
                && nc[0].starts_with("scp-blocks-agent")
                && nc[0].contains("`--org-profile PROFILE`"),
            "{nc:?}"
        );
        assert_eq!(code, 1);
        // With the management account's profile, the deny is found and named.
        org_profile(&moto);
        let (code, v) = run_as_member(&moto, &keys, &["--org-profile", "org"]);
        let s = slugs(&v);
        assert!(
            !s.is_empty() && s.iter().all(|s| s == "scp-blocks-agent"),
            "{v:#}"
        );
        let messages: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains("SCP `deny-guardduty`")
                && m.contains("`NoTelemetry`")
                && m.contains(blocked)),
            "{messages:?}"
        );
        assert_eq!(v["findings"][0]["fix"]["applicability"], "manual");
        assert_eq!(not_checked(&v), Vec::<String>::new(), "{v:#}");
        assert_eq!(code, 2);
    }
}

/// An organization whose root has SCPs disabled: the attached SCP does not apply, and there is
/// no SCP layer to report.
#[test]
fn scps_disabled_in_the_organization_are_no_layer() {
    let moto = Moto::start();
    let rt = crate::support::runtime();
    let keys = rt.block_on(member_with_scp(&moto, json!("guardduty:*"), false));
    org_profile(&moto);
    let (code, v) = run_as_member(&moto, &keys, &["--org-profile", "org"]);
    assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(not_checked(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(code, 0);
}

#[test]
fn management_account_is_not_subject_to_scps() {
    let moto = Moto::start();
    let rt = crate::support::runtime();
    rt.block_on(async {
        let conf = moto.config().await;
        let org = aws_sdk_organizations::Client::new(&conf);
        org.create_organization().send().await.unwrap();
        seed(&conf, &Setup::default()).await;
    });
    let r = moto.run(&["plan", "--live", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(slugs(&v), Vec::<String>::new());
    assert_eq!(not_checked(&v), Vec::<String>::new());
    assert_eq!(r.code, 0);
}

#[test]
fn several_regions_are_scanned_together() {
    let moto = seeded(&Setup {
        platform: "1.3.0",
        ..Default::default()
    });
    let one = moto.run(&[
        "plan",
        "--live",
        "--format",
        "json",
        "--region",
        "us-east-1",
    ]);
    let two = moto.run(&[
        "plan",
        "--live",
        "--format",
        "json",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "--call-stats",
    ]);
    let (a, b): (Value, Value) = (
        serde_json::from_str(&one.stdout).unwrap(),
        serde_json::from_str(&two.stdout).unwrap(),
    );
    // eu-west-1 is empty: the same findings, and twice the identity calls.
    assert_eq!(slugs(&a), slugs(&b));
    assert_eq!(slugs(&b), ["platform-version-too-old"]);
    assert!(
        two.stderr.contains("sts:GetCallerIdentity 2"),
        "{}",
        two.stderr
    );
}

#[test]
fn progress_is_drawn_on_a_terminal_and_the_plan_still_printed() {
    let moto = seeded(&Setup::default());
    let mut script = moto.command("script");
    script.env("TERM", "xterm");
    let out = crate::support::pty::on_terminal(script, "plan --live", b"");
    assert!(
        out.contains("us-east-1: "),
        "the progress line names the region and stage: {out}"
    );
    assert!(out.contains("2 documents: 2 ready"), "{out}");
    assert!(out.contains("EXIT=0"), "{out}");
}

/// `apply --live` where a check could not be run (the member cannot read its SCPs) carries out
/// nothing it was not asked to, and exits 1 saying the account may need more.
#[test]
fn apply_with_something_not_checked_is_not_a_success() {
    let moto = Moto::start();
    let keys =
        crate::support::runtime().block_on(member_with_scp(&moto, json!("guardduty:*"), true));
    let r = moto.run_with(
        &["apply", "--live", "--auto-approve"],
        &[
            ("AWS_ACCESS_KEY_ID", &keys.0),
            ("AWS_SECRET_ACCESS_KEY", &keys.1),
            ("AWS_SESSION_TOKEN", &keys.2),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("nothing to apply")
            && r.stderr.contains(
                "warning: 1 check could not be run (see `not checked` above): the account may need more than this plan"
            ),
        "{}",
        r.stderr
    );
}
