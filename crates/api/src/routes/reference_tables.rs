//! The handlers that `/api/v3/statuses`, `/api/v3/types` and
//! `/api/v3/priorities` share: the three tables are listed, shown, created,
//! changed and deleted in the same way, and differ only in their columns
//! (see [`ReferenceResource`], implemented in each resource's module).
//! Reading is for whoever may use the instance; the rest is for
//! administrators (a Steward extension).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use steward_services::lookups::{ReferenceInput, ReferenceTable};

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Page};
use crate::routes::shared::reader_access;
use crate::AppState;

/// How one reference table appears in the API.
pub trait ReferenceResource: ReferenceTable {
    type Repr: Serialize + Send;
    /// The body of create and update; absent properties stay as they are
    /// (or take their defaults on create).
    type Body: DeserializeOwned + Into<ReferenceInput<Self::Own>> + Send;
    /// The collection's path, `/api/v3/…`.
    const PATH: &'static str;

    fn represent(&self) -> Self::Repr;
}

/// A page of `all`, linked from `base`.
pub fn collection<T: ReferenceResource>(
    base: &str,
    q: &QueryParams,
    all: &[T],
) -> Result<Collection<T::Repr>, ApiError> {
    let page = Page::from_query(q)?;
    let elements = all
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(T::represent)
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

pub async fn list<T: ReferenceResource>(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<T::Repr>>, ApiError> {
    reader_access(&state, &caller).await?;
    let all = state.services.list_reference::<T>().await?;
    Ok(ok(collection(T::PATH, &q, &all)?))
}

pub async fn show<T: ReferenceResource>(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<T::Repr>, ApiError> {
    reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let all = state.services.list_reference::<T>().await?;
    let row = all
        .iter()
        .find(|r| r.id() == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(row.represent()))
}

pub async fn create<T: ReferenceResource>(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<T::Body>,
) -> Result<Hal<T::Repr>, ApiError> {
    let access = state.services.access(Some(&admin.user)).await?;
    let row = state
        .services
        .create_reference::<T>(&access, body.into())
        .await?;
    Ok(Hal(StatusCode::CREATED, row.represent()))
}

pub async fn update<T: ReferenceResource>(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<T::Body>,
) -> Result<Hal<T::Repr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    let row = state
        .services
        .update_reference::<T>(&access, id, body.into())
        .await?;
    Ok(ok(row.represent()))
}

/// Refused (409) for the default row and for one a work package uses.
pub async fn delete<T: ReferenceResource>(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    state.services.delete_reference::<T>(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
