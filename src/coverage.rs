//! GuardDuty's own coverage issues for ECS (`ListCoverage`, `fargateDetails.issues[]`), read
//! with the rules of `templates/coverage-issues.json` (data with its source and the
//! documentation's issue templates as examples): which rule an issue is, the task definition it
//! names, and which fargate-rtm checks' findings would explain it. An issue no rule matches is
//! kept raw (`unparsed`), never guessed.

use serde::Deserialize;
use std::sync::OnceLock;

const RULES_JSON: &str = include_str!("../templates/coverage-issues.json");

#[derive(Debug, Deserialize)]
struct Table {
    version: u32,
    source: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
pub struct Rule {
    pub id: String,
    #[serde(default)]
    starts_with_any: Vec<String>,
    #[serde(default)]
    contains_any: Vec<String>,
    pub explained_by: Vec<String>,
    #[serde(default)]
    explained_when: Option<When>,
    /// The documentation's issue templates, placeholders filled in (the test corpus).
    pub examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct When {
    contains_any: Vec<String>,
    explained_by: Vec<String>,
}

impl Rule {
    /// Every condition given holds: a prefix (when any is given) and a substring (when any is
    /// given).
    fn matches(&self, issue: &str) -> bool {
        (self.starts_with_any.is_empty()
            || self
                .starts_with_any
                .iter()
                .any(|p| issue.starts_with(p.as_str())))
            && (self.contains_any.is_empty()
                || self.contains_any.iter().any(|c| issue.contains(c.as_str())))
    }
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| serde_json::from_str(RULES_JSON).expect("embedded coverage rules parse"))
}

/// The rules' version and source (shown with coverage results).
pub fn rules_version() -> (u32, &'static str) {
    (table().version, table().source.as_str())
}

pub fn rules() -> &'static [Rule] {
    &table().rules
}

/// One coverage issue as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The rule id, or `None` when no rule matches (`unparsed`).
    pub rule: Option<&'static str>,
    /// The task definition it names (`family:revision` or an ARN), if any.
    pub task_definition: Option<String>,
    /// The checks whose findings would explain it.
    pub explained_by: Vec<&'static str>,
    pub raw: String,
}

/// Reads one issue string.
pub fn parse(issue: &str) -> Issue {
    let text = issue.trim();
    let rule = rules().iter().find(|r| r.matches(text));
    let mut explained_by: Vec<&'static str> = rule
        .map(|r| r.explained_by.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if let Some(w) = rule.and_then(|r| r.explained_when.as_ref())
        && w.contains_any.iter().any(|c| text.contains(c.as_str()))
    {
        explained_by.extend(w.explained_by.iter().map(String::as_str));
    }
    Issue {
        rule: rule.map(|r| r.id.as_str()),
        task_definition: task_definition(text),
        explained_by,
        raw: issue.to_string(),
    }
}

/// The task definition in `TaskDefinition - 'NAME'`.
fn task_definition(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("TaskDefinition - '")?;
    let (name, _) = rest.split_once('\'')?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented issue template is read by its own rule, and names its task definition
    /// when it has one.
    #[test]
    fn documented_issues_are_read_by_their_rule() {
        let mut ids = std::collections::BTreeSet::new();
        for r in rules() {
            assert!(ids.insert(r.id.as_str()), "rule `{}` twice", r.id);
            assert!(!r.examples.is_empty(), "rule `{}` has no example", r.id);
            for e in &r.examples {
                let issue = parse(e);
                assert_eq!(issue.rule, Some(r.id.as_str()), "{e}");
                if e.contains("TaskDefinition - '") {
                    assert!(issue.task_definition.is_some(), "{e}");
                }
            }
            // Every check a rule names exists.
            for slug in r.explained_by.iter() {
                assert!(
                    crate::check::all().any(|c| c.slug == slug),
                    "rule `{}` names an unknown check `{slug}`",
                    r.id
                );
            }
        }
    }

    #[test]
    fn task_definitions_and_conditions() {
        let i = parse(
            "ExitCode: 137 for tasks in TaskDefinition - 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3'",
        );
        assert_eq!(i.rule, Some("agent-exited"));
        assert_eq!(
            i.task_definition.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3")
        );
        assert_eq!(i.explained_by, ["agent-memory-headroom"]);
        let i = parse("ExitCode: 1 for tasks in TaskDefinition - 'web:3'");
        assert!(i.explained_by.is_empty());
        // A pull failure inside an "Agent exited" text is a pull failure.
        let i = parse(
            "Agent exited: Reason: CannotPullContainerError: x for tasks in TaskDefinition - 'web:3'",
        );
        assert_eq!(i.rule, Some("pull-failed"));
        // Wording AWS has not documented is kept raw.
        let i = parse("Something new happened to the agent");
        assert_eq!(i.rule, None);
        assert_eq!(i.raw, "Something new happened to the agent");
        assert!(i.explained_by.is_empty());
        assert_eq!(rules_version().0, 1);
    }
}
