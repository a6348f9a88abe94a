//! AWS behind a narrow trait, in our own words. `sdk.rs` is the only file that names SDK types.

pub mod sdk;

use crate::iam::Policy;
use serde_json::Value;
use std::fmt;

/// An AWS call that failed, classified by what the caller does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub api: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    AccessDenied,
    NotFound,
    Throttled,
    /// The account is not in an organization (Organizations).
    NotInOrganization,
    Other,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Throttled => "throttled (retries exhausted)",
            ErrorKind::NotInOrganization => "not in an organization",
            ErrorKind::Other => "failed",
        };
        if self.message.is_empty() {
            write!(f, "`{}`: {what}", self.api)
        } else {
            write!(f, "`{}`: {what}: {}", self.api, self.message)
        }
    }
}

pub type AwsResult<T> = Result<T, AwsError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    pub tags: Vec<(String, String)>,
}

impl Cluster {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsVpc {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub task_definition: String,
    pub desired_count: i32,
    /// The service as `UpdateService`-shaped JSON (what the file-mode checks read and the
    /// fingerprint covers): `serviceName`, `cluster`, `taskDefinition`, `launchType`,
    /// `capacityProviderStrategy`, `platformVersion`, `platformFamily`, `networkConfiguration`.
    pub json: Value,
    pub network: Option<AwsVpc>,
    /// When the newest (primary) deployment started, seconds since the epoch.
    pub primary_deployment_at: Option<i64>,
}

/// A task definition as `RegisterTaskDefinition`-shaped JSON plus its ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefinition {
    pub arn: String,
    pub json: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub arn: String,
    /// Container images and names, to recognise the GuardDuty sidecar.
    pub containers: Vec<(String, String)>,
    pub started_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub boundary_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolePolicies {
    pub attached: Vec<String>,
    pub inline: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `0.0.0.0/0`, a CIDR, or a prefix list id.
    pub destination: String,
    /// `igw-…`, `nat-…`, `tgw-…`, `local`, `vpce-…`, …
    pub target: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub main: bool,
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcEndpoint {
    pub id: String,
    pub vpc_id: String,
    pub service_name: String,
    /// `Interface` or `Gateway`.
    pub kind: String,
    pub private_dns: bool,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// Deleted, failed or rejected endpoints do not count.
    pub usable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub cidr: String,
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgRule {
    /// `-1` for all protocols, else `tcp`, `udp`, ...
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidrs: Vec<String>,
    pub prefix_lists: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detector {
    pub id: String,
    pub runtime_monitoring: bool,
    pub ecs_fargate_agent_management: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
}

/// The SCPs attached at one level of an account's path (the account, an OU, the root).
#[derive(Debug, Clone, PartialEq)]
pub struct ScpLevel {
    pub target: String,
    pub policies: Vec<Policy>,
}

/// Everything fargate-rtm reads from an AWS account, one region at a time.
#[allow(async_fn_in_trait)]
pub trait Aws {
    fn region(&self) -> &str;
    async fn caller_identity(&self) -> AwsResult<Identity>;
    async fn list_clusters(&self) -> AwsResult<Vec<String>>;
    /// At most 100 ARNs or names, with tags.
    async fn describe_clusters(&self, clusters: &[String]) -> AwsResult<Vec<Cluster>>;
    async fn list_services(&self, cluster: &str) -> AwsResult<Vec<String>>;
    /// At most 10 services of one cluster.
    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> AwsResult<Vec<Service>>;
    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition>;
    async fn list_running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<String>>;
    /// At most 100 tasks of one cluster.
    async fn describe_tasks(&self, cluster: &str, tasks: &[String]) -> AwsResult<Vec<Task>>;
    async fn get_role(&self, name: &str) -> AwsResult<Role>;
    /// The role's attached managed policy ARNs and its inline policies (documents decoded).
    async fn role_policies(&self, name: &str) -> AwsResult<RolePolicies>;
    /// A managed policy's default version, decoded.
    async fn managed_policy(&self, arn: &str) -> AwsResult<Policy>;
    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>>;
    async fn describe_route_tables(&self, vpc_ids: &[String]) -> AwsResult<Vec<RouteTable>>;
    async fn describe_vpc_endpoints(&self, vpc_ids: &[String]) -> AwsResult<Vec<VpcEndpoint>>;
    /// VPCs with their DNS attributes.
    async fn describe_vpcs(&self, ids: &[String]) -> AwsResult<Vec<Vpc>>;
    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>>;
    /// The id of the region's S3 managed prefix list (`com.amazonaws.REGION.s3`).
    async fn s3_prefix_list(&self) -> AwsResult<Option<String>>;
    /// The region's GuardDuty detector, if any.
    async fn detector(&self) -> AwsResult<Option<Detector>>;
    async fn organization(&self) -> AwsResult<Organization>;
    /// The SCPs on the path from `account` to the root, account first.
    async fn scp_path(&self, account: &str) -> AwsResult<Vec<ScpLevel>>;

    // Changes (`apply --live`, `rollback`).
    async fn create_role(&self, name: &str, trust: &Value) -> AwsResult<()>;
    async fn delete_role(&self, name: &str) -> AwsResult<()>;
    async fn attach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()>;
    async fn detach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()>;
    /// An inline policy's document, `None` when the role has no policy of that name.
    async fn inline_policy(&self, role: &str, name: &str) -> AwsResult<Option<Value>>;
    async fn put_role_policy(&self, role: &str, name: &str, document: &Value) -> AwsResult<()>;
    async fn delete_role_policy(&self, role: &str, name: &str) -> AwsResult<()>;
    /// Creates a group that allows TCP 443 in from `cidr`; returns its id.
    async fn create_https_security_group(
        &self,
        vpc: &str,
        name: &str,
        description: &str,
        cidr: &str,
    ) -> AwsResult<String>;
    async fn delete_security_group(&self, id: &str) -> AwsResult<()>;
    async fn create_vpc_endpoint(&self, spec: &EndpointSpec) -> AwsResult<String>;
    async fn delete_vpc_endpoint(&self, id: &str) -> AwsResult<()>;
    async fn modify_vpc_attribute(&self, vpc: &str, attribute: &str, value: bool) -> AwsResult<()>;
    async fn authorize_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()>;
    async fn revoke_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()>;
    /// Registers a new revision copied from `from` with top-level fields replaced; returns its ARN.
    async fn register_revision(&self, from: &str, changes: &[(String, Value)])
    -> AwsResult<String>;
    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()>;
    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
        platform_version: Option<&str>,
        force: bool,
    ) -> AwsResult<()>;
}

/// What `CreateVpcEndpoint` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    pub vpc_id: String,
    pub service_name: String,
    pub interface: bool,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub private_dns: bool,
}
