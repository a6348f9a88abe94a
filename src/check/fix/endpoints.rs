//! The network fix shared by the ECR path checks: the VPC endpoints the agent's image pull
//! needs (`ecr.api`, `ecr.dkr` with private DNS, the `s3` gateway on the subnets' route tables)
//! and a security group that admits HTTPS from the VPC to the interface endpoints.

use crate::operation::Operation;

/// What is missing on a subnet's path to ECR.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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

/// The operations that create what is missing, turn on private DNS on an existing interface
/// endpoint, and add route tables to an existing gateway endpoint.
pub fn create(
    region: &str,
    vpc_id: &str,
    cidrs: &[String],
    needs: &[Missing],
    interface_subnets: &[String],
    route_tables: &[String],
) -> Vec<Operation> {
    let mut ops = Vec::new();
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
            Missing::PrivateDns(id) => ops.push(Operation::ModifyVpcEndpoint {
                vpc_id: vpc_id.to_string(),
                vpc_endpoint_id: id.clone(),
                add_route_table_ids: Vec::new(),
                remove_route_table_ids: Vec::new(),
                private_dns_enabled: Some(true),
            }),
            Missing::GatewayRoute {
                endpoint,
                route_table,
            } => {
                // One call per endpoint, with every route table it lacks.
                let existing = ops.iter_mut().find_map(|o| match o {
                    Operation::ModifyVpcEndpoint {
                        vpc_endpoint_id,
                        add_route_table_ids,
                        ..
                    } if vpc_endpoint_id == endpoint => Some(add_route_table_ids),
                    _ => None,
                });
                match existing {
                    Some(rts) if !rts.contains(route_table) => rts.push(route_table.clone()),
                    Some(_) => {}
                    None => ops.push(Operation::ModifyVpcEndpoint {
                        vpc_id: vpc_id.to_string(),
                        vpc_endpoint_id: endpoint.clone(),
                        add_route_table_ids: vec![route_table.clone()],
                        remove_route_table_ids: Vec::new(),
                        private_dns_enabled: None,
                    }),
                }
            }
        }
    }
    ops
}
