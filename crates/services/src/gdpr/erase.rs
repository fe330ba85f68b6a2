//! Erasure (GDPR Art. 17): one person's account and everything that
//! identifies them, in one transaction, driven by the personal-data
//! registry; what they did stays, pointing to the built-in "Deleted user".
//!
//! Order inside the transaction:
//! 1. guards (unknown, built-in or group principal, last administrator);
//! 2. structured mentions in every free-text column become mentions of the
//!    "Deleted user" (the old display name goes with the markup);
//! 3. every user-reference column: re-pointed to the "Deleted user" or its
//!    row deleted, as the registry says; sign-in attempts typed with the
//!    login go too; then the account row itself;
//! 4. free text still naming the person goes to the redaction queue;
//! 5. the residue scan runs on the transaction's own view: any residue
//!    rolls everything back, so a half-erased person cannot exist;
//! 6. the certificate and an audit entry are written, and it all commits.
//!
//! Sessions and API tokens are rows like any other: once the transaction
//! commits, the next request with them finds nothing.
//!
//! Outside the database, and before the transaction (each step idempotent,
//! so a failed erasure can simply be run again): the request log loses the
//! person's id and their login, email and name in parameters, and the
//! archives of their exports are deleted.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use steward_domain::registry::{self, Erasure, Kind};
use steward_domain::search::TextQuery;
use steward_domain::user::{
    PrincipalKind, User, UserId, UserStatus, DELETED_USER_ID, SYSTEM_USER_ID,
};
use steward_domain::{mention, Timestamp};
use steward_storage::erasure_certificates::{self, NewCertificate};
use steward_storage::{erasure, redactions, text_index, users, Conn, Engine};

use super::certificate::{self, CertificateDoc, Requester, Scrubbed};
use super::export::archive::hex;
use super::scan::{self, HitClass, ScanReport, ScanTarget};
use crate::audit::{self, AuditEntry};
use crate::{secrets, ServiceError, Services};

/// How the "Deleted user" is shown in rewritten mentions.
const DELETED_DISPLAY: &str = "Deleted user";
const DELETED_LOGIN: &str = "deleted-user";

#[derive(Clone, Debug, Serialize)]
pub struct ErasureOutcome {
    pub certificate_id: i64,
    /// True when the person had been erased before: nothing was done now.
    pub already_erased: bool,
    pub certificate: CertificateDoc,
}

/// What an erasure would do, without doing it: the erasure's own steps,
/// run in a transaction that is rolled back, so the numbers are the ones
/// the certificate will then show.
#[derive(Clone, Debug, Serialize)]
pub struct ErasurePreview {
    pub user_id: UserId,
    /// Rows changed per table and column, as on the certificate.
    pub changes: Vec<Scrubbed>,
    /// Texts whose structured mentions of the person will name the
    /// "Deleted user" instead.
    pub mentions_in_text: i64,
    /// Texts that still name the person in free words: they go to the
    /// redaction queue for the controller to review.
    pub texts_for_review: i64,
    /// The person's own comments and changes and the work packages they
    /// created: they stay, attributed to the "Deleted user".
    pub own_contributions: i64,
}

/// `sha256:` + hex SHA-256 of the salt followed by the decimal id.
pub fn subject_hash(salt: &str, id: UserId) -> String {
    let digest = Sha256::digest(format!("{salt}{id}").as_bytes());
    format!("sha256:{}", hex(&digest))
}

fn guard_erasable(user: &User) -> Result<(), ServiceError> {
    match user.kind {
        PrincipalKind::User => Ok(()),
        PrincipalKind::Deleted => Err(ServiceError::Conflict(
            "The built-in \"Deleted user\" cannot be erased: erased people's contributions point to it.".into(),
        )),
        PrincipalKind::System => Err(ServiceError::Conflict(
            "The built-in system user cannot be erased.".into(),
        )),
        PrincipalKind::Group => Err(ServiceError::Conflict(
            "This is a group, not a person: delete it through /api/v3/groups.".into(),
        )),
    }
}

async fn guard_last_admin(conn: &mut Conn, user: &User) -> Result<(), ServiceError> {
    if user.admin
        && user.status == UserStatus::Active
        && users::count_active_admins(conn, Some(user.id)).await? == 0
    {
        return Err(ServiceError::Conflict(
            "Cannot erase the last active administrator: make someone else an administrator first."
                .into(),
        ));
    }
    Ok(())
}

/// The user-reference columns with what erasure does to each, in a fixed
/// order: re-pointing first, deleting rows after, the account last.
fn user_ref_columns() -> Vec<(&'static str, &'static str, Erasure)> {
    let mut cols = Vec::new();
    for table in registry::TABLES {
        for (column, p) in table.personal_columns() {
            if p.kind == Kind::UserRef && !(table.name == "users" && column == "id") {
                cols.push((table.name, column, p.erasure));
            }
        }
    }
    cols.sort_by_key(|(_, _, e)| match e {
        Erasure::DeletedUser => 0,
        Erasure::DeleteRow => 1,
        Erasure::ReviewText | Erasure::ForgottenWhenReviewed | Erasure::Mirrored => 2,
    });
    cols
}

/// Whether erasure keeps the text of `table.column` (`Erasure::ReviewText`):
/// there structured mentions are rewritten and the rest is left to the
/// redaction queue.
fn is_review_text(table: &str, column: &str) -> bool {
    registry::table(table)
        .and_then(|t| t.column(column))
        .is_some_and(
            |c| matches!(&c.data, registry::Data::Personal(p) if p.erasure == Erasure::ReviewText),
        )
}

/// Texts that may mention the person read from the text index per page.
const MENTION_PAGE: i64 = 2000;

fn mention_needles(user: &User) -> Vec<String> {
    vec![
        format!("data-id=\"{}\"", user.id),
        format!("@{}", user.login),
    ]
}

impl Services {
    /// Whether `id` belongs to a person erased before, by recomputing each
    /// certificate's salted hash.
    pub async fn erased_before(
        &self,
        conn: &mut Conn,
        id: UserId,
    ) -> Result<Option<i64>, ServiceError> {
        for (cert, salt, hash) in erasure_certificates::hashes(conn).await? {
            if secrets::constant_time_eq(&subject_hash(&salt, id), &hash) {
                return Ok(Some(cert));
            }
        }
        Ok(None)
    }

    /// What erasing `id` would change: the erasure's steps on a
    /// transaction that is rolled back (the request log and export
    /// archives, outside the database, are left alone).
    pub async fn erasure_preview(&self, id: UserId) -> Result<ErasurePreview, ServiceError> {
        // The erasure's own scans, rolled back: off the request threads.
        let mut tx = self.db.for_long_work().begin().await?;
        let user = users::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("User"))?;
        guard_erasable(&user)?;
        let mut target = ScanTarget::of_user(&user);
        target.secret_hashes = scan::secret_hashes_of(&mut tx, id).await?;
        let mut changes = Vec::new();
        let mentions_in_text = rewrite_mentions(&mut tx, &user, &mut changes).await?;
        remove_references(&mut tx, &user, &mut changes).await?;
        let report = scan::scan_database(&mut tx, &target).await?;
        tx.rollback().await?;
        let own_contributions = changes
            .iter()
            .filter(|c| {
                matches!(
                    (c.table.as_str(), c.column.as_str()),
                    ("journals", "user_id") | ("work_packages", "author_id")
                )
            })
            .map(|c| c.rows)
            .sum();
        Ok(ErasurePreview {
            user_id: id,
            changes,
            mentions_in_text,
            texts_for_review: cells_for_review(&report).len() as i64,
            own_contributions,
        })
    }

    /// Erases the person `id`. `requester` is recorded on the certificate.
    pub async fn erase_user(
        &self,
        id: UserId,
        requester: Requester,
    ) -> Result<ErasureOutcome, ServiceError> {
        let started = Instant::now();
        let requested_at = Timestamp::now();
        // The request log is files, outside the transaction: scrub it first,
        // once the guards pass, so that the scan inside the transaction
        // finds it clean. Scrubbing is idempotent; if the transaction
        // fails, a retried erasure finds nothing more to do there.
        {
            let mut conn = self.db.conn().await?;
            if let Some(user) = users::find(&mut conn, id).await? {
                guard_erasable(&user)?;
                guard_last_admin(&mut conn, &user).await?;
                drop(conn);
                let target = ScanTarget::of_user(&user);
                let log = self.request_log();
                let io = |e: std::io::Error| {
                    ServiceError::internal("cannot scrub the request log (nothing was erased)", e)
                };
                log.scrub_person(user.id, &target.log_terms())
                    .await
                    .map_err(io)?;
                // Archives of exports about (or asked for by) the person go
                // now; their rows go with the person in the transaction.
                self.delete_export_archives_of(user.id).await?;
            }
        }
        let mut phases = Phases::new(started);
        phases.mark("request log and export archives");
        // Full-table scans and the residue scan: off the request threads.
        let mut tx = self.db.for_long_work().begin().await?;
        if tx.engine() == Engine::Postgres {
            // Holds off concurrent writers that would add a reference to
            // this person (their foreign-key check waits for this lock and
            // then finds the person gone) and a second erasure of them.
            tx.execute(
                "SELECT id FROM users WHERE id = $1 FOR UPDATE",
                steward_storage::params![id],
            )
            .await?;
        }
        let Some(user) = users::find(&mut tx, id).await? else {
            // A second erasure of the same person is harmless: it finds
            // the first one's certificate and does nothing.
            if let Some(cert) = self.erased_before(&mut tx, id).await? {
                tx.rollback().await?;
                let found = self.erasure_certificate(cert).await?;
                return Ok(ErasureOutcome {
                    certificate_id: cert,
                    already_erased: true,
                    certificate: found,
                });
            }
            tx.rollback().await?;
            return Err(ServiceError::NotFound("User"));
        };
        guard_erasable(&user)?;
        guard_last_admin(&mut tx, &user).await?;

        // Identifiers, read before they go, for the scan.
        let mut target = ScanTarget::of_user(&user);
        target.secret_hashes = scan::secret_hashes_of(&mut tx, id).await?;

        let mut scrubbed: Vec<Scrubbed> = Vec::new();

        phases.mark("guards and identifiers");
        rewrite_mentions(&mut tx, &user, &mut scrubbed).await?;
        phases.mark("mentions in text");
        remove_references(&mut tx, &user, &mut scrubbed).await?;

        phases.mark("references re-pointed and rows deleted");
        // 4 and 5. The scan on this transaction's view (and the request
        // log and caches); free-text hits become the redaction queue.
        self.totals.clear();
        let mut report = scan::scan_database(&mut tx, &target).await?;
        self.scan_outside_database(&target, &mut report).await?;
        if report.request_log_lines > 0 {
            tx.rollback().await?;
            return Err(ServiceError::Internal(format!(
                "Erasure stopped and rolled back: {} request-log line(s) still name the person.",
                report.request_log_lines
            )));
        }
        if !report.residue.is_empty() {
            tx.rollback().await?;
            let places: Vec<String> = report
                .residue
                .iter()
                .take(10)
                .map(|h| format!("{}.{} row {}", h.table, h.column, h.row))
                .collect();
            return Err(ServiceError::Internal(format!(
                "Erasure stopped and rolled back: the residue scan still found the person in {} place(s): {}",
                report.residue.len(),
                places.join(", ")
            )));
        }

        phases.mark("residue scan");
        let salt = hex(&secrets::random_bytes::<16>());
        let hash = subject_hash(&salt, id);
        let requested_by = match requester {
            Requester::Administrator(admin) => admin,
            Requester::Subject => DELETED_USER_ID,
            Requester::Operator => SYSTEM_USER_ID,
        };
        let completed_at = Timestamp::now();
        let cert_id = erasure_certificates::insert(
            &mut tx,
            &NewCertificate {
                subject_hash: &hash,
                salt: &salt,
                requested_by,
                requested_at,
                completed_at,
            },
        )
        .await?;

        let queued = if report.free_text.is_empty() {
            0
        } else {
            let terms = serde_json::to_string(&target.terms())
                .map_err(|e| ServiceError::internal("cannot store the search terms", e))?;
            let subject =
                redactions::insert_subject(&mut tx, cert_id, &terms, completed_at).await?;
            let cells = cells_for_review(&report);
            redactions::insert_entries(&mut tx, subject, &cells, completed_at).await?;
            cells.len()
        };

        let mut final_report = report;
        final_report.held.clear();
        let final_report = scan::finish(final_report);
        let doc = certificate::build(
            cert_id,
            &hash,
            &salt,
            requester,
            requested_at,
            completed_at,
            started.elapsed(),
            scrubbed,
            queued,
            &final_report,
        );
        let doc_json = serde_json::to_string(&doc)
            .map_err(|e| ServiceError::internal("cannot write the certificate", e))?;
        erasure_certificates::set_document(&mut tx, cert_id, &doc_json).await?;
        audit::record(
            &mut tx,
            AuditEntry::access("personal_data.erased", requested_by, DELETED_USER_ID)
                .with_details(json!({ "certificate_id": cert_id })),
        )
        .await?;
        tx.commit().await?;
        phases.mark("certificate and commit");
        phases.log(id);

        // Outside the transaction: nothing here can leave a half-erased
        // person, only files and caches that no longer point anywhere.
        self.totals.clear();
        let _ = erasure::checkpoint(&self.db).await;
        Ok(ErasureOutcome {
            certificate_id: cert_id,
            already_erased: false,
            certificate: doc,
        })
    }
}

/// Step 2: structured mentions of the person in every free-text column
/// become mentions of the "Deleted user" (the old display name goes with
/// the markup), and so do the `mentions` rows. The texts are found through
/// the text index (the words of `data-id="ID"` and of `@login`), so this
/// costs the texts that mention the person, not every text. Returns how
/// many texts changed.
async fn rewrite_mentions(
    tx: &mut Conn,
    user: &User,
    scrubbed: &mut Vec<Scrubbed>,
) -> Result<i64, ServiceError> {
    let mut texts = 0;
    let sources: Vec<text_index::Source> = text_index::sources(tx)
        .await?
        .into_iter()
        .filter(|s| is_review_text(s.table, s.column))
        .collect();
    let mut changed: BTreeMap<&'static str, u64> = BTreeMap::new();
    if let Some(query) = TextQuery::any_of(&mention_needles(user)) {
        let mut after = i64::MIN;
        loop {
            let keys = text_index::keys_matching(tx, &query, after, MENTION_PAGE).await?;
            let Some(&last) = keys.last() else { break };
            after = last;
            let mut by_source: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            for key in keys {
                let (row, code) = text_index::decode(key);
                by_source.entry(code).or_default().push(row);
            }
            for (code, rows) in by_source {
                let Some(source) = sources.iter().find(|s| s.code == code) else {
                    continue;
                };
                let cells = erasure::get_texts(tx, source.table, source.column, &rows).await?;
                for (key, text) in cells {
                    let Some(new_text) = mention::replace_user(
                        &text,
                        user.id,
                        &user.login,
                        DELETED_USER_ID,
                        DELETED_DISPLAY,
                        DELETED_LOGIN,
                    ) else {
                        continue;
                    };
                    let n =
                        erasure::set_text(tx, source.table, source.column, key, &new_text).await?;
                    *changed.entry(source.table).or_default() += n;
                }
            }
        }
    }
    for (table, n) in changed {
        if n > 0 {
            texts += n as i64;
            scrubbed.push(Scrubbed::new(
                table,
                "text",
                "mentions now name the \"Deleted user\"",
                n as i64,
            ));
        }
    }
    let n = erasure::repoint_mentions(tx, user.id, DELETED_USER_ID).await?;
    if n > 0 {
        scrubbed.push(Scrubbed::new(
            "mentions",
            "user_id",
            Erasure::DeletedUser.describe(),
            n as i64,
        ));
    }
    Ok(texts)
}

/// Step 3: every user-reference column re-pointed to the "Deleted user" or
/// its row deleted, as the registry says; rows that carry the login or
/// email without a user id; then the account itself.
async fn remove_references(
    tx: &mut Conn,
    user: &User,
    scrubbed: &mut Vec<Scrubbed>,
) -> Result<(), ServiceError> {
    let id = user.id;
    for (table, column, action) in user_ref_columns() {
        if table == "mentions" {
            continue;
        }
        let n = match (table, column, action) {
            ("custom_values", "customized_id", _) => erasure::delete_profile_custom_values(tx, id).await?,
            (_, _, Erasure::DeletedUser) => erasure::repoint(tx, table, column, id, DELETED_USER_ID).await?,
            (_, _, Erasure::DeleteRow) => erasure::delete_equal(tx, table, column, id).await?,
            (_, _, Erasure::ReviewText | Erasure::ForgottenWhenReviewed | Erasure::Mirrored) => {
                return Err(ServiceError::Internal(format!(
                    "{table}.{column}: a user reference is either re-pointed or deleted; declare DeletedUser or DeleteRow"
                )))
            }
        };
        if n > 0 {
            scrubbed.push(Scrubbed::new(table, column, action.describe(), n as i64));
        }
    }
    // Login and email columns outside `users` whose rows carry no user
    // id (a sign-in attempt typed with the login before the account
    // existed, say).
    for table in registry::TABLES.iter().filter(|t| t.name != "users") {
        for (column, p) in table.personal_columns() {
            let value = match p.kind {
                Kind::Login => Some(user.login.as_str()),
                Kind::Email => user.email.as_deref(),
                _ => None,
            };
            if let (Some(v), Erasure::DeleteRow) = (value, p.erasure) {
                let n = erasure::delete_text_equal(tx, table.name, column, v).await?;
                if n > 0 {
                    scrubbed.push(Scrubbed::new(
                        table.name,
                        column,
                        p.erasure.describe(),
                        n as i64,
                    ));
                }
            }
        }
    }
    let n = erasure::delete_equal(tx, "users", "id", id).await?;
    scrubbed.push(Scrubbed::new(
        "users",
        "id",
        Erasure::DeleteRow.describe(),
        n as i64,
    ));
    steward_storage::work_packages::bump_data_version(tx).await?;
    Ok(())
}

/// Step 4: the free-text cells the scan found still naming the person,
/// once each: the redaction queue's entries.
fn cells_for_review(report: &ScanReport) -> Vec<(&str, &str, i64)> {
    let mut seen = std::collections::HashSet::new();
    report
        .free_text
        .iter()
        .filter(|h| h.class == HitClass::FreeText)
        .filter_map(|h| Some((h.table.as_str(), h.column.as_str(), h.row.parse().ok()?)))
        .filter(|cell| seen.insert(*cell))
        .collect()
}

/// How long each phase of an erasure took, logged at debug level: the
/// first place to look when an erasure is slow.
struct Phases {
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new(started: Instant) -> Self {
        Phases {
            last: started,
            done: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.done
            .push((phase, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }

    fn log(&self, id: UserId) {
        let phases: Vec<String> = self
            .done
            .iter()
            .map(|(p, ms)| format!("{p} {ms:.1} ms"))
            .collect();
        tracing::debug!(user = id, "erasure phases: {}", phases.join(", "));
    }
}
