//! Instance settings an administrator may change here: who may delete
//! accounts and whether people who are not signed in may look around.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use steward_api::AppState;

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
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Settings",
        Nav::Admin,
        layout::notice(q.notice.as_deref()),
        main,
    ))
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
