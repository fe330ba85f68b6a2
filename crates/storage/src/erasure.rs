//! Registry-driven statements for erasure and the residue scan: re-point,
//! delete and search by table and column. Table and column names come only
//! from the static personal-data registry (checked here), never from input,
//! so formatting them into SQL is safe.

use steward_domain::registry;

use crate::db::{Conn, Db, Engine, FromRow, Param, Result, Row, StorageError};
use crate::params;
use crate::users::escape_like;

/// Panics are not acceptable on input, but a name that is not in the
/// registry can only come from a programming error in this crate's callers.
fn checked(table: &str, column: &str) -> Result<()> {
    match registry::table(table).and_then(|t| t.column(column)) {
        Some(_) => Ok(()),
        None => Err(StorageError::Engine(format!(
            "{table}.{column} is not in the personal-data registry"
        ))),
    }
}

/// The column that names a row of `table` in scan results and the
/// redaction queue.
pub fn row_key(table: &str) -> &'static str {
    let t = registry::table(table);
    for key in ["id", "journal_id", "key", "name", "version"] {
        if let Some(c) = t.and_then(|t| t.column(key)) {
            return c.name;
        }
    }
    t.and_then(|t| t.columns.first()).map_or("id", |c| c.name)
}

pub async fn count_equal(conn: &mut Conn, table: &str, column: &str, id: i64) -> Result<i64> {
    checked(table, column)?;
    conn.query_one(
        &format!("SELECT count(*) FROM {table} WHERE {column} = $1"),
        params![id],
    )
    .await
}

/// Row keys of `table` where `column` equals `id`, up to `limit`.
pub async fn keys_equal(
    conn: &mut Conn,
    table: &str,
    column: &str,
    id: i64,
    limit: i64,
) -> Result<Vec<String>> {
    checked(table, column)?;
    let key = row_key(table);
    conn.query(
        &format!(
            "SELECT CAST({key} AS TEXT) FROM {table} WHERE {column} = $1 ORDER BY {key} LIMIT {limit}"
        ),
        params![id],
    )
    .await
}

pub async fn repoint(
    conn: &mut Conn,
    table: &str,
    column: &str,
    from: i64,
    to: i64,
) -> Result<u64> {
    checked(table, column)?;
    conn.execute(
        &format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"),
        params![to, from],
    )
    .await
}

pub async fn delete_equal(conn: &mut Conn, table: &str, column: &str, id: i64) -> Result<u64> {
    checked(table, column)?;
    conn.execute(
        &format!("DELETE FROM {table} WHERE {column} = $1"),
        params![id],
    )
    .await
}

/// Deletes rows whose text `column` equals `value` ignoring case (sign-in
/// attempts typed with the person's login, say).
pub async fn delete_text_equal(
    conn: &mut Conn,
    table: &str,
    column: &str,
    value: &str,
) -> Result<u64> {
    checked(table, column)?;
    conn.execute(
        &format!("DELETE FROM {table} WHERE lower({column}) = $1"),
        params![value.to_lowercase()],
    )
    .await
}

pub async fn keys_in(
    conn: &mut Conn,
    table: &str,
    column: &str,
    values: &[String],
) -> Result<Vec<String>> {
    checked(table, column)?;
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let key = row_key(table);
    let marks: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let ps: Vec<Param> = values.iter().map(Param::from).collect();
    conn.query(
        &format!(
            "SELECT CAST({key} AS TEXT) FROM {table} WHERE {column} IN ({}) ORDER BY {key}",
            marks.join(", ")
        ),
        ps,
    )
    .await
}

/// (row key, column, text) of the rows of `table` in which any of the text
/// `columns` may contain any of `needles`, without case: a superset that
/// the caller narrows to whole words. The database compares, so only the
/// matching rows are read. Its `lower()` folds only ASCII letters on
/// SQLite (and on PostgreSQL depends on the locale), so every other
/// character of a needle matches any one character (`_`).
pub async fn rows_containing(
    conn: &mut Conn,
    table: &str,
    columns: &[&str],
    needles: &[String],
) -> Result<Vec<(String, String, String)>> {
    if columns.is_empty() || needles.is_empty() {
        return Ok(Vec::new());
    }
    for c in columns {
        checked(table, c)?;
    }
    let key = row_key(table);
    let ps: Vec<Param> = needles
        .iter()
        .map(|n| Param::from(format!("%{}%", like_folded(n))))
        .collect();
    let mut out = Vec::new();
    for column in columns {
        let conds: Vec<String> = (1..=needles.len())
            .map(|i| format!("lower({column}) LIKE ${i} ESCAPE '\\'"))
            .collect();
        let rows: Vec<(String, String)> = conn
            .query(
                &format!(
                    "SELECT CAST({key} AS TEXT), {column} FROM {table} WHERE {} ORDER BY {key}",
                    conds.join(" OR ")
                ),
                ps.clone(),
            )
            .await?;
        out.extend(
            rows.into_iter()
                .map(|(k, text)| (k, column.to_string(), text)),
        );
    }
    Ok(out)
}

/// `needle` as a LIKE pattern for `lower(column)`: ASCII letters lower-cased,
/// LIKE's own characters escaped, anything else `_`.
fn like_folded(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len());
    for c in needle.chars() {
        if c.is_ascii() {
            out.push_str(&escape_like(&c.to_ascii_lowercase().to_string()));
        } else {
            out.push('_');
        }
    }
    out
}

/// One row's key and the values of the text columns asked for.
pub struct TextCells {
    pub key: String,
    pub cells: Vec<Option<String>>,
}

impl FromRow for TextCells {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let mut cells = Vec::with_capacity(row.len().saturating_sub(1));
        for i in 1..row.len() {
            cells.push(row.opt_string(i)?);
        }
        Ok(TextCells {
            key: row.string(0)?,
            cells,
        })
    }
}

/// Every row of `table` with the values of its text `columns`, in one pass
/// over the table, all in memory: only for checking the residue scan
/// against reading everything, on test data.
pub async fn text_cells(conn: &mut Conn, table: &str, columns: &[&str]) -> Result<Vec<TextCells>> {
    for c in columns {
        checked(table, c)?;
    }
    let key = row_key(table);
    conn.query(
        &format!(
            "SELECT CAST({key} AS TEXT), {} FROM {table}",
            columns.join(", ")
        ),
        params![],
    )
    .await
}

/// Sets a text cell of the row whose key column (see [`row_key`]) is `key`.
pub async fn set_text(
    conn: &mut Conn,
    table: &str,
    column: &str,
    key: i64,
    text: &str,
) -> Result<u64> {
    checked(table, column)?;
    let key_col = row_key(table);
    conn.execute(
        &format!("UPDATE {table} SET {column} = $1 WHERE {key_col} = $2"),
        params![text, key],
    )
    .await
}

/// The text of one cell, if the row exists.
pub async fn get_text(
    conn: &mut Conn,
    table: &str,
    column: &str,
    key: i64,
) -> Result<Option<String>> {
    checked(table, column)?;
    let key_col = row_key(table);
    let row: Option<Option<String>> = conn
        .query_opt(
            &format!("SELECT {column} FROM {table} WHERE {key_col} = $1"),
            params![key],
        )
        .await?;
    Ok(row.flatten())
}

/// The texts of several cells of one column, by row key (rows that do not
/// exist, or whose cell is NULL, are absent): one statement for a page of
/// the redaction queue instead of one per entry.
pub async fn get_texts(
    conn: &mut Conn,
    table: &str,
    column: &str,
    keys: &[i64],
) -> Result<std::collections::HashMap<i64, String>> {
    checked(table, column)?;
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let key_col = row_key(table);
    let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let ps: Vec<Param> = keys.iter().copied().map(Param::from).collect();
    let rows: Vec<TextCells> = conn
        .query(
            &format!(
                "SELECT CAST({key_col} AS TEXT), {column} FROM {table} WHERE {key_col} IN ({})",
                marks.join(", ")
            ),
            ps,
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let key = r.key.parse::<i64>().ok()?;
            let text = r.cells.into_iter().next().flatten()?;
            Some((key, text))
        })
        .collect())
}

/// Mentions of `from` become mentions of `to`; where a text already
/// mentions `to`, the duplicate reference is dropped (one row per text
/// and person).
pub async fn repoint_mentions(conn: &mut Conn, from: i64, to: i64) -> Result<u64> {
    let dropped = conn
        .execute(
            "DELETE FROM mentions WHERE user_id = $1 AND EXISTS (SELECT 1 FROM mentions o \
             WHERE o.user_id = $2 AND o.source_type = mentions.source_type AND o.source_id = mentions.source_id)",
            params![from, to],
        )
        .await?;
    let moved = conn
        .execute(
            "UPDATE mentions SET user_id = $1 WHERE user_id = $2",
            params![to, from],
        )
        .await?;
    Ok(dropped + moved)
}

/// The text-typed columns of every table, from the live schema: the scan
/// searches all of them, declared personal or not.
pub async fn text_columns(conn: &mut Conn) -> Result<Vec<(String, String)>> {
    let sql = match conn.engine() {
        Engine::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND upper(p.type) = 'TEXT'
             ORDER BY m.name, p.name"
        }
        Engine::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type = 'text'
             ORDER BY table_name, column_name"
        }
    };
    conn.query(sql, params![]).await
}

/// Text values of `text_column` in the rows where `column` equals `id`
/// (the token hashes of a person's sessions, say).
pub async fn texts_where_equal(
    conn: &mut Conn,
    table: &str,
    text_column: &str,
    column: &str,
    id: i64,
) -> Result<Vec<String>> {
    checked(table, text_column)?;
    checked(table, column)?;
    conn.query(
        &format!("SELECT {text_column} FROM {table} WHERE {column} = $1"),
        params![id],
    )
    .await
}

/// Custom values of a person's own profile (user custom fields): the rows
/// of `custom_values` whose `customized_id` is a user id.
pub async fn delete_profile_custom_values(conn: &mut Conn, user_id: i64) -> Result<u64> {
    conn.execute(
        "DELETE FROM custom_values WHERE customized_type = 'Principal' AND customized_id = $1",
        params![user_id],
    )
    .await
}

pub async fn profile_custom_value_keys(conn: &mut Conn, user_id: i64) -> Result<Vec<String>> {
    conn.query(
        "SELECT CAST(id AS TEXT) FROM custom_values WHERE customized_type = 'Principal' AND customized_id = $1",
        params![user_id],
    )
    .await
}

/// After an erasure on SQLite: moves the WAL into the database file and
/// truncates it, so that old versions of the erased rows do not linger in
/// the log (deleted content itself is zeroed by `secure_delete`).
pub async fn checkpoint(db: &Db) -> Result<()> {
    if db.engine() == Engine::Sqlite {
        db.conn()
            .await?
            .batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}
