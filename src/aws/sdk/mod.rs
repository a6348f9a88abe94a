//! The real AWS SDK behind the `aws` traits: the only place that names `aws_sdk_*` types, one
//! file per service.
//! Pagination, error classification, percent-decoding of IAM documents and call counting live
//! here.

use super::*;
use crate::policy::{self, Policy};
use aws_sdk_ec2::types::Filter;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// SDK clients for one region, and a count of the calls made per API.
pub struct SdkAws {
    region: String,
    ecs: aws_sdk_ecs::Client,
    iam: aws_sdk_iam::Client,
    ec2: aws_sdk_ec2::Client,
    sts: aws_sdk_sts::Client,
    guardduty: aws_sdk_guardduty::Client,
    organizations: aws_sdk_organizations::Client,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

/// How the scan reaches AWS: the standard credential chain, with optional profile and region.
pub async fn load_config(profile: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    load_config_with(profile, region, false).await
}

/// `load_config`, with the SDK's adaptive retry (a client-side rate limiter that slows down on
/// throttling) when `adaptive`: many accounts and regions scanned at once.
pub async fn load_config_with(
    profile: Option<&str>,
    region: Option<&str>,
    adaptive: bool,
) -> aws_config::SdkConfig {
    // Five attempts with backoff, unless `AWS_MAX_ATTEMPTS` says otherwise.
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);
    let retry = if adaptive {
        aws_config::retry::RetryConfig::adaptive()
    } else {
        aws_config::retry::RetryConfig::standard()
    };
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry.with_max_attempts(attempts));
    if let Some(p) = profile {
        // An explicit profile wins over credentials in the environment, as with the AWS CLI.
        let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        loader = loader.profile_name(p).credentials_provider(creds);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    loader.load().await
}

impl SdkAws {
    pub fn new(config: &aws_config::SdkConfig, region: &str) -> Self {
        let conf = config
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build();
        SdkAws {
            region: region.to_string(),
            ecs: aws_sdk_ecs::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            ec2: aws_sdk_ec2::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            guardduty: aws_sdk_guardduty::Client::new(&conf),
            organizations: aws_sdk_organizations::Client::new(&conf),
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// From ready clients (tests build them with `aws-smithy-mocks`).
    pub fn from_clients(
        region: &str,
        ecs: aws_sdk_ecs::Client,
        iam: aws_sdk_iam::Client,
        ec2: aws_sdk_ec2::Client,
        sts: aws_sdk_sts::Client,
        guardduty: aws_sdk_guardduty::Client,
        organizations: aws_sdk_organizations::Client,
    ) -> Self {
        SdkAws {
            region: region.to_string(),
            ecs,
            iam,
            ec2,
            sts,
            guardduty,
            organizations,
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// Uses another identity for Organizations (`--org-profile`).
    pub fn with_organizations(mut self, config: &aws_config::SdkConfig) -> Self {
        self.organizations = aws_sdk_organizations::Client::new(config);
        self
    }

    /// Calls made so far, per API.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, api: &'static str) {
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(api).or_default() += 1;
        }
    }
}

/// Classifies an SDK error by its code.
fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(api: &'static str, err: E) -> AwsError {
    // Modeled errors carry their code in metadata; when it is missing, the variant name
    // (`AccessDeniedException(...)`) is the code.
    let code = err.code().map(str::to_string).unwrap_or_else(|| {
        let debug = format!("{err:?}");
        debug
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let message = err.message().map(str::to_string).unwrap_or_else(|| {
        if code.is_empty() {
            format!("{err:?}").chars().take(300).collect()
        } else {
            code.clone()
        }
    });
    let kind = match code.as_str() {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedException"
        | "AuthorizationError"
        | "AccessDeniedForDependencyException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken" => ErrorKind::AccessDenied,
        // ECS reports a missing resource as a `ClientException` whose message says so.
        "ClientException"
            if ["does not exist", "not found", "unable to describe"]
                .iter()
                .any(|m| message.to_ascii_lowercase().contains(m)) =>
        {
            ErrorKind::NotFound
        }
        "NoSuchEntity"
        | "NoSuchEntityException"
        | "ResourceNotFoundException"
        | "ClusterNotFoundException"
        | "ServiceNotFoundException" => ErrorKind::NotFound,
        // EC2: `InvalidGroup.NotFound`, `InvalidVpcEndpointId.NotFound`,
        // `InvalidPermission.NotFound`, `InvalidVpcID.NotFound`, ...
        c if c.starts_with("Invalid") && c.ends_with(".NotFound") => ErrorKind::NotFound,
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => ErrorKind::Throttled,
        "AWSOrganizationsNotInUseException" => ErrorKind::NotInOrganization,
        "DependencyViolation" => ErrorKind::InUse,
        _ => ErrorKind::Other,
    };
    AwsError { api, kind, message }
}

/// Keeps the body of a response as AWS sent it (a per-call interceptor): the documents are
/// kept whole, every field, not as the SDK's typed subset.
#[derive(Debug, Clone, Default)]
struct RawBody(std::sync::Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

impl RawBody {
    /// The response body as JSON.
    fn json(&self, api: &'static str) -> AwsResult<Value> {
        let bytes = self.0.lock().ok().and_then(|mut b| b.take());
        let error = |message: String| AwsError {
            api,
            kind: ErrorKind::Other,
            message,
        };
        let bytes = bytes.ok_or_else(|| error("the response body was not kept".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| error(format!("the response is not JSON: {e}")))
    }
}

/// Sends `self.0` as the request body instead of what the SDK serialized (set before signing,
/// so the signature covers it).
#[derive(Debug)]
struct JsonBody(Vec<u8>);

impl Intercept for JsonBody {
    fn name(&self) -> &'static str {
        "JsonBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        *request.body_mut() = SdkBody::from(self.0.clone());
        request
            .headers_mut()
            .insert("Content-Length", self.0.len().to_string());
        Ok(())
    }
}

macro_rules! call {
    ($self:ident, $api:literal, $fut:expr) => {{
        $self.count($api);
        $fut.await
            .map_err(|e| classify($api, e.into_service_error()))
    }};
}

/// Collects every page: `page(token)` returns one page's items and the next token.
async fn all_pages<T, F, Fut>(mut page: F) -> AwsResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = AwsResult<(Vec<T>, Option<String>)>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

mod ec2;
mod ecs;
mod guardduty;
mod iam;
mod organizations;
mod sts;
