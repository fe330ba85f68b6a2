//! The `[request_log]` section: where the request log goes, how long it is
//! kept, which parameters are filtered and whether user ids are
//! pseudonymised. See docs/configuration.md.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};
use steward_domain::record::{RequestLogRecord, RetentionRule};
use steward_services::request_log::{self, RequestLogConfig};

use super::{err, Config, ConfigError};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestLogSection {
    /// Write one line per request.
    pub enabled: bool,
    /// Directory of the log files. Empty: `<data_dir>/log`.
    pub dir: PathBuf,
    /// The active file is rotated before it grows beyond this (and at the
    /// change of day, UTC).
    pub max_file_mb: u64,
    /// All files together; the oldest are deleted first.
    pub max_total_mb: u64,
    /// Files last written longer ago are deleted.
    pub max_age_days: u32,
    /// Parameter names filtered on top of the built-in list (passwords,
    /// tokens, keys, secrets, one-time codes, cookies...). In the
    /// environment: a comma-separated list.
    #[serde(deserialize_with = "names")]
    pub filter_parameters: Vec<String>,
    /// Store a keyed pseudonym (HMAC-SHA256) instead of the user id. On
    /// unless an administrator turns it off: privacy by default (GDPR
    /// Art. 25), since finding faults rarely needs to know who it was.
    pub pseudonymize: bool,
    /// The pseudonym key is destroyed and replaced this often; older lines
    /// can then no longer be linked to anyone.
    pub pseudonym_key_rotation_days: u32,
}

impl Default for RequestLogSection {
    fn default() -> Self {
        RequestLogSection {
            enabled: true,
            dir: PathBuf::new(),
            max_file_mb: 10,
            max_total_mb: 100,
            max_age_days: 30,
            filter_parameters: Vec::new(),
            pseudonymize: true,
            pseudonym_key_rotation_days: 7,
        }
    }
}

/// A list of names from TOML (`["ssn", "iban"]`) or from the environment
/// (`ssn, iban`).
fn names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Names::deserialize(d)? {
        Names::List(list) => list,
        Names::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

const MB: u64 = 1024 * 1024;

impl RequestLogSection {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=1024).contains(&self.max_file_mb) {
            return Err(err("request_log.max_file_mb", "must be between 1 and 1024"));
        }
        if self.max_total_mb < self.max_file_mb || self.max_total_mb > 1_048_576 {
            return Err(err(
                "request_log.max_total_mb",
                format!(
                    "must be at least request_log.max_file_mb ({}) and at most 1048576 (1 TiB)",
                    self.max_file_mb
                ),
            ));
        }
        if !(1..=3650).contains(&self.max_age_days) {
            return Err(err(
                "request_log.max_age_days",
                "must be between 1 and 3650",
            ));
        }
        if !(1..=3650).contains(&self.pseudonym_key_rotation_days) {
            return Err(err(
                "request_log.pseudonym_key_rotation_days",
                "must be between 1 and 3650",
            ));
        }
        for name in &self.filter_parameters {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(err(
                    "request_log.filter_parameters",
                    format!("{name:?} must be 1 to 100 characters without control characters"),
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    /// The directory of the request log in force.
    pub fn request_log_dir(&self) -> PathBuf {
        if self.request_log.dir.as_os_str().is_empty() {
            self.data_dir.join("log")
        } else {
            self.request_log.dir.clone()
        }
    }

    /// The request log's settings for the services.
    pub fn request_log_config(&self) -> RequestLogConfig {
        let c = &self.request_log;
        RequestLogConfig {
            enabled: c.enabled,
            dir: self.request_log_dir(),
            max_file_bytes: c.max_file_mb * MB,
            max_total_bytes: c.max_total_mb * MB,
            max_age_days: c.max_age_days,
            filter_parameters: c.filter_parameters.clone(),
            pseudonymize: c.pseudonymize,
            pseudonym_key_rotation_days: c.pseudonym_key_rotation_days,
            ..RequestLogConfig::new(self.request_log_dir())
        }
    }

    /// What the record of processing says of the request log.
    pub(super) fn request_log_record(&self) -> RequestLogRecord {
        let c = &self.request_log;
        let dir = self.request_log_dir();
        let location = if c.enabled {
            format!("files requests*.jsonl in {}", dir.display())
        } else {
            format!(
                "files requests*.jsonl in {} (logging is off: request_log.enabled = false; \
                 files from before still expire)",
                dir.display()
            )
        };
        let user_id = if c.pseudonymize {
            format!(
                "pseudonymised with HMAC-SHA256 under a key kept beside the log and destroyed \
                 every {} days (request_log.pseudonymize, request_log.pseudonym_key_rotation_days); \
                 older lines can no longer be linked to anyone",
                c.pseudonym_key_rotation_days
            )
        } else {
            "stored as is (request_log.pseudonymize = false)".into()
        };
        let mut filtered = String::from(
            "the values of parameters named like passwords, tokens, API keys, secrets, \
             one-time codes, cookies and CSRF tokens are replaced before a line is written; \
             headers (Authorization, Cookie) are never logged",
        );
        if !c.filter_parameters.is_empty() {
            filtered.push_str(&format!(
                "; also: {} (request_log.filter_parameters)",
                c.filter_parameters.join(", ")
            ));
        }
        RequestLogRecord {
            location,
            user_id,
            retention: self.request_log_retention_text(),
            filtered,
        }
    }

    fn request_log_retention_text(&self) -> String {
        let c = &self.request_log;
        format!(
            "rotated at {} MB and daily; the oldest files are deleted once all exceed {} MB \
             (request_log.max_total_mb), and every file {} days after its last line \
             (request_log.max_age_days)",
            c.max_file_mb, c.max_total_mb, c.max_age_days
        )
    }

    /// The request log's line in the record's retention jobs.
    pub(super) fn request_log_retention_rule(&self) -> RetentionRule {
        let registry = steward_services::jobs::Registry::builtin();
        let kind = request_log::RETENTION_JOB;
        let job = match registry.schedules().iter().find(|s| s.kind == kind) {
            Some(s) => format!("{kind}, {} UTC; also at each rotation", s.spec),
            None => format!("at each rotation and once a minute while {kind} is not scheduled"),
        };
        RetentionRule {
            data: format!(
                "Request log (`{}`)",
                self.request_log_dir().join("requests*.jsonl").display()
            ),
            rule: self.request_log_retention_text(),
            job,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[test]
    fn defaults_and_environment() {
        let c = Config::load_from(None, &[]).unwrap();
        assert!(c.request_log.enabled);
        assert_eq!(c.request_log_dir(), PathBuf::from("./steward-data/log"));
        let s = c.request_log_config();
        assert_eq!(s.max_file_bytes, 10 * MB);
        assert_eq!(s.max_total_bytes, 100 * MB);
        assert_eq!(s.max_age_days, 30);
        // Privacy by default: pseudonyms unless turned off.
        assert!(s.pseudonymize);
        let c = Config::load_from(
            None,
            &env(&[
                ("STEWARD_REQUEST_LOG_FILTER_PARAMETERS", "iban, ssn,,"),
                ("STEWARD_REQUEST_LOG_PSEUDONYMIZE", "false"),
                ("STEWARD_REQUEST_LOG_DIR", "/var/log/steward"),
                ("STEWARD_REQUEST_LOG_MAX_TOTAL_MB", "20"),
            ]),
        )
        .unwrap();
        assert_eq!(c.request_log.filter_parameters, vec!["iban", "ssn"]);
        assert!(!c.request_log_config().pseudonymize);
        assert_eq!(c.request_log_dir(), PathBuf::from("/var/log/steward"));
        assert_eq!(c.request_log_config().max_total_bytes, 20 * MB);
        // The effective configuration renders and reads back.
        let shown = c.to_masked_toml();
        assert!(shown.contains("[request_log]"), "{shown}");
        assert!(shown.contains("\"iban\""), "{shown}");
    }

    #[test]
    fn file_lists_and_bad_values() {
        let dir = std::env::temp_dir().join(format!("steward-cfg-rl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("steward.toml");
        std::fs::write(
            &file,
            "[request_log]\nfilter_parameters = [\"iban\"]\nmax_age_days = 7\n",
        )
        .unwrap();
        let c = Config::load_from(Some(&file), &[]).unwrap();
        assert_eq!(c.request_log.filter_parameters, vec!["iban"]);
        assert_eq!(c.request_log.max_age_days, 7);
        for (var, value, expect) in [
            (
                "STEWARD_REQUEST_LOG_MAX_FILE_MB",
                "0",
                "request_log.max_file_mb",
            ),
            (
                "STEWARD_REQUEST_LOG_MAX_TOTAL_MB",
                "5",
                "request_log.max_total_mb",
            ),
            (
                "STEWARD_REQUEST_LOG_MAX_AGE_DAYS",
                "0",
                "request_log.max_age_days",
            ),
            (
                "STEWARD_REQUEST_LOG_PSEUDONYM_KEY_ROTATION_DAYS",
                "0",
                "request_log.pseudonym_key_rotation_days",
            ),
            (
                "STEWARD_REQUEST_LOG_ENABLED",
                "maybe",
                "STEWARD_REQUEST_LOG_ENABLED",
            ),
        ] {
            let e = Config::load_from(None, &env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{var}={value}: {e}");
        }
        std::fs::write(&file, "[request_log]\nfilter_parameters = [\"\"]\n").unwrap();
        let e = Config::load_from(Some(&file), &[]).unwrap_err().to_string();
        assert!(e.contains("request_log.filter_parameters"), "{e}");
        std::fs::write(&file, "[request_log]\nrotate = true\n").unwrap();
        let e = Config::load_from(Some(&file), &[]).unwrap_err().to_string();
        assert!(e.contains("rotate"), "{e}");
    }

    #[test]
    fn the_record_describes_the_log() {
        let mut c = Config::load_from(None, &[]).unwrap();
        c.request_log.pseudonymize = true;
        c.request_log.filter_parameters = vec!["iban".into()];
        let md = steward_domain::record::build(&c.record_context()).to_markdown();
        assert!(md.contains("### Request log (lg-01)"), "{md}");
        assert!(md.contains("HMAC-SHA256"), "{md}");
        assert!(md.contains("every 7 days"), "{md}");
        assert!(md.contains("iban (request_log.filter_parameters)"), "{md}");
        assert!(md.contains("request_log.max_total_mb"), "{md}");
        assert!(md.contains("request_log.retention, hourly :15 UTC"), "{md}");
        c.request_log.pseudonymize = false;
        let md = steward_domain::record::build(&c.record_context()).to_markdown();
        assert!(md.contains("stored as is"), "{md}");
    }
}
