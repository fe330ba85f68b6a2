//! The latest changes and comments across every project a reader may see,
//! for the home page's feed. Visibility is the activities API's: a journal
//! shows when the reader may view the work packages of its work package's
//! project. A fixed number of statements, however many entries.

use std::collections::HashMap;

use steward_domain::custom_field::{CustomField, Kind, Value};
use steward_domain::permission::Permission;
use steward_domain::work_package;
use steward_storage::custom_fields::{self as custom_store, StoredValue};
use steward_storage::journals::{self, Journal};

use crate::authz::Access;
use crate::{ServiceError, Services};

/// The most entries one call returns.
pub const RECENT_MAX: i64 = 100;

/// One journal of the feed, with its work package and project.
#[derive(Clone, Debug)]
pub struct RecentActivity {
    pub journal: Journal,
    /// The work package's subject now.
    pub subject: String,
    pub project_identifier: String,
    pub project_name: String,
    /// What this journal changed: work-package attributes by their API
    /// name (`status`, `assignee`), custom fields by their name. Empty for
    /// the journal that created the work package and for a bare comment.
    pub changed: Vec<&'static str>,
}

impl RecentActivity {
    /// The journal that created its work package.
    pub fn is_creation(&self) -> bool {
        self.journal.version == 1
    }
}

/// The value of `field` among a journal's stored custom values.
fn value_of(field: &CustomField, stored: Option<&Vec<StoredValue>>) -> Option<Value> {
    let s = stored?.iter().find(|s| s.custom_field_id == field.id)?;
    field.decode(s.value.as_deref(), s.value_user_id)
}

impl Services {
    /// The latest `limit` (at most [`RECENT_MAX`]) journals the caller may
    /// see, newest first.
    pub async fn recent_activity(
        &self,
        access: &Access,
        limit: i64,
    ) -> Result<Vec<RecentActivity>, ServiceError> {
        let scope = access.scope(Permission::ViewWorkPackages);
        let mut conn = self.db.conn().await?;
        let rows = journals::recent(&mut conn, &scope, limit.clamp(0, RECENT_MAX)).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let fields = custom_store::all(&mut conn, Some(Kind::WorkPackage)).await?;
        let values = if fields.is_empty() {
            HashMap::new()
        } else {
            let ids: Vec<i64> = rows
                .iter()
                .flat_map(|r| std::iter::once(r.journal.id).chain(r.previous.as_ref().map(|p| p.0)))
                .collect();
            custom_store::journal_values(&mut conn, &ids).await?
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let changed = match &r.previous {
                    None => Vec::new(),
                    Some((previous_id, before)) => {
                        let mut changed: Vec<&'static str> =
                            work_package::changes(Some(before), &r.journal.state)
                                .into_iter()
                                .map(|c| c.attribute)
                                .collect();
                        let (old, new) = (values.get(previous_id), values.get(&r.journal.id));
                        changed.extend(
                            fields
                                .iter()
                                .filter(|f| value_of(f, old) != value_of(f, new))
                                .map(CustomField::static_name),
                        );
                        changed
                    }
                };
                RecentActivity {
                    journal: r.journal,
                    subject: r.subject,
                    project_identifier: r.project_identifier,
                    project_name: r.project_name,
                    changed,
                }
            })
            .collect())
    }
}
