//! `--format sarif`: SARIF 2.1.0 for code scanning, built with the `serde-sarif` types
//! (generated from the official schema) rather than by hand.

use crate::check;
use crate::model::Severity;
use crate::plan::Plan;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultKind, ResultLevel,
    Run, Sarif, Tool, ToolComponent,
};

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

/// A relative path with forward slashes, as SARIF's `uri` expects.
fn uri(resource: &str) -> String {
    resource.trim_start_matches("./").replace('\\', "/")
}

pub fn to_value(plan: &Plan) -> serde_json::Value {
    let rules: Vec<ReportingDescriptor> = check::all()
        .map(|c| {
            let mut rule = ReportingDescriptor::builder()
                .id(c.slug)
                .name(c.slug)
                .short_description(MultiformatMessageString::builder().text(c.summary).build())
                .full_description(MultiformatMessageString::builder().text(c.explain).build())
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::to_value(level(c.severity)).unwrap_or_default())
                        .build(),
                )
                .build();
            if let Some(src) = c.sources.first() {
                rule.help_uri = Some((*src).to_string());
            }
            rule
        })
        .collect();
    // The coverage issues each finding explains, as related locations on the cluster.
    let explains = |f: &crate::model::Finding| -> Vec<Location> {
        let key = (f.check.slug, f.resource.clone());
        plan.account
            .coverage
            .iter()
            .flat_map(|c| {
                c.issues
                    .iter()
                    .filter(|i| i.explained_keys.contains(&key))
                    .map(move |i| (c, i))
            })
            .map(|(c, i)| {
                Location::builder()
                    .physical_location(
                        PhysicalLocation::builder()
                            .artifact_location(
                                ArtifactLocation::builder().uri(uri(&c.cluster_arn)).build(),
                            )
                            .build(),
                    )
                    .message(
                        Message::builder()
                            .text(format!(
                                "GuardDuty coverage of cluster `{}`: {} \"{}\"",
                                c.cluster, i.rule, i.text
                            ))
                            .build(),
                    )
                    .build()
            })
            .collect()
    };
    let mut results: Vec<SarifResult> = plan
        .findings()
        .map(|f| {
            let related = explains(f);
            let mut physical = PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri(&f.resource)).build())
                .build();
            if let Some(line) = f.line {
                physical.region = Some(Region::builder().start_line(line as i64).build());
            }
            let mut result = SarifResult::builder()
                .rule_id(f.check.slug)
                .level(level(f.severity))
                .message(
                    Message::builder()
                        .text(format!(
                            "{}: {} (fix, {}: {})",
                            f.subject,
                            f.message,
                            f.fix.applicability.as_str(),
                            f.fix.title
                        ))
                        .build(),
                )
                .locations(vec![
                    Location::builder().physical_location(physical).build(),
                ])
                .build();
            if !related.is_empty() {
                result.related_locations = Some(related);
            }
            result
        })
        .collect();
    // A check that could not run is an "open" result: the tool could not decide.
    results.extend(plan.not_checked().map(|n| {
        let physical = PhysicalLocation::builder()
            .artifact_location(ArtifactLocation::builder().uri(uri(&n.resource)).build())
            .build();
        SarifResult::builder()
            .rule_id(n.check.slug)
            .kind(ResultKind::Open)
            .level(ResultLevel::Note)
            .message(
                Message::builder()
                    .text(format!("not checked: {}: {}", n.subject, n.reason))
                    .build(),
            )
            .locations(vec![
                Location::builder().physical_location(physical).build(),
            ])
            .build()
    }));
    let driver = ToolComponent::builder()
        .name("fargate-rtm")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html")
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut value = serde_json::to_value(&sarif).unwrap_or_default();
    // The inputs that could not be read: the run did not do all it was asked to.
    let notifications: Vec<serde_json::Value> = plan
        .errors
        .iter()
        .map(|e| {
            let text = match &e.hint {
                Some(h) => format!("{}: {}", e.message, h),
                None => e.message.clone(),
            };
            serde_json::json!({
                "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&e.resource)}}}],
            })
        })
        .collect();
    value["runs"][0]["invocations"] = serde_json::json!([{
        "executionSuccessful": plan.errors.is_empty(),
        "toolExecutionNotifications": notifications,
    }]);
    value
}
