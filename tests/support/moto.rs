//! A local `moto_server` per test: installed once into a venv under the target directory (pinned
//! version), started on a free loopback port, killed on drop. The tests seed it through the Rust
//! SDK and run the real binary against it with `AWS_ENDPOINT_URL`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const MOTO_VERSION: &str = "5.2.5";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The Python of the moto venv (botocore comes with moto).
pub fn venv_python() -> PathBuf {
    moto_server().parent().unwrap().join("python")
}

/// `moto_server` from a venv the tests create themselves (once per target directory), or from
/// `FARGATE_RTM_MOTO_SERVER` when set.
fn moto_server() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FARGATE_RTM_MOTO_SERVER") {
            return PathBuf::from(p);
        }
        super::venv::tool(
            &format!("moto-venv-{MOTO_VERSION}"),
            &format!("moto[server]=={MOTO_VERSION}"),
            "moto_server",
        )
    })
}

pub struct Moto {
    child: Child,
    pub url: String,
    /// A home directory without AWS config, so nothing on the machine leaks into a test.
    pub home: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.")
}

impl Moto {
    pub fn start() -> Moto {
        let bin = moto_server();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server starts");
            let mut moto = Moto {
                child,
                url: format!("http://127.0.0.1:{port}"),
                home: tempfile::tempdir().unwrap(),
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if ready(port) {
                    return moto;
                }
                if let Ok(Some(_)) = moto.child.try_wait() {
                    break; // port taken in between: try another
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = moto.child.kill();
        }
        panic!("moto_server did not start");
    }

    /// SDK configuration for seeding, with the default account's dummy keys.
    pub async fn config(&self) -> aws_config::SdkConfig {
        self.config_with(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .await
    }

    pub async fn config_with(
        &self,
        creds: aws_sdk_sts::config::Credentials,
    ) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(creds)
            .load()
            .await
    }

    /// SDK configuration for `region` of the member `account`, reached by assuming its
    /// `OrganizationAccountAccessRole` (moto serves the assumed role's calls from that account).
    pub async fn member_config(&self, account: &str, region: &str) -> aws_config::SdkConfig {
        let assumed = aws_sdk_sts::Client::new(&self.config().await)
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("seed")
            .send()
            .await
            .unwrap();
        let c = assumed.credentials().unwrap();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "moto",
            ))
            .load()
            .await
    }

    /// Runs `fargate-rtm ARGS` against this server with dummy credentials.
    pub fn run(&self, args: &[&str]) -> super::Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> super::Run {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_fargate-rtm"));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        super::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A command with the environment of a test run against this server.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home.path().join("credentials"),
            );
        cmd
    }
}
