//! The test harness: fresh databases per test, the whole server started
//! in-process on a random port, and a small HTTP client.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use steward::config::Config;
use steward::server::{self, RunningServer};
use steward_services::Services;

pub const PG_ENV: &str = "STEWARD_TEST_POSTGRES_URL";
pub const ADMIN_PASSWORD: &str = "admin password 1";

/// One test of the async function `super::$name(backend)` on one engine,
/// named after the engine. The PostgreSQL test is ignored, with the
/// variable to set as its reason, unless STEWARD_TEST_POSTGRES_URL (or
/// CI=true) was set when the tests were built (crates/steward/build.rs).
macro_rules! backend_test {
    (sqlite, $name:ident $(, #[$attr:meta])*) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn sqlite() {
            super::$name(crate::harness::Backend::Sqlite).await;
        }
    };
    (postgres, $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            not(steward_test_postgres),
            ignore = "needs PostgreSQL: set STEWARD_TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres"
        )]
        async fn postgres() {
            super::$name(crate::harness::Backend::postgres()).await;
        }
    };
}

/// Runs the async test function `$name(backend)` as two tests, `$name::sqlite`
/// and `$name::postgres`.
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            backend_test!(sqlite, $name);
            backend_test!(postgres, $name);
        }
    };
}

/// `$name(backend)` as the one test `$name::sqlite`: for what only SQLite
/// has, or what does not depend on the engine; further attributes (an
/// `ignore` condition) go onto the test.
macro_rules! sqlite_only {
    ($name:ident $(, #[$attr:meta])* $(,)?) => {
        mod $name {
            backend_test!(sqlite, $name $(, #[$attr])*);
        }
    };
}

/// `$name(backend)` as the one test `$name::postgres`: for what only
/// PostgreSQL has.
macro_rules! postgres_only {
    ($name:ident) => {
        mod $name {
            backend_test!(postgres, $name);
        }
    };
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL at STEWARD_TEST_POSTGRES_URL. Its absence fails the test:
    /// a PostgreSQL test runs only when the variable was set at build time
    /// (or CI=true, where its absence must fail), or when asked for with
    /// `--include-ignored`.
    pub fn postgres() -> Backend {
        match std::env::var(PG_ENV) {
            Ok(url) if !url.is_empty() => Backend::Postgres(url),
            _ => panic!(
                "{PG_ENV} is not set: this PostgreSQL test cannot run (set it, e.g. \
                 postgres://postgres@127.0.0.1:5432/postgres)"
            ),
        }
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh database: an SQLite file in a temporary directory, or a new
/// schema in the PostgreSQL database. Removed on drop.
pub struct TestDb {
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: &Backend) -> TestDb {
        let dir = std::env::temp_dir().join(format!("steward-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite:{}", dir.join("steward.sqlite3").display()),
                dir,
                pg: None,
            },
            Backend::Postgres(base) => {
                let schema = format!("t_{}", random_suffix());
                let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to {PG_ENV}={base}: {e}"));
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                    dir,
                    pg: Some((base.clone(), schema)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((base, schema)) = self.pg.take() {
            // Drop runs outside any runtime guarantee: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok((client, conn)) =
                        tokio_postgres::connect(&base, tokio_postgres::NoTls).await
                    {
                        tokio::spawn(conn);
                        let _ = client
                            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A configuration for tests: the given database, a random port, and cheap
/// password hashing so that tests are fast (the parameters are still argon2id).
pub fn test_config(db: &TestDb) -> Config {
    let mut c = Config {
        data_dir: db.dir.clone(),
        ..Config::default()
    };
    c.database.url = db.url.clone();
    c.server.listen = "127.0.0.1:0".into();
    c.security.argon2_memory_kib = 256;
    c.security.argon2_iterations = 1;
    c.security.argon2_parallelism = 1;
    c.log.level = "warn".into();
    c
}

/// The `steward` binary with a clean environment (none of the test run's
/// STEWARD_* variables leaks in), its data in `data_dir`, warnings only.
pub fn steward_command(data_dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_steward"));
    for (k, _) in std::env::vars() {
        if k.starts_with("STEWARD_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("STEWARD_DATA_DIR", data_dir)
        .env("STEWARD_LOG_LEVEL", "warn")
        .stdin(std::process::Stdio::null());
    cmd
}

impl TestDb {
    /// [`steward_command`] on this database.
    pub fn steward_command(&self, data_dir: &Path) -> std::process::Command {
        let mut cmd = steward_command(data_dir);
        cmd.env("STEWARD_DATABASE_URL", &self.url);
        cmd
    }
}

/// A running Steward with an administrator and an API token for them.
pub struct TestApp {
    pub server: RunningServer,
    pub base: String,
    pub config: Config,
    pub admin_id: i64,
    pub admin_token: String,
    pub db: TestDb,
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new(&backend).await;
        let mut config = test_config(&db);
        adjust(&mut config);
        config.validate().expect("test configuration is valid");
        let services = server::open_services(&config).await.expect("open services");
        services
            .ensure_admin(Some(ADMIN_PASSWORD.into()))
            .await
            .expect("admin");
        let admin = services.user_by_ref("admin").await.unwrap();
        let (_, admin_token) = services.create_api_token(admin.id, "tests").await.unwrap();
        let server = server::start(&config, services)
            .await
            .expect("start server");
        let base = format!("http://{}", server.addr);
        TestApp {
            server,
            base,
            config,
            admin_id: admin.id,
            admin_token,
            db,
        }
    }

    pub fn services(&self) -> &Services {
        &self.server.services
    }

    /// A request as the administrator (API token).
    pub fn admin(&self, method: Method, path: &str) -> Req {
        Req::new(&self.base, method, path).token(&self.admin_token)
    }

    /// A request without credentials.
    pub fn anon(&self, method: Method, path: &str) -> Req {
        Req::new(&self.base, method, path)
    }

    /// POSTs `body` to `path` as the administrator, expects 201 Created and
    /// returns what was created.
    pub async fn created(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = self.admin(Method::POST, path).json(&body).send().await;
        assert_eq!(res.status, 201, "POST {path}: {}", res.text());
        res.json()
    }

    /// Creates an active user through the API and returns (id, API token).
    pub async fn user(&self, login: &str) -> (i64, String) {
        let res = self
            .admin(Method::POST, "/api/v3/users")
            .json(&serde_json::json!({
                "login": login,
                "email": format!("{login}@example.org"),
                "firstName": "Test",
                "lastName": login,
                "password": "user password 1",
                "status": "active",
            }))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let id = res.json()["id"].as_i64().unwrap();
        let (_, token) = self.services().create_api_token(id, "tests").await.unwrap();
        (id, token)
    }
}

/// One HTTP request, built up and then sent on a new connection.
pub struct Req {
    base: String,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    pub fn new(base: &str, method: Method, path: &str) -> Req {
        Req {
            base: base.to_string(),
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    /// HTTP Basic with user name `apikey`, as OpenProject clients send it.
    pub fn token(self, token: &str) -> Req {
        let v = base64::engine::general_purpose::STANDARD.encode(format!("apikey:{token}"));
        self.header("authorization", &format!("Basic {v}"))
    }

    pub fn bearer(self, token: &str) -> Req {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, v: &serde_json::Value) -> Req {
        self.body = serde_json::to_vec(v).unwrap();
        self.header("content-type", "application/json")
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self.header("content-type", content_type)
    }

    pub async fn send(self) -> Resp {
        let authority = self.base.trim_start_matches("http://").to_string();
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .expect("connect to the test server");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        let mut builder = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header("host", &authority);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let req = builder.body(Full::new(Bytes::from(self.body))).unwrap();
        let res = tokio::time::timeout(Duration::from_secs(60), sender.send_request(req))
            .await
            .expect("the server answers within 60 s")
            .expect("a response");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an API v3 error with this status and identifier; returns its message.
    pub fn assert_error(&self, status: u16, identifier: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/hal+json"),
            "errors are HAL+JSON"
        );
        let j = self.json();
        assert_eq!(j["_type"], "Error", "{j}");
        assert_eq!(
            j["errorIdentifier"],
            format!("urn:openproject-org:api:v3:errors:{identifier}"),
            "{j}"
        );
        let msg = j["message"].as_str().expect("a message").to_string();
        assert!(!msg.is_empty());
        msg
    }
}
