//! Tells the integration tests which outside requirements this machine
//! has, as `cfg`s they turn into `#[ignore = "what to set"]`: a test that
//! cannot run here is reported as ignored, never as passed while doing
//! nothing (ADR 0014). Under `CI=true` every requirement counts as present,
//! so a missing one fails its tests there instead of being skipped.
//!
//! Only environment variables trigger a new run of this script, so an
//! ordinary build does not repeat it: installing chromium or pyopenproject
//! later is noticed after `cargo clean -p steward` or a change of PATH.

use std::path::Path;
use std::process::{Command, Stdio};

/// The `cfg`s this script may set, each with what it says.
const CFGS: &[&str] = &[
    // STEWARD_TEST_POSTGRES_URL is set: the PostgreSQL half of each test runs.
    "steward_test_postgres",
    // chromium and chromedriver are on PATH: the browser test runs.
    "steward_test_browser",
    // The Python interpreter imports pyopenproject: the API-client test runs.
    "steward_test_pyopenproject",
    // Not running as root: a read-only directory refuses writes.
    "steward_test_unprivileged",
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for var in [
        "STEWARD_TEST_POSTGRES_URL",
        "STEWARD_TEST_PYTHON",
        "CI",
        "PATH",
        "USER",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }

    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let postgres = std::env::var("STEWARD_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    let browser = on_path(&["chromium", "chromium-browser"]) && on_path(&["chromedriver"]);
    let present = [
        ("steward_test_postgres", ci || postgres),
        ("steward_test_browser", ci || browser),
        ("steward_test_pyopenproject", ci || imports_pyopenproject()),
        ("steward_test_unprivileged", !is_root()),
    ];
    for (cfg, on) in present {
        if on {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

/// Whether one of `names` is an executable file in a PATH directory.
fn on_path(names: &[&str]) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| names.iter().any(|n| Path::new(&dir).join(n).is_file()))
}

/// Whether the interpreter the test uses (STEWARD_TEST_PYTHON, else
/// python3) can import the client.
fn imports_pyopenproject() -> bool {
    let python = std::env::var("STEWARD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    Command::new(python)
        .args(["-c", "import pyopenproject"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the build (and so, normally, the test run) has user id 0.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
