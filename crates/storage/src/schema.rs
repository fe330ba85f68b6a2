//! Reads the live schema, for the registry check and the residue scan.

use crate::db::{Db, Engine, Result};
use crate::params;

/// Every (table, column) pair in the database Steward uses, sorted.
pub async fn columns(db: &Db) -> Result<Vec<(String, String)>> {
    let sql = match db.engine() {
        // The text index's FTS5 table keeps its words in shadow tables of
        // its own (`text_index_data`, ...): they are the index, declared
        // as `text_index`, whose key is the FTS5 rowid.
        Engine::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')
             UNION ALL
             SELECT name, 'key' FROM pragma_table_list WHERE type = 'virtual' AND schema = 'main'
             ORDER BY 1, 2"
        }
        // current_schema(): tests and multi-tenant set-ups use their own schema.
        Engine::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()
             ORDER BY table_name, column_name"
        }
    };
    db.conn().await?.query(sql, params![]).await
}

/// Refreshes the planner's statistics after a bulk load: PostgreSQL picks
/// hash joins over whole tables when it believes they are tiny, which made
/// a page of 25 work packages take 40 ms instead of 0.4 ms right after the
/// benchmark seed. SQLite gathers none by itself, and sampled statistics
/// (`PRAGMA optimize`, `analysis_limit`) took a column with one value in
/// 50,000 rows for a selective one and chose its index; a full `ANALYZE`
/// reads every index once (80 ms for 50,000 work packages).
pub async fn analyze(db: &Db) -> Result<()> {
    let sql = match db.engine() {
        Engine::Sqlite => "ANALYZE",
        Engine::Postgres => "ANALYZE",
    };
    db.conn().await?.batch(sql).await
}
