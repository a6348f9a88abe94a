//! The accounts of an organization scan: from `--accounts`, a c7n-org `accounts.yml`
//! (`--accounts-file`), or the organization's active accounts (`--org`), each with the role to
//! assume and its regions.
//!
//! c7n-org's file: https://cloudcustodian.io/docs/tools/c7n-org.html

use crate::aws::OrgAccount;
use serde_json::Value;
use std::path::Path;

/// One account to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub name: String,
    /// The role to assume; `None` for the caller's own account (its credentials are used).
    pub role_arn: Option<String>,
    /// Its regions; empty: the `--region` list.
    pub regions: Vec<String>,
}

/// How each account's role is named.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    /// `--role-name` (default `OrganizationAccountAccessRole`).
    pub name: Option<String>,
    /// `--role-arn-template` with `{account}`.
    pub template: Option<String>,
    pub partition: String,
}

impl Roles {
    /// The role ARN to assume in `account`; `role` as a file gives it (an ARN or a name).
    pub fn arn(&self, account: &str, role: Option<&str>) -> String {
        match role {
            Some(r) if r.starts_with("arn:") => r.to_string(),
            Some(r) => format!("arn:{}:iam::{account}:role/{r}", self.partition),
            None => match &self.template {
                Some(t) => t.replace("{account}", account),
                None => format!(
                    "arn:{}:iam::{account}:role/{}",
                    self.partition,
                    self.name
                        .as_deref()
                        .unwrap_or("OrganizationAccountAccessRole")
                ),
            },
        }
    }
}

/// A 12-digit account id.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `--accounts ID,ID`: each id checked.
pub fn from_ids(ids: &[String], roles: &Roles, caller: &str) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for id in ids.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        if !is_account_id(id) {
            return Err(format!("`{id}` is not an account id (12 digits)"));
        }
        if out.iter().any(|t: &Target| t.account == id) {
            continue;
        }
        out.push(Target {
            account: id.to_string(),
            name: id.to_string(),
            role_arn: (id != caller).then(|| roles.arn(id, None)),
            regions: Vec::new(),
        });
    }
    Ok(out)
}

/// The organization's `ACTIVE` accounts.
pub fn from_organization(accounts: &[OrgAccount], roles: &Roles, caller: &str) -> Vec<Target> {
    accounts
        .iter()
        .filter(|a| a.status == "ACTIVE")
        .map(|a| Target {
            account: a.id.clone(),
            name: a.name.clone(),
            role_arn: (a.id != caller).then(|| roles.arn(&a.id, None)),
            regions: Vec::new(),
        })
        .collect()
}

/// A c7n-org `accounts.yml` (or its JSON form): `accounts: [{account_id, name, role, regions,
/// tags}]`. `role` is an ARN or a role name; without it, `--role-name`/`--role-arn-template`.
pub fn from_file(path: &Path, roles: &Roles, caller: &str) -> Result<Vec<Target>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("`{shown}`: cannot read: {e}"))?;
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            crate::model::yaml::parse(&text)
                .map_err(|e| {
                    format!(
                        "`{shown}`: invalid YAML at line {}, column {}: {}",
                        e.line, e.col, e.message
                    )
                })?
                .value
        }
    };
    let Some(list) = value.get("accounts").and_then(Value::as_array) else {
        return Err(format!(
            "`{shown}`: no `accounts` list (c7n-org's format: `accounts: [{{account_id, name, role, regions}}]`)"
        ));
    };
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = |k: &str| a.get(k).and_then(Value::as_str);
        // YAML reads an unquoted id as a number.
        let id = match a.get("account_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => format!("{n:0>12}"),
            _ => return Err(format!("`{shown}`: account {} has no `account_id`", i + 1)),
        };
        if !is_account_id(&id) {
            return Err(format!(
                "`{shown}`: `{id}` is not an account id (12 digits)"
            ));
        }
        let regions = match a.get("regions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(r)) => r
                .iter()
                .map(|x| {
                    x.as_str().map(str::to_string).ok_or_else(|| {
                        format!("`{shown}`: account `{id}`: a region is not a string")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(format!(
                    "`{shown}`: account `{id}`: `regions` is not a list"
                ));
            }
        };
        if a.get("role")
            .is_some_and(|r| !r.is_string() && !r.is_null())
        {
            return Err(format!(
                "`{shown}`: account `{id}`: `role` is not one role (role chaining is not supported)"
            ));
        }
        if regions.iter().any(|r| r == "all") {
            return Err(format!(
                "`{shown}`: account `{id}`: `regions: [all]` is not supported: list the regions"
            ));
        }
        if out.iter().any(|t: &Target| t.account == id) {
            return Err(format!("`{shown}`: account `{id}` is listed twice"));
        }
        out.push(Target {
            name: field("name").unwrap_or(&id).to_string(),
            role_arn: match field("role") {
                Some(r) => Some(roles.arn(&id, Some(r))),
                None => (id != caller).then(|| roles.arn(&id, None)),
            },
            account: id,
            regions,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> Roles {
        Roles {
            partition: "aws".into(),
            ..Default::default()
        }
    }

    #[test]
    fn c7n_org_accounts_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.yml");
        std::fs::write(
            &path,
            "accounts:\n- account_id: '111111111111'\n  name: prod\n  role: arn:aws:iam::111111111111:role/Audit\n  regions: [us-east-1, eu-west-1]\n  tags: [type:prod]\n- account_id: 222222222222\n  name: dev\n- account_id: '123456789012'\n  name: me\n",
        )
        .unwrap();
        let t = from_file(&path, &roles(), "123456789012").unwrap();
        assert_eq!(
            t[0].role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/Audit")
        );
        assert_eq!(t[0].regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(
            t[1].role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")
        );
        assert_eq!(t[1].account, "222222222222");
        // The caller's own account is read with its own credentials.
        assert_eq!(t[2].role_arn, None);
        std::fs::write(&path, "accounts:\n- name: x\n").unwrap();
        assert!(
            from_file(&path, &roles(), "1")
                .unwrap_err()
                .contains("no `account_id`")
        );
        std::fs::write(&path, "regions: []\n").unwrap();
        assert!(
            from_file(&path, &roles(), "1")
                .unwrap_err()
                .contains("no `accounts` list")
        );
    }

    #[test]
    fn role_names_and_templates() {
        let r = Roles {
            name: Some("Audit".into()),
            template: None,
            partition: "aws-cn".into(),
        };
        assert_eq!(
            r.arn("111111111111", None),
            "arn:aws-cn:iam::111111111111:role/Audit"
        );
        let r = Roles {
            template: Some("arn:aws:iam::{account}:role/path/Scan".into()),
            ..roles()
        };
        assert_eq!(
            r.arn("111111111111", None),
            "arn:aws:iam::111111111111:role/path/Scan"
        );
        assert!(from_ids(&["12".into()], &r, "").is_err());
        let t = from_ids(&["111111111111".into(), "111111111111".into()], &r, "").unwrap();
        assert_eq!(t.len(), 1);
    }
}
