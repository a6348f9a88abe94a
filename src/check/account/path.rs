//! The agent's network path from one subnet of a service, shared by the network checks: how
//! the image pull reaches ECR (both interface endpoints with private DNS, else the internet) and
//! S3 (the gateway endpoint on the subnet's route table, else the internet), and the internet
//! path itself (a public NAT gateway, or an internet gateway with a public IP).

use crate::aws::{AwsVpc, NatGateway, RouteTable, Subnet, VpcEndpoint};
use crate::check::fix::endpoints::Missing;
use crate::model::inventory::Network;

/// How a subnet reaches the internet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Nat(String),
    InternetGateway(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Internet {
    Yes(Exit),
    /// No path; why, when there is a default route that does not lead out.
    No(Option<String>),
    /// A default route the tool cannot follow (transit gateway, peering, ...), named.
    Unverifiable(String),
}

#[derive(Debug, Clone)]
pub enum Ecr<'a> {
    Endpoints {
        api: &'a VpcEndpoint,
        dkr: &'a VpcEndpoint,
    },
    Internet(Exit),
    Blocked(Vec<Missing>),
    Unverifiable(String),
}

#[derive(Debug, Clone)]
pub enum S3<'a> {
    Gateway(&'a VpcEndpoint),
    Internet(Exit),
    Blocked(Missing),
    Unverifiable(String),
}

/// The path of one subnet of a service.
#[derive(Debug, Clone)]
pub struct SubnetPath<'a> {
    pub subnet: &'a Subnet,
    pub route_table: &'a RouteTable,
    pub ecr: Ecr<'a>,
    pub s3: S3<'a>,
    /// The ECR interface endpoints with private DNS: each receives its service's traffic
    /// whatever the routes (even when the other one is missing and the rest goes out a NAT).
    pub ecr_endpoints: Vec<&'a VpcEndpoint>,
    /// GuardDuty's `guardduty-data` endpoint with private DNS, where the agent's telemetry goes.
    pub telemetry_endpoint: Option<&'a VpcEndpoint>,
    /// Why the subnet has no internet path, when a default route leads nowhere.
    pub no_internet: Option<String>,
}

/// The subnet's route table: its explicit association, else the VPC's main table.
pub fn route_table<'a>(net: &'a Network, subnet: &Subnet) -> Option<&'a RouteTable> {
    net.route_tables
        .iter()
        .find(|rt| rt.subnet_ids.contains(&subnet.id))
        .or_else(|| {
            net.route_tables
                .iter()
                .find(|rt| rt.main && rt.vpc_id == subnet.vpc_id)
        })
}

fn nat<'a>(net: &'a Network, id: &str) -> Option<&'a NatGateway> {
    net.nat_gateways.iter().find(|n| n.id == id)
}

/// The subnet's way out to the internet, through its default route.
pub fn internet(net: &Network, vpc: &AwsVpc, rt: &RouteTable) -> Internet {
    let Some(default) = rt
        .routes
        .iter()
        .find(|r| r.active && r.destination == "0.0.0.0/0")
    else {
        return Internet::No(None);
    };
    let t = default.target.as_str();
    if t.starts_with("nat-") {
        return match nat(net, t) {
            Some(n) if n.connectivity != "public" => Internet::No(Some(format!(
                "the default route of `{}` goes through `{t}`, a private NAT gateway (no internet)",
                rt.id
            ))),
            Some(n) if n.state != "available" => Internet::No(Some(format!(
                "the default route of `{}` goes through `{t}`, which is `{}`",
                rt.id, n.state
            ))),
            // A public NAT gateway reaches the internet through its own subnet's route table.
            Some(n) => {
                let own = net
                    .subnets
                    .iter()
                    .find(|s| s.id == n.subnet_id)
                    .and_then(|s| route_table(net, s));
                match own {
                    None => Internet::Unverifiable(format!(
                        "the route table of the subnet of `{t}` was not found"
                    )),
                    Some(own) if own.id == rt.id => Internet::No(Some(format!(
                        "`{t}` routes through its own subnet's table `{}`",
                        rt.id
                    ))),
                    Some(own) => match own
                        .routes
                        .iter()
                        .find(|r| r.active && r.destination == "0.0.0.0/0")
                        .map(|r| r.target.as_str())
                    {
                        Some(igw) if igw.starts_with("igw-") => {
                            Internet::Yes(Exit::Nat(t.to_string()))
                        }
                        Some(other)
                            if !other.is_empty()
                                && other != "local"
                                && !other.starts_with("nat-") =>
                        {
                            Internet::Unverifiable(format!(
                                "`{t}` sends its traffic on through `{other}`, which cannot be verified"
                            ))
                        }
                        _ => Internet::No(Some(format!(
                            "`{t}` sits in subnet `{}`, whose route table `{}` has no internet gateway route",
                            n.subnet_id, own.id
                        ))),
                    },
                }
            }
            None => Internet::Unverifiable(format!(
                "the default route of `{}` goes through `{t}`, which was not found",
                rt.id
            )),
        };
    }
    if t.starts_with("igw-") {
        return if vpc.assign_public_ip {
            Internet::Yes(Exit::InternetGateway(t.to_string()))
        } else {
            Internet::No(Some(format!(
                "the default route of `{}` goes through `{t}` but `assignPublicIp` is disabled",
                rt.id
            )))
        };
    }
    if t.is_empty() || t == "local" {
        return Internet::No(None);
    }
    // Transit gateway, virtual private gateway, peering, Gateway Load Balancer endpoint,
    // Cloud WAN, an instance or interface: where it leads is not in this account's view.
    Internet::Unverifiable(format!(
        "the default route of `{}` goes through `{t}`, which cannot be verified",
        rt.id
    ))
}

/// The interface endpoint of `suffix` (`ecr.api`) in the VPC, preferring one with private
/// DNS.
pub fn interface<'a>(
    net: &'a Network,
    region: &str,
    vpc_id: &str,
    suffix: &str,
) -> Option<&'a VpcEndpoint> {
    let name = format!("com.amazonaws.{region}.{suffix}");
    let mut found: Vec<&VpcEndpoint> = net
        .endpoints
        .iter()
        .filter(|e| {
            e.usable
                && e.vpc_id == vpc_id
                && e.service_name == name
                && e.kind.eq_ignore_ascii_case("Interface")
        })
        .collect();
    found.sort_by_key(|e| !e.private_dns);
    found.first().copied()
}

/// The path of `subnet`.
pub fn subnet_path<'a>(
    net: &'a Network,
    region: &str,
    vpc: &AwsVpc,
    subnet: &'a Subnet,
    rt: &'a RouteTable,
) -> SubnetPath<'a> {
    let out = internet(net, vpc, rt);
    let api = interface(net, region, &subnet.vpc_id, "ecr.api");
    let dkr = interface(net, region, &subnet.vpc_id, "ecr.dkr");
    // With private DNS on both, ECR's names resolve to the endpoints whatever the routes.
    let ecr = match (api, dkr) {
        (Some(api), Some(dkr)) if api.private_dns && dkr.private_dns => Ecr::Endpoints { api, dkr },
        _ => match &out {
            Internet::Yes(exit) => Ecr::Internet(exit.clone()),
            Internet::Unverifiable(why) => Ecr::Unverifiable(why.clone()),
            Internet::No(_) => Ecr::Blocked(
                [("ecr.api", api), ("ecr.dkr", dkr)]
                    .into_iter()
                    .filter_map(|(suffix, e)| match e {
                        None => Some(Missing::Interface(suffix)),
                        Some(e) if !e.private_dns => Some(Missing::PrivateDns(e.id.clone())),
                        Some(_) => None,
                    })
                    .collect(),
            ),
        },
    };
    let s3_name = format!("com.amazonaws.{region}.s3");
    let gateways: Vec<&VpcEndpoint> = net
        .endpoints
        .iter()
        .filter(|e| {
            e.usable
                && e.vpc_id == subnet.vpc_id
                && e.service_name == s3_name
                && e.kind.eq_ignore_ascii_case("Gateway")
        })
        .collect();
    // The gateway's prefix-list route is more specific than any default route.
    let s3 = match gateways.iter().find(|g| g.route_table_ids.contains(&rt.id)) {
        Some(g) => S3::Gateway(g),
        None => match &out {
            Internet::Yes(exit) => S3::Internet(exit.clone()),
            Internet::Unverifiable(why) => S3::Unverifiable(why.clone()),
            Internet::No(_) => S3::Blocked(match gateways.first() {
                None => Missing::Gateway,
                Some(g) => Missing::GatewayRoute {
                    endpoint: g.id.clone(),
                    route_table: rt.id.clone(),
                },
            }),
        },
    };
    let telemetry = [
        format!("com.amazonaws.{region}.guardduty-data"),
        format!("com.amazonaws.{region}.guardduty-data-fips"),
    ];
    SubnetPath {
        subnet,
        route_table: rt,
        ecr,
        s3,
        ecr_endpoints: [api, dkr]
            .into_iter()
            .flatten()
            .filter(|e| e.private_dns)
            .collect(),
        telemetry_endpoint: net.endpoints.iter().find(|e| {
            e.usable
                && e.vpc_id == subnet.vpc_id
                && e.private_dns
                && telemetry.contains(&e.service_name)
        }),
        no_internet: match out {
            Internet::No(why) => why,
            _ => None,
        },
    }
}

/// The path of each subnet of a service, or why a subnet cannot be followed.
pub fn service_paths<'a>(
    net: &'a Network,
    region: &str,
    vpc: &AwsVpc,
) -> Vec<Result<SubnetPath<'a>, String>> {
    vpc.subnets
        .iter()
        .map(|id| {
            let subnet = net
                .subnets
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| format!("subnet `{id}` was not found"))?;
            let rt = route_table(net, subnet)
                .ok_or_else(|| format!("no route table found for subnet `{id}`"))?;
            Ok(subnet_path(net, region, vpc, subnet, rt))
        })
        .collect()
}
