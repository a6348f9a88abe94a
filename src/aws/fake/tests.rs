//! The fake's own behaviour, call by call: what AWS documents for each, and the log.

use super::*;
use crate::aws::{Ec2, Ecs, EndpointSpec, GuardDuty, Iam, Organizations};
use futures::executor::block_on;
use serde_json::json;

const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";

fn fake() -> FakeAws {
    FakeAws::from_json(
        &json!({
            "clusters": [{"name": "prod"}],
            "services": [{"serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
                "serviceName": "web", "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                "status": "ACTIVE", "taskDefinition": TD, "launchType": "FARGATE", "platformVersion": "1.3.0"}],
            "task_definitions": {TD: {"taskDefinition": {"taskDefinitionArn": TD, "family": "web", "revision": 3,
                "status": "ACTIVE"}, "tags": []}},
            "roles": {"exec": {"inline": {"logs": {"Statement": []}}}},
            "subnets": [{"id": "subnet-a", "vpc_id": "vpc-1", "availability_zone": "us-east-1a"}],
            "route_tables": [{"id": "rtb-1", "vpc_id": "vpc-1", "main": true, "subnet_ids": [], "routes": []}],
            "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16", "dns_support": true, "dns_hostnames": false}],
            "s3_prefix_list": "pl-1"
        })
        .to_string(),
    )
    .unwrap()
}

fn register(family: &str, memory: &str) -> Value {
    json!({"family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
        "cpu": "256", "memory": memory, "revision": 9, "tags": [{"key": "k", "value": "v"}],
        "containerDefinitions": [{"name": "a", "image": "nginx", "memory": 256, "linuxParameters": {"initProcessEnabled": true}}]})
}

#[test]
fn unknown_fields_in_an_account_are_refused() {
    assert!(FakeAws::from_json(r#"{"cluster": []}"#).is_err());
    assert_eq!(
        FakeAws::from_json("{}").unwrap().account(),
        Account::default()
    );
}

#[test]
fn registering_adds_the_next_revision_with_what_aws_adds() {
    let f = fake();
    let arn = block_on(f.register_task_definition(&register("web", "512"))).unwrap();
    assert_eq!(
        arn,
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4"
    );
    let doc = block_on(f.describe_task_definition("web"))
        .unwrap()
        .document;
    let td = &doc["taskDefinition"];
    assert_eq!(
        (&td["taskDefinitionArn"], &td["revision"], &td["status"]),
        (&json!(arn), &json!(4), &json!("ACTIVE"))
    );
    assert_eq!(
        td["containerDefinitions"][0]["linuxParameters"]["initProcessEnabled"],
        true
    );
    assert_eq!(td["compatibilities"], json!(["EC2", "FARGATE"]));
    assert!(td.get("tags").is_none());
    assert_eq!(doc["tags"], json!([{"key": "k", "value": "v"}]));
    // Sizes Fargate does not offer, or containers larger than the task, are refused.
    let e = block_on(f.register_task_definition(&register("web", "4096"))).unwrap_err();
    assert!(e.message.contains("No Fargate configuration"), "{e}");
    let mut big = register("web", "512");
    big["containerDefinitions"][0]["memory"] = 1024.into();
    let e = block_on(f.register_task_definition(&big)).unwrap_err();
    assert!(e.message.contains("more than the task memory"), "{e}");
    // Deregistered revisions stay, INACTIVE; the family resolves to the newest ACTIVE one.
    block_on(f.deregister_task_definition(&arn)).unwrap();
    assert_eq!(block_on(f.describe_task_definition("web")).unwrap().arn, TD);
    assert_eq!(
        block_on(f.deregister_task_definition("web:7"))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let e = block_on(f.update_service("prod", "web", Some(&arn), None, false)).unwrap_err();
    assert!(e.message.contains("inactive"), "{e}");
}

#[test]
fn update_service_changes_the_configuration_by_name_or_arn() {
    let f = fake();
    let cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    block_on(f.update_service(cluster, "web", Some("web:3"), Some("LATEST"), true)).unwrap();
    let s = block_on(f.describe_services("prod", &["web".into()])).unwrap();
    assert_eq!(s[0].task_definition, TD);
    assert_eq!(s[0].json["platformVersion"], "LATEST");
    let missing = block_on(f.update_service("prod", "api", None, None, true)).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(
        block_on(f.describe_services("prod", &["api".into()]))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        f.log(),
        [
            format!("ecs:UpdateService {cluster} web taskDefinition=web:3 platformVersion=LATEST forceNewDeployment"),
            "ecs:UpdateService prod api forceNewDeployment -> failed (NotFound: ServiceNotFoundException: Service not found.)".into(),
        ]
    );
}

#[test]
fn iam_refuses_what_does_not_exist_and_what_is_in_use() {
    let f = fake();
    let managed = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
    assert_eq!(
        block_on(f.get_role("nobody")).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let e = block_on(f.attach_role_policy("exec", "arn:aws:iam::aws:policy/Nope")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    block_on(f.attach_role_policy("exec", managed)).unwrap();
    assert!(block_on(f.managed_policy(managed)).unwrap().document["Statement"].is_array());
    let e = block_on(f.delete_role("exec")).unwrap_err();
    assert!(e.message.starts_with("DeleteConflict"), "{e}");
    block_on(f.detach_role_policy("exec", managed)).unwrap();
    let again = block_on(f.detach_role_policy("exec", managed)).unwrap_err();
    assert_eq!(again.kind, ErrorKind::NotFound);
    assert_eq!(block_on(f.inline_policy("exec", "nope")).unwrap(), None);
    assert_eq!(
        block_on(f.delete_role_policy("exec", "nope"))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[test]
fn ec2_endpoints_groups_and_rules_as_aws_has_them() {
    let f = fake();
    let tags = crate::apply::account::created_tags("run-1");
    let sg = block_on(f.create_security_group("vpc-1", "ep", "d", &tags)).unwrap();
    block_on(f.authorize_https_ingress(&sg, &["10.0.0.0/16".to_string()])).unwrap();
    assert_eq!(sg, "sg-fake-1");
    let spec = EndpointSpec {
        vpc_id: "vpc-1".into(),
        service_name: "com.amazonaws.us-east-1.ecr.dkr".into(),
        interface: true,
        subnet_ids: vec!["subnet-a".into()],
        security_group_ids: vec![sg.clone()],
        route_table_ids: vec![],
        private_dns: true,
        tags: tags.clone(),
    };
    // Private DNS needs both DNS attributes; hostnames need support.
    let e = block_on(f.create_vpc_endpoint(&spec)).unwrap_err();
    assert!(e.message.contains("enableDnsHostnames"), "{e}");
    block_on(f.modify_vpc_attribute("vpc-1", "enableDnsHostnames", true)).unwrap();
    let id = block_on(f.create_vpc_endpoint(&spec)).unwrap();
    assert_eq!(id, "vpce-fake-2", "ids are not reused");
    // One private DNS name per service and VPC.
    let e = block_on(f.create_vpc_endpoint(&spec)).unwrap_err();
    assert!(e.message.contains("conflicting DNS domain"), "{e}");
    let e = block_on(f.delete_security_group(&sg)).unwrap_err();
    assert!(e.message.starts_with("DependencyViolation"), "{e}");
    // What a run created is found by its tag, in its VPC only.
    let run = crate::apply::account::RUN_TAG;
    assert_eq!(
        block_on(f.security_groups_tagged("vpc-1", run, "run-1")).unwrap(),
        std::slice::from_ref(&sg)
    );
    assert!(
        block_on(f.security_groups_tagged("vpc-1", run, "run-2"))
            .unwrap()
            .is_empty()
    );
    let found = block_on(f.vpc_endpoints_tagged("vpc-1", run, "run-1")).unwrap();
    assert_eq!(found.iter().map(|e| &e.id).collect::<Vec<_>>(), [&id]);
    assert!(
        block_on(f.vpc_endpoints_tagged("vpc-2", run, "run-1"))
            .unwrap()
            .is_empty()
    );
    // A gateway endpoint routes the prefix list through itself, until it is deleted.
    let gw = EndpointSpec {
        service_name: "com.amazonaws.us-east-1.s3".into(),
        interface: false,
        route_table_ids: vec!["rtb-1".into()],
        private_dns: false,
        ..spec
    };
    let gw = block_on(f.create_vpc_endpoint(&gw)).unwrap();
    let rts = block_on(f.describe_route_tables(&["vpc-1".into()])).unwrap();
    assert_eq!(
        (
            rts[0].routes[0].destination.as_str(),
            &rts[0].routes[0].target
        ),
        ("pl-1", &gw)
    );
    block_on(f.delete_vpc_endpoint(&gw)).unwrap();
    assert!(
        block_on(f.describe_route_tables(&["vpc-1".into()])).unwrap()[0]
            .routes
            .is_empty()
    );
    // Egress rules join the group's rule for the same ports; revoking a missing one fails.
    block_on(f.authorize_egress(&sg, "tcp", 443, "pl-1")).unwrap();
    let dup = block_on(f.authorize_egress(&sg, "tcp", 443, "pl-1")).unwrap_err();
    assert_eq!(dup.kind, ErrorKind::Other);
    block_on(f.revoke_egress(&sg, "tcp", 443, "pl-1")).unwrap();
    let gone = block_on(f.revoke_egress(&sg, "tcp", 443, "pl-1")).unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
    let groups = block_on(f.describe_security_groups(std::slice::from_ref(&sg))).unwrap();
    assert_eq!(groups[0].egress.len(), 1, "the default allow-all rule");
    let missing = block_on(f.describe_security_groups(&["sg-x".into()])).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
}

#[test]
fn injected_failures_once_or_always() {
    let f = fake();
    f.fail("iam:PutRolePolicy", ErrorKind::Throttled);
    let doc = json!({"Statement": []});
    let e = block_on(f.put_role_policy("exec", "p", &doc)).unwrap_err();
    assert_eq!((e.api, e.kind), ("iam:PutRolePolicy", ErrorKind::Throttled));
    block_on(f.put_role_policy("exec", "p", &doc)).unwrap();
    assert_eq!(
        f.log(),
        [
            "iam:PutRolePolicy exec p -> failed (Throttled: injected failure)",
            "iam:PutRolePolicy exec p"
        ]
    );
    f.fail_always("guardduty:ListDetectors", ErrorKind::AccessDenied);
    for _ in 0..2 {
        assert_eq!(
            block_on(f.detector()).unwrap_err().kind,
            ErrorKind::AccessDenied
        );
    }
    assert_eq!(
        block_on(f.organization()).unwrap_err().kind,
        ErrorKind::NotInOrganization
    );
}
