//! A small IAM policy evaluator for the questions fargate-rtm asks: may this role (or this
//! boundary, or these SCPs) perform action A on resource R?
//!
//! It covers `Effect`, `Action`/`NotAction`, `Resource`/`NotResource` with `*` and `?`
//! wildcards, explicit `Deny` precedence, and treats every `Condition` as something it cannot
//! decide offline: a statement with a `Condition` that would change the answer makes the result
//! `Undecided`, naming the statement, instead of being assumed to match or not. No maintained
//! Rust crate evaluates IAM policies with that three-valued answer (the ones found are parts of
//! AWS emulators that treat unknown conditions as "does not apply"), so it is written here.

use serde_json::Value;

/// A named policy document (a managed policy ARN, `inline:NAME`, `boundary`, an SCP id).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub name: String,
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` matches without a condition and no `Deny` can apply.
    Allowed { by: String },
    /// A `Deny` without a condition matches.
    Denied { by: String },
    /// Nothing allows it.
    NotAllowed,
    /// The answer depends on a `Condition` that cannot be evaluated here.
    Undecided { by: String },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// `*` matches any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let norm = |s: &str| {
        if case_insensitive {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let (p, t): (Vec<char>, Vec<char>) = (
        norm(pattern).chars().collect(),
        norm(text).chars().collect(),
    );
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `element` (`Action`/`Resource`) or its negation (`NotAction`/`NotResource`) covers
/// `value`. `None` when the statement has neither (it then matches nothing).
fn covers(stmt: &Value, key: &str, not_key: &str, value: &str, case_insensitive: bool) -> bool {
    if let Some(v) = stmt.get(key) {
        strings(Some(v))
            .iter()
            .any(|p| wildcard_match(p, value, case_insensitive))
    } else if let Some(v) = stmt.get(not_key) {
        !strings(Some(v))
            .iter()
            .any(|p| wildcard_match(p, value, case_insensitive))
    } else {
        false
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn label(policy: &Policy, stmt: &Value, index: usize) -> String {
    match stmt
        .get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(sid) => format!("{} statement `{sid}`", policy.name),
        None => format!("{} statement {}", policy.name, index + 1),
    }
}

/// Evaluates `action` on `resource` against a set of policies evaluated together (the
/// identity policies of a role, one boundary, the SCPs attached at one level).
pub fn evaluate(policies: &[Policy], action: &str, resource: &str) -> Decision {
    let mut allow = None;
    let mut conditional_allow = None;
    let mut conditional_deny = None;
    for policy in policies {
        for (i, stmt) in statements(&policy.document).into_iter().enumerate() {
            if !covers(stmt, "Action", "NotAction", action, true)
                || !covers(stmt, "Resource", "NotResource", resource, false)
            {
                continue;
            }
            let conditional = stmt
                .get("Condition")
                .is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty()));
            let by = label(policy, stmt, i);
            match (stmt.get("Effect").and_then(Value::as_str), conditional) {
                (Some("Deny"), false) => return Decision::Denied { by },
                (Some("Deny"), true) => {
                    conditional_deny.get_or_insert(by);
                }
                (Some("Allow"), false) => {
                    allow.get_or_insert(by);
                }
                (Some("Allow"), true) => {
                    conditional_allow.get_or_insert(by);
                }
                _ => {}
            }
        }
    }
    match (conditional_deny, allow, conditional_allow) {
        (Some(by), _, _) => Decision::Undecided { by },
        (None, Some(by), _) => Decision::Allowed { by },
        (None, None, Some(by)) => Decision::Undecided { by },
        (None, None, None) => Decision::NotAllowed,
    }
}

/// Policy documents from IAM are URL-encoded JSON; some sources return plain JSON. Both work.
pub fn parse_document(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(doc: Value) -> Vec<Policy> {
        vec![Policy {
            name: "p".into(),
            document: doc,
        }]
    }

    const REPO: &str = "arn:aws:ecr:us-east-1:593207742271:repository/aws-guardduty-agent-fargate";

    #[test]
    fn wildcards() {
        assert!(wildcard_match("ecr:*", "ecr:BatchGetImage", true));
        assert!(wildcard_match("ECR:batch*", "ecr:BatchGetImage", true));
        assert!(wildcard_match(
            "arn:aws:ecr:*:*:repository/aws-guardduty-agent-*",
            REPO,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:ecr:*:*:repository/mine",
            REPO,
            false
        ));
        assert!(wildcard_match(
            "ecr:Get?uthorizationToken",
            "ecr:GetAuthorizationToken",
            true
        ));
        assert!(wildcard_match("*", "", false));
    }

    #[test]
    fn managed_policy_allows() {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "Resource": "*"}]});
        assert!(evaluate(&p(doc.clone()), "ecr:BatchGetImage", REPO).is_allowed());
        assert_eq!(
            evaluate(&p(doc), "ecr:GetDownloadUrlForLayer", REPO),
            Decision::NotAllowed
        );
    }

    #[test]
    fn deny_wins_and_names_the_statement() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
            {"Sid": "NoAgent", "Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": REPO}]});
        assert_eq!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::Denied {
                by: "p statement `NoAgent`".into()
            }
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        let doc = json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}});
        assert!(evaluate(&p(doc.clone()), "ecr:BatchGetImage", REPO).is_allowed());
        assert_eq!(
            evaluate(&p(doc.clone()), "iam:PassRole", REPO),
            Decision::NotAllowed
        );
        assert_eq!(
            evaluate(&p(doc), "ecr:BatchGetImage", "arn:aws:s3:::secret/x"),
            Decision::NotAllowed
        );
        // Neither Resource nor NotResource: matches nothing.
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "*"}});
        assert_eq!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::NotAllowed
        );
    }

    #[test]
    fn conditions_are_reported_not_assumed() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        assert!(matches!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::Undecided { .. }
        ));
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "guardduty:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}}]});
        assert!(matches!(
            evaluate(&p(doc), "guardduty:SendSecurityTelemetry", "*"),
            Decision::Undecided { .. }
        ));
    }

    #[test]
    fn url_encoded_documents() {
        let raw = "%7B%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_document(raw), Some(json!({"Statement": []})));
        assert_eq!(parse_document("{\"a\":1}"), Some(json!({"a": 1})));
        assert_eq!(parse_document("%%%"), None);
    }
}
