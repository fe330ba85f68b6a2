//! Creating and editing a work package: one form for both, filled from
//! the project's types, statuses, priorities, members and versions, with
//! times, % done, the parent and the custom fields (their inputs are in
//! `wp_custom_fields`). The services
//! validate; every message comes back next to its field, with what was
//! typed kept. An edit carries the lock version it started from, so a
//! change made meanwhile by someone else is not overwritten silently.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, Render};
use steward_domain::custom_field::{CustomField, Kind as CustomKind};
use steward_domain::date::{parse_duration_hours, Date};
use steward_domain::permission::Permission;
use steward_domain::project::Project;
use steward_domain::user::{PrincipalKind, User};
use steward_domain::{ValidationError, ValidationErrors};
use steward_http::AppState;
use steward_services::authz::Access;
use steward_services::custom_fields::CustomValueSet;
use steward_services::memberships::MembershipFilter;
use steward_services::work_packages::WorkPackageInput;
use steward_services::ServiceError;
use steward_storage::lookups::{Priority, Status, WpType};
use steward_storage::work_packages::WorkPackageRow;

use crate::error::WebError;
use crate::forms::{Form, Path};
use crate::layout::{self, described_by, field_error, general_messages, Input, Nav};
use crate::session::Viewer;

use super::wp_custom_fields;

/// The form's values as text, as typed or as stored. The attributes after
/// the dates are `None` when a form did not send them: they are then left
/// as they are rather than cleared.
#[derive(Default)]
struct Values {
    subject: String,
    description: String,
    type_id: String,
    status_id: String,
    priority_id: String,
    assignee: String,
    responsible: String,
    start_date: String,
    due_date: String,
    lock_version: String,
    estimated_time: Option<String>,
    remaining_time: Option<String>,
    done_ratio: Option<String>,
    version: Option<String>,
    parent: Option<String>,
    custom: wp_custom_fields::Typed,
}

/// Text for an input from an optional value.
fn shown<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// What an input shows of an attribute the form may not have sent.
fn typed(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

impl Values {
    fn from_form(form: &Form, fields: &[CustomField]) -> Values {
        let sent = |name: &str| form.get(name).map(str::to_string);
        Values {
            subject: form.text("subject"),
            description: form.text("description"),
            type_id: form.text("type"),
            status_id: form.text("status"),
            priority_id: form.text("priority"),
            assignee: form.text("assignee"),
            responsible: form.text("responsible"),
            start_date: form.text("start_date"),
            due_date: form.text("due_date"),
            lock_version: form.text("lock_version"),
            estimated_time: sent("estimated_time"),
            remaining_time: sent("remaining_time"),
            done_ratio: sent("done_ratio"),
            version: sent("version"),
            parent: sent("parent"),
            custom: wp_custom_fields::from_form(form, fields),
        }
    }

    fn from_stored(row: &WorkPackageRow, custom: &CustomValueSet) -> Values {
        let s = &row.wp.state;
        Values {
            subject: s.subject.clone(),
            description: s.description.clone(),
            type_id: s.type_id.to_string(),
            status_id: s.status_id.to_string(),
            priority_id: s.priority_id.to_string(),
            assignee: shown(s.assigned_to_id),
            responsible: shown(s.responsible_id),
            start_date: shown(s.start_date),
            due_date: shown(s.due_date),
            lock_version: row.wp.lock_version.to_string(),
            estimated_time: Some(shown(s.estimated_hours)),
            remaining_time: Some(shown(s.remaining_hours)),
            done_ratio: Some(shown(s.done_ratio)),
            version: Some(shown(s.version_id)),
            parent: Some(shown(s.parent_id)),
            custom: wp_custom_fields::stored(custom, row.wp.id),
        }
    }

    /// The input for the services, and the errors of the fields that are
    /// not even well-formed (a date that is no date, a % done that is no
    /// number), which the input then leaves alone.
    fn input(&self, fields: &[CustomField]) -> (WorkPackageInput, ValidationErrors) {
        let mut errors = ValidationErrors::new();
        let id = |s: &str| s.trim().parse::<i64>().ok();
        let date = |s: &str, attribute: &'static str, label: &str| {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            Date::parse(s).map(Some).ok_or_else(|| {
                ValidationError::new(attribute, format!("{label} must be a date (YYYY-MM-DD)."))
            })
        };
        let whole = |t: &str| t.parse::<i64>().ok();
        let reference = |t: &str| t.strip_prefix('#').unwrap_or(t).trim().parse::<i64>().ok();
        let input = WorkPackageInput {
            subject: Some(self.subject.clone()),
            description: Some(self.description.clone()),
            type_id: id(&self.type_id),
            status_id: id(&self.status_id),
            priority_id: id(&self.priority_id),
            assigned_to_id: Some(id(&self.assignee)),
            responsible_id: Some(id(&self.responsible)),
            start_date: errors.check(date(&self.start_date, "startDate", "Start date")),
            due_date: errors.check(date(&self.due_date, "dueDate", "Finish date")),
            estimated_hours: errors
                .check(optional(
                    &self.estimated_time,
                    "estimatedTime",
                    "Estimated time must be a number of hours, such as 2.5.",
                    hours,
                ))
                .flatten(),
            remaining_hours: errors
                .check(optional(
                    &self.remaining_time,
                    "remainingTime",
                    "Remaining time must be a number of hours, such as 2.5.",
                    hours,
                ))
                .flatten(),
            done_ratio: errors
                .check(optional(
                    &self.done_ratio,
                    "percentageDone",
                    "% done must be a whole number from 0 to 100.",
                    whole,
                ))
                .flatten(),
            version_id: errors
                .check(optional(
                    &self.version,
                    "version",
                    "Choose a version from the list.",
                    whole,
                ))
                .flatten(),
            parent_id: errors
                .check(optional(
                    &self.parent,
                    "parent",
                    "Parent must be the number of a work package, such as 12.",
                    reference,
                ))
                .flatten(),
            custom_fields: wp_custom_fields::input(&self.custom, fields),
            ..WorkPackageInput::default()
        };
        (input, errors)
    }
}

/// An attribute the form may not have sent: not sent leaves it as it is,
/// blank clears it, anything else must parse.
fn optional<T>(
    raw: &Option<String>,
    attribute: &'static str,
    message: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Option<T>>, ValidationError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(t) => parse(t)
            .map(|v| Some(Some(v)))
            .ok_or_else(|| ValidationError::new(attribute, message)),
    }
}

/// Hours as a plain number (`2.5`, or `2,5`), or an ISO 8601 duration
/// (`PT2H30M`), the form the API takes.
fn hours(t: &str) -> Option<f64> {
    let plain = t.replace(',', ".");
    let number = plain
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let parsed = if number {
        plain.parse::<f64>().ok()
    } else {
        parse_duration_hours(&t.to_ascii_uppercase())
    };
    parsed.filter(|h| h.is_finite())
}

/// Where the form posts to and what it is called.
enum Target<'a> {
    New(&'a Project),
    Edit { id: i64, project: &'a Project },
}

/// The custom fields of work packages, which every project and type has.
async fn custom_fields(state: &AppState) -> Result<Vec<CustomField>, WebError> {
    Ok(state
        .services
        .custom_values(CustomKind::WorkPackage, &[])
        .await?
        .fields)
}

/// The attributes with an input of their own; a message about any other
/// is shown above the form.
const ATTRIBUTES: &[&str] = &[
    "subject",
    "description",
    "type",
    "status",
    "priority",
    "assignee",
    "responsible",
    "startDate",
    "dueDate",
    "estimatedTime",
    "remainingTime",
    "percentageDone",
    "version",
    "parent",
];

/// A one-line input with its label, help and message.
fn text_input(
    id: &str,
    name: &str,
    label: &str,
    value: &str,
    mode: Option<&str>,
    help: &str,
    error: Option<&str>,
) -> Markup {
    Input::new(id, label, value)
        .name(name)
        .inputmode(mode)
        .help(help)
        .error(error)
        .render()
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    access: &Access,
    target: Target<'_>,
    v: &Values,
    status: StatusCode,
    errors: &ValidationErrors,
) -> Result<Response, WebError> {
    // The form itself is refused to whoever may not use it: typing into a
    // form whose save is then refused loses the input.
    let (project, permission, refusal) = match &target {
        Target::New(p) => (
            *p,
            Permission::AddWorkPackages,
            "You are not allowed to add work packages to this project.",
        ),
        Target::Edit { project, .. } => (
            *project,
            Permission::EditWorkPackages,
            "You are not allowed to edit this work package.",
        ),
    };
    if !access.allowed(project, permission) {
        return Err(WebError::Forbidden(refusal.into()));
    }
    let types = state.services.list_reference::<WpType>().await?;
    let statuses = state.services.list_reference::<Status>().await?;
    let priorities = state.services.list_reference::<Priority>().await?;
    let fields = custom_fields(state).await?;
    let versions = match state
        .services
        .project_versions(access, &project.identifier)
        .await
    {
        Ok((_, versions)) => versions,
        // Someone who may add work packages but not see the versions gets none to choose.
        Err(ServiceError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let filter = MembershipFilter {
        project_ids: Some(vec![project.id]),
        principal_id: None,
    };
    let (members, _) = state
        .services
        .list_memberships(access, &filter, 500, 0)
        .await?;
    let people: Vec<&User> = members.iter().map(|m| &m.principal).collect();
    let err = |a: &str| errors.message_for(a);
    let general = general_messages(errors, |a| {
        ATTRIBUTES.contains(&a) || wp_custom_fields::is_field_attribute(a, &fields)
    });
    let (title, action, submit) = match &target {
        Target::New(p) => (
            format!("New work package · {}", p.name),
            format!("/projects/{}/work_packages", p.identifier),
            "Create",
        ),
        Target::Edit { id, .. } => (
            format!("Edit #{id}"),
            format!("/work_packages/{id}/edit"),
            "Save",
        ),
    };
    let select = |name: &str,
                  label: &str,
                  current: &str,
                  options: Vec<(String, String)>,
                  blank: Option<&str>| {
        let e = err(name);
        let id = format!("wp-{name}");
        html! {
            div.field {
                label for=(id) { (label) }
                select id=(id) name=(name) aria-invalid=[e.map(|_| "true")] aria-describedby=[described_by(&id, e)] {
                    @if let Some(b) = blank { option value="" selected[current.is_empty()] { (b) } }
                    @for (value, text) in &options {
                        option value=(value) selected[*value == current] { (text) }
                    }
                }
                (field_error(&id, e))
            }
        }
    };
    let person_options: Vec<(String, String)> = people
        .iter()
        .map(|p| (p.id.to_string(), p.name()))
        .collect();
    // Custom fields of the user format name people, never groups.
    let user_options: Vec<(String, String)> = people
        .iter()
        .filter(|p| p.kind == PrincipalKind::User)
        .map(|p| (p.id.to_string(), p.name()))
        .collect();
    let version_options: Vec<(String, String)> = versions
        .iter()
        .map(|ver| {
            let name = match ver.status.as_str() {
                "open" => ver.name.clone(),
                other => format!("{} ({other})", ver.name),
            };
            (ver.id.to_string(), name)
        })
        .collect();
    let done_error = err("percentageDone");
    let main = html! {
        p.crumbs {
            a href=(format!("/projects/{}", project.identifier)) { (project.name) }
            " › "
            a href=(format!("/projects/{}/work_packages", project.identifier)) { "Work packages" }
        }
        h1 { (title) }
        (layout::alert_list(&general))
        form.stack.wp-form method="post" action=(action) novalidate {
            input type="hidden" name="csrf_token" value=(viewer.csrf());
            @if let Target::Edit { .. } = target {
                input type="hidden" name="lock_version" value=(v.lock_version);
            }
            div.field {
                label for="wp-subject" { "Subject" }
                input #wp-subject name="subject" type="text" value=(v.subject) required maxlength="255"
                    aria-invalid=[err("subject").map(|_| "true")] aria-describedby=[described_by("wp-subject", err("subject"))];
                (field_error("wp-subject", err("subject")))
            }
            div.field {
                label for="wp-description" { "Description" }
                textarea #wp-description name="description" rows="6" aria-describedby="wp-description-help" { (v.description) }
                p.help #wp-description-help { "Markdown works. Mention someone with @login." }
            }
            div.grid {
                (select("type", "Type", &v.type_id, types.iter().map(|t| (t.id.to_string(), t.name.clone())).collect(), None))
                (select("status", "Status", &v.status_id, statuses.iter().map(|s| (s.id.to_string(), s.name.clone())).collect(), None))
                (select("priority", "Priority", &v.priority_id, priorities.iter().filter(|p| p.active).map(|p| (p.id.to_string(), p.name.clone())).collect(), None))
                (select("assignee", "Assignee", &v.assignee, person_options.clone(), Some("Nobody")))
                (select("responsible", "Accountable", &v.responsible, person_options.clone(), Some("Nobody")))
                (select("version", "Version", typed(&v.version), version_options, Some("None")))
                div.field {
                    label for="wp-start" { "Start date" }
                    input #wp-start name="start_date" type="date" value=(v.start_date)
                        aria-invalid=[err("startDate").map(|_| "true")] aria-describedby=[described_by("wp-start", err("startDate"))];
                    (field_error("wp-start", err("startDate")))
                }
                div.field {
                    label for="wp-due" { "Finish date" }
                    input #wp-due name="due_date" type="date" value=(v.due_date)
                        aria-invalid=[err("dueDate").map(|_| "true")] aria-describedby=[described_by("wp-due", err("dueDate"))];
                    (field_error("wp-due", err("dueDate")))
                }
                (text_input("wp-estimated", "estimated_time", "Estimated time", typed(&v.estimated_time), Some("decimal"), "Hours, such as 2.5.", err("estimatedTime")))
                (text_input("wp-remaining", "remaining_time", "Remaining time", typed(&v.remaining_time), Some("decimal"), "Hours, such as 2.5.", err("remainingTime")))
                div.field {
                    label for="wp-done" { "% done" }
                    input #wp-done name="done_ratio" type="number" min="0" max="100" step="1" value=(typed(&v.done_ratio))
                        aria-invalid=[done_error.map(|_| "true")] aria-describedby=[described_by("wp-done", done_error)];
                    (field_error("wp-done", done_error))
                }
                (text_input("wp-parent", "parent", "Parent", typed(&v.parent), Some("numeric"), "The number of the parent work package, such as 12.", err("parent")))
                (wp_custom_fields::inputs(&fields, &v.custom, &user_options, err))
            }
            div.actions {
                button.primary type="submit" { (submit) }
                @match &target {
                    Target::New(p) => { a href=(format!("/projects/{}/work_packages", p.identifier)) { "Cancel" } }
                    Target::Edit { id, .. } => { a href=(format!("/work_packages/{id}")) { "Cancel" } }
                }
            }
        }
    };
    Ok(viewer.page(status, &title, Nav::WorkPackages, None, main))
}

pub async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    let types = state.services.list_reference::<WpType>().await?;
    let statuses = state.services.list_reference::<Status>().await?;
    let priorities = state.services.list_reference::<Priority>().await?;
    let v = Values {
        type_id: default_id(types.iter().map(|t| (t.id, t.is_default))),
        status_id: default_id(statuses.iter().map(|s| (s.id, s.is_default))),
        priority_id: default_id(priorities.iter().map(|p| (p.id, p.is_default))),
        ..Values::default()
    };
    render(
        &state,
        &viewer,
        &access,
        Target::New(&project),
        &v,
        StatusCode::OK,
        &ValidationErrors::new(),
    )
    .await
}

/// The id marked as default, else the first one.
fn default_id(items: impl Iterator<Item = (i64, bool)>) -> String {
    let all: Vec<_> = items.collect();
    all.iter()
        .find(|(_, d)| *d)
        .or(all.first())
        .map(|(id, _)| id.to_string())
        .unwrap_or_default()
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    let fields = custom_fields(&state).await?;
    let v = Values::from_form(&form, &fields);
    let (mut input, malformed) = v.input(&fields);
    input.project_id = Some(project.id);
    let result = if malformed.is_empty() {
        state
            .services
            .create_work_package(&access, &viewer.user, input)
            .await
            .map(|row| row.wp.id)
    } else {
        Err(state
            .services
            .refuse_malformed_work_package(&access, &viewer.user, None, None, input, malformed)
            .await)
    };
    match result {
        Ok(id) => Ok(layout::see_other(&format!(
            "/work_packages/{id}?notice=wp_created"
        ))),
        Err(ServiceError::Invalid(errors)) => {
            render(
                &state,
                &viewer,
                &access,
                Target::New(&project),
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = crate::pages::path_id(&id)?;
    let access = viewer.access(&state).await?;
    let (row, project) = state.services.work_package(&access, id).await?;
    let custom = state
        .services
        .custom_values(CustomKind::WorkPackage, &[id])
        .await?;
    let v = Values::from_stored(&row, &custom);
    render(
        &state,
        &viewer,
        &access,
        Target::Edit {
            id,
            project: &project,
        },
        &v,
        StatusCode::OK,
        &ValidationErrors::new(),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = crate::pages::path_id(&id)?;
    let access = viewer.access(&state).await?;
    let (_, project) = state.services.work_package(&access, id).await?;
    let fields = custom_fields(&state).await?;
    let v = Values::from_form(&form, &fields);
    let lock = v.lock_version.trim().parse::<i64>().ok();
    let (input, malformed) = v.input(&fields);
    let result = if malformed.is_empty() {
        state
            .services
            .update_work_package(&access, &viewer.user, id, lock, input, None)
            .await
            .map(|_| ())
    } else {
        Err(state
            .services
            .refuse_malformed_work_package(&access, &viewer.user, Some(id), lock, input, malformed)
            .await)
    };
    let target = Target::Edit {
        id,
        project: &project,
    };
    match result {
        Ok(_) => Ok(layout::see_other(&format!(
            "/work_packages/{id}?notice=wp_saved"
        ))),
        Err(ServiceError::Invalid(errors)) => {
            render(
                &state,
                &viewer,
                &access,
                target,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
            )
            .await
        }
        Err(ServiceError::StaleLockVersion(_)) => {
            render(
                &state,
                &viewer,
                &access,
                target,
                &v,
                StatusCode::CONFLICT,
                &ValidationError::new(
                    "",
                    "Someone changed this work package while you were editing it. Open it again to see their change, then make yours.",
                )
                .into(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
