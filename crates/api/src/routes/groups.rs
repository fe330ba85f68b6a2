//! `/api/v3/groups`: groups of users. Anyone signed in lists and reads the
//! groups that share a project with them (administrators all of them);
//! administrators create, rename, change the members of and delete groups.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::user::{User, UserId};
use steward_domain::Timestamp;
use steward_services::groups::{GroupInput, GroupView};
use steward_storage::principals::PrincipalSort;

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::filters::{parse_filters, parse_sort, sort_field, unknown_sort};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::principals::{self, PrincipalRepr};
use crate::routes::shared::{encode, href_id, reader_access, LinkIn};
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
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<GroupEmbedded>,
    #[serde(rename = "_links")]
    links: GroupLinks,
}

#[derive(Serialize)]
pub struct GroupEmbedded {
    members: Vec<PrincipalRepr>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupLinks {
    #[serde(rename = "self")]
    self_: Link,
    memberships: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<Link>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_immediately: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete: Option<Link>,
}

/// The group; `members` links only when they were loaded.
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
        embedded: None,
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
            update_immediately: None,
            delete: None,
        },
    }
}

/// The group with its members, linked and embedded (each as `viewer` may
/// see them), and the links to change it for administrators.
pub fn represent_with_members(g: &User, members: &[User], viewer: Option<&User>) -> GroupRepr {
    let mut repr = represent(g, Some(members));
    repr.embedded = Some(GroupEmbedded {
        members: members
            .iter()
            .map(|u| principals::represent(u, viewer))
            .collect(),
    });
    if viewer.is_some_and(|v| v.admin) {
        let href = format!("/api/v3/groups/{}", g.id);
        repr.links.update_immediately = Some(Link::new(href.clone()).method("patch"));
        repr.links.delete = Some(Link::new(href).method("delete"));
    }
    repr
}

fn view_repr(view: &GroupView, viewer: Option<&User>) -> GroupRepr {
    represent_with_members(&view.group, &view.members, viewer)
}

const SORTS: &[&str] = &["id", "createdAt", "updatedAt"];

fn group_sort(q: &QueryParams) -> Result<Vec<(PrincipalSort, bool)>, ApiError> {
    parse_sort(q.get("sortBy"))?
        .into_iter()
        .map(|(field, desc)| {
            let s = match sort_field(&field, SORTS, "Groups")? {
                "id" => PrincipalSort::Id,
                "createdAt" => PrincipalSort::CreatedAt,
                "updatedAt" => PrincipalSort::UpdatedAt,
                other => return Err(unknown_sort(other, SORTS, "Groups")),
            };
            Ok((s, desc))
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<GroupRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    if let Some(f) = parse_filters(q.get("filters"))?.first() {
        return Err(ApiError::InvalidQuery(format!(
            "Groups cannot be filtered (not by {:?}); /api/v3/principals takes filters, with type Group.",
            f.name
        )));
    }
    let sort = group_sort(&q)?;
    let (groups, total) = state
        .services
        .list_groups(&access, &sort, page.limit(), page.skip())
        .await?;
    let extra = match q.get("sortBy").filter(|v| !v.trim().is_empty()) {
        Some(v) => serde_urlencoded::to_string([("sortBy", v)]).unwrap_or_default(),
        None => String::new(),
    };
    let elements = groups.iter().map(|g| view_repr(g, caller.user())).collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/groups",
        &extra,
        page,
        total,
        elements,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<GroupRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let (group, members) = state.services.group(&access, parse_id(&id)?).await?;
    Ok(ok(represent_with_members(&group, &members, caller.user())))
}

/// The body of create and update. Other properties (`_type`, read-only
/// fields a client echoes back) are ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GroupBody {
    name: Option<String>,
    #[serde(rename = "_links")]
    links: Option<GroupLinksIn>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GroupLinksIn {
    members: Option<Vec<LinkIn>>,
}

impl GroupBody {
    fn into_input(self) -> Result<GroupInput, ApiError> {
        let members = match self.links.and_then(|l| l.members) {
            None => None,
            Some(links) => Some(
                links
                    .iter()
                    .map(member_id)
                    .collect::<Result<Vec<UserId>, ApiError>>()?,
            ),
        };
        Ok(GroupInput {
            name: self.name,
            members,
        })
    }
}

fn member_id(link: &LinkIn) -> Result<UserId, ApiError> {
    let href = link.target().unwrap_or("");
    href_id(href, &["users"]).ok_or_else(|| ApiError::PropertyConstraintViolation {
        attribute: "members",
        message: format!(
            "Member {href:?} is not a user: give members as links to /api/v3/users/{{id}}."
        ),
    })
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<Hal<GroupRepr>, ApiError> {
    let input = body.into_input()?;
    let access = state.services.access(Some(&admin.user)).await?;
    let view = state.services.create_group(&access, input).await?;
    Ok(Hal(
        StatusCode::CREATED,
        view_repr(&view, Some(&admin.user)),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<Hal<GroupRepr>, ApiError> {
    let id = parse_id(&id)?;
    let input = body.into_input()?;
    let access = state.services.access(Some(&admin.user)).await?;
    let view = state.services.update_group(&access, id, input).await?;
    Ok(ok(view_repr(&view, Some(&admin.user))))
}

/// Deletes the group at once; answered with 202 and no body, as API v3 does.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&admin.user)).await?;
    state.services.delete_group(&access, id).await?;
    Ok(StatusCode::ACCEPTED)
}
