//! `/api/v3/priorities`: the priorities a work package can have.

use axum::extract::{Path, State};
use serde::Serialize;
use steward_storage::lookups::Priority;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{parse_id, QueryParams};
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
