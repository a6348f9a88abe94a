//! Planning a Terraform plan in JSON (`terraform show -json PLANFILE`): every planned
//! `aws_ecs_task_definition` and `aws_ecs_service`, in the root module and in child modules, is
//! checked with the values Terraform resolved (variables, modules, locals); a value known only
//! after apply is not checked (a role ARN known after apply is present). The plan is not the
//! source: each fix is manual and names the resource address and, when the plan's
//! `configuration` gives it, the expression that sets the attribute.
//!
//! Format: https://developer.hashicorp.com/terraform/internals/json-format

use super::{DocPlan, PlanOptions, Skip};
use crate::model::tf::{Place, Planned};
use crate::model::{Applicability, Document, Finding, Fix, InputError, NotChecked, Shape};
use crate::text_patch;
use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// True when `value` is a Terraform plan in JSON.
pub fn is_plan(value: &Value) -> bool {
    value.get("format_version").is_some_and(Value::is_string)
        && value.get("planned_values").is_some_and(Value::is_object)
}

/// True when the plan holds an ECS resource.
pub fn has_ecs(plan: &Value) -> bool {
    !planned(plan).is_empty()
}

/// The planned ECS resources of every module, in file order.
fn planned(plan: &Value) -> Vec<Planned> {
    fn walk(plan: &Value, module: &Value, at: String, out: &mut Vec<Planned>) {
        if let Some(resources) = module.get("resources").and_then(Value::as_array) {
            for (i, r) in resources.iter().enumerate() {
                let kind = r.get("type").and_then(Value::as_str).unwrap_or_default();
                if !matches!(kind, "aws_ecs_task_definition" | "aws_ecs_service")
                    || r.get("mode").and_then(Value::as_str) == Some("data")
                {
                    continue;
                }
                let address = r
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let Some(values) = r.get("values").and_then(Value::as_object) else {
                    continue;
                };
                let unknown = plan
                    .get("resource_changes")
                    .and_then(Value::as_array)
                    .and_then(|c| {
                        // The current object, not a deposed one.
                        c.iter().find(|c| {
                            c.get("address").and_then(Value::as_str) == Some(address.as_str())
                                && c.get("deposed").is_none()
                        })
                    })
                    .and_then(|c| c.pointer("/change/after_unknown"));
                let expressions = configuration(plan, &address);
                let set_from = expressions
                    .and_then(Value::as_object)
                    .map(|e| {
                        e.iter()
                            .filter_map(|(attr, e)| Some((attr.clone(), set_from(e)?)))
                            .collect()
                    })
                    .unwrap_or_default();
                // `module.a.aws_ecs_service.web` uses `module.a.aws_ecs_task_definition.NAME`.
                let module_prefix = address
                    .rsplit_once(&format!("{kind}."))
                    .map_or("", |(m, _)| m)
                    .to_string();
                let task_definition = expressions
                    .and_then(|e| e.pointer("/task_definition/references"))
                    .and_then(Value::as_array)
                    .and_then(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .find(|r| r.starts_with("aws_ecs_task_definition."))
                    })
                    .map(|r| {
                        let name = r.split('.').nth(1).unwrap_or_default();
                        let name = name.split('[').next().unwrap_or(name);
                        format!("{module_prefix}aws_ecs_task_definition.{name}")
                    });
                out.push(Planned {
                    address,
                    kind: kind.to_string(),
                    values: values.clone(),
                    unknown: unknown.cloned(),
                    pointer: Some(format!("{at}/resources/{i}/values")),
                    lines: BTreeMap::new(),
                    line: None,
                    set_from,
                    task_definition,
                    sources: BTreeMap::new(),
                });
            }
        }
        if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
            for (i, c) in children.iter().enumerate() {
                walk(plan, c, format!("{at}/child_modules/{i}"), out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(root) = plan.pointer("/planned_values/root_module") {
        walk(plan, root, "/planned_values/root_module".into(), &mut out);
    }
    out
}

/// The configuration's expressions of a resource address (`module.api.aws_ecs_service.web[0]`
/// is `aws_ecs_service.web` in the module call `api`).
fn configuration<'a>(plan: &'a Value, address: &str) -> Option<&'a Value> {
    let mut module = plan.pointer("/configuration/root_module")?;
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let (call, tail) = after.split_once('.')?;
        let call = call.split('[').next()?;
        module = module.get("module_calls")?.get(call)?.get("module")?;
        rest = tail;
    }
    let rest = rest.split('[').next()?;
    module
        .get("resources")?
        .as_array()?
        .iter()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(rest))?
        .get("expressions")
}

/// How a plan's configuration sets an attribute: `` (a literal there: `"512"`) `` or
/// `` (set from `var.task_memory`) ``.
fn set_from(e: &Value) -> Option<String> {
    if let Some(c) = e.get("constant_value") {
        return Some(format!(" (a literal there: `{c}`)"));
    }
    let refs: Vec<String> = e
        .get("references")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(|r| format!("`{r}`"))
        .collect();
    (!refs.is_empty()).then(|| format!(" (set from {})", refs.join(", ")))
}

/// The ECS API name of a Terraform attribute, and back.
const NAMES: &[(&str, &str)] = &[
    ("cpu", "cpu"),
    ("memory", "memory"),
    ("requires_compatibilities", "requiresCompatibilities"),
    ("execution_role_arn", "executionRoleArn"),
    ("family", "family"),
    ("network_mode", "networkMode"),
    ("launch_type", "launchType"),
    ("platform_version", "platformVersion"),
    ("name", "serviceName"),
    ("runtime_platform", "runtimePlatform"),
    ("operating_system_family", "operatingSystemFamily"),
    ("cpu_architecture", "cpuArchitecture"),
    ("capacity_provider_strategy", "capacityProviderStrategy"),
    ("container_definitions", "containerDefinitions"),
];

/// A message about ECS fields in Terraform's attribute names.
fn tf_words(text: &str) -> String {
    let mut out = text.to_string();
    for (tf, ecs) in NAMES {
        out = out.replace(&format!("`{ecs}`"), &format!("`{tf}`"));
    }
    out
}

/// True when any part of `attr` is known only after apply (`after_unknown` marks nested
/// values inside blocks and lists too).
fn is_unknown(unknown: Option<&Value>, attr: &str) -> bool {
    fn any_true(v: &Value) -> bool {
        match v {
            Value::Bool(b) => *b,
            Value::Array(a) => a.iter().any(any_true),
            Value::Object(o) => o.values().any(any_true),
            _ => false,
        }
    }
    unknown.and_then(|u| u.get(attr)).is_some_and(any_true)
}

/// The resource as ECS API JSON, and the attributes known only after apply.
fn view(p: &Planned) -> (Value, Vec<&'static str>) {
    let unknown_of = p.unknown.as_ref();
    let mut v = Map::new();
    let mut unknown = Vec::new();
    // `""` is how an update plan often carries an unset launch type.
    let scalar = |attr: &str| {
        p.values
            .get(attr)
            .filter(|x| !(x.is_null() || attr == "launch_type" && x.as_str() == Some("")))
    };
    let top: &[&str] = if p.kind == "aws_ecs_task_definition" {
        &[
            "cpu",
            "memory",
            "requires_compatibilities",
            "execution_role_arn",
            "family",
            "network_mode",
        ]
    } else {
        &["launch_type", "platform_version", "name"]
    };
    for attr in top {
        let ecs = NAMES
            .iter()
            .find(|(t, _)| t == attr)
            .map_or(*attr, |(_, e)| e);
        match scalar(attr) {
            Some(_) if is_unknown(unknown_of, attr) => unknown.push(*attr),
            Some(x) => {
                v.insert(ecs.to_string(), x.clone());
            }
            None if is_unknown(unknown_of, attr) => {
                if p.pointer.is_some() && matches!(*attr, "execution_role_arn" | "family" | "name")
                {
                    // Present, its value known after apply (a role's ARN).
                    v.insert(ecs.to_string(), "(known after apply)".into());
                } else {
                    unknown.push(*attr);
                }
            }
            None => {}
        }
    }
    if p.kind == "aws_ecs_task_definition" {
        if is_unknown(unknown_of, "runtime_platform") {
            unknown.push("runtime_platform");
        } else if let Some(rp) = p
            .values
            .get("runtime_platform")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            let mut o = Map::new();
            for (tf, ecs) in [
                ("operating_system_family", "operatingSystemFamily"),
                ("cpu_architecture", "cpuArchitecture"),
            ] {
                if let Some(x) = rp.get(tf).filter(|x| !x.is_null()) {
                    o.insert(ecs.into(), x.clone());
                }
            }
            v.insert("runtimePlatform".into(), Value::Object(o));
        }
        match p.values.get("container_definitions") {
            _ if is_unknown(unknown_of, "container_definitions") => {
                unknown.push("container_definitions")
            }
            // A JSON string, keys as in the ECS API.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(c) => {
                    v.insert("containerDefinitions".into(), c);
                }
                Err(_) => {
                    // Not JSON: the checks see a string and say it cannot be read.
                    v.insert("containerDefinitions".into(), Value::String(s.clone()));
                }
            },
            _ => {}
        }
    } else if is_unknown(unknown_of, "capacity_provider_strategy") {
        unknown.push("capacity_provider_strategy");
    } else if let Some(items) = p
        .values
        .get("capacity_provider_strategy")
        .and_then(Value::as_array)
    {
        let cps: Vec<Value> = items
            .iter()
            .filter_map(|i| i.get("capacity_provider"))
            .map(|c| json!({"capacityProvider": c}))
            .collect();
        if !cps.is_empty() {
            v.insert("capacityProviderStrategy".into(), Value::Array(cps));
        }
    }
    (Value::Object(v), unknown)
}

/// A fix's operations on the ECS view (`/memory`) as operations on a `.tf` file's own literals
/// (`/resource/aws_ecs_task_definition/api/memory`), or on the literal the value is read from
/// elsewhere in the module (`/variable/api_memory/default`, `/tfvars/terraform.tfvars/api_memory`,
/// `/locals/worker_cpu`); `None` when a value is not a literal (an expression, `jsonencode`) or
/// is not a top-level attribute.
fn literal_edits(
    p: &Planned,
    ops: &[json_patch::PatchOperation],
) -> Option<Vec<json_patch::PatchOperation>> {
    use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
    let (_, name) = p.address.split_once('.')?;
    let mut out = Vec::new();
    for op in ops {
        let (path, value) = match op {
            PatchOperation::Test(_) => continue,
            PatchOperation::Replace(r) => (r.path.as_str(), &r.value),
            PatchOperation::Add(a) => (a.path.as_str(), &a.value),
            _ => return None,
        };
        let ecs = path.strip_prefix('/').filter(|k| !k.contains('/'))?;
        let attr = NAMES.iter().find(|(_, e)| *e == ecs).map(|(t, _)| *t)?;
        let place = match (p.set_from.contains_key(attr), p.sources.get(attr)) {
            (false, _) => None,
            (true, Some(place)) => Some(place),
            (true, None) => return None,
        };
        let pointer: PointerBuf = match place {
            Some(place) => place.pointer(),
            None => format!("/resource/{}/{name}/{attr}", p.kind),
        }
        .parse()
        .ok()?;
        // A number stays a number.
        let value = match (p.values.get(attr), value) {
            (Some(Value::Number(_)), Value::String(s)) => {
                s.parse::<u64>().map_or(value.clone(), Value::from)
            }
            _ => value.clone(),
        };
        out.push(match p.values.get(attr) {
            Some(_) => PatchOperation::Replace(ReplaceOperation {
                path: pointer,
                value,
            }),
            None => PatchOperation::Add(AddOperation {
                path: pointer,
                value,
            }),
        });
    }
    (!out.is_empty()).then_some(out)
}

/// Where edits outside the resource's block are written, and the other resources of the module
/// that read those places: ` (written to the `default` of `var.m`; also read by `x`)`.
fn written_to(p: &Planned, ops: &[json_patch::PatchOperation], module: &[Planned]) -> String {
    let places: Vec<Place> = ops
        .iter()
        .filter_map(|op| Place::from_pointer(op.path().as_str()))
        .collect();
    if places.is_empty() {
        return String::new();
    }
    let mut readers: Vec<String> = module
        .iter()
        .filter(|r| r.address != p.address && r.sources.values().any(|pl| places.contains(pl)))
        .map(|r| format!("`{}`", r.address))
        .collect();
    readers.dedup();
    let words: Vec<String> = places.iter().map(Place::words).collect();
    let shared = if readers.is_empty() {
        String::new()
    } else {
        format!("; also read by {}", readers.join(", "))
    };
    format!(" (written to {}{shared})", words.join(" and "))
}

/// The checks of a planned resource type, in registry order.
fn checks(kind: &str) -> impl Iterator<Item = &'static crate::model::CheckInfo> {
    crate::check::document_checks(kind == "aws_ecs_service")
}

/// The view attributes each check reads (unknown there: not checked).
fn reads(slug: &str) -> &'static [&'static str] {
    match slug {
        "invalid-task-size"
        | "missing-task-size"
        | "size-outside-agent-table"
        | "agent-memory-headroom" => &["cpu", "memory", "container_definitions"],
        "unsupported-os" | "unsupported-cpu-architecture" => &["runtime_platform"],
        "platform-version-too-old" => &["platform_version"],
        "missing-execution-role" => &["execution_role_arn"],
        _ => &[],
    }
}

/// Plans a Terraform plan in JSON.
pub fn plan_terraform_plan(doc: &Document, opts: &PlanOptions) -> Result<DocPlan, InputError> {
    let resources = planned(&doc.value);
    Ok(plan_planned(doc, &resources, &resources, opts, true))
}

/// Checks resources read from a plan (`from_plan`: fixes are made in the configuration, then
/// planned again) or from `.tf` files, as findings on `doc`.
pub(crate) fn plan_planned(
    doc: &Document,
    resources: &[Planned],
    module: &[Planned],
    opts: &PlanOptions,
    from_plan: bool,
) -> DocPlan {
    let resource = doc.origin.display();
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    let mut skipped = Vec::new();
    let mut subjects = Vec::new();
    for p in resources {
        let word = if p.kind == "aws_ecs_task_definition" {
            "task definition"
        } else {
            "service"
        };
        let subject = format!("{word} `{}`", p.address);
        subjects.push(subject.clone());
        let (mut value, unknown) = view(p);
        // A service whose task definition (by the configuration's reference, in the same
        // module) requires Fargate alone runs on Fargate, whatever its launch type says.
        // A service whose task definition (by the configuration's reference, in the same
        // module) requires Fargate alone runs on Fargate; one whose compatibilities are not
        // known leaves the service undecided.
        let td_instances: Vec<&Planned> = p
            .task_definition
            .as_ref()
            .filter(|_| p.kind == "aws_ecs_service")
            .map(|td| {
                module
                    .iter()
                    .filter(|r| {
                        &r.address == td
                            || r.address
                                .strip_prefix(td.as_str())
                                .is_some_and(|rest| rest.starts_with('['))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let td_unknown = td_instances
            .iter()
            .any(|r| is_unknown(r.unknown.as_ref(), "requires_compatibilities"));
        let fargate_only_td = !td_instances.is_empty()
            && !td_unknown
            && td_instances
                .iter()
                .all(|r| r.values.get("requires_compatibilities") == Some(&json!(["FARGATE"])));
        let runs_by_default = !value.as_object().is_some_and(|o| {
            o.contains_key("launchType") || o.contains_key("capacityProviderStrategy")
        });
        if p.kind == "aws_ecs_service" && td_unknown && runs_by_default {
            for c in checks(&p.kind) {
                not_checked.push(NotChecked {
                    check: c,
                    resource: resource.clone(),
                    subject: subject.clone(),
                    reason: format!(
                        "cannot tell whether it runs on Fargate: the `requires_compatibilities` of `{}` is not known",
                        p.task_definition.as_deref().unwrap_or_default()
                    ),
                });
            }
            continue;
        }
        // Whether it runs on Fargate must be known first.
        if !fargate_only_td
            && let Some(attr) = unknown.iter().find(|a| {
                matches!(
                    **a,
                    "requires_compatibilities" | "launch_type" | "capacity_provider_strategy"
                )
            })
        {
            for c in checks(&p.kind) {
                not_checked.push(NotChecked {
                    check: c,
                    resource: resource.clone(),
                    subject: subject.clone(),
                    reason: if from_plan {
                        format!(
                            "cannot tell whether it runs on Fargate: `{attr}` is known only after apply"
                        )
                    } else {
                        format!(
                            "cannot tell whether it runs on Fargate: `{attr}` is not static{}",
                            p.set_from.get(*attr).map_or("", String::as_str)
                        )
                    },
                });
            }
            continue;
        }
        let shape = if p.kind == "aws_ecs_service" {
            if let Some(o) = value.as_object_mut()
                && fargate_only_td
            {
                o.remove("capacityProviderStrategy");
                o.insert("launchType".into(), "FARGATE".into());
            }
            Shape::Service
        } else {
            Shape::TaskDefinition
        };
        let vplan = match super::document::plan_view(&doc.origin, value, shape, &opts.checks) {
            Ok(v) => v,
            Err(e) => {
                for c in checks(&p.kind) {
                    not_checked.push(NotChecked {
                        check: c,
                        resource: resource.clone(),
                        subject: subject.clone(),
                        reason: tf_words(&e.message),
                    });
                }
                continue;
            }
        };
        // A resource that does not run on Fargate is skipped, not undecided.
        let not_fargate = !vplan.skipped.is_empty();
        for s in vplan.skipped {
            skipped.push(Skip {
                resource: resource.clone(),
                subject: subject.clone(),
                reason: tf_words(&s.reason),
            });
        }
        let undecided: Vec<&'static crate::model::CheckInfo> = checks(&p.kind)
            .filter(|_| !not_fargate)
            .filter(|c| reads(c.slug).iter().any(|a| unknown.contains(a)))
            .collect();
        for c in &undecided {
            let attrs: Vec<String> = reads(c.slug)
                .iter()
                .filter(|a| unknown.contains(a))
                .map(|a| format!("`{a}`"))
                .collect();
            not_checked.push(NotChecked {
                check: c,
                resource: resource.clone(),
                subject: subject.clone(),
                reason: if from_plan {
                    format!("{} known only after apply", attrs.join(", "))
                } else {
                    let how: Vec<String> = reads(c.slug)
                        .iter()
                        .filter(|a| unknown.contains(a))
                        .map(|a| format!("`{a}`{}", p.set_from.get(*a).map_or("", String::as_str)))
                        .collect();
                    format!("not static: {}", how.join(", "))
                },
            });
        }
        for n in vplan.not_checked {
            not_checked.push(NotChecked {
                resource: resource.clone(),
                subject: subject.clone(),
                reason: tf_words(&n.reason),
                ..n
            });
        }
        for f in vplan.findings {
            if undecided.iter().any(|c| c.slug == f.check.slug) {
                continue;
            }
            // `/memory` -> `.../values/memory`; a container is inside the JSON string.
            let attr = f
                .pointer
                .tokens()
                .next()
                .map(|t| t.decoded().into_owned())
                .unwrap_or_default();
            let tf_attr = NAMES
                .iter()
                .find(|(_, e)| *e == attr)
                .map_or(attr.as_str(), |(t, _)| t);
            let (pointer, line) = match &p.pointer {
                Some(base) => {
                    let mut pointer = format!("{base}/{tf_attr}");
                    if doc.value.pointer(&pointer).is_none() {
                        pointer = base.clone();
                    }
                    let pointer: PointerBuf = pointer.parse().unwrap_or_default();
                    let line = text_patch::line_of(&doc.text, &pointer);
                    (pointer, line)
                }
                None => (PointerBuf::new(), p.lines.get(tf_attr).copied().or(p.line)),
            };
            let expression = p.set_from.get(tf_attr).cloned().unwrap_or_default();
            let (place, then) = if from_plan {
                (
                    format!("the configuration of `{}`", p.address),
                    ", then plan again",
                )
            } else {
                (format!("`{}`", p.address), "")
            };
            let fix = if f.check.slug == "missing-execution-role"
                && opts.checks.execution_role_arn.is_none()
            {
                Fix::manual(format!(
                    "set `execution_role_arn` in {place} (an `aws_iam_role` trusted by `ecs-tasks.amazonaws.com` with `AmazonECSTaskExecutionRolePolicy`){then}"
                ))
            } else if f.fix.applicability == Applicability::Manual {
                Fix::manual(format!("{} (in {place})", tf_words(&f.fix.title)))
            } else if let Some(ops) = (!from_plan && opts.hold_edits.is_none())
                .then(|| literal_edits(p, &f.fix.patch))
                .flatten()
                // JSON syntax: the resource's own literals only.
                .filter(|ops| {
                    !doc.value.is_object()
                        || ops
                            .iter()
                            .all(|op| op.path().as_str().starts_with("/resource/"))
                })
            {
                // A literal of the resource's own block, or the variable default, tfvars entry
                // or local it is read from: edited there.
                let written = written_to(p, &ops, module);
                Fix {
                    title: format!("{} in {place}{written}", tf_words(&f.fix.title)),
                    applicability: f.fix.applicability,
                    reason: f.fix.reason.clone(),
                    patch: ops,
                    ..Default::default()
                }
            } else {
                let held = opts
                    .hold_edits
                    .as_ref()
                    .filter(|_| !from_plan)
                    .map(|why| format!(" ({why})"))
                    .unwrap_or_default();
                Fix {
                    title: format!(
                        "{} in {place}{expression}{then}{held}",
                        tf_words(&f.fix.title)
                    ),
                    applicability: Applicability::Manual,
                    reason: f.fix.reason.clone(),
                    ..Default::default()
                }
            };
            findings.push(Finding {
                resource: resource.clone(),
                subject: subject.clone(),
                message: tf_words(&f.message),
                pointer,
                line,
                fix,
                ..f
            });
        }
    }
    let patch = super::document::fixes_patch(&findings);
    let plan = |findings, patch| {
        super::document::doc_plan(
            doc,
            opts,
            findings,
            not_checked.clone(),
            skipped.clone(),
            patch,
            subjects.clone(),
        )
    };
    // An edit that does not apply leaves the fixes manual (never a half-written file).
    plan(findings.clone(), patch).unwrap_or_else(|_| {
        for f in &mut findings {
            if !f.fix.patch.is_empty() {
                f.fix = Fix::manual(f.fix.title.clone());
            }
        }
        plan(findings, Vec::new()).unwrap_or_else(|_| unreachable!("no patch: nothing to write"))
    })
}
