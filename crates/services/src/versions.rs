//! Versions: the milestones a project plans its work packages into. Seeing
//! a project's versions needs `view_work_packages` or `manage_versions`
//! there; creating one needs `manage_versions`.

use steward_domain::date::Date;
use steward_domain::permission::Permission;
use steward_domain::project::{Project, ProjectId};
use steward_domain::{Timestamp, ValidationError, ValidationErrors};
use steward_storage::lookups::{self, NewVersion, Version};
use steward_storage::{projects, StorageError};

use crate::authz::Access;
use crate::{ServiceError, Services};

pub const STATUSES: &[&str] = &["open", "locked", "closed"];
pub const NAME_MAX: usize = 255;

/// A new version, as the caller asked for it (dates already parsed).
#[derive(Clone, Debug, Default)]
pub struct VersionInput {
    pub project_id: Option<ProjectId>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<Date>,
    pub due_date: Option<Date>,
}

fn may_see_versions(access: &Access, project: &Project) -> bool {
    access.allowed(project, Permission::ViewWorkPackages)
        || access.allowed(project, Permission::ManageVersions)
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

impl Services {
    /// A version with its project, if the caller may see it.
    pub async fn find_version(
        &self,
        access: &Access,
        id: i64,
    ) -> Result<(Version, Project), ServiceError> {
        let mut conn = self.db.conn().await?;
        let version = lookups::version(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("version"))?;
        let project = projects::find(&mut conn, version.project_id)
            .await?
            .filter(|p| may_see_versions(access, p))
            .ok_or(ServiceError::NotFound("version"))?;
        Ok((version, project))
    }

    /// The versions of a project (by id or identifier) the caller may see.
    pub async fn project_versions(
        &self,
        access: &Access,
        reference: &str,
    ) -> Result<(Project, Vec<Version>), ServiceError> {
        let project = self.project(access, reference).await?;
        if !may_see_versions(access, &project) {
            return Err(ServiceError::NotFound("project"));
        }
        let mut conn = self.db.conn().await?;
        let versions = lookups::versions_of(&mut conn, &[project.id]).await?;
        Ok((project, versions))
    }

    pub async fn create_version(
        &self,
        access: &Access,
        input: VersionInput,
    ) -> Result<(Version, Project), ServiceError> {
        let project_id = input
            .project_id
            .ok_or_else(|| invalid("definingProject", "Defining project can't be blank."))?;
        let mut tx = self.db.begin().await?;
        let project = projects::find(&mut tx, project_id)
            .await?
            .filter(|p| access.can_see(p))
            .ok_or_else(|| {
                invalid(
                    "definingProject",
                    format!("Project {project_id} does not exist."),
                )
            })?;
        if !access.allowed(&project, Permission::ManageVersions) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to manage the versions of this project.".into(),
            ));
        }
        // Every field is checked and every refusal reported together.
        let mut errors = ValidationErrors::new();
        let name = input.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            errors.add("name", "Name can't be blank.");
        } else if name.chars().count() > NAME_MAX {
            errors.add(
                "name",
                format!("Name is too long (maximum is {NAME_MAX} characters)."),
            );
        }
        let status = input.status.as_deref().map(str::trim).unwrap_or("open");
        if !STATUSES.contains(&status) {
            errors.add(
                "status",
                format!("Status {status:?} is not one of {}.", STATUSES.join(", ")),
            );
        }
        if let (Some(start), Some(due)) = (input.start_date, input.due_date) {
            if due < start {
                errors.add(
                    "endDate",
                    "The finish date must not be before the start date.",
                );
            }
        }
        errors.finish()?;
        let id = lookups::insert_version(
            &mut tx,
            &NewVersion {
                project_id: project.id,
                name,
                description: input.description.as_deref().unwrap_or(""),
                status,
                start_date: input.start_date,
                due_date: input.due_date,
            },
            Timestamp::now(),
        )
        .await
        .map_err(|e| match e {
            StorageError::Unique(_) => {
                invalid("name", "Name has already been taken in this project.")
            }
            other => other.into(),
        })?;
        let version = lookups::version(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("version"))?;
        tx.commit().await?;
        Ok((version, project))
    }
}
