//! Who is looking at a page: the API's session cookie, looked up through
//! the services, and the CSRF check for forms.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use maud::Markup;
use steward_domain::user::User;
use steward_http::cookies::cookie_value;
use steward_http::AppState;
use steward_services::authz::Access;
use steward_services::secrets::constant_time_eq;
use steward_storage::sessions::Session;

use steward_http::markdown::Rendering;

use crate::error::WebError;
use crate::forms::Form;
use crate::layout::{self, Chrome, Nav};

/// A signed-in person. Pages that take it send everyone else to sign in.
pub struct Viewer {
    pub user: User,
    pub session: Session,
}

/// Anyone: signed in or not.
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeViewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Some(cookie) = cookie_value(&parts.headers, &state.http.cookie_name) else {
            return Ok(MaybeViewer(None));
        };
        // An unknown or expired cookie counts as none, as in the API.
        let Some((session, user)) = state.services.session_from_cookie(&cookie).await? else {
            return Ok(MaybeViewer(None));
        };
        // Audit entries and the request log's line name the person.
        steward_services::audit::set_current_actor(user.id);
        Ok(MaybeViewer(Some(Viewer { user, session })))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match MaybeViewer::from_request_parts(parts, state).await?.0 {
            Some(v) => Ok(v),
            None => {
                // Come back here after signing in, but only for a page one
                // can open (a GET); after a form, to the home page.
                let next = if parts.method == axum::http::Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/".into())
                } else {
                    "/".into()
                };
                Err(WebError::SignInRequired { next })
            }
        }
    }
}

/// A signed-in administrator, decided as the API's `Admin` extractor does
/// (the account's `admin` flag). Anyone else signed in gets "not found":
/// the administration pages do not exist for them, as the API hides what
/// one may not see.
pub struct AdminViewer(pub Viewer);

impl FromRequestParts<AppState> for AdminViewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.user.admin {
            Ok(AdminViewer(viewer))
        } else {
            Err(WebError::NotFound)
        }
    }
}

impl Viewer {
    pub async fn access(&self, state: &AppState) -> Result<Access, WebError> {
        Ok(state.services.access(Some(&self.user)).await?)
    }

    /// A form is only acted on with this session's CSRF token.
    pub fn check_csrf(&self, form: &Form) -> Result<(), WebError> {
        if constant_time_eq(
            form.get("csrf_token").unwrap_or(""),
            &self.session.csrf_token,
        ) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// A moment as this person reads it: in their time zone.
    pub fn time(&self, t: steward_domain::Timestamp) -> Markup {
        layout::time(t, &self.user.time_zone)
    }

    /// How texts are rendered for this person: remote images as the
    /// instance's setting says; a mention links to the person's page where
    /// there is one for this reader (the administration's), else shows
    /// the name alone.
    pub async fn rendering(&self, state: &AppState) -> Result<Rendering, WebError> {
        Ok(Rendering {
            remote_images: state.services.text_settings().await?.remote_images,
            user_link: self.user.admin.then_some("/admin/users/"),
        })
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// A full page in the shared layout.
    pub fn page(
        &self,
        status: StatusCode,
        title: &str,
        nav: Nav,
        notice: Option<&str>,
        main: Markup,
    ) -> Response {
        let chrome = Chrome {
            user: Some(&self.user),
            csrf: Some(&self.session.csrf_token),
            nav,
        };
        layout::html_response(status, layout::document(title, &chrome, notice, main))
    }
}

pub use steward_http::client::Client;
pub use steward_http::cookies::session_cookie;

/// Only a path on this site may be a place to return to: `//host` and
/// absolute URLs would make the sign-in page an open redirect.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next("/projects?x=1"), "/projects?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "javascript:x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
