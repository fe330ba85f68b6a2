//! One module per area of the UI.

pub mod account;
pub mod admin_audit;
pub mod admin_gdpr;
pub mod admin_jobs;
pub mod admin_lookups;
pub mod admin_roles;
pub mod admin_scan;
pub mod admin_settings;
pub mod admin_users;
pub mod auth;
pub mod data;
pub mod home;
pub mod members;
pub mod project_settings;
pub mod projects;
pub mod search;
pub mod work_packages;
pub mod wp_custom_fields;
pub mod wp_form;

use std::future::Future;

use axum::http::StatusCode;
use maud::{html, Markup};
use serde::Deserialize;
use steward_domain::{ValidationError, ValidationErrors};
use steward_services::ServiceError;

use crate::error::WebError;

/// `?notice=`: which confirmation a page shows after a redirect.
#[derive(Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// `?page=` and `?notice=`: a list's page and the confirmation it shows.
#[derive(Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
    pub notice: Option<String>,
}

/// The links between the administration pages, above each of them.
pub fn admin_menu(current: &str) -> Markup {
    let item = |href: &'static str, label: &'static str| {
        html! { li { a href=(href) aria-current=[(href == current).then_some("page")] { (label) } } }
    };
    html! {
        nav.subnav aria-label="Administration" {
            ul {
                (item("/admin/users", "Users"))
                (item("/admin/roles", "Roles and permissions"))
                (item("/admin/types", "Types"))
                (item("/admin/statuses", "Statuses"))
                (item("/admin/priorities", "Priorities"))
                (item("/admin/settings", "Settings"))
                (item("/admin/gdpr/record", "Record of processing"))
                (item("/admin/gdpr/scan", "Residue scan"))
                (item("/admin/gdpr/redactions", "Redaction queue"))
                (item("/admin/audit", "Audit trail"))
                (item("/admin/jobs", "Background jobs"))
            }
        }
    }
}

/// A refusal a form shows again with its messages: the status (422 for
/// fields, 409 for a conflict) and the errors, each with the service's
/// attribute ("" for the whole form). Any other error is an error page.
pub fn refusal(e: ServiceError) -> Result<(StatusCode, ValidationErrors), WebError> {
    match e {
        ServiceError::Invalid(v) => Ok((StatusCode::UNPROCESSABLE_ENTITY, v)),
        ServiceError::Conflict(m) => Ok((StatusCode::CONFLICT, ValidationError::new("", m).into())),
        e => Err(e.into()),
    }
}

/// A numeric id from the path; anything else is a page that does not exist.
pub fn path_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>().map_err(|_| WebError::NotFound)
}

/// A list's search text (`?q=`): trimmed, at most 200 characters, without
/// NUL, which PostgreSQL refuses and SQLite cuts, so it cannot match anyway.
pub fn search_text(raw: Option<&str>) -> String {
    raw.unwrap_or("")
        .trim()
        .chars()
        .filter(|c| *c != '\0')
        .take(200)
        .collect()
}

/// `?page=` as a page number from 1; anything else is the first page.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .unwrap_or(1)
}

/// One page of a list: `fetch` takes an offset and returns that page's
/// rows and the total. A page beyond the last (`?page=999` of three) is
/// the last page instead, fetched again, so that a list never says "page
/// 999 of 3". Returns the rows, the total and the page shown.
pub async fn page_of<T, Fetched>(
    requested: i64,
    per: i64,
    fetch: impl Fn(i64) -> Fetched,
) -> Result<(Vec<T>, i64, i64), WebError>
where
    Fetched: Future<Output = Result<(Vec<T>, i64), ServiceError>>,
{
    let (rows, total) = fetch((requested - 1) * per).await?;
    let last = last_page(total, per);
    if requested <= last {
        return Ok((rows, total, requested));
    }
    let (rows, total) = fetch((last - 1) * per).await?;
    Ok((rows, total, last))
}

/// The number of the last page of `total` rows, `per` a page (1 for none).
fn last_page(total: i64, per: i64) -> i64 {
    ((total + per - 1) / per).max(1)
}

/// A link to `base` with the non-empty `params` as its query.
pub fn link(base: &str, params: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    if kept.is_empty() {
        return base.to_string();
    }
    format!(
        "{base}?{}",
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    )
}

/// Previous / next links and where one is, when there is more than a page.
pub fn pager(base: &str, params: &[(&str, &str)], page: i64, per: i64, total: i64) -> Markup {
    let pages = last_page(total, per);
    let to = |p: i64| {
        let p = p.to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("page", &p));
        link(base, &all)
    };
    html! {
        @if pages > 1 || page > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 { a rel="prev" href=(to(page - 1)) { "← Previous" } }
                span { "Page " (page) " of " (pages) " · " (total) " in all" }
                @if page < pages { a rel="next" href=(to(page + 1)) { "Next →" } }
            }
        }
    }
}
