//! `task-egress-blocked` (live; includes what was `s3-egress-blocked`): the task's security
//! groups must allow outbound TCP 443 to the agent's path in use: the ECR interface endpoints,
//! the S3 prefix list for the gateway endpoint, or the internet.

use super::path::{self, Ecr, S3};
use super::{AccountContext, finding, not_checked};
use crate::aws::{SecurityGroup, SgRule, VpcEndpoint};
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::cidr;
use crate::model::inventory::Network;
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;

pub static INFO: CheckInfo = CheckInfo {
    slug: "task-egress-blocked",
    severity: Severity::Error,
    summary: "task security groups do not allow egress 443 on the agent's path (live)",
    explain: "\
None of the service's security groups allows outbound TCP 443 to where the agent's image pull
goes from a subnet of the service: the `ecr.api` and `ecr.dkr` interface endpoints (their
security group, or a CIDR holding their subnets) when both have private DNS; the region's S3
managed prefix list (`com.amazonaws.REGION.s3`) when the S3 gateway endpoint serves the
subnet's route table; `0.0.0.0/0` when the path is the internet (a public NAT gateway or an
internet gateway). A rule to a narrower public range is not checked: ECR's addresses are not
known here.

Why: security groups are stateful, so the reply is allowed, but the request needs an egress
rule. AWS: \"Add an outbound rule in your security group that allows traffic to the S3 managed
prefix list (pl-xxxxxxxx) on port 443\"; \"The security group for the Elastic Network Interface
(ENI) associated with your task needs the security group rules to allow traffic between the task
and the VPC endpoints.\"

When the path is blocked, the path the network fix makes is checked (the S3 prefix list, the
VPC's CIDRs for the endpoints it creates), so one apply leaves nothing behind.

Fix (safe): egress rules for TCP 443 on the service's first security group to the S3 prefix list
and to the endpoints' subnets (or the VPC's CIDRs for new endpoints); for the internet, manual
(opening `0.0.0.0/0` is yours to decide).",
    sources: &[
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-version-migration.html",
    ],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

/// Where a request goes.
enum Dest<'a> {
    Endpoint(&'a VpcEndpoint),
    /// The endpoints the plan creates, in these CIDRs (the VPC's).
    Planned(Vec<String>),
    S3PrefixList(Option<&'a str>),
    Internet,
}

/// The CIDRs an egress rule must reach for `dest`, when the fix can add it.
fn rule_targets(net: &Network, dest: &Dest<'_>) -> Option<Vec<String>> {
    match dest {
        Dest::Endpoint(e) => {
            let cidrs: Vec<String> = e
                .subnet_ids
                .iter()
                .filter_map(|id| net.subnets.iter().find(|s| &s.id == id))
                .map(|s| s.cidr.clone())
                .filter(|c| !c.is_empty())
                .collect();
            (cidrs.len() == e.subnet_ids.len() && !cidrs.is_empty()).then_some(cidrs)
        }
        Dest::Planned(cidrs) => Some(cidrs.clone()),
        Dest::S3PrefixList(pl) => pl.map(|pl| vec![pl.to_string()]),
        Dest::Internet => None,
    }
}

enum Verdict {
    Allowed,
    Blocked,
    Unknown(String),
}

fn verdict(net: &Network, groups: &[&SecurityGroup], dest: &Dest<'_>) -> Verdict {
    let rules = || {
        groups
            .iter()
            .flat_map(|g| g.egress.iter())
            .filter(|r| r.allows_https())
    };
    let anywhere = |r: &SgRule| r.cidrs.iter().any(|c| c == "0.0.0.0/0");
    match dest {
        Dest::Endpoint(e) => {
            let subnet_cidrs: Vec<&str> = e
                .subnet_ids
                .iter()
                .filter_map(|id| net.subnets.iter().find(|s| &s.id == id))
                .map(|s| s.cidr.as_str())
                .filter(|c| !c.is_empty())
                .collect();
            let covered = |r: &SgRule| {
                r.groups.iter().any(|g| e.security_group_ids.contains(g))
                    || anywhere(r)
                    || (subnet_cidrs.len() == e.subnet_ids.len()
                        && !subnet_cidrs.is_empty()
                        && subnet_cidrs
                            .iter()
                            .all(|s| r.cidrs.iter().any(|c| cidr::contains(c, s))))
            };
            if rules().any(covered) {
                Verdict::Allowed
            } else if subnet_cidrs.len() < e.subnet_ids.len()
                && rules().any(|r| !r.cidrs.is_empty())
            {
                Verdict::Unknown(format!(
                    "the subnets of `{}` were not all read, so its addresses are not known",
                    e.id
                ))
            } else {
                Verdict::Blocked
            }
        }
        Dest::Planned(cidrs) => {
            if rules().any(|r| {
                anywhere(r)
                    || cidrs
                        .iter()
                        .all(|c| r.cidrs.iter().any(|rc| cidr::contains(rc, c)))
            }) {
                Verdict::Allowed
            } else {
                Verdict::Blocked
            }
        }
        Dest::S3PrefixList(pl) => {
            if rules()
                .any(|r| anywhere(r) || pl.is_some_and(|pl| r.prefix_lists.iter().any(|p| p == pl)))
            {
                Verdict::Allowed
            } else {
                Verdict::Blocked
            }
        }
        Dest::Internet => {
            if rules().any(anywhere) {
                Verdict::Allowed
            } else if let Some(c) = rules().flat_map(|r| r.cidrs.iter()).find(|c| {
                !["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
                    .iter()
                    .any(|private| cidr::contains(private, c))
            }) {
                Verdict::Unknown(format!(
                    "egress 443 goes to `{c}` only; ECR's addresses are not known here"
                ))
            } else {
                Verdict::Blocked
            }
        }
    }
}

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        let subject = format!("service `{}`", svc.name);
        if vpc.security_groups.is_empty() {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject,
                "the service names no security group (its tasks get the VPC's default group, which is not read)",
            ));
            continue;
        }
        let net = match &inv.network {
            Ok(n) => n,
            Err(e) => {
                out.not_checked
                    .push(not_checked(&INFO, &svc.arn, subject, e.to_string()));
                continue;
            }
        };
        let groups: Vec<&SecurityGroup> = net
            .security_groups
            .iter()
            .filter(|g| vpc.security_groups.contains(&g.id))
            .collect();
        if groups.len() < vpc.security_groups.len() {
            out.not_checked.push(not_checked(
                &INFO,
                &svc.arn,
                subject,
                "a security group of the service was not found",
            ));
            continue;
        }
        let pl = net.s3_prefix_list.as_deref();
        let mut blocked: Vec<String> = Vec::new();
        let mut targets: Vec<String> = Vec::new();
        let mut manual = false;
        let mut unknown: Vec<String> = Vec::new();
        for p in path::service_paths(net, &inv.region, vpc)
            .into_iter()
            .flatten()
        {
            let mut dests: Vec<(String, Dest<'_>)> = Vec::new();
            let vpc_cidrs = || {
                net.vpcs
                    .iter()
                    .find(|v| v.id == p.subnet.vpc_id)
                    .map(|v| v.cidrs())
                    .unwrap_or_default()
            };
            // ECR: each endpoint with private DNS gets its service's traffic; what has none
            // goes out to the internet, or to what the network fix makes when it is blocked.
            let blocked_path = matches!(p.ecr, Ecr::Blocked(_));
            let mut to_internet = false;
            for suffix in ["ecr.api", "ecr.dkr"] {
                match path::interface(net, &inv.region, &p.subnet.vpc_id, suffix) {
                    Some(e) if e.private_dns || blocked_path => {
                        dests.push((format!("endpoint `{}`", e.id), Dest::Endpoint(e)))
                    }
                    None if blocked_path && !vpc_cidrs().is_empty() => dests.push((
                        format!("the `{suffix}` endpoint the plan creates"),
                        Dest::Planned(vpc_cidrs()),
                    )),
                    _ => to_internet |= matches!(p.ecr, Ecr::Internet(_)),
                }
            }
            if to_internet {
                dests.push(("the internet (ECR)".into(), Dest::Internet));
            }
            if let Some(e) = p.telemetry_endpoint {
                dests.push((
                    format!("endpoint `{}` (`guardduty-data`)", e.id),
                    Dest::Endpoint(e),
                ));
            }
            match &p.s3 {
                S3::Gateway(_) | S3::Blocked(_) => dests.push((
                    format!("the S3 prefix list `{}`", pl.unwrap_or("(not found)")),
                    Dest::S3PrefixList(pl),
                )),
                S3::Internet(_) => dests.push((
                    "S3 (`0.0.0.0/0` or the S3 prefix list)".into(),
                    Dest::S3PrefixList(pl),
                )),
                S3::Unverifiable(_) => {}
            }
            for (label, dest) in dests {
                match verdict(net, &groups, &dest) {
                    Verdict::Allowed => {}
                    Verdict::Blocked => {
                        match rule_targets(net, &dest) {
                            Some(t) => {
                                for t in t {
                                    if !targets.contains(&t) {
                                        targets.push(t);
                                    }
                                }
                            }
                            None => manual = true,
                        }
                        if !blocked.contains(&label) {
                            blocked.push(label);
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
        if blocked.is_empty() {
            continue;
        }
        let first = &vpc.security_groups[0];
        let fix = if manual {
            Fix::manual(format!(
                "allow TCP 443 egress from `{first}` to {}",
                blocked.join(", ")
            ))
        } else {
            let list: Vec<String> = targets.iter().map(|t| format!("`{t}`")).collect();
            Fix {
                title: format!("allow TCP 443 egress from `{first}` to {}", list.join(", ")),
                applicability: Applicability::Safe,
                operations: targets
                    .iter()
                    .map(|t| Operation::AuthorizeSecurityGroupEgress {
                        group_id: first.clone(),
                        protocol: "tcp".into(),
                        port: 443,
                        destination: t.clone(),
                    })
                    .collect(),
                ..Default::default()
            }
        };
        let ids: Vec<String> = vpc
            .security_groups
            .iter()
            .map(|g| format!("`{g}`"))
            .collect();
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "security groups {} allow no HTTPS egress to {}",
                ids.join(", "),
                blocked.join(", ")
            ),
            fix,
        ));
    }
    out
}
