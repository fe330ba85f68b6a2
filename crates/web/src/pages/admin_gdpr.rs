//! The data controller's GDPR pages: the record of processing activities
//! (Art. 30) and the redaction queue, where texts that still mention an
//! erased person are redacted or dismissed one by one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use steward_http::AppState;
use steward_services::gdpr::redaction::Resolution;
use steward_services::ServiceError;

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, Nav};
use crate::pages::{admin_menu, page_number, pager, path_id, PageQuery};
use crate::session::{AdminViewer, Viewer};

const PER_PAGE: i64 = 25;

/// The record as the API's `?format=markdown` gives it, rendered by the
/// same Markdown renderer as descriptions, so that the page and the
/// document an administrator files never say different things.
pub async fn record(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
) -> Result<Response, WebError> {
    let ctx = state
        .http
        .record_context
        .as_ref()
        .ok_or_else(|| WebError::Internal("the record context is not configured".into()))?;
    let ctx = state.services.record_context_in_force(ctx).await?;
    let markdown = steward_domain::record::build(&ctx).to_markdown();
    let rendering = viewer.rendering(&state).await?;
    let main = html! {
        (admin_menu("/admin/gdpr/record"))
        p { "The record is also available from the API: " code { "GET /api/v3/gdpr/record?format=markdown" } "." }
        div.prose { (layout::markdown(&markdown, rendering)) }
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Record of processing",
        Nav::Admin,
        None,
        main,
    ))
}

async fn render_queue(
    state: &AppState,
    viewer: &Viewer,
    page: i64,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let (entries, total) = state
        .services
        .redaction_queue(Some("open"), (page - 1) * PER_PAGE, PER_PAGE)
        .await?;
    let main = html! {
        (admin_menu("/admin/gdpr/redactions"))
        h1 { "Redaction queue" }
        p { "Texts written by others that still mention an erased person. Redact replaces the mention; dismiss keeps the text as it is." }
        @if let Some(m) = error { div.alert role="alert" { (m) } }
        @if entries.is_empty() {
            p.muted { "Nothing is waiting for redaction." }
        } @else {
            div.table-wrap {
                table.list {
                    thead { tr {
                        th scope="col" { "Where" }
                        th scope="col" { "Text around the mention" }
                        th scope="col" { "Certificate" }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td { code { (e.table) "." (e.column) } " #" (e.row_id) }
                                td {
                                    @for c in &e.contexts { p { "…" (c) "…" } }
                                    @if e.contexts.is_empty() { span.muted { "The text no longer contains the mention." } }
                                }
                                td { a href=(format!("/admin/erasures/{}", e.certificate_id)) { "No. " (e.certificate_id) } }
                                td {
                                    form.inline method="post" action=(format!("/admin/gdpr/redactions/{}/redact", e.id)) {
                                        input type="hidden" name="csrf_token" value=(viewer.csrf());
                                        button.danger type="submit" { "Redact" }
                                    }
                                    " "
                                    form.inline method="post" action=(format!("/admin/gdpr/redactions/{}/dismiss", e.id)) {
                                        input type="hidden" name="csrf_token" value=(viewer.csrf());
                                        button type="submit" { "Dismiss" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/admin/gdpr/redactions", &[], page, PER_PAGE, total))
        }
    };
    Ok(viewer.page(status, "Redaction queue", Nav::Admin, notice, main))
}

pub async fn queue(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    render_queue(
        &state,
        &viewer,
        page_number(q.page.as_deref()),
        StatusCode::OK,
        None,
        layout::notice(q.notice.as_deref()),
    )
    .await
}

async fn resolve(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    form: &Form,
    resolution: Resolution,
) -> Result<Response, WebError> {
    viewer.check_csrf(form)?;
    let id = path_id(id)?;
    match state
        .services
        .resolve_redaction(id, resolution, viewer.user.id)
        .await
    {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/gdpr/redactions?notice={}",
            match resolution {
                Resolution::Redact => "redaction_redacted",
                Resolution::Dismiss => "redaction_dismissed",
            }
        ))),
        // Already resolved (another tab, another administrator): the queue
        // again, with why nothing happened.
        Err(ServiceError::Conflict(m)) => {
            render_queue(state, viewer, 1, StatusCode::CONFLICT, Some(&m), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn redact(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    resolve(&state, &viewer, &id, &form, Resolution::Redact).await
}

pub async fn dismiss(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    resolve(&state, &viewer, &id, &form, Resolution::Dismiss).await
}
