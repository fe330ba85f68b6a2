//! `/api/v3/principals`: the users and groups the caller may see, for
//! pickers (assignees, new members). The caller and administrators get the
//! full user representation; everyone else a reduced one.

use axum::extract::State;
use serde::Serialize;
use steward_domain::user::{PrincipalKind, User};
use steward_services::principals::PrincipalQuery;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::filters::{parse_filters, unknown_filter};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::groups::{self, GroupRepr};
use crate::routes::shared::{id_values, kept_query, reader_access};
use crate::routes::users::{self, UserRepr};
use crate::AppState;

#[derive(Serialize)]
#[serde(untagged)]
pub enum PrincipalRepr {
    User(Box<UserRepr>),
    Other(ReducedUser),
    Group(Box<GroupRepr>),
}

/// What anyone who shares a project with a user sees of them.
#[derive(Serialize)]
pub struct ReducedUser {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    #[serde(rename = "_links")]
    links: ReducedLinks,
}

#[derive(Serialize)]
pub struct ReducedLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub fn represent(p: &User, viewer: Option<&User>) -> PrincipalRepr {
    if p.kind == PrincipalKind::Group {
        return PrincipalRepr::Group(Box::new(groups::represent(p, None)));
    }
    match viewer {
        Some(v) if v.admin || v.id == p.id => {
            PrincipalRepr::User(Box::new(users::represent(p, v.admin)))
        }
        _ => PrincipalRepr::Other(ReducedUser {
            kind: "User",
            id: p.id,
            name: p.name(),
            links: ReducedLinks {
                self_: Link::titled(format!("/api/v3/users/{}", p.id), p.name()),
            },
        }),
    }
}

const FILTERS: &[&str] = &["type", "member", "name", "any_name_attribute"];

fn principal_query(q: &QueryParams) -> Result<PrincipalQuery, ApiError> {
    let mut query = PrincipalQuery::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "type" => {
                let mut kinds = Vec::new();
                for v in &f.values {
                    kinds.push(match v.as_str() {
                        "User" => PrincipalKind::User,
                        "Group" => PrincipalKind::Group,
                        other => {
                            return Err(ApiError::InvalidQuery(format!(
                                "Filter \"type\" takes \"User\" or \"Group\", not {other:?}."
                            )))
                        }
                    });
                }
                query.kinds = Some(match f.operator.as_str() {
                    "=" => kinds,
                    "!" => [PrincipalKind::User, PrincipalKind::Group]
                        .into_iter()
                        .filter(|k| !kinds.contains(k))
                        .collect(),
                    _ => return Err(f.unknown_operator(&["=", "!"])),
                });
            }
            "member" => match f.operator.as_str() {
                "=" => query.member_of = Some(id_values("member", &f.values)?),
                _ => return Err(f.unknown_operator(&["="])),
            },
            "name" | "any_name_attribute" => match f.operator.as_str() {
                "~" | "**" | "=" => query.name_contains = Some(f.values.join(" ")),
                _ => return Err(f.unknown_operator(&["~"])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(query)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<PrincipalRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let query = principal_query(&q)?;
    let (list, total) = state
        .services
        .list_principals(&access, &query, page.limit(), page.skip())
        .await?;
    let elements = list.iter().map(|p| represent(p, caller.user())).collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/principals",
        &kept_query(&q),
        page,
        total,
        elements,
    )))
}
