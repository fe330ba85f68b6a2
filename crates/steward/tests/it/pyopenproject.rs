//! The pyopenproject client (PyPI, 0.7.4) against a real server: projects,
//! work packages (create through the form, read, update with lockVersion,
//! filter, sort, pages, delete), comments and activities, memberships and
//! the reference data, each step checked by tests/client/pyopenproject_check.py.
//!
//! Needs `python3` (or STEWARD_TEST_PYTHON) with the `pyopenproject`
//! module. Where the build did not find it the test is reported as ignored
//! (crates/steward/build.rs); under CI=true its absence is a failure.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use steward_services::projects::ProjectInput;

use crate::harness::{Backend, TestApp};

const PROJECT: &str = "pyop";
const MEMBER: &str = "member1";
/// The whole check takes a few seconds; a client that loops on a page link
/// would never end.
const TIMEOUT: Duration = Duration::from_secs(300);

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/client/pyopenproject_check.py")
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter: STEWARD_TEST_PYTHON (CI points it at a virtual
/// environment holding the client) or python3.
fn python() -> String {
    std::env::var("STEWARD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether python3 can import pyopenproject; the reason when it cannot.
fn client_missing() -> Option<String> {
    match Command::new(python())
        .args(["-c", "import pyopenproject"])
        .stdin(Stdio::null())
        .output()
    {
        Err(e) => Some(format!("python3 cannot be run: {e}")),
        Ok(out) if !out.status.success() => Some(format!(
            "python3 cannot import pyopenproject (pip install pyopenproject==0.7.4): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    }
}

/// Runs the check script against the server; returns (success, output).
async fn run_check(app: &TestApp, out_file: PathBuf) -> (bool, String) {
    let out = std::fs::File::create(&out_file).unwrap();
    let err = out.try_clone().unwrap();
    let mut child = Command::new(python())
        .arg(script())
        .arg(&app.base)
        .arg(&app.admin_token)
        .current_dir(workspace_root())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("STEWARD_PROJECT", PROJECT)
        .env("STEWARD_MEMBER_LOGIN", MEMBER)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start python3");
    let started = Instant::now();
    // The server runs on this runtime: wait without blocking it.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut output = std::fs::read_to_string(&out_file).unwrap_or_default();
    if status.is_none() {
        output.push_str(&format!("\n(killed after {} s)\n", TIMEOUT.as_secs()));
    }
    (status.is_some_and(|s| s.success()), output)
}

async fn pyopenproject_client(backend: Backend) {
    if let Some(why) = client_missing() {
        panic!("{why}");
    }
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let access = app.services().access(Some(&admin)).await.unwrap();
    app.services()
        .create_project(
            &access,
            ProjectInput {
                identifier: Some(PROJECT.into()),
                name: Some("PyOP".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.user(MEMBER).await;

    let (ok, output) = run_check(&app, app.db.dir.join("pyopenproject.log")).await;
    assert!(
        ok,
        "tests/client/pyopenproject_check.py failed against {}:\n{output}",
        app.base
    );
    assert!(
        output.contains(" passed, 0 failed"),
        "the check did not finish:\n{output}"
    );
    println!("{output}");
}

/// The two engines by hand: each test also needs the client, and a missing
/// client is the reason given first.
mod pyopenproject_client {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(steward_test_pyopenproject),
        ignore = "needs python3 with pyopenproject (pip install pyopenproject==0.7.4) or STEWARD_TEST_PYTHON naming such an interpreter"
    )]
    async fn sqlite() {
        super::pyopenproject_client(crate::harness::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(steward_test_pyopenproject),
        ignore = "needs python3 with pyopenproject (pip install pyopenproject==0.7.4) or STEWARD_TEST_PYTHON naming such an interpreter"
    )]
    #[cfg_attr(
        all(steward_test_pyopenproject, not(steward_test_postgres)),
        ignore = "needs PostgreSQL: set STEWARD_TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres"
    )]
    async fn postgres() {
        super::pyopenproject_client(crate::harness::Backend::postgres()).await;
    }
}
