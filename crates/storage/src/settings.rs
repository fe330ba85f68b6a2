//! The `settings` table: instance settings changed at run time.

use steward_domain::Timestamp;

use crate::db::{Conn, Result};
use crate::params;

pub async fn get(conn: &mut Conn, key: &str) -> Result<Option<String>> {
    conn.query_opt("SELECT value FROM settings WHERE key = $1", params![key])
        .await
}

pub async fn set(conn: &mut Conn, key: &str, value: &str) -> Result<()> {
    // Both engines know ON CONFLICT ... DO UPDATE with `excluded`.
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, Timestamp::now()],
    )
    .await?;
    Ok(())
}
