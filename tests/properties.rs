//! Properties of the rounding rule and the size parser, over all valid sizes and many invalid
//! ones.

use fargate_rtm::sizing::{self, Form, Quantity, Requirement};
use proptest::prelude::*;

fn table() -> &'static sizing::SizeTable {
    sizing::table()
}

/// CPU values: every Fargate CPU, and arbitrary ones.
fn cpu() -> impl Strategy<Value = u64> {
    let valid: Vec<u64> = {
        let mut v: Vec<u64> = table().sizes().iter().map(|s| s.0).collect();
        v.dedup();
        v
    };
    prop_oneof![Just(0u64), proptest::sample::select(valid), 0u64..40_000]
}

/// Memory values: every Fargate memory, and arbitrary ones.
fn memory() -> impl Strategy<Value = u64> {
    let valid: Vec<u64> = table().sizes().iter().map(|s| s.1).collect();
    prop_oneof![Just(0u64), proptest::sample::select(valid), 0u64..260_000]
}

fn fits(req: Requirement, (c, m): (u64, u64)) -> bool {
    c >= req.cpu
        && c >= req.container_cpu
        && m >= req.memory
        && m >= req.container_memory + table().agent_limit(c, m).mib
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn round_up_is_valid_roomy_and_smallest(cpu in cpu(), memory in memory(), container_cpu in prop_oneof![Just(0u64), 0u64..33_000],
        container_memory in prop_oneof![Just(0u64), 0u64..250_000]) {
        let req = Requirement { cpu, memory, container_cpu, container_memory };
        let got = table().round_up(req);
        // Oracle: brute force over every valid size, smallest by (cpu, memory).
        let oracle = table().sizes().iter().copied().filter(|&s| fits(req, s)).min();
        prop_assert_eq!(got, oracle);
        if let Some((c, m)) = got {
            prop_assert!(table().is_valid(c, m), "valid for Fargate");
            prop_assert!(m >= memory, "memory never lowered");
            prop_assert!(m >= container_memory + table().agent_limit(c, m).mib, "room for the agent");
            // CPU is raised only when no memory of the current CPU fits.
            if c > cpu.max(container_cpu) && table().is_valid(cpu, memory) && cpu >= container_cpu {
                prop_assert!(table().memories_for(cpu).all(|mm| !fits(req, (cpu, mm))));
            }
        } else {
            prop_assert!(table().sizes().iter().all(|&s| !fits(req, s)));
        }
    }

    #[test]
    fn valid_sizes_that_fit_are_kept(idx in 0usize..1000, container_memory in 0u64..2000) {
        let sizes = table().sizes();
        let (c, m) = sizes[idx % sizes.len()];
        let req = Requirement { cpu: c, memory: m, container_cpu: 0, container_memory };
        if container_memory + table().agent_limit(c, m).mib <= m {
            prop_assert_eq!(table().round_up(req), Some((c, m)));
        }
    }

    #[test]
    fn parser_never_panics(s in ".{0,40}") {
        let _ = sizing::parse(Quantity::Cpu, &serde_json::Value::String(s.clone()));
        let _ = sizing::parse(Quantity::Memory, &serde_json::Value::String(s));
    }

    #[test]
    fn render_then_parse_round_trips(idx in 0usize..1000, space in any::<bool>(), dot in any::<bool>(), unit_case in 0usize..3) {
        let sizes = table().sizes();
        let (c, m) = sizes[idx % sizes.len()];
        let units = [("vCPU", "GB"), ("vcpu", "gb"), ("VCPU", "Gb")][unit_case];
        for (q, v, unit) in [(Quantity::Cpu, c, units.0), (Quantity::Memory, m, units.1)] {
            for form in [Form::Number, Form::Digits, Form::Unit { unit: unit.to_string(), space, leading_dot: dot }] {
                let rendered = sizing::render(v, &form);
                let parsed = sizing::parse(q, &rendered).unwrap();
                prop_assert_eq!(parsed.value, v, "{}", rendered);
            }
        }
    }
}
