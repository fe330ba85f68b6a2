//! The `users` table.

use steward_domain::user::{NewUser, PrincipalKind, User, UserChanges, UserId, UserStatus};
use steward_domain::{validate, Timestamp};

use crate::db::{Conn, FromRow, Param, Result, Row, StorageError};
use crate::params;

pub(crate) const COLUMNS: &str = "id, kind, login, firstname, lastname, email, admin, status, \
     language, time_zone, blocked_until, failed_logins, last_login_at, created_at, updated_at";

/// Same columns, qualified with the alias `u`, for joins.
pub(crate) const COLUMNS_U: &str =
    "u.id, u.kind, u.login, u.firstname, u.lastname, u.email, u.admin, \
     u.status, u.language, u.time_zone, u.blocked_until, u.failed_logins, u.last_login_at, \
     u.created_at, u.updated_at";

pub(crate) const COLUMN_COUNT: usize = 15;

/// Reads a user from `row`, starting at column `at`.
pub(crate) fn user_at(row: &Row<'_>, at: usize) -> Result<User> {
    let kind = row.string(at + 1)?;
    let status = row.string(at + 7)?;
    Ok(User {
        id: row.i64(at)?,
        kind: PrincipalKind::parse(&kind)
            .ok_or_else(|| StorageError::Engine(format!("unknown principal kind {kind:?}")))?,
        login: row.string(at + 2)?,
        firstname: row.string(at + 3)?,
        lastname: row.string(at + 4)?,
        email: row.opt_string(at + 5)?,
        admin: row.bool(at + 6)?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StorageError::Engine(format!("unknown user status {status:?}")))?,
        language: row.string(at + 8)?,
        time_zone: row.string(at + 9)?,
        blocked_until: row.opt_timestamp(at + 10)?,
        failed_logins: row.i64(at + 11)?,
        last_login_at: row.opt_timestamp(at + 12)?,
        created_at: row.timestamp(at + 13)?,
        updated_at: row.timestamp(at + 14)?,
    })
}

impl FromRow for User {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        user_at(row, 0)
    }
}

pub async fn insert(
    conn: &mut Conn,
    u: &NewUser,
    password_hash: Option<&str>,
    now: Timestamp,
) -> Result<User> {
    let sql = format!(
        "INSERT INTO users (kind, login, login_key, firstname, lastname, email, email_key, admin, \
         status, language, time_zone, password_hash, password_changed_at, created_at, updated_at) \
         VALUES ('user', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         RETURNING {COLUMNS}"
    );
    conn.query_one(
        &sql,
        params![
            &u.login,
            validate::unique_key(&u.login),
            &u.firstname,
            &u.lastname,
            &u.email,
            validate::unique_key(&u.email),
            u.admin,
            u.status.as_str(),
            &u.language,
            &u.time_zone,
            password_hash,
            password_hash.map(|_| now),
            now,
        ],
    )
    .await
}

pub async fn find(conn: &mut Conn, id: UserId) -> Result<Option<User>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
        params![id],
    )
    .await
}

/// Finds an account by login, ignoring case.
pub async fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<User>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE login_key = $1"),
        params![validate::unique_key(login)],
    )
    .await
}

/// Filters for listing accounts (built-in principals are never listed).
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub status: Option<Vec<UserStatus>>,
    /// Exact logins, compared without case.
    pub login: Option<Vec<String>>,
    /// A substring of first name, last name, login or email, without case.
    pub name_contains: Option<String>,
    pub admin: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserSort {
    Id,
    Login,
    Name,
    CreatedAt,
    Status,
}

impl UserSort {
    fn column(self) -> &'static str {
        match self {
            UserSort::Id => "id",
            UserSort::Login => "login_key",
            UserSort::Name => "lower(lastname) , lower(firstname)",
            UserSort::CreatedAt => "created_at",
            UserSort::Status => "status",
        }
    }
}

fn where_clause(f: &UserFilter, params: &mut Vec<Param>) -> String {
    let mut conds = vec!["kind = 'user'".to_string()];
    if let Some(statuses) = &f.status {
        let list = statuses
            .iter()
            .map(|s| {
                params.push(s.as_str().into());
                format!("${}", params.len())
            })
            .collect::<Vec<_>>();
        conds.push(if list.is_empty() {
            "1 = 0".into()
        } else {
            format!("status IN ({})", list.join(", "))
        });
    }
    if let Some(logins) = &f.login {
        let list = logins
            .iter()
            .map(|l| {
                params.push(validate::unique_key(l).into());
                format!("${}", params.len())
            })
            .collect::<Vec<_>>();
        conds.push(if list.is_empty() {
            "1 = 0".into()
        } else {
            format!("login_key IN ({})", list.join(", "))
        });
    }
    if let Some(text) = &f.name_contains {
        // lower() on both sides: LIKE ignores ASCII case on SQLite but not on
        // PostgreSQL; this spelling behaves the same on both.
        params.push(format!("%{}%", escape_like(&text.to_lowercase())).into());
        let p = params.len();
        conds.push(format!(
            "(lower(firstname) LIKE ${p} ESCAPE '\\' OR lower(lastname) LIKE ${p} ESCAPE '\\' \
             OR login_key LIKE ${p} ESCAPE '\\' OR email_key LIKE ${p} ESCAPE '\\' \
             OR lower(firstname || ' ' || lastname) LIKE ${p} ESCAPE '\\')"
        ));
    }
    if let Some(admin) = f.admin {
        params.push(admin.into());
        conds.push(format!("admin = ${}", params.len()));
    }
    conds.join(" AND ")
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub async fn list(
    conn: &mut Conn,
    filter: &UserFilter,
    sort: &[(UserSort, bool)],
    limit: i64,
    offset: i64,
) -> Result<Vec<User>> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    let mut order: Vec<String> = sort
        .iter()
        .map(|(s, desc)| {
            let dir = if *desc { "DESC" } else { "ASC" };
            s.column()
                .split(',')
                .map(|c| format!("{} {dir}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    order.push("id ASC".into());
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE {wh} ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, filter: &UserFilter) -> Result<i64> {
    let mut params = Vec::new();
    let wh = where_clause(filter, &mut params);
    conn.query_one(&format!("SELECT count(*) FROM users WHERE {wh}"), params)
        .await
}

/// Applies `changes` and returns the account as it is now (`None`: no such user).
pub async fn update(
    conn: &mut Conn,
    id: UserId,
    changes: &UserChanges,
    now: Timestamp,
) -> Result<Option<User>> {
    let mut sets = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut set = |col: &str, v: Param, params: &mut Vec<Param>| {
        params.push(v);
        sets.push(format!("{col} = ${}", params.len()));
    };
    if let Some(v) = &changes.login {
        set("login", v.into(), &mut params);
        set("login_key", validate::unique_key(v).into(), &mut params);
    }
    if let Some(v) = &changes.firstname {
        set("firstname", v.into(), &mut params);
    }
    if let Some(v) = &changes.lastname {
        set("lastname", v.into(), &mut params);
    }
    if let Some(v) = &changes.email {
        set("email", v.into(), &mut params);
        set("email_key", validate::unique_key(v).into(), &mut params);
    }
    if let Some(v) = changes.admin {
        set("admin", v.into(), &mut params);
    }
    if let Some(v) = &changes.language {
        set("language", v.into(), &mut params);
    }
    if let Some(v) = &changes.time_zone {
        set("time_zone", v.into(), &mut params);
    }
    set("updated_at", now.into(), &mut params);
    params.push(id.into());
    let sql = format!(
        "UPDATE users SET {} WHERE id = ${} AND kind = 'user' RETURNING {COLUMNS}",
        sets.join(", "),
        params.len()
    );
    conn.query_opt(&sql, params).await
}

pub async fn set_status(
    conn: &mut Conn,
    id: UserId,
    status: UserStatus,
    now: Timestamp,
) -> Result<Option<User>> {
    conn.query_opt(
        &format!(
            "UPDATE users SET status = $1, updated_at = $2 WHERE id = $3 AND kind = 'user' \
             RETURNING {COLUMNS}"
        ),
        params![status.as_str(), now, id],
    )
    .await
}

pub async fn password_hash(conn: &mut Conn, id: UserId) -> Result<Option<String>> {
    Ok(conn
        .query_opt::<OptString>("SELECT password_hash FROM users WHERE id = $1", params![id])
        .await?
        .and_then(|s| s.0))
}

struct OptString(Option<String>);
impl FromRow for OptString {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(OptString(row.opt_string(0)?))
    }
}

pub async fn set_password_hash(
    conn: &mut Conn,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(conn
        .execute(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 \
             WHERE id = $3 AND kind = 'user'",
            params![hash, now, id],
        )
        .await?
        == 1)
}

/// Replaces the hash after a successful sign-in with changed parameters,
/// without counting as a password change.
pub async fn rehash_password(conn: &mut Conn, id: UserId, hash: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = $1 WHERE id = $2",
        params![hash, id],
    )
    .await?;
    Ok(())
}

/// Counts one more failed sign-in; returns the count so far.
pub async fn add_failed_login(conn: &mut Conn, id: UserId) -> Result<i64> {
    conn.query_one(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        params![id],
    )
    .await
}

/// Blocks sign-in until `until` and starts counting afresh.
pub async fn block(conn: &mut Conn, id: UserId, until: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE users SET blocked_until = $1, failed_logins = 0 WHERE id = $2",
        params![until, id],
    )
    .await?;
    Ok(())
}

pub async fn record_login(conn: &mut Conn, id: UserId, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE users SET failed_logins = 0, blocked_until = NULL, last_login_at = $1 WHERE id = $2",
        params![now, id],
    )
    .await?;
    Ok(())
}

/// Active administrators, optionally leaving one account out of the count.
pub async fn count_active_admins(conn: &mut Conn, except: Option<UserId>) -> Result<i64> {
    conn.query_one(
        "SELECT count(*) FROM users WHERE kind = 'user' AND admin = $1 AND status = 'active' AND id <> $2",
        params![true, except.unwrap_or(0)],
    )
    .await
}

/// Lifts a temporary block after failed sign-ins.
pub async fn record_unblock(conn: &mut Conn, id: UserId) -> Result<()> {
    conn.execute(
        "UPDATE users SET failed_logins = 0, blocked_until = NULL WHERE id = $1",
        params![id],
    )
    .await?;
    Ok(())
}
