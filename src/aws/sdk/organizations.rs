//! Organizations through the SDK.

use super::*;

impl Organizations for SdkAws {
    async fn organization(&self) -> AwsResult<Organization> {
        let out = call!(
            self,
            "organizations:DescribeOrganization",
            self.organizations.describe_organization().send()
        )?;
        let org = out.organization();
        Ok(Organization {
            id: org.and_then(|o| o.id()).unwrap_or_default().into(),
            management_account: org
                .and_then(|o| o.master_account_id())
                .unwrap_or_default()
                .into(),
        })
    }

    async fn accounts(&self) -> AwsResult<Vec<OrgAccount>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "organizations:ListAccounts",
                self.organizations
                    .list_accounts()
                    .set_next_token(token)
                    .send()
            )?;
            let accounts = page
                .accounts()
                .iter()
                .map(|a| OrgAccount {
                    id: a.id().unwrap_or_default().to_string(),
                    name: a.name().unwrap_or_default().to_string(),
                    status: a
                        .state()
                        .map(|s| s.as_str().to_string())
                        .or_else(|| {
                            #[allow(deprecated)]
                            a.status().map(|s| s.as_str().to_string())
                        })
                        .unwrap_or_default(),
                })
                .collect();
            Ok((accounts, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn scp_path(&self, account: &str) -> AwsResult<Vec<ScpLevel>> {
        // SCPs apply when the root has the policy type (enabled, or on its way in or out).
        let roots = call!(
            self,
            "organizations:ListRoots",
            self.organizations.list_roots().send()
        )?;
        let enabled = roots.roots().iter().any(|r| {
            r.policy_types().iter().any(|t| {
                t.r#type() == Some(&aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            })
        });
        if !enabled {
            return Ok(Vec::new());
        }
        let mut targets = vec![account.to_string()];
        let mut current = account.to_string();
        // Walk up: account -> OU ... -> root (bounded: OUs nest at most 5 deep).
        for _ in 0..8 {
            let parents = call!(
                self,
                "organizations:ListParents",
                self.organizations.list_parents().child_id(&current).send()
            )?;
            let Some(parent) = parents.parents().first() else {
                break;
            };
            let id = parent.id().unwrap_or_default().to_string();
            targets.push(id.clone());
            if parent.r#type().is_some_and(|t| t.as_str() == "ROOT") {
                break;
            }
            current = id;
        }
        let mut levels = Vec::new();
        for target in targets {
            let target_ref = &target;
            let policies = all_pages(|token| async move {
                let req = self
                    .organizations
                    .list_policies_for_target()
                    .target_id(target_ref)
                    .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                    .set_next_token(token);
                let page = call!(self, "organizations:ListPoliciesForTarget", req.send())?;
                let mut policies = Vec::new();
                for summary in page.policies() {
                    let id = summary.id().unwrap_or_default();
                    let p = call!(
                        self,
                        "organizations:DescribePolicy",
                        self.organizations.describe_policy().policy_id(id).send()
                    )?;
                    let content = p.policy().and_then(|p| p.content()).unwrap_or_default();
                    let name = summary.name().unwrap_or(id);
                    // `null` when it does not parse: the check reports it as not checked.
                    let document = policy::parse_document(content)
                        .filter(Value::is_object)
                        .unwrap_or(Value::Null);
                    policies.push(Policy {
                        name: format!("SCP `{name}` ({id})"),
                        document,
                    });
                }
                Ok((policies, page.next_token().map(str::to_string)))
            })
            .await?;
            levels.push(ScpLevel { target, policies });
        }
        Ok(levels)
    }
}
