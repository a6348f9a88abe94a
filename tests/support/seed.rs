//! Seeding a moto account: one `Setup` describes the account (network, role, platform, sizes,
//! GuardDuty); `seed` creates it through the Rust SDK; `seeded` and `scan` start moto with it.

use super::moto::{ACCOUNT, Moto, REGION};
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

/// A security group `name` in `vpc` admitting TCP 443 from the VPC (`10.0.0.0/16`), as ECR's
/// guide asks of an endpoint's group; returns its id.
pub async fn https_group(ec2: &aws_sdk_ec2::Client, vpc: &str, name: &str) -> String {
    let group = ec2
        .create_security_group()
        .group_name(name)
        .description("HTTPS from the VPC")
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("10.0.0.0/16")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    group
}

/// Removes every egress rule of `group` (a new group allows all outbound traffic).
pub async fn revoke_all_egress(ec2: &aws_sdk_ec2::Client, group: &str) {
    let groups = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let perms = groups.security_groups()[0].ip_permissions_egress().to_vec();
    ec2.revoke_security_group_egress()
        .group_id(group)
        .set_ip_permissions(Some(perms))
        .send()
        .await
        .unwrap();
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
            // The endpoints' group admits HTTPS from the VPC, as ECR's guide asks.
            let group = https_group(&ec2, &vpc, "ecr-endpoints").await;
            for svc in ["ecr.api", "ecr.dkr"] {
                ec2.create_vpc_endpoint()
                    .vpc_id(&vpc)
                    .service_name(format!("com.amazonaws.{REGION}.{svc}"))
                    .vpc_endpoint_type(VpcEndpointType::Interface)
                    .subnet_ids(&subnet)
                    .security_group_ids(&group)
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
        revoke_all_egress(&ec2, &sg).await;
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

    // GuardDuty, and the endpoint and group it creates where it manages the agent.
    if s.detector {
        let group = https_group(&ec2, &vpc, &format!("GuardDutyManagedSecurityGroup-{vpc}")).await;
        ec2.create_vpc_endpoint()
            .vpc_id(&vpc)
            .service_name(format!("com.amazonaws.{REGION}.guardduty-data"))
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(&subnet)
            .security_group_ids(&group)
            .private_dns_enabled(s.dns)
            .tag_specifications(
                aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::VpcEndpoint)
                    .tags(
                        aws_sdk_ec2::types::Tag::builder()
                            .key("GuardDutyManaged")
                            .value("true")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
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
    super::block(async { seed(&moto.config().await, setup).await });
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
