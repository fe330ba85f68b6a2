//! `/api/v3/roles`: the roles memberships give, with their permissions
//! (a Steward extension: `permissions`, the names API v3 uses).

use axum::extract::{Path, State};
use serde::Serialize;
use steward_domain::permission::Permission;
use steward_storage::roles::Role;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{parse_id, QueryParams};
use crate::filters::{parse_filters, unknown_filter};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::{bool_value, kept_query, reader_access};
use crate::AppState;

#[derive(Serialize)]
pub struct RoleRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    permissions: Vec<&'static str>,
    #[serde(rename = "_links")]
    links: RoleLinks,
}

#[derive(Serialize)]
pub struct RoleLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub fn represent(r: &Role) -> RoleRepr {
    RoleRepr {
        kind: "Role",
        id: r.id,
        name: r.name.clone(),
        permissions: r.permissions.iter().map(Permission::name).collect(),
        links: RoleLinks {
            self_: Link::titled(format!("/api/v3/roles/{}", r.id), r.name.clone()),
        },
    }
}

const FILTERS: &[&str] = &["grantable", "unit"];

/// The role kind a `unit` filter value names.
fn unit(value: &str) -> Result<String, ApiError> {
    match value {
        "project" => Ok("project".into()),
        "system" | "global" => Ok("global".into()),
        other => Err(ApiError::InvalidQuery(format!(
            "Filter \"unit\" takes \"project\" or \"system\", not {other:?}."
        ))),
    }
}

/// `grantable`: roles that can be given in a membership (not the built-in
/// roles of non-members). `unit`: `project` or `system` (global) roles.
fn keep(q: &QueryParams) -> Result<impl Fn(&Role) -> bool, ApiError> {
    let mut grantable: Option<bool> = None;
    let mut units: Option<Vec<String>> = None;
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "grantable" => match f.operator.as_str() {
                "=" => grantable = Some(bool_value("grantable", &f.values)?),
                _ => return Err(f.unknown_operator(&["="])),
            },
            "unit" => match f.operator.as_str() {
                "=" => units = Some(f.values.iter().map(|v| unit(v)).collect::<Result<_, _>>()?),
                _ => return Err(f.unknown_operator(&["="])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(move |r: &Role| {
        grantable.is_none_or(|g| g == r.builtin.is_none())
            && units.as_ref().is_none_or(|u| u.contains(&r.kind))
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<RoleRepr>>, ApiError> {
    reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let keep = keep(&q)?;
    let roles: Vec<Role> = state
        .services
        .list_roles()
        .await?
        .into_iter()
        .filter(|r| keep(r))
        .collect();
    let total = roles.len() as i64;
    let elements = roles
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(represent)
        .collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/roles",
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
) -> Result<Hal<RoleRepr>, ApiError> {
    reader_access(&state, &caller).await?;
    let id = parse_id(&id)?;
    let roles = state.services.list_roles().await?;
    let role = roles
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(represent(role)))
}
