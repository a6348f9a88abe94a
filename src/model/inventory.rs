//! An account region read into values: what the account checks read and the account planner
//! plans. Built by `input::account::scan` through the `aws` traits; built by hand in tests.

use crate::aws::{
    AwsError, AwsResult, Cluster, Coverage, Detector, Identity, NatGateway, NetworkAcl, Role,
    RouteTable, ScpLevel, SecurityGroup, Service, Subnet, Task, TaskDefinition, Vpc, VpcEndpoint,
};
use crate::policy::Policy;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum RoleView {
    /// The role named by `executionRoleArn` does not exist.
    Missing,
    Unreadable(AwsError),
    Found {
        role: Box<Role>,
        /// What `apply` compares before changing the role.
        fingerprint: String,
        /// Identity policies (managed and inline), or why they could not be read.
        policies: AwsResult<Vec<Policy>>,
        /// The permissions boundary, if the role has one.
        boundary: Option<AwsResult<Policy>>,
    },
}

#[derive(Debug, Clone)]
pub enum ScpView {
    /// The account is the organization's management account: SCPs do not apply.
    Management,
    /// Not in an organization: there are no SCPs.
    NoOrganization,
    Levels(Vec<ScpLevel>),
    NotChecked(String),
}

/// The network around the Fargate services of a region.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Every subnet of the region's VPCs that run the services.
    pub subnets: Vec<Subnet>,
    pub nat_gateways: Vec<NatGateway>,
    pub network_acls: Vec<NetworkAcl>,
    pub route_tables: Vec<RouteTable>,
    pub endpoints: Vec<VpcEndpoint>,
    pub vpcs: Vec<Vpc>,
    pub security_groups: Vec<SecurityGroup>,
    pub s3_prefix_list: Option<String>,
}

/// GuardDuty's coverage of the region's ECS clusters, as read.
#[derive(Debug, Clone, Default)]
pub enum CoverageRead {
    /// Not read, and why (Runtime Monitoring off, no detector, the detector unreadable).
    #[default]
    NotRead,
    /// `ListCoverage` failed (no `guardduty:ListCoverage` permission, ...).
    Unreadable(AwsError),
    /// The records of the scanned clusters, and the region's counts by status.
    Read {
        records: Vec<Coverage>,
        counts: AwsResult<BTreeMap<String, i64>>,
    },
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub region: String,
    pub identity: Identity,
    pub clusters: Vec<Cluster>,
    /// Every service in scope, Fargate or not.
    pub services: Vec<Service>,
    pub task_defs: BTreeMap<String, AwsResult<TaskDefinition>>,
    /// By role name.
    pub roles: BTreeMap<String, RoleView>,
    pub network: AwsResult<Network>,
    pub detector: AwsResult<Option<Detector>>,
    /// GuardDuty's own coverage of the scanned clusters.
    pub coverage: CoverageRead,
    pub scps: ScpView,
    /// Running tasks by service ARN.
    pub tasks: BTreeMap<String, AwsResult<Vec<Task>>>,
    /// Reads that failed for a whole cluster (its services are then not checked).
    pub errors: Vec<(String, AwsError)>,
}

impl Inventory {
    pub fn fargate_services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| is_fargate(s))
    }

    pub fn cluster(&self, arn: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.arn == arn)
    }
}

pub fn is_fargate(s: &Service) -> bool {
    crate::model::Service::read(Default::default(), &s.json).is_ok_and(|v| v.is_fargate())
}
