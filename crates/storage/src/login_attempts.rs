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

/// Failed sign-ins counted for the sign-in throttle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub last_at: Option<Timestamp>,
}

impl FromRow for Failures {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Failures {
            count: row.i64(0)?,
            last_at: row.opt_timestamp(1)?,
        })
    }
}

/// Wrong passwords (and unknown logins) typed with `login`, in any case,
/// from `ip_address` (`None`: from any address) after `since`, counted
/// from the last success of that login from there or the last lift by an
/// administrator (reason `unblocked`). Refusals by the throttle itself do
/// not count: waiting is enough to try again.
pub async fn recent_failures(
    conn: &mut Conn,
    login: &str,
    ip_address: Option<&str>,
    since: Timestamp,
) -> Result<Failures> {
    // '*' stands for any address; a real address never is '*'. An attempt
    // without an address is keyed by ''.
    let place = ip_address.map_or("*", |ip| ip);
    conn.query_one(
        "SELECT count(*), MAX(a.created_at) FROM login_attempts a \
         WHERE lower(a.login) = $1 AND a.created_at > $2 AND a.success = $4 \
         AND a.reason NOT IN ('throttled', 'unblocked') \
         AND ($3 = '*' OR COALESCE(a.ip_address, '') = $3) \
         AND a.created_at > COALESCE((SELECT MAX(r.created_at) FROM login_attempts r \
             WHERE lower(r.login) = $1 AND r.created_at > $2 AND (r.reason = 'unblocked' \
             OR (r.success = $5 AND ($3 = '*' OR COALESCE(r.ip_address, '') = $3)))), 0)",
        params![login.to_ascii_lowercase(), since, place, false, true],
    )
    .await
}
