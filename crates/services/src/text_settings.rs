//! How texts written by users (descriptions, comments) are shown: whether
//! images on other hosts are shown as images. Off unless an administrator
//! switches it on, because each reader's browser then fetches the image
//! from that host, which learns the reader's IP address; off, such an image
//! is shown as a link to it. Read on every rendering of a text, so cached
//! in the process ([`crate::cached`]).

use steward_storage::settings;

use crate::audit::{self, AuditEntry};
use crate::{ServiceError, Services};

pub const REMOTE_IMAGES: &str = "texts_remote_images";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextSettings {
    /// Images on other hosts are shown as images.
    pub remote_images: bool,
}

impl Services {
    pub async fn text_settings(&self) -> Result<TextSettings, ServiceError> {
        if let Some(s) = self.text_settings.fresh() {
            return Ok(s);
        }
        let mut conn = self.db.conn().await?;
        let s = TextSettings {
            remote_images: settings::get(&mut conn, REMOTE_IMAGES)
                .await?
                .is_some_and(|v| v == "true"),
        };
        self.text_settings.put(s);
        Ok(s)
    }

    /// Lets texts show images from other hosts, or not. Callers check that
    /// the person is an administrator.
    pub async fn set_remote_images(&self, allowed: bool) -> Result<TextSettings, ServiceError> {
        let mut tx = self.db.begin().await?;
        settings::set(
            &mut tx,
            REMOTE_IMAGES,
            if allowed { "true" } else { "false" },
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::security("settings.changed", audit::current_actor(), None)
                .with_details(serde_json::json!({ "setting": REMOTE_IMAGES, "value": allowed })),
        )
        .await?;
        tx.commit().await?;
        let s = TextSettings {
            remote_images: allowed,
        };
        self.text_settings.put(s);
        Ok(s)
    }
}
