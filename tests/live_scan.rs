//! `plan --live` end to end against moto: each live check failing and passing.

use crate::moto::{ACCOUNT, Moto, REGION};
use aws_sdk_ec2::types::{AttributeBooleanValue, VpcEndpointType};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    NetworkConfiguration, NetworkMode, Tag,
};
use serde_json::{Value, json};

pub const AGENT_REPO: &str =
    "arn:aws:ecr:us-east-1:593207742271:repository/aws-guardduty-agent-fargate";
pub const MANAGED: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Net {
    /// Public subnet (internet gateway) and `assignPublicIp` on.
    Public,
    /// Public subnet but `assignPublicIp` off.
    PublicNoIp,
    /// No route out, no endpoints.
    Private,
    /// No route out, but `ecr.api`, `ecr.dkr` (private DNS) and the S3 gateway endpoint.
    PrivateWithEndpoints,
}

#[derive(Clone, Debug)]
pub enum RolePolicy {
    Managed,
    Scoped,
    NoEcr,
    DenyAgentRepo,
    /// Managed policy plus a boundary that allows ECR but not `guardduty:SendSecurityTelemetry`.
    BoundaryWithoutTelemetry,
}

/// One account to seed; the default is a compliant service.
#[derive(Clone, Debug)]
pub struct Setup {
    pub net: Net,
    pub dns: bool,
    pub egress_open: bool,
    pub role: RolePolicy,
    pub execution_role: bool,
    pub platform: &'static str,
    pub task_memory: &'static str,
    pub container_memory: i32,
    pub cluster_tag: Option<&'static str>,
    pub detector: bool,
    pub services: usize,
    /// A container environment value (to prove it never leaks).
    pub env_secret: Option<&'static str>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            net: Net::Public,
            dns: true,
            egress_open: true,
            role: RolePolicy::Managed,
            execution_role: true,
            platform: "LATEST",
            task_memory: "1024",
            container_memory: 512,
            cluster_tag: None,
            detector: true,
            services: 1,
            env_secret: None,
        }
    }
}

fn trust() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()
}

pub async fn seed(conf: &aws_config::SdkConfig, s: &Setup) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let ecs = aws_sdk_ecs::Client::new(conf);
    let iam = aws_sdk_iam::Client::new(conf);
    let gd = aws_sdk_guardduty::Client::new(conf);

    // Network.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    for (attr, on) in [("support", s.dns), ("hostnames", s.dns)] {
        let v = AttributeBooleanValue::builder().value(on).build();
        let req = ec2.modify_vpc_attribute().vpc_id(&vpc);
        let req = if attr == "support" {
            req.enable_dns_support(v)
        } else {
            req.enable_dns_hostnames(v)
        };
        req.send().await.unwrap();
    }
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let subnet = subnet.subnet.unwrap().subnet_id.unwrap();
    let rt = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&rt)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    match s.net {
        Net::Public | Net::PublicNoIp => {
            let igw = ec2
                .create_internet_gateway()
                .send()
                .await
                .unwrap()
                .internet_gateway
                .unwrap()
                .internet_gateway_id
                .unwrap();
            ec2.attach_internet_gateway()
                .internet_gateway_id(&igw)
                .vpc_id(&vpc)
                .send()
                .await
                .unwrap();
            ec2.create_route()
                .route_table_id(&rt)
                .destination_cidr_block("0.0.0.0/0")
                .gateway_id(&igw)
                .send()
                .await
                .unwrap();
        }
        Net::Private => {}
        Net::PrivateWithEndpoints => {
            for svc in ["ecr.api", "ecr.dkr"] {
                ec2.create_vpc_endpoint()
                    .vpc_id(&vpc)
                    .service_name(format!("com.amazonaws.{REGION}.{svc}"))
                    .vpc_endpoint_type(VpcEndpointType::Interface)
                    .subnet_ids(&subnet)
                    .private_dns_enabled(true)
                    .send()
                    .await
                    .unwrap();
            }
            ec2.create_vpc_endpoint()
                .vpc_id(&vpc)
                .service_name(format!("com.amazonaws.{REGION}.s3"))
                .vpc_endpoint_type(VpcEndpointType::Gateway)
                .route_table_ids(&rt)
                .send()
                .await
                .unwrap();
        }
    }
    let sg = ec2
        .create_security_group()
        .group_name("task")
        .description("task")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    if !s.egress_open {
        let groups = ec2
            .describe_security_groups()
            .group_ids(&sg)
            .send()
            .await
            .unwrap();
        let perms = groups.security_groups()[0].ip_permissions_egress().to_vec();
        ec2.revoke_security_group_egress()
            .group_id(&sg)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .unwrap();
    }

    // IAM.
    let role = "ecsTaskExecutionRole";
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(trust())
        .send()
        .await
        .unwrap();
    match &s.role {
        RolePolicy::Managed => {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(MANAGED)
                .send()
                .await
                .unwrap();
        }
        RolePolicy::Scoped => {
            let doc = json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Resource": AGENT_REPO}]});
            iam.put_role_policy()
                .role_name(role)
                .policy_name("agent")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
        RolePolicy::NoEcr => {
            let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]});
            iam.put_role_policy()
                .role_name(role)
                .policy_name("logs")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
        RolePolicy::DenyAgentRepo => {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(MANAGED)
                .send()
                .await
                .unwrap();
            let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoGuardDutyAgent", "Effect": "Deny", "Action": "ecr:*", "Resource": AGENT_REPO}]});
            iam.put_role_policy()
                .role_name(role)
                .policy_name("deny-agent")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
        RolePolicy::BoundaryWithoutTelemetry => {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(MANAGED)
                .send()
                .await
                .unwrap();
            let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:*", "logs:*"], "Resource": "*"}]});
            let p = iam
                .create_policy()
                .policy_name("boundary")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
            let arn = p.policy.unwrap().arn.unwrap();
            iam.put_role_permissions_boundary()
                .role_name(role)
                .permissions_boundary(arn)
                .send()
                .await
                .unwrap();
        }
    }

    // ECS.
    let mut cluster = ecs.create_cluster().cluster_name("prod");
    if let Some(v) = s.cluster_tag {
        cluster = cluster.tags(Tag::builder().key("GuardDutyManaged").value(v).build());
    }
    cluster.send().await.unwrap();
    let mut td = ecs
        .register_task_definition()
        .family("web")
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory(s.task_memory)
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("nginx:1.27")
                .memory(s.container_memory)
                .essential(true)
                .set_environment(s.env_secret.map(|v| {
                    vec![
                        aws_sdk_ecs::types::KeyValuePair::builder()
                            .name("DB_PASSWORD")
                            .value(v)
                            .build(),
                    ]
                }))
                .build(),
        );
    if s.execution_role {
        td = td.execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{role}"));
    }
    let td = td
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap()
        .task_definition_arn
        .unwrap();
    for i in 0..s.services {
        let vpc_conf = AwsVpcConfiguration::builder()
            .subnets(&subnet)
            .security_groups(&sg)
            .assign_public_ip(if s.net == Net::Public {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .unwrap();
        let name = if s.services == 1 {
            "web".to_string()
        } else {
            format!("web-{i}")
        };
        ecs.create_service()
            .cluster("prod")
            .service_name(name)
            .task_definition(&td)
            .desired_count(0)
            .launch_type(LaunchType::Fargate)
            .platform_version(s.platform)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc_conf)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    // GuardDuty.
    if s.detector {
        use aws_sdk_guardduty::types::{
            DetectorFeature, DetectorFeatureConfiguration, FeatureAdditionalConfiguration,
            FeatureStatus,
        };
        let feature = DetectorFeatureConfiguration::builder()
            .name(DetectorFeature::RuntimeMonitoring)
            .status(FeatureStatus::Enabled)
            .additional_configuration(
                aws_sdk_guardduty::types::DetectorAdditionalConfiguration::builder()
                    .name(FeatureAdditionalConfiguration::EcsFargateAgentManagement)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .build();
        gd.create_detector()
            .enable(true)
            .features(feature)
            .send()
            .await
            .unwrap();
    }
}

/// A moto server seeded with `setup`.
pub fn seeded(setup: &Setup) -> Moto {
    let moto = Moto::start();
    crate::common::block(async { seed(&moto.config().await, setup).await });
    moto
}

/// Seeds moto with `setup`, runs `plan --live --format json`, returns (exit code, output).
pub fn scan(setup: Setup) -> (i32, Value, Moto) {
    let moto = seeded(&setup);
    let r = moto.run(&["plan", "--live", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    (r.code, v, moto)
}

pub fn slugs(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

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
    assert_eq!(slugs(&v), ["s3-egress-blocked", "vpc-dns-disabled"]);
    let ops = operations(&v);
    assert!(
        ops.contains(&"ec2:AuthorizeSecurityGroupEgress".to_string())
            && ops.contains(&"ec2:ModifyVpcAttribute".to_string()),
        "{ops:?}"
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

/// Creates an organization in the default (management) account, a member account with a deny
/// SCP, and seeds a compliant service in the member. Returns the member's temporary keys.
async fn member_with_scp(moto: &Moto, deny_action: &str) -> (String, String, String) {
    let mgmt = moto.config().await;
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
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

#[test]
fn scp_denying_telemetry_needs_the_org_view() {
    for action in ["guardduty:SendSecurityTelemetry", "guardduty:*"] {
        let moto = Moto::start();
        let rt = crate::common::runtime();
        let keys = rt.block_on(member_with_scp(&moto, action));
        // The member cannot read its SCPs: not checked, with a hint, exit 1.
        let (code, v) = run_as_member(&moto, &keys, &[]);
        assert_eq!(slugs(&v), Vec::<String>::new(), "{v:#}");
        let nc = not_checked(&v);
        assert!(
            nc.len() == 1
                && nc[0].starts_with("scp-denies-telemetry")
                && nc[0].contains("`--org-profile PROFILE`"),
            "{nc:?}"
        );
        assert_eq!(code, 1);
        // With the management account's profile, the deny is found and named.
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
        let (code, v) = run_as_member(&moto, &keys, &["--org-profile", "org"]);
        assert_eq!(slugs(&v), ["scp-denies-telemetry"], "{v:#}");
        let f = &v["findings"][0];
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("SCP `deny-guardduty`")
                && f["message"].as_str().unwrap().contains("`NoTelemetry`"),
            "{f}"
        );
        assert_eq!(f["fix"]["applicability"], "manual");
        assert_eq!(code, 2);
    }
}

#[test]
fn management_account_is_not_subject_to_scps() {
    let moto = Moto::start();
    let rt = crate::common::runtime();
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
    let out = crate::common::on_terminal(script, "plan --live", b"");
    assert!(
        out.contains("us-east-1: "),
        "the progress line names the region and stage: {out}"
    );
    assert!(out.contains("2 documents: 2 ready"), "{out}");
    assert!(out.contains("EXIT=0"), "{out}");
}
