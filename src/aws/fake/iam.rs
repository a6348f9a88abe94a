//! Iam against the fake account.

use super::{Account, FakeAws, FakeRole, invalid, not_found};
use crate::aws::{AwsResult, Iam, Role, RolePolicies, Tags};
use crate::policy::Policy;
use serde_json::{Value, json};

/// The AWS managed policies an account has without creating them (the ones fargate-rtm
/// attaches), with their documented default version.
fn aws_managed(arn: &str) -> Option<Value> {
    match arn {
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" => Some(json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [
                "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
                "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]
        })),
        _ => None,
    }
}

fn policy_document(a: &Account, arn: &str) -> Option<Value> {
    a.policies.get(arn).cloned().or_else(|| aws_managed(arn))
}

fn role<'a>(a: &'a Account, name: &str, api: &'static str) -> AwsResult<&'a FakeRole> {
    a.roles.get(name).ok_or_else(|| no_role(api, name))
}

fn role_mut<'a>(a: &'a mut Account, name: &str, api: &'static str) -> AwsResult<&'a mut FakeRole> {
    a.roles.get_mut(name).ok_or_else(|| no_role(api, name))
}

fn no_role(api: &'static str, name: &str) -> crate::aws::AwsError {
    not_found(
        api,
        format!("NoSuchEntity: The role with name {name} cannot be found."),
    )
}

impl Iam for FakeAws {
    async fn get_role(&self, name: &str) -> AwsResult<Role> {
        let api = "iam:GetRole";
        self.read(&[api], |a| {
            let r = role(a, name, api)?;
            let path = if r.path.is_empty() { "/" } else { &r.path };
            Ok(Role {
                arn: format!(
                    "arn:{}:iam::{}:role{path}{name}",
                    a.identity.partition, a.identity.account
                ),
                name: name.to_string(),
                boundary_arn: r.boundary.clone(),
                tags: r.tags.clone(),
            })
        })
    }

    async fn role_policies(&self, name: &str) -> AwsResult<RolePolicies> {
        let apis = [
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
        ];
        self.read(&apis, |a| {
            let r = role(a, name, apis[0])?;
            Ok(RolePolicies {
                attached: r.attached.clone(),
                inline: r
                    .inline
                    .iter()
                    .map(|(n, d)| Policy {
                        name: format!("inline policy `{n}`"),
                        document: d.clone(),
                    })
                    .collect(),
            })
        })
    }

    async fn managed_policy(&self, arn: &str) -> AwsResult<Policy> {
        let apis = ["iam:GetPolicy", "iam:GetPolicyVersion"];
        self.read(&apis, |a| {
            let document = policy_document(a, arn).ok_or_else(|| {
                not_found(
                    apis[0],
                    format!("NoSuchEntity: Policy {arn} does not exist."),
                )
            })?;
            Ok(Policy {
                name: format!("`{arn}`"),
                document,
            })
        })
    }

    async fn create_role(&self, name: &str, trust: &Value, tags: &Tags) -> AwsResult<()> {
        let api = "iam:CreateRole";
        self.apply(api, format!("{name}{}", super::tag_keys(tags)), |a| {
            if a.roles.contains_key(name) {
                return Err(invalid(
                    api,
                    format!("EntityAlreadyExists: Role with name {name} already exists."),
                ));
            }
            let role = FakeRole {
                path: "/".into(),
                trust: trust.clone(),
                tags: tags.clone(),
                ..Default::default()
            };
            a.roles.insert(name.to_string(), role);
            Ok(())
        })
    }

    async fn delete_role(&self, name: &str) -> AwsResult<()> {
        let api = "iam:DeleteRole";
        self.apply(api, name.to_string(), |a| {
            let r = role(a, name, api)?;
            if !r.attached.is_empty() || !r.inline.is_empty() {
                return Err(invalid(
                    api,
                    "DeleteConflict: Cannot delete entity, must detach all policies first.",
                ));
            }
            a.roles.remove(name);
            Ok(())
        })
    }

    async fn attach_role_policy(&self, role_name: &str, arn: &str) -> AwsResult<()> {
        let api = "iam:AttachRolePolicy";
        self.apply(api, format!("{role_name} {arn}"), |a| {
            if policy_document(a, arn).is_none() {
                return Err(not_found(
                    api,
                    format!("NoSuchEntity: Policy {arn} does not exist or is not attachable."),
                ));
            }
            let r = role_mut(a, role_name, api)?;
            // Attaching an attached policy succeeds and changes nothing.
            if !r.attached.iter().any(|p| p == arn) {
                r.attached.push(arn.to_string());
            }
            Ok(())
        })
    }

    async fn detach_role_policy(&self, role_name: &str, arn: &str) -> AwsResult<()> {
        let api = "iam:DetachRolePolicy";
        self.apply(api, format!("{role_name} {arn}"), |a| {
            let r = role_mut(a, role_name, api)?;
            let i = r.attached.iter().position(|p| p == arn).ok_or_else(|| {
                not_found(api, format!("NoSuchEntity: Policy {arn} was not found."))
            })?;
            r.attached.remove(i);
            Ok(())
        })
    }

    async fn inline_policy(&self, role_name: &str, name: &str) -> AwsResult<Option<Value>> {
        // `NoSuchEntity` (no such role or policy) is "no policy", as the SDK implementation reads it.
        self.read(&["iam:GetRolePolicy"], |a| {
            Ok(a.roles
                .get(role_name)
                .and_then(|r| r.inline.get(name))
                .cloned())
        })
    }

    async fn put_role_policy(
        &self,
        role_name: &str,
        name: &str,
        document: &Value,
    ) -> AwsResult<()> {
        let api = "iam:PutRolePolicy";
        self.apply(api, format!("{role_name} {name}"), |a| {
            if !document.is_object() || document.get("Statement").is_none() {
                return Err(invalid(
                    api,
                    "MalformedPolicyDocument: Syntax errors in policy.",
                ));
            }
            let r = role_mut(a, role_name, api)?;
            r.inline.insert(name.to_string(), document.clone());
            Ok(())
        })
    }

    async fn delete_role_policy(&self, role_name: &str, name: &str) -> AwsResult<()> {
        let api = "iam:DeleteRolePolicy";
        self.apply(api, format!("{role_name} {name}"), |a| {
            let r = role_mut(a, role_name, api)?;
            r.inline.remove(name).ok_or_else(|| {
                not_found(
                    api,
                    format!("NoSuchEntity: The role policy with name {name} cannot be found."),
                )
            })?;
            Ok(())
        })
    }
}
