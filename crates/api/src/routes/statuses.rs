//! `/api/v3/statuses`: the statuses a work package can be in. Creating,
//! changing and deleting them is for administrators (a Steward extension).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_services::lookups::StatusInput;
use steward_storage::lookups::Status;

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::{nullable, reader_access};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    is_closed: bool,
    is_default: bool,
    is_readonly: bool,
    color: String,
    position: i64,
    #[serde(rename = "_links")]
    links: StatusLinks,
}

#[derive(Serialize)]
pub struct StatusLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub fn represent(s: &Status) -> StatusRepr {
    StatusRepr {
        kind: "Status",
        id: s.id,
        name: s.name.clone(),
        is_closed: s.is_closed,
        is_default: s.is_default,
        is_readonly: false,
        color: s.color.clone(),
        position: s.position,
        links: StatusLinks {
            self_: Link::titled(format!("/api/v3/statuses/{}", s.id), s.name.clone()),
        },
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<StatusRepr>>, ApiError> {
    reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let all = state.services.list_statuses().await?;
    let elements = all
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(represent)
        .collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/statuses",
        "",
        page,
        all.len() as i64,
        elements,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<StatusRepr>, ApiError> {
    reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let all = state.services.list_statuses().await?;
    let status = all
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(represent(status)))
}

/// The body of create and update; absent properties stay as they are (or
/// take their defaults on create). Others (`_type`, `_links`, `isReadonly`)
/// are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusBody {
    name: Option<String>,
    is_closed: Option<bool>,
    is_default: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    color: Option<Option<String>>,
    position: Option<i64>,
}

impl From<StatusBody> for StatusInput {
    fn from(b: StatusBody) -> Self {
        StatusInput {
            name: b.name,
            is_closed: b.is_closed,
            is_default: b.is_default,
            color: b.color,
            position: b.position,
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Hal<StatusRepr>, ApiError> {
    let access = state.services.access(Some(&admin.user)).await?;
    let status = state.services.create_status(&access, body.into()).await?;
    Ok(Hal(StatusCode::CREATED, represent(&status)))
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Hal<StatusRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    let status = state
        .services
        .update_status(&access, id, body.into())
        .await?;
    Ok(ok(represent(&status)))
}

/// Refused (409) for the default status and for one a work package uses.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    state.services.delete_status(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
