//! HTTP: the OpenProject API v3 (HAL+JSON) and Steward's own account
//! endpoints, and health. The layers every request passes through, the
//! application state and Markdown are shared with the web pages in
//! `steward-http`.

pub mod auth;
pub mod error;
pub mod extract;
pub mod filters;
pub mod hal;
pub mod openapi;
mod routes;

use axum::routing::get;
use axum::Router;

pub use error::ApiError;
pub use routes::{method_not_allowed, not_found};
pub use steward_http::{AppState, HttpConfig};

/// The API's routes: `/health` and everything under `/api/v3`. The binary
/// puts them beside the web pages and under the shared layers
/// ([`steward_http::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(routes::health::health))
        .nest("/api/v3", routes::api_v3())
}
