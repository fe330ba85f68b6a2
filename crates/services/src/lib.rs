//! Use cases shared by every way into Steward (API, web UI, CLI, jobs):
//! creating and changing accounts, signing in with brute-force protection,
//! sessions and API tokens. Rules about values live in `steward_domain`;
//! SQL lives in `steward_storage`; this crate puts them together.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod authz;
mod cached;
pub mod custom_fields;
mod error;
pub mod gdpr;
pub mod groups;
pub mod jobs;
pub mod lookups;
pub mod memberships;
pub mod passwords;
pub mod principals;
pub mod projects;
pub mod recent_activity;
pub mod request_log;
pub mod roles;
pub mod search;
pub mod secrets;
pub mod seed;
pub mod session_limits;
pub mod text_settings;
pub mod versions;
pub mod work_packages;

pub use error::ServiceError;

use std::sync::Arc;

use steward_storage::Db;

/// Security policy, taken from the configuration at start.
#[derive(Clone, Debug)]
pub struct Policy {
    pub password_min_length: usize,
    pub argon2: passwords::Argon2Params,
    /// Failed sign-ins in a row before the account is blocked; 0 never blocks.
    pub max_failed_logins: i64,
    pub lockout_seconds: i64,
    /// Defaults only: administrators may change the session limits at run
    /// time; [`Services::session_limits`] gives the ones in force.
    pub session_idle_seconds: i64,
    pub session_absolute_seconds: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            password_min_length: 10,
            argon2: passwords::Argon2Params::default(),
            max_failed_logins: 5,
            lockout_seconds: 15 * 60,
            session_idle_seconds: 2 * 3600,
            session_absolute_seconds: 7 * 24 * 3600,
        }
    }
}

/// Everything a use case needs: the database and the policy. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub policy: Arc<Policy>,
    totals: Arc<work_packages::TotalCache>,
    /// Queue settings and retention rules ([`Services::with_job_settings`]).
    jobs: Arc<jobs::JobSettings>,
    /// Wakes this process's job workers when a job is enqueued here.
    job_wake: Arc<tokio::sync::Notify>,
    /// Where per-person export archives go ([`Services::with_export_settings`]).
    exports: Arc<gdpr::export::ExportSettings>,
    /// The request log ([`Services::with_request_log`]); off by default.
    request_log: request_log::RequestLog,
    /// Audit entries of reads, written in batches ([`audit`]).
    audit_buffer: Arc<audit::AuditBuffer>,
    /// The session lifetimes in force, cached ([`session_limits`]).
    session_limits: Arc<session_limits::LimitsCache>,
    /// How texts are rendered, cached ([`text_settings`]).
    text_settings: Arc<cached::Cached<text_settings::TextSettings>>,
}

impl Services {
    pub fn new(db: Db, policy: Policy) -> Self {
        Services {
            db,
            policy: Arc::new(policy),
            totals: Arc::default(),
            jobs: Arc::default(),
            job_wake: Arc::default(),
            exports: Arc::default(),
            request_log: request_log::RequestLog::disabled(),
            audit_buffer: Arc::default(),
            session_limits: Arc::default(),
            text_settings: Arc::default(),
        }
    }
}
