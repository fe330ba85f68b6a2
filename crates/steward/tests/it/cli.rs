//! The `steward` binary as an operator meets it: exit codes, the one line on
//! stderr that names what is wrong, the account commands, and `serve`
//! starting, answering and stopping cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hyper::Method;
use steward_services::passwords::{self, Argon2Params, Verified};
use steward_services::secrets;
use steward_storage::{api_tokens, users, Db, DbOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Backend, Req, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_steward");
const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const ADMIN_PW: &str = "long enough pw";

/// A temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let mut b = [0u8; 6];
        getrandom::fill(&mut b).unwrap();
        let suffix: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("steward-cli-{suffix}"));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary left behind.
#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        self
    }

    /// Asserts exit code 1 and returns the single `steward: error:` line.
    #[track_caller]
    fn failed(&self) -> String {
        assert_eq!(self.code, Some(1), "expected exit code 1: {self:#?}");
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("steward: error: "))
            .map(str::trim_end)
            .collect();
        assert_eq!(lines.len(), 1, "one error line on stderr: {self:#?}");
        assert_eq!(
            self.stderr.trim_end().lines().last(),
            Some(lines[0]),
            "the error line comes last: {self:#?}"
        );
        lines[0].to_string()
    }

    /// Like [`Out::failed`], for errors found before logging starts: then
    /// stderr holds nothing but that line.
    #[track_caller]
    fn failed_alone(&self) -> String {
        let line = self.failed();
        assert_eq!(
            self.stderr.trim_end(),
            line,
            "only the error line: {self:#?}"
        );
        line
    }
}

/// Runs of the binary with a scratch data directory and a clean environment.
struct Steward {
    scratch: Scratch,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    /// The database, for looking inside from the test.
    url: String,
    _pg: Option<TestDb>,
}

impl Steward {
    /// SQLite in the data directory (the default when database.url is empty).
    fn new() -> Steward {
        let scratch = Scratch::new();
        let data_dir = scratch.0.join("data");
        let url = format!("sqlite:{}", data_dir.join("steward.sqlite3").display());
        let mut s = Steward {
            env: Vec::new(),
            data_dir,
            url,
            scratch,
            _pg: None,
        };
        s.set("STEWARD_DATA_DIR", &s.data_dir.display().to_string());
        s.set("STEWARD_LOG_LEVEL", "warn");
        s.set("STEWARD_SECURITY_ARGON2_MEMORY_KIB", "256");
        s.set("STEWARD_SECURITY_ARGON2_ITERATIONS", "1");
        s
    }

    /// On the given backend: PostgreSQL gets a fresh schema.
    async fn on(backend: &Backend) -> Steward {
        let mut s = Steward::new();
        if let Backend::Postgres(_) = backend {
            let tdb = TestDb::new(backend).await;
            s.set("STEWARD_DATABASE_URL", &tdb.url);
            s.url = tdb.url.clone();
            s._pg = Some(tdb);
        }
        s
    }

    fn set(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
    }

    fn with(mut self, k: &str, v: &str) -> Steward {
        self.set(k, v);
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        // Nothing from the caller's environment leaks in (STEWARD_CONFIG,
        // a STEWARD_DATABASE_URL of someone's own, ...).
        for (k, _) in std::env::vars() {
            if k.starts_with("STEWARD_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env_remove("STEWARD_CONFIG");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.current_dir(&self.scratch.0);
        cmd.args(args);
        cmd
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Out {
        run(self.command(args), None)
    }

    #[track_caller]
    fn run_stdin(&self, args: &[&str], input: &str) -> Out {
        run(self.command(args), Some(input))
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url, &DbOptions::default())
            .await
            .expect("open the test database")
    }
}

/// Runs a command to its end (at most a minute), feeding it `input`.
#[track_caller]
fn run(mut cmd: Command, input: Option<&str>) -> Out {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the steward binary");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().unwrap();
        // It may exit without reading; a broken pipe is its answer, not ours.
        let _ = stdin.write_all(input.as_bytes());
    }
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("wait for steward"),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("steward {cmd:?} did not finish within 60 s");
        }
    };
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Blocking work inside an async test, without starving the runtime.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Arguments and help

#[test]
fn every_subcommand_has_help() {
    let st = Steward::new();
    let paths: &[&[&str]] = &[
        &[],
        &["serve"],
        &["migrate"],
        &["user"],
        &["user", "create"],
        &["user", "list"],
        &["user", "show"],
        &["user", "lock"],
        &["user", "unlock"],
        &["user", "set-password"],
        &["user", "token"],
        &["config"],
        &["config", "check"],
    ];
    for path in paths {
        let mut args = path.to_vec();
        args.push("--help");
        let out = st.run(&args);
        assert_eq!(out.code, Some(0), "{args:?}: {out:#?}");
        let usage = format!("Usage: steward {}", path.join(" "));
        assert!(
            out.stdout.contains(usage.trim_end()),
            "{args:?} shows its usage: {out:#?}"
        );
        assert!(out.stderr.is_empty(), "{args:?}: {out:#?}");
    }
    // Help says what matters.
    let out = st.run(&["user", "create", "--help"]);
    for opt in ["--login", "--email", "--password-stdin", "--admin"] {
        assert!(out.stdout.contains(opt), "{opt}: {}", out.stdout);
    }
    let out = st.run(&["--help"]);
    for sub in ["serve", "migrate", "user", "config"] {
        assert!(out.stdout.contains(sub), "{sub}: {}", out.stdout);
    }
    let out = st.run(&["--version"]);
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(
        out.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{}",
        out.stdout
    );
    assert!(!st.data_dir.exists(), "help touches nothing");
}

#[test]
fn bad_arguments_exit_2_naming_them() {
    let st = Steward::new();
    let out = st.run(&["migrate", "--frobnicate"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stderr.contains("--frobnicate"), "{out:#?}");

    let out = st.run(&["frobnicate"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stderr.contains("frobnicate"), "{out:#?}");

    let out = st.run(&[]);
    assert_eq!(out.code, Some(2), "a subcommand is required: {out:#?}");
    assert!(out.stderr.contains("Usage"), "{out:#?}");

    let out = st.run(&["user", "create", "--login", "x"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(
        out.stderr.contains("--email"),
        "names what is missing: {out:#?}"
    );

    let out = st.run(&["user", "show"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stderr.contains("<USER>"), "{out:#?}");
    assert!(!st.data_dir.exists(), "nothing was touched");
}

// ---------------------------------------------------------------------------
// Configuration problems

#[test]
fn invalid_settings_name_the_option() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "STEWARD_SERVER_LISTEN",
            "nowhere",
            &["server.listen", "nowhere"],
        ),
        (
            "STEWARD_SESSION_SECURE_COOKIE",
            "maybe",
            &["session.secure_cookie", "maybe"],
        ),
        (
            "STEWARD_DATABASE_URL",
            "mysql://x",
            &["database.url", "mysql://x"],
        ),
        (
            "STEWARD_DATABASE_POOL_SIZE",
            "many",
            &["STEWARD_DATABASE_POOL_SIZE", "many"],
        ),
        ("STEWARD_DATABASE_POOL_SIZE", "0", &["database.pool_size"]),
        ("STEWARD_DATABASE_POOL_SIZE", "-1", &["database.pool_size"]),
        (
            "STEWARD_SECURITY_ARGON2_MEMORY_KIB",
            "1",
            &["security.argon2"],
        ),
        (
            "STEWARD_SERVER_PUBLIC_URL",
            "ftp://x",
            &["server.public_url"],
        ),
    ];
    for (var, value, expect) in cases {
        let st = Steward::new().with(var, value);
        for cmd in [
            &["config", "check"][..],
            &["migrate"],
            &["serve"],
            &["user", "list"],
        ] {
            let line = st.run(cmd).failed_alone();
            for e in *expect {
                assert!(line.contains(e), "{var}={value} {cmd:?}: {line}");
            }
        }
        assert!(!st.data_dir.exists(), "{var}={value}: nothing was touched");
    }
}

#[test]
fn bad_database_urls_are_reported() {
    // Not a database URL at all.
    let st = Steward::new().with("STEWARD_DATABASE_URL", "mysql://x");
    let line = st.run(&["migrate"]).failed_alone();
    assert!(line.contains("database.url"), "{line}");
    assert!(
        line.contains("sqlite:") && line.contains("postgres://"),
        "says what works: {line}"
    );

    // SQLite without a file.
    let st = Steward::new().with("STEWARD_DATABASE_URL", "sqlite:");
    let line = st.run(&["migrate"]).failed();
    assert!(line.contains("database.url"), "{line}");
    assert!(line.contains("names no file"), "{line}");

    // A PostgreSQL server that is not there.
    let st = Steward::new().with("STEWARD_DATABASE_URL", "postgres://postgres@127.0.0.1:1/x");
    let started = Instant::now();
    let line = st.run(&["migrate"]).failed();
    assert!(line.contains("database.url"), "{line}");
    assert!(line.contains("cannot connect to PostgreSQL at"), "{line}");
    assert!(line.contains("127.0.0.1:1"), "says where: {line}");
    assert!(started.elapsed() < Duration::from_secs(30));

    // ... and its password never shows, whichever way it was given.
    for url in [
        "postgres://u:hunter2@127.0.0.1:1/x",
        "postgres://u@127.0.0.1:1/x?password=hunter2",
    ] {
        let st = Steward::new().with("STEWARD_DATABASE_URL", url);
        for cmd in [&["migrate"][..], &["user", "list"]] {
            let out = st.run(cmd);
            let line = out.failed();
            assert!(line.contains("database.url"), "{line}");
            assert!(!out.stderr.contains("hunter2"), "{url} {cmd:?}: {out:#?}");
            assert!(!out.stdout.contains("hunter2"), "{url} {cmd:?}: {out:#?}");
        }
    }
}

#[test]
fn unusable_data_directory_is_reported() {
    // Tests run as root: permissions do not stop root, /proc does.
    let st = Steward::new().with("STEWARD_DATA_DIR", "/proc/steward-x");
    let line = st.run(&["migrate"]).failed();
    assert!(line.contains("data_dir"), "{line}");
    assert!(line.contains("/proc/steward-x"), "{line}");
    let line = st.run(&["user", "list"]).failed();
    assert!(line.contains("data_dir"), "{line}");
    let st = st.with("STEWARD_SERVER_LISTEN", &free_port().to_string());
    let line = st.run(&["serve"]).failed();
    assert!(line.contains("data_dir"), "{line}");

    // A file where the directory should be.
    let st = Steward::new();
    let file = st.scratch.0.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let st = st.with("STEWARD_DATA_DIR", &file.display().to_string());
    let line = st.run(&["migrate"]).failed();
    assert!(line.contains("data_dir"), "{line}");
}

#[test]
fn a_port_in_use_is_reported() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let st = Steward::new().with("STEWARD_SERVER_LISTEN", &addr);
    let started = Instant::now();
    let line = st.run(&["serve", "--admin-password", ADMIN_PW]).failed();
    assert!(line.contains("server.listen"), "{line}");
    assert!(line.contains(&addr), "{line}");
    assert!(line.contains("in use"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        !st.data_dir.join("steward.sqlite3").exists(),
        "fails before touching the database"
    );
    drop(taken);
}

#[test]
fn config_files_are_checked() {
    let st = Steward::new();
    let file = st.scratch.0.join("steward.toml");
    let path = file.display().to_string();

    std::fs::write(&file, "[server]\nlisten_on = \"127.0.0.1:9000\"\n").unwrap();
    let line = st
        .run(&["--config", &path, "config", "check"])
        .failed_alone();
    assert!(line.contains("server.listen_on"), "{line}");
    assert!(line.contains(&path), "names the file: {line}");
    // The same through STEWARD_CONFIG, and the option may follow the subcommand.
    let mut cmd = st.command(&["config", "check"]);
    cmd.env("STEWARD_CONFIG", &path);
    let line = run(cmd, None).failed_alone();
    assert!(line.contains("listen_on"), "{line}");
    let line = st.run(&["migrate", "--config", &path]).failed_alone();
    assert!(line.contains("listen_on"), "{line}");

    std::fs::write(&file, "colour = \"blue\"\n").unwrap();
    let line = st.run(&["--config", &path, "migrate"]).failed_alone();
    assert!(line.contains("colour"), "{line}");

    std::fs::write(&file, "[server\n").unwrap();
    let line = st
        .run(&["--config", &path, "config", "check"])
        .failed_alone();
    assert!(line.contains("not valid TOML"), "{line}");

    std::fs::write(&file, "[server]\nlisten = 8080\n").unwrap();
    let line = st
        .run(&["--config", &path, "config", "check"])
        .failed_alone();
    assert!(
        line.contains("server.listen") && line.contains(&path),
        "a wrong type names the option: {line}"
    );

    let missing = st.scratch.0.join("missing.toml").display().to_string();
    let line = st
        .run(&["--config", &missing, "config", "check"])
        .failed_alone();
    assert!(line.contains(&missing), "{line}");

    // A good file is used, and the environment wins over it.
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[security]\nmax_failed_logins = 3\n",
    )
    .unwrap();
    let out = st.run(&["--config", &path, "config", "check"]);
    let shown: toml::Table = toml::from_str(&out.ok().stdout).expect("valid TOML");
    assert_eq!(shown["server"]["listen"].as_str(), Some("127.0.0.1:9000"));
    assert_eq!(shown["security"]["max_failed_logins"].as_integer(), Some(3));
    let out = st
        .with("STEWARD_SERVER_LISTEN", "127.0.0.1:9001")
        .run(&["--config", &path, "config", "check"]);
    let shown: toml::Table = toml::from_str(&out.ok().stdout).unwrap();
    assert_eq!(shown["server"]["listen"].as_str(), Some("127.0.0.1:9001"));
}

#[test]
fn config_check_masks_the_database_password() {
    for (url, shown) in [
        (
            "postgres://u:hunter2@127.0.0.1:5432/db",
            "postgres://u:***@127.0.0.1:5432/db",
        ),
        // A server that does not exist: the check must not try to connect.
        (
            "postgres://u:hunter2@127.0.0.1:1/db",
            "postgres://u:***@127.0.0.1:1/db",
        ),
        (
            "postgresql://u@127.0.0.1:1/db?sslmode=disable&password=hunter2",
            "postgresql://u@127.0.0.1:1/db?sslmode=disable&password=***",
        ),
    ] {
        let st = Steward::new().with("STEWARD_DATABASE_URL", url);
        let out = st.run(&["config", "check"]);
        out.ok();
        assert!(out.stdout.contains("***"), "{out:#?}");
        assert!(!out.stdout.contains("hunter2"), "{out:#?}");
        assert!(!out.stderr.contains("hunter2"), "{out:#?}");
        let table: toml::Table = toml::from_str(&out.stdout).expect("valid TOML");
        assert_eq!(table["database"]["url"].as_str(), Some(shown), "{url}");
        assert!(!st.data_dir.exists(), "config check creates nothing");
    }

    // The default: SQLite in the data directory, shown as such.
    let st = Steward::new();
    let out = st.run(&["config", "check"]);
    let table: toml::Table = toml::from_str(&out.ok().stdout).unwrap();
    assert_eq!(table["database"]["url"].as_str(), Some(st.url.as_str()));
    assert_eq!(
        table["security"]["argon2_memory_kib"].as_integer(),
        Some(256)
    );
    assert!(!st.data_dir.exists(), "config check creates nothing");
}

// ---------------------------------------------------------------------------
// migrate and user

async fn migrate_applies_once(backend: Backend) {
    let st = Steward::on(&backend).await;
    let first = blocking(|| st.run(&["migrate"]));
    let latest = steward_storage::migrate::latest_version();
    assert!(
        first.ok().stdout.contains("Applied migrations [1"),
        "{first:#?}"
    );
    assert!(
        first
            .stdout
            .contains(&format!("schema version is now {latest}")),
        "{first:#?}"
    );
    let second = blocking(|| st.run(&["migrate"]));
    assert!(second.ok().stdout.contains("up to date"), "{second:#?}");
    if let Backend::Sqlite = backend {
        assert!(st.data_dir.join("steward.sqlite3").exists());
    }

    // A database from a newer steward is refused.
    let db = st.db().await;
    db.conn()
        .await
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            steward_storage::params![1000i64, "future", 0i64],
        )
        .await
        .unwrap();
    db.close().await;
    let line = blocking(|| st.run(&["migrate"])).failed();
    assert!(line.contains("newer"), "{line}");
    assert!(line.contains("1000"), "{line}");
}
both_backends!(migrate_applies_once);

fn created_id(out: &Out) -> i64 {
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Created user "))
        .unwrap_or_else(|| panic!("a creation line: {out:#?}"));
    line.rsplit_once("(id ")
        .and_then(|(_, rest)| rest.strip_suffix(")."))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("an id in {line:?}"))
}

fn printed_password(out: &Out) -> String {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("a password line: {out:#?}"))
        .to_string()
}

async fn stored_hash(db: &Db, login: &str) -> String {
    let mut conn = db.conn().await.unwrap();
    let u = users::find_by_login(&mut conn, login)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{login} exists"));
    users::password_hash(&mut conn, u.id)
        .await
        .unwrap()
        .expect("a password hash")
}

async fn user_commands(backend: Backend) {
    let st = Steward::on(&backend).await;
    let create = |login: &str, email: &str| {
        vec![
            "user".to_string(),
            "create".into(),
            "--login".into(),
            login.into(),
            "--email".into(),
            email.into(),
            "--first-name".into(),
            "Alice".into(),
            "--last-name".into(),
            "Liddell".into(),
        ]
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        blocking(|| st.run(&args))
    };
    let run_stdin = |args: &[String], input: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        blocking(|| st.run_stdin(&args, input))
    };
    let with = |mut args: Vec<String>, more: &[&str]| {
        args.extend(more.iter().map(ToString::to_string));
        args
    };

    // Create with a generated password.
    let out = run(&create("alice", "alice@example.org"));
    out.ok();
    assert!(out.stdout.contains("Created user alice"), "{out:#?}");
    let alice_id = created_id(&out);
    let alice_pw = printed_password(&out);
    assert_eq!(alice_pw.len(), 20, "{alice_pw:?}");
    let db = st.db().await;
    assert_eq!(
        passwords::verify(alice_pw.clone(), stored_hash(&db, "alice").await, CHEAP).await,
        Verified::Yes,
        "the printed password is the one stored"
    );

    // The same login again, in any case, is refused.
    for login in ["alice", "ALICE", "Alice"] {
        let line = run(&create(login, &format!("other-{login}@example.org"))).failed();
        assert!(line.contains("login"), "{line}");
        assert!(line.contains("already been taken"), "{line}");
    }
    let line = run(&create("alice2", "ALICE@example.org")).failed();
    assert!(line.contains("email"), "{line}");

    // Invalid input names the field.
    let line = run(&create("no spaces", "ns@example.org")).failed();
    assert!(line.starts_with("steward: error: login:"), "{line}");
    let line = run(&create("nomail", "not-an-address")).failed();
    assert!(line.starts_with("steward: error: email:"), "{line}");
    let line = run(&with(
        create("tz", "tz@example.org"),
        &["--time-zone", "Mars/Olympus"],
    ))
    .failed();
    assert!(line.contains("time"), "{line}");

    // A password from standard input.
    let out = run_stdin(
        &with(create("bob", "bob@example.org"), &["--password-stdin"]),
        "bob's password 1\n",
    );
    out.ok();
    assert!(
        !out.stdout.contains("password:"),
        "a given password is not printed: {out:#?}"
    );
    assert_eq!(
        passwords::verify(
            "bob's password 1".into(),
            stored_hash(&db, "bob").await,
            CHEAP
        )
        .await,
        Verified::Yes,
        "the password without its line break"
    );
    let line = run_stdin(
        &with(create("carol", "carol@example.org"), &["--password-stdin"]),
        "short\n",
    )
    .failed();
    assert!(line.contains("password"), "{line}");
    assert!(line.contains("too short"), "{line}");
    let line = run_stdin(
        &with(create("carol", "carol@example.org"), &["--password-stdin"]),
        "",
    )
    .failed();
    assert!(line.contains("password"), "{line}");

    // Listing shows people, not the built-in principals.
    let out = run(&["user".into(), "list".into()]);
    out.ok();
    assert!(out.stdout.contains("alice"), "{out:#?}");
    assert!(out.stdout.contains("Alice Liddell"), "{out:#?}");
    assert!(out.stdout.contains("bob"), "{out:#?}");
    assert!(!out.stdout.contains("carol"), "{out:#?}");
    assert!(!out.stdout.contains("deleted-user"), "{out:#?}");
    assert!(out.stdout.contains("2 user(s)"), "{out:#?}");

    // Show by login in any case, and by id.
    for reference in ["alice", "ALICE", &alice_id.to_string()] {
        let out = run(&["user".into(), "show".into(), reference.into()]);
        out.ok();
        assert!(
            out.stdout.contains("login:      alice"),
            "{reference}: {out:#?}"
        );
        assert!(
            out.stdout.contains("email:      alice@example.org"),
            "{out:#?}"
        );
        assert!(out.stdout.contains("status:     active"), "{out:#?}");
    }
    for reference in ["nobody", "1", "2", "999999"] {
        let line = run(&["user".into(), "show".into(), reference.into()]).failed();
        assert!(line.contains("no user"), "{reference}: {line}");
        assert!(line.contains(reference), "{line}");
    }

    // Lock and unlock.
    let out = run(&["user".into(), "lock".into(), "alice".into()]);
    assert!(out.ok().stdout.contains("Locked alice"), "{out:#?}");
    let out = run(&["user".into(), "show".into(), "alice".into()]);
    assert!(out.stdout.contains("status:     locked"), "{out:#?}");
    let out = run(&[
        "user".into(),
        "list".into(),
        "--status".into(),
        "locked".into(),
    ]);
    out.ok();
    assert!(out.stdout.contains("alice"), "{out:#?}");
    assert!(!out.stdout.contains("bob"), "{out:#?}");
    assert!(out.stdout.contains("1 user(s)"), "{out:#?}");
    let line = run(&[
        "user".into(),
        "list".into(),
        "--status".into(),
        "asleep".into(),
    ])
    .failed();
    assert!(line.contains("--status"), "{line}");
    let out = run(&["user".into(), "unlock".into(), "ALICE".into()]);
    assert!(out.ok().stdout.contains("Unlocked alice"), "{out:#?}");
    let out = run(&["user".into(), "show".into(), "alice".into()]);
    assert!(out.stdout.contains("status:     active"), "{out:#?}");
    let line = run(&["user".into(), "lock".into(), "nobody".into()]).failed();
    assert!(line.contains("no user"), "{line}");

    // The last active administrator cannot be locked.
    let out = run(&with(create("root", "root@example.org"), &["--admin"]));
    out.ok();
    let line = run(&["user".into(), "lock".into(), "root".into()]).failed();
    assert!(line.contains("last active administrator"), "{line}");

    // New passwords.
    let set_pw = ["user".to_string(), "set-password".into(), "alice".into()];
    let out = run_stdin(
        &with(set_pw.to_vec(), &["--password-stdin"]),
        "a new password 1\n",
    );
    assert!(
        out.ok().stdout.contains("Set a new password for alice"),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("password: "), "{out:#?}");
    assert_eq!(
        passwords::verify(
            "a new password 1".into(),
            stored_hash(&db, "alice").await,
            CHEAP
        )
        .await,
        Verified::Yes
    );
    let line = run_stdin(&with(set_pw.to_vec(), &["--password-stdin"]), "tiny\n").failed();
    assert!(line.contains("password"), "{line}");
    assert_eq!(
        passwords::verify(
            "a new password 1".into(),
            stored_hash(&db, "alice").await,
            CHEAP
        )
        .await,
        Verified::Yes,
        "a refused password changes nothing"
    );
    let out = run(&set_pw);
    let generated = printed_password(out.ok());
    assert_eq!(
        passwords::verify(generated, stored_hash(&db, "alice").await, CHEAP).await,
        Verified::Yes
    );
    let line = run_stdin(
        &[
            "user".into(),
            "set-password".into(),
            "nobody".into(),
            "--password-stdin".into(),
        ],
        "a new password 1\n",
    )
    .failed();
    assert!(line.contains("no user"), "{line}");

    // API tokens.
    let out = run(&[
        "user".into(),
        "token".into(),
        "alice".into(),
        "--name".into(),
        "t".into(),
    ]);
    let token = out.ok().stdout.trim().to_string();
    assert_eq!(token.len(), 43, "{out:#?}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe: {token}"
    );
    let mut conn = db.conn().await.unwrap();
    let found = api_tokens::find_by_hash(&mut conn, &secrets::token_hash(&token))
        .await
        .unwrap()
        .expect("the printed token is stored (as its hash)");
    assert_eq!(found.0.name, "t");
    assert_eq!(found.1.id, alice_id);
    drop(conn);
    let line = run(&[
        "user".into(),
        "token".into(),
        "alice".into(),
        "--name".into(),
        " ".into(),
    ])
    .failed();
    assert!(line.contains("name"), "{line}");
    let line = run(&["user".into(), "token".into(), "nobody".into()]).failed();
    assert!(line.contains("no user"), "{line}");
    db.close().await;
}
both_backends!(user_commands);

// ---------------------------------------------------------------------------
// serve

/// A `steward serve` running in the background; killed if the test fails.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    addr: SocketAddr,
}

impl Served {
    fn start(st: &Steward, args: &[&str]) -> Served {
        let addr = free_port();
        let mut cmd = st.command(args);
        cmd.env("STEWARD_SERVER_LISTEN", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start steward serve");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Served {
            child,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
            addr,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits for a line of stdout containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    let stderr = self.stderr();
                    panic!(
                        "steward ended ({status:?}) before printing {needle:?}; stdout: {:?}; stderr: {stderr}",
                        self.stdout,
                    );
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() > deadline => {
                    panic!("no {needle:?} within 60 s; stdout: {:?}", self.stdout);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM");
    }

    /// Waits up to `limit` for the process to end; then reads the rest of stdout.
    async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "steward did not stop within {limit:?}; stdout: {:?}",
                self.stdout
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The reader thread ends at EOF, which follows the exit.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            self.stdout.push(line);
        }
        status
    }

    fn stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn serve_answers_and_stops_on_sigterm(backend: Backend) {
    let st = Steward::on(&backend).await;
    // An account and a token made with the CLI before the server runs.
    let out = blocking(|| {
        st.run_stdin(
            &[
                "user",
                "create",
                "--login",
                "alice",
                "--email",
                "alice@example.org",
                "--first-name",
                "Alice",
                "--last-name",
                "Liddell",
                "--password-stdin",
            ],
            "alice password 1\n",
        )
    });
    out.ok();
    let out = blocking(|| st.run(&["user", "token", "alice", "--name", "t"]));
    let token = out.ok().stdout.trim().to_string();

    let mut server = Served::start(&st, &["serve", "--admin-password", ADMIN_PW]);
    let listening = blocking(|| server.wait_for("listening"));
    assert!(listening.contains(&server.addr.to_string()), "{listening}");
    let engine = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    };
    assert!(
        server
            .stdout
            .iter()
            .any(|l| l.contains("Created the administrator account") && l.contains("admin")),
        "the admin line was printed: {:?}",
        server.stdout
    );
    assert!(
        !server.stdout.iter().any(|l| l.contains(ADMIN_PW)),
        "a given password is not echoed: {:?}",
        server.stdout
    );
    let base = server.base();

    let res = Req::new(&base, Method::GET, "/health").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "ok");
    assert_eq!(res.json()["database"], engine);

    // The administrator has the password given on the command line.
    let res = Req::new(&base, Method::POST, "/api/v3/my/session")
        .json(&serde_json::json!({"login": "admin", "password": ADMIN_PW}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // The token printed by `user token` works.
    let res = Req::new(&base, Method::GET, "/api/v3/my/api_tokens")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("\"name\":\"t\""), "{}", res.text());
    let res = Req::new(&base, Method::GET, "/api/v3/my/api_tokens")
        .send()
        .await;
    assert_eq!(res.status, 401, "{}", res.text());

    // An idle connection must not hold up the shutdown.
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();

    // A request under way when SIGTERM arrives: headers and half the body
    // now, the rest after the signal. It must still get its answer.
    let body = serde_json::json!({"login": "alice", "password": "alice password 1"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut inflight = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    inflight
        .write_all(
            format!(
                "POST /api/v3/my/session HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
                server.addr,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    inflight.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), inflight.read_to_end(&mut answer))
        .await
        .expect("the in-flight request is answered")
        .expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight sign-in completes: {answer}"
    );

    let status = server.exit_within(Duration::from_secs(10)).await;
    let stderr = server.stderr();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; stdout: {:?}; stderr: {stderr}",
        server.stdout
    );
    assert!(
        server.stdout.iter().any(|l| l.contains("stopped")),
        "{:?}",
        server.stdout
    );
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf))
        .await
        .expect("the idle connection was closed")
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing is sent on an idle connection");
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "nothing listens any more"
    );

    // Started again on the same database: the administrator exists already.
    // SIGTERM right after the announcement still stops it cleanly.
    let mut again = Served::start(&st, &["serve"]);
    blocking(|| again.wait_for("listening"));
    again.sigterm();
    let status = again.exit_within(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{status:?}; {}", again.stderr());
    assert!(
        !again
            .stdout
            .iter()
            .any(|l| l.contains("Created the administrator")),
        "{:?}",
        again.stdout
    );
    assert!(
        again.stdout.iter().any(|l| l.contains("stopped")),
        "{:?}",
        again.stdout
    );
}
both_backends!(serve_answers_and_stops_on_sigterm);

async fn serve_generates_an_admin_password_once(backend: Backend) {
    let st = Steward::on(&backend).await;
    let mut server = Served::start(&st, &["serve"]);
    blocking(|| server.wait_for("listening"));
    let pw = server
        .stdout
        .iter()
        .find_map(|l| l.trim().strip_prefix("password:").map(str::trim))
        .unwrap_or_else(|| panic!("a generated password: {:?}", server.stdout))
        .to_string();
    assert_eq!(pw.len(), 20, "{pw:?}");
    let res = Req::new(&server.base(), Method::POST, "/api/v3/my/session")
        .json(&serde_json::json!({"login": "admin", "password": pw}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    server.sigterm();
    let status = server.exit_within(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{status:?}; {}", server.stderr());
}
both_backends!(serve_generates_an_admin_password_once);

/// `gdpr record` prints the record of processing from the registry and the
/// settings in force, as Markdown or JSON, without touching the database.
#[test]
fn gdpr_record_reflects_the_settings() {
    let st = Steward::new().with("STEWARD_SESSION_IDLE_TIMEOUT_MINUTES", "33");
    let out = st.run(&["gdpr", "record"]);
    out.ok();
    for table in steward_domain::registry::TABLES {
        for (column, _) in table.personal_columns() {
            let key = format!("`{}.{column}`", table.name);
            assert!(out.stdout.contains(&key), "{key} missing from the record");
        }
    }
    assert!(
        out.stdout.contains("after 33 minutes without use"),
        "{}",
        out.stdout
    );
    let other = Steward::new().with("STEWARD_SESSION_IDLE_TIMEOUT_MINUTES", "90");
    let out90 = other.run(&["gdpr", "record"]);
    out90.ok();
    assert_ne!(out.stdout, out90.stdout);

    let json = st.run(&["gdpr", "record", "--format", "json"]);
    json.ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["cookies"][0]["name"], "steward_session");
    assert_eq!(doc["cookies"][1]["name"], "steward_login_csrf");
    let bad = st.run(&["gdpr", "record", "--format", "xml"]);
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("--format"), "{}", bad.stderr);
}

/// Erasure, its proof and rectification from the shell.
async fn gdpr_erase_scan_and_rectify(backend: Backend) {
    let st = Steward::on(&backend).await;
    st.run(&["migrate"]).ok();
    st.run(&[
        "user",
        "create",
        "--login",
        "opal",
        "--email",
        "opal@example.org",
        "--first-name",
        "Opaline",
        "--last-name",
        "Featherstonehaugh",
    ])
    .ok();

    // Rectification: only the given fields change; nothing given is an error.
    let out = st.run(&[
        "user",
        "update",
        "opal",
        "--email",
        "opaline@example.org",
        "--time-zone",
        "Europe/Berlin",
    ]);
    out.ok();
    assert!(
        out.stdout.contains("opaline@example.org") && out.stdout.contains("Europe/Berlin"),
        "{}",
        out.stdout
    );
    assert!(st
        .run(&["user", "update", "opal"])
        .failed()
        .contains("nothing to change"));
    assert!(st
        .run(&["user", "update", "opal", "--email", "nope"])
        .failed()
        .contains("email"));
    assert!(st
        .run(&["user", "update", "nobody", "--language", "de"])
        .failed()
        .contains("nobody"));

    // A scan of a living person finds them; an empty scan is refused.
    let out = st.run(&["gdpr", "scan", "opal"]);
    assert!(out.failed().contains("not clean"));
    assert!(out.stdout.contains("users.login"), "{}", out.stdout);
    assert!(st.run(&["gdpr", "scan"]).failed().contains("identifier"));

    // Without --yes nothing happens; with it, the certificate.
    let out = st.run(&["gdpr", "erase", "opal"]);
    assert!(out.failed().contains("--yes"));
    assert!(out.stdout.contains("users.id"), "{}", out.stdout);
    st.run(&["user", "show", "opal"]).ok();
    let out = st.run(&["gdpr", "erase", "opal", "--yes"]);
    out.ok();
    assert!(out.stdout.contains("Residue scan: CLEAN"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Requested by: operator"),
        "{}",
        out.stdout
    );
    for secret in ["opal", "Opaline", "Featherstonehaugh"] {
        assert!(
            !out.stdout.contains(secret),
            "the certificate names {secret}"
        );
    }
    assert!(st.run(&["user", "show", "opal"]).failed().contains("opal"));
    let out = st.run(&[
        "gdpr",
        "scan",
        "--login",
        "opal",
        "--email",
        "opaline@example.org",
        "--first-name",
        "Opaline",
        "--last-name",
        "Featherstonehaugh",
    ]);
    out.ok();
    assert!(out.stdout.contains("Result: CLEAN"), "{}", out.stdout);
    let out = st.run(&["gdpr", "certificates"]);
    out.ok();
    assert!(
        out.stdout.starts_with("1 erasure certificate"),
        "{}",
        out.stdout
    );
    let json = st.run(&["gdpr", "certificate", "1", "--format", "json"]);
    json.ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["format"], "steward.erasure-certificate");
    assert_eq!(doc["scan"]["clean"], true);
    assert!(st
        .run(&["gdpr", "certificate", "99"])
        .failed()
        .contains("99"));
    assert!(st
        .run(&["gdpr", "certificate", "1", "--format", "pdf"])
        .failed()
        .contains("--format"));
    // Erasing the built-in "Deleted user" or an unknown one: clear errors.
    assert!(st
        .run(&["gdpr", "erase", "deleted-user", "--yes"])
        .failed()
        .contains("user"));
    assert!(st
        .run(&["gdpr", "erase", "ghost", "--yes"])
        .failed()
        .contains("ghost"));
    let out = st.run(&["gdpr", "redactions", "--status", "all"]);
    out.ok();
    assert!(st
        .run(&["gdpr", "redactions", "--status", "maybe"])
        .failed()
        .contains("status"));
    assert!(st.run(&["gdpr", "redact", "5"]).failed().contains("5"));

    // Who may delete accounts.
    let out = st.run(&["settings", "show"]);
    out.ok();
    assert!(
        out.stdout.contains("users-deletable-by-self: off"),
        "{}",
        out.stdout
    );
    st.run(&["settings", "set", "users-deletable-by-self", "on"])
        .ok();
    assert!(st
        .run(&["settings", "show"])
        .stdout
        .contains("users-deletable-by-self: on"));
    assert!(st
        .run(&["settings", "set", "users-deletable-by-self", "maybe"])
        .failed()
        .contains("on or off"));
    // Images from other hosts in texts: off until switched on.
    assert!(out.stdout.contains("remote-images: off"), "{}", out.stdout);
    st.run(&["settings", "set", "remote-images", "on"]).ok();
    assert!(st
        .run(&["settings", "show"])
        .stdout
        .contains("remote-images: on"));
    assert!(st
        .run(&["settings", "set", "remote-images", "sometimes"])
        .failed()
        .contains("remote-images takes on or off"));
}
both_backends!(gdpr_erase_scan_and_rectify);

/// `steward jobs` and `steward gdpr ...` check their arguments before they
/// open the database: a mistyped argument is refused with its own error
/// even when the database cannot be opened, and creates no database file.
#[test]
fn bad_arguments_are_refused_before_the_database_opens() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["jobs", "list", "--status", "broken"],
            "--status \"broken\"",
        ),
        (&["jobs", "list", "--limit", "0"], "--limit 0"),
        (
            &["jobs", "enqueue", "retention.sessions"],
            "cannot be started by hand",
        ),
        (
            &[
                "jobs",
                "enqueue",
                "diagnostics.sleep",
                "--seconds",
                "100000",
            ],
            "--seconds 100000",
        ),
        (&["gdpr", "erase", "opal", "--format", "xml"], "--format"),
        (&["gdpr", "scan"], "identifiers"),
        (&["gdpr", "scan", "opal", "--format", "xml"], "--format"),
        (&["gdpr", "certificate", "1", "--format", "pdf"], "--format"),
        (&["gdpr", "redactions", "--status", "maybe"], "--status"),
    ];
    let st = Steward::new();
    let file = st.data_dir.join("steward.sqlite3");
    for (args, says) in cases {
        let err = st.run(args).failed();
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!file.exists(), "{args:?} created the database");
    }
    // Nothing listens on port 1: opening would fail with a connection error.
    let st = Steward::new().with(
        "STEWARD_DATABASE_URL",
        "postgres://postgres@127.0.0.1:1/none",
    );
    for (args, says) in cases {
        let err = st.run(args).failed();
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
