//! Deleting what is past its retention: old sign-in attempts and audit
//! entries. Deletes go in batches of at most `batch` rows, each its own
//! short statement, so that a first run over years of rows never holds
//! SQLite's single write lock (or PostgreSQL row locks) for long; callers
//! repeat until a batch comes back short. Expired sessions are deleted by
//! `sessions::delete_expired`, which needs no batches (sessions are few).

use steward_domain::Timestamp;

use crate::db::{Conn, Result};
use crate::params;

/// Deletes up to `batch` sign-in attempts made before `before`.
pub async fn delete_login_attempts_before(
    conn: &mut Conn,
    before: Timestamp,
    batch: i64,
) -> Result<u64> {
    // LIMIT as a literal: see ADR 0001's addendum.
    conn.execute(
        &format!(
            "DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts \
             WHERE created_at < $1 LIMIT {})",
            batch.max(1)
        ),
        params![before],
    )
    .await
}

/// Deletes up to `batch` audit entries of `category` (`security`,
/// `access`) written before `before`.
pub async fn delete_audit_events_before(
    conn: &mut Conn,
    category: &str,
    before: Timestamp,
    batch: i64,
) -> Result<u64> {
    conn.execute(
        &format!(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events \
             WHERE category = $1 AND created_at < $2 LIMIT {})",
            batch.max(1)
        ),
        params![category, before],
    )
    .await
}
