//! Small reference tables: statuses, types, priorities and versions.

use steward_domain::date::Date;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Param, Result, Row};
use crate::params;

#[derive(Clone, Debug, Default)]
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
    all(conn).await
}

#[derive(Clone, Debug, Default)]
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
    all(conn).await
}

#[derive(Clone, Debug, Default)]
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
    all(conn).await
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

/// A row of one of the tables in [`Lookup`]: what reading, inserting and
/// updating need to know, so that one piece of SQL serves all three.
pub trait LookupRow: FromRow + Clone + Send + Sync + 'static {
    const LOOKUP: Lookup;
    /// Every column but `id`, in the order `FromRow` reads them after `id`
    /// and [`LookupRow::values`] gives them.
    const COLUMNS: &'static [&'static str];

    fn values(&self) -> Vec<Param>;
    fn id(&self) -> i64;
    fn name(&self) -> &str;
    fn is_default(&self) -> bool;
    fn position(&self) -> i64;
    /// Sets the columns every table has; the caller checked them.
    fn set_shared(&mut self, id: i64, name: String, is_default: bool, position: i64);
}

/// The [`LookupRow`] accessors of the columns every table has, which the
/// three row structs name alike.
macro_rules! shared_column_accessors {
    () => {
        fn id(&self) -> i64 {
            self.id
        }
        fn name(&self) -> &str {
            &self.name
        }
        fn is_default(&self) -> bool {
            self.is_default
        }
        fn position(&self) -> i64 {
            self.position
        }
        fn set_shared(&mut self, id: i64, name: String, is_default: bool, position: i64) {
            (self.id, self.name, self.is_default) = (id, name, is_default);
            self.position = position;
        }
    };
}

impl LookupRow for Status {
    const LOOKUP: Lookup = Lookup::Status;
    const COLUMNS: &'static [&'static str] =
        &["name", "is_closed", "is_default", "color", "position"];

    fn values(&self) -> Vec<Param> {
        params![
            &self.name,
            self.is_closed,
            self.is_default,
            &self.color,
            self.position
        ]
    }
    shared_column_accessors!();
}

impl LookupRow for WpType {
    const LOOKUP: Lookup = Lookup::Type;
    const COLUMNS: &'static [&'static str] =
        &["name", "is_milestone", "is_default", "color", "position"];

    fn values(&self) -> Vec<Param> {
        params![
            &self.name,
            self.is_milestone,
            self.is_default,
            &self.color,
            self.position
        ]
    }
    shared_column_accessors!();
}

impl LookupRow for Priority {
    const LOOKUP: Lookup = Lookup::Priority;
    const COLUMNS: &'static [&'static str] = &["name", "is_default", "active", "position"];

    fn values(&self) -> Vec<Param> {
        params![&self.name, self.is_default, self.active, self.position]
    }
    shared_column_accessors!();
}

/// Every row of the table, ordered by position.
pub async fn all<T: LookupRow>(conn: &mut Conn) -> Result<Vec<T>> {
    conn.query(
        &format!(
            "SELECT id, {} FROM {} ORDER BY position, id",
            T::COLUMNS.join(", "),
            T::LOOKUP.table()
        ),
        params![],
    )
    .await
}

/// Inserts a row (its `id` is ignored) and returns the new id.
pub async fn insert<T: LookupRow>(conn: &mut Conn, row: &T) -> Result<i64> {
    let placeholders: Vec<String> = (1..=T::COLUMNS.len()).map(|i| format!("${i}")).collect();
    conn.query_one(
        &format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
            T::LOOKUP.table(),
            T::COLUMNS.join(", "),
            placeholders.join(", ")
        ),
        row.values(),
    )
    .await
}

/// Writes every column of the row with `row.id()`.
pub async fn update<T: LookupRow>(conn: &mut Conn, row: &T) -> Result<()> {
    let assignments: Vec<String> = T::COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let mut values = row.values();
    values.push(row.id().into());
    conn.execute(
        &format!(
            "UPDATE {} SET {} WHERE id = ${}",
            T::LOOKUP.table(),
            assignments.join(", "),
            values.len()
        ),
        values,
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
