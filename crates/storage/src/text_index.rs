//! The text index: one index over every free-text column the personal-data
//! registry declares, for people's searches and for the residue scan.
//!
//! Each declared column is a *source* with a small number (its code, kept
//! in `text_index_sources` so that it never changes once given). An entry's
//! key is `row key * KEY_FACTOR + code`, so one index serves every table
//! and a hit names its table, column and row without a lookup.
//!
//! The index is kept by triggers on the source tables, so it changes in the
//! same transaction as the row, whoever writes it. [`sync`] derives those
//! triggers from the registry at every start: declaring a `FreeText` column
//! is what puts it in the index, and a column no longer declared leaves it.
//!
//! - SQLite: a contentless FTS5 table (it stores words, not the texts) with
//!   the `unicode61` tokenizer folding case and accents. The triggers hand
//!   FTS5 a changed or deleted row's old text with its `delete` command, so
//!   that with `secure-delete` on its words leave the index's pages (and
//!   `PRAGMA secure_delete` zeroes the freed pages): a contentless table
//!   that deletes by rowid alone (`contentless_delete`) would only mark
//!   them deleted and keep the words.
//! - PostgreSQL: a table of `tsvector`s with a GIN index; texts are folded
//!   by the SQL function `steward_fold`, generated from the same folding as
//!   Rust's ([`steward_domain::search`]), so no extension is needed.
//!
//! Table and column names come only from the registry, never from input.
//! ADR 0021.

use steward_domain::registry::{self, Data, Erasure, Kind};
use steward_domain::search::{self, TextQuery};

use crate::db::{Conn, Db, Engine, FromRow, Param, Result, Row, StorageError};
use crate::params;

/// Keys are `row key * KEY_FACTOR + code`: room for 1,024 sources and row
/// keys up to 9 * 10^15.
pub const KEY_FACTOR: i64 = 1024;

/// Bumped when the folding or the index's definition changes: [`sync`] then
/// rebuilds the whole index.
const INDEX_VERSION: i64 = 1;

const SQLITE_TOKENIZER: &str = "unicode61 remove_diacritics 2";

/// A column the index covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub code: i64,
    pub table: &'static str,
    pub column: &'static str,
    /// The table's integer key column.
    pub key: &'static str,
}

impl Source {
    pub fn entry_key(&self, row: i64) -> i64 {
        row * KEY_FACTOR + self.code
    }
}

/// The row and source code an entry key stands for.
pub fn decode(key: i64) -> (i64, i64) {
    (key.div_euclid(KEY_FACTOR), key.rem_euclid(KEY_FACTOR))
}

/// Whether the registry puts `column` of `table` in the index: text people
/// write (`Kind::FreeText`), except the index's own column.
pub fn is_indexed(personal_kind: Kind, erasure: Erasure) -> bool {
    personal_kind == Kind::FreeText && erasure != Erasure::Mirrored
}

/// Every (table, column) the registry says belongs in the index.
pub fn declared() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for t in registry::TABLES {
        for c in t.columns {
            if let Data::Personal(p) = &c.data {
                if is_indexed(p.kind, p.erasure) {
                    out.push((t.name, c.name));
                }
            }
        }
    }
    out
}

/// The integer key column of a table the index covers.
fn key_column(table: &str) -> Result<&'static str> {
    let t = registry::table(table).ok_or_else(|| {
        StorageError::Engine(format!("{table} is not in the personal-data registry"))
    })?;
    ["id", "journal_id"]
        .into_iter()
        .find_map(|k| t.column(k).map(|c| c.name))
        .ok_or_else(|| {
            StorageError::Engine(format!(
                "{table} has free text but no integer key (id or journal_id) for the text index"
            ))
        })
}

struct SourceRow {
    code: i64,
    table: String,
    column: String,
}

impl FromRow for SourceRow {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(SourceRow {
            code: row.i64(0)?,
            table: row.string(1)?,
            column: row.string(2)?,
        })
    }
}

/// The sources in force, as [`sync`] recorded them.
pub async fn sources(conn: &mut Conn) -> Result<Vec<Source>> {
    let rows: Vec<SourceRow> = conn
        .query(
            "SELECT code, table_name, column_name FROM text_index_sources ORDER BY code",
            params![],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        // A source recorded by a newer build that this one does not know
        // is skipped, not trusted.
        let Some(t) = registry::table(&r.table) else {
            continue;
        };
        let Some(c) = t.column(&r.column) else {
            continue;
        };
        out.push(Source {
            code: r.code,
            table: t.name,
            column: c.name,
            key: key_column(t.name)?,
        });
    }
    Ok(out)
}

/// What [`sync`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub rebuilt: bool,
}

/// Brings the index in line with the registry: creates the index the first
/// time, gives each newly declared column a code, its triggers and its
/// existing rows' entries, and removes columns no longer declared. Cheap
/// when nothing changed (a few catalogue reads). Safe from several
/// processes at once: PostgreSQL serialises them with an advisory lock,
/// SQLite with its write lock.
pub async fn sync(db: &Db) -> Result<SyncReport> {
    let engine = db.engine();
    let mut tx = db.for_long_work().begin().await?;
    if engine == Engine::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7415060002)", params![])
            .await?;
    }
    let mut report = SyncReport::default();
    let version: Option<i64> = tx
        .query_opt(
            "SELECT version FROM data_versions WHERE name = 'text_index'",
            params![],
        )
        .await?;
    let recorded: Vec<SourceRow> = tx
        .query(
            "SELECT code, table_name, column_name FROM text_index_sources ORDER BY code",
            params![],
        )
        .await?;
    // No sources recorded means no entry can be trusted to mean anything:
    // the index is made anew, as the first time.
    let created = version != Some(INDEX_VERSION) || recorded.is_empty();
    if created {
        create_index(&mut tx, engine).await?;
    }
    let wanted = declared();
    // Entries that may no longer match their rows (a column left the
    // index, triggers went missing) are only safely removed by rebuilding:
    // SQLite's index forgets a text only when told its words.
    let mut rebuild_all = false;
    for r in &recorded {
        if !wanted.iter().any(|(t, c)| *t == r.table && *c == r.column) {
            drop_triggers(&mut tx, engine, &r.table, &r.column).await?;
            tx.execute(
                "DELETE FROM text_index_sources WHERE code = $1",
                params![r.code],
            )
            .await?;
            report.removed.push(format!("{}.{}", r.table, r.column));
            rebuild_all = true;
        }
    }
    let mut next = recorded.iter().map(|r| r.code).max().unwrap_or(0) + 1;
    let mut current = Vec::new();
    for (table, column) in wanted {
        let existing = recorded
            .iter()
            .find(|r| r.table == table && r.column == column);
        let source = Source {
            code: existing.map_or(next, |r| r.code),
            table,
            column,
            key: key_column(table)?,
        };
        if existing.is_none() {
            if source.code >= KEY_FACTOR {
                return Err(StorageError::Engine(format!(
                    "the text index has room for {KEY_FACTOR} sources"
                )));
            }
            next += 1;
            tx.execute(
                "INSERT INTO text_index_sources (code, table_name, column_name) VALUES ($1, $2, $3)",
                params![source.code, table, column],
            )
            .await?;
            report.added.push(format!("{table}.{column}"));
        }
        if created || existing.is_none() {
            create_triggers(&mut tx, engine, &source).await?;
            if !created {
                // A new column: its code is new, so it has no entries yet.
                fill(&mut tx, engine, &source).await?;
            }
        } else if !has_triggers(&mut tx, engine, &source).await? {
            create_triggers(&mut tx, engine, &source).await?;
            rebuild_all = true;
        }
        current.push(source);
    }
    if created || rebuild_all {
        empty(&mut tx, engine).await?;
        for source in &current {
            fill(&mut tx, engine, source).await?;
        }
        report.rebuilt = rebuild_all || version.is_some();
    }
    if created {
        tx.execute(
            "DELETE FROM data_versions WHERE name = 'text_index'",
            params![],
        )
        .await?;
        tx.execute(
            "INSERT INTO data_versions (name, version) VALUES ('text_index', $1)",
            params![INDEX_VERSION],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// (Re)creates the empty index and, on PostgreSQL, the folding function.
async fn create_index(tx: &mut Conn, engine: Engine) -> Result<()> {
    match engine {
        Engine::Sqlite => {
            tx.batch(&format!(
                "DROP TABLE IF EXISTS text_index;
                 CREATE VIRTUAL TABLE text_index USING fts5(
                     doc, content='', tokenize='{SQLITE_TOKENIZER}'
                 );
                 INSERT INTO text_index (text_index, rank) VALUES ('secure-delete', 1);"
            ))
            .await
        }
        Engine::Postgres => {
            let (from, to) = search::sql_fold_map();
            // Runs of anything but letters and digits become one space, as
            // in Rust's `search::words`: the ASCII punctuation and the
            // Unicode punctuation and space blocks by range, because
            // `[:alnum:]` depends on the database's locale.
            tx.batch(&format!(
                "CREATE OR REPLACE FUNCTION steward_fold(t TEXT) RETURNS TEXT
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fold$
                   SELECT btrim(regexp_replace(translate(lower(t), '{from}', '{to}'),
                     '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f\\u0080-\\u00bf\\u00d7\\u00f7\\u2000-\\u206f\\u2190-\\u2bff\\u3000-\\u303f\\ufe30-\\ufe4f\\uff00-\\uff0f]+',
                     ' ', 'g'))
                 $fold$;
                 DROP TABLE IF EXISTS text_index;
                 CREATE TABLE text_index (key BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL);
                 CREATE INDEX text_index_doc ON text_index USING gin (doc);"
            ))
            .await
        }
    }
}

fn trigger_base(table: &str, column: &str) -> String {
    format!("text_index_{table}_{column}")
}

async fn has_triggers(tx: &mut Conn, engine: Engine, s: &Source) -> Result<bool> {
    let base = trigger_base(s.table, s.column);
    let n: i64 = match engine {
        Engine::Sqlite => {
            tx.query_one(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ($1, $2, $3)",
                params![format!("{base}_ins"), format!("{base}_upd"), format!("{base}_del")],
            )
            .await?
        }
        Engine::Postgres => {
            // Three triggers' worth, so both engines compare with 3.
            3 * tx
                .query_one::<i64>(
                    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                 WHERE c.relname = $1 AND t.tgname = $2
                   AND c.relnamespace = current_schema()::regnamespace",
                    params![s.table, base],
                )
                .await?
        }
    };
    Ok(n == 3)
}

async fn create_triggers(tx: &mut Conn, engine: Engine, s: &Source) -> Result<()> {
    let (t, c, k, code) = (s.table, s.column, s.key, s.code);
    let base = trigger_base(t, c);
    let f = KEY_FACTOR;
    match engine {
        Engine::Sqlite => {
            tx.batch(&format!(
                "DROP TRIGGER IF EXISTS {base}_ins;
                 DROP TRIGGER IF EXISTS {base}_upd;
                 DROP TRIGGER IF EXISTS {base}_del;
                 CREATE TRIGGER {base}_ins AFTER INSERT ON {t}
                 WHEN new.{c} IS NOT NULL AND new.{c} <> '' BEGIN
                   INSERT INTO text_index (rowid, doc) VALUES (new.{k} * {f} + {code}, new.{c});
                 END;
                 CREATE TRIGGER {base}_upd AFTER UPDATE OF {c} ON {t} BEGIN
                   INSERT INTO text_index (text_index, rowid, doc)
                     SELECT 'delete', old.{k} * {f} + {code}, old.{c} WHERE old.{c} IS NOT NULL AND old.{c} <> '';
                   INSERT INTO text_index (rowid, doc)
                     SELECT new.{k} * {f} + {code}, new.{c} WHERE new.{c} IS NOT NULL AND new.{c} <> '';
                 END;
                 CREATE TRIGGER {base}_del AFTER DELETE ON {t}
                 WHEN old.{c} IS NOT NULL AND old.{c} <> '' BEGIN
                   INSERT INTO text_index (text_index, rowid, doc) VALUES ('delete', old.{k} * {f} + {code}, old.{c});
                 END;"
            ))
            .await
        }
        Engine::Postgres => {
            tx.batch(&format!(
                "CREATE OR REPLACE FUNCTION {base}() RETURNS trigger LANGUAGE plpgsql AS $body$
                 BEGIN
                   IF TG_OP <> 'INSERT' THEN
                     DELETE FROM text_index WHERE key = OLD.{k} * {f} + {code};
                   END IF;
                   IF TG_OP <> 'DELETE' AND NEW.{c} IS NOT NULL AND NEW.{c} <> '' THEN
                     INSERT INTO text_index (key, doc)
                       VALUES (NEW.{k} * {f} + {code}, to_tsvector('simple', steward_fold(NEW.{c})));
                   END IF;
                   RETURN NULL;
                 END $body$;
                 DROP TRIGGER IF EXISTS {base} ON {t};
                 CREATE TRIGGER {base} AFTER INSERT OR DELETE OR UPDATE OF {c} ON {t}
                   FOR EACH ROW EXECUTE FUNCTION {base}();"
            ))
            .await
        }
    }
}

async fn drop_triggers(tx: &mut Conn, engine: Engine, table: &str, column: &str) -> Result<()> {
    // A source recorded by an older build whose table is gone took its
    // triggers with it.
    if registry::table(table)
        .and_then(|t| t.column(column))
        .is_none()
    {
        return Ok(());
    }
    let base = trigger_base(table, column);
    match engine {
        Engine::Sqlite => {
            tx.batch(&format!(
                "DROP TRIGGER IF EXISTS {base}_ins;
                 DROP TRIGGER IF EXISTS {base}_upd;
                 DROP TRIGGER IF EXISTS {base}_del;"
            ))
            .await
        }
        Engine::Postgres => {
            tx.batch(&format!(
                "DROP TRIGGER IF EXISTS {base} ON {table}; DROP FUNCTION IF EXISTS {base}();"
            ))
            .await
        }
    }
}

/// Removes every entry.
async fn empty(tx: &mut Conn, engine: Engine) -> Result<()> {
    match engine {
        Engine::Sqlite => {
            tx.batch("INSERT INTO text_index (text_index) VALUES ('delete-all')")
                .await
        }
        Engine::Postgres => tx.batch("DELETE FROM text_index").await,
    }
}

/// Writes the entries of every existing row of one source, which has none.
async fn fill(tx: &mut Conn, engine: Engine, s: &Source) -> Result<()> {
    let (t, c, k, code) = (s.table, s.column, s.key, s.code);
    let f = KEY_FACTOR;
    let sql = match engine {
        Engine::Sqlite => format!(
            "INSERT INTO text_index (rowid, doc)
             SELECT {k} * {f} + {code}, {c} FROM {t} WHERE {c} IS NOT NULL AND {c} <> ''"
        ),
        Engine::Postgres => format!(
            "INSERT INTO text_index (key, doc)
             SELECT {k} * {f} + {code}, to_tsvector('simple', steward_fold({c}))
             FROM {t} WHERE {c} IS NOT NULL AND {c} <> ''"
        ),
    };
    tx.execute(&sql, params![]).await?;
    Ok(())
}

/// Rebuilds every source's entries from its rows (after a bulk load that
/// wrote around the triggers, or to repair a damaged index).
pub async fn rebuild(db: &Db) -> Result<()> {
    let engine = db.engine();
    let mut tx = db.for_long_work().begin().await?;
    empty(&mut tx, engine).await?;
    for s in sources(&mut tx).await? {
        fill(&mut tx, engine, &s).await?;
    }
    tx.commit().await
}

/// The number of entries (for the benchmark's report of the index size).
pub async fn entries(conn: &mut Conn) -> Result<i64> {
    conn.query_one("SELECT count(*) FROM text_index", params![])
        .await
}

fn match_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "text_index MATCH $1",
        Engine::Postgres => "doc @@ to_tsquery('simple', $1)",
    }
}

fn query_text(engine: Engine, q: &TextQuery) -> String {
    match engine {
        Engine::Sqlite => q.to_fts5(),
        Engine::Postgres => q.to_tsquery(),
    }
}

fn key_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "rowid",
        Engine::Postgres => "key",
    }
}

/// Entry keys matching `q`, ascending, after `after`, at most `limit`: the
/// residue scan walks every match this way, a page at a time, so memory
/// stays flat however many texts match.
pub async fn keys_matching(
    conn: &mut Conn,
    q: &TextQuery,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let engine = conn.engine();
    let key = key_sql(engine);
    conn.query(
        &format!(
            "SELECT {key} FROM text_index WHERE {} AND {key} > $2 ORDER BY {key} LIMIT {limit}",
            match_sql(engine)
        ),
        params![query_text(engine, q), after],
    )
    .await
}

/// One ranked match of a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub key: i64,
    /// Higher is better.
    pub score: f64,
}

impl FromRow for Ranked {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Ranked {
            key: row.i64(0)?,
            score: row.f64(1)?,
        })
    }
}

/// The best `limit` matches of `q` among the sources `codes`, best first.
pub async fn ranked(
    conn: &mut Conn,
    q: &TextQuery,
    codes: &[i64],
    limit: i64,
) -> Result<Vec<Ranked>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let engine = conn.engine();
    let codes: Vec<String> = codes.iter().map(i64::to_string).collect();
    let codes = codes.join(", ");
    let sql = match engine {
        // bm25 is lower for better matches.
        Engine::Sqlite => format!(
            "SELECT rowid, -bm25(text_index) FROM text_index
             WHERE text_index MATCH $1 AND rowid % {KEY_FACTOR} IN ({codes})
             ORDER BY bm25(text_index), rowid DESC LIMIT {limit}"
        ),
        Engine::Postgres => format!(
            "SELECT key, ts_rank(doc, q)::float8 FROM text_index, to_tsquery('simple', $1) q
             WHERE doc @@ q AND key % {KEY_FACTOR} IN ({codes})
             ORDER BY 2 DESC, key DESC LIMIT {limit}"
        ),
    };
    conn.query(&sql, params![query_text(engine, q)]).await
}

/// The row keys whose entries of the sources `codes` (an SQL list or
/// subquery) match the query bound as `$param` ([`query_param`]): an SQL
/// subquery, for filtering a list by a search.
pub fn rows_matching_sql(engine: Engine, codes: &str, param: usize) -> String {
    match engine {
        Engine::Sqlite => format!(
            "SELECT rowid / {KEY_FACTOR} FROM text_index WHERE text_index MATCH ${param} AND rowid % {KEY_FACTOR} IN {codes}"
        ),
        Engine::Postgres => format!(
            "SELECT key / {KEY_FACTOR} FROM text_index WHERE doc @@ to_tsquery('simple', ${param}) AND key % {KEY_FACTOR} IN {codes}"
        ),
    }
}

/// The query text for [`rows_matching_sql`]'s parameter.
pub fn query_param(engine: Engine, q: &TextQuery) -> Param {
    Param::Text(query_text(engine, q))
}

/// Whether `text`, indexed now, would match `q`: the engine's own judgement,
/// so that the residue scan can tell an entry that matches its row's
/// current text (a near miss of the exact check: another accent, `_`
/// between words) from one left behind by a text that changed.
pub async fn text_matches(conn: &mut Conn, text: &str, q: &TextQuery) -> Result<bool> {
    match conn.engine() {
        Engine::Sqlite => {
            conn.batch(&format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.text_probe USING fts5(
                     doc, tokenize='{SQLITE_TOKENIZER}'
                 );
                 DELETE FROM temp.text_probe;"
            ))
            .await?;
            conn.execute(
                "INSERT INTO temp.text_probe (rowid, doc) VALUES (1, $1)",
                params![text],
            )
            .await?;
            let n: i64 = conn
                .query_one(
                    "SELECT count(*) FROM temp.text_probe WHERE text_probe MATCH $1",
                    params![q.to_fts5()],
                )
                .await?;
            conn.batch("DELETE FROM temp.text_probe").await?;
            Ok(n > 0)
        }
        Engine::Postgres => {
            conn.query_one(
                "SELECT to_tsvector('simple', steward_fold($1)) @@ to_tsquery('simple', $2)",
                params![text, q.to_tsquery()],
            )
            .await
        }
    }
}

/// Whether an entry for `key` exists (for tests of the triggers).
pub async fn has_entry(conn: &mut Conn, key: i64) -> Result<bool> {
    let engine = conn.engine();
    let n: i64 = conn
        .query_one(
            &format!(
                "SELECT count(*) FROM text_index WHERE {} = $1",
                key_sql(engine)
            ),
            params![key],
        )
        .await?;
    Ok(n > 0)
}

/// The sources whose triggers are missing (empty when the index covers
/// every declared column): for the check that the registry and the index
/// agree.
pub async fn missing_triggers(conn: &mut Conn) -> Result<Vec<String>> {
    let engine = conn.engine();
    let recorded = sources(conn).await?;
    let mut out = Vec::new();
    for (table, column) in declared() {
        match recorded
            .iter()
            .find(|s| s.table == table && s.column == column)
        {
            None => out.push(format!("{table}.{column} (no source)")),
            Some(s) => {
                if !has_triggers(conn, engine, s).await? {
                    out.push(format!("{table}.{column} (no triggers)"));
                }
            }
        }
    }
    Ok(out)
}
