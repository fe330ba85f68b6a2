//! Bulk loading: many work packages with their history, and many
//! memberships, in few statements (the benchmark data set of a million
//! work packages). The rows are the ones the row-at-a-time functions
//! (`work_packages::insert` and `update`, `journals::insert`,
//! `members::insert`) write, column for column, so every page and API
//! call reads them as it reads any other; only the way they reach the
//! database differs (see [`Conn::insert_rows`]). Callers run these inside
//! [`crate::Db::begin_bulk`].
//!
//! Ids are taken up front ([`reserve_ids`]) so that the journals of a batch
//! can name their work packages without reading anything back.

use steward_domain::work_package::{WorkPackageId, WorkPackageState};
use steward_domain::Timestamp;

use crate::db::{Conn, Db, Engine, Param, Result};
use crate::journals::WORK_PACKAGE;
use crate::params;
use crate::work_packages::{bump_data_version, state_params, STATE_COLUMNS};

/// The tables whose ids a bulk load takes in advance.
#[derive(Clone, Copy, Debug)]
pub enum IdsOf {
    WorkPackages,
    Journals,
    Members,
}

impl IdsOf {
    fn table(self) -> &'static str {
        match self {
            IdsOf::WorkPackages => "work_packages",
            IdsOf::Journals => "journals",
            IdsOf::Members => "members",
        }
    }
}

/// `n` unused ids of the table, ascending, for rows written in the same
/// transaction. PostgreSQL draws them from the column's sequence, which
/// never hands one out twice, whoever else inserts meanwhile. On SQLite the
/// transaction holds the write lock, so the ids after the highest one ever
/// given (AUTOINCREMENT remembers it in `sqlite_sequence`) stay free until
/// it commits, and inserting them moves that mark on as an ordinary
/// insert would.
pub async fn reserve_ids(conn: &mut Conn, of: IdsOf, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let table = of.table();
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match conn.engine() {
        Engine::Sqlite => {
            let last: i64 = conn
                .query_one(
                    &format!(
                        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0), \
                         COALESCE((SELECT MAX(id) FROM {table}), 0))"
                    ),
                    params![table],
                )
                .await?;
            Ok((last + 1..=last + count).collect())
        }
        Engine::Postgres => {
            // The sequence is looked up once: per row it cost ten times
            // the nextval itself.
            let sequence: String = conn
                .query_one("SELECT pg_get_serial_sequence($1, 'id')", params![table])
                .await?;
            let mut ids: Vec<i64> = conn
                .query(
                    "SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)",
                    params![sequence, count],
                )
                .await?;
            ids.sort_unstable();
            Ok(ids)
        }
    }
}

/// A work package as it stands after its history.
#[derive(Clone, Debug)]
pub struct LoadedWorkPackage {
    pub id: WorkPackageId,
    pub state: WorkPackageState,
    /// The number of updates it went through (0 for a new one), as
    /// `work_packages::update` counts them.
    pub lock_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One journal of a work package: who changed it when, the comment, and
/// the state after the change.
#[derive(Clone, Debug)]
pub struct LoadedJournal {
    pub id: i64,
    pub work_package_id: WorkPackageId,
    /// 1 for the creation, then one more per change.
    pub version: i64,
    pub user_id: i64,
    pub notes: String,
    pub created_at: Timestamp,
    pub state: WorkPackageState,
}

/// One membership with one role.
#[derive(Clone, Copy, Debug)]
pub struct LoadedMember {
    pub id: i64,
    pub project_id: i64,
    pub principal_id: i64,
    pub role_id: i64,
}

fn state_columns() -> Vec<&'static str> {
    STATE_COLUMNS.split(',').map(str::trim).collect()
}

/// Writes work packages with ids from [`reserve_ids`], and counts one
/// change for cached totals (as each single insert does).
pub async fn insert_work_packages(conn: &mut Conn, wps: &[LoadedWorkPackage]) -> Result<u64> {
    let mut columns = vec!["id"];
    columns.extend(state_columns());
    columns.extend(["lock_version", "created_at", "updated_at"]);
    let rows = wps
        .iter()
        .map(|w| {
            let mut row = params![w.id];
            row.extend(state_params(&w.state));
            row.extend(params![w.lock_version, w.created_at, w.updated_at]);
            row
        })
        .collect();
    let n = conn.insert_rows("work_packages", &columns, rows).await?;
    bump_data_version(conn).await?;
    Ok(n)
}

/// Writes journals with their state snapshots. Like
/// `journals::insert_without_custom_values`: for work packages without
/// custom values, whose snapshot of them would be empty.
pub async fn insert_journals(conn: &mut Conn, journals: &[LoadedJournal]) -> Result<u64> {
    let rows = journals
        .iter()
        .map(|j| {
            params![
                j.id,
                WORK_PACKAGE,
                j.work_package_id,
                j.version,
                j.user_id,
                &j.notes,
                j.created_at,
                j.created_at,
            ]
        })
        .collect();
    let mut n = conn
        .insert_rows(
            "journals",
            &[
                "id",
                "journable_type",
                "journable_id",
                "version",
                "user_id",
                "notes",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        .await?;
    let mut columns = vec!["journal_id"];
    columns.extend(state_columns());
    let snapshots = journals
        .iter()
        .map(|j| {
            let mut row: Vec<Param> = params![j.id];
            row.extend(state_params(&j.state));
            row
        })
        .collect();
    n += conn
        .insert_rows("work_package_journals", &columns, snapshots)
        .await?;
    Ok(n)
}

/// Records that comments (journals) mention users: (journal id, user id,
/// when the comment was written).
pub async fn insert_journal_mentions(
    conn: &mut Conn,
    mentions: &[(i64, i64, Timestamp)],
) -> Result<u64> {
    let rows = mentions
        .iter()
        .map(|&(journal, user, at)| params!["journal", journal, user, at])
        .collect();
    conn.insert_rows(
        "mentions",
        &["source_type", "source_id", "user_id", "created_at"],
        rows,
    )
    .await
}

/// Writes memberships (ids from [`reserve_ids`]) with their role.
pub async fn insert_members(
    conn: &mut Conn,
    members: &[LoadedMember],
    now: Timestamp,
) -> Result<u64> {
    let rows = members
        .iter()
        .map(|m| params![m.id, m.project_id, m.principal_id, now, now])
        .collect();
    let mut n = conn
        .insert_rows(
            "members",
            &[
                "id",
                "project_id",
                "principal_id",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        .await?;
    let roles = members.iter().map(|m| params![m.id, m.role_id]).collect();
    n += conn
        .insert_rows("member_roles", &["member_id", "role_id"], roles)
        .await?;
    Ok(n)
}

// --- After a load ------------------------------------------------------------
//
// The rows go in through plain INSERTs into the real tables, so the text
// index (kept by triggers, ADR 0021) stays correct during the load; at a
// million work packages it adds about a third to the database's size.

/// After a bulk load wrote its last row: refreshes the planner's
/// statistics (see [`crate::schema::analyze`]).
pub async fn after_load(db: &Db) -> Result<()> {
    crate::schema::analyze(db).await
}
