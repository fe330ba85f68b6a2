//! Errors of the use cases. Storage errors that a person can act on (a login
//! already taken) are turned into precise variants here; the rest, like
//! every other failure that is not the caller's doing, are `Internal`.
//!
//! `Internal` carries the cause for the operator (the server log, the
//! command line's error line); the HTTP front-ends never show it to the
//! caller, who gets a generic message and the request id to quote.

use steward_domain::{ValidationError, ValidationErrors};
use steward_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input was refused; every error found is listed (at least one).
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may see the resource but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Optimistic locking: the resource changed since the client read it.
    #[error("{0}")]
    StaleLockVersion(String),
    /// The request conflicts with the current state (for example: locking the last administrator).
    #[error("{0}")]
    Conflict(String),
    #[error("the database is busy; try again")]
    Busy,
    /// Not the caller's doing: the database failed, a file could not be
    /// written, hashing failed, a stored document no longer parses. The
    /// text names the cause, for the log only.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// An internal failure: `what` was being done when `cause` happened.
    pub fn internal(what: impl std::fmt::Display, cause: impl std::fmt::Display) -> Self {
        ServiceError::Internal(format!("{what}: {cause}"))
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        ServiceError::Invalid(e.into())
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        ServiceError::Invalid(e)
    }
}

/// The value of `result`; or, when it is a validation failure, `None` once
/// its errors are pushed into `errors`, so that checking goes on. Any
/// other failure is returned.
pub(crate) fn gather<T>(
    errors: &mut ValidationErrors,
    result: Result<T, ServiceError>,
) -> Result<Option<T>, ServiceError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ServiceError::Invalid(e)) => {
            errors.extend(e);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Busy => ServiceError::Busy,
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// Turns a unique-index violation on the users table into the validation
/// error a person understands; other errors pass through.
pub(crate) fn user_uniqueness(e: StorageError) -> ServiceError {
    if let StorageError::Unique(what) = &e {
        if what.contains("login_key") {
            return ValidationError::new("login", "Login has already been taken.").into();
        }
        if what.contains("email_key") {
            return ValidationError::new("email", "Email has already been taken.").into();
        }
    }
    e.into()
}
