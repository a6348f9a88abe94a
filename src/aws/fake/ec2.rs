//! Ec2 against the fake account.

use super::{Account, FakeAws, FakeSecurityGroup, invalid, not_found};
use crate::aws::{
    AwsResult, Ec2, EndpointSpec, ErrorKind, Route, RouteTable, SecurityGroup, SgRule, Subnet,
    Tags, Vpc, VpcEndpoint,
};

/// Describing by id fails on the first id that does not exist (`InvalidGroup.NotFound`, ...).
fn each<'a, T: Clone + 'a>(
    ids: &[String],
    items: impl Iterator<Item = &'a T> + Clone,
    id_of: impl Fn(&T) -> &str,
    api: &'static str,
    code: &str,
) -> AwsResult<Vec<T>> {
    ids.iter()
        .map(|id| {
            items
                .clone()
                .find(|i| id_of(i) == id)
                .cloned()
                .ok_or_else(|| not_found(api, format!("{code}: The ID '{id}' does not exist")))
        })
        .collect()
}

fn vpc_mut<'a>(a: &'a mut Account, id: &str, api: &'static str) -> AwsResult<&'a mut Vpc> {
    a.vpcs.iter_mut().find(|v| v.id == id).ok_or_else(|| {
        not_found(
            api,
            format!("InvalidVpcID.NotFound: The vpc ID '{id}' does not exist"),
        )
    })
}

fn group_mut<'a>(
    a: &'a mut Account,
    id: &str,
    api: &'static str,
) -> AwsResult<&'a mut FakeSecurityGroup> {
    a.security_groups
        .iter_mut()
        .find(|g| g.id == id)
        .ok_or_else(|| {
            not_found(
                api,
                format!("InvalidGroup.NotFound: The security group '{id}' does not exist"),
            )
        })
}

/// Whether the resource `id` carries the tag `key` = `value`.
fn tagged(a: &Account, id: &str, key: &str, value: &str) -> bool {
    a.tags
        .get(id)
        .and_then(|t| t.get(key))
        .is_some_and(|v| v == value)
}

fn rule(protocol: &str, port: i32) -> SgRule {
    SgRule {
        protocol: protocol.into(),
        from_port: port,
        to_port: port,
        cidrs: Vec::new(),
        prefix_lists: Vec::new(),
        groups: Vec::new(),
    }
}

/// The rule of `group` for these protocol and ports (AWS groups destinations by them).
fn same_ports<'a>(rules: &'a mut [SgRule], protocol: &str, port: i32) -> Option<&'a mut SgRule> {
    rules
        .iter_mut()
        .find(|r| r.protocol == protocol && r.from_port == port && r.to_port == port)
}

fn create_endpoint(a: &mut Account, id: String, spec: &EndpointSpec) -> AwsResult<String> {
    let api = "ec2:CreateVpcEndpoint";
    let bad = |m: String| Err(invalid(api, m));
    let vpc = vpc_mut(a, &spec.vpc_id, api)?.clone();
    let prefix = format!("com.amazonaws.{}.", a.region);
    let Some(short) = spec.service_name.strip_prefix(&prefix) else {
        return bad(format!(
            "InvalidServiceName: The Vpc Endpoint Service '{}' does not exist",
            spec.service_name
        ));
    };
    if spec.interface {
        let mut zones = Vec::new();
        for id in &spec.subnet_ids {
            let Some(s) = a.subnets.iter().find(|s| &s.id == id && s.vpc_id == vpc.id) else {
                return Err(not_found(
                    api,
                    format!(
                        "InvalidSubnetID.NotFound: The subnet ID '{id}' does not exist in {}",
                        vpc.id
                    ),
                ));
            };
            if zones.contains(&s.availability_zone) {
                return bad("DuplicateSubnetsInSameZone: Found another VPC endpoint subnet in the availability zone".into());
            }
            zones.push(s.availability_zone.clone());
        }
        for g in &spec.security_group_ids {
            if !a
                .security_groups
                .iter()
                .any(|x| &x.id == g && x.vpc_id == vpc.id)
            {
                return Err(not_found(
                    api,
                    format!(
                        "InvalidGroup.NotFound: The security group '{g}' does not exist in {}",
                        vpc.id
                    ),
                ));
            }
        }
        if spec.private_dns && !(vpc.dns_support && vpc.dns_hostnames) {
            return bad(format!(
                "InvalidParameter: Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for {}",
                vpc.id
            ));
        }
        // Private DNS names of a service are one per VPC.
        if spec.private_dns
            && a.vpc_endpoints
                .iter()
                .any(|e| e.vpc_id == vpc.id && e.service_name == spec.service_name && e.private_dns)
        {
            return bad(format!(
                "InvalidParameter: private-dns-enabled cannot be set because there is already a conflicting DNS domain for {} in the VPC {}",
                spec.service_name, vpc.id
            ));
        }
    } else {
        if short != "s3" && short != "dynamodb" {
            return bad(format!(
                "InvalidParameter: '{}' is not a gateway endpoint service",
                spec.service_name
            ));
        }
        // A gateway endpoint adds a route to the service's prefix list to each route table.
        let pl = a
            .s3_prefix_list
            .clone()
            .unwrap_or_else(|| format!("pl-{short}"));
        for rt_id in &spec.route_table_ids {
            let Some(rt) = a
                .route_tables
                .iter_mut()
                .find(|r| &r.id == rt_id && r.vpc_id == vpc.id)
            else {
                return Err(not_found(
                    api,
                    format!(
                        "InvalidRouteTableId.NotFound: The routeTable ID '{rt_id}' does not exist"
                    ),
                ));
            };
            if rt.routes.iter().any(|r| r.destination == pl) {
                return bad(format!(
                    "RouteAlreadyExists: route table {rt_id} already has a route with destination-prefix-list-id {pl}"
                ));
            }
            rt.routes.push(Route {
                destination: pl.clone(),
                target: id.clone(),
                active: true,
            });
        }
    }
    a.vpc_endpoints.push(VpcEndpoint {
        id: id.clone(),
        vpc_id: vpc.id,
        service_name: spec.service_name.clone(),
        kind: if spec.interface {
            "Interface"
        } else {
            "Gateway"
        }
        .into(),
        private_dns: spec.interface && spec.private_dns,
        route_table_ids: if spec.interface {
            Vec::new()
        } else {
            spec.route_table_ids.clone()
        },
        subnet_ids: if spec.interface {
            spec.subnet_ids.clone()
        } else {
            Vec::new()
        },
        security_group_ids: if spec.interface {
            spec.security_group_ids.clone()
        } else {
            Vec::new()
        },
        usable: true,
    });
    Ok(id)
}

impl Ec2 for FakeAws {
    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        let api = "ec2:DescribeSubnets";
        self.read(&[api], |a| {
            each(
                ids,
                a.subnets.iter(),
                |s| &s.id,
                api,
                "InvalidSubnetID.NotFound",
            )
        })
    }

    async fn describe_route_tables(&self, vpc_ids: &[String]) -> AwsResult<Vec<RouteTable>> {
        self.read(&["ec2:DescribeRouteTables"], |a| {
            Ok(a.route_tables
                .iter()
                .filter(|r| vpc_ids.contains(&r.vpc_id))
                .cloned()
                .collect())
        })
    }

    async fn describe_vpc_endpoints(&self, vpc_ids: &[String]) -> AwsResult<Vec<VpcEndpoint>> {
        self.read(&["ec2:DescribeVpcEndpoints"], |a| {
            Ok(a.vpc_endpoints
                .iter()
                .filter(|e| vpc_ids.contains(&e.vpc_id))
                .cloned()
                .collect())
        })
    }

    async fn describe_vpcs(&self, ids: &[String]) -> AwsResult<Vec<Vpc>> {
        let api = "ec2:DescribeVpcs";
        self.read(&[api, "ec2:DescribeVpcAttribute"], |a| {
            each(ids, a.vpcs.iter(), |v| &v.id, api, "InvalidVpcID.NotFound")
        })
    }

    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        let api = "ec2:DescribeSecurityGroups";
        self.read(&[api], |a| {
            let groups = each(
                ids,
                a.security_groups.iter(),
                |g| &g.id,
                api,
                "InvalidGroup.NotFound",
            )?;
            Ok(groups
                .into_iter()
                .map(|g| SecurityGroup {
                    id: g.id,
                    vpc_id: g.vpc_id,
                    egress: g.egress,
                })
                .collect())
        })
    }

    async fn s3_prefix_list(&self) -> AwsResult<Option<String>> {
        self.read(&["ec2:DescribeManagedPrefixLists"], |a| {
            Ok(a.s3_prefix_list.clone())
        })
    }

    async fn create_security_group(
        &self,
        vpc: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<String> {
        let api = "ec2:CreateSecurityGroup";
        let id = self.change(
            api,
            format!("{vpc} {name}{}", super::tag_keys(tags)),
            |s| {
                vpc_mut(&mut s.account, vpc, api)?;
                if s.account.security_groups.iter().any(|g| g.vpc_id == vpc && g.name == name) {
                    return Err(invalid(api, format!("InvalidGroup.Duplicate: The security group '{name}' already exists for VPC '{vpc}'")));
                }
                let id = s.new_id("sg");
                // A new group allows all outbound traffic.
                let mut all = rule("-1", -1);
                all.cidrs.push("0.0.0.0/0".into());
                s.account.security_groups.push(FakeSecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc.to_string(),
                    name: name.to_string(),
                    description: description.to_string(),
                    ingress: Vec::new(),
                    egress: vec![all],
                });
                s.account.tags.insert(id.clone(), tags.clone());
                Ok(id)
            },
            |id| Some(id.clone()),
        )?;
        Ok(id)
    }

    async fn security_groups_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<String>> {
        self.read(&["ec2:DescribeSecurityGroups"], |a| {
            Ok(a.security_groups
                .iter()
                .filter(|g| g.vpc_id == vpc && tagged(a, &g.id, key, value))
                .map(|g| g.id.clone())
                .collect())
        })
    }

    async fn vpc_endpoints_tagged(
        &self,
        vpc: &str,
        key: &str,
        value: &str,
    ) -> AwsResult<Vec<VpcEndpoint>> {
        self.read(&["ec2:DescribeVpcEndpoints"], |a| {
            Ok(a.vpc_endpoints
                .iter()
                .filter(|e| e.vpc_id == vpc && tagged(a, &e.id, key, value))
                .cloned()
                .collect())
        })
    }

    async fn authorize_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()> {
        let api = "ec2:AuthorizeSecurityGroupIngress";
        self.apply(
            api,
            format!("{group} tcp 443 from {}", cidrs.join(",")),
            |a| {
                let g = group_mut(a, group, api)?;
                let mut r = rule("tcp", 443);
                r.cidrs.extend(cidrs.iter().cloned());
                if g.ingress.contains(&r) {
                    return Err(invalid(
                        api,
                        "InvalidPermission.Duplicate: the rule already exists",
                    ));
                }
                g.ingress.push(r);
                Ok(())
            },
        )
    }

    async fn revoke_https_ingress(&self, group: &str, cidrs: &[String]) -> AwsResult<()> {
        let api = "ec2:RevokeSecurityGroupIngress";
        self.apply(
            api,
            format!("{group} tcp 443 from {}", cidrs.join(",")),
            |a| {
                let g = group_mut(a, group, api)?;
                let mut r = rule("tcp", 443);
                r.cidrs.extend(cidrs.iter().cloned());
                let before = g.ingress.len();
                g.ingress.retain(|x| *x != r);
                if g.ingress.len() == before {
                    return Err(not_found(
                        api,
                        format!("InvalidPermission.NotFound: no such rule on `{group}`"),
                    ));
                }
                Ok(())
            },
        )
    }

    async fn delete_security_group(&self, id: &str) -> AwsResult<()> {
        let api = "ec2:DeleteSecurityGroup";
        self.apply(api, id.to_string(), |a| {
            group_mut(a, id, api)?;
            if let Some(e) = a
                .vpc_endpoints
                .iter()
                .find(|e| e.security_group_ids.iter().any(|g| g == id))
            {
                return Err(super::err(
                    api,
                    ErrorKind::InUse,
                    format!(
                        "DependencyViolation: resource {id} has a dependent object ({})",
                        e.id
                    ),
                ));
            }
            a.security_groups.retain(|g| g.id != id);
            a.tags.remove(id);
            Ok(())
        })
    }

    async fn create_vpc_endpoint(&self, spec: &EndpointSpec) -> AwsResult<String> {
        let api = "ec2:CreateVpcEndpoint";
        let kind = if spec.interface {
            "Interface"
        } else {
            "Gateway"
        };
        let mut line = format!("{} {} {kind}", spec.vpc_id, spec.service_name);
        if spec.interface {
            line.push_str(&format!(
                " subnets={} groups={} privateDns={}",
                spec.subnet_ids.join(","),
                spec.security_group_ids.join(","),
                spec.private_dns
            ));
        } else {
            line.push_str(&format!(" routeTables={}", spec.route_table_ids.join(",")));
        }
        line.push_str(&super::tag_keys(&spec.tags));
        self.change(
            api,
            line,
            |s| {
                let id = s.new_id("vpce");
                let id = create_endpoint(&mut s.account, id, spec)?;
                s.account.tags.insert(id.clone(), spec.tags.clone());
                Ok(id)
            },
            |id| Some(id.clone()),
        )
    }

    async fn delete_vpc_endpoint(&self, id: &str) -> AwsResult<()> {
        let api = "ec2:DeleteVpcEndpoints";
        self.apply(api, id.to_string(), |a| {
            if !a.vpc_endpoints.iter().any(|e| e.id == id) {
                return Err(not_found(
                    api,
                    format!(
                        "InvalidVpcEndpointId.NotFound: The Vpc Endpoint Id '{id}' does not exist"
                    ),
                ));
            }
            a.vpc_endpoints.retain(|e| e.id != id);
            a.tags.remove(id);
            for rt in &mut a.route_tables {
                rt.routes.retain(|r| r.target != id);
            }
            Ok(())
        })
    }

    async fn modify_vpc_attribute(&self, vpc: &str, attribute: &str, value: bool) -> AwsResult<()> {
        let api = "ec2:ModifyVpcAttribute";
        self.apply(api, format!("{vpc} {attribute}={value}"), |a| {
            let v = vpc_mut(a, vpc, api)?;
            match attribute {
                "enableDnsSupport" => v.dns_support = value,
                // "You can only enable DNS hostnames if you've enabled DNS support."
                "enableDnsHostnames" if value && !v.dns_support => {
                    return Err(invalid(
                        api,
                        "InvalidParameterValue: DNS hostnames need DNS support enabled",
                    ));
                }
                "enableDnsHostnames" => v.dns_hostnames = value,
                other => {
                    return Err(invalid(
                        api,
                        format!("InvalidParameterValue: unknown attribute {other}"),
                    ));
                }
            }
            Ok(())
        })
    }

    async fn authorize_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()> {
        let api = "ec2:AuthorizeSecurityGroupEgress";
        self.apply(
            api,
            format!("{group} {protocol} {port} to {prefix_list}"),
            |a| {
                let g = group_mut(a, group, api)?;
                match same_ports(&mut g.egress, protocol, port) {
                    Some(r) if r.prefix_lists.iter().any(|p| p == prefix_list) => {
                        return Err(invalid(
                            api,
                            "InvalidPermission.Duplicate: the specified rule already exists",
                        ));
                    }
                    Some(r) => r.prefix_lists.push(prefix_list.to_string()),
                    None => {
                        let mut r = rule(protocol, port);
                        r.prefix_lists.push(prefix_list.to_string());
                        g.egress.push(r);
                    }
                }
                Ok(())
            },
        )
    }

    async fn revoke_egress(
        &self,
        group: &str,
        protocol: &str,
        port: i32,
        prefix_list: &str,
    ) -> AwsResult<()> {
        let api = "ec2:RevokeSecurityGroupEgress";
        self.apply(api, format!("{group} {protocol} {port} to {prefix_list}"), |a| {
            let g = group_mut(a, group, api)?;
            // Outside a default VPC, revoking a rule that does not exist is an error.
            let missing = || not_found(api, "InvalidPermission.NotFound: The specified rule does not exist in this security group.");
            let r = same_ports(&mut g.egress, protocol, port).ok_or_else(missing)?;
            let before = r.prefix_lists.len();
            r.prefix_lists.retain(|p| p != prefix_list);
            if r.prefix_lists.len() == before {
                return Err(missing());
            }
            g.egress.retain(|r| !(r.cidrs.is_empty() && r.prefix_lists.is_empty() && r.groups.is_empty()));
            Ok(())
        })
    }
}
