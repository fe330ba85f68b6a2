//! Everything stored about one person, read for the per-person export
//! (GDPR Art. 15 and 20).
//!
//! Two kinds of reads live here:
//!
//! - **The registry walk** ([`rows_about`]): for every table of the
//!   personal-data registry with a user-reference column, the rows in which
//!   any such column holds the person's id, every column but secret hashes.
//!   The SQL is built from the static registry only (never from input), one
//!   statement per table, so a table added later is exported without
//!   touching this file.
//! - **Readable views** ([`work_packages_of`], [`mentions_of`]...): the same
//!   data joined with the names people know (projects, roles, fields), each
//!   one statement for all rows, never one per work package.

use steward_domain::registry::{self, Column, Data, Kind, Table};
use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::audit_events::{AuditEvent, COLUMNS as AUDIT_COLUMNS};
use crate::db::{Conn, FromRow, Result, Row, RowInner, StorageError};
use crate::login_attempts::LoginAttempt;
use crate::params;

/// A value of any column, whichever engine read it. Flags (`BOOLEAN` on
/// PostgreSQL, `INTEGER` on SQLite) are read as 1 and 0 on both, so that
/// both engines export the same document.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// A secret hash that is set; the hash itself is never read.
    Withheld,
}

/// User references that hold a user's id only in some rows: the column,
/// and the condition that picks those rows. `custom_values.customized_id`
/// is a user's id only where the customized object is a principal.
const QUALIFIED_REFERENCES: &[(&str, &str, &str)] = &[(
    "custom_values",
    "customized_id",
    "customized_type = 'Principal'",
)];

/// The user-reference columns of a table, in registry order.
pub fn user_ref_columns(table: &Table) -> Vec<&'static str> {
    table
        .personal_columns()
        .filter(|(_, p)| p.kind == Kind::UserRef)
        .map(|(name, _)| name)
        .collect()
}

/// Registry names are plain lower-case identifiers; anything else would be
/// a mistake in the registry, refused rather than spliced into SQL.
fn ident(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(name)
    } else {
        Err(StorageError::Engine(format!(
            "the personal-data registry names {name:?}, which is not a plain identifier"
        )))
    }
}

/// `(a = $1 OR b = $1 ...)` for the user-reference columns of `table`, or
/// `None` when it has none. `$1` is the person's id.
pub fn person_condition(table: &Table) -> Result<Option<String>> {
    let refs = user_ref_columns(table);
    if refs.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(refs.len());
    for col in refs {
        let col = ident(col)?;
        match QUALIFIED_REFERENCES
            .iter()
            .find(|(t, c, _)| *t == table.name && *c == col)
        {
            Some((_, _, cond)) => parts.push(format!("({cond} AND {col} = $1)")),
            None => parts.push(format!("{col} = $1")),
        }
    }
    Ok(Some(format!("({})", parts.join(" OR "))))
}

/// The rows of one table that refer to the person.
#[derive(Clone, Debug)]
pub struct TableRows {
    pub table: &'static Table,
    /// The user-reference columns that were compared with the person's id.
    pub matched_columns: Vec<&'static str>,
    /// Every column of the table, in registry order; `rows` follow it.
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Value>>,
}

struct DynRow(Vec<Value>);

impl FromRow for DynRow {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        match &row.0 {
            RowInner::Sqlite(r) => {
                use rusqlite::types::ValueRef;
                let n = r.as_ref().column_count();
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    out.push(match r.get_ref(i).map_err(crate::sqlite::map_err)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(v) => Value::Int(v),
                        ValueRef::Real(v) => Value::Float(v),
                        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(_) => {
                            return Err(StorageError::Engine(format!(
                                "column {i} holds binary data, which no registered column may"
                            )))
                        }
                    });
                }
                Ok(DynRow(out))
            }
            RowInner::Pg(r) => {
                use tokio_postgres::types::Type;
                let pg = crate::postgres::map_err;
                let mut out = Vec::with_capacity(r.len());
                for (i, col) in r.columns().iter().enumerate() {
                    let t = col.type_();
                    let v = if *t == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i).map_err(pg)?.map(Value::Int)
                    } else if *t == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i)
                            .map_err(pg)?
                            .map(|v| Value::Int(v.into()))
                    } else if *t == Type::INT2 {
                        r.try_get::<_, Option<i16>>(i)
                            .map_err(pg)?
                            .map(|v| Value::Int(v.into()))
                    } else if *t == Type::BOOL {
                        r.try_get::<_, Option<bool>>(i)
                            .map_err(pg)?
                            .map(|v| Value::Int(v.into()))
                    } else if *t == Type::FLOAT8 {
                        r.try_get::<_, Option<f64>>(i)
                            .map_err(pg)?
                            .map(Value::Float)
                    } else if *t == Type::FLOAT4 {
                        r.try_get::<_, Option<f32>>(i)
                            .map_err(pg)?
                            .map(|v| Value::Float(v.into()))
                    } else if matches!(*t, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME) {
                        r.try_get::<_, Option<String>>(i)
                            .map_err(pg)?
                            .map(Value::Text)
                    } else {
                        return Err(StorageError::Engine(format!(
                            "column {} has the type {t}, which the export cannot read",
                            col.name()
                        )));
                    };
                    out.push(v.unwrap_or(Value::Null));
                }
                Ok(DynRow(out))
            }
        }
    }
}

/// The rows of `table` that refer to `user_id`, or `None` for a table
/// without user-reference columns. Secret hashes are selected only as
/// "set or not" and come back as [`Value::Withheld`] or [`Value::Null`].
pub async fn rows_of(
    conn: &mut Conn,
    table: &'static Table,
    user_id: UserId,
) -> Result<Option<TableRows>> {
    let Some(condition) = person_condition(table)? else {
        return Ok(None);
    };
    let mut select = Vec::with_capacity(table.columns.len());
    let mut secret = Vec::with_capacity(table.columns.len());
    for col in table.columns {
        let name = ident(col.name)?;
        let is_secret = matches!(&col.data, Data::Personal(p) if p.kind == Kind::SecretHash);
        if is_secret {
            select.push(format!("CASE WHEN {name} IS NULL THEN 0 ELSE 1 END"));
        } else {
            select.push(name.to_string());
        }
        secret.push(is_secret);
    }
    let sql = format!(
        "SELECT {} FROM {} WHERE {condition} ORDER BY 1",
        select.join(", "),
        ident(table.name)?
    );
    let rows: Vec<DynRow> = conn.query(&sql, params![user_id]).await?;
    let rows = rows
        .into_iter()
        .map(|DynRow(mut values)| {
            for (v, is_secret) in values.iter_mut().zip(&secret) {
                if *is_secret {
                    *v = match v {
                        Value::Int(0) => Value::Null,
                        _ => Value::Withheld,
                    };
                }
            }
            values
        })
        .collect();
    Ok(Some(TableRows {
        table,
        matched_columns: user_ref_columns(table),
        columns: table.columns,
        rows,
    }))
}

/// [`rows_of`] for every registry table with user-reference columns, in
/// registry order.
pub async fn rows_about(conn: &mut Conn, user_id: UserId) -> Result<Vec<TableRows>> {
    let mut out = Vec::new();
    for table in registry::TABLES {
        if let Some(rows) = rows_of(conn, table, user_id).await? {
            out.push(rows);
            // SQLite reads run on the calling worker: let others in between
            // tables, which may be thousands of rows each.
            tokio::task::yield_now().await;
        }
    }
    Ok(out)
}

// --- readable views ----------------------------------------------------------

/// Password facts, never the hash.
#[derive(Clone, Debug)]
pub struct PasswordFacts {
    pub set: bool,
    pub changed_at: Option<Timestamp>,
}

impl FromRow for PasswordFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(PasswordFacts {
            set: r.i64(0)? != 0,
            changed_at: r.opt_timestamp(1)?,
        })
    }
}

pub async fn password_facts(conn: &mut Conn, user_id: UserId) -> Result<Option<PasswordFacts>> {
    conn.query_opt(
        "SELECT CAST(CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT), password_changed_at \
         FROM users WHERE id = $1",
        params![user_id],
    )
    .await
}

/// A session without its secrets (the id's hash and the CSRF token).
#[derive(Clone, Debug)]
pub struct SessionFacts {
    pub id: i64,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl FromRow for SessionFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(SessionFacts {
            id: r.i64(0)?,
            user_agent: r.opt_string(1)?,
            ip_address: r.opt_string(2)?,
            created_at: r.timestamp(3)?,
            last_seen_at: r.timestamp(4)?,
        })
    }
}

pub async fn sessions_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<SessionFacts>> {
    conn.query(
        "SELECT id, user_agent, ip_address, created_at, last_seen_at FROM sessions \
         WHERE user_id = $1 ORDER BY id",
        params![user_id],
    )
    .await
}

/// An API token without its hash.
#[derive(Clone, Debug)]
pub struct TokenFacts {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl FromRow for TokenFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(TokenFacts {
            id: r.i64(0)?,
            name: r.string(1)?,
            created_at: r.timestamp(2)?,
            last_used_at: r.opt_timestamp(3)?,
        })
    }
}

pub async fn api_tokens_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<TokenFacts>> {
    conn.query(
        "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        params![user_id],
    )
    .await
}

/// Every sign-in attempt on the account, oldest first.
pub async fn login_attempts_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<LoginAttempt>> {
    conn.query(
        "SELECT id, user_id, login, success, reason, ip_address, created_at FROM login_attempts \
         WHERE user_id = $1 ORDER BY id",
        params![user_id],
    )
    .await
}

/// One role held in one place: directly, or through a group.
#[derive(Clone, Debug)]
pub struct MembershipFacts {
    pub member_id: i64,
    /// `None`: a membership with global roles.
    pub project: Option<ProjectRef>,
    /// The group the membership belongs to, when held through one.
    pub group: Option<(UserId, String)>,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct ProjectRef {
    pub id: i64,
    pub identifier: String,
    pub name: String,
}

/// The person's memberships, direct and through their groups, with project
/// and role names: one statement.
pub async fn memberships_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<MembershipFacts>> {
    struct M {
        member_id: i64,
        project: Option<ProjectRef>,
        group: Option<(UserId, String)>,
        role: String,
        created_at: Timestamp,
    }
    impl FromRow for M {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            let project = match r.opt_i64(1)? {
                Some(id) => Some(ProjectRef {
                    id,
                    identifier: r.opt_string(2)?.unwrap_or_default(),
                    name: r.opt_string(3)?.unwrap_or_default(),
                }),
                None => None,
            };
            let group = match r.opt_i64(4)? {
                Some(id) => Some((id, r.opt_string(5)?.unwrap_or_default())),
                None => None,
            };
            Ok(M {
                member_id: r.i64(0)?,
                project,
                group,
                role: r.string(6)?,
                created_at: r.timestamp(7)?,
            })
        }
    }
    let rows: Vec<M> = conn
        .query(
            "SELECT m.id, m.project_id, p.identifier, p.name, g.id, g.lastname, r.name, m.created_at \
             FROM members m \
             JOIN member_roles mr ON mr.member_id = m.id \
             JOIN roles r ON r.id = mr.role_id \
             LEFT JOIN projects p ON p.id = m.project_id \
             LEFT JOIN users g ON g.id = m.principal_id AND g.kind = 'group' \
             WHERE m.principal_id = $1 \
                OR m.principal_id IN (SELECT group_id FROM group_users WHERE user_id = $1) \
             ORDER BY m.id, r.position, r.id",
            params![user_id],
        )
        .await?;
    let mut out: Vec<MembershipFacts> = Vec::new();
    for m in rows {
        match out.last_mut() {
            Some(last) if last.member_id == m.member_id => last.roles.push(m.role),
            _ => out.push(MembershipFacts {
                member_id: m.member_id,
                project: m.project,
                group: m.group,
                roles: vec![m.role],
                created_at: m.created_at,
            }),
        }
    }
    Ok(out)
}

/// The groups the person belongs to: (id, name).
pub async fn groups_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<(UserId, String)>> {
    struct G(i64, String);
    impl FromRow for G {
        fn from_row(r: &Row<'_>) -> Result<Self> {
            Ok(G(r.i64(0)?, r.string(1)?))
        }
    }
    Ok(conn
        .query::<G>(
            "SELECT g.id, g.lastname FROM group_users gu JOIN users g ON g.id = gu.group_id \
             WHERE gu.user_id = $1 ORDER BY g.id",
            params![user_id],
        )
        .await?
        .into_iter()
        .map(|G(id, name)| (id, name))
        .collect())
}

/// A work package the person authored, is assigned to or is accountable for.
#[derive(Clone, Debug)]
pub struct WorkPackageFacts {
    pub id: i64,
    pub project: ProjectRef,
    pub type_name: String,
    pub status_name: String,
    pub subject: String,
    pub description: String,
    pub author_id: UserId,
    pub assigned_to_id: Option<UserId>,
    pub responsible_id: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl FromRow for WorkPackageFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(WorkPackageFacts {
            id: r.i64(0)?,
            project: ProjectRef {
                id: r.i64(1)?,
                identifier: r.string(2)?,
                name: r.string(3)?,
            },
            type_name: r.string(4)?,
            status_name: r.string(5)?,
            subject: r.string(6)?,
            description: r.string(7)?,
            author_id: r.i64(8)?,
            assigned_to_id: r.opt_i64(9)?,
            responsible_id: r.opt_i64(10)?,
            created_at: r.timestamp(11)?,
            updated_at: r.timestamp(12)?,
        })
    }
}

/// Work packages in which the person is author, assignee or accountable,
/// in id order: one statement.
pub async fn work_packages_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<WorkPackageFacts>> {
    conn.query(
        "SELECT w.id, p.id, p.identifier, p.name, t.name, s.name, w.subject, w.description, \
                w.author_id, w.assigned_to_id, w.responsible_id, w.created_at, w.updated_at \
         FROM work_packages w \
         JOIN projects p ON p.id = w.project_id \
         JOIN types t ON t.id = w.type_id \
         JOIN statuses s ON s.id = w.status_id \
         WHERE w.author_id = $1 OR w.assigned_to_id = $1 OR w.responsible_id = $1 \
         ORDER BY w.id",
        params![user_id],
    )
    .await
}

/// A change or comment the person wrote.
#[derive(Clone, Debug)]
pub struct JournalFacts {
    pub id: i64,
    pub journable_type: String,
    pub journable_id: i64,
    pub version: i64,
    pub notes: String,
    /// The subject the work package has now, when it still exists.
    pub subject: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl FromRow for JournalFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(JournalFacts {
            id: r.i64(0)?,
            journable_type: r.string(1)?,
            journable_id: r.i64(2)?,
            version: r.i64(3)?,
            notes: r.string(4)?,
            subject: r.opt_string(5)?,
            created_at: r.timestamp(6)?,
            updated_at: r.timestamp(7)?,
        })
    }
}

pub async fn journals_by(conn: &mut Conn, user_id: UserId) -> Result<Vec<JournalFacts>> {
    conn.query(
        "SELECT j.id, j.journable_type, j.journable_id, j.version, j.notes, w.subject, \
                j.created_at, j.updated_at \
         FROM journals j \
         LEFT JOIN work_packages w ON j.journable_type = 'WorkPackage' AND w.id = j.journable_id \
         WHERE j.user_id = $1 ORDER BY j.id",
        params![user_id],
    )
    .await
}

/// An earlier wording of a comment.
#[derive(Clone, Debug)]
pub struct NoteEditFacts {
    pub id: i64,
    pub journal_id: i64,
    pub journable_id: i64,
    pub previous_notes: String,
    pub edited_by: UserId,
    pub edited_at: Timestamp,
}

impl FromRow for NoteEditFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(NoteEditFacts {
            id: r.i64(0)?,
            journal_id: r.i64(1)?,
            journable_id: r.i64(2)?,
            previous_notes: r.string(3)?,
            edited_by: r.i64(4)?,
            edited_at: r.timestamp(5)?,
        })
    }
}

/// Edits of comments: those the person made (to anyone's comment) and the
/// earlier wordings of the person's own comments (by whomever edited them).
pub async fn note_edits_about(conn: &mut Conn, user_id: UserId) -> Result<Vec<NoteEditFacts>> {
    conn.query(
        "SELECT e.id, e.journal_id, j.journable_id, e.previous_notes, e.edited_by, e.edited_at \
         FROM journal_note_edits e JOIN journals j ON j.id = e.journal_id \
         WHERE e.edited_by = $1 OR j.user_id = $1 ORDER BY e.id",
        params![user_id],
    )
    .await
}

/// A stored mention of the person, with the text it is in.
#[derive(Clone, Debug)]
pub struct MentionFacts {
    pub id: i64,
    pub source_type: String,
    pub source_id: i64,
    /// The text that mentions them now (a comment or a description), if the
    /// source still exists.
    pub text: Option<String>,
    pub work_package_id: Option<i64>,
    pub work_package_subject: Option<String>,
    /// Who wrote the text: the comment's author, or the work package's.
    pub written_by: Option<(UserId, String)>,
    pub created_at: Timestamp,
}

impl FromRow for MentionFacts {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let written_by = match r.opt_i64(7)? {
            Some(id) => Some((id, r.opt_string(8)?.unwrap_or_default())),
            None => None,
        };
        Ok(MentionFacts {
            id: r.i64(0)?,
            source_type: r.string(1)?,
            source_id: r.i64(2)?,
            created_at: r.timestamp(3)?,
            text: r.opt_string(4)?,
            work_package_id: r.opt_i64(5)?,
            work_package_subject: r.opt_string(6)?,
            written_by,
        })
    }
}

/// Source types of the `mentions` table: a comment (journal note) or a
/// work package's description.
pub const MENTION_IN_JOURNAL: &str = "journal";
pub const MENTION_IN_WORK_PACKAGE: &str = "work_package";

/// Every stored mention of the person with the text around it: one statement.
pub async fn mentions_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<MentionFacts>> {
    conn.query(
        "SELECT m.id, m.source_type, m.source_id, m.created_at, \
                COALESCE(j.notes, w.description), COALESCE(jw.id, w.id), \
                COALESCE(jw.subject, w.subject), a.id, \
                COALESCE(NULLIF(trim(a.firstname || ' ' || a.lastname), ''), a.login) \
         FROM mentions m \
         LEFT JOIN journals j ON m.source_type = $2 AND j.id = m.source_id \
         LEFT JOIN work_packages jw ON j.journable_type = 'WorkPackage' AND jw.id = j.journable_id \
         LEFT JOIN work_packages w ON m.source_type = $3 AND w.id = m.source_id \
         LEFT JOIN users a ON a.id = COALESCE(j.user_id, w.author_id) \
         WHERE m.user_id = $1 ORDER BY m.id",
        params![user_id, MENTION_IN_JOURNAL, MENTION_IN_WORK_PACKAGE],
    )
    .await
}

/// A custom-field value of the person's own profile.
#[derive(Clone, Debug)]
pub struct OwnCustomValue {
    pub field_id: i64,
    pub field_name: String,
    pub format: String,
    pub value: Option<String>,
    /// The text of the chosen option, for list fields.
    pub option_text: Option<String>,
    pub value_user: Option<(UserId, String)>,
}

impl FromRow for OwnCustomValue {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let value_user = match r.opt_i64(5)? {
            Some(id) => Some((id, r.opt_string(6)?.unwrap_or_default())),
            None => None,
        };
        Ok(OwnCustomValue {
            field_id: r.i64(0)?,
            field_name: r.string(1)?,
            format: r.string(2)?,
            value: r.opt_string(3)?,
            option_text: r.opt_string(4)?,
            value_user,
        })
    }
}

pub async fn own_custom_values(conn: &mut Conn, user_id: UserId) -> Result<Vec<OwnCustomValue>> {
    conn.query(
        "SELECT f.id, f.name, f.field_format, v.value, o.value, u.id, \
                COALESCE(NULLIF(trim(u.firstname || ' ' || u.lastname), ''), u.login) \
         FROM custom_values v JOIN custom_fields f ON f.id = v.custom_field_id \
         LEFT JOIN custom_options o ON f.field_format = 'list' AND CAST(o.id AS TEXT) = v.value \
         LEFT JOIN users u ON u.id = v.value_user_id \
         WHERE v.customized_type = 'Principal' AND v.customized_id = $1 \
         ORDER BY f.position, f.id, v.id",
        params![user_id],
    )
    .await
}

/// A user custom-field value (on a work package or a user) that names the person.
#[derive(Clone, Debug)]
pub struct ValuePointingAt {
    pub id: i64,
    pub field_id: i64,
    pub field_name: String,
    pub customized_type: String,
    pub customized_id: i64,
    /// The work package's subject, for values on work packages.
    pub subject: Option<String>,
}

impl FromRow for ValuePointingAt {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(ValuePointingAt {
            id: r.i64(0)?,
            field_id: r.i64(1)?,
            field_name: r.string(2)?,
            customized_type: r.string(3)?,
            customized_id: r.i64(4)?,
            subject: r.opt_string(5)?,
        })
    }
}

pub async fn values_pointing_at(conn: &mut Conn, user_id: UserId) -> Result<Vec<ValuePointingAt>> {
    conn.query(
        "SELECT v.id, f.id, f.name, v.customized_type, v.customized_id, w.subject \
         FROM custom_values v JOIN custom_fields f ON f.id = v.custom_field_id \
         LEFT JOIN work_packages w ON v.customized_type = 'WorkPackage' AND w.id = v.customized_id \
         WHERE v.value_user_id = $1 ORDER BY v.id",
        params![user_id],
    )
    .await
}

/// Audit entries in which the person is the actor or the one concerned.
pub async fn audit_events_of(conn: &mut Conn, user_id: UserId) -> Result<Vec<AuditEvent>> {
    conn.query(
        &format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events \
             WHERE actor_id = $1 OR target_user_id = $1 ORDER BY id"
        ),
        params![user_id],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_come_from_the_registry() {
        let wp = registry::table("work_packages").unwrap();
        assert_eq!(
            person_condition(wp).unwrap().unwrap(),
            "(author_id = $1 OR assigned_to_id = $1 OR responsible_id = $1)"
        );
        let cv = registry::table("custom_values").unwrap();
        assert_eq!(
            person_condition(cv).unwrap().unwrap(),
            "((customized_type = 'Principal' AND customized_id = $1) OR value_user_id = $1)"
        );
        let roles = registry::table("roles").unwrap();
        assert!(person_condition(roles).unwrap().is_none());
        assert!(ident("users; DROP TABLE users").is_err());
        assert!(ident("1x").is_err());
        assert_eq!(ident("work_packages").unwrap(), "work_packages");
    }

    #[test]
    fn every_qualified_reference_is_a_registered_user_reference() {
        for (t, c, _) in QUALIFIED_REFERENCES {
            let table = registry::table(t).expect("registered table");
            assert!(user_ref_columns(table).contains(c), "{t}.{c}");
        }
    }
}
