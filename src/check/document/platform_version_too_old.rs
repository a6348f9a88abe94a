//! `platform-version-too-old`: Fargate platform version must be `1.4.0` or `LATEST`.

use crate::check::{Check, Context, Runner};
use crate::model::Service;
use crate::model::{Applicability, CheckInfo, Finding, Fix, Severity};
use json_patch::{PatchOperation, ReplaceOperation, TestOperation};

pub static INFO: CheckInfo = CheckInfo {
    slug: "platform-version-too-old",
    severity: Severity::Error,
    summary: "Fargate service with `platformVersion` below `1.4.0`",
    explain: "\
The Fargate service pins a Linux platform version below `1.4.0` (`1.0.0` to `1.3.0`).

Why: \"The corresponding platform version must be at least 1.4.0, or LATEST.\" The platform version
is set on the service (or `run-task`), not on the task definition. When absent it is `LATEST`,
which is `1.4.0` on Linux, so an absent value passes. Services on Windows platform families are
not judged here (their versions are numbered separately); see `unsupported-os`.

Fix (unsafe: `UpdateService` with a new platform version starts a new deployment): set
`platformVersion` to `LATEST`, or to the value of `--platform-version`.",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Service(check),
};

/// Parses `1.3.0` into (1, 3, 0).
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.trim().split('.').map(|p| p.parse::<u32>().ok());
    let (a, b, c) = (it.next()??, it.next()??, it.next().unwrap_or(Some(0))?);
    it.next().is_none().then_some((a, b, c))
}

/// True when a version satisfies GuardDuty (`LATEST` or at least `1.4.0`).
pub fn is_supported(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("LATEST") {
        return Some(true);
    }
    parse_version(v).map(|ver| ver >= (1, 4, 0))
}

/// `Err(reason)` when the version cannot be read: the check is then "not checked".
pub fn check(svc: &Service<'_>, ctx: &Context<'_>) -> Result<Option<Finding>, String> {
    let Some(version) = svc.platform_version else {
        return Ok(None);
    };
    if svc
        .platform_family
        .is_some_and(|f| f.to_ascii_uppercase().starts_with("WINDOWS"))
    {
        return Ok(None);
    }
    match is_supported(version) {
        Some(true) => Ok(None),
        None => Err(format!(
            "`platformVersion` `{version}` is not a version like `1.4.0` or `LATEST`"
        )),
        Some(false) => {
            let target = ctx
                .options
                .platform_version
                .clone()
                .unwrap_or_else(|| "LATEST".to_string());
            let path = svc.field_pointer("platformVersion");
            Ok(Some(Finding::new(
                &INFO,
                svc.label(),
                path.clone(),
                format!("`platformVersion` is `{version}`: GuardDuty needs `1.4.0` or `LATEST`"),
                Fix {
                    title: format!("set `platformVersion` to `{target}`"),
                    applicability: Applicability::Unsafe,
                    reason: Some(if svc.run {
                        "tasks started with this configuration run on the new platform".into()
                    } else {
                        "updating the service starts a new deployment".into()
                    }),
                    patch: vec![
                        PatchOperation::Test(TestOperation {
                            path: path.clone(),
                            value: version.into(),
                        }),
                        PatchOperation::Replace(ReplaceOperation {
                            path,
                            value: target.into(),
                        }),
                    ],
                    ..Default::default()
                },
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(is_supported("1.3.0"), Some(false));
        assert_eq!(is_supported("1.4.0"), Some(true));
        assert_eq!(is_supported("latest"), Some(true));
        assert_eq!(is_supported("1.10"), Some(true));
        assert_eq!(is_supported("{{ pv }}"), None);
        assert_eq!(is_supported("1.4.0.1"), None);
    }
}
