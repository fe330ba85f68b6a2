//! `/api/v3/audit_events`: the audit trail for administrators (a Steward
//! extension): security events and every access to another person's
//! personal data, newest first, filtered in the API v3 filter syntax.

use std::collections::HashMap;

use axum::extract::State;
use serde::Serialize;
use steward_domain::date::Date;
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_storage::audit_events::{AuditEvent, AuditFilter, UserCond};

use crate::auth::Admin;
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, QueryParams};
use crate::filters::{parse_filters, parse_sort, resolve, unknown_filter, Filter};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::kept_query;
use crate::routes::work_packages::{day_start, OptLink};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    created_at: Timestamp,
    /// `security` or `access`.
    category: String,
    event: String,
    request_id: Option<String>,
    /// Ids and field names; never personal values.
    details: serde_json::Value,
    #[serde(rename = "_links")]
    links: AuditEventLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventLinks {
    #[serde(rename = "self")]
    self_: Link,
    /// Who acted; `href` null for nobody (a failed sign-in, the command line).
    actor: OptLink,
    /// Whose account or data it concerned; `href` null for none.
    target_user: OptLink,
}

fn user_link(id: Option<UserId>, names: &HashMap<UserId, String>) -> OptLink {
    match id {
        Some(id) => OptLink {
            href: Some(format!("/api/v3/users/{id}")),
            title: names.get(&id).cloned(),
        },
        None => OptLink::default(),
    }
}

fn represent(e: &AuditEvent, names: &HashMap<UserId, String>) -> AuditEventRepr {
    AuditEventRepr {
        kind: "AuditEvent",
        id: e.id,
        created_at: e.created_at,
        category: e.category.clone(),
        event: e.event.clone(),
        request_id: e.request_id.clone(),
        // Written by Steward as a JSON object; anything else would be a
        // bug, shown as an empty object rather than failing the listing.
        details: serde_json::from_str::<serde_json::Value>(&e.details)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({})),
        links: AuditEventLinks {
            self_: Link::new(format!("/api/v3/audit_events/{}", e.id)),
            actor: user_link(e.actor_id, names),
            target_user: user_link(e.target_user_id, names),
        },
    }
}

const FILTERS: &[&str] = &[
    "category",
    "event",
    "actor",
    "targetUser",
    "target",
    "createdAt",
    "requestId",
];

/// `=`/`!` over plain values, as `(values, negate)`.
fn values(f: &Filter) -> Result<(Vec<String>, bool), ApiError> {
    match f.operator.as_str() {
        "=" => Ok((f.values.clone(), false)),
        "!" => Ok((f.values.clone(), true)),
        _ => Err(f.unknown_operator(&["=", "!"])),
    }
}

/// User ids (or `me`) with `=`, anyone with `*`, nobody with `!*`.
fn user_cond(f: &Filter, me: UserId) -> Result<UserCond, ApiError> {
    match f.operator.as_str() {
        "=" => {
            let ids = f
                .values
                .iter()
                .map(|v| {
                    let v = v.trim();
                    if v == "me" {
                        return Ok(me);
                    }
                    v.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| {
                        ApiError::InvalidQuery(format!(
                            "Filter {:?} expects user ids or \"me\", not {v:?}.",
                            f.name
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if ids.is_empty() {
                return Err(ApiError::InvalidQuery(format!(
                    "Filter {:?} with = needs at least one user id.",
                    f.name
                )));
            }
            Ok(UserCond::In(ids))
        }
        "*" => Ok(UserCond::Any),
        "!*" => Ok(UserCond::None),
        _ => Err(f.unknown_operator(&["=", "*", "!*"])),
    }
}

/// The start of a UTC day.
const DAY_SECONDS: i64 = 86_400;

/// A bound of `<>d`: a date (the whole day counts) or a timestamp.
fn bound(f: &Filter, v: &str, end: bool) -> Result<Option<Timestamp>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Some(d) = Date::parse(v) {
        let start = day_start(d);
        return Ok(Some(if end {
            start.plus_seconds(DAY_SECONDS)
        } else {
            start
        }));
    }
    Timestamp::parse_rfc3339(v).map(Some).ok_or_else(|| {
        ApiError::InvalidQuery(format!(
            "Filter {:?}: {v:?} is neither a date (YYYY-MM-DD) nor a timestamp \
             (2024-05-01T10:00:00Z).",
            f.name
        ))
    })
}

/// `createdAt`: `<>d` between two dates or timestamps (either may be
/// empty), `=d` one day, `>t-` more than n days ago, `<t-` less than n days
/// ago, `t` today.
fn created_at(f: &Filter) -> Result<(Option<Timestamp>, Option<Timestamp>), ApiError> {
    let first = f.values.first().map(String::as_str).unwrap_or("");
    let days = || -> Result<i64, ApiError> {
        first
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=100_000).contains(n))
            .ok_or_else(|| {
                ApiError::InvalidQuery(format!("Filter {:?} expects a number of days.", f.name))
            })
    };
    let now = Timestamp::now();
    let today = Timestamp(now.0 - now.0.rem_euclid(DAY_SECONDS * 1_000_000));
    match f.operator.as_str() {
        "<>d" => {
            let from = bound(f, first, false)?;
            let to = bound(f, f.values.get(1).map(String::as_str).unwrap_or(""), true)?;
            if from.is_none() && to.is_none() {
                return Err(ApiError::InvalidQuery(format!(
                    "Filter {:?} with <>d needs at least one date.",
                    f.name
                )));
            }
            Ok((from, to))
        }
        "=d" => {
            let d = Date::parse(first.trim()).ok_or_else(|| {
                ApiError::InvalidQuery(format!(
                    "Filter {:?} with =d needs a date (YYYY-MM-DD).",
                    f.name
                ))
            })?;
            let start = day_start(d);
            Ok((Some(start), Some(start.plus_seconds(DAY_SECONDS))))
        }
        ">t-" => Ok((None, Some(today.minus_seconds(days()? * DAY_SECONDS)))),
        "<t-" => Ok((Some(today.minus_seconds(days()? * DAY_SECONDS)), None)),
        "t" => Ok((Some(today), Some(today.plus_seconds(DAY_SECONDS)))),
        _ => Err(f.unknown_operator(&["<>d", "=d", ">t-", "<t-", "t"])),
    }
}

fn audit_filter(q: &QueryParams, me: UserId) -> Result<AuditFilter, ApiError> {
    let mut filter = AuditFilter::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "category" => {
                let (cats, negate) = values(&f)?;
                if let Some(bad) = cats
                    .iter()
                    .find(|c| !["security", "access"].contains(&c.as_str()))
                {
                    return Err(ApiError::InvalidQuery(format!(
                        "Category {bad:?} is not one of security, access."
                    )));
                }
                filter.categories = Some((cats, negate));
            }
            "event" => filter.events = Some(values(&f)?),
            "actor" => filter.actor = Some(user_cond(&f, me)?),
            "targetUser" | "target" => filter.target = Some(user_cond(&f, me)?),
            "createdAt" => {
                let (from, to) = created_at(&f)?;
                filter.created_from = from;
                filter.created_before = to;
            }
            "requestId" => match f.operator.as_str() {
                "=" if f.values.len() == 1 => filter.request_id = f.values.first().cloned(),
                _ => {
                    return Err(ApiError::InvalidQuery(
                        "Filter \"requestId\" takes operator = and one request id.".into(),
                    ))
                }
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(filter)
}

/// `true` for oldest first.
fn oldest_first(q: &QueryParams) -> Result<bool, ApiError> {
    let sort = parse_sort(q.get("sortBy"))?;
    match sort.as_slice() {
        [] => Ok(false),
        [(field, desc)] if resolve(field, &["id", "createdAt"]).is_some() => Ok(!desc),
        _ => Err(ApiError::InvalidQuery(
            "The audit trail is sorted by createdAt (or id) only: sortBy=[[\"createdAt\",\"asc\"]] \
             or [[\"createdAt\",\"desc\"]] (the default)."
                .into(),
        )),
    }
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    q: QueryParams,
) -> Result<Hal<Collection<AuditEventRepr>>, ApiError> {
    let page = Page::from_query(&q)?;
    let filter = audit_filter(&q, admin.user.id)?;
    let oldest_first = oldest_first(&q)?;
    let (events, total) = state
        .services
        .audit_events(&filter, oldest_first, page.limit(), page.skip())
        .await?;
    let names = state.services.audit_names(&events).await?;
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/audit_events",
        &kept_query(&q),
        page,
        total,
        events.iter().map(|e| represent(e, &names)).collect(),
    )))
}

pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<AuditEventRepr>, ApiError> {
    let event = state.services.audit_event(parse_id(&id)?).await?;
    let names = state
        .services
        .audit_names(std::slice::from_ref(&event))
        .await?;
    Ok(ok(represent(&event, &names)))
}
