//! What the two front-ends, the API (`steward-api`) and the web pages
//! (`steward-web`), share over the services: the application state, the
//! layers every request passes through (path normalisation, request id,
//! panic guard, request log), the session cookie, where a request comes
//! from, the error document the shared layers answer with, and Markdown.
//!
//! Neither front-end depends on the other; the binary puts them side by
//! side with [`app`].

pub mod client;
pub mod cookies;
pub mod error_document;
pub mod markdown;
pub mod middleware;
pub mod request_log;

use std::sync::Arc;

use axum::extract::Request;
use axum::Router;
use steward_services::Services;
use tower::util::MapRequestLayer;
use tower::Layer;

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

/// What every handler of either front-end can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub http: Arc<HttpConfig>,
}

/// The complete HTTP service over the given routes: paths are normalised
/// before routing, and every request (including those no route serves,
/// which `fallback` answers, and those with a method a route does not
/// take, which `method_not_allowed` answers) gets a request id, the panic
/// guard and its request-log line.
pub fn app<F, TF, M, TM>(
    state: AppState,
    routes: Router<AppState>,
    fallback: F,
    method_not_allowed: M,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static
where
    F: axum::handler::Handler<TF, AppState>,
    TF: 'static,
    M: axum::handler::Handler<TM, AppState>,
    TM: 'static,
{
    let router = routes
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state);
    MapRequestLayer::new(middleware::normalize_path).layer(router)
}
