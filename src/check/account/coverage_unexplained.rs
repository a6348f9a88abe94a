//! `coverage-unexplained` (warning, live): GuardDuty's own coverage reports an issue on a
//! cluster that no finding of fargate-rtm explains.

use super::{AccountContext, finding};
use crate::check::{Check, Outcome, Runner};
use crate::coverage::{self, ClusterCoverage};
use crate::model::inventory::CoverageRead;
use crate::model::{CheckInfo, Finding, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "coverage-unexplained",
    severity: Severity::Warning,
    summary: "GuardDuty coverage reports an issue that no finding explains (live)",
    explain: "\
GuardDuty reports, per ECS cluster, whether its agent runs and why not (`ListCoverage`:
`coverageStatus` and `ecsClusterDetails.fargateDetails.issues[]`). fargate-rtm predicts the same
from the configuration. Each issue is read with the rules of `templates/coverage-issues.json`
(the documentation's issue types, matched by prefix) and matched to the findings that explain
it: a `CannotPullContainerError` to the ECR permissions and the network path, a private-DNS
failure to `vpc-dns-disabled`, a missing task execution role to `missing-execution-role`. An
issue on a task definition a scanned service runs that no finding explains, or that no rule
reads, is this warning, with GuardDuty's text.

Why: a disagreement is either a gap in the configuration fargate-rtm does not check yet, or a
wrong rule; both are worth a look. An issue on a task definition no scanned service runs (a
task that stopped since, a `RunTask` or scheduled task, a service outside the scan) is shown as
`not-scanned`; it is warned about only when no check could explain it (an unsupported
invocation, an unidentified issue), since the configuration that caused it may be gone.

Fix: none; read GuardDuty's text. Without `guardduty:ListCoverage` the comparison is said to
be not checked beside the plan; it is GuardDuty's view, not a prerequisite, so the rest of the
scan and the exit code do not depend on it.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html",
        "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_ListCoverage.html",
    ],
};

/// In the registry (`check::REGISTRY`): run after every other check, on their findings.
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Coverage(check),
};

/// Each unexplained issue of `clusters` (as `coverage::reconcile` matched them) as a warning.
pub fn check(ctx: &AccountContext<'_>, findings: &[&Finding]) -> Outcome {
    let inv = ctx.inventory;
    let mut out = Outcome::default();
    // Coverage that cannot be read is said beside the plan (`AccountPart::coverage_unread`):
    // it is GuardDuty's view, not a prerequisite, so it neither passes nor blocks anything.
    if !matches!(inv.coverage, CoverageRead::Read { .. }) {
        return out;
    }
    let clusters: Vec<ClusterCoverage> = coverage::reconcile(inv, findings).unwrap_or_default();
    for c in &clusters {
        let arn = inv
            .clusters
            .iter()
            .find(|k| k.name == c.cluster)
            .map_or(c.cluster.as_str(), |k| k.arn.as_str());
        for i in c.issues.iter().filter(|i| i.unexplained()) {
            let what = if i.rule == "unparsed" {
                "an issue no rule reads".to_string()
            } else {
                format!("`{}`, which no finding explains", i.rule)
            };
            out.findings.push(finding(
                &INFO,
                arn,
                format!("cluster `{}`", c.cluster),
                format!("GuardDuty reports {what}: \"{}\"", i.text),
                Fix::manual(
                    "none: read GuardDuty's text (a check fargate-rtm lacks, or a wrong rule)",
                ),
            ));
        }
    }
    out
}
