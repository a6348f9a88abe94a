//! GuardDuty's own coverage issues for ECS (`ListCoverage`, `fargateDetails.issues[]`), read
//! with the rules of `templates/coverage-issues.json` (data with its source and the
//! documentation's issue templates as examples): which rule an issue is, the task definition it
//! names, and which fargate-rtm checks' findings would explain it. An issue no rule matches is
//! kept raw (`unparsed`), never guessed.

use crate::aws::{Cluster, Service};
use crate::model::Finding;
use crate::model::inventory::{CoverageRead, Inventory};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const RULES_JSON: &str = include_str!("../templates/coverage-issues.json");

#[derive(Debug, Deserialize)]
struct Table {
    version: u32,
    source: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
pub struct Rule {
    pub id: String,
    #[serde(default)]
    starts_with_any: Vec<String>,
    #[serde(default)]
    contains_any: Vec<String>,
    pub explained_by: Vec<String>,
    #[serde(default)]
    explained_when: Option<When>,
    /// The documentation's issue templates, placeholders filled in (the test corpus).
    pub examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct When {
    contains_any: Vec<String>,
    explained_by: Vec<String>,
}

impl Rule {
    /// Every condition given holds: a prefix (when any is given) and a substring (when any is
    /// given).
    fn matches(&self, issue: &str) -> bool {
        (self.starts_with_any.is_empty()
            || self
                .starts_with_any
                .iter()
                .any(|p| issue.starts_with(p.as_str())))
            && (self.contains_any.is_empty()
                || self.contains_any.iter().any(|c| issue.contains(c.as_str())))
    }
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| serde_json::from_str(RULES_JSON).expect("embedded coverage rules parse"))
}

/// The rules' version and source (shown with coverage results).
pub fn rules_version() -> (u32, &'static str) {
    (table().version, table().source.as_str())
}

pub fn rules() -> &'static [Rule] {
    &table().rules
}

/// One coverage issue as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The rule id, or `None` when no rule matches (`unparsed`).
    pub rule: Option<&'static str>,
    /// The task definition it names (`family:revision` or an ARN), if any.
    pub task_definition: Option<String>,
    /// The checks whose findings would explain it.
    pub explained_by: Vec<&'static str>,
    pub raw: String,
}

/// Reads one issue string.
pub fn parse(issue: &str) -> Issue {
    let text = issue.trim();
    let rule = rules().iter().find(|r| r.matches(text));
    let mut explained_by: Vec<&'static str> = rule
        .map(|r| r.explained_by.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if let Some(w) = rule.and_then(|r| r.explained_when.as_ref())
        && w.contains_any.iter().any(|c| text.contains(c.as_str()))
    {
        explained_by.extend(w.explained_by.iter().map(String::as_str));
    }
    Issue {
        rule: rule.map(|r| r.id.as_str()),
        task_definition: task_definition(text),
        explained_by,
        raw: issue.to_string(),
    }
}

/// The task definition in `TaskDefinition - 'NAME'`.
fn task_definition(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("TaskDefinition - '")?;
    let (name, _) = rest.split_once('\'')?;
    (!name.is_empty()).then(|| name.to_string())
}

/// One issue of a cluster's coverage, beside the findings that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueView {
    /// The rule id, or `unparsed`.
    pub rule: String,
    /// The issue as GuardDuty wrote it.
    pub text: String,
    pub task_definition: Option<String>,
    /// `current` (a scanned service runs the task definition) or `not-scanned` (none does: a
    /// task that stopped since, a `RunTask` or scheduled task, or a service outside the scan);
    /// `None` when the issue names none.
    pub when: Option<&'static str>,
    /// The findings that explain it: `` `check` on subject ``.
    pub explained_by: Vec<String>,
    /// The same findings by (check, resource), to find them again.
    #[serde(skip)]
    pub explained_keys: Vec<(&'static str, String)>,
    /// Whether any check could explain it (its rule names some).
    #[serde(skip)]
    pub explainable: bool,
}

impl IssueView {
    /// What `coverage-unexplained` reports: an issue no finding explains, unless it is on a
    /// task definition no scanned service runs and a finding could have explained it (the
    /// configuration that caused it may be gone).
    pub fn unexplained(&self) -> bool {
        self.explained_by.is_empty() && (self.when != Some("not-scanned") || !self.explainable)
    }
}

/// GuardDuty's coverage of one ECS cluster, beside fargate-rtm's findings on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterCoverage {
    pub region: String,
    pub account: String,
    pub cluster: String,
    pub cluster_arn: String,
    /// `HEALTHY` or `UNHEALTHY`.
    pub status: String,
    pub updated_at: Option<String>,
    pub management_type: Option<String>,
    pub issues: Vec<IssueView>,
    /// EC2 container instances without the agent (`covered` of `compatible`): outside Fargate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_gap: Option<Ec2Gap>,
    /// Findings on a cluster GuardDuty reports healthy: not yet observed by GuardDuty.
    pub not_yet_observed: Vec<String>,
    /// The same findings by (check, resource).
    #[serde(skip)]
    pub not_yet_observed_keys: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ec2Gap {
    pub covered: i64,
    pub compatible: i64,
}

/// The services of `cluster` on Fargate.
fn cluster_services<'a>(
    inv: &'a Inventory,
    cluster: &'a Cluster,
) -> impl Iterator<Item = &'a Service> {
    inv.fargate_services()
        .filter(move |s| s.cluster_arn == cluster.arn)
}

/// True when the task definition ARN `arn` is the one an issue names (`family:revision` or the
/// ARN).
fn names(arn: &str, named: &str) -> bool {
    arn == named || arn.ends_with(&format!("/{named}"))
}

/// True when `f` is about one of `services` (or their task definitions, roles, VPCs), about
/// `cluster`, or about the whole region or account (an SCP, the detector).
fn touches(inv: &Inventory, f: &Finding, cluster: &Cluster, services: &[&Service]) -> bool {
    let r = f.resource.as_str();
    let svc_arn = |s: &&Service| s.arn == r;
    if inv.services.iter().any(|s| s.arn == r) {
        return services.iter().any(svc_arn);
    }
    if inv.task_defs.contains_key(r) {
        return services.iter().any(|s| s.task_definition == r);
    }
    if inv.clusters.iter().any(|c| c.arn == r) {
        return cluster.arn == r;
    }
    if let Some((_, role)) = r.split_once(":role/") {
        let role = role.rsplit('/').next().unwrap_or(role);
        return services.iter().any(|s| {
            inv.task_defs
                .get(&s.task_definition)
                .and_then(|t| t.as_ref().ok())
                .and_then(|t| t.field("executionRoleArn"))
                .is_some_and(|a| crate::model::arn::role_name(a) == role)
        });
    }
    if let Some((_, vpc)) = r.split_once(":vpc/") {
        let Ok(net) = &inv.network else {
            return true;
        };
        return services.iter().any(|s| {
            s.network.as_ref().is_some_and(|n| {
                n.subnets.iter().any(|id| {
                    net.subnets
                        .iter()
                        .any(|sn| &sn.id == id && sn.vpc_id == vpc)
                })
            })
        });
    }
    // Not tied to one cluster (the account, the organization, the detector): all of them.
    true
}

/// GuardDuty's coverage of each scanned cluster beside `findings` (every finding of the region:
/// documents' and the account checks'), each issue matched to the findings that explain it.
/// `None` when coverage was not read.
pub fn reconcile(inv: &Inventory, findings: &[&Finding]) -> Option<Vec<ClusterCoverage>> {
    let CoverageRead::Read { records, .. } = &inv.coverage else {
        return None;
    };
    let mut out = Vec::new();
    for c in &inv.clusters {
        let Some(rec) = records.iter().find(|r| r.cluster == c.name) else {
            continue;
        };
        let all: Vec<&Service> = cluster_services(inv, c).collect();
        let label = |f: &Finding| format!("`{}` on the {}", f.check.slug, f.subject);
        let key = |f: &Finding| (f.check.slug, f.resource.clone());
        let mut issues = Vec::new();
        for text in &rec.fargate_issues {
            let issue = parse(text);
            let (when, services): (Option<&'static str>, Vec<&Service>) =
                match &issue.task_definition {
                    Some(td) => {
                        let running: Vec<&Service> = all
                            .iter()
                            .copied()
                            .filter(|s| names(&s.task_definition, td))
                            .collect();
                        if running.is_empty() {
                            (Some("not-scanned"), running)
                        } else {
                            (Some("current"), running)
                        }
                    }
                    None => (None, all.clone()),
                };
            let explaining: Vec<&&Finding> = if when == Some("not-scanned") {
                Vec::new()
            } else {
                findings
                    .iter()
                    .filter(|f| issue.explained_by.contains(&f.check.slug))
                    .filter(|f| touches(inv, f, c, &services))
                    .collect()
            };
            issues.push(IssueView {
                rule: issue.rule.unwrap_or("unparsed").to_string(),
                text: issue.raw,
                task_definition: issue.task_definition,
                when,
                explained_by: explaining.iter().map(|f| label(f)).collect(),
                explained_keys: explaining.iter().map(|f| key(f)).collect(),
                explainable: !issue.explained_by.is_empty(),
            });
        }
        let ec2_gap = rec
            .container_instances
            .filter(|(covered, compatible)| covered < compatible)
            .map(|(covered, compatible)| Ec2Gap {
                covered,
                compatible,
            });
        let unobserved: Vec<&&Finding> = if rec.status == "HEALTHY" {
            findings
                .iter()
                .filter(|f| f.severity == crate::model::Severity::Error)
                .filter(|f| touches(inv, f, c, &all) && !f.resource.is_empty())
                .collect()
        } else {
            Vec::new()
        };
        out.push(ClusterCoverage {
            region: inv.region.clone(),
            account: inv.identity.account.clone(),
            cluster: c.name.clone(),
            cluster_arn: c.arn.clone(),
            status: rec.status.clone(),
            updated_at: rec.updated_at.clone(),
            management_type: rec.management_type.clone(),
            issues,
            ec2_gap,
            not_yet_observed: unobserved.iter().map(|f| label(f)).collect(),
            not_yet_observed_keys: unobserved.iter().map(|f| key(f)).collect(),
        });
    }
    // A finding that explains an issue somewhere is observed, whatever another cluster says.
    let explained: Vec<(&'static str, String)> = out
        .iter()
        .flat_map(|c| {
            c.issues
                .iter()
                .flat_map(|i| i.explained_keys.iter().cloned())
        })
        .collect();
    for c in &mut out {
        let keep: Vec<bool> = c
            .not_yet_observed_keys
            .iter()
            .map(|k| !explained.contains(k))
            .collect();
        let mut it = keep.iter();
        c.not_yet_observed.retain(|_| *it.next().unwrap_or(&true));
        let mut it = keep.iter();
        c.not_yet_observed_keys
            .retain(|_| *it.next().unwrap_or(&true));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented issue template is read by its own rule, and names its task definition
    /// when it has one.
    #[test]
    fn documented_issues_are_read_by_their_rule() {
        let mut ids = std::collections::BTreeSet::new();
        for r in rules() {
            assert!(ids.insert(r.id.as_str()), "rule `{}` twice", r.id);
            assert!(!r.examples.is_empty(), "rule `{}` has no example", r.id);
            for e in &r.examples {
                let issue = parse(e);
                assert_eq!(issue.rule, Some(r.id.as_str()), "{e}");
                if e.contains("TaskDefinition - '") {
                    assert!(issue.task_definition.is_some(), "{e}");
                }
            }
            // Every check a rule names exists.
            for slug in r.explained_by.iter() {
                assert!(
                    crate::check::all().any(|c| c.slug == slug),
                    "rule `{}` names an unknown check `{slug}`",
                    r.id
                );
            }
        }
    }

    #[test]
    fn task_definitions_and_conditions() {
        let i = parse(
            "ExitCode: 137 for tasks in TaskDefinition - 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3'",
        );
        assert_eq!(i.rule, Some("agent-exited"));
        assert_eq!(
            i.task_definition.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3")
        );
        assert_eq!(i.explained_by, ["agent-memory-headroom"]);
        let i = parse("ExitCode: 1 for tasks in TaskDefinition - 'web:3'");
        assert!(i.explained_by.is_empty());
        // A pull failure inside an "Agent exited" text is a pull failure.
        let i = parse(
            "Agent exited: Reason: CannotPullContainerError: x for tasks in TaskDefinition - 'web:3'",
        );
        assert_eq!(i.rule, Some("pull-failed"));
        // Wording AWS has not documented is kept raw.
        let i = parse("Something new happened to the agent");
        assert_eq!(i.rule, None);
        assert_eq!(i.raw, "Something new happened to the agent");
        assert!(i.explained_by.is_empty());
        assert_eq!(rules_version().0, 1);
    }
}
