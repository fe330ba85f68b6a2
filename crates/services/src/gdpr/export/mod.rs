//! The per-person export (GDPR Art. 15 and 20): everything Steward holds
//! about one person, as one `.tar.gz` archive with `personal-data.json`
//! (see [`document`] and docs/gdpr-export-format.md), a README and the
//! person's files.
//!
//! Life of an export requested through the API:
//! 1. [`Services::request_export`] checks the right (the person themself or
//!    an administrator), records the request (`gdpr_exports`, status
//!    `queued`), enqueues a `gdpr.export` job with `{"export_id": N}` and
//!    writes an audit entry, all in one transaction.
//! 2. The job ([`export_job`]) reads everything about the person in one
//!    read snapshot, writes the archive under `<data_dir>/exports/` with a
//!    random name, records its size and SHA-256 and when it expires
//!    (`gdpr.export_expiry_hours`), and audits the export.
//! 3. Only the requester sees the export and downloads the archive
//!    ([`Services::open_export_archive`], audited at each download).
//! 4. The recurring `gdpr.export_expiry` job ([`expiry_job`]) deletes
//!    archives past their time and marks them `expired`; a download after
//!    that time is refused as gone even before the job has run.
//!
//! `steward gdpr export USER` runs the same production synchronously
//! ([`Services::export_to_file`]).

pub mod archive;
pub mod document;
pub mod excerpt;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use steward_domain::user::{PrincipalKind, User, UserId, SYSTEM_USER_ID};
use steward_domain::Timestamp;
use steward_storage::gdpr_exports::{self, ExportStatus, GdprExport};
use steward_storage::{principals, users};

use crate::audit::{self, AuditEntry};
use crate::principals::PrincipalQuery;
use crate::{secrets, ServiceError, Services};

pub use document::{ExportMeta, Summary, FORMAT, FORMAT_VERSION};

/// The job kind that builds one export; payload `{"export_id": N}`.
pub const JOB_KIND: &str = "gdpr.export";
/// The recurring job that deletes expired archives.
pub const EXPIRY_JOB_KIND: &str = "gdpr.export_expiry";
/// How often the expiry job runs.
pub const EXPIRY_SCHEDULE: &str = "every 15m";

/// Audit events of the export's life.
pub const EVENT_REQUESTED: &str = "personal_data.export_requested";
pub const EVENT_EXPORTED: &str = "personal_data.exported";
pub const EVENT_DOWNLOADED: &str = "personal_data.export_downloaded";

/// The archive's name inside the archive directory.
const EXTENSION: &str = ".tar.gz";
/// Leftovers of an interrupted write, and archives no export refers to any
/// more (their record was erased with its person), are removed by the
/// expiry job once they are this old.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Where archives go and how long they stay; from the configuration.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    /// `<data_dir>/exports`.
    pub dir: PathBuf,
    /// Archives are deleted this long after they are ready.
    pub expiry_hours: u32,
    /// The instance's public URL, written into each export.
    pub public_url: String,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            dir: PathBuf::from("./steward-data/exports"),
            expiry_hours: 24,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// What a download request finds.
#[derive(Debug)]
pub enum Download {
    Ready(ArchiveFile),
    /// Still `queued` or `running`.
    NotReady(ExportStatus),
    /// The export failed; the message says why.
    Failed(String),
    /// The archive has expired and is deleted.
    Expired,
}

/// An archive ready to be sent, opened.
#[derive(Debug)]
pub struct ArchiveFile {
    pub file: std::fs::File,
    /// The name to offer the downloader.
    pub download_name: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// An export written by [`Services::export_to_file`].
#[derive(Debug)]
pub struct FileExport {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256: String,
    pub summary: Summary,
}

/// What the requester of a failed export is told when the failure was not
/// theirs (a file that could not be written): the cause is in the server
/// log, under the export's id.
const INTERNAL_FAILURE: &str =
    "The archive could not be produced because of an internal error; it is logged under this export's id. Request a new export.";

/// The name an archive is offered under: no personal data in it beyond the id.
fn download_name(e: &GdprExport) -> String {
    let day: String = e
        .created_at
        .to_string()
        .chars()
        .take(10)
        .filter(char::is_ascii_digit)
        .collect();
    format!(
        "steward-personal-data-user-{}-{day}-export-{}{EXTENSION}",
        e.subject_user_id, e.id
    )
}

fn random_file_name() -> String {
    format!(
        "{}{EXTENSION}",
        archive::hex(&secrets::random_bytes::<16>())
    )
}

/// A file name we wrote ourselves: random hex and our extension, nothing
/// that could lead outside the archive directory.
fn is_archive_name(name: &str) -> bool {
    name.strip_suffix(EXTENSION)
        .is_some_and(|stem| stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Services {
    /// Uses these export settings instead of the defaults.
    pub fn with_export_settings(mut self, settings: ExportSettings) -> Self {
        self.exports = std::sync::Arc::new(settings);
        self
    }

    pub fn export_settings(&self) -> &ExportSettings {
        &self.exports
    }

    /// The person whose data `caller` wants exported, if they may: the
    /// person themself or an administrator. Anyone else gets "forbidden"
    /// when they can see the person (they share a project) and "not found"
    /// when they cannot.
    pub async fn exportable_subject(
        &self,
        caller: &User,
        subject_id: UserId,
    ) -> Result<User, ServiceError> {
        if caller.id != subject_id && !caller.admin {
            // Loaded before taking a connection: it takes one of its own.
            let access = self.access(Some(caller)).await?;
            let mut conn = self.db.conn().await?;
            let query = PrincipalQuery {
                kinds: Some(vec![PrincipalKind::User]),
                ..PrincipalQuery::default()
            };
            let mut filter = self.principal_filter(&mut conn, &access, &query).await?;
            filter.ids = Some(match filter.ids {
                Some(ids) => ids.into_iter().filter(|i| *i == subject_id).collect(),
                None => vec![subject_id],
            });
            let visible = principals::count(&mut conn, &filter).await? > 0;
            return Err(if visible {
                ServiceError::Forbidden(
                    "Only the person themself or an administrator may export a person's data."
                        .into(),
                )
            } else {
                ServiceError::NotFound("user")
            });
        }
        let mut conn = self.db.conn().await?;
        users::find(&mut conn, subject_id)
            .await?
            .filter(|u| u.kind == PrincipalKind::User)
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Records an export request and queues the job that builds it. While
    /// an earlier request of the same person about the same subject is
    /// still queued or running, that one is answered instead: asking again
    /// does not pile up jobs and archives.
    pub async fn request_export(
        &self,
        caller: &User,
        subject_id: UserId,
    ) -> Result<GdprExport, ServiceError> {
        let subject = self.exportable_subject(caller, subject_id).await?;
        let mut tx = self.db.begin().await?;
        if let Some(pending) = gdpr_exports::pending(&mut tx, subject.id, caller.id).await? {
            return Ok(pending);
        }
        let export = gdpr_exports::insert(&mut tx, subject.id, caller.id, Timestamp::now()).await?;
        let job_id = self
            .enqueue_job(&mut tx, JOB_KIND, &json!({ "export_id": export.id }), None)
            .await?;
        gdpr_exports::set_job(&mut tx, export.id, job_id).await?;
        audit::record(
            &mut tx,
            AuditEntry::access(EVENT_REQUESTED, caller.id, subject.id)
                .with_details(json!({ "export_id": export.id, "job_id": job_id })),
        )
        .await?;
        tx.commit().await?;
        self.wake_job_workers();
        Ok(GdprExport {
            job_id: Some(job_id),
            ..export
        })
    }

    /// An export, for its requester only: to anyone else it does not exist.
    pub async fn export_for(&self, caller: &User, id: i64) -> Result<GdprExport, ServiceError> {
        let mut conn = self.db.conn().await?;
        let export = gdpr_exports::find(&mut conn, id)
            .await?
            .filter(|e| e.requested_by == caller.id)
            .ok_or(ServiceError::NotFound("export"))?;
        drop(conn);
        self.expire_if_due(export).await
    }

    /// The exports `caller` requested of `subject_id`, newest first. The
    /// same right as for requesting one applies.
    pub async fn exports_of(
        &self,
        caller: &User,
        subject_id: UserId,
    ) -> Result<Vec<GdprExport>, ServiceError> {
        let subject = self.exportable_subject(caller, subject_id).await?;
        let mut conn = self.db.conn().await?;
        let list = gdpr_exports::list(&mut conn, subject.id, caller.id).await?;
        drop(conn);
        let mut out = Vec::with_capacity(list.len());
        for e in list {
            out.push(self.expire_if_due(e).await?);
        }
        Ok(out)
    }

    /// The archive of an export, opened for its requester; audited as a
    /// download. The open file stays readable to the end even if the
    /// expiry job deletes it meanwhile.
    pub async fn open_export_archive(
        &self,
        caller: &User,
        id: i64,
    ) -> Result<Download, ServiceError> {
        let export = self.export_for(caller, id).await?;
        let path = match export.status {
            ExportStatus::Queued | ExportStatus::Running => {
                return Ok(Download::NotReady(export.status))
            }
            ExportStatus::Failed => {
                return Ok(Download::Failed(
                    export.error.unwrap_or_else(|| "unknown error".into()),
                ))
            }
            ExportStatus::Expired => return Ok(Download::Expired),
            ExportStatus::Ready => match export.file_name.as_deref().filter(|n| is_archive_name(n))
            {
                Some(name) => self.exports.dir.join(name),
                None => return Ok(Download::Expired),
            },
        };
        let opened = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            let size = file.metadata()?.len();
            Ok::<_, std::io::Error>((file, size))
        })
        .await
        .map_err(|e| ServiceError::internal("opening the archive stopped", e))?;
        let (file, size) = match opened {
            Ok(f) => f,
            Err(e) if !is_missing(&e) => {
                return Err(ServiceError::internal(
                    format_args!("cannot open the archive of export {}", export.id),
                    e,
                ))
            }
            Err(e) => {
                // Removed behind our back: it is gone for good.
                tracing::warn!(export = export.id, error = %e, "an export archive is missing");
                let mut conn = self.db.conn().await?;
                gdpr_exports::expire(&mut conn, export.id).await?;
                return Ok(Download::Expired);
            }
        };
        let mut conn = self.db.conn().await?;
        audit::record(
            &mut conn,
            AuditEntry::access(EVENT_DOWNLOADED, caller.id, export.subject_user_id)
                .with_details(json!({ "export_id": export.id })),
        )
        .await?;
        Ok(Download::Ready(ArchiveFile {
            download_name: download_name(&export),
            file,
            size_bytes: size,
            sha256: export.sha256.clone().unwrap_or_default(),
        }))
    }

    /// Marks a ready export whose time is up as expired (deleting its
    /// archive) before anyone is shown it as ready.
    async fn expire_if_due(&self, export: GdprExport) -> Result<GdprExport, ServiceError> {
        let due = export.status == ExportStatus::Ready
            && export.expires_at.is_some_and(|t| t <= Timestamp::now());
        if !due {
            return Ok(export);
        }
        self.expire_one(&export).await?;
        Ok(GdprExport {
            status: ExportStatus::Expired,
            ..export
        })
    }

    async fn expire_one(&self, export: &GdprExport) -> Result<(), ServiceError> {
        if let Some(name) = export.file_name.as_deref().filter(|n| is_archive_name(n)) {
            remove_file_if_present(&self.exports.dir.join(name));
        }
        let mut conn = self.db.conn().await?;
        gdpr_exports::expire(&mut conn, export.id).await?;
        Ok(())
    }

    /// Deletes at once the archives of every ready export about `user` or
    /// requested by them, and marks those exports expired. For erasure:
    /// call it before the person's rows go, so that no archive of their
    /// data outlives them (the expiry job would otherwise remove such
    /// files only as leftovers, an hour later). Returns how many went.
    pub async fn delete_export_archives_of(&self, user: UserId) -> Result<usize, ServiceError> {
        let mut conn = self.db.conn().await?;
        let ready = gdpr_exports::ready_of(&mut conn, user).await?;
        drop(conn);
        for e in &ready {
            self.expire_one(e).await?;
        }
        Ok(ready.len())
    }

    /// Deletes the archives of exports past their expiry and marks them
    /// expired; then removes leftovers no export refers to (older than an
    /// hour). Returns how many exports expired.
    pub async fn expire_exports(&self) -> Result<usize, ServiceError> {
        let mut conn = self.db.conn().await?;
        let due = gdpr_exports::due_for_expiry(&mut conn, Timestamp::now()).await?;
        drop(conn);
        for e in &due {
            self.expire_one(e).await?;
        }
        let mut conn = self.db.conn().await?;
        let keep = gdpr_exports::ready_file_names(&mut conn).await?;
        drop(conn);
        let dir = self.exports.dir.clone();
        tokio::task::spawn_blocking(move || sweep_orphans(&dir, &keep))
            .await
            .map_err(|e| ServiceError::internal("the archive sweep stopped", e))?;
        Ok(due.len())
    }

    /// Builds the archive of one requested export (the `gdpr.export` job).
    /// Idempotent: an export already ready or expired is left alone, one
    /// interrupted or failed before is built again.
    pub async fn run_export(&self, export_id: i64) -> Result<(), ServiceError> {
        let mut conn = self.db.conn().await?;
        let Some(export) = gdpr_exports::find(&mut conn, export_id).await? else {
            // Its record went with an erased person: nothing left to do.
            return Ok(());
        };
        if !gdpr_exports::start(&mut conn, export_id).await? {
            return Ok(());
        }
        let subject = users::find(&mut conn, export.subject_user_id)
            .await?
            .filter(|u| u.kind == PrincipalKind::User);
        drop(conn);
        let result = match subject {
            Some(subject) => self.produce(export.clone(), subject).await,
            None => Err(ServiceError::NotFound("user")),
        };
        if let Err(e) = &result {
            let shown = match e {
                ServiceError::Internal(cause) => {
                    tracing::error!(export = export_id, %cause, "a personal-data export failed");
                    INTERNAL_FAILURE.to_string()
                }
                other => other.to_string(),
            };
            let mut conn = self.db.conn().await?;
            gdpr_exports::fail(&mut conn, export_id, &shown, Timestamp::now()).await?;
        }
        result
    }

    async fn produce(&self, export: GdprExport, subject: User) -> Result<(), ServiceError> {
        let dir = self.exports.dir.clone();
        create_private_dir(&dir).map_err(|e| {
            ServiceError::internal(
                format_args!("cannot create the export directory {}", dir.display()),
                e,
            )
        })?;
        let name = random_file_name();
        let path = dir.join(&name);
        let meta = ExportMeta {
            export_id: Some(export.id),
            requested_by: export.requested_by,
            requested_at: export.created_at,
            via: "api",
            public_url: self.exports.public_url.clone(),
        };
        let subject_id = subject.id;
        let (written, _) = self.write_archive(subject, meta, path.clone()).await?;
        let now = Timestamp::now();
        let expires = now.plus_seconds(i64::from(self.exports.expiry_hours) * 3600);
        let mut tx = self.db.begin().await?;
        let recorded = gdpr_exports::finish(
            &mut tx,
            export.id,
            &name,
            written.size_bytes as i64,
            &written.sha256,
            now,
            expires,
        )
        .await?;
        if !recorded {
            // Finished elsewhere meanwhile (a second delivery of the job).
            drop(tx);
            remove_file_if_present(&path);
            return Ok(());
        }
        audit::record(
            &mut tx,
            AuditEntry::access(EVENT_EXPORTED, export.requested_by, subject_id).with_details(
                json!({
                    "export_id": export.id,
                    "via": "api",
                    "size_bytes": written.size_bytes,
                    "sha256": written.sha256,
                }),
            ),
        )
        .await?;
        if let Err(e) = tx.commit().await {
            remove_file_if_present(&path);
            return Err(e.into());
        }
        Ok(())
    }

    /// Writes the export of `subject` to `output` (which must not exist),
    /// synchronously: `steward gdpr export`. Audited as an export by the
    /// system account, the command line having no signed-in person.
    pub async fn export_to_file(
        &self,
        subject: &User,
        output: &Path,
    ) -> Result<FileExport, ServiceError> {
        if subject.kind != PrincipalKind::User {
            return Err(ServiceError::NotFound("user"));
        }
        let meta = ExportMeta {
            export_id: None,
            requested_by: SYSTEM_USER_ID,
            requested_at: Timestamp::now(),
            via: "cli",
            public_url: self.exports.public_url.clone(),
        };
        let (written, summary) = self
            .write_archive(subject.clone(), meta, output.to_path_buf())
            .await?;
        let mut conn = self.db.conn().await?;
        audit::record(
            &mut conn,
            AuditEntry::access(EVENT_EXPORTED, SYSTEM_USER_ID, subject.id).with_details(json!({
                "export_id": null,
                "via": "cli",
                "size_bytes": written.size_bytes,
                "sha256": written.sha256,
            })),
        )
        .await?;
        Ok(FileExport {
            path: output.to_path_buf(),
            size_bytes: written.size_bytes,
            sha256: written.sha256,
            summary,
        })
    }

    /// Reads everything about `subject` in one snapshot and writes the
    /// archive to `dest`.
    async fn write_archive(
        &self,
        subject: User,
        meta: ExportMeta,
        dest: PathBuf,
    ) -> Result<(archive::Written, Summary), ServiceError> {
        let subject_id = subject.id;
        // Audited reads still queued belong in the person's audit trail;
        // written first, before the snapshot's connection is taken.
        self.flush_audit().await?;
        // Everything about the person, table by table: off the request threads.
        let mut conn = self.db.for_long_work().begin_read().await?;
        let gathered = document::gather(&mut conn, subject, meta.requested_by).await?;
        conn.commit().await?;
        let request_log = self.request_log_for_export(subject_id).await?;
        let job = tokio::task::spawn_blocking(move || {
            let now = Timestamp::now();
            let doc = document::build(&gathered, &meta, &request_log, now);
            let json = serde_json::to_vec_pretty(&doc)
                .map_err(|e| ServiceError::internal("cannot render the document", e))?;
            let summary = doc.into_summary();
            let readme = document::readme(&gathered.subject.login, now, &meta.public_url);
            let mtime = u64::try_from(now.micros() / 1_000_000).unwrap_or(0);
            let written = archive::write(
                &dest,
                &[
                    archive::Member {
                        path: "personal-data.json",
                        data: &json,
                    },
                    archive::Member {
                        path: "README.txt",
                        data: readme.as_bytes(),
                    },
                ],
                &["files/"],
                mtime,
            )
            .map_err(|e| {
                ServiceError::internal(format_args!("cannot write {}", dest.display()), e)
            })?;
            Ok::<_, ServiceError>((written, summary))
        });
        job.await
            .map_err(|e| ServiceError::internal("writing the archive stopped", e))?
    }

    /// The request log's lines of the person's own requests, as the log
    /// keeps them (JSON objects, secrets already filtered).
    async fn request_log_for_export(
        &self,
        subject_id: UserId,
    ) -> Result<Vec<serde_json::Value>, ServiceError> {
        self.request_log
            .lines_for_user(subject_id)
            .await
            .map_err(|e| ServiceError::internal("cannot read the request log", e))
    }
}

/// The `gdpr.export` job: builds the export named by `{"export_id": N}`.
pub async fn export_job(s: Services, payload: serde_json::Value) -> Result<(), String> {
    let id = payload
        .get("export_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| format!("{JOB_KIND}: the payload {payload} has no export_id"))?;
    s.run_export(id)
        .await
        .map_err(|e| format!("{JOB_KIND}: export {id}: {e}"))
}

/// The recurring `gdpr.export_expiry` job.
pub async fn expiry_job(s: Services, _: serde_json::Value) -> Result<(), String> {
    let n = s
        .expire_exports()
        .await
        .map_err(|e| format!("{EXPIRY_JOB_KIND}: {e}"))?;
    if n > 0 {
        tracing::info!(expired = n, "expired personal-data export archives deleted");
    }
    Ok(())
}

/// Whether opening a file failed because it is not there (rather than
/// because it cannot be read).
fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

fn remove_file_if_present(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot delete an export archive");
        }
    }
}

/// The archive directory, readable by Steward's user only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Removes archives and partial writes in `dir` that no ready export
/// refers to and that are older than [`ORPHAN_AGE`].
fn sweep_orphans(dir: &Path, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours =
            is_archive_name(&name) || name.strip_suffix(".partial").is_some_and(is_archive_name);
        if !ours || keep.contains(&name) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= ORPHAN_AGE);
        if old {
            remove_file_if_present(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_are_random_hex() {
        let a = random_file_name();
        assert!(is_archive_name(&a), "{a}");
        assert_ne!(a, random_file_name());
        assert!(!is_archive_name("../etc/passwd.tar.gz"));
        assert!(!is_archive_name("x.tar.gz"));
        assert!(!is_archive_name(&a.replace(".tar.gz", ".zip")));
    }

    #[test]
    fn download_names_carry_no_personal_data() {
        let e = GdprExport {
            id: 12,
            subject_user_id: 7,
            requested_by: 7,
            status: ExportStatus::Ready,
            job_id: None,
            file_name: None,
            size_bytes: None,
            sha256: None,
            error: None,
            created_at: Timestamp::parse_rfc3339("2026-03-04T10:00:00Z").unwrap(),
            completed_at: None,
            expires_at: None,
        };
        assert_eq!(
            download_name(&e),
            "steward-personal-data-user-7-20260304-export-12.tar.gz"
        );
    }
}
