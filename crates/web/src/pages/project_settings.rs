//! A project's settings: name, description, public flag and modules, and
//! archiving (and, for administrators, unarchiving). `Access` decides, in
//! `update_project`, exactly as for the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use steward_domain::permission::{Permission, MODULES};
use steward_domain::project::Project;
use steward_domain::ValidationErrors;
use steward_http::AppState;
use steward_services::authz::Access;
use steward_services::projects::ProjectInput;
use steward_services::ServiceError;

use crate::error::WebError;
use crate::forms::{Form, Path};
use crate::layout::{self, general_messages, Input, Nav};
use crate::session::Viewer;

struct Values {
    name: String,
    description: String,
    public: bool,
    modules: Vec<String>,
}

fn render(
    viewer: &Viewer,
    access: &Access,
    project: &Project,
    v: &Values,
    status: StatusCode,
    errors: &ValidationErrors,
) -> Result<Response, WebError> {
    if !access.allowed(project, Permission::EditProject) {
        return Err(WebError::Forbidden(
            "You are not allowed to change this project's settings.".into(),
        ));
    }
    let may_archive = project.active && access.allowed(project, Permission::ArchiveProject);
    let may_unarchive = !project.active && access.is_admin();
    let name_err = errors.message_for("name");
    let general = general_messages(errors, |a| a == "name");
    let main = html! {
        p.crumbs { a href=(format!("/projects/{}", project.identifier)) { (project.name) } }
        h1 { "Project settings" }
        section.narrow {
            (layout::alert_list(&general))
            form.stack method="post" action=(format!("/projects/{}/settings", project.identifier)) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (Input::new("name", "Name", &v.name).required().maxlength(255).error(name_err))
                div.field {
                    label for="description" { "Description" }
                    textarea #description name="description" rows="5" { (v.description) }
                }
                div.field.check {
                    input #public name="public" type="checkbox" value="1" checked[v.public];
                    label for="public" { "Public (every signed-in user can see it)" }
                }
                fieldset {
                    legend { "Modules" }
                    @for m in MODULES {
                        div.field.check {
                            input id=(format!("module-{m}")) name="module" type="checkbox" value=(m) checked[v.modules.iter().any(|x| x == m)];
                            label for=(format!("module-{m}")) { (m.replace('_', " ")) }
                        }
                    }
                }
                button.primary type="submit" { "Save" }
            }
            @if may_archive {
                h2 { "Archive" }
                p { "An archived project is closed to everyone but administrators; nothing in it is deleted." }
                form.inline method="post" action=(format!("/projects/{}/archive", project.identifier)) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button.danger type="submit" data-confirm=(format!("Archive {}?", project.name)) { "Archive this project" }
                }
            }
            @if may_unarchive {
                h2 { "Archived" }
                form.inline method="post" action=(format!("/projects/{}/unarchive", project.identifier)) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button type="submit" { "Unarchive this project" }
                }
            }
        }
    };
    Ok(viewer.page(
        status,
        &format!("Settings · {}", project.name),
        Nav::Projects,
        None,
        main,
    ))
}

pub async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let p = state.services.project(&access, &id).await?;
    let v = Values {
        name: p.name.clone(),
        description: p.description.clone(),
        public: p.public,
        modules: p.modules.clone(),
    };
    render(
        &viewer,
        &access,
        &p,
        &v,
        StatusCode::OK,
        &ValidationErrors::new(),
    )
}

pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let p = state.services.project(&access, &id).await?;
    let v = Values {
        name: form.text("name"),
        description: form.text("description"),
        public: form.checked("public"),
        modules: form.all("module").map(str::to_string).collect(),
    };
    let input = ProjectInput {
        name: Some(v.name.clone()),
        description: Some(v.description.clone()),
        public: Some(v.public),
        modules: Some(v.modules.clone()),
        ..ProjectInput::default()
    };
    match state.services.update_project(&access, &id, input).await {
        Ok(p) => Ok(layout::see_other(&format!(
            "/projects/{}?notice=project_saved",
            p.identifier
        ))),
        Err(ServiceError::Invalid(e)) => render(
            &viewer,
            &access,
            &p,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            &e,
        ),
        Err(e) => Err(e.into()),
    }
}

async fn set_active(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    form: &Form,
    active: bool,
) -> Result<Response, WebError> {
    viewer.check_csrf(form)?;
    let access = viewer.access(state).await?;
    let input = ProjectInput {
        active: Some(active),
        ..ProjectInput::default()
    };
    let p = state.services.update_project(&access, id, input).await?;
    Ok(layout::see_other(&if active {
        format!("/projects/{}?notice=project_unarchived", p.identifier)
    } else {
        "/projects?notice=project_archived".to_string()
    }))
}

pub async fn archive(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    set_active(&state, &viewer, &id, &form, false).await
}

pub async fn unarchive(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    set_active(&state, &viewer, &id, &form, true).await
}
