//! Small reference tables: statuses, types, priorities and versions.

use steward_domain::date::Date;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub is_closed: bool,
    pub is_default: bool,
    pub color: String,
    pub position: i64,
}

impl FromRow for Status {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Status {
            id: r.i64(0)?,
            name: r.string(1)?,
            is_closed: r.bool(2)?,
            is_default: r.bool(3)?,
            color: r.string(4)?,
            position: r.i64(5)?,
        })
    }
}

pub async fn statuses(conn: &mut Conn) -> Result<Vec<Status>> {
    conn.query(
        "SELECT id, name, is_closed, is_default, color, position FROM statuses ORDER BY position, id",
        params![],
    )
    .await
}

#[derive(Clone, Debug)]
pub struct WpType {
    pub id: i64,
    pub name: String,
    pub is_milestone: bool,
    pub is_default: bool,
    pub color: String,
    pub position: i64,
}

impl FromRow for WpType {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(WpType {
            id: r.i64(0)?,
            name: r.string(1)?,
            is_milestone: r.bool(2)?,
            is_default: r.bool(3)?,
            color: r.string(4)?,
            position: r.i64(5)?,
        })
    }
}

pub async fn types(conn: &mut Conn) -> Result<Vec<WpType>> {
    conn.query(
        "SELECT id, name, is_milestone, is_default, color, position FROM types ORDER BY position, id",
        params![],
    )
    .await
}

#[derive(Clone, Debug)]
pub struct Priority {
    pub id: i64,
    pub name: String,
    pub is_default: bool,
    pub active: bool,
    pub position: i64,
}

impl FromRow for Priority {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Priority {
            id: r.i64(0)?,
            name: r.string(1)?,
            is_default: r.bool(2)?,
            active: r.bool(3)?,
            position: r.i64(4)?,
        })
    }
}

pub async fn priorities(conn: &mut Conn) -> Result<Vec<Priority>> {
    conn.query(
        "SELECT id, name, is_default, active, position FROM priorities ORDER BY position, id",
        params![],
    )
    .await
}

#[derive(Clone, Debug)]
pub struct Version {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub status: String,
    pub start_date: Option<Date>,
    pub due_date: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl FromRow for Version {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Version {
            id: r.i64(0)?,
            project_id: r.i64(1)?,
            name: r.string(2)?,
            description: r.string(3)?,
            status: r.string(4)?,
            start_date: r.opt_string(5)?.and_then(|s| Date::parse(&s)),
            due_date: r.opt_string(6)?.and_then(|s| Date::parse(&s)),
            created_at: r.timestamp(7)?,
            updated_at: r.timestamp(8)?,
        })
    }
}

const VERSION_COLUMNS: &str =
    "id, project_id, name, description, status, start_date, due_date, created_at, updated_at";

pub async fn version(conn: &mut Conn, id: i64) -> Result<Option<Version>> {
    conn.query_opt(
        &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE id = $1"),
        params![id],
    )
    .await
}

pub async fn versions_of(conn: &mut Conn, project_ids: &[i64]) -> Result<Vec<Version>> {
    if project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (1..=project_ids.len()).map(|i| format!("${i}")).collect();
    conn.query(
        &format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE project_id IN ({}) ORDER BY due_date, name, id",
            list.join(", ")
        ),
        project_ids.iter().map(|id| (*id).into()).collect(),
    )
    .await
}

pub struct NewVersion<'a> {
    pub project_id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub status: &'a str,
    pub start_date: Option<Date>,
    pub due_date: Option<Date>,
}

pub async fn insert_version(conn: &mut Conn, v: &NewVersion<'_>, now: Timestamp) -> Result<i64> {
    conn.query_one(
        "INSERT INTO versions (project_id, name, description, status, start_date, due_date, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        params![
            v.project_id,
            v.name,
            v.description,
            v.status,
            v.start_date.map(|d| d.to_string()),
            v.due_date.map(|d| d.to_string()),
            now
        ],
    )
    .await
}
