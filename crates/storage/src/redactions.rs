//! The redaction queue: `redaction_subjects` (what to look for, kept only
//! while an entry is open) and `redaction_entries` (where it was found and
//! what the controller did).

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Param, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub subject_id: i64,
    pub certificate_id: i64,
    pub table_name: String,
    pub column_name: String,
    pub row_id: i64,
    pub status: String,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The subject's search terms (JSON array); `None` once the subject has
    /// no open entry left.
    pub terms: Option<String>,
}

const COLUMNS: &str =
    "e.id, e.subject_id, s.certificate_id, e.table_name, e.column_name, e.row_id, \
     e.status, e.resolved_by, e.resolved_at, e.created_at, s.terms";

impl FromRow for Entry {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Entry {
            id: row.i64(0)?,
            subject_id: row.i64(1)?,
            certificate_id: row.i64(2)?,
            table_name: row.string(3)?,
            column_name: row.string(4)?,
            row_id: row.i64(5)?,
            status: row.string(6)?,
            resolved_by: row.opt_i64(7)?,
            resolved_at: row.opt_timestamp(8)?,
            created_at: row.timestamp(9)?,
            terms: row.opt_string(10)?,
        })
    }
}

pub async fn insert_subject(
    conn: &mut Conn,
    certificate_id: i64,
    terms_json: &str,
    now: Timestamp,
) -> Result<i64> {
    conn.query_one(
        "INSERT INTO redaction_subjects (certificate_id, terms, created_at) VALUES ($1, $2, $3) RETURNING id",
        params![certificate_id, terms_json, now],
    )
    .await
}

/// Opens one entry per cell `(table, column, row id)` of a subject, in
/// multi-row statements rather than one per cell.
pub async fn insert_entries(
    conn: &mut Conn,
    subject_id: i64,
    cells: &[(&str, &str, i64)],
    now: Timestamp,
) -> Result<u64> {
    // Three parameters a row, well under either engine's limit.
    const ROWS_PER_STATEMENT: usize = 500;
    let mut inserted = 0;
    for chunk in cells.chunks(ROWS_PER_STATEMENT) {
        let mut ps: Vec<Param> = vec![subject_id.into(), now.into()];
        let mut rows = Vec::with_capacity(chunk.len());
        for (table, column, row_id) in chunk {
            let n = ps.len();
            rows.push(format!(
                "($1, ${}, ${}, ${}, 'open', $2)",
                n + 1,
                n + 2,
                n + 3
            ));
            ps.extend([
                Param::from(*table),
                Param::from(*column),
                Param::from(*row_id),
            ]);
        }
        inserted += conn
            .execute(
                &format!(
                    "INSERT INTO redaction_entries (subject_id, table_name, column_name, row_id, status, created_at) \
                     VALUES {}",
                    rows.join(", ")
                ),
                ps,
            )
            .await?;
    }
    Ok(inserted)
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<Entry>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM redaction_entries e JOIN redaction_subjects s ON s.id = e.subject_id \
             WHERE e.id = $1"
        ),
        params![id],
    )
    .await
}

/// Entries, optionally of one status, oldest first.
pub async fn list(
    conn: &mut Conn,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Entry>> {
    let (cond, ps) = match status {
        Some(s) => ("WHERE e.status = $1", params![s]),
        None => ("", params![]),
    };
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM redaction_entries e JOIN redaction_subjects s ON s.id = e.subject_id \
             {cond} ORDER BY e.id LIMIT {limit} OFFSET {offset}"
        ),
        ps,
    )
    .await
}

pub async fn count(conn: &mut Conn, status: Option<&str>) -> Result<i64> {
    let (cond, ps) = match status {
        Some(s) => ("WHERE status = $1", params![s]),
        None => ("", params![]),
    };
    conn.query_one(
        &format!("SELECT count(*) FROM redaction_entries {cond}"),
        ps,
    )
    .await
}

/// Closes an open entry; false when it was not open (closed meanwhile).
pub async fn resolve(
    conn: &mut Conn,
    id: i64,
    status: &str,
    by: UserId,
    now: Timestamp,
) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE redaction_entries SET status = $1, resolved_by = $2, resolved_at = $3 \
             WHERE id = $4 AND status = 'open'",
            params![status, by, now, id],
        )
        .await?;
    Ok(n == 1)
}

/// Forgets the terms of a subject once none of its entries is open.
pub async fn forget_terms_if_done(conn: &mut Conn, subject_id: i64) -> Result<bool> {
    let n = conn
        .execute(
            "UPDATE redaction_subjects SET terms = NULL WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM redaction_entries WHERE subject_id = $1 AND status = 'open')",
            params![subject_id],
        )
        .await?;
    Ok(n == 1)
}

/// Closes every open entry of one cell at once (the cell was redacted:
/// it no longer names anyone); returns how many.
pub async fn resolve_cell(
    conn: &mut Conn,
    table: &str,
    column: &str,
    row_id: i64,
    status: &str,
    by: UserId,
    now: Timestamp,
) -> Result<u64> {
    conn.execute(
        "UPDATE redaction_entries SET status = $1, resolved_by = $2, resolved_at = $3 \
         WHERE table_name = $4 AND column_name = $5 AND row_id = $6 AND status = 'open'",
        params![status, by, now, table, column, row_id],
    )
    .await
}

/// Where a queued text is shown to people: the page the controller opens
/// to read it in context before redacting or dismissing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A work package; `journal` is the comment or change in its activity.
    WorkPackage { id: i64, journal: Option<i64> },
    /// A project's overview (its description, a version, a custom value).
    Project { identifier: String },
}

/// The place of the text in `table` at `row_id` (the row key the queue
/// stores), `None` if the row is gone or is shown nowhere.
pub async fn place_of(conn: &mut Conn, table: &str, row_id: i64) -> Result<Option<Place>> {
    // The journal a history row belongs to, then its work package.
    let journal = match table {
        "journals" | "work_package_journals" => Some(row_id),
        "custom_value_journals" | "journal_note_edits" => {
            conn.query_opt::<i64>(
                &format!("SELECT journal_id FROM {table} WHERE id = $1"),
                params![row_id],
            )
            .await?
        }
        _ => None,
    };
    if let Some(journal) = journal {
        let wp: Option<i64> = conn
            .query_opt(
                "SELECT journable_id FROM journals WHERE id = $1 AND journable_type = 'WorkPackage'",
                params![journal],
            )
            .await?;
        return Ok(wp.map(|id| Place::WorkPackage {
            id,
            journal: Some(journal),
        }));
    }
    let project_sql = match table {
        "work_packages" => {
            return Ok(Some(Place::WorkPackage {
                id: row_id,
                journal: None,
            }))
        }
        "custom_values" => {
            let wp: Option<i64> = conn
                .query_opt(
                    "SELECT customized_id FROM custom_values WHERE id = $1 AND customized_type = 'WorkPackage'",
                    params![row_id],
                )
                .await?;
            if let Some(id) = wp {
                return Ok(Some(Place::WorkPackage { id, journal: None }));
            }
            "SELECT p.identifier FROM custom_values c JOIN projects p ON p.id = c.customized_id \
             WHERE c.id = $1 AND c.customized_type = 'Project'"
        }
        "projects" => "SELECT identifier FROM projects WHERE id = $1",
        "versions" => {
            "SELECT p.identifier FROM versions v JOIN projects p ON p.id = v.project_id WHERE v.id = $1"
        }
        _ => return Ok(None),
    };
    let identifier: Option<String> = conn.query_opt(project_sql, params![row_id]).await?;
    Ok(identifier.map(|identifier| Place::Project { identifier }))
}
