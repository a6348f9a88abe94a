//! A pinned Python tool for a bench, installed into its own venv under the target directory
//! (the first run only), as the tests install moto.

use std::path::PathBuf;
use std::process::Command;

/// `bin` of `package==version`, installed when missing.
pub fn tool(package: &str, version: &str, bin: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{package}-venv-{version}"));
    let path = venv.join("bin").join(bin);
    if !path.is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success()
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    &format!("{package}=={version}"),
                ])
                .status()
                .unwrap()
                .success();
        assert!(ok, "cannot install {package} {version}");
    }
    path
}
