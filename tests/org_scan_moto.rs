//! `plan --live` over an organization in moto: three member accounts created with
//! Organizations, each reached by assuming `OrganizationAccountAccessRole` (moto serves each
//! assumed role's calls from that account) and seeded with a different gap; scanned with
//! `--org` and with a c7n-org `--accounts-file`, one of whose accounts cannot be read.

use crate::support::block;
use crate::support::moto::Moto;
use crate::support::seed::{RolePolicy, Setup, seed};
use serde_json::Value;
use std::collections::BTreeMap;

/// The organization: the management account (moto's default, empty) and three members.
pub(crate) fn organization() -> (Moto, Vec<String>) {
    let moto = Moto::start();
    let ids = block(async {
        let conf = moto.config().await;
        let orgs = aws_sdk_organizations::Client::new(&conf);
        orgs.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap();
        let gaps = [
            Setup {
                platform: "1.3.0",
                ..Default::default()
            },
            Setup {
                task_memory: "512",
                container_memory: 512,
                ..Default::default()
            },
            Setup {
                role: RolePolicy::NoEcr,
                ..Default::default()
            },
        ];
        let mut ids = Vec::new();
        for (name, setup) in ["prod", "dev", "batch"].iter().zip(gaps) {
            let created = orgs
                .create_account()
                .email(format!("{name}@example.com"))
                .account_name(*name)
                .send()
                .await
                .unwrap();
            let id = created
                .create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_string();
            let member = moto.member_config(&id, "us-east-1").await;
            seed(&member, &setup).await;
            ids.push(id);
        }
        ids
    });
    (moto, ids)
}

/// Findings by account (the `account` every live finding carries in JSON).
fn by_account(v: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let account = f["account"].as_str().unwrap_or("(none)").to_string();
        out.entry(account)
            .or_default()
            .push(f["check"].as_str().unwrap().to_string());
    }
    for checks in out.values_mut() {
        checks.sort();
        checks.dedup();
    }
    out
}

#[test]
fn an_organization_is_scanned_account_by_account() {
    let (moto, ids) = organization();
    let r = moto.run(&["plan", "--live", "--org", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    let found = by_account(&v);
    assert_eq!(found[&ids[0]], ["platform-version-too-old"], "{found:?}");
    assert_eq!(found[&ids[1]], ["agent-memory-headroom"], "{found:?}");
    assert!(
        found[&ids[2]].contains(&"execution-role-lacks-ecr-access".to_string()),
        "{found:?}"
    );
    // The management account is read with the caller's own credentials, and is empty.
    assert!(!found.contains_key("123456789012"), "{found:?}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{}", r.stderr);
    assert_eq!(v["exit_code"], 2);
    // Every change names its account too.
    for c in v["changes"].as_array().unwrap() {
        assert!(ids.iter().any(|id| c["account"] == id.as_str()), "{c}");
    }
    // Text: one heading per account, in the order scanned.
    let r = moto.run(&["plan", "--live", "--org", "--diff", "none"]);
    let headings: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("== account "))
        .collect();
    assert_eq!(
        headings,
        [
            format!("== account {} (prod)", ids[0]),
            format!("== account {} (dev)", ids[1]),
            format!("== account {} (batch)", ids[2]),
        ],
        "{}",
        r.stdout
    );
    for (id, name) in ids.iter().zip(["prod", "dev", "batch"]) {
        assert!(
            r.stdout
                .contains(&format!("  `{id}` ({name}): 2 documents, 1 error, ")),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn an_accounts_file_selects_accounts_and_one_unreadable_account_is_not_checked() {
    let (moto, ids) = organization();
    let file = moto.home.path().join("accounts.yml");
    // `dev` is left out; a fourth account's role lives in another account, so what it reads
    // is not that account.
    std::fs::write(
        &file,
        format!(
            "accounts:\n- account_id: '{}'\n  name: prod\n- account_id: '{}'\n  name: batch\n  regions: [us-east-1]\n- account_id: '444444444444'\n  name: lost\n  role: arn:aws:iam::{}:role/OrganizationAccountAccessRole\n",
            ids[0], ids[2], ids[1]
        ),
    )
    .unwrap();
    let r = moto.run(&[
        "plan",
        "--live",
        "--accounts-file",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    let found = by_account(&v);
    assert_eq!(found[&ids[0]], ["platform-version-too-old"], "{found:?}");
    assert!(
        !found.contains_key(&ids[1]),
        "`dev` is not in the file: {found:?}"
    );
    assert!(found.contains_key(&ids[2]), "{found:?}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["resource"]
            .as_str()
            .unwrap()
            .starts_with("account 444444444444 (lost)"),
        "{errors:?}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("not checked:"),
        "{errors:?}"
    );
    // Not checked never passes: the run exits 1, and the others were still scanned.
    assert_eq!(v["exit_code"], 1);
    // `--accounts` with the same ids; `apply` refuses many accounts.
    let r = moto.run(&[
        "plan",
        "--live",
        "--accounts",
        &format!("{},{}", ids[0], ids[1]),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(by_account(&v).len(), 2, "{}", r.stdout);
    let r = moto.run(&["plan", "--live", "--org", "--out", "org.plan.json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("`--out` saves one account's plan"),
        "{}",
        r.stderr
    );
}

/// `apply --live --org`: one confirmation, then each account with its own credentials and one
/// journal per account and region; planned again, the organization is ready; `rollback DIR`
/// undoes the whole run and the gaps are back.
#[test]
fn an_organization_is_applied_and_rolled_back_as_one_run() {
    let (moto, ids) = organization();
    // A run's folder is its own: an existing one is refused before anything changes.
    let r = moto.run(&[
        "apply",
        "--live",
        "--org",
        "--auto-approve",
        "--journal",
        moto.home.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("exists: a run's journals go in a new folder"),
        "{}",
        r.stderr
    );
    let run = moto.home.path().join("run");
    let r = moto.run(&[
        "apply",
        "--live",
        "--org",
        "--auto-approve",
        "--journal",
        run.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("applied, by account"), "{}", r.stderr);
    for (id, name) in ids.iter().zip(["prod", "dev", "batch"]) {
        assert!(
            r.stderr.contains(&format!("`{id}` ({name}): ")),
            "{}",
            r.stderr
        );
        assert!(
            run.join(format!("{id}-us-east-1.jsonl")).is_file(),
            "one journal per account and region"
        );
    }
    let after = moto.run(&["plan", "--live", "--org", "--format", "json"]);
    let v: Value = serde_json::from_str(&after.stdout).unwrap();
    let errors: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The whole run undone, account by account.
    let r = moto.run(&[
        "rollback",
        run.to_str().unwrap(),
        "--auto-approve",
        "--deregister",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let back = moto.run(&["plan", "--live", "--org", "--format", "json"]);
    let v: Value = serde_json::from_str(&back.stdout).unwrap();
    let found = by_account(&v);
    assert!(
        found[&ids[0]].contains(&"platform-version-too-old".to_string()),
        "{found:?}"
    );
    assert!(
        found[&ids[1]].contains(&"agent-memory-headroom".to_string()),
        "{found:?}"
    );
    assert!(
        found[&ids[2]].contains(&"execution-role-lacks-ecr-access".to_string()),
        "{found:?}"
    );
}
