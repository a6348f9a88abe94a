//! A small IAM policy evaluator for the questions fargate-rtm asks: may this role (or this
//! boundary, or these SCPs) perform action A on resource R?
//!
//! It covers `Effect`, `Action`/`NotAction`, `Resource`/`NotResource` with `*` and `?`
//! wildcards, explicit `Deny` precedence, policy variables (a `Resource` with `${...}` may
//! match: the statement is undecided, never skipped) and the string and ARN condition operators
//! on the keys the caller knows (`Context`). Any other condition is something it cannot decide
//! offline: a statement whose condition would change the answer makes the result `Undecided`,
//! naming the key and the statement, instead of being assumed to match or not. No maintained
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
    /// The answer depends on something only known at request time: `by` names it (a
    /// condition key or a policy variable) and its statement.
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

/// Whether a statement element applies: yes, no, or it cannot be told here (and why).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Maybe(String),
}

impl Match {
    /// Both must hold: a `No` decides, then a `Maybe`.
    fn and(self, other: Match) -> Match {
        match (self, other) {
            (Match::No, _) | (_, Match::No) => Match::No,
            (Match::Maybe(w), _) | (_, Match::Maybe(w)) => Match::Maybe(w),
            _ => Match::Yes,
        }
    }
}

/// The first policy variable (`${aws:username}`) in `text`, if any. `${*}`, `${?}` and `${$}`
/// stand for the characters themselves.
fn variable(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let tail = &rest[at..];
        let end = tail.find('}')?;
        let var = &tail[..=end];
        if !matches!(var, "${*}" | "${?}" | "${$}") {
            return Some(var);
        }
        rest = &tail[end + 1..];
    }
    None
}

/// `pattern` with its escapes resolved and each variable standing for any text.
fn with_variables_as_wildcards(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            return out;
        };
        match &tail[..=end] {
            "${$}" => out.push('$'),
            // Escaped wildcards match themselves; approximated by the wildcard (a `Maybe` at
            // worst, never a wrong `Yes`, since they only reach here when a variable is there).
            "${*}" => out.push('*'),
            "${?}" => out.push('?'),
            _ => out.push('*'),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `Resource` (or `NotResource`) covers `value`. A pattern with a policy variable is
/// replaced at request time, so it may or may not cover it: `Maybe`, naming the variable.
fn covers_resource(stmt: &Value, value: &str) -> Match {
    let one = |p: &str| -> Match {
        match variable(p) {
            None if wildcard_match(p, value, false) => Match::Yes,
            None => Match::No,
            Some(var) if wildcard_match(&with_variables_as_wildcards(p), value, false) => {
                Match::Maybe(format!("the policy variable `{var}` in `{p}`"))
            }
            Some(_) => Match::No,
        }
    };
    let any = |v: &Value| {
        let mut out = Match::No;
        for p in strings(Some(v)) {
            match one(p) {
                Match::Yes => return Match::Yes,
                m @ Match::Maybe(_) => out = m,
                Match::No => {}
            }
        }
        out
    };
    if let Some(v) = stmt.get("Resource") {
        any(v)
    } else if let Some(v) = stmt.get("NotResource") {
        match any(v) {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            maybe => maybe,
        }
    } else {
        Match::No
    }
}

/// Whether `Action` (or `NotAction`) covers `action` (case-insensitive; no variables there).
fn covers_action(stmt: &Value, action: &str) -> bool {
    let any = |v: &Value| {
        strings(Some(v))
            .iter()
            .any(|p| wildcard_match(p, action, true))
    };
    if let Some(v) = stmt.get("Action") {
        any(v)
    } else if let Some(v) = stmt.get("NotAction") {
        !any(v)
    } else {
        false
    }
}

/// What is known of a condition key for the request being evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The key has this value.
    Value(String),
    /// The key's value is not known, but it is none of the values a customer writes: the
    /// organization or account of a resource AWS owns (the agent repository, ECR's layer
    /// bucket). It equals no literal and matches only a pattern of `*` alone.
    Foreign,
}

/// The request's known condition keys (lower-case names).
pub type Context = [(&'static str, Known)];

/// Whether a resource policy's statement (an endpoint policy) names the caller: `*`, its
/// account, or its ARN (`aws:PrincipalArn` and `aws:PrincipalAccount` in the context). Identity
/// policies have no `Principal`: it then applies.
fn principal(stmt: &Value, ctx: &Context) -> Match {
    let key = |k: &str| ctx.iter().find(|(key, _)| *key == k).map(|(_, v)| v);
    if stmt.get("NotPrincipal").is_some() {
        return Match::Maybe("its `NotPrincipal`".into());
    }
    let Some(p) = stmt.get("Principal") else {
        return Match::Yes;
    };
    let aws = p.get("AWS");
    if p == "*" || aws.is_some_and(|a| strings(Some(a)).contains(&"*")) {
        return Match::Yes;
    }
    let Some(aws) = aws else {
        // Service or federated principals only: not the execution role.
        return Match::No;
    };
    let (account, arn) = match (key("aws:principalaccount"), key("aws:principalarn")) {
        // The request is signed by someone of AWS's (a presigned URL): only `*` names it.
        (Some(Known::Foreign), _) => return Match::No,
        (Some(Known::Value(account)), Some(Known::Value(arn))) => (account, arn),
        _ => return Match::Maybe("its `Principal`".into()),
    };
    let mut out = Match::No;
    for entry in strings(Some(aws)) {
        if variable(entry).is_some() {
            out = Match::Maybe(format!("the policy variable in its `Principal` `{entry}`"));
            continue;
        }
        // An account id, its root, or the role's ARN; no partial wildcards in principals.
        let root = entry
            .strip_suffix(":root")
            .and_then(|a| a.rsplit(':').next());
        if entry == account || root == Some(account.as_str()) || entry == arn {
            return Match::Yes;
        }
    }
    out
}

/// Whether a statement's `Condition` holds for the request: decided for the string and ARN
/// operators on keys the context knows, else `Maybe`, naming the key.
fn condition(stmt: &Value, ctx: &Context) -> Match {
    let Some(cond) = stmt.get("Condition") else {
        return Match::Yes;
    };
    let Some(ops) = cond.as_object() else {
        return Match::Maybe("its `Condition`".into());
    };
    let mut out = Match::Yes;
    for (op, keys) in ops {
        let Some(keys) = keys.as_object() else {
            out = out.and(Match::Maybe(format!("its `{op}` condition")));
            continue;
        };
        for (key, values) in keys {
            out = out.and(one_condition(op, key, values, ctx));
        }
    }
    out
}

fn one_condition(op: &str, key: &str, values: &Value, ctx: &Context) -> Match {
    let maybe = || Match::Maybe(format!("its `{op}` condition on `{key}`"));
    let base = op.strip_suffix("IfExists").unwrap_or(op);
    if base.contains(':') {
        // `ForAnyValue:` / `ForAllValues:` on multivalued keys.
        return maybe();
    }
    let lower = key.to_ascii_lowercase();
    let Some((_, known)) = ctx.iter().find(|(k, _)| *k == lower) else {
        return maybe();
    };
    let wanted = strings(Some(values));
    if wanted.is_empty() || wanted.iter().any(|w| variable(w).is_some()) {
        return maybe();
    }
    let (negated, like, ignore_case) = match base {
        "StringEquals" => (false, false, false),
        "StringNotEquals" => (true, false, false),
        "StringEqualsIgnoreCase" => (false, false, true),
        "StringNotEqualsIgnoreCase" => (true, false, true),
        // `ArnEquals` takes wildcards as `ArnLike` does.
        "StringLike" | "ArnLike" | "ArnEquals" => (false, true, false),
        "StringNotLike" | "ArnNotLike" | "ArnNotEquals" => (true, true, false),
        _ => return maybe(),
    };
    // A resource AWS owns may have no organization at all: `*` then matches nothing, so a
    // pattern of `*` alone is not decided.
    if *known == Known::Foreign && like && wanted.iter().any(|w| w.chars().all(|c| c == '*')) {
        return maybe();
    }
    let matches_one = |w: &str| match known {
        Known::Value(v) if like => wildcard_match(w, v, ignore_case),
        Known::Value(v) if ignore_case => w.eq_ignore_ascii_case(v),
        Known::Value(v) => w == v,
        Known::Foreign => false,
    };
    let any = wanted.iter().any(|w| matches_one(w));
    if any != negated {
        Match::Yes
    } else {
        Match::No
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
/// identity policies of a role, one boundary, the SCPs attached at one level), knowing
/// nothing else of the request.
pub fn evaluate(policies: &[Policy], action: &str, resource: &str) -> Decision {
    evaluate_in(policies, action, resource, &[])
}

/// `evaluate` with what is known of the request's condition keys. A `Deny` that may apply
/// makes an allowed action undecided; with nothing that allows the action, it is not allowed
/// whatever the `Deny`'s condition.
pub fn evaluate_in(policies: &[Policy], action: &str, resource: &str, ctx: &Context) -> Decision {
    let mut allow = None;
    let mut conditional_allow = None;
    let mut conditional_deny = None;
    for policy in policies {
        for (i, stmt) in statements(&policy.document).into_iter().enumerate() {
            if !covers_action(stmt, action) {
                continue;
            }
            let applies = covers_resource(stmt, resource)
                .and(principal(stmt, ctx))
                .and(condition(stmt, ctx));
            let by = label(policy, stmt, i);
            match (stmt.get("Effect").and_then(Value::as_str), applies) {
                (_, Match::No) => {}
                (Some("Deny"), Match::Yes) => return Decision::Denied { by },
                (Some("Deny"), Match::Maybe(why)) => {
                    conditional_deny.get_or_insert(format!("{why} of {by}"));
                }
                (Some("Allow"), Match::Yes) => {
                    allow.get_or_insert(by);
                }
                (Some("Allow"), Match::Maybe(why)) => {
                    conditional_allow.get_or_insert(format!("{why} of {by}"));
                }
                _ => {}
            }
        }
    }
    match (allow, conditional_allow, conditional_deny) {
        (Some(_), _, Some(by)) => Decision::Undecided { by },
        (Some(by), _, None) => Decision::Allowed { by },
        (None, Some(by), _) => Decision::Undecided { by },
        (None, None, _) => Decision::NotAllowed,
    }
}

/// Whether anything in `policies` may deny `action` on `resource`, whatever allows it: for the
/// actions a role needs no allow for, only no deny (`guardduty:SendSecurityTelemetry`).
/// `Allowed` means no `Deny` can apply.
pub fn denial(policies: &[Policy], action: &str, resource: &str, ctx: &Context) -> Decision {
    let mut maybe = None;
    for policy in policies {
        for (i, stmt) in statements(&policy.document).into_iter().enumerate() {
            if stmt.get("Effect").and_then(Value::as_str) != Some("Deny")
                || !covers_action(stmt, action)
            {
                continue;
            }
            let by = label(policy, stmt, i);
            match covers_resource(stmt, resource)
                .and(principal(stmt, ctx))
                .and(condition(stmt, ctx))
            {
                Match::Yes => return Decision::Denied { by },
                Match::Maybe(why) => {
                    maybe.get_or_insert(format!("{why} of {by}"));
                }
                Match::No => {}
            }
        }
    }
    match maybe {
        Some(by) => Decision::Undecided { by },
        None => Decision::Allowed {
            by: "no `Deny`".into(),
        },
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
    fn policy_variables_make_a_statement_undecided_never_skipped() {
        // AWS replaces the variable at request time: in us-east-1 this denies the pull.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecr:*", "Resource": "arn:aws:ecr:${aws:RequestedRegion}:*:repository/aws-guardduty-*"}]});
        match evaluate(&p(doc), "ecr:BatchGetImage", REPO) {
            Decision::Undecided { by } => assert!(by.contains("${aws:RequestedRegion}"), "{by}"),
            other => panic!("{other:?}"),
        }
        // A variable where the rest cannot match leaves the statement out.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecr:*", "Resource": "arn:aws:s3:::${aws:username}/*"}]});
        assert!(evaluate(&p(doc), "ecr:BatchGetImage", REPO).is_allowed());
        // NotResource with a variable: may exclude the repository or not.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:${aws:PrincipalAccount}:*"}]});
        assert!(matches!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::Undecided { .. }
        ));
        // Escapes are characters, not variables: `${$}` is a `$`, so this cannot match.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "arn:aws:ecr:${$}*"}]});
        assert_eq!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::NotAllowed
        );
        assert_eq!(variable("a${*}b${$}"), None);
        assert_eq!(variable("a${*}${aws:username}"), Some("${aws:username}"));
    }

    #[test]
    fn denial_alone_reports_a_conditional_deny() {
        let doc = json!({"Statement": [{"Effect": "Deny", "Action": "guardduty:*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        assert!(matches!(
            denial(&p(doc.clone()), "guardduty:SendSecurityTelemetry", "*", &[]),
            Decision::Undecided { .. }
        ));
        assert!(denial(&p(doc), "ecr:BatchGetImage", "*", &[]).is_allowed());
    }

    #[test]
    fn principals_name_the_caller_exactly() {
        let ctx = [
            ("aws:principalaccount", Known::Value("123456789012".into())),
            (
                "aws:principalarn",
                Known::Value("arn:aws:iam::123456789012:role/exec".into()),
            ),
        ];
        let allow = |principal: Value| {
            p(
                json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "*", "Resource": "*"}]}),
            )
        };
        for yes in [
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["123456789012"]}),
            json!({"AWS": "arn:aws:iam::123456789012:root"}),
            json!({"AWS": "arn:aws:iam::123456789012:role/exec"}),
        ] {
            assert!(
                evaluate_in(&allow(yes.clone()), "ecr:BatchGetImage", REPO, &ctx).is_allowed(),
                "{yes}"
            );
        }
        for no in [
            json!({"AWS": "arn:aws:iam::123456789012:role/*"}),
            json!({"AWS": "111122223333"}),
            json!({"Service": "ecs-tasks.amazonaws.com"}),
        ] {
            assert_eq!(
                evaluate_in(&allow(no.clone()), "ecr:BatchGetImage", REPO, &ctx),
                Decision::NotAllowed,
                "{no}"
            );
        }
        // A request AWS signs (ECR's presigned layer URL): only `*` names it.
        let foreign = [("aws:principalaccount", Known::Foreign)];
        assert_eq!(
            evaluate_in(
                &allow(json!({"AWS": "123456789012"})),
                "s3:GetObject",
                "x",
                &foreign
            ),
            Decision::NotAllowed
        );
        assert!(evaluate_in(&allow(json!("*")), "s3:GetObject", "x", &foreign).is_allowed());
    }

    #[test]
    fn arn_equals_takes_wildcards() {
        let ctx = [(
            "aws:principalarn",
            Known::Value("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into()),
        )];
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/ecsTask*"}}}]});
        assert!(matches!(
            evaluate_in(&p(doc), "ecr:BatchGetImage", REPO, &ctx),
            Decision::Denied { .. }
        ));
        // `*` alone on a key an AWS-owned resource may not have: not decided.
        let org = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringLike": {"aws:ResourceOrgID": "*"}}}]});
        assert!(matches!(
            evaluate_in(
                &p(org),
                "ecr:BatchGetImage",
                REPO,
                &[("aws:resourceorgid", Known::Foreign)]
            ),
            Decision::Undecided { .. }
        ));
    }

    #[test]
    fn a_conditional_deny_without_an_allow_is_not_allowed() {
        let doc = json!({"Statement": [{"Effect": "Deny", "Action": "ecr:*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        assert_eq!(
            evaluate(&p(doc), "ecr:BatchGetImage", REPO),
            Decision::NotAllowed
        );
    }

    #[test]
    fn conditions_on_known_keys_are_decided() {
        // A data perimeter: only resources of the organization's own accounts.
        let perimeter = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": ["111122223333"]}}}]});
        let ctx = [("aws:resourceaccount", Known::Value("593207742271".into()))];
        assert_eq!(
            evaluate_in(&p(perimeter.clone()), "ecr:BatchGetImage", REPO, &ctx),
            Decision::NotAllowed
        );
        let open = [("aws:resourceaccount", Known::Value("111122223333".into()))];
        assert!(evaluate_in(&p(perimeter.clone()), "ecr:BatchGetImage", REPO, &open).is_allowed());
        // Unknown key: undecided, naming it.
        match evaluate(&p(perimeter), "ecr:BatchGetImage", REPO) {
            Decision::Undecided { by } => assert!(by.contains("aws:ResourceAccount"), "{by}"),
            other => panic!("{other:?}"),
        }
        // A resource AWS owns is in no customer's organization.
        let org = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abc"}}}]});
        let foreign = [("aws:resourceorgid", Known::Foreign)];
        assert_eq!(
            evaluate_in(&p(org), "ecr:BatchGetImage", REPO, &foreign),
            Decision::NotAllowed
        );
        let deny = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:ResourceOrgID": "o-abc"}}}]});
        assert!(matches!(
            evaluate_in(&p(deny), "ecr:BatchGetImage", REPO, &foreign),
            Decision::Denied { .. }
        ));
        // Several keys: one false decides, even beside an unknown one.
        let both = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": "111122223333", "aws:SourceVpce": "vpce-1"}}}]});
        assert_eq!(
            evaluate_in(&p(both), "ecr:BatchGetImage", REPO, &ctx),
            Decision::NotAllowed
        );
    }

    #[test]
    fn url_encoded_documents() {
        let raw = "%7B%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_document(raw), Some(json!({"Statement": []})));
        assert_eq!(parse_document("{\"a\":1}"), Some(json!({"a": 1})));
        assert_eq!(parse_document("%%%"), None);
    }
}
