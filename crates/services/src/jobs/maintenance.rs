//! Keeping the database's query planner informed. SQLite, unlike
//! PostgreSQL's autovacuum, never gathers statistics by itself; without
//! them it may prefer a project's index and sort every work package of the
//! project over walking the `updated_at` index and stopping after a page.

use crate::Services;

pub const STATISTICS: &str = "database.statistics";
pub const STATISTICS_SCHEDULE: &str = "daily 04:10";

/// `ANALYZE` on both engines (see `steward_storage::schema::analyze`).
pub(crate) async fn statistics(s: Services, _: serde_json::Value) -> Result<(), String> {
    steward_storage::schema::analyze(&s.db)
        .await
        .map_err(|e| format!("refreshing the planner's statistics failed: {e}"))?;
    tracing::info!("database statistics refreshed");
    Ok(())
}
