//! Instance settings an administrator may change here: who may delete
//! accounts, whether people who are not signed in may look around, how
//! long sessions last and whether texts show images from other hosts; and, read-only, the values the configuration file
//! sets (for the session lifetimes, the defaults).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_http::AppState;
use steward_services::session_limits::{
    SessionLimits, ABSOLUTE_HOURS_MAX, ABSOLUTE_HOURS_MIN, IDLE_MINUTES_MAX, IDLE_MINUTES_MIN,
};
use steward_services::{ServiceError, Services};

use crate::error::WebError;
use crate::forms::{Form, Query};
use crate::layout::{self, described_by, field_error, message_for, Nav};
use crate::pages::{admin_menu, NoticeQuery};
use crate::session::{AdminViewer, Viewer};

/// What the form shows: the settings in force, or what was typed.
struct Values {
    by_admins: bool,
    by_self: bool,
    anonymous: bool,
    remote_images: bool,
    idle_minutes: String,
    absolute_hours: String,
}

impl Values {
    async fn stored(services: &Services) -> Result<Self, WebError> {
        let deletion = services.deletion_settings().await?;
        let limits = services.session_limits().await?;
        Ok(Values {
            by_admins: deletion.by_admins,
            by_self: deletion.by_self,
            anonymous: services.anonymous_access().await?,
            remote_images: services.text_settings().await?.remote_images,
            idle_minutes: limits.idle_minutes().to_string(),
            absolute_hours: limits.absolute_hours().to_string(),
        })
    }

    /// What was typed. Unchecked boxes are not sent: absent means off. A
    /// session field that was not sent at all keeps the value in force.
    fn typed(form: &Form, current: SessionLimits) -> Self {
        let or_current = |name: &str, value: i64| {
            form.get(name)
                .map_or_else(|| value.to_string(), str::to_string)
        };
        Values {
            by_admins: form.checked("users_deletable_by_admins"),
            by_self: form.checked("users_deletable_by_self"),
            anonymous: form.checked("anonymous_access"),
            remote_images: form.checked("remote_images"),
            idle_minutes: or_current(IDLE.1, current.idle_minutes()),
            absolute_hours: or_current(ABSOLUTE.1, current.absolute_hours()),
        }
    }
}

/// The service's names of the session fields, with the form's.
const IDLE: (&str, &str) = ("sessionIdleTimeoutMinutes", "session_idle_timeout_minutes");
const ABSOLUTE: (&str, &str) = (
    "sessionAbsoluteLifetimeHours",
    "session_absolute_lifetime_hours",
);

pub async fn form(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let values = Values::stored(&state.services).await?;
    Ok(render(
        &state,
        &viewer,
        &values,
        StatusCode::OK,
        layout::notice(q.notice.as_deref()),
        None,
    ))
}

/// A whole-number field with its label and, when refused, its message
/// (`error` is the service's attribute and message). No `min`/`max`: a
/// configured default outside the range would stop the browser from sending
/// the form at all, even to change only the other settings.
fn number_field(
    (attribute, id): (&str, &str),
    label: &str,
    value: &str,
    error: Option<(&str, &str)>,
) -> Markup {
    let err = message_for(error, attribute);
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(id) type="number" inputmode="numeric" step="1"
                value=(value) required
                aria-invalid=[err.map(|_| "true")] aria-describedby=[described_by(id, err)];
            (field_error(id, err))
        }
    }
}

fn render(
    state: &AppState,
    viewer: &Viewer,
    values: &Values,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<(&str, &str)>,
) -> Response {
    let check = |id: &str, checked: bool, label: &str| {
        html! {
            div.field.check {
                input id=(id) name=(id) type="checkbox" value="1" checked[checked];
                label for=(id) { (label) }
            }
        }
    };
    let main = html! {
        (admin_menu("/admin/settings"))
        h1 { "Settings" }
        section.narrow {
            form.stack method="post" action="/admin/settings" {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                fieldset {
                    legend { "Deleting accounts" }
                    (check("users_deletable_by_admins", values.by_admins, "Administrators may erase users"))
                    (check("users_deletable_by_self", values.by_self, "Users may delete their own account"))
                }
                fieldset {
                    legend { "Visitors" }
                    (check("anonymous_access", values.anonymous, "People who are not signed in may see public projects"))
                }
                fieldset {
                    legend { "Texts" }
                    (check("remote_images", values.remote_images, "Show images from other sites in descriptions and comments"))
                    p.help {
                        "Each reader's browser then fetches those images, and the sites that serve them learn the reader's IP address; "
                        "the record of processing names them as recipients. Off, such images are shown as links."
                    }
                }
                fieldset {
                    legend { "Sessions" }
                    p.help {
                        "A session ends after the idle timeout without a request, and at the latest after the absolute lifetime. "
                        "Shorter limits also end sessions already open."
                    }
                    (number_field(IDLE, &format!("Idle timeout in minutes ({IDLE_MINUTES_MIN} to {IDLE_MINUTES_MAX})"),
                        &values.idle_minutes, error))
                    (number_field(ABSOLUTE, &format!("Absolute lifetime in hours ({ABSOLUTE_HOURS_MIN} to {ABSOLUTE_HOURS_MAX}, not shorter than the idle timeout)"),
                        &values.absolute_hours, error))
                }
                button.primary type="submit" { "Save" }
            }
        }
        (configured(&state.services))
    };
    viewer.page(status, "Settings", Nav::Admin, notice, main)
}

/// `n unit` with the unit in the plural when needed.
fn count(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A retention in days, where 0 keeps the records.
fn days(n: u32) -> String {
    if n == 0 {
        "kept indefinitely".into()
    } else {
        count(i64::from(n), "day")
    }
}

/// One row of the read-only lists: what, its value and the option that sets it.
fn row(label: &str, value: String, option: &str) -> Markup {
    html! {
        tr {
            th scope="row" { (label) }
            td { (value) }
            td { @if !option.is_empty() { code { (option) } } }
        }
    }
}

fn table(caption: &str, rows: Markup) -> Markup {
    html! {
        div.table-wrap {
            table.list {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Setting" }
                    th scope="col" { "Value" }
                    th scope="col" { "Option" }
                } }
                tbody { (rows) }
            }
        }
    }
}

/// The values in force that the configuration file sets, as the services
/// were started with them.
fn configured(services: &Services) -> Markup {
    let policy = &services.policy;
    let retention = &services.job_settings().retention;
    let log = services.request_log().config();
    let log_on = services.request_log().is_enabled();
    const MB: u64 = 1024 * 1024;
    html! {
        section aria-labelledby="configured" {
            h2 #configured { "Set in the configuration file" }
            p {
                "These values are read from the configuration file at start (sections "
                code { "[session]" } ", " code { "[request_log]" } ", " code { "[audit]" } ", "
                code { "[security]" } ", " code { "[jobs]" } " and " code { "[gdpr]" }
                ", or the matching " code { "STEWARD_<SECTION>_<KEY>" }
                " environment variables) and cannot be changed here; change them there and restart Steward."
            }
            p {
                "The session limits listed here are only the defaults from the configuration file: "
                "the values in the Sessions fieldset above are the ones in force."
            }
            (table("Sessions (defaults)", html! {
                (row("Idle timeout", count(policy.session_idle_seconds / 60, "minute"), "session.idle_timeout_minutes"))
                (row("Absolute lifetime", count(policy.session_absolute_seconds / 3600, "hour"), "session.absolute_lifetime_hours"))
                (row("Remember me", "not offered: every session follows the two limits above".into(), ""))
            }))
            (table("Request log", html! {
                (row("Writing", if log_on { "on".into() } else { "off".into() }, "request_log.enabled"))
                @if let Some(c) = log {
                    (row("Largest file", format!("{} MB", c.max_file_bytes / MB), "request_log.max_file_mb"))
                    (row("All files together", format!("{} MB", c.max_total_bytes / MB), "request_log.max_total_mb"))
                    (row("Files deleted after", count(i64::from(c.max_age_days), "day"), "request_log.max_age_days"))
                    (row("User ids", if c.pseudonymize { "pseudonymised".into() } else { "stored as is".into() }, "request_log.pseudonymize"))
                    @if c.pseudonymize {
                        (row("Pseudonym key replaced every", count(i64::from(c.pseudonym_key_rotation_days), "day"), "request_log.pseudonym_key_rotation_days"))
                    }
                }
            }))
            (table("Retention", html! {
                (row("Audit trail: security events", days(retention.audit_security_days), "audit.security_retention_days"))
                (row("Audit trail: access to personal data", days(retention.audit_access_days), "audit.access_retention_days"))
                (row("Sign-in attempts", days(retention.login_attempt_days), "security.login_attempt_retention_days"))
                (row("Finished jobs", days(retention.done_job_days), "jobs.done_retention_days"))
                (row("Failed jobs", days(retention.failed_job_days), "jobs.failed_retention_days"))
                (row("Export archives", count(i64::from(services.export_settings().expiry_hours), "hour"), "gdpr.export_expiry_hours"))
            }))
        }
    }
}

/// The whole number typed in, or the message (for the field's service
/// attribute) that says it is not one.
fn whole_number<'a>(
    text: &str,
    (attribute, _): (&'a str, &str),
    what: &str,
) -> Result<i64, (&'a str, String)> {
    text.trim().parse::<i64>().map_err(|_| {
        (
            attribute,
            format!("{what} must be a whole number, not \"{text}\"."),
        )
    })
}

pub async fn save(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let current = state.services.session_limits().await?;
    let values = Values::typed(&form, current);
    let refuse = |attribute: &str, message: &str| {
        render(
            &state,
            &viewer,
            &values,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some((attribute, message)),
        )
    };
    let typed = whole_number(
        &values.idle_minutes,
        IDLE,
        "Session idle timeout in minutes",
    )
    .and_then(|idle| {
        whole_number(
            &values.absolute_hours,
            ABSOLUTE,
            "Session absolute lifetime in hours",
        )
        .map(|absolute| (idle, absolute))
    });
    let (idle, absolute) = match typed {
        Ok(v) => v,
        Err((attribute, message)) => return Ok(refuse(attribute, &message)),
    };
    // Only values that change are stored, so that saving the other settings
    // does not pin the configuration file's defaults.
    let idle = (idle != current.idle_minutes()).then_some(idle);
    let absolute = (absolute != current.absolute_hours()).then_some(absolute);
    // The session limits first: they are the only values that can be
    // refused, and a refused form must change nothing.
    if idle.is_some() || absolute.is_some() {
        match state.services.set_session_limits(idle, absolute).await {
            Ok(_) => {}
            Err(ServiceError::Invalid(e)) => {
                let (attribute, message) = layout::first_refusal(&e).unwrap_or_default();
                return Ok(refuse(attribute, message));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Every checkbox gets a value, so that switching one off works.
    state
        .services
        .set_deletion_settings(Some(values.by_admins), Some(values.by_self))
        .await?;
    state
        .services
        .set_anonymous_access(values.anonymous)
        .await?;
    if values.remote_images != state.services.text_settings().await?.remote_images {
        state
            .services
            .set_remote_images(values.remote_images)
            .await?;
    }
    Ok(layout::see_other("/admin/settings?notice=settings_saved"))
}
