//! The `audit_events` table: security events and the audit trail of access
//! to personal data.

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub id: i64,
    pub created_at: Timestamp,
    /// `security` or `access`.
    pub category: String,
    pub event: String,
    pub actor_id: Option<UserId>,
    pub target_user_id: Option<UserId>,
    pub request_id: Option<String>,
    /// JSON object: ids and field names, never personal values.
    pub details: String,
}

pub const COLUMNS: &str =
    "id, created_at, category, event, actor_id, target_user_id, request_id, details";

impl FromRow for AuditEvent {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(AuditEvent {
            id: row.i64(0)?,
            created_at: row.timestamp(1)?,
            category: row.string(2)?,
            event: row.string(3)?,
            actor_id: row.opt_i64(4)?,
            target_user_id: row.opt_i64(5)?,
            request_id: row.opt_string(6)?,
            details: row.string(7)?,
        })
    }
}

pub struct NewAuditEvent<'a> {
    pub category: &'a str,
    pub event: &'a str,
    pub actor_id: Option<UserId>,
    pub target_user_id: Option<UserId>,
    pub request_id: Option<&'a str>,
    pub details: &'a str,
}

pub async fn insert(conn: &mut Conn, e: &NewAuditEvent<'_>, now: Timestamp) -> Result<i64> {
    conn.query_one(
        "INSERT INTO audit_events (created_at, category, event, actor_id, target_user_id, request_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        params![now, e.category, e.event, e.actor_id, e.target_user_id, e.request_id, e.details],
    )
    .await
}
