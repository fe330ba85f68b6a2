//! What people search: work packages (subject, description, custom texts),
//! their comments, and projects (description, and name or identifier),
//! ranked by the text index and limited to what the reader may see in the
//! database itself, so that a page of results costs a page, not every match.

use steward_domain::search::TextQuery;

use crate::db::{Conn, Engine, FromRow, Param, Result, Row};
use crate::projects::ProjectScope;
use crate::text_index::{self, KEY_FACTOR};

/// What a match is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitKind {
    WorkPackage,
    Comment,
    Project,
}

/// One result, best first; `text` is what matched (for highlighting).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub kind: HitKind,
    /// The work package (for work packages and comments) or the project.
    pub id: i64,
    /// The comment's journal id.
    pub journal_id: Option<i64>,
    pub title: String,
    pub project_id: i64,
    pub project_name: String,
    pub text: String,
    pub score: f64,
}

struct Row8 {
    id: i64,
    journal_id: Option<i64>,
    title: String,
    project_id: i64,
    project_name: String,
    text: Option<String>,
    score: f64,
}

impl FromRow for Row8 {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Row8 {
            id: r.i64(0)?,
            journal_id: r.opt_i64(1)?,
            title: r.string(2)?,
            project_id: r.i64(3)?,
            project_name: r.string(4)?,
            text: r.opt_string(5)?,
            score: r.f64(6)?,
        })
    }
}

/// Matches ranked first among the index's (the best `POOL`), before the
/// reader's visibility narrows them: ranking every match of a common word
/// in a million texts would cost what the database holds. When fewer than
/// a page of the pool is visible, the search runs again over every match.
const POOL: i64 = 400;

/// The ranked matches of the index among the sources of `table` (all its
/// indexed columns), as `(row_key, code, score)`: an SQL subquery, the
/// query text bound as `$param`, the best `pool` of them if given.
fn matches_sql(engine: Engine, table: &str, param: usize, pool: Option<i64>) -> String {
    let f = KEY_FACTOR;
    let codes = format!("(SELECT code FROM text_index_sources WHERE table_name = '{table}')");
    let limit = pool.map_or(String::new(), |n| format!(" ORDER BY score DESC LIMIT {n}"));
    match engine {
        Engine::Sqlite => format!(
            "SELECT rowid / {f} AS row_key, rowid % {f} AS code, -bm25(text_index) AS score \
             FROM text_index WHERE text_index MATCH ${param} AND rowid % {f} IN {codes}{limit}"
        ),
        Engine::Postgres => format!(
            "SELECT key / {f} AS row_key, key % {f} AS code, ts_rank(doc, to_tsquery('simple', ${param}))::float8 AS score \
             FROM text_index WHERE doc @@ to_tsquery('simple', ${param}) AND key % {f} IN {codes}{limit}"
        ),
    }
}

/// Runs the search built by `build` over the best [`POOL`] matches, and
/// again over every match when that left less than `limit` visible (few
/// matches in all, where both are cheap, or a reader who sees little).
async fn pooled<F>(conn: &mut Conn, limit: i64, build: F) -> Result<Vec<Row8>>
where
    F: Fn(Option<i64>) -> (String, Vec<Param>),
{
    let (sql, params) = build(Some(POOL));
    let rows: Vec<Row8> = conn.query(&sql, params).await?;
    if rows.len() as i64 >= limit {
        return Ok(rows);
    }
    let (sql, params) = build(None);
    conn.query(&sql, params).await
}

/// The column of `table` whose code `code_col` names, as an SQL CASE over
/// the table alias `alias` (the text that matched).
fn matched_text(table: &str, columns: &[&str], alias: &str, code_col: &str) -> String {
    let arms: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "WHEN {code_col} = (SELECT code FROM text_index_sources WHERE table_name = '{table}' AND column_name = '{c}') THEN {alias}.{c}"
            )
        })
        .collect();
    format!("CASE {} END", arms.join(" "))
}

/// Work packages whose subject or description matches, best first.
pub async fn work_packages(
    conn: &mut Conn,
    scope: &ProjectScope,
    q: &TextQuery,
    limit: i64,
) -> Result<Vec<SearchHit>> {
    let engine = conn.engine();
    let text = matched_text("work_packages", &["subject", "description"], "w", "m.code");
    let rows = pooled(conn, limit, |pool| {
        let mut params: Vec<Param> = vec![text_index::query_param(engine, q)];
        let m = matches_sql(engine, "work_packages", 1, pool);
        let vis = scope.condition("w.project_id", &mut params);
        let sql = format!(
            "SELECT w.id, CAST(NULL AS BIGINT), w.subject, p.id, p.name, {text}, m.score \
             FROM ({m}) m JOIN work_packages w ON w.id = m.row_key \
             JOIN projects p ON p.id = w.project_id \
             WHERE {vis} ORDER BY 7 DESC, w.id DESC LIMIT {}",
            limit * 2
        );
        (sql, params)
    })
    .await?;
    Ok(dedup(rows, HitKind::WorkPackage, limit))
}

/// Comments whose text matches, on work packages the reader may see.
pub async fn comments(
    conn: &mut Conn,
    scope: &ProjectScope,
    q: &TextQuery,
    limit: i64,
) -> Result<Vec<SearchHit>> {
    let engine = conn.engine();
    let rows = pooled(conn, limit, |pool| {
        let mut params: Vec<Param> = vec![text_index::query_param(engine, q)];
        let m = matches_sql(engine, "journals", 1, pool);
        let vis = scope.condition("w.project_id", &mut params);
        let sql = format!(
            "SELECT w.id, j.id, w.subject, p.id, p.name, j.notes, m.score \
             FROM ({m}) m JOIN journals j ON j.id = m.row_key \
             JOIN work_packages w ON j.journable_type = 'WorkPackage' AND w.id = j.journable_id \
             JOIN projects p ON p.id = w.project_id \
             WHERE {vis} ORDER BY 7 DESC, j.id DESC LIMIT {limit}"
        );
        (sql, params)
    })
    .await?;
    Ok(dedup(rows, HitKind::Comment, limit))
}

/// Projects whose description matches through the index, or whose name or
/// identifier contains every word (names are short and few: the database
/// compares them directly), name matches first.
pub async fn projects(
    conn: &mut Conn,
    scope: &ProjectScope,
    q: &TextQuery,
    limit: i64,
) -> Result<Vec<SearchHit>> {
    let engine = conn.engine();
    let mut params: Vec<Param> = vec![text_index::query_param(engine, q)];
    let m = matches_sql(engine, "projects", 1, None);
    let vis = scope.condition("p.id", &mut params);
    let mut name_conds = Vec::new();
    for (word, _) in q.all_words() {
        params.push(format!("%{}%", crate::users::escape_like(word)).into());
        let n = params.len();
        name_conds.push(format!(
            "(lower(p.name) LIKE ${n} ESCAPE '\\' OR lower(p.identifier) LIKE ${n} ESCAPE '\\')"
        ));
    }
    let by_name = if name_conds.is_empty() {
        "1 = 0".to_string()
    } else {
        name_conds.join(" AND ")
    };
    let sql = format!(
        "SELECT p.id, CAST(NULL AS BIGINT), p.name, p.id, p.name, p.description, \
           COALESCE(m.score, 0) + CASE WHEN {by_name} THEN 1000 ELSE 0 END \
         FROM projects p LEFT JOIN ({m}) m ON m.row_key = p.id \
         WHERE {vis} AND (m.row_key IS NOT NULL OR {by_name}) \
         ORDER BY 7 DESC, p.id DESC LIMIT {limit}"
    );
    let rows: Vec<Row8> = conn.query(&sql, params).await?;
    Ok(dedup(rows, HitKind::Project, limit))
}

/// One hit per work package, comment or project (a work package matching
/// in subject and description comes once, with its best text).
fn dedup(rows: Vec<Row8>, kind: HitKind, limit: i64) -> Vec<SearchHit> {
    let mut out: Vec<SearchHit> = Vec::with_capacity(rows.len());
    for r in rows {
        if out.len() as i64 >= limit {
            break;
        }
        if out
            .iter()
            .any(|h| h.id == r.id && h.journal_id == r.journal_id)
        {
            continue;
        }
        out.push(SearchHit {
            kind,
            id: r.id,
            journal_id: r.journal_id,
            title: r.title,
            project_id: r.project_id,
            project_name: r.project_name,
            text: r.text.unwrap_or_default(),
            score: r.score,
        });
    }
    out
}
