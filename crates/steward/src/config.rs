//! Configuration: typed, defaulted and documented in one place.
//!
//! Sources, later ones winning: built-in defaults, a TOML file (`--config`
//! or `STEWARD_CONFIG`), then environment variables named
//! `STEWARD_<SECTION>_<KEY>` (`STEWARD_DATABASE_URL`, `STEWARD_SERVER_LISTEN`;
//! top-level keys drop the section: `STEWARD_DATA_DIR`). Any variable may
//! instead be given as `..._FILE` naming a file that holds the value, for
//! secrets. Unknown keys in the file are refused; every value is checked at
//! start and a bad one is reported with its option name and the reason.
//! docs/configuration.md lists every option.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_services::gdpr::export::ExportSettings;
use steward_services::jobs::{JobSettings, RetentionSettings, WorkerOptions};
use steward_services::passwords::Argon2Params;
use steward_services::Policy;

mod request_log;
pub use request_log::RequestLogSection;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory for the SQLite database and files.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub session: SessionConfig,
    pub log: LogConfig,
    pub jobs: JobsConfig,
    pub audit: AuditConfig,
    pub gdpr: GdprConfig,
    pub request_log: RequestLogSection,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// The URL people use to reach Steward; `https://` turns on Secure cookies.
    /// Empty: `http://` + listen.
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: u64,
    /// How long in-flight requests may run on after SIGTERM/SIGINT.
    pub shutdown_timeout_seconds: u64,
    /// How long a request's head (request line and headers) may take to
    /// arrive, counted from when the connection is ready for it.
    pub header_read_timeout_seconds: u64,
    /// How long a request's body may take to arrive, counted from its head.
    pub body_read_timeout_seconds: u64,
    /// A connection that sends nothing for this long is closed (after the
    /// response in flight, if any).
    pub keep_alive_timeout_seconds: u64,
    /// Connections open at once; more wait in the listen queue.
    pub max_connections: u64,
    /// How long a handler may run before the request is answered 503.
    pub handler_timeout_seconds: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:PATH` or `postgres://user:password@host:port/db`.
    /// Empty: SQLite in `<data_dir>/steward.sqlite3`.
    pub url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long an SQLite writer waits for the lock, in milliseconds.
    pub busy_timeout_ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub password_min_length: u32,
    /// Failed sign-ins with one login from one address before that login
    /// must wait there; 0 turns the throttle off.
    pub max_failed_logins: u32,
    /// The longest wait, and how far back failures count.
    pub lockout_minutes: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Sign-in attempts are deleted this many days after they were made; 0 keeps them.
    pub login_attempt_retention_days: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused this long ends.
    pub idle_timeout_minutes: u32,
    /// A session ends this long after sign-in, used or not.
    pub absolute_lifetime_hours: u32,
    pub cookie_name: String,
    /// `auto` (Secure when public_url is https), `always` or `never`.
    pub secure_cookie: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or per-target directives
    /// such as `info,steward_api=debug`.
    pub level: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// `steward serve` runs a worker in its own process. Turn off when
    /// separate `steward worker` processes run the jobs.
    pub in_process_worker: bool,
    /// Jobs one worker runs at the same time.
    pub concurrency: u32,
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// How long a job stays with a worker that shows no sign of life
    /// before another worker takes it over.
    pub visibility_timeout_seconds: u64,
    /// Attempts a job gets before it ends as failed.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    pub backoff_base_seconds: u64,
    /// An attempt running longer than this is stopped and counts as failed.
    pub job_timeout_seconds: u64,
    /// Jobs that ended done are deleted after this many days; 0 keeps them.
    pub done_retention_days: u32,
    /// Jobs that ended failed are deleted after this many days; 0 keeps them.
    pub failed_retention_days: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GdprConfig {
    /// A per-person export archive is deleted this many hours after it is ready.
    pub export_expiry_hours: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Audit entries of security events are deleted after this many days; 0 keeps them.
    pub security_retention_days: u32,
    /// Audit entries of access to personal data are deleted after this many days; 0 keeps them.
    pub access_retention_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./steward-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            security: SecurityConfig::default(),
            session: SessionConfig::default(),
            log: LogConfig::default(),
            jobs: JobsConfig::default(),
            audit: AuditConfig::default(),
            gdpr: GdprConfig::default(),
            request_log: RequestLogSection::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            max_body_bytes: 1024 * 1024,
            shutdown_timeout_seconds: 30,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 60,
            keep_alive_timeout_seconds: 5,
            max_connections: 1000,
            handler_timeout_seconds: 60,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            pool_size: 8,
            busy_timeout_ms: 5000,
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        let a = Argon2Params::default();
        SecurityConfig {
            password_min_length: 10,
            max_failed_logins: 5,
            lockout_minutes: 15,
            argon2_memory_kib: a.memory_kib,
            argon2_iterations: a.iterations,
            argon2_parallelism: a.parallelism,
            login_attempt_retention_days: 90,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            in_process_worker: true,
            concurrency: 1,
            poll_interval_ms: 1000,
            visibility_timeout_seconds: 300,
            max_attempts: 5,
            backoff_base_seconds: 30,
            job_timeout_seconds: 3600,
            done_retention_days: 7,
            failed_retention_days: 90,
        }
    }
}

impl Default for GdprConfig {
    fn default() -> Self {
        GdprConfig {
            export_expiry_hours: 24,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            security_retention_days: 365,
            access_retention_days: 730,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_minutes: 120,
            absolute_lifetime_hours: 7 * 24,
            cookie_name: "steward_session".into(),
            secure_cookie: "auto".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// The longest time an export archive may be kept for download (30 days).
const MAX_EXPORT_EXPIRY_HOURS: u32 = 720;

/// The longest retention in days that the options accept (about 100 years).
const MAX_RETENTION_DAYS: u32 = 36_500;

/// A configuration problem, always naming the option (or file) at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(option: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("configuration option {option}: {why}"))
}

impl Config {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!(
                        "cannot read configuration file {}: {e}",
                        path.display()
                    ))
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| {
                    ConfigError(format!(
                        "configuration file {} is not valid TOML: {e}",
                        path.display()
                    ))
                })?
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, env)?;
        // serde_path_to_error: a wrong type ("listen = 8080") is reported
        // with the option it belongs to, not only as "expected a string".
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let source =
                    file.map_or("the environment".to_string(), |p| p.display().to_string());
                let path = e.path().to_string();
                let option = if path.is_empty() || path == "." {
                    String::new()
                } else {
                    format!("option {path}: ")
                };
                ConfigError(format!(
                    "invalid configuration (from {source}): {option}{}",
                    e.into_inner().message()
                ))
            })?;
        config.validate()?;
        Ok(config)
    }

    /// The bounds on connections: each at least 1, the keep-alive timeout
    /// no longer than the header timeout (which also bounds the wait for a
    /// kept-alive connection's next request).
    fn validate_connection_limits(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        for (name, value, max) in [
            (
                "header_read_timeout_seconds",
                s.header_read_timeout_seconds,
                3600,
            ),
            (
                "body_read_timeout_seconds",
                s.body_read_timeout_seconds,
                86_400,
            ),
            (
                "keep_alive_timeout_seconds",
                s.keep_alive_timeout_seconds,
                3600,
            ),
            ("max_connections", s.max_connections, 1_000_000),
            ("handler_timeout_seconds", s.handler_timeout_seconds, 86_400),
        ] {
            if value == 0 || value > max {
                return Err(err(
                    &format!("server.{name}"),
                    format!("must be between 1 and {max}, not {value}"),
                ));
            }
        }
        if s.keep_alive_timeout_seconds > s.header_read_timeout_seconds {
            return Err(err(
                "server.keep_alive_timeout_seconds",
                format!(
                    "must not exceed server.header_read_timeout_seconds ({}), which also bounds \
                     the wait for a kept-alive connection's next request",
                    s.header_read_timeout_seconds
                ),
            ));
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let pu = &self.server.public_url;
        if !(pu.is_empty() || pu.starts_with("http://") || pu.starts_with("https://")) {
            return Err(err(
                "server.public_url",
                format!("{pu:?} must start with http:// or https://"),
            ));
        }
        if self.server.max_body_bytes < 1024 || self.server.max_body_bytes > 1 << 30 {
            return Err(err(
                "server.max_body_bytes",
                "must be between 1024 and 1073741824",
            ));
        }
        self.validate_connection_limits()?;
        let url = &self.database.url;
        let known = url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://");
        if !(url.is_empty() || known) {
            return Err(err(
                "database.url",
                format!(
                    "{:?} must start with sqlite: or postgres://",
                    steward_storage::redact_url(url)
                ),
            ));
        }
        if !(1..=512).contains(&self.database.pool_size) {
            return Err(err("database.pool_size", "must be between 1 and 512"));
        }
        if self.database.busy_timeout_ms > 600_000 {
            return Err(err(
                "database.busy_timeout_ms",
                "must be at most 600000 (10 minutes)",
            ));
        }
        if !(8..=128).contains(&self.security.password_min_length) {
            return Err(err(
                "security.password_min_length",
                "must be between 8 and 128",
            ));
        }
        if self.security.max_failed_logins > 0 && self.security.lockout_minutes == 0 {
            return Err(err(
                "security.lockout_minutes",
                "must be at least 1 while max_failed_logins is set",
            ));
        }
        self.argon2()
            .check()
            .map_err(|e| err("security.argon2_*", e))?;
        if self.session.idle_timeout_minutes == 0 {
            return Err(err("session.idle_timeout_minutes", "must be at least 1"));
        }
        if self.session.absolute_lifetime_hours == 0 {
            return Err(err("session.absolute_lifetime_hours", "must be at least 1"));
        }
        let name = &self.session.cookie_name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(err(
                "session.cookie_name",
                format!("{name:?} may only use letters, digits, _ and -"),
            ));
        }
        if !matches!(
            self.session.secure_cookie.as_str(),
            "auto" | "always" | "never"
        ) {
            return Err(err(
                "session.secure_cookie",
                format!(
                    "{:?} must be auto, always or never",
                    self.session.secure_cookie
                ),
            ));
        }
        tracing_subscriber::filter::Targets::from_str(&self.log.level)
            .map_err(|e| err("log.level", format!("{:?}: {e}", self.log.level)))?;
        self.validate_jobs()?;
        self.request_log.validate()?;
        if !(1..=MAX_EXPORT_EXPIRY_HOURS).contains(&self.gdpr.export_expiry_hours) {
            return Err(err(
                "gdpr.export_expiry_hours",
                format!("must be between 1 and {MAX_EXPORT_EXPIRY_HOURS} (30 days)"),
            ));
        }
        Ok(())
    }

    /// The job queue's options and the retention rules its jobs apply.
    fn validate_jobs(&self) -> Result<(), ConfigError> {
        let j = &self.jobs;
        let ranges: [(&str, u64, u64, u64); 6] = [
            ("jobs.concurrency", u64::from(j.concurrency), 1, 64),
            ("jobs.poll_interval_ms", j.poll_interval_ms, 10, 60_000),
            (
                "jobs.visibility_timeout_seconds",
                j.visibility_timeout_seconds,
                1,
                86_400,
            ),
            ("jobs.max_attempts", u64::from(j.max_attempts), 1, 100),
            (
                "jobs.backoff_base_seconds",
                j.backoff_base_seconds,
                1,
                86_400,
            ),
            (
                "jobs.job_timeout_seconds",
                j.job_timeout_seconds,
                1,
                604_800,
            ),
        ];
        for (option, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(err(option, format!("must be between {min} and {max}")));
            }
        }
        for (option, days) in [
            (
                "security.login_attempt_retention_days",
                self.security.login_attempt_retention_days,
            ),
            (
                "audit.security_retention_days",
                self.audit.security_retention_days,
            ),
            (
                "audit.access_retention_days",
                self.audit.access_retention_days,
            ),
            ("jobs.done_retention_days", j.done_retention_days),
            ("jobs.failed_retention_days", j.failed_retention_days),
        ] {
            if days > MAX_RETENTION_DAYS {
                return Err(err(
                    option,
                    format!("must be at most {MAX_RETENTION_DAYS} days (0 keeps the records)"),
                ));
            }
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| {
            err(
                "server.listen",
                format!(
                    "{:?} is not an address and port such as 127.0.0.1:8080",
                    self.server.listen
                ),
            )
        })
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("steward.sqlite3").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    pub fn secure_cookies(&self) -> bool {
        match self.session.secure_cookie.as_str() {
            "always" => true,
            "never" => false,
            _ => self.public_url().starts_with("https://"),
        }
    }

    pub fn argon2(&self) -> Argon2Params {
        Argon2Params {
            memory_kib: self.security.argon2_memory_kib,
            iterations: self.security.argon2_iterations,
            parallelism: self.security.argon2_parallelism,
        }
    }

    pub fn policy(&self) -> Policy {
        Policy {
            password_min_length: self.security.password_min_length as usize,
            argon2: self.argon2(),
            max_failed_logins: i64::from(self.security.max_failed_logins),
            lockout_seconds: i64::from(self.security.lockout_minutes) * 60,
            session_idle_seconds: i64::from(self.session.idle_timeout_minutes) * 60,
            session_absolute_seconds: i64::from(self.session.absolute_lifetime_hours) * 3600,
        }
    }

    /// How the job queue treats jobs, and the retention rules of its jobs.
    pub fn job_settings(&self) -> JobSettings {
        let j = &self.jobs;
        JobSettings {
            max_attempts: i64::from(j.max_attempts),
            backoff_base: Duration::from_secs(j.backoff_base_seconds),
            visibility_timeout: Duration::from_secs(j.visibility_timeout_seconds),
            job_timeout: Duration::from_secs(j.job_timeout_seconds),
            retention: RetentionSettings {
                login_attempt_days: self.security.login_attempt_retention_days,
                audit_security_days: self.audit.security_retention_days,
                audit_access_days: self.audit.access_retention_days,
                done_job_days: j.done_retention_days,
                failed_job_days: j.failed_retention_days,
            },
        }
    }

    /// The retention of per-person export archives, for the record of processing.
    pub fn export_retention_rule(&self) -> steward_domain::record::RetentionRule {
        use steward_services::gdpr::export::{EXPIRY_JOB_KIND, EXPIRY_SCHEDULE};
        steward_domain::record::RetentionRule {
            data: "Per-person export archives (`<data_dir>/exports`, `gdpr_exports`)".into(),
            rule: format!(
                "deleted {} hours after they are ready (gdpr.export_expiry_hours); the request \
                 stays, marked expired",
                self.gdpr.export_expiry_hours
            ),
            job: format!("{EXPIRY_JOB_KIND}, {EXPIRY_SCHEDULE}"),
        }
    }

    /// Where per-person export archives go and how long they stay.
    pub fn export_settings(&self) -> ExportSettings {
        ExportSettings {
            dir: self.data_dir.join("exports"),
            expiry_hours: self.gdpr.export_expiry_hours,
            public_url: self.public_url(),
        }
    }

    pub fn worker_options(&self) -> WorkerOptions {
        WorkerOptions {
            concurrency: self.jobs.concurrency as usize,
            poll_interval: Duration::from_millis(self.jobs.poll_interval_ms),
        }
    }

    /// The retention rules the record of processing lists: what each
    /// retention job deletes, under which configured rule, and when it runs.
    pub fn retention_rules(&self) -> Vec<steward_domain::record::RetentionRule> {
        use steward_services::jobs::retention as r;
        let registry = steward_services::jobs::Registry::builtin();
        let job = |kind: &str| match registry.schedules().iter().find(|s| s.kind == kind) {
            Some(s) => format!("{kind}, {} UTC", s.spec),
            None => kind.to_string(),
        };
        let days = |n: u32, option: &str, what: &str| {
            if n == 0 {
                format!("kept indefinitely ({option} = 0)")
            } else {
                format!("deleted {n} days after {what} ({option})")
            }
        };
        let rule = |data: &str, rule: String, kind: &str| steward_domain::record::RetentionRule {
            data: data.to_string(),
            rule,
            job: job(kind),
        };
        vec![
            rule(
                "Expired sessions (`sessions`)",
                format!(
                    "deleted once unused for {} minutes or {} hours after sign-in \
                     (session.idle_timeout_minutes, session.absolute_lifetime_hours)",
                    self.session.idle_timeout_minutes, self.session.absolute_lifetime_hours
                ),
                r::SESSIONS,
            ),
            rule(
                "Sign-in attempts (`login_attempts`)",
                days(
                    self.security.login_attempt_retention_days,
                    "security.login_attempt_retention_days",
                    "the attempt",
                ),
                r::LOGIN_ATTEMPTS,
            ),
            rule(
                "Audit trail: security events (`audit_events`, category security)",
                days(
                    self.audit.security_retention_days,
                    "audit.security_retention_days",
                    "the event",
                ),
                r::AUDIT_EVENTS,
            ),
            rule(
                "Audit trail: access to personal data (`audit_events`, category access)",
                days(
                    self.audit.access_retention_days,
                    "audit.access_retention_days",
                    "the access",
                ),
                r::AUDIT_EVENTS,
            ),
            rule(
                "Finished background jobs (`jobs`; ids only, no personal data)",
                format!(
                    "done: {}; failed: {}",
                    days(
                        self.jobs.done_retention_days,
                        "jobs.done_retention_days",
                        "they ended"
                    ),
                    days(
                        self.jobs.failed_retention_days,
                        "jobs.failed_retention_days",
                        "they ended"
                    )
                ),
                r::JOBS,
            ),
        ]
    }

    /// The settings the record of processing reports.
    pub fn record_context(&self) -> steward_domain::record::RecordContext {
        let a = self.argon2();
        steward_domain::record::RecordContext {
            public_url: self.public_url(),
            database: if self.uses_sqlite() {
                "SQLite, a file in the data directory on this machine".into()
            } else {
                "PostgreSQL (no TLS to the database server yet)".into()
            },
            password_hashing: format!(
                "argon2id (m={} KiB, t={}, p={}), rehashed at sign-in when the parameters change",
                a.memory_kib, a.iterations, a.parallelism
            ),
            max_failed_logins: self.security.max_failed_logins,
            lockout_minutes: self.security.lockout_minutes,
            session_idle_minutes: self.session.idle_timeout_minutes,
            session_absolute_hours: self.session.absolute_lifetime_hours,
            cookie_name: self.session.cookie_name.clone(),
            cookie_secure: self.secure_cookies(),
            retention_rules: self
                .retention_rules()
                .into_iter()
                .chain([
                    self.request_log_retention_rule(),
                    self.export_retention_rule(),
                ])
                .collect(),
            request_log: Some(self.request_log_record()),
            // A run-time setting: `Services::record_context_in_force` reads it.
            remote_images: false,
        }
    }

    /// The effective configuration as TOML, with secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = steward_storage::redact_url(&self.database_url()).into_owned();
        if shown.server.public_url.is_empty() {
            shown.server.public_url = self.public_url();
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

/// Writes `STEWARD_*` variables into the table, typed like the defaults.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default())
        .map_err(|e| ConfigError(format!("internal: defaults do not serialise: {e}")))?;
    let lookup = |var: &str| -> Result<Option<String>, ConfigError> {
        if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
            return Ok(Some(v.clone()));
        }
        let file_var = format!("{var}_FILE");
        if let Some((_, path)) = env.iter().find(|(k, _)| *k == file_var) {
            let v = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("{file_var}: cannot read {path}: {e}")))?;
            return Ok(Some(v.trim_end_matches(['\n', '\r']).to_string()));
        }
        Ok(None)
    };
    for (key, default) in &defaults {
        match default {
            toml::Value::Table(section) => {
                for (field, default) in section {
                    let var = format!("STEWARD_{}_{}", key.to_uppercase(), field.to_uppercase());
                    if let Some(raw) = lookup(&var)? {
                        let value = typed(&var, &raw, default)?;
                        let entry = table
                            .entry(key.clone())
                            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                        let toml::Value::Table(t) = entry else {
                            return Err(err(key, "must be a table"));
                        };
                        t.insert(field.clone(), value);
                    }
                }
            }
            scalar => {
                let var = format!("STEWARD_{}", key.to_uppercase());
                if let Some(raw) = lookup(&var)? {
                    table.insert(key.clone(), typed(&var, &raw, scalar)?);
                }
            }
        }
    }
    Ok(())
}

fn typed(var: &str, raw: &str, like: &toml::Value) -> Result<toml::Value, ConfigError> {
    Ok(match like {
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| ConfigError(format!("{var}: {raw:?} is not a whole number")))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(ConfigError(format!("{var}: {raw:?} is not true or false"))),
        }),
        _ => toml::Value::String(raw.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables as `load_from` takes them.
    pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_without_a_file() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite:./steward-data/steward.sqlite3");
        assert!(!c.secure_cookies());
    }

    #[test]
    fn environment_overrides_file() {
        let dir = std::env::temp_dir().join(format!("steward-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("steward.toml");
        std::fs::write(&file, "data_dir = \"/tmp/x\"\n[server]\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://pm.example.org\"\n[security]\nmax_failed_logins = 3\n").unwrap();
        let c = Config::load_from(
            Some(&file),
            &env(&[
                ("STEWARD_SERVER_LISTEN", "127.0.0.1:9999"),
                ("STEWARD_SECURITY_LOCKOUT_MINUTES", "7"),
                ("STEWARD_DATA_DIR", "/tmp/y"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:9999");
        assert_eq!(c.security.max_failed_logins, 3);
        assert_eq!(c.security.lockout_minutes, 7);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/y"));
        assert!(c.secure_cookies());
        let secret = dir.join("dburl");
        std::fs::write(&secret, "postgres://app:hunter2@db/steward\n").unwrap();
        let c = Config::load_from(
            None,
            &env(&[("STEWARD_DATABASE_URL_FILE", secret.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(c.database_url(), "postgres://app:hunter2@db/steward");
        let shown = c.to_masked_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/steward"), "{shown}");
    }

    #[test]
    fn bad_values_name_the_option() {
        let cases: &[(&str, &str, &str)] = &[
            ("STEWARD_SERVER_LISTEN", "nowhere", "server.listen"),
            ("STEWARD_DATABASE_URL", "mysql://x", "database.url"),
            ("STEWARD_DATABASE_POOL_SIZE", "0", "database.pool_size"),
            (
                "STEWARD_DATABASE_POOL_SIZE",
                "many",
                "STEWARD_DATABASE_POOL_SIZE",
            ),
            (
                "STEWARD_SESSION_SECURE_COOKIE",
                "sometimes",
                "session.secure_cookie",
            ),
            (
                "STEWARD_SECURITY_PASSWORD_MIN_LENGTH",
                "3",
                "security.password_min_length",
            ),
            ("STEWARD_LOG_LEVEL", "loud=!!", "log.level"),
            ("STEWARD_SERVER_PUBLIC_URL", "ftp://x", "server.public_url"),
            (
                "STEWARD_SERVER_HEADER_READ_TIMEOUT_SECONDS",
                "0",
                "server.header_read_timeout_seconds",
            ),
            (
                "STEWARD_SERVER_BODY_READ_TIMEOUT_SECONDS",
                "0",
                "server.body_read_timeout_seconds",
            ),
            (
                "STEWARD_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS",
                "11",
                "server.keep_alive_timeout_seconds",
            ),
            (
                "STEWARD_SERVER_MAX_CONNECTIONS",
                "0",
                "server.max_connections",
            ),
            (
                "STEWARD_SERVER_MAX_CONNECTIONS",
                "lots",
                "STEWARD_SERVER_MAX_CONNECTIONS",
            ),
            (
                "STEWARD_SERVER_HANDLER_TIMEOUT_SECONDS",
                "0",
                "server.handler_timeout_seconds",
            ),
            (
                "STEWARD_GDPR_EXPORT_EXPIRY_HOURS",
                "0",
                "gdpr.export_expiry_hours",
            ),
            (
                "STEWARD_GDPR_EXPORT_EXPIRY_HOURS",
                "721",
                "gdpr.export_expiry_hours",
            ),
            ("STEWARD_JOBS_CONCURRENCY", "0", "jobs.concurrency"),
            (
                "STEWARD_JOBS_POLL_INTERVAL_MS",
                "1",
                "jobs.poll_interval_ms",
            ),
            (
                "STEWARD_JOBS_VISIBILITY_TIMEOUT_SECONDS",
                "0",
                "jobs.visibility_timeout_seconds",
            ),
            ("STEWARD_JOBS_MAX_ATTEMPTS", "0", "jobs.max_attempts"),
            (
                "STEWARD_JOBS_BACKOFF_BASE_SECONDS",
                "0",
                "jobs.backoff_base_seconds",
            ),
            (
                "STEWARD_JOBS_JOB_TIMEOUT_SECONDS",
                "0",
                "jobs.job_timeout_seconds",
            ),
            (
                "STEWARD_JOBS_IN_PROCESS_WORKER",
                "perhaps",
                "STEWARD_JOBS_IN_PROCESS_WORKER",
            ),
            (
                "STEWARD_AUDIT_ACCESS_RETENTION_DAYS",
                "99999",
                "audit.access_retention_days",
            ),
            (
                "STEWARD_SECURITY_LOGIN_ATTEMPT_RETENTION_DAYS",
                "-1",
                "security.login_attempt_retention_days",
            ),
        ];
        for (var, value, expect) in cases {
            let e = Config::load_from(None, &env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{var}={value}: {e}");
        }
    }

    #[test]
    fn job_options_reach_the_queue_and_the_record() {
        let c = Config::load_from(
            None,
            &env(&[
                ("STEWARD_JOBS_IN_PROCESS_WORKER", "false"),
                ("STEWARD_JOBS_BACKOFF_BASE_SECONDS", "7"),
                ("STEWARD_AUDIT_SECURITY_RETENTION_DAYS", "0"),
            ]),
        )
        .unwrap();
        assert!(!c.jobs.in_process_worker);
        let s = c.job_settings();
        assert_eq!(s.backoff_base, Duration::from_secs(7));
        assert_eq!(s.visibility_timeout, Duration::from_secs(300));
        assert_eq!(s.max_attempts, 5);
        assert_eq!(s.retention.login_attempt_days, 90);
        assert_eq!(s.retention.audit_security_days, 0);
        assert_eq!(s.retention.audit_access_days, 730);
        assert_eq!(c.worker_options().concurrency, 1);
        let rules = c.record_context().retention_rules;
        assert!(rules.iter().any(|r| r.rule
            == "kept indefinitely (audit.security_retention_days = 0)"
            && r.job == "retention.audit_events, daily 03:20 UTC"));
        assert!(rules
            .iter()
            .any(|r| r.rule.contains("deleted 730 days after the access")));
        assert!(rules
            .iter()
            .any(|r| r.rule.starts_with("deleted 24 hours after")
                && r.job == "gdpr.export_expiry, every 15m"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("steward-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("steward.toml");
        std::fs::write(&file, "[server]\nlisten_on = \"x\"\n").unwrap();
        let e = Config::load_from(Some(&file), &[]).unwrap_err().to_string();
        assert!(e.contains("listen_on"), "{e}");
        std::fs::write(&file, "[server\n").unwrap();
        let e = Config::load_from(Some(&file), &[]).unwrap_err().to_string();
        assert!(e.contains("not valid TOML"), "{e}");
    }
}
