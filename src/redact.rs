//! Redaction: container `environment` values and values that look like secrets never appear in
//! diffs, logs or plan files.

use json_patch::jsonptr::PointerBuf;
use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
        && !k.ends_with("arn")
}

fn secret_value(s: &str) -> bool {
    let aws_key = s.len() == 20
        && (s.starts_with("AKIA") || s.starts_with("ASIA"))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    aws_key || s.contains("-----BEGIN") || s.starts_with("ghp_") || s.starts_with("xoxb-")
}

/// Pointers of every string to hide in `value`.
pub fn secret_pointers(value: &Value) -> Vec<PointerBuf> {
    fn walk(v: &Value, at: &mut PointerBuf, in_env: bool, out: &mut Vec<PointerBuf>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    at.push_back(k.as_str());
                    let hide = (in_env && k == "value") || (x.is_string() && secret_key(k));
                    if hide && x.is_string() {
                        out.push(at.clone());
                    } else {
                        walk(x, at, k == "environment", out);
                    }
                    at.pop_back();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push_back(i);
                    // Elements of `environment` are {name, value} objects.
                    walk(x, at, in_env, out);
                    at.pop_back();
                }
            }
            Value::String(s) if secret_value(s) => out.push(at.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut PointerBuf::new(), false, &mut out);
    out
}

/// The JSON string literals (`"hunter2"`, quotes included) of every secret in `value`,
/// longest first.
pub fn secret_literals(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = secret_pointers(value)
        .iter()
        .filter_map(|p| p.resolve(value).ok()?.as_str())
        .filter(|s| !s.is_empty())
        .filter_map(|s| serde_json::to_string(s).ok())
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// A line of a document with every secret literal replaced by `"<redacted>"`. The same literal
/// elsewhere on the line is hidden too: over-redaction is the safe side.
pub fn redact_line<'a>(line: &'a str, literals: &[String]) -> std::borrow::Cow<'a, str> {
    let mut out = std::borrow::Cow::Borrowed(line);
    for lit in literals {
        if out.contains(lit.as_str()) {
            out = std::borrow::Cow::Owned(out.replace(lit.as_str(), &format!("\"{REDACTED}\"")));
        }
    }
    out
}

/// Redacts a whole JSON value in place (for JSON output and plan files).
pub fn redact_value(value: &mut Value) {
    for p in secret_pointers(value) {
        if let Ok(v) = p.resolve_mut(value) {
            *v = Value::String(REDACTED.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hides_environment_values_and_secret_looking_strings() {
        let v = json!({"containerDefinitions": [{"environment": [{"name": "DB", "value": "hunter2"}],
            "secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:::parameter/x"}],
            "dockerLabels": {"api_token": "abc", "note": "AKIAABCDEFGHIJKLMNOP"}}]});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let lits = secret_literals(&v);
        let out: String = text.lines().map(|l| redact_line(l, &lits) + "\n").collect();
        assert!(
            !out.contains("hunter2") && !out.contains("abc\"") && !out.contains("AKIA"),
            "{out}"
        );
        assert!(out.contains("\"DB\"") && out.contains("parameter/x"));
    }
}
