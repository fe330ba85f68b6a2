//! Erasure certificates: what was scrubbed, the scan result, and a salted
//! hash of the erased id — nothing else of the person. Kept for the
//! controller as JSON, readable as text.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_storage::erasure_certificates;

use super::scan::ScanReport;
use crate::{ServiceError, Services};

pub const FORMAT: &str = "steward.erasure-certificate";
pub const FORMAT_VERSION: u32 = 1;

/// Who asked for an erasure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester {
    /// An administrator, through the API or the web UI.
    Administrator(UserId),
    /// The person themself ("delete my account").
    Subject,
    /// An operator on the command line.
    Operator,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scrubbed {
    pub table: String,
    pub column: String,
    pub action: String,
    pub rows: i64,
}

impl Scrubbed {
    pub fn new(table: &str, column: &str, action: &str, rows: i64) -> Self {
        Scrubbed {
            table: table.into(),
            column: column.into(),
            action: action.into(),
            rows,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertificateDoc {
    pub format: String,
    pub format_version: u32,
    pub certificate_id: i64,
    pub subject: SubjectProof,
    pub requested_at: Timestamp,
    pub completed_at: Timestamp,
    pub duration_ms: f64,
    pub requested_by: RequestedBy,
    pub scrubbed: Vec<Scrubbed>,
    pub rows_scrubbed: i64,
    pub redaction_queue_entries: usize,
    pub scan: ScanSummary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubjectProof {
    pub hash: String,
    pub salt: String,
    pub method: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestedBy {
    /// `administrator`, `data subject` or `operator`.
    pub kind: String,
    /// The administrator's user id (never the erased person's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScanSummary {
    pub clean: bool,
    pub tables_checked: usize,
    pub columns_checked: usize,
    pub residue: usize,
    pub free_text_occurrences: usize,
    pub request_log_lines: usize,
    pub cache_entries: usize,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    id: i64,
    hash: &str,
    salt: &str,
    requester: Requester,
    requested_at: Timestamp,
    completed_at: Timestamp,
    took: Duration,
    scrubbed: Vec<Scrubbed>,
    queued: usize,
    report: &ScanReport,
) -> CertificateDoc {
    let requested_by = match requester {
        Requester::Administrator(admin) => RequestedBy {
            kind: "administrator".into(),
            user_id: Some(admin),
        },
        Requester::Subject => RequestedBy {
            kind: "data subject".into(),
            user_id: None,
        },
        Requester::Operator => RequestedBy {
            kind: "operator".into(),
            user_id: None,
        },
    };
    CertificateDoc {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        certificate_id: id,
        subject: SubjectProof {
            hash: hash.into(),
            salt: salt.into(),
            method: "SHA-256 of the salt followed by the decimal user id".into(),
        },
        requested_at,
        completed_at,
        duration_ms: (took.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        requested_by,
        rows_scrubbed: scrubbed.iter().map(|s| s.rows).sum(),
        scrubbed,
        redaction_queue_entries: queued,
        scan: ScanSummary {
            clean: report.clean,
            tables_checked: report.tables_checked,
            columns_checked: report.columns_checked,
            residue: report.residue.len(),
            free_text_occurrences: report.free_text.len(),
            request_log_lines: report.request_log_lines,
            cache_entries: report.cache_entries,
        },
    }
}

impl CertificateDoc {
    /// The certificate as readable text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "ERASURE CERTIFICATE No. {}\n",
            self.certificate_id
        ));
        out.push_str(&"=".repeat(40));
        out.push('\n');
        out.push_str(&format!("Requested:   {}\n", self.requested_at));
        out.push_str(&format!(
            "Completed:   {} ({} ms)\n",
            self.completed_at, self.duration_ms
        ));
        let by = match self.requested_by.user_id {
            Some(id) => format!("{} (user id {id})", self.requested_by.kind),
            None => self.requested_by.kind.clone(),
        };
        out.push_str(&format!("Requested by: {by}\n"));
        out.push_str(&format!(
            "Erased person: {} ({}; salt {})\n\n",
            self.subject.hash, self.subject.method, self.subject.salt
        ));
        out.push_str("Scrubbed:\n");
        for s in &self.scrubbed {
            out.push_str(&format!(
                "  {:<40} {:>7} row(s)  {}\n",
                format!("{}.{}", s.table, s.column),
                s.rows,
                s.action
            ));
        }
        out.push_str(&format!(
            "  {:<40} {:>7} row(s)\n\n",
            "total", self.rows_scrubbed
        ));
        let s = &self.scan;
        out.push_str(&format!(
            "Residue scan: {} ({} tables, {} columns searched; {} residue, {} request-log lines, {} cache entries)\n",
            if s.clean { "CLEAN" } else { "NOT CLEAN" },
            s.tables_checked,
            s.columns_checked,
            s.residue,
            s.request_log_lines,
            s.cache_entries
        ));
        out.push_str(&format!(
            "Free text naming the person outside structured mentions: {} occurrence(s), {} redaction-queue entr{} for the controller.\n",
            s.free_text_occurrences,
            self.redaction_queue_entries,
            if self.redaction_queue_entries == 1 { "y" } else { "ies" }
        ));
        out
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CertificateSummary {
    pub id: i64,
    pub requested_at: Timestamp,
    pub completed_at: Timestamp,
    pub requested_by: UserId,
    pub subject_hash: String,
}

impl Services {
    pub async fn erasure_certificate(&self, id: i64) -> Result<CertificateDoc, ServiceError> {
        let mut conn = self.db.conn().await?;
        let cert = erasure_certificates::find(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("Erasure certificate"))?;
        serde_json::from_str(&cert.document).map_err(|e| {
            ServiceError::internal(format_args!("erasure certificate {id} cannot be read"), e)
        })
    }

    pub async fn erasure_certificates(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<CertificateSummary>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let total = erasure_certificates::count(&mut conn).await?;
        let list = erasure_certificates::list(&mut conn, offset, limit)
            .await?
            .into_iter()
            .map(|c| CertificateSummary {
                id: c.id,
                requested_at: c.requested_at,
                completed_at: c.completed_at,
                requested_by: c.requested_by,
                subject_hash: c.subject_hash,
            })
            .collect();
        Ok((list, total))
    }
}
