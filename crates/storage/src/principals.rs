//! Principals (people and groups) as other people see them: who shares a
//! project with whom, group members, and several principals at once.

use steward_domain::user::{PrincipalKind, User, UserId};

use crate::db::{Conn, Param, Result};
use crate::params;
use crate::users::{escape_like, COLUMNS_U};

/// Restricts principals to those a person may see: themself and everyone
/// who is a member (directly or through a group) of one of `projects`.
#[derive(Clone, Debug, Default)]
pub struct SharedWith {
    pub user_id: UserId,
    pub projects: Vec<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct PrincipalFilter {
    /// Only these kinds; users and groups when `None`. Built-in principals
    /// are never listed.
    pub kinds: Option<Vec<PrincipalKind>>,
    pub shared_with: Option<SharedWith>,
    /// Only members (directly or through a group) of one of these projects.
    pub member_of: Option<Vec<i64>>,
    /// A substring of the name or login, without case.
    pub name_contains: Option<String>,
    pub ids: Option<Vec<UserId>>,
}

fn list_of(ids: &[i64], params: &mut Vec<Param>) -> String {
    ids.iter()
        .map(|id| {
            params.push((*id).into());
            format!("${}", params.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Principals that are members of one of `projects`, directly or as
/// members of a group that is.
fn members_of(projects: &[i64], params: &mut Vec<Param>) -> String {
    if projects.is_empty() {
        return "1 = 0".into();
    }
    let list = list_of(projects, params);
    format!(
        "(u.id IN (SELECT m.principal_id FROM members m WHERE m.project_id IN ({list})) \
         OR u.id IN (SELECT gu.user_id FROM group_users gu JOIN members m ON m.principal_id = gu.group_id \
             WHERE m.project_id IN ({list})))"
    )
}

fn principal_where(f: &PrincipalFilter, params: &mut Vec<Param>) -> String {
    let kinds = f
        .kinds
        .clone()
        .unwrap_or_else(|| vec![PrincipalKind::User, PrincipalKind::Group]);
    let kinds: Vec<&str> = kinds
        .iter()
        .filter(|k| matches!(k, PrincipalKind::User | PrincipalKind::Group))
        .map(|k| k.as_str())
        .collect();
    let mut conds = Vec::new();
    if kinds.is_empty() {
        conds.push("1 = 0".to_string());
    } else {
        let list: Vec<String> = kinds
            .iter()
            .map(|k| {
                params.push((*k).into());
                format!("${}", params.len())
            })
            .collect();
        conds.push(format!("u.kind IN ({})", list.join(", ")));
    }
    if let Some(s) = &f.shared_with {
        params.push(s.user_id.into());
        let me = params.len();
        conds.push(format!(
            "(u.id = ${me} OR {})",
            members_of(&s.projects, params)
        ));
    }
    if let Some(projects) = &f.member_of {
        conds.push(members_of(projects, params));
    }
    if let Some(text) = &f.name_contains {
        params.push(format!("%{}%", escape_like(&text.to_lowercase())).into());
        let p = params.len();
        conds.push(format!(
            "(lower(u.firstname) LIKE ${p} ESCAPE '\\' OR lower(u.lastname) LIKE ${p} ESCAPE '\\' \
             OR u.login_key LIKE ${p} ESCAPE '\\' \
             OR lower(u.firstname || ' ' || u.lastname) LIKE ${p} ESCAPE '\\')"
        ));
    }
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            conds.push("1 = 0".into());
        } else {
            conds.push(format!("u.id IN ({})", list_of(ids, params)));
        }
    }
    conds.join(" AND ")
}

pub async fn list(
    conn: &mut Conn,
    filter: &PrincipalFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<User>> {
    list_sorted(conn, filter, &[], limit, offset).await
}

/// What principals can be sorted by; the id always breaks ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalSort {
    Id,
    CreatedAt,
    UpdatedAt,
}

impl PrincipalSort {
    fn column(self) -> &'static str {
        match self {
            PrincipalSort::Id => "u.id",
            PrincipalSort::CreatedAt => "u.created_at",
            PrincipalSort::UpdatedAt => "u.updated_at",
        }
    }
}

/// Like [`list`], in the given order (`true`: descending).
pub async fn list_sorted(
    conn: &mut Conn,
    filter: &PrincipalFilter,
    sort: &[(PrincipalSort, bool)],
    limit: i64,
    offset: i64,
) -> Result<Vec<User>> {
    let mut params = Vec::new();
    let wh = principal_where(filter, &mut params);
    let mut order: Vec<String> = sort
        .iter()
        .map(|(s, desc)| format!("{} {}", s.column(), if *desc { "DESC" } else { "ASC" }))
        .collect();
    order.push("u.id ASC".into());
    let sql = format!(
        "SELECT {COLUMNS_U} FROM users u WHERE {wh} ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    conn.query(&sql, params).await
}

pub async fn count(conn: &mut Conn, filter: &PrincipalFilter) -> Result<i64> {
    let mut params = Vec::new();
    let wh = principal_where(filter, &mut params);
    conn.query_one(&format!("SELECT count(*) FROM users u WHERE {wh}"), params)
        .await
}

/// Several principals by id, of any kind, in id order; missing ids are skipped.
pub async fn find_many(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Vec::new();
    let list = list_of(ids, &mut params);
    conn.query(
        &format!("SELECT {COLUMNS_U} FROM users u WHERE u.id IN ({list}) ORDER BY u.id"),
        params,
    )
    .await
}

/// The users in a group, in id order.
pub async fn group_members(conn: &mut Conn, group_id: UserId) -> Result<Vec<User>> {
    conn.query(
        &format!(
            "SELECT {COLUMNS_U} FROM users u JOIN group_users gu ON gu.user_id = u.id \
             WHERE gu.group_id = $1 ORDER BY u.id"
        ),
        params![group_id],
    )
    .await
}
