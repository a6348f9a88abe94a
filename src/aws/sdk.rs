//! The real AWS SDK behind the `Aws` trait: the only file that names `aws_sdk_*` types.
//! Pagination, error classification, percent-decoding of IAM documents and call counting live
//! here.

use super::*;
use crate::iam::{self, Policy};
use aws_sdk_ec2::types::Filter;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// SDK clients for one region, and a count of the calls made per API.
pub struct SdkAws {
    region: String,
    ecs: aws_sdk_ecs::Client,
    iam: aws_sdk_iam::Client,
    ec2: aws_sdk_ec2::Client,
    sts: aws_sdk_sts::Client,
    guardduty: aws_sdk_guardduty::Client,
    organizations: aws_sdk_organizations::Client,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

/// How the scan reaches AWS: the standard credential chain, with optional profile and region.
pub async fn load_config(profile: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    // Five attempts with backoff, unless `AWS_MAX_ATTEMPTS` says otherwise.
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts));
    if let Some(p) = profile {
        // An explicit profile wins over credentials in the environment, as with the AWS CLI.
        let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        loader = loader.profile_name(p).credentials_provider(creds);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    loader.load().await
}

impl SdkAws {
    pub fn new(config: &aws_config::SdkConfig, region: &str) -> Self {
        let conf = config
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build();
        SdkAws {
            region: region.to_string(),
            ecs: aws_sdk_ecs::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            ec2: aws_sdk_ec2::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            guardduty: aws_sdk_guardduty::Client::new(&conf),
            organizations: aws_sdk_organizations::Client::new(&conf),
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// From ready clients (tests build them with `aws-smithy-mocks`).
    pub fn from_clients(
        region: &str,
        ecs: aws_sdk_ecs::Client,
        iam: aws_sdk_iam::Client,
        ec2: aws_sdk_ec2::Client,
        sts: aws_sdk_sts::Client,
        guardduty: aws_sdk_guardduty::Client,
        organizations: aws_sdk_organizations::Client,
    ) -> Self {
        SdkAws {
            region: region.to_string(),
            ecs,
            iam,
            ec2,
            sts,
            guardduty,
            organizations,
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// Uses another identity for Organizations (`--org-profile`).
    pub fn with_organizations(mut self, config: &aws_config::SdkConfig) -> Self {
        self.organizations = aws_sdk_organizations::Client::new(config);
        self
    }

    /// Calls made so far, per API.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, api: &'static str) {
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(api).or_default() += 1;
        }
    }
}

/// Classifies an SDK error by its code.
fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(api: &'static str, err: E) -> AwsError {
    // Modeled errors carry their code in metadata; when it is missing, the variant name
    // (`AccessDeniedException(...)`) is the code.
    let code = err.code().map(str::to_string).unwrap_or_else(|| {
        let debug = format!("{err:?}");
        debug
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let message = err.message().map(str::to_string).unwrap_or_else(|| {
        if code.is_empty() {
            format!("{err:?}").chars().take(300).collect()
        } else {
            code.clone()
        }
    });
    let kind = match code.as_str() {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedException"
        | "AuthorizationError"
        | "AccessDeniedForDependencyException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken" => ErrorKind::AccessDenied,
        // ECS reports a missing resource as a `ClientException` whose message says so.
        "ClientException"
            if ["does not exist", "not found", "unable to describe"]
                .iter()
                .any(|m| message.to_ascii_lowercase().contains(m)) =>
        {
            ErrorKind::NotFound
        }
        "NoSuchEntity"
        | "NoSuchEntityException"
        | "ResourceNotFoundException"
        | "ClusterNotFoundException"
        | "ServiceNotFoundException" => ErrorKind::NotFound,
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => ErrorKind::Throttled,
        "AWSOrganizationsNotInUseException" => ErrorKind::NotInOrganization,
        _ => ErrorKind::Other,
    };
    AwsError { api, kind, message }
}

macro_rules! call {
    ($self:ident, $api:literal, $fut:expr) => {{
        $self.count($api);
        $fut.await
            .map_err(|e| classify($api, e.into_service_error()))
    }};
}

fn epoch(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.map(|t| t.secs())
}

fn task_definition_json(td: &aws_sdk_ecs::types::TaskDefinition) -> Value {
    let mut o = Map::new();
    fn put(o: &mut Map<String, Value>, k: &str, v: Option<Value>) {
        if let Some(v) = v {
            o.insert(k.to_string(), v);
        }
    }
    put(&mut o, "family", td.family().map(Value::from));
    put(&mut o, "taskRoleArn", td.task_role_arn().map(Value::from));
    put(
        &mut o,
        "executionRoleArn",
        td.execution_role_arn().map(Value::from),
    );
    put(
        &mut o,
        "networkMode",
        td.network_mode().map(|m| m.as_str().into()),
    );
    let containers: Vec<Value> = td
        .container_definitions()
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("name".into(), c.name().unwrap_or_default().into());
            m.insert("image".into(), c.image().unwrap_or_default().into());
            if c.cpu() != 0 {
                m.insert("cpu".into(), c.cpu().into());
            }
            if let Some(v) = c.memory() {
                m.insert("memory".into(), v.into());
            }
            if let Some(v) = c.memory_reservation() {
                m.insert("memoryReservation".into(), v.into());
            }
            if let Some(v) = c.essential() {
                m.insert("essential".into(), v.into());
            }
            if !c.environment().is_empty() {
                let env: Vec<Value> = c
                    .environment()
                    .iter()
                    .map(|kv| json!({"name": kv.name(), "value": kv.value()}))
                    .collect();
                m.insert("environment".into(), env.into());
            }
            if !c.secrets().is_empty() {
                let s: Vec<Value> = c
                    .secrets()
                    .iter()
                    .map(|s| json!({"name": s.name(), "valueFrom": s.value_from()}))
                    .collect();
                m.insert("secrets".into(), s.into());
            }
            Value::Object(m)
        })
        .collect();
    o.insert("containerDefinitions".into(), containers.into());
    let compat: Vec<Value> = td
        .requires_compatibilities()
        .iter()
        .map(|c| c.as_str().into())
        .collect();
    o.insert("requiresCompatibilities".into(), compat.into());
    put(&mut o, "cpu", td.cpu().map(Value::from));
    put(&mut o, "memory", td.memory().map(Value::from));
    if let Some(rp) = td.runtime_platform() {
        let mut m = Map::new();
        if let Some(a) = rp.cpu_architecture() {
            m.insert("cpuArchitecture".into(), a.as_str().into());
        }
        if let Some(f) = rp.operating_system_family() {
            m.insert("operatingSystemFamily".into(), f.as_str().into());
        }
        o.insert("runtimePlatform".into(), Value::Object(m));
    }
    Value::Object(o)
}

fn service_json(s: &aws_sdk_ecs::types::Service) -> (Value, Option<AwsVpc>) {
    let mut o = Map::new();
    o.insert(
        "serviceName".into(),
        s.service_name().unwrap_or_default().into(),
    );
    o.insert("cluster".into(), s.cluster_arn().unwrap_or_default().into());
    o.insert(
        "taskDefinition".into(),
        s.task_definition().unwrap_or_default().into(),
    );
    if let Some(lt) = s.launch_type() {
        o.insert("launchType".into(), lt.as_str().into());
    }
    if !s.capacity_provider_strategy().is_empty() {
        let cps: Vec<Value> = s
            .capacity_provider_strategy()
            .iter()
            .map(|c| json!({"capacityProvider": c.capacity_provider(), "weight": c.weight(), "base": c.base()}))
            .collect();
        o.insert("capacityProviderStrategy".into(), cps.into());
    }
    if let Some(pv) = s.platform_version() {
        o.insert("platformVersion".into(), pv.into());
    }
    if let Some(pf) = s.platform_family() {
        o.insert("platformFamily".into(), pf.into());
    }
    o.insert("desiredCount".into(), s.desired_count().into());
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|a| AwsVpc {
            subnets: a.subnets().to_vec(),
            security_groups: a.security_groups().to_vec(),
            assign_public_ip: a
                .assign_public_ip()
                .is_some_and(|p| p.as_str() == "ENABLED"),
        });
    if let Some(v) = &vpc {
        o.insert(
            "networkConfiguration".into(),
            json!({"awsvpcConfiguration": {"subnets": v.subnets, "securityGroups": v.security_groups,
                "assignPublicIp": if v.assign_public_ip { "ENABLED" } else { "DISABLED" }}}),
        );
    }
    (Value::Object(o), vpc)
}

fn egress_rule(protocol: &str, port: i32, prefix_list: &str) -> aws_sdk_ec2::types::IpPermission {
    aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol(protocol)
        .from_port(port)
        .to_port(port)
        .prefix_list_ids(
            aws_sdk_ec2::types::PrefixListId::builder()
                .prefix_list_id(prefix_list)
                .description("S3 for the GuardDuty agent image")
                .build(),
        )
        .build()
}

/// Collects every page: `page(token)` returns one page's items and the next token.
async fn all_pages<T, F, Fut>(mut page: F) -> AwsResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = AwsResult<(Vec<T>, Option<String>)>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

impl Aws for SdkAws {
    fn region(&self) -> &str {
        &self.region
    }

    async fn caller_identity(&self) -> AwsResult<Identity> {
        let out = call!(
            self,
            "sts:GetCallerIdentity",
            self.sts.get_caller_identity().send()
        )?;
        let arn = out.arn().unwrap_or_default().to_string();
        let partition = arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_string();
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn,
            partition,
        })
    }

    async fn list_clusters(&self) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ecs:ListClusters",
                self.ecs.list_clusters().set_next_token(token).send()
            )?;
            Ok((
                page.cluster_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_clusters(&self, clusters: &[String]) -> AwsResult<Vec<Cluster>> {
        let out = call!(
            self,
            "ecs:DescribeClusters",
            self.ecs
                .describe_clusters()
                .set_clusters(Some(clusters.to_vec()))
                .include(aws_sdk_ecs::types::ClusterField::Tags)
                .send()
        )?;
        Ok(out
            .clusters()
            .iter()
            .map(|c| Cluster {
                arn: c.cluster_arn().unwrap_or_default().to_string(),
                name: c.cluster_name().unwrap_or_default().to_string(),
                tags: c
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            })
            .collect())
    }

    async fn list_services(&self, cluster: &str) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ecs:ListServices",
                self.ecs
                    .list_services()
                    .cluster(cluster)
                    .set_next_token(token)
                    .send()
            )?;
            Ok((
                page.service_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> AwsResult<Vec<Service>> {
        let out = call!(
            self,
            "ecs:DescribeServices",
            self.ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(services.to_vec()))
                .send()
        )?;
        Ok(out
            .services()
            .iter()
            .map(|s| {
                let (json, network) = service_json(s);
                let primary = s
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"));
                Service {
                    arn: s.service_arn().unwrap_or_default().to_string(),
                    name: s.service_name().unwrap_or_default().to_string(),
                    cluster_arn: s.cluster_arn().unwrap_or(cluster).to_string(),
                    task_definition: s.task_definition().unwrap_or_default().to_string(),
                    desired_count: s.desired_count(),
                    json,
                    network,
                    primary_deployment_at: epoch(primary.and_then(|d| d.created_at())),
                }
            })
            .collect())
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        let out = call!(
            self,
            "ecs:DescribeTaskDefinition",
            self.ecs
                .describe_task_definition()
                .task_definition(arn)
                .send()
        )?;
        let td = out.task_definition().ok_or_else(|| AwsError {
            api: "ecs:DescribeTaskDefinition",
            kind: ErrorKind::NotFound,
            message: format!("no task definition `{arn}`"),
        })?;
        Ok(TaskDefinition {
            arn: td.task_definition_arn().unwrap_or(arn).to_string(),
            json: task_definition_json(td),
        })
    }

    async fn list_running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let req = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .service_name(service)
                .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
                .set_next_token(token);
            let page = call!(self, "ecs:ListTasks", req.send())?;
            Ok((
                page.task_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_tasks(&self, cluster: &str, tasks: &[String]) -> AwsResult<Vec<Task>> {
        let out = call!(
            self,
            "ecs:DescribeTasks",
            self.ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(tasks.to_vec()))
                .send()
        )?;
        Ok(out
            .tasks()
            .iter()
            .map(|t| Task {
                arn: t.task_arn().unwrap_or_default().to_string(),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| {
                        (
                            c.name().unwrap_or_default().to_string(),
                            c.image().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                started_at: epoch(t.started_at().or(t.created_at())),
            })
            .collect())
    }

    async fn get_role(&self, name: &str) -> AwsResult<Role> {
        let out = call!(
            self,
            "iam:GetRole",
            self.iam.get_role().role_name(name).send()
        )?;
        let role = out.role().ok_or_else(|| AwsError {
            api: "iam:GetRole",
            kind: ErrorKind::NotFound,
            message: name.to_string(),
        })?;
        Ok(Role {
            arn: role.arn().to_string(),
            name: role.role_name().to_string(),
            boundary_arn: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
        })
    }

    async fn role_policies(&self, name: &str) -> AwsResult<RolePolicies> {
        // IAM pages with `Marker` + `IsTruncated`.
        let next = |truncated: bool, marker: Option<&str>| {
            marker.filter(|_| truncated).map(str::to_string)
        };
        let attached = all_pages(|marker| async move {
            let req = self
                .iam
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker);
            let page = call!(self, "iam:ListAttachedRolePolicies", req.send())?;
            let arns = page
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
                .map(str::to_string)
                .collect();
            Ok((arns, next(page.is_truncated(), page.marker())))
        })
        .await?;
        let names = all_pages(|marker| async move {
            let page = call!(
                self,
                "iam:ListRolePolicies",
                self.iam
                    .list_role_policies()
                    .role_name(name)
                    .set_marker(marker)
                    .send()
            )?;
            Ok((
                page.policy_names().to_vec(),
                next(page.is_truncated(), page.marker()),
            ))
        })
        .await?;
        let mut out = RolePolicies {
            attached,
            inline: Vec::new(),
        };
        for policy in names {
            let doc = call!(
                self,
                "iam:GetRolePolicy",
                self.iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(&policy)
                    .send()
            )?;
            let document = iam::parse_document(doc.policy_document()).ok_or_else(|| AwsError {
                api: "iam:GetRolePolicy",
                kind: ErrorKind::Other,
                message: format!("inline policy `{policy}` is not a readable JSON document"),
            })?;
            out.inline.push(Policy {
                name: format!("inline policy `{policy}`"),
                document,
            });
        }
        Ok(out)
    }

    async fn managed_policy(&self, arn: &str) -> AwsResult<Policy> {
        let p = call!(
            self,
            "iam:GetPolicy",
            self.iam.get_policy().policy_arn(arn).send()
        )?;
        let version = p
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_string();
        let v = call!(
            self,
            "iam:GetPolicyVersion",
            self.iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
        )?;
        let raw = v
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default();
        let document = iam::parse_document(raw).ok_or_else(|| AwsError {
            api: "iam:GetPolicyVersion",
            kind: ErrorKind::Other,
            message: format!("policy `{arn}` is not a readable JSON document"),
        })?;
        Ok(Policy {
            name: format!("`{arn}`"),
            document,
        })
    }

    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        let out = call!(
            self,
            "ec2:DescribeSubnets",
            self.ec2
                .describe_subnets()
                .set_subnet_ids(Some(ids.to_vec()))
                .send()
        )?;
        Ok(out
            .subnets()
            .iter()
            .map(|s| Subnet {
                id: s.subnet_id().unwrap_or_default().into(),
                vpc_id: s.vpc_id().unwrap_or_default().into(),
                availability_zone: s.availability_zone().unwrap_or_default().into(),
            })
            .collect())
    }

    async fn describe_route_tables(&self, vpc_ids: &[String]) -> AwsResult<Vec<RouteTable>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeRouteTables",
                self.ec2
                    .describe_route_tables()
                    .filters(filter("vpc-id", vpc_ids))
                    .set_next_token(token)
                    .send()
            )?;
            let mut out = Vec::new();
            for rt in page.route_tables() {
                let assoc = rt.associations();
                out.push(RouteTable {
                    id: rt.route_table_id().unwrap_or_default().into(),
                    vpc_id: rt.vpc_id().unwrap_or_default().into(),
                    main: assoc.iter().any(|a| a.main() == Some(true)),
                    subnet_ids: assoc
                        .iter()
                        .filter_map(|a| a.subnet_id())
                        .map(str::to_string)
                        .collect(),
                    routes: rt
                        .routes()
                        .iter()
                        .map(|r| Route {
                            destination: r
                                .destination_cidr_block()
                                .or(r.destination_prefix_list_id())
                                .or(r.destination_ipv6_cidr_block())
                                .unwrap_or_default()
                                .into(),
                            target: r
                                .gateway_id()
                                .or(r.nat_gateway_id())
                                .or(r.transit_gateway_id())
                                .or(r.network_interface_id())
                                .or(r.vpc_peering_connection_id())
                                .or(r.instance_id())
                                .unwrap_or_default()
                                .into(),
                            active: r.state().is_none_or(|s| s.as_str() != "blackhole"),
                        })
                        .collect(),
                });
            }
            Ok((out, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_vpc_endpoints(&self, vpc_ids: &[String]) -> AwsResult<Vec<VpcEndpoint>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeVpcEndpoints",
                self.ec2
                    .describe_vpc_endpoints()
                    .filters(filter("vpc-id", vpc_ids))
                    .set_next_token(token)
                    .send()
            )?;
            let mut out = Vec::new();
            for e in page.vpc_endpoints() {
                // moto reports `available`, which this SDK version parses as Unknown: only
                // states known to be unusable are excluded.
                let state = e
                    .state()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default();
                out.push(VpcEndpoint {
                    id: e.vpc_endpoint_id().unwrap_or_default().into(),
                    vpc_id: e.vpc_id().unwrap_or_default().into(),
                    service_name: e.service_name().unwrap_or_default().into(),
                    kind: e
                        .vpc_endpoint_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    private_dns: e.private_dns_enabled().unwrap_or(false),
                    route_table_ids: e.route_table_ids().to_vec(),
                    subnet_ids: e.subnet_ids().to_vec(),
                    security_group_ids: e
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id())
                        .map(str::to_string)
                        .collect(),
                    usable: !matches!(
                        state.as_str(),
                        "deleted" | "deleting" | "failed" | "rejected" | "expired"
                    ),
                });
            }
            Ok((out, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_vpcs(&self, ids: &[String]) -> AwsResult<Vec<Vpc>> {
        let out = call!(
            self,
            "ec2:DescribeVpcs",
            self.ec2
                .describe_vpcs()
                .set_vpc_ids(Some(ids.to_vec()))
                .send()
        )?;
        let mut vpcs = Vec::new();
        for v in out.vpcs() {
            let id = v.vpc_id().unwrap_or_default().to_string();
            let attr = |a: aws_sdk_ec2::types::VpcAttributeName| {
                self.ec2
                    .describe_vpc_attribute()
                    .vpc_id(&id)
                    .attribute(a)
                    .send()
            };
            let support = call!(
                self,
                "ec2:DescribeVpcAttribute",
                attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
            )?;
            let hostnames = call!(
                self,
                "ec2:DescribeVpcAttribute",
                attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            )?;
            vpcs.push(Vpc {
                cidr: v.cidr_block().unwrap_or_default().into(),
                dns_support: support
                    .enable_dns_support()
                    .and_then(|a| a.value())
                    .unwrap_or(false),
                dns_hostnames: hostnames
                    .enable_dns_hostnames()
                    .and_then(|a| a.value())
                    .unwrap_or(false),
                id,
            });
        }
        Ok(vpcs)
    }

    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        let out = call!(
            self,
            "ec2:DescribeSecurityGroups",
            self.ec2
                .describe_security_groups()
                .set_group_ids(Some(ids.to_vec()))
                .send()
        )?;
        Ok(out
            .security_groups()
            .iter()
            .map(|g| SecurityGroup {
                id: g.group_id().unwrap_or_default().into(),
                vpc_id: g.vpc_id().unwrap_or_default().into(),
                egress: g
                    .ip_permissions_egress()
                    .iter()
                    .map(|p| SgRule {
                        protocol: p.ip_protocol().unwrap_or("-1").into(),
                        from_port: p.from_port().unwrap_or(-1),
                        to_port: p.to_port().unwrap_or(-1),
                        cidrs: p
                            .ip_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ip())
                            .map(str::to_string)
                            .collect(),
                        prefix_lists: p
                            .prefix_list_ids()
                            .iter()
                            .filter_map(|r| r.prefix_list_id())
                            .map(str::to_string)
                            .collect(),
                        groups: p
                            .user_id_group_pairs()
                            .iter()
                            .filter_map(|r| r.group_id())
                            .map(str::to_string)
                            .collect(),
                    })
                    .collect(),
            })
            .collect())
    }

    async fn s3_prefix_list(&self) -> AwsResult<Option<String>> {
        let name = format!("com.amazonaws.{}.s3", self.region);
        let out = call!(
            self,
            "ec2:DescribeManagedPrefixLists",
            self.ec2
                .describe_managed_prefix_lists()
                .filters(filter("prefix-list-name", &[name]))
                .send()
        )?;
        Ok(out
            .prefix_lists()
            .first()
            .and_then(|p| p.prefix_list_id())
            .map(str::to_string))
    }

    async fn detector(&self) -> AwsResult<Option<Detector>> {
        let list = call!(
            self,
            "guardduty:ListDetectors",
            self.guardduty.list_detectors().send()
        )?;
        let Some(id) = list.detector_ids().first().cloned() else {
            return Ok(None);
        };
        let d = call!(
            self,
            "guardduty:GetDetector",
            self.guardduty.get_detector().detector_id(&id).send()
        )?;
        let mut runtime = false;
        let mut agent = false;
        for f in d.features() {
            let enabled = f.status().is_some_and(|s| s.as_str() == "ENABLED");
            let name = f.name().map(|n| n.as_str()).unwrap_or_default();
            if name == "RUNTIME_MONITORING" {
                runtime = enabled;
                agent = enabled
                    && f.additional_configuration().iter().any(|c| {
                        c.name()
                            .is_some_and(|n| n.as_str() == "ECS_FARGATE_AGENT_MANAGEMENT")
                            && c.status().is_some_and(|s| s.as_str() == "ENABLED")
                    });
            }
        }
        Ok(Some(Detector {
            id,
            runtime_monitoring: runtime,
            ecs_fargate_agent_management: agent,
        }))
    }

    async fn organization(&self) -> AwsResult<Organization> {
        let out = call!(
            self,
            "organizations:DescribeOrganization",
            self.organizations.describe_organization().send()
        )?;
        let org = out.organization();
        Ok(Organization {
            id: org.and_then(|o| o.id()).unwrap_or_default().into(),
            management_account: org
                .and_then(|o| o.master_account_id())
                .unwrap_or_default()
                .into(),
        })
    }

    async fn scp_path(&self, account: &str) -> AwsResult<Vec<ScpLevel>> {
        let mut targets = vec![account.to_string()];
        let mut current = account.to_string();
        // Walk up: account -> OU ... -> root (bounded: OUs nest at most 5 deep).
        for _ in 0..8 {
            let parents = call!(
                self,
                "organizations:ListParents",
                self.organizations.list_parents().child_id(&current).send()
            )?;
            let Some(parent) = parents.parents().first() else {
                break;
            };
            let id = parent.id().unwrap_or_default().to_string();
            targets.push(id.clone());
            if parent.r#type().is_some_and(|t| t.as_str() == "ROOT") {
                break;
            }
            current = id;
        }
        let mut levels = Vec::new();
        for target in targets {
            let target_ref = &target;
            let policies = all_pages(|token| async move {
                let req = self
                    .organizations
                    .list_policies_for_target()
                    .target_id(target_ref)
                    .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                    .set_next_token(token);
                let page = call!(self, "organizations:ListPoliciesForTarget", req.send())?;
                let mut policies = Vec::new();
                for summary in page.policies() {
                    let id = summary.id().unwrap_or_default();
                    let p = call!(
                        self,
                        "organizations:DescribePolicy",
                        self.organizations.describe_policy().policy_id(id).send()
                    )?;
                    let content = p.policy().and_then(|p| p.content()).unwrap_or_default();
                    let name = summary.name().unwrap_or(id);
                    let document = iam::parse_document(content).unwrap_or(Value::Null);
                    policies.push(Policy {
                        name: format!("SCP `{name}` ({id})"),
                        document,
                    });
                }
                Ok((policies, page.next_token().map(str::to_string)))
            })
            .await?;
            levels.push(ScpLevel { target, policies });
        }
        Ok(levels)
    }

    async fn create_role(&self, name: &str, trust: &Value) -> AwsResult<()> {
        call!(
            self,
            "iam:CreateRole",
            self.iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust.to_string())
                .send()
        )?;
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DeleteRole",
            self.iam.delete_role().role_name(name).send()
        )?;
        Ok(())
    }

    async fn attach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:AttachRolePolicy",
            self.iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        )?;
        Ok(())
    }

    async fn detach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DetachRolePolicy",
            self.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        )?;
        Ok(())
    }

    async fn inline_policy(&self, role: &str, name: &str) -> AwsResult<Option<Value>> {
        match call!(
            self,
            "iam:GetRolePolicy",
            self.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
        ) {
            Ok(out) => Ok(iam::parse_document(out.policy_document())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_role_policy(&self, role: &str, name: &str, document: &Value) -> AwsResult<()> {
        call!(
            self,
            "iam:PutRolePolicy",
            self.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(document.to_string())
                .send()
        )?;
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DeleteRolePolicy",
            self.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
        )?;
        Ok(())
    }

    async fn create_https_security_group(
        &self,
        vpc: &str,
        name: &str,
        description: &str,
        cidr: &str,
    ) -> AwsResult<String> {
        let out = call!(
            self,
            "ec2:CreateSecurityGroup",
            self.ec2
                .create_security_group()
                .vpc_id(vpc)
                .group_name(name)
                .description(description)
                .send()
        )?;
        let id = out.group_id().unwrap_or_default().to_string();
        let rule = aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(
                aws_sdk_ec2::types::IpRange::builder()
                    .cidr_ip(cidr)
                    .description("HTTPS to ECR endpoints")
                    .build(),
            )
            .build();
        call!(
            self,
            "ec2:AuthorizeSecurityGroupIngress",
            self.ec2
                .authorize_security_group_ingress()
                .group_id(&id)
                .ip_permissions(rule)
                .send()
        )?;
        Ok(id)
    }

    async fn delete_security_group(&self, id: &str) -> AwsResult<()> {
        call!(
            self,
            "ec2:DeleteSecurityGroup",
            self.ec2.delete_security_group().group_id(id).send()
        )?;
        Ok(())
    }

    async fn create_vpc_endpoint(&self, spec: &EndpointSpec) -> AwsResult<String> {
        let kind = if spec.interface {
            aws_sdk_ec2::types::VpcEndpointType::Interface
        } else {
            aws_sdk_ec2::types::VpcEndpointType::Gateway
        };
        let mut req = self
            .ec2
            .create_vpc_endpoint()
            .vpc_id(&spec.vpc_id)
            .service_name(&spec.service_name)
            .vpc_endpoint_type(kind);
        if spec.interface {
            req = req
                .set_subnet_ids(Some(spec.subnet_ids.clone()))
                .set_security_group_ids(Some(spec.security_group_ids.clone()))
                .private_dns_enabled(spec.private_dns);
        } else {
            req = req.set_route_table_ids(Some(spec.route_table_ids.clone()));
        }
        let out = call!(self, "ec2:CreateVpcEndpoint", req.send())?;
        Ok(out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .unwrap_or_default()
            .to_string())
    }

    async fn delete_vpc_endpoint(&self, id: &str) -> AwsResult<()> {
        call!(
            self,
            "ec2:DeleteVpcEndpoints",
            self.ec2.delete_vpc_endpoints().vpc_endpoint_ids(id).send()
        )?;
        Ok(())
    }

    async fn modify_vpc_attribute(&self, vpc: &str, attribute: &str, value: bool) -> AwsResult<()> {
        let v = aws_sdk_ec2::types::AttributeBooleanValue::builder()
            .value(value)
            .build();
        let req = self.ec2.modify_vpc_attribute().vpc_id(vpc);
        let req = if attribute == "enableDnsSupport" {
            req.enable_dns_support(v)
        } else {
            req.enable_dns_hostnames(v)
        };
        call!(self, "ec2:ModifyVpcAttribute", req.send())?;
        Ok(())
    }

    async fn authorize_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()> {
        call!(
            self,
            "ec2:AuthorizeSecurityGroupEgress",
            self.ec2
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(egress_rule(protocol, port, prefix_list))
                .send()
        )?;
        Ok(())
    }

    async fn revoke_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()> {
        call!(
            self,
            "ec2:RevokeSecurityGroupEgress",
            self.ec2
                .revoke_security_group_egress()
                .group_id(group)
                .ip_permissions(egress_rule(protocol, port, prefix_list))
                .send()
        )?;
        Ok(())
    }

    async fn register_revision(
        &self,
        from: &str,
        changes: &[(String, Value)],
    ) -> AwsResult<String> {
        let out = call!(
            self,
            "ecs:DescribeTaskDefinition",
            self.ecs
                .describe_task_definition()
                .task_definition(from)
                .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                .send()
        )?;
        let Some(td) = out.task_definition() else {
            return Err(AwsError {
                api: "ecs:DescribeTaskDefinition",
                kind: ErrorKind::NotFound,
                message: from.to_string(),
            });
        };
        // Every field RegisterTaskDefinition takes, copied as it is, then the planned changes.
        let mut req = self
            .ecs
            .register_task_definition()
            .set_family(td.family().map(str::to_string))
            .set_task_role_arn(td.task_role_arn().map(str::to_string))
            .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
            .set_network_mode(td.network_mode().cloned())
            .set_container_definitions(Some(td.container_definitions().to_vec()))
            .set_volumes(Some(td.volumes().to_vec()))
            .set_placement_constraints(Some(td.placement_constraints().to_vec()))
            .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()))
            .set_cpu(td.cpu().map(str::to_string))
            .set_memory(td.memory().map(str::to_string))
            .set_pid_mode(td.pid_mode().cloned())
            .set_ipc_mode(td.ipc_mode().cloned())
            .set_proxy_configuration(td.proxy_configuration().cloned())
            .set_ephemeral_storage(td.ephemeral_storage().cloned())
            .set_runtime_platform(td.runtime_platform().cloned())
            .set_enable_fault_injection(td.enable_fault_injection());
        if !out.tags().is_empty() {
            req = req.set_tags(Some(out.tags().to_vec()));
        }
        for (field, value) in changes {
            let v = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            req = match field.as_str() {
                "cpu" => req.cpu(v),
                "memory" => req.memory(v),
                "executionRoleArn" => req.execution_role_arn(v),
                other => {
                    return Err(AwsError {
                        api: "ecs:RegisterTaskDefinition",
                        kind: ErrorKind::Other,
                        message: format!(
                            "the field `{other}` cannot be changed on a live task definition"
                        ),
                    });
                }
            };
        }
        let out = call!(self, "ecs:RegisterTaskDefinition", req.send())?;
        Ok(out
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .unwrap_or_default()
            .to_string())
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "ecs:DeregisterTaskDefinition",
            self.ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
        )?;
        Ok(())
    }

    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
        platform_version: Option<&str>,
        force: bool,
    ) -> AwsResult<()> {
        let mut req = self
            .ecs
            .update_service()
            .cluster(cluster)
            .service(service)
            .force_new_deployment(force);
        if let Some(td) = task_definition {
            req = req.task_definition(td);
        }
        if let Some(pv) = platform_version {
            req = req.platform_version(pv);
        }
        call!(self, "ecs:UpdateService", req.send())?;
        Ok(())
    }
}
