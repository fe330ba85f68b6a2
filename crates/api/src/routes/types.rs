//! `/api/v3/types` and `/api/v3/projects/{id}/types`: the kinds of work
//! package. Every type is available in every project.

use axum::extract::{Path, State};
use serde::Serialize;
use steward_storage::lookups::WpType;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{parse_id, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::reader_access;
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
