//! The residue scan: where a person's identifiers still are, for someone
//! with an account or for the identifiers of someone erased before (proof
//! that the erasure left nothing behind). The same service call as
//! `POST /api/v3/gdpr/scans` and `steward gdpr scan`.
//!
//! The identifiers are personal data: they travel in the body of a POST,
//! never in the URL, and the request log does not keep bodies of paths
//! under `/admin/gdpr/` (see `steward_http::request_log`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, Render};
use steward_http::AppState;
use steward_services::gdpr::scan::{Hit, ScanReport, ScanTarget};
use steward_services::ServiceError;

use crate::error::WebError;
use crate::forms::Form;
use crate::layout::{Input, Nav};
use crate::pages::admin_menu;
use crate::session::{AdminViewer, Viewer};

/// What was typed into the form, to show it again beside the result.
#[derive(Default)]
struct ScanValues {
    user: String,
    id: String,
    login: String,
    email: String,
    first_name: String,
    last_name: String,
}

impl ScanValues {
    fn from_form(form: &Form) -> Self {
        let t = |name: &str| form.text(name).trim().to_string();
        ScanValues {
            user: t("user"),
            id: t("id"),
            login: t("login"),
            email: t("email"),
            first_name: t("first_name"),
            last_name: t("last_name"),
        }
    }

    fn has_identifiers(&self) -> bool {
        [
            &self.id,
            &self.login,
            &self.email,
            &self.first_name,
            &self.last_name,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }
}

/// A refusal: the field it concerns (`None`: the whole form) and why.
struct Problem {
    field: Option<&'static str>,
    message: String,
}

fn input(id: &str, label: &str, kind: &str, value: &str, problem: Option<&Problem>) -> Markup {
    let err = problem
        .filter(|p| p.field == Some(id))
        .map(|p| p.message.as_str());
    Input::new(id, label, value)
        .kind(kind)
        .autocomplete("off")
        .error(err)
        .render()
}

fn hits_table(caption: &str, hits: &[Hit]) -> Markup {
    html! {
        div.table-wrap {
            table.list {
                caption { (caption) " (" (hits.len()) ")" }
                thead { tr {
                    th scope="col" { "Table" }
                    th scope="col" { "Column" }
                    th scope="col" { "Row" }
                    th scope="col" { "Found" }
                } }
                tbody {
                    @for h in hits {
                        tr {
                            td { code { (h.table) } }
                            td { code { (h.column) } }
                            td { (h.row) }
                            td { (h.found) }
                        }
                    }
                }
            }
        }
    }
}

fn report(r: &ScanReport) -> Markup {
    html! {
        section.scan-result aria-labelledby="scan-result" {
            @if r.clean {
                h2 #scan-result { "CLEAN" }
                p.notice role="status" {
                    "No residue: none of the identifiers is left in a structured place, the request log or the caches."
                }
            } @else {
                h2 #scan-result { "Residue found" }
                div.alert role="alert" {
                    "The identifiers are still stored: " (r.residue.len()) " in the database, "
                    (r.request_log_lines) " request-log lines and " (r.cache_entries) " cache entries."
                }
            }
            dl.attrs {
                dt { "Tables checked" } dd { (r.tables_checked) }
                dt { "Columns checked" } dd { (r.columns_checked) }
                dt { "Residue in the database" } dd { (r.residue.len()) }
                dt { "Request-log lines" } dd { (r.request_log_lines) }
                dt { "Cache entries" } dd { (r.cache_entries) }
                dt { "Mentions in free text" } dd { (r.free_text.len()) }
                dt { "Held for redaction" } dd { (r.held.len()) }
            }
            @if !r.residue.is_empty() { (hits_table("Residue", &r.residue)) }
            @if !r.free_text.is_empty() {
                p { "Names, logins or emails inside texts people wrote: whether they mean this person is for you to judge (after an erasure they are in the "
                    a href="/admin/gdpr/redactions" { "redaction queue" } ")." }
                (hits_table("Mentions in free text", &r.free_text))
            }
            @if !r.held.is_empty() { (hits_table("Held for redaction", &r.held)) }
        }
    }
}

fn render(
    viewer: &Viewer,
    v: &ScanValues,
    status: StatusCode,
    problem: Option<&Problem>,
    result: Option<&ScanReport>,
) -> Response {
    let general = problem.filter(|p| p.field.is_none());
    let main = html! {
        (admin_menu("/admin/gdpr/scan"))
        h1 { "Residue scan" }
        p { "Searches every column of every table, the request log and the caches for a person's identifiers. Scan for someone with an account, or for the identifiers of someone already erased to show that nothing of them is left." }
        @if let Some(p) = general { div.alert role="alert" { (p.message) } }
        section.narrow {
            form.stack method="post" action="/admin/gdpr/scan" novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                fieldset {
                    legend { "A person with an account" }
                    (input("user", "Login or user id", "text", &v.user, problem))
                }
                fieldset {
                    legend { "Or: the identifiers of an erased person" }
                    (input("id", "User id", "text", &v.id, problem))
                    (input("login", "Login", "text", &v.login, problem))
                    (input("email", "Email", "email", &v.email, problem))
                    (input("first_name", "First name", "text", &v.first_name, problem))
                    (input("last_name", "Last name", "text", &v.last_name, problem))
                }
                button.primary type="submit" { "Scan" }
            }
        }
        @if let Some(r) = result { (report(r)) }
    };
    viewer.page(status, "Residue scan", Nav::Admin, None, main)
}

pub async fn form(AdminViewer(viewer): AdminViewer) -> Result<Response, WebError> {
    Ok(render(
        &viewer,
        &ScanValues::default(),
        StatusCode::OK,
        None,
        None,
    ))
}

/// What to scan for, or why the form cannot say (the inner error).
async fn target(state: &AppState, v: &ScanValues) -> Result<Result<ScanTarget, Problem>, WebError> {
    let problem = |field, message: String| Problem { field, message };
    if !v.user.is_empty() {
        if v.has_identifiers() {
            return Ok(Err(problem(
                Some("user"),
                "Give either an account or the identifiers of an erased person, not both.".into(),
            )));
        }
        return match state.services.scan_target_of(&v.user).await {
            Ok(t) => Ok(Ok(t)),
            Err(ServiceError::NotFound(_)) => Ok(Err(problem(
                Some("user"),
                format!("There is no account with the login or id “{}”.", v.user),
            ))),
            Err(e) => Err(e.into()),
        };
    }
    let id = if v.id.is_empty() {
        None
    } else {
        match v.id.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                return Ok(Err(problem(
                    Some("id"),
                    "The user id must be a whole number above 0.".into(),
                )))
            }
        }
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(Ok(ScanTarget {
        id,
        login: some(&v.login),
        email: some(&v.email),
        firstname: some(&v.first_name),
        lastname: some(&v.last_name),
        secret_hashes: Vec::new(),
    }))
}

pub async fn scan(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let v = ScanValues::from_form(&form);
    let unprocessable = |p: Problem| {
        render(
            &viewer,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&p),
            None,
        )
    };
    let target = match target(&state, &v).await? {
        Ok(t) => t,
        Err(p) => return Ok(unprocessable(p)),
    };
    // Nothing to look for: said on the page. An unreadable request log is
    // not the viewer's doing: the error page, with the request id.
    let message = match state.services.residue_scan(&target).await {
        Ok(r) => return Ok(render(&viewer, &v, StatusCode::OK, None, Some(&r))),
        Err(ServiceError::Invalid(e)) => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    Ok(unprocessable(Problem {
        field: None,
        message,
    }))
}
