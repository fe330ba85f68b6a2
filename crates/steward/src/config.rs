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

use serde::{Deserialize, Serialize};
use steward_services::passwords::Argon2Params;
use steward_services::Policy;

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
    /// Failed sign-ins in a row before the account is blocked; 0 disables blocking.
    pub max_failed_logins: u32,
    /// How long a blocked account stays blocked.
    pub lockout_minutes: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
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

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./steward-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            security: SecurityConfig::default(),
            session: SessionConfig::default(),
            log: LogConfig::default(),
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

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
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
        ];
        for (var, value, expect) in cases {
            let e = Config::load_from(None, &env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{var}={value}: {e}");
        }
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
