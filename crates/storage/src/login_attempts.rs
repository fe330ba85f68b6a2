//! The `login_attempts` table: every sign-in attempt, for brute-force
//! protection and security review.

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct LoginAttempt {
    pub id: i64,
    pub user_id: Option<UserId>,
    pub login: String,
    pub success: bool,
    pub reason: String,
    pub ip_address: Option<String>,
    pub created_at: Timestamp,
}

impl FromRow for LoginAttempt {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(LoginAttempt {
            id: row.i64(0)?,
            user_id: row.opt_i64(1)?,
            login: row.string(2)?,
            success: row.bool(3)?,
            reason: row.string(4)?,
            ip_address: row.opt_string(5)?,
            created_at: row.timestamp(6)?,
        })
    }
}

pub async fn insert(
    conn: &mut Conn,
    user_id: Option<UserId>,
    login: &str,
    success: bool,
    reason: &str,
    ip_address: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "INSERT INTO login_attempts (user_id, login, success, reason, ip_address, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![user_id, login, success, reason, ip_address, now],
    )
    .await?;
    Ok(())
}

pub async fn list_for_user(
    conn: &mut Conn,
    user_id: UserId,
    limit: i64,
) -> Result<Vec<LoginAttempt>> {
    conn.query(
        "SELECT id, user_id, login, success, reason, ip_address, created_at FROM login_attempts \
         WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        params![user_id, limit],
    )
    .await
}
