//! The GuardDuty agent for Fargate: its ECR repository per region (data with its source, in
//! `templates/agent-repositories.json`) and how its sidecar is recognised in a running task.

use serde::Deserialize;
use std::sync::OnceLock;

const REPOSITORIES_JSON: &str = include_str!("../templates/agent-repositories.json");

#[derive(Debug, Deserialize)]
struct Table {
    source: String,
    repository_name: String,
    regions: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    region: String,
    account: String,
    uri: String,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str(REPOSITORIES_JSON).expect("embedded agent repository table parses")
    })
}

/// Where the agent image lives in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRepository {
    pub region: String,
    pub account: String,
    pub uri: String,
    /// `arn:PARTITION:ecr:REGION:ACCOUNT:repository/aws-guardduty-agent-fargate`.
    pub arn: String,
}

pub fn source() -> &'static str {
    &table().source
}

/// The agent repository of `region`, or `None` when AWS publishes none we know of.
pub fn repository(region: &str) -> Option<AgentRepository> {
    let t = table();
    let e = t.regions.iter().find(|e| e.region == region)?;
    let partition = if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    };
    Some(AgentRepository {
        region: e.region.clone(),
        account: e.account.clone(),
        uri: e.uri.clone(),
        arn: format!(
            "arn:{partition}:ecr:{}:{}:repository/{}",
            e.region, e.account, t.repository_name
        ),
    })
}

/// A running container is the GuardDuty sidecar when its image comes from one of the agent
/// repositories of AWS's table (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/aws-guardduty-agent-fargate`,
/// any tag or digest). A name proves nothing: any container can be called `aws-gd-agent`.
pub fn is_agent_image(image: &str) -> bool {
    let untagged = image.split_once('@').map_or(image, |(r, _)| r);
    let repo = untagged
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(untagged, |(r, _)| r);
    table().regions.iter().any(|e| e.uri == repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_region() {
        assert_eq!(table().regions.len(), 35);
        let r = repository("us-east-1").unwrap();
        assert_eq!(
            r.arn,
            "arn:aws:ecr:us-east-1:593207742271:repository/aws-guardduty-agent-fargate"
        );
        assert_eq!(
            repository("us-gov-west-1").unwrap().arn,
            "arn:aws-us-gov:ecr:us-gov-west-1:383110348953:repository/aws-guardduty-agent-fargate"
        );
        assert_eq!(repository("me-central-1").unwrap().account, "000014521398");
        assert!(repository("cn-north-1").is_none());
        for e in &table().regions {
            assert!(
                e.uri
                    .starts_with(&format!("{}.dkr.ecr.{}.", e.account, e.region)),
                "{}",
                e.uri
            );
        }
    }

    #[test]
    fn sidecar_by_its_repository_never_its_name() {
        let uri = "593207742271.dkr.ecr.us-east-1.amazonaws.com/aws-guardduty-agent-fargate";
        assert!(is_agent_image(&format!("{uri}:v1.5.0-Fg_arm64")));
        assert!(is_agent_image(&format!("{uri}@sha256:0123abcd")));
        assert!(is_agent_image(uri));
        assert!(!is_agent_image("nginx:1.27"));
        // The repository name in another account, or a look-alike, is not the agent.
        assert!(!is_agent_image(
            "111122223333.dkr.ecr.us-east-1.amazonaws.com/aws-guardduty-agent-fargate:latest"
        ));
        assert!(!is_agent_image(
            "docker.io/me/aws-guardduty-agent-fargate:v1"
        ));
    }
}
