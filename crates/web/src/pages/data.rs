//! My data: "Download my data" (the personal-data export, made by a
//! background job, with its progress) and "Delete my account" (when the
//! instance allows it), with a confirmation that lists exactly what the
//! erasure will do, taken from the same preview administrators get.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::html;
use steward_http::AppState;
use steward_services::gdpr::certificate::Requester;
use steward_services::ServiceError;
use steward_storage::gdpr_exports::ExportStatus;

use super::NoticeQuery;
use crate::error::WebError;
use crate::forms::{Form, Query};
use crate::layout::{self, Nav};
use crate::session::{session_cookie, Viewer};

use super::account::{tabs, Tab};

pub async fn data(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let exports = state
        .services
        .exports_of(&viewer.user, viewer.user.id)
        .await?;
    let pending = exports
        .iter()
        .any(|e| matches!(e.status, ExportStatus::Queued | ExportStatus::Running));
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Data))
        section {
            h2 { "Download my data" }
            p {
                "An archive (.tar.gz) with everything Steward holds about you: your account, "
                "your memberships, the work packages and comments you wrote or are named in, "
                "your sessions and tokens (without their secrets) and the change history. "
                "It is made in the background; this page updates itself until it is ready."
            }
            form.inline method="post" action="/my/data" {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                button.primary type="submit" disabled[pending] { "Request an export" }
            }
            @if !exports.is_empty() {
                div.table-wrap.spaced {
                    table.list {
                        thead { tr { th scope="col" { "Requested" } th scope="col" { "Status" } th scope="col" { "Size" } th scope="col" { "Download" } } }
                        tbody {
                            @for e in &exports {
                                tr {
                                    td { (viewer.time(e.created_at)) }
                                    td #(format!("export-{}-status", e.id)) { span.badge { (e.status.as_str()) } }
                                    td { @if let Some(b) = e.size_bytes { (b) " bytes" } @else { "—" } }
                                    td {
                                        @if e.status == ExportStatus::Ready {
                                            // The API serves the archive; the session cookie is valid there.
                                            a.download href=(format!("/api/v3/exports/{}/archive", e.id)) download { "Download" }
                                            @if let Some(at) = e.expires_at { br; span.muted { "until " (viewer.time(at)) } }
                                        } @else { "—" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut res = viewer.page(
        StatusCode::OK,
        "Download my data",
        Nav::Account,
        layout::notice(q.notice.as_deref()),
        main,
    );
    if pending {
        // Progress without script: the browser asks again in a few seconds
        // (a header, not an inline element, so the CSP has nothing to say).
        res.headers_mut()
            .insert(header::REFRESH, axum::http::HeaderValue::from_static("3"));
    }
    Ok(res)
}

pub async fn request_export(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    state
        .services
        .request_export(&viewer.user, viewer.user.id)
        .await?;
    Ok(layout::see_other("/my/data?notice=export_requested"))
}

async fn delete_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let allowed = state.services.deletion_settings().await?.by_self;
    let preview = if allowed {
        Some(state.services.erasure_preview(viewer.user.id).await?)
    } else {
        None
    };
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Delete))
        section.narrow {
            h2 { "Delete my account" }
            @match &preview {
                None => {
                    p { "Deleting your own account is switched off on this instance. Ask an administrator: they can erase it for you." }
                }
                Some(p) => {
                    p { "Deleting your account " strong { "cannot be undone" } ". Right away:" }
                    ul {
                        li { "You are signed out everywhere; your sessions and API tokens stop working." }
                        li { "Your account, with your login, name, email and settings, is erased." }
                        li { "What you did stays for your colleagues (work packages, comments, changes), but it shows \"Deleted user\" instead of you." }
                        li { "Your data exports are deleted." }
                        @if p.mentions_in_text > 0 {
                            li { (p.mentions_in_text) " text(s) mention you with @: they will point to \"Deleted user\"." }
                        }
                        @if p.texts_for_review > 0 {
                            li { (p.texts_for_review) " text(s) still name you in other words: they are listed for an administrator to redact." }
                        }
                    }
                    @if !p.changes.is_empty() {
                        details {
                            summary { "Exactly what will be changed" }
                            div.table-wrap {
                                table.list {
                                    thead { tr { th scope="col" { "Table" } th scope="col" { "Column" } th scope="col" { "Action" } th scope="col" { "Rows" } } }
                                    tbody {
                                        @for c in &p.changes {
                                            tr { td { code { (c.table) } } td { code { (c.column) } } td { (c.action) } td { (c.rows) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p { "Steward keeps a certificate of the erasure that does not name you." }
                    @if let Some(e) = error { div.alert role="alert" { (e) } }
                    form.stack method="post" action="/my/delete" {
                        input type="hidden" name="csrf_token" value=(viewer.csrf());
                        div.field {
                            label for="confirm-login" { "Type your login, " code { (viewer.user.login) } ", to confirm" }
                            input #confirm-login name="confirm_login" type="text" required autocomplete="off";
                        }
                        button.danger type="submit" { "Delete my account" }
                    }
                }
            }
        }
    };
    Ok(viewer.page(status, "Delete my account", Nav::Account, None, main))
}

pub async fn delete_form(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    delete_page(&state, &viewer, StatusCode::OK, None).await
}

pub async fn delete_account(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    if form.text("confirm_login").trim() != viewer.user.login {
        return delete_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("The login you typed does not match: nothing was deleted."),
        )
        .await;
    }
    // The same decision the API makes: the setting, and who asks.
    let requester: Requester = match state
        .services
        .erasure_requester(&viewer.user, viewer.user.id)
        .await
    {
        Ok(r) => r,
        Err(ServiceError::Forbidden(m) | ServiceError::Conflict(m)) => {
            return delete_page(&state, &viewer, StatusCode::FORBIDDEN, Some(&m)).await
        }
        Err(e) => return Err(e.into()),
    };
    match state.services.erase_user(viewer.user.id, requester).await {
        Ok(_) => {
            let mut res = layout::see_other("/login?notice=account_deleted");
            if let Ok(v) = session_cookie(&state, "", true).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        // The last administrator, for example.
        Err(ServiceError::Conflict(m)) => {
            delete_page(&state, &viewer, StatusCode::CONFLICT, Some(&m)).await
        }
        Err(e) => Err(e.into()),
    }
}
