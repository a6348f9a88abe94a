//! A stateful in-memory AWS account behind the `aws` traits, for tests: an `Account` value
//! (serde, so an account can be a short JSON fixture) that the trait methods read and change
//! the way AWS documents each call. Every mutating call is logged as one line; a failure can be
//! injected for the next call of an API, or for every call of a read.
//!
//! What AWS does on its own (deployments replacing tasks, endpoints moving through `pending`) is
//! not simulated: a service update changes the service's configuration only, and a deleted
//! endpoint is gone at once.

mod ec2;
mod ecs;
mod iam;
mod org;

use super::{AwsError, AwsResult, Detector, ErrorKind, Identity, Organization, ScpLevel};
use super::{NatGateway, NetworkAcl, RouteTable, SgRule, Subnet, Tags, Task, Vpc, VpcEndpoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One region of one account, as the fake holds it. Every field has a default, so a fixture
/// names only what it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub region: String,
    pub identity: Identity,
    pub clusters: Vec<FakeCluster>,
    /// Each service as `DescribeServices` returns it (`serviceArn`, `clusterArn`,
    /// `taskDefinition`, `networkConfiguration`, `deployments`, ...).
    pub services: Vec<Value>,
    /// Each revision as `DescribeTaskDefinition` returns it (`{"taskDefinition": {...},
    /// "tags": [...]}`), by ARN. Deregistered revisions stay, `INACTIVE`, as in AWS.
    pub task_definitions: BTreeMap<String, Value>,
    /// By role name.
    pub roles: BTreeMap<String, FakeRole>,
    /// Customer managed policy documents (default version) by ARN. The AWS managed policies
    /// the tool attaches are known without being listed.
    pub policies: BTreeMap<String, Value>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub vpcs: Vec<Vpc>,
    pub security_groups: Vec<FakeSecurityGroup>,
    pub nat_gateways: Vec<NatGateway>,
    /// The network ACLs; a VPC without a default one here has AWS's default (all allowed).
    pub network_acls: Vec<NetworkAcl>,
    /// Tags of the EC2 resources (security groups, endpoints) by id.
    pub tags: BTreeMap<String, Tags>,
    /// The id of `com.amazonaws.REGION.s3`.
    pub s3_prefix_list: Option<String>,
    pub detector: Option<Detector>,
    /// What GuardDuty's `ListCoverage` reports for the region's ECS clusters.
    pub coverage: Vec<crate::aws::Coverage>,
    /// `None`: the account is not in an organization.
    pub organization: Option<Organization>,
    /// The SCPs on each member account's path to the root, account first, by account id.
    pub scps: BTreeMap<String, Vec<ScpLevel>>,
    /// Running tasks by service ARN.
    pub tasks: BTreeMap<String, Vec<Task>>,
    /// The time the fake reports for registrations and deregistrations, seconds since the
    /// epoch (fixed, so outputs are stable).
    pub now: i64,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            region: "us-east-1".into(),
            identity: Identity {
                account: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/fargate-rtm".into(),
                partition: "aws".into(),
            },
            clusters: Vec::new(),
            services: Vec::new(),
            task_definitions: BTreeMap::new(),
            roles: BTreeMap::new(),
            policies: BTreeMap::new(),
            subnets: Vec::new(),
            route_tables: Vec::new(),
            vpc_endpoints: Vec::new(),
            vpcs: Vec::new(),
            security_groups: Vec::new(),
            nat_gateways: Vec::new(),
            network_acls: Vec::new(),
            tags: BTreeMap::new(),
            s3_prefix_list: None,
            detector: None,
            coverage: Vec::new(),
            organization: None,
            scps: BTreeMap::new(),
            tasks: BTreeMap::new(),
            now: 1_717_171_717,
        }
    }
}

impl Account {
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` of this account and region.
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.identity.partition, self.region, self.identity.account
        )
    }
}

/// An ECS cluster: its ARN follows from its name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeCluster {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

/// An IAM role (its name is its key in `Account::roles`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeRole {
    /// `/` when empty.
    pub path: String,
    pub trust: Value,
    /// The permissions boundary's policy ARN.
    pub boundary: Option<String>,
    /// Attached managed policy ARNs, in the order they were attached.
    pub attached: Vec<String>,
    /// Inline policy documents by name.
    pub inline: BTreeMap<String, Value>,
    pub tags: Tags,
}

/// A VPC security group with both directions (the trait reads its egress).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeSecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

/// What is not the account: the log, the failures to inject, the id counters.
#[derive(Default)]
struct State {
    account: Account,
    log: Vec<String>,
    once: Vec<(&'static str, ErrorKind)>,
    always: Vec<(&'static str, ErrorKind)>,
    ids: BTreeMap<&'static str, u64>,
}

impl State {
    /// The failure injected for `api`, if any (a one-time failure is used up).
    fn injected(&mut self, api: &'static str) -> Option<AwsError> {
        let kind = match self.always.iter().find(|(a, _)| *a == api) {
            Some((_, k)) => *k,
            None => {
                let i = self.once.iter().position(|(a, _)| *a == api)?;
                self.once.remove(i).1
            }
        };
        Some(err(api, kind, "injected failure"))
    }

    /// A new id `PREFIX-fake-N`, never one the account already has.
    fn new_id(&mut self, prefix: &'static str) -> String {
        loop {
            let n = self.ids.entry(prefix).or_default();
            *n += 1;
            let id = format!("{prefix}-fake-{n}");
            let a = &self.account;
            let taken = a.security_groups.iter().any(|g| g.id == id)
                || a.vpc_endpoints.iter().any(|e| e.id == id);
            if !taken {
                return id;
            }
        }
    }
}

/// An in-memory account behind the `aws` traits.
pub struct FakeAws {
    region: String,
    state: Mutex<State>,
}

pub(crate) fn err(api: &'static str, kind: ErrorKind, message: impl Into<String>) -> AwsError {
    AwsError {
        api,
        kind,
        message: message.into(),
    }
}

pub(crate) fn not_found(api: &'static str, message: impl Into<String>) -> AwsError {
    err(api, ErrorKind::NotFound, message)
}

pub(crate) fn invalid(api: &'static str, message: impl Into<String>) -> AwsError {
    err(api, ErrorKind::Other, message)
}

impl FakeAws {
    pub fn new(account: Account) -> FakeAws {
        FakeAws {
            region: account.region.clone(),
            state: Mutex::new(State {
                account,
                ..Default::default()
            }),
        }
    }

    /// An account from its JSON form (`Account`).
    pub fn from_json(json: &str) -> Result<FakeAws, serde_json::Error> {
        Ok(FakeAws::new(serde_json::from_str(json)?))
    }

    /// The state for the test's own calls: a lock poisoned by a panicking test is still read.
    fn control(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the account as it is now.
    pub fn account(&self) -> Account {
        self.control().account.clone()
    }

    /// Every mutating call so far, one line each, in order.
    pub fn log(&self) -> Vec<String> {
        self.control().log.clone()
    }

    /// The next call of `api` (`"ecs:UpdateService"`) fails with `kind`.
    pub fn fail(&self, api: &'static str, kind: ErrorKind) {
        self.control().once.push((api, kind));
    }

    /// Every call of `api` fails with `kind` (`AccessDenied` on `guardduty:ListDetectors`).
    pub fn fail_always(&self, api: &'static str, kind: ErrorKind) {
        self.control().always.push((api, kind));
    }

    /// Changes the account outside the traits (someone else changing it), not logged.
    pub fn edit(&self, f: impl FnOnce(&mut Account)) {
        f(&mut self.control().account);
    }

    fn lock(&self, api: &'static str) -> AwsResult<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| invalid(api, "the fake account's lock is poisoned"))
    }

    /// A read made of the calls `apis` (the calls the SDK makes for it, in order).
    fn read<T>(
        &self,
        apis: &[&'static str],
        f: impl FnOnce(&Account) -> AwsResult<T>,
    ) -> AwsResult<T> {
        let mut s = self.lock(apis.first().copied().unwrap_or("fake"))?;
        for api in apis {
            if let Some(e) = s.injected(api) {
                return Err(e);
            }
        }
        f(&s.account)
    }

    /// A change, logged as `line` and what it returned. All or nothing: the account is left as
    /// it was when the call fails.
    fn change<T>(
        &self,
        api: &'static str,
        line: String,
        f: impl FnOnce(&mut State) -> AwsResult<T>,
        shown: impl FnOnce(&T) -> Option<String>,
    ) -> AwsResult<T> {
        let mut s = self.lock(api)?;
        let result = match s.injected(api) {
            Some(e) => Err(e),
            None => {
                let before = s.account.clone();
                let r = f(&mut s);
                if r.is_err() {
                    s.account = before;
                }
                r
            }
        };
        let entry = match &result {
            Ok(v) => match shown(v) {
                Some(v) => format!("{api} {line} -> {v}"),
                None => format!("{api} {line}"),
            },
            Err(e) => format!("{api} {line} -> failed ({:?}: {})", e.kind, e.message),
        };
        s.log.push(entry);
        result
    }

    /// A change that returns nothing.
    fn apply(
        &self,
        api: &'static str,
        line: String,
        f: impl FnOnce(&mut Account) -> AwsResult<()>,
    ) -> AwsResult<()> {
        self.change(api, line, |s| f(&mut s.account), |_| None)
    }
}

/// How tags read in the log: their keys (a run's id differs from run to run).
pub(crate) fn tag_keys(tags: &Tags) -> String {
    if tags.is_empty() {
        return String::new();
    }
    format!(
        " tags={}",
        tags.keys().cloned().collect::<Vec<_>>().join(",")
    )
}

#[cfg(test)]
mod tests;
