//! Reference data every work package points to: statuses, types and
//! priorities, and the roles memberships give. Readable by anyone who may
//! use the instance; the HTTP layer decides who that is.

use steward_storage::lookups::{self, Priority, Status, WpType};
use steward_storage::roles::{self, Role};

use crate::{ServiceError, Services};

impl Services {
    pub async fn list_statuses(&self) -> Result<Vec<Status>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::statuses(&mut conn).await?)
    }

    pub async fn list_types(&self) -> Result<Vec<WpType>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::types(&mut conn).await?)
    }

    pub async fn list_priorities(&self) -> Result<Vec<Priority>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::priorities(&mut conn).await?)
    }

    /// Every role, ordered by position.
    pub async fn list_roles(&self) -> Result<Vec<Role>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(roles::all(&mut conn).await?)
    }
}
