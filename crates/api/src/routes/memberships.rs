//! `/api/v3/memberships`: who holds which roles in which project (or which
//! global roles): list, show, create, change the roles, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::user::PrincipalKind;
use steward_domain::Timestamp;
use steward_services::memberships::{MembershipFilter, MembershipInput, MembershipView};
use steward_services::ServiceError;

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, JsonBody, QueryParams};
use crate::filters::{parse_filters, unknown_filter};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::{
    href_id, href_segment, id_values, kept_query, nullable, reader_access, LinkIn,
};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(rename = "_links")]
    links: MembershipLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipLinks {
    #[serde(rename = "self")]
    self_: Link,
    /// Absent for a membership with global roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<Link>,
    principal: Link,
    roles: Vec<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_immediately: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete: Option<Link>,
}

/// The href of a principal: users and groups live in different collections.
pub fn principal_href(kind: PrincipalKind, id: i64) -> String {
    match kind {
        PrincipalKind::Group => format!("/api/v3/groups/{id}"),
        _ => format!("/api/v3/users/{id}"),
    }
}

pub fn represent(v: &MembershipView) -> MembershipRepr {
    let m = &v.membership;
    let href = format!("/api/v3/memberships/{}", m.id);
    let name = v.principal.name();
    MembershipRepr {
        kind: "Membership",
        id: m.id,
        created_at: m.created_at,
        updated_at: m.updated_at,
        links: MembershipLinks {
            self_: Link::titled(href.clone(), name.clone()),
            project: v
                .project
                .as_ref()
                .map(|p| Link::titled(format!("/api/v3/projects/{}", p.id), p.name.clone())),
            principal: Link::titled(principal_href(v.principal.kind, v.principal.id), name),
            roles: v
                .roles
                .iter()
                .map(|r| Link::titled(format!("/api/v3/roles/{}", r.id), r.name.clone()))
                .collect(),
            update: v
                .can_manage
                .then(|| Link::new(href.clone()).method("patch")),
            update_immediately: v
                .can_manage
                .then(|| Link::new(href.clone()).method("patch")),
            delete: v
                .can_manage
                .then(|| Link::new(href.clone()).method("delete")),
        },
    }
}

/// `user` is OpenProject's older name of `principal`.
const FILTERS: &[&str] = &["project", "principal", "user"];

fn membership_filter(q: &QueryParams) -> Result<MembershipFilter, ApiError> {
    let mut filter = MembershipFilter::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "project" => match f.operator.as_str() {
                "=" => filter.project_ids = Some(id_values("project", &f.values)?),
                _ => return Err(f.unknown_operator(&["="])),
            },
            "principal" | "user" => match f.operator.as_str() {
                "=" => match id_values(&f.name, &f.values)?.as_slice() {
                    [id] => filter.principal_id = Some(*id),
                    _ => {
                        return Err(ApiError::InvalidQuery(format!(
                            "Filter {:?} takes exactly one principal id.",
                            f.name
                        )))
                    }
                },
                _ => return Err(f.unknown_operator(&["="])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(filter)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<MembershipRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let filter = membership_filter(&q)?;
    let (views, total) = state
        .services
        .list_memberships(&access, &filter, page.limit(), page.skip())
        .await?;
    let elements = views.iter().map(represent).collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/memberships",
        &kept_query(&q),
        page,
        total,
        elements,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<MembershipRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let view = state.services.membership(&access, parse_id(&id)?).await?;
    Ok(ok(represent(&view)))
}

/// The body of create and update: everything is in `_links`; the rest of
/// a membership a client echoes back is ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MembershipBody {
    #[serde(rename = "_links")]
    links: Option<MembershipLinksIn>,
    /// The roles given at the top level: pyopenproject strips `_links`
    /// from the membership it updates, so this is where its roles arrive.
    roles: Option<Vec<LinkIn>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MembershipLinksIn {
    #[serde(deserialize_with = "nullable")]
    project: Option<Option<LinkIn>>,
    principal: Option<LinkIn>,
    /// Older clients name the principal `user`.
    user: Option<LinkIn>,
    roles: Option<Vec<LinkIn>>,
}

fn invalid(attribute: &'static str, message: String) -> ApiError {
    ApiError::PropertyConstraintViolation { attribute, message }
}

fn role_ids(links: &[LinkIn]) -> Result<Vec<i64>, ApiError> {
    links
        .iter()
        .map(|l| {
            let href = l.target().unwrap_or("");
            href_id(href, &["roles"]).ok_or_else(|| {
                invalid(
                    "roles",
                    format!("The role {href:?} is not a link to a role, such as /api/v3/roles/3."),
                )
            })
        })
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<MembershipBody>,
) -> Result<Hal<MembershipRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let links = body.links.unwrap_or_default();
    let project_id = match links.project.flatten().as_ref().and_then(LinkIn::target) {
        None => None,
        Some(href) => {
            let segment = href_segment(href, "projects").ok_or_else(|| {
                invalid(
                    "project",
                    format!("The project {href:?} is not a link to a project, such as /api/v3/projects/5."),
                )
            })?;
            match segment.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => match state.services.project(&access, segment).await {
                    Ok(p) => Some(p.id),
                    Err(ServiceError::NotFound(_)) => {
                        return Err(invalid(
                            "project",
                            format!("Project {segment:?} does not exist."),
                        ))
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
    };
    let principal_id = match links.principal.as_ref().or(links.user.as_ref()).and_then(LinkIn::target) {
        None => None,
        Some(href) => Some(href_id(href, &["users", "groups", "principals"]).ok_or_else(|| {
            invalid(
                "principal",
                format!("The principal {href:?} is not a link to a user or a group, such as /api/v3/users/5."),
            )
        })?),
    };
    let role_ids = role_ids(links.roles.as_deref().unwrap_or(&[]))?;
    let view = state
        .services
        .create_membership(
            &access,
            MembershipInput {
                project_id,
                principal_id,
                role_ids,
            },
        )
        .await?;
    Ok(Hal(StatusCode::CREATED, represent(&view)))
}

/// Replaces the roles when `_links.roles` (or a top-level `roles`) is
/// given; the project and the principal of a membership never change. A
/// body without roles changes nothing and answers the membership as it is.
pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MembershipBody>,
) -> Result<Hal<MembershipRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    let roles = body
        .links
        .and_then(|l| l.roles)
        .or(body.roles)
        .map(|r| role_ids(&r))
        .transpose()?;
    let view = state.services.update_membership(&access, id, roles).await?;
    Ok(ok(represent(&view)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    state.services.delete_membership(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
