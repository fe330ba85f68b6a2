//! `/api/v3/my/...`: Steward's own endpoints for the signed-in person:
//! signing in and out (server-side sessions), listing and revoking
//! sessions, changing the password, and API tokens.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_domain::Timestamp;
use steward_storage::api_tokens::ApiToken;
use steward_storage::sessions::Session;

use steward_http::client::Client;
use steward_http::cookies;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody};
use crate::hal::{ok, Hal, Link};
use crate::routes::users::{represent, UserRepr};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    current: bool,
    user_agent: Option<String>,
    ip_address: Option<String>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    /// Only on the session making the request: send it as X-CSRF-Token.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<SessionEmbedded>,
    #[serde(rename = "_links")]
    links: SessionLinks,
}

#[derive(Serialize)]
pub struct SessionEmbedded {
    user: UserRepr,
}

#[derive(Serialize)]
pub struct SessionLinks {
    #[serde(rename = "self")]
    self_: Link,
    revoke: Link,
}

fn represent_session(
    s: &Session,
    current: Option<&Session>,
    user: Option<&steward_domain::user::User>,
) -> SessionRepr {
    let is_current = current.is_some_and(|c| c.id == s.id);
    SessionRepr {
        kind: "Session",
        id: s.id,
        current: is_current,
        user_agent: s.user_agent.clone(),
        ip_address: s.ip_address.clone(),
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        csrf_token: is_current.then(|| s.csrf_token.clone()),
        embedded: user.map(|u| SessionEmbedded {
            user: represent(u, u.admin),
        }),
        links: SessionLinks {
            self_: Link::new(format!("/api/v3/my/sessions/{}", s.id)),
            revoke: Link::new(format!("/api/v3/my/sessions/{}", s.id)).method("delete"),
        },
    }
}

fn session_cookie(state: &AppState, value: &str, clear: bool) -> HeaderValue {
    HeaderValue::from_str(&cookies::session_cookie(state, value, clear))
        .expect("cookie header is ASCII")
}

#[derive(Deserialize)]
pub struct SignInBody {
    login: String,
    password: String,
}

/// Signs in with login and password and sets the session cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(body): JsonBody<SignInBody>,
) -> Result<Response, ApiError> {
    let signed_in = state
        .services
        .sign_in(&body.login, &body.password, &client)
        .await?;
    // From here on the request is the person's own: their request-log line
    // says so.
    steward_services::audit::set_current_actor(signed_in.user.id);
    let repr = represent_session(
        &signed_in.session,
        Some(&signed_in.session),
        Some(&signed_in.user),
    );
    let mut res = Hal(StatusCode::CREATED, repr).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &signed_in.cookie_value, false),
    );
    Ok(res)
}

fn require_session(caller: &SignedIn) -> Result<&Session, ApiError> {
    caller.session().ok_or_else(|| {
        ApiError::InvalidRequestBody(
            "This endpoint works on the session of a signed-in browser, not with an API token."
                .into(),
        )
    })
}

pub async fn current_session(caller: SignedIn) -> Result<Hal<SessionRepr>, ApiError> {
    let session = require_session(&caller)?;
    Ok(ok(represent_session(
        session,
        Some(session),
        Some(&caller.user),
    )))
}

/// Signs out: the session is deleted on the server and the cookie cleared.
pub async fn sign_out(
    State(state): State<AppState>,
    caller: SignedIn,
) -> Result<Response, ApiError> {
    let session = require_session(&caller)?;
    state.services.sign_out(session).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", true));
    Ok(res)
}

#[derive(Serialize)]
pub struct List<T> {
    #[serde(rename = "_type")]
    kind: &'static str,
    total: usize,
    count: usize,
    #[serde(rename = "_embedded")]
    embedded: ListElements<T>,
}

#[derive(Serialize)]
pub struct ListElements<T> {
    elements: Vec<T>,
}

fn list<T>(elements: Vec<T>) -> List<T> {
    List {
        kind: "Collection",
        total: elements.len(),
        count: elements.len(),
        embedded: ListElements { elements },
    }
}

pub async fn list_sessions(
    State(state): State<AppState>,
    caller: SignedIn,
) -> Result<Hal<List<SessionRepr>>, ApiError> {
    let sessions = state.services.sessions_of(caller.user.id).await?;
    let current = caller.session();
    Ok(ok(list(
        sessions
            .iter()
            .map(|s| represent_session(s, current, None))
            .collect(),
    )))
}

pub async fn revoke_session(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_session(caller.user.id, parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every other session of the caller: all but the one asking when
/// it is a browser session, all of them when the caller uses a token.
pub async fn end_other_sessions(
    State(state): State<AppState>,
    caller: SignedIn,
) -> Result<StatusCode, ApiError> {
    let keep = caller.session().map(|s| s.id);
    state
        .services
        .end_other_sessions(caller.user.id, keep)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes one's own password; every other session of the user ends.
pub async fn change_password(
    State(state): State<AppState>,
    caller: SignedIn,
    Client(client): Client,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let keep = caller.session().map(|s| s.id);
    state
        .services
        .change_own_password(
            &caller.user,
            &body.current_password,
            body.new_password,
            keep,
            &client,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    /// Only in the answer to the creation: it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(rename = "_links")]
    links: TokenLinks,
}

#[derive(Serialize)]
pub struct TokenLinks {
    #[serde(rename = "self")]
    self_: Link,
    revoke: Link,
}

fn represent_token(t: &ApiToken, secret: Option<String>) -> TokenRepr {
    let href = format!("/api/v3/my/api_tokens/{}", t.id);
    TokenRepr {
        kind: "ApiToken",
        id: t.id,
        name: t.name.clone(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        token: secret,
        links: TokenLinks {
            self_: Link::new(href.clone()),
            revoke: Link::new(href).method("delete"),
        },
    }
}

pub async fn list_tokens(
    State(state): State<AppState>,
    caller: SignedIn,
) -> Result<Hal<List<TokenRepr>>, ApiError> {
    let tokens = state.services.api_tokens_of(caller.user.id).await?;
    Ok(ok(list(
        tokens.iter().map(|t| represent_token(t, None)).collect(),
    )))
}

#[derive(Deserialize)]
pub struct TokenBody {
    name: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Hal<TokenRepr>, ApiError> {
    let (token, secret) = state
        .services
        .create_api_token(caller.user.id, body.name.as_deref().unwrap_or(""))
        .await?;
    Ok(Hal(
        StatusCode::CREATED,
        represent_token(&token, Some(secret)),
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_api_token(caller.user.id, parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
