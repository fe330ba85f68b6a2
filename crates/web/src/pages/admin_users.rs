//! Administration of accounts: the list, creating a user, a user's page
//! (rectification, locking) and erasure with its certificate. Only
//! administrators reach these pages (`AdminViewer`), as only they reach
//! the API's user administration; the services do the work and keep the
//! guards (the last administrator, the deletion settings).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, Render};
use steward_domain::user::{User, UserStatus};
use steward_domain::{ValidationError, ValidationErrors};
use steward_http::AppState;
use steward_services::accounts::{CreateUser, UpdateUser};
use steward_services::ServiceError;
use steward_storage::users::{UserFilter, UserSort};

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, general_messages, Input, Nav};
use crate::pages::{
    admin_menu, page_number, page_of, pager, path_id, refusal, NoticeQuery, PageQuery,
};
use crate::session::{AdminViewer, Viewer};

const PER_PAGE: i64 = 25;

pub async fn list(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let (filter, sort) = (UserFilter::default(), [(UserSort::Login, false)]);
    let (users, total, page) = page_of(page_number(q.page.as_deref()), PER_PAGE, |offset| {
        state.services.list_users(&filter, &sort, PER_PAGE, offset)
    })
    .await?;
    let main = html! {
        (admin_menu("/admin/users"))
        h1 { "Users" }
        p { a.button href="/admin/users/new" { "New user" } }
        div.table-wrap {
            table.list {
                thead { tr {
                    th scope="col" { "Login" }
                    th scope="col" { "Name" }
                    th scope="col" { "Email" }
                    th scope="col" { "Status" }
                    th scope="col" { "Administrator" }
                } }
                tbody {
                    @for u in &users {
                        tr {
                            td { a href=(format!("/admin/users/{}", u.id)) { (u.login) } }
                            td { (u.name()) }
                            td { (u.email.as_deref().unwrap_or("")) }
                            td { (u.status.as_str()) }
                            td { @if u.admin { "yes" } @else { "no" } }
                        }
                    }
                }
            }
        }
        (pager("/admin/users", &[], page, PER_PAGE, total))
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Users",
        Nav::Admin,
        layout::notice(q.notice.as_deref()),
        main,
    ))
}

/// What was typed into the new-user form, to show it again with messages.
#[derive(Default)]
struct NewValues {
    login: String,
    firstname: String,
    lastname: String,
    email: String,
    admin: bool,
}

/// One text field with its label and, when the service refused it, its
/// message (`attribute` is the service's name for the field).
fn text_field(
    id: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &ValidationErrors,
    attribute: &str,
) -> Markup {
    Input::new(id, label, value)
        .kind(kind)
        .error(errors.message_for(attribute))
        .render()
}

/// The service's names of the fields the forms show next to a field; any
/// other message is shown above the form.
const FIELD_ATTRIBUTES: &[&str] = &[
    "login",
    "firstName",
    "lastName",
    "email",
    "password",
    "language",
    "timeZone",
];

/// The messages above the form: those about no field of it.
fn general_errors(errors: &ValidationErrors) -> Markup {
    layout::alert_list(&general_messages(errors, |a| FIELD_ATTRIBUTES.contains(&a)))
}

fn render_new(
    viewer: &Viewer,
    v: &NewValues,
    status: StatusCode,
    errors: &ValidationErrors,
) -> Response {
    let main = html! {
        (admin_menu("/admin/users"))
        p.crumbs { a href="/admin/users" { "Users" } }
        h1 { "New user" }
        section.narrow {
            (general_errors(errors))
            form.stack method="post" action="/admin/users" novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (text_field("login", "Login", "text", &v.login, errors, "login"))
                (text_field("firstname", "First name", "text", &v.firstname, errors, "firstName"))
                (text_field("lastname", "Last name", "text", &v.lastname, errors, "lastName"))
                (text_field("email", "Email", "email", &v.email, errors, "email"))
                (text_field("password", "Password", "password", "", errors, "password"))
                p.muted { "The person can change it after signing in." }
                div.field.check {
                    input #admin name="admin" type="checkbox" value="1" checked[v.admin];
                    label for="admin" { "Administrator" }
                }
                button.primary type="submit" { "Create" }
            }
        }
    };
    viewer.page(status, "New user", Nav::Admin, None, main)
}

pub async fn new_form(AdminViewer(viewer): AdminViewer) -> Result<Response, WebError> {
    Ok(render_new(
        &viewer,
        &NewValues::default(),
        StatusCode::OK,
        &ValidationErrors::new(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let v = NewValues {
        login: form.text("login"),
        firstname: form.text("firstname"),
        lastname: form.text("lastname"),
        email: form.text("email"),
        admin: form.checked("admin"),
    };
    let input = CreateUser {
        login: Some(v.login.clone()),
        email: Some(v.email.clone()),
        firstname: Some(v.firstname.clone()),
        lastname: Some(v.lastname.clone()),
        admin: v.admin,
        status: Some("active".into()),
        password: Some(form.text("password")),
        ..CreateUser::default()
    };
    match state.services.create_user(input).await {
        Ok(u) => Ok(layout::see_other(&format!(
            "/admin/users/{}?notice=user_created",
            u.id
        ))),
        // A taken login or email is a message on the form, not an error page.
        Err(e) => {
            let (status, errors) = refusal(e)?;
            Ok(render_new(&viewer, &v, status, &errors))
        }
    }
}

/// What the edit form shows: the stored values, or what was typed.
struct EditValues {
    firstname: String,
    lastname: String,
    email: String,
    language: String,
    time_zone: String,
    admin: bool,
}

impl EditValues {
    fn of(u: &User) -> Self {
        EditValues {
            firstname: u.firstname.clone(),
            lastname: u.lastname.clone(),
            email: u.email.clone().unwrap_or_default(),
            language: u.language.clone(),
            time_zone: u.time_zone.clone(),
            admin: u.admin,
        }
    }
}

fn render_user(
    viewer: &Viewer,
    user: &User,
    v: &EditValues,
    status: StatusCode,
    errors: &ValidationErrors,
    notice: Option<&str>,
) -> Response {
    let base = format!("/admin/users/{}", user.id);
    let main = html! {
        (admin_menu("/admin/users"))
        p.crumbs { a href="/admin/users" { "Users" } }
        h1 { (user.name()) }
        dl.attrs {
            dt { "Login" } dd { (user.login) }
            dt { "Status" } dd { (user.status.as_str()) }
            dt { "Created" } dd { (viewer.time(user.created_at)) }
            dt { "Last sign-in" } dd {
                @if let Some(t) = user.last_login_at { (viewer.time(t)) } @else { "never" }
            }
        }
        section.narrow {
            h2 { "Details" }
            (general_errors(errors))
            form.stack method="post" action=(base) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (text_field("firstname", "First name", "text", &v.firstname, errors, "firstName"))
                (text_field("lastname", "Last name", "text", &v.lastname, errors, "lastName"))
                (text_field("email", "Email", "email", &v.email, errors, "email"))
                (text_field("language", "Language", "text", &v.language, errors, "language"))
                (text_field("time_zone", "Time zone", "text", &v.time_zone, errors, "timeZone"))
                div.field.check {
                    input #admin name="admin" type="checkbox" value="1" checked[v.admin];
                    label for="admin" { "Administrator" }
                }
                button.primary type="submit" { "Save" }
            }
            h2 { "Access" }
            @if user.status == UserStatus::Locked {
                p { "This account is locked: it cannot sign in." }
                form.inline method="post" action=(format!("{base}/unlock")) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button type="submit" { "Unlock" }
                }
            } @else {
                form.inline method="post" action=(format!("{base}/lock")) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button.danger type="submit" data-confirm=(format!("Lock {}?", user.login)) { "Lock" }
                }
            }
            h2 { "Erase" }
            p { "Erasing removes this person and every trace of them, and issues an erasure certificate." }
            p { a.button.danger href=(format!("{base}/erase")) { "Erase this user…" } }
        }
    };
    viewer.page(status, &user.name(), Nav::Admin, notice, main)
}

pub async fn show(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let user = state.services.user(path_id(&id)?).await?;
    Ok(render_user(
        &viewer,
        &user,
        &EditValues::of(&user),
        StatusCode::OK,
        &ValidationErrors::new(),
        layout::notice(q.notice.as_deref()),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = path_id(&id)?;
    let user = state.services.user(id).await?;
    let v = EditValues {
        firstname: form.text("firstname"),
        lastname: form.text("lastname"),
        email: form.text("email"),
        language: form.text("language"),
        time_zone: form.text("time_zone"),
        admin: form.checked("admin"),
    };
    let input = UpdateUser {
        firstname: Some(v.firstname.clone()),
        lastname: Some(v.lastname.clone()),
        // An account without an email keeps none when the field stays empty.
        email: (user.email.is_some() || !v.email.trim().is_empty()).then(|| v.email.clone()),
        language: Some(v.language.clone()),
        time_zone: Some(v.time_zone.clone()),
        admin: Some(v.admin),
        ..UpdateUser::default()
    };
    match state.services.update_user(id, input).await {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/users/{id}?notice=user_saved"
        ))),
        // The last administrator, a taken email: the form again, with why.
        Err(e) => {
            let (status, errors) = refusal(e)?;
            Ok(render_user(&viewer, &user, &v, status, &errors, None))
        }
    }
}

async fn set_locked(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    form: &Form,
    lock: bool,
) -> Result<Response, WebError> {
    viewer.check_csrf(form)?;
    let id = path_id(id)?;
    let result = if lock {
        state.services.lock_user(id).await
    } else {
        state.services.unlock_user(id).await
    };
    match result {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/users/{id}?notice={}",
            if lock { "user_locked" } else { "user_unlocked" }
        ))),
        // Locking the last administrator is refused: say so on the page.
        Err(ServiceError::Conflict(m)) => {
            let user = state.services.user(id).await?;
            Ok(render_user(
                viewer,
                &user,
                &EditValues::of(&user),
                StatusCode::CONFLICT,
                &ValidationError::new("", m).into(),
                None,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn lock(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    set_locked(&state, &viewer, &id, &form, true).await
}

pub async fn unlock(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    set_locked(&state, &viewer, &id, &form, false).await
}

/// A guard's refusal to erase (the last administrator, erasure switched
/// off) as its message; any other error is an error page.
fn guarded<T>(r: Result<T, ServiceError>) -> Result<Result<T, String>, WebError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(ServiceError::Conflict(m) | ServiceError::Forbidden(m)) => Ok(Err(m)),
        Err(e) => Err(e.into()),
    }
}

/// The confirmation page: what erasure would change, and a field for the
/// login so that a person is never erased by a slip of the mouse. When a
/// guard refuses (the last administrator, erasure switched off) the page
/// says why instead of offering the form.
async fn render_erase(
    state: &AppState,
    viewer: &Viewer,
    user: &User,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let preview = guarded(state.services.erasure_preview(user.id).await)?;
    let refusal = match &preview {
        Err(m) => Some(m.clone()),
        Ok(_) => guarded(
            state
                .services
                .erasure_requester(&viewer.user, user.id)
                .await,
        )?
        .err(),
    };
    let preview = preview.ok();
    let base = format!("/admin/users/{}", user.id);
    let main = html! {
        (admin_menu("/admin/users"))
        p.crumbs { a href="/admin/users" { "Users" } " › " a href=(base) { (user.login) } }
        h1 { "Erase " (user.name()) }
        @if let Some(m) = error { div.alert role="alert" { (m) } }
        @if let Some(m) = &refusal { div.alert role="alert" { (m) } }
        @if let Some(p) = &preview {
            h2 { "What erasure changes" }
            div.table-wrap {
                table.list {
                    thead { tr {
                        th scope="col" { "Table" }
                        th scope="col" { "Column" }
                        th scope="col" { "Action" }
                        th scope="col" { "Rows" }
                    } }
                    tbody {
                        @for c in &p.changes {
                            tr { td { (c.table) } td { (c.column) } td { (c.action) } td { (c.rows) } }
                        }
                    }
                }
            }
            ul {
                li { "Texts whose @-mentions of this person will name the \"Deleted user\": " (p.mentions_in_text) "." }
                li { "Texts that still name this person in other words, queued for you to review in the redaction queue: " (p.texts_for_review) "." }
                li { "Their own comments, changes and work packages stay, attributed to the \"Deleted user\": " (p.own_contributions) "." }
            }
        }
        @if refusal.is_none() {
            section.narrow {
                form.stack method="post" action=(format!("{base}/erase")) novalidate {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    div.field {
                        label for="confirm_login" { "Type the login " code { (user.login) } " to confirm" }
                        input #confirm_login name="confirm_login" type="text" autocomplete="off"
                            aria-invalid=[error.map(|_| "true")];
                    }
                    button.danger type="submit" { "Erase permanently" }
                }
            }
        }
    };
    Ok(viewer.page(
        status,
        &format!("Erase {}", user.login),
        Nav::Admin,
        None,
        main,
    ))
}

pub async fn erase_form(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let user = state.services.user(path_id(&id)?).await?;
    render_erase(&state, &viewer, &user, StatusCode::OK, None).await
}

pub async fn erase(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let user = state.services.user(path_id(&id)?).await?;
    if form.text("confirm_login").trim() != user.login {
        return render_erase(
            &state,
            &viewer,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("The login you typed does not match; nothing was erased."),
        )
        .await;
    }
    let outcome = async {
        let requester = state
            .services
            .erasure_requester(&viewer.user, user.id)
            .await?;
        state.services.erase_user(user.id, requester).await
    }
    .await;
    match guarded(outcome)? {
        Ok(o) => Ok(layout::see_other(&format!(
            "/admin/erasures/{}",
            o.certificate_id
        ))),
        Err(m) => render_erase(&state, &viewer, &user, StatusCode::CONFLICT, Some(&m)).await,
    }
}

/// An erasure certificate as the text the CLI prints, to keep or print.
pub async fn certificate(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = path_id(&id)?;
    let doc = state.services.erasure_certificate(id).await?;
    let main = html! {
        (admin_menu("/admin/users"))
        h1 { "Erasure certificate No. " (doc.certificate_id) }
        p { "The person was erased. Keep this certificate as proof; it names nobody." }
        pre.certificate { (doc.to_text()) }
        p { a href="/admin/users" { "Back to the users" } }
    };
    Ok(viewer.page(
        StatusCode::OK,
        &format!("Erasure certificate {}", doc.certificate_id),
        Nav::Admin,
        None,
        main,
    ))
}
