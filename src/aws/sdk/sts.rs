//! Sts through the SDK.

use super::*;

impl Sts for SdkAws {
    fn region(&self) -> &str {
        &self.region
    }

    async fn caller_identity(&self) -> AwsResult<Identity> {
        let out = call!(
            self,
            "sts:GetCallerIdentity",
            self.sts.get_caller_identity().send()
        )?;
        let arn = out.arn().unwrap_or_default().to_string();
        let partition = arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_string();
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn,
            partition,
        })
    }
}
