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
}
