//! Fuzzing with proptest (cargo-fuzz needs a nightly toolchain, which this project's machines do
//! not have): the input loader, the planner and the text patcher on arbitrary bytes and on
//! task-definition-shaped JSON with every field of every type, and the size parser.
//!
//! In a normal test run each target runs a short budget. For a long run:
//! `FUZZ_SECONDS=600 cargo test --release --test main fuzz:: -- --test-threads 1`
//! runs each target for that many seconds.

use fargate_rtm::model::{self as source, Origin};
use fargate_rtm::plan::{PlanOptions, plan_document};
use fargate_rtm::sizing::{self, Quantity};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

fn budget() -> Duration {
    Duration::from_secs(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2),
    )
}

/// Runs `test` on values of `strategy` until the time budget is spent.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    const BATCH: u32 = 256;
    let start = Instant::now();
    let mut cases = 0u64;
    let mut round = 0u64;
    while start.elapsed() < budget() {
        // A fresh runner per batch (a runner stops after `cases` successes), with a seed that
        // names the batch so a failure can be replayed.
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&round.to_le_bytes());
        seed[8..16].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: BATCH,
                failure_persistence: None,
                ..Config::default()
            },
            rng,
        );
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("{name} (round {round}): {e}");
        }
        cases += u64::from(BATCH);
        round += 1;
    }
    eprintln!(
        "fuzz {name}: {cases} cases in {:.1} s, no failure",
        start.elapsed().as_secs_f64()
    );
}

/// Everything the pipeline does with one input; it may fail with an error, never panic, and a
/// planned change must apply to the text with only the patched fields changing.
fn pipeline(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(doc) = source::parse(Origin::Stdin, bytes) else {
        return Ok(());
    };
    for registerable in [false, true] {
        let opts = PlanOptions {
            materialize: true,
            registerable,
            ..Default::default()
        };
        let Ok(plan) = plan_document(&doc, &opts) else {
            continue;
        };
        if let Some(change) = &plan.change {
            let mut expected = doc.value.clone();
            json_patch::patch(&mut expected, &plan.patch)
                .map_err(|e| TestCaseError::fail(format!("patch does not apply: {e}")))?;
            let got: Value = serde_json::from_str(&change.new_text)
                .map_err(|e| TestCaseError::fail(format!("new text is not JSON: {e}")))?;
            prop_assert_eq!(got, expected);
        }
    }
    Ok(())
}

fn any_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("256"),
            Just("1 vCPU"),
            Just(".25 vCPU"),
            Just("2 GB"),
            Just("0.5 GB"),
            Just("abc vCPU"),
            Just("-512"),
            Just("LATEST"),
            Just("1.3.0"),
            Just("FARGATE"),
            Just("WINDOWS_SERVER_2019_CORE")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "family",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "executionRoleArn",
    "taskRoleArn",
    "runtimePlatform",
    "containerDefinitions",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "platformFamily",
    "serviceName",
    "taskDefinition",
    "services",
    "tags",
    "revision",
    "status",
    "compatibilities",
];

/// Task-definition and service-shaped objects: known fields with values of any type.
fn shaped() -> impl Strategy<Value = Value> {
    let container = prop::collection::vec(
        (
            prop::sample::select(vec![
                "name",
                "memory",
                "memoryReservation",
                "cpu",
                "environment",
                "image",
            ]),
            any_json(2),
        ),
        0..5,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    (
        prop::collection::vec((prop::sample::select(FIELDS.to_vec()), any_json(2)), 0..8),
        prop::collection::vec(container, 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(fields, containers, fargate, wrap)| {
            let mut o: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if fargate {
                o.insert("requiresCompatibilities".into(), json!(["FARGATE"]));
                o.entry("containerDefinitions")
                    .or_insert_with(|| Value::Array(containers));
            }
            let v = Value::Object(o);
            if wrap {
                json!({"taskDefinition": v, "tags": [{"key": "k", "value": "v"}]})
            } else {
                v
            }
        })
}

fn layouts(v: &Value) -> Vec<String> {
    let mut out = vec![v.to_string(), serde_json::to_string_pretty(v).unwrap()];
    for indent in ["\t", "    "] {
        out.push(fargate_rtm::text_patch::reserialize(
            v,
            &format!("{{\n{indent}\"x\": 1\n}}\n"),
        ));
    }
    out.push(
        serde_json::to_string_pretty(v)
            .unwrap()
            .replace('\n', "\r\n"),
    );
    out
}

#[test]
fn fuzz_loader_on_arbitrary_bytes() {
    fuzz("bytes", prop::collection::vec(any::<u8>(), 0..512), |b| {
        pipeline(&b)
    });
}

#[test]
fn fuzz_loader_on_json_text_with_noise() {
    fuzz(
        "json-noise",
        (shaped(), 0usize..400, any::<u8>()),
        |(v, at, byte)| {
            let mut text = serde_json::to_string_pretty(&v).unwrap().into_bytes();
            let at = at.min(text.len());
            text.insert(at, byte);
            pipeline(&text)
        },
    );
}

#[test]
fn fuzz_planner_on_shaped_documents_in_every_layout() {
    fuzz("shaped", shaped(), |v| {
        for text in layouts(&v) {
            pipeline(text.as_bytes())?;
        }
        Ok(())
    });
}

#[test]
fn fuzz_size_parser() {
    fuzz("sizes", (any_json(1), "[0-9. a-zA-Z-]{0,16}"), |(v, s)| {
        for q in [Quantity::Cpu, Quantity::Memory] {
            let _ = sizing::parse(q, &v);
            if let Ok(p) = sizing::parse(q, &Value::String(s.clone())) {
                // Whatever parses renders back to the same value.
                prop_assert_eq!(
                    sizing::parse(q, &sizing::render(p.value, &p.form)).map(|x| x.value),
                    Ok(p.value)
                );
            }
        }
        Ok(())
    });
}

/// Regressions found by the fuzzers stay here.
#[test]
fn fuzz_regressions() {
    for case in [
        &b"{\"taskDefinition\": {\"requiresCompatibilities\": [\"FARGATE\"], \"containerDefinitions\": []}, \"tags\": []}"[..],
        // Found by `shaped`/`json-noise`: a float moved by `--registerable` must keep its exact
        // value (serde_json's `float_roundtrip`).
        &b"{\"taskDefinition\": {}, \"tags\": [-9.875485803754678e-260]}"[..],
        &b"{\"taskDefinition\": {\"a\": [10000000000000]}, \"containerDefinitions\": null, \"tags\": [[1.3610823309754845e+150]]}"[..],
    ] {
        pipeline(case).unwrap();
    }
}
