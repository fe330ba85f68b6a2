//! The SQLite executor: a small pool of rusqlite connections. Statements
//! that may wait for the write lock, and every statement of long work
//! (`Db::for_long_work`), run on tokio's blocking threads so that they never
//! stall the async workers; reads and short transactions run inline.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, OpenFlags, ToSql};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::db::{FromRow, Param, Result, Row, RowInner, StorageError};
use crate::DbOptions;

pub(crate) struct Pool {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    /// One write transaction at a time within this process. SQLite allows
    /// one writer anyway; waiting here, in a queue, replaces its busy
    /// handler's sleep-and-retry, whose growing sleeps made the slowest
    /// writes under load take close to a second. Other processes (the CLI
    /// next to a running server) still meet the busy timeout.
    pub(crate) writer: Arc<Semaphore>,
}

impl Pool {
    pub(crate) async fn open(path: &str, opts: &DbOptions) -> Result<Pool> {
        let pool = Pool {
            path: PathBuf::from(path),
            busy_timeout: Duration::from_millis(opts.busy_timeout_ms),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(opts.pool_size.max(1))),
            writer: Arc::new(Semaphore::new(1)),
        };
        // Open one connection now so that a bad path fails at start, not at the first request.
        let path = pool.path.clone();
        let timeout = pool.busy_timeout;
        let first = tokio::task::spawn_blocking(move || open_connection(&path, timeout))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))??;
        pool.idle.lock().expect("pool lock").push(first);
        Ok(pool)
    }

    pub(crate) async fn get(self: &Arc<Self>) -> Result<PooledConn> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StorageError::Task("the database is closed".into()))?;
        let idle = self.idle.lock().expect("pool lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            // Opening a connection reads the file and sets its pragmas:
            // file I/O that must not hold an async worker.
            None => {
                let path = self.path.clone();
                let timeout = self.busy_timeout;
                tokio::task::spawn_blocking(move || open_connection(&path, timeout))
                    .await
                    .map_err(|e| StorageError::Task(e.to_string()))??
            }
        };
        let conn = Some(conn);
        Ok(PooledConn {
            conn,
            pool: self.clone(),
            _permit: permit,
        })
    }

    pub(crate) fn close(&self) {
        self.permits.close();
        // Dropping the connections closes them; the last one checkpoints the WAL.
        self.idle.lock().expect("pool lock").clear();
    }
}

/// How every connection writes (see [`open_connection`]); restored after a
/// bulk load changed it.
pub(crate) const USUAL_WRITE_PRAGMAS: &str =
    "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1024;";

/// How a bulk load writes, set before its transaction begins (SQLite
/// refuses to change `synchronous` inside one): no fsync at commit, since a
/// half-loaded data set after a power cut is simply seeded again, and a
/// 256 MiB page cache so that the indexes of a million rows are not
/// written out and read back between statements.
pub(crate) const BULK_WRITE_PRAGMAS: &str =
    "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;";

fn open_connection(path: &std::path::Path, busy_timeout: Duration) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        StorageError::Open(format!(
            "cannot open SQLite database {}: {e}",
            path.display()
        ))
    })?;
    conn.busy_timeout(busy_timeout).map_err(map_err)?;
    // WAL lets readers go on while one writer writes; NORMAL sync is durable
    // across application crashes in WAL mode; foreign keys are off by default
    // in SQLite and must be switched on for every connection. secure_delete
    // zeroes deleted content, so that an erased person's rows do not
    // survive in free pages of the file. Each connection caches 1 MiB of
    // pages instead of SQLite's 2 MB: the operating system caches the file
    // anyway, and nine connections' default caches were 20 MB of the
    // server's memory once the pages had read around the database.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         {USUAL_WRITE_PRAGMAS}"
    ))
    .map_err(|e| {
        StorageError::Open(format!(
            "cannot use SQLite database {}: {e}",
            path.display()
        ))
    })?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// A connection lent by the pool; it goes back when dropped.
pub(crate) struct PooledConn {
    conn: Option<Connection>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl PooledConn {
    /// The connection; [`Pool::get`] opened it, on a blocking thread.
    fn connection(&mut self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| StorageError::Task("connection lost after an earlier failure".into()))
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A transaction left open (an early return, a panic) is rolled back
            // before anyone else gets this connection.
            if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
                return;
            }
            if !self.pool.permits.is_closed() {
                self.pool.idle.lock().expect("pool lock").push(conn);
            }
        }
    }
}

/// Runs `f` with the connection on a blocking thread and puts it back.
pub(crate) async fn run<R, F>(slot: &mut Option<PooledConn>, f: F) -> Result<R>
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R> + Send + 'static,
{
    let mut pooled = slot
        .take()
        .ok_or_else(|| StorageError::Task("connection lost after an earlier failure".into()))?;
    let (pooled, result) = tokio::task::spawn_blocking(move || {
        let result = pooled.connection().and_then(f);
        (pooled, result)
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))?;
    *slot = Some(pooled);
    result
}

/// Runs transaction control on the calling worker without waiting for a
/// lock: with the busy timeout at zero, a lock held by another process
/// answers "busy" at once and the caller retries on a blocking thread
/// (`Ok(false)`). Each hop to a blocking thread costs two thread switches,
/// the largest cost of a short write transaction.
pub(crate) fn try_inline_batch(slot: &mut Option<PooledConn>, sql: &str) -> Result<bool> {
    let pooled = slot
        .as_mut()
        .ok_or_else(|| StorageError::Task("connection lost after an earlier failure".into()))?;
    let timeout = pooled.pool.busy_timeout;
    let c = pooled.connection()?;
    c.busy_timeout(Duration::ZERO).map_err(map_err)?;
    let result = c.execute_batch(sql);
    c.busy_timeout(timeout).map_err(map_err)?;
    match result.map_err(map_err) {
        Ok(()) => Ok(true),
        Err(StorageError::Busy) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The connection, for a statement run right here on the async worker.
pub(crate) fn inline(slot: &mut Option<PooledConn>) -> Result<&Connection> {
    slot.as_mut()
        .ok_or_else(|| StorageError::Task("connection lost after an earlier failure".into()))?
        .connection()
}

/// Runs a statement on the calling thread when it cannot wait for a lock:
/// a read (WAL readers never wait for the writer), or any statement inside
/// our own transaction (which already holds the write lock). Handing each
/// such statement to a blocking thread cost two thread switches, which
/// profiling showed to be the largest cost of a list request. Returns
/// `None` for a write outside a transaction, which may wait for the lock
/// and so goes to a blocking thread.
pub(crate) fn query_inline<T: FromRow>(
    slot: &mut Option<PooledConn>,
    sql: &str,
    params: &[Param],
    in_tx: bool,
) -> Result<Option<Vec<T>>> {
    let c = inline(slot)?;
    let readonly = c.prepare_cached(sql).map_err(map_err)?.readonly();
    if readonly || in_tx {
        query(c, sql, params).map(Some)
    } else {
        Ok(None)
    }
}

pub(crate) fn query<T: FromRow>(c: &Connection, sql: &str, params: &[Param]) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        out.push(T::from_row(&Row(RowInner::Sqlite(row)))?);
    }
    Ok(out)
}

pub(crate) fn execute(c: &Connection, sql: &str, params: &[Param]) -> Result<u64> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    let n = stmt
        .execute(rusqlite::params_from_iter(params.iter()))
        .map_err(map_err)?;
    Ok(n as u64)
}

/// Inserts `rows` with one prepared statement, row after row: within a
/// transaction SQLite appends a row in microseconds, and a statement of
/// many rows would only add the cost of building it.
pub(crate) fn insert_rows(c: &Connection, sql: &str, rows: &[Vec<Param>]) -> Result<u64> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    for row in rows {
        stmt.execute(rusqlite::params_from_iter(row.iter()))
            .map_err(map_err)?;
    }
    Ok(rows.len() as u64)
}

/// Hands back a connection whose bulk load was abandoned: rolls back and
/// restores the usual write settings before the pool lends it again.
pub(crate) fn end_abandoned_bulk_load(mut pooled: PooledConn) {
    if let Ok(c) = pooled.connection() {
        if !c.is_autocommit() {
            let _ = c.execute_batch("ROLLBACK");
        }
        if c.execute_batch(USUAL_WRITE_PRAGMAS).is_err() {
            // Never lend a connection with fsync switched off.
            pooled.conn = None;
        }
    }
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::Owned(SqlValue::Null),
            Param::Int(v) => ToSqlOutput::Owned(SqlValue::Integer(*v)),
            Param::Float(v) => ToSqlOutput::Owned(SqlValue::Real(*v)),
            Param::Bool(v) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*v))),
            Param::Text(v) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(v.as_bytes())),
        })
    }
}

/// Statements are written with PostgreSQL's `$1` placeholders; SQLite gets
/// the same numbered parameters spelled `?1`. Quoted text is left alone.
pub(crate) fn translate(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut in_quote = false;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\'' {
            in_quote = !in_quote;
        }
        if ch == '$' && !in_quote && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

pub(crate) fn map_err(e: rusqlite::Error) -> StorageError {
    use rusqlite::ffi::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let msg = msg.clone().unwrap_or_default();
        match f.code {
            ErrorCode::ConstraintViolation => {
                return match f.extended_code {
                    // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
                    2067 | 1555 => StorageError::Unique(msg),
                    // SQLITE_CONSTRAINT_FOREIGNKEY
                    787 => StorageError::ForeignKey(msg),
                    _ => StorageError::Engine(msg),
                };
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return StorageError::Busy,
            _ => {}
        }
    }
    StorageError::Engine(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            translate("SELECT * FROM t WHERE a = $1 AND b = $12 AND c = '$3'"),
            "SELECT * FROM t WHERE a = ?1 AND b = ?12 AND c = '$3'"
        );
        assert_eq!(translate("SELECT 1"), "SELECT 1");
    }
}
