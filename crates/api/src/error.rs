//! Errors as API clients see them.
//!
//! Policy: handlers return `ApiError`. Each variant knows its HTTP status and
//! its API v3 error identifier, and renders as the API's `Error` object
//! (`_type`, `errorIdentifier`, `message`). Internal causes (storage
//! failures, panics) are logged with the request id and never shown: the
//! client gets a generic message. Validation errors name the attribute in
//! `_embedded.details.attribute`, as OpenProject does; several at once are
//! one `MultipleErrors` error embedding each of them in `_embedded.errors`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_domain::ValidationErrors;
use steward_http::error_document::{internal_message, ErrorDocument, MULTIPLE_ERRORS_MESSAGE};
use steward_services::auth::SignInError;
use steward_services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidRequestBody(String),
    #[error("{message}")]
    PropertyConstraintViolation {
        attribute: &'static str,
        message: String,
    },
    /// More than one property is invalid; holds them all.
    #[error("{0}")]
    MultipleErrors(ValidationErrors),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    MissingPermission(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    UpdateConflict(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// The resource existed and is gone for good (an expired export archive).
    #[error("{0}")]
    Gone(String),
    /// Logged in full, shown to the client as a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found() -> Self {
        ApiError::NotFound("The requested resource could not be found.".into())
    }

    /// The answer to refused values: one PropertyConstraintViolation for
    /// one error, `MultipleErrors` for several.
    pub fn invalid(errors: ValidationErrors) -> Self {
        if errors.len() > 1 {
            return ApiError::MultipleErrors(errors);
        }
        match errors.into_iter().next() {
            Some(e) => ApiError::PropertyConstraintViolation {
                attribute: e.attribute,
                message: e.message,
            },
            None => ApiError::Internal("a refusal without an error".into()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidQuery(_) | ApiError::InvalidRequestBody(_) => StatusCode::BAD_REQUEST,
            ApiError::PropertyConstraintViolation { .. } | ApiError::MultipleErrors(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::MissingPermission(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UpdateConflict(_) | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The last part of the error's URN.
    pub fn identifier(&self) -> &'static str {
        match self {
            ApiError::InvalidQuery(_) => "InvalidQuery",
            ApiError::InvalidRequestBody(_) | ApiError::PayloadTooLarge(_) => "InvalidRequestBody",
            ApiError::PropertyConstraintViolation { .. } => "PropertyConstraintViolation",
            ApiError::MultipleErrors(_) => "MultipleErrors",
            ApiError::Unauthenticated(_) => "Unauthenticated",
            ApiError::MissingPermission(_) => "MissingPermission",
            ApiError::NotFound(_) => "NotFound",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::UpdateConflict(_) => "UpdateConflict",
            ApiError::Conflict(_) => "Conflict",
            ApiError::UnsupportedMediaType(_) => "TypeNotSupported",
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::Gone(_) => "Gone",
            ApiError::Internal(_) => "InternalServerError",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let internal;
        let message: &str = match &self {
            ApiError::Internal(cause) => {
                internal = internal_message(cause);
                &internal
            }
            ApiError::InvalidQuery(m)
            | ApiError::InvalidRequestBody(m)
            | ApiError::Unauthenticated(m)
            | ApiError::MissingPermission(m)
            | ApiError::NotFound(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::UpdateConflict(m)
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Unavailable(m)
            | ApiError::Gone(m) => m,
            ApiError::PropertyConstraintViolation { message, .. } => message,
            ApiError::MultipleErrors(_) => MULTIPLE_ERRORS_MESSAGE,
        };
        let attribute = match &self {
            ApiError::PropertyConstraintViolation { attribute, .. } => Some(*attribute),
            _ => None,
        };
        ErrorDocument {
            status: self.status(),
            identifier: self.identifier(),
            message,
            attribute,
            errors: match &self {
                ApiError::MultipleErrors(errors) => errors.as_slice(),
                _ => &[],
            },
        }
        .into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::invalid(errors),
            ServiceError::NotFound(what) => {
                ApiError::NotFound(format!("The {what} could not be found."))
            }
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Forbidden(m) => ApiError::MissingPermission(m),
            ServiceError::StaleLockVersion(m) => ApiError::UpdateConflict(m),
            ServiceError::Busy => ApiError::Unavailable("The database is busy; try again.".into()),
            ServiceError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<steward_storage::StorageError> for ApiError {
    fn from(e: steward_storage::StorageError) -> Self {
        ApiError::from(ServiceError::from(e))
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidCredentials => ApiError::Unauthenticated(e.to_string()),
            SignInError::Blocked { .. } | SignInError::Locked | SignInError::NotActive => {
                ApiError::MissingPermission(e.to_string())
            }
            SignInError::Service(s) => s.into(),
        }
    }
}

/// A validation error as an `Error` object inside a document (a form's
/// `validationErrors`).
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ErrorObject {
    #[serde(rename = "_type")]
    kind: &'static str,
    error_identifier: String,
    message: String,
    #[serde(rename = "_embedded")]
    embedded: ErrorObjectEmbedded,
}

#[derive(Serialize, Debug)]
pub struct ErrorObjectEmbedded {
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<ErrorObjectDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<ErrorObject>>,
}

#[derive(Serialize, Debug)]
pub struct ErrorObjectDetails {
    attribute: &'static str,
}

const URN: &str = "urn:openproject-org:api:v3:errors:";

fn property_error(attribute: &'static str, message: &str) -> ErrorObject {
    ErrorObject {
        kind: "Error",
        error_identifier: format!("{URN}PropertyConstraintViolation"),
        message: message.to_string(),
        embedded: ErrorObjectEmbedded {
            details: Some(ErrorObjectDetails { attribute }),
            errors: None,
        },
    }
}

/// A form's `validationErrors`: every error by its attribute, a
/// PropertyConstraintViolation each, or `MultipleErrors` embedding them
/// when one attribute has several, as OpenProject answers.
pub fn validation_errors(errors: &ValidationErrors) -> BTreeMap<&'static str, ErrorObject> {
    let mut by_attribute: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for e in errors {
        let messages = by_attribute.entry(e.attribute).or_default();
        if !messages.contains(&e.message.as_str()) {
            messages.push(&e.message);
        }
    }
    by_attribute
        .into_iter()
        .map(|(attribute, messages)| {
            let object = match messages.as_slice() {
                [one] => property_error(attribute, one),
                many => ErrorObject {
                    kind: "Error",
                    error_identifier: format!("{URN}MultipleErrors"),
                    message: MULTIPLE_ERRORS_MESSAGE.to_string(),
                    embedded: ErrorObjectEmbedded {
                        details: None,
                        errors: Some(many.iter().map(|m| property_error(attribute, m)).collect()),
                    },
                },
            };
            (attribute, object)
        })
        .collect()
}
