//! AWS behind narrow traits, one per service, in our own words. `sdk/` is the only place that
//! names SDK types; `fake` is a stateful in-memory account behind the same traits.

pub mod fake;
pub mod sdk;
pub mod types;

pub use types::*;

use crate::policy::Policy;
use serde_json::Value;
use std::collections::BTreeMap;

/// STS: who is calling, and in which region this handle works.
#[allow(async_fn_in_trait)]
pub trait Sts {
    fn region(&self) -> &str;
    async fn caller_identity(&self) -> AwsResult<Identity>;
}

/// ECS: clusters, services, task definitions, tasks.
#[allow(async_fn_in_trait)]
pub trait Ecs {
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
    /// The whole `DescribeTaskDefinition` output (with tags).
    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition>;
    async fn list_running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<String>>;
    /// At most 100 tasks of one cluster.
    async fn describe_tasks(&self, cluster: &str, tasks: &[String]) -> AwsResult<Vec<Task>>;
    /// Registers `input` (`RegisterTaskDefinition` input JSON, every field as given); returns
    /// the new revision's ARN.
    async fn register_task_definition(&self, input: &Value) -> AwsResult<String>;
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

/// IAM: roles and their policies.
#[allow(async_fn_in_trait)]
pub trait Iam {
    async fn get_role(&self, name: &str) -> AwsResult<Role>;
    /// The role's attached managed policy ARNs and its inline policies (documents decoded).
    async fn role_policies(&self, name: &str) -> AwsResult<RolePolicies>;
    /// A managed policy's default version, decoded.
    async fn managed_policy(&self, arn: &str) -> AwsResult<Policy>;
    /// Creates a role with `tags` (the tags say which apply run created it).
    async fn create_role(&self, name: &str, trust: &Value, tags: &Tags) -> AwsResult<()>;
    async fn delete_role(&self, name: &str) -> AwsResult<()>;
    async fn attach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()>;
    async fn detach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()>;
    /// An inline policy's document, `None` when the role has no policy of that name.
    async fn inline_policy(&self, role: &str, name: &str) -> AwsResult<Option<Value>>;
    async fn put_role_policy(&self, role: &str, name: &str, document: &Value) -> AwsResult<()>;
    async fn delete_role_policy(&self, role: &str, name: &str) -> AwsResult<()>;
}

/// EC2: the network around the tasks.
#[allow(async_fn_in_trait)]
pub trait Ec2 {
    /// Every subnet of the region (the tasks' and the endpoints' in one read).
    async fn describe_subnets(&self) -> AwsResult<Vec<Subnet>>;
    async fn describe_nat_gateways(&self, vpc_ids: &[String]) -> AwsResult<Vec<NatGateway>>;
    async fn describe_network_acls(&self, vpc_ids: &[String]) -> AwsResult<Vec<NetworkAcl>>;
    async fn describe_route_tables(&self, vpc_ids: &[String]) -> AwsResult<Vec<RouteTable>>;
    async fn describe_vpc_endpoints(&self, vpc_ids: &[String]) -> AwsResult<Vec<VpcEndpoint>>;
    /// VPCs with their DNS attributes.
    async fn describe_vpcs(&self, ids: &[String]) -> AwsResult<Vec<Vpc>>;
    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>>;
    /// The id of the region's S3 managed prefix list (`com.amazonaws.REGION.s3`).
    async fn s3_prefix_list(&self) -> AwsResult<Option<String>>;
    /// Creates a security group (no ingress, all egress, as AWS makes it) with `tags`; returns
    /// its id.
    async fn create_security_group(
        &self,
        vpc: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<String>;
    /// The ids of the VPC's security groups that carry the tag `key` = `value`.
    async fn security_groups_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<String>>;
    /// The VPC's endpoints (in any state but deleted) that carry the tag `key` = `value`.
    async fn vpc_endpoints_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<VpcEndpoint>>;
    /// Allows TCP 443 in from each of `cidrs`.
    async fn authorize_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()>;
    async fn revoke_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()>;
    async fn delete_security_group(&self, id: &str) -> AwsResult<()>;
    async fn create_vpc_endpoint(&self, spec: &EndpointSpec) -> AwsResult<String>;
    async fn delete_vpc_endpoint(&self, id: &str) -> AwsResult<()>;
    /// Adds and removes route tables (gateway endpoints) and sets private DNS (interface
    /// endpoints) on an existing endpoint.
    async fn modify_vpc_endpoint(
        &self,
        id: &str,
        add_route_tables: &[String],
        remove_route_tables: &[String],
        private_dns: Option<bool>,
    ) -> AwsResult<()>;
    async fn modify_vpc_attribute(&self, vpc: &str, attribute: &str, value: bool) -> AwsResult<()>;
    /// Allows `protocol`/`port` out to `destination`: a prefix list id (`pl-…`) or an IPv4
    /// CIDR.
    async fn authorize_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        destination: &str,
    ) -> AwsResult<()>;
    async fn revoke_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        destination: &str,
    ) -> AwsResult<()>;
}

/// GuardDuty: the region's detector and its Runtime Monitoring features.
#[allow(async_fn_in_trait)]
pub trait GuardDuty {
    async fn detector(&self) -> AwsResult<Option<Detector>>;
    /// `ListCoverage` filtered to resource type `ECS` and `account`: every ECS cluster record
    /// of the account the detector sees (every page; a delegated administrator sees its
    /// members'). An empty `account`: every account's.
    async fn ecs_coverage(&self, detector: &str, account: &str) -> AwsResult<Vec<Coverage>>;
    /// `GetCoverageStatistics` (`COUNT_BY_COVERAGE_STATUS`, resource type `ECS`, `account`):
    /// clusters by coverage status.
    async fn ecs_coverage_counts(
        &self,
        detector: &str,
        account: &str,
    ) -> AwsResult<BTreeMap<String, i64>>;
}

/// Organizations: the organization and the SCPs on an account's path.
#[allow(async_fn_in_trait)]
pub trait Organizations {
    async fn organization(&self) -> AwsResult<Organization>;
    /// The SCPs on the path from `account` to the root, account first; none when the
    /// organization has SCPs disabled. A policy that does not parse has a `null` document.
    async fn scp_path(&self, account: &str) -> AwsResult<Vec<ScpLevel>>;
    /// The organization's accounts (`ListAccounts`, every page): id, name and status.
    async fn accounts(&self) -> AwsResult<Vec<OrgAccount>>;
}

/// Everything fargate-rtm reads from and changes in an AWS account, one region at a time.
pub trait Aws: Sts + Ecs + Iam + Ec2 + GuardDuty + Organizations {}

impl<T: Sts + Ecs + Iam + Ec2 + GuardDuty + Organizations> Aws for T {}
