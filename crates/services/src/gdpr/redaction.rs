//! The redaction queue: free text that still names an erased person
//! outside structured mentions, for the controller to redact or dismiss.
//! OpenProject leaves this to manual search; here erasure finds it.
//!
//! Redacting replaces every occurrence in the cell with "[redacted]". On a
//! work package's own subject or description that is a change like any
//! other: a new journal version by the controller says so. Older wordings
//! in the history (journal snapshots, comments, edited comments) are
//! rewritten in place, since keeping them would defeat the erasure. Every
//! redaction and dismissal is an audit entry.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use steward_domain::user::UserId;
use steward_domain::{redaction, Timestamp};
use steward_storage::redactions::{self, Entry, Place};
use steward_storage::{erasure, journals, work_packages, Conn};

use crate::audit::{self, AuditEntry};
use crate::{ServiceError, Services};

/// Characters shown either side of an occurrence.
const CONTEXT_RADIUS: usize = 60;

#[derive(Clone, Debug, Serialize)]
pub struct QueueEntry {
    pub id: i64,
    pub certificate_id: i64,
    pub table: String,
    pub column: String,
    pub row_id: i64,
    pub status: String,
    pub created_at: Timestamp,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<Timestamp>,
    /// The text around each occurrence, while the entry is open and the
    /// text still exists.
    pub contexts: Vec<String>,
    /// Where people read the text, for the controller to see it in context.
    #[serde(skip)]
    pub place: Option<Place>,
}

fn terms_of(entry: &Entry) -> Vec<String> {
    entry
        .terms
        .as_deref()
        .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
        .unwrap_or_default()
}

/// The contexts of an open entry in its cell's text.
fn contexts_of(e: &Entry, text: Option<&str>) -> Vec<String> {
    match text {
        Some(t) if e.status == "open" => redaction::contexts(t, &terms_of(e), CONTEXT_RADIUS),
        _ => Vec::new(),
    }
}

fn queue_entry(e: Entry, contexts: Vec<String>) -> QueueEntry {
    QueueEntry {
        id: e.id,
        certificate_id: e.certificate_id,
        table: e.table_name,
        column: e.column_name,
        row_id: e.row_id,
        status: e.status,
        created_at: e.created_at,
        resolved_by: e.resolved_by,
        resolved_at: e.resolved_at,
        contexts,
        place: None,
    }
}

async fn present(conn: &mut Conn, e: Entry) -> Result<QueueEntry, ServiceError> {
    let text = if e.status == "open" {
        erasure::get_text(conn, &e.table_name, &e.column_name, e.row_id).await?
    } else {
        None
    };
    let contexts = contexts_of(&e, text.as_deref());
    let place = redactions::place_of(conn, &e.table_name, e.row_id).await?;
    Ok(QueueEntry {
        place,
        ..queue_entry(e, contexts)
    })
}

/// [`present`] for a page of entries: the open entries' texts are read
/// with one statement per table and column, not one per entry.
async fn present_all(
    conn: &mut Conn,
    entries: Vec<Entry>,
) -> Result<Vec<QueueEntry>, ServiceError> {
    let mut cells: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for e in entries.iter().filter(|e| e.status == "open") {
        cells
            .entry((&e.table_name, &e.column_name))
            .or_default()
            .push(e.row_id);
    }
    let mut texts: HashMap<(&str, &str), HashMap<i64, String>> = HashMap::new();
    for ((table, column), mut keys) in cells {
        keys.sort_unstable();
        keys.dedup();
        let found = erasure::get_texts(conn, table, column, &keys).await?;
        texts.insert((table, column), found);
    }
    let contexts: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let text = texts
                .get(&(e.table_name.as_str(), e.column_name.as_str()))
                .and_then(|t| t.get(&e.row_id));
            contexts_of(e, text.map(String::as_str))
        })
        .collect();
    drop(texts);
    let mut out = Vec::with_capacity(entries.len());
    for (e, contexts) in entries.into_iter().zip(contexts) {
        let place = redactions::place_of(conn, &e.table_name, e.row_id).await?;
        out.push(QueueEntry {
            place,
            ..queue_entry(e, contexts)
        });
    }
    Ok(out)
}

/// What to do with an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Redact,
    Dismiss,
}

impl Resolution {
    fn status(self) -> &'static str {
        match self {
            Resolution::Redact => "redacted",
            Resolution::Dismiss => "dismissed",
        }
    }
}

pub fn parse_status(s: &str) -> Result<Option<&'static str>, ServiceError> {
    match s {
        "" | "all" => Ok(None),
        "open" => Ok(Some("open")),
        "redacted" => Ok(Some("redacted")),
        "dismissed" => Ok(Some("dismissed")),
        other => Err(steward_domain::ValidationError::new(
            "status",
            format!("Unknown status {other:?}: use open, redacted, dismissed or all."),
        )
        .into()),
    }
}

impl Services {
    pub async fn redaction_queue(
        &self,
        status: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<QueueEntry>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let total = redactions::count(&mut conn, status).await?;
        let page = redactions::list(&mut conn, status, offset, limit).await?;
        Ok((present_all(&mut conn, page).await?, total))
    }

    pub async fn redaction_entry(&self, id: i64) -> Result<QueueEntry, ServiceError> {
        let mut conn = self.db.conn().await?;
        let e = redactions::find(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("Redaction entry"))?;
        present(&mut conn, e).await
    }

    /// Redacts or dismisses an open entry. Redacting also closes the other
    /// open entries of the same cell (the text no longer names anyone).
    pub async fn resolve_redaction(
        &self,
        id: i64,
        resolution: Resolution,
        actor: UserId,
    ) -> Result<QueueEntry, ServiceError> {
        let mut tx = self.db.begin().await?;
        let e = redactions::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("Redaction entry"))?;
        if e.status != "open" {
            return Err(ServiceError::Conflict(format!(
                "Redaction entry {id} is already {}.",
                e.status
            )));
        }
        let now = Timestamp::now();
        let mut changed = false;
        if resolution == Resolution::Redact {
            let terms = terms_of(&e);
            let text = erasure::get_text(&mut tx, &e.table_name, &e.column_name, e.row_id).await?;
            if let Some(new_text) = text.as_deref().and_then(|t| redaction::redact(t, &terms)) {
                changed = true;
                if e.table_name == "work_packages" {
                    redact_work_package(&mut tx, e.row_id, &e.column_name, &new_text, actor, now)
                        .await?;
                } else {
                    erasure::set_text(&mut tx, &e.table_name, &e.column_name, e.row_id, &new_text)
                        .await?;
                }
            }
            redactions::resolve_cell(
                &mut tx,
                &e.table_name,
                &e.column_name,
                e.row_id,
                resolution.status(),
                actor,
                now,
            )
            .await?;
        } else {
            redactions::resolve(&mut tx, id, resolution.status(), actor, now).await?;
        }
        redactions::forget_terms_if_done(&mut tx, e.subject_id).await?;
        let event = match resolution {
            Resolution::Redact => "gdpr.redaction.redacted",
            Resolution::Dismiss => "gdpr.redaction.dismissed",
        };
        audit::record(
            &mut tx,
            AuditEntry::security(event, Some(actor), None).with_details(json!({
                "entry_id": id,
                "certificate_id": e.certificate_id,
                "table": e.table_name,
                "column": e.column_name,
                "row_id": e.row_id,
                "text_changed": changed,
            })),
        )
        .await?;
        if changed {
            work_packages::bump_data_version(&mut tx).await?;
        }
        let out = redactions::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("Redaction entry"))?;
        let out = present(&mut tx, out).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// A redaction of a work package's own text is a change like any other:
/// a new version, journalled with the controller as its author.
async fn redact_work_package(
    tx: &mut Conn,
    id: i64,
    column: &str,
    new_text: &str,
    actor: UserId,
    now: Timestamp,
) -> Result<(), ServiceError> {
    let Some(wp) = work_packages::find(tx, id).await? else {
        return Ok(());
    };
    let mut state = wp.state.clone();
    match column {
        "subject" => state.subject = new_text.to_string(),
        "description" => state.description = new_text.to_string(),
        _ => {
            erasure::set_text(tx, "work_packages", column, id, new_text).await?;
            return Ok(());
        }
    }
    work_packages::update(tx, id, &state, wp.lock_version, now)
        .await?
        .ok_or_else(|| {
            ServiceError::Conflict("The work package changed meanwhile; try again.".into())
        })?;
    journals::insert(
        tx,
        id,
        actor,
        "Personal data of an erased person redacted.",
        &state,
        now,
    )
    .await?;
    Ok(())
}
