//! The values the `aws` traits speak in: our words for what AWS returns, with no SDK type.

use crate::policy::Policy;
use serde::{Deserialize, Serialize};
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
    /// Another resource still depends on it (EC2 `DependencyViolation`): an endpoint being
    /// deleted still holds its security group.
    InUse,
    Other,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Throttled => "throttled (retries exhausted)",
            ErrorKind::NotInOrganization => "not in an organization",
            ErrorKind::InUse => "in use",
            ErrorKind::Other => "failed",
        };
        if self.message.is_empty() {
            write!(f, "`{}`: {what}", self.api)
        } else {
            write!(f, "`{}`: {what}: {}", self.api, self.message)
        }
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AwsVpc {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub task_definition: String,
    pub desired_count: i32,
    /// The service as `DescribeServices` returned it (every field): what the document checks
    /// read and the fingerprint covers.
    pub json: Value,
    pub network: Option<AwsVpc>,
    /// When the newest (primary) deployment started, seconds since the epoch.
    pub primary_deployment_at: Option<i64>,
}

/// Fields of `DescribeTaskDefinition` output that `RegisterTaskDefinition` rejects.
pub const READ_ONLY_TASK_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// A task definition as `DescribeTaskDefinition` returned it: `{"taskDefinition": {...},
/// "tags": [...]}`, every field kept, so it is planned like a file of that shape and registered
/// from the patched document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub arn: String,
    pub document: Value,
}

impl TaskDefinition {
    /// The `taskDefinition` object of the document.
    pub fn definition(&self) -> &Value {
        &self.document["taskDefinition"]
    }

    /// A top-level string field of the task definition (`family`, `executionRoleArn`, ...).
    pub fn field(&self, key: &str) -> Option<&str> {
        self.definition().get(key).and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub arn: String,
    /// Container names and images, to recognise the GuardDuty sidecar.
    pub containers: Vec<(String, String)>,
    pub started_at: Option<i64>,
    /// How each container is doing, by name (`DescribeTasks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<ContainerState>,
}

/// A container's state in a running task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub name: String,
    /// `PENDING`, `RUNNING`, `STOPPED`, ...
    pub last_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it stopped (`CannotPullContainerError: ...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub boundary_arn: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RolePolicies {
    pub attached: Vec<String>,
    pub inline: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    /// The subnet's IPv4 CIDR.
    #[serde(default)]
    pub cidr: String,
    /// The account that owns the subnet (another one for a shared VPC); empty when not known.
    #[serde(default)]
    pub owner_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// `0.0.0.0/0`, a CIDR, or a prefix list id.
    pub destination: String,
    /// `igw-…`, `nat-…`, `tgw-…`, `local`, `vpce-…`, …
    pub target: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub main: bool,
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The endpoint policy, `None` when the endpoint has none (it then allows everything);
    /// `null` when it does not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// A NAT gateway: only a public one (`connectivity` `public`) leads to the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub id: String,
    pub vpc_id: String,
    /// The subnet it sits in: its own route table decides whether it reaches the internet.
    #[serde(default)]
    pub subnet_id: String,
    /// `public` or `private`.
    pub connectivity: String,
    /// `available`, `pending`, `failed`, `deleting`, `deleted`.
    pub state: String,
}

/// A network ACL and the subnets it is associated with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: String,
    /// The VPC's default ACL (subnets without an explicit association use it).
    pub default: bool,
    pub subnet_ids: Vec<String>,
    pub entries: Vec<AclEntry>,
}

/// One IPv4 rule of a network ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all), `6` (TCP), `17` (UDP), ...
    pub protocol: String,
    /// Inclusive; `None` for all ports.
    pub ports: Option<(i32, i32)>,
    pub cidr: String,
    pub allow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    /// The primary IPv4 CIDR.
    pub cidr: String,
    /// The other IPv4 CIDRs associated with the VPC (subnets may be in any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_cidrs: Vec<String>,
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SgRule {
    /// `-1` for all protocols, else `tcp`, `udp`, ...
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidrs: Vec<String>,
    pub prefix_lists: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    #[serde(default)]
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detector {
    pub id: String,
    pub runtime_monitoring: bool,
    pub ecs_fargate_agent_management: bool,
}

/// One ECS cluster's Runtime Monitoring coverage as GuardDuty reports it (`ListCoverage`,
/// resource type `ECS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The account the cluster is in (a delegated administrator sees its members').
    pub account: String,
    /// The cluster's name (`ecsClusterDetails.clusterName`).
    pub cluster: String,
    /// `HEALTHY` or `UNHEALTHY`.
    pub status: String,
    /// The record's own `issue` (why it is unhealthy, in a word).
    pub issue: Option<String>,
    /// `updatedAt`, RFC 3339: moves only when a task starts or the status changes.
    pub updated_at: Option<String>,
    /// `fargateDetails.managementType`: `AUTO_MANAGED`, `MANUAL` or `DISABLED`.
    pub management_type: Option<String>,
    /// `fargateDetails.issues[]`, as GuardDuty wrote them.
    pub fargate_issues: Vec<String>,
    /// EC2 container instances `(covered, compatible)`, when GuardDuty gives them.
    pub container_instances: Option<(i64, i64)>,
}

/// A member account of the organization (`ListAccounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
}

/// The SCPs attached at one level of an account's path (the account, an OU, the root).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScpLevel {
    pub target: String,
    pub policies: Vec<Policy>,
}

impl SgRule {
    /// The rule covers TCP 443 (all protocols, or TCP over a range holding 443).
    pub fn allows_https(&self) -> bool {
        self.protocol == "-1"
            || (self.protocol == "tcp" && self.from_port <= 443 && self.to_port >= 443)
    }
}

impl Vpc {
    /// Every IPv4 CIDR of the VPC, the primary first.
    pub fn cidrs(&self) -> Vec<String> {
        std::iter::once(self.cidr.clone())
            .chain(self.secondary_cidrs.iter().cloned())
            .collect()
    }
}

/// What `CreateVpcEndpoint` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSpec {
    pub vpc_id: String,
    pub service_name: String,
    pub interface: bool,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub private_dns: bool,
    pub tags: Tags,
}

/// Resource tags by key.
pub type Tags = std::collections::BTreeMap<String, String>;
