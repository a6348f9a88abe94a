//! An ECS service, typed, beside its raw JSON object.

use super::field::{ShapeError, opt_str, ptr};
use crate::sizing;
use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value};

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
    /// `RunTask` input (a run configuration), not a service.
    pub run: bool,
    /// The task definition it runs (`family:revision` or an ARN), when given as a string.
    pub task_definition: Option<&'a str>,
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
            run: false,
            task_definition: raw.get("taskDefinition").and_then(Value::as_str),
            base,
            raw,
        })
    }

    /// `RunTask` input: the same members as a service for what GuardDuty needs.
    pub fn read_run(base: PointerBuf, value: &'a Value) -> Result<Self, ShapeError> {
        let mut run = Self::read(base, value)?;
        run.run = true;
        Ok(run)
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
        if self.run {
            return self.task_definition.map_or_else(
                || "run configuration".to_string(),
                |t| format!("run configuration for `{t}`"),
            );
        }
        self.name
            .map_or_else(|| "service".to_string(), |n| format!("service `{n}`"))
    }

    /// "service" or "run configuration", for messages.
    pub fn kind(&self) -> &'static str {
        if self.run {
            "run configuration"
        } else {
            "service"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fargate_service_by_capacity_provider() {
        let v = json!({"launchType": "", "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]});
        assert!(Service::read(PointerBuf::new(), &v).unwrap().is_fargate());
        let v = json!({"launchType": "EC2"});
        assert!(!Service::read(PointerBuf::new(), &v).unwrap().is_fargate());
    }
}
