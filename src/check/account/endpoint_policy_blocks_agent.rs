//! `endpoint-policy-blocks-agent` (live): the policies of the endpoints on the agent's path
//! must allow its requests: the ECR pull on the `ecr.api` and `ecr.dkr` endpoints, the layer
//! download on the S3 gateway endpoint, telemetry on a `guardduty-data` endpoint you created.

use super::path::{self, S3};
use super::{
    AccountContext, Ask, TELEMETRY_ACTION, agent_asks, finding, network_or_not_checked, not_checked,
};
use crate::aws::VpcEndpoint;
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::model::{CheckInfo, Fix, Severity};
use crate::policy::{Decision, Known, Policy};
use serde_json::json;

pub static INFO: CheckInfo = CheckInfo {
    slug: "endpoint-policy-blocks-agent",
    severity: Severity::Error,
    summary: "an endpoint policy on the path blocks the agent's image pull or telemetry (live)",
    explain: "\
A VPC endpoint the service's tasks use has a policy that does not allow one of the agent's
requests: on the `ecr.api` and `ecr.dkr` interface endpoints, `ecr:GetAuthorizationToken` and
the three pull actions on the region's agent repository; on the S3 gateway endpoint of the
subnet's route table, `s3:GetObject` on `arn:aws:s3:::prod-REGION-starport-layer-bucket/*` (where
ECR keeps image layers); on a `guardduty-data` endpoint you created (not GuardDuty's own,
tagged `GuardDutyManaged`), `guardduty:SendSecurityTelemetry`. The caller is the task execution
role.

Why: a request through an endpoint must be allowed by the endpoint's policy too. The agent
repository belongs to an AWS account in no customer organization, so a data perimeter (allow
only `aws:ResourceAccount` or `aws:ResourceOrgID` of your own) blocks it; those conditions are
decided. A condition on something only known at request time is reported as not checked, named.
An endpoint without a policy allows everything.

Fix: manual. fargate-rtm never edits endpoint policies; it shows the statement to add.",
    sources: &[
        "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html",
        "https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

/// The bucket where ECR keeps image layers, in the region (ECR's endpoint documentation).
pub fn layer_bucket(partition: &str, region: &str) -> String {
    format!("arn:{partition}:s3:::prod-{region}-starport-layer-bucket")
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    let Some(net) = network_or_not_checked(&INFO, inv, &mut out) else {
        return out;
    };
    let region = &inv.region;
    let mut seen: Vec<(String, String)> = Vec::new();
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        let Some(role) = inv
            .task_defs
            .get(&svc.task_definition)
            .and_then(|td| td.as_ref().ok())
            .and_then(|td| td.field("executionRoleArn"))
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        // The caller's ARN as IAM has it (with its path), when the role was read.
        let role_arn = match inv.roles.get(&crate::model::arn::role_name(role)) {
            Some(crate::model::inventory::RoleView::Found { role, .. }) => role.arn.clone(),
            _ => role.to_string(),
        };
        let subject = format!("service `{}`", svc.name);
        let caller = |mut ask: Ask| {
            ask.context
                .push(("aws:principalarn", Known::Value(role_arn.clone())));
            ask
        };
        let mut endpoints: Vec<(&VpcEndpoint, Vec<Ask>)> = Vec::new();
        if ctx.repository.is_none() {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject.clone(),
                format!("ECR endpoints: no known GuardDuty agent repository for region `{region}`"),
            ));
        }
        let ecr: Vec<Ask> = agent_asks(inv, ctx.repository.as_ref(), false)
            .into_iter()
            .map(caller)
            .collect();
        for p in path::service_paths(net, region, vpc).into_iter().flatten() {
            for e in &p.ecr_endpoints {
                endpoints.push((e, ecr.iter().map(Ask::clone_ask).collect()));
            }
            if let S3::Gateway(g) = p.s3 {
                let layer = Ask {
                    action: "s3:GetObject",
                    resource: format!("{}/*", layer_bucket(&inv.identity.partition, region)),
                    context: vec![
                        ("aws:requestedregion", Known::Value(region.clone())),
                        (
                            "aws:principalaccount",
                            Known::Value(inv.identity.account.clone()),
                        ),
                        ("aws:resourceaccount", Known::Foreign),
                        ("aws:resourceorgid", Known::Foreign),
                        ("aws:resourceorgpaths", Known::Foreign),
                    ],
                };
                endpoints.push((g, vec![caller(layer)]));
            }
            // A `guardduty-data` endpoint the user made (GuardDuty tags its own).
            let telemetry = format!("com.amazonaws.{region}.guardduty-data");
            for e in net.endpoints.iter().filter(|e| {
                e.usable
                    && e.vpc_id == p.subnet.vpc_id
                    && e.service_name == telemetry
                    && !e.tags.contains_key("GuardDutyManaged")
            }) {
                let asks: Vec<Ask> = agent_asks(inv, None, true)
                    .into_iter()
                    .map(caller)
                    .collect();
                endpoints.push((e, asks));
            }
        }
        for (endpoint, asks) in endpoints {
            let key = (svc.arn.clone(), endpoint.id.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let Some(document) = &endpoint.policy else {
                continue;
            };
            let short = endpoint
                .service_name
                .rsplit_once(&format!("{region}."))
                .map_or(endpoint.service_name.as_str(), |(_, s)| s);
            let label = format!("the policy of `{}` (`{short}`)", endpoint.id);
            if document.is_null() {
                out.not_checked.push(not_checked(
                    &INFO,
                    &svc.arn,
                    subject.clone(),
                    format!("{label} does not parse"),
                ));
                continue;
            }
            let policy = [Policy {
                name: format!("endpoint policy of `{}`", endpoint.id),
                document: document.clone(),
            }];
            let mut blocked: Vec<&Ask> = Vec::new();
            for ask in &asks {
                match ask.evaluate(&policy) {
                    Decision::Allowed { .. } => {}
                    Decision::Denied { .. } | Decision::NotAllowed => blocked.push(ask),
                    Decision::Undecided { by } => out.not_checked.push(not_checked(
                        &INFO,
                        &svc.arn,
                        subject.clone(),
                        format!("`{}` through `{}` depends on {by}", ask.action, endpoint.id),
                    )),
                }
            }
            if blocked.is_empty() {
                continue;
            }
            let actions: Vec<String> = blocked.iter().map(|a| format!("`{}`", a.action)).collect();
            // The layer bucket's objects, not the sample key the request was evaluated on.
            let shown = |a: &Ask| {
                if a.action == "s3:GetObject" {
                    format!("{}/*", layer_bucket(&inv.identity.partition, region))
                } else {
                    a.resource.clone()
                }
            };
            let statement = json!({
                "Effect": "Allow",
                "Principal": "*",
                "Action": blocked.iter().map(|a| a.action).collect::<Vec<_>>(),
                "Resource": blocked.iter().map(|a| shown(a)).collect::<std::collections::BTreeSet<_>>(),
            });
            let on = if blocked.iter().any(|a| a.action == TELEMETRY_ACTION) {
                String::new()
            } else {
                format!(" on `{}`", shown(blocked[0]))
            };
            out.findings.push(finding(
                &INFO,
                &svc.arn,
                subject.clone(),
                format!("{label} does not allow {}{on}", actions.join(", ")),
                Fix::manual(format!(
                    "add to the policy of `{}`: {statement}",
                    endpoint.id
                )),
            ));
        }
    }
    out
}
