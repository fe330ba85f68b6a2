//! `/api/v3/types` and `/api/v3/projects/{id}/types`: the kinds of work
//! package. Every type is available in every project. Creating, changing
//! and deleting types is for administrators (a Steward extension).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_services::lookups::TypeInput;
use steward_storage::lookups::WpType;

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::{nullable, reader_access};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    color: String,
    position: i64,
    is_default: bool,
    is_milestone: bool,
    #[serde(rename = "_links")]
    links: TypeLinks,
}

#[derive(Serialize)]
pub struct TypeLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub fn represent(t: &WpType) -> TypeRepr {
    TypeRepr {
        kind: "Type",
        id: t.id,
        name: t.name.clone(),
        color: t.color.clone(),
        position: t.position,
        is_default: t.is_default,
        is_milestone: t.is_milestone,
        links: TypeLinks {
            self_: Link::titled(format!("/api/v3/types/{}", t.id), t.name.clone()),
        },
    }
}

fn collection(
    base: &str,
    q: &QueryParams,
    all: &[WpType],
) -> Result<Collection<TypeRepr>, ApiError> {
    let page = Page::from_query(q)?;
    let elements = all
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(represent)
        .collect();
    Ok(Collection::new(
        "Collection",
        base,
        "",
        page,
        all.len() as i64,
        elements,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<TypeRepr>>, ApiError> {
    reader_access(&state, &caller).await?;
    let all = state.services.list_types().await?;
    Ok(ok(collection("/api/v3/types", &q, &all)?))
}

/// The types of a project the caller can see.
pub async fn of_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Hal<Collection<TypeRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let project = state.services.project(&access, &id).await?;
    let all = state.services.list_types().await?;
    let base = format!("/api/v3/projects/{}/types", project.id);
    Ok(ok(collection(&base, &q, &all)?))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<TypeRepr>, ApiError> {
    reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let all = state.services.list_types().await?;
    let t = all
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(represent(t)))
}

/// The body of create and update; absent properties stay as they are (or
/// take their defaults on create). Others (`_type`, `_links`) are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TypeBody {
    name: Option<String>,
    is_milestone: Option<bool>,
    is_default: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    color: Option<Option<String>>,
    position: Option<i64>,
}

impl From<TypeBody> for TypeInput {
    fn from(b: TypeBody) -> Self {
        TypeInput {
            name: b.name,
            is_milestone: b.is_milestone,
            is_default: b.is_default,
            color: b.color,
            position: b.position,
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<TypeBody>,
) -> Result<Hal<TypeRepr>, ApiError> {
    let access = state.services.access(Some(&admin.user)).await?;
    let t = state.services.create_type(&access, body.into()).await?;
    Ok(Hal(StatusCode::CREATED, represent(&t)))
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<TypeBody>,
) -> Result<Hal<TypeRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    let t = state.services.update_type(&access, id, body.into()).await?;
    Ok(ok(represent(&t)))
}

/// Refused (409) for the default type and for one a work package uses.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    state.services.delete_type(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
