//! Findings and fixes as data (shared by the checks, the planner and the renderers).

use json_patch::PatchOperation;
use json_patch::jsonptr::PointerBuf;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// How a fix may be applied: `safe` changes nothing a user pays for or runs; `unsafe` changes
/// cost or redeploys (the fix says why); `manual` needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
    #[default]
    Manual,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
            Applicability::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    /// Why a fix is unsafe, or what a person has to do for a manual one.
    pub reason: Option<String>,
    /// RFC 6902 operations on the document (empty for a manual fix).
    pub patch: Vec<PatchOperation>,
    /// AWS operations (live mode).
    pub operations: Vec<crate::operation::Operation>,
}

impl Fix {
    pub fn manual(title: impl Into<String>) -> Self {
        Fix {
            title: title.into(),
            applicability: Applicability::Manual,
            reason: None,
            ..Default::default()
        }
    }
}

/// The static description of a check: its stable slug and its documentation.
#[derive(Debug)]
pub struct CheckInfo {
    pub slug: &'static str,
    pub severity: Severity,
    /// One line: what the check looks at.
    pub summary: &'static str,
    /// The long text of `fargate-rtm explain SLUG`.
    pub explain: &'static str,
    /// AWS documentation the check is built on.
    pub sources: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub check: &'static CheckInfo,
    pub severity: Severity,
    /// The file path in file mode (set by the planner).
    pub resource: String,
    /// What in the resource: "task definition `web`", "service `api`".
    pub subject: String,
    /// Where in the document the finding points.
    pub pointer: PointerBuf,
    /// 1-based line of `pointer` in the input (set by the planner when the input has text).
    pub line: Option<usize>,
    pub message: String,
    pub fix: Fix,
    /// The check could not read a value it needs: the input is invalid (exit code 1).
    pub unreadable: bool,
}

impl Finding {
    pub fn new(
        check: &'static CheckInfo,
        subject: String,
        pointer: PointerBuf,
        message: String,
        fix: Fix,
    ) -> Self {
        Finding {
            check,
            severity: check.severity,
            resource: String::new(),
            subject,
            pointer,
            line: None,
            message,
            fix,
            unreadable: false,
        }
    }
}

/// A check that could not decide: it never counts as passing.
#[derive(Debug, Clone)]
pub struct NotChecked {
    pub check: &'static CheckInfo,
    pub resource: String,
    pub subject: String,
    pub reason: String,
}

/// A finding as `--format json` and saved plans show it.
#[derive(Serialize)]
pub struct FixOut<'a> {
    applicability: Applicability,
    title: &'a str,
    reason: Option<&'a str>,
}

/// The account of a resource named by its ARN (`arn:aws:ecs:REGION:ACCOUNT:...`).
pub fn arn_account(resource: &str) -> Option<&str> {
    let mut parts = resource.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(3))
        .flatten()
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Serialize)]
pub struct FindingOut<'a> {
    check: &'static str,
    severity: Severity,
    /// The AWS account of a live resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    resource: &'a str,
    subject: &'a str,
    line: Option<usize>,
    pointer: &'a str,
    message: &'a str,
    fix: FixOut<'a>,
}

impl<'a> From<&'a Finding> for FindingOut<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingOut {
            check: f.check.slug,
            severity: f.severity,
            account: arn_account(&f.resource),
            resource: &f.resource,
            subject: &f.subject,
            line: f.line,
            pointer: f.pointer.as_str(),
            message: &f.message,
            fix: FixOut {
                applicability: f.fix.applicability,
                title: &f.fix.title,
                reason: f.fix.reason.as_deref(),
            },
        }
    }
}

impl Finding {
    /// The finding as JSON (`FindingOut`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(FindingOut::from(self)).unwrap_or_default()
    }
}
