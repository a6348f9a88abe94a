//! The inputs as values: documents and their typed views (task definitions, services), ARNs,
//! findings and fixes, and an account region's inventory. Pure: no file system, no AWS calls.

pub mod arn;
pub mod cfn;
pub mod document;
pub mod field;
pub mod finding;
pub mod inventory;
pub mod service;
pub mod task_definition;
pub mod tf;
pub mod yaml;

pub use document::{
    Document, InputError, Origin, READ_ONLY_TASK_FIELDS, Resource, Shape, ShapeError,
    clearly_not_ecs, detect, module_sha256, parse, resources, sha256_hex,
};
pub use finding::{Applicability, CheckInfo, Finding, Fix, NotChecked, Severity};
pub use service::Service;
pub use task_definition::{Container, ContainerValueError, SizeField, TaskDef};
