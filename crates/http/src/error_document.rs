//! The error document of OpenProject's API v3 (`_type: Error`,
//! `errorIdentifier`, `message`), written in one place: the API's errors
//! and the shared layers' own answers (a body too large to read, a panic)
//! use it alike.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_domain::ValidationError;

const URN: &str = "urn:openproject-org:api:v3:errors:";

/// The media type of API v3 documents.
pub const HAL_JSON: &str = "application/hal+json";

/// One error answer: status, the last part of the error's URN, the message
/// and, for a property that failed validation, its name. An answer that
/// aggregates several errors (`MultipleErrors`) embeds them under
/// `_embedded.errors`, each a PropertyConstraintViolation naming its
/// attribute: the body is still one error object, as API v3 promises.
pub struct ErrorDocument<'a> {
    pub status: StatusCode,
    pub identifier: &'static str,
    pub message: &'a str,
    pub attribute: Option<&'static str>,
    pub errors: &'a [ValidationError],
}

/// The message of an error that aggregates several validation errors.
pub const MULTIPLE_ERRORS_MESSAGE: &str = "Multiple field constraints have been violated.";

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "_type")]
    kind: &'static str,
    #[serde(rename = "errorIdentifier")]
    error_identifier: String,
    message: &'a str,
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<Embedded<'a>>,
}

/// One property's error, as it stands alone or inside `MultipleErrors`.
fn property_error<'a>(attribute: &'static str, message: &'a str) -> Body<'a> {
    Body {
        kind: "Error",
        error_identifier: format!("{URN}PropertyConstraintViolation"),
        message,
        embedded: Some(Embedded {
            details: Some(Details { attribute }),
            errors: None,
        }),
    }
}

#[derive(Serialize)]
struct Embedded<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<Body<'a>>>,
}

#[derive(Serialize)]
struct Details {
    attribute: &'static str,
}

impl IntoResponse for ErrorDocument<'_> {
    fn into_response(self) -> Response {
        let embedded = if self.errors.is_empty() {
            self.attribute.map(|attribute| Embedded {
                details: Some(Details { attribute }),
                errors: None,
            })
        } else {
            Some(Embedded {
                details: None,
                errors: Some(
                    self.errors
                        .iter()
                        .map(|e| property_error(e.attribute, &e.message))
                        .collect(),
                ),
            })
        };
        let body = Body {
            kind: "Error",
            error_identifier: format!("{URN}{}", self.identifier),
            message: self.message,
            embedded,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (self.status, bytes).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Steward API\""),
            );
        }
        res
    }
}

/// The message for a request body over `server.max_body_bytes`.
pub fn body_too_large_message(limit: usize) -> String {
    format!("The request body is larger than the limit of {limit} bytes.")
}

/// Whether a Content-Type essence (lower case, no parameters) is one the
/// API reads as JSON; an empty one counts.
pub fn is_json_like(essence: &str) -> bool {
    essence.is_empty()
        || essence == "application/json"
        || essence == "application/hal+json"
        || essence.ends_with("+json")
}

/// The shared layers' answer to a body over the limit.
pub fn body_too_large(limit: usize) -> Response {
    ErrorDocument {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        identifier: "InvalidRequestBody",
        message: &body_too_large_message(limit),
        attribute: None,
        errors: &[],
    }
    .into_response()
}

/// The error a request body gives when it did not arrive within
/// `server.body_read_timeout_seconds` (raised by the server's listener).
#[derive(Debug)]
pub struct BodyReadTimeout {
    pub seconds: u64,
}

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} seconds",
            self.seconds
        )
    }
}

impl std::error::Error for BodyReadTimeout {}

/// What a client is told when its body failed because it arrived too
/// slowly, if that is why it failed.
pub fn slow_body_message(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(timeout) = c.downcast_ref::<BodyReadTimeout>() {
            return Some(format!(
                "The request body did not arrive within {} seconds.",
                timeout.seconds
            ));
        }
        cause = c.source();
    }
    None
}

/// The shared layers' answer to a body that arrived too slowly, if that is
/// why reading it failed.
pub fn slow_body(e: &(dyn std::error::Error + 'static)) -> Option<Response> {
    slow_body_message(e).map(|message| {
        ErrorDocument {
            status: StatusCode::BAD_REQUEST,
            identifier: "InvalidRequestBody",
            message: &message,
            attribute: None,
            errors: &[],
        }
        .into_response()
    })
}

/// The shared layers' answer to a body that could not be read.
pub fn unreadable_body() -> Response {
    ErrorDocument {
        status: StatusCode::BAD_REQUEST,
        identifier: "InvalidRequestBody",
        message: "The request body could not be read completely.",
        attribute: None,
        errors: &[],
    }
    .into_response()
}

/// Logs an internal failure's cause with the request id and returns what
/// the client is told instead: a generic message naming that id, so that
/// a report can be matched to the log line. Never the cause itself.
pub fn internal_message(cause: &str) -> String {
    match steward_services::audit::current_request_id() {
        Some(request_id) => {
            tracing::error!(%request_id, %cause, "internal error");
            format!(
                "An internal error has occurred. Quote the request id {request_id} when you report it; the cause is in the server log under that id."
            )
        }
        None => {
            tracing::error!(%cause, "internal error");
            "An internal error has occurred; the cause is in the server log.".into()
        }
    }
}

/// The answer to an internal failure: its cause is logged, not shown.
pub fn internal(cause: &str) -> Response {
    ErrorDocument {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        identifier: "InternalServerError",
        message: &internal_message(cause),
        attribute: None,
        errors: &[],
    }
    .into_response()
}
