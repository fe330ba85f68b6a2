//! Memberships: which principal (a user or a group) holds which roles in
//! which project, or which global roles (no project). Seeing a project's
//! memberships needs `view_members` or `manage_members` there; changing
//! them needs `manage_members`. Global memberships are for administrators.
//! A membership the caller may not see is "not found".

use std::collections::HashMap;

use steward_domain::permission::Permission;
use steward_domain::project::{Project, ProjectId};
use steward_domain::user::{PrincipalKind, User, UserId};
use steward_domain::{Timestamp, ValidationError};
use steward_storage::members::{self, MemberFilter, Membership};
use steward_storage::projects::{self, ProjectFilter, ProjectScope};
use steward_storage::roles::{self, Role};
use steward_storage::{principals, users, Conn, StorageError};

use crate::audit::{self, AuditEntry};
use crate::authz::Access;
use crate::{ServiceError, Services};

/// A membership with what it points to, ready to be shown.
#[derive(Clone, Debug)]
pub struct MembershipView {
    pub membership: Membership,
    /// `None` for a membership that carries global roles.
    pub project: Option<Project>,
    pub principal: User,
    pub roles: Vec<Role>,
    /// Whether the caller may change or delete it.
    pub can_manage: bool,
}

/// A new membership, as the caller asked for it (not yet checked).
#[derive(Clone, Debug, Default)]
pub struct MembershipInput {
    /// `None`: a membership with global roles.
    pub project_id: Option<ProjectId>,
    pub principal_id: Option<UserId>,
    pub role_ids: Vec<i64>,
}

/// Filters for listing memberships.
#[derive(Clone, Debug, Default)]
pub struct MembershipFilter {
    pub project_ids: Option<Vec<ProjectId>>,
    pub principal_id: Option<UserId>,
}

/// More projects than any listing of ids needs to page through.
const ALL_ROWS: i64 = i64::MAX / 4;

/// A permission change, audited: the target is the user whose rights
/// changed (a group's membership names the group in the details).
async fn audit_membership(
    conn: &mut Conn,
    event: &str,
    access: &Access,
    m: &Membership,
    principal_kind: PrincipalKind,
    old_roles: Option<&[i64]>,
) -> Result<(), ServiceError> {
    let target = (principal_kind == PrincipalKind::User).then_some(m.principal_id);
    let mut details = serde_json::json!({
        "membership_id": m.id,
        "project_id": m.project_id,
        "principal_id": m.principal_id,
        "role_ids": m.role_ids,
    });
    if let Some(old) = old_roles {
        details["previous_role_ids"] = old.into();
    }
    audit::record(
        conn,
        AuditEntry::security(event, access.user_id(), target).with_details(details),
    )
    .await?;
    Ok(())
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

fn taken() -> ServiceError {
    invalid(
        "principal",
        "The principal is already a member of this project; change the roles of that membership instead.",
    )
}

fn may_view_members(access: &Access, project: &Project) -> bool {
    access.allowed(project, Permission::ViewMembers)
        || access.allowed(project, Permission::ManageMembers)
}

fn may_manage(access: &Access, project: Option<&Project>) -> bool {
    match project {
        Some(p) => access.allowed(p, Permission::ManageMembers),
        None => access.is_admin(),
    }
}

/// Checks the requested roles: at least one, each existing, each of the
/// kind the membership takes (project roles in a project, global roles
/// without one; the built-in roles of non-members are never assigned).
fn check_roles(all: &[Role], requested: &[i64], global: bool) -> Result<Vec<i64>, ServiceError> {
    let mut out: Vec<i64> = Vec::new();
    for id in requested {
        let role = all
            .iter()
            .find(|r| r.id == *id)
            .ok_or_else(|| invalid("roles", format!("Role {id} does not exist.")))?;
        if role.builtin.is_some() {
            return Err(invalid(
                "roles",
                format!(
                    "The role {:?} is given automatically and cannot be assigned.",
                    role.name
                ),
            ));
        }
        match (global, role.kind.as_str()) {
            (false, "project") | (true, "global") => {}
            (false, _) => {
                return Err(invalid(
                    "roles",
                    format!("The role {:?} is a global role; it cannot be given in a project.", role.name),
                ))
            }
            (true, _) => {
                return Err(invalid(
                    "roles",
                    format!(
                        "The role {:?} is a project role; a membership without a project takes global roles only.",
                        role.name
                    ),
                ))
            }
        }
        if !out.contains(id) {
            out.push(*id);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "roles",
            "Roles need to be assigned: give at least one role.",
        ));
    }
    out.sort_unstable();
    Ok(out)
}

impl Services {
    /// The projects whose memberships the caller may see; `None`: all
    /// memberships (administrators).
    async fn member_project_ids(
        &self,
        conn: &mut Conn,
        access: &Access,
    ) -> Result<Option<Vec<ProjectId>>, ServiceError> {
        if access.is_admin() {
            return Ok(None);
        }
        let mut ids = Vec::new();
        for permission in [Permission::ViewMembers, Permission::ManageMembers] {
            let scope = access.scope(permission);
            if scope.ids.is_empty() && !scope.public {
                continue;
            }
            for p in
                projects::list(conn, &scope, &ProjectFilter::default(), "p.id", ALL_ROWS, 0).await?
            {
                if !ids.contains(&p.id) {
                    ids.push(p.id);
                }
            }
        }
        Ok(Some(ids))
    }

    /// Adds the project, principal and roles to each membership.
    async fn membership_views(
        &self,
        conn: &mut Conn,
        access: &Access,
        list: Vec<Membership>,
    ) -> Result<Vec<MembershipView>, ServiceError> {
        if list.is_empty() {
            return Ok(Vec::new());
        }
        let all_roles = roles::all(conn).await?;
        let mut project_ids: Vec<ProjectId> = list.iter().filter_map(|m| m.project_id).collect();
        project_ids.sort_unstable();
        project_ids.dedup();
        let everything = ProjectScope {
            all: true,
            ..ProjectScope::default()
        };
        let filter = ProjectFilter {
            ids: Some(project_ids.clone()),
            ..ProjectFilter::default()
        };
        let projects: HashMap<ProjectId, Project> =
            projects::list(conn, &everything, &filter, "p.id", ALL_ROWS, 0)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
        let mut principal_ids: Vec<UserId> = list.iter().map(|m| m.principal_id).collect();
        principal_ids.sort_unstable();
        principal_ids.dedup();
        let principals: HashMap<UserId, User> = principals::find_many(conn, &principal_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut out = Vec::with_capacity(list.len());
        for m in list {
            let project = match m.project_id {
                Some(pid) => Some(
                    projects
                        .get(&pid)
                        .cloned()
                        .ok_or(ServiceError::NotFound("project"))?,
                ),
                None => None,
            };
            let principal = principals
                .get(&m.principal_id)
                .cloned()
                .ok_or(ServiceError::NotFound("principal"))?;
            let roles = all_roles
                .iter()
                .filter(|r| m.role_ids.contains(&r.id))
                .cloned()
                .collect();
            let can_manage = may_manage(access, project.as_ref());
            out.push(MembershipView {
                membership: m,
                project,
                principal,
                roles,
                can_manage,
            });
        }
        Ok(out)
    }

    async fn membership_view(
        &self,
        conn: &mut Conn,
        access: &Access,
        m: Membership,
    ) -> Result<MembershipView, ServiceError> {
        self.membership_views(conn, access, vec![m])
            .await?
            .pop()
            .ok_or(ServiceError::NotFound("membership"))
    }

    /// The memberships the caller may see, filtered, a page at a time.
    pub async fn list_memberships(
        &self,
        access: &Access,
        filter: &MembershipFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<MembershipView>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let visible = self.member_project_ids(&mut conn, access).await?;
        let project_ids = match (visible, &filter.project_ids) {
            (None, requested) => requested.clone(),
            (Some(visible), None) => Some(visible),
            (Some(visible), Some(requested)) => Some(
                visible
                    .into_iter()
                    .filter(|id| requested.contains(id))
                    .collect(),
            ),
        };
        let f = MemberFilter {
            project_ids,
            principal_id: filter.principal_id,
        };
        let list = members::list(&mut conn, &f, limit, offset).await?;
        let total = members::count(&mut conn, &f).await?;
        let views = self.membership_views(&mut conn, access, list).await?;
        Ok((views, total))
    }

    /// Finds a membership the caller may see.
    async fn visible_membership(
        &self,
        conn: &mut Conn,
        access: &Access,
        id: i64,
    ) -> Result<MembershipView, ServiceError> {
        let m = members::find(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("membership"))?;
        let view = self.membership_view(conn, access, m).await?;
        let visible = match &view.project {
            Some(p) => may_view_members(access, p),
            None => access.is_admin(),
        };
        if visible {
            Ok(view)
        } else {
            Err(ServiceError::NotFound("membership"))
        }
    }

    pub async fn membership(
        &self,
        access: &Access,
        id: i64,
    ) -> Result<MembershipView, ServiceError> {
        let mut conn = self.db.conn().await?;
        self.visible_membership(&mut conn, access, id).await
    }

    pub async fn create_membership(
        &self,
        access: &Access,
        input: MembershipInput,
    ) -> Result<MembershipView, ServiceError> {
        let mut tx = self.db.begin().await?;
        let project = match input.project_id {
            Some(pid) => Some(
                projects::find(&mut tx, pid)
                    .await?
                    .filter(|p| access.can_see(p))
                    .ok_or_else(|| invalid("project", format!("Project {pid} does not exist.")))?,
            ),
            None => None,
        };
        match &project {
            Some(p) if !access.allowed(p, Permission::ManageMembers) => {
                return Err(ServiceError::Forbidden(
                    "You are not allowed to manage the members of this project.".into(),
                ))
            }
            None if !access.is_admin() => {
                return Err(ServiceError::Forbidden(
                    "Only administrators may give global roles (a membership without a project)."
                        .into(),
                ))
            }
            _ => {}
        }
        let principal_id = input.principal_id.ok_or_else(|| {
            invalid(
                "principal",
                "Principal can't be blank: name a user or a group.",
            )
        })?;
        let principal = users::find(&mut tx, principal_id)
            .await?
            .filter(|u| matches!(u.kind, PrincipalKind::User | PrincipalKind::Group))
            .ok_or_else(|| {
                invalid(
                    "principal",
                    format!("Principal {principal_id} is neither a user nor a group."),
                )
            })?;
        let all_roles = roles::all(&mut tx).await?;
        let role_ids = check_roles(&all_roles, &input.role_ids, project.is_none())?;
        let project_id = project.as_ref().map(|p| p.id);
        if members::find_for(&mut tx, project_id, principal.id)
            .await?
            .is_some()
        {
            return Err(taken());
        }
        let id = members::insert(
            &mut tx,
            project_id,
            principal.id,
            &role_ids,
            Timestamp::now(),
        )
        .await
        .map_err(|e| match e {
            StorageError::Unique(_) => taken(),
            other => other.into(),
        })?;
        let m = members::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("membership"))?;
        audit_membership(
            &mut tx,
            "membership.created",
            access,
            &m,
            principal.kind,
            None,
        )
        .await?;
        let view = self.membership_view(&mut tx, access, m).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Replaces the roles of a membership; `None` changes nothing (a client
    /// that sends the membership back without its links).
    pub async fn update_membership(
        &self,
        access: &Access,
        id: i64,
        role_ids: Option<Vec<i64>>,
    ) -> Result<MembershipView, ServiceError> {
        let mut tx = self.db.begin().await?;
        let view = self.visible_membership(&mut tx, access, id).await?;
        if !view.can_manage {
            return Err(ServiceError::Forbidden(
                "You are not allowed to manage the members of this project.".into(),
            ));
        }
        let Some(requested) = role_ids else {
            return Ok(view);
        };
        let all_roles = roles::all(&mut tx).await?;
        let role_ids = check_roles(&all_roles, &requested, view.project.is_none())?;
        if role_ids == view.membership.role_ids {
            return Ok(view);
        }
        members::set_roles(&mut tx, id, &role_ids, Timestamp::now()).await?;
        let m = members::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("membership"))?;
        audit_membership(
            &mut tx,
            "membership.updated",
            access,
            &m,
            view.principal.kind,
            Some(&view.membership.role_ids),
        )
        .await?;
        let view = self.membership_view(&mut tx, access, m).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub async fn delete_membership(&self, access: &Access, id: i64) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let view = self.visible_membership(&mut tx, access, id).await?;
        if !view.can_manage {
            return Err(ServiceError::Forbidden(
                "You are not allowed to manage the members of this project.".into(),
            ));
        }
        members::delete(&mut tx, id).await?;
        audit_membership(
            &mut tx,
            "membership.deleted",
            access,
            &view.membership,
            view.principal.kind,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::permission::PermissionSet;

    fn role(id: i64, kind: &str, builtin: Option<&str>) -> Role {
        Role {
            id,
            name: format!("r{id}"),
            kind: kind.into(),
            builtin: builtin.map(str::to_string),
            position: id,
            permissions: PermissionSet::EMPTY,
        }
    }

    #[test]
    fn roles_are_checked_by_kind() {
        let all = vec![
            role(1, "project", Some("non_member")),
            role(3, "project", None),
            role(4, "project", None),
            role(6, "global", None),
        ];
        assert_eq!(check_roles(&all, &[4, 3, 4], false).unwrap(), vec![3, 4]);
        assert_eq!(check_roles(&all, &[6], true).unwrap(), vec![6]);
        for (ids, global) in [
            (&[][..], false),
            (&[1][..], false),
            (&[6][..], false),
            (&[3][..], true),
            (&[99][..], false),
        ] {
            let e = check_roles(&all, ids, global).unwrap_err();
            assert!(
                matches!(e, ServiceError::Invalid(ref v) if v.has("roles")),
                "{ids:?}"
            );
        }
    }
}
