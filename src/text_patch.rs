//! Applying JSON Patch operations to the *text* of a document, so that only the patched fields
//! change: key order, unknown fields, indentation, line endings and spacing stay as written.
//!
//! The text must already be valid JSON (serde_json parsed it), so the scanner here only has to
//! find spans, not report syntax errors; it still never panics on bad input and returns `None`.

use json_patch::PatchOperation;
use json_patch::jsonptr::{Pointer, Token};
use serde_json::Value;

/// Byte span `[start, end)` of a value, with the span of its key when it is an object member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub key_start: Option<usize>,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.i;
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i));
                }
                _ => self.i += 1,
            }
        }
        None
    }
    /// Skips one value (iteratively, so depth cannot overflow the stack).
    fn skip_value(&mut self) -> Option<(usize, usize)> {
        self.ws();
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some((start, self.i));
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                return None;
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
            }
        }
        Some((start, self.i))
    }
}

/// Decodes a JSON string literal (with quotes) to compare keys exactly.
fn key_eq(raw: &str, key: &str) -> bool {
    if !raw.contains('\\') {
        return &raw[1..raw.len() - 1] == key;
    }
    serde_json::from_str::<String>(raw).is_ok_and(|k| k == key)
}

/// The span of the value at `ptr`. Duplicate keys resolve to the last one, as serde_json does.
pub fn locate(text: &str, ptr: &Pointer) -> Option<Span> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut span = Span {
        start: s.i,
        end: 0,
        key_start: None,
    };
    for token in ptr.tokens() {
        span = child(text, &mut s, span.start, &token)?;
        s.i = span.start;
    }
    let mut s2 = Scanner {
        b: text.as_bytes(),
        i: span.start,
    };
    let (_, end) = s2.skip_value()?;
    span.end = end;
    Some(span)
}

/// Finds the child `token` of the container starting at `at`.
fn child(text: &str, s: &mut Scanner<'_>, at: usize, token: &Token<'_>) -> Option<Span> {
    s.i = at;
    match s.peek()? {
        b'{' => {
            s.i += 1;
            let key = token.decoded();
            let mut found = None;
            loop {
                s.ws();
                if s.peek()? == b'}' {
                    return found;
                }
                let (ks, ke) = s.string()?;
                s.ws();
                if s.peek()? != b':' {
                    return None;
                }
                s.i += 1;
                s.ws();
                let (vs, ve) = s.skip_value()?;
                if key_eq(&text[ks..ke], &key) {
                    found = Some(Span {
                        start: vs,
                        end: ve,
                        key_start: Some(ks),
                    });
                }
                s.ws();
                match s.peek()? {
                    b',' => s.i += 1,
                    b'}' => return found,
                    _ => return None,
                }
            }
        }
        b'[' => {
            s.i += 1;
            let want = token.decoded().parse::<usize>().ok()?;
            let mut idx = 0;
            loop {
                s.ws();
                if s.peek()? == b']' {
                    return None;
                }
                let (vs, ve) = s.skip_value()?;
                if idx == want {
                    return Some(Span {
                        start: vs,
                        end: ve,
                        key_start: None,
                    });
                }
                idx += 1;
                s.ws();
                match s.peek()? {
                    b',' => s.i += 1,
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&c| c != b'\n').count() + 1;
    (line, col)
}

/// The line where the value (or the key of the member) at `ptr` starts, if it exists.
pub fn line_of(text: &str, ptr: &Pointer) -> Option<usize> {
    locate(text, ptr).map(|s| line_col(text, s.key_start.unwrap_or(s.start)).0)
}

/// The members of the object whose `{` is at `start`: (key_start, value_start, value_end).
fn members(text: &str, start: usize) -> Option<Vec<(usize, usize, usize)>> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: start,
    };
    if s.peek()? != b'{' {
        return None;
    }
    s.i += 1;
    let mut out = Vec::new();
    loop {
        s.ws();
        if s.peek()? == b'}' {
            return Some(out);
        }
        let (ks, _) = s.string()?;
        s.ws();
        s.i += 1; // ':'
        let (vs, ve) = s.skip_value()?;
        out.push((ks, vs, ve));
        s.ws();
        match s.peek()? {
            b',' => s.i += 1,
            b'}' => return Some(out),
            _ => return None,
        }
    }
}

fn json_string(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
}

/// One text edit for one operation, on the current text. `None` when the operation cannot be
/// expressed as a local edit (the caller then re-serialises the whole document).
fn edit_for(text: &str, op: &PatchOperation) -> Option<(usize, usize, String)> {
    match op {
        PatchOperation::Test(_) => Some((0, 0, String::new())),
        PatchOperation::Replace(r) => {
            let span = locate(text, &r.path)?;
            Some((span.start, span.end, serde_json::to_string(&r.value).ok()?))
        }
        PatchOperation::Add(a) => {
            if let Some(span) = locate(text, &a.path) {
                // `add` on an existing member replaces it.
                if span.key_start.is_some() {
                    return Some((span.start, span.end, serde_json::to_string(&a.value).ok()?));
                }
            }
            let (parent, last) = a.path.split_back()?;
            let parent_span = locate(text, parent)?;
            let key = last.decoded();
            let value = serde_json::to_string(&a.value).ok()?;
            let ms = members(text, parent_span.start)?;
            match (ms.first(), ms.last()) {
                (Some(&(first_key, _, _)), Some(&(last_key, _, last_end))) => {
                    // Copy the layout of the last member: the whitespace before its key and
                    // the separator between its key and value.
                    let indent_from = if ms.len() >= 2 {
                        let prev_end = ms[ms.len() - 2].2;
                        let comma = prev_end + text[prev_end..last_key].find(',')? + 1;
                        &text[comma..last_key]
                    } else {
                        &text[parent_span.start + 1..first_key]
                    };
                    let (k_start, v_start) = (ms.last()?.0, ms.last()?.1);
                    let key_end = k_start + {
                        let mut s = Scanner {
                            b: text.as_bytes(),
                            i: k_start,
                        };
                        let (a, b) = s.string()?;
                        b - a
                    };
                    let sep = &text[key_end..v_start];
                    // Spaces left after a comma at a line's end are not copied: an inserted
                    // member never brings trailing whitespace.
                    let indent_from = match indent_from.find('\n') {
                        Some(nl) if indent_from[..nl].trim_matches([' ', '\t']).is_empty() => {
                            &indent_from[nl..]
                        }
                        _ => indent_from,
                    };
                    Some((
                        last_end,
                        last_end,
                        format!(",{indent_from}{}{sep}{value}", json_string(&key)),
                    ))
                }
                _ => {
                    let inner = parent_span.start + 1;
                    Some((inner, inner, format!("{}: {value}", json_string(&key))))
                }
            }
        }
        PatchOperation::Remove(r) => {
            let span = locate(text, &r.path)?;
            let key_start = span.key_start?;
            let (parent, _) = r.path.split_back()?;
            let parent_span = locate(text, parent)?;
            let ms = members(text, parent_span.start)?;
            let idx = ms.iter().position(|m| m.0 == key_start)?;
            if idx > 0 {
                // Remove from the end of the previous value through this value.
                Some((ms[idx - 1].2, span.end, String::new()))
            } else if ms.len() > 1 {
                // First member: remove through the start of the next key.
                Some((key_start, ms[1].0, String::new()))
            } else {
                Some((parent_span.start + 1, parent_span.end - 1, String::new()))
            }
        }
        PatchOperation::Move(_) | PatchOperation::Copy(_) => None,
    }
}

/// Detects the indentation of a document for the fallback re-serialisation.
pub fn detect_indent(text: &str) -> Option<String> {
    for line in text.lines().skip(1) {
        let ws: String = line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        if !ws.is_empty() && ws.len() < line.len() {
            return Some(ws);
        }
    }
    None
}

/// Re-serialises `value` with the indentation of `original` (tabs, 2 or 4 spaces, minified).
pub fn reserialize(value: &Value, original: &str) -> String {
    use serde::Serialize;
    let mut out = match detect_indent(original) {
        Some(indent) => {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            if value.serialize(&mut ser).is_err() {
                return value.to_string();
            }
            String::from_utf8(buf).unwrap_or_else(|_| value.to_string())
        }
        None => value.to_string(),
    };
    if original.ends_with('\n') {
        out.push('\n');
    }
    if original.contains("\r\n") {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// Applies `ops` to `text`. Returns the new text; it parses to exactly `json_patch::patch`
/// applied to the parsed input (when the local edits cannot guarantee that, the document is
/// re-serialised with its own indentation instead).
pub fn apply_to_text(
    text: &str,
    original: &Value,
    ops: &[PatchOperation],
) -> Result<(String, Value), json_patch::PatchError> {
    let mut expected = original.clone();
    json_patch::patch(&mut expected, ops)?;
    let mut current = text.to_string();
    let mut local = true;
    for op in ops {
        if let PatchOperation::Move(m) = op
            && m.path.is_root()
            && m.from.count() == 1
        {
            // Unwrapping a top-level member (`--registerable`): keep its text.
            let key = m
                .from
                .last()
                .map(|t| t.decoded().into_owned())
                .unwrap_or_default();
            current = unwrap_member(&current, &key, &expected);
            continue;
        }
        match edit_for(&current, op) {
            Some((start, end, replacement)) => current.replace_range(start..end, &replacement),
            None => {
                local = false;
                break;
            }
        }
    }
    if local && serde_json::from_str::<Value>(&current).is_ok_and(|v| v == expected) {
        return Ok((current, expected));
    }
    Ok((reserialize(&expected, text), expected))
}

/// Unwraps the member `key` of the top-level object as the new document, keeping its text and
/// removing one level of indentation (for `--registerable`).
pub fn unwrap_member(text: &str, key: &str, expected: &Value) -> String {
    let ptr = json_patch::jsonptr::PointerBuf::from_tokens([key]);
    let Some(span) = locate(text, &ptr) else {
        return reserialize(expected, text);
    };
    let inner = &text[span.start..span.end];
    // Indentation of the member's key line is one level.
    let key_at = span.key_start.unwrap_or(span.start);
    let line_start = text[..key_at].rfind('\n').map_or(0, |i| i + 1);
    let level = &text[line_start..key_at];
    let mut out = String::with_capacity(inner.len());
    for (i, line) in inner.split_inclusive('\n').enumerate() {
        if i > 0 && !level.is_empty() && line.starts_with(level) {
            out.push_str(&line[level.len()..]);
        } else {
            out.push_str(line);
        }
    }
    if text.ends_with('\n') && !out.ends_with('\n') {
        out.push_str(if text.ends_with("\r\n") { "\r\n" } else { "\n" });
    }
    if serde_json::from_str::<Value>(&out).is_ok_and(|v| &v == expected) {
        out
    } else {
        reserialize(expected, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inserted_member_brings_no_trailing_whitespace() {
        let text = "{\n  \"a\": 1, \n  \"b\": 2\n}\n";
        let op: PatchOperation =
            serde_json::from_value(serde_json::json!({"op": "add", "path": "/c", "value": 3}))
                .unwrap();
        let (start, end, insert) = edit_for(text, &op).unwrap();
        let out = format!("{}{insert}{}", &text[..start], &text[end..]);
        let trailing = |t: &str| t.lines().filter(|l| l.ends_with(' ')).count();
        assert_eq!(trailing(&out), trailing(text), "{out:?}");
        assert!(out.contains("\"b\": 2,\n  \"c\": 3"), "{out:?}");
    }
    use json_patch::jsonptr::PointerBuf;
    use serde_json::json;

    fn p(s: &str) -> PointerBuf {
        PointerBuf::parse(s).unwrap()
    }

    fn ops(v: Value) -> Vec<PatchOperation> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn locates_nested_values_and_last_duplicate() {
        let t = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": 1,\n  \"c\": 2\n}";
        let s = locate(t, &p("/a/1/b")).unwrap();
        assert_eq!(&t[s.start..s.end], "\"x\"");
        let s = locate(t, &p("/c")).unwrap();
        assert_eq!(&t[s.start..s.end], "2");
        assert_eq!(line_of(t, &p("/c")), Some(4));
        assert!(locate(t, &p("/zzz")).is_none());
        assert!(locate(t, &p("/a/7")).is_none());
    }

    #[test]
    fn replace_changes_one_line_with_four_space_indent() {
        let t = "{\n    \"family\": \"x\",\n    \"memory\": \"2048\",\n    \"z\": {\"k\" : 1}\n}\n";
        let v: Value = serde_json::from_str(t).unwrap();
        let (out, _) = apply_to_text(
            t,
            &v,
            &ops(json!([{"op":"replace","path":"/memory","value":"3072"}])),
        )
        .unwrap();
        assert_eq!(out, t.replace("\"2048\"", "\"3072\""));
    }

    #[test]
    fn add_copies_layout_tabs_crlf_and_minified() {
        for t in [
            "{\r\n\t\"a\": 1,\r\n\t\"b\": 2\r\n}",
            "{\"a\":1,\"b\":2}",
            "{\n  \"a\" : 1\n}\n",
        ] {
            let v: Value = serde_json::from_str(t).unwrap();
            let (out, want) = apply_to_text(
                t,
                &v,
                &ops(json!([{"op":"add","path":"/executionRoleArn","value":"arn"}])),
            )
            .unwrap();
            assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), want);
            assert!(
                out.starts_with(t.trim_end_matches(['}', '\n', '\r'])),
                "{out:?}"
            );
        }
        let t = "{\r\n\t\"a\": 1,\r\n\t\"b\": 2\r\n}";
        let v: Value = serde_json::from_str(t).unwrap();
        let (out, _) =
            apply_to_text(t, &v, &ops(json!([{"op":"add","path":"/c","value":3}]))).unwrap();
        assert_eq!(out, "{\r\n\t\"a\": 1,\r\n\t\"b\": 2,\r\n\t\"c\": 3\r\n}");
    }

    #[test]
    fn remove_first_middle_last_and_only() {
        let t = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}";
        let v: Value = serde_json::from_str(t).unwrap();
        for (path, want) in [
            ("/a", "{\n  \"b\": 2,\n  \"c\": 3\n}"),
            ("/b", "{\n  \"a\": 1,\n  \"c\": 3\n}"),
            ("/c", "{\n  \"a\": 1,\n  \"b\": 2\n}"),
        ] {
            let (out, _) =
                apply_to_text(t, &v, &ops(json!([{"op":"remove","path":path}]))).unwrap();
            assert_eq!(out, want);
        }
        let t = "{\"x\": {\"only\": 1}}";
        let v: Value = serde_json::from_str(t).unwrap();
        let (out, _) =
            apply_to_text(t, &v, &ops(json!([{"op":"remove","path":"/x/only"}]))).unwrap();
        assert_eq!(out, "{\"x\": {}}");
    }

    #[test]
    fn unwrap_dedents_one_level() {
        let t =
            "{\n  \"taskDefinition\": {\n    \"family\": \"f\",\n    \"cpu\": \"256\"\n  }\n}\n";
        let v: Value = serde_json::from_str(t).unwrap();
        let out = unwrap_member(t, "taskDefinition", &v["taskDefinition"]);
        assert_eq!(out, "{\n  \"family\": \"f\",\n  \"cpu\": \"256\"\n}\n");
    }

    #[test]
    fn failing_test_op_is_an_error() {
        let v = json!({"a": 1});
        let r = apply_to_text(
            "{\"a\": 1}",
            &v,
            &ops(json!([{"op":"test","path":"/a","value":2}])),
        );
        assert!(r.is_err());
    }
}
