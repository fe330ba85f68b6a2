//! The `audit_events` table: security events and the audit trail of access
//! to personal data.

use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Param, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub id: i64,
    pub created_at: Timestamp,
    /// `security` or `access`.
    pub category: String,
    pub event: String,
    pub actor_id: Option<UserId>,
    pub target_user_id: Option<UserId>,
    pub request_id: Option<String>,
    /// JSON object: ids and field names, never personal values.
    pub details: String,
}

pub const COLUMNS: &str =
    "id, created_at, category, event, actor_id, target_user_id, request_id, details";

impl FromRow for AuditEvent {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(AuditEvent {
            id: row.i64(0)?,
            created_at: row.timestamp(1)?,
            category: row.string(2)?,
            event: row.string(3)?,
            actor_id: row.opt_i64(4)?,
            target_user_id: row.opt_i64(5)?,
            request_id: row.opt_string(6)?,
            details: row.string(7)?,
        })
    }
}

pub struct NewAuditEvent<'a> {
    pub category: &'a str,
    pub event: &'a str,
    pub actor_id: Option<UserId>,
    pub target_user_id: Option<UserId>,
    pub request_id: Option<&'a str>,
    pub details: &'a str,
}

pub async fn insert(conn: &mut Conn, e: &NewAuditEvent<'_>, now: Timestamp) -> Result<i64> {
    conn.query_one(
        "INSERT INTO audit_events (created_at, category, event, actor_id, target_user_id, request_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        params![now, e.category, e.event, e.actor_id, e.target_user_id, e.request_id, e.details],
    )
    .await
}

/// Several entries in one statement (the batched audit of reads).
pub async fn insert_many(
    conn: &mut Conn,
    entries: &[(NewAuditEvent<'_>, Timestamp)],
) -> Result<()> {
    for chunk in entries.chunks(100) {
        let mut params = Vec::with_capacity(chunk.len() * 7);
        let mut rows = Vec::with_capacity(chunk.len());
        for (e, at) in chunk {
            let n = params.len();
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            ));
            params.extend(params![
                *at,
                e.category,
                e.event,
                e.actor_id,
                e.target_user_id,
                e.request_id,
                e.details
            ]);
        }
        conn.execute(
            &format!(
                "INSERT INTO audit_events (created_at, category, event, actor_id, target_user_id, request_id, details) VALUES {}",
                rows.join(", ")
            ),
            params,
        )
        .await?;
    }
    Ok(())
}

/// A condition on an optional user column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserCond {
    /// One of these users.
    In(Vec<UserId>),
    /// Anyone (the column is set).
    Any,
    /// Nobody (the column is empty: the system, an anonymous caller, the
    /// command line).
    None,
}

/// Filters for listing entries; all given conditions must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Categories (`security`, `access`); with `negate`, all others.
    pub categories: Option<(Vec<String>, bool)>,
    /// Exact event names; with `negate`, all others.
    pub events: Option<(Vec<String>, bool)>,
    /// Events whose name starts with this (`login.`).
    pub event_prefix: Option<String>,
    pub actor: Option<UserCond>,
    pub target: Option<UserCond>,
    /// Entries in which this person is the actor or the target.
    pub involving: Option<UserId>,
    /// At or after.
    pub created_from: Option<Timestamp>,
    /// Before.
    pub created_before: Option<Timestamp>,
    pub request_id: Option<String>,
}

fn push(params: &mut Vec<Param>, v: impl Into<Param>) -> String {
    params.push(v.into());
    format!("${}", params.len())
}

fn in_list(col: &str, values: &[Param], negate: bool, params: &mut Vec<Param>) -> String {
    if values.is_empty() {
        return if negate {
            "1 = 1".into()
        } else {
            "1 = 0".into()
        };
    }
    let list: Vec<String> = values.iter().map(|v| push(params, v.clone())).collect();
    let not = if negate { "NOT " } else { "" };
    format!("{col} {not}IN ({})", list.join(", "))
}

fn user_cond(col: &str, c: &UserCond, params: &mut Vec<Param>) -> String {
    match c {
        UserCond::In(ids) => {
            let values: Vec<Param> = ids.iter().map(|i| Param::from(*i)).collect();
            in_list(col, &values, false, params)
        }
        UserCond::Any => format!("{col} IS NOT NULL"),
        UserCond::None => format!("{col} IS NULL"),
    }
}

fn where_clause(f: &AuditFilter, params: &mut Vec<Param>) -> String {
    let mut conds = vec!["1 = 1".to_string()];
    if let Some((cats, negate)) = &f.categories {
        let values: Vec<Param> = cats.iter().map(Param::from).collect();
        conds.push(in_list("category", &values, *negate, params));
    }
    if let Some((events, negate)) = &f.events {
        let values: Vec<Param> = events.iter().map(Param::from).collect();
        conds.push(in_list("event", &values, *negate, params));
    }
    if let Some(prefix) = &f.event_prefix {
        // substr rather than LIKE: LIKE ignores case on SQLite only.
        let len = prefix.chars().count() as i64;
        let p = push(params, prefix.as_str());
        conds.push(format!("substr(event, 1, {len}) = {p}"));
    }
    if let Some(c) = &f.actor {
        conds.push(user_cond("actor_id", c, params));
    }
    if let Some(c) = &f.target {
        conds.push(user_cond("target_user_id", c, params));
    }
    if let Some(id) = f.involving {
        let p = push(params, id);
        conds.push(format!("(actor_id = {p} OR target_user_id = {p})"));
    }
    if let Some(t) = f.created_from {
        let p = push(params, t);
        conds.push(format!("created_at >= {p}"));
    }
    if let Some(t) = f.created_before {
        let p = push(params, t);
        conds.push(format!("created_at < {p}"));
    }
    if let Some(r) = &f.request_id {
        let p = push(params, r.as_str());
        conds.push(format!("request_id = {p}"));
    }
    conds.join(" AND ")
}

/// A page of entries, newest first unless `oldest_first`.
pub async fn list(
    conn: &mut Conn,
    filter: &AuditFilter,
    oldest_first: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEvent>> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    // By time, not by id alone: audited reads are written in batches a
    // moment after they happened, with the time they happened.
    let dir = if oldest_first { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE {wh} ORDER BY created_at {dir}, id {dir} \
         LIMIT {} OFFSET {}",
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, filter: &AuditFilter) -> Result<i64> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    conn.query_one(
        &format!("SELECT count(*) FROM audit_events WHERE {wh}"),
        params,
    )
    .await
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<AuditEvent>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM audit_events WHERE id = $1"),
        params![id],
    )
    .await
}
