//! Iam through the SDK.

use super::*;

impl Iam for SdkAws {
    async fn get_role(&self, name: &str) -> AwsResult<Role> {
        let out = call!(
            self,
            "iam:GetRole",
            self.iam.get_role().role_name(name).send()
        )?;
        let role = out.role().ok_or_else(|| AwsError {
            api: "iam:GetRole",
            kind: ErrorKind::NotFound,
            message: name.to_string(),
        })?;
        Ok(Role {
            arn: role.arn().to_string(),
            name: role.role_name().to_string(),
            boundary_arn: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        })
    }

    async fn role_policies(&self, name: &str) -> AwsResult<RolePolicies> {
        // IAM pages with `Marker` + `IsTruncated`.
        let next = |truncated: bool, marker: Option<&str>| {
            marker.filter(|_| truncated).map(str::to_string)
        };
        let attached = all_pages(|marker| async move {
            let req = self
                .iam
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker);
            let page = call!(self, "iam:ListAttachedRolePolicies", req.send())?;
            let arns = page
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
                .map(str::to_string)
                .collect();
            Ok((arns, next(page.is_truncated(), page.marker())))
        })
        .await?;
        let names = all_pages(|marker| async move {
            let page = call!(
                self,
                "iam:ListRolePolicies",
                self.iam
                    .list_role_policies()
                    .role_name(name)
                    .set_marker(marker)
                    .send()
            )?;
            Ok((
                page.policy_names().to_vec(),
                next(page.is_truncated(), page.marker()),
            ))
        })
        .await?;
        let mut out = RolePolicies {
            attached,
            inline: Vec::new(),
        };
        for policy in names {
            let doc = call!(
                self,
                "iam:GetRolePolicy",
                self.iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(&policy)
                    .send()
            )?;
            let document =
                policy::parse_document(doc.policy_document()).ok_or_else(|| AwsError {
                    api: "iam:GetRolePolicy",
                    kind: ErrorKind::Other,
                    message: format!("inline policy `{policy}` is not a readable JSON document"),
                })?;
            out.inline.push(Policy {
                name: format!("inline policy `{policy}`"),
                document,
            });
        }
        Ok(out)
    }

    async fn managed_policy(&self, arn: &str) -> AwsResult<Policy> {
        let p = call!(
            self,
            "iam:GetPolicy",
            self.iam.get_policy().policy_arn(arn).send()
        )?;
        let version = p
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_string();
        let v = call!(
            self,
            "iam:GetPolicyVersion",
            self.iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
        )?;
        let raw = v
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default();
        let document = policy::parse_document(raw).ok_or_else(|| AwsError {
            api: "iam:GetPolicyVersion",
            kind: ErrorKind::Other,
            message: format!("policy `{arn}` is not a readable JSON document"),
        })?;
        Ok(Policy {
            name: format!("`{arn}`"),
            document,
        })
    }

    async fn create_role(&self, name: &str, trust: &Value, tags: &Tags) -> AwsResult<()> {
        let mut req = self
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string());
        for (k, v) in tags {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError {
                    api: "iam:CreateRole",
                    kind: ErrorKind::Other,
                    message: e.to_string(),
                })?;
            req = req.tags(tag);
        }
        call!(self, "iam:CreateRole", req.send())?;
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DeleteRole",
            self.iam.delete_role().role_name(name).send()
        )?;
        Ok(())
    }

    async fn attach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:AttachRolePolicy",
            self.iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        )?;
        Ok(())
    }

    async fn detach_role_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DetachRolePolicy",
            self.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        )?;
        Ok(())
    }

    async fn inline_policy(&self, role: &str, name: &str) -> AwsResult<Option<Value>> {
        match call!(
            self,
            "iam:GetRolePolicy",
            self.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
        ) {
            Ok(out) => Ok(policy::parse_document(out.policy_document())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_role_policy(&self, role: &str, name: &str, document: &Value) -> AwsResult<()> {
        call!(
            self,
            "iam:PutRolePolicy",
            self.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(document.to_string())
                .send()
        )?;
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> AwsResult<()> {
        call!(
            self,
            "iam:DeleteRolePolicy",
            self.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
        )?;
        Ok(())
    }
}
