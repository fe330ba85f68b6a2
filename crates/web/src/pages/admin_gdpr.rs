//! The data controller's GDPR pages: the record of processing activities
//! (Art. 30) and the redaction queue, where texts that still mention an
//! erased person are redacted or dismissed one by one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_http::AppState;
use steward_services::gdpr::redaction::{QueueEntry, Resolution};
use steward_services::ServiceError;
use steward_storage::redactions::Place;

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, Nav};
use crate::pages::{admin_menu, page_number, page_of, pager, path_id, PageQuery};
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
    let (entries, total, page) = page_of(page, PER_PAGE, |offset| {
        state
            .services
            .redaction_queue(Some("open"), offset, PER_PAGE)
    })
    .await?;
    let main = html! {
        (admin_menu("/admin/gdpr/redactions"))
        h1 { "Redaction queue" }
        p { "Texts written by others that still mention an erased person. Review each one: redact replaces the mention; dismiss keeps the text as it is." }
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
                                td { (place_link(e)) }
                                td {
                                    @for c in &e.contexts { p { "…" (c) "…" } }
                                    @if e.contexts.is_empty() { span.muted { "The text no longer contains the mention." } }
                                }
                                td { a href=(format!("/admin/erasures/{}", e.certificate_id)) { "No. " (e.certificate_id) } }
                                td { a.button href=(format!("/admin/gdpr/redactions/{}", e.id)) { "Review" } }
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

/// Where a queued text is, linked to the page that shows it.
fn place_link(e: &QueueEntry) -> Markup {
    let label = format!("{}.{} #{}", e.table, e.column, e.row_id);
    let href = match &e.place {
        Some(Place::WorkPackage { id, journal: None }) => format!("/work_packages/{id}"),
        Some(Place::WorkPackage {
            id,
            journal: Some(j),
        }) => format!("/work_packages/{id}#activity-{j}"),
        Some(Place::Project { identifier }) => format!("/projects/{identifier}"),
        None => return html! { code { (label) } },
    };
    html! { a href=(href) { code { (label) } } }
}

/// One entry, with the text around each mention, a link to where people
/// read it and what each choice does: the only page from which an entry
/// is redacted or dismissed, so neither happens by a stray click.
async fn render_entry(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let e = state.services.redaction_entry(id).await?;
    let title = format!("Redaction entry {}", e.id);
    let main = html! {
        (admin_menu("/admin/gdpr/redactions"))
        p.crumbs { a href="/admin/gdpr/redactions" { "Redaction queue" } " › " (title) }
        h1 { (title) }
        @if let Some(m) = error { div.alert role="alert" { (m) } }
        dl {
            dt { "Where" } dd { (place_link(&e)) }
            dt { "Erasure" } dd { a href=(format!("/admin/erasures/{}", e.certificate_id)) { "Certificate No. " (e.certificate_id) } }
            dt { "State" } dd { (e.status) }
        }
        @if e.status == "open" {
            h2 { "The text around each mention" }
            @for c in &e.contexts { blockquote { "…" (c) "…" } }
            @if e.contexts.is_empty() { p.muted { "The text no longer contains the mention." } }
            p { strong { "Redact" } " replaces every mention of the erased person in this text with “[redacted]”, in its history too. It cannot be undone." }
            p { strong { "Dismiss" } " keeps the text as it is and closes the entry." }
            div.actions {
                form.inline method="post" action=(format!("/admin/gdpr/redactions/{}/redact", e.id)) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    input type="hidden" name="confirm" value="redact";
                    button.danger type="submit" { "Redact this text" }
                }
                form.inline method="post" action=(format!("/admin/gdpr/redactions/{}/dismiss", e.id)) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    input type="hidden" name="confirm" value="dismiss";
                    button type="submit" { "Dismiss" }
                }
                a href="/admin/gdpr/redactions" { "Back to the queue" }
            }
        }
    };
    Ok(viewer.page(status, &title, Nav::Admin, None, main))
}

pub async fn entry(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    render_entry(&state, &viewer, path_id(&id)?, StatusCode::OK, None).await
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
    let (confirm, notice) = match resolution {
        Resolution::Redact => ("redact", "redaction_redacted"),
        Resolution::Dismiss => ("dismiss", "redaction_dismissed"),
    };
    // Acted on only as confirmed on the entry's page.
    if form.get("confirm") != Some(confirm) {
        return render_entry(
            state,
            viewer,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Nothing was changed: review the text below, then confirm with its button."),
        )
        .await;
    }
    match state
        .services
        .resolve_redaction(id, resolution, viewer.user.id)
        .await
    {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/gdpr/redactions?notice={notice}"
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
