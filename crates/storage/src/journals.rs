//! The change history: `journals` with the state after each change in
//! `work_package_journals`, comment edits and "as of" reads.

use std::collections::HashMap;

use steward_domain::work_package::{WorkPackageId, WorkPackageState};
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;
use crate::projects::ProjectScope;
use crate::work_packages::{state_at, state_params, STATE_COLUMNS};

pub const WORK_PACKAGE: &str = "WorkPackage";

#[derive(Clone, Debug)]
pub struct Journal {
    pub id: i64,
    pub journable_id: WorkPackageId,
    pub version: i64,
    pub user_id: i64,
    pub user_name: String,
    pub notes: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The work package's state after this change.
    pub state: WorkPackageState,
}

const COLUMNS: &str =
    "j.id, j.journable_id, j.version, j.user_id, trim(u.firstname || ' ' || u.lastname), \
     j.notes, j.created_at, j.updated_at";

impl FromRow for Journal {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Journal {
            id: r.i64(0)?,
            journable_id: r.i64(1)?,
            version: r.i64(2)?,
            user_id: r.i64(3)?,
            user_name: r.string(4)?,
            notes: r.string(5)?,
            created_at: r.timestamp(6)?,
            updated_at: r.timestamp(7)?,
            state: state_at(r, 8)?,
        })
    }
}

/// The state columns of the journal details aliased `alias`.
fn state_cols(alias: &str) -> String {
    STATE_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn select() -> String {
    format!(
        "SELECT {COLUMNS}, {} FROM journals j JOIN users u ON u.id = j.user_id \
         JOIN work_package_journals d ON d.journal_id = j.id",
        state_cols("d")
    )
}

/// Records a change: the next version, its author and note, and the state
/// after it, custom values included.
pub async fn insert(
    conn: &mut Conn,
    wp_id: WorkPackageId,
    user_id: i64,
    notes: &str,
    state: &WorkPackageState,
    now: Timestamp,
) -> Result<i64> {
    let id = insert_without_custom_values(conn, wp_id, user_id, notes, state, now).await?;
    // The custom values after the change (written by the caller before).
    crate::custom_fields::snapshot_journal(conn, id, WORK_PACKAGE, wp_id).await?;
    Ok(id)
}

/// [`insert`] for a work package known to hold no custom values (a new one
/// created without any): the copy of its custom values would copy nothing,
/// and one statement less in a write transaction counts.
pub async fn insert_without_custom_values(
    conn: &mut Conn,
    wp_id: WorkPackageId,
    user_id: i64,
    notes: &str,
    state: &WorkPackageState,
    now: Timestamp,
) -> Result<i64> {
    let id: i64 = conn
        .query_one(
            "INSERT INTO journals (journable_type, journable_id, version, user_id, notes, created_at, updated_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM journals WHERE journable_type = $1 AND journable_id = $2), \
                     $3, $4, $5, $5) RETURNING id",
            params![WORK_PACKAGE, wp_id, user_id, notes, now],
        )
        .await?;
    let mut p = params![id];
    p.extend(state_params(state));
    conn.execute(
        &format!(
            "INSERT INTO work_package_journals (journal_id, {STATE_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ),
        p,
    )
    .await?;
    Ok(id)
}

pub async fn for_work_package(conn: &mut Conn, wp_id: WorkPackageId) -> Result<Vec<Journal>> {
    conn.query(
        &format!(
            "{} WHERE j.journable_type = $1 AND j.journable_id = $2 ORDER BY j.version",
            select()
        ),
        params![WORK_PACKAGE, wp_id],
    )
    .await
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<Journal>> {
    conn.query_opt(&format!("{} WHERE j.id = $1", select()), params![id])
        .await
}

/// Replaces a comment's text, keeping the earlier wording.
pub async fn edit_notes(
    conn: &mut Conn,
    id: i64,
    new_notes: &str,
    editor: i64,
    now: Timestamp,
) -> Result<bool> {
    let n = conn
        .execute(
            "INSERT INTO journal_note_edits (journal_id, previous_notes, edited_by, edited_at) \
             SELECT id, notes, $2, $3 FROM journals WHERE id = $1",
            params![id, editor, now],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    conn.execute(
        "UPDATE journals SET notes = $1, updated_at = $2 WHERE id = $3",
        params![new_notes, now, id],
    )
    .await?;
    Ok(true)
}

/// How many times each comment of a work package was edited, by journal
/// id; journals whose comment was never edited are absent. One query for
/// the whole activity stream.
pub async fn note_edit_counts(
    conn: &mut Conn,
    wp_id: WorkPackageId,
) -> Result<HashMap<i64, usize>> {
    struct C(i64, i64);
    impl FromRow for C {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(C(r.i64(0)?, r.i64(1)?))
        }
    }
    let rows: Vec<C> = conn
        .query(
            "SELECT e.journal_id, COUNT(*) FROM journal_note_edits e \
             JOIN journals j ON j.id = e.journal_id \
             WHERE j.journable_type = $1 AND j.journable_id = $2 \
             GROUP BY e.journal_id",
            params![WORK_PACKAGE, wp_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|C(id, n)| (id, usize::try_from(n).unwrap_or(0)))
        .collect())
}

/// The state of each given work package as it was at `at`: the state
/// recorded by its last journal made at or before that time. Work packages
/// that did not exist yet are absent.
pub async fn states_as_of(
    conn: &mut Conn,
    ids: &[WorkPackageId],
    at: Timestamp,
) -> Result<HashMap<WorkPackageId, (i64, WorkPackageState)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    struct S(i64, i64, WorkPackageState);
    impl FromRow for S {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(S(r.i64(0)?, r.i64(1)?, state_at(r, 2)?))
        }
    }
    let mut params = params![WORK_PACKAGE, at];
    let list: Vec<String> = ids
        .iter()
        .map(|id| {
            params.push((*id).into());
            format!("${}", params.len())
        })
        .collect();
    let sql = format!(
        "SELECT j.journable_id, j.version, {} FROM journals j \
         JOIN work_package_journals d ON d.journal_id = j.id \
         WHERE j.journable_type = $1 AND j.journable_id IN ({}) AND j.version = ( \
            SELECT MAX(j2.version) FROM journals j2 WHERE j2.journable_type = $1 \
            AND j2.journable_id = j.journable_id AND j2.created_at <= $2)",
        state_cols("d"),
        list.join(", ")
    );
    Ok(conn
        .query::<S>(&sql, params)
        .await?
        .into_iter()
        .map(|S(id, v, s)| (id, (v, s)))
        .collect())
}

/// Replaces the structured mentions of a text source with `user_ids`.
pub async fn set_mentions(
    conn: &mut Conn,
    source_type: &str,
    source_id: i64,
    user_ids: &[i64],
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "DELETE FROM mentions WHERE source_type = $1 AND source_id = $2",
        params![source_type, source_id],
    )
    .await?;
    for u in user_ids {
        conn.execute(
            "INSERT INTO mentions (source_type, source_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
            params![source_type, source_id, *u, now],
        )
        .await?;
    }
    Ok(())
}

pub async fn mentions_of_source(
    conn: &mut Conn,
    source_type: &str,
    source_id: i64,
) -> Result<Vec<i64>> {
    conn.query(
        "SELECT user_id FROM mentions WHERE source_type = $1 AND source_id = $2 ORDER BY user_id",
        params![source_type, source_id],
    )
    .await
}

/// A journal from the activity across projects, with what a feed shows of
/// its work package and the state recorded by the journal before it.
#[derive(Clone, Debug)]
pub struct RecentJournal {
    pub journal: Journal,
    pub subject: String,
    pub project_identifier: String,
    pub project_name: String,
    /// The journal before this one (its id and state); `None` for the first.
    pub previous: Option<(i64, WorkPackageState)>,
}

impl FromRow for RecentJournal {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let journal = Journal::from_row(r)?;
        // 8 journal columns, then 16 state columns.
        let previous = match r.opt_i64(27)? {
            Some(id) => Some((id, state_at(r, 28)?)),
            None => None,
        };
        Ok(RecentJournal {
            journal,
            subject: r.string(24)?,
            project_identifier: r.string(25)?,
            project_name: r.string(26)?,
            previous,
        })
    }
}

/// The latest `limit` journals of work packages whose current project is
/// in `scope`, newest first. One statement: it walks `journals` backwards
/// along the (type, created_at, id) index of migration 4, checks each row's
/// project by primary key and stops after `limit` rows; the previous
/// journal is found through the (type, id, version) unique index.
/// The joins are LEFT JOINs although every row has its user, details,
/// work package and project (foreign keys): with inner joins SQLite 3.50
/// first built a Bloom filter over every work package (270 ms for 50,000
/// instead of 0.3 ms).
pub async fn recent(
    conn: &mut Conn,
    scope: &ProjectScope,
    limit: i64,
) -> Result<Vec<RecentJournal>> {
    let mut params = params![WORK_PACKAGE];
    let visible = scope.condition("w.project_id", &mut params);
    // LIMIT is written into the statement, as in `work_packages::list`:
    // SQLite plans with its value.
    let sql = format!(
        "SELECT {COLUMNS}, {}, w.subject, p.identifier, p.name, pd.journal_id, {} \
         FROM journals j \
         LEFT JOIN users u ON u.id = j.user_id \
         LEFT JOIN work_package_journals d ON d.journal_id = j.id \
         LEFT JOIN work_packages w ON w.id = j.journable_id \
         LEFT JOIN projects p ON p.id = w.project_id \
         LEFT JOIN journals pj ON pj.journable_type = j.journable_type \
            AND pj.journable_id = j.journable_id AND pj.version = j.version - 1 \
         LEFT JOIN work_package_journals pd ON pd.journal_id = pj.id \
         WHERE j.journable_type = $1 AND {visible} \
         ORDER BY j.created_at DESC, j.id DESC LIMIT {}",
        state_cols("d"),
        state_cols("pd"),
        limit.clamp(0, 1000)
    );
    conn.query(&sql, params).await
}
