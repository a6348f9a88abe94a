//! RFC 6902 operations applied to YAML text by editing only the characters of the values they
//! change (a one-field fix is a one-line diff); comments, key order, quoting, tags and flow or
//! block style stay as written. The result is parsed again and compared with the intended
//! value, as the JSON patcher does.

use crate::model::yaml::{self, Kind, Style, Yaml};
use json_patch::PatchOperation;
use serde_json::Value;

/// `text` with `patch` applied, and its JSON form.
pub fn apply(text: &str, doc: &Yaml, patch: &[PatchOperation]) -> Result<(String, Value), String> {
    let mut edits: Vec<(usize, usize, usize, String)> = Vec::new();
    for (i, op) in patch.iter().enumerate() {
        match op {
            PatchOperation::Test(t) => {
                if doc.value.pointer(t.path.as_str()) != Some(&t.value) {
                    return Err(format!("`{}` is not as planned", t.path));
                }
            }
            PatchOperation::Replace(r) => {
                let (s, e, t) = replace(text, doc, r.path.as_str(), &r.value)?;
                edits.push((s, e, i, t));
            }
            PatchOperation::Add(a) => {
                if doc.nodes.contains_key(a.path.as_str()) {
                    let (s, e, t) = replace(text, doc, a.path.as_str(), &a.value)?;
                    edits.push((s, e, i, t));
                } else {
                    let (at, t) = insert(text, doc, a.path.as_str(), &a.value)?;
                    edits.push((at, at, i, t));
                }
            }
            other => {
                return Err(format!(
                    "`{}` operations are not made on YAML",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v["op"].as_str().map(str::to_string))
                        .unwrap_or_default()
                ));
            }
        }
    }
    // From the end, so earlier offsets stay valid; two inserts at one place keep their order.
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.2.cmp(&a.2)));
    let mut out = text.to_string();
    for (s, e, _, t) in edits {
        out.replace_range(s..e, &t);
    }
    let mut expected = doc.value.clone();
    json_patch::patch(&mut expected, patch).map_err(|e| e.to_string())?;
    let reparsed = yaml::parse(&out).map_err(|e| {
        format!(
            "the edited YAML does not parse (line {}: {})",
            e.line, e.message
        )
    })?;
    if reparsed.value != expected {
        return Err("the edited YAML does not read back as the planned change".into());
    }
    Ok((out, reparsed.value))
}

fn replace(
    text: &str,
    doc: &Yaml,
    path: &str,
    value: &Value,
) -> Result<(usize, usize, String), String> {
    let node = doc
        .nodes
        .get(path)
        .ok_or_else(|| format!("`{path}` is not in the YAML"))?;
    let style = match node.kind {
        Kind::Scalar(Style::Block) => {
            return Err(format!("`{path}` is a block scalar (`|`/`>`)"));
        }
        Kind::Scalar(s) => s,
        _ => Style::Plain,
    };
    let _ = text;
    Ok((node.start, node.end, render(value, style)))
}

fn insert(text: &str, doc: &Yaml, path: &str, value: &Value) -> Result<(usize, String), String> {
    let (parent, key) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("`{path}` has no parent"))?;
    let key = key.replace("~1", "/").replace("~0", "~");
    let node = doc
        .nodes
        .get(parent)
        .ok_or_else(|| format!("`{parent}` is not in the YAML"))?;
    let entry = format!(
        "{}: {}",
        render(&Value::String(key), Style::Plain),
        render(value, Style::Plain)
    );
    match node.kind {
        Kind::Mapping { flow: false } => {
            // After the line of the mapping's last content, at its keys' indentation.
            let b = text.as_bytes();
            let mut at = node.end.min(b.len());
            while at < b.len() && b[at] != b'\n' {
                at += 1;
            }
            if at > 0 && b.get(at - 1) == Some(&b'\r') {
                at -= 1;
            }
            let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
            Ok((at, format!("{newline}{}{entry}", " ".repeat(node.indent))))
        }
        Kind::Mapping { flow: true } => {
            let close = node.end.saturating_sub(1);
            let empty = text[node.value_start + 1..close].trim().is_empty();
            Ok((close, if empty { entry } else { format!(", {entry}") }))
        }
        _ => Err(format!("`{parent}` is not a mapping")),
    }
}

/// A value as YAML in `style` (collections in flow style, which JSON already is).
fn render(value: &Value, style: Style) -> String {
    match value {
        Value::String(s) => match style {
            Style::Single => format!("'{}'", s.replace('\'', "''")),
            Style::Double => serde_json::to_string(s).unwrap_or_default(),
            _ if plain_safe(s) => s.clone(),
            _ => format!("'{}'", s.replace('\'', "''")),
        },
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A string that reads back as the same string when written plain.
fn plain_safe(s: &str) -> bool {
    let Ok(reread) = yaml::parse(&format!("k: {s}\n")) else {
        return false;
    };
    reread.value.get("k") == Some(&Value::String(s.to_string()))
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains(" #")
        && !s.contains(": ")
        // Safe in a flow collection too (`[a, b]`, `{k: v}`).
        && !s.contains([',', '[', ']', '{', '}'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use json_patch::{AddOperation, ReplaceOperation, TestOperation};
    use serde_json::json;

    fn ops(v: Value) -> Vec<PatchOperation> {
        serde_json::from_value(v).unwrap()
    }

    const T: &str = "Parameters:\n  Mem:\n    Type: String\n    Default: '512'   # the memory\nResources:\n  TD:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Memory: !Ref Mem\n      Cpu: 256 # quarter\n      Flow: {A: 1}\n    DependsOn: X\n";

    #[test]
    fn edits_only_the_changed_characters() {
        let y = yaml::parse(T).unwrap();
        let p = ops(json!([
            {"op": "test", "path": "/Parameters/Mem/Default", "value": "512"},
            {"op": "replace", "path": "/Parameters/Mem/Default", "value": "1024"},
            {"op": "replace", "path": "/Resources/TD/Properties/Cpu", "value": 512},
            {"op": "add", "path": "/Resources/TD/Properties/ExecutionRoleArn", "value": "arn:aws:iam::1:role/e"},
            {"op": "add", "path": "/Resources/TD/Properties/Flow/B", "value": "x y"}
        ]));
        let (out, v) = apply(T, &y, &p).unwrap();
        assert_eq!(
            out,
            "Parameters:\n  Mem:\n    Type: String\n    Default: '1024'   # the memory\nResources:\n  TD:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Memory: !Ref Mem\n      Cpu: 512 # quarter\n      Flow: {A: 1, B: x y}\n      ExecutionRoleArn: arn:aws:iam::1:role/e\n    DependsOn: X\n"
        );
        assert_eq!(v["Resources"]["TD"]["Properties"]["Cpu"], 512);
        // A tagged value replaced by a literal loses its tag.
        let p = vec![PatchOperation::Replace(ReplaceOperation {
            path: "/Resources/TD/Properties/Memory".parse().unwrap(),
            value: "2048".into(),
        })];
        let (out, _) = apply(T, &y, &p).unwrap();
        assert!(out.contains("      Memory: '2048'\n"), "{out}");
        // A test that fails changes nothing.
        let p = vec![PatchOperation::Test(TestOperation {
            path: "/Parameters/Mem/Default".parse().unwrap(),
            value: "256".into(),
        })];
        assert!(apply(T, &y, &p).is_err());
        let p = vec![PatchOperation::Add(AddOperation {
            path: "/Resources/TD/Type/X".parse().unwrap(),
            value: 1.into(),
        })];
        assert!(apply(T, &y, &p).is_err());
    }
}
