//! Who may delete accounts, as in OpenProject: administrators may delete
//! users (on unless switched off), users may delete their own account (off
//! unless switched on). Operators on the command line always may.

use steward_domain::user::User;
use steward_storage::settings;

use super::certificate::Requester;
use crate::{ServiceError, Services};

pub const DELETABLE_BY_ADMINS: &str = "users_deletable_by_admins";
pub const DELETABLE_BY_SELF: &str = "users_deletable_by_self";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletionSettings {
    pub by_admins: bool,
    pub by_self: bool,
}

impl Services {
    pub async fn deletion_settings(&self) -> Result<DeletionSettings, ServiceError> {
        let mut conn = self.db.conn().await?;
        let by_admins = settings::get(&mut conn, DELETABLE_BY_ADMINS)
            .await?
            .is_none_or(|v| v == "true");
        let by_self = settings::get(&mut conn, DELETABLE_BY_SELF)
            .await?
            .is_some_and(|v| v == "true");
        Ok(DeletionSettings { by_admins, by_self })
    }

    pub async fn set_deletion_settings(
        &self,
        by_admins: Option<bool>,
        by_self: Option<bool>,
    ) -> Result<DeletionSettings, ServiceError> {
        let mut conn = self.db.conn().await?;
        for (key, value) in [
            (DELETABLE_BY_ADMINS, by_admins),
            (DELETABLE_BY_SELF, by_self),
        ] {
            if let Some(v) = value {
                settings::set(&mut conn, key, if v { "true" } else { "false" }).await?;
            }
        }
        drop(conn);
        self.deletion_settings().await
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
