//! Storage: the only crate that speaks SQL.
//!
//! Callers ask for named operations (`users::find_by_login`), never build
//! SQL. Each statement is written once, with PostgreSQL-style `$n`
//! placeholders, and handed to one small executor per engine: rusqlite
//! (behind `spawn_blocking`) for the embedded SQLite default and
//! tokio-postgres with prepared statements for PostgreSQL. Where the engines
//! differ, the function that must care branches on [`Engine`] and says why.
//! See docs/adr/0001-database-layer.md.

pub mod api_tokens;
pub mod audit_events;
pub mod bulk;
pub mod custom_fields;
mod db;
pub mod erasure;
pub mod erasure_certificates;
pub mod gdpr_exports;
pub mod groups;
pub mod jobs;
pub mod journals;
pub mod login_attempts;
pub mod lookups;
pub mod members;
pub mod migrate;
pub mod personal_data;
mod postgres;
pub mod principals;
pub mod projects;
pub mod redactions;
pub mod retention;
pub mod roles;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod settings;
mod sqlite;
pub mod text_index;
pub mod users;
pub mod work_packages;

pub use db::{redact_url, Conn, Db, DbOptions, Engine, FromRow, Param, Row, StorageError};
