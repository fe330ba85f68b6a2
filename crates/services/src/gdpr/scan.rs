//! The residue scan: searches every column of every table (and the caches)
//! for a person's identifiers and reports each hit with table, column and
//! row. Run inside the erasure's transaction it decides whether the erasure
//! may commit; run alone (`steward gdpr scan`) it shows where a person's
//! data is, or proves that an erased person left nothing behind.
//!
//! Hits fall into three classes:
//! - residue: an identifier in a structured place (a user reference, a
//!   login, email, name or secret-hash column, any other declared personal
//!   attribute). An erasure is complete only when there is none.
//! - free text: a name, login or email inside text people wrote (or in a
//!   column declared to hold no personal data, such as a project name).
//!   Whether "Anna" there means the erased Anna is for the controller to
//!   judge: these are listed in the redaction queue.
//! - held: the search terms kept for open entries of the redaction queue.
//!
//! It costs what the person left, not what the database holds: user
//! references through their indexes, free text through the text index
//! (every match read back and confirmed on its row, so the result is the
//! same as reading every text: a test compares both on the same data), the
//! remaining small text columns filtered by the database. No table is read
//! into memory whole.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use steward_domain::registry::{self, Data, Erasure, Kind};
use steward_domain::search::TextQuery;
use steward_domain::user::{DELETED_USER_ID, SYSTEM_USER_ID};
use steward_domain::{redaction, user::UserId};
use steward_storage::{erasure, text_index, Conn};

use crate::{ServiceError, Services};

/// What to look for.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanTarget {
    /// The user id, looked for in every user-reference column.
    pub id: Option<UserId>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// Hashes of the person's session ids and API tokens.
    #[serde(skip)]
    pub secret_hashes: Vec<String>,
}

impl ScanTarget {
    /// A living person's identifiers (without their secret hashes, which
    /// [`secret_hashes_of`] reads).
    pub fn of_user(user: &steward_domain::user::User) -> Self {
        ScanTarget {
            id: Some(user.id),
            login: Some(user.login.clone()),
            email: user.email.clone(),
            firstname: Some(user.firstname.clone()),
            lastname: Some(user.lastname.clone()),
            secret_hashes: Vec::new(),
        }
    }

    /// The text terms: names in both orders, login, email.
    pub fn terms(&self) -> Vec<String> {
        redaction::terms_for(
            self.firstname.as_deref().unwrap_or(""),
            self.lastname.as_deref().unwrap_or(""),
            self.login.as_deref().unwrap_or(""),
            self.email.as_deref(),
        )
    }

    /// The terms that identify the person on their own, wherever they
    /// stand: login and email. (A first or last name alone is shared by
    /// other people; in structured columns it is no evidence.)
    pub fn identifier_terms(&self) -> Vec<String> {
        [self.login.as_deref(), self.email.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|t| t.chars().count() >= redaction::MIN_TERM_CHARS)
            .map(str::to_string)
            .collect()
    }

    /// What identifies the person in the request log's parameters and
    /// paths: login, email and full name (a first name alone would match
    /// other people's requests).
    pub fn log_terms(&self) -> Vec<String> {
        let mut terms = self.identifier_terms();
        if let (Some(f), Some(l)) = (&self.firstname, &self.lastname) {
            if !f.trim().is_empty() && !l.trim().is_empty() {
                terms.push(format!("{} {}", f.trim(), l.trim()));
            }
        }
        terms
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.terms().is_empty() && self.secret_hashes.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitClass {
    Residue,
    FreeText,
    Held,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub table: String,
    pub column: String,
    /// The row's key (`id`, or the table's own key column).
    pub row: String,
    /// What was found: `user id`, `secret hash`, or `text`.
    pub found: &'static str,
    pub class: HitClass,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanReport {
    /// No residue (free-text hits and held terms do not count).
    pub clean: bool,
    pub tables_checked: usize,
    pub columns_checked: usize,
    pub residue: Vec<Hit>,
    pub free_text: Vec<Hit>,
    pub held: Vec<Hit>,
    /// Request-log lines still carrying the person's id or pseudonym.
    pub request_log_lines: usize,
    /// Cache entries keyed by the person's id.
    pub cache_entries: usize,
}

impl ScanReport {
    fn finish(mut self) -> Self {
        self.clean =
            self.residue.is_empty() && self.request_log_lines == 0 && self.cache_entries == 0;
        self
    }
}

/// Tables the scan does not search for text: the migrations' own
/// bookkeeping. (The redaction queue's terms are searched and reported as
/// held, see [`classify`].)
const TEXT_EXEMPT: &[&str] = &["schema_migrations"];

/// Scans the database through `conn` (inside a transaction, it sees that
/// transaction's changes).
pub async fn scan_database(
    conn: &mut Conn,
    target: &ScanTarget,
) -> Result<ScanReport, ServiceError> {
    let mut report = ScanReport::default();
    let terms = target.terms();
    let identifiers = target.identifier_terms();
    let mut tables = BTreeSet::new();

    // User references: equality on every UserRef column.
    if let Some(id) = target.id {
        for table in registry::TABLES {
            for (column, personal) in table.personal_columns() {
                if personal.kind != Kind::UserRef {
                    continue;
                }
                tables.insert(table.name);
                report.columns_checked += 1;
                let keys = if table.name == "custom_values" && column == "customized_id" {
                    // customized_id is a user id only on profile values.
                    erasure::profile_custom_value_keys(conn, id).await?
                } else {
                    erasure::keys_equal(conn, table.name, column, id, 1000).await?
                };
                for row in keys {
                    report.residue.push(Hit {
                        table: table.name.into(),
                        column: column.into(),
                        row,
                        found: "user id",
                        class: HitClass::Residue,
                    });
                }
            }
        }
    }

    // Secret hashes: exact matches in SecretHash columns.
    if !target.secret_hashes.is_empty() {
        for table in registry::TABLES {
            for (column, personal) in table.personal_columns() {
                if personal.kind != Kind::SecretHash {
                    continue;
                }
                tables.insert(table.name);
                report.columns_checked += 1;
                for row in erasure::keys_in(conn, table.name, column, &target.secret_hashes).await?
                {
                    report.residue.push(Hit {
                        table: table.name.into(),
                        column: column.into(),
                        row,
                        found: "secret hash",
                        class: HitClass::Residue,
                    });
                }
            }
        }
    }

    // Text: the indexed free-text columns through the text index, every
    // other text column in the database itself; each hit confirmed on the
    // row's own text.
    if !terms.is_empty() {
        let text = TextSearch {
            terms: &terms,
            identifiers: &identifiers,
        };
        scan_indexed_text(conn, &text, &mut report, &mut tables).await?;
        scan_other_text(conn, &text, &mut report, &mut tables).await?;
    }
    report.tables_checked = tables.len();
    Ok(report)
}

/// The terms the text passes look for.
struct TextSearch<'a> {
    /// Names in both orders, login, email.
    terms: &'a [String],
    /// Login and email: the only evidence in structured columns.
    identifiers: &'a [String],
}

impl TextSearch<'_> {
    /// The hit `text` in `table.column` row `row` makes, if it is one: only
    /// whole words count ("Anna" in "Annabel" is someone else), and in
    /// structured columns only the login and email (other people share
    /// names).
    fn hit(&self, table: &registry::Table, column: &str, row: &str, text: &str) -> Option<Hit> {
        if table.name == "users" && is_builtin_row(row) {
            return None;
        }
        let class = classify(table, column);
        let evidence = match class {
            HitClass::Residue => self.identifiers,
            _ => self.terms,
        };
        if redaction::occurrences(text, evidence).is_empty() {
            return None;
        }
        Some(Hit {
            table: table.name.into(),
            column: column.to_string(),
            row: row.to_string(),
            found: "text",
            class,
        })
    }
}

fn push_hit(report: &mut ScanReport, hit: Hit) {
    match hit.class {
        HitClass::Residue => report.residue.push(hit),
        HitClass::FreeText => report.free_text.push(hit),
        HitClass::Held => report.held.push(hit),
    }
}

/// Matches read from the text index per page: memory stays flat however
/// many texts name the person.
const INDEX_PAGE: i64 = 2000;

/// The columns in the text index: every entry that matches one of the
/// terms is read back from its row and confirmed there. An entry that
/// matches but whose row is gone, or whose row's text no longer matches
/// by the engine's own reading, outlived its text: residue in the index.
async fn scan_indexed_text(
    conn: &mut Conn,
    text: &TextSearch<'_>,
    report: &mut ScanReport,
    tables: &mut BTreeSet<&'static str>,
) -> Result<(), ServiceError> {
    let Some(query) = TextQuery::any_of(text.terms) else {
        return Ok(());
    };
    let sources = text_index::sources(conn).await?;
    for s in &sources {
        tables.insert(s.table);
    }
    tables.insert("text_index");
    report.columns_checked += sources.len() + 1;
    let mut after = i64::MIN;
    loop {
        let keys = text_index::keys_matching(conn, &query, after, INDEX_PAGE).await?;
        let Some(&last) = keys.last() else { break };
        after = last;
        let mut by_source: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for key in keys {
            let (row, code) = text_index::decode(key);
            by_source.entry(code).or_default().push(row);
        }
        for (code, rows) in by_source {
            let Some(source) = sources.iter().find(|s| s.code == code) else {
                for row in rows {
                    report
                        .residue
                        .push(index_hit(format!("source {code} row {row}")));
                }
                continue;
            };
            let Some(table) = registry::table(source.table) else {
                continue;
            };
            let texts = erasure::get_texts(conn, source.table, source.column, &rows).await?;
            for row in rows {
                let place = format!("{}.{} row {row}", source.table, source.column);
                let Some(cell) = texts.get(&row) else {
                    report.residue.push(index_hit(place));
                    continue;
                };
                if let Some(hit) = text.hit(table, source.column, &row.to_string(), cell) {
                    push_hit(report, hit);
                } else if !has_all_words_of_a_phrase(cell, &query)
                    && !text_index::text_matches(conn, cell, &query).await?
                {
                    // Neither Rust's reading of the words nor the engine's
                    // own finds the query in the text the entry stands for.
                    report.residue.push(index_hit(place));
                }
            }
        }
    }
    Ok(())
}

/// Whether `text` holds every word of one of the query's phrases, as the
/// index cuts and folds words: then an entry matching the query is true to
/// its text. Asking the engine (`text_index::text_matches`) is left for the
/// rare text on which the two readings differ.
fn has_all_words_of_a_phrase(text: &str, query: &TextQuery) -> bool {
    let words: std::collections::HashSet<String> =
        steward_domain::search::words(text).into_iter().collect();
    query
        .phrases
        .iter()
        .any(|p| p.words.iter().all(|w| words.contains(w)))
}

/// A hit in the text index itself: an entry whose text is gone or changed.
fn index_hit(place: String) -> Hit {
    Hit {
        table: "text_index".into(),
        column: "doc".into(),
        row: place,
        found: "text",
        class: HitClass::Residue,
    }
}

/// Every other text column of every table, declared personal or not
/// (names, logins, emails, settings, audit details, job payloads: the
/// small tables), searched by the database for the terms and each match
/// confirmed; values only Steward writes (`Data::Code`) are skipped.
async fn scan_other_text(
    conn: &mut Conn,
    text: &TextSearch<'_>,
    report: &mut ScanReport,
    tables: &mut BTreeSet<&'static str>,
) -> Result<(), ServiceError> {
    let live = erasure::text_columns(conn).await?;
    let mut by_table: Vec<(&'static registry::Table, Vec<&'static str>)> = Vec::new();
    for (t, c) in &live {
        let Some(table) = registry::table(t) else {
            continue;
        };
        let Some(column) = table.column(c) else {
            continue;
        };
        if TEXT_EXEMPT.contains(&table.name) {
            continue;
        }
        match &column.data {
            Data::Code => continue,
            Data::Personal(p) if text_index::is_indexed(p.kind, p.erasure) => continue,
            Data::Personal(p) if p.erasure == Erasure::Mirrored => continue,
            _ => {}
        }
        match by_table.iter_mut().find(|(x, _)| x.name == table.name) {
            Some((_, cols)) => cols.push(column.name),
            None => by_table.push((table, vec![column.name])),
        }
    }
    for (table, columns) in by_table {
        tables.insert(table.name);
        report.columns_checked += columns.len();
        for (row, column, cell) in
            erasure::rows_containing(conn, table.name, &columns, text.terms).await?
        {
            if let Some(hit) = text.hit(table, &column, &row, &cell) {
                push_hit(report, hit);
            }
        }
    }
    Ok(())
}

/// The hashes in every secret-hash column of rows that belong to `id`
/// (sessions, API tokens), read so that the scan can look for them later.
pub async fn secret_hashes_of(conn: &mut Conn, id: UserId) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for table in registry::TABLES.iter().filter(|t| t.name != "users") {
        let Some(owner) = table
            .personal_columns()
            .find(|(_, p)| p.kind == Kind::UserRef)
            .map(|(c, _)| c)
        else {
            continue;
        };
        for (column, p) in table.personal_columns() {
            if p.kind == Kind::SecretHash {
                out.extend(erasure::texts_where_equal(conn, table.name, column, owner, id).await?);
            }
        }
    }
    Ok(out)
}

fn is_builtin_row(row: &str) -> bool {
    row.parse::<UserId>()
        .is_ok_and(|id| id == DELETED_USER_ID || id == SYSTEM_USER_ID)
}

/// What a hit means follows from what erasure does to the column: text it
/// keeps is for review, anything it deletes or re-points is residue.
fn classify(table: &registry::Table, column: &str) -> HitClass {
    match table.column(column).map(|c| &c.data) {
        Some(Data::Personal(p)) => match p.erasure {
            Erasure::ForgottenWhenReviewed => HitClass::Held,
            Erasure::ReviewText => HitClass::FreeText,
            Erasure::DeleteRow | Erasure::DeletedUser | Erasure::Mirrored => HitClass::Residue,
        },
        // Undeclared text (a project's name, say) may name anyone.
        Some(Data::None | Data::Code) | None => HitClass::FreeText,
    }
}

impl Services {
    /// The identifiers of an existing person (id or login), with the hashes
    /// of their sessions and tokens.
    pub async fn scan_target_of(&self, reference: &str) -> Result<ScanTarget, ServiceError> {
        let user = self.user_by_ref(reference).await?;
        let mut conn = self.db.conn().await?;
        Ok(ScanTarget {
            secret_hashes: secret_hashes_of(&mut conn, user.id).await?,
            ..ScanTarget::of_user(&user)
        })
    }

    /// The whole scan: database, caches (and the request log).
    pub async fn residue_scan(&self, target: &ScanTarget) -> Result<ScanReport, ServiceError> {
        if target.is_empty() {
            return Err(steward_domain::ValidationError::new(
                "target",
                "Give at least one identifier to scan for (user id, login, email or name).",
            )
            .into());
        }
        // Every text column of every table: off the request threads.
        let mut conn = self.db.for_long_work().conn().await?;
        let mut report = scan_database(&mut conn, target).await?;
        drop(conn);
        self.scan_outside_database(target, &mut report).await?;
        Ok(report.finish())
    }

    /// The places outside the database: the request log (the person's id
    /// or current pseudonym, and their login, email and full name in
    /// parameters and paths) and in-process caches.
    pub(crate) async fn scan_outside_database(
        &self,
        target: &ScanTarget,
        report: &mut ScanReport,
    ) -> Result<(), ServiceError> {
        let log = self.request_log();
        let io = |e: std::io::Error| ServiceError::internal("cannot read the request log", e);
        if let Some(id) = target.id {
            report.cache_entries = self.totals.entries_mentioning(id);
        }
        report.request_log_lines = log
            .mentions_person(target.id, &target.log_terms())
            .await
            .map_err(io)?
            .len();
        Ok(())
    }
}

pub(crate) fn finish(report: ScanReport) -> ScanReport {
    report.finish()
}
