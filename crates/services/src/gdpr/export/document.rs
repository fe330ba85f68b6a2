//! The export document, `personal-data.json`: readable sections on top
//! (profile, settings, sign-in data, memberships, work, comments, mentions,
//! audit trail, request log) and, under `tables`, every row of every
//! registry table that refers to the person. The format is described field
//! by field in docs/gdpr-export-format.md and by docs/gdpr-export.schema.json.

use std::collections::{BTreeMap, HashSet};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use steward_domain::registry::{Column, Data, Erasure, Kind};
use steward_domain::user::{User, UserId};
use steward_domain::Timestamp;
use steward_storage::audit_events::AuditEvent;
use steward_storage::login_attempts::LoginAttempt;
use steward_storage::personal_data::{
    self as pd, JournalFacts, MembershipFacts, MentionFacts, NoteEditFacts, OwnCustomValue,
    PasswordFacts, ProjectRef, SessionFacts, TableRows, TokenFacts, Value, ValuePointingAt,
    WorkPackageFacts,
};
use steward_storage::Conn;

use super::excerpt;
use crate::ServiceError;

pub const FORMAT: &str = "steward.personal-data-export";
/// Raised when a field is removed or changes meaning; adding fields does
/// not raise it (see docs/gdpr-export-format.md, "Versioning").
pub const FORMAT_VERSION: u32 = 1;

/// Who asked, how, and for which export record.
#[derive(Clone, Debug)]
pub struct ExportMeta {
    /// The `gdpr_exports` record; `None` for an export written by the CLI.
    pub export_id: Option<i64>,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    /// `api` or `cli`.
    pub via: &'static str,
    pub public_url: String,
}

/// Everything read from the database for one person, in one snapshot.
pub struct Gathered {
    pub subject: User,
    subject_name: String,
    password: Option<PasswordFacts>,
    sessions: Vec<SessionFacts>,
    tokens: Vec<TokenFacts>,
    attempts: Vec<LoginAttempt>,
    memberships: Vec<MembershipFacts>,
    groups: Vec<(UserId, String)>,
    own_values: Vec<OwnCustomValue>,
    work_packages: Vec<WorkPackageFacts>,
    journals: Vec<JournalFacts>,
    note_edits: Vec<NoteEditFacts>,
    mentions: Vec<MentionFacts>,
    values_about: Vec<ValuePointingAt>,
    audit: Vec<AuditEvent>,
    requester: Option<(UserId, String, String)>,
    pub tables: Vec<TableRows>,
}

/// Reads everything about `subject` on `conn` (which should hold a
/// read snapshot): a fixed number of statements, whatever the volume.
pub async fn gather(
    conn: &mut Conn,
    subject: User,
    requested_by: UserId,
) -> Result<Gathered, ServiceError> {
    let id = subject.id;
    let requester = if requested_by == id {
        Some((id, subject.login.clone(), subject.name()))
    } else {
        steward_storage::users::find(conn, requested_by)
            .await?
            .map(|u| (u.id, u.login.clone(), u.name()))
    };
    // SQLite reads run on the calling worker: yield between the larger
    // reads so that requests served by the same worker are not held up.
    let work_packages = pd::work_packages_of(conn, id).await?;
    tokio::task::yield_now().await;
    let journals = pd::journals_by(conn, id).await?;
    tokio::task::yield_now().await;
    Ok(Gathered {
        work_packages,
        journals,
        password: pd::password_facts(conn, id).await?,
        sessions: pd::sessions_of(conn, id).await?,
        tokens: pd::api_tokens_of(conn, id).await?,
        attempts: pd::login_attempts_of(conn, id).await?,
        memberships: pd::memberships_of(conn, id).await?,
        groups: pd::groups_of(conn, id).await?,
        own_values: pd::own_custom_values(conn, id).await?,
        note_edits: pd::note_edits_about(conn, id).await?,
        mentions: pd::mentions_of(conn, id).await?,
        values_about: pd::values_pointing_at(conn, id).await?,
        audit: pd::audit_events_of(conn, id).await?,
        tables: pd::rows_about(conn, id).await?,
        requester,
        subject_name: subject.name(),
        subject,
    })
}

// --- the document's shape ------------------------------------------------------

#[derive(Serialize)]
pub struct Document<'a> {
    format: &'static str,
    format_version: u32,
    generated_at: Timestamp,
    instance: Instance<'a>,
    export: ExportInfo<'a>,
    subject: PersonRef<'a>,
    summary: Summary,
    profile: Profile<'a>,
    settings: Settings<'a>,
    authentication: Authentication<'a>,
    memberships: Vec<Membership<'a>>,
    groups: Vec<Named<'a>>,
    work_packages: WorkPackages<'a>,
    journals: Vec<JournalOut<'a>>,
    comments: Vec<Comment<'a>>,
    comment_edits: Vec<CommentEdit<'a>>,
    mentions: Vec<MentionOut<'a>>,
    custom_field_values_about_them: Vec<ValueAbout<'a>>,
    audit_trail: Vec<AuditOut<'a>>,
    request_log: RequestLog<'a>,
    files: Files,
    tables: Vec<TableOut<'a>>,
}

#[derive(Serialize)]
struct Instance<'a> {
    software: &'static str,
    version: &'static str,
    public_url: &'a str,
}

#[derive(Serialize)]
struct ExportInfo<'a> {
    id: Option<i64>,
    via: &'static str,
    requested_at: Timestamp,
    requested_by: Option<PersonRef<'a>>,
    self_service: bool,
}

#[derive(Serialize)]
struct PersonRef<'a> {
    id: UserId,
    login: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct Named<'a> {
    id: i64,
    name: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub work_packages_authored: usize,
    pub work_packages_assigned: usize,
    pub work_packages_accountable: usize,
    pub journals_written: usize,
    pub comments_written: usize,
    pub mentions: usize,
    pub custom_field_values_about_them: usize,
    pub audit_entries: usize,
    pub request_log_lines: usize,
    pub files: usize,
    /// Rows exported per registry table (the `tables` section).
    pub rows_per_table: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct Profile<'a> {
    id: UserId,
    login: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    name: String,
    status: &'static str,
    admin: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    custom_fields: Vec<OwnValueOut<'a>>,
}

#[derive(Serialize)]
struct OwnValueOut<'a> {
    field_id: i64,
    field: &'a str,
    format: &'a str,
    value: Option<&'a str>,
    /// For list fields: the text of the chosen option.
    #[serde(skip_serializing_if = "Option::is_none")]
    option: Option<&'a str>,
    /// For user fields: the person chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Named<'a>>,
}

#[derive(Serialize)]
struct Settings<'a> {
    email: Option<&'a str>,
    language: &'a str,
    time_zone: &'a str,
}

#[derive(Serialize)]
struct Authentication<'a> {
    password: Password,
    status: &'static str,
    failed_logins: i64,
    blocked_until: Option<Timestamp>,
    last_login_at: Option<Timestamp>,
    sessions: Vec<SessionOut<'a>>,
    api_tokens: Vec<TokenOut<'a>>,
    login_attempts: Vec<AttemptOut<'a>>,
}

/// Text put where a secret hash is held: the hash itself never leaves.
pub const WITHHELD: &str = "withheld";

#[derive(Serialize)]
struct Password {
    set: bool,
    hash: Option<&'static str>,
    changed_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct SessionOut<'a> {
    id: i64,
    user_agent: Option<&'a str>,
    ip_address: Option<&'a str>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    session_id_hash: &'static str,
    csrf_token: &'static str,
}

#[derive(Serialize)]
struct TokenOut<'a> {
    id: i64,
    name: &'a str,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    token_hash: &'static str,
}

#[derive(Serialize)]
struct AttemptOut<'a> {
    id: i64,
    login: &'a str,
    success: bool,
    reason: &'a str,
    ip_address: Option<&'a str>,
    created_at: Timestamp,
}

#[derive(Serialize)]
struct Membership<'a> {
    id: i64,
    project: Option<ProjectOut<'a>>,
    roles: &'a [String],
    /// `direct`, or `group` when held through a group.
    via: &'static str,
    group: Option<Named<'a>>,
    created_at: Timestamp,
}

#[derive(Serialize)]
struct ProjectOut<'a> {
    id: i64,
    identifier: &'a str,
    name: &'a str,
}

fn project(p: &ProjectRef) -> ProjectOut<'_> {
    ProjectOut {
        id: p.id,
        identifier: &p.identifier,
        name: &p.name,
    }
}

#[derive(Serialize)]
struct WorkPackages<'a> {
    authored: Vec<WorkPackageOut<'a>>,
    assigned: Vec<WorkPackageOut<'a>>,
    accountable: Vec<WorkPackageOut<'a>>,
}

#[derive(Serialize)]
struct WorkPackageOut<'a> {
    id: i64,
    subject: &'a str,
    description: &'a str,
    project: ProjectOut<'a>,
    #[serde(rename = "type")]
    type_name: &'a str,
    status: &'a str,
    author_id: UserId,
    assignee_id: Option<UserId>,
    accountable_id: Option<UserId>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Serialize)]
struct JournalOut<'a> {
    id: i64,
    journable_type: &'a str,
    journable_id: i64,
    version: i64,
    has_comment: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Serialize)]
struct WorkPackageRef<'a> {
    id: i64,
    subject: Option<&'a str>,
}

#[derive(Serialize)]
struct Comment<'a> {
    journal_id: i64,
    work_package: WorkPackageRef<'a>,
    text: &'a str,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// Earlier wordings, oldest first.
    earlier_versions: Vec<EarlierVersion<'a>>,
}

#[derive(Serialize)]
struct EarlierVersion<'a> {
    text: &'a str,
    edited_by_id: UserId,
    edited_at: Timestamp,
}

#[derive(Serialize)]
struct CommentEdit<'a> {
    id: i64,
    journal_id: i64,
    work_package_id: i64,
    previous_text: &'a str,
    edited_at: Timestamp,
}

#[derive(Serialize)]
struct MentionOut<'a> {
    id: i64,
    source: Source<'a>,
    work_package: Option<WorkPackageRef<'a>>,
    written_by: Option<Named<'a>>,
    created_at: Timestamp,
    excerpts: Vec<String>,
}

#[derive(Serialize)]
struct Source<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: i64,
}

#[derive(Serialize)]
struct ValueAbout<'a> {
    id: i64,
    field: Named<'a>,
    object: Source<'a>,
    work_package_subject: Option<&'a str>,
}

#[derive(Serialize)]
struct AuditOut<'a> {
    id: i64,
    created_at: Timestamp,
    category: &'a str,
    event: &'a str,
    as_actor: bool,
    as_target: bool,
    actor_id: Option<UserId>,
    target_user_id: Option<UserId>,
    request_id: Option<&'a str>,
    details: serde_json::Value,
}

#[derive(Serialize)]
struct RequestLog<'a> {
    note: &'static str,
    lines: &'a [serde_json::Value],
}

#[derive(Serialize)]
struct Files {
    note: &'static str,
    entries: Vec<FileEntry>,
}

/// A file in the archive's `files/` directory (none yet: Steward stores no
/// uploads so far; the shape is fixed for when it does).
#[derive(Serialize)]
pub struct FileEntry {
    pub path: String,
    pub name: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub attached_to: Option<String>,
}

const FILES_NOTE: &str =
    "Steward does not store uploaded files yet, so there are none to include. \
Files a person uploads will be placed in the archive's files/ directory and listed here.";

const REQUEST_LOG_NOTE: &str =
    "Lines of the request log that carry the person's user id, as the request log keeps them.";

#[derive(Serialize)]
struct TableOut<'a> {
    name: &'static str,
    description: &'static str,
    matched_columns: &'a [&'static str],
    row_count: usize,
    columns: Vec<ColumnOut>,
    rows: Rows<'a>,
}

#[derive(Serialize)]
struct ColumnOut {
    name: &'static str,
    personal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_title: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_erasure: Option<&'static str>,
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::UserRef => "user_reference",
        Kind::Login => "login",
        Kind::Email => "email",
        Kind::Name => "name",
        Kind::SecretHash => "secret_hash",
        Kind::Attribute => "attribute",
        Kind::FreeText => "free_text",
    }
}

fn erasure_name(e: Erasure) -> &'static str {
    e.describe()
}

fn column_out(c: &Column) -> ColumnOut {
    match &c.data {
        Data::None | Data::Code => ColumnOut {
            name: c.name,
            personal: false,
            category: None,
            category_title: None,
            kind: None,
            item: None,
            purpose: None,
            retention: None,
            on_erasure: None,
        },
        Data::Personal(p) => ColumnOut {
            name: c.name,
            personal: true,
            category: Some(p.category.code()),
            category_title: Some(p.category.title()),
            kind: Some(kind_name(p.kind)),
            item: Some(p.item),
            purpose: Some(p.purpose),
            retention: Some(p.retention),
            on_erasure: Some(erasure_name(p.erasure)),
        },
    }
}

/// Rows as objects keyed by column name, in registry column order.
struct Rows<'a> {
    columns: &'static [Column],
    rows: &'a [Vec<Value>],
}

struct RowOut<'a> {
    columns: &'static [Column],
    values: &'a [Value],
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for values in self.rows {
            seq.serialize_element(&RowOut {
                columns: self.columns,
                values,
            })?;
        }
        seq.end()
    }
}

impl Serialize for RowOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (c, v) in self.columns.iter().zip(self.values) {
            match v {
                Value::Null => map.serialize_entry(c.name, &())?,
                Value::Int(i) => map.serialize_entry(c.name, i)?,
                Value::Float(f) => map.serialize_entry(c.name, f)?,
                Value::Text(t) => map.serialize_entry(c.name, t)?,
                Value::Withheld => map.serialize_entry(c.name, WITHHELD)?,
            }
        }
        map.end()
    }
}

fn wp_out(w: &WorkPackageFacts) -> WorkPackageOut<'_> {
    WorkPackageOut {
        id: w.id,
        subject: &w.subject,
        description: &w.description,
        project: project(&w.project),
        type_name: &w.type_name,
        status: &w.status_name,
        author_id: w.author_id,
        assignee_id: w.assigned_to_id,
        accountable_id: w.responsible_id,
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

/// The document for what [`gather`] read. `request_log` holds the request
/// log's lines about the person, as that log renders them.
pub fn build<'a>(
    g: &'a Gathered,
    meta: &'a ExportMeta,
    request_log: &'a [serde_json::Value],
    generated_at: Timestamp,
) -> Document<'a> {
    let s = &g.subject;
    let id = s.id;
    let authored: Vec<_> = g
        .work_packages
        .iter()
        .filter(|w| w.author_id == id)
        .map(wp_out)
        .collect();
    let assigned: Vec<_> = g
        .work_packages
        .iter()
        .filter(|w| w.assigned_to_id == Some(id))
        .map(wp_out)
        .collect();
    let accountable: Vec<_> = g
        .work_packages
        .iter()
        .filter(|w| w.responsible_id == Some(id))
        .map(wp_out)
        .collect();
    let own_journals: HashSet<i64> = g.journals.iter().map(|j| j.id).collect();
    let mut earlier: BTreeMap<i64, Vec<EarlierVersion<'_>>> = BTreeMap::new();
    for e in &g.note_edits {
        if own_journals.contains(&e.journal_id) {
            earlier
                .entry(e.journal_id)
                .or_default()
                .push(EarlierVersion {
                    text: &e.previous_notes,
                    edited_by_id: e.edited_by,
                    edited_at: e.edited_at,
                });
        }
    }
    let comments: Vec<Comment<'_>> = g
        .journals
        .iter()
        .filter(|j| !j.notes.is_empty())
        .map(|j| Comment {
            journal_id: j.id,
            work_package: WorkPackageRef {
                id: j.journable_id,
                subject: j.subject.as_deref(),
            },
            text: &j.notes,
            created_at: j.created_at,
            updated_at: j.updated_at,
            earlier_versions: earlier.remove(&j.id).unwrap_or_default(),
        })
        .collect();
    let mentions: Vec<MentionOut<'_>> = g
        .mentions
        .iter()
        .map(|m| MentionOut {
            id: m.id,
            source: Source {
                kind: &m.source_type,
                id: m.source_id,
            },
            work_package: m.work_package_id.map(|wid| WorkPackageRef {
                id: wid,
                subject: m.work_package_subject.as_deref(),
            }),
            written_by: m
                .written_by
                .as_ref()
                .map(|(uid, name)| Named { id: *uid, name }),
            created_at: m.created_at,
            excerpts: m
                .text
                .as_deref()
                .map(|t| excerpt::excerpts(t, id, &s.login))
                .unwrap_or_default(),
        })
        .collect();
    let tables: Vec<TableOut<'_>> = g
        .tables
        .iter()
        .map(|t| TableOut {
            name: t.table.name,
            description: t.table.description,
            matched_columns: &t.matched_columns,
            row_count: t.rows.len(),
            columns: t.columns.iter().map(column_out).collect(),
            rows: Rows {
                columns: t.columns,
                rows: &t.rows,
            },
        })
        .collect();
    let summary = Summary {
        work_packages_authored: authored.len(),
        work_packages_assigned: assigned.len(),
        work_packages_accountable: accountable.len(),
        journals_written: g.journals.len(),
        comments_written: comments.len(),
        mentions: mentions.len(),
        custom_field_values_about_them: g.values_about.len(),
        audit_entries: g.audit.len(),
        request_log_lines: request_log.len(),
        files: 0,
        rows_per_table: g
            .tables
            .iter()
            .map(|t| (t.table.name, t.rows.len()))
            .collect(),
    };
    let password = g.password.as_ref();
    Document {
        format: FORMAT,
        format_version: FORMAT_VERSION,
        generated_at,
        instance: Instance {
            software: "Steward",
            version: env!("CARGO_PKG_VERSION"),
            public_url: &meta.public_url,
        },
        export: ExportInfo {
            id: meta.export_id,
            via: meta.via,
            requested_at: meta.requested_at,
            requested_by: g.requester.as_ref().map(|(rid, login, name)| PersonRef {
                id: *rid,
                login,
                name,
            }),
            self_service: meta.requested_by == id,
        },
        subject: PersonRef {
            id,
            login: &s.login,
            name: &g.subject_name,
        },
        summary,
        profile: Profile {
            id,
            login: &s.login,
            first_name: &s.firstname,
            last_name: &s.lastname,
            name: g.subject_name.clone(),
            status: s.status.as_str(),
            admin: s.admin,
            created_at: s.created_at,
            updated_at: s.updated_at,
            custom_fields: g
                .own_values
                .iter()
                .map(|v| OwnValueOut {
                    field_id: v.field_id,
                    field: &v.field_name,
                    format: &v.format,
                    value: v.value.as_deref(),
                    option: v.option_text.as_deref(),
                    user: v
                        .value_user
                        .as_ref()
                        .map(|(uid, name)| Named { id: *uid, name }),
                })
                .collect(),
        },
        settings: Settings {
            email: s.email.as_deref(),
            language: &s.language,
            time_zone: &s.time_zone,
        },
        authentication: Authentication {
            password: Password {
                set: password.is_some_and(|p| p.set),
                hash: password.filter(|p| p.set).map(|_| WITHHELD),
                changed_at: password.and_then(|p| p.changed_at),
            },
            status: s.status.as_str(),
            failed_logins: s.failed_logins,
            blocked_until: s.blocked_until,
            last_login_at: s.last_login_at,
            sessions: g
                .sessions
                .iter()
                .map(|x| SessionOut {
                    id: x.id,
                    user_agent: x.user_agent.as_deref(),
                    ip_address: x.ip_address.as_deref(),
                    created_at: x.created_at,
                    last_seen_at: x.last_seen_at,
                    session_id_hash: WITHHELD,
                    csrf_token: WITHHELD,
                })
                .collect(),
            api_tokens: g
                .tokens
                .iter()
                .map(|t| TokenOut {
                    id: t.id,
                    name: &t.name,
                    created_at: t.created_at,
                    last_used_at: t.last_used_at,
                    token_hash: WITHHELD,
                })
                .collect(),
            login_attempts: g
                .attempts
                .iter()
                .map(|a| AttemptOut {
                    id: a.id,
                    login: &a.login,
                    success: a.success,
                    reason: &a.reason,
                    ip_address: a.ip_address.as_deref(),
                    created_at: a.created_at,
                })
                .collect(),
        },
        memberships: g
            .memberships
            .iter()
            .map(|m| Membership {
                id: m.member_id,
                project: m.project.as_ref().map(project),
                roles: &m.roles,
                via: if m.group.is_some() { "group" } else { "direct" },
                group: m.group.as_ref().map(|(gid, name)| Named { id: *gid, name }),
                created_at: m.created_at,
            })
            .collect(),
        groups: g
            .groups
            .iter()
            .map(|(gid, name)| Named { id: *gid, name })
            .collect(),
        work_packages: WorkPackages {
            authored,
            assigned,
            accountable,
        },
        journals: g
            .journals
            .iter()
            .map(|j| JournalOut {
                id: j.id,
                journable_type: &j.journable_type,
                journable_id: j.journable_id,
                version: j.version,
                has_comment: !j.notes.is_empty(),
                created_at: j.created_at,
                updated_at: j.updated_at,
            })
            .collect(),
        comments,
        comment_edits: g
            .note_edits
            .iter()
            .filter(|e| e.edited_by == id)
            .map(|e| CommentEdit {
                id: e.id,
                journal_id: e.journal_id,
                work_package_id: e.journable_id,
                previous_text: &e.previous_notes,
                edited_at: e.edited_at,
            })
            .collect(),
        mentions,
        custom_field_values_about_them: g
            .values_about
            .iter()
            .map(|v| ValueAbout {
                id: v.id,
                field: Named {
                    id: v.field_id,
                    name: &v.field_name,
                },
                object: Source {
                    kind: &v.customized_type,
                    id: v.customized_id,
                },
                work_package_subject: v.subject.as_deref(),
            })
            .collect(),
        audit_trail: g
            .audit
            .iter()
            .map(|a| AuditOut {
                id: a.id,
                created_at: a.created_at,
                category: &a.category,
                event: &a.event,
                as_actor: a.actor_id == Some(id),
                as_target: a.target_user_id == Some(id),
                actor_id: a.actor_id,
                target_user_id: a.target_user_id,
                request_id: a.request_id.as_deref(),
                details: serde_json::from_str(&a.details)
                    .unwrap_or_else(|_| serde_json::Value::String(a.details.clone())),
            })
            .collect(),
        request_log: RequestLog {
            note: REQUEST_LOG_NOTE,
            lines: request_log,
        },
        files: Files {
            note: FILES_NOTE,
            entries: Vec::new(),
        },
        tables,
    }
}

impl Document<'_> {
    pub fn into_summary(self) -> Summary {
        self.summary
    }
}

/// README.txt of the archive.
pub fn readme(subject_login: &str, generated_at: Timestamp, public_url: &str) -> String {
    format!(
        "Personal data export from Steward
=================================

Person:        {subject_login}
Generated at:  {generated_at} (UTC)
Instance:      {public_url}
Format:        {FORMAT}, version {FORMAT_VERSION}

This archive holds everything this Steward instance stores about the person
named above, as required by Articles 15 and 20 of the GDPR (right of access
and right to data portability).

personal-data.json
    One JSON document (UTF-8). Its first sections are meant to be read:
    profile, settings, authentication (sign-in data: sessions, API tokens,
    sign-in attempts; passwords, tokens and session ids are stored only as
    hashes, and those hashes are not included), memberships with projects
    and roles, the work packages the person authored, is assigned to or is
    accountable for, the changes and comments they wrote, where others
    mention them (with the text around each mention), custom-field values
    that name them, the audit trail of access to their data, and the
    request log lines that carry their id.

    The last section, \"tables\", is the complete record: for every table
    that can refer to a person, every row that does, with every column,
    and for each column what it holds and why (category, purpose,
    retention), as declared in Steward's personal-data registry. Times
    there are microseconds since 1970-01-01 UTC; flags are 1 (yes) or 0 (no).

files/
    Files the person uploaded. Steward does not store uploads yet, so this
    directory is empty.

The format is documented in docs/gdpr-export-format.md of Steward's source.
Questions about this data go to the administrator of the instance (the data
controller).
"
    )
}
