//! Background jobs: a queue in the database, workers that run it, and
//! recurring jobs. See docs/adr/0008-job-queue.md.
//!
//! # Enqueueing
//!
//! ```text
//! // Inside your own transaction: the job exists if and only if your
//! // change is committed.
//! let mut tx = services.db.begin().await?;
//! let export_id = gdpr_exports::insert(&mut tx, ...).await?;
//! services.enqueue_job(&mut tx, "gdpr.export", &json!({"export_id": export_id}), None).await?;
//! tx.commit().await?;
//! services.wake_job_workers(); // optional: start it now rather than at the next poll
//!
//! // Or on its own:
//! services.enqueue_job_now("gdpr.export", &json!({"export_id": 7}), None).await?;
//! ```
//!
//! Payloads carry ids of other records, never personal data itself (the
//! registry declares `jobs.payload` as holding none): erasing a person
//! never has to look into payloads.
//!
//! # Adding a handler
//!
//! A handler is an `async fn(Services, serde_json::Value) -> Result<(),
//! String>`: the payload in, `Err` with a message an administrator can act
//! on when the attempt failed. Add one line to [`Registry::builtin`]:
//!
//! ```text
//! r.handler("gdpr.export", crate::gdpr::export_job);
//! ```
//!
//! Delivery is **at least once**: a worker that dies after the work but
//! before recording it, or a job retried after a failure, runs the handler
//! again. Handlers must be idempotent: look at the record the payload names
//! and do only what is still to do (an export already `ready` is not built
//! again; a delete deletes what is still there).
//!
//! # Adding a recurring job
//!
//! One more line in [`Registry::builtin`], with a schedule name, a spec
//! (`every 15m`, `hourly :05`, `daily 03:30`, `weekly sun 04:00`; UTC) and
//! the kind it enqueues:
//!
//! ```text
//! r.schedule("retention.request_log", "hourly :20", "retention.request_log");
//! ```
//!
//! Each due time enqueues one job, whichever and however many workers see
//! it due; a run is skipped while the previous one of that kind is still
//! queued or running. A spec read from the configuration goes through
//! [`Registry::try_schedule`], which returns the parse error instead of
//! panicking.

mod diagnostics;
mod maintenance;
mod registry;
pub mod retention;
mod worker;

pub use diagnostics::{FAIL as DIAGNOSTICS_FAIL, SLEEP as DIAGNOSTICS_SLEEP};
pub use registry::{HandlerFuture, Registry, Schedule};
pub use worker::{JobOutcome, Worker, WorkerHandle, WorkerOptions};

use std::time::Duration;

use steward_domain::job::{self as job_rules, JobStatus};
use steward_domain::Timestamp;
use steward_storage::jobs::{self, Job, JobFilter, JobSort, NewJob, ScheduleRow};
use steward_storage::Conn;

use crate::{ServiceError, Services};

/// How the queue treats jobs, and the retention rules its jobs apply;
/// taken from the configuration at start.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// Attempts a new job gets before it ends as failed.
    pub max_attempts: i64,
    /// The wait after the first failed attempt; it doubles after each
    /// further one (up to a day).
    pub backoff_base: Duration,
    /// How long a claimed job stays with its worker without a sign of
    /// life. Workers renew it while the job runs, so it only runs out when
    /// the worker died (or hangs); then another worker takes the job.
    pub visibility_timeout: Duration,
    /// An attempt running longer than this is stopped and counts as failed.
    pub job_timeout: Duration,
    pub retention: RetentionSettings,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            max_attempts: 5,
            backoff_base: Duration::from_secs(30),
            visibility_timeout: Duration::from_secs(300),
            job_timeout: Duration::from_secs(3600),
            retention: RetentionSettings::default(),
        }
    }
}

/// Retention rules applied by the built-in retention jobs. Days; 0 keeps
/// the records indefinitely. Sessions follow the session policy
/// ([`crate::Policy`]), not a setting of their own.
#[derive(Clone, Debug)]
pub struct RetentionSettings {
    pub login_attempt_days: u32,
    pub audit_security_days: u32,
    pub audit_access_days: u32,
    /// Jobs that ended `done`.
    pub done_job_days: u32,
    /// Jobs that ended `failed` (kept longer: someone may want to retry).
    pub failed_job_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            login_attempt_days: 90,
            audit_security_days: 365,
            audit_access_days: 730,
            done_job_days: 7,
            failed_job_days: 90,
        }
    }
}

/// The longest `last_error` kept; the start of a message says what went wrong.
const ERROR_MAX: usize = 4000;

pub(crate) fn clip_error(msg: &str) -> String {
    if msg.len() <= ERROR_MAX {
        return msg.to_string();
    }
    let mut end = ERROR_MAX;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &msg[..end])
}

impl Services {
    /// Uses these queue settings instead of the defaults.
    pub fn with_job_settings(mut self, settings: JobSettings) -> Self {
        self.jobs = std::sync::Arc::new(settings);
        self
    }

    pub fn job_settings(&self) -> &JobSettings {
        &self.jobs
    }

    /// Adds a job on the caller's connection (and so in the caller's
    /// transaction, if one is open), due at `run_at` (now when `None`).
    /// Workers in this process notice it at their next poll; call
    /// [`Services::wake_job_workers`] after committing to start it at once.
    pub async fn enqueue_job(
        &self,
        conn: &mut Conn,
        kind: &str,
        payload: &serde_json::Value,
        run_at: Option<Timestamp>,
    ) -> Result<i64, ServiceError> {
        let kind = job_rules::kind(kind)?;
        let now = Timestamp::now();
        let id = jobs::enqueue(
            conn,
            &NewJob {
                kind,
                payload: &payload.to_string(),
                run_at: run_at.unwrap_or(now),
                max_attempts: self.jobs.max_attempts.max(1),
            },
            now,
        )
        .await?;
        Ok(id)
    }

    /// Adds a job on a connection of its own and wakes this process's
    /// workers.
    pub async fn enqueue_job_now(
        &self,
        kind: &str,
        payload: &serde_json::Value,
        run_at: Option<Timestamp>,
    ) -> Result<i64, ServiceError> {
        let mut conn = self.db.conn().await?;
        let id = self.enqueue_job(&mut conn, kind, payload, run_at).await?;
        drop(conn);
        self.wake_job_workers();
        Ok(id)
    }

    /// Tells a worker of this process waiting for its next poll to look
    /// now. Workers in other processes find new jobs at their next poll.
    pub fn wake_job_workers(&self) {
        self.job_wake.notify_one();
    }

    pub async fn job(&self, id: i64) -> Result<Job, ServiceError> {
        let mut conn = self.db.conn().await?;
        jobs::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("job"))
    }

    /// A page of jobs and how many match in all.
    pub async fn list_jobs(
        &self,
        filter: &JobFilter,
        sort: &[(JobSort, bool)],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Job>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let list = jobs::list(&mut conn, filter, sort, limit, offset).await?;
        let total = jobs::count(&mut conn, filter).await?;
        Ok((list, total))
    }

    /// Puts a failed job back in the queue with a fresh set of attempts.
    /// Only failed jobs can be retried: a queued or running one will run
    /// anyway, a done one must not run again by accident.
    pub async fn retry_job(&self, id: i64) -> Result<Job, ServiceError> {
        let mut conn = self.db.conn().await?;
        match jobs::retry(&mut conn, id, Timestamp::now()).await? {
            None => Err(ServiceError::NotFound("job")),
            Some((true, job)) => {
                drop(conn);
                self.wake_job_workers();
                Ok(job)
            }
            Some((false, job)) => Err(ServiceError::Conflict(format!(
                "Job {id} is {}, not failed: only failed jobs can be retried.",
                job.status
            ))),
        }
    }

    /// The recurring jobs' rows: when each runs next and ran last.
    pub async fn job_schedule_rows(&self) -> Result<Vec<ScheduleRow>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(jobs::list_schedules(&mut conn).await?)
    }
}

/// The statuses named in a filter, or an error naming the bad one.
pub fn parse_statuses(values: &[String]) -> Result<Vec<JobStatus>, String> {
    values
        .iter()
        .map(|v| {
            JobStatus::parse(v.trim()).ok_or_else(|| {
                format!("Job status {v:?} is not one of queued, running, done, failed.")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_clipped_on_a_character_boundary() {
        let long = "é".repeat(ERROR_MAX);
        let clipped = clip_error(&long);
        assert!(clipped.len() <= ERROR_MAX + "…".len());
        assert!(clipped.ends_with('…'));
        assert_eq!(clip_error("short"), "short");
    }

    #[test]
    fn statuses_are_parsed_with_a_clear_error() {
        assert_eq!(
            parse_statuses(&["failed".into(), " queued".into()]).unwrap(),
            vec![JobStatus::Failed, JobStatus::Queued]
        );
        let e = parse_statuses(&["broken".into()]).unwrap_err();
        assert!(e.contains("\"broken\"") && e.contains("failed"), "{e}");
    }
}
