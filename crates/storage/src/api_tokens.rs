//! The `api_tokens` table: named tokens, stored only as hashes.

use steward_domain::user::{User, UserId};
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;
use crate::users::{user_at, COLUMNS_U};

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

const COLUMNS: &str = "t.id, t.user_id, t.name, t.created_at, t.last_used_at";

fn token_at(row: &Row<'_>, at: usize) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.i64(at)?,
        user_id: row.i64(at + 1)?,
        name: row.string(at + 2)?,
        created_at: row.timestamp(at + 3)?,
        last_used_at: row.opt_timestamp(at + 4)?,
    })
}

impl FromRow for ApiToken {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        token_at(row, 0)
    }
}

pub struct TokenWithUser(pub ApiToken, pub User);

impl FromRow for TokenWithUser {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(TokenWithUser(token_at(row, 0)?, user_at(row, 5)?))
    }
}

pub async fn insert(
    conn: &mut Conn,
    user_id: UserId,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> Result<ApiToken> {
    conn.query_one(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, user_id, name, created_at, last_used_at",
        params![user_id, name, token_hash, now],
    )
    .await
}

pub async fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<TokenWithUser>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS}, {COLUMNS_U} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1"
        ),
        params![token_hash],
    )
    .await
}

pub async fn touch(conn: &mut Conn, id: i64, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
        params![now, id],
    )
    .await?;
    Ok(())
}

pub async fn list_for_user(conn: &mut Conn, user_id: UserId) -> Result<Vec<ApiToken>> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id"),
        params![user_id],
    )
    .await
}

/// Revokes (deletes) a token of `user_id`; false when there is none with that id.
pub async fn delete(conn: &mut Conn, user_id: UserId, id: i64) -> Result<bool> {
    Ok(conn
        .execute(
            "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
            params![id, user_id],
        )
        .await?
        > 0)
}
