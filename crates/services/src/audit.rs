//! The audit trail: security events (sign-ins, lockouts, token and session
//! changes, permission and settings changes) and every access by one person
//! to another's personal data. Entries are written in the same transaction
//! as the change they describe, so there is never a change without its
//! entry or an entry for a change that was rolled back.

use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_storage::audit_events::{self, NewAuditEvent};
use steward_storage::Conn;

use crate::ServiceError;

tokio::task_local! {
    /// The id of the HTTP request being served (set by the API's
    /// middleware), so that entries carry it without every use case
    /// passing it along.
    pub static REQUEST_ID: String;
}

/// The request id of the current task, if it serves a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditCategory {
    Security,
    Access,
}

impl AuditCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCategory::Security => "security",
            AuditCategory::Access => "access",
        }
    }
}

/// One entry to write. `details` is a JSON object of ids and field names;
/// it must never hold personal values (names, emails, old values).
pub struct AuditEntry<'a> {
    pub category: AuditCategory,
    pub event: &'a str,
    pub actor: Option<UserId>,
    pub target_user: Option<UserId>,
    pub details: serde_json::Value,
}

impl<'a> AuditEntry<'a> {
    pub fn security(event: &'a str, actor: Option<UserId>, target_user: Option<UserId>) -> Self {
        AuditEntry {
            category: AuditCategory::Security,
            event,
            actor,
            target_user,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn access(event: &'a str, actor: UserId, target_user: UserId) -> Self {
        AuditEntry {
            category: AuditCategory::Access,
            event,
            actor: Some(actor),
            target_user: Some(target_user),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Writes an entry on the given connection (inside the caller's transaction
/// when it has one).
pub async fn record(conn: &mut Conn, entry: AuditEntry<'_>) -> Result<i64, ServiceError> {
    let request_id = current_request_id();
    let details = entry.details.to_string();
    let id = audit_events::insert(
        conn,
        &NewAuditEvent {
            category: entry.category.as_str(),
            event: entry.event,
            actor_id: entry.actor,
            target_user_id: entry.target_user,
            request_id: request_id.as_deref(),
            details: &details,
        },
        Timestamp::now(),
    )
    .await?;
    Ok(id)
}
