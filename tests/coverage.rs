//! GuardDuty's own coverage beside the plan: `ListCoverage` records read through the real SDK
//! (`aws-smithy-mocks`: moto has no `ListCoverage`), and matched to the findings of hand-built
//! inventories.

use crate::account_plan::inventory;
use crate::support::block;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use fargate_rtm::aws::{AwsError, Coverage, ErrorKind, GuardDuty, sdk::SdkAws};
use fargate_rtm::check::EcrPolicy;
use fargate_rtm::coverage;
use fargate_rtm::model::inventory::{CoverageRead, Inventory, RoleView};
use fargate_rtm::plan::Plan;
use fargate_rtm::plan::account::plan_inventory;
use fargate_rtm::render;

fn guardduty(rules: Vec<aws_smithy_mocks::Rule>) -> SdkAws {
    let none = Vec::<aws_smithy_mocks::Rule>::new();
    SdkAws::from_clients(
        "us-east-1",
        mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &none),
        mock_client!(aws_sdk_iam, RuleMode::MatchAny, &none),
        mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &none),
        mock_client!(aws_sdk_sts, RuleMode::MatchAny, &none),
        mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, &rules),
        mock_client!(aws_sdk_organizations, RuleMode::MatchAny, &none),
    )
}

/// Every issue family of the documentation (each rule's examples), an unparsed string, a
/// task definition no service runs and an EC2 gap, over two pages, read through the SDK: each issue
/// is read by its own rule.
#[test]
fn list_coverage_through_the_sdk() {
    use aws_sdk_guardduty::types::{
        ContainerInstanceDetails, CoverageEcsClusterDetails, CoverageResource,
        CoverageResourceDetails, CoverageStatus, FargateDetails, ManagementType, ResourceType,
    };
    let mut issues: Vec<String> = coverage::rules()
        .iter()
        .flat_map(|r| r.examples.iter().cloned())
        .collect();
    issues.push("Something new happened to the agent".into());
    let record = move |cluster: &str, status: CoverageStatus, issues: Vec<String>| {
        CoverageResource::builder()
            .resource_id(format!(
                "arn:aws:ecs:us-east-1:123456789012:cluster/{cluster}"
            ))
            .account_id("123456789012")
            .coverage_status(status)
            .updated_at(aws_smithy_types::DateTime::from_secs(1_764_460_800))
            .resource_details(
                CoverageResourceDetails::builder()
                    .resource_type(ResourceType::Ecs)
                    .ecs_cluster_details(
                        CoverageEcsClusterDetails::builder()
                            .cluster_name(cluster)
                            .fargate_details(
                                FargateDetails::builder()
                                    .set_issues(Some(issues))
                                    .management_type(ManagementType::AutoManaged)
                                    .build(),
                            )
                            .container_instance_details(
                                ContainerInstanceDetails::builder()
                                    .covered_container_instances(1)
                                    .compatible_container_instances(3)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    };
    let (r1, r2) = (record, record);
    let all = issues.clone();
    let rules = vec![
        mock!(aws_sdk_guardduty::Client::list_coverage)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || {
                aws_sdk_guardduty::operation::list_coverage::ListCoverageOutput::builder()
                    .resources(r1("prod", CoverageStatus::Unhealthy, all.clone()))
                    .next_token("page-2")
                    .build()
            }),
        mock!(aws_sdk_guardduty::Client::list_coverage)
            .match_requests(|r| {
                r.next_token() == Some("page-2")
                    && r.filter_criteria()
                        .is_some_and(|c| c.filter_criterion().iter().any(|k| {
                            k.criterion_key().is_some_and(|k| k.as_str() == "ACCOUNT_ID")
                                && k.filter_condition().is_some_and(|c| c.equals() == ["123456789012"])
                        }))
            })
            .then_output(move || {
                aws_sdk_guardduty::operation::list_coverage::ListCoverageOutput::builder()
                    .resources(r2("dev", CoverageStatus::Healthy, vec![]))
                    .build()
            }),
        mock!(aws_sdk_guardduty::Client::get_coverage_statistics).then_output(|| {
            aws_sdk_guardduty::operation::get_coverage_statistics::GetCoverageStatisticsOutput::builder()
                .coverage_statistics(
                    aws_sdk_guardduty::types::CoverageStatistics::builder()
                        .count_by_coverage_status(CoverageStatus::Healthy, 4)
                        .count_by_coverage_status(CoverageStatus::Unhealthy, 1)
                        .build(),
                )
                .build()
        }),
    ];
    let aws = guardduty(rules);
    let records = block(aws.ecs_coverage("d-1", "123456789012")).unwrap();
    assert_eq!(records.len(), 2, "both pages: {records:?}");
    let prod = &records[0];
    assert_eq!(
        (
            prod.cluster.as_str(),
            prod.status.as_str(),
            prod.account.as_str()
        ),
        ("prod", "UNHEALTHY", "123456789012")
    );
    assert_eq!(prod.management_type.as_deref(), Some("AUTO_MANAGED"));
    assert_eq!(prod.updated_at.as_deref(), Some("2025-11-30T00:00:00Z"));
    assert_eq!(prod.container_instances, Some((1, 3)));
    assert_eq!(prod.fargate_issues, issues);
    // Every rule reads its own examples; the new wording stays raw.
    let read: Vec<Option<&str>> = prod
        .fargate_issues
        .iter()
        .map(|i| coverage::parse(i).rule)
        .collect();
    for r in coverage::rules() {
        assert!(
            read.contains(&Some(r.id.as_str())),
            "rule `{}` not read",
            r.id
        );
    }
    assert_eq!(read.last(), Some(&None));
    assert_eq!(records[1].status, "HEALTHY");
    let counts = block(aws.ecs_coverage_counts("d-1", "123456789012")).unwrap();
    assert_eq!(
        counts,
        [("HEALTHY".to_string(), 4), ("UNHEALTHY".to_string(), 1)].into()
    );
}

/// Without `guardduty:ListCoverage` the error says so (the scan then reports the comparison
/// not checked).
#[test]
fn list_coverage_access_denied() {
    let rules = vec![
        mock!(aws_sdk_guardduty::Client::list_coverage).then_error(|| {
            aws_sdk_guardduty::operation::list_coverage::ListCoverageError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("User is not authorized to perform: guardduty:ListCoverage")
                    .build(),
            )
        }),
    ];
    let e = block(guardduty(rules).ecs_coverage("d-1", "123456789012")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{e}");
}

fn record(status: &str, issues: &[&str]) -> Coverage {
    Coverage {
        account: "123456789012".into(),
        cluster: "prod".into(),
        status: status.into(),
        issue: None,
        updated_at: Some("2025-11-30T00:00:00Z".into()),
        management_type: Some("AUTO_MANAGED".into()),
        fargate_issues: issues.iter().map(|s| s.to_string()).collect(),
        container_instances: None,
    }
}

fn with_coverage(mut inv: Inventory, records: Vec<Coverage>) -> Inventory {
    inv.coverage = CoverageRead::Read {
        records,
        counts: Ok([("UNHEALTHY".to_string(), 1)].into()),
    };
    inv
}

fn plan(inv: &Inventory) -> Plan {
    plan_inventory(inv, &Default::default(), EcrPolicy::Scoped)
}

/// The execution role of the baseline inventory without any ECR permission.
fn without_ecr(mut inv: Inventory) -> Inventory {
    if let Some(RoleView::Found { policies, .. }) = inv.roles.get_mut("exec") {
        *policies = Ok(vec![]);
    }
    inv
}

const PULL: &str = "Agent exited: Reason: CannotPullContainerError: pull image manifest has been retried 5 time(s) for tasks in TaskDefinition - 'web:3'";

/// Each issue beside the findings that explain it; one no finding explains, or no rule reads, is
/// a `coverage-unexplained` warning; an issue on a task definition no service runs is
/// `not-scanned` (warned about only when no check could explain it); an EC2 gap is said to be
/// outside Fargate.
#[test]
fn issues_are_matched_to_the_findings_that_explain_them() {
    let issues = [
        PULL,
        "TaskExecutionRole missing from TaskDefinition - 'web:2'",
        "Something new happened to the agent",
        "Unsupported invocation by AWS Batch for task(s) in TaskDefinition - 'job:1'",
    ];
    let mut rec = record("UNHEALTHY", &issues);
    rec.container_instances = Some((1, 3));
    // The role cannot pull: the pull failure is explained.
    let p = plan(&with_coverage(without_ecr(inventory()), vec![rec.clone()]));
    let c = &p.account.coverage[0];
    assert_eq!(c.issues[0].rule, "pull-failed");
    assert_eq!(c.issues[0].when, Some("current"));
    assert_eq!(
        c.issues[0].explained_by,
        ["`execution-role-lacks-ecr-access` on the role `exec`"]
    );
    assert_eq!(c.issues[1].when, Some("not-scanned"));
    assert!(!c.issues[1].unexplained());
    assert_eq!(c.issues[2].rule, "unparsed");
    assert_eq!(c.ec2_gap.map(|g| (g.covered, g.compatible)), Some((1, 3)));
    let warned: Vec<&str> = p
        .findings()
        .filter(|f| f.check.slug == "coverage-unexplained")
        .map(|f| f.message.as_str())
        .collect();
    // A task definition no scanned service runs: warned about only when no check could
    // explain it (a Batch job's task).
    assert_eq!(c.issues[3].when, Some("not-scanned"));
    assert_eq!(
        warned,
        [
            "GuardDuty reports an issue no rule reads: \"Something new happened to the agent\"",
            "GuardDuty reports `unsupported-invocation`, which no finding explains: \"Unsupported invocation by AWS Batch for task(s) in TaskDefinition - 'job:1'\"",
        ]
    );
    let mut text = Vec::new();
    render::text::render(&p, &mut text, Default::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    for line in [
        "GuardDuty coverage (`ListCoverage`):",
        "  cluster `prod` (us-east-1): UNHEALTHY, updated 2025-11-30T00:00:00Z (",
        "    issue pull-failed (current, `web:3`): \"Agent exited: Reason: CannotPullContainerError",
        "      explained by `execution-role-lacks-ecr-access` on the role `exec`",
        "    issue execution-role-missing (not-scanned, `web:2`)",
        "      no scanned service runs it (a task that stopped since, a `RunTask` or scheduled task, or a service outside the scan)",
        "    issue unparsed: \"Something new happened to the agent\"",
        "      explained by no finding (`coverage-unexplained`)",
        "    EC2 container instances: 1 of 3 covered (outside Fargate: not checked here)",
        "GuardDuty coverage: 0 healthy, 1 unhealthy (4 issues, 2 unexplained)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    // JSON: `coverage` per cluster; SARIF: the explained issue as a related location.
    let mut json = Vec::new();
    render::json::write(&p, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["coverage"][0]["cluster"], "prod");
    assert_eq!(
        v["coverage"][0]["issues"][0]["explained_by"][0],
        "`execution-role-lacks-ecr-access` on the role `exec`"
    );
    assert_eq!(
        v["coverage_counts"]["123456789012"]["us-east-1"]["UNHEALTHY"],
        1
    );
    let sarif = render::sarif::to_value(&p);
    let related = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "execution-role-lacks-ecr-access")
        .unwrap()["relatedLocations"]
        .clone();
    assert!(
        related[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("GuardDuty coverage of cluster `prod`: pull-failed"),
        "{related}"
    );
    // Control: with the role fixed, the pull failure is unexplained (GuardDuty saw something
    // the configuration does not show).
    let p = plan(&with_coverage(inventory(), vec![rec]));
    let warned: Vec<&str> = p
        .findings()
        .filter(|f| f.check.slug == "coverage-unexplained")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(warned.len(), 3, "{warned:?}");
    assert!(
        warned[0].contains("`pull-failed`, which no finding explains"),
        "{warned:?}"
    );
}

/// A finding on a cluster GuardDuty reports healthy is kept, and said not yet observed.
#[test]
fn healthy_clusters_keep_their_findings() {
    let p = plan(&with_coverage(
        without_ecr(inventory()),
        vec![record("HEALTHY", &[])],
    ));
    let f = p
        .findings()
        .find(|f| f.check.slug == "execution-role-lacks-ecr-access")
        .unwrap();
    assert!(
        f.message.ends_with(
            "(GuardDuty reports cluster `prod` `HEALTHY`: not yet observed by GuardDuty)"
        ),
        "{}",
        f.message
    );
    assert_eq!(p.exit_code(), 2);
    // Control: no finding, nothing said.
    let p = plan(&with_coverage(inventory(), vec![record("HEALTHY", &[])]));
    assert_eq!(p.findings().count(), 0);
    assert!(p.account.coverage[0].not_yet_observed.is_empty());
    assert_eq!(p.exit_code(), 0);
}

/// Coverage that cannot be read is said beside the plan; it is GuardDuty's view, not a
/// prerequisite: the rest of the scan runs and the exit code is the findings'.
#[test]
fn unreadable_coverage_is_said_and_the_rest_runs() {
    let mut inv = without_ecr(inventory());
    inv.coverage = CoverageRead::Unreadable(AwsError {
        api: "guardduty:ListCoverage",
        kind: ErrorKind::AccessDenied,
        message: "not authorized".into(),
    });
    let p = plan(&inv);
    assert_eq!(p.account.coverage_unread.len(), 1);
    assert!(
        p.findings()
            .any(|f| f.check.slug == "execution-role-lacks-ecr-access")
    );
    assert!(!p.findings().any(|f| f.check.slug == "coverage-unexplained"));
    assert_eq!(p.exit_code(), 2);
    let mut text = Vec::new();
    render::text::render(&p, &mut text, Default::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("GuardDuty coverage (`ListCoverage`):\n  not checked in `us-east-1`: "),
        "{text}"
    );
    let mut json = Vec::new();
    render::json::write(&p, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["coverage_not_checked"][0]["region"], "us-east-1");
}

/// Coverage a delegated administrator read once for the organization is given to each account's
/// scan: the account's own `ListCoverage` is not called (here it would be denied), and only its
/// records are kept.
#[test]
fn a_delegated_administrators_coverage_is_read_once_for_every_member() {
    use fargate_rtm::input::account::{Progress, Scope, scan};
    struct NoProgress;
    impl Progress for NoProgress {}
    let fake = crate::account_checks::fake("tests/fixtures/account/coverage-unexplained.pass.json");
    fake.edit(|a| a.coverage.clear());
    fake.fail_always("guardduty:ListCoverage", ErrorKind::AccessDenied);
    let mut mine = record(
        "UNHEALTHY",
        &["Unsupported invocation by AWS Batch for task(s) in TaskDefinition - 'web:3'"],
    );
    mine.account = "123456789012".into();
    let mut other = record("HEALTHY", &[]);
    other.account = "222222222222".into();
    let scope = Scope {
        default_execution_role: Some("ecsTaskExecutionRole".into()),
        admin_coverage: Some(std::sync::Arc::new(
            [("us-east-1".to_string(), vec![mine, other])].into(),
        )),
        ..Default::default()
    };
    let inv = block(scan(&fake, &scope, &NoProgress)).unwrap();
    let CoverageRead::Read { records, counts } = &inv.coverage else {
        panic!("{:?}", inv.coverage);
    };
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].account, "123456789012");
    assert_eq!(
        counts.as_ref().unwrap(),
        &[("UNHEALTHY".to_string(), 1)].into()
    );
    let p = plan(&inv);
    assert!(p.findings().any(|f| f.check.slug == "coverage-unexplained"));
}
