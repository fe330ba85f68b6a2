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

/// The three tables of work-package reference data that administrators
/// manage; used for what the tables have in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Status,
    Type,
    Priority,
}

impl Lookup {
    fn table(self) -> &'static str {
        match self {
            Lookup::Status => "statuses",
            Lookup::Type => "types",
            Lookup::Priority => "priorities",
        }
    }

    /// The column of `work_packages` (and `work_package_journals`) that points here.
    fn work_package_column(self) -> &'static str {
        match self {
            Lookup::Status => "status_id",
            Lookup::Type => "type_id",
            Lookup::Priority => "priority_id",
        }
    }
}

/// The next free position: one after the last.
pub async fn next_position(conn: &mut Conn, lookup: Lookup) -> Result<i64> {
    let max: Option<i64> = conn
        .query_opt::<MaxPosition>(
            &format!("SELECT max(position) FROM {}", lookup.table()),
            params![],
        )
        .await?
        .and_then(|m| m.0);
    Ok(max.unwrap_or(0) + 1)
}

struct MaxPosition(Option<i64>);
impl FromRow for MaxPosition {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(MaxPosition(r.opt_i64(0)?))
    }
}

/// Takes the default flag from every row but `keep`.
pub async fn clear_default(conn: &mut Conn, lookup: Lookup, keep: i64) -> Result<()> {
    conn.execute(
        &format!(
            "UPDATE {} SET is_default = $1 WHERE id <> $2 AND is_default = $3",
            lookup.table()
        ),
        params![false, keep, true],
    )
    .await?;
    Ok(())
}

/// Whether a work package, now or in its history, points to the row.
pub async fn in_use(conn: &mut Conn, lookup: Lookup, id: i64) -> Result<bool> {
    let column = lookup.work_package_column();
    for table in ["work_packages", "work_package_journals"] {
        let found: Option<i64> = conn
            .query_opt(
                &format!("SELECT {column} FROM {table} WHERE {column} = $1 LIMIT 1"),
                params![id],
            )
            .await?;
        if found.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Deletes the row; returns whether there was one.
pub async fn delete(conn: &mut Conn, lookup: Lookup, id: i64) -> Result<bool> {
    Ok(conn
        .execute(
            &format!("DELETE FROM {} WHERE id = $1", lookup.table()),
            params![id],
        )
        .await?
        == 1)
}

/// Inserts a status (its `id` is ignored) and returns the new id.
pub async fn insert_status(conn: &mut Conn, s: &Status) -> Result<i64> {
    conn.query_one(
        "INSERT INTO statuses (name, is_closed, is_default, color, position) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        params![&s.name, s.is_closed, s.is_default, &s.color, s.position],
    )
    .await
}

/// Writes every column of the status with `s.id`.
pub async fn update_status(conn: &mut Conn, s: &Status) -> Result<()> {
    conn.execute(
        "UPDATE statuses SET name = $1, is_closed = $2, is_default = $3, color = $4, position = $5 \
         WHERE id = $6",
        params![&s.name, s.is_closed, s.is_default, &s.color, s.position, s.id],
    )
    .await?;
    Ok(())
}

/// Inserts a type (its `id` is ignored) and returns the new id.
pub async fn insert_type(conn: &mut Conn, t: &WpType) -> Result<i64> {
    conn.query_one(
        "INSERT INTO types (name, is_milestone, is_default, color, position) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        params![&t.name, t.is_milestone, t.is_default, &t.color, t.position],
    )
    .await
}

/// Writes every column of the type with `t.id`.
pub async fn update_type(conn: &mut Conn, t: &WpType) -> Result<()> {
    conn.execute(
        "UPDATE types SET name = $1, is_milestone = $2, is_default = $3, color = $4, position = $5 \
         WHERE id = $6",
        params![&t.name, t.is_milestone, t.is_default, &t.color, t.position, t.id],
    )
    .await?;
    Ok(())
}

/// Inserts a priority (its `id` is ignored) and returns the new id.
pub async fn insert_priority(conn: &mut Conn, p: &Priority) -> Result<i64> {
    conn.query_one(
        "INSERT INTO priorities (name, is_default, active, position) \
         VALUES ($1, $2, $3, $4) RETURNING id",
        params![&p.name, p.is_default, p.active, p.position],
    )
    .await
}

/// Writes every column of the priority with `p.id`.
pub async fn update_priority(conn: &mut Conn, p: &Priority) -> Result<()> {
    conn.execute(
        "UPDATE priorities SET name = $1, is_default = $2, active = $3, position = $4 WHERE id = $5",
        params![&p.name, p.is_default, p.active, p.position, p.id],
    )
    .await?;
    Ok(())
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
