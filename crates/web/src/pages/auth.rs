//! Signing in and out. The sign-in form has no session yet, so its CSRF
//! token is a double-submit cookie: a random value set with the form (only
//! for `/login`) that the posted form must repeat.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use steward_http::cookies::cookie_value;
use steward_http::AppState;
use steward_services::auth::SignInError;
use steward_services::secrets::{constant_time_eq, random_token};

use crate::error::WebError;
use crate::forms::{Form, Query};
use crate::layout::{self, Chrome, Nav};
use crate::session::{safe_next, session_cookie, Client, MaybeViewer, Viewer};

use steward_domain::record::LOGIN_CSRF_COOKIE;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

fn login_csrf_cookie(state: &AppState, value: &str, clear: bool) -> HeaderValue {
    let mut c = format!("{LOGIN_CSRF_COOKIE}={value}; Path=/login; HttpOnly; SameSite=Lax");
    if state.http.secure_cookies {
        c.push_str("; Secure");
    }
    if clear {
        c.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The form, with `error` above it and the login kept.
fn render(
    state: &AppState,
    status: StatusCode,
    login: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let token = random_token();
    let chrome = Chrome {
        user: None,
        csrf: None,
        nav: Nav::Plain,
    };
    let main = html! {
        section.narrow {
            h1 { "Sign in" }
            @if let Some(e) = error {
                div.alert role="alert" id="login-error" { (e) }
            }
            form.stack method="post" action="/login" {
                input type="hidden" name="csrf_token" value=(token);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="login" { "Login" }
                    input #login name="login" type="text" value=(login) required
                        autocomplete="username" autofocus
                        aria-describedby=[error.map(|_| "login-error")];
                }
                div.field {
                    label for="password" { "Password" }
                    input #password name="password" type="password" required
                        autocomplete="current-password";
                }
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    let mut res = layout::html_response(status, layout::document("Sign in", &chrome, notice, main));
    res.headers_mut()
        .append(header::SET_COOKIE, login_csrf_cookie(state, &token, false));
    res
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    if viewer.is_some() {
        return layout::see_other(next);
    }
    render(
        &state,
        StatusCode::OK,
        "",
        next,
        None,
        layout::notice(q.notice.as_deref()),
    )
}

pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    let login = form.text("login");
    let next = safe_next(form.get("next").unwrap_or("/")).to_string();
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(form.get("csrf_token").unwrap_or(""), &expected) {
        return Ok(render(
            &state,
            StatusCode::FORBIDDEN,
            &login,
            &next,
            Some("The sign-in form had expired. Please sign in again."),
            None,
        ));
    }
    let password = form.text("password");
    match state.services.sign_in(&login, &password, &client).await {
        Ok(signed_in) => {
            steward_services::audit::set_current_actor(signed_in.user.id);
            let mut res = layout::see_other(&next);
            let cookie = session_cookie(&state, &signed_in.cookie_value, false);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res.headers_mut()
                .append(header::SET_COOKIE, login_csrf_cookie(&state, "", true));
            Ok(res)
        }
        Err(e) => {
            let (status, message) = match e {
                SignInError::InvalidCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "Wrong login or password.".to_string(),
                ),
                SignInError::Blocked { until } => (
                    StatusCode::FORBIDDEN,
                    format!(
                        "Too many failed sign-ins with this login from your address: try again after {}.",
                        until.local_text("UTC")
                    ),
                ),
                SignInError::Locked => (
                    StatusCode::FORBIDDEN,
                    "This account is locked. Ask an administrator to unlock it.".to_string(),
                ),
                SignInError::NotActive => (
                    StatusCode::FORBIDDEN,
                    "This account is not activated yet.".to_string(),
                ),
                SignInError::Service(e) => return Err(e.into()),
            };
            Ok(render(&state, status, &login, &next, Some(&message), None))
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    state.services.sign_out(&viewer.session).await?;
    let mut res = layout::see_other("/login?notice=signed_out");
    let cookie = session_cookie(&state, "", true);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res.into_response())
}
