//! `/api/v3/priorities`: the priorities a work package can have. Creating,
//! changing and deleting them is for administrators (a Steward extension).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_services::lookups::PriorityInput;
use steward_storage::lookups::Priority;

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::reader_access;
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    position: i64,
    color: &'static str,
    is_default: bool,
    is_active: bool,
    #[serde(rename = "_links")]
    links: PriorityLinks,
}

#[derive(Serialize)]
pub struct PriorityLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub fn represent(p: &Priority) -> PriorityRepr {
    PriorityRepr {
        kind: "Priority",
        id: p.id,
        name: p.name.clone(),
        position: p.position,
        color: "",
        is_default: p.is_default,
        is_active: p.active,
        links: PriorityLinks {
            self_: Link::titled(format!("/api/v3/priorities/{}", p.id), p.name.clone()),
        },
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<PriorityRepr>>, ApiError> {
    reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let all = state.services.list_priorities().await?;
    let elements = all
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(represent)
        .collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/priorities",
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
) -> Result<Hal<PriorityRepr>, ApiError> {
    reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let all = state.services.list_priorities().await?;
    let priority = all
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(represent(priority)))
}

/// The body of create and update; absent properties stay as they are (or
/// take their defaults on create). Others (`_type`, `_links`, `color`) are
/// ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PriorityBody {
    name: Option<String>,
    is_default: Option<bool>,
    is_active: Option<bool>,
    position: Option<i64>,
}

impl From<PriorityBody> for PriorityInput {
    fn from(b: PriorityBody) -> Self {
        PriorityInput {
            name: b.name,
            is_default: b.is_default,
            is_active: b.is_active,
            position: b.position,
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<PriorityBody>,
) -> Result<Hal<PriorityRepr>, ApiError> {
    let access = state.services.access(Some(&admin.user)).await?;
    let p = state.services.create_priority(&access, body.into()).await?;
    Ok(Hal(StatusCode::CREATED, represent(&p)))
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<PriorityBody>,
) -> Result<Hal<PriorityRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    let p = state
        .services
        .update_priority(&access, id, body.into())
        .await?;
    Ok(ok(represent(&p)))
}

/// Refused (409) for the default priority and for one a work package uses.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    state.services.delete_priority(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
