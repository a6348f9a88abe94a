//! A document: one input (a file, standard input, or a resource read from an account) with
//! its text, its parsed JSON and its detected shape, and the resources in it.

pub use super::field::ShapeError;
use super::service::Service;
use super::task_definition::TaskDef;
use crate::sizing;
use crate::text_patch;
use json_patch::jsonptr::PointerBuf;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file; `relative` is its path below the argument that named it (for `--out-dir`).
    File {
        path: PathBuf,
        relative: PathBuf,
    },
    Stdin,
    /// A resource read from an AWS account (`--live`), by ARN.
    Account {
        arn: String,
    },
}

impl Origin {
    pub fn display(&self) -> String {
        match self {
            Origin::File { path, .. } => path.display().to_string(),
            Origin::Stdin => "-".to_string(),
            Origin::Account { arn } => arn.clone(),
        }
    }
}

/// An input that could not be used: the message names the file and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{resource}`: {message}")]
pub struct InputError {
    pub resource: String,
    pub message: String,
    pub hint: Option<String>,
    /// The input is not an ECS document at all (some other JSON, or not JSON and nothing in it
    /// looks like ECS): a directory walk ignores it instead of failing.
    pub not_ecs: bool,
}

impl InputError {
    pub fn new(
        resource: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) -> Self {
        InputError {
            resource: resource.into(),
            message: message.into(),
            hint: hint.map(str::to_string),
            not_ecs: false,
        }
    }

    fn not_ecs(mut self) -> Self {
        self.not_ecs = true;
        self
    }
}

/// Keys that only ECS documents have: text holding one is an ECS document, however broken.
const ECS_MARKERS: [&str; 8] = [
    "portMappings",
    "containerDefinitions",
    "taskDefinitionArn",
    "\"taskDefinition\"",
    "serviceName",
    "launchType",
    "requiresCompatibilities",
    "networkConfiguration",
];

/// True when `bytes` cannot be an ECS document and holds nothing that looks like one: none of
/// the keys `detect` needs, no ECS marker, no CloudFormation, not UTF-16. A directory walk then
/// ignores the file without parsing it, with the same outcome a parse would have.
pub fn clearly_not_ecs(bytes: &[u8]) -> bool {
    use memchr::memmem::Finder;
    static FINDERS: std::sync::OnceLock<Vec<Finder<'static>>> = std::sync::OnceLock::new();
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return false;
    }
    let finders = FINDERS.get_or_init(|| {
        [
            "taskDefinition",
            "containerDefinitions",
            "services",
            "Resources",
            "planned_values",
        ]
        .iter()
        .chain(SERVICE_KEYS)
        .map(|k| format!("\"{k}\""))
        .chain(ECS_MARKERS.iter().map(|m| m.to_string()))
        .chain(["AWSTemplateFormatVersion".to_string()])
        .map(|n| Finder::new(n.as_bytes()).into_owned())
        .collect()
    });
    let has = |n: &str| memchr::memmem::find(bytes, n.as_bytes()).is_some();
    !(finders.iter().any(|f| f.find(bytes).is_some())
        || (has("\"family\"") && (has("\"cpu\"") || has("\"memory\""))))
}

fn looks_like_ecs(text: &str) -> bool {
    ECS_MARKERS.iter().any(|m| text.contains(m))
        || (text.contains("\"family\"")
            && (text.contains("\"cpu\"") || text.contains("\"memory\"")))
}

/// A parsed input.
#[derive(Debug, Clone)]
pub struct Document {
    pub origin: Origin,
    /// The text without a UTF-8 byte order mark.
    pub text: String,
    /// Whether the file started with a byte order mark (kept on write).
    pub bom: bool,
    pub value: Value,
    pub shape: Shape,
    /// A YAML input (a CloudFormation template): its nodes' spans; `value` is its JSON form.
    pub yaml: Option<super::yaml::Yaml>,
    /// A `.tf` file: the files of its module (its `.tf`, `.tfvars` and JSON files), read by
    /// the input stage.
    pub module: Vec<super::tf::File>,
}

impl Document {
    /// SHA-256 of the input bytes exactly as read (byte order mark included).
    pub fn sha256(&self) -> String {
        let mut bytes = Vec::with_capacity(self.text.len() + 3);
        if self.bom {
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        bytes.extend_from_slice(self.text.as_bytes());
        if self.shape == Shape::Terraform {
            return module_sha256(&bytes, &self.module);
        }
        sha256_hex(&bytes)
    }
}

/// The fingerprint of a `.tf` file with its module (the files its fixes may edit): the file's
/// bytes, then each module file's name and text, by name.
pub fn module_sha256(bytes: &[u8], module: &[super::tf::File]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    // Other JSON in the folder (a saved plan, a report) counts only when a `.tf` file names it.
    let matters = |f: &super::tf::File| {
        [".tf", ".tfvars", ".tfvars.json"]
            .iter()
            .any(|e| f.name.ends_with(e))
            || f.name.starts_with('(')
            || module
                .iter()
                .any(|t| t.name.ends_with(".tf") && t.text.contains(f.name.as_str()))
    };
    let mut files: Vec<&super::tf::File> = module.iter().filter(|f| matters(f)).collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    for f in files {
        h.update(b"\0");
        h.update(f.name.as_bytes());
        h.update(b"\0");
        h.update(f.text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Terraform file (`value`: its JSON for `.tf.json`, else null) whose native syntax is `body`;
/// one without an ECS resource is not an ECS document.
fn terraform_document(
    origin: Origin,
    text: String,
    bom: bool,
    value: Value,
    body: &hcl_edit::structure::Body,
) -> Result<Document, InputError> {
    if !super::tf::has_ecs(body) {
        return Err(InputError::new(
            origin.display(),
            "a Terraform file with no `aws_ecs_task_definition` or `aws_ecs_service`",
            Some("fargate-rtm checks the ECS resources of a module"),
        )
        .not_ecs());
    }
    Ok(Document {
        origin,
        text,
        bom,
        value,
        shape: Shape::Terraform,
        yaml: None,
        module: Vec::new(),
    })
}

/// Parses bytes into a document, or says exactly why not.
pub fn parse(origin: Origin, bytes: &[u8]) -> Result<Document, InputError> {
    let name = origin.display();
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(InputError::new(
            name,
            "UTF-16 text",
            Some(
                "save the file as UTF-8 (PowerShell's `Out-File` writes UTF-16 unless told `-Encoding utf8`)",
            ),
        ));
    }
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let (line, col) = text_patch::line_col(
                &String::from_utf8_lossy(&body[..e.valid_up_to()]),
                e.valid_up_to(),
            );
            let err = InputError::new(
                name,
                format!("not UTF-8 text (line {line}, column {col})"),
                Some("save the file as UTF-8"),
            );
            return Err(if looks_like_ecs(&String::from_utf8_lossy(body)) {
                err
            } else {
                err.not_ecs()
            });
        }
    };
    if let Origin::File { path, .. } = &origin
        && path.extension().is_some_and(|e| e == "tf")
    {
        if path
            .file_name()
            .is_some_and(|n| super::tf::is_override(&n.to_string_lossy()))
        {
            return Err(InputError::new(
                name,
                "a Terraform override file: Terraform merges it into the module's other files",
                Some("the module's resources are reported not checked while it has one"),
            )
            .not_ecs());
        }
        let body = super::tf::parse(&text).map_err(|m| InputError::new(name.clone(), m, None))?;
        return terraform_document(origin, text, bom, Value::Null, &body);
    }
    if text.trim().is_empty() {
        return Err(InputError::new(
            name,
            "empty file",
            Some("expected a task or service definition in JSON"),
        )
        .not_ecs());
    }
    let (value, yaml) = match serde_json::from_str::<Value>(&text) {
        Ok(v) => (v, None),
        Err(e) => {
            let err = json_error(&name, &text, &e);
            match yaml_template(&name, &text) {
                Some(Ok(y)) => (y.value.clone(), Some(y)),
                Some(Err(yaml_err)) => return Err(yaml_err),
                None if looks_like_ecs(&text) => return Err(err),
                None => return Err(err.not_ecs()),
            }
        }
    };
    if let Origin::File { path, .. } = &origin
        && path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".tf.json"))
    {
        let native = super::tf::json_to_hcl(&value)
            .and_then(|t| super::tf::parse(&t).ok())
            .ok_or_else(|| {
                InputError::new(
                    name.clone(),
                    "not a Terraform configuration in JSON syntax",
                    Some("`.tf.json` holds `resource`, `variable`, `locals`... as Terraform's JSON syntax describes"),
                )
            })?;
        return terraform_document(origin, text, bom, value, &native);
    }
    if crate::plan::tfplan::is_plan(&value) {
        if !crate::plan::tfplan::has_ecs(&value) {
            return Err(InputError::new(
                name,
                "a Terraform plan with no `aws_ecs_task_definition` or `aws_ecs_service`",
                Some("fargate-rtm checks the ECS resources of a plan"),
            )
            .not_ecs());
        }
        return Ok(Document {
            origin,
            text,
            bom,
            value,
            shape: Shape::TerraformPlan,
            yaml: None,
            module: Vec::new(),
        });
    }
    if super::cfn::is_template(&value) {
        if super::cfn::resources(&value, &Default::default()).is_empty() {
            return Err(InputError::new(
                name,
                "a CloudFormation template with no `AWS::ECS::TaskDefinition` or `AWS::ECS::Service` resource",
                Some("fargate-rtm checks the ECS resources of a template"),
            )
            .not_ecs());
        }
        return Ok(Document {
            origin,
            text,
            bom,
            value,
            shape: Shape::CloudFormation,
            yaml,
            module: Vec::new(),
        });
    }
    let shape = detect(&value).map_err(|e| {
        let at = e
            .pointer
            .as_ref()
            .and_then(|p| text_patch::line_of(&text, p))
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        InputError {
            resource: name.clone(),
            message: format!("{}{at}", e.message),
            // A container list is read through the `.tf` that uses it: a walk leaves it.
            not_ecs: !looks_like_ecs(&text) || e.message.contains("`containerDefinitions` array"),
            hint: e.hint,
        }
    })?;
    Ok(Document {
        origin,
        text,
        bom,
        value,
        shape,
        yaml: None,
        module: Vec::new(),
    })
}

/// A YAML input read as a CloudFormation template: `None` when it is not YAML or not a
/// template (the JSON error then stands); an error naming the line when a template does not
/// parse.
fn yaml_template(name: &str, text: &str) -> Option<Result<super::yaml::Yaml, InputError>> {
    if !super::yaml::looks_like_yaml(text) {
        return None;
    }
    let template_like = text.contains("AWSTemplateFormatVersion") || text.contains("Resources:");
    match super::yaml::parse(text) {
        Ok(y) if super::cfn::is_template(&y.value) => Some(Ok(y)),
        Ok(_) => None,
        Err(e) if template_like => Some(Err(InputError::new(
            name,
            format!(
                "invalid YAML at line {}, column {}: {}",
                e.line, e.col, e.message
            ),
            Some("this looks like a CloudFormation template; `cfn-lint` shows the same error"),
        ))),
        Err(_) => None,
    }
}

fn json_error(name: &str, text: &str, e: &serde_json::Error) -> InputError {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; keep the reason and say where once.
    let reason = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(r, _)| r);
    // The text around the error: a placeholder elsewhere in the file says nothing about it.
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let col = e.column().saturating_sub(1).min(line.len());
    let near: String = line
        .char_indices()
        .filter(|(i, _)| i + 3 >= col && *i <= col + 3)
        .map(|(_, c)| c)
        .collect();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let yaml = first == "---"
        || (first
            .split_once(':')
            .is_some_and(|(k, _)| !k.is_empty() && !k.starts_with(['{', '[', '"']))
            && !first.starts_with('{'));
    let hint = if text
        .lines()
        .next()
        .is_some_and(|l| l.trim_start().starts_with('$') || l.contains("aws ecs"))
    {
        Some("the first line looks like a shell prompt; keep only the JSON")
    } else if yaml && (text.contains("AWSTemplateFormatVersion") || text.contains("Resources:")) {
        Some(
            "this is a CloudFormation template in YAML; give the task definition JSON (`aws ecs describe-task-definition`) instead",
        )
    } else if yaml {
        Some("this is YAML, not JSON; convert it, or give the task definition JSON")
    } else if near.contains("//") || near.contains("/*") {
        Some("JSON does not allow comments; remove them")
    } else if near.contains("{{") || near.contains("${") || near.contains('<') {
        Some("template placeholders must be rendered (or quoted) before the file is valid JSON")
    } else if e.classify() == serde_json::error::Category::Eof {
        Some("the file ends early; is it complete?")
    } else {
        None
    };
    InputError::new(
        name,
        format!(
            "invalid JSON at line {}, column {}: {reason}",
            e.line(),
            e.column()
        ),
        hint,
    )
}

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
    /// `RunTask` input: a run configuration (`aws ecs run-task --cli-input-json`).
    RunTask,
    /// A CloudFormation template (JSON or YAML): each ECS resource in it is checked.
    CloudFormation,
    /// A Terraform plan in JSON (`terraform show -json PLANFILE`).
    TerraformPlan,
    /// A Terraform `.tf` file: its ECS resources, read with its module.
    Terraform,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::TaskDefinition => "task definition",
            Shape::DescribeTaskDefinition => "`describe-task-definition` output",
            Shape::Service => "service definition",
            Shape::DescribeServices => "`describe-services` output",
            Shape::RunTask => "run configuration (`run-task` input)",
            Shape::CloudFormation => "CloudFormation template",
            Shape::TerraformPlan => "Terraform plan (`terraform show -json`)",
            Shape::Terraform => "Terraform file",
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

/// Keys of `RunTask` input that neither a service nor a task definition has.
const RUN_TASK_KEYS: &[&str] = &["count", "startedBy", "overrides", "group", "referenceId"];

/// Keys that name or shape a service: `CreateService` needs `serviceName`, `UpdateService`
/// needs `service`; the others are service-only settings.
const SERVICE_ONLY_KEYS: &[&str] = &[
    "serviceName",
    "service",
    "desiredCount",
    "schedulingStrategy",
    "deploymentConfiguration",
    "deploymentController",
    "loadBalancers",
    "serviceRegistries",
    "healthCheckGracePeriodSeconds",
    "serviceConnectConfiguration",
    "forceNewDeployment",
    "availabilityZoneRebalancing",
    "role",
];

/// Fields of `DescribeTaskDefinition` output that `RegisterTaskDefinition` rejects.
pub use crate::aws::types::READ_ONLY_TASK_FIELDS;

const EXPECTED: &str = "expected an ECS task definition (`containerDefinitions`), `describe-task-definition` output (`taskDefinition`), a service definition, `describe-services` output (`services`) or `run-task` input";

pub fn detect(value: &Value) -> Result<Shape, ShapeError> {
    let Value::Object(obj) = value else {
        // Terraform's `container_definitions` (and `jsonencode`'d files) hold the containers only.
        let containers = value.as_array().is_some_and(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|c| c.get("name").is_some() && c.get("image").is_some())
        });
        return Err(ShapeError {
            pointer: None,
            message: if containers {
                format!("the document is a `containerDefinitions` array, {EXPECTED}")
            } else {
                format!(
                    "the document is {}, {EXPECTED}",
                    sizing::json_type_name(value)
                )
            },
            hint: Some(if containers {
                "this is a container list (Terraform's `container_definitions`); give the whole task definition (`aws ecs describe-task-definition`)".into()
            } else {
                "give one task or service definition per file".into()
            }),
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
    if obj.contains_key("taskArn")
        && (obj.contains_key("lastStatus") || obj.contains_key("containers"))
    {
        return Err(ShapeError {
            pointer: None,
            message: format!("the document is a running task (`describe-tasks` output), {EXPECTED}"),
            hint: Some("give its task definition (`aws ecs describe-task-definition --task-definition ARN`) or the service that starts it".into()),
        });
    }
    let service_only = SERVICE_ONLY_KEYS.iter().any(|k| obj.contains_key(*k));
    let runs_task = obj.get("taskDefinition").is_some_and(Value::is_string)
        || RUN_TASK_KEYS.iter().any(|k| obj.contains_key(*k));
    // `CreateService` needs `serviceName` and `UpdateService` needs `service`: a task
    // definition to run without either (or with `count`, `overrides`...) is `RunTask` input.
    if runs_task && !service_only {
        return Ok(Shape::RunTask);
    }
    if SERVICE_KEYS.iter().any(|k| obj.contains_key(*k)) || runs_task {
        return Ok(Shape::Service);
    }
    if obj.get("resource").is_some_and(|r| {
        r.get("aws_ecs_task_definition").is_some() || r.get("aws_ecs_service").is_some()
    }) {
        return Err(ShapeError {
            pointer: None,
            message: "a Terraform configuration in JSON syntax in a file Terraform does not read (its name does not end in `.tf.json`)".into(),
            hint: Some("plan it and check the plan: `terraform show -json PLANFILE > plan.json`, then `fargate-rtm plan plan.json`".into()),
        });
    }
    let parameters_file = obj.contains_key("Parameters")
        && obj
            .keys()
            .all(|k| matches!(k.as_str(), "Parameters" | "Tags" | "StackPolicy"));
    let hint = if parameters_file {
        "this is a CloudFormation parameters file; plan its template and give the values with `--parameter NAME=VALUE`"
    } else if obj.contains_key("Resources") || obj.contains_key("AWSTemplateFormatVersion") {
        "this looks like a CloudFormation template; give the task definition JSON (`aws ecs describe-task-definition`) instead"
    } else if obj.contains_key("containerProperties") || obj.contains_key("jobDefinitionName") {
        "this is an AWS Batch job definition; Runtime Monitoring for Fargate covers ECS tasks, give an ECS task definition"
    } else {
        "fargate-rtm reads the JSON that `aws ecs register-task-definition --cli-input-json` or `create-service --cli-input-json` takes"
    };
    Err(ShapeError {
        pointer: None,
        message: format!("unknown document shape: {EXPECTED}"),
        hint: Some(hint.into()),
    })
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
        Shape::RunTask => {
            vec![Service::read_run(PointerBuf::new(), value).map(Resource::Service)]
        }
        // Planned resource by resource (`plan::template`, `plan::tfplan`).
        Shape::CloudFormation | Shape::TerraformPlan | Shape::Terraform => Vec::new(),
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
            detect(&json!({"taskDefinition": "web:3", "cluster": "c", "serviceName": "web"})),
            Ok(Shape::Service)
        );
        assert_eq!(
            detect(&json!({"taskDefinition": "web:3", "cluster": "c"})),
            Ok(Shape::RunTask)
        );
        assert_eq!(
            detect(&json!({"taskDefinition": "web:3", "count": 2, "launchType": "FARGATE"})),
            Ok(Shape::RunTask)
        );
        assert_eq!(
            detect(&json!({"service": "web", "taskDefinition": "web:3"})),
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

    fn err(bytes: &[u8]) -> InputError {
        parse(Origin::Stdin, bytes).unwrap_err()
    }

    #[test]
    fn errors_say_what_the_file_is() {
        let hint = |bytes: &[u8]| err(bytes).hint.unwrap_or_default();
        assert!(hint(b"family: web\ncpu: 256\n").contains("YAML"));
        // A CloudFormation template in YAML is read; one without ECS resources is not ECS; one
        // that does not parse is named with its line.
        let t = parse(
            Origin::Stdin,
            b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n",
        )
        .unwrap();
        assert_eq!(t.shape, Shape::CloudFormation);
        assert!(t.yaml.is_some());
        assert!(err(b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n").not_ecs);
        let bad = err(b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T: [\n");
        assert!(
            bad.message.starts_with("invalid YAML at line"),
            "{}",
            bad.message
        );
        assert!(hint(b"{\n  // the web task\n  \"family\": \"web\"\n}").contains("comments"));
        // A placeholder elsewhere is not the cause of a missing comma.
        let h =
            hint(b"{\n  \"image\": \"app:${TAG}\",\n  \"family\": \"web\"\n  \"cpu\": \"256\"\n}");
        assert!(!h.contains("placeholder"), "{h}");
        assert!(hint(b"{\n  \"cpu\": {{ cpu }}\n}").contains("placeholder"));
        let utf16 = err(b"\xFF\xFE{\x00}\x00");
        assert_eq!(utf16.message, "UTF-16 text");
        let containers = err(br#"[{"name": "web", "image": "nginx", "memory": 512}]"#);
        assert!(
            containers.message.contains("`containerDefinitions` array"),
            "{}",
            containers.message
        );
        // A walk leaves it (Terraform reads it with `file()`); named, it is an error.
        assert!(containers.not_ecs);
    }

    #[test]
    fn bad_inputs_get_located_errors() {
        assert_eq!(err(b"").message, "empty file");
        assert!(
            err(b"{\n  \"a\": 1,\n}")
                .message
                .starts_with("invalid JSON at line 3, column 1")
        );
        assert!(err(b"[1, 2]").message.contains("the document is an array"));
        assert!(err(b"{\"memory\": 1e309}").message.contains("invalid JSON"));
        assert!(err(b"\xff\xff").message.contains("not UTF-8"));
        assert_eq!(err(b"\xff\xfe").message, "UTF-16 text");
        let deep = "[".repeat(10_000);
        assert!(err(deep.as_bytes()).message.contains("recursion limit"));
    }

    #[test]
    fn byte_order_mark_is_kept_aside() {
        let d = parse(Origin::Stdin, b"\xEF\xBB\xBF{\"containerDefinitions\": []}").unwrap();
        assert!(d.bom);
        assert_eq!(d.shape, Shape::TaskDefinition);
    }
}
