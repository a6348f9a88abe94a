//! The one size fix shared by `missing-task-size`, `invalid-task-size` and
//! `agent-memory-headroom`: the rounding rule of PRODUCT.md, written in the input's form.

use crate::model::{Applicability, Fix};
use crate::model::{SizeField, TaskDef};
use crate::sizing::{self, Form, Quantity, Requirement};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation, TestOperation};
use serde_json::Value;

/// The form a missing field is written in: the other field's form, else a digit string
/// (what `describe-task-definition` returns and most files use).
fn form_for_missing(other: &SizeField, q: Quantity) -> Form {
    match other {
        SizeField::Ok(p) => match &p.form {
            Form::Unit { space, .. } => Form::Unit {
                unit: match q {
                    Quantity::Cpu => "vCPU".into(),
                    Quantity::Memory => "GB".into(),
                },
                space: *space,
                leading_dot: false,
            },
            f => f.clone(),
        },
        _ => Form::Digits,
    }
}

/// The size fix for a task definition, or a manual fix saying why there is none.
pub fn fix(td: &TaskDef<'_>) -> Fix {
    if matches!(td.cpu, SizeField::Unreadable { .. })
        || matches!(td.memory, SizeField::Unreadable { .. })
    {
        return Fix::manual(
            "write `cpu` and `memory` as numbers (`1024`, `2048`) or with units (`1 vCPU`, `2 GB`)",
        );
    }
    if !td.container_errors.is_empty() {
        return Fix::manual(
            "make the container `cpu`, `memory` and `memoryReservation` whole numbers",
        );
    }
    let req = Requirement {
        cpu: td.cpu.value().unwrap_or(0),
        memory: td.memory.value().unwrap_or(0),
        container_cpu: td.container_cpu(),
        container_memory: td.container_memory(),
    };
    let table = sizing::table();
    let Some((cpu, memory)) = table.round_up(req) else {
        return Fix::manual(format!(
            "no Fargate size fits {} of container memory plus the agent: lower the container `memory`/`memoryReservation`",
            sizing::human(Quantity::Memory, req.container_memory)
        ));
    };
    let mut patch = Vec::new();
    let mut shown = Vec::new();
    let mut raised = false;
    for (q, field, other, new) in [
        (Quantity::Cpu, &td.cpu, &td.memory, cpu),
        (Quantity::Memory, &td.memory, &td.cpu, memory),
    ] {
        let path = td.field_pointer(q.field());
        match field {
            SizeField::Missing => {
                let value = sizing::render(new, &form_for_missing(other, q));
                shown.push(format!("`{}` to `{value}`", q.field()));
                patch.push(PatchOperation::Add(AddOperation { path, value }));
            }
            SizeField::Ok(p) if p.value != new => {
                let value = sizing::render(new, &p.form);
                shown.push(format!("`{}` to `{value}`", q.field()));
                raised = true;
                let old = td.raw.get(q.field()).cloned().unwrap_or(Value::Null);
                patch.push(PatchOperation::Test(TestOperation {
                    path: path.clone(),
                    value: old,
                }));
                patch.push(PatchOperation::Replace(ReplaceOperation { path, value }));
            }
            _ => {}
        }
    }
    Fix {
        title: format!("set {}", shown.join(" and ")),
        applicability: Applicability::Unsafe,
        reason: Some(
            if raised {
                "raises the task's billed size"
            } else {
                "sets the task's billed size"
            }
            .to_string(),
        ),
        patch,
        ..Default::default()
    }
}
