//! Each account check fails on its `tests/fixtures/account/<slug>.fail.json` account and passes
//! on `<slug>.pass.json`, an account that differs only in what the check decides on; both are
//! scanned from the in-memory fake through the `aws` traits and planned as `plan --live` does.
//! The text output of each failing account is snapshotted; a read that is denied is reported as
//! not checked, never as a pass.

use crate::snap;
use crate::support::{block, root};
use fargate_rtm::aws::ErrorKind;
use fargate_rtm::aws::fake::FakeAws;
use fargate_rtm::check::{self, EcrPolicy};
use fargate_rtm::input::account::{Progress, Scope, scan};
use fargate_rtm::model::CheckInfo;
use fargate_rtm::plan::account::plan_inventory;
use fargate_rtm::plan::{Plan, PlanOptions};
use fargate_rtm::render::text::{Style, render};

struct NoProgress;

impl Progress for NoProgress {}

/// The checks that need an account, from the registry.
fn account_checks() -> impl Iterator<Item = &'static CheckInfo> {
    check::REGISTRY
        .iter()
        .filter(|c| c.needs_account())
        .map(|c| c.info)
}

fn fixture(slug: &str, kind: &str) -> String {
    format!("tests/fixtures/account/{slug}.{kind}.json")
}

pub fn fake(path: &str) -> FakeAws {
    let text = std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    FakeAws::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What `plan --live` scans (the default execution role is the CLI's default).
pub fn scope() -> Scope {
    Scope {
        default_execution_role: Some("ecsTaskExecutionRole".into()),
        ..Default::default()
    }
}

/// Scans the fake and plans it as `plan --live` does.
pub fn plan(fake: &FakeAws) -> Plan {
    let inv = block(scan(fake, &scope(), &NoProgress)).expect("the identity is readable");
    let opts = PlanOptions {
        materialize: true,
        ..Default::default()
    };
    plan_inventory(&inv, &opts, EcrPolicy::Scoped)
}

pub fn text(plan: &Plan) -> String {
    let mut out = Vec::new();
    let style = Style {
        color: false,
        ..Default::default()
    };
    render(plan, &mut out, style).unwrap();
    String::from_utf8(out).unwrap()
}

fn slugs(plan: &Plan) -> Vec<&'static str> {
    plan.findings().map(|f| f.check.slug).collect()
}

fn not_checked(plan: &Plan) -> Vec<String> {
    plan.not_checked()
        .map(|n| format!("{} {}: {}", n.check.slug, n.subject, n.reason))
        .collect()
}

#[test]
fn account_check_fixtures_and_snapshots_exist_for_every_check() {
    for c in account_checks() {
        for kind in ["fail", "pass"] {
            let path = fixture(c.slug, kind);
            assert!(root().join(&path).is_file(), "{path} is missing");
        }
        let snap = format!("snapshots/account-check-{}.snap", c.slug);
        assert!(root().join(&snap).is_file(), "{snap} is missing");
    }
}

#[test]
fn account_checks_fail_on_the_fail_fixture_and_pass_on_the_pass_fixture() {
    for c in account_checks() {
        let fail = fixture(c.slug, "fail");
        let p = plan(&fake(&fail));
        assert_eq!(slugs(&p), [c.slug], "{fail}:\n{}", text(&p));
        assert_eq!(not_checked(&p), Vec::<String>::new(), "{fail}");
        let expected = if c.severity == fargate_rtm::model::Severity::Error {
            2
        } else {
            0
        };
        assert_eq!(p.exit_code(), expected, "{fail}");

        let pass = fixture(c.slug, "pass");
        let p = plan(&fake(&pass));
        assert_eq!(slugs(&p), Vec::<&str>::new(), "{pass}:\n{}", text(&p));
        assert_eq!(not_checked(&p), Vec::<String>::new(), "{pass}");
        assert!(p.account.operations.is_empty(), "{pass}");
        assert_eq!(p.exit_code(), 0, "{pass}");
    }
}

/// The text of each failing account. An account finding on a service (`no-ecr-network-path`,
/// `s3-egress-blocked`, `stale-deployment`) makes that service's document "not ready" in the
/// summary line, never "ready" beside an error.
#[test]
fn account_check_outputs() {
    for c in account_checks() {
        let p = plan(&fake(&fixture(c.slug, "fail")));
        let out = text(&p);
        let on_a_document = p.account.findings.iter().any(|f| {
            f.severity == fargate_rtm::model::Severity::Error
                && p.docs.iter().any(|d| d.resource == f.resource)
        });
        if on_a_document {
            assert!(!out.contains(", 0 not ready"), "{}:\n{out}", c.slug);
        }
        // How long ago GuardDuty updated a cluster depends on today.
        let out = out
            .split(" (")
            .map(|part| {
                let age = part.split_once(')').filter(|(a, _)| {
                    *a == "just now"
                        || a.strip_suffix(" ago").is_some_and(|n| {
                            n.split_once(' ').is_some_and(|(d, u)| {
                                d.chars().all(|c| c.is_ascii_digit())
                                    && ["minutes", "hours", "days"].contains(&u)
                            })
                        })
                });
                match age {
                    Some((_, rest)) => format!("AGE){rest}"),
                    None => part.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join(" (");
        snap!(format!("account-check-{}", c.slug), out);
    }
}

#[test]
fn account_reads_that_are_denied_are_not_checked_never_passed() {
    // Each read, denied on an account where its check would pass.
    let cases = [
        (
            "guardduty:ListDetectors",
            "runtime-monitoring-disabled",
            "runtime-monitoring-disabled.pass.json",
        ),
        (
            "organizations:ListPoliciesForTarget",
            "scp-blocks-agent",
            "scp-blocks-agent.pass.json",
        ),
        (
            "iam:ListAttachedRolePolicies",
            "execution-role-lacks-ecr-access",
            "execution-role-lacks-ecr-access.pass.json",
        ),
        (
            "ec2:DescribeRouteTables",
            "no-ecr-network-path",
            "no-ecr-network-path.pass.json",
        ),
        (
            "ecs:ListTasks",
            "stale-deployment",
            "stale-deployment.pass.json",
        ),
    ];
    for (api, slug, file) in cases {
        let fake = fake(&format!("tests/fixtures/account/{file}"));
        fake.fail_always(api, ErrorKind::AccessDenied);
        let p = plan(&fake);
        assert!(!slugs(&p).contains(&slug), "{api}: {:?}", slugs(&p));
        let reasons: Vec<String> = p
            .not_checked()
            .filter(|n| n.check.slug == slug)
            .map(|n| n.reason.clone())
            .collect();
        assert!(
            reasons
                .iter()
                .any(|r| r.contains(&format!("`{api}`: access denied"))),
            "{api}: {reasons:?}\n{}",
            text(&p)
        );
        assert_eq!(p.exit_code(), 1, "{api}: not checked is not ready");
        assert!(text(&p).contains("not checked"), "{api}");
    }
}

/// A subnet shared by another account (a shared VPC): only the owner can add endpoints or change
/// route tables there, so the fix is manual and names the owner; nothing is planned.
#[test]
fn a_shared_vpc_gets_a_manual_fix_naming_its_owner() {
    let path = "tests/fixtures/account/no-ecr-network-path.fail.json";
    let mut account: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap();
    account["subnets"][0]["owner_id"] = "444455556666".into();
    let p = plan(&FakeAws::from_json(&account.to_string()).unwrap());
    let f = p
        .findings()
        .find(|f| f.check.slug == "no-ecr-network-path")
        .unwrap();
    assert_eq!(
        f.fix.applicability,
        fargate_rtm::model::Applicability::Manual
    );
    assert!(f.fix.title.contains("`444455556666`"), "{}", f.fix.title);
    assert!(
        p.account.operations.is_empty(),
        "{:?}",
        p.account.operations
    );
}

fn edited(path: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Plan {
    let mut account: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap();
    edit(&mut account);
    plan(&FakeAws::from_json(&account.to_string()).unwrap())
}

/// One action that depends on a condition never hides another that nothing allows: both are
/// reported, the first as not checked, the second as a finding.
#[test]
fn an_undecided_action_never_hides_a_missing_one() {
    let p = edited(
        "tests/fixtures/account/execution-role-lacks-ecr-access.fail.json",
        |a| {
            a["roles"]["ecsTaskExecutionRole"]["inline"]["pull"] = serde_json::json!({
                "Statement": [
                    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"], "Resource": "*"},
                    {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        },
    );
    let nc = not_checked(&p);
    assert!(
        nc.iter().any(|n| n.contains("`ecr:BatchGetImage` depends on")
            && n.contains("`aws:SourceVpce`")),
        "{nc:?}"
    );
    assert_eq!(
        slugs(&p),
        Vec::<&str>::new(),
        "only BatchGetImage is in question"
    );
    let p = edited(
        "tests/fixtures/account/execution-role-lacks-ecr-access.fail.json",
        |a| {
            a["roles"]["ecsTaskExecutionRole"]["inline"]["pull"] = serde_json::json!({
                "Statement": [
                    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability"], "Resource": "*"},
                    {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        },
    );
    assert_eq!(
        slugs(&p),
        ["execution-role-lacks-ecr-access"],
        "{}",
        text(&p)
    );
    assert!(
        p.findings()
            .any(|f| f.message.contains("`ecr:GetDownloadUrlForLayer`")),
        "{}",
        text(&p)
    );
    assert_eq!(not_checked(&p).len(), 1, "{:?}", not_checked(&p));
}

/// A default route the account's view cannot follow is not checked, naming the route, never a
/// pass; with the endpoints in place the route does not matter.
#[test]
fn routes_that_leave_the_account_are_not_checked_naming_them() {
    for target in [
        "tgw-0a1b2c3d4e5f6a7b8",
        "vgw-0a1b2c3d4e5f6a7b8",
        "pcx-0a1b2c3d4e5f6a7b8",
        "vpce-0f1e2d3c4b5a69788",
        "arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d",
    ] {
        let route =
            serde_json::json!({"destination": "0.0.0.0/0", "target": target, "active": true});
        let p = edited(
            "tests/fixtures/account/no-ecr-network-path.fail.json",
            |a| {
                a["route_tables"][0]["routes"]
                    .as_array_mut()
                    .unwrap()
                    .push(route.clone());
            },
        );
        assert!(!slugs(&p).contains(&"no-ecr-network-path"), "{target}");
        let nc = not_checked(&p);
        assert!(
            nc.iter().any(|n| n.starts_with("no-ecr-network-path")
                && n.contains(&format!("`{target}`"))
                && n.contains("cannot be verified")),
            "{target}: {nc:?}"
        );
        assert_eq!(p.exit_code(), 1, "{target}");
        let p = edited(
            "tests/fixtures/account/no-ecr-network-path.pass.json",
            |a| {
                a["route_tables"][0]["routes"]
                    .as_array_mut()
                    .unwrap()
                    .push(route.clone());
            },
        );
        assert_eq!(not_checked(&p), Vec::<String>::new(), "{target}");
    }
}

/// A private NAT gateway is no way out; a public one is, through its subnet's internet gateway.
#[test]
fn a_private_nat_gateway_is_not_an_internet_path() {
    for (connectivity, igw, blocked) in [
        ("private", true, true),
        ("public", false, true),
        ("public", true, false),
    ] {
        let p = edited(
            "tests/fixtures/account/no-ecr-network-path.fail.json",
            |a| {
                let vpc = a["vpcs"][0]["id"].clone();
                a["subnets"].as_array_mut().unwrap().push(serde_json::json!({
                "id": "subnet-0nat", "vpc_id": vpc, "availability_zone": "us-east-1a", "cidr": "10.0.200.0/24"}));
                let mut routes = vec![
                    serde_json::json!({"destination": "10.0.0.0/16", "target": "local", "active": true}),
                ];
                if igw {
                    routes.push(serde_json::json!({"destination": "0.0.0.0/0", "target": "igw-0a1b", "active": true}));
                }
                a["route_tables"].as_array_mut().unwrap().push(serde_json::json!({
                "id": "rtb-0nat", "vpc_id": vpc, "main": false, "subnet_ids": ["subnet-0nat"], "routes": routes}));
                a["nat_gateways"] = serde_json::json!([{"id": "nat-0a1b", "vpc_id": vpc, "subnet_id": "subnet-0nat",
                "connectivity": connectivity, "state": "available"}]);
                a["route_tables"][0]["routes"].as_array_mut().unwrap().push(
                serde_json::json!({"destination": "0.0.0.0/0", "target": "nat-0a1b", "active": true}));
            },
        );
        assert_eq!(
            slugs(&p).contains(&"no-ecr-network-path"),
            blocked,
            "{connectivity} {igw}: {}",
            text(&p)
        );
        assert_eq!(
            not_checked(&p),
            Vec::<String>::new(),
            "{connectivity} {igw}"
        );
    }
}
