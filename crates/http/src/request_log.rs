//! The HTTP side of the request log: what the middleware keeps of a request
//! for its log line. Only cheap copies happen here (the path, the raw query,
//! a reference-counted body); parsing, secret filtering and writing are the
//! writer thread's work in `steward_services::request_log`.
//!
//! Headers are never logged, so `Authorization` and `Cookie` cannot leak;
//! the query and body parameters are filtered by name before they are
//! written.

use std::borrow::Cow;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_services::request_log::{BodyKind, Entry};

use crate::error_document::{body_too_large, is_json_like, slow_body, unreadable_body};
use crate::AppState;

/// What is known of a request when it arrives, while the log is on.
pub struct Pending {
    time: Timestamp,
    query: Option<String>,
}

impl Pending {
    /// `None` when the log is off: then nothing is copied at all.
    pub fn start(state: &AppState, req: &Request) -> Option<Pending> {
        state.services.request_log().is_enabled().then(|| Pending {
            time: Timestamp::now(),
            query: req.uri().query().map(str::to_string),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        self,
        state: &AppState,
        request_id: String,
        user_id: Option<UserId>,
        method: &Method,
        path: String,
        body: Option<(BodyKind, Bytes)>,
        status: u16,
        duration_micros: u64,
    ) {
        state.services.request_log().record(Entry {
            time: self.time,
            request_id,
            user_id,
            method: method_name(method),
            path,
            query: self.query,
            body,
            status,
            duration_micros,
        });
    }
}

fn method_name(m: &Method) -> Cow<'static, str> {
    match *m {
        Method::GET => Cow::Borrowed("GET"),
        Method::POST => Cow::Borrowed("POST"),
        Method::PATCH => Cow::Borrowed("PATCH"),
        Method::PUT => Cow::Borrowed("PUT"),
        Method::DELETE => Cow::Borrowed("DELETE"),
        Method::HEAD => Cow::Borrowed("HEAD"),
        Method::OPTIONS => Cow::Borrowed("OPTIONS"),
        _ => Cow::Owned(m.as_str().to_string()),
    }
}

/// The kind of body whose parameters the log shows: JSON (also without a
/// Content-Type, as the API reads it) and HTML forms. Anything else (files,
/// later) is not read.
fn body_kind(headers: &HeaderMap) -> Option<BodyKind> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Some(BodyKind::Json);
    };
    let ct = ct.to_str().ok()?.to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if is_json_like(essence) {
        Some(BodyKind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else {
        None
    }
}

/// Paths whose request bodies are never logged: the data controller's
/// GDPR requests, over the API and in the web UI, and the web UI's erasure
/// forms, which confirm with the login of the person being erased.
fn is_about_people(path: &str) -> bool {
    path.starts_with("/api/v3/gdpr/")
        || path.starts_with("/admin/gdpr/")
        || (path.starts_with("/admin/users/") && path.ends_with("/erase"))
        || path == "/my/delete"
}

/// Reads the body of a request that has one worth logging and gives the
/// handler an identical copy. A request without a body (every GET) is
/// passed on untouched, and so is every request while the log is off. A
/// body over the limit or one that cannot be read is refused with the
/// answer to send.
pub async fn take_body(
    state: &AppState,
    req: Request,
) -> Result<(Request, Option<(BodyKind, Bytes)>), Response> {
    if !state.services.request_log().is_enabled() || req.body().is_end_stream() {
        return Ok((req, None));
    }
    // The data controller's requests (erasure, residue scan), in the API
    // and in the web UI's GDPR pages, name the people they concern: their
    // bodies would write an erased person's login and email back into the
    // log right after erasure took them out.
    if is_about_people(req.uri().path()) {
        return Ok((req, None));
    }
    let Some(kind) = body_kind(req.headers()) else {
        return Ok((req, None));
    };
    // The same answer the JSON extractor gives, so that a client cannot
    // tell whether the log is on.
    let limit = state.http.max_body_bytes;
    if req.body().size_hint().lower() > limit as u64 {
        return Err(body_too_large(limit));
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(body_too_large(limit))
        }
        Err(e) => return Err(slow_body(e.as_ref()).unwrap_or_else(unreadable_body)),
    };
    let req = Request::from_parts(parts, Body::from(bytes.clone()));
    Ok((req, Some((kind, bytes))))
}
