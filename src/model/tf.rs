//! Terraform `.tf` files: the `aws_ecs_task_definition` and `aws_ecs_service` resources of one
//! file, with each attribute's value where it is static: a literal; `var.NAME` from
//! `*.auto.tfvars`, then `terraform.tfvars`, then the variable's `default`; `local.NAME` when it
//! is static; `jsonencode(...)` of static values; a heredoc or `file("...")` of JSON. Anything
//! else (module inputs, `templatefile`, data sources, conditionals, `each`/`count`) is known only
//! at apply, and the checks that read it are not checked. Read with `hcl-edit` (the parser
//! that keeps each expression's span).
//!
//! Variable precedence: https://developer.hashicorp.com/terraform/language/values/variables

use crate::text_patch;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One resource to check, from a plan or from a `.tf` file: its address, type, values (as
/// Terraform names them), what is known only after apply, and where it is.
pub struct Planned {
    pub address: String,
    pub kind: String,
    pub values: Map<String, Value>,
    /// `after_unknown`: `{attr: true}`, nested as the values are.
    pub unknown: Option<Value>,
    /// The values' pointer in a plan file (for lines).
    pub pointer: Option<String>,
    /// Lines by attribute, and of the resource (a `.tf` file).
    pub lines: BTreeMap<String, usize>,
    pub line: Option<usize>,
    /// Where an attribute is set, said in its fix: `` (set from `var.task_memory`) ``.
    pub set_from: BTreeMap<String, String>,
    /// The task definition a service uses, by its address in the same module.
    pub task_definition: Option<String>,
}

/// `override.tf` and `*_override.tf` (merged into the other files by Terraform).
pub fn is_override(name: &str) -> bool {
    name == "override.tf" || name.ends_with("_override.tf")
}

/// A file of the module: its name and text.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub text: String,
}

/// Parses one `.tf` file; `Err` is the message with its line and column.
pub fn parse(text: &str) -> Result<Body, String> {
    hcl_edit::parser::parse_body(text).map_err(|e| {
        let l = e.location();
        format!(
            "invalid HCL at line {}, column {}: {}",
            l.line(),
            l.column(),
            e.message()
        )
    })
}

/// True when the body declares an ECS resource.
pub fn has_ecs(body: &Body) -> bool {
    body.get_blocks("resource").any(|b| {
        matches!(
            label(b, 0).as_deref(),
            Some("aws_ecs_task_definition" | "aws_ecs_service")
        )
    })
}

fn label(b: &Block, i: usize) -> Option<String> {
    b.labels.get(i).map(|l| match l {
        hcl_edit::structure::BlockLabel::Ident(i) => i.value().to_string(),
        hcl_edit::structure::BlockLabel::String(s) => s.value().to_string(),
    })
}

/// One evaluated value: static (with where it is set), or known only at apply.
enum Eval {
    Val(Value, Option<String>),
    Unknown,
}

/// The module around a file: its other `.tf` files, its `.tfvars`, files read by `file()`.
struct Module<'a> {
    /// (file name, text, body) of every `.tf` file, this one included.
    tf: Vec<(&'a str, &'a str, Body)>,
    /// `.tfvars` in precedence order, lowest first.
    tfvars: Vec<(&'a str, &'a str, Body)>,
    /// `.tfvars.json` values, each with its file, in precedence order, lowest first.
    tfvars_json: Vec<(&'a str, Map<String, Value>)>,
    /// Inputs the calls of this module (in parent folders) set: the module is a child there,
    /// and such a variable is the caller's value, not this folder's.
    inputs: Vec<(String, String)>,
    /// Other files by name (JSON read by `file()`).
    other: &'a [File],
}

impl Module<'_> {
    fn line(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
        span.map_or(1, |s| text_patch::line_col(text, s.start).0)
    }

    fn var(&self, name: &str, depth: usize) -> Eval {
        if self.inputs.iter().any(|(n, _)| n == name) {
            return Eval::Unknown;
        }
        for (file, values) in self.tfvars_json.iter().rev() {
            if let Some(v) = values.get(name) {
                return Eval::Val(v.clone(), Some(format!(" (set in `{file}`)")));
            }
        }
        for (file, text, body) in self.tfvars.iter().rev() {
            if let Some(a) = body.get_attribute(name) {
                return match self.eval(&a.value, text, depth + 1) {
                    Eval::Val(v, _) => Eval::Val(
                        v,
                        Some(format!(
                            " (set in `{file}` line {})",
                            Self::line(text, a.span())
                        )),
                    ),
                    u => u,
                };
            }
        }
        for (file, text, body) in &self.tf {
            for b in body.get_blocks("variable") {
                if label(b, 0).as_deref() == Some(name)
                    && let Some(d) = b.body.get_attribute("default")
                {
                    return match self.eval(&d.value, text, depth + 1) {
                        Eval::Val(v, _) => Eval::Val(
                            v,
                            Some(format!(
                                " (the `default` of `var.{name}` in `{file}` line {})",
                                Self::line(text, d.span())
                            )),
                        ),
                        u => u,
                    };
                }
            }
        }
        Eval::Unknown
    }

    fn local(&self, name: &str, depth: usize) -> Eval {
        for (file, text, body) in &self.tf {
            for b in body.get_blocks("locals") {
                if let Some(a) = b.body.get_attribute(name) {
                    return match self.eval(&a.value, text, depth + 1) {
                        Eval::Val(v, _) => Eval::Val(
                            v,
                            Some(format!(
                                " (from `local.{name}` in `{file}` line {})",
                                Self::line(text, a.span())
                            )),
                        ),
                        u => u,
                    };
                }
            }
        }
        Eval::Unknown
    }

    /// A file of the module read by `file()`, as a string.
    fn file(&self, path: &str) -> Eval {
        let name = path.trim_start_matches("./");
        if name.starts_with('/') || name.contains("..") {
            return Eval::Unknown;
        }
        self.other
            .iter()
            .find(|f| f.name == name)
            .map_or(Eval::Unknown, |f| {
                Eval::Val(
                    Value::String(f.text.clone()),
                    Some(format!(" (in `{}`)", f.name)),
                )
            })
    }

    /// The static value of an expression in `text` (of `file`).
    fn eval(&self, e: &Expression, text: &str, depth: usize) -> Eval {
        if depth > 16 {
            return Eval::Unknown;
        }
        let val = |v: Value| Eval::Val(v, None);
        match e {
            Expression::Null(_) => val(Value::Null),
            Expression::Bool(b) => val(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                match n.as_u64() {
                    Some(u) => val(Value::from(u)),
                    None => n
                        .as_f64()
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Eval::Unknown, |f| val(Value::Number(f))),
                }
            }
            Expression::String(s) => val(Value::String(s.value().to_string())),
            Expression::Array(a) => {
                let mut out = Vec::new();
                for item in a.iter() {
                    match self.eval(item, text, depth + 1) {
                        Eval::Val(v, _) => out.push(v),
                        Eval::Unknown => return Eval::Unknown,
                    }
                }
                val(Value::Array(out))
            }
            Expression::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(e) => match self.eval(e, text, depth + 1) {
                            Eval::Val(Value::String(s), _) => s,
                            _ => return Eval::Unknown,
                        },
                    };
                    match self.eval(v.expr(), text, depth + 1) {
                        Eval::Val(v, _) => {
                            out.insert(key, v);
                        }
                        Eval::Unknown => return Eval::Unknown,
                    }
                }
                val(Value::Object(out))
            }
            Expression::StringTemplate(t) => {
                literal_template(t.iter()).map_or(Eval::Unknown, |s| val(Value::String(s)))
            }
            Expression::HeredocTemplate(h) => {
                literal_template(h.template.iter()).map_or(Eval::Unknown, |s| val(Value::String(s)))
            }
            Expression::Parenthesis(p) => self.eval(p.inner(), text, depth + 1),
            Expression::Traversal(t) => {
                let Expression::Variable(root) = &t.expr else {
                    return Eval::Unknown;
                };
                let attr = match t.operators.first().map(|o| o.value()) {
                    Some(TraversalOperator::GetAttr(a)) if t.operators.len() == 1 => {
                        a.value().to_string()
                    }
                    _ => return Eval::Unknown,
                };
                match root.value().as_str() {
                    "var" => self.var(&attr, depth),
                    "local" => self.local(&attr, depth),
                    _ => Eval::Unknown,
                }
            }
            Expression::FuncCall(f) => {
                let name = f.name.name.value().as_str();
                let args: Vec<&Expression> = f.args.iter().collect();
                match (name, args.as_slice()) {
                    ("jsonencode", [arg]) => match self.eval(arg, text, depth + 1) {
                        Eval::Val(v, from) => Eval::Val(Value::String(v.to_string()), from),
                        u => u,
                    },
                    ("file", [arg]) => match self.eval(arg, text, depth + 1) {
                        // `"${path.module}/defs/app.json"`: the module's own folder.
                        Eval::Unknown => {
                            let raw = arg.span().and_then(|s| text.get(s)).unwrap_or_default();
                            let path = raw
                                .trim()
                                .trim_matches('"')
                                .trim_start_matches("${path.module}/");
                            if path.contains("${") {
                                return Eval::Unknown;
                            }
                            self.file(path)
                        }
                        Eval::Val(Value::String(p), _) => self.file(&p),
                        _ => Eval::Unknown,
                    },
                    _ => Eval::Unknown,
                }
            }
            _ => Eval::Unknown,
        }
    }
}

/// A reference to another resource's attribute (`aws_iam_role.exec.arn`, `data.x.y.arn`), not
/// to a variable, a local, a module output or an iteration value.
fn resource_attribute(e: &Expression) -> bool {
    let Expression::Traversal(t) = e else {
        return false;
    };
    let Expression::Variable(root) = &t.expr else {
        return false;
    };
    !matches!(
        root.value().as_str(),
        "var" | "local" | "module" | "each" | "count" | "path" | "terraform" | "self"
    ) && t.operators.len() >= 2
}

/// The text of a template with no interpolation or directive.
fn literal_template<'a>(elements: impl Iterator<Item = &'a Element>) -> Option<String> {
    let mut out = String::new();
    for e in elements {
        match e {
            Element::Literal(l) => out.push_str(l.value()),
            _ => return None,
        }
    }
    Some(out)
}

/// The ECS resources of `this` (a `.tf` file of the module `files`), read as the Terraform
/// plan planner reads planned resources.
pub fn resources(this: &File, files: &[File]) -> Result<Vec<Planned>, String> {
    let parse_named = |f: &File| parse(&f.text).map_err(|e| format!("`{}`: {e}", f.name));
    let mut tf = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.name.ends_with(".tf") && !f.name.starts_with('('))
    {
        tf.push((f.name.as_str(), f.text.as_str(), parse_named(f)?));
    }
    // A child module (called from a parent folder) ignores its own tfvars; its inputs are the
    // caller's. The calls are listed by the input stage as `(module call) PATH` files.
    let inputs: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| f.name.strip_prefix("(module call) ").map(|at| (f, at)))
        .flat_map(|(f, at)| f.text.lines().map(move |n| (n.to_string(), at.to_string())))
        .collect();
    let child = files.iter().any(|f| f.name.starts_with("(module call) "));
    // Lowest precedence first: `terraform.tfvars`(`.json`), then `*.auto.tfvars`(`.json`)
    // alphabetically. Text and JSON files are kept apart, the JSON ones after the text ones of
    // the same rank (a simplification: Terraform orders them by name within a rank).
    let mut tfvars = Vec::new();
    let mut tfvars_json = Vec::new();
    if !child {
        let mut autos: Vec<&File> = files
            .iter()
            .filter(|f| f.name.ends_with(".auto.tfvars"))
            .collect();
        autos.sort_by(|a, b| a.name.cmp(&b.name));
        for f in files
            .iter()
            .filter(|f| f.name == "terraform.tfvars")
            .chain(autos)
        {
            tfvars.push((f.name.as_str(), f.text.as_str(), parse_named(f)?));
        }
        let mut json: Vec<&File> = files
            .iter()
            .filter(|f| f.name == "terraform.tfvars.json" || f.name.ends_with(".auto.tfvars.json"))
            .collect();
        json.sort_by_key(|f| (f.name != "terraform.tfvars.json", f.name.clone()));
        for f in json {
            let values: Map<String, Value> = serde_json::from_str(&f.text)
                .map_err(|e| format!("`{}`: invalid JSON: {e}", f.name))?;
            tfvars_json.push((f.name.as_str(), values));
        }
    }
    // Override files are merged into the others by Terraform; fargate-rtm does not merge them.
    let overrides: Vec<&str> = files
        .iter()
        .filter(|f| is_override(&f.name))
        .map(|f| f.name.as_str())
        .collect();
    let module = Module {
        tf,
        tfvars,
        tfvars_json,
        inputs,
        other: files,
    };
    let body = parse(&this.text)?;
    let text = this.text.as_str();
    let mut out = Vec::new();
    for b in body.get_blocks("resource") {
        let (Some(kind), Some(name)) = (label(b, 0), label(b, 1)) else {
            continue;
        };
        if !matches!(kind.as_str(), "aws_ecs_task_definition" | "aws_ecs_service") {
            continue;
        }
        let mut p = Planned {
            address: format!("{kind}.{name}"),
            kind: kind.clone(),
            values: Map::new(),
            unknown: None,
            pointer: None,
            lines: BTreeMap::new(),
            line: Some(Module::line(text, b.span())),
            set_from: BTreeMap::new(),
            task_definition: None,
        };
        let mut unknown = Map::new();
        let attr = |key: &str, body: &Body, p: &mut Planned, unknown: &mut Map<String, Value>| {
            if let Some(a) = body.get_attribute(key) {
                p.lines
                    .insert(key.to_string(), Module::line(text, a.span()));
                match module.eval(&a.value, text, 0) {
                    Eval::Val(v, from) => {
                        p.values.insert(key.to_string(), v);
                        if let Some(from) = from {
                            p.set_from.insert(key.to_string(), from);
                        }
                    }
                    // A role, family or name from another resource's attribute is there.
                    Eval::Unknown
                        if matches!(key, "execution_role_arn" | "family" | "name")
                            && resource_attribute(&a.value) =>
                    {
                        p.values.insert(
                            key.to_string(),
                            Value::String("(a resource attribute)".into()),
                        );
                    }
                    Eval::Unknown => {
                        unknown.insert(key.to_string(), Value::Bool(true));
                        let shown = a
                            .value
                            .span()
                            .and_then(|s| text.get(s))
                            .unwrap_or_default()
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .chars()
                            .take(60)
                            .collect::<String>();
                        p.set_from
                            .insert(key.to_string(), format!(" (set from `{shown}`)"));
                    }
                }
            }
        };
        // `count`/`for_each` instances may differ by `each`/`count`: such values are unknown.
        if kind == "aws_ecs_task_definition" {
            for key in [
                "cpu",
                "memory",
                "requires_compatibilities",
                "execution_role_arn",
                "family",
                "network_mode",
                "container_definitions",
            ] {
                attr(key, &b.body, &mut p, &mut unknown);
            }
            let platforms: Vec<&Block> = b.body.get_blocks("runtime_platform").collect();
            if let Some(rp) = platforms.first() {
                let mut inner = Planned {
                    values: Map::new(),
                    ..Planned::empty()
                };
                let mut inner_unknown = Map::new();
                for key in ["operating_system_family", "cpu_architecture"] {
                    attr(key, &rp.body, &mut inner, &mut inner_unknown);
                }
                p.lines
                    .insert("runtime_platform".into(), Module::line(text, rp.span()));
                if !inner_unknown.is_empty() {
                    unknown.insert("runtime_platform".into(), Value::Bool(true));
                }
                p.values.insert(
                    "runtime_platform".into(),
                    Value::Array(vec![Value::Object(inner.values)]),
                );
            }
            if b.body
                .get_blocks("dynamic")
                .any(|d| label(d, 0).as_deref() == Some("runtime_platform"))
            {
                unknown.insert("runtime_platform".into(), Value::Bool(true));
            }
        } else {
            for key in ["launch_type", "platform_version", "name"] {
                attr(key, &b.body, &mut p, &mut unknown);
            }
            let mut strategy = Vec::new();
            for s in b.body.get_blocks("capacity_provider_strategy") {
                let mut inner = Planned::empty();
                let mut inner_unknown = Map::new();
                attr("capacity_provider", &s.body, &mut inner, &mut inner_unknown);
                if !inner_unknown.is_empty() {
                    unknown.insert("capacity_provider_strategy".into(), Value::Bool(true));
                }
                strategy.push(Value::Object(inner.values));
            }
            if b.body
                .get_blocks("dynamic")
                .any(|d| label(d, 0).as_deref() == Some("capacity_provider_strategy"))
            {
                unknown.insert("capacity_provider_strategy".into(), Value::Bool(true));
            }
            p.values
                .insert("capacity_provider_strategy".into(), Value::Array(strategy));
            // `aws_ecs_task_definition.NAME.arn` in this module.
            if let Some(Expression::Traversal(t)) =
                b.body.get_attribute("task_definition").map(|a| &a.value)
                && let Expression::Variable(root) = &t.expr
                && root.value().as_str() == "aws_ecs_task_definition"
                && let Some(TraversalOperator::GetAttr(n)) = t.operators.first().map(|o| o.value())
            {
                p.task_definition = Some(format!("aws_ecs_task_definition.{}", n.value()));
            }
        }
        if let Some(o) = overrides.first() {
            let deciding = if kind == "aws_ecs_service" {
                "launch_type"
            } else {
                "requires_compatibilities"
            };
            unknown.insert(deciding.into(), Value::Bool(true));
            p.set_from.insert(
                deciding.into(),
                format!(" (the module has `{o}`, which fargate-rtm does not merge)"),
            );
        }
        p.unknown = Some(Value::Object(unknown));
        out.push(p);
    }
    Ok(out)
}

impl Planned {
    fn empty() -> Planned {
        Planned {
            address: String::new(),
            kind: String::new(),
            values: Map::new(),
            unknown: None,
            pointer: None,
            lines: BTreeMap::new(),
            line: None,
            set_from: BTreeMap::new(),
            task_definition: None,
        }
    }
}

/// `patch` (operations on `/resource/TYPE/NAME/ATTRIBUTE`) applied to a `.tf` file's text by
/// editing the attribute's literal, or adding the attribute as the block's last line; nothing
/// else changes. The result is parsed again and each attribute read back.
pub fn apply(text: &str, patch: &[json_patch::PatchOperation]) -> Result<(String, Value), String> {
    use json_patch::PatchOperation;
    let body = parse(text)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut expected = Vec::new();
    for op in patch {
        let (path, value, add) = match op {
            PatchOperation::Test(_) => continue,
            PatchOperation::Replace(r) => (r.path.as_str(), &r.value, false),
            PatchOperation::Add(a) => (a.path.as_str(), &a.value, true),
            _ => return Err("only `replace` and `add` are made on `.tf` files".into()),
        };
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let ["resource", kind, name, attr] = parts.as_slice() else {
            return Err(format!("`{path}` is not a resource attribute"));
        };
        let block = body
            .get_blocks("resource")
            .find(|b| {
                label(b, 0).as_deref() == Some(*kind) && label(b, 1).as_deref() == Some(*name)
            })
            .ok_or_else(|| format!("`{kind}.{name}` is not in the file"))?;
        let literal = match value {
            Value::String(s) if !s.contains("${") && !s.contains("%{") => {
                serde_json::to_string(s).unwrap_or_default()
            }
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("`{path}`: only a string or number is written")),
        };
        match block.body.get_attribute(attr) {
            Some(a) if !add || a.value.span().is_some() => {
                let span = a.value.span().ok_or("no span")?;
                edits.push((span.start, span.end, literal));
            }
            Some(_) => return Err(format!("`{path}`: no span")),
            None => {
                // Before the line of the closing brace, indented as the block's attributes.
                let span = block.span().ok_or("no span")?;
                let close = text[..span.end].rfind('}').ok_or("no closing brace")?;
                let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
                if !text[line_start..close].trim().is_empty() {
                    return Err(format!("`{kind}.{name}` closes on a line with content"));
                }
                let indent = block
                    .body
                    .attributes()
                    .next()
                    .and_then(|a| a.span())
                    .map(|s| {
                        let ls = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
                        text[ls..s.start].to_string()
                    })
                    .filter(|i| i.trim().is_empty())
                    .unwrap_or_else(|| "  ".into());
                edits.push((
                    line_start,
                    line_start,
                    format!("{indent}{attr} = {literal}\n"),
                ));
            }
        }
        expected.push((
            kind.to_string(),
            name.to_string(),
            attr.to_string(),
            value.clone(),
        ));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, t) in edits {
        out.replace_range(s..e, &t);
    }
    // Read back: every attribute has the value written.
    let again = parse(&out).map_err(|e| format!("the edited file does not parse: {e}"))?;
    for (kind, name, attr, value) in expected {
        let got = again
            .get_blocks("resource")
            .find(|b| {
                label(b, 0).as_deref() == Some(&kind) && label(b, 1).as_deref() == Some(&name)
            })
            .and_then(|b| b.body.get_attribute(&attr))
            .map(|a| match &a.value {
                Expression::String(s) => Value::String(s.value().to_string()),
                Expression::Number(n) => n.value().as_u64().map_or(Value::Null, Value::from),
                _ => Value::Null,
            });
        if got.as_ref() != Some(&value) {
            return Err(format!(
                "`{kind}.{name}.{attr}` does not read back as written"
            ));
        }
    }
    Ok((out, Value::Null))
}
