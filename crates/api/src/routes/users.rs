//! `/api/v3/users`: list, show, create, update, lock and unlock accounts.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::custom_field::Kind as CustomKind;
use steward_domain::user::{User, UserStatus};
use steward_domain::Timestamp;
use steward_services::accounts::{CreateUser, UpdateUser};
use steward_services::audit::{AuditCategory, AuditEntry};
use steward_storage::users::{UserFilter, UserSort};

use crate::auth::{Admin, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::filters::{parse_filters, parse_sort, sort_field, unknown_filter, unknown_sort};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::custom_fields::{represent_values, values_from_body, CustomValueRepr};
use crate::routes::shared::rendering;
use crate::routes::work_packages::OptLink;
use crate::AppState;
use steward_http::client::Client;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    login: String,
    first_name: String,
    last_name: String,
    email: Option<String>,
    admin: bool,
    avatar: String,
    status: &'static str,
    language: String,
    time_zone: String,
    identity_url: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// User custom fields (`customFieldN`), for the user themself and administrators.
    #[serde(flatten)]
    custom_fields: BTreeMap<String, CustomValueRepr>,
    #[serde(rename = "_links")]
    links: UserLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLinks {
    #[serde(rename = "self")]
    self_: Link,
    show_user: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_immediately: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unlock: Option<Link>,
    /// `customFieldN` links of list and user fields.
    #[serde(flatten)]
    custom_fields: BTreeMap<String, OptLink>,
}

/// The full representation, for the user themself and administrators.
pub fn represent(u: &User, viewer_is_admin: bool) -> UserRepr {
    let href = format!("/api/v3/users/{}", u.id);
    let locked = u.status == UserStatus::Locked;
    UserRepr {
        kind: "User",
        id: u.id,
        name: u.name(),
        login: u.login.clone(),
        first_name: u.firstname.clone(),
        last_name: u.lastname.clone(),
        email: u.email.clone(),
        admin: u.admin,
        avatar: String::new(),
        status: u.status.as_str(),
        language: u.language.clone(),
        time_zone: u.time_zone.clone(),
        identity_url: None,
        created_at: u.created_at,
        updated_at: u.updated_at,
        custom_fields: BTreeMap::new(),
        links: UserLinks {
            self_: Link::titled(href.clone(), u.name()),
            show_user: Link::new(format!("/users/{}", u.id)),
            update_immediately: viewer_is_admin.then(|| Link::new(href.clone()).method("patch")),
            lock: (viewer_is_admin && !locked)
                .then(|| Link::new(format!("{href}/lock")).method("post")),
            unlock: (viewer_is_admin && locked)
                .then(|| Link::new(format!("{href}/lock")).method("delete")),
            custom_fields: BTreeMap::new(),
        },
    }
}

/// Adds the user custom fields to representations that the viewer may see
/// in full (their own, or any for administrators); one query for all.
async fn add_custom_values(state: &AppState, reprs: &mut [UserRepr]) -> Result<(), ApiError> {
    let ids: Vec<i64> = reprs.iter().map(|r| r.id).collect();
    let set = state.services.custom_values(CustomKind::User, &ids).await?;
    if set.fields.is_empty() {
        return Ok(());
    }
    let rendering = rendering(state).await?;
    for repr in reprs {
        let custom = represent_values(&set.of(repr.id), rendering);
        repr.custom_fields = custom.properties;
        repr.links.custom_fields = custom.links;
    }
    Ok(())
}

/// One full representation with its custom fields.
async fn full(state: &AppState, u: &User, viewer_is_admin: bool) -> Result<UserRepr, ApiError> {
    let mut one = [represent(u, viewer_is_admin)];
    add_custom_values(state, &mut one).await?;
    let [repr] = one;
    Ok(repr)
}

const FILTERS: &[&str] = &["status", "login", "name"];
/// `lastName` is what `name` sorts by.
const SORTS: &[&str] = &["id", "login", "name", "lastName", "createdAt", "status"];

fn user_filter(q: &QueryParams) -> Result<UserFilter, ApiError> {
    let mut filter = UserFilter::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "status" => {
                let mut statuses = Vec::new();
                for v in &f.values {
                    statuses.push(UserStatus::parse(v).ok_or_else(|| {
                        ApiError::InvalidQuery(format!(
                            "Status {v:?} is not one of active, registered, invited, locked."
                        ))
                    })?);
                }
                filter.status = Some(match f.operator.as_str() {
                    "=" => statuses,
                    "!" => UserStatus::ALL
                        .into_iter()
                        .filter(|s| !statuses.contains(s))
                        .collect(),
                    _ => return Err(f.unknown_operator(&["=", "!"])),
                });
            }
            "login" => match f.operator.as_str() {
                "=" => filter.login = Some(f.values.clone()),
                _ => return Err(f.unknown_operator(&["="])),
            },
            "name" => match f.operator.as_str() {
                "~" | "=" => {
                    filter.name_contains = Some(f.values.join(" "));
                }
                _ => return Err(f.unknown_operator(&["~", "="])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(filter)
}

fn user_sort(q: &QueryParams) -> Result<Vec<(UserSort, bool)>, ApiError> {
    parse_sort(q.get("sortBy"))?
        .into_iter()
        .map(|(field, desc)| {
            let s = match sort_field(&field, SORTS, "Users")? {
                "id" => UserSort::Id,
                "login" => UserSort::Login,
                "name" | "lastName" => UserSort::Name,
                "createdAt" => UserSort::CreatedAt,
                "status" => UserSort::Status,
                other => return Err(unknown_sort(other, SORTS, "Users")),
            };
            Ok((s, desc))
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    q: QueryParams,
) -> Result<Hal<Collection<UserRepr>>, ApiError> {
    let page = Page::from_query(&q)?;
    let filter = user_filter(&q)?;
    let sort = user_sort(&q)?;
    let (users, total) = state
        .services
        .list_users(&filter, &sort, page.limit(), page.skip())
        .await?;
    let mut extra = Vec::new();
    for key in ["filters", "sortBy"] {
        if let Some(v) = q.get(key) {
            extra.push((key, v));
        }
    }
    let extra = serde_urlencoded::to_string(&extra).unwrap_or_default();
    let mut elements: Vec<UserRepr> = users.iter().map(|u| represent(u, true)).collect();
    add_custom_values(&state, &mut elements).await?;
    // One entry per list, about no one person: who looked at how many.
    state.services.record_read(
        AuditEntry::new(
            AuditCategory::Access,
            "personal_data.viewed",
            Some(admin.user.id),
            None,
        )
        .with_details(serde_json::json!({
            "resource": "users",
            "count": elements.len(),
            "total": total,
        })),
    );
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/users",
        &extra,
        page,
        total,
        elements,
    )))
}

/// A user id from the path: `me` (the caller) or a numeric id.
pub fn user_id_or_me(caller: &SignedIn, raw: &str) -> Result<i64, ApiError> {
    if raw == "me" {
        Ok(caller.user.id)
    } else {
        parse_id(raw)
    }
}

/// A user's own record, or anyone's for administrators. To anyone else a
/// user does not exist.
pub async fn show(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<UserRepr>, ApiError> {
    let id = user_id_or_me(&caller, &id)?;
    if id == caller.user.id {
        return Ok(ok(full(&state, &caller.user, caller.user.admin).await?));
    }
    if !caller.user.admin {
        return Err(ApiError::not_found());
    }
    let user = state.services.user(id).await?;
    let repr = full(&state, &user, true).await?;
    state.services.record_read(
        AuditEntry::access("personal_data.viewed", caller.user.id, user.id)
            .with_details(serde_json::json!({ "resource": "user" })),
    );
    Ok(ok(repr))
}

/// The body of create and update. Unknown properties (`_links`, `_type`,
/// read-only fields a client echoes back) are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct UserBody {
    login: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    admin: Option<bool>,
    status: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
    password: Option<String>,
    /// On one's own account: confirms a change of the email address.
    current_password: Option<String>,
    #[serde(rename = "_links")]
    links: Option<HashMap<String, serde_json::Value>>,
    /// Other properties: `customFieldN` values; the rest is ignored.
    #[serde(flatten)]
    extra: HashMap<String, serde_json::Value>,
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<Hal<UserRepr>, ApiError> {
    let custom = values_from_body(&body.extra, &body.links.unwrap_or_default());
    state
        .services
        .check_user_custom_values(None, &custom)
        .await?;
    let user = state
        .services
        .create_user(CreateUser {
            login: body.login,
            email: body.email,
            firstname: body.first_name,
            lastname: body.last_name,
            admin: body.admin.unwrap_or(false),
            status: body.status,
            language: body.language,
            time_zone: body.time_zone,
            password: body.password,
        })
        .await?;
    let access = state.services.access(Some(&admin.user)).await?;
    state
        .services
        .set_user_custom_values(&access, user.id, &custom)
        .await?;
    Ok(Hal(StatusCode::CREATED, full(&state, &user, true).await?))
}

/// The properties people may change on their own account (rectification,
/// GDPR Art. 16); everything else is for administrators.
const SELF_EDITABLE: &str =
    "firstName, lastName, email (with currentPassword), language and timeZone";

/// Changes an account: administrators change anyone's; people change
/// their own name, email, language and time zone. To anyone else a user
/// does not exist.
pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<Hal<UserRepr>, ApiError> {
    let id = user_id_or_me(&caller, &id)?;
    if !caller.user.admin {
        if id != caller.user.id {
            return Err(ApiError::not_found());
        }
        let custom_given = body.extra.keys().any(|k| k.starts_with("customField"))
            || body
                .links
                .as_ref()
                .is_some_and(|l| l.keys().any(|k| k.starts_with("customField")));
        for (given, name) in [
            (body.login.is_some(), "login"),
            (body.admin.is_some(), "admin"),
            (
                body.password.is_some(),
                "password (use /api/v3/my/password)",
            ),
            (custom_given, "custom fields"),
        ] {
            if given {
                return Err(ApiError::MissingPermission(format!(
                    "Only administrators may change {name}; you may change {SELF_EDITABLE}."
                )));
            }
        }
    }
    let custom = values_from_body(&body.extra, &body.links.unwrap_or_default());
    state
        .services
        .check_user_custom_values(Some(id), &custom)
        .await?;
    if body.status.is_some() {
        // Status changes go through the lock resource, as in API v3.
        let current = state.services.user(id).await?;
        if body.status.as_deref() != Some(current.status.as_str()) {
            return Err(ApiError::PropertyConstraintViolation {
                attribute: "status",
                message: "Status is changed with POST/DELETE on /api/v3/users/{id}/lock.".into(),
            });
        }
    }
    let input = UpdateUser {
        login: body.login,
        email: body.email,
        firstname: body.first_name,
        lastname: body.last_name,
        admin: body.admin,
        language: body.language,
        time_zone: body.time_zone,
        password: body.password,
    };
    let user = if id == caller.user.id {
        // One's own account: a new email address needs the password.
        let current = body.current_password.unwrap_or_default();
        state
            .services
            .update_own_account(&caller.user, input, &current, &client)
            .await?
    } else {
        state.services.update_user(id, input).await?
    };
    if caller.user.admin {
        let access = state.services.access(Some(&caller.user)).await?;
        state
            .services
            .set_user_custom_values(&access, user.id, &custom)
            .await?;
    }
    Ok(ok(full(&state, &user, caller.user.admin).await?))
}

pub async fn lock(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<UserRepr>, ApiError> {
    let user = state.services.lock_user(parse_id(&id)?).await?;
    Ok(ok(full(&state, &user, true).await?))
}

pub async fn unlock(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<UserRepr>, ApiError> {
    let user = state.services.unlock_user(parse_id(&id)?).await?;
    Ok(ok(full(&state, &user, true).await?))
}
