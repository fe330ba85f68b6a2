//! The audit trail: security events (sign-ins, lockouts, token and session
//! changes, permission and settings changes) and every access by one person
//! to another's personal data. Entries are written in the same transaction
//! as the change they describe, so there is never a change without its
//! entry or an entry for a change that was rolled back.
//!
//! Reads change nothing, and turning every audited read (an administrator
//! listing users) into a write of its own would make reads as slow as
//! writes. Their entries ([`crate::Services::record_read`]) are queued and
//! written in batches a fraction of a second later, with the time and
//! request id of the read; listing the trail writes the queue first.
//!
//! Who acts: use cases that do not take the acting person as a parameter
//! read [`current_actor`], which the API's authentication fills for the
//! request being served. It is empty on the command line, whose operator
//! has shell access to the instance and no account in it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_storage::audit_events::{self, AuditEvent, AuditFilter, NewAuditEvent};
use steward_storage::{principals, Conn, Db};

use crate::{ServiceError, Services};

tokio::task_local! {
    /// The id of the HTTP request being served (set by the API's
    /// middleware), so that entries carry it without every use case
    /// passing it along.
    pub static REQUEST_ID: String;

    /// Who the request being served is authenticated as: set up empty by
    /// the API's middleware, filled by its authentication. The request log
    /// reads it too.
    pub static ACTOR: Arc<ActorSlot>;
}

/// The request id of the current task, if it serves a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The authenticated user of the request being served, if any.
#[derive(Debug, Default)]
pub struct ActorSlot(AtomicI64);

impl ActorSlot {
    pub fn set(&self, user: UserId) {
        self.0.store(user, Ordering::Relaxed);
    }

    pub fn get(&self) -> Option<UserId> {
        Some(self.0.load(Ordering::Relaxed)).filter(|id| *id > 0)
    }
}

/// The user the current request is authenticated as (`None` outside a
/// request, for anonymous callers, and before authentication).
pub fn current_actor() -> Option<UserId> {
    ACTOR.try_with(|slot| slot.get()).ok().flatten()
}

/// Records who the current request is authenticated as (the API's
/// authentication and sign-in call it). Outside a request it does nothing.
pub fn set_current_actor(user: UserId) {
    let _ = ACTOR.try_with(|slot| slot.set(user));
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

    /// Any combination, such as an access entry about many people (a
    /// list) with no single target.
    pub fn new(
        category: AuditCategory,
        event: &'a str,
        actor: Option<UserId>,
        target_user: Option<UserId>,
    ) -> Self {
        AuditEntry {
            category,
            event,
            actor,
            target_user,
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

/// An entry waiting to be written, with the time and request id of the
/// moment it happened.
struct Pending {
    at: Timestamp,
    category: AuditCategory,
    event: String,
    actor: Option<UserId>,
    target_user: Option<UserId>,
    request_id: Option<String>,
    details: String,
}

/// How often queued entries of reads are written.
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Beyond this many queued entries (the database has been failing for a
/// while) the oldest are dropped, with an error in the log, rather than
/// growing without bound.
const MAX_PENDING: usize = 100_000;

/// The queue of audited reads of one [`Services`].
#[derive(Default)]
pub struct AuditBuffer {
    pending: Mutex<Vec<Pending>>,
    flusher: AtomicBool,
    /// Serialises flushes, so that "list after flush" sees everything.
    flushing: tokio::sync::Mutex<()>,
}

impl AuditBuffer {
    fn take(&self) -> Vec<Pending> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    fn put_back(&self, mut entries: Vec<Pending>) {
        if let Ok(mut p) = self.pending.lock() {
            entries.append(&mut p);
            if entries.len() > MAX_PENDING {
                let extra = entries.len() - MAX_PENDING;
                tracing::error!(
                    dropped = extra,
                    "audit entries of reads could not be written and were dropped"
                );
                entries.drain(..extra);
            }
            *p = entries;
        }
    }

    async fn flush(&self, db: &Db) -> Result<(), ServiceError> {
        let _one = self.flushing.lock().await;
        let entries = self.take();
        if entries.is_empty() {
            return Ok(());
        }
        let rows: Vec<(NewAuditEvent<'_>, Timestamp)> = entries
            .iter()
            .map(|e| {
                (
                    NewAuditEvent {
                        category: e.category.as_str(),
                        event: &e.event,
                        actor_id: e.actor,
                        target_user_id: e.target_user,
                        request_id: e.request_id.as_deref(),
                        details: &e.details,
                    },
                    e.at,
                )
            })
            .collect();
        let result = async {
            let mut tx = db.begin().await?;
            audit_events::insert_many(&mut tx, &rows).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        }
        .await;
        drop(rows);
        if let Err(e) = result {
            self.put_back(entries);
            return Err(e);
        }
        Ok(())
    }
}

/// Writes the queue every [`FLUSH_EVERY`] while its services live.
async fn flusher(buffer: Weak<AuditBuffer>, db: Db) {
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(buffer) = buffer.upgrade() else {
            return;
        };
        if let Err(e) = buffer.flush(&db).await {
            tracing::warn!(error = %e, "writing audit entries of reads failed; retrying");
        }
    }
}

impl Services {
    /// Audits a read (it changed nothing, so there is no transaction to
    /// join): queued and written within a fraction of a second.
    pub fn record_read(&self, entry: AuditEntry<'_>) {
        let pending = Pending {
            at: Timestamp::now(),
            category: entry.category,
            event: entry.event.to_string(),
            actor: entry.actor,
            target_user: entry.target_user,
            request_id: current_request_id(),
            details: entry.details.to_string(),
        };
        let len = match self.audit_buffer.pending.lock() {
            Ok(mut p) => {
                p.push(pending);
                p.len()
            }
            Err(_) => return,
        };
        if len > MAX_PENDING {
            self.audit_buffer.put_back(Vec::new());
        }
        if !self.audit_buffer.flusher.swap(true, Ordering::AcqRel) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(flusher(Arc::downgrade(&self.audit_buffer), self.db.clone()));
                }
                // No runtime to flush in the background: the next listing
                // or shutdown writes the queue.
                Err(_) => self.audit_buffer.flusher.store(false, Ordering::Release),
            }
        }
    }

    /// Writes the queued entries of reads now (before listing the trail,
    /// and at shutdown).
    pub async fn flush_audit(&self) -> Result<(), ServiceError> {
        self.audit_buffer.flush(&self.db).await
    }

    /// A page of the audit trail and the number of entries in all pages.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        oldest_first: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEvent>, i64), ServiceError> {
        self.flush_audit().await?;
        let mut conn = self.db.conn().await?;
        let list = audit_events::list(&mut conn, filter, oldest_first, limit, offset).await?;
        let total = audit_events::count(&mut conn, filter).await?;
        Ok((list, total))
    }

    pub async fn audit_event(&self, id: i64) -> Result<AuditEvent, ServiceError> {
        self.flush_audit().await?;
        let mut conn = self.db.conn().await?;
        audit_events::find(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("audit event"))
    }

    /// Every entry about a person (they are the target), oldest first: what
    /// their export shows of who did what to their account and data.
    pub async fn audit_events_about(&self, user: UserId) -> Result<Vec<AuditEvent>, ServiceError> {
        self.flush_audit().await?;
        let filter = AuditFilter {
            target: Some(audit_events::UserCond::In(vec![user])),
            ..AuditFilter::default()
        };
        let mut conn = self.db.conn().await?;
        Ok(audit_events::list(&mut conn, &filter, true, i64::MAX / 2, 0).await?)
    }

    /// The names of the people entries refer to, for showing them.
    pub async fn audit_names(
        &self,
        events: &[AuditEvent],
    ) -> Result<std::collections::HashMap<UserId, String>, ServiceError> {
        let mut ids: Vec<UserId> = events
            .iter()
            .flat_map(|e| [e.actor_id, e.target_user_id])
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut conn = self.db.conn().await?;
        Ok(principals::find_many(&mut conn, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name()))
            .collect())
    }
}
