//! The `jobs` and `job_schedules` tables: the background job queue.
//!
//! A job is claimed by one worker at a time. Claiming sets `status =
//! 'running'`, counts an attempt and writes the worker's id and a lease
//! (`locked_until`) that the worker extends while the job runs. A job whose
//! lease ran out belongs to a worker that died: it can be claimed again
//! (another attempt), or, with no attempts left, it is marked failed.
//! Every later write of a claimed job names the claim (worker id and
//! attempt number), so a worker that lost its lease can no longer touch it.
//!
//! On PostgreSQL several processes claim at once: the candidate row is
//! locked with `FOR UPDATE SKIP LOCKED`, so concurrent claims take
//! different jobs and never wait for each other. On SQLite writers are
//! serialised anyway; the claim runs in one `BEGIN IMMEDIATE` transaction,
//! after a read (which never waits) has found something to claim.

use steward_domain::job::JobStatus;
use steward_domain::Timestamp;

use crate::db::{Conn, Db, Engine, FromRow, Param, Result, Row, StorageError};
use crate::params;

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// JSON, as given at enqueue.
    pub payload: String,
    pub status: JobStatus,
    pub run_at: Timestamp,
    /// Attempts started so far (claims), including a running one.
    pub attempts: i64,
    pub max_attempts: i64,
    /// The worker that holds or last held the job.
    pub locked_by: Option<String>,
    /// The end of the running attempt's lease.
    pub locked_until: Option<Timestamp>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, kind, payload, status, run_at, attempts, max_attempts, locked_by, \
                       locked_until, last_error, created_at, updated_at, finished_at";

impl FromRow for Job {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let status = row.string(3)?;
        Ok(Job {
            id: row.i64(0)?,
            kind: row.string(1)?,
            payload: row.string(2)?,
            status: JobStatus::parse(&status).ok_or_else(|| {
                StorageError::Engine(format!("jobs.status holds {status:?}, not a job status"))
            })?,
            run_at: row.timestamp(4)?,
            attempts: row.i64(5)?,
            max_attempts: row.i64(6)?,
            locked_by: row.opt_string(7)?,
            locked_until: row.opt_timestamp(8)?,
            last_error: row.opt_string(9)?,
            created_at: row.timestamp(10)?,
            updated_at: row.timestamp(11)?,
            finished_at: row.opt_timestamp(12)?,
        })
    }
}

pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub run_at: Timestamp,
    pub max_attempts: i64,
}

/// Adds a job; on the caller's connection, so that it can be part of the
/// caller's transaction (the job exists if and only if the change that
/// asked for it was committed).
pub async fn enqueue(conn: &mut Conn, job: &NewJob<'_>, now: Timestamp) -> Result<i64> {
    conn.query_one(
        "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, 'queued', $3, 0, $4, $5, $5) RETURNING id",
        params![job.kind, job.payload, job.run_at, job.max_attempts, now],
    )
    .await
}

/// Who claims, and for how long.
pub struct Claim<'a> {
    pub worker: &'a str,
    /// Only jobs of these kinds are taken: a worker never claims a job it
    /// has no handler for (an older worker during an upgrade, say).
    pub kinds: &'a [&'a str],
    pub now: Timestamp,
    pub lease_until: Timestamp,
}

/// `kind IN ($first, ...)` for the kinds, numbered from `first`.
fn kinds_in(first: usize, count: usize) -> String {
    let list: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!("kind IN ({})", list.join(", "))
}

/// The condition of a claimable job, with `now` the placeholder of the
/// current time.
fn claimable(now: &str) -> String {
    format!(
        "((status = 'queued' AND run_at <= {now}) \
         OR (status = 'running' AND locked_until < {now} AND attempts < max_attempts))"
    )
}

/// Marks failed the jobs whose worker stopped (lease run out) during their
/// last allowed attempt: they must not be retried forever. Returns how
/// many. Runs inside [`claim`]; public for tests and tools.
pub async fn fail_abandoned(conn: &mut Conn, now: Timestamp) -> Result<u64> {
    conn.execute(
        "UPDATE jobs SET status = 'failed', finished_at = $1, updated_at = $1, locked_until = NULL, \
         last_error = 'The worker running the last allowed attempt stopped before it finished \
(its lease ran out); no attempts are left.' \
         WHERE status = 'running' AND locked_until < $1 AND attempts >= max_attempts",
        params![now],
    )
    .await
}

/// Takes the next due job of the given kinds, if there is one: the oldest
/// queued job whose time has come, or a running one whose lease ran out.
/// The claim counts as an attempt.
pub async fn claim(db: &Db, c: &Claim<'_>) -> Result<Option<Job>> {
    if c.kinds.is_empty() {
        return Ok(None);
    }
    let kinds = c.kinds.iter().map(|k| Param::from(*k));
    let mut params: Vec<Param> = params![c.worker, c.lease_until, c.now];
    params.extend(kinds.clone());
    let update = |lock: &str| {
        format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
             locked_until = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE {} AND {} \
             ORDER BY run_at, id LIMIT 1{lock}) \
             RETURNING {COLUMNS}",
            claimable("$3"),
            kinds_in(4, c.kinds.len())
        )
    };
    match db.engine() {
        Engine::Postgres => {
            // Autocommit: the reap and the claim are each one atomic
            // statement. SKIP LOCKED lets concurrent claims pass over the
            // row another worker is taking instead of queueing behind it;
            // the row is re-checked after locking, so a job just taken
            // (status changed) is not taken twice.
            let mut conn = db.conn().await?;
            fail_abandoned(&mut conn, c.now).await?;
            conn.query_opt(&update(" FOR UPDATE SKIP LOCKED"), params)
                .await
        }
        Engine::Sqlite => {
            // A read first: readers never wait, so idle workers polling do
            // not take the single write lock from the API's writers.
            let mut conn = db.conn().await?;
            let peek = format!(
                "SELECT id FROM jobs WHERE ({} OR (status = 'running' AND locked_until < $1)) \
                 AND {} LIMIT 1",
                claimable("$1"),
                kinds_in(2, c.kinds.len())
            );
            let mut peek_params = params![c.now];
            peek_params.extend(kinds);
            if conn.query_opt::<i64>(&peek, peek_params).await?.is_none() {
                return Ok(None);
            }
            drop(conn);
            let mut tx = db.begin().await?;
            fail_abandoned(&mut tx, c.now).await?;
            let job = tx.query_opt(&update(""), params).await?;
            tx.commit().await?;
            Ok(job)
        }
    }
}

/// One claim of a job: the worker and the attempt it started.
#[derive(Clone, Copy, Debug)]
pub struct Lease<'a> {
    pub id: i64,
    pub worker: &'a str,
    pub attempt: i64,
}

const HELD: &str = "id = $1 AND status = 'running' AND locked_by = $2 AND attempts = $3";

/// Extends the lease of a running job; false when the claim is no longer
/// the job's (its lease ran out and another worker took it).
pub async fn extend(
    conn: &mut Conn,
    l: Lease<'_>,
    until: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    Ok(conn
        .execute(
            &format!("UPDATE jobs SET locked_until = $4, updated_at = $5 WHERE {HELD}"),
            params![l.id, l.worker, l.attempt, until, now],
        )
        .await?
        == 1)
}

/// Marks the job done; false when the claim is no longer the job's.
pub async fn complete(conn: &mut Conn, l: Lease<'_>, now: Timestamp) -> Result<bool> {
    Ok(conn
        .execute(
            &format!(
                "UPDATE jobs SET status = 'done', locked_until = NULL, finished_at = $4, \
                 updated_at = $4 WHERE {HELD}"
            ),
            params![l.id, l.worker, l.attempt, now],
        )
        .await?
        == 1)
}

/// Records a failed attempt: the job is queued again for `retry_at`, or,
/// with `None`, marked failed for good. False when the claim is no longer
/// the job's.
pub async fn fail(
    conn: &mut Conn,
    l: Lease<'_>,
    error: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool> {
    let n = match retry_at {
        Some(at) => {
            conn.execute(
                &format!(
                    "UPDATE jobs SET status = 'queued', run_at = $5, locked_until = NULL, \
                     last_error = $4, updated_at = $6 WHERE {HELD}"
                ),
                params![l.id, l.worker, l.attempt, error, at, now],
            )
            .await?
        }
        None => {
            conn.execute(
                &format!(
                    "UPDATE jobs SET status = 'failed', locked_until = NULL, last_error = $4, \
                     finished_at = $5, updated_at = $5 WHERE {HELD}"
                ),
                params![l.id, l.worker, l.attempt, error, now],
            )
            .await?
        }
    };
    Ok(n == 1)
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Job>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"),
        params![id],
    )
    .await
}

/// What an administrator filters the list by; empty lists match nothing,
/// `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub statuses: Option<Vec<JobStatus>>,
    pub kinds: Option<Vec<String>>,
    pub exclude_kinds: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobSort {
    Id,
    RunAt,
    CreatedAt,
    UpdatedAt,
}

impl JobSort {
    fn column(self) -> &'static str {
        match self {
            JobSort::Id => "id",
            JobSort::RunAt => "run_at",
            JobSort::CreatedAt => "created_at",
            JobSort::UpdatedAt => "updated_at",
        }
    }
}

fn where_clause(f: &JobFilter, params: &mut Vec<Param>) -> String {
    let mut conds: Vec<String> = Vec::new();
    let mut add = |values: Vec<Param>, column: &str, negate: bool, params: &mut Vec<Param>| {
        if values.is_empty() {
            // `IN ()` is not SQL; an empty "one of" matches nothing, an
            // empty "none of" everything.
            if !negate {
                conds.push("1 = 0".into());
            }
            return;
        }
        let start = params.len() + 1;
        let marks: Vec<String> = (start..start + values.len())
            .map(|i| format!("${i}"))
            .collect();
        params.extend(values);
        let op = if negate { "NOT IN" } else { "IN" };
        conds.push(format!("{column} {op} ({})", marks.join(", ")));
    };
    if let Some(st) = &f.statuses {
        add(
            st.iter().map(|s| Param::from(s.as_str())).collect(),
            "status",
            false,
            params,
        );
    }
    if let Some(k) = &f.kinds {
        add(k.iter().map(Param::from).collect(), "kind", false, params);
    }
    if let Some(k) = &f.exclude_kinds {
        add(k.iter().map(Param::from).collect(), "kind", true, params);
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// A page of jobs, sorted (by id, newest first, when `sort` is empty).
pub async fn list(
    conn: &mut Conn,
    filter: &JobFilter,
    sort: &[(JobSort, bool)],
    limit: i64,
    offset: i64,
) -> Result<Vec<Job>> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    let mut order: Vec<String> = sort
        .iter()
        .map(|(s, desc)| format!("{} {}", s.column(), if *desc { "DESC" } else { "ASC" }))
        .collect();
    // Newest first by default, and as the tie-breaker that makes pages stable.
    if !sort.iter().any(|(s, _)| *s == JobSort::Id) {
        order.push("id DESC".into());
    }
    // LIMIT and OFFSET as literals: see ADR 0001's addendum.
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs{wh} ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, filter: &JobFilter) -> Result<i64> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    conn.query_one(&format!("SELECT COUNT(*) FROM jobs{wh}"), params)
        .await
}

/// Moves a failed job back to the queue with a fresh set of attempts,
/// due now. The last error stays for reference. Returns the job as it is
/// afterwards, or as it is when it was not failed (the caller says why it
/// was not retried); `None` when there is no such job.
pub async fn retry(conn: &mut Conn, id: i64, now: Timestamp) -> Result<Option<(bool, Job)>> {
    let retried: Option<Job> = conn
        .query_opt(
            &format!(
                "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, locked_until = NULL, \
                 finished_at = NULL, updated_at = $2 WHERE id = $1 AND status = 'failed' \
                 RETURNING {COLUMNS}"
            ),
            params![id, now],
        )
        .await?;
    match retried {
        Some(job) => Ok(Some((true, job))),
        None => Ok(get(conn, id).await?.map(|job| (false, job))),
    }
}

/// Whether a job of this kind is waiting or running.
pub async fn has_pending(conn: &mut Conn, kind: &str) -> Result<bool> {
    Ok(conn
        .query_opt::<i64>(
            "SELECT id FROM jobs WHERE kind = $1 AND status IN ('queued', 'running') LIMIT 1",
            params![kind],
        )
        .await?
        .is_some())
}

/// Deletes up to `batch` jobs with this status that finished before
/// `before`; returns how many.
pub async fn delete_finished(
    conn: &mut Conn,
    status: JobStatus,
    before: Timestamp,
    batch: i64,
) -> Result<u64> {
    conn.execute(
        &format!(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = $1 \
             AND finished_at < $2 LIMIT {})",
            batch.max(1)
        ),
        params![status.as_str(), before],
    )
    .await
}

// ---------------------------------------------------------------- schedules

#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleRow {
    pub name: String,
    pub next_run_at: Timestamp,
    pub last_run_at: Option<Timestamp>,
}

impl FromRow for ScheduleRow {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(ScheduleRow {
            name: row.string(0)?,
            next_run_at: row.timestamp(1)?,
            last_run_at: row.opt_timestamp(2)?,
        })
    }
}

/// Creates the schedule's row, due at `next_run_at`; an existing row keeps
/// its time unless that is later (the spec changed to a shorter period),
/// so restarting workers never postpones a run.
pub async fn upsert_schedule(conn: &mut Conn, name: &str, next_run_at: Timestamp) -> Result<()> {
    conn.execute(
        "INSERT INTO job_schedules (name, next_run_at) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at \
         WHERE job_schedules.next_run_at > excluded.next_run_at",
        params![name, next_run_at],
    )
    .await?;
    Ok(())
}

pub async fn list_schedules(conn: &mut Conn) -> Result<Vec<ScheduleRow>> {
    conn.query(
        "SELECT name, next_run_at, last_run_at FROM job_schedules ORDER BY name",
        params![],
    )
    .await
}

/// Schedules due at `now`.
pub async fn due_schedules(conn: &mut Conn, now: Timestamp) -> Result<Vec<ScheduleRow>> {
    conn.query(
        "SELECT name, next_run_at, last_run_at FROM job_schedules WHERE next_run_at <= $1 \
         ORDER BY next_run_at, name",
        params![now],
    )
    .await
}

/// Moves a due schedule on to `next`, if it is still due at the time the
/// caller saw (`seen`). Of several workers that saw it due, exactly one
/// gets `true` and enqueues the run, in the same transaction: on
/// PostgreSQL the others wait for that row and then find `next_run_at`
/// changed; on SQLite they run after it.
pub async fn take_schedule(
    conn: &mut Conn,
    name: &str,
    seen: Timestamp,
    next: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    Ok(conn
        .execute(
            "UPDATE job_schedules SET next_run_at = $3, last_run_at = $4 \
             WHERE name = $1 AND next_run_at = $2",
            params![name, seen, next, now],
        )
        .await?
        == 1)
}

/// Sets when a schedule runs next (operators, tests).
pub async fn set_schedule_next(conn: &mut Conn, name: &str, next: Timestamp) -> Result<bool> {
    Ok(conn
        .execute(
            "UPDATE job_schedules SET next_run_at = $2 WHERE name = $1",
            params![name, next],
        )
        .await?
        == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_number_their_placeholders() {
        let mut params = Vec::new();
        let wh = where_clause(
            &JobFilter {
                statuses: Some(vec![JobStatus::Failed, JobStatus::Queued]),
                kinds: Some(vec!["a".into()]),
                exclude_kinds: Some(vec![]),
            },
            &mut params,
        );
        assert_eq!(wh, " WHERE status IN ($1, $2) AND kind IN ($3)");
        assert_eq!(params.len(), 3);
        let mut params = Vec::new();
        assert_eq!(
            where_clause(
                &JobFilter {
                    statuses: Some(vec![]),
                    ..JobFilter::default()
                },
                &mut params
            ),
            " WHERE 1 = 0"
        );
        assert_eq!(kinds_in(4, 2), "kind IN ($4, $5)");
    }
}
