//! The live planner on hand-built inventories: what moto cannot stage (running tasks without the
//! sidecar, AccessDenied on GuardDuty) and how "not checked" shows in every output format.

use fargate_rtm::aws::{
    AclEntry, AwsError, AwsVpc, Cluster, Detector, ErrorKind, Identity, NetworkAcl, Role, Route,
    RouteTable, SecurityGroup, Service, SgRule, Subnet, Task, TaskDefinition, Vpc, VpcEndpoint,
};
use fargate_rtm::check::EcrPolicy;
use fargate_rtm::model::inventory::{Inventory, Network, RoleView, ScpView};
use fargate_rtm::plan::Plan;
use fargate_rtm::plan::account::plan_inventory;
use fargate_rtm::policy::Policy;
use fargate_rtm::render;
use serde_json::json;

const SVC: &str = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

pub(crate) fn inventory() -> Inventory {
    let network = AwsVpc {
        subnets: vec!["subnet-1".into()],
        security_groups: vec!["sg-1".into()],
        assign_public_ip: true,
    };
    Inventory {
        region: "us-east-1".into(),
        identity: Identity { account: "123456789012".into(), arn: "arn:aws:iam::123456789012:user/me".into(), partition: "aws".into() },
        clusters: vec![Cluster { arn: CLUSTER.into(), name: "prod".into(), tags: vec![] }],
        services: vec![Service {
            arn: SVC.into(),
            name: "web".into(),
            cluster_arn: CLUSTER.into(),
            task_definition: TD.into(),
            desired_count: 2,
            json: json!({"serviceName": "web", "cluster": CLUSTER, "taskDefinition": TD, "launchType": "FARGATE", "platformVersion": "LATEST"}),
            network: Some(network),
            primary_deployment_at: Some(0),
        }],
        task_defs: [(
            TD.to_string(),
            Ok(TaskDefinition {
                arn: TD.into(),
                document: json!({"taskDefinition": {"taskDefinitionArn": TD, "family": "web", "revision": 3, "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "1024",
                    "executionRoleArn": "arn:aws:iam::123456789012:role/exec", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 512}]}, "tags": []}),
            }),
        )]
        .into(),
        roles: [(
            "exec".to_string(),
            RoleView::Found {
                fingerprint: String::new(),
                role: Box::new(Role { arn: "arn:aws:iam::123456789012:role/exec".into(), name: "exec".into(), boundary_arn: None, tags: Default::default() }),
                policies: Ok(vec![Policy { name: "managed".into(), document: json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}) }]),
                boundary: None,
            },
        )]
        .into(),
        network: Ok(Network {
            subnets: vec![Subnet { id: "subnet-1".into(), vpc_id: "vpc-1".into(), availability_zone: "us-east-1a".into(), cidr: "10.0.1.0/24".into(), owner_id: "123456789012".into() }],
            nat_gateways: vec![],
            network_acls: vec![NetworkAcl {
                id: "acl-1".into(),
                vpc_id: "vpc-1".into(),
                default: true,
                subnet_ids: vec!["subnet-1".into()],
                entries: [true, false]
                    .map(|egress| AclEntry { rule_number: 100, egress, protocol: "-1".into(), ports: None, cidr: "0.0.0.0/0".into(), allow: true })
                    .to_vec(),
            }],
            route_tables: vec![RouteTable {
                id: "rtb-1".into(),
                vpc_id: "vpc-1".into(),
                main: true,
                subnet_ids: vec![],
                routes: vec![Route { destination: "0.0.0.0/0".into(), target: "igw-1".into(), active: true }],
            }],
            // GuardDuty's own endpoint, admitting HTTPS from the VPC.
            endpoints: vec![VpcEndpoint {
                id: "vpce-gd".into(),
                vpc_id: "vpc-1".into(),
                service_name: "com.amazonaws.us-east-1.guardduty-data".into(),
                kind: "Interface".into(),
                private_dns: true,
                route_table_ids: vec![],
                subnet_ids: vec!["subnet-1".into()],
                security_group_ids: vec!["sg-gd".into()],
                usable: true,
                policy: None,
                tags: [("GuardDutyManaged".to_string(), "true".to_string())].into(),
            }],
            vpcs: vec![Vpc { id: "vpc-1".into(), cidr: "10.0.0.0/16".into(), secondary_cidrs: vec![], dns_support: true, dns_hostnames: true }],
            security_groups: vec![SecurityGroup {
                id: "sg-gd".into(),
                vpc_id: "vpc-1".into(),
                ingress: vec![SgRule { protocol: "tcp".into(), from_port: 443, to_port: 443, cidrs: vec!["10.0.0.0/16".into()], prefix_lists: vec![], groups: vec![] }],
                egress: vec![],
            }, SecurityGroup {
                id: "sg-1".into(),
                vpc_id: "vpc-1".into(),
                ingress: vec![],
                egress: vec![SgRule { protocol: "-1".into(), from_port: -1, to_port: -1, cidrs: vec!["0.0.0.0/0".into()], prefix_lists: vec![], groups: vec![] }],
            }],
            s3_prefix_list: Some("pl-1".into()),
        }),
        detector: Ok(Some(Detector { id: "d-1".into(), runtime_monitoring: true, ecs_fargate_agent_management: true })),
        coverage: Default::default(),
        scps: ScpView::NoOrganization,
        tasks: [(SVC.to_string(), Ok(vec![]))].into(),
        errors: vec![],
    }
}

fn plan(inv: &Inventory) -> Plan {
    plan_inventory(inv, &Default::default(), EcrPolicy::Scoped)
}

fn slugs(p: &Plan) -> Vec<&str> {
    p.findings().map(|f| f.check.slug).collect()
}

#[test]
fn baseline_inventory_is_ready() {
    let p = plan(&inventory());
    assert_eq!(slugs(&p), Vec::<&str>::new());
    assert_eq!(p.exit_code(), 0);
}

#[test]
fn running_tasks_without_the_sidecar_need_a_new_deployment() {
    let mut inv = inventory();
    let bare = Task {
        arn: "t1".into(),
        containers: vec![("web".into(), "nginx".into())],
        states: vec![],
        started_at: None,
    };
    let covered = Task {
        arn: "t2".into(),
        containers: vec![
            ("web".into(), "nginx".into()),
            (
                "aws-guardduty-agent-x".into(),
                "593207742271.dkr.ecr.us-east-1.amazonaws.com/aws-guardduty-agent-fargate:v1"
                    .into(),
            ),
        ],
        states: vec![],
        started_at: None,
    };
    inv.tasks
        .insert(SVC.into(), Ok(vec![bare, covered.clone()]));
    let p = plan(&inv);
    assert_eq!(slugs(&p), ["stale-deployment"]);
    assert!(
        p.account.findings[0]
            .message
            .starts_with("1 of 2 running tasks")
    );
    let op = serde_json::to_value(&p.account.operations[0].operation).unwrap();
    assert_eq!(
        op,
        json!({"operation": "ecs:UpdateService", "cluster": "prod", "service": "web", "force_new_deployment": true})
    );
    // All covered: nothing to do.
    inv.tasks.insert(SVC.into(), Ok(vec![covered.clone()]));
    assert_eq!(slugs(&plan(&inv)), Vec::<&str>::new());
    // An excluded cluster is not judged stale (cluster-excluded says why).
    inv.tasks.insert(
        SVC.into(),
        Ok(vec![Task {
            arn: "t3".into(),
            containers: vec![("web".into(), "nginx".into())],
            states: vec![],
            started_at: None,
        }]),
    );
    inv.clusters[0]
        .tags
        .push(("GuardDutyManaged".into(), "false".into()));
    assert_eq!(slugs(&plan(&inv)), ["cluster-excluded"]);
}

#[test]
fn a_new_revision_and_a_forced_deployment_are_one_update() {
    let mut inv = inventory();
    inv.tasks.insert(
        SVC.into(),
        Ok(vec![Task {
            arn: "t1".into(),
            containers: vec![("web".into(), "nginx".into())],
            states: vec![],
            started_at: None,
        }]),
    );
    if let Ok(td) = inv.task_defs.get_mut(TD).unwrap() {
        td.document["taskDefinition"]["memory"] = json!("512");
    }
    let p = plan(&inv);
    let updates: Vec<_> = p
        .account
        .operations
        .iter()
        .filter(|o| o.operation.name() == "ecs:UpdateService")
        .collect();
    assert_eq!(updates.len(), 1, "{:#?}", p.account.operations);
    let op = serde_json::to_value(&updates[0].operation).unwrap();
    // The revision made from the one the service runs (set at apply time), never "the
    // family's latest".
    assert_eq!(op["new_revision_of"], TD);
    assert!(op["task_definition"].is_null(), "{op}");
    assert_eq!(
        op["force_new_deployment"], false,
        "a new revision already replaces the tasks"
    );
}

#[test]
fn not_checked_shows_in_every_format_and_never_passes() {
    let mut inv = inventory();
    inv.detector = Err(AwsError {
        api: "guardduty:ListDetectors",
        kind: ErrorKind::AccessDenied,
        message: "no".into(),
    });
    let p = plan(&inv);
    assert_eq!(slugs(&p), Vec::<&str>::new());
    assert_eq!(p.exit_code(), 1, "not checked is not ready");
    let mut text = Vec::new();
    render::text::render(
        &p,
        &mut text,
        render::text::Style {
            color: false,
            ..Default::default()
        },
    )
    .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("not checked[runtime-monitoring-disabled] cluster `prod`: `guardduty:ListDetectors`: access denied"), "{text}");
    assert!(text.contains("1 not checked"), "{text}");
    let mut json = Vec::new();
    render::json::write(&p, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["not_checked"][0]["check"], "runtime-monitoring-disabled");
    assert_eq!(v["not_checked"][0]["resource"], CLUSTER);
    let sarif = render::sarif::to_value(&p);
    let r = &sarif["runs"][0]["results"][0];
    assert_eq!(
        (r["ruleId"].as_str(), r["kind"].as_str()),
        (Some("runtime-monitoring-disabled"), Some("open"))
    );
}

#[test]
fn unknown_region_is_reported_not_guessed() {
    let mut inv = inventory();
    inv.region = "cn-north-1".into();
    let p = plan(&inv);
    let nc: Vec<&str> = p.not_checked().map(|n| n.reason.as_str()).collect();
    assert!(
        nc.iter()
            .any(|r| r.contains("no known GuardDuty agent repository for region `cn-north-1`")),
        "{nc:?}"
    );
}
