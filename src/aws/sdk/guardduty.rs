//! GuardDuty through the SDK.

use super::*;

impl GuardDuty for SdkAws {
    async fn detector(&self) -> AwsResult<Option<Detector>> {
        let list = call!(
            self,
            "guardduty:ListDetectors",
            self.guardduty.list_detectors().send()
        )?;
        let Some(id) = list.detector_ids().first().cloned() else {
            return Ok(None);
        };
        let d = call!(
            self,
            "guardduty:GetDetector",
            self.guardduty.get_detector().detector_id(&id).send()
        )?;
        let mut runtime = false;
        let mut agent = false;
        for f in d.features() {
            let enabled = f.status().is_some_and(|s| s.as_str() == "ENABLED");
            let name = f.name().map(|n| n.as_str()).unwrap_or_default();
            if name == "RUNTIME_MONITORING" {
                runtime = enabled;
                agent = enabled
                    && f.additional_configuration().iter().any(|c| {
                        c.name()
                            .is_some_and(|n| n.as_str() == "ECS_FARGATE_AGENT_MANAGEMENT")
                            && c.status().is_some_and(|s| s.as_str() == "ENABLED")
                    });
            }
        }
        Ok(Some(Detector {
            id,
            runtime_monitoring: runtime,
            ecs_fargate_agent_management: agent,
        }))
    }

    async fn ecs_coverage(&self, detector: &str, account: &str) -> AwsResult<Vec<Coverage>> {
        let criteria = criteria(account);
        let criteria = &criteria;
        all_pages(|token| async move {
            let page = call!(
                self,
                "guardduty:ListCoverage",
                self.guardduty
                    .list_coverage()
                    .detector_id(detector)
                    .filter_criteria(criteria.clone())
                    .set_next_token(token)
                    .send()
            )?;
            let records = page
                .resources()
                .iter()
                .filter_map(|r| {
                    let ecs = r.resource_details()?.ecs_cluster_details()?;
                    let fargate = ecs.fargate_details();
                    Some(Coverage {
                        account: r.account_id().unwrap_or_default().to_string(),
                        cluster: ecs.cluster_name().unwrap_or_default().to_string(),
                        status: r
                            .coverage_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        issue: r.issue().map(str::to_string),
                        updated_at: r.updated_at().and_then(|t| {
                            t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
                        }),
                        management_type: fargate
                            .and_then(|f| f.management_type())
                            .map(|m| m.as_str().to_string()),
                        fargate_issues: fargate.map(|f| f.issues().to_vec()).unwrap_or_default(),
                        container_instances: ecs.container_instance_details().and_then(|c| {
                            Some((
                                c.covered_container_instances()?,
                                c.compatible_container_instances()?,
                            ))
                        }),
                    })
                })
                .collect();
            Ok((records, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn ecs_coverage_counts(
        &self,
        detector: &str,
        account: &str,
    ) -> AwsResult<BTreeMap<String, i64>> {
        use aws_sdk_guardduty::types::CoverageStatisticsType;
        let out = call!(
            self,
            "guardduty:GetCoverageStatistics",
            self.guardduty
                .get_coverage_statistics()
                .detector_id(detector)
                .statistics_type(CoverageStatisticsType::CountByCoverageStatus)
                .filter_criteria(criteria(account))
                .send()
        )?;
        Ok(out
            .coverage_statistics()
            .and_then(|s| s.count_by_coverage_status())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str().to_string(), *v))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Coverage records of resource type `ECS` in `account` (every account the detector sees when
/// it is empty).
fn criteria(account: &str) -> aws_sdk_guardduty::types::CoverageFilterCriteria {
    use aws_sdk_guardduty::types::{
        CoverageFilterCondition, CoverageFilterCriteria, CoverageFilterCriterion,
        CoverageFilterCriterionKey,
    };
    let equals = |key: CoverageFilterCriterionKey, value: &str| {
        CoverageFilterCriterion::builder()
            .criterion_key(key)
            .filter_condition(CoverageFilterCondition::builder().equals(value).build())
            .build()
    };
    let mut c = CoverageFilterCriteria::builder()
        .filter_criterion(equals(CoverageFilterCriterionKey::ResourceType, "ECS"));
    if !account.is_empty() {
        c = c.filter_criterion(equals(CoverageFilterCriterionKey::AccountId, account));
    }
    c.build()
}
