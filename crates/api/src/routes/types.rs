//! `/api/v3/types` and `/api/v3/projects/{id}/types`: the kinds of work
//! package. Every type is available in every project. Creating, changing
//! and deleting types is for administrators (a Steward extension).

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use steward_services::lookups::{TypeFields, TypeInput};
use steward_storage::lookups::WpType;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::hal::{ok, Collection, Hal, Link};
use crate::routes::reference_tables::{collection, ReferenceResource};
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

impl ReferenceResource for WpType {
    type Repr = TypeRepr;
    type Body = TypeBody;
    const PATH: &'static str = "/api/v3/types";

    fn represent(&self) -> TypeRepr {
        TypeRepr {
            kind: "Type",
            id: self.id,
            name: self.name.clone(),
            color: self.color.clone(),
            position: self.position,
            is_default: self.is_default,
            is_milestone: self.is_milestone,
            links: TypeLinks {
                self_: Link::titled(format!("{}/{}", Self::PATH, self.id), self.name.clone()),
            },
        }
    }
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
    let all = state.services.list_reference::<WpType>().await?;
    let base = format!("/api/v3/projects/{}/types", project.id);
    Ok(ok(collection(&base, &q, &all)?))
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
            is_default: b.is_default,
            position: b.position,
            own: TypeFields {
                is_milestone: b.is_milestone,
                color: b.color,
            },
        }
    }
}
