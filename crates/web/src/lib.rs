//! The web UI: server-rendered HTML pages for the team and the data
//! controller, beside the API. Templates are Rust code (maud), escaped by
//! default and compiled into the binary together with the stylesheet and
//! the little JavaScript the pages use, so there is no front-end build step
//! and no file to install.
//!
//! Every action goes through `steward_services` (never SQL here) and asks
//! `Access` for permissions exactly as the API does. Pages use the same
//! session cookie as the API (`steward_http::cookies`); forms carry the session's CSRF token in a hidden field.

mod assets;
mod error;
mod flash;
mod forms;
mod layout;
mod pages;
mod session;

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use steward_http::AppState;

pub use error::{answers_not_found, not_found_page};

/// No inline script or style, nothing from elsewhere: a page can only load
/// Steward's own stylesheet and script, submit forms to Steward and never
/// be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The policy of pages that show texts while the instance lets texts show
/// images from other hosts (see `steward_services::text_settings`): the
/// same, with images from anywhere.
pub const CONTENT_SECURITY_POLICY_REMOTE_IMAGES: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: https: http:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The pages and their assets, to be merged beside `/api/v3` and `/health`.
pub fn router() -> Router<AppState> {
    use pages::{
        account, admin_audit, admin_gdpr, admin_jobs, admin_lookups, admin_roles, admin_scan,
        admin_settings, admin_users, auth, data, home, members, project_settings, projects, search,
        work_packages, wp_form,
    };
    use steward_storage::lookups::{Priority, Status, WpType};
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/new", get(projects::new_form))
        .route("/projects/{id}", get(projects::show))
        .route(
            "/projects/{id}/settings",
            get(project_settings::form).post(project_settings::save),
        )
        .route("/projects/{id}/archive", post(project_settings::archive))
        .route(
            "/projects/{id}/unarchive",
            post(project_settings::unarchive),
        )
        .route(
            "/projects/{id}/members",
            get(members::list).post(members::add),
        )
        .route(
            "/projects/{id}/members/{membership}/delete",
            post(members::remove),
        )
        .route(
            "/projects/{id}/members/{membership}/roles",
            post(members::set_roles),
        )
        .route(
            "/projects/{id}/work_packages",
            get(work_packages::list_in_project).post(wp_form::create),
        )
        .route("/projects/{id}/work_packages/new", get(wp_form::new_form))
        .route(
            "/work_packages/{id}/edit",
            get(wp_form::edit_form).post(wp_form::update),
        )
        .route("/search", get(search::search))
        .route("/work_packages", get(work_packages::list))
        .route("/work_packages/{id}", get(work_packages::show))
        .route(
            "/work_packages/{id}/mentionable",
            get(work_packages::mentionable),
        )
        .route("/work_packages/{id}/comments", post(work_packages::comment))
        .route(
            "/my/account",
            get(account::profile).post(account::update_profile),
        )
        .route(
            "/my/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/my/sessions", get(account::sessions))
        .route("/my/sessions/{id}/revoke", post(account::revoke_session))
        .route("/my/sessions/end_others", post(account::end_other_sessions))
        .route(
            "/my/tokens",
            get(account::tokens).post(account::create_token),
        )
        .route("/my/tokens/{id}/revoke", post(account::revoke_token))
        .route("/my/data", get(data::data).post(data::request_export))
        .route(
            "/my/delete",
            get(data::delete_form).post(data::delete_account),
        )
        .route(
            "/admin/users",
            get(admin_users::list).post(admin_users::create),
        )
        .route("/admin/users/new", get(admin_users::new_form))
        .route(
            "/admin/users/{id}",
            get(admin_users::show).post(admin_users::update),
        )
        .route("/admin/users/{id}/lock", post(admin_users::lock))
        .route("/admin/users/{id}/unlock", post(admin_users::unlock))
        .route(
            "/admin/users/{id}/erase",
            get(admin_users::erase_form).post(admin_users::erase),
        )
        .route("/admin/erasures/{id}", get(admin_users::certificate))
        .route(
            "/admin/settings",
            get(admin_settings::form).post(admin_settings::save),
        )
        .route("/admin/gdpr/record", get(admin_gdpr::record))
        .route("/admin/gdpr/redactions", get(admin_gdpr::queue))
        .route("/admin/gdpr/redactions/{id}", get(admin_gdpr::entry))
        .route(
            "/admin/gdpr/redactions/{id}/redact",
            post(admin_gdpr::redact),
        )
        .route(
            "/admin/gdpr/redactions/{id}/dismiss",
            post(admin_gdpr::dismiss),
        )
        .route(
            "/admin/gdpr/scan",
            get(admin_scan::form).post(admin_scan::scan),
        )
        .route("/admin/audit", get(admin_audit::list))
        .route("/admin/jobs", get(admin_jobs::list))
        .route("/admin/jobs/{id}", get(admin_jobs::show))
        .route("/admin/jobs/{id}/retry", post(admin_jobs::retry))
        .merge(admin_lookups::routes::<WpType>())
        .merge(admin_lookups::routes::<Status>())
        .merge(admin_lookups::routes::<Priority>())
        .route(
            "/admin/roles",
            get(admin_roles::list).post(admin_roles::create),
        )
        .route("/admin/roles/new", get(admin_roles::new_form))
        .route(
            "/admin/roles/{id}",
            get(admin_roles::show).post(admin_roles::update),
        )
        .route("/admin/roles/{id}/delete", post(admin_roles::delete))
        .route("/assets/{name}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .layer(axum::Extension(flash::Flashes::default()))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers every page and asset carries. Pages hold personal data, so they
/// are not stored by caches unless the handler says otherwise (assets do).
/// A page that shows remote images sets its own, wider policy.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
