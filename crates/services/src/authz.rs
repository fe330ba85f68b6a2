//! Permissions: the one place that decides whether a person may do
//! something in a project. Every endpoint asks [`Access`]; nothing else
//! interprets roles.
//!
//! Rules, as in OpenProject: administrators may do everything. Members of a
//! project have the union of the permissions of their roles there, held
//! directly or through a group. Signed-in people who are not members of a
//! public project get the built-in "Non member" role's permissions there;
//! anonymous visitors get the "Anonymous" role's, and only when the instance
//! allows anonymous access to public projects (off by default). Archived
//! projects are closed to everyone but administrators, and a permission that
//! belongs to a module applies only where the module is enabled.

use std::collections::HashMap;

use steward_domain::permission::{Permission, PermissionSet};
use steward_domain::project::{Project, ProjectId};
use steward_domain::user::{User, UserId};
use steward_storage::projects::ProjectScope;
use steward_storage::{roles, settings};

use crate::audit::{self, AuditEntry};
use crate::{ServiceError, Services};

/// The instance setting that lets anonymous visitors read public projects.
pub const ANONYMOUS_ACCESS: &str = "anonymous_access_public_projects";

/// What one caller may do, loaded once per request.
#[derive(Clone, Debug)]
pub struct Access {
    user_id: Option<UserId>,
    admin: bool,
    /// Permissions per project the caller is a member of.
    member: HashMap<ProjectId, PermissionSet>,
    /// Permissions from global roles.
    global: PermissionSet,
    /// Permissions in public projects the caller is not a member of.
    outsider: PermissionSet,
}

impl Access {
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    pub fn is_member(&self, project: ProjectId) -> bool {
        self.member.contains_key(&project)
    }

    /// The permissions the caller holds in `project`.
    pub fn permissions_in(&self, project: &Project) -> PermissionSet {
        if self.admin {
            return PermissionSet::all();
        }
        if !project.active {
            return PermissionSet::EMPTY;
        }
        let base = match self.member.get(&project.id) {
            Some(p) => *p,
            None if project.public => self.outsider,
            None => PermissionSet::EMPTY,
        };
        base.iter()
            .filter(|p| p.module().is_none_or(|m| project.has_module(m)))
            .fold(PermissionSet::EMPTY, PermissionSet::with)
    }

    pub fn allowed(&self, project: &Project, permission: Permission) -> bool {
        self.permissions_in(project).contains(permission)
    }

    /// May the caller see the project at all?
    pub fn can_see(&self, project: &Project) -> bool {
        self.admin || !self.permissions_in(project).is_empty()
    }

    pub fn allowed_globally(&self, permission: Permission) -> bool {
        self.admin || self.global.contains(permission)
    }

    /// The projects in which the caller holds `permission`, for listings.
    pub fn scope(&self, permission: Permission) -> ProjectScope {
        ProjectScope {
            all: self.admin,
            ids: self
                .member
                .iter()
                .filter(|(_, set)| set.contains(permission))
                .map(|(id, _)| *id)
                .collect(),
            public: self.outsider.contains(permission),
            module: permission.module(),
        }
    }

    /// Any project the caller can see (for project listings).
    pub fn visible_scope(&self) -> ProjectScope {
        ProjectScope {
            all: self.admin,
            ids: self.member.keys().copied().collect(),
            public: !self.outsider.is_empty(),
            module: None,
        }
    }
}

impl Services {
    /// Loads what `user` (or an anonymous visitor) may do.
    pub async fn access(&self, user: Option<&User>) -> Result<Access, ServiceError> {
        let mut conn = self.db.conn().await?;
        let Some(user) = user else {
            let allowed = settings::get(&mut conn, ANONYMOUS_ACCESS)
                .await?
                .is_some_and(|v| v == "true");
            let outsider = if allowed {
                roles::builtin_permissions(&mut conn, "anonymous").await?
            } else {
                PermissionSet::EMPTY
            };
            return Ok(Access {
                user_id: None,
                admin: false,
                member: HashMap::new(),
                global: PermissionSet::EMPTY,
                outsider,
            });
        };
        if user.admin {
            return Ok(Access {
                user_id: Some(user.id),
                admin: true,
                member: HashMap::new(),
                global: PermissionSet::all(),
                outsider: PermissionSet::all(),
            });
        }
        let mut member: HashMap<ProjectId, PermissionSet> = HashMap::new();
        let mut global = PermissionSet::EMPTY;
        for (project, permission) in roles::user_grants(&mut conn, user.id).await? {
            match project {
                Some(p) if !permission.is_global() => {
                    member.entry(p).or_default().insert(permission);
                }
                None if permission.is_global() => global.insert(permission),
                _ => {}
            }
        }
        // A member always sees the project they belong to.
        for set in member.values_mut() {
            set.insert(Permission::ViewProject);
        }
        let outsider = roles::builtin_permissions(&mut conn, "non_member").await?;
        Ok(Access {
            user_id: Some(user.id),
            admin: false,
            member,
            global,
            outsider,
        })
    }

    /// Whether anonymous visitors may read public projects (off unless set).
    pub async fn anonymous_access(&self) -> Result<bool, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(settings::get(&mut conn, ANONYMOUS_ACCESS)
            .await?
            .is_some_and(|v| v == "true"))
    }

    pub async fn set_anonymous_access(&self, allowed: bool) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        settings::set(
            &mut tx,
            ANONYMOUS_ACCESS,
            if allowed { "true" } else { "false" },
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::security("settings.changed", audit::current_actor(), None)
                .with_details(serde_json::json!({ "setting": ANONYMOUS_ACCESS, "value": allowed })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
