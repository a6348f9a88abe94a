//! CloudFormation templates: each `AWS::ECS::TaskDefinition` and `AWS::ECS::Service` resource
//! read into the ECS API's JSON (the view the checks read), with where each value comes from
//! in the template (a literal, a parameter's `Default`, a mapping entry), so a fix is made
//! where the value lives. Values that are not static are named, never guessed.
//!
//! Property names: `AWS::ECS::TaskDefinition` and `AWS::ECS::Service` in the CloudFormation
//! template reference; intrinsic functions: the CloudFormation intrinsic function reference.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where a value of the view comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A literal at this pointer of the template.
    Literal(String),
    /// A parameter's `Default` (the pointer is the `Default`).
    Default { parameter: String, pointer: String },
    /// A value given with `--parameter NAME=VALUE`.
    Override { parameter: String },
    /// A mapping entry (`Fn::FindInMap` with literal keys).
    Mapping { map: String, pointer: String },
    /// Absent: the property would be added at this pointer.
    Absent(String),
    /// Removed by `AWS::NoValue` in an `Fn::If` branch at this pointer.
    NoValue(String),
}

impl Source {
    /// The template pointer a fix writes to, when it is a place in the file.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Source::Literal(p)
            | Source::Default { pointer: p, .. }
            | Source::Mapping { pointer: p, .. }
            | Source::Absent(p)
            | Source::NoValue(p) => Some(p),
            Source::Override { .. } => None,
        }
    }
}

/// One resolved alternative of a value.
#[derive(Debug, Clone, PartialEq)]
enum Alt {
    Val(Value, Source),
    /// `AWS::NoValue` (at the pointer of the branch), or the property is not there.
    Absent(Option<String>),
    /// Not static: the expression as the template writes it, and why it is not read.
    Unknown(String, String),
}

/// The `Fn::If` choices that lead to an alternative.
type Choices = Vec<(String, bool)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TaskDefinition,
    Service,
    /// `AWS::ECS::ExpressGatewayService` (ECS Express Mode): a Fargate service that defines
    /// its own task (`Cpu`, `Memory`, `ExecutionRoleArn`, `PrimaryContainer`).
    Express,
}

/// One way a resource can be deployed (one choice at each `Fn::If` it holds).
#[derive(Debug, Clone)]
pub struct View {
    /// The resource as ECS API JSON (`cpu`, `memory`, `containerDefinitions`...).
    pub value: Value,
    /// Where each value comes from, by its pointer in `value` (`/memory`).
    pub sources: BTreeMap<String, Source>,
    /// Values that are not static, by their pointer in `value`: why, naming the expression
    /// (`` `!Sub ...`, not a static value ``).
    pub unknown: BTreeMap<String, String>,
    /// The `Fn::If` choices of this view (`IsProd` true), empty when there are none.
    pub choices: Choices,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub kind: Kind,
    /// `/Resources/ID/Properties`.
    pub properties: String,
    pub views: Vec<View>,
    /// More `Fn::If` combinations than `MAX_VIEWS`: only the first are checked.
    pub truncated: bool,
    /// `aws:cdk:path` of a CDK-generated resource.
    pub cdk_path: Option<String>,
    /// A service's task definition, when it is a `Ref` to one in the same template.
    pub task_definition: Option<String>,
    /// A service's cluster's default capacity providers, when the cluster is a `Ref` to one in
    /// the same template whose default strategy is literal (on the cluster, or set by an
    /// `AWS::ECS::ClusterCapacityProviderAssociations`).
    pub cluster_providers: Option<Vec<String>>,
}

/// The view key of what makes a whole resource unreadable (its `Properties`, a macro).
pub const WHOLE: &str = "/*";

/// The most views (`Fn::If` combinations) checked per resource.
pub const MAX_VIEWS: usize = 16;

/// True when `value` is a CloudFormation template (a `Resources` object whose entries have a
/// `Type`).
pub fn is_template(value: &Value) -> bool {
    value
        .get("Resources")
        .and_then(Value::as_object)
        .is_some_and(|r| {
            !r.is_empty()
                && r.values()
                    .all(|v| v.get("Type").and_then(Value::as_str).is_some())
        })
}

/// The ECS resources of a template, in template order.
pub fn resources(template: &Value, overrides: &BTreeMap<String, String>) -> Vec<Resource> {
    let r = Resolver {
        template,
        overrides,
    };
    let Some(res) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (id, body) in res {
        let kind = match body.get("Type").and_then(Value::as_str) {
            Some("AWS::ECS::TaskDefinition") => Kind::TaskDefinition,
            Some("AWS::ECS::Service") => Kind::Service,
            Some("AWS::ECS::ExpressGatewayService") => Kind::Express,
            _ => continue,
        };
        let properties = format!("/Resources/{}/Properties", escape(id));
        let empty = Map::new();
        let whole = |why: String| Slot {
            view: WHOLE.to_string(),
            alts: vec![(Alt::Unknown(String::new(), why), Vec::new())],
            presence: false,
        };
        let (props, mut slots) = match body.get("Properties") {
            None | Some(Value::Null) => (&empty, Vec::new()),
            Some(Value::Object(o)) if literal(o) => (o, Vec::new()),
            // `!If` or `Fn::Transform` around the whole properties: nothing is known.
            Some(other) => (
                &empty,
                vec![whole(format!(
                    "`Properties` is `{}`, not a static value",
                    expression(other)
                ))],
            ),
        };
        // A macro (`Transform` other than SAM's) may rewrite any resource before deploy.
        if let Some(m) = macros(template) {
            slots.push(whole(format!(
                "the template's `Transform` `{m}` may rewrite it before deploy"
            )));
        }
        slots.extend(match kind {
            Kind::TaskDefinition => task_slots(&r, props, &properties),
            Kind::Service => service_slots(&r, props, &properties),
            Kind::Express => express_slots(&r, props, &properties),
        });
        let task_definition = match props.get("TaskDefinition") {
            Some(Value::Object(o)) if o.len() == 1 => o
                .get("Ref")
                .and_then(Value::as_str)
                .filter(|t| {
                    res.get(*t)
                        .and_then(|b| b.get("Type"))
                        .and_then(Value::as_str)
                        == Some("AWS::ECS::TaskDefinition")
                })
                .map(str::to_string),
            _ => None,
        };
        let (views, truncated) = views(&slots);
        let cluster_providers = match kind {
            Kind::Service => cluster_providers(res, props.get("Cluster")),
            _ => None,
        };
        out.push(Resource {
            cluster_providers,
            id: id.clone(),
            kind,
            properties,
            views,
            truncated,
            cdk_path: body
                .pointer("/Metadata/aws:cdk:path")
                .and_then(Value::as_str)
                .map(str::to_string),
            task_definition,
        });
    }
    out
}

/// The default capacity providers of the cluster `cluster` refers to in the same template.
fn cluster_providers(res: &Map<String, Value>, cluster: Option<&Value>) -> Option<Vec<String>> {
    let id = cluster?.get("Ref")?.as_str()?;
    let body = res.get(id)?;
    if body.get("Type").and_then(Value::as_str) != Some("AWS::ECS::Cluster") {
        return None;
    }
    let names = |strategy: &Value| -> Option<Vec<String>> {
        strategy
            .as_array()?
            .iter()
            .map(|i| i.get("CapacityProvider")?.as_str().map(str::to_string))
            .collect()
    };
    let on_cluster = body.pointer("/Properties/DefaultCapacityProviderStrategy");
    let associated = res.values().find_map(|b| {
        (b.get("Type").and_then(Value::as_str)
            == Some("AWS::ECS::ClusterCapacityProviderAssociations")
            && b.pointer("/Properties/Cluster/Ref").and_then(Value::as_str) == Some(id))
        .then(|| b.pointer("/Properties/DefaultCapacityProviderStrategy"))
        .flatten()
    });
    names(associated.or(on_cluster)?).filter(|n| !n.is_empty())
}

/// The template's macros other than SAM's (which leaves ECS resources as written).
fn macros(template: &Value) -> Option<String> {
    let names: Vec<&str> = match template.get("Transform") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(other) if !other.is_null() => vec!["(an expression)"],
        _ => Vec::new(),
    };
    names
        .into_iter()
        .find(|n| *n != "AWS::Serverless-2016-10-31")
        .map(str::to_string)
}

/// A JSON pointer token.
pub fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// One value of the view: its pointer in the view, its alternatives, and whether only its
/// presence matters (a name, an image, a role: any expression is a value).
struct Slot {
    view: String,
    alts: Vec<(Alt, Choices)>,
    presence: bool,
}

struct Resolver<'a> {
    template: &'a Value,
    overrides: &'a BTreeMap<String, String>,
}

impl Resolver<'_> {
    /// The alternatives of `v` at template pointer `at`, each with the `Fn::If` choices that
    /// lead to it.
    fn resolve(&self, v: &Value, at: &str) -> Vec<(Alt, Choices)> {
        let literal = || {
            vec![(
                Alt::Val(v.clone(), Source::Literal(at.to_string())),
                Vec::new(),
            )]
        };
        let Some((k, arg)) = v
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return literal();
        };
        match k.as_str() {
            "Ref" => vec![(self.reference(arg, at, v), Vec::new())],
            "Fn::FindInMap" => vec![(self.find_in_map(arg, v), Vec::new())],
            "Fn::If" => match arg.as_array().map(Vec::as_slice) {
                Some([Value::String(cond), a, b]) => {
                    let mut out = Vec::new();
                    for (i, branch, truth) in [(1, a, true), (2, b, false)] {
                        let p = format!("{at}/Fn::If/{i}");
                        for (alt, mut choices) in self.resolve(branch, &p) {
                            choices.insert(0, (cond.clone(), truth));
                            out.push((alt, choices));
                        }
                    }
                    out
                }
                _ => vec![(not_static(v), Vec::new())],
            },
            k if k.starts_with("Fn::") || k == "Condition" => vec![(not_static(v), Vec::new())],
            _ => literal(),
        }
    }

    fn reference(&self, arg: &Value, at: &str, whole: &Value) -> Alt {
        let Some(name) = arg.as_str() else {
            return not_static(whole);
        };
        if name == "AWS::NoValue" {
            return Alt::Absent(Some(at.to_string()));
        }
        if let Some(v) = self.overrides.get(name) {
            return Alt::Val(
                Value::String(v.clone()),
                Source::Override {
                    parameter: name.to_string(),
                },
            );
        }
        let param = self.template.get("Parameters").and_then(|p| p.get(name));
        // An SSM parameter type: the `Default` is the SSM name, the value is read at deploy.
        if let Some(t) = param
            .and_then(|p| p.get("Type"))
            .and_then(Value::as_str)
            .filter(|t| t.starts_with("AWS::SSM::Parameter::Value"))
        {
            return Alt::Unknown(
                format!("!Ref {name}"),
                format!("`!Ref {name}`, an SSM parameter (`{t}`) read at deploy"),
            );
        }
        match param.and_then(|p| p.get("Default")) {
            Some(d) if !d.is_object() && !d.is_array() => Alt::Val(
                d.clone(),
                Source::Default {
                    parameter: name.to_string(),
                    pointer: format!("/Parameters/{}/Default", escape(name)),
                },
            ),
            Some(_) => Alt::Unknown(
                format!("!Ref {name}"),
                format!("`!Ref {name}`, a parameter whose `Default` is not one value"),
            ),
            None if param.is_some() => Alt::Unknown(
                format!("!Ref {name}"),
                format!(
                    "`!Ref {name}`, a parameter without `Default` (give `--parameter {name}=VALUE`)"
                ),
            ),
            _ => not_static(whole),
        }
    }

    fn find_in_map(&self, arg: &Value, whole: &Value) -> Alt {
        // Keys are literals, or parameters with a value (given, or their `Default`).
        let key = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                v => match self.reference(v.get("Ref")?, "", v) {
                    Alt::Val(Value::String(s), _) => Some(s),
                    Alt::Val(Value::Number(n), _) => Some(n.to_string()),
                    _ => None,
                },
            }
        };
        let keys: Option<Vec<String>> = arg
            .as_array()
            .filter(|a| a.len() == 3)
            .and_then(|a| a.iter().map(key).collect());
        let Some(k) = keys else {
            return not_static(whole);
        };
        let pointer = format!(
            "/Mappings/{}/{}/{}",
            escape(&k[0]),
            escape(&k[1]),
            escape(&k[2])
        );
        match self.template.pointer(&pointer) {
            Some(v) if !v.is_object() && !v.is_array() => Alt::Val(
                v.clone(),
                Source::Mapping {
                    map: k[0].to_string(),
                    pointer,
                },
            ),
            _ => {
                let e = expression(whole);
                Alt::Unknown(e.clone(), format!("`{e}`, which names no mapping entry"))
            }
        }
    }

    /// A list of strings (`RequiresCompatibilities`): each item resolved (an item's `Fn::If`
    /// makes one list per branch; `AWS::NoValue` leaves the item out); a list parameter's value
    /// is split at its commas; any item that is not static makes the list not static.
    fn list_slot(&self, props: &Map<String, Value>, key: &str, at: &str, view: &str) -> Slot {
        let mut s = self.slot(props, key, at, view, false);
        let mut alts = Vec::new();
        for (alt, choices) in std::mem::take(&mut s.alts) {
            let Alt::Val(v, src) = &alt else {
                alts.push((alt, choices));
                continue;
            };
            match v {
                Value::Null => alts.push((alt.clone(), choices)),
                Value::String(list) => alts.push((
                    Alt::Val(
                        Value::Array(
                            list.split(',')
                                .map(|i| Value::String(i.trim().to_string()))
                                .collect(),
                        ),
                        src.clone(),
                    ),
                    choices,
                )),
                Value::Array(items) => {
                    // Every combination of the items' alternatives, with its choices.
                    let mut lists: Vec<(Vec<Value>, Choices)> = vec![(Vec::new(), choices.clone())];
                    let mut readable = true;
                    for (i, item) in items.iter().enumerate() {
                        let item_alts = self.resolve(item, &format!("{at}/{key}/{i}"));
                        let mut next = Vec::new();
                        for (list, ch) in &lists {
                            for (a, c) in &item_alts {
                                let mut ch = ch.clone();
                                if c.iter()
                                    .any(|(k, t)| ch.iter().any(|(k2, t2)| k == k2 && t != t2))
                                {
                                    continue;
                                }
                                ch.extend(
                                    c.iter()
                                        .filter(|x| !ch.contains(x))
                                        .cloned()
                                        .collect::<Vec<_>>(),
                                );
                                match a {
                                    Alt::Val(v @ Value::String(_), _) => {
                                        let mut l = list.clone();
                                        l.push(v.clone());
                                        next.push((l, ch));
                                    }
                                    Alt::Absent(Some(_)) => next.push((list.clone(), ch)),
                                    _ => readable = false,
                                }
                            }
                        }
                        lists = next;
                    }
                    if readable && lists.len() <= MAX_VIEWS {
                        for (l, ch) in lists {
                            alts.push((Alt::Val(Value::Array(l), src.clone()), ch));
                        }
                    } else {
                        alts.push((not_static(v), choices));
                    }
                }
                _ => alts.push((not_static(v), choices)),
            }
        }
        s.alts = alts;
        s
    }

    /// A property: absent, or its alternatives.
    fn slot(
        &self,
        props: &Map<String, Value>,
        key: &str,
        at: &str,
        view: &str,
        presence: bool,
    ) -> Slot {
        let p = format!("{at}/{}", escape(key));
        let alts = match props.get(key) {
            None => vec![(Alt::Val(Value::Null, Source::Absent(p)), Vec::new())],
            Some(v) => self.resolve(v, &p),
        };
        Slot {
            view: view.to_string(),
            alts,
            presence,
        }
    }
}

/// An expression that is not read.
fn not_static(v: &Value) -> Alt {
    let e = expression(v);
    Alt::Unknown(e.clone(), format!("`{e}`, not a static value"))
}

/// The template text of an expression, short: `!Sub ${Env}-web`.
fn expression(v: &Value) -> String {
    let text = match v.as_object().and_then(|o| o.iter().next()) {
        Some((k, a)) => {
            let name = k.strip_prefix("Fn::").unwrap_or(k);
            let arg = match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("!{name} {arg}")
        }
        None => v.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// An object with no intrinsic function at its top.
fn literal(o: &Map<String, Value>) -> bool {
    !o.keys().any(|k| k.starts_with("Fn::") || k == "Ref")
}

fn task_slots(r: &Resolver<'_>, props: &Map<String, Value>, at: &str) -> Vec<Slot> {
    let mut slots = vec![
        r.slot(props, "Cpu", at, "/cpu", false),
        r.slot(props, "Memory", at, "/memory", false),
        r.list_slot(
            props,
            "RequiresCompatibilities",
            at,
            "/requiresCompatibilities",
        ),
        r.slot(props, "ExecutionRoleArn", at, "/executionRoleArn", true),
        r.slot(props, "Family", at, "/family", true),
        r.slot(props, "NetworkMode", at, "/networkMode", false),
    ];
    match props.get("RuntimePlatform") {
        Some(Value::Object(rp)) if literal(rp) => {
            let p = format!("{at}/RuntimePlatform");
            for (key, camel) in [
                ("OperatingSystemFamily", "operatingSystemFamily"),
                ("CpuArchitecture", "cpuArchitecture"),
            ] {
                slots.push(r.slot(rp, key, &p, &format!("/runtimePlatform/{camel}"), false));
            }
        }
        Some(other) => slots.push(unknown_slot("/runtimePlatform", other)),
        None => {}
    }
    match props.get("ContainerDefinitions") {
        Some(Value::Array(items)) if items.is_empty() => slots.push(Slot {
            view: "/containerDefinitions".into(),
            alts: vec![(
                Alt::Val(
                    Value::Array(Vec::new()),
                    Source::Literal(format!("{at}/ContainerDefinitions")),
                ),
                Vec::new(),
            )],
            presence: false,
        }),
        Some(Value::Array(items)) => {
            // Containers under `Fn::If` come last in the view, so that one left out by
            // `AWS::NoValue` shifts no other container.
            let (plain, conditional): (Vec<_>, Vec<_>) = items
                .iter()
                .enumerate()
                .partition(|(_, c)| c.get("Fn::If").is_none());
            for (vi, (i, c)) in plain.into_iter().chain(conditional).enumerate() {
                let p = format!("{at}/ContainerDefinitions/{i}");
                let view = format!("/containerDefinitions/{vi}");
                slots.extend(container(r, c, &p, &view));
            }
        }
        Some(other) => slots.push(unknown_slot("/containerDefinitions", other)),
        None => {}
    }
    slots
}

/// The slots of one container entry: a literal object, or an `Fn::If` between containers (or
/// a container and `AWS::NoValue`).
fn container(r: &Resolver<'_>, c: &Value, at: &str, view: &str) -> Vec<Slot> {
    match c {
        Value::Object(o) if literal(o) => container_slots(r, o, at, view, &[]),
        Value::Object(o) if o.len() == 1 => match o.get("Fn::If").and_then(Value::as_array) {
            Some(args) if args.len() == 3 && args[0].is_string() => {
                let cond = args[0].as_str().unwrap_or_default().to_string();
                let mut fields: Vec<Slot> = Vec::new();
                for (bi, truth) in [(1, true), (2, false)] {
                    let bp = format!("{at}/Fn::If/{bi}");
                    let choice = [(cond.clone(), truth)];
                    let branch = match &args[bi] {
                        Value::Object(bo) if literal(bo) => {
                            container_slots(r, bo, &bp, view, &choice)
                        }
                        v if v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") => {
                            container_slots(r, &Map::new(), &bp, view, &choice)
                                .into_iter()
                                .map(|mut s| {
                                    s.alts = vec![(Alt::Absent(None), choice.to_vec())];
                                    s
                                })
                                .collect()
                        }
                        // A branch that is neither a container nor `AWS::NoValue`: the whole
                        // entry is not read.
                        _ => return vec![unknown_slot(view, c)],
                    };
                    for s in branch {
                        match fields.iter_mut().find(|f| f.view == s.view) {
                            Some(f) => f.alts.extend(s.alts),
                            None => fields.push(s),
                        }
                    }
                }
                fields
            }
            _ => vec![unknown_slot(view, c)],
        },
        _ => vec![unknown_slot(view, c)],
    }
}

/// The slots of one container; `choice` is the `Fn::If` branch it is in, if any.
fn container_slots(
    r: &Resolver<'_>,
    c: &Map<String, Value>,
    at: &str,
    view: &str,
    choice: &[(String, bool)],
) -> Vec<Slot> {
    [
        ("Name", "name", true),
        ("Image", "image", true),
        ("Memory", "memory", false),
        ("MemoryReservation", "memoryReservation", false),
        ("Cpu", "cpu", false),
        ("Essential", "essential", false),
    ]
    .into_iter()
    .map(|(key, camel, presence)| {
        let mut s = r.slot(c, key, at, &format!("{view}/{camel}"), presence);
        for (alt, choices) in &mut s.alts {
            choices.splice(0..0, choice.iter().cloned());
            // The container sizes are Integer properties: CloudFormation converts `'512'`.
            if let Alt::Val(v @ Value::String(_), _) = alt
                && matches!(camel, "memory" | "memoryReservation" | "cpu")
                && let Some(n) = v.as_str().and_then(|t| t.trim().parse::<u64>().ok())
            {
                *v = Value::from(n);
            }
        }
        s
    })
    .collect()
}

/// An Express service's task: it always runs on Fargate; its one container is the primary
/// container (whose memory is the task's).
fn express_slots(r: &Resolver<'_>, props: &Map<String, Value>, at: &str) -> Vec<Slot> {
    let fixed = |view: &str, v: Value| Slot {
        view: view.to_string(),
        alts: vec![(
            Alt::Val(v, Source::Literal(format!("{at}/Type"))),
            Vec::new(),
        )],
        presence: true,
    };
    // Without `Cpu` or `Memory`, Express Mode chooses the task size: not read here.
    let size = |key: &str, view: &str| {
        let mut s = r.slot(props, key, at, view, false);
        for (alt, _) in &mut s.alts {
            if matches!(alt, Alt::Val(Value::Null, Source::Absent(_))) {
                *alt = Alt::Unknown(
                    String::new(),
                    "absent: Express Mode then chooses the task size".into(),
                );
            }
        }
        s
    };
    let mut slots = vec![
        size("Cpu", "/cpu"),
        size("Memory", "/memory"),
        r.slot(props, "ExecutionRoleArn", at, "/executionRoleArn", true),
        fixed(
            "/requiresCompatibilities",
            Value::Array(vec!["FARGATE".into()]),
        ),
        fixed("/containerDefinitions/0/name", "primary".into()),
    ];
    if let Some(Value::Object(c)) = props.get("PrimaryContainer") {
        slots.push(r.slot(
            c,
            "Image",
            &format!("{at}/PrimaryContainer"),
            "/containerDefinitions/0/image",
            true,
        ));
    }
    slots
}

fn service_slots(r: &Resolver<'_>, props: &Map<String, Value>, at: &str) -> Vec<Slot> {
    let mut slots = vec![
        r.slot(props, "ServiceName", at, "/serviceName", true),
        r.slot(props, "LaunchType", at, "/launchType", false),
        r.slot(props, "PlatformVersion", at, "/platformVersion", false),
    ];
    match props.get("CapacityProviderStrategy") {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{at}/CapacityProviderStrategy/{i}");
                let view = format!("/capacityProviderStrategy/{i}/capacityProvider");
                match item.as_object() {
                    Some(o) if literal(o) => {
                        slots.push(r.slot(o, "CapacityProvider", &p, &view, false));
                    }
                    _ => slots.push(unknown_slot(&view, item)),
                }
            }
        }
        Some(other) => slots.push(unknown_slot("/capacityProviderStrategy", other)),
        None => {}
    }
    slots
}

fn unknown_slot(view: &str, v: &Value) -> Slot {
    Slot {
        view: view.to_string(),
        alts: vec![(not_static(v), Vec::new())],
        presence: false,
    }
}

/// Every consistent combination of the slots' alternatives (a condition is true or false in a
/// whole deployment), at most `MAX_VIEWS`; `true` when there were more.
fn views(slots: &[Slot]) -> (Vec<View>, bool) {
    let merge = |choices: &Choices, add: &Choices| -> Option<Choices> {
        let mut out = choices.clone();
        for (c, t) in add {
            match out.iter().find(|(k, _)| k == c) {
                Some((_, u)) if u != t => return None,
                Some(_) => {}
                None => out.push((c.clone(), *t)),
            }
        }
        Some(out)
    };
    let mut combos: Vec<(Vec<usize>, Choices)> = vec![(Vec::new(), Vec::new())];
    let mut truncated = false;
    for s in slots {
        let mut next = Vec::new();
        for (combo, choices) in &combos {
            for (i, (_, add)) in s.alts.iter().enumerate() {
                if let Some(ch) = merge(choices, add) {
                    let mut c = combo.clone();
                    c.push(i);
                    next.push((c, ch));
                }
            }
        }
        if next.len() > MAX_VIEWS {
            truncated = true;
            next.truncate(MAX_VIEWS);
        }
        combos = next;
    }
    let mut out = Vec::new();
    for (combo, choices) in combos {
        let mut view = View {
            value: Value::Object(Map::new()),
            sources: BTreeMap::new(),
            unknown: BTreeMap::new(),
            choices,
        };
        for (s, &i) in slots.iter().zip(&combo) {
            let Some((alt, _)) = s.alts.get(i) else {
                continue;
            };
            match alt {
                Alt::Val(Value::Null, src @ Source::Absent(_)) => {
                    view.sources.insert(s.view.clone(), src.clone());
                }
                Alt::Val(v, src) => {
                    set(&mut view.value, &s.view, v.clone());
                    view.sources.insert(s.view.clone(), src.clone());
                }
                Alt::Absent(Some(p)) => {
                    view.sources
                        .insert(s.view.clone(), Source::NoValue(p.clone()));
                }
                Alt::Absent(None) => {}
                Alt::Unknown(expr, _) if s.presence => {
                    set(&mut view.value, &s.view, Value::String(expr.clone()));
                }
                Alt::Unknown(_, why) => {
                    view.unknown.insert(s.view.clone(), why.clone());
                }
            }
        }
        out.push(view);
    }
    (out, truncated)
}

/// Sets `value` at a pointer of object members and array indexes, creating what is missing.
fn set(root: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut cur = root;
    for (n, t) in tokens.iter().enumerate() {
        let last = n + 1 == tokens.len();
        let next_is_index = tokens
            .get(n + 1)
            .is_some_and(|t| t.parse::<usize>().is_ok());
        let fresh = || {
            if next_is_index {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        cur = match cur {
            Value::Object(m) => {
                if last {
                    m.insert((*t).to_string(), value);
                    return;
                }
                m.entry((*t).to_string()).or_insert_with(fresh)
            }
            Value::Array(a) => {
                let Ok(i) = t.parse::<usize>() else { return };
                while a.len() <= i {
                    a.push(Value::Object(Map::new()));
                }
                if last {
                    a[i] = value;
                    return;
                }
                if !(a[i].is_object() || a[i].is_array()) {
                    a[i] = fresh();
                }
                &mut a[i]
            }
            _ => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_resolve_where_they_are_static() {
        let t = json!({
            "Parameters": {"Mem": {"Type": "String", "Default": "512"}, "Cpu": {"Type": "String"}},
            "Mappings": {"Sizes": {"prod": {"Memory": "2048"}}},
            "Resources": {
                "A": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                    "Memory": {"Ref": "Mem"}, "Cpu": {"Ref": "Cpu"},
                    "RequiresCompatibilities": ["FARGATE"],
                    "ExecutionRoleArn": {"Fn::If": ["HasRole", {"Fn::GetAtt": ["R", "Arn"]}, {"Ref": "AWS::NoValue"}]},
                    "ContainerDefinitions": [{"Name": "web", "Image": {"Fn::Sub": "${Repo}:1"}, "Memory": 256}]
                }},
                "B": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                    "Memory": {"Fn::FindInMap": ["Sizes", "prod", "Memory"]}, "Cpu": "1024"
                }},
                "S": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "A"}}},
                "Q": {"Type": "AWS::SQS::Queue"}
            }
        });
        assert!(is_template(&t));
        let r = resources(&t, &BTreeMap::new());
        assert_eq!(r.len(), 3);
        let a = &r[0];
        assert_eq!(a.views.len(), 2);
        let v = &a.views[0];
        assert_eq!(v.value["memory"], "512");
        assert_eq!(
            v.sources["/memory"],
            Source::Default {
                parameter: "Mem".into(),
                pointer: "/Parameters/Mem/Default".into()
            }
        );
        assert!(v.unknown["/cpu"].contains("without `Default`"));
        assert_eq!(v.value["executionRoleArn"], "!GetAtt [\"R\",\"Arn\"]");
        assert_eq!(
            v.value["containerDefinitions"][0]["image"],
            "!Sub ${Repo}:1"
        );
        assert_eq!(v.choices, vec![("HasRole".to_string(), true)]);
        let w = &a.views[1];
        assert!(w.value.get("executionRoleArn").is_none());
        assert_eq!(
            w.sources["/executionRoleArn"],
            Source::NoValue("/Resources/A/Properties/ExecutionRoleArn/Fn::If/2".into())
        );
        let b = &r[1];
        assert_eq!(b.views[0].value["memory"], "2048");
        assert!(matches!(
            b.views[0].sources["/memory"],
            Source::Mapping { .. }
        ));
        assert_eq!(
            b.views[0].sources["/requiresCompatibilities"],
            Source::Absent("/Resources/B/Properties/RequiresCompatibilities".into())
        );
        assert_eq!(r[2].task_definition.as_deref(), Some("A"));
        let mut o = BTreeMap::new();
        o.insert("Cpu".to_string(), "256".to_string());
        let r = resources(&t, &o);
        assert_eq!(r[0].views[0].value["cpu"], "256");
    }
}
