//! `/api/v3/settings`: instance settings that administrators change at run
//! time (a Steward extension; OpenProject keeps these in its administration
//! pages): whether anonymous visitors may read public projects, and who may
//! delete user accounts (as OpenProject's "users deletable by admins/self"),
//! how long sessions last (as OpenProject's "session expires after"; the
//! configuration file gives the defaults), and whether texts show images
//! from other hosts.

use axum::extract::State;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Admin;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::hal::{ok, Hal, Link};
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    anonymous_access_public_projects: bool,
    users_deletable_by_admins: bool,
    users_deletable_by_self: bool,
    session_idle_timeout_minutes: i64,
    session_absolute_lifetime_hours: i64,
    remote_images_in_texts: bool,
    #[serde(rename = "_links")]
    links: SettingsLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsLinks {
    #[serde(rename = "self")]
    self_: Link,
    update_immediately: Link,
}

async fn current(state: &AppState) -> Result<SettingsRepr, ApiError> {
    let anonymous_access = state.services.anonymous_access().await?;
    let deletion = state.services.deletion_settings().await?;
    let sessions = state.services.session_limits().await?;
    Ok(SettingsRepr {
        kind: "Settings",
        anonymous_access_public_projects: anonymous_access,
        users_deletable_by_admins: deletion.by_admins,
        users_deletable_by_self: deletion.by_self,
        session_idle_timeout_minutes: sessions.idle_minutes(),
        session_absolute_lifetime_hours: sessions.absolute_hours(),
        remote_images_in_texts: state.services.text_settings().await?.remote_images,
        links: SettingsLinks {
            self_: Link::new("/api/v3/settings"),
            update_immediately: Link::new("/api/v3/settings").method("patch"),
        },
    })
}

/// A change to the settings: absent properties stay as they are. Unknown
/// properties are refused, so that a misspelt setting is not silently lost;
/// `_links` a client echoes back is ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SettingsBody {
    #[serde(rename = "_type")]
    kind: Option<String>,
    #[serde(rename = "_links")]
    links: Option<IgnoredAny>,
    anonymous_access_public_projects: Option<bool>,
    users_deletable_by_admins: Option<bool>,
    users_deletable_by_self: Option<bool>,
    /// Kept as JSON so that a value of the wrong type is reported like an
    /// out-of-range one (422 on the property), not as a malformed body.
    session_idle_timeout_minutes: Option<Value>,
    session_absolute_lifetime_hours: Option<Value>,
    remote_images_in_texts: Option<bool>,
}

/// A whole number, or the constraint violation that names the property.
fn whole_number(attribute: &'static str, value: Option<Value>) -> Result<Option<i64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::PropertyConstraintViolation {
                attribute,
                message: format!("{attribute} must be a whole number, not {v}."),
            }),
    }
}

pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Hal<SettingsRepr>, ApiError> {
    Ok(ok(current(&state).await?))
}

pub async fn update(
    State(state): State<AppState>,
    _admin: Admin,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Result<Hal<SettingsRepr>, ApiError> {
    let _ = body.links;
    if let Some(kind) = body.kind.as_deref().filter(|k| *k != "Settings") {
        return Err(ApiError::PropertyConstraintViolation {
            attribute: "_type",
            message: format!("_type must be \"Settings\", not {kind:?}."),
        });
    }
    let idle = whole_number(
        "sessionIdleTimeoutMinutes",
        body.session_idle_timeout_minutes,
    )?;
    let absolute = whole_number(
        "sessionAbsoluteLifetimeHours",
        body.session_absolute_lifetime_hours,
    )?;
    // First, because it is the one change that can be refused: a refused
    // request then changes nothing.
    if idle.is_some() || absolute.is_some() {
        state.services.set_session_limits(idle, absolute).await?;
    }
    if let Some(allowed) = body.anonymous_access_public_projects {
        state.services.set_anonymous_access(allowed).await?;
    }
    if body.users_deletable_by_admins.is_some() || body.users_deletable_by_self.is_some() {
        state
            .services
            .set_deletion_settings(body.users_deletable_by_admins, body.users_deletable_by_self)
            .await?;
    }
    if let Some(allowed) = body.remote_images_in_texts {
        state.services.set_remote_images(allowed).await?;
    }
    Ok(ok(current(&state).await?))
}
