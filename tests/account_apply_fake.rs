//! `apply --live` and `rollback` against the in-memory fake account: every operation of a plan
//! with several fixes, read back and planned again; a task definition shared by two services
//! registered once from its whole document; rollback back to the prior state; a failure in the
//! middle; a plan that went stale.

use crate::account_checks::{fake, plan, text};
use crate::snap;
use crate::support::block;
use fargate_rtm::apply::account::{Outcome, execute};
use fargate_rtm::apply::journal::{Journal, pending_undo};
use fargate_rtm::apply::preconditions::stale;
use fargate_rtm::apply::rollback::rollback;
use fargate_rtm::aws::ErrorKind;
use fargate_rtm::aws::fake::{Account, FakeAws};
use fargate_rtm::plan::{Plan, PlannedOperation};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const FIXTURE: &str = "tests/fixtures/account/apply/several-fixes.json";
const REGION: &str = "us-east-1";
const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";
const NEW_TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4";

/// The fake as `apply` gets it: one client per region.
fn clients() -> BTreeMap<String, FakeAws> {
    [(REGION.to_string(), fake(FIXTURE))].into()
}

fn slugs(p: &Plan) -> Vec<&'static str> {
    let mut s: Vec<_> = p.findings().map(|f| f.check.slug).collect();
    s.sort();
    s
}

struct Run {
    outcome: Outcome,
    journal: Journal,
    _dir: tempfile::TempDir,
}

fn apply(regions: &BTreeMap<String, FakeAws>, ops: &[PlannedOperation]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.jsonl")).unwrap();
    let outcome = block(execute(regions, ops, &mut journal)).unwrap();
    Run {
        outcome,
        journal,
        _dir: dir,
    }
}

/// Plans the fake account and applies every operation, which must all succeed.
fn apply_plan(regions: &BTreeMap<String, FakeAws>) -> Run {
    let aws = &regions[REGION];
    let p = plan(aws);
    let run = apply(regions, &p.account.operations);
    assert!(
        run.outcome.failed.is_none(),
        "{:?}\n{:#?}",
        run.outcome.failed,
        aws.log()
    );
    run
}

/// Undoes what the journal records as done and not undone yet.
fn undo(regions: &BTreeMap<String, FakeAws>, run: &mut Run, deregister: bool) -> Outcome {
    let text = std::fs::read_to_string(&run.journal.path).unwrap();
    let steps = pending_undo(&text, None).unwrap().steps;
    block(rollback(
        regions,
        &steps,
        deregister,
        false,
        &mut run.journal,
    ))
    .unwrap()
}

/// `before` with the revision the apply registered, in the given status.
fn with_new_revision(before: &Account, after: &Account, status: &str) -> Account {
    let mut expected = before.clone();
    let new = after.task_definitions[NEW_TD].clone();
    assert_eq!(new["taskDefinition"]["status"], status);
    expected.task_definitions.insert(NEW_TD.into(), new);
    expected
}

fn service<'a>(a: &'a Account, name: &str) -> &'a Value {
    a.services
        .iter()
        .find(|s| s["serviceName"] == name)
        .unwrap()
}

#[test]
fn account_apply_fixes_everything_once_and_rollback_restores_the_account() {
    let regions = clients();
    let aws = &regions[REGION];
    let before = aws.account();
    let p = plan(aws);
    assert_eq!(
        slugs(&p),
        [
            "agent-memory-headroom",
            "execution-role-lacks-ecr-access",
            "no-ecr-network-path",
            "no-ecr-network-path",
            "platform-version-too-old",
        ],
        "{}",
        text(&p)
    );
    let ops = &p.account.operations;
    assert!(block(stale(&regions, ops)).is_empty());

    let mut run = apply(&regions, ops);
    assert!(run.outcome.failed.is_none(), "{:?}", run.outcome.failed);
    assert_eq!(run.outcome.done, ops.len());
    let log = aws.log();
    snap!("account-apply-log", log.join("\n"));

    // Nothing is left to fix.
    let again = plan(aws);
    assert_eq!(slugs(&again), Vec::<&str>::new(), "{}", text(&again));
    assert!(again.account.operations.is_empty());
    assert_eq!(again.exit_code(), 0);

    // One new revision for both services, from the whole document: the planned change, and
    // every field the planner does not know kept.
    let after = aws.account();
    let registered = log
        .iter()
        .filter(|l| l.starts_with("ecs:RegisterTaskDefinition"))
        .count();
    assert_eq!(registered, 1, "{log:#?}");
    for name in ["web", "worker"] {
        assert_eq!(service(&after, name)["taskDefinition"], NEW_TD);
    }
    assert_eq!(service(&after, "worker")["platformVersion"], "LATEST");
    let old = &before.task_definitions[TD]["taskDefinition"];
    let new = &after.task_definitions[NEW_TD]["taskDefinition"];
    assert_eq!(new["memory"], "1024");
    assert_eq!(new["revision"], 4);
    for field in [
        "containerDefinitions",
        "ephemeralStorage",
        "runtimePlatform",
        "executionRoleArn",
    ] {
        assert_eq!(new[field], old[field], "{field}");
    }
    assert_eq!(
        new["containerDefinitions"][0]["linuxParameters"],
        json!({"initProcessEnabled": true})
    );
    assert_eq!(
        after.task_definitions[NEW_TD]["tags"],
        before.task_definitions[TD]["tags"]
    );
    assert_eq!(
        after.task_definitions[TD], before.task_definitions[TD],
        "web:3 is kept as it was"
    );

    // Rollback: everything but the new revision, which is kept unless asked.
    let undone = undo(&regions, &mut run, false);
    assert!(undone.failed.is_none(), "{:?}", undone.failed);
    assert_eq!(undone.skipped.len(), 1, "{:?}", undone.skipped);
    assert!(undone.skipped[0].contains("pass `--deregister`"));
    snap!("account-rollback-log", aws.log()[log.len()..].join("\n"));
    assert_eq!(aws.account(), with_new_revision(&before, &after, "ACTIVE"));

    // Asked to, a second rollback deregisters it (it stays, `INACTIVE`, as in AWS).
    let undone = undo(&regions, &mut run, true);
    assert_eq!((undone.done, undone.failed), (1, None));
    let now = aws.account();
    assert_eq!(now, with_new_revision(&before, &now, "INACTIVE"));
    // And a third has nothing left to do.
    let undone = undo(&regions, &mut run, true);
    assert_eq!(undone.done + undone.skipped.len(), 0);
}

#[test]
fn account_apply_stops_at_a_failure_and_rollback_restores_the_prior_state() {
    for (api, ran) in [("ec2:CreateVpcEndpoint", 3), ("ecs:UpdateService", 7)] {
        let regions = clients();
        let aws = &regions[REGION];
        let before = aws.account();
        let p = plan(aws);
        let ops = &p.account.operations;
        aws.fail(api, ErrorKind::Throttled);
        let mut run = apply(&regions, ops);
        let (title, error) = run.outcome.failed.clone().expect("the run stops");
        assert!(
            error.contains(&format!("`{api}`: throttled")),
            "{api}: {error}"
        );
        assert_eq!(run.outcome.done, ran, "{api}: {title}");
        assert_eq!(run.outcome.skipped.len(), ops.len() - ran - 1, "{api}");
        assert!(
            run.outcome
                .skipped
                .iter()
                .all(|s| s.ends_with("not run, an earlier step failed")),
            "{api}"
        );
        assert!(
            aws.log()
                .last()
                .is_some_and(|l| l.starts_with(api) && l.contains("failed (Throttled")),
            "{api}: {:#?}",
            aws.log()
        );
        assert_ne!(aws.account(), before, "{api}: the first steps were applied");

        let undone = undo(&regions, &mut run, true);
        assert!(undone.failed.is_none(), "{api}: {:?}", undone.failed);
        let after = aws.account();
        if after.task_definitions.contains_key(NEW_TD) {
            assert_eq!(
                after,
                with_new_revision(&before, &after, "INACTIVE"),
                "{api}"
            );
        } else {
            assert_eq!(after, before, "{api}");
        }
    }
}

#[test]
fn account_apply_of_a_stale_plan_changes_nothing() {
    // Someone moves the worker to 1.4.0 between plan and apply: the check before the run sees it.
    let regions = clients();
    let aws = &regions[REGION];
    let p = plan(aws);
    aws.edit(|a| {
        if let Some(s) = a.services.iter_mut().find(|s| s["serviceName"] == "worker") {
            s["platformVersion"] = "1.4.0".into();
        }
    });
    assert_eq!(
        block(stale(&regions, &p.account.operations)),
        ["service `worker` changed"]
    );

    // Someone changes the role: the run itself stops before its first step.
    let regions = clients();
    let aws = &regions[REGION];
    let p = plan(aws);
    aws.edit(|a| {
        if let Some(r) = a.roles.get_mut("ecsTaskExecutionRole") {
            r.inline.insert("more".into(), json!({"Statement": []}));
        }
    });
    let before = aws.account();
    let run = apply(&regions, &p.account.operations);
    let (_, error) = run.outcome.failed.clone().expect("the run stops");
    assert_eq!(
        error,
        "the plan is stale: role `ecsTaskExecutionRole` changed"
    );
    assert_eq!(run.outcome.done, 0);
    assert_eq!(aws.log(), Vec::<String>::new());
    assert_eq!(aws.account(), before);
}

/// A fixture account changed by `edit`, as `apply` gets it.
fn edited(path: &str, edit: impl FnOnce(&mut Value)) -> BTreeMap<String, FakeAws> {
    let text = std::fs::read_to_string(crate::support::root().join(path)).unwrap();
    let mut account: Value = serde_json::from_str(&text).unwrap();
    edit(&mut account);
    [(
        REGION.to_string(),
        FakeAws::from_json(&account.to_string()).unwrap(),
    )]
    .into()
}

/// Interface endpoints with private DNS need both VPC DNS attributes on: the attributes are
/// changed first, so one apply fixes a private subnet in a VPC with DNS hostnames off.
#[test]
fn vpc_dns_attributes_are_enabled_before_the_endpoints() {
    let regions = edited(
        "tests/fixtures/account/no-ecr-network-path.fail.json",
        |a| {
            a["vpcs"][0]["dns_hostnames"] = json!(false);
        },
    );
    let aws = &regions[REGION];
    let p = plan(aws);
    assert_eq!(slugs(&p), ["no-ecr-network-path", "vpc-dns-disabled"]);
    let run = apply(&regions, &p.account.operations);
    assert!(
        run.outcome.failed.is_none(),
        "{:?}\n{:#?}",
        run.outcome.failed,
        aws.log()
    );
    let again = plan(aws);
    assert_eq!(slugs(&again), Vec::<&str>::new(), "{}", text(&again));
}

/// The task definition a service runs after the apply, as the fake holds it.
fn running<'a>(a: &'a Account, name: &str) -> &'a Value {
    let arn = service(a, name)["taskDefinition"].as_str().unwrap();
    &a.task_definitions[arn]["taskDefinition"]
}

/// Two revisions of one family, each run by its own service, both too small: each service
/// moves to the revision made from the one it ran (new revisions are keyed by the source ARN,
/// not by family).
#[test]
fn each_service_gets_the_revision_made_from_its_own() {
    const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";
    let regions = edited(FIXTURE, |a| {
        let mut old = a["task_definitions"][TD].clone();
        old["taskDefinition"]["taskDefinitionArn"] = json!(OLD);
        old["taskDefinition"]["revision"] = json!(2);
        old["taskDefinition"]["containerDefinitions"][0]["image"] = json!("example/worker:7");
        a["task_definitions"][OLD] = old;
        let worker = a["services"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["serviceName"] == "worker")
            .unwrap();
        worker["taskDefinition"] = json!(OLD);
    });
    let aws = &regions[REGION];
    apply_plan(&regions);
    let after = aws.account();
    let (web, worker) = (running(&after, "web"), running(&after, "worker"));
    assert_ne!(web["revision"], worker["revision"], "{:#?}", aws.log());
    assert_eq!(
        web["containerDefinitions"][0]["image"],
        "public.ecr.aws/nginx/nginx:1.27"
    );
    assert_eq!(
        worker["containerDefinitions"][0]["image"],
        "example/worker:7"
    );
    assert_eq!(plan(aws).account.operations.len(), 0, "nothing left to do");
}

/// A service of the same name in another cluster is another service: only the one whose
/// tasks lack the agent is redeployed (services are keyed by cluster and name).
#[test]
fn a_same_named_service_in_another_cluster_is_never_touched() {
    let pass = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/account/stale-deployment.pass.json"),
    )
    .unwrap();
    let pass: Value = serde_json::from_str(&pass).unwrap();
    let regions = edited("tests/fixtures/account/stale-deployment.fail.json", |a| {
        // `staging/web`: the same service, every task already with the agent.
        let staging_arn = "arn:aws:ecs:us-east-1:123456789012:cluster/staging";
        let staging_svc = "arn:aws:ecs:us-east-1:123456789012:service/staging/web";
        a["clusters"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"name": "staging"}));
        let mut other = a["services"][0].clone();
        other["serviceArn"] = json!(staging_svc);
        other["clusterArn"] = json!(staging_arn);
        a["services"].as_array_mut().unwrap().insert(0, other);
        a["tasks"][staging_svc] =
            pass["tasks"]["arn:aws:ecs:us-east-1:123456789012:service/prod/web"].clone();
    });
    let aws = &regions[REGION];
    let staging_before = aws.account().services[0].clone();
    assert_eq!(
        staging_before["clusterArn"],
        "arn:aws:ecs:us-east-1:123456789012:cluster/staging"
    );
    let p = plan(aws);
    assert_eq!(slugs(&p), ["stale-deployment"]);
    let updates: Vec<_> = p
        .account
        .operations
        .iter()
        .map(|o| serde_json::to_value(&o.operation).unwrap())
        .collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert_eq!(updates[0]["cluster"], "prod", "{updates:#?}");
    let run = apply(&regions, &p.account.operations);
    assert!(run.outcome.failed.is_none(), "{:?}", run.outcome.failed);
    assert_eq!(
        aws.account().services[0],
        staging_before,
        "{:#?}",
        aws.log()
    );
    assert!(
        aws.log().iter().all(|l| !l.contains("staging")),
        "{:#?}",
        aws.log()
    );
}

/// Tasks may sit in a subnet of a secondary CIDR: the endpoint security group admits HTTPS from
/// every IPv4 CIDR of the VPC, not only the primary one.
#[test]
fn the_endpoint_group_admits_every_cidr_of_the_vpc() {
    let regions = edited(
        "tests/fixtures/account/no-ecr-network-path.fail.json",
        |a| {
            a["vpcs"][0]["secondary_cidrs"] = json!(["100.64.0.0/16"]);
        },
    );
    let aws = &regions[REGION];
    apply_plan(&regions);
    let groups = serde_json::to_value(aws.account().security_groups).unwrap();
    let endpoint_group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            g["name"]
                .as_str()
                .unwrap()
                .starts_with("fargate-rtm-ecr-endpoints-")
        })
        .unwrap();
    assert_eq!(
        endpoint_group["ingress"][0]["cidrs"],
        json!(["10.0.0.0/16", "100.64.0.0/16"]),
        "{endpoint_group:#}"
    );
}

/// Two private services of one VPC in subnets of two Availability Zones: one endpoint per
/// service name for the VPC, in a subnet of each zone (AWS allows one endpoint with private DNS
/// per service name and VPC).
#[test]
fn services_of_one_vpc_share_one_endpoint_per_service_name() {
    let regions = edited(
        "tests/fixtures/account/no-ecr-network-path.fail.json",
        |a| {
            let subnet_b = "subnet-0b2b2b2b2b2b2b2b2";
            a["subnets"].as_array_mut().unwrap().push(json!({
                "id": subnet_b, "vpc_id": "vpc-0b6e1f2a3c4d5e6f7", "availability_zone": "us-east-1b"
            }));
            a["route_tables"][0]["subnet_ids"]
                .as_array_mut()
                .unwrap()
                .push(json!(subnet_b));
            let mut api = a["services"][0].clone();
            api["serviceArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/prod/api");
            api["serviceName"] = json!("api");
            api["networkConfiguration"]["awsvpcConfiguration"]["subnets"] = json!([subnet_b]);
            a["services"].as_array_mut().unwrap().push(api);
        },
    );
    let aws = &regions[REGION];
    let p = plan(aws);
    let run = apply(&regions, &p.account.operations);
    assert!(
        run.outcome.failed.is_none(),
        "{:?}\n{:#?}",
        run.outcome.failed,
        aws.log()
    );
    let endpoints = serde_json::to_value(aws.account().vpc_endpoints).unwrap();
    let ecr_api: Vec<&Value> = endpoints
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service_name"] == "com.amazonaws.us-east-1.ecr.api")
        .collect();
    assert_eq!(ecr_api.len(), 1, "{endpoints:#}");
    assert_eq!(
        ecr_api[0]["subnet_ids"],
        json!(["subnet-04a1c2e3f4b5d6a7c", "subnet-0b2b2b2b2b2b2b2b2"])
    );
    assert_eq!(slugs(&plan(aws)), Vec::<&str>::new());
}

/// Without the VPC (its CIDRs), the endpoints' security group cannot be planned: not checked,
/// and no operation.
#[test]
fn an_unread_vpc_is_not_checked_never_a_group_open_to_nothing() {
    let regions = edited(
        "tests/fixtures/account/no-ecr-network-path.fail.json",
        |a| {
            a["vpcs"] = json!([]);
        },
    );
    let p = plan(&regions[REGION]);
    assert!(
        p.account
            .operations
            .iter()
            .all(|o| !o.operation.name().starts_with("ec2:")),
        "{}",
        text(&p)
    );
    assert!(
        p.not_checked()
            .any(|n| n.check.slug == "no-ecr-network-path"),
        "{}",
        text(&p)
    );
}

/// A missing execution role is two journaled steps: if attaching the policy fails, the role the
/// run created is recorded, and rollback deletes it.
#[test]
fn a_failed_attach_after_create_role_leaves_nothing_unrecorded() {
    let regions = edited(FIXTURE, |a| {
        a["roles"]
            .as_object_mut()
            .unwrap()
            .remove("ecsTaskExecutionRole");
    });
    let aws = &regions[REGION];
    let before = aws.account();
    let p = plan(aws);
    let names: Vec<&str> = p
        .account
        .operations
        .iter()
        .map(|o| o.operation.name())
        .collect();
    assert_eq!(
        names[..2],
        ["iam:CreateRole", "iam:AttachRolePolicy"],
        "{names:?}"
    );
    aws.fail("iam:AttachRolePolicy", ErrorKind::AccessDenied);
    let mut run = apply(&regions, &p.account.operations);
    assert_eq!(run.outcome.done, 1, "{:?}", run.outcome.failed);
    assert!(aws.account().roles.contains_key("ecsTaskExecutionRole"));
    let undone = undo(&regions, &mut run, false);
    assert!(undone.failed.is_none(), "{:?}", undone.failed);
    assert_eq!(aws.account(), before, "{:#?}", aws.log());
}

/// Rollback first checks each resource is still as the apply left it: a service someone moved
/// to another revision since is left alone, with the reason, until `--force`.
#[test]
fn rollback_leaves_a_resource_changed_since_the_apply_unless_forced() {
    let regions = clients();
    let aws = &regions[REGION];
    let before = aws.account();
    let mut run = apply_plan(&regions);
    const THEIRS: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:9";
    aws.edit(|a| {
        let web = a
            .services
            .iter_mut()
            .find(|s| s["serviceName"] == "web")
            .unwrap();
        web["taskDefinition"] = json!(THEIRS);
    });
    let first = undo(&regions, &mut run, false);
    assert!(first.failed.is_none(), "{:?}", first.failed);
    assert_eq!(first.changed.len(), 1, "{:?}", first.changed);
    assert!(
        first.changed[0].contains("service `web` now runs") && first.changed[0].contains("--force"),
        "{:?}",
        first.changed
    );
    assert_eq!(service(&aws.account(), "web")["taskDefinition"], THEIRS);
    assert_eq!(service(&aws.account(), "worker")["taskDefinition"], TD);
    // Nothing older than the step left behind was undone: it may rely on it.
    assert!(
        first
            .skipped
            .iter()
            .all(|s| s.ends_with("not run, an earlier step was left as it is")),
        "{:?}",
        first.skipped
    );
    assert!(aws.account().security_groups.len() > before.security_groups.len());
    // Forced, the step left behind and the older ones are undone; nothing is undone twice.
    let text = std::fs::read_to_string(&run.journal.path).unwrap();
    let steps = pending_undo(&text, None).unwrap().steps;
    assert_eq!(steps[0].inverse.name(), "ecs:UpdateService", "{steps:?}");
    assert!(
        steps.iter().all(|s| s.applied.as_ref().is_none_or(|a| {
            !matches!(a, fargate_rtm::operation::Operation::UpdateService { service, .. } if service == "worker")
        })),
        "the worker step was undone already: {steps:?}"
    );
    let forced = block(rollback(&regions, &steps, false, true, &mut run.journal)).unwrap();
    assert!(
        forced.failed.is_none() && forced.changed.is_empty(),
        "{forced:?}"
    );
    assert_eq!(
        aws.account(),
        with_new_revision(&before, &aws.account(), "ACTIVE")
    );
}

/// A run killed during its last call (the service update made, its `after` record never
/// written): rollback undoes that step too, from the state journaled before the call.
#[test]
fn a_run_killed_during_a_call_is_rolled_back_from_the_state_recorded_before_it() {
    let regions = clients();
    let aws = &regions[REGION];
    let before = aws.account();
    let mut run = apply_plan(&regions);
    let text = std::fs::read_to_string(&run.journal.path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    assert!(
        last.contains("\"phase\":\"after\"") && lines.last().unwrap().contains("ecs:UpdateService"),
        "{last}"
    );
    std::fs::write(&run.journal.path, lines.join("\n") + "\n").unwrap();
    let pending = pending_undo(&std::fs::read_to_string(&run.journal.path).unwrap(), None).unwrap();
    assert!(pending.in_doubt.is_empty(), "{:?}", pending.in_doubt);
    let undone = undo(&regions, &mut run, false);
    assert!(undone.failed.is_none(), "{:?}", undone.failed);
    assert_eq!(
        aws.account(),
        with_new_revision(&before, &aws.account(), "ACTIVE"),
        "{:#?}",
        aws.log()
    );
}

/// Endpoints deleted by a rollback still hold their security group while AWS removes them: the
/// group is deleted once they are gone (bounded wait), not left behind.
#[test]
fn rollback_waits_for_endpoints_before_deleting_their_group() {
    let regions = clients();
    let aws = &regions[REGION];
    let before = aws.account();
    let mut run = apply_plan(&regions);
    aws.fail("ec2:DeleteSecurityGroup", ErrorKind::InUse);
    let undone = undo(&regions, &mut run, false);
    assert!(undone.failed.is_none(), "{:?}", undone.failed);
    assert_eq!(
        aws.account(),
        with_new_revision(&before, &aws.account(), "ACTIVE")
    );
    let log = aws.log();
    let deletes: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("ec2:DeleteSecurityGroup"))
        .collect();
    assert_eq!(deletes.len(), 2, "{log:#?}");
}

/// The journal of `run` without the `after` record of its step `seq`, as if the process had
/// been killed during that call.
fn without_after(run: &Run, seq: u64) -> String {
    std::fs::read_to_string(&run.journal.path)
        .unwrap()
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            !(v["seq"] == seq && v["phase"] == "after")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A creation killed during its call leaves no undo in the journal: rollback finds what that
/// run created by its run tag and undoes it, or says nothing was created. Never ignored.
#[test]
fn a_creation_in_doubt_is_resolved_by_reading_the_account() {
    use fargate_rtm::apply::rollback::{Resolved, resolve_in_doubt};
    let regions = clients();
    let aws = &regions[REGION];
    let before = aws.account();
    let p = plan(aws);
    // Every step up to the first endpoint, which is created and never recorded as finished.
    let upto = p
        .account
        .operations
        .iter()
        .position(|o| o.operation.name() == "ec2:CreateVpcEndpoint")
        .unwrap();
    let mut run = apply(&regions, &p.account.operations[..=upto]);
    assert!(run.outcome.failed.is_none(), "{:?}", run.outcome.failed);
    std::fs::write(&run.journal.path, without_after(&run, upto as u64 + 1)).unwrap();
    let text = std::fs::read_to_string(&run.journal.path).unwrap();
    let pending = pending_undo(&text, None).unwrap();
    assert_eq!(pending.in_doubt.len(), 1, "{:?}", pending.in_doubt);
    let d = &pending.in_doubt[0];
    let Resolved::Created(ops) = block(resolve_in_doubt(aws, d)) else {
        panic!(
            "the endpoint was created: {:?}",
            aws.account().vpc_endpoints
        )
    };
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].name(), "ec2:DeleteVpcEndpoints");
    let mut steps = pending.steps.clone();
    steps.insert(
        0,
        fargate_rtm::apply::journal::Undo {
            run: d.run.clone(),
            seq: d.seq,
            region: d.region.clone(),
            inverse: ops[0].clone(),
            applied: None,
        },
    );
    let undone = block(rollback(&regions, &steps, false, false, &mut run.journal)).unwrap();
    assert!(undone.failed.is_none(), "{:?}", undone.failed);
    assert_eq!(aws.account(), before, "{:#?}", aws.log());
    // Undone, it is no longer in doubt.
    let text = std::fs::read_to_string(&run.journal.path).unwrap();
    let left = pending_undo(&text, None).unwrap();
    assert!(
        left.in_doubt.is_empty() && left.steps.is_empty(),
        "{left:?}"
    );
    // The same step, had the call not taken effect: nothing of that run is there, and once
    // rollback records that, the step is settled.
    assert!(matches!(
        block(resolve_in_doubt(aws, d)),
        Resolved::NotCreated(_)
    ));
    let settled = without_after(&run, upto as u64 + 1)
        + &json!({"run": d.run, "phase": "rollback-after", "of": d.seq, "status": "skipped"})
            .to_string();
    assert!(pending_undo(&settled, None).unwrap().in_doubt.is_empty());
    // Another run's resources are never taken for this one's.
    let other = fargate_rtm::apply::journal::InDoubt {
        run: "another-run".into(),
        ..d.clone()
    };
    let regions2 = clients();
    let aws2 = &regions2[REGION];
    let _ = apply_plan(&regions2);
    assert!(matches!(
        block(resolve_in_doubt(aws2, &other)),
        Resolved::NotCreated(_)
    ));
}

/// A role: created by this run (its run tag), by someone else, or not at all.
#[test]
fn a_role_in_doubt_is_ours_only_with_our_run_tag() {
    use fargate_rtm::apply::account::created_tags;
    use fargate_rtm::apply::journal::InDoubt;
    use fargate_rtm::apply::rollback::{Resolved, resolve_in_doubt};
    use fargate_rtm::aws::Iam;
    use fargate_rtm::operation::Operation;
    let aws = fake(FIXTURE);
    let step = |role: &str| InDoubt {
        run: "run-1".into(),
        seq: 1,
        region: REGION.into(),
        name: "iam:CreateRole".into(),
        applied: Some(Operation::CreateRole {
            role_name: role.into(),
            assume_role_policy: json!({}),
            attach_policy_arns: vec![],
        }),
        tagged: true,
    };
    block(aws.create_role("ours", &json!({}), &created_tags("run-1"))).unwrap();
    block(aws.create_role("theirs", &json!({}), &created_tags("run-2"))).unwrap();
    block(aws.create_role("untagged", &json!({}), &Default::default())).unwrap();
    assert_eq!(
        block(resolve_in_doubt(&aws, &step("ours"))),
        Resolved::Created(vec![Operation::DeleteRole {
            role_name: "ours".into(),
            detach_policy_arns: vec![]
        }])
    );
    for r in ["theirs", "untagged", "missing"] {
        assert!(
            matches!(
                block(resolve_in_doubt(&aws, &step(r))),
                Resolved::NotCreated(_)
            ),
            "{r}"
        );
    }
    // A journal from before apply tagged what it created: never taken for "not created".
    let old = InDoubt {
        tagged: false,
        ..step("missing")
    };
    assert!(matches!(
        block(resolve_in_doubt(&aws, &old)),
        Resolved::Unknown(_)
    ));
    aws.fail_always("iam:GetRole", ErrorKind::AccessDenied);
    assert!(matches!(
        block(resolve_in_doubt(&aws, &step("ours"))),
        Resolved::Unknown(_)
    ));
}
