//! The `members` and `member_roles` tables: who holds which roles where.

use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Param, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct Membership {
    pub id: i64,
    pub project_id: Option<i64>,
    pub principal_id: i64,
    pub role_ids: Vec<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl FromRow for Membership {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let roles = r.opt_string(3)?.unwrap_or_default();
        let mut role_ids: Vec<i64> = roles.split(',').filter_map(|s| s.parse().ok()).collect();
        role_ids.sort_unstable();
        Ok(Membership {
            id: r.i64(0)?,
            project_id: r.opt_i64(1)?,
            principal_id: r.i64(2)?,
            role_ids,
            created_at: r.timestamp(4)?,
            updated_at: r.timestamp(5)?,
        })
    }
}

fn select(conn: &Conn) -> &'static str {
    match conn.engine() {
        crate::Engine::Sqlite => {
            "SELECT m.id, m.project_id, m.principal_id, \
             (SELECT group_concat(mr.role_id, ',') FROM member_roles mr WHERE mr.member_id = m.id), \
             m.created_at, m.updated_at FROM members m"
        }
        crate::Engine::Postgres => {
            "SELECT m.id, m.project_id, m.principal_id, \
             (SELECT string_agg(mr.role_id::text, ',') FROM member_roles mr WHERE mr.member_id = m.id), \
             m.created_at, m.updated_at FROM members m"
        }
    }
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<Membership>> {
    let sql = format!("{} WHERE m.id = $1", select(conn));
    conn.query_opt(&sql, params![id]).await
}

pub async fn find_for(
    conn: &mut Conn,
    project_id: Option<i64>,
    principal_id: i64,
) -> Result<Option<Membership>> {
    let (sql, p) = match project_id {
        Some(pid) => (
            format!(
                "{} WHERE m.project_id = $1 AND m.principal_id = $2",
                select(conn)
            ),
            params![pid, principal_id],
        ),
        None => (
            format!(
                "{} WHERE m.project_id IS NULL AND m.principal_id = $1",
                select(conn)
            ),
            params![principal_id],
        ),
    };
    conn.query_opt(&sql, p).await
}

#[derive(Clone, Debug, Default)]
pub struct MemberFilter {
    /// Only memberships in these projects (`None` in the list: global ones).
    pub project_ids: Option<Vec<i64>>,
    pub principal_id: Option<i64>,
}

fn member_where(f: &MemberFilter, params: &mut Vec<Param>) -> String {
    let mut conds = vec!["1 = 1".to_string()];
    if let Some(ids) = &f.project_ids {
        if ids.is_empty() {
            conds.push("1 = 0".into());
        } else {
            let list: Vec<String> = ids
                .iter()
                .map(|id| {
                    params.push((*id).into());
                    format!("${}", params.len())
                })
                .collect();
            conds.push(format!("m.project_id IN ({})", list.join(", ")));
        }
    }
    if let Some(p) = f.principal_id {
        params.push(p.into());
        conds.push(format!("m.principal_id = ${}", params.len()));
    }
    conds.join(" AND ")
}

pub async fn list(
    conn: &mut Conn,
    f: &MemberFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Membership>> {
    let mut params = Vec::new();
    let wh = member_where(f, &mut params);
    let sql = format!(
        "{} WHERE {wh} ORDER BY m.id LIMIT {} OFFSET {}",
        select(conn),
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, f: &MemberFilter) -> Result<i64> {
    let mut params = Vec::new();
    let wh = member_where(f, &mut params);
    conn.query_one(
        &format!("SELECT count(*) FROM members m WHERE {wh}"),
        params,
    )
    .await
}

pub async fn insert(
    conn: &mut Conn,
    project_id: Option<i64>,
    principal_id: i64,
    role_ids: &[i64],
    now: Timestamp,
) -> Result<i64> {
    let id: i64 = conn
        .query_one(
            "INSERT INTO members (project_id, principal_id, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
            params![project_id, principal_id, now],
        )
        .await?;
    set_roles(conn, id, role_ids, now).await?;
    Ok(id)
}

pub async fn set_roles(
    conn: &mut Conn,
    member_id: i64,
    role_ids: &[i64],
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "DELETE FROM member_roles WHERE member_id = $1",
        params![member_id],
    )
    .await?;
    for r in role_ids {
        conn.execute(
            "INSERT INTO member_roles (member_id, role_id) VALUES ($1, $2)",
            params![member_id, *r],
        )
        .await?;
    }
    conn.execute(
        "UPDATE members SET updated_at = $1 WHERE id = $2",
        params![now, member_id],
    )
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, id: i64) -> Result<bool> {
    Ok(conn
        .execute("DELETE FROM members WHERE id = $1", params![id])
        .await?
        == 1)
}

/// Principals (users and groups) that are members of the project, directly.
pub async fn principal_ids(conn: &mut Conn, project_id: i64) -> Result<Vec<i64>> {
    conn.query(
        "SELECT principal_id FROM members WHERE project_id = $1 ORDER BY principal_id",
        params![project_id],
    )
    .await
}
