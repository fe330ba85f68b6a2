//! Projects: the list, the form to create one, and a project's overview.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use steward_domain::permission::Permission;
use steward_http::AppState;
use steward_services::projects::ProjectInput;
use steward_services::ServiceError;
use steward_storage::projects::ProjectFilter;
use steward_storage::work_packages::{Cond, Query as WpQuery};

use super::home::BY_NAME;
use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, Input, Nav};
use crate::session::Viewer;

const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<String>,
    archived: Option<String>,
    notice: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let text = super::search_text(q.q.as_deref());
    let archived = q.archived.as_deref() == Some("1");
    let requested = super::page_number(q.page.as_deref());
    let filter = ProjectFilter {
        active: Some(!archived),
        name_contains: (!text.is_empty()).then(|| text.clone()),
        ..ProjectFilter::default()
    };
    let (projects, total, page) = super::page_of(requested, PER_PAGE, |offset| {
        state
            .services
            .list_projects(&access, &filter, BY_NAME, PER_PAGE, offset)
    })
    .await?;
    let may_create = access.allowed_globally(Permission::AddProject);
    let main = html! {
        div.heading {
            h1 { @if archived { "Archived projects" } @else { "Projects" } }
            @if may_create {
                a.button.primary href="/projects/new" { "New project" }
            }
        }
        form.filters method="get" action="/projects" role="search" {
            div.field {
                label for="q" { "Name contains" }
                input #q name="q" type="search" value=(text);
            }
            div.field.check {
                input #archived name="archived" type="checkbox" value="1" checked[archived];
                label for="archived" { "Archived" }
            }
            button type="submit" { "Filter" }
        }
        @if projects.is_empty() {
            p.muted { "No projects." }
        } @else {
            ul.cards {
                @for p in &projects {
                    li.card {
                        h2 { a href=(format!("/projects/{}", p.identifier)) { (p.name) } }
                        p.muted {
                            code { (p.identifier) }
                            @if p.public { " · " span.badge { "public" } }
                            @if access.is_member(p.id) { " · " span.badge { "member" } }
                        }
                        @if !p.description.is_empty() {
                            p { (layout::excerpt(&p.description, 200)) }
                        }
                    }
                }
            }
        }
        (super::pager("/projects", &[("q", text.as_str()), ("archived", if archived { "1" } else { "" })], page, PER_PAGE, total))
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Projects",
        Nav::Projects,
        layout::notice(q.notice.as_deref()),
        main,
    ))
}

/// What the create form holds, and the messages per field.
#[derive(Default)]
struct NewProject {
    name: String,
    identifier: String,
    description: String,
    public: bool,
    errors: Vec<(&'static str, String)>,
}

impl NewProject {
    fn error(&self, attribute: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(a, _)| *a == attribute)
            .map(|(_, m)| m.as_str())
    }
}

fn new_form_page(viewer: &Viewer, status: StatusCode, f: &NewProject) -> Response {
    let name_err = f.error("name");
    let ident_err = f.error("identifier");
    let other: Vec<&str> = f
        .errors
        .iter()
        .filter(|(a, _)| !matches!(*a, "name" | "identifier"))
        .map(|(_, m)| m.as_str())
        .collect();
    let main = html! {
        section.narrow {
            h1 { "New project" }
            @for m in &other { div.alert role="alert" { (m) } }
            form.stack method="post" action="/projects" novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (Input::new("name", "Name", &f.name).required().maxlength(255).error(name_err))
                (Input::new("identifier", "Identifier", &f.identifier)
                    .maxlength(100)
                    .help("Used in URLs: lower-case letters, digits, - and _. Made from the name when left empty.")
                    .error(ident_err))
                div.field {
                    label for="description" { "Description" }
                    textarea #description name="description" rows="5" { (f.description) }
                }
                div.field.check {
                    input #public name="public" type="checkbox" value="1" checked[f.public];
                    label for="public" { "Public (every signed-in user can see it)" }
                }
                div.actions {
                    button.primary type="submit" { "Create project" }
                    a href="/projects" { "Cancel" }
                }
            }
        }
    };
    viewer.page(status, "New project", Nav::Projects, None, main)
}

pub async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    if !access.allowed_globally(Permission::AddProject) {
        return Err(WebError::Forbidden(
            "You are not allowed to create projects.".into(),
        ));
    }
    Ok(new_form_page(
        &viewer,
        StatusCode::OK,
        &NewProject::default(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let mut f = NewProject {
        name: form.text("name"),
        identifier: form.text("identifier").trim().to_string(),
        description: form.text("description"),
        public: form.checked("public"),
        errors: Vec::new(),
    };
    let input = ProjectInput {
        identifier: (!f.identifier.is_empty()).then(|| f.identifier.clone()),
        name: Some(f.name.clone()),
        description: Some(f.description.clone()),
        public: Some(f.public),
        ..ProjectInput::default()
    };
    match state.services.create_project(&access, input).await {
        Ok(p) => Ok(layout::see_other(&format!(
            "/projects/{}?notice=project_created",
            p.identifier
        ))),
        Err(ServiceError::Invalid(v)) => {
            f.errors
                .extend(v.into_iter().map(|e| (e.attribute, e.message)));
            Ok(new_form_page(&viewer, StatusCode::UNPROCESSABLE_ENTITY, &f))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    let can_view_wps = access.allowed(&project, Permission::ViewWorkPackages);
    let may_edit = access.allowed(&project, Permission::EditProject);
    let rendering = viewer.rendering(&state).await?;
    let counts: Option<(i64, i64)> = if can_view_wps {
        let count = |open: bool| WpQuery {
            conds: vec![
                Cond::StatusOpen(open),
                Cond::IdIn {
                    col: steward_storage::work_packages::IdColumn::Project,
                    ids: vec![project.id],
                    negate: false,
                },
            ],
            ..WpQuery::default()
        };
        let (_, open) = state
            .services
            .list_work_packages(&access, count(true), 1, 0)
            .await?;
        let (_, closed) = state
            .services
            .list_work_packages(&access, count(false), 1, 0)
            .await?;
        Some((open, closed))
    } else {
        None
    };
    let main = html! {
        div.heading {
            h1 { (project.name) }
            p.muted {
                code { (project.identifier) }
                @if project.public { " · " span.badge { "public" } }
                @if !project.active { " · " span.badge.warn { "archived" } }
            }
        }
        div.grid {
            section.card aria-labelledby="about" {
                h2 #about { "About" }
                @if project.description.is_empty() {
                    p.muted { "No description." }
                } @else {
                    div.prose { (layout::markdown(&project.description, rendering)) }
                }
            }
            @if let Some((open, closed)) = counts {
                section.card aria-labelledby="wps" {
                    h2 #wps { "Work packages" }
                    p { (open) " open · " (closed) " closed" }
                    p { a href=(format!("/projects/{}/work_packages", project.identifier)) { "Show the work packages" } }
                }
            }
            section.card aria-labelledby="members" {
                h2 #members { "Members" }
                p { a href=(format!("/projects/{}/members", project.identifier)) { "Members and roles" } }
                @if may_edit {
                    p { a href=(format!("/projects/{}/settings", project.identifier)) { "Settings" } }
                }
            }
            section.card aria-labelledby="modules" {
                h2 #modules { "Modules" }
                (modules(&project.modules))
            }
        }
    };
    Ok(layout::with_text_images(
        viewer.page(
            StatusCode::OK,
            &project.name,
            Nav::Projects,
            layout::notice(q.notice.as_deref()),
            main,
        ),
        rendering,
    ))
}

fn modules(list: &[String]) -> Markup {
    html! {
        @if list.is_empty() {
            p.muted { "None enabled." }
        } @else {
            ul.plain { @for m in list { li { (m.replace('_', " ")) } } }
        }
    }
}
