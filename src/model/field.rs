//! Reading typed fields out of a JSON object, with errors that say where (a JSON pointer).

use crate::sizing;
use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value};

/// A document that is not one of the four shapes: the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// Where in the document (JSON pointer), when the problem is a field.
    pub pointer: Option<PointerBuf>,
    pub message: String,
    pub hint: Option<String>,
}

impl ShapeError {
    pub(crate) fn at(pointer: PointerBuf, message: String) -> Self {
        ShapeError {
            pointer: Some(pointer),
            message,
            hint: None,
        }
    }
}

pub(crate) fn ptr(base: &PointerBuf, tokens: &[&str]) -> PointerBuf {
    let mut p = base.clone();
    for t in tokens {
        p.push_back(*t);
    }
    p
}

pub(crate) fn opt_str<'a>(
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
