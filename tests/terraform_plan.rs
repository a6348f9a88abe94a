//! Terraform plans in JSON (`terraform show -json PLANFILE`): every planned ECS resource of
//! every module checked with Terraform's resolved values; values known only after apply are
//! not checked (a role ARN known after apply is present); fixes name the configuration.

use crate::snap;
use crate::support::{root, run_in};

const PLAN: &str = "tests/fixtures/terraform/plan-json/plan.json";

fn plan_json(v: &serde_json::Value) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plan.json");
    std::fs::write(&f, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    let r = run_in(dir.path(), &["plan", "--format", "json", "plan.json"], None);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn planned_resources_of_every_module_are_checked() {
    let r = run_in(&root(), &["plan", PLAN], None);
    assert_eq!(r.code, 1, "the worker's memory is known only after apply");
    snap!("terraform-plan-json", r.transcript());
    let r = run_in(&root(), &["plan", "--format", "json", PLAN], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let checks: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    // The service runs on Fargate through its task definition; the role known after apply is
    // there.
    assert_eq!(
        checks,
        ["platform-version-too-old", "agent-memory-headroom"]
    );
    assert!(
        v["changes"].as_array().unwrap().is_empty(),
        "a plan is never edited"
    );
    assert!(
        v["findings"][1]["fix"]["title"]
            .as_str()
            .unwrap()
            .contains("(set from `var.task_memory`)")
    );
}

/// The controls: a role that is absent (not unknown) is a finding; compatibilities known only
/// after apply leave the resource not checked; a passing plan exits 0.
#[test]
fn unknown_and_absent_values() {
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(PLAN)).unwrap()).unwrap();
    let mut v = base.clone();
    v["resource_changes"][1]["change"]["after_unknown"] = serde_json::json!({"arn": true});
    let out = plan_json(&v);
    assert!(
        out["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "missing-execution-role"),
        "{out}"
    );
    let mut v = base.clone();
    let td = &mut v["planned_values"]["root_module"]["resources"][1]["values"];
    td.as_object_mut()
        .unwrap()
        .remove("requires_compatibilities");
    v["resource_changes"][1]["change"]["after_unknown"]["requires_compatibilities"] = true.into();
    let out = plan_json(&v);
    assert!(
        out["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |n| n["subject"] == "task definition `aws_ecs_task_definition.api`"
                    && n["reason"]
                        .as_str()
                        .unwrap()
                        .contains("cannot tell whether it runs on Fargate")
            ),
        "{out}"
    );
    // Unknown inside a block: the operating system could be Windows.
    let mut v = base.clone();
    v["planned_values"]["root_module"]["resources"][1]["values"]["runtime_platform"] =
        serde_json::json!([{"cpu_architecture": "X86_64"}]);
    v["resource_changes"][1]["change"]["after_unknown"]["runtime_platform"] =
        serde_json::json!([{"operating_system_family": true}]);
    let out = plan_json(&v);
    let not_checked = |out: &serde_json::Value, check: &str, subject: &str| {
        out["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["check"] == check && n["subject"].as_str().unwrap().contains(subject))
    };
    assert!(
        not_checked(&out, "unsupported-os", "aws_ecs_task_definition.api"),
        "{out}"
    );
    // A task definition that also allows EC2: the service's launch type and strategy known
    // only after apply leave it not checked; with Fargate alone it is Fargate.
    let mut v = base.clone();
    v["planned_values"]["root_module"]["resources"][1]["values"]["requires_compatibilities"] =
        serde_json::json!(["FARGATE", "EC2"]);
    let out = plan_json(&v);
    assert!(
        not_checked(&out, "platform-version-too-old", "aws_ecs_service.api"),
        "{out}"
    );
    // A `for_each` task definition referenced by instance (`aws_ecs_task_definition.api[each.key]`).
    let mut v = base.clone();
    v["planned_values"]["root_module"]["resources"][1]["address"] =
        "aws_ecs_task_definition.api[\"web\"]".into();
    v["configuration"]["root_module"]["resources"][0]["expressions"]["task_definition"] =
        serde_json::json!({"references": ["aws_ecs_task_definition.api", "each.key"]});
    let out = plan_json(&v);
    assert!(
        out["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "platform-version-too-old"),
        "{out}"
    );
    let mut v = base;
    let res = &mut v["planned_values"]["root_module"]["resources"];
    res[0]["values"]["platform_version"] = "LATEST".into();
    res[1]["values"]["memory"] = "1024".into();
    v["planned_values"]["root_module"]
        .as_object_mut()
        .unwrap()
        .remove("child_modules");
    let out = plan_json(&v);
    assert_eq!(out["exit_code"], 0, "{out}");
}
