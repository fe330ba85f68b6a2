//! The `gdpr_exports` table: per-person exports (GDPR Art. 15 and 20), their
//! status and the archive each one produced.

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

/// Where an export stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
    Expired,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
            ExportStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => ExportStatus::Queued,
            "running" => ExportStatus::Running,
            "ready" => ExportStatus::Ready,
            "failed" => ExportStatus::Failed,
            "expired" => ExportStatus::Expired,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct GdprExport {
    pub id: i64,
    pub subject_user_id: UserId,
    pub requested_by: UserId,
    pub status: ExportStatus,
    pub job_id: Option<i64>,
    /// The archive's file name inside the exports directory.
    pub file_name: Option<String>,
    pub size_bytes: Option<i64>,
    /// SHA-256 of the archive, lower-case hex.
    pub sha256: Option<String>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, subject_user_id, requested_by, status, job_id, file_name, size_bytes, \
     sha256, error, created_at, completed_at, expires_at";

impl FromRow for GdprExport {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let status = r.string(3)?;
        Ok(GdprExport {
            id: r.i64(0)?,
            subject_user_id: r.i64(1)?,
            requested_by: r.i64(2)?,
            status: ExportStatus::parse(&status).ok_or_else(|| {
                crate::StorageError::Engine(format!("unknown export status {status:?}"))
            })?,
            job_id: r.opt_i64(4)?,
            file_name: r.opt_string(5)?,
            size_bytes: r.opt_i64(6)?,
            sha256: r.opt_string(7)?,
            error: r.opt_string(8)?,
            created_at: r.timestamp(9)?,
            completed_at: r.opt_timestamp(10)?,
            expires_at: r.opt_timestamp(11)?,
        })
    }
}

/// Records a new export request, queued.
pub async fn insert(
    conn: &mut Conn,
    subject: UserId,
    requested_by: UserId,
    now: Timestamp,
) -> Result<GdprExport> {
    conn.query_one(
        &format!(
            "INSERT INTO gdpr_exports (subject_user_id, requested_by, status, created_at) \
             VALUES ($1, $2, 'queued', $3) RETURNING {COLUMNS}"
        ),
        params![subject, requested_by, now],
    )
    .await
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<GdprExport>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM gdpr_exports WHERE id = $1"),
        params![id],
    )
    .await
}

/// The exports `requested_by` asked for about `subject`, newest first.
pub async fn list(
    conn: &mut Conn,
    subject: UserId,
    requested_by: UserId,
) -> Result<Vec<GdprExport>> {
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM gdpr_exports WHERE subject_user_id = $1 AND requested_by = $2 \
             ORDER BY id DESC"
        ),
        params![subject, requested_by],
    )
    .await
}

/// An export `requested_by` asked for about `subject` that is still
/// queued or running, if any.
pub async fn pending(
    conn: &mut Conn,
    subject: UserId,
    requested_by: UserId,
) -> Result<Option<GdprExport>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM gdpr_exports WHERE subject_user_id = $1 AND requested_by = $2 \
             AND status IN ('queued', 'running') ORDER BY id LIMIT 1"
        ),
        params![subject, requested_by],
    )
    .await
}

pub async fn set_job(conn: &mut Conn, id: i64, job_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE gdpr_exports SET job_id = $1 WHERE id = $2",
        params![job_id, id],
    )
    .await?;
    Ok(())
}

/// Marks an export as running: a queued one, one interrupted while
/// running, or one whose last attempt failed (the job is being retried).
/// False when it is ready or expired.
pub async fn start(conn: &mut Conn, id: i64) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE gdpr_exports SET status = 'running', error = NULL \
             WHERE id = $1 AND status IN ('queued', 'running', 'failed')",
            params![id],
        )
        .await?;
    Ok(n == 1)
}

/// The archive is written: records it and when it expires.
pub async fn finish(
    conn: &mut Conn,
    id: i64,
    file_name: &str,
    size_bytes: i64,
    sha256: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE gdpr_exports SET status = 'ready', file_name = $1, size_bytes = $2, sha256 = $3, \
             error = NULL, completed_at = $4, expires_at = $5 WHERE id = $6 AND status = 'running'",
            params![file_name, size_bytes, sha256, now, expires_at, id],
        )
        .await?;
    Ok(n == 1)
}

pub async fn fail(conn: &mut Conn, id: i64, error: &str, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE gdpr_exports SET status = 'failed', error = $1, completed_at = $2 \
         WHERE id = $3 AND status IN ('queued', 'running')",
        params![error, now, id],
    )
    .await?;
    Ok(())
}

/// Ready exports whose archive has expired by `now`.
pub async fn due_for_expiry(conn: &mut Conn, now: Timestamp) -> Result<Vec<GdprExport>> {
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM gdpr_exports WHERE status = 'ready' AND expires_at <= $1 \
             ORDER BY id"
        ),
        params![now],
    )
    .await
}

/// Marks an export expired (its archive deleted); false if it was not ready.
pub async fn expire(conn: &mut Conn, id: i64) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE gdpr_exports SET status = 'expired' WHERE id = $1 AND status = 'ready'",
            params![id],
        )
        .await?;
    Ok(n == 1)
}

/// The archive file names of ready exports (what the archive directory
/// must keep).
pub async fn ready_file_names(conn: &mut Conn) -> Result<Vec<String>> {
    conn.query(
        "SELECT file_name FROM gdpr_exports WHERE status = 'ready' AND file_name IS NOT NULL",
        params![],
    )
    .await
}

/// Ready exports about or requested by `user`: those with an archive on disk.
pub async fn ready_of(conn: &mut Conn, user: UserId) -> Result<Vec<GdprExport>> {
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM gdpr_exports WHERE status = 'ready' \
             AND (subject_user_id = $1 OR requested_by = $1) ORDER BY id"
        ),
        params![user],
    )
    .await
}
