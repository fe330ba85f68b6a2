//! Who is calling. Every handler states it in its signature: [`Caller`]
//! (anyone, possibly anonymous), [`SignedIn`] (any authenticated user) or
//! [`Admin`]. Credentials are, in order: an `Authorization` header (HTTP
//! Basic with user name `apikey` and an API token as password, as
//! OpenProject does, or `Bearer <token>`), then the session cookie. A
//! state-changing request authenticated by cookie must carry the session's
//! CSRF token in `X-CSRF-Token`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use steward_domain::user::User;
use steward_http::cookies::cookie_value;
use steward_services::secrets::constant_time_eq;
use steward_storage::sessions::Session;

use crate::error::ApiError;
use crate::AppState;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Via {
    Token,
    Session(Session),
}

// Built once per request and moved, not copied around: boxing the user
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    User { user: User, via: Via },
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::User { user, .. } => Some(user),
            Caller::Anonymous => None,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = authenticate(parts, state).await?;
        if let Caller::User { user, .. } = &caller {
            // For audit entries and the request log's line.
            steward_services::audit::set_current_actor(user.id);
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = token_from_authorization(value.to_str().unwrap_or(""))?;
        return match state.services.user_for_api_token(&token).await? {
            Some(user) => Ok(Caller::User {
                user,
                via: Via::Token,
            }),
            None => Err(ApiError::Unauthenticated(
                "The API token is invalid, revoked, or belongs to an account that cannot sign in."
                    .into(),
            )),
        };
    }
    let Some(cookie) = cookie_value(&parts.headers, &state.http.cookie_name) else {
        return Ok(Caller::Anonymous);
    };
    let Some((session, user)) = state.services.session_from_cookie(&cookie).await? else {
        // An unknown or expired cookie is treated as no cookie at all.
        return Ok(Caller::Anonymous);
    };
    if !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent, &session.csrf_token) {
            return Err(ApiError::MissingPermission(
                "This request changes data and is authenticated by a session cookie: it must carry the session's CSRF token in the X-CSRF-Token header.".into(),
            ));
        }
    }
    Ok(Caller::User {
        user,
        via: Via::Session(session),
    })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Extracts the API token from `Basic base64(apikey:TOKEN)` or `Bearer TOKEN`.
fn token_from_authorization(value: &str) -> Result<String, ApiError> {
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Ok(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::Unauthenticated("The Basic credentials are not valid base64.".into())
            })?;
        return match decoded.split_once(':') {
            Some(("apikey", token)) if !token.is_empty() => Ok(token.to_string()),
            _ => Err(ApiError::Unauthenticated(
                "HTTP Basic authentication takes the user name \"apikey\" and an API token as the password.".into(),
            )),
        };
    }
    Err(ApiError::Unauthenticated(
        "The Authorization header must be \"Basic\" (apikey and an API token) or \"Bearer\" (an API token).".into(),
    ))
}

/// Any authenticated user.
pub struct SignedIn {
    pub user: User,
    pub via: Via,
}

impl SignedIn {
    pub fn session(&self) -> Option<&Session> {
        match &self.via {
            Via::Session(s) => Some(s),
            Via::Token => None,
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::User { user, via } => Ok(SignedIn { user, via }),
            Caller::Anonymous => Err(unauthenticated()),
        }
    }
}

pub fn unauthenticated() -> ApiError {
    ApiError::Unauthenticated(
        "You need to be authenticated to access this resource: send an API token (HTTP Basic with user name apikey, or Bearer) or sign in.".into(),
    )
}

/// An administrator. Only handlers that take this can do admin-only work.
pub struct Admin {
    pub user: User,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        if signed_in.user.admin {
            Ok(Admin {
                user: signed_in.user,
            })
        } else {
            Err(ApiError::MissingPermission(
                "You are not allowed to do this: it needs an administrator.".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_headers() {
        let basic = format!("Basic {}", STANDARD.encode("apikey:abc123"));
        assert_eq!(token_from_authorization(&basic).unwrap(), "abc123");
        assert_eq!(token_from_authorization("Bearer xyz").unwrap(), "xyz");
        assert!(
            token_from_authorization(&format!("Basic {}", STANDARD.encode("admin:pw"))).is_err()
        );
        assert!(token_from_authorization("Basic !!!").is_err());
        assert!(token_from_authorization("Digest foo").is_err());
        assert!(token_from_authorization("Bearer ").is_err());
    }
}
