//! The `erasure_certificates` table: proof of each erasure, kept for the
//! controller.

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct Certificate {
    pub id: i64,
    /// `sha256:` + hex of SHA-256(salt || decimal user id).
    pub subject_hash: String,
    pub salt: String,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub completed_at: Timestamp,
    /// The certificate as JSON.
    pub document: String,
}

const COLUMNS: &str = "id, subject_hash, salt, requested_by, requested_at, completed_at, document";

impl FromRow for Certificate {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Certificate {
            id: row.i64(0)?,
            subject_hash: row.string(1)?,
            salt: row.string(2)?,
            requested_by: row.i64(3)?,
            requested_at: row.timestamp(4)?,
            completed_at: row.timestamp(5)?,
            document: row.string(6)?,
        })
    }
}

pub struct NewCertificate<'a> {
    pub subject_hash: &'a str,
    pub salt: &'a str,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub completed_at: Timestamp,
}

/// Inserts the certificate with an empty document and returns its id; the
/// document names its own id, so it is written with [`set_document`].
pub async fn insert(conn: &mut Conn, c: &NewCertificate<'_>) -> Result<i64> {
    conn.query_one(
        "INSERT INTO erasure_certificates (subject_hash, salt, requested_by, requested_at, completed_at, document) \
         VALUES ($1, $2, $3, $4, $5, '{}') RETURNING id",
        params![c.subject_hash, c.salt, c.requested_by, c.requested_at, c.completed_at],
    )
    .await
}

pub async fn set_document(conn: &mut Conn, id: i64, document: &str) -> Result<()> {
    conn.execute(
        "UPDATE erasure_certificates SET document = $1 WHERE id = $2",
        params![document, id],
    )
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<Certificate>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM erasure_certificates WHERE id = $1"),
        params![id],
    )
    .await
}

/// All certificates, newest first (a small table: one row per erasure).
pub async fn list(conn: &mut Conn, offset: i64, limit: i64) -> Result<Vec<Certificate>> {
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM erasure_certificates ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        ),
        params![],
    )
    .await
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    conn.query_one("SELECT count(*) FROM erasure_certificates", params![])
        .await
}

/// Salts and hashes of every certificate, to recognise an id erased before.
pub async fn hashes(conn: &mut Conn) -> Result<Vec<(i64, String, String)>> {
    conn.query(
        "SELECT id, salt, subject_hash FROM erasure_certificates ORDER BY id",
        params![],
    )
    .await
}
