//! `--format html` in a real headless Chromium (Debian's `chromium`, which `.ci/run` installs):
//! the page of a seeded organization loads without a console message, its matrix has the
//! expected cells, a filter hides the right rows, and a screenshot is kept as an artifact
//! (`target/tmp/html-report.png`).

use crate::snap;
use crate::support::{root, run_in};
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium headless on `url`, as this machine allows it (no network, a fresh profile); returns
/// stdout and stderr.
fn chromium(url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `class` and text of the matrix cell of (account, region).
fn cell(dom: &str, account: &str, region: &str) -> Option<(String, String)> {
    let key = format!("data-account=\"{account}\" data-region=\"{region}\">");
    let at = dom.find(&key)?;
    let before = &dom[..at];
    let class_at = before.rfind("class=\"")? + 7;
    let class = before[class_at..].split('"').next()?.to_string();
    let text = dom[at + key.len()..].split('<').next()?.to_string();
    Some((class, text))
}

#[test]
fn the_report_of_an_organization_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        crate::support::skipped("Debian's chromium is not installed (`.ci/run` installs it)");
        return;
    }
    let (moto, ids) = crate::org_scan_moto::organization();
    let file = moto.home.path().join("accounts.yml");
    std::fs::write(
        &file,
        format!(
            "accounts:\n- account_id: '{}'\n  name: prod\n- account_id: '{}'\n  name: dev\n- account_id: '{}'\n  name: batch\n- account_id: '444444444444'\n  name: lost\n  role: arn:aws:iam::{}:role/OrganizationAccountAccessRole\n",
            ids[0], ids[1], ids[2], ids[1]
        ),
    )
    .unwrap();
    let r = moto.run(&[
        "plan",
        "--live",
        "--accounts-file",
        file.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert_eq!(r.code, 1, "one account is not checked: {}", r.stderr);
    assert!(r.stdout.starts_with("<!DOCTYPE html>"), "{}", r.stdout);
    // Self-contained: nothing loaded from elsewhere.
    for outside in ["src=", "href=", "@import", "url("] {
        assert!(!r.stdout.contains(outside), "`{outside}` in the page");
    }
    let page = moto.home.path().join("report.html");
    std::fs::write(&page, &r.stdout).unwrap();
    let url = format!("file://{}", page.display());

    // Loaded as is: no console message, every row shown, the matrix as seeded.
    let (dom, log) = chromium(&url, &["--dump-dom"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "{console:?}");
    let rows = dom.matches("<tr class=\"finding").count();
    assert!(rows >= 3, "{dom}");
    assert_eq!(
        dom.matches("<tr class=\"finding").count()
            - dom.matches("data-severity=\"error\" hidden").count()
            - dom.matches("data-severity=\"warning\" hidden").count(),
        rows
    );
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            cell(&dom, id, "us-east-1").map(|c| c.0),
            Some("not-ready".to_string()),
            "account {i}: {dom}"
        );
    }
    assert_eq!(
        cell(&dom, "444444444444", "us-east-1"),
        Some(("not-checked".into(), "not checked".into())),
        "{dom}"
    );
    // A filter from the fragment: only the old platform's findings stay.
    let (dom, log) = chromium(
        &format!("{url}#check=platform-version-too-old"),
        &["--dump-dom"],
    );
    assert!(!log.contains(":CONSOLE"), "{log}");
    let shown: Vec<&str> = dom
        .split("<tr class=\"finding")
        .skip(1)
        .filter(|row| !row.split('>').next().unwrap_or_default().contains("hidden"))
        .collect();
    assert_eq!(shown.len(), 1, "{dom}");
    assert!(shown[0].contains("data-check=\"platform-version-too-old\""));
    assert!(dom.contains("<span id=\"shown\">1</span>"), "{dom}");
    // And by account: every row of that account, none of the others.
    let (dom, _) = chromium(&format!("{url}#account={}", ids[2]), &["--dump-dom"]);
    for row in dom.split("<tr class=\"finding").skip(1) {
        let head = row.split('>').next().unwrap_or_default();
        let mine = head.contains(&format!("data-account=\"{}\"", ids[2]));
        assert_eq!(!head.contains("hidden"), mine, "{head}");
    }
    // The screenshot, kept as an artifact of the run.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG"),
        "no screenshot at {}",
        shot.display()
    );
}

/// The page of the bundled examples, as a snapshot (file mode: one `files` cell).
#[test]
fn the_report_of_the_examples() {
    let r = run_in(&root(), &["plan", "--format", "html", "examples/"], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    snap!("html-examples", r.stdout);
}
