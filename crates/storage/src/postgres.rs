//! The PostgreSQL executor: tokio-postgres with prepared statements cached
//! per connection, pooled by deadpool.

use std::error::Error;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use crate::db::{redact_url, FromRow, Param, Result, Row, RowInner, StorageError};
use crate::DbOptions;

/// Session settings of every connection. Steward writes its joins in the
/// order they should run (the listed table first, then lookups by primary
/// key), so the planner keeps that order: left to search, it spent 23 ms
/// planning a page of work packages with its ten joins, for a query that
/// runs in 0.3 ms.
const SESSION_OPTIONS: &str = "-c join_collapse_limit=1";

pub(crate) async fn open(url: &str, opts: &DbOptions) -> Result<Pool> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
        StorageError::BadUrl(format!(
            "{:?} is not a PostgreSQL URL: {e}",
            redact_url(url)
        ))
    })?;
    // Added to the URL's own options (a search_path, say), not replacing them.
    let options = match config.get_options() {
        Some(own) if !own.trim().is_empty() => format!("{own} {SESSION_OPTIONS}"),
        _ => SESSION_OPTIONS.to_string(),
    };
    config.options(&options);
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(opts.pool_size.max(1))
        .build()
        .map_err(|e| StorageError::Open(e.to_string()))?;
    // Connect once now so that a wrong URL or a server that is down fails at start.
    let client = pool.get().await.map_err(|e| {
        StorageError::Open(format!(
            "cannot connect to PostgreSQL at {}: {}",
            redact_url(url),
            pool_err_text(&e)
        ))
    })?;
    client.simple_query("SELECT 1").await.map_err(|e| {
        StorageError::Open(format!(
            "PostgreSQL at {} does not answer: {e}",
            redact_url(url)
        ))
    })?;
    Ok(pool)
}

fn pool_err_text(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(b) => match b.source() {
            Some(src) => format!("{b}: {src}"),
            None => b.to_string(),
        },
        other => other.to_string(),
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

pub(crate) async fn query<T: FromRow>(
    client: &Object,
    sql: &str,
    params: &[Param],
) -> Result<Vec<T>> {
    let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
    let rows = client.query(&stmt, &refs(params)).await.map_err(map_err)?;
    rows.iter()
        .map(|r| T::from_row(&Row(RowInner::Pg(r))))
        .collect()
}

pub(crate) async fn execute(client: &Object, sql: &str, params: &[Param]) -> Result<u64> {
    let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
    client.execute(&stmt, &refs(params)).await.map_err(map_err)
}

/// Runs a statement whose parameters are arrays (one per column of a bulk
/// insert); each array's elements are encoded like single parameters.
pub(crate) async fn execute_arrays(
    client: &Object,
    sql: &str,
    arrays: &[Vec<Param>],
) -> Result<u64> {
    let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
    let refs: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
    client.execute(&stmt, &refs).await.map_err(map_err)
}

/// Parameters are encoded for the type PostgreSQL inferred for the
/// placeholder, so one `Param::Int` serves BIGINT, INTEGER and SMALLINT
/// columns alike.
impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Param::Float(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Param::Bool(v) => match *ty {
                Type::INT8 => i64::from(*v).to_sql(ty, out),
                Type::INT4 => i32::from(*v).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Param::Text(v) => v.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

pub(crate) fn map_err(e: tokio_postgres::Error) -> StorageError {
    use tokio_postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        let what = db
            .constraint()
            .map(str::to_string)
            .unwrap_or_else(|| db.message().to_string());
        return match *db.code() {
            SqlState::UNIQUE_VIOLATION => StorageError::Unique(what),
            SqlState::FOREIGN_KEY_VIOLATION => StorageError::ForeignKey(what),
            SqlState::T_R_SERIALIZATION_FAILURE | SqlState::T_R_DEADLOCK_DETECTED => {
                StorageError::Busy
            }
            _ => StorageError::Engine(db.message().to_string()),
        };
    }
    StorageError::Engine(e.to_string())
}

pub(crate) fn map_pool_err(e: deadpool_postgres::PoolError) -> StorageError {
    StorageError::Engine(format!("PostgreSQL pool: {}", pool_err_text(&e)))
}
