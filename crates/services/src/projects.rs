//! Projects: find, list, create, change, archive and delete, each asking
//! [`Access`] first. A project the caller may not see is "not found".

use steward_domain::permission::{Permission, MODULES};
use steward_domain::project::{self, Project, ProjectId};
use steward_domain::{Timestamp, ValidationError, ValidationErrors};
use steward_storage::projects::{self, NewProject, ProjectChanges, ProjectFilter};
use steward_storage::{members, roles, Conn, StorageError};

use crate::authz::Access;
use crate::error::gather;
use crate::{ServiceError, Services};

/// Modules a new project gets when none are named.
pub const DEFAULT_MODULES: &[&str] = &["work_package_tracking"];

/// The role a creator who is not an administrator gets in their new project.
pub const CREATOR_ROLE: &str = "Project admin";

#[derive(Clone, Debug, Default)]
pub struct ProjectInput {
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub active: Option<bool>,
    /// `Some(None)`: no parent.
    pub parent_id: Option<Option<ProjectId>>,
    pub modules: Option<Vec<String>>,
}

fn project_uniqueness(e: StorageError) -> ServiceError {
    match &e {
        StorageError::Unique(what) if what.contains("identifier") => {
            ValidationError::new("identifier", "Identifier has already been taken.").into()
        }
        _ => e.into(),
    }
}

fn validate_modules(modules: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for m in modules {
        if !MODULES.contains(&m.as_str()) {
            return Err(ValidationError::new(
                "enabledModules",
                format!(
                    "Module {m:?} does not exist; known modules: {}.",
                    MODULES.join(", ")
                ),
            )
            .into());
        }
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    Ok(out)
}

impl Services {
    /// A project by id or identifier, if the caller may see it.
    pub async fn project(&self, access: &Access, reference: &str) -> Result<Project, ServiceError> {
        let mut conn = self.db.conn().await?;
        let found = match reference.parse::<ProjectId>() {
            Ok(id) => projects::find(&mut conn, id).await?,
            Err(_) => projects::find_by_identifier(&mut conn, reference).await?,
        };
        found
            .filter(|p| access.can_see(p))
            .ok_or(ServiceError::NotFound("project"))
    }

    pub async fn list_projects(
        &self,
        access: &Access,
        filter: &ProjectFilter,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Project>, i64), ServiceError> {
        let scope = access.visible_scope();
        let mut conn = self.db.conn().await?;
        let list = projects::list(&mut conn, &scope, filter, order, limit, offset).await?;
        let total = projects::count(&mut conn, &scope, filter).await?;
        Ok((list, total))
    }

    pub async fn create_project(
        &self,
        access: &Access,
        input: ProjectInput,
    ) -> Result<Project, ServiceError> {
        if !access.allowed_globally(Permission::AddProject) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to create projects.".into(),
            ));
        }
        // Every field is checked and every refusal reported together.
        let mut errors = ValidationErrors::new();
        let name = errors.check(project::validate_name(input.name.as_deref().unwrap_or("")));
        let identifier = match input.identifier {
            Some(i) => errors.check(project::validate_identifier(&i)),
            // Made from the name: a refused name says what is wrong.
            None => name.as_deref().and_then(|n| {
                errors.check(project::validate_identifier(
                    &project::identifier_from_name(n),
                ))
            }),
        };
        let modules = match input.modules {
            Some(m) => gather(&mut errors, validate_modules(&m))?,
            None => Some(DEFAULT_MODULES.iter().map(ToString::to_string).collect()),
        };
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        let parent_id = input.parent_id.flatten();
        if let Some(pid) = parent_id {
            gather(
                &mut errors,
                self.check_parent(&mut tx, access, None, pid).await,
            )?;
        }
        errors.finish()?;
        let (Some(name), Some(identifier), Some(modules)) = (name, identifier, modules) else {
            return Err(ServiceError::Internal(
                "a project check refused without a reason".into(),
            ));
        };
        let id = projects::insert(
            &mut tx,
            &NewProject {
                identifier: &identifier,
                name: &name,
                description: input.description.as_deref().unwrap_or(""),
                public: input.public.unwrap_or(false),
                parent_id,
                modules: &modules,
            },
            now,
        )
        .await
        .map_err(project_uniqueness)?;
        if !access.is_admin() {
            if let Some(uid) = access.user_id() {
                let role = roles::all(&mut tx)
                    .await?
                    .into_iter()
                    .find(|r| r.name == CREATOR_ROLE)
                    .ok_or_else(|| {
                        ServiceError::Conflict(format!("The role {CREATOR_ROLE:?} is missing."))
                    })?;
                members::insert(&mut tx, Some(id), uid, &[role.id], now).await?;
            }
        }
        let project = projects::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("project"))?;
        tx.commit().await?;
        Ok(project)
    }

    /// The parent must exist, be visible with edit rights, and not be the
    /// project itself or one of its descendants.
    async fn check_parent(
        &self,
        conn: &mut Conn,
        access: &Access,
        project: Option<ProjectId>,
        parent: ProjectId,
    ) -> Result<(), ServiceError> {
        let invalid =
            |m: &str| -> ServiceError { ValidationError::new("parent", m.to_string()).into() };
        let p = projects::find(conn, parent)
            .await?
            .filter(|p| access.can_see(p))
            .ok_or_else(|| invalid("The parent project does not exist."))?;
        if !access.is_admin() && !access.allowed(&p, Permission::EditProject) {
            return Err(invalid(
                "You may not add subprojects to the parent project.",
            ));
        }
        if let Some(id) = project {
            if projects::subtree(conn, id).await?.contains(&parent) {
                return Err(invalid(
                    "A project cannot be its own parent or the child of one of its subprojects.",
                ));
            }
        }
        Ok(())
    }

    pub async fn update_project(
        &self,
        access: &Access,
        reference: &str,
        input: ProjectInput,
    ) -> Result<Project, ServiceError> {
        let current = self.project(access, reference).await?;
        let wants_archive_change = input.active.is_some_and(|a| a != current.active);
        if wants_archive_change {
            let may = if current.active {
                access.allowed(&current, Permission::ArchiveProject)
            } else {
                access.is_admin()
            };
            if !may {
                return Err(ServiceError::Forbidden(
                    "You are not allowed to archive or unarchive this project.".into(),
                ));
            }
        }
        let other_changes = input.identifier.is_some()
            || input.name.is_some()
            || input.description.is_some()
            || input.public.is_some()
            || input.parent_id.is_some()
            || input.modules.is_some();
        if other_changes && !access.allowed(&current, Permission::EditProject) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to edit this project.".into(),
            ));
        }
        if input.modules.is_some() && !access.allowed(&current, Permission::SelectProjectModules) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to change this project's modules.".into(),
            ));
        }
        let mut errors = ValidationErrors::new();
        let changes = ProjectChanges {
            identifier: input
                .identifier
                .and_then(|i| errors.check(project::validate_identifier(&i))),
            name: input
                .name
                .and_then(|n| errors.check(project::validate_name(&n))),
            description: input.description,
            public: input.public,
            active: input.active,
            parent_id: input.parent_id,
        };
        let modules = match input.modules {
            Some(m) => gather(&mut errors, validate_modules(&m))?,
            None => None,
        };
        let mut tx = self.db.begin().await?;
        if let Some(Some(parent)) = changes.parent_id {
            gather(
                &mut errors,
                self.check_parent(&mut tx, access, Some(current.id), parent)
                    .await,
            )?;
        }
        errors.finish()?;
        projects::update(&mut tx, current.id, &changes, Timestamp::now())
            .await
            .map_err(project_uniqueness)?;
        if let Some(m) = modules {
            projects::set_modules(&mut tx, current.id, &m).await?;
        }
        let project = projects::find(&mut tx, current.id)
            .await?
            .ok_or(ServiceError::NotFound("project"))?;
        tx.commit().await?;
        Ok(project)
    }

    /// Deletes a project with its subprojects and everything in them.
    /// Administrators only.
    pub async fn delete_project(
        &self,
        access: &Access,
        reference: &str,
    ) -> Result<(), ServiceError> {
        let project = self.project(access, reference).await?;
        if !access.is_admin() {
            return Err(ServiceError::Forbidden(
                "Only administrators may delete projects.".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        let ids = projects::subtree(&mut tx, project.id).await?;
        projects::delete_many(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(())
    }
}
