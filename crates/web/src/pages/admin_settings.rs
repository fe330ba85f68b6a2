//! Instance settings an administrator may change here: who may delete
//! accounts and whether people who are not signed in may look around; and,
//! read-only, the session lifetimes and retention periods that only the
//! configuration file sets.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_api::AppState;
use steward_services::Services;

use crate::error::WebError;
use crate::forms::Form;
use crate::layout::{self, Nav};
use crate::pages::{admin_menu, NoticeQuery};
use crate::session::AdminViewer;

pub async fn form(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let deletion = state.services.deletion_settings().await?;
    let anonymous = state.services.anonymous_access().await?;
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
                    (check("users_deletable_by_admins", deletion.by_admins, "Administrators may erase users"))
                    (check("users_deletable_by_self", deletion.by_self, "Users may delete their own account"))
                }
                fieldset {
                    legend { "Visitors" }
                    (check("anonymous_access", anonymous, "People who are not signed in may see public projects"))
                }
                button.primary type="submit" { "Save" }
            }
        }
        (configured(&state.services))
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Settings",
        Nav::Admin,
        layout::notice(q.notice.as_deref()),
        main,
    ))
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
            (table("Sessions", html! {
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

pub async fn save(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    // Unchecked boxes are not sent: every setting gets a value, so that
    // switching one off works.
    state
        .services
        .set_deletion_settings(
            Some(form.checked("users_deletable_by_admins")),
            Some(form.checked("users_deletable_by_self")),
        )
        .await?;
    state
        .services
        .set_anonymous_access(form.checked("anonymous_access"))
        .await?;
    Ok(layout::see_other("/admin/settings?notice=settings_saved"))
}
