//! Live fixes as data: the AWS operations a plan would carry out, with everything needed to
//! review and to perform them.

use json_patch::PatchOperation;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One AWS operation. Serialised with `"operation": "iam:PutRolePolicy"` and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation")]
pub enum Operation {
    #[serde(rename = "iam:CreateRole")]
    CreateRole {
        role_name: String,
        assume_role_policy: Value,
        attach_policy_arns: Vec<String>,
    },
    #[serde(rename = "iam:PutRolePolicy")]
    PutRolePolicy {
        role_name: String,
        policy_name: String,
        policy_document: Value,
    },
    #[serde(rename = "iam:AttachRolePolicy")]
    AttachRolePolicy {
        role_name: String,
        policy_arn: String,
    },
    #[serde(rename = "ec2:CreateSecurityGroup")]
    CreateSecurityGroup {
        vpc_id: String,
        group_name: String,
        description: String,
    },
    /// HTTPS (TCP 443) in from each CIDR, on a group of the VPC (`NEW_GROUP` stands for the
    /// group this plan creates in `vpc_id`).
    #[serde(rename = "ec2:AuthorizeSecurityGroupIngress")]
    AuthorizeSecurityGroupIngress {
        vpc_id: String,
        group_id: String,
        cidrs: Vec<String>,
    },
    #[serde(rename = "ec2:CreateVpcEndpoint")]
    CreateVpcEndpoint {
        vpc_id: String,
        service_name: String,
        vpc_endpoint_type: String,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        subnet_ids: Vec<String>,
        /// Security group ids; `"(new)"` stands for the group created by this plan.
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        security_group_ids: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        route_table_ids: Vec<String>,
        private_dns_enabled: bool,
    },
    #[serde(rename = "ec2:ModifyVpcAttribute")]
    ModifyVpcAttribute {
        vpc_id: String,
        attribute: String,
        value: bool,
    },
    /// Route tables added to (removed from) a gateway endpoint; private DNS set on an interface
    /// endpoint.
    #[serde(rename = "ec2:ModifyVpcEndpoint")]
    ModifyVpcEndpoint {
        vpc_id: String,
        vpc_endpoint_id: String,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        add_route_table_ids: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        remove_route_table_ids: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        private_dns_enabled: Option<bool>,
    },
    #[serde(rename = "ec2:AuthorizeSecurityGroupEgress")]
    AuthorizeSecurityGroupEgress {
        group_id: String,
        protocol: String,
        port: i32,
        /// A prefix list id (`pl-…`) or an IPv4 CIDR.
        #[serde(alias = "prefix_list_id")]
        destination: String,
    },
    #[serde(rename = "ecs:RegisterTaskDefinition")]
    RegisterTaskDefinition {
        /// The revision the new one is copied from; it is never changed or deregistered.
        from: String,
        family: String,
        /// RFC 6902 patch on the task definition JSON (shown as a diff).
        patch: Vec<PatchOperation>,
    },
    #[serde(rename = "iam:DeleteRole")]
    DeleteRole {
        role_name: String,
        detach_policy_arns: Vec<String>,
    },
    #[serde(rename = "iam:DeleteRolePolicy")]
    DeleteRolePolicy {
        role_name: String,
        policy_name: String,
    },
    #[serde(rename = "iam:DetachRolePolicy")]
    DetachRolePolicy {
        role_name: String,
        policy_arn: String,
    },
    #[serde(rename = "ec2:DeleteSecurityGroup")]
    DeleteSecurityGroup { group_id: String },
    #[serde(rename = "ec2:DeleteVpcEndpoints")]
    DeleteVpcEndpoint { vpc_endpoint_id: String },
    #[serde(rename = "ec2:RevokeSecurityGroupEgress")]
    RevokeSecurityGroupEgress {
        group_id: String,
        protocol: String,
        port: i32,
        /// A prefix list id (`pl-…`) or an IPv4 CIDR.
        #[serde(alias = "prefix_list_id")]
        destination: String,
    },
    #[serde(rename = "ec2:RevokeSecurityGroupIngress")]
    RevokeSecurityGroupIngress {
        group_id: String,
        cidrs: Vec<String>,
    },
    #[serde(rename = "ecs:DeregisterTaskDefinition")]
    DeregisterTaskDefinition { task_definition: String },
    #[serde(rename = "ecs:UpdateService")]
    UpdateService {
        cluster: String,
        service: String,
        /// The task definition ARN to set (filled in at apply time when `new_revision_of`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        task_definition: Option<String>,
        /// Move the service to the revision this plan registers from that source revision
        /// (its ARN): each service gets the revision made from the one it runs.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        new_revision_of: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        platform_version: Option<String>,
        force_new_deployment: bool,
    },
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::CreateRole { .. } => "iam:CreateRole",
            Operation::PutRolePolicy { .. } => "iam:PutRolePolicy",
            Operation::AttachRolePolicy { .. } => "iam:AttachRolePolicy",
            Operation::CreateSecurityGroup { .. } => "ec2:CreateSecurityGroup",
            Operation::AuthorizeSecurityGroupIngress { .. } => "ec2:AuthorizeSecurityGroupIngress",
            Operation::RevokeSecurityGroupIngress { .. } => "ec2:RevokeSecurityGroupIngress",
            Operation::CreateVpcEndpoint { .. } => "ec2:CreateVpcEndpoint",
            Operation::ModifyVpcAttribute { .. } => "ec2:ModifyVpcAttribute",
            Operation::ModifyVpcEndpoint { .. } => "ec2:ModifyVpcEndpoint",
            Operation::AuthorizeSecurityGroupEgress { .. } => "ec2:AuthorizeSecurityGroupEgress",
            Operation::RegisterTaskDefinition { .. } => "ecs:RegisterTaskDefinition",
            Operation::UpdateService { .. } => "ecs:UpdateService",
            Operation::DeleteRole { .. } => "iam:DeleteRole",
            Operation::DeleteRolePolicy { .. } => "iam:DeleteRolePolicy",
            Operation::DetachRolePolicy { .. } => "iam:DetachRolePolicy",
            Operation::DeleteSecurityGroup { .. } => "ec2:DeleteSecurityGroup",
            Operation::DeleteVpcEndpoint { .. } => "ec2:DeleteVpcEndpoints",
            Operation::RevokeSecurityGroupEgress { .. } => "ec2:RevokeSecurityGroupEgress",
            Operation::DeregisterTaskDefinition { .. } => "ecs:DeregisterTaskDefinition",
        }
    }

    /// An operation the planner makes for a finding (never an inverse: no delete, detach,
    /// revoke or deregister comes from a plan).
    pub fn is_planned_kind(&self) -> bool {
        matches!(
            self,
            Operation::CreateRole { .. }
                | Operation::PutRolePolicy { .. }
                | Operation::AttachRolePolicy { .. }
                | Operation::CreateSecurityGroup { .. }
                | Operation::AuthorizeSecurityGroupIngress { .. }
                | Operation::CreateVpcEndpoint { .. }
                | Operation::ModifyVpcAttribute { .. }
                | Operation::ModifyVpcEndpoint { .. }
                | Operation::AuthorizeSecurityGroupEgress { .. }
                | Operation::RegisterTaskDefinition { .. }
                | Operation::UpdateService { .. }
        )
    }

    /// IAM is global: the same IAM operation planned from two regions is one change. Every
    /// other operation belongs to its region.
    pub fn is_global(&self) -> bool {
        matches!(
            self,
            Operation::CreateRole { .. }
                | Operation::PutRolePolicy { .. }
                | Operation::AttachRolePolicy { .. }
                | Operation::DeleteRole { .. }
                | Operation::DeleteRolePolicy { .. }
                | Operation::DetachRolePolicy { .. }
        )
    }

    /// Apply order of PRODUCT.md: IAM, then network, then task definitions, then services.
    pub fn stage(&self) -> u8 {
        match self {
            // A role before its policies.
            Operation::CreateRole { .. } => 0,
            Operation::PutRolePolicy { .. } | Operation::AttachRolePolicy { .. } => 1,
            // VPC DNS before endpoints with private DNS (AWS rejects them otherwise); a
            // security group before its rules and before the endpoints that use it.
            Operation::ModifyVpcAttribute { .. } => 2,
            Operation::CreateSecurityGroup { .. } => 3,
            Operation::AuthorizeSecurityGroupIngress { .. }
            | Operation::AuthorizeSecurityGroupEgress { .. } => 4,
            // Private DNS on an existing endpoint needs the VPC's DNS attributes first.
            Operation::CreateVpcEndpoint { .. } | Operation::ModifyVpcEndpoint { .. } => 5,
            Operation::RegisterTaskDefinition { .. } => 6,
            Operation::UpdateService { .. } => 7,
            // Inverses (rollback runs them newest first, so their stage is informational).
            Operation::DeleteRole { .. } => 0,
            Operation::DeleteRolePolicy { .. } | Operation::DetachRolePolicy { .. } => 1,
            Operation::DeleteSecurityGroup { .. } => 3,
            Operation::RevokeSecurityGroupIngress { .. }
            | Operation::RevokeSecurityGroupEgress { .. } => 4,
            Operation::DeleteVpcEndpoint { .. } => 5,
            Operation::DeregisterTaskDefinition { .. } => 6,
        }
    }
}
