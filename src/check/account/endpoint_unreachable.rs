//! `endpoint-unreachable` (live): the security groups of the ECR interface endpoints the tasks
//! use must admit TCP 443 from the tasks (their security group, or their subnet's CIDR).

use super::path;
use super::{AccountContext, finding, network_or_not_checked, not_checked};
use crate::aws::VpcEndpoint;
use crate::check::Outcome;
use crate::check::{Check, Runner};
use crate::cidr;
use crate::model::{Applicability, CheckInfo, Fix, Severity};
use crate::operation::Operation;

pub static INFO: CheckInfo = CheckInfo {
    slug: "endpoint-unreachable",
    severity: Severity::Error,
    summary: "an ECR endpoint's security groups do not admit 443 from the tasks (live)",
    explain: "\
The `ecr.api` or `ecr.dkr` interface endpoint that a subnet of the service uses (both have
private DNS, so ECR's names resolve to them) has security groups none of which allows inbound
TCP 443 from the service's security groups or from a CIDR holding the subnet.

Why: \"The security group attached to the VPC endpoint must allow incoming connections on port
443 from the private subnet of the VPC.\" Otherwise the image pull times out and the agent never
starts.

Fix (safe): allow TCP 443 in from the service's subnets' CIDRs on the endpoint's first security
group.",
    sources: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html"],
};

/// In the registry (`check::REGISTRY`).
pub const CHECK: Check = Check {
    info: &INFO,
    run: Runner::Account(check),
};

pub fn check(ctx: &AccountContext<'_>) -> Outcome {
    let mut out = Outcome::default();
    let inv = ctx.inventory;
    let Some(net) = network_or_not_checked(&INFO, inv, &mut out) else {
        return out;
    };
    for svc in inv.fargate_services() {
        let Some(vpc) = &svc.network else { continue };
        let subject = format!("service `{}`", svc.name);
        // Endpoint -> the service's subnet CIDRs it does not admit.
        let mut closed: Vec<(&VpcEndpoint, Vec<String>)> = Vec::new();
        // A shared VPC's endpoints belong to its owner.
        let mut owners: Vec<String> = Vec::new();
        for p in path::service_paths(net, &inv.region, vpc)
            .into_iter()
            .flatten()
        {
            for e in p.ecr_endpoints.iter().copied() {
                let groups: Vec<_> = net
                    .security_groups
                    .iter()
                    .filter(|g| e.security_group_ids.contains(&g.id))
                    .collect();
                if groups.len() < e.security_group_ids.len() || groups.is_empty() {
                    out.not_checked.push(not_checked(
                        &INFO,
                        &svc.arn,
                        subject.clone(),
                        format!("a security group of `{}` was not found", e.id),
                    ));
                    continue;
                }
                let subnet = &p.subnet.cidr;
                let admits = groups.iter().flat_map(|g| g.ingress.iter()).any(|r| {
                    r.allows_https()
                        && (r.groups.iter().any(|g| vpc.security_groups.contains(g))
                            || r.cidrs.iter().any(|c| cidr::contains(c, subnet)))
                });
                if admits {
                    continue;
                }
                if subnet.is_empty() {
                    out.not_checked.push(not_checked(
                        &INFO,
                        &svc.arn,
                        subject.clone(),
                        format!("the CIDR of subnet `{}` is not known", p.subnet.id),
                    ));
                    continue;
                }
                let owner = &p.subnet.owner_id;
                if !owner.is_empty() && *owner != inv.identity.account && !owners.contains(owner) {
                    owners.push(owner.clone());
                }
                match closed.iter_mut().find(|(x, _)| x.id == e.id) {
                    Some((_, cidrs)) if !cidrs.contains(subnet) => cidrs.push(subnet.clone()),
                    Some(_) => {}
                    None => closed.push((e, vec![subnet.clone()])),
                }
            }
        }
        if closed.is_empty() {
            continue;
        }
        // One rule per group, with every CIDR its endpoints do not admit.
        let mut rules: Vec<(String, String, Vec<String>)> = Vec::new();
        for (e, cidrs) in &closed {
            let group = &e.security_group_ids[0];
            match rules.iter_mut().find(|(g, _, _)| g == group) {
                Some((_, _, have)) => {
                    for c in cidrs {
                        if !have.contains(c) {
                            have.push(c.clone());
                        }
                    }
                }
                None => rules.push((group.clone(), e.vpc_id.clone(), cidrs.clone())),
            }
        }
        let ids: Vec<String> = closed.iter().map(|(e, _)| format!("`{}`", e.id)).collect();
        let mut all: Vec<String> = closed
            .iter()
            .flat_map(|(_, c)| c.iter().map(|c| format!("`{c}`")))
            .collect();
        all.sort();
        all.dedup();
        let groups: Vec<String> = rules.iter().map(|(g, _, _)| format!("`{g}`")).collect();
        let title = format!(
            "allow TCP 443 in from {} on {}",
            all.join(", "),
            groups.join(", ")
        );
        let fix = if owners.is_empty() {
            Fix {
                title,
                applicability: Applicability::Safe,
                operations: rules
                    .into_iter()
                    .map(
                        |(group_id, vpc_id, cidrs)| Operation::AuthorizeSecurityGroupIngress {
                            vpc_id,
                            group_id,
                            cidrs,
                        },
                    )
                    .collect(),
                ..Default::default()
            }
        } else {
            let owners: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
            Fix::manual(format!(
                "the VPC is shared by account {}: ask its owner to {title}",
                owners.join(", ")
            ))
        };
        out.findings.push(finding(
            &INFO,
            &svc.arn,
            subject,
            format!(
                "the security groups of {} admit no TCP 443 from {}",
                ids.join(", "),
                all.join(", ")
            ),
            fix,
        ));
    }
    out
}
