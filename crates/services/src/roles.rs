//! Administration of roles: creating them, renaming them, choosing their
//! permissions and deleting them. Only administrators do this, as in
//! OpenProject.
//!
//! Rules: names are required, trimmed and unique without case. A role is a
//! project role (given in projects) or a global role (given without a
//! project), fixed when it is created; a project role holds only project
//! permissions and a global role only global ones. The built-in roles of
//! non-members and anonymous visitors keep their names and cannot be
//! deleted, but their permissions can be chosen. Neither can the role
//! people who create a project receive there ([`CREATOR_ROLE`]), which is
//! found by its name. A role that a membership holds cannot be deleted.
//!
//! Permissions are read from the database on every request ([`Access`] is
//! loaded per request), and cached work package totals are keyed by the
//! caller's project scope, so a change here takes effect on the next
//! request without invalidating anything.

use std::collections::HashMap;

use steward_domain::permission::{Permission, PermissionSet};
use steward_domain::ValidationError;
use steward_storage::roles::{self, Role};
use steward_storage::{Conn, StorageError};

use crate::audit::{self, AuditEntry};
use crate::authz::Access;
use crate::lookups::checked_name;
use crate::projects::CREATOR_ROLE;
use crate::{ServiceError, Services};

/// The two kinds of role.
pub const KINDS: &[&str] = &["project", "global"];

/// A new role or a change to one; `None` leaves a field as it is. The kind
/// is only read when a role is created.
#[derive(Clone, Debug, Default)]
pub struct RoleInput {
    pub name: Option<String>,
    /// `project` or `global`.
    pub kind: Option<String>,
    /// Permission names, as in the database and the API.
    pub permissions: Option<Vec<String>>,
}

/// A role and how many memberships hold it.
#[derive(Clone, Debug)]
pub struct RoleUsage {
    pub role: Role,
    pub memberships: i64,
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

fn admins_only() -> ServiceError {
    ServiceError::Forbidden("Only administrators may manage roles.".into())
}

fn checked_kind(raw: Option<&str>) -> Result<&'static str, ServiceError> {
    let v = raw.unwrap_or("").trim();
    KINDS.iter().copied().find(|k| *k == v).ok_or_else(|| {
        invalid(
            "kind",
            "Kind must be \"project\" (given in projects) or \"global\" (given without a project).",
        )
    })
}

/// The permissions named, each known and of the role's kind.
fn checked_permissions(names: &[String], kind: &str) -> Result<PermissionSet, ServiceError> {
    let global = kind == "global";
    let mut set = PermissionSet::EMPTY;
    for raw in names {
        let name = raw.trim();
        let p = Permission::parse(name).ok_or_else(|| {
            invalid(
                "permissions",
                format!("{name:?} is not a permission Steward knows."),
            )
        })?;
        if p.is_global() != global {
            return Err(invalid(
                "permissions",
                if global {
                    format!("The permission {name:?} applies in projects; a global role cannot hold it.")
                } else {
                    format!("The permission {name:?} is global; a project role cannot hold it.")
                },
            ));
        }
        set.insert(p);
    }
    Ok(set)
}

fn others(all: &[Role]) -> impl Iterator<Item = (i64, &str)> {
    all.iter().map(|r| (r.id, r.name.as_str()))
}

fn unique_to_name(e: StorageError) -> ServiceError {
    match e {
        StorageError::Unique(_) => invalid("name", "Name has already been taken."),
        other => other.into(),
    }
}

/// A role change, audited: ids and permission names only. The target is
/// the role (in the details); no person is the target.
async fn audit_role(
    conn: &mut Conn,
    event: &str,
    access: &Access,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    audit::record(
        conn,
        AuditEntry::security(event, access.user_id(), None).with_details(details),
    )
    .await?;
    Ok(())
}

fn names(set: PermissionSet) -> Vec<&'static str> {
    set.iter().map(Permission::name).collect()
}

async fn find_role(conn: &mut Conn, id: i64) -> Result<Role, ServiceError> {
    roles::find(conn, id)
        .await?
        .ok_or(ServiceError::NotFound("role"))
}

impl Services {
    /// Every role with the number of memberships holding it, by position.
    pub async fn role_usages(&self, access: &Access) -> Result<Vec<RoleUsage>, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only());
        }
        let mut conn = self.db.conn().await?;
        let counts: HashMap<i64, i64> = roles::membership_counts(&mut conn)
            .await?
            .into_iter()
            .collect();
        Ok(roles::all(&mut conn)
            .await?
            .into_iter()
            .map(|role| RoleUsage {
                memberships: counts.get(&role.id).copied().unwrap_or(0),
                role,
            })
            .collect())
    }

    /// One role with the number of memberships holding it.
    pub async fn role_usage(&self, access: &Access, id: i64) -> Result<RoleUsage, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only());
        }
        let mut conn = self.db.conn().await?;
        let role = find_role(&mut conn, id).await?;
        let memberships = roles::membership_count(&mut conn, id).await?;
        Ok(RoleUsage { role, memberships })
    }

    pub async fn create_role(
        &self,
        access: &Access,
        input: RoleInput,
    ) -> Result<Role, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only());
        }
        let mut tx = self.db.begin().await?;
        let all = roles::all(&mut tx).await?;
        let name = checked_name(input.name.as_deref().unwrap_or(""), others(&all), None)?;
        let kind = checked_kind(input.kind.as_deref())?;
        let permissions = checked_permissions(input.permissions.as_deref().unwrap_or(&[]), kind)?;
        let position = roles::next_position(&mut tx).await?;
        let id = roles::insert(&mut tx, &name, kind, position, permissions)
            .await
            .map_err(unique_to_name)?;
        audit_role(
            &mut tx,
            "role.created",
            access,
            serde_json::json!({
                "role_id": id,
                "kind": kind,
                "permissions": names(permissions),
            }),
        )
        .await?;
        let role = find_role(&mut tx, id).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Renames a role and/or replaces its permissions.
    pub async fn update_role(
        &self,
        access: &Access,
        id: i64,
        input: RoleInput,
    ) -> Result<Role, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only());
        }
        let mut tx = self.db.begin().await?;
        let all = roles::all(&mut tx).await?;
        let current = all
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("role"))?;
        let name = match &input.name {
            Some(raw) => {
                let name = checked_name(raw, others(&all), Some(id))?;
                if current.builtin.is_some() && name != current.name {
                    return Err(invalid(
                        "name",
                        format!(
                            "{:?} is a built-in role and keeps its name; only its permissions can be changed.",
                            current.name
                        ),
                    ));
                }
                if current.name == CREATOR_ROLE && name != current.name {
                    return Err(invalid(
                        "name",
                        format!(
                            "{CREATOR_ROLE:?} is the role people get in the projects they create and keeps its name."
                        ),
                    ));
                }
                name
            }
            None => current.name.clone(),
        };
        let permissions = match &input.permissions {
            Some(list) => checked_permissions(list, &current.kind)?,
            None => current.permissions,
        };
        if name == current.name && permissions == current.permissions {
            return Ok(current);
        }
        roles::update(&mut tx, id, &name, permissions)
            .await
            .map_err(unique_to_name)?;
        audit_role(
            &mut tx,
            "role.updated",
            access,
            serde_json::json!({
                "role_id": id,
                "renamed": name != current.name,
                "permissions": names(permissions),
                "previous_permissions": names(current.permissions),
            }),
        )
        .await?;
        let role = find_role(&mut tx, id).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Refused for the built-in roles and for a role a membership holds.
    pub async fn delete_role(&self, access: &Access, id: i64) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only());
        }
        let mut tx = self.db.begin().await?;
        let role = find_role(&mut tx, id).await?;
        if role.builtin.is_some() {
            return Err(ServiceError::Conflict(format!(
                "The role {:?} is built in and cannot be deleted.",
                role.name
            )));
        }
        if role.name == CREATOR_ROLE {
            return Err(ServiceError::Conflict(format!(
                "The role {CREATOR_ROLE:?} is the role people get in the projects they create and cannot be deleted."
            )));
        }
        let used = roles::membership_count(&mut tx, id).await?;
        if used > 0 {
            let memberships = if used == 1 {
                "1 membership uses it".to_string()
            } else {
                format!("{used} memberships use it")
            };
            return Err(ServiceError::Conflict(format!(
                "The role {:?} cannot be deleted: {memberships}. Give those members other roles first.",
                role.name
            )));
        }
        roles::delete(&mut tx, id).await?;
        audit_role(
            &mut tx,
            "role.deleted",
            access,
            serde_json::json!({ "role_id": id, "kind": role.kind }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    fn attribute(e: ServiceError) -> &'static str {
        match e {
            ServiceError::Invalid(v) => v.first().map_or("", |e| e.attribute),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(checked_kind(Some(" global ")).unwrap(), "global");
        assert_eq!(checked_kind(Some("project")).unwrap(), "project");
        for bad in [None, Some(""), Some("system"), Some("Project")] {
            assert_eq!(attribute(checked_kind(bad).unwrap_err()), "kind", "{bad:?}");
        }
    }

    #[test]
    fn permissions_fit_the_kind() {
        let set =
            checked_permissions(&list(&["view_work_packages", "view_project"]), "project").unwrap();
        assert!(
            set.contains(Permission::ViewWorkPackages) && set.contains(Permission::ViewProject)
        );
        assert_eq!(set.iter().count(), 2);
        assert!(checked_permissions(&[], "global").unwrap().is_empty());
        assert!(checked_permissions(&list(&["add_project"]), "global")
            .unwrap()
            .contains(Permission::AddProject));
        for (names, kind) in [
            (&["add_project"][..], "project"),
            (&["view_work_packages"][..], "global"),
            (&["fly"][..], "project"),
        ] {
            assert_eq!(
                attribute(checked_permissions(&list(names), kind).unwrap_err()),
                "permissions",
                "{names:?} {kind}"
            );
        }
    }
}
