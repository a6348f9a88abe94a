//! What moto cannot serve, against the real SDK path with `aws-smithy-mocks`: URL-encoded IAM
//! documents, AccessDenied, throttling, capacity-provider services, GuardDuty features.

use crate::support::block;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use fargate_rtm::aws::{Ec2, Ecs, ErrorKind, GuardDuty, Iam, Organizations, sdk::SdkAws};
use serde_json::json;

fn aws(
    ecs: Vec<aws_smithy_mocks::Rule>,
    iam: Vec<aws_smithy_mocks::Rule>,
    guardduty: Vec<aws_smithy_mocks::Rule>,
    organizations: Vec<aws_smithy_mocks::Rule>,
) -> SdkAws {
    aws_with_ec2(ecs, iam, vec![], guardduty, organizations)
}

fn aws_with_ec2(
    ecs: Vec<aws_smithy_mocks::Rule>,
    iam: Vec<aws_smithy_mocks::Rule>,
    ec2: Vec<aws_smithy_mocks::Rule>,
    guardduty: Vec<aws_smithy_mocks::Rule>,
    organizations: Vec<aws_smithy_mocks::Rule>,
) -> SdkAws {
    let retry = |c: aws_sdk_ecs::config::Builder| {
        c.retry_config(aws_sdk_ecs::config::retry::RetryConfig::standard().with_max_attempts(3))
    };
    SdkAws::from_clients(
        "us-east-1",
        mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &ecs, retry),
        mock_client!(aws_sdk_iam, RuleMode::MatchAny, &iam),
        mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &ec2),
        mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            &Vec::<aws_smithy_mocks::Rule>::new()
        ),
        mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, &guardduty),
        mock_client!(aws_sdk_organizations, RuleMode::MatchAny, &organizations),
    )
}

#[test]
fn iam_documents_are_percent_decoded() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}).to_string();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&doc, percent_encoding::NON_ALPHANUMERIC).to_string();
    let (e1, e2) = (encoded.clone(), encoded.clone());
    let iam = vec![
        mock!(aws_sdk_iam::Client::get_policy).then_output(|| {
            aws_sdk_iam::operation::get_policy::GetPolicyOutput::builder()
                .policy(aws_sdk_iam::types::Policy::builder().default_version_id("v3").build())
                .build()
        }),
        mock!(aws_sdk_iam::Client::get_policy_version).match_requests(|r| r.version_id() == Some("v3")).then_output(move || {
            aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput::builder()
                .policy_version(aws_sdk_iam::types::PolicyVersion::builder().document(e1.clone()).build())
                .build()
        }),
        mock!(aws_sdk_iam::Client::list_attached_role_policies)
            .then_output(|| aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput::builder().build()),
        mock!(aws_sdk_iam::Client::list_role_policies).then_output(|| {
            aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput::builder().policy_names("agent").build().unwrap()
        }),
        mock!(aws_sdk_iam::Client::get_role_policy).then_output(move || {
            aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput::builder()
                .role_name("r")
                .policy_name("agent")
                .policy_document(e2.clone())
                .build()
                .unwrap()
        }),
    ];
    let aws = aws(vec![], iam, vec![], vec![]);
    let managed = block(aws.managed_policy("arn:aws:iam::123456789012:policy/p")).unwrap();
    assert_eq!(managed.document["Statement"][0]["Action"], "ecr:*");
    let lists = block(aws.role_policies("r")).unwrap();
    assert_eq!(lists.inline[0].document["Statement"][0]["Action"], "ecr:*");
    assert_eq!(lists.inline[0].name, "inline policy `agent`");
    assert_eq!(aws.calls().get("iam:GetPolicyVersion"), Some(&1));
}

#[test]
fn access_denied_and_not_in_organization_are_classified() {
    let orgs = vec![mock!(aws_sdk_organizations::Client::describe_organization).then_error(|| {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError::AccessDeniedException(
            aws_sdk_organizations::types::error::AccessDeniedException::builder().message("not allowed").build(),
        )
    })];
    let gd = vec![
        mock!(aws_sdk_guardduty::Client::list_detectors).then_error(|| {
            aws_sdk_guardduty::operation::list_detectors::ListDetectorsError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("no guardduty")
                    .build(),
            )
        }),
    ];
    let aws = aws(vec![], vec![], gd, orgs);
    let e = block(aws.organization()).unwrap_err();
    assert_eq!(
        (e.kind, e.api),
        (
            ErrorKind::AccessDenied,
            "organizations:DescribeOrganization"
        )
    );
    let e = block(aws.detector()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert_eq!(
        e.to_string(),
        "`guardduty:ListDetectors`: access denied: no guardduty"
    );
}

#[test]
fn throttling_is_retried_then_reported() {
    let throttle = || {
        aws_sdk_ecs::operation::list_clusters::ListClustersError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("slow down")
                .build(),
        )
    };
    // Two throttles then success: the SDK's retry absorbs them.
    let ok = mock!(aws_sdk_ecs::Client::list_clusters)
        .sequence()
        .error(throttle)
        .times(2)
        .output(|| {
            aws_sdk_ecs::operation::list_clusters::ListClustersOutput::builder()
                .cluster_arns("arn:c")
                .build()
        })
        .build();
    let aws1 = aws(vec![ok], vec![], vec![], vec![]);
    assert_eq!(block(aws1.list_clusters()).unwrap(), ["arn:c"]);
    // Throttled on every attempt: reported as throttled, not as empty.
    let always = mock!(aws_sdk_ecs::Client::list_clusters)
        .sequence()
        .error(throttle)
        .times(10)
        .build();
    let aws2 = aws(vec![always], vec![], vec![], vec![]);
    let e = block(aws2.list_clusters()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
}

#[test]
fn capacity_provider_service_is_fargate_and_checked() {
    // The service as DescribeServices returns it on the wire: kept whole, every field.
    let body = json!({"services": [{
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/spot",
        "serviceName": "spot",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "platformVersion": "1.3.0",
        "desiredCount": 1,
        "availabilityZoneRebalancing": "ENABLED"
    }], "failures": []})
    .to_string();
    let ecs = vec![
        mock!(aws_sdk_ecs::Client::describe_services).then_http_response(move || {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(200).unwrap(),
                aws_smithy_types::body::SdkBody::from(body.clone()),
            )
        }),
    ];
    let aws = aws(ecs, vec![], vec![], vec![]);
    let services = block(aws.describe_services("prod", &["spot".into()])).unwrap();
    assert!(fargate_rtm::model::inventory::is_fargate(&services[0]));
    assert_eq!(
        services[0].json["availabilityZoneRebalancing"], "ENABLED",
        "a field the typed subset never had is kept"
    );
    let doc = fargate_rtm::model::parse(
        fargate_rtm::model::Origin::Stdin,
        services[0].json.to_string().as_bytes(),
    )
    .unwrap();
    let plan = fargate_rtm::plan::plan_document(&doc, &Default::default()).unwrap();
    assert_eq!(plan.findings[0].check.slug, "platform-version-too-old");
}

#[test]
fn guardduty_features_are_read() {
    use aws_sdk_guardduty::types::{
        DetectorAdditionalConfigurationResult, DetectorFeatureConfigurationResult,
        DetectorFeatureResult, FeatureAdditionalConfiguration, FeatureStatus,
    };
    let gd = vec![
        mock!(aws_sdk_guardduty::Client::list_detectors).then_output(|| {
            aws_sdk_guardduty::operation::list_detectors::ListDetectorsOutput::builder()
                .detector_ids("d-1")
                .build()
        }),
        mock!(aws_sdk_guardduty::Client::get_detector).then_output(|| {
            aws_sdk_guardduty::operation::get_detector::GetDetectorOutput::builder()
                .service_role("r")
                .status(aws_sdk_guardduty::types::DetectorStatus::Enabled)
                .features(
                    DetectorFeatureConfigurationResult::builder()
                        .name(DetectorFeatureResult::RuntimeMonitoring)
                        .status(FeatureStatus::Enabled)
                        .additional_configuration(
                            DetectorAdditionalConfigurationResult::builder()
                                .name(FeatureAdditionalConfiguration::EcsFargateAgentManagement)
                                .status(FeatureStatus::Disabled)
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
    ];
    let aws = aws(vec![], vec![], gd, vec![]);
    let d = block(aws.detector()).unwrap().unwrap();
    assert!(d.runtime_monitoring && !d.ecs_fargate_agent_management);
}

#[test]
fn ecs_client_exceptions_are_not_found_only_when_they_say_so() {
    let err = |msg: &'static str| {
        move || {
            aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("ClientException")
                    .message(msg)
                    .build(),
            )
        }
    };
    let missing = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some("gone"))
        .then_error(err("Unable to describe task definition."));
    let invalid = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some("bad"))
        .then_error(err("Invalid revision number."));
    let aws = aws(vec![missing, invalid], vec![], vec![], vec![]);
    assert_eq!(
        block(aws.describe_task_definition("gone"))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        block(aws.describe_task_definition("bad")).unwrap_err().kind,
        ErrorKind::Other
    );
}

#[test]
fn every_page_is_read_and_counted() {
    use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
    let first = mock!(aws_sdk_ecs::Client::list_clusters)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListClustersOutput::builder()
                .cluster_arns("a")
                .cluster_arns("b")
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_ecs::Client::list_clusters)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| ListClustersOutput::builder().cluster_arns("c").build());
    let aws = aws(vec![first, second], vec![], vec![], vec![]);
    assert_eq!(block(aws.list_clusters()).unwrap(), ["a", "b", "c"]);
    assert_eq!(aws.calls().get("ecs:ListClusters"), Some(&2));
}

#[test]
fn ec2_not_found_codes_and_refused_endpoint_deletions() {
    use aws_sdk_ec2::operation::delete_vpc_endpoints::DeleteVpcEndpointsOutput;
    use aws_sdk_ec2::types::{UnsuccessfulItem, UnsuccessfulItemError};
    let gone_group = mock!(aws_sdk_ec2::Client::delete_security_group).then_error(|| {
        aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("InvalidGroup.NotFound")
                .message("The security group 'sg-1' does not exist")
                .build(),
        )
    });
    let refused = |code: &'static str| {
        move || {
            DeleteVpcEndpointsOutput::builder()
                .unsuccessful(
                    UnsuccessfulItem::builder()
                        .resource_id("vpce-1")
                        .error(
                            UnsuccessfulItemError::builder()
                                .code(code)
                                .message("no")
                                .build(),
                        )
                        .build(),
                )
                .build()
        }
    };
    let in_use = mock!(aws_sdk_ec2::Client::delete_vpc_endpoints)
        .match_requests(|r| r.vpc_endpoint_ids() == ["vpce-1"])
        .then_output(refused("OperationNotPermitted"));
    let gone = mock!(aws_sdk_ec2::Client::delete_vpc_endpoints)
        .match_requests(|r| r.vpc_endpoint_ids() == ["vpce-2"])
        .then_output(refused("InvalidVpcEndpointId.NotFound"));
    let aws = aws_with_ec2(
        vec![],
        vec![],
        vec![gone_group, in_use, gone],
        vec![],
        vec![],
    );
    assert_eq!(
        block(aws.delete_security_group("sg-1")).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let e = block(aws.delete_vpc_endpoint("vpce-1")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other, "{e}");
    assert!(e.message.contains("OperationNotPermitted"), "{e}");
    assert_eq!(
        block(aws.delete_vpc_endpoint("vpce-2")).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn endpoints_are_created_with_an_idempotency_token_and_their_tags() {
    use aws_sdk_ec2::operation::create_vpc_endpoint::CreateVpcEndpointOutput;
    let create = mock!(aws_sdk_ec2::Client::create_vpc_endpoint)
        .match_requests(|r| {
            let tagged = r.tag_specifications().iter().any(|t| {
                t.resource_type() == Some(&aws_sdk_ec2::types::ResourceType::VpcEndpoint)
                    && t.tags()
                        .iter()
                        .any(|t| t.key() == Some("fargate-rtm:run") && t.value() == Some("run-1"))
            });
            tagged
                && r.client_token()
                    .is_some_and(|t| t.starts_with("fargate-rtm-") && t.len() <= 64)
        })
        .then_output(|| {
            CreateVpcEndpointOutput::builder()
                .vpc_endpoint(
                    aws_sdk_ec2::types::VpcEndpoint::builder()
                        .vpc_endpoint_id("vpce-1")
                        .build(),
                )
                .build()
        });
    let aws = aws_with_ec2(vec![], vec![], vec![create], vec![], vec![]);
    let spec = fargate_rtm::aws::EndpointSpec {
        vpc_id: "vpc-1".into(),
        service_name: "com.amazonaws.us-east-1.ecr.api".into(),
        interface: true,
        subnet_ids: vec!["subnet-1".into()],
        security_group_ids: vec!["sg-1".into()],
        route_table_ids: vec![],
        private_dns: true,
        tags: fargate_rtm::apply::account::created_tags("run-1"),
    };
    assert_eq!(block(aws.create_vpc_endpoint(&spec)).unwrap(), "vpce-1");
}
