//! `/api/v3/versions`: show and create versions, a project's versions,
//! and the projects a version is available in (only its own: versions are
//! not shared).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::date::Date;
use steward_domain::project::Project;
use steward_domain::Timestamp;
use steward_services::versions::VersionInput;
use steward_services::ServiceError;
use steward_storage::lookups::Version;

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::projects::{self, ProjectRepr};
use crate::routes::shared::{
    href_segment, nullable, reader_access, rendering, Formattable, LinkIn, TextIn,
};
use crate::AppState;
use steward_http::markdown::Rendering;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    description: Formattable,
    start_date: Option<Date>,
    end_date: Option<Date>,
    status: String,
    sharing: &'static str,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(rename = "_links")]
    links: VersionLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionLinks {
    #[serde(rename = "self")]
    self_: Link,
    defining_project: Link,
    available_in_projects: Link,
}

pub fn represent(v: &Version, project: &Project, rendering: Rendering) -> VersionRepr {
    let href = format!("/api/v3/versions/{}", v.id);
    VersionRepr {
        kind: "Version",
        id: v.id,
        name: v.name.clone(),
        description: Formattable::markdown(&v.description, rendering),
        start_date: v.start_date,
        end_date: v.due_date,
        status: v.status.clone(),
        sharing: "none",
        created_at: v.created_at,
        updated_at: v.updated_at,
        links: VersionLinks {
            self_: Link::titled(href.clone(), v.name.clone()),
            defining_project: Link::titled(projects::href(project.id), project.name.clone()),
            available_in_projects: Link::new(format!("{href}/projects")),
        },
    }
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<VersionRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let (version, project) = state.services.find_version(&access, parse_id(&id)?).await?;
    Ok(ok(represent(&version, &project, rendering(&state).await?)))
}

/// The projects a version is available in: its defining project.
pub async fn projects(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Hal<Collection<ProjectRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let page = Page::from_query(&q)?;
    let (_, project) = state.services.find_version(&access, id).await?;
    let elements = if page.offset == 1 {
        vec![projects::represent(
            &project,
            &access,
            rendering(&state).await?,
        )]
    } else {
        Vec::new()
    };
    Ok(ok(Collection::new(
        "Collection",
        &format!("/api/v3/versions/{id}/projects"),
        "",
        page,
        1,
        elements,
    )))
}

pub async fn of_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Hal<Collection<VersionRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let (project, versions) = state.services.project_versions(&access, &id).await?;
    let rendering = rendering(&state).await?;
    let elements = versions
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(|v| represent(v, &project, rendering))
        .collect();
    Ok(ok(Collection::new(
        "Collection",
        &format!("/api/v3/projects/{}/versions", project.id),
        "",
        page,
        versions.len() as i64,
        elements,
    )))
}

/// The body of create; unknown properties are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionBody {
    name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    description: Option<Option<TextIn>>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(rename = "_links")]
    links: Option<VersionLinksIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionLinksIn {
    defining_project: Option<LinkIn>,
}

fn date(attribute: &'static str, v: Option<String>) -> Result<Option<Date>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Date::parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::PropertyConstraintViolation {
                attribute,
                message: format!("{s:?} is not a date; write it as YYYY-MM-DD."),
            }),
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<VersionBody>,
) -> Result<Hal<VersionRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let bad_project = |m: String| ApiError::PropertyConstraintViolation {
        attribute: "definingProject",
        message: m,
    };
    let href = body
        .links
        .as_ref()
        .and_then(|l| l.defining_project.as_ref())
        .and_then(LinkIn::target)
        .map(str::to_string);
    let project_id = match href {
        None => None,
        Some(href) => {
            let segment = href_segment(&href, "projects").ok_or_else(|| {
                bad_project(format!(
                    "The defining project {href:?} is not a link to a project, such as /api/v3/projects/5."
                ))
            })?;
            match segment.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => match state.services.project(&access, segment).await {
                    Ok(p) => Some(p.id),
                    Err(ServiceError::NotFound(_)) => {
                        return Err(bad_project(format!("Project {segment:?} does not exist.")))
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
    };
    let input = VersionInput {
        project_id,
        name: body.name,
        description: body
            .description
            .map(|d| d.map(TextIn::into_raw).unwrap_or_default()),
        status: body.status,
        start_date: date("startDate", body.start_date)?,
        due_date: date("endDate", body.end_date)?,
    };
    let (version, project) = state.services.create_version(&access, input).await?;
    Ok(Hal(
        StatusCode::CREATED,
        represent(&version, &project, rendering(&state).await?),
    ))
}
