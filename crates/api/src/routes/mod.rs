//! Routes, one file per resource.

pub mod health;
pub mod my;
pub mod root;
pub mod users;
pub mod work_packages;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

pub fn api_v3() -> Router<AppState> {
    Router::new()
        .route("/", get(root::root))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::show).patch(users::update))
        .route("/users/{id}/lock", post(users::lock).delete(users::unlock))
        .route(
            "/my/session",
            get(my::current_session)
                .post(my::sign_in)
                .delete(my::sign_out),
        )
        .route(
            "/work_packages",
            get(work_packages::list).post(work_packages::create),
        )
        .route(
            "/work_packages/{id}",
            get(work_packages::show)
                .patch(work_packages::update)
                .delete(work_packages::delete),
        )
        .route(
            "/projects/{id}/work_packages",
            get(work_packages::list_for_project).post(work_packages::create_in_project),
        )
        .route("/my/sessions", get(my::list_sessions))
        .route("/my/sessions/{id}", delete(my::revoke_session))
        .route("/my/password", post(my::change_password))
        .route(
            "/my/api_tokens",
            get(my::list_tokens).post(my::create_token),
        )
        .route("/my/api_tokens/{id}", delete(my::revoke_token))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("This method is not allowed on this resource.".into())
}
