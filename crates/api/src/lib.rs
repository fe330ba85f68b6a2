//! HTTP: the OpenProject API v3 (HAL+JSON) and Steward's own account
//! endpoints, health, and the layers every request passes through.

pub mod auth;
pub mod error;
pub mod extract;
pub mod filters;
pub mod hal;
pub mod markdown;
pub mod middleware;
pub mod openapi;
pub mod request_log;
mod routes;

use std::sync::Arc;

use axum::extract::Request;
use axum::routing::get;
use axum::Router;
use steward_services::Services;
use tower::util::MapRequestLayer;
use tower::Layer;

pub use error::ApiError;
pub use routes::not_found;

/// HTTP settings taken from the configuration.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub max_body_bytes: usize,
    pub cookie_name: String,
    /// Mark cookies `Secure` (the public URL is https, or configured so).
    pub secure_cookies: bool,
    /// This instance's settings as the record of processing reports them.
    pub record_context: Option<steward_domain::record::RecordContext>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 1024 * 1024,
            cookie_name: "steward_session".into(),
            secure_cookies: false,
            record_context: None,
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub http: Arc<HttpConfig>,
}

/// The routes with their layers, before path normalisation.
pub fn router(state: AppState) -> Router {
    with_pages(state, Router::new(), routes::not_found)
}

/// The API's routes plus other routes beside them (the web pages), which
/// then also pass through the request id, panic guard and request log.
/// `fallback` answers paths no route serves; it must leave `/api` and
/// `/health` to [`not_found`].
pub fn with_pages<H, T>(state: AppState, pages: Router<AppState>, fallback: H) -> Router
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    Router::new()
        .route("/health", get(routes::health::health))
        .nest("/api/v3", routes::api_v3())
        .merge(pages)
        .fallback(fallback)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state)
}

/// The complete HTTP service: paths are normalised before routing.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    MapRequestLayer::new(middleware::normalize_path).layer(router(state))
}

/// [`app`] with other routes beside the API (see [`with_pages`]).
pub fn app_with_pages<H, T>(
    state: AppState,
    pages: Router<AppState>,
    fallback: H,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    MapRequestLayer::new(middleware::normalize_path).layer(with_pages(state, pages, fallback))
}
