//! My account: profile (rectification of one's own master data), password,
//! active sessions and API tokens. Each is its own page under `/my`, with a
//! shared sub-navigation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup, Render};
use steward_domain::validate::LANGUAGES;
use steward_domain::{ValidationError, ValidationErrors};
use steward_http::AppState;
use steward_services::accounts::UpdateUser;
use steward_services::auth::SignInError;
use steward_services::ServiceError;

use super::NoticeQuery;
use crate::error::WebError;
use crate::flash::{Flash, Flashes};
use crate::forms::{Form, Path, Query};
use crate::layout::{
    self, described_by, field_error, general_message, general_messages, message_for, Input, Nav,
};
use crate::session::{session_cookie, Client, Viewer};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Profile,
    Password,
    Sessions,
    Tokens,
    Data,
    Delete,
}

/// The sub-navigation of the account pages.
pub fn tabs(active: Tab) -> Markup {
    let items = [
        (Tab::Profile, "/my/account", "Profile"),
        (Tab::Password, "/my/password", "Password"),
        (Tab::Sessions, "/my/sessions", "Sessions"),
        (Tab::Tokens, "/my/tokens", "API tokens"),
        (Tab::Data, "/my/data", "Download my data"),
        (Tab::Delete, "/my/delete", "Delete my account"),
    ];
    html! {
        nav.tabs aria-label="My account" {
            ul {
                @for (tab, href, label) in items {
                    li { a href=(href) aria-current=[(tab == active).then_some("page")] { (label) } }
                }
            }
        }
    }
}

/// The profile form's values and its messages per field.
struct Profile {
    firstname: String,
    lastname: String,
    email: String,
    language: String,
    time_zone: String,
    errors: ValidationErrors,
}

impl Profile {
    fn error(&self, attribute: &str) -> Option<&str> {
        self.errors.message_for(attribute)
    }
}

fn profile_page(
    viewer: &Viewer,
    status: StatusCode,
    f: &Profile,
    notice: Option<&str>,
) -> Response {
    let text_field =
        |id: &str, attribute: &str, label: &str, kind: &str, value: &str, autocomplete: &str| {
            Input::new(id, label, value)
                .kind(kind)
                .autocomplete(autocomplete)
                .error(f.error(attribute))
                .render()
        };
    let lang_err = f.error("language");
    let other = general_messages(&f.errors, |a| {
        matches!(
            a,
            "firstName" | "lastName" | "email" | "language" | "timeZone" | "currentPassword"
        )
    });
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Profile))
        section.narrow {
            h2 { "Profile" }
            p.muted { "Your login is " code { (viewer.user.login) } ". Only an administrator can change it." }
            (layout::alert_list(&other))
            form.stack method="post" action="/my/account" novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (text_field("firstname", "firstName", "First name", "text", &f.firstname, "given-name"))
                (text_field("lastname", "lastName", "Last name", "text", &f.lastname, "family-name"))
                (text_field("email", "email", "Email", "email", &f.email, "email"))
                div.field {
                    label for="language" { "Language" }
                    select #language name="language" aria-describedby=[described_by("language", lang_err)] {
                        @for l in LANGUAGES {
                            option value=(l) selected[*l == f.language] { (l) }
                        }
                    }
                    (field_error("language", lang_err))
                }
                (text_field("time_zone", "timeZone", "Time zone (for example Europe/Berlin)", "text", &f.time_zone, "off"))
                (Input::new("current_password", "Current password", "")
                    .kind("password")
                    .autocomplete("current-password")
                    .help("Needed only to change your email address.")
                    .error(f.error("currentPassword"))
                    .render())
                button.primary type="submit" { "Save" }
            }
        }
    };
    viewer.page(status, "My account", Nav::Account, notice, main)
}

pub async fn profile(viewer: Viewer, Query(q): Query<NoticeQuery>) -> Response {
    let u = &viewer.user;
    let f = Profile {
        firstname: u.firstname.clone(),
        lastname: u.lastname.clone(),
        email: u.email.clone().unwrap_or_default(),
        language: u.language.clone(),
        time_zone: u.time_zone.clone(),
        errors: ValidationErrors::new(),
    };
    profile_page(
        &viewer,
        StatusCode::OK,
        &f,
        layout::notice(q.notice.as_deref()),
    )
}

pub async fn update_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    Client(client): Client,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let mut f = Profile {
        firstname: form.text("firstname"),
        lastname: form.text("lastname"),
        email: form.text("email"),
        language: form.text("language"),
        time_zone: form.text("time_zone"),
        errors: ValidationErrors::new(),
    };
    // The fields a person may change about themself, as in the API.
    let input = UpdateUser {
        firstname: Some(f.firstname.clone()),
        lastname: Some(f.lastname.clone()),
        email: Some(f.email.clone()),
        language: Some(f.language.clone()),
        time_zone: Some(f.time_zone.clone()),
        ..UpdateUser::default()
    };
    let current = form.text("current_password");
    let (status, errors) = match state
        .services
        .update_own_account(&viewer.user, input, &current, &client)
        .await
    {
        Ok(_) => return Ok(layout::see_other("/my/account?notice=profile_saved")),
        Err(SignInError::Service(ServiceError::Invalid(v))) => {
            (StatusCode::UNPROCESSABLE_ENTITY, v)
        }
        Err(SignInError::Service(e)) => return Err(e.into()),
        // Blocked or locked meanwhile: say so, as the sign-in page does.
        Err(e) => (
            StatusCode::FORBIDDEN,
            ValidationError::new("", e.to_string()).into(),
        ),
    };
    f.errors = errors;
    Ok(profile_page(&viewer, status, &f, None))
}

fn password_page(viewer: &Viewer, status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let general = general_message(error, &["currentPassword", "password", "confirmation"]);
    let field = |id: &str, attribute: &str, label: &str, autocomplete: &str| {
        Input::new(id, label, "")
            .kind("password")
            .autocomplete(autocomplete)
            .required()
            .error(message_for(error, attribute))
            .render()
    };
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Password))
        section.narrow {
            h2 { "Change password" }
            p.muted { "Your other sessions end when the password changes; this one stays signed in." }
            @if let Some(m) = general { div.alert role="alert" { (m) } }
            form.stack method="post" action="/my/password" {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (field("current_password", "currentPassword", "Current password", "current-password"))
                (field("new_password", "password", "New password", "new-password"))
                // Named so that the request log filters it like the other passwords.
                (field("password_confirmation", "confirmation", "New password again", "new-password"))
                button.primary type="submit" { "Change password" }
            }
        }
    };
    viewer.page(status, "Change password", Nav::Account, None, main)
}

pub async fn password_form(viewer: Viewer) -> Response {
    password_page(&viewer, StatusCode::OK, None)
}

pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Client(client): Client,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let new = form.text("new_password");
    if new != form.text("password_confirmation") {
        return Ok(password_page(
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(("confirmation", "The two new passwords differ.")),
        ));
    }
    match state
        .services
        .change_own_password(
            &viewer.user,
            &form.text("current_password"),
            new,
            Some(viewer.session.id),
            &client,
        )
        .await
    {
        Ok(()) => Ok(layout::see_other("/my/account?notice=password_changed")),
        Err(SignInError::Service(ServiceError::Invalid(v))) => Ok(password_page(
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            layout::first_refusal(&v),
        )),
        Err(SignInError::Service(e)) => Err(e.into()),
        Err(e) => {
            // Blocked or locked meanwhile: say so, as the sign-in page does.
            let message = e.to_string();
            Ok(password_page(
                &viewer,
                StatusCode::FORBIDDEN,
                Some(("", message.as_str())),
            ))
        }
    }
}

pub async fn sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let list = state.services.sessions_of(viewer.user.id).await?;
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Sessions))
        section {
            h2 { "Active sessions" }
            p.muted { "Every browser signed in as you. End the ones you do not recognise." }
            @if list.iter().any(|s| s.id != viewer.session.id) {
                form.inline method="post" action="/my/sessions/end_others" {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button.danger type="submit" { "End all other sessions" }
                }
            }
            div.table-wrap {
                table.list {
                    thead { tr { th scope="col" { "Browser" } th scope="col" { "Address" } th scope="col" { "Signed in" } th scope="col" { "Last seen" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for s in &list {
                            tr {
                                td {
                                    (s.user_agent.as_deref().unwrap_or("unknown"))
                                    @if s.id == viewer.session.id { " " span.badge { "this session" } }
                                }
                                td { (s.ip_address.as_deref().unwrap_or("—")) }
                                td { (viewer.time(s.created_at)) }
                                td { (viewer.time(s.last_seen_at)) }
                                td {
                                    form.inline method="post" action=(format!("/my/sessions/{}/revoke", s.id)) {
                                        input type="hidden" name="csrf_token" value=(viewer.csrf());
                                        button.danger type="submit" {
                                            @if s.id == viewer.session.id { "Sign out" } @else { "End session" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Sessions",
        Nav::Account,
        layout::notice(q.notice.as_deref()),
        main,
    ))
}

/// Ends every session but this one (after a lost device, say).
pub async fn end_other_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    state
        .services
        .end_other_sessions(viewer.user.id, Some(viewer.session.id))
        .await?;
    Ok(layout::see_other(
        "/my/sessions?notice=other_sessions_ended",
    ))
}

pub async fn revoke_session(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = crate::pages::path_id(&id)?;
    state.services.revoke_session(viewer.user.id, id).await?;
    if id == viewer.session.id {
        let mut res = layout::see_other("/login?notice=signed_out");
        if let Ok(v) = session_cookie(&state, "", true).parse() {
            res.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
        return Ok(res);
    }
    Ok(layout::see_other("/my/sessions?notice=session_revoked"))
}

/// The tokens page; `created` is a new token's name and secret, shown on
/// the one page after its creation (Steward keeps only its hash).
async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    created: Option<(&str, &str)>,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let list = state.services.api_tokens_of(viewer.user.id).await?;
    let main = html! {
        h1 { "My account" }
        (tabs(Tab::Tokens))
        section {
            h2 { "API tokens" }
            p.muted { "For scripts and OpenProject API clients: send a token as HTTP Basic with the user name apikey, or as a Bearer token." }
            @if let Some((name, secret)) = created {
                div.alert.success role="status" {
                    p { "The token " strong { (name) } " was created. Copy it now: it is shown only once." }
                    label for="new-token" { "Token" }
                    input #new-token type="text" readonly value=(secret) data-select-on-focus;
                }
            }
            @if list.is_empty() {
                p { "You have no API tokens." }
            } @else {
                div.table-wrap {
                    table.list {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for t in &list {
                                tr {
                                    td { (t.name) }
                                    td { (viewer.time(t.created_at)) }
                                    td {
                                        @match t.last_used_at {
                                            Some(at) => { (viewer.time(at)) }
                                            None => { "never" }
                                        }
                                    }
                                    td {
                                        form.inline method="post" action=(format!("/my/tokens/{}/revoke", t.id)) {
                                            input type="hidden" name="csrf_token" value=(viewer.csrf());
                                            button.danger type="submit" data-confirm=(format!("Revoke the token {}? Programs using it stop working.", t.name)) { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "New token" }
            form.stack.narrow method="post" action="/my/tokens" {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                div.field {
                    label for="token-name" { "Name" }
                    input #token-name name="name" type="text" required maxlength="100"
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[described_by("token-name", error)];
                    (field_error("token-name", error))
                }
                button.primary type="submit" { "Create token" }
            }
        }
    };
    Ok(viewer.page(status, "API tokens", Nav::Account, notice, main))
}

pub async fn tokens(
    State(state): State<AppState>,
    Extension(flashes): Extension<Flashes>,
    viewer: Viewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let created = flashes
        .take(viewer.session.id)
        .map(|Flash::NewToken { name, secret }| (name, secret));
    tokens_page(
        &state,
        &viewer,
        StatusCode::OK,
        created.as_ref().map(|(n, s)| (n.as_str(), s.as_str())),
        None,
        layout::notice(q.notice.as_deref()),
    )
    .await
}

/// Creates the token and redirects to the list, where the secret is shown
/// once from the session's flash: a reload then creates nothing.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(flashes): Extension<Flashes>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let name = form.text("name");
    match state.services.create_api_token(viewer.user.id, &name).await {
        Ok((token, secret)) => {
            flashes.put(
                viewer.session.id,
                Flash::NewToken {
                    name: token.name,
                    secret,
                },
            );
            Ok(layout::see_other("/my/tokens"))
        }
        Err(ServiceError::Invalid(v)) => {
            tokens_page(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&v.to_string()),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = crate::pages::path_id(&id)?;
    state.services.revoke_api_token(viewer.user.id, id).await?;
    Ok(layout::see_other("/my/tokens?notice=token_revoked"))
}
