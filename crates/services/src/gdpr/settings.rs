//! Who may delete accounts, as in OpenProject: administrators may delete
//! users (on unless switched off), users may delete their own account (off
//! unless switched on). Operators on the command line always may.

use steward_domain::user::User;
use steward_storage::{settings, Conn};

use super::certificate::Requester;
use crate::audit::{self, AuditEntry};
use crate::{ServiceError, Services};

pub const DELETABLE_BY_ADMINS: &str = "users_deletable_by_admins";
pub const DELETABLE_BY_SELF: &str = "users_deletable_by_self";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletionSettings {
    pub by_admins: bool,
    pub by_self: bool,
}

async fn read(conn: &mut Conn) -> Result<DeletionSettings, ServiceError> {
    let by_admins = settings::get(conn, DELETABLE_BY_ADMINS)
        .await?
        .is_none_or(|v| v == "true");
    let by_self = settings::get(conn, DELETABLE_BY_SELF)
        .await?
        .is_some_and(|v| v == "true");
    Ok(DeletionSettings { by_admins, by_self })
}

impl Services {
    pub async fn deletion_settings(&self) -> Result<DeletionSettings, ServiceError> {
        let mut conn = self.db.conn().await?;
        read(&mut conn).await
    }

    /// Changes who may delete accounts; `None` keeps a value as it is.
    /// Like every settings change: audited, and all of it or none.
    pub async fn set_deletion_settings(
        &self,
        by_admins: Option<bool>,
        by_self: Option<bool>,
    ) -> Result<DeletionSettings, ServiceError> {
        let mut tx = self.db.begin().await?;
        for (key, value) in [
            (DELETABLE_BY_ADMINS, by_admins),
            (DELETABLE_BY_SELF, by_self),
        ] {
            let Some(value) = value else { continue };
            settings::set(&mut tx, key, if value { "true" } else { "false" }).await?;
            audit::record(
                &mut tx,
                AuditEntry::security("settings.changed", audit::current_actor(), None)
                    .with_details(serde_json::json!({ "setting": key, "value": value })),
            )
            .await?;
        }
        let now = read(&mut tx).await?;
        tx.commit().await?;
        Ok(now)
    }

    /// Decides whether `caller` may erase the account `target_id`, and as
    /// whom the erasure is recorded. Someone who is neither an
    /// administrator nor the person gets `NotFound`, as when reading it.
    pub async fn erasure_requester(
        &self,
        caller: &User,
        target_id: i64,
    ) -> Result<Requester, ServiceError> {
        let s = self.deletion_settings().await?;
        if caller.id == target_id {
            // An administrator erasing their own account counts as the
            // person: the certificate must not name them.
            if s.by_self || (caller.admin && s.by_admins) {
                return Ok(Requester::Subject);
            }
            return Err(ServiceError::Forbidden(
                "Deleting your own account is switched off on this instance (setting users_deletable_by_self); ask an administrator."
                    .into(),
            ));
        }
        if caller.admin {
            if s.by_admins {
                return Ok(Requester::Administrator(caller.id));
            }
            return Err(ServiceError::Forbidden(
                "Deleting users is switched off for administrators on this instance (setting users_deletable_by_admins); an operator can run `steward gdpr erase`."
                    .into(),
            ));
        }
        // To anyone else an account does not exist (as when reading it).
        Err(ServiceError::NotFound("User"))
    }
}
