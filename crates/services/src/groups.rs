//! Groups: named sets of users whose project roles apply to each member
//! (the permission rules in `authz` already follow group memberships).
//! Anyone signed in sees the groups that share a project with them, and
//! administrators see all; only administrators create, change and delete
//! groups. Every change runs in one transaction.

use std::collections::HashMap;

use steward_domain::user::{PrincipalKind, User, UserId};
use steward_domain::validate::NAME_MAX;
use steward_domain::{Timestamp, ValidationError};
use steward_storage::principals::{self, PrincipalSort};
use steward_storage::{groups, Conn, StorageError};

use crate::audit::{self, AuditEntry};
use crate::authz::Access;
use crate::principals::PrincipalQuery;
use crate::{ServiceError, Services};

/// A group with its members, ready to be shown.
#[derive(Clone, Debug)]
pub struct GroupView {
    pub group: User,
    pub members: Vec<User>,
}

/// A new group or a change to one, as the caller asked for it. On update,
/// `None` leaves a field as it is; `members` replaces the whole list.
#[derive(Clone, Debug, Default)]
pub struct GroupInput {
    pub name: Option<String>,
    pub members: Option<Vec<UserId>>,
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

fn name_taken() -> ServiceError {
    invalid("name", "Name has already been taken.")
}

fn admins_only(what: &str) -> ServiceError {
    ServiceError::Forbidden(format!("Only administrators may {what} groups."))
}

/// A group name: trimmed, not blank, not too long, no control characters.
fn group_name(raw: &str) -> Result<String, ServiceError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(invalid("name", "Name can't be blank."));
    }
    if v.chars().count() > NAME_MAX {
        return Err(invalid(
            "name",
            format!("Name is too long (maximum is {NAME_MAX} characters)."),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid("name", "Name must not contain control characters."));
    }
    Ok(v.to_string())
}

/// Refuses a name another group has (without case).
async fn check_name_free(
    conn: &mut Conn,
    name: &str,
    except: Option<UserId>,
) -> Result<(), ServiceError> {
    match groups::find_by_name(conn, name).await? {
        Some(other) if Some(other.id) != except => Err(name_taken()),
        _ => Ok(()),
    }
}

/// The requested members, each an existing user (not a group or a built-in
/// principal), without repeats.
async fn check_members(conn: &mut Conn, requested: &[UserId]) -> Result<Vec<UserId>, ServiceError> {
    let mut ids: Vec<UserId> = Vec::new();
    for id in requested {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    let found = groups::users_among(conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|u| u.id == **id)) {
        return Err(invalid(
            "members",
            format!("User {missing} does not exist: a group's members must be users."),
        ));
    }
    Ok(ids)
}

/// Audits a change of a group's members: one entry per user who joined or
/// left, since each gained or lost the group's roles.
async fn audit_members(
    conn: &mut Conn,
    access: &Access,
    group: UserId,
    before: &[UserId],
    after: &[UserId],
) -> Result<(), ServiceError> {
    let changes = after
        .iter()
        .filter(|u| !before.contains(u))
        .map(|u| ("group.member_added", *u))
        .chain(
            before
                .iter()
                .filter(|u| !after.contains(u))
                .map(|u| ("group.member_removed", *u)),
        );
    for (event, user) in changes {
        audit::record(
            conn,
            AuditEntry::security(event, access.user_id(), Some(user))
                .with_details(serde_json::json!({ "group_id": group })),
        )
        .await?;
    }
    Ok(())
}

fn unique_to_name(e: StorageError) -> ServiceError {
    match e {
        StorageError::Unique(_) => name_taken(),
        other => other.into(),
    }
}

impl Services {
    /// The groups the caller may see, with their members.
    pub async fn list_groups(
        &self,
        access: &Access,
        sort: &[(PrincipalSort, bool)],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<GroupView>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let query = PrincipalQuery {
            kinds: Some(vec![PrincipalKind::Group]),
            ..PrincipalQuery::default()
        };
        let filter = self.principal_filter(&mut conn, access, &query).await?;
        let list = principals::list_sorted(&mut conn, &filter, sort, limit, offset).await?;
        let total = principals::count(&mut conn, &filter).await?;
        let ids: Vec<UserId> = list.iter().map(|g| g.id).collect();
        let mut members: HashMap<UserId, Vec<User>> = HashMap::new();
        for m in groups::members_of(&mut conn, &ids).await? {
            members.entry(m.group_id).or_default().push(m.user);
        }
        let views = list
            .into_iter()
            .map(|group| GroupView {
                members: members.remove(&group.id).unwrap_or_default(),
                group,
            })
            .collect();
        Ok((views, total))
    }

    pub async fn create_group(
        &self,
        access: &Access,
        input: GroupInput,
    ) -> Result<GroupView, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("create"));
        }
        let name = group_name(input.name.as_deref().unwrap_or(""))?;
        let mut tx = self.db.begin().await?;
        check_name_free(&mut tx, &name, None).await?;
        let members = check_members(&mut tx, input.members.as_deref().unwrap_or(&[])).await?;
        let group = groups::insert(&mut tx, &name, Timestamp::now())
            .await
            .map_err(unique_to_name)?;
        groups::set_members(&mut tx, group.id, &members).await?;
        audit::record(
            &mut tx,
            AuditEntry::security("group.created", access.user_id(), None)
                .with_details(serde_json::json!({ "group_id": group.id })),
        )
        .await?;
        audit_members(&mut tx, access, group.id, &[], &members).await?;
        let members = principals::group_members(&mut tx, group.id).await?;
        tx.commit().await?;
        Ok(GroupView { group, members })
    }

    /// Renames a group and/or replaces its members.
    pub async fn update_group(
        &self,
        access: &Access,
        id: UserId,
        input: GroupInput,
    ) -> Result<GroupView, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("change"));
        }
        let name = input.name.as_deref().map(group_name).transpose()?;
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        let current = groups::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("group"))?;
        let mut changed = false;
        if let Some(name) = name.filter(|n| *n != current.lastname) {
            check_name_free(&mut tx, &name, Some(id)).await?;
            groups::rename(&mut tx, id, &name, now)
                .await
                .map_err(unique_to_name)?;
            changed = true;
        }
        if let Some(requested) = &input.members {
            let members = check_members(&mut tx, requested).await?;
            let before: Vec<UserId> = principals::group_members(&mut tx, id)
                .await?
                .iter()
                .map(|u| u.id)
                .collect();
            groups::set_members(&mut tx, id, &members).await?;
            audit_members(&mut tx, access, id, &before, &members).await?;
            changed = true;
        }
        if changed {
            groups::touch(&mut tx, id, now).await?;
        }
        let group = groups::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("group"))?;
        let members = principals::group_members(&mut tx, id).await?;
        tx.commit().await?;
        Ok(GroupView { group, members })
    }

    /// Deletes a group with its memberships and member list; what was
    /// assigned to it goes to the "Deleted user".
    pub async fn delete_group(&self, access: &Access, id: UserId) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("delete"));
        }
        let mut tx = self.db.begin().await?;
        let before: Vec<UserId> = principals::group_members(&mut tx, id)
            .await?
            .iter()
            .map(|u| u.id)
            .collect();
        if !groups::delete(&mut tx, id).await? {
            return Err(ServiceError::NotFound("group"));
        }
        audit::record(
            &mut tx,
            AuditEntry::security("group.deleted", access.user_id(), None)
                .with_details(serde_json::json!({ "group_id": id })),
        )
        .await?;
        audit_members(&mut tx, access, id, &before, &[]).await?;
        tx.commit().await?;
        Ok(())
    }
}
