//! Retention jobs: each deletes what is past its rule and nothing else.
//! They run as recurring jobs (see [`super::Registry::builtin`]) and are
//! idempotent: a second run finds nothing more to delete. The rules come
//! from the configuration ([`super::RetentionSettings`]) and the session
//! policy; the record of processing lists them.

use steward_domain::job::JobStatus;
use steward_domain::Timestamp;
use steward_storage::{jobs, retention, sessions};

use crate::{ServiceError, Services};

pub const SESSIONS: &str = "retention.sessions";
pub const LOGIN_ATTEMPTS: &str = "retention.login_attempts";
pub const AUDIT_EVENTS: &str = "retention.audit_events";
pub const JOBS: &str = "retention.jobs";

/// Rows deleted per statement.
const BATCH: i64 = 5000;

const DAY: i64 = 86_400;

fn message(what: &str, e: ServiceError) -> String {
    format!("{what}: {e}")
}

/// Deletes in batches, each in its own short write transaction, until a
/// batch comes back short; evaluates to the rows deleted in all. `$c` names
/// the transaction for the delete expression.
macro_rules! in_batches {
    ($s:expr, $c:ident => $delete:expr) => {
        async {
            let mut total = 0u64;
            loop {
                // A batch may scan the table: off the request threads.
                let mut $c = $s.db.for_long_work().begin().await?;
                let n = $delete.await?;
                $c.commit().await?;
                total += n;
                if n < BATCH as u64 {
                    return Ok::<u64, ServiceError>(total);
                }
                // Let other writers in between batches.
                tokio::task::yield_now().await;
            }
        }
    };
}

/// Sessions past the idle timeout or the absolute lifetime. They are
/// already refused when presented; this removes them from the database.
pub(crate) async fn sessions(s: Services, _: serde_json::Value) -> Result<(), String> {
    let now = Timestamp::now();
    let run = async {
        let limits = s.session_limits().await?;
        let idle = now.minus_seconds(limits.idle_seconds);
        let absolute = now.minus_seconds(limits.absolute_seconds);
        let mut tx = s.db.for_long_work().begin().await?;
        let n = sessions::delete_expired(&mut tx, idle, absolute).await?;
        tx.commit().await?;
        Ok::<u64, ServiceError>(n)
    };
    let n = run.await.map_err(|e| message(SESSIONS, e))?;
    tracing::info!(deleted = n, "retention: expired sessions deleted");
    Ok(())
}

/// Sign-in attempts older than `security.login_attempt_retention_days`.
pub(crate) async fn login_attempts(s: Services, _: serde_json::Value) -> Result<(), String> {
    let days = s.jobs.retention.login_attempt_days;
    if days == 0 {
        return Ok(());
    }
    let before = Timestamp::now().minus_seconds(i64::from(days) * DAY);
    let n = in_batches!(s, tx => retention::delete_login_attempts_before(&mut tx, before, BATCH))
        .await
        .map_err(|e| message(LOGIN_ATTEMPTS, e))?;
    tracing::info!(deleted = n, days, "retention: old sign-in attempts deleted");
    Ok(())
}

/// Audit entries past `audit.security_retention_days` (category
/// `security`) or `audit.access_retention_days` (category `access`).
pub(crate) async fn audit_events(s: Services, _: serde_json::Value) -> Result<(), String> {
    let r = &s.jobs.retention;
    let now = Timestamp::now();
    for (category, days) in [
        ("security", r.audit_security_days),
        ("access", r.audit_access_days),
    ] {
        if days == 0 {
            continue;
        }
        let before = now.minus_seconds(i64::from(days) * DAY);
        let n = in_batches!(s, tx => retention::delete_audit_events_before(&mut tx, category, before, BATCH))
            .await
        .map_err(|e| message(AUDIT_EVENTS, e))?;
        tracing::info!(
            deleted = n,
            category,
            days,
            "retention: old audit entries deleted"
        );
    }
    Ok(())
}

/// Finished jobs: done ones after `jobs.done_retention_days`, failed ones
/// after `jobs.failed_retention_days`. Queued and running jobs stay.
pub(crate) async fn jobs(s: Services, _: serde_json::Value) -> Result<(), String> {
    let r = &s.jobs.retention;
    let now = Timestamp::now();
    for (status, days) in [
        (JobStatus::Done, r.done_job_days),
        (JobStatus::Failed, r.failed_job_days),
    ] {
        if days == 0 {
            continue;
        }
        let before = now.minus_seconds(i64::from(days) * DAY);
        let n = in_batches!(s, tx => jobs::delete_finished(&mut tx, status, before, BATCH))
            .await
            .map_err(|e| message(JOBS, e))?;
        tracing::info!(
            deleted = n,
            status = status.as_str(),
            days,
            "retention: finished jobs deleted"
        );
    }
    Ok(())
}
