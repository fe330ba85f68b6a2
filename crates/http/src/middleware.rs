//! Layers every request goes through: path normalisation (before routing),
//! a request id, a panic guard and one log line per request.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;
use tracing::Instrument;

use crate::error_document;
use crate::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Collapses repeated slashes and drops a trailing one, so that
/// `/api/v3/work_packages//42/` routes like `/api/v3/work_packages/42`
/// (OpenProject clients send both).
pub fn normalize_path(mut req: Request) -> Request {
    let path = req.uri().path();
    if !(path.contains("//") || (path.len() > 1 && path.ends_with('/'))) {
        return req;
    }
    let mut clean = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        clean.push('/');
        clean.push_str(seg);
    }
    if clean.is_empty() {
        clean.push('/');
    }
    if let Some(q) = req.uri().query() {
        clean.push('?');
        clean.push_str(q);
    }
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = clean.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

fn acceptable_incoming_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (1..=64).contains(&s.len()).then_some(())?;
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        .then(|| s.to_string())
}

fn new_request_id() -> String {
    let bytes = steward_services::secrets::random_bytes::<9>();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Gives every request an id (a sane incoming `X-Request-Id` is kept),
/// turns a panic into a 500 in the API's error format, and logs one line
/// per request: method, path (never the query, which may carry secrets),
/// status and duration. It also sets up the slot in which authentication
/// records the caller, and writes the request log's line (see
/// [`crate::request_log`]).
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_incoming_id)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let logged = crate::request_log::Pending::start(&state, &req);
    let actor = Arc::new(steward_services::audit::ActorSlot::default());
    let serve = async {
        let (req, body) = match crate::request_log::take_body(&state, req).await {
            Ok(read) => read,
            Err(refused) => return (refused, None),
        };
        (next.run(req).await, body)
    };
    // The id and the caller ride along in task-locals so that audit entries
    // written deep inside a use case carry them.
    let serve = steward_services::audit::REQUEST_ID.scope(
        id.clone(),
        steward_services::audit::ACTOR.scope(actor.clone(), serve),
    );
    let (mut res, body) = match AssertUnwindSafe(serve.instrument(span))
        .catch_unwind()
        .await
    {
        Ok(served) => served,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            // The task-local request id ended with the panicking task: set it
            // again so that the answer and the log line carry it.
            let cause = format!("panic while serving {method} {path}: {what}");
            let res = steward_services::audit::REQUEST_ID
                .sync_scope(id.clone(), || error_document::internal(&cause));
            (res, None)
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let status = res.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::error!(request_id = %id, %method, %path, status, micros, "request failed");
    } else {
        tracing::debug!(request_id = %id, %method, %path, status, micros, "request");
    }
    if let Some(logged) = logged {
        logged.finish(&state, id, actor.get(), &method, path, body, status, micros);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let req = Request::builder()
            .uri(s)
            .body(axum::body::Body::empty())
            .unwrap();
        normalize_path(req).uri().to_string()
    }

    #[test]
    fn normalises_slashes() {
        assert_eq!(
            norm("/api/v3/work_packages//42"),
            "/api/v3/work_packages/42"
        );
        assert_eq!(
            norm("/api/v3/work_packages/?filters=[]"),
            "/api/v3/work_packages?filters=[]"
        );
        assert_eq!(norm("//"), "/");
        assert_eq!(norm("/api/v3"), "/api/v3");
    }
}
