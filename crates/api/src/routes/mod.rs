//! Routes, one file per resource.

pub mod activities;
pub mod audit_events;
pub mod custom_fields;
pub mod gdpr;
pub mod gdpr_exports;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod memberships;
pub mod my;
pub mod principals;
pub mod priorities;
pub mod projects;
pub mod reference_tables;
pub mod roles;
pub mod root;
pub mod settings;
mod shared;
pub mod statuses;
pub mod types;
pub mod users;
pub mod versions;
pub mod work_package_forms;
pub mod work_packages;

use axum::http::{Method, Uri};
use axum::routing::{delete, get, post};
use axum::Router;
use steward_storage::lookups::{Priority, Status, WpType};

use crate::error::ApiError;
use crate::AppState;

pub fn api_v3() -> Router<AppState> {
    Router::new()
        .route("/", get(root::root))
        .route("/openapi.json", get(crate::openapi::serve))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::show)
                .patch(users::update)
                .delete(gdpr::delete_user),
        )
        .route("/users/{id}/erasure_preview", get(gdpr::erasure_preview))
        .route("/users/{id}/lock", post(users::lock).delete(users::unlock))
        .route(
            "/users/{id}/exports",
            get(gdpr_exports::list).post(gdpr_exports::create),
        )
        .route("/exports/{id}", get(gdpr_exports::show))
        .route("/exports/{id}/archive", get(gdpr_exports::archive))
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
        .route(
            "/work_packages/{id}/activities",
            get(activities::list).post(activities::create),
        )
        .route(
            "/activities/{id}",
            get(activities::show).patch(activities::update),
        )
        .route("/work_packages/form", post(work_package_forms::create_form))
        .route(
            "/work_packages/{id}/form",
            post(work_package_forms::update_form),
        )
        .route(
            "/projects/{id}/work_packages/form",
            post(work_package_forms::create_form_in_project),
        )
        .route(
            "/work_packages/schemas/{id}",
            get(work_package_forms::show_schema),
        )
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/form", post(projects::create_form))
        .route(
            "/projects/{id}",
            get(projects::show)
                .patch(projects::update)
                .delete(projects::delete),
        )
        .route("/projects/{id}/form", post(projects::update_form))
        .route("/projects/{id}/types", get(types::of_project))
        .route("/projects/{id}/versions", get(versions::of_project))
        .route(
            "/memberships",
            get(memberships::list).post(memberships::create),
        )
        .route(
            "/memberships/{id}",
            get(memberships::show)
                .patch(memberships::update)
                .delete(memberships::delete),
        )
        .route("/roles", get(roles::list))
        .route("/roles/{id}", get(roles::show))
        .route(
            "/statuses",
            get(reference_tables::list::<Status>).post(reference_tables::create::<Status>),
        )
        .route(
            "/statuses/{id}",
            get(reference_tables::show::<Status>)
                .patch(reference_tables::update::<Status>)
                .delete(reference_tables::delete::<Status>),
        )
        .route(
            "/types",
            get(reference_tables::list::<WpType>).post(reference_tables::create::<WpType>),
        )
        .route(
            "/types/{id}",
            get(reference_tables::show::<WpType>)
                .patch(reference_tables::update::<WpType>)
                .delete(reference_tables::delete::<WpType>),
        )
        .route(
            "/priorities",
            get(reference_tables::list::<Priority>).post(reference_tables::create::<Priority>),
        )
        .route(
            "/priorities/{id}",
            get(reference_tables::show::<Priority>)
                .patch(reference_tables::update::<Priority>)
                .delete(reference_tables::delete::<Priority>),
        )
        .route("/versions", post(versions::create))
        .route("/versions/{id}", get(versions::show))
        .route("/versions/{id}/projects", get(versions::projects))
        .route("/principals", get(principals::list))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::show)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/settings", get(settings::show).patch(settings::update))
        .route(
            "/my/sessions",
            get(my::list_sessions).delete(my::end_other_sessions),
        )
        .route("/my/sessions/{id}", delete(my::revoke_session))
        .route("/my/password", post(my::change_password))
        .route(
            "/my/api_tokens",
            get(my::list_tokens).post(my::create_token),
        )
        .route("/my/api_tokens/{id}", delete(my::revoke_token))
        .route(
            "/custom_fields",
            get(custom_fields::list).post(custom_fields::create),
        )
        .route(
            "/custom_fields/{id}",
            get(custom_fields::show)
                .patch(custom_fields::update)
                .delete(custom_fields::delete),
        )
        .route("/custom_options/{id}", get(custom_fields::show_option))
        .route("/audit_events", get(audit_events::list))
        .route("/audit_events/{id}", get(audit_events::show))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::show))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/gdpr/record", get(gdpr::record))
        .route(
            "/gdpr/erasures",
            get(gdpr::list_erasures).post(gdpr::create_erasure),
        )
        .route("/gdpr/erasures/{id}", get(gdpr::show_erasure))
        .route("/gdpr/erasures/{id}/text", get(gdpr::erasure_text))
        .route("/gdpr/scans", post(gdpr::scan))
        .route("/gdpr/redactions", get(gdpr::list_redactions))
        .route("/gdpr/redactions/{id}", get(gdpr::show_redaction))
        .route("/gdpr/redactions/{id}/redact", post(gdpr::redact))
        .route("/gdpr/redactions/{id}/dismiss", post(gdpr::dismiss))
}

/// No route serves this path: said apart from an unknown id on a known
/// route ("could not be found"), so that clients and tests can tell.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::NotFound(format!("There is no such endpoint: {method} {path}"))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("This method is not allowed on this resource.".into())
}
