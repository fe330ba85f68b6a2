//! The frame every page shares: head, navigation, notices and footer, and
//! small helpers the pages use (times, field errors, pagination).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use steward_domain::user::User;
use steward_domain::{Timestamp, ValidationErrors};
use steward_http::markdown::Rendering;

use crate::assets::{icon_url, script_url, style_url};

/// Which part of the navigation the page belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Nav {
    Home,
    Projects,
    WorkPackages,
    Account,
    Admin,
    Search,
    /// Sign-in and error pages: no user menu.
    Plain,
}

/// Who the page is for: the signed-in person and their session's CSRF
/// token (for the sign-out form in the header).
pub struct Chrome<'a> {
    pub user: Option<&'a User>,
    pub csrf: Option<&'a str>,
    pub nav: Nav,
}

pub fn document(title: &str, chrome: &Chrome<'_>, notice: Option<&str>, main: Markup) -> Markup {
    let current = |n: Nav| (chrome.nav == n).then_some("page");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Steward" }
                link rel="icon" type="image/svg+xml" href=(icon_url());
                link rel="stylesheet" href=(style_url());
                script src=(script_url()) defer {}
            }
            body {
                a.skip #skip-link href="#main" { "Skip to content" }
                header.top {
                    nav.bar aria-label="Main" {
                        a.brand href="/" { "Steward" }
                        @if let Some(user) = chrome.user {
                            ul.nav {
                                li { a href="/" aria-current=[current(Nav::Home)] { "Home" } }
                                li { a href="/projects" aria-current=[current(Nav::Projects)] { "Projects" } }
                                li { a href="/work_packages" aria-current=[current(Nav::WorkPackages)] { "Work packages" } }
                                @if user.admin {
                                    li { a href="/admin/users" aria-current=[current(Nav::Admin)] { "Administration" } }
                                }
                            }
                            form.top-search role="search" method="get" action="/search" {
                                label.visually-hidden for="top-search-q" { "Search" }
                                input #top-search-q type="search" name="q" placeholder="Search" maxlength="200";
                                button.visually-hidden type="submit" { "Search" }
                            }
                            div.me {
                                a href="/my/account" aria-current=[current(Nav::Account)] { (user.name()) }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf_token" value=(chrome.csrf.unwrap_or(""));
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        } @else {
                            ul.nav {
                                li { a href="/" { "Home" } }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    @if let Some(n) = notice {
                        p.notice role="status" { (n) }
                    }
                    (main)
                }
                footer.foot {
                    "Steward " (env!("CARGO_PKG_VERSION"))
                    " · " a href="/api/v3" { "API v3" }
                }
            }
        }
    }
}

/// An HTML answer with the given status.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        markup.into_string(),
    )
        .into_response()
}

/// A 303 to another page of ours (after a form was handled).
pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `2024-05-01 12:00 CEST` in the reader's time zone, in a `<time>`
/// element that carries the exact instant.
pub fn time(t: Timestamp, zone: &str) -> Markup {
    html! { time datetime=(t.to_string()) { (t.local_text(zone)) } }
}

/// Markdown from users, rendered with raw HTML escaped and only safe link
/// targets (see `steward_http::markdown`).
pub fn markdown(source: &str, rendering: Rendering) -> Markup {
    PreEscaped(steward_http::markdown::to_html(source, rendering))
}

/// A page showing texts rendered with `rendering`: when remote images are
/// on, its Content-Security-Policy lets the browser load them.
pub fn with_text_images(mut res: Response, rendering: Rendering) -> Response {
    if rendering.remote_images {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::CONTENT_SECURITY_POLICY_REMOTE_IMAGES),
        );
    }
    res
}

/// The start of a text as a reader sees it, without markup: at most
/// `chars` characters, with "…" when there was more.
pub fn excerpt(source: &str, chars: usize) -> String {
    let plain = steward_http::markdown::to_plain_text(source);
    let mut out: String = plain.chars().take(chars).collect();
    if plain.chars().count() > chars {
        out.push('…');
    }
    out
}

/// The message under a form field, linked to it by `aria-describedby`.
pub fn field_error(id: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.field-error id=(format!("{id}-error")) { (e) }
        }
    }
}

/// The id of a field's error message when there is one, for `aria-describedby`.
pub fn described_by(id: &str, error: Option<&str>) -> Option<String> {
    error.map(|_| format!("{id}-error"))
}

/// A refusal's message when it is about `attribute` (`error` is the
/// service's attribute and message).
pub fn message_for<'a>(error: Option<(&str, &'a str)>, attribute: &str) -> Option<&'a str> {
    error.filter(|(a, _)| *a == attribute).map(|(_, m)| m)
}

/// A refusal's message when it is about none of the form's `fields`: it is
/// shown above the form.
pub fn general_message<'a>(error: Option<(&str, &'a str)>, fields: &[&str]) -> Option<&'a str> {
    error.filter(|(a, _)| !fields.contains(a)).map(|(_, m)| m)
}

/// The first of a refusal's errors as attribute and message, for a form
/// that validates one field at a time.
pub fn first_refusal(errors: &ValidationErrors) -> Option<(&str, &str)> {
    errors.first().map(|e| (e.attribute, e.message.as_str()))
}

/// The messages of `errors` about no field of the form (`is_field` says
/// which attributes have one): they are shown above the form.
pub fn general_messages(errors: &ValidationErrors, is_field: impl Fn(&str) -> bool) -> Vec<&str> {
    errors
        .iter()
        .filter(|e| !is_field(e.attribute))
        .map(|e| e.message.as_str())
        .collect()
}

/// The messages above a form: none, one, or a list of them.
pub fn alert_list(messages: &[&str]) -> Markup {
    html! {
        @match messages {
            [] => {}
            [one] => { div.alert role="alert" { (one) } }
            many => {
                div.alert role="alert" {
                    ul { @for m in many { li { (m) } } }
                }
            }
        }
    }
}

/// A labelled one-line input with its help and its message, both linked to
/// it by `aria-describedby`. The name is the id unless set.
pub struct Input<'a> {
    id: &'a str,
    name: &'a str,
    label: &'a str,
    kind: &'a str,
    value: &'a str,
    help: Option<&'a str>,
    error: Option<&'a str>,
    autocomplete: Option<&'a str>,
    inputmode: Option<&'a str>,
    pattern: Option<&'a str>,
    required: bool,
    maxlength: Option<u32>,
}

impl<'a> Input<'a> {
    pub fn new(id: &'a str, label: &'a str, value: &'a str) -> Self {
        Input {
            id,
            name: id,
            label,
            kind: "text",
            value,
            help: None,
            error: None,
            autocomplete: None,
            inputmode: None,
            pattern: None,
            required: false,
            maxlength: None,
        }
    }

    pub fn name(self, name: &'a str) -> Self {
        Input { name, ..self }
    }

    /// The input's `type` ("text" unless set).
    pub fn kind(self, kind: &'a str) -> Self {
        Input { kind, ..self }
    }

    pub fn help(self, help: &'a str) -> Self {
        Input {
            help: Some(help),
            ..self
        }
    }

    pub fn error(self, error: Option<&'a str>) -> Self {
        Input { error, ..self }
    }

    pub fn autocomplete(self, autocomplete: &'a str) -> Self {
        Input {
            autocomplete: Some(autocomplete),
            ..self
        }
    }

    pub fn inputmode(self, inputmode: Option<&'a str>) -> Self {
        Input { inputmode, ..self }
    }

    pub fn pattern(self, pattern: &'a str) -> Self {
        Input {
            pattern: Some(pattern),
            ..self
        }
    }

    pub fn required(self) -> Self {
        Input {
            required: true,
            ..self
        }
    }

    pub fn maxlength(self, maxlength: u32) -> Self {
        Input {
            maxlength: Some(maxlength),
            ..self
        }
    }
}

impl maud::Render for Input<'_> {
    fn render(&self) -> Markup {
        let id = self.id;
        let help_id = self.help.map(|_| format!("{id}-help"));
        let described: Vec<String> = help_id
            .iter()
            .cloned()
            .chain(described_by(id, self.error))
            .collect();
        html! {
            div.field {
                label for=(id) { (self.label) }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    autocomplete=[self.autocomplete] inputmode=[self.inputmode] pattern=[self.pattern] required[self.required] maxlength=[self.maxlength]
                    aria-invalid=[self.error.map(|_| "true")]
                    aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
                @if let (Some(h), Some(h_id)) = (self.help, &help_id) { p.help id=(h_id) { (h) } }
                (field_error(id, self.error))
            }
        }
    }
}

/// A short notice shown after a redirect, chosen by code so that a link
/// cannot put arbitrary words on the page.
pub fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "signed_out" => "You have signed out.",
        "project_created" => "The project was created.",
        "project_saved" => "The project settings were saved.",
        "project_archived" => "The project was archived.",
        "project_unarchived" => "The project was unarchived.",
        "comment_added" => "Your comment was added.",
        "wp_created" => "The work package was created.",
        "wp_saved" => "Your changes were saved.",
        "member_added" => "The member was added.",
        "member_removed" => "The member was removed.",
        "profile_saved" => "Your profile was saved.",
        "password_changed" => "Your password was changed. Your other sessions have ended.",
        "session_revoked" => "The session was ended.",
        "other_sessions_ended" => "Every other session was ended; this one stays signed in.",
        "token_revoked" => "The API token was revoked.",
        "export_requested" => "Your export was requested. This page shows when it is ready.",
        "account_deleted" => "Your account was deleted.",
        "user_created" => "The user was created.",
        "user_saved" => "The user's details were saved.",
        "user_locked" => "The user was locked; their sessions have ended.",
        "user_unlocked" => "The user was unlocked.",
        "settings_saved" => "The settings were saved.",
        "role_created" => "The role was created.",
        "role_saved" => "The role was saved.",
        "role_deleted" => "The role was deleted.",
        "member_roles_saved" => "The member's roles were saved.",
        "redaction_redacted" => "The mention was redacted.",
        "redaction_dismissed" => "The entry was dismissed; the text stays as it is.",
        "job_retried" => "The job was queued again with a fresh set of attempts.",
        "type_created" => "The type was created.",
        "type_saved" => "The type was saved.",
        "type_deleted" => "The type was deleted.",
        "status_created" => "The status was created.",
        "status_saved" => "The status was saved.",
        "status_deleted" => "The status was deleted.",
        "priority_created" => "The priority was created.",
        "priority_saved" => "The priority was saved.",
        "priority_deleted" => "The priority was deleted.",
        _ => return None,
    })
}
