//! Accounts, partitions and names read from ARNs and ECR image URIs.

use serde_json::Value;

/// The AWS account and partition a document names, from its ARNs and ECR image URIs.
pub fn account_of(value: &Value) -> Option<(String, String)> {
    fn walk(v: &Value, out: &mut Option<(String, String)>) {
        if out.is_some() {
            return;
        }
        match v {
            Value::String(s) => *out = from_arn(s).or_else(|| from_ecr_image(s)),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => {
                // Fields most likely to name the task's own account first.
                for key in ["taskDefinitionArn", "taskRoleArn"] {
                    if let Some(x) = o.get(key) {
                        walk(x, out);
                    }
                }
                o.values().for_each(|x| walk(x, out));
            }
            _ => {}
        }
    }
    let mut out = None;
    walk(value, &mut out);
    out
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn from_arn(s: &str) -> Option<(String, String)> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    let _service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    (matches!(partition, "aws" | "aws-cn" | "aws-us-gov") && is_account(account))
        .then(|| (account.to_string(), partition.to_string()))
}

fn from_ecr_image(s: &str) -> Option<(String, String)> {
    let (account, rest) = s.split_once(".dkr.ecr.")?;
    if !is_account(account) {
        return None;
    }
    let region = rest.split('.').next()?;
    let partition = if rest.contains(".amazonaws.com.cn") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    Some((account.to_string(), partition.to_string()))
}

/// The role name of an `executionRoleArn` (`arn:aws:iam::1:role/path/name` -> `name`), or the
/// value itself when it is a bare name.
pub fn role_name(arn_or_name: &str) -> String {
    match arn_or_name.split_once(":role/") {
        Some((_, rest)) => rest.rsplit('/').next().unwrap_or(rest).to_string(),
        None => arn_or_name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn account_from_arns_and_images() {
        let v = json!({"containerDefinitions": [{"image": "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/x"}]});
        assert_eq!(
            account_of(&v),
            Some(("123456789012".into(), "aws-us-gov".into()))
        );
        let v = json!({"taskRoleArn": "arn:aws:iam::210987654321:role/app", "x": "arn:aws:iam::ACCOUNT_ID:role/y"});
        assert_eq!(account_of(&v), Some(("210987654321".into(), "aws".into())));
        assert_eq!(
            account_of(&json!({"taskRoleArn": "arn:aws:iam::XXXXXXXXXXXX:role/a"})),
            None
        );
    }
}
