//! Ec2 against the fake account.

use super::{Account, FakeAws, FakeSecurityGroup, invalid, not_found};
use crate::aws::{
    AclEntry, AwsResult, Ec2, EndpointSpec, ErrorKind, NatGateway, NetworkAcl, Route, RouteTable,
    SecurityGroup, SgRule, Subnet, Tags, Vpc, VpcEndpoint,
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
        policy: None,
        tags: spec.tags.clone(),
    });
    Ok(id)
}

impl Ec2 for FakeAws {
    async fn describe_subnets(&self) -> AwsResult<Vec<Subnet>> {
        self.read(&["ec2:DescribeSubnets"], |a| {
            Ok(a.subnets
                .iter()
                .map(|s| Subnet {
                    owner_id: if s.owner_id.is_empty() {
                        a.identity.account.clone()
                    } else {
                        s.owner_id.clone()
                    },
                    ..s.clone()
                })
                .collect())
        })
    }

    async fn describe_nat_gateways(&self, vpc_ids: &[String]) -> AwsResult<Vec<NatGateway>> {
        self.read(&["ec2:DescribeNatGateways"], |a| {
            Ok(a.nat_gateways
                .iter()
                .filter(|n| vpc_ids.contains(&n.vpc_id))
                .cloned()
                .collect())
        })
    }

    async fn describe_network_acls(&self, vpc_ids: &[String]) -> AwsResult<Vec<NetworkAcl>> {
        self.read(&["ec2:DescribeNetworkAcls"], |a| {
            let mut out: Vec<NetworkAcl> = a
                .network_acls
                .iter()
                .filter(|n| vpc_ids.contains(&n.vpc_id))
                .cloned()
                .collect();
            // Each VPC comes with a default ACL that allows everything, holding every subnet
            // not associated with another.
            for vpc in vpc_ids {
                if out.iter().any(|n| &n.vpc_id == vpc && n.default) {
                    continue;
                }
                let taken: Vec<&String> = out.iter().flat_map(|n| &n.subnet_ids).collect();
                let rule = |egress, number, allow| AclEntry {
                    rule_number: number,
                    egress,
                    protocol: "-1".into(),
                    ports: None,
                    cidr: "0.0.0.0/0".into(),
                    allow,
                };
                out.push(NetworkAcl {
                    id: format!("acl-default-{vpc}"),
                    vpc_id: vpc.clone(),
                    default: true,
                    subnet_ids: a
                        .subnets
                        .iter()
                        .filter(|s| &s.vpc_id == vpc && !taken.contains(&&s.id))
                        .map(|s| s.id.clone())
                        .collect(),
                    entries: vec![
                        rule(false, 100, true),
                        rule(true, 100, true),
                        rule(false, 32767, false),
                        rule(true, 32767, false),
                    ],
                });
            }
            Ok(out)
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
                    ingress: g.ingress,
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

    async fn modify_vpc_endpoint(
        &self,
        id: &str,
        add_route_tables: &[String],
        remove_route_tables: &[String],
        private_dns: Option<bool>,
    ) -> AwsResult<()> {
        let api = "ec2:ModifyVpcEndpoint";
        let mut line = id.to_string();
        if !add_route_tables.is_empty() {
            line.push_str(&format!(" addRouteTables={}", add_route_tables.join(",")));
        }
        if !remove_route_tables.is_empty() {
            line.push_str(&format!(
                " removeRouteTables={}",
                remove_route_tables.join(",")
            ));
        }
        if let Some(on) = private_dns {
            line.push_str(&format!(" privateDns={on}"));
        }
        self.apply(api, line, |a| {
            let vpcs = a.vpcs.clone();
            let prefix_list = a.s3_prefix_list.clone().unwrap_or_default();
            let Some(e) = a.vpc_endpoints.iter_mut().find(|e| e.id == id) else {
                return Err(not_found(
                    api,
                    format!("InvalidVpcEndpointId.NotFound: The Vpc Endpoint Id '{id}' does not exist"),
                ));
            };
            if let Some(on) = private_dns {
                let vpc = vpcs.iter().find(|v| v.id == e.vpc_id);
                if on && !vpc.is_some_and(|v| v.dns_support && v.dns_hostnames) {
                    return Err(invalid(api, format!("InvalidParameter: Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for {}", e.vpc_id)));
                }
                e.private_dns = on;
            }
            e.route_table_ids.retain(|r| !remove_route_tables.contains(r));
            for r in add_route_tables {
                if !e.route_table_ids.contains(r) {
                    e.route_table_ids.push(r.clone());
                }
            }
            let eid = e.id.clone();
            for rt in &mut a.route_tables {
                if remove_route_tables.contains(&rt.id) {
                    rt.routes.retain(|r| r.target != eid);
                }
                if add_route_tables.contains(&rt.id) && !rt.routes.iter().any(|r| r.target == eid) {
                    rt.routes.push(Route {
                        destination: prefix_list.clone(),
                        target: eid.clone(),
                        active: true,
                    });
                }
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
        destination: &str,
    ) -> AwsResult<()> {
        let api = "ec2:AuthorizeSecurityGroupEgress";
        self.apply(
            api,
            format!("{group} {protocol} {port} to {destination}"),
            |a| {
                let g = group_mut(a, group, api)?;
                let is_pl = destination.starts_with("pl-");
                match same_ports(&mut g.egress, protocol, port) {
                    Some(r) => {
                        let l = if is_pl {
                            &mut r.prefix_lists
                        } else {
                            &mut r.cidrs
                        };
                        if l.iter().any(|p| p == destination) {
                            return Err(invalid(
                                api,
                                "InvalidPermission.Duplicate: the specified rule already exists",
                            ));
                        }
                        l.push(destination.to_string());
                    }
                    None => {
                        let mut r = rule(protocol, port);
                        if is_pl {
                            r.prefix_lists.push(destination.to_string());
                        } else {
                            r.cidrs.push(destination.to_string());
                        }
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
        destination: &str,
    ) -> AwsResult<()> {
        let api = "ec2:RevokeSecurityGroupEgress";
        self.apply(api, format!("{group} {protocol} {port} to {destination}"), |a| {
            let g = group_mut(a, group, api)?;
            // Outside a default VPC, revoking a rule that does not exist is an error.
            let missing = || not_found(api, "InvalidPermission.NotFound: The specified rule does not exist in this security group.");
            let r = same_ports(&mut g.egress, protocol, port).ok_or_else(missing)?;
            let l = if destination.starts_with("pl-") { &mut r.prefix_lists } else { &mut r.cidrs };
            let before = l.len();
            l.retain(|p| p != destination);
            if l.len() == before {
                return Err(missing());
            }
            g.egress.retain(|r| !(r.cidrs.is_empty() && r.prefix_lists.is_empty() && r.groups.is_empty()));
            Ok(())
        })
    }
}
