//! `/api/v3/groups/{id}`: a group the caller may see, with its members.

use axum::extract::{Path, State};
use serde::Serialize;
use steward_domain::user::User;
use steward_domain::Timestamp;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::parse_id;
use crate::hal::{ok, Hal, Link};
use crate::routes::shared::{encode, reader_access};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(rename = "_links")]
    links: GroupLinks,
}

#[derive(Serialize)]
pub struct GroupLinks {
    #[serde(rename = "self")]
    self_: Link,
    memberships: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<Link>>,
}

/// The group; `members` only when they were loaded.
pub fn represent(g: &User, members: Option<&[User]>) -> GroupRepr {
    let filters = format!(
        r#"[{{"principal":{{"operator":"=","values":["{}"]}}}}]"#,
        g.id
    );
    GroupRepr {
        kind: "Group",
        id: g.id,
        name: g.name(),
        created_at: g.created_at,
        updated_at: g.updated_at,
        links: GroupLinks {
            self_: Link::titled(format!("/api/v3/groups/{}", g.id), g.name()),
            memberships: Link::titled(
                format!("/api/v3/memberships?filters={}", encode(&filters)),
                "Memberships",
            ),
            members: members.map(|list| {
                list.iter()
                    .map(|u| Link::titled(format!("/api/v3/users/{}", u.id), u.name()))
                    .collect()
            }),
        },
    }
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<GroupRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let (group, members) = state.services.group(&access, parse_id(&id)?).await?;
    Ok(ok(represent(&group, Some(&members))))
}
