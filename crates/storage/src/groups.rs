//! Groups: rows of `users` with kind `group` (the name in `lastname`), and
//! their members in `group_users`.
//!
//! A group created here gets the login `group:<name, lower case>`: logins
//! of people cannot contain `:`, so the unique index on `login_key` keeps
//! group names unique (without case) and apart from every login.

use steward_domain::user::{User, UserId, DELETED_USER_ID};
use steward_domain::{validate, Timestamp};

use crate::db::{Conn, FromRow, Param, Result, Row};
use crate::params;
use crate::users::{user_at, COLUMNS, COLUMNS_U, COLUMN_COUNT};

/// The login (and unique key) of a group with this name.
pub fn login_for(name: &str) -> String {
    format!("group:{}", validate::unique_key(name))
}

pub async fn insert(conn: &mut Conn, name: &str, now: Timestamp) -> Result<User> {
    let login = login_for(name);
    conn.query_one(
        &format!(
            "INSERT INTO users (kind, login, login_key, firstname, lastname, status, created_at, updated_at) \
             VALUES ('group', $1, $1, '', $2, 'active', $3, $3) RETURNING {COLUMNS}"
        ),
        params![login, name, now],
    )
    .await
}

pub async fn find(conn: &mut Conn, id: UserId) -> Result<Option<User>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND kind = 'group'"),
        params![id],
    )
    .await
}

/// The group whose name is `name`: compared without case for groups
/// created through Steward, exactly for any other.
pub async fn find_by_name(conn: &mut Conn, name: &str) -> Result<Option<User>> {
    conn.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE kind = 'group' AND (login_key = $1 OR lastname = $2) \
             ORDER BY id LIMIT 1"
        ),
        params![login_for(name), name],
    )
    .await
}

pub async fn rename(conn: &mut Conn, id: UserId, name: &str, now: Timestamp) -> Result<()> {
    let login = login_for(name);
    conn.execute(
        "UPDATE users SET login = $1, login_key = $1, firstname = '', lastname = $2, updated_at = $3 \
         WHERE id = $4 AND kind = 'group'",
        params![login, name, now, id],
    )
    .await?;
    Ok(())
}

pub async fn touch(conn: &mut Conn, id: UserId, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE users SET updated_at = $1 WHERE id = $2 AND kind = 'group'",
        params![now, id],
    )
    .await?;
    Ok(())
}

/// Replaces the members of a group.
pub async fn set_members(conn: &mut Conn, id: UserId, members: &[UserId]) -> Result<()> {
    conn.execute("DELETE FROM group_users WHERE group_id = $1", params![id])
        .await?;
    for user in members {
        conn.execute(
            "INSERT INTO group_users (group_id, user_id) VALUES ($1, $2)",
            params![id, *user],
        )
        .await?;
    }
    Ok(())
}

/// The users among `ids` (kind `user`), in id order.
pub async fn users_among(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p: Vec<Param> = Vec::new();
    let list: Vec<String> = ids
        .iter()
        .map(|id| {
            p.push((*id).into());
            format!("${}", p.len())
        })
        .collect();
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE kind = 'user' AND id IN ({}) ORDER BY id",
            list.join(", ")
        ),
        p,
    )
    .await
}

/// A member of a group, with the group it belongs to.
pub struct GroupMember {
    pub group_id: UserId,
    pub user: User,
}

impl FromRow for GroupMember {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(GroupMember {
            user: user_at(row, 0)?,
            group_id: row.i64(COLUMN_COUNT)?,
        })
    }
}

/// The members of several groups at once, by group and then user id.
pub async fn members_of(conn: &mut Conn, group_ids: &[UserId]) -> Result<Vec<GroupMember>> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p: Vec<Param> = Vec::new();
    let list: Vec<String> = group_ids
        .iter()
        .map(|id| {
            p.push((*id).into());
            format!("${}", p.len())
        })
        .collect();
    conn.query(
        &format!(
            "SELECT {COLUMNS_U}, gu.group_id FROM group_users gu JOIN users u ON u.id = gu.user_id \
             WHERE gu.group_id IN ({}) ORDER BY gu.group_id, u.id",
            list.join(", ")
        ),
        p,
    )
    .await
}

/// Deletes a group: its project memberships and member list go with it,
/// and what pointed to it (work packages assigned to it or made its
/// responsibility, now and in their history, user custom values) points to
/// the "Deleted user" instead, as OpenProject does. Returns whether there
/// was such a group.
pub async fn delete(conn: &mut Conn, id: UserId) -> Result<bool> {
    if find(conn, id).await?.is_none() {
        return Ok(false);
    }
    for sql in [
        "UPDATE work_packages SET assigned_to_id = $1 WHERE assigned_to_id = $2",
        "UPDATE work_packages SET responsible_id = $1 WHERE responsible_id = $2",
        "UPDATE work_package_journals SET assigned_to_id = $1 WHERE assigned_to_id = $2",
        "UPDATE work_package_journals SET responsible_id = $1 WHERE responsible_id = $2",
        "UPDATE custom_values SET value_user_id = $1 WHERE value_user_id = $2",
        "UPDATE custom_value_journals SET value_user_id = $1 WHERE value_user_id = $2",
    ] {
        conn.execute(sql, params![DELETED_USER_ID, id]).await?;
    }
    for sql in [
        "DELETE FROM mentions WHERE user_id = $1",
        "DELETE FROM member_roles WHERE member_id IN (SELECT id FROM members WHERE principal_id = $1)",
        "DELETE FROM members WHERE principal_id = $1",
        "DELETE FROM group_users WHERE group_id = $1",
        "DELETE FROM custom_values WHERE customized_type = 'Principal' AND customized_id = $1",
    ] {
        conn.execute(sql, params![id]).await?;
    }
    crate::work_packages::bump_data_version(conn).await?;
    Ok(conn
        .execute(
            "DELETE FROM users WHERE id = $1 AND kind = 'group'",
            params![id],
        )
        .await?
        == 1)
}
