//! The audit trail: security events and every access to another person's
//! personal data, newest first, with the filters of
//! `GET /api/v3/audit_events` (category, event, actor, target, dates).
//! Reading the trail is not itself audited, as in the API.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, Render};
use serde::Deserialize;
use steward_domain::date::Date;
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_http::AppState;
use steward_services::ServiceError;
use steward_storage::audit_events::{AuditFilter, UserCond};

use crate::error::WebError;
use crate::forms::Query;
use crate::layout::{described_by, field_error, Input, Nav};
use crate::pages::{admin_menu, page_number, page_of, pager};
use crate::session::{AdminViewer, Viewer};

const PER_PAGE: i64 = 25;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    category: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<String>,
}

impl AuditQuery {
    /// The filters as query parameters, for the pager's links.
    fn params(&self) -> [(&'static str, &str); 6] {
        [
            ("category", self.category.trim()),
            ("event", self.event.trim()),
            ("actor", self.actor.trim()),
            ("target", self.target.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ]
    }
}

/// A filter the page cannot apply: the field and why.
struct Problem {
    field: &'static str,
    message: String,
}

/// A person named by login or id, as in the users pages.
async fn person(
    state: &AppState,
    field: &'static str,
    raw: &str,
) -> Result<Result<Option<UserId>, Problem>, WebError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Ok(None));
    }
    match state.services.user_by_ref(raw).await {
        Ok(u) => Ok(Ok(Some(u.id))),
        // Erased people have no account any more; their id still names
        // them in the trail.
        Err(ServiceError::NotFound(_)) => match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Ok(Some(id))),
            _ => Ok(Err(Problem {
                field,
                message: format!("There is no user with the login or id “{raw}”."),
            })),
        },
        Err(e) => Err(e.into()),
    }
}

/// The start of a day in the reader's time zone (the zone the times on
/// the page are shown in), and of the day after for the upper bound.
fn day(
    field: &'static str,
    raw: &str,
    end: bool,
    zone: &str,
) -> Result<Option<Timestamp>, Problem> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Date::parse(raw)
        .and_then(|d| {
            let last_day = if end {
                Some(d)
            } else {
                d.0.yesterday().ok().map(Date)
            };
            last_day?.end_of_day_in(zone)
        })
        .map(|last_micro| Some(Timestamp(last_micro.0 + 1)))
        .ok_or_else(|| Problem {
            field,
            message: format!("“{raw}” is not a date (YYYY-MM-DD)."),
        })
}

async fn filter(
    state: &AppState,
    q: &AuditQuery,
    zone: &str,
) -> Result<Result<AuditFilter, Problem>, WebError> {
    let mut f = AuditFilter::default();
    match q.category.trim() {
        "" => {}
        c @ ("security" | "access") => f.categories = Some((vec![c.to_string()], false)),
        other => {
            return Ok(Err(Problem {
                field: "category",
                message: format!("Category “{other}” is not one of security, access."),
            }))
        }
    }
    let event = q.event.trim();
    if !event.is_empty() {
        f.events = Some((vec![event.to_string()], false));
    }
    match person(state, "actor", &q.actor).await? {
        Ok(id) => f.actor = id.map(|id| UserCond::In(vec![id])),
        Err(p) => return Ok(Err(p)),
    }
    match person(state, "target", &q.target).await? {
        Ok(id) => f.target = id.map(|id| UserCond::In(vec![id])),
        Err(p) => return Ok(Err(p)),
    }
    let bounds = day("from", &q.from, false, zone)
        .and_then(|from| Ok((from, day("to", &q.to, true, zone)?)));
    match bounds {
        Ok((from, to)) => {
            f.created_from = from;
            f.created_before = to;
        }
        Err(p) => return Ok(Err(p)),
    }
    Ok(Ok(f))
}

fn text_filter(
    id: &str,
    label: &str,
    kind: &str,
    value: &str,
    problem: Option<&Problem>,
) -> Markup {
    let err = problem
        .filter(|p| p.field == id)
        .map(|p| p.message.as_str());
    Input::new(&format!("f-{id}"), label, value)
        .name(id)
        .kind(kind)
        .error(err)
        .render()
}

fn filter_form(q: &AuditQuery, problem: Option<&Problem>) -> Markup {
    let category = q.category.trim();
    let err = problem
        .filter(|p| p.field == "category")
        .map(|p| p.message.as_str());
    html! {
        form.filters method="get" action="/admin/audit" role="search" aria-label="Filter the audit trail" {
            div.field {
                label for="f-category" { "Category" }
                select #f-category name="category"
                    aria-invalid=[err.map(|_| "true")] aria-describedby=[described_by("f-category", err)] {
                    option value="" selected[category.is_empty()] { "Any" }
                    option value="security" selected[category == "security"] { "Security" }
                    option value="access" selected[category == "access"] { "Access to personal data" }
                }
                (field_error("f-category", err))
            }
            (text_filter("event", "Event", "text", q.event.trim(), problem))
            (text_filter("actor", "Actor (login or id)", "text", q.actor.trim(), problem))
            (text_filter("target", "Target (login or id)", "text", q.target.trim(), problem))
            (text_filter("from", "From (day)", "date", q.from.trim(), problem))
            (text_filter("to", "To (day, included)", "date", q.to.trim(), problem))
            div.actions {
                button type="submit" { "Apply" }
                a href="/admin/audit" { "Reset" }
            }
        }
    }
}

fn person_cell(id: Option<UserId>, names: &HashMap<UserId, String>, nobody: &str) -> Markup {
    html! {
        @match id {
            Some(id) => {
                @let name = names.get(&id).map_or_else(|| format!("User {id}"), Clone::clone);
                a href=(format!("/admin/users/{id}")) { (name) }
            }
            None => span.muted { (nobody) }
        }
    }
}

fn page(
    viewer: &Viewer,
    q: &AuditQuery,
    status: StatusCode,
    problem: Option<&Problem>,
    list: Markup,
) -> Response {
    let main = html! {
        (admin_menu("/admin/audit"))
        h1 { "Audit trail" }
        p { "Security events and every access to another person's personal data, newest first. Also available from the API: " code { "GET /api/v3/audit_events" } "." }
        (filter_form(q, problem))
        (list)
    };
    viewer.page(status, "Audit trail", Nav::Admin, None, main)
}

pub async fn list(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let f = match filter(&state, &q, &viewer.user.time_zone).await? {
        Ok(f) => f,
        Err(p) => {
            let list = html! { p.muted { "Correct the filter to see the trail." } };
            return Ok(page(
                &viewer,
                &q,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&p),
                list,
            ));
        }
    };
    let (events, total, page_no) = page_of(page_number(q.page.as_deref()), PER_PAGE, |offset| {
        state.services.audit_events(&f, false, PER_PAGE, offset)
    })
    .await?;
    let names = state.services.audit_names(&events).await?;
    let list = html! {
        p.muted role="status" { (total) " event" @if total != 1 { "s" } }
        @if events.is_empty() {
            p { "No events match these filters." }
        } @else {
            div.table-wrap {
                table.list {
                    caption.visually-hidden { "Audit events, newest first" }
                    thead { tr {
                        th scope="col" { "Time" }
                        th scope="col" { "Category" }
                        th scope="col" { "Event" }
                        th scope="col" { "Actor" }
                        th scope="col" { "Target" }
                        th scope="col" { "Request id" }
                        th scope="col" { "Details" }
                    } }
                    tbody {
                        @for e in &events {
                            tr {
                                td { (viewer.time(e.created_at)) }
                                td { (e.category) }
                                td { code { (e.event) } }
                                td { (person_cell(e.actor_id, &names, "nobody")) }
                                td { (person_cell(e.target_user_id, &names, "—")) }
                                td { @if let Some(r) = &e.request_id { code { (r) } } }
                                td { @if e.details != "{}" { code { (e.details) } } }
                            }
                        }
                    }
                }
            }
        }
        (pager("/admin/audit", &q.params(), page_no, PER_PAGE, total))
    };
    Ok(page(&viewer, &q, StatusCode::OK, None, list))
}
