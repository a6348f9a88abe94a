//! Fault injection: a loopback proxy between the tool and moto that answers a share of requests
//! with throttling errors, HTTP 500s, slow responses and dropped connections. `plan --live`
//! must find the same things as without faults; `apply --live` must either complete or stop
//! with a journal from which `rollback` restores the prior state.

use crate::support::moto::Moto;
use crate::support::seed::{Net, RolePolicy, Setup, seeded};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Fault rates in percent.
#[derive(Clone, Copy)]
struct Rates {
    throttle: u64,
    error_500: u64,
    slow: u64,
    drop: u64,
    /// Requests whose body contains this always get a 500 (a persistent outage of one API).
    always_fail: Option<&'static str>,
}

struct Proxy {
    url: String,
    rates: Rates,
    stop: Arc<AtomicBool>,
    pub injected: Arc<AtomicU64>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_request(s: &mut TcpStream) -> Option<(Vec<u8>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((buf, head))
}

/// The error a service's protocol uses for throttling.
fn throttle_response(head: &str, body: &[u8]) -> Vec<u8> {
    let lower = head.to_ascii_lowercase();
    let (status, ctype, payload) = if lower.contains("x-amz-target:") {
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
        )
    } else if String::from_utf8_lossy(body).contains("Version=2016-11-15") {
        (
            "503 Service Unavailable",
            "text/xml",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>f</RequestID></Response>".into(),
        )
    } else if lower.starts_with("post / ") {
        (
            "400 Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>f</RequestId></ErrorResponse>".into(),
        )
    } else {
        (
            "503 Service Unavailable",
            "application/json",
            r#"{"message":"slow down"}"#.into(),
        )
    };
    format!("HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}", payload.len()).into_bytes()
}

fn handle(mut client: TcpStream, upstream: &str, rates: Rates, n: u64, injected: &AtomicU64) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((req, head)) = read_request(&mut client) else {
        return;
    };
    // A deterministic spread of faults over the request sequence.
    let roll = (n.wrapping_mul(2654435761) >> 7) % 100;
    if rates
        .always_fail
        .is_some_and(|a| String::from_utf8_lossy(&req).contains(a))
    {
        injected.fetch_add(1, Ordering::SeqCst);
        let _ = client.write_all(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        return;
    }
    let mut t = rates.throttle;
    if roll < t {
        injected.fetch_add(1, Ordering::SeqCst);
        let _ = client.write_all(&throttle_response(&head, &req));
        return;
    }
    t += rates.error_500;
    if roll < t {
        injected.fetch_add(1, Ordering::SeqCst);
        let body = "internal error";
        let _ = client.write_all(format!("HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).as_bytes());
        return;
    }
    t += rates.drop;
    if roll < t {
        injected.fetch_add(1, Ordering::SeqCst);
        return; // connection closed without a response
    }
    t += rates.slow;
    if roll < t {
        injected.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Forward, one request per connection.
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    // A proxy never waits forever: an upstream that keeps the connection open past its answer
    // (moto's 404 for an API it does not serve, under load) is cut, and the client retries.
    let _ = up.set_read_timeout(Some(Duration::from_secs(15)));
    let text = String::from_utf8_lossy(&req[..head.len()]).to_string();
    let rewritten: String = text
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n")
        .replacen("\r\n\r\n", "\r\nconnection: close\r\n\r\n", 1);
    let _ = up.write_all(rewritten.as_bytes());
    let _ = up.write_all(&req[head.len()..]);
    let mut resp = Vec::new();
    let _ = up.read_to_end(&mut resp);
    let _ = client.write_all(&resp);
}

fn proxy(upstream: &str, rates: Rates) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let injected = Arc::new(AtomicU64::new(0));
    let upstream = upstream.trim_start_matches("http://").to_string();
    let (stop2, injected2) = (stop.clone(), injected.clone());
    std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop2.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((client, _)) => {
                    let _ = client.set_nonblocking(false);
                    n += 1;
                    let (up, inj) = (upstream.clone(), injected2.clone());
                    std::thread::spawn(move || handle(client, &up, rates, n, &inj));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Proxy {
        url,
        rates,
        stop,
        injected,
    }
}

/// Findings as comparable strings.
fn findings(v: &Value) -> Vec<String> {
    let mut f: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["check"], f["resource"], f["message"]))
        .collect();
    f.sort();
    f
}

const FAULTS: Rates = Rates {
    throttle: 20,
    error_500: 5,
    slow: 5,
    drop: 3,
    always_fail: None,
};

fn through(moto: &Moto, proxy: &Proxy, args: &[&str]) -> crate::support::Run {
    let attempts = if proxy.rates.always_fail.is_some() {
        "3"
    } else {
        "10"
    };
    moto.run_with(
        args,
        &[
            ("AWS_ENDPOINT_URL", &proxy.url),
            ("AWS_MAX_ATTEMPTS", attempts),
        ],
    )
}

#[test]
fn plan_live_finds_the_same_under_faults() {
    let setup = Setup {
        role: RolePolicy::NoEcr,
        net: Net::Private,
        task_memory: "512",
        platform: "1.3.0",
        dns: false,
        ..Default::default()
    };
    let moto = seeded(&setup);
    let clean = moto.run(&["plan", "--live", "--format", "json"]);
    let clean: Value = serde_json::from_str(&clean.stdout).unwrap();
    let p = proxy(&moto.url, FAULTS);
    let faulty = through(&moto, &p, &["plan", "--live", "--format", "json"]);
    let v: Value =
        serde_json::from_str(&faulty.stdout).unwrap_or_else(|e| panic!("{e}: {}", faulty.stderr));
    assert!(
        p.injected.load(Ordering::SeqCst) > 3,
        "faults were injected"
    );
    assert_eq!(findings(&v), findings(&clean));
    assert_eq!(v["not_checked"], clean["not_checked"]);
    assert_eq!(faulty.code, 2);
}

#[test]
fn apply_live_under_faults_completes_or_rolls_back() {
    apply_under(FAULTS);
}

#[test]
fn apply_live_with_an_api_down_stops_and_rolls_back() {
    // EC2 security groups are down for the whole run: IAM succeeds, the network step fails.
    apply_under(Rates {
        always_fail: Some("Action=CreateSecurityGroup"),
        ..FAULTS
    });
}

fn apply_under(rates: Rates) {
    let setup = Setup {
        role: RolePolicy::NoEcr,
        net: Net::Private,
        task_memory: "512",
        platform: "1.3.0",
        ..Default::default()
    };
    let moto = seeded(&setup);
    let before = moto.run(&["plan", "--live", "--format", "json"]);
    let p = proxy(&moto.url, rates);
    let journal = moto.home.path().join("j.jsonl");
    let r = through(
        &moto,
        &p,
        &[
            "apply",
            "--live",
            "--auto-approve",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert!(
        p.injected.load(Ordering::SeqCst) > 3,
        "faults were injected"
    );
    eprintln!(
        "apply under faults: exit {}, {} faults injected",
        r.code,
        p.injected.load(Ordering::SeqCst)
    );
    // Every call that was made has a record before it.
    let text = std::fs::read_to_string(&journal).unwrap_or_default();
    let befores = text
        .lines()
        .filter(|l| l.contains("\"phase\":\"before\""))
        .count();
    let afters = text
        .lines()
        .filter(|l| l.contains("\"phase\":\"after\""))
        .count();
    assert_eq!(befores, afters, "{text}");
    if r.code == 0 {
        let after = moto.run(&["plan", "--live", "--format", "json"]);
        let v: Value = serde_json::from_str(&after.stdout).unwrap();
        assert!(
            v["changes"].as_array().unwrap().is_empty(),
            "{v:#}\napply said:\n{}",
            r.stderr
        );
    } else {
        // Stopped by a failure (the hint names `rollback`), or done but with a read that the
        // faults made impossible (not checked): either way rollback restores the account.
        assert!(
            r.stderr.contains("fargate-rtm rollback") || r.stderr.contains("could not be run"),
            "{}",
            r.stderr
        );
        let rb = moto.run(&[
            "rollback",
            "--auto-approve",
            "--deregister",
            journal.to_str().unwrap(),
        ]);
        assert_eq!(rb.code, 0, "{}", rb.stderr);
        let again = moto.run(&["plan", "--live", "--format", "json"]);
        let (a, b): (Value, Value) = (
            serde_json::from_str(&again.stdout).unwrap(),
            serde_json::from_str(&before.stdout).unwrap(),
        );
        assert_eq!(findings(&a), findings(&b));
    }
}
