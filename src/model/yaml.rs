//! YAML with its spans: a CloudFormation template in YAML read into its JSON form (short-form
//! tags become `Ref`/`Fn::*` objects, as CloudFormation reads them) and, for every node, where
//! it is in the text, so a fix edits only the characters of the value it changes.
//!
//! Built on `saphyr-parser`'s events (a YAML 1.2 parser that gives each event a span); the
//! scalar ends are measured here, because a quoted scalar's span can run on to a comment.

use json_patch::jsonptr::PointerBuf;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    /// `|` or `>`: never edited in place.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar(Style),
    Mapping { flow: bool },
    Sequence { flow: bool },
}

/// Where one node is in the text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    /// The node with its tag (`!Ref Mem`).
    pub start: usize,
    /// The value without its tag (`Mem`).
    pub value_start: usize,
    /// The end of the value (for a block collection, of its last content).
    pub end: usize,
    /// The column of a block mapping's keys (its indentation).
    pub indent: usize,
    pub line: usize,
}

/// A YAML document as CloudFormation reads it, with the span of every node by its pointer in
/// the JSON form.
#[derive(Debug, Clone)]
pub struct Yaml {
    pub value: Value,
    pub nodes: HashMap<String, Node>,
}

/// A YAML error: the message and the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub line: usize,
    pub col: usize,
}

struct Loader<'a> {
    text: &'a str,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Byte offset of each character, when the text is not ASCII.
    bytes: Option<Vec<usize>>,
    nodes: HashMap<String, Node>,
}

pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    let bytes = (!text.is_ascii()).then(|| {
        let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        v.push(text.len());
        v
    });
    let mut l = Loader {
        text,
        parser: Parser::new_from_str(text),
        bytes,
        nodes: HashMap::new(),
    };
    let mut value = Value::Null;
    let mut documents = 0;
    loop {
        let (ev, span) = l.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(l.error(&span, "more than one YAML document in the file"));
                }
                let (ev, span) = l.next()?;
                value = l.node(ev, span, PointerBuf::new())?;
            }
            Event::StreamEnd => break,
            _ => return Err(l.error(&span, "unexpected YAML structure")),
        }
    }
    Ok(Yaml {
        value,
        nodes: l.nodes,
    })
}

impl<'a> Loader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(YamlError {
                message: e.info().to_string(),
                line: e.marker().line(),
                col: e.marker().col() + 1,
            }),
            None => Err(YamlError {
                message: "unexpected end of the YAML".into(),
                line: self.text.lines().count().max(1),
                col: 1,
            }),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.bytes {
            Some(b) => b.get(char_index).copied().unwrap_or(self.text.len()),
            None => char_index.min(self.text.len()),
        }
    }

    fn error(&self, span: &Span, message: &str) -> YamlError {
        YamlError {
            message: message.into(),
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }

    /// The offset after a tag (`!Ref `) at `start`.
    fn after_tag(&self, start: usize) -> usize {
        let b = self.text.as_bytes();
        let mut i = start;
        if b.get(i) == Some(&b'!') {
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'[' | b'{') {
                i += 1;
            }
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
        }
        i
    }

    /// The end of a quoted scalar starting at `start` (its opening quote).
    fn quoted_end(&self, start: usize, quote: u8) -> usize {
        let b = self.text.as_bytes();
        let mut i = start + 1;
        while i < b.len() {
            if quote == b'\'' && b[i] == b'\'' {
                if b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            if quote == b'"' && b[i] == b'\\' {
                i += 2;
                continue;
            }
            if quote == b'"' && b[i] == b'"' {
                return i + 1;
            }
            i += 1;
        }
        b.len()
    }

    fn node(&mut self, ev: Event<'a>, span: Span, at: PointerBuf) -> Result<Value, YamlError> {
        let start = self.byte(span.start.index());
        let line = span.start.line();
        match ev {
            Event::Scalar(v, style, _, tag) => {
                let value_start = if tag.is_some() {
                    self.after_tag(start)
                } else {
                    start
                };
                let (style, end) = match style {
                    ScalarStyle::SingleQuoted => {
                        (Style::Single, self.quoted_end(value_start, b'\''))
                    }
                    ScalarStyle::DoubleQuoted => {
                        (Style::Double, self.quoted_end(value_start, b'"'))
                    }
                    ScalarStyle::Plain => (Style::Plain, {
                        let end = self.byte(span.end.index()).max(value_start);
                        value_start + self.text[value_start..end].trim_end().len()
                    }),
                    _ => (Style::Block, self.byte(span.end.index())),
                };
                let node = Node {
                    kind: Kind::Scalar(style),
                    start,
                    value_start,
                    end,
                    indent: span.start.col(),
                    line,
                };
                let scalar = if style == Style::Plain {
                    plain(&v)
                } else {
                    Value::String(v.into_owned())
                };
                Ok(self.tagged(tag.as_deref(), scalar, node, at))
            }
            Event::SequenceStart(_, tag) => {
                let value_start = if tag.is_some() {
                    self.after_tag(start)
                } else {
                    start
                };
                let flow = self.text.as_bytes().get(value_start) == Some(&b'[');
                let base = inner(tag.as_deref(), &at);
                let mut items = Vec::new();
                let mut end = value_start;
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        if flow {
                            end = self.byte(span.end.index());
                        }
                        break;
                    }
                    let mut p = base.clone();
                    p.push_back(items.len().to_string());
                    items.push(self.node(ev, span, p.clone())?);
                    end = end.max(self.content_end(&p));
                }
                let node = Node {
                    kind: Kind::Sequence { flow },
                    start,
                    value_start,
                    end,
                    indent: span.start.col(),
                    line,
                };
                Ok(self.tagged(tag.as_deref(), Value::Array(items), node, at))
            }
            Event::MappingStart(_, tag) => {
                let value_start = if tag.is_some() {
                    self.after_tag(start)
                } else {
                    start
                };
                let flow = self.text.as_bytes().get(value_start) == Some(&b'{');
                let base = inner(tag.as_deref(), &at);
                let mut map = Map::new();
                let mut end = value_start;
                let mut indent = span.start.col();
                loop {
                    let (ev, kspan) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => {
                            if flow {
                                end = self.byte(kspan.end.index());
                            }
                            break;
                        }
                        Event::Scalar(k, ..) => k.into_owned(),
                        _ => return Err(self.error(&kspan, "a mapping key that is not a scalar")),
                    };
                    if map.is_empty() {
                        indent = kspan.start.col();
                    }
                    if map.contains_key(&key) {
                        return Err(self.error(
                            &kspan,
                            &format!("duplicate key `{key}` (CloudFormation rejects it)"),
                        ));
                    }
                    let mut p = base.clone();
                    p.push_back(key.as_str());
                    let (ev, vspan) = self.next()?;
                    let v = self.node(ev, vspan, p.clone())?;
                    end = end.max(self.content_end(&p));
                    map.insert(key, v);
                }
                let node = Node {
                    kind: Kind::Mapping { flow },
                    start,
                    value_start,
                    end,
                    indent,
                    line,
                };
                Ok(self.tagged(tag.as_deref(), Value::Object(map), node, at))
            }
            Event::Alias(_) => Err(self.error(
                &span,
                "YAML aliases (`*name`) are not read: CloudFormation does not take them",
            )),
            _ => Err(self.error(&span, "unexpected YAML structure")),
        }
    }

    fn content_end(&self, at: &PointerBuf) -> usize {
        self.nodes.get(at.as_str()).map_or(0, |n| n.end)
    }

    /// Records the node and turns a short-form tag into its JSON form (`!Ref X` is
    /// `{"Ref": "X"}`); the value then sits one level down (`.../Ref`).
    fn tagged(
        &mut self,
        tag: Option<&saphyr_parser::Tag>,
        value: Value,
        node: Node,
        at: PointerBuf,
    ) -> Value {
        self.nodes.insert(at.as_str().to_string(), node);
        let Some(name) = tag.and_then(tag_name) else {
            // `!!str 512` and the like: the core schema's tags change no CloudFormation value.
            return value;
        };
        let value = match (name.as_str(), value) {
            // `!GetAtt Res.Attr` is `{"Fn::GetAtt": ["Res", "Attr"]}`.
            ("Fn::GetAtt", Value::String(s)) => match s.split_once('.') {
                Some((r, a)) => Value::Array(vec![r.into(), a.into()]),
                None => Value::String(s),
            },
            (_, v) => v,
        };
        let mut inner = at.clone();
        inner.push_back(name.as_str());
        self.nodes.insert(
            inner.as_str().to_string(),
            Node {
                start: node.value_start,
                ..node
            },
        );
        let mut m = Map::new();
        m.insert(name, value);
        Value::Object(m)
    }
}

/// The JSON form's name of a short-form tag (`!Ref` is `Ref`, `!Sub` is `Fn::Sub`).
fn tag_name(tag: &saphyr_parser::Tag) -> Option<String> {
    (tag.handle == "!").then(|| match tag.suffix.as_str() {
        "Ref" | "Condition" => tag.suffix.clone(),
        other => format!("Fn::{other}"),
    })
}

/// Where the children of a node at `at` sit in the JSON form: one level down under a tag.
fn inner(tag: Option<&saphyr_parser::Tag>, at: &PointerBuf) -> PointerBuf {
    let mut p = at.clone();
    if let Some(name) = tag.and_then(tag_name) {
        p.push_back(name.as_str());
    }
    p
}

/// A plain scalar as YAML 1.2's core schema types it.
fn plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = s.parse::<i64>()
    {
        return Value::Number(i.into());
    }
    let looks_float = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_float
        && let Ok(f) = s.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

/// True when text looks like YAML rather than JSON (its first meaningful line is not `{`/`[`).
pub fn looks_like_yaml(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l == "---" || (!l.starts_with('{') && !l.starts_with('[')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "# comment\nParameters:\n  Mem:\n    Type: String\n    Default: '512'   # the memory\nResources:\n  TD:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Memory: !Ref Mem\n      Cpu: \"256\"\n      Flow: {A: 1, B: [x, y]}\n      Arn: !GetAtt Role.Arn\n      If: !If [Cond, 1, !Ref AWS::NoValue]\n      Lst:\n        - Name: a\n          Memory: 512\n      Last: x\n";

    #[test]
    fn reads_the_json_form_with_spans() {
        let y = parse(T).unwrap();
        let props = &y.value["Resources"]["TD"]["Properties"];
        assert_eq!(props["Memory"], json!({"Ref": "Mem"}));
        assert_eq!(props["Cpu"], "256");
        assert_eq!(props["Flow"], json!({"A": 1, "B": ["x", "y"]}));
        assert_eq!(props["Arn"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(
            props["If"],
            json!({"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(props["Lst"][0]["Memory"], 512);
        let span = |p: &str| {
            let n = y.nodes[p];
            &T[n.value_start..n.end]
        };
        assert_eq!(span("/Parameters/Mem/Default"), "'512'");
        assert_eq!(span("/Resources/TD/Properties/Memory/Ref"), "Mem");
        assert_eq!(span("/Resources/TD/Properties/Cpu"), "\"256\"");
        assert_eq!(span("/Resources/TD/Properties/Lst/0/Memory"), "512");
        assert_eq!(span("/Resources/TD/Properties/Flow"), "{A: 1, B: [x, y]}");
        let n = y.nodes["/Resources/TD/Properties/Memory"];
        assert_eq!(&T[n.start..n.end], "!Ref Mem");
        assert_eq!(y.nodes["/Resources/TD/Properties"].indent, 6);
        assert_eq!(
            span("/Resources/TD/Properties/If/Fn::If/2/Ref"),
            "AWS::NoValue"
        );
        assert_eq!(y.nodes["/Resources/TD/Properties/Cpu"].line, 11);
    }

    #[test]
    fn errors_have_a_position() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
        assert!(parse("a: &x 1\nb: *x\n").is_err());
    }
}
