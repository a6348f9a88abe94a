//! A task definition, typed, beside its raw JSON object.

use super::field::{ShapeError, opt_str, ptr};
use crate::sizing::{self, Parsed, Quantity, SizeError};
use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value};

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
