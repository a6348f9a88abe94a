//! Sts, GuardDuty and Organizations against the fake account.

use super::{FakeAws, err, not_found};
use crate::aws::{
    AwsResult, Coverage, Detector, ErrorKind, GuardDuty, Identity, Organization, Organizations,
    ScpLevel, Sts,
};
use std::collections::BTreeMap;

impl Sts for FakeAws {
    fn region(&self) -> &str {
        &self.region
    }

    async fn caller_identity(&self) -> AwsResult<Identity> {
        self.read(&["sts:GetCallerIdentity"], |a| Ok(a.identity.clone()))
    }
}

impl GuardDuty for FakeAws {
    async fn detector(&self) -> AwsResult<Option<Detector>> {
        if !self.read(&["guardduty:ListDetectors"], |a| Ok(a.detector.is_some()))? {
            return Ok(None);
        }
        self.read(&["guardduty:GetDetector"], |a| Ok(a.detector.clone()))
    }

    async fn ecs_coverage(&self, _detector: &str, _account: &str) -> AwsResult<Vec<Coverage>> {
        self.read(&["guardduty:ListCoverage"], |a| Ok(a.coverage.clone()))
    }

    async fn ecs_coverage_counts(
        &self,
        _detector: &str,
        _account: &str,
    ) -> AwsResult<BTreeMap<String, i64>> {
        self.read(&["guardduty:GetCoverageStatistics"], |a| {
            let mut out = BTreeMap::new();
            for c in &a.coverage {
                *out.entry(c.status.clone()).or_insert(0) += 1;
            }
            Ok(out)
        })
    }
}

const NOT_IN_USE: &str =
    "AWSOrganizationsNotInUseException: Your account is not a member of an organization.";

impl Organizations for FakeAws {
    async fn accounts(&self) -> AwsResult<Vec<crate::aws::OrgAccount>> {
        self.read(&["organizations:ListAccounts"], |a| match &a.organization {
            None => Err(err(
                "organizations:ListAccounts",
                ErrorKind::NotInOrganization,
                NOT_IN_USE,
            )),
            Some(_) => Ok(vec![crate::aws::OrgAccount {
                id: a.identity.account.clone(),
                name: a.identity.account.clone(),
                status: "ACTIVE".into(),
            }]),
        })
    }

    async fn organization(&self) -> AwsResult<Organization> {
        let api = "organizations:DescribeOrganization";
        self.read(&[api], |a| {
            a.organization
                .clone()
                .ok_or_else(|| err(api, ErrorKind::NotInOrganization, NOT_IN_USE))
        })
    }

    async fn scp_path(&self, account: &str) -> AwsResult<Vec<ScpLevel>> {
        let apis = [
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
            "organizations:DescribePolicy",
        ];
        self.read(&apis, |a| {
            if a.organization.is_none() {
                return Err(err(apis[0], ErrorKind::NotInOrganization, NOT_IN_USE));
            }
            a.scps.get(account).cloned().ok_or_else(|| {
                not_found(
                    apis[0],
                    format!("ChildNotFoundException: account {account} is not in the organization"),
                )
            })
        })
    }
}
