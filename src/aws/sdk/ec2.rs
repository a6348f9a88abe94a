//! Ec2 through the SDK.

use super::*;

/// `protocol`/`port` to `destination`: a prefix list id (`pl-…`) or an IPv4 CIDR.
fn egress_rule(protocol: &str, port: i32, destination: &str) -> aws_sdk_ec2::types::IpPermission {
    let rule = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol(protocol)
        .from_port(port)
        .to_port(port);
    if destination.starts_with("pl-") {
        rule.prefix_list_ids(
            aws_sdk_ec2::types::PrefixListId::builder()
                .prefix_list_id(destination)
                .description("S3 for the GuardDuty agent image")
                .build(),
        )
    } else {
        rule.ip_ranges(
            aws_sdk_ec2::types::IpRange::builder()
                .cidr_ip(destination)
                .description("HTTPS to the ECR endpoints for the GuardDuty agent")
                .build(),
        )
    }
    .build()
}

fn sg_rule(p: &aws_sdk_ec2::types::IpPermission) -> SgRule {
    SgRule {
        protocol: p.ip_protocol().unwrap_or("-1").into(),
        from_port: p.from_port().unwrap_or(-1),
        to_port: p.to_port().unwrap_or(-1),
        cidrs: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .map(str::to_string)
            .collect(),
        prefix_lists: p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| r.prefix_list_id())
            .map(str::to_string)
            .collect(),
        groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|r| r.group_id())
            .map(str::to_string)
            .collect(),
    }
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// TCP 443 from each CIDR.
fn https_from(cidrs: &[String]) -> aws_sdk_ec2::types::IpPermission {
    aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .set_ip_ranges(Some(
            cidrs
                .iter()
                .map(|c| {
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip(c)
                        .description("HTTPS to ECR endpoints")
                        .build()
                })
                .collect(),
        ))
        .build()
}

/// An idempotency token for one create call: built once, so the SDK's retries of that call
/// send the same token and AWS creates the resource at most once.
fn client_token(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let digest = Sha256::digest(format!("{}|{now}|{}", parts.join("|"), std::process::id()));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("fargate-rtm-{}", &hex[..32])
}

/// Tag specifications for a resource the tool creates.
fn tag_specification(
    kind: aws_sdk_ec2::types::ResourceType,
    tags: &Tags,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

impl SdkAws {
    /// `DescribeVpcEndpoints` with `filters`, every page.
    async fn endpoints(&self, filters: Vec<Filter>) -> AwsResult<Vec<VpcEndpoint>> {
        let filters = &filters;
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeVpcEndpoints",
                self.ec2
                    .describe_vpc_endpoints()
                    .set_filters(Some(filters.clone()))
                    .set_next_token(token)
                    .send()
            )?;
            let mut out = Vec::new();
            for e in page.vpc_endpoints() {
                // moto reports `available`, which this SDK version parses as Unknown: only
                // states known to be unusable are excluded.
                let state = e
                    .state()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default();
                out.push(VpcEndpoint {
                    id: e.vpc_endpoint_id().unwrap_or_default().into(),
                    vpc_id: e.vpc_id().unwrap_or_default().into(),
                    service_name: e.service_name().unwrap_or_default().into(),
                    kind: e
                        .vpc_endpoint_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    private_dns: e.private_dns_enabled().unwrap_or(false),
                    route_table_ids: e.route_table_ids().to_vec(),
                    subnet_ids: e.subnet_ids().to_vec(),
                    security_group_ids: e
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id())
                        .map(str::to_string)
                        .collect(),
                    usable: !matches!(
                        state.as_str(),
                        "deleted" | "deleting" | "failed" | "rejected" | "expired"
                    ),
                    policy: e.policy_document().map(|d| {
                        policy::parse_document(d)
                            .filter(Value::is_object)
                            .unwrap_or(Value::Null)
                    }),
                    tags: e
                        .tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                        .collect(),
                });
            }
            Ok((out, page.next_token().map(str::to_string)))
        })
        .await
    }
}

impl Ec2 for SdkAws {
    async fn describe_subnets(&self) -> AwsResult<Vec<Subnet>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeSubnets",
                self.ec2
                    .describe_subnets()
                    .max_results(1000)
                    .set_next_token(token)
                    .send()
            )?;
            let subnets = page
                .subnets()
                .iter()
                .map(|s| Subnet {
                    id: s.subnet_id().unwrap_or_default().into(),
                    vpc_id: s.vpc_id().unwrap_or_default().into(),
                    availability_zone: s.availability_zone().unwrap_or_default().into(),
                    cidr: s.cidr_block().unwrap_or_default().into(),
                    owner_id: s.owner_id().unwrap_or_default().into(),
                })
                .collect();
            Ok((subnets, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_nat_gateways(&self, vpc_ids: &[String]) -> AwsResult<Vec<NatGateway>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeNatGateways",
                self.ec2
                    .describe_nat_gateways()
                    .filter(filter("vpc-id", vpc_ids))
                    .set_next_token(token)
                    .send()
            )?;
            let nats = page
                .nat_gateways()
                .iter()
                .map(|n| NatGateway {
                    id: n.nat_gateway_id().unwrap_or_default().into(),
                    vpc_id: n.vpc_id().unwrap_or_default().into(),
                    subnet_id: n.subnet_id().unwrap_or_default().into(),
                    // AWS's default when the field is absent.
                    connectivity: n
                        .connectivity_type()
                        .map_or("public".into(), |c| c.as_str().to_ascii_lowercase()),
                    state: n
                        .state()
                        .map(|s| s.as_str().to_ascii_lowercase())
                        .unwrap_or_default(),
                })
                .collect();
            Ok((nats, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_network_acls(&self, vpc_ids: &[String]) -> AwsResult<Vec<NetworkAcl>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeNetworkAcls",
                self.ec2
                    .describe_network_acls()
                    .filters(filter("vpc-id", vpc_ids))
                    .set_next_token(token)
                    .send()
            )?;
            let acls = page
                .network_acls()
                .iter()
                .map(|n| NetworkAcl {
                    id: n.network_acl_id().unwrap_or_default().into(),
                    vpc_id: n.vpc_id().unwrap_or_default().into(),
                    default: n.is_default().unwrap_or(false),
                    subnet_ids: n
                        .associations()
                        .iter()
                        .filter_map(|a| a.subnet_id())
                        .map(str::to_string)
                        .collect(),
                    // IPv4 rules only: the agent's path is evaluated for IPv4.
                    entries: n
                        .entries()
                        .iter()
                        .filter_map(|e| {
                            Some(AclEntry {
                                rule_number: e.rule_number()?,
                                egress: e.egress().unwrap_or(false),
                                protocol: e.protocol().unwrap_or("-1").into(),
                                ports: e.port_range().and_then(|p| Some((p.from()?, p.to()?))),
                                cidr: e.cidr_block()?.into(),
                                allow: e
                                    .rule_action()
                                    .is_some_and(|a| a.as_str().eq_ignore_ascii_case("allow")),
                            })
                        })
                        .collect(),
                })
                .collect();
            Ok((acls, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_route_tables(&self, vpc_ids: &[String]) -> AwsResult<Vec<RouteTable>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeRouteTables",
                self.ec2
                    .describe_route_tables()
                    .filters(filter("vpc-id", vpc_ids))
                    .set_next_token(token)
                    .send()
            )?;
            let mut out = Vec::new();
            for rt in page.route_tables() {
                let assoc = rt.associations();
                out.push(RouteTable {
                    id: rt.route_table_id().unwrap_or_default().into(),
                    vpc_id: rt.vpc_id().unwrap_or_default().into(),
                    main: assoc.iter().any(|a| a.main() == Some(true)),
                    subnet_ids: assoc
                        .iter()
                        .filter_map(|a| a.subnet_id())
                        .map(str::to_string)
                        .collect(),
                    routes: rt
                        .routes()
                        .iter()
                        .map(|r| Route {
                            destination: r
                                .destination_cidr_block()
                                .or(r.destination_prefix_list_id())
                                .or(r.destination_ipv6_cidr_block())
                                .unwrap_or_default()
                                .into(),
                            target: r
                                .gateway_id()
                                .or(r.nat_gateway_id())
                                .or(r.transit_gateway_id())
                                .or(r.network_interface_id())
                                .or(r.vpc_peering_connection_id())
                                .or(r.instance_id())
                                .or(r.core_network_arn())
                                .or(r.local_gateway_id())
                                .or(r.carrier_gateway_id())
                                .or(r.egress_only_internet_gateway_id())
                                .unwrap_or_default()
                                .into(),
                            active: r.state().is_none_or(|s| s.as_str() != "blackhole"),
                        })
                        .collect(),
                });
            }
            Ok((out, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_vpc_endpoints(&self, vpc_ids: &[String]) -> AwsResult<Vec<VpcEndpoint>> {
        self.endpoints(vec![filter("vpc-id", vpc_ids)]).await
    }

    async fn describe_vpcs(&self, ids: &[String]) -> AwsResult<Vec<Vpc>> {
        let out = call!(
            self,
            "ec2:DescribeVpcs",
            self.ec2
                .describe_vpcs()
                .set_vpc_ids(Some(ids.to_vec()))
                .send()
        )?;
        let mut vpcs = Vec::new();
        for v in out.vpcs() {
            let id = v.vpc_id().unwrap_or_default().to_string();
            let attr = |a: aws_sdk_ec2::types::VpcAttributeName| {
                self.ec2
                    .describe_vpc_attribute()
                    .vpc_id(&id)
                    .attribute(a)
                    .send()
            };
            let support = call!(
                self,
                "ec2:DescribeVpcAttribute",
                attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
            )?;
            let hostnames = call!(
                self,
                "ec2:DescribeVpcAttribute",
                attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            )?;
            let primary = v.cidr_block().unwrap_or_default();
            vpcs.push(Vpc {
                cidr: primary.into(),
                secondary_cidrs: v
                    .cidr_block_association_set()
                    .iter()
                    .filter(|a| {
                        a.cidr_block_state().and_then(|s| s.state())
                            == Some(&aws_sdk_ec2::types::VpcCidrBlockStateCode::Associated)
                    })
                    .filter_map(|a| a.cidr_block())
                    .filter(|c| *c != primary)
                    .map(str::to_string)
                    .collect(),
                dns_support: support
                    .enable_dns_support()
                    .and_then(|a| a.value())
                    .unwrap_or(false),
                dns_hostnames: hostnames
                    .enable_dns_hostnames()
                    .and_then(|a| a.value())
                    .unwrap_or(false),
                id,
            });
        }
        Ok(vpcs)
    }

    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        let out = call!(
            self,
            "ec2:DescribeSecurityGroups",
            self.ec2
                .describe_security_groups()
                .set_group_ids(Some(ids.to_vec()))
                .send()
        )?;
        Ok(out
            .security_groups()
            .iter()
            .map(|g| SecurityGroup {
                id: g.group_id().unwrap_or_default().into(),
                vpc_id: g.vpc_id().unwrap_or_default().into(),
                ingress: g.ip_permissions().iter().map(sg_rule).collect(),
                egress: g.ip_permissions_egress().iter().map(sg_rule).collect(),
            })
            .collect())
    }

    async fn s3_prefix_list(&self) -> AwsResult<Option<String>> {
        let name = format!("com.amazonaws.{}.s3", self.region);
        let out = call!(
            self,
            "ec2:DescribeManagedPrefixLists",
            self.ec2
                .describe_managed_prefix_lists()
                .filters(filter("prefix-list-name", &[name]))
                .send()
        )?;
        Ok(out
            .prefix_lists()
            .first()
            .and_then(|p| p.prefix_list_id())
            .map(str::to_string))
    }

    async fn create_security_group(
        &self,
        vpc: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<String> {
        let out = call!(
            self,
            "ec2:CreateSecurityGroup",
            self.ec2
                .create_security_group()
                .vpc_id(vpc)
                .group_name(name)
                .description(description)
                .tag_specifications(tag_specification(
                    aws_sdk_ec2::types::ResourceType::SecurityGroup,
                    tags
                ))
                .send()
        )?;
        Ok(out.group_id().unwrap_or_default().to_string())
    }

    async fn security_groups_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<String>> {
        let filters = vec![
            filter("vpc-id", &[vpc.to_string()]),
            filter(&format!("tag:{key}"), &[value.to_string()]),
        ];
        let filters = &filters;
        all_pages(|token| async move {
            let page = call!(
                self,
                "ec2:DescribeSecurityGroups",
                self.ec2
                    .describe_security_groups()
                    .set_filters(Some(filters.clone()))
                    .set_next_token(token)
                    .send()
            )?;
            let ids = page
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect();
            Ok((ids, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn vpc_endpoints_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<VpcEndpoint>> {
        self.endpoints(vec![
            filter("vpc-id", &[vpc.to_string()]),
            filter(&format!("tag:{key}"), &[value.to_string()]),
        ])
        .await
    }

    async fn authorize_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()> {
        call!(
            self,
            "ec2:AuthorizeSecurityGroupIngress",
            self.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(https_from(cidrs))
                .send()
        )?;
        Ok(())
    }

    async fn revoke_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()> {
        call!(
            self,
            "ec2:RevokeSecurityGroupIngress",
            self.ec2
                .revoke_security_group_ingress()
                .group_id(group)
                .ip_permissions(https_from(cidrs))
                .send()
        )?;
        Ok(())
    }

    async fn delete_security_group(&self, id: &str) -> AwsResult<()> {
        call!(
            self,
            "ec2:DeleteSecurityGroup",
            self.ec2.delete_security_group().group_id(id).send()
        )?;
        Ok(())
    }

    async fn create_vpc_endpoint(&self, spec: &EndpointSpec) -> AwsResult<String> {
        let kind = if spec.interface {
            aws_sdk_ec2::types::VpcEndpointType::Interface
        } else {
            aws_sdk_ec2::types::VpcEndpointType::Gateway
        };
        let mut req = self
            .ec2
            .create_vpc_endpoint()
            .client_token(client_token(&[&spec.vpc_id, &spec.service_name]))
            .vpc_id(&spec.vpc_id)
            .service_name(&spec.service_name)
            .vpc_endpoint_type(kind)
            .tag_specifications(tag_specification(
                aws_sdk_ec2::types::ResourceType::VpcEndpoint,
                &spec.tags,
            ));
        if spec.interface {
            req = req
                .set_subnet_ids(Some(spec.subnet_ids.clone()))
                .set_security_group_ids(Some(spec.security_group_ids.clone()))
                .private_dns_enabled(spec.private_dns);
        } else {
            req = req.set_route_table_ids(Some(spec.route_table_ids.clone()));
        }
        let out = call!(self, "ec2:CreateVpcEndpoint", req.send())?;
        Ok(out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .unwrap_or_default()
            .to_string())
    }

    async fn modify_vpc_endpoint(
        &self,
        id: &str,
        add_route_tables: &[String],
        remove_route_tables: &[String],
        private_dns: Option<bool>,
    ) -> AwsResult<()> {
        let mut req = self.ec2.modify_vpc_endpoint().vpc_endpoint_id(id);
        if !add_route_tables.is_empty() {
            req = req.set_add_route_table_ids(Some(add_route_tables.to_vec()));
        }
        if !remove_route_tables.is_empty() {
            req = req.set_remove_route_table_ids(Some(remove_route_tables.to_vec()));
        }
        if let Some(on) = private_dns {
            req = req.private_dns_enabled(on);
        }
        call!(self, "ec2:ModifyVpcEndpoint", req.send())?;
        Ok(())
    }

    async fn delete_vpc_endpoint(&self, id: &str) -> AwsResult<()> {
        let out = call!(
            self,
            "ec2:DeleteVpcEndpoints",
            self.ec2.delete_vpc_endpoints().vpc_endpoint_ids(id).send()
        )?;
        // A refused deletion comes back in `Unsuccessful`, not as an error.
        match out.unsuccessful().first().and_then(|u| u.error()) {
            None => Ok(()),
            Some(e) => {
                let code = e.code().unwrap_or_default();
                Err(AwsError {
                    api: "ec2:DeleteVpcEndpoints",
                    kind: if code.ends_with(".NotFound") {
                        ErrorKind::NotFound
                    } else {
                        ErrorKind::Other
                    },
                    message: format!("`{id}`: {code}: {}", e.message().unwrap_or_default()),
                })
            }
        }
    }

    async fn modify_vpc_attribute(&self, vpc: &str, attribute: &str, value: bool) -> AwsResult<()> {
        let v = aws_sdk_ec2::types::AttributeBooleanValue::builder()
            .value(value)
            .build();
        let req = self.ec2.modify_vpc_attribute().vpc_id(vpc);
        let req = if attribute == "enableDnsSupport" {
            req.enable_dns_support(v)
        } else {
            req.enable_dns_hostnames(v)
        };
        call!(self, "ec2:ModifyVpcAttribute", req.send())?;
        Ok(())
    }

    async fn authorize_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        destination: &str,
    ) -> AwsResult<()> {
        call!(
            self,
            "ec2:AuthorizeSecurityGroupEgress",
            self.ec2
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(egress_rule(protocol, port, destination))
                .send()
        )?;
        Ok(())
    }

    async fn revoke_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        destination: &str,
    ) -> AwsResult<()> {
        call!(
            self,
            "ec2:RevokeSecurityGroupEgress",
            self.ec2
                .revoke_security_group_egress()
                .group_id(group)
                .ip_permissions(egress_rule(protocol, port, destination))
                .send()
        )?;
        Ok(())
    }
}
