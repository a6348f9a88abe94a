//! Reading one region of an AWS account into an `Inventory`, through the `Aws` trait.
//! Calls are batched where the API allows, each task definition and role is read once however
//! many services share it, and independent reads run concurrently (bounded).

use crate::aws::{
    Aws, AwsError, AwsResult, Cluster, ErrorKind, Role, RolePolicies, Service, TaskDefinition,
};
use crate::fingerprint;
use crate::model::arn::role_name;
use crate::model::inventory::{CoverageRead, Inventory, Network, RoleView, ScpView, is_fargate};
use crate::policy::Policy;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// How many reads run at once within a region.
pub const CONCURRENCY: usize = 8;

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub clusters: Vec<String>,
    pub services: Vec<String>,
    /// The role a task definition without `executionRoleArn` would get (read so that its
    /// existence and permissions are checked too).
    pub default_execution_role: Option<String>,
    /// SCPs are read with `--org-profile` (changes the hint when they cannot be read).
    pub org_profile: bool,
    /// GuardDuty's coverage as a delegated administrator read it once for every member, by
    /// region: used instead of each account's own `ListCoverage`.
    pub admin_coverage: Option<std::sync::Arc<BTreeMap<String, Vec<crate::aws::Coverage>>>>,
}

/// Clusters by coverage status, from records.
pub fn count_by_status(records: &[crate::aws::Coverage]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.status.clone()).or_insert(0) += 1;
    }
    out
}

/// Reports progress (drawn by indicatif on a terminal, nothing otherwise).
pub trait Progress {
    fn stage(&self, _region: &str, _what: &str) {}
    fn add_total(&self, _n: u64) {}
    fn advance(&self, _n: u64) {}
}

fn chunks(items: &[String], n: usize) -> Vec<Vec<String>> {
    items.chunks(n).map(<[String]>::to_vec).collect()
}

async fn bounded<T, F, Fut>(items: Vec<T>, f: F) -> Vec<Fut::Output>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future,
{
    stream::iter(items.into_iter().map(f))
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// Scans one region. Fails only when the caller's identity cannot be read; anything else that
/// cannot be read is kept in the inventory as the error it was.
pub async fn scan<A: Aws>(aws: &A, scope: &Scope, progress: &dyn Progress) -> AwsResult<Inventory> {
    let region = aws.region().to_string();
    progress.stage(&region, "identity");
    let identity = aws.caller_identity().await?;

    progress.stage(&region, "clusters");
    let cluster_ids = if scope.clusters.is_empty() {
        aws.list_clusters().await?
    } else {
        scope.clusters.clone()
    };
    let mut clusters = Vec::new();
    for batch in chunks(&cluster_ids, 100) {
        clusters.extend(aws.describe_clusters(&batch).await?);
    }
    progress.add_total(clusters.len() as u64);

    progress.stage(&region, "services");
    let mut errors = Vec::new();
    let listed = bounded(clusters.iter().collect(), |c: &Cluster| async move {
        let arns = if scope.services.is_empty() {
            aws.list_services(&c.arn).await
        } else {
            Ok(scope.services.clone())
        };
        (c.arn.clone(), arns)
    })
    .await;
    let mut batches = Vec::new();
    for (cluster, arns) in listed {
        match arns {
            Ok(arns) => batches.extend(chunks(&arns, 10).into_iter().map(|b| (cluster.clone(), b))),
            Err(e) => errors.push((cluster, e)),
        }
    }
    let described = bounded(batches, |(cluster, batch)| async move {
        (
            cluster.clone(),
            aws.describe_services(&cluster, &batch).await,
        )
    })
    .await;
    let mut services = Vec::new();
    for (cluster, res) in described {
        match res {
            Ok(s) => services.extend(s),
            Err(e) => errors.push((cluster, e)),
        }
    }
    progress.advance(clusters.len() as u64);
    progress.add_total(services.len() as u64);

    // Each task definition once, however many services use it.
    progress.stage(&region, "task definitions");
    let td_arns: BTreeSet<String> = services
        .iter()
        .filter(|s| is_fargate(s))
        .map(|s| s.task_definition.clone())
        .collect();
    let task_defs: BTreeMap<String, AwsResult<TaskDefinition>> =
        bounded(td_arns.into_iter().collect(), |arn: String| async move {
            (arn.clone(), aws.describe_task_definition(&arn).await)
        })
        .await
        .into_iter()
        .collect();

    let fargate: Vec<&Service> = services.iter().filter(|s| is_fargate(s)).collect();
    let mut role_names = BTreeSet::new();
    for td in task_defs.values().flatten() {
        match td.field("executionRoleArn").filter(|s| !s.is_empty()) {
            Some(arn) => role_names.extend([role_name(arn)]),
            None => role_names.extend(scope.default_execution_role.as_deref().map(role_name)),
        };
    }

    progress.stage(&region, "roles, network, GuardDuty, organization, tasks");
    let roles_fut = read_roles(aws, role_names.into_iter().collect());
    let network_fut = read_network(aws, &fargate);
    // GuardDuty's coverage of the scanned clusters, once the detector is known.
    let names: BTreeSet<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    let account = identity.account.as_str();
    let detector_fut = async {
        let detector = aws.detector().await;
        let admin = scope
            .admin_coverage
            .as_ref()
            .and_then(|by_region| by_region.get(&region));
        let mine = |records: &[crate::aws::Coverage]| -> Vec<crate::aws::Coverage> {
            records
                .iter()
                .filter(|c| {
                    (c.account.is_empty() || c.account == account)
                        && names.contains(c.cluster.as_str())
                })
                .cloned()
                .collect()
        };
        let coverage = match &detector {
            // Read once for the organization by its delegated administrator.
            Ok(Some(d)) if d.runtime_monitoring && admin.is_some() => {
                let all: Vec<crate::aws::Coverage> = admin
                    .into_iter()
                    .flatten()
                    .filter(|c| c.account == account)
                    .cloned()
                    .collect();
                CoverageRead::Read {
                    records: mine(&all),
                    counts: Ok(count_by_status(&all)),
                }
            }
            Ok(Some(d)) if d.runtime_monitoring => {
                let (records, counts) = futures::join!(
                    aws.ecs_coverage(&d.id, account),
                    aws.ecs_coverage_counts(&d.id, account)
                );
                match records {
                    // A delegated administrator sees its members' clusters too.
                    Ok(records) => CoverageRead::Read {
                        records: mine(&records),
                        counts,
                    },
                    Err(e) => CoverageRead::Unreadable(e),
                }
            }
            _ => CoverageRead::NotRead,
        };
        (detector, coverage)
    };
    let scps_fut = read_scps(aws, &identity.account, scope.org_profile);
    let tasks_fut = bounded(
        fargate
            .iter()
            .filter(|s| s.desired_count > 0)
            .copied()
            .collect(),
        |s: &Service| async move {
            let tasks = match aws.list_running_tasks(&s.cluster_arn, &s.name).await {
                Ok(arns) => {
                    let mut all = Vec::new();
                    let mut res = Ok(());
                    for batch in chunks(&arns, 100) {
                        match aws.describe_tasks(&s.cluster_arn, &batch).await {
                            Ok(t) => all.extend(t),
                            Err(e) => {
                                res = Err(e);
                                break;
                            }
                        }
                    }
                    res.map(|_| all)
                }
                Err(e) => Err(e),
            };
            (s.arn.clone(), tasks)
        },
    );
    let (roles, network, (detector, coverage), scps, tasks) =
        futures::join!(roles_fut, network_fut, detector_fut, scps_fut, tasks_fut);
    progress.advance(services.len() as u64);
    Ok(Inventory {
        region,
        identity,
        clusters,
        services,
        task_defs,
        roles,
        network,
        detector,
        coverage,
        scps,
        tasks: tasks.into_iter().collect(),
        errors,
    })
}

async fn read_roles<A: Aws>(aws: &A, names: Vec<String>) -> BTreeMap<String, RoleView> {
    enum First {
        Missing,
        Unreadable(AwsError),
        Found(Role, AwsResult<RolePolicies>),
    }
    let first = bounded(names, |name: String| async move {
        let first = match aws.get_role(&name).await {
            Err(e) if e.kind == ErrorKind::NotFound => First::Missing,
            Err(e) => First::Unreadable(e),
            Ok(role) => First::Found(role, aws.role_policies(&name).await),
        };
        (name, first)
    })
    .await;
    // Managed policies and boundaries: each ARN read once, however many roles use it.
    let mut arns = BTreeSet::new();
    for (_, f) in &first {
        if let First::Found(role, lists) = f {
            if let Ok(l) = lists {
                arns.extend(l.attached.iter().cloned());
            }
            arns.extend(role.boundary_arn.clone());
        }
    }
    let docs: BTreeMap<String, AwsResult<Policy>> =
        bounded(arns.into_iter().collect(), |arn: String| async move {
            (arn.clone(), aws.managed_policy(&arn).await)
        })
        .await
        .into_iter()
        .collect();
    let doc = |arn: &String| docs.get(arn).cloned().unwrap_or_else(|| Err(not_read(arn)));
    first
        .into_iter()
        .map(|(name, f)| {
            let view = match f {
                First::Missing => RoleView::Missing,
                First::Unreadable(e) => RoleView::Unreadable(e),
                First::Found(role, lists) => {
                    let fingerprint = match &lists {
                        Ok(l) => fingerprint::role_policies(l),
                        Err(_) => String::new(),
                    };
                    let policies = lists.and_then(|l| {
                        let mut all = l
                            .attached
                            .iter()
                            .map(doc)
                            .collect::<AwsResult<Vec<Policy>>>()?;
                        all.extend(l.inline);
                        Ok(all)
                    });
                    let boundary = role.boundary_arn.as_ref().map(doc);
                    RoleView::Found {
                        role: Box::new(role),
                        fingerprint,
                        policies,
                        boundary,
                    }
                }
            };
            (name, view)
        })
        .collect()
}

fn not_read(what: &str) -> AwsError {
    AwsError {
        api: "iam:GetPolicy",
        kind: ErrorKind::Other,
        message: format!("`{what}` was not read"),
    }
}

async fn read_network<A: Aws>(aws: &A, services: &[&Service]) -> AwsResult<Network> {
    let subnet_ids: BTreeSet<String> = services
        .iter()
        .filter_map(|s| s.network.as_ref())
        .flat_map(|n| n.subnets.iter().cloned())
        .collect();
    let task_groups: BTreeSet<String> = services
        .iter()
        .filter_map(|s| s.network.as_ref())
        .flat_map(|n| n.security_groups.iter().cloned())
        .collect();
    if subnet_ids.is_empty() {
        return Ok(Network::default());
    }
    // One read each: every subnet of the region, then what the tasks' VPCs hold.
    let all = aws.describe_subnets().await?;
    let vpc_ids: Vec<String> = all
        .iter()
        .filter(|s| subnet_ids.contains(&s.id))
        .map(|s| s.vpc_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let subnets: Vec<_> = all
        .into_iter()
        .filter(|s| vpc_ids.contains(&s.vpc_id))
        .collect();
    let (route_tables, endpoints, vpcs, nat_gateways, network_acls, s3_prefix_list) = futures::join!(
        aws.describe_route_tables(&vpc_ids),
        aws.describe_vpc_endpoints(&vpc_ids),
        aws.describe_vpcs(&vpc_ids),
        aws.describe_nat_gateways(&vpc_ids),
        aws.describe_network_acls(&vpc_ids),
        aws.s3_prefix_list(),
    );
    let endpoints = endpoints?;
    // The tasks' groups and the endpoints' groups, in one read.
    let sg_ids: Vec<String> = task_groups
        .into_iter()
        .chain(
            endpoints
                .iter()
                .filter(|e| e.usable)
                .flat_map(|e| e.security_group_ids.iter().cloned()),
        )
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let security_groups = if sg_ids.is_empty() {
        Vec::new()
    } else {
        aws.describe_security_groups(&sg_ids).await?
    };
    Ok(Network {
        subnets,
        nat_gateways: nat_gateways?,
        network_acls: network_acls?,
        route_tables: route_tables?,
        endpoints,
        vpcs: vpcs?,
        security_groups,
        s3_prefix_list: s3_prefix_list?,
    })
}

async fn read_scps<A: Aws>(aws: &A, account: &str, with_org_profile: bool) -> ScpView {
    let hint = if with_org_profile {
        ""
    } else {
        "; pass `--org-profile PROFILE` with a management or delegated administrator account"
    };
    match aws.organization().await {
        Err(e) if e.kind == ErrorKind::NotInOrganization => ScpView::NoOrganization,
        Err(e) => ScpView::NotChecked(format!("{e}{hint}")),
        Ok(org) if org.management_account == account => ScpView::Management,
        Ok(_) => match aws.scp_path(account).await {
            Ok(levels) => ScpView::Levels(levels),
            Err(e) => ScpView::NotChecked(format!("{e}{hint}")),
        },
    }
}
