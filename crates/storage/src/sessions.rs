//! The `sessions` table: server-side sessions keyed by the hash of the cookie's id.

use steward_domain::user::{User, UserId};
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;
use crate::users::{user_at, COLUMNS_U, COLUMN_COUNT};

#[derive(Clone, Debug)]
pub struct Session {
    pub id: i64,
    pub user_id: UserId,
    pub csrf_token: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

const COLUMNS: &str =
    "s.id, s.user_id, s.csrf_token, s.user_agent, s.ip_address, s.created_at, s.last_seen_at";

fn session_at(row: &Row<'_>, at: usize) -> Result<Session> {
    Ok(Session {
        id: row.i64(at)?,
        user_id: row.i64(at + 1)?,
        csrf_token: row.string(at + 2)?,
        user_agent: row.opt_string(at + 3)?,
        ip_address: row.opt_string(at + 4)?,
        created_at: row.timestamp(at + 5)?,
        last_seen_at: row.timestamp(at + 6)?,
    })
}

impl FromRow for Session {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        session_at(row, 0)
    }
}

/// A session together with its user, as one query returns them.
pub struct SessionWithUser(pub Session, pub User);

impl FromRow for SessionWithUser {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(SessionWithUser(session_at(row, 0)?, user_at(row, 7)?))
    }
}
const _: () = assert!(COLUMN_COUNT == 15);

pub struct NewSession<'a> {
    pub user_id: UserId,
    pub token_hash: &'a str,
    pub csrf_token: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<&'a str>,
}

pub async fn insert(conn: &mut Conn, s: &NewSession<'_>, now: Timestamp) -> Result<Session> {
    conn.query_one(
        "INSERT INTO sessions (user_id, token_hash, csrf_token, user_agent, ip_address, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         RETURNING id, user_id, csrf_token, user_agent, ip_address, created_at, last_seen_at",
        params![s.user_id, s.token_hash, s.csrf_token, s.user_agent, s.ip_address, now],
    )
    .await
}

pub async fn find_by_token_hash(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<SessionWithUser>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS}, {COLUMNS_U} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1"
        ),
        params![token_hash],
    )
    .await
}

pub async fn touch(conn: &mut Conn, id: i64, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = $1 WHERE id = $2",
        params![now, id],
    )
    .await?;
    Ok(())
}

pub async fn list_for_user(conn: &mut Conn, user_id: UserId) -> Result<Vec<Session>> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM sessions s WHERE s.user_id = $1 ORDER BY s.id"),
        params![user_id],
    )
    .await
}

/// Deletes one session of `user_id`; false when there is none with that id.
pub async fn delete(conn: &mut Conn, user_id: UserId, id: i64) -> Result<bool> {
    Ok(conn
        .execute(
            "DELETE FROM sessions WHERE id = $1 AND user_id = $2",
            params![id, user_id],
        )
        .await?
        > 0)
}

/// Ends every session of the user except `keep` (the one making the change).
pub async fn delete_for_user(conn: &mut Conn, user_id: UserId, keep: Option<i64>) -> Result<u64> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
        params![user_id, keep.unwrap_or(0)],
    )
    .await
}

/// Removes sessions idle since before `idle_cutoff` or started before `absolute_cutoff`.
pub async fn delete_expired(
    conn: &mut Conn,
    idle_cutoff: Timestamp,
    absolute_cutoff: Timestamp,
) -> Result<u64> {
    conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
        params![idle_cutoff, absolute_cutoff],
    )
    .await
}
