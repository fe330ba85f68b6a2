//! `/api/v3/statuses`: the statuses a work package can be in.

use axum::extract::{Path, State};
use serde::Serialize;
use steward_storage::lookups::Status;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{parse_id, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::reader_access;
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
