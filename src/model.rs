//! The inputs as values: a loaded document, its detected shape, and typed views of the task
//! definitions and services in it. Each view keeps its raw `serde_json` object beside the
//! typed fields, and the JSON pointer where it lives in the document.

use crate::sizing::{self, Parsed, Quantity, SizeError};
use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value};

/// What a document is, detected from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `RegisterTaskDefinition` input (also a flattened `describe-task-definition --query taskDefinition`).
    TaskDefinition,
    /// `DescribeTaskDefinition` output: `{"taskDefinition": {...}, "tags": [...]}`.
    DescribeTaskDefinition,
    /// `CreateService` / `UpdateService` input.
    Service,
    /// `DescribeServices` output: `{"services": [...]}`.
    DescribeServices,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::TaskDefinition => "task definition",
            Shape::DescribeTaskDefinition => "`describe-task-definition` output",
            Shape::Service => "service definition",
            Shape::DescribeServices => "`describe-services` output",
        }
    }
}

/// Keys of `CreateService`/`UpdateService` input that a task definition never has.
const SERVICE_KEYS: &[&str] = &[
    "serviceName",
    "service",
    "desiredCount",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "schedulingStrategy",
    "deploymentConfiguration",
    "deploymentController",
    "loadBalancers",
    "serviceRegistries",
    "networkConfiguration",
    "healthCheckGracePeriodSeconds",
    "enableExecuteCommand",
    "serviceConnectConfiguration",
    "forceNewDeployment",
    "availabilityZoneRebalancing",
];

/// Fields of `DescribeTaskDefinition` output that `RegisterTaskDefinition` rejects.
pub const READ_ONLY_TASK_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// A document that is not one of the four shapes: the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// Where in the document (JSON pointer), when the problem is a field.
    pub pointer: Option<PointerBuf>,
    pub message: String,
    pub hint: Option<String>,
}

impl ShapeError {
    fn at(pointer: PointerBuf, message: String) -> Self {
        ShapeError {
            pointer: Some(pointer),
            message,
            hint: None,
        }
    }
}

const EXPECTED: &str = "expected an ECS task definition (`containerDefinitions`), `describe-task-definition` output (`taskDefinition`), a service definition or `describe-services` output (`services`)";

pub fn detect(value: &Value) -> Result<Shape, ShapeError> {
    let Value::Object(obj) = value else {
        return Err(ShapeError {
            pointer: None,
            message: format!(
                "the document is {}, {EXPECTED}",
                sizing::json_type_name(value)
            ),
            hint: Some("give one task or service definition per file".into()),
        });
    };
    if let Some(td) = obj.get("taskDefinition")
        && td.is_object()
    {
        return Ok(Shape::DescribeTaskDefinition);
    }
    if obj.contains_key("containerDefinitions") {
        return Ok(Shape::TaskDefinition);
    }
    if let Some(services) = obj.get("services")
        && services.is_array()
    {
        return Ok(Shape::DescribeServices);
    }
    if SERVICE_KEYS.iter().any(|k| obj.contains_key(*k))
        || obj.get("taskDefinition").is_some_and(Value::is_string)
    {
        return Ok(Shape::Service);
    }
    let hint = if obj.contains_key("Resources") || obj.contains_key("AWSTemplateFormatVersion") {
        "this looks like a CloudFormation template; give the task definition JSON (`aws ecs describe-task-definition`) instead"
    } else {
        "fargate-rtm reads the JSON that `aws ecs register-task-definition --cli-input-json` or `create-service --cli-input-json` takes"
    };
    Err(ShapeError {
        pointer: None,
        message: format!("unknown document shape: {EXPECTED}"),
        hint: Some(hint.into()),
    })
}

/// A task-level size field as found.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeField {
    Missing,
    Ok(Parsed),
    Unreadable { raw: Value, error: SizeError },
}

impl SizeField {
    pub fn value(&self) -> Option<u64> {
        match self {
            SizeField::Ok(p) => Some(p.value),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub cpu: u64,
    /// Hard limit `memory`, else `memoryReservation`, else 0.
    pub memory: u64,
}

/// A container-level value that cannot be read (`"memory": "512"` where ECS takes an integer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerValueError {
    pub pointer: PointerBuf,
    pub message: String,
}

/// A task definition, typed, with its raw object.
#[derive(Debug, Clone)]
pub struct TaskDef<'a> {
    /// Where the task definition is in the document (`""` or `/taskDefinition`).
    pub base: PointerBuf,
    pub raw: &'a Map<String, Value>,
    pub family: Option<&'a str>,
    pub requires_compatibilities: Vec<&'a str>,
    pub os_family: Option<&'a str>,
    pub cpu_architecture: Option<&'a str>,
    pub cpu: SizeField,
    pub memory: SizeField,
    pub containers: Vec<Container>,
    pub container_errors: Vec<ContainerValueError>,
    /// `executionRoleArn` when set to a non-empty string.
    pub execution_role: Option<&'a str>,
}

fn ptr(base: &PointerBuf, tokens: &[&str]) -> PointerBuf {
    let mut p = base.clone();
    for t in tokens {
        p.push_back(*t);
    }
    p
}

fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    base: &PointerBuf,
) -> Result<Option<&'a str>, ShapeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ShapeError::at(
            ptr(base, &[key]),
            format!(
                "`{key}` is {}, expected a string",
                sizing::json_type_name(other)
            ),
        )),
    }
}

fn container_int(
    c: &Map<String, Value>,
    key: &str,
    at: &PointerBuf,
    errors: &mut Vec<ContainerValueError>,
) -> Option<u64> {
    match c.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(other) => {
            errors.push(ContainerValueError {
                pointer: ptr(at, &[key]),
                message: format!("container `{key}` is `{other}`, expected a whole number"),
            });
            None
        }
    }
}

impl<'a> TaskDef<'a> {
    pub fn read(base: PointerBuf, value: &'a Value) -> Result<Self, ShapeError> {
        let Value::Object(raw) = value else {
            return Err(ShapeError::at(
                base,
                format!(
                    "the task definition is {}, expected an object",
                    sizing::json_type_name(value)
                ),
            ));
        };
        let requires_compatibilities = match raw.get("requiresCompatibilities") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(other) => {
                return Err(ShapeError::at(
                    ptr(&base, &["requiresCompatibilities"]),
                    format!(
                        "`requiresCompatibilities` is {}, expected an array of strings",
                        sizing::json_type_name(other)
                    ),
                ));
            }
        };
        let (os_family, cpu_architecture) = match raw.get("runtimePlatform") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(rp)) => {
                let at = ptr(&base, &["runtimePlatform"]);
                (
                    opt_str(rp, "operatingSystemFamily", &at)?,
                    opt_str(rp, "cpuArchitecture", &at)?,
                )
            }
            Some(other) => {
                return Err(ShapeError::at(
                    ptr(&base, &["runtimePlatform"]),
                    format!(
                        "`runtimePlatform` is {}, expected an object",
                        sizing::json_type_name(other)
                    ),
                ));
            }
        };
        let size = |q: Quantity| match raw.get(q.field()) {
            None | Some(Value::Null) => SizeField::Missing,
            Some(v) => match sizing::parse(q, v) {
                Ok(p) => SizeField::Ok(p),
                Err(error) => SizeField::Unreadable {
                    raw: v.clone(),
                    error,
                },
            },
        };
        let mut containers = Vec::new();
        let mut container_errors = Vec::new();
        match raw.get("containerDefinitions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = ptr(&base, &["containerDefinitions", &i.to_string()]);
                    let Value::Object(c) = item else {
                        return Err(ShapeError::at(
                            at,
                            format!(
                                "container {i} is {}, expected an object",
                                sizing::json_type_name(item)
                            ),
                        ));
                    };
                    let name = c
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("#{i}"), str::to_string);
                    let cpu = container_int(c, "cpu", &at, &mut container_errors).unwrap_or(0);
                    let hard = container_int(c, "memory", &at, &mut container_errors);
                    let soft = container_int(c, "memoryReservation", &at, &mut container_errors);
                    containers.push(Container {
                        name,
                        cpu,
                        memory: hard.or(soft).unwrap_or(0),
                    });
                }
            }
            Some(other) => {
                return Err(ShapeError::at(
                    ptr(&base, &["containerDefinitions"]),
                    format!(
                        "`containerDefinitions` is {}, expected an array",
                        sizing::json_type_name(other)
                    ),
                ));
            }
        }
        Ok(TaskDef {
            family: opt_str(raw, "family", &base)?,
            execution_role: opt_str(raw, "executionRoleArn", &base)?
                .filter(|s| !s.trim().is_empty()),
            cpu: size(Quantity::Cpu),
            memory: size(Quantity::Memory),
            base,
            raw,
            requires_compatibilities,
            os_family,
            cpu_architecture,
            containers,
            container_errors,
        })
    }

    pub fn is_fargate(&self) -> bool {
        self.requires_compatibilities.contains(&"FARGATE")
    }

    pub fn field_pointer(&self, key: &str) -> PointerBuf {
        ptr(&self.base, &[key])
    }

    /// Task `cpu` and `memory` when both are read and form a valid Fargate size.
    pub fn valid_size(&self) -> Option<(u64, u64)> {
        let size = (self.cpu.value()?, self.memory.value()?);
        sizing::table().is_valid(size.0, size.1).then_some(size)
    }

    pub fn container_cpu(&self) -> u64 {
        self.containers.iter().map(|c| c.cpu).sum()
    }

    pub fn container_memory(&self) -> u64 {
        self.containers.iter().map(|c| c.memory).sum()
    }

    /// A short name for messages: the family, else "task definition".
    pub fn label(&self) -> String {
        self.family.map_or_else(
            || "task definition".to_string(),
            |f| format!("task definition `{f}`"),
        )
    }
}

/// An ECS service, typed, with its raw object.
#[derive(Debug, Clone)]
pub struct Service<'a> {
    pub base: PointerBuf,
    pub raw: &'a Map<String, Value>,
    pub name: Option<&'a str>,
    pub launch_type: Option<&'a str>,
    pub capacity_providers: Vec<&'a str>,
    pub platform_version: Option<&'a str>,
    pub platform_family: Option<&'a str>,
}

impl<'a> Service<'a> {
    pub fn read(base: PointerBuf, value: &'a Value) -> Result<Self, ShapeError> {
        let Value::Object(raw) = value else {
            return Err(ShapeError::at(
                base,
                format!(
                    "the service is {}, expected an object",
                    sizing::json_type_name(value)
                ),
            ));
        };
        let capacity_providers = match raw.get("capacityProviderStrategy") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.get("capacityProvider")?.as_str())
                .collect(),
            Some(other) => {
                return Err(ShapeError::at(
                    ptr(&base, &["capacityProviderStrategy"]),
                    format!(
                        "`capacityProviderStrategy` is {}, expected an array",
                        sizing::json_type_name(other)
                    ),
                ));
            }
        };
        let name = match opt_str(raw, "serviceName", &base)? {
            Some(n) => Some(n),
            None => opt_str(raw, "service", &base)?,
        };
        Ok(Service {
            name,
            launch_type: opt_str(raw, "launchType", &base)?,
            platform_version: opt_str(raw, "platformVersion", &base)?,
            platform_family: opt_str(raw, "platformFamily", &base)?,
            capacity_providers,
            base,
            raw,
        })
    }

    /// Fargate by launch type, or by a capacity provider strategy naming `FARGATE`/`FARGATE_SPOT`.
    pub fn is_fargate(&self) -> bool {
        self.launch_type == Some("FARGATE")
            || self
                .capacity_providers
                .iter()
                .any(|p| *p == "FARGATE" || *p == "FARGATE_SPOT")
    }

    pub fn field_pointer(&self, key: &str) -> PointerBuf {
        ptr(&self.base, &[key])
    }

    pub fn label(&self) -> String {
        self.name
            .map_or_else(|| "service".to_string(), |n| format!("service `{n}`"))
    }
}

/// The resources in a document, each read into its typed view.
#[allow(clippy::large_enum_variant)] // short-lived, one per resource
pub enum Resource<'a> {
    TaskDef(TaskDef<'a>),
    Service(Service<'a>),
}

pub fn resources(shape: Shape, value: &Value) -> Vec<Result<Resource<'_>, ShapeError>> {
    match shape {
        Shape::TaskDefinition => {
            vec![TaskDef::read(PointerBuf::new(), value).map(Resource::TaskDef)]
        }
        Shape::DescribeTaskDefinition => {
            let base = PointerBuf::from_tokens(["taskDefinition"]);
            vec![TaskDef::read(base, &value["taskDefinition"]).map(Resource::TaskDef)]
        }
        Shape::Service => vec![Service::read(PointerBuf::new(), value).map(Resource::Service)],
        Shape::DescribeServices => value["services"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        Service::read(
                            PointerBuf::from_tokens(["services".to_string(), i.to_string()]),
                            s,
                        )
                        .map(Resource::Service)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The AWS account and partition a document names, from its ARNs and ECR image URIs.
pub fn account_of(value: &Value) -> Option<(String, String)> {
    fn walk(v: &Value, out: &mut Option<(String, String)>) {
        if out.is_some() {
            return;
        }
        match v {
            Value::String(s) => *out = from_arn(s).or_else(|| from_ecr_image(s)),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => {
                // Fields most likely to name the task's own account first.
                for key in ["taskDefinitionArn", "taskRoleArn"] {
                    if let Some(x) = o.get(key) {
                        walk(x, out);
                    }
                }
                o.values().for_each(|x| walk(x, out));
            }
            _ => {}
        }
    }
    let mut out = None;
    walk(value, &mut out);
    out
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn from_arn(s: &str) -> Option<(String, String)> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    let _service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    (matches!(partition, "aws" | "aws-cn" | "aws-us-gov") && is_account(account))
        .then(|| (account.to_string(), partition.to_string()))
}

fn from_ecr_image(s: &str) -> Option<(String, String)> {
    let (account, rest) = s.split_once(".dkr.ecr.")?;
    if !is_account(account) {
        return None;
    }
    let region = rest.split('.').next()?;
    let partition = if rest.contains(".amazonaws.com.cn") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    Some((account.to_string(), partition.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_shapes() {
        assert_eq!(
            detect(&json!({"containerDefinitions": []})),
            Ok(Shape::TaskDefinition)
        );
        assert_eq!(
            detect(&json!({"taskDefinition": {"containerDefinitions": []}, "tags": []})),
            Ok(Shape::DescribeTaskDefinition)
        );
        assert_eq!(
            detect(&json!({"services": []})),
            Ok(Shape::DescribeServices)
        );
        assert_eq!(
            detect(&json!({"schedulingStrategy": "DAEMON"})),
            Ok(Shape::Service)
        );
        assert_eq!(
            detect(&json!({"taskDefinition": "web:3", "cluster": "c"})),
            Ok(Shape::Service)
        );
        assert!(
            detect(&json!([1]))
                .unwrap_err()
                .message
                .contains("an array")
        );
        assert!(
            detect(&json!({"Resources": {}}))
                .unwrap_err()
                .hint
                .unwrap()
                .contains("CloudFormation")
        );
    }

    #[test]
    fn account_from_arns_and_images() {
        let v = json!({"containerDefinitions": [{"image": "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/x"}]});
        assert_eq!(
            account_of(&v),
            Some(("123456789012".into(), "aws-us-gov".into()))
        );
        let v = json!({"taskRoleArn": "arn:aws:iam::210987654321:role/app", "x": "arn:aws:iam::ACCOUNT_ID:role/y"});
        assert_eq!(account_of(&v), Some(("210987654321".into(), "aws".into())));
        assert_eq!(
            account_of(&json!({"taskRoleArn": "arn:aws:iam::XXXXXXXXXXXX:role/a"})),
            None
        );
    }

    #[test]
    fn fargate_service_by_capacity_provider() {
        let v = json!({"launchType": "", "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]});
        assert!(Service::read(PointerBuf::new(), &v).unwrap().is_fargate());
        let v = json!({"launchType": "EC2"});
        assert!(!Service::read(PointerBuf::new(), &v).unwrap().is_fargate());
    }
}
