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
    /// Where an attribute's literal is written when it is not in the resource's own block (a
    /// variable's `default`, a local, a tfvars entry): a fix is made there.
    pub sources: BTreeMap<String, Place>,
}

/// Where a static value read through `var.`/`local.` is written, for a fix made there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// `variable "NAME" { default = ... }` in a `.tf` file of the module.
    Default(String),
    /// `NAME = ...` in a `locals` block.
    Local(String),
    /// `NAME = ...` in a `.tfvars` or `.tfvars.json` file.
    Tfvars { file: String, name: String },
}

impl Place {
    /// The place as a JSON pointer into the module's JSON form (`/variable/NAME/default`,
    /// `/locals/NAME`; a tfvars file is `/tfvars/FILE/NAME`).
    pub fn pointer(&self) -> String {
        let esc = |s: &str| s.replace('~', "~0").replace('/', "~1");
        match self {
            Place::Default(n) => format!("/variable/{}/default", esc(n)),
            Place::Local(n) => format!("/locals/{}", esc(n)),
            Place::Tfvars { file, name } => format!("/tfvars/{}/{}", esc(file), esc(name)),
        }
    }

    /// The place a pointer names (`Place::pointer`), or `None` for another path.
    pub fn from_pointer(path: &str) -> Option<Place> {
        let un = |s: &str| s.replace("~1", "/").replace("~0", "~");
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        match parts.as_slice() {
            ["variable", n, "default"] => Some(Place::Default(un(n))),
            ["locals", n] => Some(Place::Local(un(n))),
            ["tfvars", f, n] => Some(Place::Tfvars {
                file: un(f),
                name: un(n),
            }),
            _ => None,
        }
    }

    /// How a fix names it: `` the `default` of `var.NAME` ``.
    pub fn words(&self) -> String {
        match self {
            Place::Default(n) => format!("the `default` of `var.{n}`"),
            Place::Local(n) => format!("`local.{n}`"),
            Place::Tfvars { file, name } => format!("`{name}` in `{file}`"),
        }
    }
}

/// A string or number literal (what a fix rewrites).
fn is_literal(e: &Expression) -> bool {
    matches!(e, Expression::String(_) | Expression::Number(_))
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

/// One evaluated value: static (with where it is set, and the literal a fix would rewrite when
/// it is outside the resource), or known only at apply.
enum Eval {
    Val(Value, Option<String>, Option<Place>),
    Unknown,
}

/// A variable definitions file: HCL (`.tfvars`) or JSON (`.tfvars.json`).
enum Vars<'a> {
    Hcl(&'a str, &'a str, Body),
    Json(&'a str, Map<String, Value>),
}

/// The module around a file: its other `.tf` files, its `.tfvars`, files read by `file()`.
struct Module<'a> {
    /// (file name, text, body) of every `.tf` file, this one included.
    tf: Vec<(&'a str, &'a str, Body)>,
    /// `.tfvars` and `.tfvars.json` files in Terraform's precedence order, lowest first.
    tfvars: Vec<Vars<'a>>,
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
        for vars in self.tfvars.iter().rev() {
            match vars {
                Vars::Json(file, values) => {
                    if let Some(v) = values.get(name) {
                        let place = (v.is_string() || v.is_number()).then(|| Place::Tfvars {
                            file: file.to_string(),
                            name: name.to_string(),
                        });
                        return Eval::Val(v.clone(), Some(format!(" (set in `{file}`)")), place);
                    }
                }
                Vars::Hcl(file, text, body) => {
                    if let Some(a) = body.get_attribute(name) {
                        return match self.eval(&a.value, text, depth + 1) {
                            Eval::Val(v, _, inner) => Eval::Val(
                                v,
                                Some(format!(
                                    " (set in `{file}` line {})",
                                    Self::line(text, a.span())
                                )),
                                inner.or_else(|| {
                                    is_literal(&a.value).then(|| Place::Tfvars {
                                        file: file.to_string(),
                                        name: name.to_string(),
                                    })
                                }),
                            ),
                            u => u,
                        };
                    }
                }
            }
        }
        for (file, text, body) in &self.tf {
            for b in body.get_blocks("variable") {
                if label(b, 0).as_deref() == Some(name)
                    && let Some(d) = b.body.get_attribute("default")
                {
                    return match self.eval(&d.value, text, depth + 1) {
                        Eval::Val(v, _, inner) => Eval::Val(
                            v,
                            Some(format!(
                                " (the `default` of `var.{name}` in `{file}` line {})",
                                Self::line(text, d.span())
                            )),
                            inner.or_else(|| {
                                is_literal(&d.value).then(|| Place::Default(name.to_string()))
                            }),
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
                        Eval::Val(v, _, inner) => Eval::Val(
                            v,
                            Some(format!(
                                " (from `local.{name}` in `{file}` line {})",
                                Self::line(text, a.span())
                            )),
                            inner.or_else(|| {
                                is_literal(&a.value).then(|| Place::Local(name.to_string()))
                            }),
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
                    None,
                )
            })
    }

    /// The static value of an expression in `text` (of `file`).
    fn eval(&self, e: &Expression, text: &str, depth: usize) -> Eval {
        if depth > 16 {
            return Eval::Unknown;
        }
        let val = |v: Value| Eval::Val(v, None, None);
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
                        Eval::Val(v, ..) => out.push(v),
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
                            Eval::Val(Value::String(s), ..) => s,
                            _ => return Eval::Unknown,
                        },
                    };
                    match self.eval(v.expr(), text, depth + 1) {
                        Eval::Val(v, ..) => {
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
                        Eval::Val(v, from, _) => {
                            Eval::Val(Value::String(v.to_string()), from, None)
                        }
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
                        Eval::Val(Value::String(p), ..) => self.file(&p),
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
    let json = |f: &File| f.name.ends_with(".tf.json");
    if !json(this) && !files.iter().any(json) {
        return resources_native(this, files);
    }
    let files = files
        .iter()
        .map(|f| native(f).map(std::borrow::Cow::into_owned))
        .collect::<Result<Vec<File>, String>>()?;
    resources_native(native(this)?.as_ref(), &files)
}

fn resources_native(this: &File, files: &[File]) -> Result<Vec<Planned>, String> {
    let parse_named = |f: &File| parse(&f.text).map_err(|e| format!("`{}`: {e}", f.name));
    let mut tf = Vec::new();
    for f in files
        .iter()
        .filter(|f| is_config(&f.name) && !f.name.starts_with('('))
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
    // Lowest precedence first: `terraform.tfvars`, `terraform.tfvars.json`, then
    // `*.auto.tfvars` and `*.auto.tfvars.json` together in the lexical order of their names.
    let mut tfvars = Vec::new();
    if !child {
        let mut autos: Vec<&File> = files
            .iter()
            .filter(|f| f.name.ends_with(".auto.tfvars") || f.name.ends_with(".auto.tfvars.json"))
            .collect();
        autos.sort_by(|a, b| a.name.cmp(&b.name));
        let ordered = files
            .iter()
            .filter(|f| f.name == "terraform.tfvars")
            .chain(files.iter().filter(|f| f.name == "terraform.tfvars.json"))
            .chain(autos);
        for f in ordered {
            if f.name.ends_with(".json") {
                let values: Map<String, Value> = serde_json::from_str(&f.text)
                    .map_err(|e| format!("`{}`: invalid JSON: {e}", f.name))?;
                tfvars.push(Vars::Json(f.name.as_str(), values));
            } else {
                tfvars.push(Vars::Hcl(f.name.as_str(), f.text.as_str(), parse_named(f)?));
            }
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
            sources: BTreeMap::new(),
        };
        let mut unknown = Map::new();
        let attr = |key: &str, body: &Body, p: &mut Planned, unknown: &mut Map<String, Value>| {
            if let Some(a) = body.get_attribute(key) {
                p.lines
                    .insert(key.to_string(), Module::line(text, a.span()));
                match module.eval(&a.value, text, 0) {
                    Eval::Val(v, from, place) => {
                        p.values.insert(key.to_string(), v);
                        if let Some(from) = from {
                            p.set_from.insert(key.to_string(), from);
                        }
                        if let Some(place) = place {
                            p.sources.insert(key.to_string(), place);
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
            sources: BTreeMap::new(),
        }
    }
}

/// A Terraform configuration file: `NAME.tf`, or `NAME.tf.json` (JSON syntax).
pub fn is_config(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Blocks (not object attributes) that the ECS resources may nest, in JSON syntax.
const JSON_BLOCKS: &[&str] = &[
    "runtime_platform",
    "capacity_provider_strategy",
    "network_configuration",
    "load_balancer",
    "deployment_circuit_breaker",
    "deployment_controller",
    "ordered_placement_strategy",
    "placement_constraints",
    "service_registries",
    "service_connect_configuration",
    "volume",
    "ephemeral_storage",
    "proxy_configuration",
    "inference_accelerator",
    "lifecycle",
    "timeouts",
];

/// A Terraform configuration in JSON syntax as native syntax, so that it is read by the same
/// code: `"${var.x}"` (one whole interpolation) is the expression `var.x`, another string is a
/// string template, a block is a block. Returns `None` when the JSON is not a configuration.
///
/// JSON syntax: https://developer.hashicorp.com/terraform/language/syntax/json
pub fn json_to_hcl(value: &Value) -> Option<String> {
    fn expr(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => match whole_interpolation(s) {
                Some(e) => out.push_str(e),
                // A template with interpolations in text: known at apply only.
                None if s.contains("${") || s.contains("%{") => {
                    let escaped = s.replace("${", "$${").replace("%{", "%%{");
                    out.push_str(&format!(
                        "interpolated({})",
                        serde_json::to_string(&escaped).unwrap_or_default()
                    ));
                }
                None => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
            },
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    expr(x, out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (k, x) in o {
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push_str(" = ");
                    expr(x, out);
                    out.push_str(", ");
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    fn body(o: &Map<String, Value>, out: &mut String) {
        for (k, v) in o {
            let blocks: Vec<&Map<String, Value>> = match v {
                Value::Object(b) if JSON_BLOCKS.contains(&k.as_str()) => vec![b],
                Value::Array(a) if JSON_BLOCKS.contains(&k.as_str()) => {
                    a.iter().filter_map(Value::as_object).collect()
                }
                _ => Vec::new(),
            };
            if k == "dynamic" {
                // `"dynamic": {"runtime_platform": {...}}`: a dynamic block, labelled.
                if let Value::Object(d) = v {
                    for (label, b) in d {
                        out.push_str(&format!(
                            "dynamic {} {{\n",
                            serde_json::to_string(label).unwrap_or_default()
                        ));
                        if let Value::Object(b) = b {
                            body(b, out);
                        }
                        out.push_str("}\n");
                    }
                }
                continue;
            }
            if !blocks.is_empty() {
                for b in blocks {
                    out.push_str(&format!("{k} {{\n"));
                    body(b, out);
                    out.push_str("}\n");
                }
                continue;
            }
            out.push_str(&format!("{k} = "));
            expr(v, out);
            out.push('\n');
        }
    }
    let top = value.as_object()?;
    let mut out = String::new();
    for (kind, labels) in [
        ("resource", 2usize),
        ("data", 2),
        ("variable", 1),
        ("module", 1),
        ("output", 1),
        ("locals", 0),
    ] {
        let Some(v) = top.get(kind) else { continue };
        // An object, or a list of objects (each a part of the same map).
        let parts: Vec<&Map<String, Value>> = match v {
            Value::Object(o) => vec![o],
            Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
            _ => return None,
        };
        for part in parts {
            match labels {
                0 => {
                    out.push_str(&format!("{kind} {{\n"));
                    body(part, &mut out);
                    out.push_str("}\n");
                }
                1 => {
                    for (name, b) in part {
                        out.push_str(&format!(
                            "{kind} {} {{\n",
                            serde_json::to_string(name).ok()?
                        ));
                        body(b.as_object()?, &mut out);
                        out.push_str("}\n");
                    }
                }
                _ => {
                    for (ty, named) in part {
                        for (name, b) in named.as_object()? {
                            out.push_str(&format!(
                                "{kind} {} {} {{\n",
                                serde_json::to_string(ty).ok()?,
                                serde_json::to_string(name).ok()?
                            ));
                            body(b.as_object()?, &mut out);
                            out.push_str("}\n");
                        }
                    }
                }
            }
        }
    }
    Some(out)
}

/// The expression of a string that is one whole interpolation (`"${var.x}"`,
/// `"${jsonencode([{ name = "a" }])}"`): its braces balanced outside quoted strings.
fn whole_interpolation(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?;
    let mut depth = 1usize;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (i + 1 == inner.len()).then(|| &inner[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// A configuration file as native syntax (a `.tf.json` translated).
fn native(f: &File) -> Result<std::borrow::Cow<'_, File>, String> {
    if !f.name.ends_with(".tf.json") {
        return Ok(std::borrow::Cow::Borrowed(f));
    }
    let value: Value =
        serde_json::from_str(&f.text).map_err(|e| format!("`{}`: invalid JSON: {e}", f.name))?;
    let text = json_to_hcl(&value)
        .ok_or_else(|| format!("`{}`: not a Terraform configuration in JSON syntax", f.name))?;
    Ok(std::borrow::Cow::Owned(File {
        name: f.name.clone(),
        text,
    }))
}

/// What one edit of an HCL file writes to.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// `resource "KIND" "NAME" { ATTR = ... }`: edited, or added as the block's last line.
    Resource {
        kind: String,
        name: String,
        attr: String,
    },
    /// A variable's `default`, a local, or a top-level tfvars entry: edited.
    Place(Place),
}

impl Target {
    fn words(&self) -> String {
        match self {
            Target::Resource { kind, name, attr } => format!("`{kind}.{name}.{attr}`"),
            Target::Place(p) => p.words(),
        }
    }

    /// The attribute this target writes, in `body` (a file's top level).
    fn find<'b>(&self, body: &'b Body) -> Option<&'b hcl_edit::structure::Attribute> {
        match self {
            Target::Resource { kind, name, attr } => body
                .get_blocks("resource")
                .find(|b| {
                    label(b, 0).as_deref() == Some(kind) && label(b, 1).as_deref() == Some(name)
                })
                .and_then(|b| b.body.get_attribute(attr)),
            Target::Place(Place::Default(n)) => body
                .get_blocks("variable")
                .find(|b| label(b, 0).as_deref() == Some(n))
                .and_then(|b| b.body.get_attribute("default")),
            Target::Place(Place::Local(n)) => body
                .get_blocks("locals")
                .find_map(|b| b.body.get_attribute(n)),
            Target::Place(Place::Tfvars { name, .. }) => body.get_attribute(name),
        }
    }
}

/// The HCL literal of a value a fix writes (a string or a number).
fn hcl_literal(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) if !s.contains("${") && !s.contains("%{") => {
            Ok(serde_json::to_string(s).unwrap_or_default())
        }
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("only a string or number is written".into()),
    }
}

/// Edits in one HCL file (a `.tf` or `.tfvars`): each target's literal replaced, or a missing
/// resource attribute added before the block's closing brace; nothing else changes. The result is
/// parsed again and each target read back.
fn edit_hcl(text: &str, edits: &[(Target, Value)]) -> Result<String, String> {
    let body = parse(text)?;
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for (target, value) in edits {
        let literal = hcl_literal(value).map_err(|e| format!("{}: {e}", target.words()))?;
        if let Some(a) = target.find(&body) {
            let span = a.value.span().ok_or("no span")?;
            if !is_literal(&a.value) {
                return Err(format!("{} is not a literal", target.words()));
            }
            spans.push((span.start, span.end, literal));
            continue;
        }
        let Target::Resource { kind, name, attr } = target else {
            return Err(format!("{} is not in the file", target.words()));
        };
        let block = body
            .get_blocks("resource")
            .find(|b| label(b, 0).as_deref() == Some(kind) && label(b, 1).as_deref() == Some(name))
            .ok_or_else(|| format!("`{kind}.{name}` is not in the file"))?;
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
        let pad = aligned_pad(&text[..line_start], &indent, attr.len());
        spans.push((
            line_start,
            line_start,
            format!(
                "{indent}{attr}{pad} = {literal}{}",
                if text.contains("\r\n") { "\r\n" } else { "\n" }
            ),
        ));
    }
    spans.sort_by_key(|e| std::cmp::Reverse(e.0));
    if spans.windows(2).any(|w| w[1].1 > w[0].0) {
        return Err("two fixes write the same value".into());
    }
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    // Read back: every target has the value written.
    let again = parse(&out).map_err(|e| format!("the edited file does not parse: {e}"))?;
    for (target, value) in edits {
        let got = target.find(&again).map(|a| match &a.value {
            Expression::String(s) => Value::String(s.value().to_string()),
            Expression::Number(n) => n.value().as_u64().map_or(Value::Null, Value::from),
            _ => Value::Null,
        });
        if got.as_ref() != Some(value) {
            return Err(format!("{} does not read back as written", target.words()));
        }
    }
    Ok(out)
}

/// Spaces after a new attribute's name so that its `=` lines up with the attribute lines just
/// above it at the same indent, as `terraform fmt` aligns a group; none when there is no such
/// group or the name is longer than the group's names (fmt would then move the others).
fn aligned_pad(before: &str, indent: &str, name_len: usize) -> String {
    let mut column = None;
    for line in before.lines().rev() {
        let Some(rest) = line.strip_prefix(indent) else {
            break;
        };
        let Some(eq) = rest.find(" = ").or_else(|| rest.find("= ")) else {
            break;
        };
        let name = rest[..eq].trim_end();
        if name.is_empty()
            || rest.starts_with(' ')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            break;
        }
        let at = if rest[eq..].starts_with(" = ") {
            eq + 1
        } else {
            eq
        };
        match column {
            None => column = Some(at),
            Some(c) if c == at => {}
            Some(_) => return String::new(),
        }
    }
    match column {
        Some(c) if c > name_len => " ".repeat(c - name_len - 1),
        _ => String::new(),
    }
}

/// A file of the module changed by a fix: its name, text before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub name: String,
    pub old: String,
    pub new: String,
}

/// `patch` applied to the `.tf` file `this` and the module's other files: operations on
/// `/resource/TYPE/NAME/ATTRIBUTE` edit `this` (the attribute's literal, or a new attribute line),
/// operations on a `Place` pointer edit the file holding it (a variable's `default` or a local
/// in any `.tf` file, a tfvars entry). Returns the new text of `this` and the other files
/// changed. Each file is parsed again and each value read back.
pub fn apply_module(
    this: &File,
    module: &[File],
    patch: &[json_patch::PatchOperation],
) -> Result<(String, Vec<Edited>), String> {
    use json_patch::PatchOperation;
    let mut by_file: BTreeMap<String, Vec<(Target, Value)>> = BTreeMap::new();
    let mut json: BTreeMap<String, Vec<PatchOperation>> = BTreeMap::new();
    let tf_files = || {
        module
            .iter()
            .filter(|f| f.name.ends_with(".tf") && !f.name.starts_with('(') && f.name != this.name)
            .chain(std::iter::once(this))
    };
    for op in patch {
        let (path, value) = match op {
            PatchOperation::Test(_) => continue,
            PatchOperation::Replace(r) => (r.path.as_str(), &r.value),
            PatchOperation::Add(a) => (a.path.as_str(), &a.value),
            _ => return Err("only `replace` and `add` are made on Terraform files".into()),
        };
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        if let ["resource", kind, name, attr] = parts.as_slice() {
            by_file.entry(this.name.clone()).or_default().push((
                Target::Resource {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    attr: attr.to_string(),
                },
                value.clone(),
            ));
            continue;
        }
        let place = Place::from_pointer(path)
            .ok_or_else(|| format!("`{path}` is not a resource attribute or a module value"))?;
        let target = Target::Place(place.clone());
        let file = match &place {
            Place::Tfvars { file, name } if file.ends_with(".json") => {
                let pointer: json_patch::jsonptr::PointerBuf =
                    json_patch::jsonptr::PointerBuf::from_tokens([name.as_str()]);
                json.entry(file.clone())
                    .or_default()
                    .push(PatchOperation::Replace(json_patch::ReplaceOperation {
                        path: pointer,
                        value: value.clone(),
                    }));
                continue;
            }
            Place::Tfvars { file, .. } => file.clone(),
            _ => tf_files()
                .find(|f| parse(&f.text).is_ok_and(|b| target.find(&b).is_some()))
                .map(|f| f.name.clone())
                .ok_or_else(|| format!("{} is not in the module", place.words()))?,
        };
        by_file
            .entry(file)
            .or_default()
            .push((target, value.clone()));
    }
    let text_of = |name: &str| -> Result<&str, String> {
        if name == this.name {
            return Ok(&this.text);
        }
        module
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.text.as_str())
            .ok_or_else(|| format!("`{name}` is not in the module"))
    };
    let mut new_this = this.text.clone();
    let mut others = Vec::new();
    for (name, edits) in &by_file {
        let old = text_of(name)?;
        let new = edit_hcl(old, edits).map_err(|e| format!("`{name}`: {e}"))?;
        if *name == this.name {
            new_this = new;
        } else if new != old {
            others.push(Edited {
                name: name.clone(),
                old: old.to_string(),
                new,
            });
        }
    }
    for (name, ops) in &json {
        let old = text_of(name)?;
        let value: Value =
            serde_json::from_str(old).map_err(|e| format!("`{name}`: invalid JSON: {e}"))?;
        let (new, _) =
            text_patch::apply_to_text(old, &value, ops).map_err(|e| format!("`{name}`: {e}"))?;
        if new != old {
            others.push(Edited {
                name: name.clone(),
                old: old.to_string(),
                new,
            });
        }
    }
    Ok((new_this, others))
}
