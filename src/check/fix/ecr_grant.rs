//! The ECR grant shared by the execution-role checks: a scoped inline policy for the region's
//! agent repository (default) or the managed `AmazonECSTaskExecutionRolePolicy`, and a new
//! execution role when the one named does not exist. Policy documents come from `templates/`.

use crate::model::{Applicability, Fix};
use crate::operation::Operation;
use serde_json::Value;

/// How the ECR fix is written: a scoped inline policy (default) or the managed policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EcrPolicy {
    #[default]
    Scoped,
    Managed,
}

pub const MANAGED_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// The scoped inline policy's name: one per region, as each region has its own repository.
pub fn inline_policy_name(region: &str) -> String {
    format!("fargate-rtm-guardduty-agent-ecr-{region}")
}

const SCOPED_TEMPLATE: &str = include_str!("../../../templates/ecr-agent-inline-policy.json");
const TRUST_TEMPLATE: &str = include_str!("../../../templates/ecs-tasks-trust-policy.json");

/// The scoped inline policy for a repository ARN (from `templates/`).
pub fn scoped_policy(repository_arn: &str) -> Value {
    serde_json::from_str(&SCOPED_TEMPLATE.replace("{{repository_arn}}", repository_arn))
        .unwrap_or(Value::Null)
}

/// The trust policy of a role the tool creates: ECS tasks of this account only (the
/// `aws:SourceAccount` and `aws:SourceArn` conditions AWS recommends against a confused deputy).
pub fn trust_policy(account: &str, partition: &str) -> Value {
    serde_json::from_str(
        &TRUST_TEMPLATE
            .replace("{{account}}", account)
            .replace("{{partition}}", partition),
    )
    .unwrap_or(Value::Null)
}

/// The ECR grant for an execution role: the scoped inline policy (one per region, for that
/// region's agent repository) or the managed `AmazonECSTaskExecutionRolePolicy`.
pub fn grant(role: &str, region: &str, ecr_policy: EcrPolicy, repository_arn: &str) -> Fix {
    match ecr_policy {
        EcrPolicy::Scoped => Fix {
            title: format!(
                "put inline policy `{}` on role `{role}` (ECR pulls of the agent repository only)",
                inline_policy_name(region)
            ),
            applicability: Applicability::Safe,
            operations: vec![Operation::PutRolePolicy {
                role_name: role.to_string(),
                policy_name: inline_policy_name(region),
                policy_document: scoped_policy(repository_arn),
            }],
            ..Default::default()
        },
        EcrPolicy::Managed => Fix {
            title: format!("attach `AmazonECSTaskExecutionRolePolicy` to role `{role}`"),
            applicability: Applicability::Safe,
            operations: vec![Operation::AttachRolePolicy {
                role_name: role.to_string(),
                policy_arn: MANAGED_POLICY.into(),
            }],
            ..Default::default()
        },
    }
}

/// A new execution role trusting `ecs-tasks.amazonaws.com`, with the managed policy.
pub fn create_role(name: &str, account: &str, partition: &str) -> Fix {
    Fix {
        title: format!(
            "create role `{name}` trusting `ecs-tasks.amazonaws.com` with `AmazonECSTaskExecutionRolePolicy`"
        ),
        applicability: Applicability::Safe,
        // Two steps, each journaled with its inverse: a failed attach leaves a recorded role.
        operations: vec![
            Operation::CreateRole {
                role_name: name.to_string(),
                assume_role_policy: trust_policy(account, partition),
                attach_policy_arns: Vec::new(),
            },
            Operation::AttachRolePolicy {
                role_name: name.to_string(),
                policy_arn: MANAGED_POLICY.into(),
            },
        ],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::account::{ECR_ACTIONS, ecr_resource};
    use crate::policy::{self, Decision};

    #[test]
    fn templates_parse_and_scope_the_repository() {
        let arn = "arn:aws:ecr:us-east-1:593207742271:repository/aws-guardduty-agent-fargate";
        let p = scoped_policy(arn);
        let policies = vec![policy::Policy {
            name: "inline".into(),
            document: p,
        }];
        for a in ECR_ACTIONS {
            assert!(
                policy::evaluate(&policies, a, &ecr_resource(a, arn)).is_allowed(),
                "{a}"
            );
        }
        let other = "arn:aws:ecr:us-east-1:111122223333:repository/app";
        assert_eq!(
            policy::evaluate(&policies, "ecr:BatchGetImage", other),
            Decision::NotAllowed
        );
        let trust = trust_policy("123456789012", "aws");
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            "ecs-tasks.amazonaws.com"
        );
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:ecs:*:123456789012:*"
        );
    }
}
