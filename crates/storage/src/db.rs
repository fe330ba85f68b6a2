//! The engine-neutral executor: connections, transactions, parameters and rows.

use std::borrow::Cow;
use std::sync::Arc;

use steward_domain::Timestamp;

use crate::{postgres, sqlite};

/// Errors from storage. Callers match on the variants they can act on
/// (a unique key taken, a row gone) and treat the rest as internal.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("{0}")]
    Open(String),
    /// A unique index refused the row; the text names the index or column.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("foreign key constraint violated: {0}")]
    ForeignKey(String),
    #[error("the database stayed busy past the busy timeout")]
    Busy,
    #[error("no such row")]
    NotFound,
    #[error("{0}")]
    Migration(String),
    #[error("database error: {0}")]
    Engine(String),
    #[error("a database task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Connections kept open (PostgreSQL) or readers available (SQLite).
    pub pool_size: usize,
    /// How long an SQLite writer waits for the write lock before giving up.
    pub busy_timeout_ms: u64,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            pool_size: 8,
            busy_timeout_ms: 5000,
        }
    }
}

/// A bound parameter, owned so that it can cross into the blocking thread
/// that runs an SQLite statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Float(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_string())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}
impl From<Timestamp> for Param {
    fn from(v: Timestamp) -> Self {
        Param::Int(v.0)
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// Builds a `Vec<Param>` from heterogeneous values.
#[macro_export]
macro_rules! params {
    () => { Vec::<$crate::Param>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::Param::from($v)),+] };
}

/// One result row, whichever engine produced it. Columns are read by position.
pub struct Row<'a>(pub(crate) RowInner<'a>);

pub(crate) enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a tokio_postgres::Row),
}

macro_rules! getter {
    ($name:ident, $t:ty) => {
        pub fn $name(&self, idx: usize) -> Result<$t> {
            match &self.0 {
                RowInner::Sqlite(r) => r.get::<_, $t>(idx).map_err(sqlite::map_err),
                RowInner::Pg(r) => r.try_get::<_, $t>(idx).map_err(postgres::map_err),
            }
        }
    };
}

impl Row<'_> {
    getter!(i64, i64);
    getter!(opt_i64, Option<i64>);
    getter!(f64, f64);
    getter!(opt_f64, Option<f64>);
    getter!(bool, bool);
    getter!(string, String);
    getter!(opt_string, Option<String>);

    /// How many columns the row has.
    pub fn len(&self) -> usize {
        match &self.0 {
            RowInner::Sqlite(r) => r.as_ref().column_count(),
            RowInner::Pg(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn timestamp(&self, idx: usize) -> Result<Timestamp> {
        self.i64(idx).map(Timestamp)
    }
    pub fn opt_timestamp(&self, idx: usize) -> Result<Option<Timestamp>> {
        self.opt_i64(idx).map(|v| v.map(Timestamp))
    }
}

/// Maps one row into a value. Implemented next to each query's struct.
pub trait FromRow: Sized + Send + 'static {
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

impl FromRow for i64 {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.i64(0)
    }
}
impl FromRow for Option<i64> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.opt_i64(0)
    }
}
impl FromRow for bool {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.bool(0)
    }
}
impl FromRow for String {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.string(0)
    }
}
impl FromRow for Option<String> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.opt_string(0)
    }
}
impl FromRow for (i64, String, String) {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok((row.i64(0)?, row.string(1)?, row.string(2)?))
    }
}
impl FromRow for (String, String) {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok((row.string(0)?, row.string(1)?))
    }
}

/// A handle to the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    /// Whether connections from this handle run every SQLite statement on
    /// a blocking thread; see [`Db::for_long_work`].
    long_work: bool,
}

enum Inner {
    Sqlite(Arc<sqlite::Pool>),
    Postgres(deadpool_postgres::Pool),
}

impl Db {
    /// Opens `sqlite:PATH` or `postgres://...` and checks that it answers.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db> {
        let inner = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StorageError::BadUrl(format!(
                    "{url:?} names no file; use sqlite:PATH"
                )));
            }
            Inner::Sqlite(Arc::new(sqlite::Pool::open(path, opts).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Inner::Postgres(postgres::open(url, opts).await?)
        } else {
            return Err(StorageError::BadUrl(format!(
                "{:?} must start with sqlite: or postgres://",
                redact_url(url)
            )));
        };
        Ok(Db {
            inner: Arc::new(inner),
            long_work: false,
        })
    }

    /// The same database, for work that scans whole tables or runs many
    /// statements (erasure, the residue scan, exports, seeding, retention):
    /// on SQLite every statement of its connections and transactions runs
    /// on tokio's blocking threads, so that it never holds an async worker
    /// that request handling needs. Short work keeps the default handle,
    /// whose reads and in-transaction statements run right on the worker
    /// (faster for them: no thread switch). PostgreSQL is asynchronous
    /// either way; there this changes nothing.
    pub fn for_long_work(&self) -> Db {
        Db {
            inner: self.inner.clone(),
            long_work: true,
        }
    }

    pub fn engine(&self) -> Engine {
        match &*self.inner {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// A connection from the pool, in autocommit mode.
    pub async fn conn(&self) -> Result<Conn> {
        let inner = match &*self.inner {
            Inner::Sqlite(pool) => ConnInner::Sqlite(Some(pool.get().await?)),
            Inner::Postgres(pool) => {
                ConnInner::Pg(Some(pool.get().await.map_err(postgres::map_pool_err)?))
            }
        };
        Ok(Conn {
            inner,
            in_tx: false,
            long_work: self.long_work,
            bulk: false,
            _writer: None,
        })
    }

    /// A connection with a transaction open. Call [`Conn::commit`]; dropping
    /// it without committing rolls back, so an early `?` never half-writes.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`: it takes the
    /// write lock at once (waiting up to the busy timeout) instead of failing
    /// later when a reader tries to upgrade.
    pub async fn begin(&self) -> Result<Conn> {
        let writer = match &*self.inner {
            Inner::Sqlite(pool) => Some(
                pool.writer
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| StorageError::Task("the database is closed".into()))?,
            ),
            Inner::Postgres(_) => None,
        };
        let mut conn = self.conn().await?;
        conn._writer = writer;
        match &mut conn.inner {
            // Within this process the writer slot is ours, so the lock is
            // normally free: take it right here, and hand the wait to a
            // blocking thread only when another process holds it.
            ConnInner::Sqlite(slot) => {
                if conn.long_work || !sqlite::try_inline_batch(slot, "BEGIN IMMEDIATE")? {
                    conn.batch("BEGIN IMMEDIATE").await?;
                }
            }
            ConnInner::Pg(_) => conn.batch("BEGIN").await?,
        }
        conn.in_tx = true;
        Ok(conn)
    }

    /// A write transaction for loading many rows at once (the benchmark
    /// seed), on the long-work path. On SQLite the connection stops
    /// waiting for fsync and caches more pages until the transaction ends
    /// (`BULK_WRITE_PRAGMAS` in sqlite.rs); on PostgreSQL the commit does not
    /// wait for the WAL flush (`synchronous_commit = off`, this transaction
    /// only). Either way a crash may lose the last committed batches but
    /// never leaves a half-written one. Not for data people enter.
    pub async fn begin_bulk(&self) -> Result<Conn> {
        let db = self.for_long_work();
        match &*self.inner {
            Inner::Sqlite(pool) => {
                let writer = pool
                    .writer
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| StorageError::Task("the database is closed".into()))?;
                let mut conn = db.conn().await?;
                conn._writer = Some(writer);
                conn.bulk = true;
                let begun = conn
                    .batch(&format!("{}; BEGIN IMMEDIATE", sqlite::BULK_WRITE_PRAGMAS))
                    .await;
                if let Err(e) = begun {
                    // Busy or failed: the connection goes back as it came.
                    conn.batch(sqlite::USUAL_WRITE_PRAGMAS).await?;
                    return Err(e);
                }
                conn.in_tx = true;
                Ok(conn)
            }
            Inner::Postgres(_) => {
                let mut conn = db.begin().await?;
                conn.bulk = true;
                conn.batch("SET LOCAL synchronous_commit = off").await?;
                Ok(conn)
            }
        }
    }

    /// A connection with a read-only transaction: every statement sees the
    /// same snapshot of the database, for reads that must agree with each
    /// other (the per-person export). Takes no write lock on SQLite (a
    /// deferred `BEGIN`); on PostgreSQL it is `REPEATABLE READ READ ONLY`.
    /// Finish with [`Conn::commit`]; dropping it rolls back.
    pub async fn begin_read(&self) -> Result<Conn> {
        let mut conn = self.conn().await?;
        match &mut conn.inner {
            ConnInner::Sqlite(slot) => {
                // A deferred BEGIN never waits for a lock.
                if conn.long_work || !sqlite::try_inline_batch(slot, "BEGIN")? {
                    conn.batch("BEGIN").await?;
                }
            }
            ConnInner::Pg(_) => {
                conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
            }
        }
        conn.in_tx = true;
        Ok(conn)
    }

    /// Closes every pooled connection; used at shutdown.
    pub async fn close(&self) {
        match &*self.inner {
            Inner::Sqlite(pool) => pool.close(),
            Inner::Postgres(pool) => pool.close(),
        }
    }
}

/// One pooled connection, possibly inside a transaction.
pub struct Conn {
    inner: ConnInner,
    in_tx: bool,
    /// Every SQLite statement goes to a blocking thread (see [`Db::for_long_work`]).
    long_work: bool,
    /// A bulk load's transaction ([`Db::begin_bulk`]): its SQLite write
    /// settings are restored when it ends.
    bulk: bool,
    /// SQLite's in-process writer slot, held for the transaction; declared
    /// after `inner` so that a rollback on drop happens before it is freed.
    _writer: Option<tokio::sync::OwnedSemaphorePermit>,
}

enum ConnInner {
    Sqlite(Option<sqlite::PooledConn>),
    Pg(Option<deadpool_postgres::Object>),
}

impl Conn {
    pub fn engine(&self) -> Engine {
        match self.inner {
            ConnInner::Sqlite(_) => Engine::Sqlite,
            ConnInner::Pg(_) => Engine::Postgres,
        }
    }

    pub async fn query<T: FromRow>(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<T>> {
        let started = std::time::Instant::now();
        let rows = self.query_untimed(sql, params).await;
        log_if_slow(started, sql);
        rows
    }

    async fn query_untimed<T: FromRow>(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<T>> {
        match &mut self.inner {
            ConnInner::Sqlite(slot) => {
                let sql = sqlite::translate(sql);
                if !self.long_work {
                    if let Some(rows) = sqlite::query_inline::<T>(slot, &sql, &params, self.in_tx)?
                    {
                        return Ok(rows);
                    }
                }
                let sql = sql.into_owned();
                sqlite::run(slot, move |c| sqlite::query::<T>(c, &sql, &params)).await
            }
            ConnInner::Pg(slot) => postgres::query(pg(slot)?, sql, &params).await,
        }
    }

    pub async fn query_opt<T: FromRow>(
        &mut self,
        sql: &str,
        params: Vec<Param>,
    ) -> Result<Option<T>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    pub async fn query_one<T: FromRow>(&mut self, sql: &str, params: Vec<Param>) -> Result<T> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StorageError::NotFound)
    }

    /// Runs one statement and returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        let started = std::time::Instant::now();
        let changed = self.execute_untimed(sql, params).await;
        log_if_slow(started, sql);
        changed
    }

    async fn execute_untimed(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        match &mut self.inner {
            ConnInner::Sqlite(slot) => {
                let sql = sqlite::translate(sql);
                if self.in_tx && !self.long_work {
                    // The transaction holds the write lock: nothing to wait for.
                    return sqlite::execute(sqlite::inline(slot)?, &sql, &params);
                }
                let sql = sql.into_owned();
                sqlite::run(slot, move |c| sqlite::execute(c, &sql, &params)).await
            }
            ConnInner::Pg(slot) => postgres::execute(pg(slot)?, sql, &params).await,
        }
    }

    /// Inserts many rows into `table` with plain INSERT statements (so that
    /// triggers and constraints see every row as usual), faster than one
    /// `execute` per row: SQLite reuses one prepared statement for all of
    /// them on one blocking thread; PostgreSQL gets up to 10,000 rows per
    /// statement, as one array per column. Each row holds one value per
    /// column, in `columns` order. Returns the number of rows written.
    pub async fn insert_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Param>>,
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        if let Some(bad) = rows.iter().find(|r| r.len() != columns.len()) {
            return Err(StorageError::Engine(format!(
                "a row for {table} has {} values for {} columns",
                bad.len(),
                columns.len()
            )));
        }
        // Not timed by log_if_slow: a bulk insert is meant to take long.
        let written = match &mut self.inner {
            ConnInner::Sqlite(slot) => {
                let marks: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    columns.join(", "),
                    marks.join(", ")
                );
                sqlite::run(slot, move |c| sqlite::insert_rows(c, &sql, &rows)).await?
            }
            ConnInner::Pg(slot) => {
                let client = pg(slot)?;
                // One statement per chunk with one array parameter per
                // column, unnested into rows: a statement of a thousand
                // VALUES tuples spends more time in parsing and binding
                // its 17,000 parameters than in writing the rows.
                let types: Vec<(String, String)> = postgres::query(
                    client,
                    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                     WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                    &[Param::Text(table.to_string())],
                )
                .await?;
                let arrays: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let ty = types
                            .iter()
                            .find(|(name, _)| name == c)
                            .map(|(_, ty)| ty.as_str())
                            .ok_or_else(|| {
                                StorageError::Engine(format!("{table} has no column {c}"))
                            })?;
                        Ok(format!("${}::{ty}[]", i + 1))
                    })
                    .collect::<Result<_>>()?;
                let sql = format!(
                    "INSERT INTO {table} ({}) SELECT * FROM unnest({})",
                    columns.join(", "),
                    arrays.join(", ")
                );
                let mut written = 0;
                for chunk in rows.chunks(10_000) {
                    let mut by_column: Vec<Vec<Param>> =
                        vec![Vec::with_capacity(chunk.len()); columns.len()];
                    for row in chunk {
                        for (column, value) in by_column.iter_mut().zip(row) {
                            column.push(value.clone());
                        }
                    }
                    written += postgres::execute_arrays(client, &sql, &by_column).await?;
                }
                written
            }
        };
        Ok(written)
    }

    /// Runs several statements without parameters (DDL, transaction control).
    pub async fn batch(&mut self, sql: &str) -> Result<()> {
        match &mut self.inner {
            ConnInner::Sqlite(slot) => {
                let sql = sql.to_string();
                sqlite::run(slot, move |c| {
                    c.execute_batch(&sql).map_err(sqlite::map_err)
                })
                .await
            }
            ConnInner::Pg(slot) => pg(slot)?
                .batch_execute(sql)
                .await
                .map_err(postgres::map_err),
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        debug_assert!(self.in_tx, "commit without a transaction");
        let done = match &mut self.inner {
            ConnInner::Sqlite(_) if self.long_work => false,
            ConnInner::Sqlite(slot) => sqlite::try_inline_batch(slot, "COMMIT")?,
            ConnInner::Pg(_) => false,
        };
        if !done {
            self.batch("COMMIT").await?;
        }
        self.in_tx = false;
        if self.bulk && self.engine() == Engine::Sqlite {
            self.batch(sqlite::USUAL_WRITE_PRAGMAS).await?;
        }
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<()> {
        self.batch("ROLLBACK").await?;
        self.in_tx = false;
        if self.bulk && self.engine() == Engine::Sqlite {
            self.batch(sqlite::USUAL_WRITE_PRAGMAS).await?;
        }
        Ok(())
    }
}

fn pg(slot: &mut Option<deadpool_postgres::Object>) -> Result<&deadpool_postgres::Object> {
    slot.as_ref()
        .ok_or_else(|| StorageError::Task("connection lost after an earlier failure".into()))
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.in_tx {
            return;
        }
        match &mut self.inner {
            // The pooled SQLite connection rolls back when it returns to the
            // pool; after long work that rollback may undo much, so it runs
            // on a blocking thread, holding the writer slot until it is done.
            ConnInner::Sqlite(slot) => {
                if self.long_work {
                    if let (Some(pooled), Ok(rt)) =
                        (slot.take(), tokio::runtime::Handle::try_current())
                    {
                        let writer = self._writer.take();
                        let bulk = self.bulk;
                        rt.spawn_blocking(move || {
                            if bulk {
                                sqlite::end_abandoned_bulk_load(pooled);
                            } else {
                                drop(pooled);
                            }
                            drop(writer);
                        });
                    }
                }
            }
            ConnInner::Pg(slot) => {
                if let Some(client) = slot.take() {
                    match tokio::runtime::Handle::try_current() {
                        Ok(rt) => {
                            rt.spawn(async move {
                                if client.batch_execute("ROLLBACK").await.is_err() {
                                    // Never hand a connection in an unknown state back to the pool.
                                    drop(deadpool_postgres::Object::take(client));
                                }
                            });
                        }
                        Err(_) => drop(deadpool_postgres::Object::take(client)),
                    }
                }
            }
        }
    }
}

/// Replaces a password in a database URL with `***` for messages and logs.
/// PostgreSQL URLs may carry it in the user-info part or, like libpq's, as a
/// `password=` query parameter; both are masked.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(url);
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _pw)) = auth.split_once(':') {
                out = Cow::Owned(format!("{scheme}://{user}:***@{host}"));
            }
        }
    }
    let masked_query = out.split_once('?').and_then(|(base, query)| {
        let is_password = |p: &str| p.split_once('=').is_some_and(|(k, _)| k == "password");
        query.split('&').any(is_password).then(|| {
            let params: Vec<&str> = query
                .split('&')
                .map(|p| if is_password(p) { "password=***" } else { p })
                .collect();
            format!("{base}?{}", params.join("&"))
        })
    });
    if let Some(masked) = masked_query {
        out = Cow::Owned(masked);
    }
    out
}

/// Statements slower than this are logged (a warning with the statement's
/// text, never its parameters, which may hold personal data).
const SLOW_STATEMENT: std::time::Duration = std::time::Duration::from_millis(20);

fn log_if_slow(started: std::time::Instant, sql: &str) {
    let took = started.elapsed();
    if took >= SLOW_STATEMENT {
        tracing::warn!(ms = took.as_millis() as u64, sql, "slow statement");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://steward:s3cret@db:5432/steward"),
            "postgres://steward:***@db:5432/steward"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact_url("sqlite:data/steward.sqlite3"),
            "sqlite:data/steward.sqlite3"
        );
        assert_eq!(
            redact_url("postgres://app@db/steward?sslmode=disable&password=s3cret"),
            "postgres://app@db/steward?sslmode=disable&password=***"
        );
        assert_eq!(
            redact_url("postgres://app:s3cret@db/steward?options=-csearch_path%3Dx"),
            "postgres://app:***@db/steward?options=-csearch_path%3Dx"
        );
    }
}
