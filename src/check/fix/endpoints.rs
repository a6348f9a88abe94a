//! The network fix shared by the ECR path checks: the VPC endpoints the agent's image pull
//! needs (`ecr.api`, `ecr.dkr` with private DNS, the `s3` gateway on the subnets' route tables)
//! and a security group that admits HTTPS from the VPC to the interface endpoints.

use crate::operation::Operation;

/// What is missing on a subnet's path to ECR.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Missing {
    Interface(&'static str),
    PrivateDns(String),
    Gateway,
    GatewayRoute {
        endpoint: String,
        route_table: String,
    },
}

/// Placeholder for the security group this plan creates, in `CreateVpcEndpoint`.
pub const NEW_GROUP: &str = "(new security group)";

/// How a missing piece reads in a message.
pub fn describe(m: &Missing) -> String {
    match m {
        Missing::Interface(s) => format!("`{s}` endpoint"),
        Missing::PrivateDns(id) => format!("private DNS on `{id}`"),
        Missing::Gateway => "`s3` gateway endpoint".into(),
        Missing::GatewayRoute {
            endpoint,
            route_table,
        } => format!("route table `{route_table}` on `{endpoint}`"),
    }
}

/// The operations that create what is missing, and what a person has to do for the rest
/// (private DNS on an existing endpoint, a route table association).
pub fn create(
    region: &str,
    vpc_id: &str,
    cidrs: &[String],
    needs: &[Missing],
    interface_subnets: &[String],
    route_tables: &[String],
) -> (Vec<Operation>, Vec<String>) {
    let mut ops = Vec::new();
    let mut manual = Vec::new();
    if needs.iter().any(|m| matches!(m, Missing::Interface(_))) {
        ops.push(Operation::CreateSecurityGroup {
            vpc_id: vpc_id.to_string(),
            group_name: format!("fargate-rtm-ecr-endpoints-{vpc_id}"),
            description: "HTTPS from the VPC to the ECR interface endpoints (fargate-rtm)".into(),
        });
        ops.push(Operation::AuthorizeSecurityGroupIngress {
            vpc_id: vpc_id.to_string(),
            group_id: NEW_GROUP.into(),
            cidrs: cidrs.to_vec(),
        });
    }
    for m in needs {
        match m {
            Missing::Interface(suffix) => ops.push(Operation::CreateVpcEndpoint {
                vpc_id: vpc_id.to_string(),
                service_name: format!("com.amazonaws.{region}.{suffix}"),
                vpc_endpoint_type: "Interface".into(),
                subnet_ids: interface_subnets.to_vec(),
                security_group_ids: vec![NEW_GROUP.into()],
                route_table_ids: Vec::new(),
                private_dns_enabled: true,
            }),
            Missing::Gateway => ops.push(Operation::CreateVpcEndpoint {
                vpc_id: vpc_id.to_string(),
                service_name: format!("com.amazonaws.{region}.s3"),
                vpc_endpoint_type: "Gateway".into(),
                subnet_ids: Vec::new(),
                security_group_ids: Vec::new(),
                route_table_ids: route_tables.to_vec(),
                private_dns_enabled: false,
            }),
            Missing::PrivateDns(id) => manual.push(format!("enable private DNS on `{id}`")),
            Missing::GatewayRoute {
                endpoint,
                route_table,
            } => manual.push(format!("associate `{route_table}` with `{endpoint}`")),
        }
    }
    (ops, manual)
}
