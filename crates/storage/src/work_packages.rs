//! The `work_packages` table, and the listing query with its filters.

use steward_domain::date::Date;
use steward_domain::search::TextQuery;
use steward_domain::work_package::{WorkPackage, WorkPackageId, WorkPackageState};
use steward_domain::Timestamp;

use crate::db::{Conn, Engine, FromRow, Param, Result, Row, StorageError};
use crate::params;
use crate::projects::ProjectScope;
use crate::text_index;

pub(crate) const STATE_COLUMNS: &str = "project_id, type_id, status_id, priority_id, subject, description, \
     author_id, assigned_to_id, responsible_id, start_date, due_date, estimated_hours, remaining_hours, \
     done_ratio, parent_id, version_id";

const COLUMNS: &str = "w.id, w.project_id, w.type_id, w.status_id, w.priority_id, w.subject, w.description, \
     w.author_id, w.assigned_to_id, w.responsible_id, w.start_date, w.due_date, w.estimated_hours, \
     w.remaining_hours, w.done_ratio, w.parent_id, w.version_id, w.lock_version, w.created_at, w.updated_at";

fn date(row: &Row<'_>, idx: usize) -> Result<Option<Date>> {
    match row.opt_string(idx)? {
        None => Ok(None),
        Some(s) => Date::parse(&s)
            .map(Some)
            .ok_or_else(|| StorageError::Engine(format!("stored date {s:?} is not YYYY-MM-DD"))),
    }
}

/// Reads the 16 state columns starting at `at`, in STATE_COLUMNS order.
pub(crate) fn state_at(row: &Row<'_>, at: usize) -> Result<WorkPackageState> {
    Ok(WorkPackageState {
        project_id: row.i64(at)?,
        type_id: row.i64(at + 1)?,
        status_id: row.i64(at + 2)?,
        priority_id: row.i64(at + 3)?,
        subject: row.string(at + 4)?,
        description: row.string(at + 5)?,
        author_id: row.i64(at + 6)?,
        assigned_to_id: row.opt_i64(at + 7)?,
        responsible_id: row.opt_i64(at + 8)?,
        start_date: date(row, at + 9)?,
        due_date: date(row, at + 10)?,
        estimated_hours: row.opt_f64(at + 11)?,
        remaining_hours: row.opt_f64(at + 12)?,
        done_ratio: row.opt_i64(at + 13)?,
        parent_id: row.opt_i64(at + 14)?,
        version_id: row.opt_i64(at + 15)?,
    })
}

pub(crate) fn state_params(s: &WorkPackageState) -> Vec<Param> {
    params![
        s.project_id,
        s.type_id,
        s.status_id,
        s.priority_id,
        &s.subject,
        &s.description,
        s.author_id,
        s.assigned_to_id,
        s.responsible_id,
        s.start_date.map(|d| d.to_string()),
        s.due_date.map(|d| d.to_string()),
        s.estimated_hours,
        s.remaining_hours,
        s.done_ratio,
        s.parent_id,
        s.version_id,
    ]
}

fn wp_at(row: &Row<'_>, at: usize) -> Result<WorkPackage> {
    Ok(WorkPackage {
        id: row.i64(at)?,
        state: state_at(row, at + 1)?,
        lock_version: row.i64(at + 17)?,
        created_at: row.timestamp(at + 18)?,
        updated_at: row.timestamp(at + 19)?,
    })
}

impl FromRow for WorkPackage {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        wp_at(row, 0)
    }
}

/// Bumps the change counter of work packages; called in the transaction of
/// every change so that cached totals can tell they are stale.
pub async fn bump_data_version(conn: &mut Conn) -> Result<()> {
    conn.execute(
        "UPDATE data_versions SET version = version + 1 WHERE name = 'work_packages'",
        params![],
    )
    .await?;
    Ok(())
}

pub async fn data_version(conn: &mut Conn) -> Result<i64> {
    conn.query_one(
        "SELECT version FROM data_versions WHERE name = 'work_packages'",
        params![],
    )
    .await
}

pub async fn insert(conn: &mut Conn, s: &WorkPackageState, now: Timestamp) -> Result<WorkPackage> {
    let mut p = state_params(s);
    p.push(now.into());
    let sql = format!(
        "INSERT INTO work_packages ({STATE_COLUMNS}, lock_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17, $17) \
         RETURNING {}",
        COLUMNS.replace("w.", "")
    );
    let wp = conn.query_one(&sql, p).await?;
    bump_data_version(conn).await?;
    Ok(wp)
}

pub async fn find(conn: &mut Conn, id: WorkPackageId) -> Result<Option<WorkPackage>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM work_packages w WHERE w.id = $1"),
        params![id],
    )
    .await
}

/// Takes the row lock of a work package until the transaction ends (on
/// SQLite the transaction's write lock already serialises writers).
pub async fn lock(conn: &mut Conn, id: WorkPackageId) -> Result<()> {
    conn.execute(
        "UPDATE work_packages SET lock_version = lock_version WHERE id = $1",
        params![id],
    )
    .await?;
    Ok(())
}

/// Marks a work package as updated at `now` without a new state (a comment
/// was added), taking its row lock as `lock` does. The lock version stays,
/// as in OpenProject: a comment does not make an edit begun meanwhile stale.
pub async fn touch(conn: &mut Conn, id: WorkPackageId, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE work_packages SET updated_at = $1 WHERE id = $2",
        params![now, id],
    )
    .await?;
    // Lists sorted by "updated" change order.
    bump_data_version(conn).await?;
    Ok(())
}

/// Writes a new state if the stored lock version is still `expected`;
/// `None` when it is not (someone else changed the work package meanwhile).
pub async fn update(
    conn: &mut Conn,
    id: WorkPackageId,
    s: &WorkPackageState,
    expected_lock_version: i64,
    now: Timestamp,
) -> Result<Option<WorkPackage>> {
    let mut p = state_params(s);
    p.push(now.into());
    p.push(id.into());
    p.push(expected_lock_version.into());
    let sets: Vec<String> = STATE_COLUMNS
        .split(',')
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", c.trim(), i + 1))
        .collect();
    let sql = format!(
        "UPDATE work_packages SET {}, lock_version = lock_version + 1, updated_at = $17 \
         WHERE id = $18 AND lock_version = $19 RETURNING {}",
        sets.join(", "),
        COLUMNS.replace("w.", "")
    );
    let wp = conn.query_opt(&sql, p).await?;
    if wp.is_some() {
        bump_data_version(conn).await?;
    }
    Ok(wp)
}

/// Deletes a work package with its history, mentions and custom values.
/// Its children lose their parent.
pub async fn delete(conn: &mut Conn, id: WorkPackageId) -> Result<bool> {
    conn.execute(
        "DELETE FROM mentions WHERE (source_type = 'work_package' AND source_id = $1) \
         OR (source_type = 'journal' AND source_id IN (SELECT id FROM journals \
             WHERE journable_type = 'WorkPackage' AND journable_id = $1))",
        params![id],
    )
    .await?;
    conn.execute(
        "DELETE FROM journals WHERE journable_type = 'WorkPackage' AND journable_id = $1",
        params![id],
    )
    .await?;
    conn.execute(
        "DELETE FROM custom_values WHERE customized_type = 'WorkPackage' AND customized_id = $1",
        params![id],
    )
    .await?;
    conn.execute(
        "UPDATE work_packages SET parent_id = NULL WHERE parent_id = $1",
        params![id],
    )
    .await?;
    let n = conn
        .execute("DELETE FROM work_packages WHERE id = $1", params![id])
        .await?;
    bump_data_version(conn).await?;
    Ok(n == 1)
}

/// The ids of the ancestors of a work package, nearest first.
pub async fn ancestors(conn: &mut Conn, id: WorkPackageId) -> Result<Vec<WorkPackageId>> {
    conn.query(
        "WITH RECURSIVE a(id, parent_id, depth) AS ( \
            SELECT id, parent_id, 0 FROM work_packages WHERE id = $1 \
            UNION ALL SELECT w.id, w.parent_id, a.depth + 1 FROM work_packages w JOIN a ON w.id = a.parent_id \
            WHERE a.depth < 1000) \
         SELECT id FROM a WHERE id <> $1 ORDER BY depth",
        params![id],
    )
    .await
}

pub async fn children(conn: &mut Conn, id: WorkPackageId) -> Result<Vec<(WorkPackageId, String)>> {
    struct C(i64, String);
    impl FromRow for C {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(C(r.i64(0)?, r.string(1)?))
        }
    }
    Ok(conn
        .query::<C>(
            "SELECT id, subject FROM work_packages WHERE parent_id = $1 ORDER BY id",
            params![id],
        )
        .await?
        .into_iter()
        .map(|C(a, b)| (a, b))
        .collect())
}

/// A work package with the names its representation shows next to ids.
#[derive(Clone, Debug)]
pub struct WorkPackageRow {
    pub wp: WorkPackage,
    pub project_name: String,
    pub type_name: String,
    pub is_milestone: bool,
    /// The assignee / accountable is a group, not a user.
    pub assignee_is_group: bool,
    pub responsible_is_group: bool,
    pub status_name: String,
    pub status_closed: bool,
    pub priority_name: String,
    pub author_name: String,
    pub assignee_name: Option<String>,
    pub responsible_name: Option<String>,
    pub version_name: Option<String>,
    pub parent_subject: Option<String>,
}

const NAME_COLUMNS: &str = "p.name, t.name, s.name, s.is_closed, pr.name, \
     trim(au.firstname || ' ' || au.lastname), trim(asg.firstname || ' ' || asg.lastname), \
     trim(rsp.firstname || ' ' || rsp.lastname), v.name, par.subject, t.is_milestone, \
     COALESCE(asg.kind, ''), COALESCE(rsp.kind, '')";

/// The names shown with a work package. All are LEFT JOINs, though the
/// first five columns are never NULL: SQLite (3.50) may otherwise make a
/// small joined table such as `projects` the outer loop, fetch the work
/// packages through their project index and sort them all before taking a
/// page (40 ms instead of 0.1 ms for 25 of 50,000); a LEFT JOIN keeps
/// `work_packages` outside, read in the order asked for.
const NAME_JOINS: &str = "LEFT JOIN projects p ON p.id = w.project_id \
     LEFT JOIN types t ON t.id = w.type_id \
     LEFT JOIN statuses s ON s.id = w.status_id \
     LEFT JOIN priorities pr ON pr.id = w.priority_id \
     LEFT JOIN users au ON au.id = w.author_id \
     LEFT JOIN users asg ON asg.id = w.assigned_to_id \
     LEFT JOIN users rsp ON rsp.id = w.responsible_id \
     LEFT JOIN versions v ON v.id = w.version_id \
     LEFT JOIN work_packages par ON par.id = w.parent_id";

impl FromRow for WorkPackageRow {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(WorkPackageRow {
            wp: wp_at(r, 0)?,
            project_name: r.string(20)?,
            type_name: r.string(21)?,
            status_name: r.string(22)?,
            status_closed: r.bool(23)?,
            priority_name: r.string(24)?,
            author_name: r.string(25)?,
            assignee_name: r.opt_string(26)?,
            responsible_name: r.opt_string(27)?,
            version_name: r.opt_string(28)?,
            parent_subject: r.opt_string(29)?,
            is_milestone: r.bool(30)?,
            assignee_is_group: r.string(31)? == "group",
            responsible_is_group: r.string(32)? == "group",
        })
    }
}

pub async fn find_row(conn: &mut Conn, id: WorkPackageId) -> Result<Option<WorkPackageRow>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS}, {NAME_COLUMNS} FROM work_packages w {NAME_JOINS} WHERE w.id = $1"
        ),
        params![id],
    )
    .await
}

/// Columns a user filter can apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserColumn {
    Author,
    Assignee,
    Responsible,
}

impl UserColumn {
    /// The column in the state table whose alias prefix is `s` (`w.` or `hs.`).
    fn sql(self, s: &str) -> String {
        let c = match self {
            UserColumn::Author => "author_id",
            UserColumn::Assignee => "assigned_to_id",
            UserColumn::Responsible => "responsible_id",
        };
        format!("{s}{c}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdColumn {
    Id,
    Project,
    Type,
    Status,
    Priority,
    Version,
    Parent,
}

impl IdColumn {
    /// The column in the state table whose alias prefix is `s`; the id is
    /// always the work package's own.
    fn sql(self, s: &str) -> String {
        let c = match self {
            IdColumn::Id => return "w.id".into(),
            IdColumn::Project => "project_id",
            IdColumn::Type => "type_id",
            IdColumn::Status => "status_id",
            IdColumn::Priority => "priority_id",
            IdColumn::Version => "version_id",
            IdColumn::Parent => "parent_id",
        };
        format!("{s}{c}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeColumn {
    CreatedAt,
    UpdatedAt,
}

/// One filter condition of a work-package listing.
#[derive(Clone, Debug)]
pub enum Cond {
    /// Open (`true`) or closed (`false`) statuses.
    StatusOpen(bool),
    /// Value among ids (`negate`: not among them; a NULL counts as "not among").
    IdIn {
        col: IdColumn,
        ids: Vec<i64>,
        negate: bool,
    },
    /// `set`: the column has a value (`*`) or has none (`!*`).
    IdSet {
        col: IdColumn,
        set: bool,
    },
    UserIn {
        col: UserColumn,
        ids: Vec<i64>,
        negate: bool,
    },
    UserSet {
        col: UserColumn,
        set: bool,
    },
    SubjectContains {
        text: String,
        negate: bool,
    },
    /// Through the text index: every word of `query` in one of `fields`
    /// (OpenProject's `search`, `subject_or_id` and `typeahead` filters),
    /// or the work package's id is `id`.
    Text {
        query: TextQuery,
        fields: TextFields,
        id: Option<i64>,
        negate: bool,
    },
    TimeRange {
        col: TimeColumn,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    },
}

/// Which texts of a work package a [`Cond::Text`] searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFields {
    /// Subject, description, comments and custom-field texts.
    All,
    Subject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Id,
    Subject,
    Status,
    Type,
    Priority,
    CreatedAt,
    UpdatedAt,
    StartDate,
    DueDate,
    Assignee,
    Project,
    PercentageDone,
}

impl Sort {
    fn sql(self) -> &'static str {
        match self {
            Sort::Id => "w.id",
            Sort::Subject => "lower(w.subject)",
            Sort::Status => "(SELECT position FROM statuses WHERE id = w.status_id)",
            Sort::Type => "(SELECT position FROM types WHERE id = w.type_id)",
            Sort::Priority => "(SELECT position FROM priorities WHERE id = w.priority_id)",
            Sort::CreatedAt => "w.created_at",
            Sort::UpdatedAt => "w.updated_at",
            Sort::StartDate => "w.start_date",
            Sort::DueDate => "w.due_date",
            Sort::Assignee => {
                "(SELECT lower(lastname || firstname) FROM users WHERE id = w.assigned_to_id)"
            }
            Sort::Project => "(SELECT lower(name) FROM projects WHERE id = w.project_id)",
            Sort::PercentageDone => "w.done_ratio",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Query {
    pub scope: ProjectScope,
    pub conds: Vec<Cond>,
    /// Baseline comparison: also list work packages that matched the
    /// filters at these earlier times.
    pub also_at: Vec<Timestamp>,
    pub sort: Vec<(Sort, bool)>,
}

fn push_list(ids: &[i64], params: &mut Vec<Param>) -> String {
    ids.iter()
        .map(|id| {
            params.push((*id).into());
            format!("${}", params.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn where_clause(q: &Query, engine: Engine, params: &mut Vec<Param>) -> String {
    let scope = q.scope.condition("w.project_id", params);
    let now = state_conditions(&q.conds, "w.", engine, params);
    if q.also_at.is_empty() || q.conds.is_empty() {
        return format!("{scope} AND {now}");
    }
    // Baseline: also the work packages whose state at an earlier time (the
    // one its last journal up to then recorded) matched the filters.
    let mut alternatives = vec![format!("({now})")];
    for at in &q.also_at {
        params.push((*at).into());
        let t = params.len();
        let then = state_conditions(&q.conds, "hs.", engine, params);
        alternatives.push(format!(
            "EXISTS (SELECT 1 FROM journals hj JOIN work_package_journals hs ON hs.journal_id = hj.id \
             WHERE hj.journable_type = 'WorkPackage' AND hj.journable_id = w.id AND hj.version = ( \
                SELECT MAX(j2.version) FROM journals j2 WHERE j2.journable_type = 'WorkPackage' \
                AND j2.journable_id = w.id AND j2.created_at <= ${t}) AND {then})"
        ));
    }
    format!("{scope} AND ({})", alternatives.join(" OR "))
}

/// The filter conditions on a state table aliased by the prefix `s`
/// (`w.` for the current state, `hs.` for a journalled one).
/// Text conditions always look at the work package's texts now (`w.id`),
/// also when a baseline compares an earlier state.
fn state_conditions(conds: &[Cond], s: &str, engine: Engine, params: &mut Vec<Param>) -> String {
    let mut out = vec!["1 = 1".to_string()];
    for c in conds {
        out.push(match c {
            Cond::StatusOpen(open) => {
                params.push((!open).into());
                format!(
                    "{s}status_id IN (SELECT id FROM statuses WHERE is_closed = ${})",
                    params.len()
                )
            }
            Cond::IdIn { col, ids, negate } => {
                if ids.is_empty() {
                    if *negate {
                        "1 = 1".into()
                    } else {
                        "1 = 0".into()
                    }
                } else if *negate {
                    format!(
                        "({c} IS NULL OR {c} NOT IN ({}))",
                        push_list(ids, params),
                        c = col.sql(s)
                    )
                } else {
                    format!("{} IN ({})", col.sql(s), push_list(ids, params))
                }
            }
            Cond::IdSet { col, set } => {
                format!("{} IS {}NULL", col.sql(s), if *set { "NOT " } else { "" })
            }
            Cond::UserIn { col, ids, negate } => {
                if ids.is_empty() {
                    if *negate {
                        "1 = 1".into()
                    } else {
                        "1 = 0".into()
                    }
                } else if *negate {
                    format!(
                        "({c} IS NULL OR {c} NOT IN ({}))",
                        push_list(ids, params),
                        c = col.sql(s)
                    )
                } else {
                    format!("{} IN ({})", col.sql(s), push_list(ids, params))
                }
            }
            Cond::UserSet { col, set } => {
                format!("{} IS {}NULL", col.sql(s), if *set { "NOT " } else { "" })
            }
            Cond::SubjectContains { text, negate } => {
                params
                    .push(format!("%{}%", crate::users::escape_like(&text.to_lowercase())).into());
                format!(
                    "{}lower({s}subject) LIKE ${} ESCAPE '\\'",
                    if *negate { "NOT " } else { "" },
                    params.len()
                )
            }
            Cond::Text {
                query,
                fields,
                id,
                negate,
            } => {
                params.push(text_index::query_param(engine, query));
                let n = params.len();
                let matching = |table: &str, column: Option<&str>| {
                    let column = column.map_or(String::new(), |c| format!(" AND column_name = '{c}'"));
                    text_index::rows_matching_sql(
                        engine,
                        &format!(
                            "(SELECT code FROM text_index_sources WHERE table_name = '{table}'{column})"
                        ),
                        n,
                    )
                };
                let mut alts = match fields {
                    TextFields::Subject => {
                        vec![format!("w.id IN ({})", matching("work_packages", Some("subject")))]
                    }
                    TextFields::All => vec![
                        format!("w.id IN ({})", matching("work_packages", None)),
                        format!(
                            "w.id IN (SELECT tj.journable_id FROM journals tj \
                             WHERE tj.journable_type = 'WorkPackage' AND tj.id IN ({}))",
                            matching("journals", Some("notes"))
                        ),
                        format!(
                            "w.id IN (SELECT tv.customized_id FROM custom_values tv \
                             WHERE tv.customized_type = 'WorkPackage' AND tv.id IN ({}))",
                            matching("custom_values", Some("value"))
                        ),
                    ],
                };
                if let Some(id) = id {
                    params.push((*id).into());
                    alts.push(format!("w.id = ${}", params.len()));
                }
                format!(
                    "{}({})",
                    if *negate { "NOT " } else { "" },
                    alts.join(" OR ")
                )
            }
            Cond::TimeRange { col, from, to } => {
                let c = match col {
                    TimeColumn::CreatedAt => "w.created_at",
                    TimeColumn::UpdatedAt => "w.updated_at",
                };
                let mut parts = Vec::new();
                if let Some(f) = from {
                    params.push((*f).into());
                    parts.push(format!("{c} >= ${}", params.len()));
                }
                if let Some(t) = to {
                    params.push((*t).into());
                    parts.push(format!("{c} < ${}", params.len()));
                }
                if parts.is_empty() {
                    "1 = 1".into()
                } else {
                    parts.join(" AND ")
                }
            }
        });
    }
    out.join(" AND ")
}

/// The SQL and parameters of a count; also the key under which a total is cached.
pub fn count_sql(q: &Query, engine: Engine) -> (String, Vec<Param>) {
    let mut params = Vec::new();
    let wh = where_clause(q, engine, &mut params);
    (
        format!("SELECT count(*) FROM work_packages w WHERE {wh}"),
        params,
    )
}

/// What work packages can be grouped by (`groupBy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupColumn {
    Status,
    Type,
    Priority,
    Project,
    Assignee,
    Author,
    Responsible,
    Version,
    Parent,
}

impl GroupColumn {
    /// The grouped column, and the name shown for its value (from
    /// [`NAME_JOINS`]).
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            GroupColumn::Status => ("w.status_id", "s.name"),
            GroupColumn::Type => ("w.type_id", "t.name"),
            GroupColumn::Priority => ("w.priority_id", "pr.name"),
            GroupColumn::Project => ("w.project_id", "p.name"),
            GroupColumn::Assignee => (
                "w.assigned_to_id",
                "trim(asg.firstname || ' ' || asg.lastname)",
            ),
            GroupColumn::Author => ("w.author_id", "trim(au.firstname || ' ' || au.lastname)"),
            GroupColumn::Responsible => (
                "w.responsible_id",
                "trim(rsp.firstname || ' ' || rsp.lastname)",
            ),
            GroupColumn::Version => ("w.version_id", "v.name"),
            GroupColumn::Parent => ("w.parent_id", "par.subject"),
        }
    }
}

/// One group of a grouped listing: the value (none for "not set"), its
/// name and how many work packages have it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCount {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub count: i64,
}

impl FromRow for GroupCount {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(GroupCount {
            id: r.opt_i64(0)?,
            name: r.opt_string(1)?,
            count: r.i64(2)?,
        })
    }
}

/// How many of the work packages a query matches have each value of
/// `by`, by value; "not set" last on both engines.
pub async fn group_counts(conn: &mut Conn, q: &Query, by: GroupColumn) -> Result<Vec<GroupCount>> {
    let mut params = Vec::new();
    let wh = where_clause(q, conn.engine(), &mut params);
    let (col, name) = by.sql();
    let sql = format!(
        "SELECT {col}, max({name}), count(*) FROM work_packages w {NAME_JOINS} WHERE {wh} \
         GROUP BY {col} ORDER BY {col} IS NULL, {col}"
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, q: &Query) -> Result<i64> {
    let (sql, params) = count_sql(q, conn.engine());
    conn.query_one(&sql, params).await
}

pub async fn list(
    conn: &mut Conn,
    q: &Query,
    limit: i64,
    offset: i64,
) -> Result<Vec<WorkPackageRow>> {
    let mut params = Vec::new();
    let wh = where_clause(q, conn.engine(), &mut params);
    let mut order: Vec<String> = q
        .sort
        .iter()
        .map(|(s, desc)| format!("{} {}", s.sql(), if *desc { "DESC" } else { "ASC" }))
        .collect();
    order.push("w.id ASC".into());
    // LIMIT and OFFSET are written into the statement, not bound: SQLite
    // plans with their values, and a bound LIMIT made it plan the query
    // again at every execution. They are integers, so nothing is injected;
    // each page size and page gets its own cached statement.
    let sql = format!(
        "SELECT {COLUMNS}, {NAME_COLUMNS} FROM work_packages w {NAME_JOINS} WHERE {wh} \
         ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}
