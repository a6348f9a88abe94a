//! Plans as values: per document (findings, one merged RFC 6902 patch, the text as it will be
//! written), per account region (AWS operations), and saved plans. Pure: no file system, no
//! printing, no AWS.

pub mod account;
pub mod document;
pub mod saved;
pub mod template;
pub mod tfplan;

pub use document::{materialize, plan_document, registerable_ops};

use crate::check::Options;
use crate::model::{Applicability, Finding, InputError, NotChecked, Origin, Severity, Shape};
use json_patch::PatchOperation;

/// A resource that is not checked because it does not run on Fargate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub resource: String,
    pub subject: String,
    pub reason: String,
}

/// A document that changes: its text before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub old_text: String,
    pub new_text: String,
    /// The secrets of both versions as JSON literals, hidden in diffs.
    pub secrets: Vec<String>,
}

/// A file a plan writes beside its input: `UpdateService` input for each service of a
/// `describe-services` snapshot that needs a change (`--registerable`; the snapshot itself is
/// never edited), or a file of a Terraform module a fix edits (a tfvars entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The file name, written in the input's destination folder.
    pub name: String,
    pub text: String,
    /// An existing file of the input's module the plan edits (a Terraform variable's `default`,
    /// a tfvars entry): its text when planned. `None`: a new file.
    pub old_text: Option<String>,
}

/// The plan for one input document.
#[derive(Debug, Clone)]
pub struct DocPlan {
    pub resource: String,
    pub origin: Origin,
    /// SHA-256 of the input bytes, when the plan is to be saved (`PlanOptions::fingerprint`).
    pub sha256: Option<String>,
    pub bom: bool,
    pub shape: Shape,
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
    pub skipped: Vec<Skip>,
    /// The merged RFC 6902 patch of every non-manual fix (plus `--registerable`).
    pub patch: Vec<PatchOperation>,
    /// The document before and after, when `PlanOptions::materialize` asked for it.
    pub change: Option<Change>,
    /// The original text of standard input (passed through by `apply` when nothing changes).
    pub stdin_text: Option<String>,
    /// New files written beside the input (see `Derived`).
    pub derived: Vec<Derived>,
    /// `--registerable`: how many `null` members the output drops.
    pub dropped_nulls: usize,
    /// The resources of a template (their subjects), each counted as a document; empty for a
    /// document that is one resource.
    pub subjects: Vec<String>,
}

/// How the plan is built.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub checks: Options,
    /// `--registerable`: strip read-only describe fields and unwrap `taskDefinition`.
    pub registerable: bool,
    /// Build the patched text of each changed document (for diffs and writes). Machine
    /// formats need only the patches.
    pub materialize: bool,
    /// Record each input's SHA-256 (for a saved plan).
    pub fingerprint: bool,
    /// `--parameter NAME=VALUE`: CloudFormation parameter values (as deploy takes them).
    pub parameters: std::collections::BTreeMap<String, String>,
    /// Terraform: make every fix manual, for this reason (another input's fixes edit the same
    /// file of the module).
    pub hold_edits: Option<String>,
}

/// An AWS operation the plan would carry out (live mode), with why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlannedOperation {
    /// The ARN the operation changes (or is about).
    pub resource: String,
    pub title: String,
    pub applicability: Applicability,
    pub reason: Option<String>,
    pub operation: crate::operation::Operation,
    /// The region the operation runs in.
    pub region: String,
    /// What the resource looked like when planned (checked again before applying).
    pub fingerprint: Option<crate::fingerprint::Fingerprint>,
}

/// What account mode adds: findings on resources that are not documents (roles, VPCs,
/// clusters, the account) and the AWS operations of every fix.
#[derive(Debug, Clone, Default)]
pub struct AccountPart {
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
    pub operations: Vec<PlannedOperation>,
    /// GuardDuty's coverage of each scanned cluster, beside the findings.
    pub coverage: Vec<crate::coverage::ClusterCoverage>,
    /// (account, region, why) whose coverage could not be read (GuardDuty's view beside the plan,
    /// not a prerequisite: it does not change the exit code).
    pub coverage_unread: Vec<(String, String, String)>,
    /// GuardDuty's count of the account's ECS clusters by coverage status, by account and region.
    pub coverage_counts: CoverageCounts,
}

/// Clusters by coverage status, by region, by account.
pub type CoverageCounts = std::collections::BTreeMap<
    String,
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
>;

/// The whole plan: documents and the inputs that could not be used.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub docs: Vec<DocPlan>,
    pub errors: Vec<InputError>,
    pub account: AccountPart,
    /// Files a directory walk found that are not ECS documents: file and why.
    pub ignored: Vec<(String, String)>,
    /// The accounts of an organization scan (id, name), in scan order; empty for one account.
    pub accounts: Vec<(String, String)>,
}

impl Plan {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.docs
            .iter()
            .flat_map(|d| d.findings.iter())
            .chain(self.account.findings.iter())
    }

    pub fn not_checked(&self) -> impl Iterator<Item = &NotChecked> {
        self.docs
            .iter()
            .flat_map(|d| d.not_checked.iter())
            .chain(self.account.not_checked.iter())
    }

    /// Exit code of `plan`: 1 when an input could not be used or read, or a check could not be
    /// run (not checked never counts as passing); else 2 when a finding of severity error
    /// remains; else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty()
            || self.findings().any(|f| f.unreadable)
            || self.not_checked().next().is_some()
        {
            1
        } else if self.findings().any(|f| f.severity == Severity::Error) {
            2
        } else {
            0
        }
    }

    /// Adds another plan (another region) to this one; identical live findings and operations
    /// (the same account-wide SCP finding seen from two regions) are kept once.
    pub fn extend(&mut self, other: Plan) {
        self.docs.extend(other.docs);
        self.errors.extend(other.errors);
        for f in other.account.findings {
            if !self.account.findings.iter().any(|g| {
                g.check.slug == f.check.slug && g.resource == f.resource && g.message == f.message
            }) {
                self.account.findings.push(f);
            }
        }
        for n in other.account.not_checked {
            if !self.account.not_checked.iter().any(|m| {
                m.check.slug == n.check.slug && m.resource == n.resource && m.reason == n.reason
            }) {
                self.account.not_checked.push(n);
            }
        }
        self.account.coverage.extend(other.account.coverage);
        self.account
            .coverage_unread
            .extend(other.account.coverage_unread);
        for (account, regions) in other.account.coverage_counts {
            self.account
                .coverage_counts
                .entry(account)
                .or_default()
                .extend(regions);
        }
        for op in other.account.operations {
            // The same operation in another account (the same role name, service name) is
            // another operation.
            let account = crate::model::finding::arn_account(&op.resource);
            if !self.account.operations.iter().any(|o| {
                o.operation == op.operation
                    && (o.region == op.region || op.operation.is_global())
                    && crate::model::finding::arn_account(&o.resource) == account
            }) {
                self.account.operations.push(op);
            }
        }
    }

    pub fn changed(&self) -> impl Iterator<Item = &DocPlan> {
        self.docs.iter().filter(|d| d.is_changed())
    }
}

impl DocPlan {
    /// True when the patch changes the document (more than `test` operations), or the plan
    /// writes a file beside it.
    pub fn is_changed(&self) -> bool {
        self.patches() || !self.derived.is_empty()
    }

    /// True when the patch changes the document itself.
    pub fn patches(&self) -> bool {
        self.patch
            .iter()
            .any(|op| !matches!(op, PatchOperation::Test(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Operation;

    fn planned(region: &str, operation: Operation) -> Plan {
        Plan {
            account: AccountPart {
                operations: vec![PlannedOperation {
                    resource: String::new(),
                    title: String::new(),
                    applicability: Applicability::Safe,
                    reason: None,
                    operation,
                    region: region.into(),
                    fingerprint: None,
                }],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn regional_operations_of_two_regions_are_kept_iam_ones_once() {
        let update = Operation::UpdateService {
            cluster: "prod".into(),
            service: "web".into(),
            task_definition: None,
            new_revision_of: None,
            platform_version: Some("LATEST".into()),
            force_new_deployment: false,
        };
        let attach = Operation::AttachRolePolicy {
            role_name: "exec".into(),
            policy_arn: "arn:aws:iam::aws:policy/p".into(),
        };
        let mut plan = planned("us-east-1", update.clone());
        plan.extend(planned("eu-west-1", update));
        plan.extend(planned("us-east-1", attach.clone()));
        plan.extend(planned("eu-west-1", attach));
        let regions: Vec<(&str, &str)> = plan
            .account
            .operations
            .iter()
            .map(|o| (o.region.as_str(), o.operation.name()))
            .collect();
        assert_eq!(
            regions,
            [
                ("us-east-1", "ecs:UpdateService"),
                ("eu-west-1", "ecs:UpdateService"),
                ("us-east-1", "iam:AttachRolePolicy")
            ]
        );
    }

    /// The same operation in two accounts of an organization is two operations.
    #[test]
    fn the_same_operation_in_two_accounts_is_kept_twice() {
        let attach = Operation::AttachRolePolicy {
            role_name: "ecsTaskExecutionRole".into(),
            policy_arn: "arn:aws:iam::aws:policy/p".into(),
        };
        let in_account = |account: &str| {
            let mut p = planned("us-east-1", attach.clone());
            p.account.operations[0].resource =
                format!("arn:aws:iam::{account}:role/ecsTaskExecutionRole");
            p
        };
        let mut plan = in_account("111111111111");
        plan.extend(in_account("222222222222"));
        plan.extend(in_account("111111111111"));
        assert_eq!(plan.account.operations.len(), 2);
    }
}
