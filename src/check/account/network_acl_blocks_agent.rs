//! `network-acl-blocks-agent` (live): the network ACLs on the agent's path must let its HTTPS
//! requests out and their replies back in. ACLs are stateless and evaluated by rule number,
//! lowest first; the first rule that matches decides, and the last (`*`) denies.

use super::path::{self, Ecr, S3};
use super::{AccountContext, finding, network_or_not_checked, not_checked};
use crate::aws::{NetworkAcl, Subnet};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::cidr::Block;
use crate::model::inventory::Network;
use crate::model::{CheckInfo, Fix, Severity};

pub static INFO: CheckInfo = CheckInfo {
    slug: "network-acl-blocks-agent",
    severity: Severity::Error,
    summary: "a network ACL on the path drops the agent's HTTPS or its replies (live)",
    explain: "\
The network ACL of a subnet of the service denies outbound TCP 443 to where the image pull goes
(the subnets of the `ecr.api`/`ecr.dkr` endpoints, or any address for S3 and the internet), or
inbound TCP on the ephemeral ports (32768-60999, Linux's) from there; or the ACL of an endpoint's
subnet, when it is another subnet, denies inbound TCP 443 from the task subnet or the replies
back to it.

Why: network ACLs are stateless: the request and its reply are each checked, by rule number,
lowest first; the first matching rule decides and the final `*` rule denies. A custom ACL denies
everything until rules are added (the VPC's default ACL allows everything). A rule that covers
only part of the destination or of the ports is reported as not checked, naming it.

Fix: manual. Add the allow rules shown, numbered before the rule that denies.",
    sources: &["https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html"],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

/// The ephemeral ports a Linux client (the agent, the image pull) uses for replies.
const EPHEMERAL: (i32, i32) = (32768, 60999);

#[derive(Debug, PartialEq)]
enum Verdict {
    Allowed,
    /// By this rule (`*` for the final one).
    Denied(String),
    Unknown(String),
}

/// The ACL's answer for TCP on `ports` to (egress) or from (ingress) every address of `peer`.
fn evaluate(acl: &NetworkAcl, egress: bool, peer: &str, ports: (i32, i32)) -> Verdict {
    let Some(peer_block) = Block::parse(peer) else {
        return Verdict::Unknown(format!("`{peer}` is not an IPv4 CIDR"));
    };
    let mut entries: Vec<_> = acl
        .entries
        .iter()
        .filter(|e| e.egress == egress && (e.protocol == "-1" || e.protocol == "6"))
        .collect();
    entries.sort_by_key(|e| e.rule_number);
    let mut partial: Option<i32> = None;
    for e in entries {
        let Some(block) = Block::parse(&e.cidr) else {
            continue;
        };
        if !block.overlaps(&peer_block) {
            continue;
        }
        let ports_full = e.ports.is_none_or(|(f, t)| f <= ports.0 && t >= ports.1);
        let ports_some = e.ports.is_none_or(|(f, t)| f <= ports.1 && t >= ports.0);
        if !ports_some {
            continue;
        }
        if ports_full && block.contains(&peer_block) {
            if let Some(n) = partial {
                return Verdict::Unknown(format!(
                    "rule {n} of `{}` covers only part of the traffic",
                    acl.id
                ));
            }
            return if e.allow {
                Verdict::Allowed
            } else {
                Verdict::Denied(if e.rule_number >= 32767 {
                    "*".into()
                } else {
                    e.rule_number.to_string()
                })
            };
        }
        partial.get_or_insert(e.rule_number);
    }
    match partial {
        Some(n) => Verdict::Unknown(format!(
            "rule {n} of `{}` covers only part of the traffic",
            acl.id
        )),
        None => Verdict::Denied("*".into()),
    }
}

fn acl_of<'a>(net: &'a Network, subnet: &Subnet) -> Option<&'a NetworkAcl> {
    net.network_acls
        .iter()
        .find(|a| a.subnet_ids.contains(&subnet.id))
        .or_else(|| {
            net.network_acls
                .iter()
                .find(|a| a.default && a.vpc_id == subnet.vpc_id)
        })
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    let Some(net) = network_or_not_checked(&INFO, inv, &mut out) else {
        return out;
    };
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        let subject = format!("service `{}`", svc.name);
        let mut blocked: Vec<String> = Vec::new();
        let mut fixes: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for p in path::service_paths(net, &inv.region, vpc)
            .into_iter()
            .flatten()
        {
            let task = p.subnet;
            // (the subnet whose ACL is read, egress?, peer CIDR, ports, what it is for)
            let mut asks: Vec<(&Subnet, bool, String, (i32, i32))> = Vec::new();
            let mut peers: Vec<String> = Vec::new();
            let endpoints: Vec<_> = p
                .ecr_endpoints
                .iter()
                .copied()
                .chain(p.telemetry_endpoint)
                .collect();
            for e in endpoints {
                for id in &e.subnet_ids {
                    if id == &task.id {
                        continue; // Inside one subnet, no ACL applies.
                    }
                    match net.subnets.iter().find(|s| &s.id == id) {
                        Some(s) if !s.cidr.is_empty() => {
                            if !peers.contains(&s.cidr) {
                                peers.push(s.cidr.clone());
                            }
                            if !task.cidr.is_empty() {
                                asks.push((s, false, task.cidr.clone(), (443, 443)));
                                asks.push((s, true, task.cidr.clone(), EPHEMERAL));
                            }
                        }
                        _ => unknown.push(format!(
                            "the CIDR of subnet `{id}` of `{}` is not known",
                            e.id
                        )),
                    }
                }
            }
            // What ECR traffic has no endpoint for goes out to the internet.
            if matches!(p.ecr, Ecr::Internet(_)) && p.ecr_endpoints.len() < 2 {
                peers.push("0.0.0.0/0".into());
            }
            if matches!(p.s3, S3::Gateway(_) | S3::Internet(_))
                && !peers.iter().any(|c| c == "0.0.0.0/0")
            {
                // S3's addresses are in its prefix list, which ACL rules cannot name.
                peers.push("0.0.0.0/0".into());
            }
            for peer in peers {
                asks.push((task, true, peer.clone(), (443, 443)));
                asks.push((task, false, peer, EPHEMERAL));
            }
            for (subnet, egress, peer, ports) in asks {
                let Some(acl) = acl_of(net, subnet) else {
                    unknown.push(format!("no network ACL found for subnet `{}`", subnet.id));
                    continue;
                };
                let (way, dir) = if egress {
                    ("outbound", "to")
                } else {
                    ("inbound", "from")
                };
                let port_text = if ports.0 == ports.1 {
                    ports.0.to_string()
                } else {
                    format!("{}-{}", ports.0, ports.1)
                };
                match evaluate(acl, egress, &peer, ports) {
                    Verdict::Allowed => {}
                    Verdict::Denied(rule) => {
                        let what = format!(
                            "`{}` of subnet `{}` denies {way} TCP {port_text} {dir} `{peer}` (rule {rule})",
                            acl.id, subnet.id
                        );
                        if !blocked.contains(&what) {
                            blocked.push(what);
                            let before = if rule == "*" {
                                String::new()
                            } else {
                                format!(", numbered below {rule}")
                            };
                            let range = if ports == EPHEMERAL {
                                "1024-65535".to_string()
                            } else {
                                port_text.clone()
                            };
                            fixes.push(format!(
                                "on `{}` allow {way} TCP {range} {dir} `{peer}`{before}",
                                acl.id
                            ));
                        }
                    }
                    Verdict::Unknown(why) => {
                        if !unknown.contains(&why) {
                            unknown.push(why);
                        }
                    }
                }
            }
        }
        for why in unknown {
            out.not_checked
                .push(not_checked(&INFO, &svc.arn, subject.clone(), why));
        }
        if !blocked.is_empty() {
            out.findings.push(finding(
                &INFO,
                &svc.arn,
                subject,
                format!("network ACL {}", blocked.join("; ")),
                Fix::manual(fixes.join("; ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AclEntry;

    /// (rule number, egress, protocol, ports, CIDR, allow)
    type Rule<'a> = (i32, bool, &'a str, Option<(i32, i32)>, &'a str, bool);

    fn acl(entries: &[Rule<'_>]) -> NetworkAcl {
        NetworkAcl {
            id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            default: false,
            subnet_ids: vec![],
            entries: entries
                .iter()
                .map(|(n, egress, proto, ports, cidr, allow)| AclEntry {
                    rule_number: *n,
                    egress: *egress,
                    protocol: proto.to_string(),
                    ports: *ports,
                    cidr: cidr.to_string(),
                    allow: *allow,
                })
                .collect(),
        }
    }

    #[test]
    fn first_matching_rule_by_number_decides() {
        let a = acl(&[
            (200, true, "-1", None, "0.0.0.0/0", true),
            (100, true, "6", Some((443, 443)), "0.0.0.0/0", false),
            (32767, true, "-1", None, "0.0.0.0/0", false),
        ]);
        assert_eq!(
            evaluate(&a, true, "0.0.0.0/0", (443, 443)),
            Verdict::Denied("100".into())
        );
        // Another port passes the deny and meets the allow.
        assert_eq!(evaluate(&a, true, "0.0.0.0/0", (80, 80)), Verdict::Allowed);
        // Nothing for ingress: the final rule denies.
        assert_eq!(
            evaluate(&a, false, "0.0.0.0/0", EPHEMERAL),
            Verdict::Denied("*".into())
        );
    }

    #[test]
    fn partial_rules_are_not_decided_and_udp_does_not_count() {
        let a = acl(&[
            (90, true, "17", None, "0.0.0.0/0", true),
            (100, true, "6", Some((443, 443)), "10.0.0.0/16", true),
            (110, false, "6", Some((49152, 65535)), "0.0.0.0/0", true),
        ]);
        assert!(matches!(
            evaluate(&a, true, "0.0.0.0/0", (443, 443)),
            Verdict::Unknown(_)
        ));
        assert_eq!(
            evaluate(&a, true, "10.0.2.0/24", (443, 443)),
            Verdict::Allowed
        );
        assert!(matches!(
            evaluate(&a, false, "0.0.0.0/0", EPHEMERAL),
            Verdict::Unknown(_)
        ));
        assert_eq!(
            evaluate(&a, true, "192.168.0.0/24", (443, 443)),
            Verdict::Denied("*".into())
        );
    }
}
