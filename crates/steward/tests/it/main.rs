//! Steward's integration tests: a real server on a real port, driven over
//! HTTP, on SQLite and — when STEWARD_TEST_POSTGRES_URL is set — on
//! PostgreSQL, each test in a fresh database or schema. A test whose
//! engine or outside tool is missing here is reported as ignored, with
//! what to set as the reason (crates/steward/build.rs).

#[macro_use]
mod harness;

mod activities_api;
mod admin_lookups_api;
mod audit_api;
mod auth;
mod bad_input;
mod cli;
mod concurrency;
mod custom_fields_api;
mod erasure_registry;
mod filter_spellings;
mod gdpr_erasure;
mod gdpr_export;
mod gdpr_rectification;
mod groups_api;
mod heavy_user;
mod internal_errors;
mod jobs;
mod long_work;
mod memberships_api;
mod migration_checksums;
mod openapi;
mod permission_matrix;
mod projects_api;
mod pyopenproject;
mod request_log;
mod request_log_index;
mod schema_registry;
mod search;
mod seed;
mod server_limits;
mod server_log;
mod session_limits;
mod storage;
mod text_index;
mod texts;
mod users_api;
mod web_admin;
mod web_admin_gdpr;
mod web_admin_lookups;
mod web_admin_roles;
mod web_browser;
mod web_page_flows;
mod web_pages;
mod web_work_packages;
mod work_packages_api;
