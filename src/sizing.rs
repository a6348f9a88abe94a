//! Fargate task sizes, GuardDuty agent memory limits and the rounding rule.
//!
//! The tables are data (`templates/fargate-sizes.json`, with their AWS sources) so they are
//! easy to update when AWS changes them. CPU is in CPU units (1024 = 1 vCPU), memory in MiB.

use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;

const TABLES_JSON: &str = include_str!("../templates/fargate-sizes.json");

#[derive(Deserialize)]
struct RawTables {
    fargate_sizes: RawTable,
    agent_limits: RawTable,
}

#[derive(Deserialize)]
struct RawTable {
    source: String,
    rows: Vec<RawRow>,
}

#[derive(Deserialize)]
struct RawRow {
    cpu: u64,
    #[serde(default)]
    memory: Vec<u64>,
    memory_range: Option<RawRange>,
    agent_mib: Option<u64>,
}

#[derive(Deserialize)]
struct RawRange {
    min: u64,
    max: u64,
    step: u64,
}

impl RawRow {
    fn memories(&self) -> Vec<u64> {
        let mut out = self.memory.clone();
        if let Some(r) = &self.memory_range {
            out.extend((r.min..=r.max).step_by(r.step.max(1) as usize));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One row of GuardDuty's table: a CPU value, the memory values it lists, the agent limit.
#[derive(Debug, Clone)]
pub struct AgentRow {
    pub cpu: u64,
    pub memory: Vec<u64>,
    pub agent_mib: u64,
}

/// The GuardDuty agent's maximum memory for a task size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentLimit {
    pub mib: u64,
    /// False when GuardDuty publishes no limit for this size and the nearest row's is used.
    pub published: bool,
}

#[derive(Debug)]
pub struct SizeTable {
    /// Every valid Fargate (cpu, memory) pair, sorted by CPU then memory.
    sizes: Vec<(u64, u64)>,
    agent_rows: Vec<AgentRow>,
    pub sizes_source: String,
    pub agent_source: String,
}

/// What a task needs: the lower bounds of the rounding rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// Current task CPU (0 when absent).
    pub cpu: u64,
    /// Current task memory (0 when absent).
    pub memory: u64,
    /// Sum of container-level `cpu`.
    pub container_cpu: u64,
    /// Sum of container `memory`, else `memoryReservation`, else 0.
    pub container_memory: u64,
}

/// The embedded tables. They are compile-time data checked by a unit test.
pub fn table() -> &'static SizeTable {
    static TABLE: OnceLock<SizeTable> = OnceLock::new();
    TABLE.get_or_init(|| SizeTable::from_json(TABLES_JSON).expect("embedded size tables parse"))
}

impl SizeTable {
    fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawTables = serde_json::from_str(text)?;
        let mut sizes: Vec<(u64, u64)> = raw
            .fargate_sizes
            .rows
            .iter()
            .flat_map(|r| r.memories().into_iter().map(move |m| (r.cpu, m)))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let agent_rows = raw
            .agent_limits
            .rows
            .iter()
            .map(|r| AgentRow {
                cpu: r.cpu,
                memory: r.memories(),
                agent_mib: r.agent_mib.unwrap_or(0),
            })
            .collect();
        Ok(SizeTable {
            sizes,
            agent_rows,
            sizes_source: raw.fargate_sizes.source,
            agent_source: raw.agent_limits.source,
        })
    }

    pub fn sizes(&self) -> &[(u64, u64)] {
        &self.sizes
    }

    pub fn is_valid(&self, cpu: u64, memory: u64) -> bool {
        self.sizes.binary_search(&(cpu, memory)).is_ok()
    }

    /// Valid memory values for a CPU value (empty when the CPU value is not a Fargate one).
    pub fn memories_for(&self, cpu: u64) -> impl Iterator<Item = u64> + '_ {
        self.sizes
            .iter()
            .filter(move |(c, _)| *c == cpu)
            .map(|(_, m)| *m)
    }

    /// The agent limit for a size. A size missing from GuardDuty's table gets the nearest
    /// row's limit (same CPU and closest memory, else the closest CPU below) and
    /// `published: false`.
    pub fn agent_limit(&self, cpu: u64, memory: u64) -> AgentLimit {
        if let Some(row) = self
            .agent_rows
            .iter()
            .find(|r| r.cpu == cpu && r.memory.contains(&memory))
        {
            return AgentLimit {
                mib: row.agent_mib,
                published: true,
            };
        }
        let distance = |r: &AgentRow| {
            let lo = r.memory.first().copied().unwrap_or(0);
            let hi = r.memory.last().copied().unwrap_or(0);
            if memory < lo {
                lo - memory
            } else {
                memory.saturating_sub(hi)
            }
        };
        let same_cpu = self
            .agent_rows
            .iter()
            .filter(|r| r.cpu == cpu)
            .min_by_key(|r| distance(r));
        let row = same_cpu.or_else(|| {
            // Closest CPU: prefer the largest CPU below, else the smallest above.
            self.agent_rows
                .iter()
                .filter(|r| r.cpu <= cpu)
                .max_by_key(|r| (r.cpu, r.agent_mib))
                .or_else(|| self.agent_rows.iter().min_by_key(|r| r.cpu))
        });
        AgentLimit {
            mib: row.map_or(0, |r| r.agent_mib),
            published: false,
        }
    }

    /// The rounding rule of PRODUCT.md: the first valid size, in order of CPU then memory,
    /// with `cpu' >= cpu`, `cpu' >= container cpu`, `mem' >= mem` and
    /// `mem' >= container memory + agent limit at (cpu', mem')`. `None` when no size fits.
    pub fn round_up(&self, req: Requirement) -> Option<(u64, u64)> {
        let min_cpu = req.cpu.max(req.container_cpu);
        self.sizes.iter().copied().find(|&(c, m)| {
            c >= min_cpu
                && m >= req.memory
                && m >= req
                    .container_memory
                    .saturating_add(self.agent_limit(c, m).mib)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing "1 vCPU", "2 GB", "1024", 1024 ...

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Cpu,
    Memory,
}

impl Quantity {
    pub fn field(self) -> &'static str {
        match self {
            Quantity::Cpu => "cpu",
            Quantity::Memory => "memory",
        }
    }
    fn unit(self) -> &'static str {
        match self {
            Quantity::Cpu => "vcpu",
            Quantity::Memory => "gb",
        }
    }
    pub fn suffix(self) -> &'static str {
        match self {
            Quantity::Cpu => "CPU units",
            Quantity::Memory => "MiB",
        }
    }
}

/// How a size was written, so a patched value keeps the input's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// A JSON number: `1024`.
    Number,
    /// A string of digits: `"1024"`.
    Digits,
    /// A string with a unit: `"1 vCPU"`, `"2GB"`, `".25 vCPU"`.
    Unit {
        unit: String,
        space: bool,
        leading_dot: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub value: u64,
    pub form: Form,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeError {
    /// The JSON value has the wrong type (`true`, an array, an object).
    WrongType(&'static str),
    /// A string or number that is not a size.
    Unreadable(String),
}

impl std::fmt::Display for SizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeError::WrongType(t) => write!(f, "is {t}, expected a number or a string"),
            SizeError::Unreadable(why) => f.write_str(why),
        }
    }
}

pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a task-level `cpu` or `memory` value in any documented form.
pub fn parse(q: Quantity, v: &Value) -> Result<Parsed, SizeError> {
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return Ok(Parsed {
                    value: u,
                    form: Form::Number,
                });
            }
            match n.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e12 => Ok(Parsed {
                    value: f as u64,
                    form: Form::Number,
                }),
                Some(f) if f < 0.0 => Err(SizeError::Unreadable(format!("`{n}` is negative"))),
                _ => Err(SizeError::Unreadable(format!(
                    "`{n}` is not a whole number of {}",
                    q.suffix()
                ))),
            }
        }
        Value::String(s) => parse_str(q, s),
        other => Err(SizeError::WrongType(json_type_name(other))),
    }
}

fn parse_str(q: Quantity, s: &str) -> Result<Parsed, SizeError> {
    let unreadable = || {
        let example = match q {
            Quantity::Cpu => "`1024` or `1 vCPU`",
            Quantity::Memory => "`2048` or `2 GB`",
        };
        SizeError::Unreadable(format!("`{s}` is not a {} value like {example}", q.field()))
    };
    let t = s.trim();
    if t.is_empty() || t.len() > 32 {
        return Err(unreadable());
    }
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(unreadable());
    }
    if rest.is_empty() {
        if num.contains('.') {
            return Err(unreadable());
        }
        let value = num.parse::<u64>().map_err(|_| unreadable())?;
        return Ok(Parsed {
            value,
            form: Form::Digits,
        });
    }
    let unit = rest.trim_start();
    if !unit.eq_ignore_ascii_case(q.unit()) {
        return Err(unreadable());
    }
    let value = decimal_times_1024(num).ok_or_else(|| {
        SizeError::Unreadable(format!("`{s}` is not a whole number of {}", q.suffix()))
    })?;
    Ok(Parsed {
        value,
        form: Form::Unit {
            unit: unit.to_string(),
            space: unit.len() != rest.len(),
            leading_dot: num.starts_with('.'),
        },
    })
}

/// `"0.25"` -> 256 exactly, or `None` when the product is not a whole number.
fn decimal_times_1024(num: &str) -> Option<u64> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.len() + frac.len() > 15 {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let scale = 10u64.checked_pow(frac.len() as u32)?;
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let total = int
        .checked_mul(scale)?
        .checked_add(frac)?
        .checked_mul(1024)?;
    (total % scale == 0).then_some(total / scale)
}

/// `value / 1024` as the shortest exact decimal: 256 -> "0.25", 3072 -> "3".
fn per_1024(value: u64, leading_dot: bool) -> String {
    let int = value / 1024;
    let mut rem = value % 1024;
    let mut out = if int == 0 && leading_dot && rem != 0 {
        String::new()
    } else {
        int.to_string()
    };
    if rem != 0 {
        out.push('.');
        while rem != 0 {
            rem *= 10;
            out.push(char::from(b'0' + (rem / 1024) as u8));
            rem %= 1024;
        }
    }
    out
}

/// Writes a size in the same form the input used.
pub fn render(value: u64, form: &Form) -> Value {
    match form {
        Form::Number => Value::from(value),
        Form::Digits => Value::String(value.to_string()),
        Form::Unit {
            unit,
            space,
            leading_dot,
        } => {
            let sep = if *space { " " } else { "" };
            Value::String(format!("{}{sep}{unit}", per_1024(value, *leading_dot)))
        }
    }
}

/// `3072` -> "3 GB" for messages; `512` -> "0.5 GB".
pub fn human(q: Quantity, value: u64) -> String {
    match q {
        Quantity::Cpu => format!("{value} ({} vCPU)", per_1024(value, false)),
        Quantity::Memory => format!("{value} MiB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_tables_parse_and_match_domain() {
        let t = table();
        assert!(t.is_valid(256, 512));
        assert!(t.is_valid(4096, 30720), "ECS allows 4096 CPU up to 30 GB");
        assert!(t.is_valid(32768, 249856));
        assert!(!t.is_valid(256, 3072));
        assert!(!t.is_valid(8192, 18432), "8192 CPU goes in 4 GB steps");
        assert_eq!(t.sizes().len(), 3 + 4 + 7 + 13 + 23 + 12 + 12 + 3);
        assert_eq!(
            t.agent_limit(4096, 20480),
            AgentLimit {
                mib: 128,
                published: true
            }
        );
        assert_eq!(
            t.agent_limit(4096, 24576),
            AgentLimit {
                mib: 128,
                published: false
            }
        );
        assert_eq!(t.agent_limit(8192, 28672).mib, 256);
        assert_eq!(t.agent_limit(8192, 32768).mib, 512);
        assert_eq!(t.agent_limit(16384, 65536).mib, 1024);
        assert_eq!(
            t.agent_limit(32768, 61440),
            AgentLimit {
                mib: 1024,
                published: false
            }
        );
    }

    #[test]
    fn parses_every_documented_form() {
        let cases = [
            (Quantity::Cpu, json!(1024), 1024),
            (Quantity::Cpu, json!("1024"), 1024),
            (Quantity::Cpu, json!("1 vCPU"), 1024),
            (Quantity::Cpu, json!("1vcpu"), 1024),
            (Quantity::Cpu, json!(".25 vCPU"), 256),
            (Quantity::Cpu, json!("0.5 VCPU"), 512),
            (Quantity::Memory, json!("2 GB"), 2048),
            (Quantity::Memory, json!("2GB"), 2048),
            (Quantity::Memory, json!("0.5 GB"), 512),
            (Quantity::Memory, json!("3 gb"), 3072),
            (Quantity::Memory, json!(512.0), 512),
        ];
        for (q, v, want) in cases {
            assert_eq!(parse(q, &v).map(|p| p.value), Ok(want), "{v}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for v in [
            json!("abc vCPU"),
            json!("-512"),
            json!("1.5"),
            json!(""),
            json!("2 TB"),
            json!("1..2 GB"),
            json!(-512),
            json!(0.3),
            json!("0.0001 GB"),
            json!("99999999999999999999"),
        ] {
            assert!(
                matches!(parse(Quantity::Memory, &v), Err(SizeError::Unreadable(_))),
                "{v}"
            );
        }
        assert_eq!(
            parse(Quantity::Memory, &json!(true)),
            Err(SizeError::WrongType("a boolean"))
        );
        assert_eq!(
            parse(Quantity::Cpu, &json!([1])),
            Err(SizeError::WrongType("an array"))
        );
    }

    #[test]
    fn renders_in_the_input_form() {
        let f = |v: &Value| parse(Quantity::Memory, v).unwrap().form;
        assert_eq!(render(3072, &f(&json!("2 GB"))), json!("3 GB"));
        assert_eq!(render(3072, &f(&json!("2GB"))), json!("3GB"));
        assert_eq!(render(3072, &f(&json!("2048"))), json!("3072"));
        assert_eq!(render(3072, &f(&json!(2048))), json!(3072));
        assert_eq!(render(512, &f(&json!("1 GB"))), json!("0.5 GB"));
        let c = parse(Quantity::Cpu, &json!(".25 vCPU")).unwrap().form;
        assert_eq!(render(512, &c), json!(".5 vCPU"));
        assert_eq!(render(2048, &c), json!("2 vCPU"));
    }

    #[test]
    fn round_up_examples() {
        let t = table();
        let r = |cpu, memory, container_cpu, container_memory| {
            t.round_up(Requirement {
                cpu,
                memory,
                container_cpu,
                container_memory,
            })
        };
        // Container memory equals task memory: memory goes up one step, CPU stays.
        assert_eq!(r(1024, 2048, 1024, 2048), Some((1024, 3072)));
        // No memory of 256 CPU fits 2000 + 128: CPU is raised.
        assert_eq!(r(256, 2048, 0, 2000), Some((512, 3072)));
        // An invalid memory is rounded up within the same CPU.
        assert_eq!(r(512, 525, 0, 0), Some((512, 1024)));
        // Missing size: the smallest that fits.
        assert_eq!(r(0, 0, 0, 0), Some((256, 512)));
        // Nothing fits.
        assert_eq!(r(0, 0, 0, 300_000), None);
    }
}
