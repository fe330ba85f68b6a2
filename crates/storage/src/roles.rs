//! The `roles` and `role_permissions` tables.

use steward_domain::permission::{Permission, PermissionSet};

use crate::db::{Conn, FromRow, Result, Row};
use crate::params;

#[derive(Clone, Debug)]
pub struct Role {
    pub id: i64,
    pub name: String,
    /// `project` or `global`.
    pub kind: String,
    /// `non_member`, `anonymous` or none.
    pub builtin: Option<String>,
    pub position: i64,
    pub permissions: PermissionSet,
}

struct RoleRow(i64, String, String, Option<String>, i64);
impl FromRow for RoleRow {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(RoleRow(
            r.i64(0)?,
            r.string(1)?,
            r.string(2)?,
            r.opt_string(3)?,
            r.i64(4)?,
        ))
    }
}

struct PermRow(i64, String);
impl FromRow for PermRow {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(PermRow(r.i64(0)?, r.string(1)?))
    }
}

/// Every role with its permissions, ordered by position.
pub async fn all(conn: &mut Conn) -> Result<Vec<Role>> {
    let rows: Vec<RoleRow> = conn
        .query(
            "SELECT id, name, kind, builtin, position FROM roles ORDER BY position, id",
            params![],
        )
        .await?;
    let perms: Vec<PermRow> = conn
        .query(
            "SELECT role_id, permission FROM role_permissions",
            params![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|RoleRow(id, name, kind, builtin, position)| {
            let mut permissions = PermissionSet::EMPTY;
            for PermRow(rid, p) in &perms {
                if *rid == id {
                    if let Some(p) = Permission::parse(p) {
                        permissions.insert(p);
                    }
                }
            }
            Role {
                id,
                name,
                kind,
                builtin,
                position,
                permissions,
            }
        })
        .collect())
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<Role>> {
    Ok(all(conn).await?.into_iter().find(|r| r.id == id))
}

/// The position after the last role.
pub async fn next_position(conn: &mut Conn) -> Result<i64> {
    let max: i64 = conn
        .query_one("SELECT COALESCE(max(position), 0) FROM roles", params![])
        .await?;
    Ok(max + 1)
}

/// Replaces the permissions of a role.
async fn set_permissions(conn: &mut Conn, id: i64, permissions: PermissionSet) -> Result<()> {
    conn.execute(
        "DELETE FROM role_permissions WHERE role_id = $1",
        params![id],
    )
    .await?;
    for p in permissions.iter() {
        conn.execute(
            "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)",
            params![id, p.name()],
        )
        .await?;
    }
    Ok(())
}

/// A new role that is not built in; returns its id.
pub async fn insert(
    conn: &mut Conn,
    name: &str,
    kind: &str,
    position: i64,
    permissions: PermissionSet,
) -> Result<i64> {
    let id: i64 = conn
        .query_one(
            "INSERT INTO roles (name, kind, position) VALUES ($1, $2, $3) RETURNING id",
            params![name, kind, position],
        )
        .await?;
    set_permissions(conn, id, permissions).await?;
    Ok(id)
}

/// Renames a role and replaces its permissions (its kind never changes).
pub async fn update(
    conn: &mut Conn,
    id: i64,
    name: &str,
    permissions: PermissionSet,
) -> Result<()> {
    conn.execute(
        "UPDATE roles SET name = $1 WHERE id = $2",
        params![name, id],
    )
    .await?;
    set_permissions(conn, id, permissions).await
}

/// Deletes a role and its permissions; the caller makes sure no membership
/// holds it.
pub async fn delete(conn: &mut Conn, id: i64) -> Result<bool> {
    conn.execute(
        "DELETE FROM role_permissions WHERE role_id = $1",
        params![id],
    )
    .await?;
    Ok(conn
        .execute("DELETE FROM roles WHERE id = $1", params![id])
        .await?
        == 1)
}

/// How many memberships hold the role.
pub async fn membership_count(conn: &mut Conn, id: i64) -> Result<i64> {
    conn.query_one(
        "SELECT count(*) FROM member_roles WHERE role_id = $1",
        params![id],
    )
    .await
}

/// (role id, number of memberships holding it) for every role held at all.
pub async fn membership_counts(conn: &mut Conn) -> Result<Vec<(i64, i64)>> {
    struct C(i64, i64);
    impl FromRow for C {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(C(r.i64(0)?, r.i64(1)?))
        }
    }
    let rows: Vec<C> = conn
        .query(
            "SELECT role_id, count(*) FROM member_roles GROUP BY role_id",
            params![],
        )
        .await?;
    Ok(rows.into_iter().map(|C(id, n)| (id, n)).collect())
}

/// The permissions of a built-in role (`non_member` or `anonymous`).
pub async fn builtin_permissions(conn: &mut Conn, builtin: &str) -> Result<PermissionSet> {
    let names: Vec<String> = conn
        .query(
            "SELECT rp.permission FROM roles r JOIN role_permissions rp ON rp.role_id = r.id WHERE r.builtin = $1",
            params![builtin],
        )
        .await?;
    Ok(names
        .iter()
        .filter_map(|n| Permission::parse(n))
        .fold(PermissionSet::EMPTY, PermissionSet::with))
}

/// (project id or None for global, permission name) for every role the user
/// holds directly or through a group.
pub async fn user_grants(conn: &mut Conn, user_id: i64) -> Result<Vec<(Option<i64>, Permission)>> {
    struct G(Option<i64>, String);
    impl FromRow for G {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(G(r.opt_i64(0)?, r.string(1)?))
        }
    }
    let rows: Vec<G> = conn
        .query(
            "SELECT DISTINCT m.project_id, rp.permission FROM members m \
             JOIN member_roles mr ON mr.member_id = m.id \
             JOIN role_permissions rp ON rp.role_id = mr.role_id \
             WHERE m.principal_id = $1 \
                OR m.principal_id IN (SELECT group_id FROM group_users WHERE user_id = $1)",
            params![user_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|G(p, n)| Permission::parse(&n).map(|perm| (p, perm)))
        .collect())
}
