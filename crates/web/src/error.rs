//! Errors as people see them: a friendly page in the shared layout with
//! the request id to quote, never an internal message or a stack trace.
//! Internal causes are logged with that id.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use steward_services::ServiceError;

use crate::layout::{self, Chrome, Nav};

#[derive(Debug)]
pub enum WebError {
    /// The page needs a signed-in person; `next` is where to come back to.
    SignInRequired {
        next: String,
    },
    NotFound,
    Forbidden(String),
    /// A form without this session's CSRF token.
    Csrf,
    BadRequest(String),
    Unavailable,
    Internal(String),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => WebError::NotFound,
            ServiceError::Forbidden(m) => WebError::Forbidden(m),
            ServiceError::Invalid(v) => WebError::BadRequest(v.to_string()),
            ServiceError::StaleLockVersion(m) | ServiceError::Conflict(m) => {
                WebError::BadRequest(m)
            }
            ServiceError::Busy => WebError::Unavailable,
            ServiceError::Internal(cause) => WebError::Internal(cause),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            WebError::SignInRequired { next } => {
                let query = serde_urlencoded::to_string([("next", next.as_str())])
                    .unwrap_or_default();
                return layout::see_other(&format!("/login?{query}"));
            }
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such page, or you are not allowed to see it.".to_string(),
            ),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from a current Steward page (its security token is missing or outdated). Go back, reload the page and try again.".to_string(),
            ),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            WebError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "Steward is busy right now. Please try again in a moment.".to_string(),
            ),
            WebError::Internal(cause) => {
                let request_id = steward_services::audit::current_request_id().unwrap_or_default();
                tracing::error!(%request_id, %cause, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Steward could not do this because of an internal error. It has been logged under the request id below.".to_string(),
                )
            }
        };
        error_page(status, title, &text)
    }
}

pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let request_id = steward_services::audit::current_request_id();
    let chrome = Chrome {
        user: None,
        csrf: None,
        nav: Nav::Plain,
    };
    let main = html! {
        section.error-page {
            h1 { (title) }
            p { (text) }
            @if let Some(id) = request_id {
                p.muted { "Request id: " code { (id) } " — quote it when you report a problem." }
            }
            p { a href="/" { "Go to the home page" } }
        }
    };
    layout::html_response(status, layout::document(title, &chrome, None, main))
}

/// Whether the answer to a path no route serves is this crate's page: a
/// browser asks for HTML, and the path is not the API's (`/api`, `/health`),
/// whose clients get the API's JSON answer whatever they accept.
pub fn answers_not_found(req: &Request) -> bool {
    let path = req.uri().path();
    let wants_html = req
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    wants_html && path != "/api" && !path.starts_with("/api/") && path != "/health"
}

/// The friendly "not found" page, with the pages' security headers.
pub async fn not_found_page() -> Response {
    crate::security_headers(WebError::NotFound.into_response()).await
}
