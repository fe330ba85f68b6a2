//! Forms and schemas of work packages: `POST /api/v3/work_packages/form`,
//! `POST /api/v3/projects/{id}/work_packages/form` and
//! `POST /api/v3/work_packages/{id}/form` show what a create or an update
//! with the posted body would do (the resulting values, the schema and the
//! validation errors) without writing anything;
//! `GET /api/v3/work_packages/schemas/{project}-{type}` describes the
//! attributes of work packages of one type in one project.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::Serialize;
use steward_domain::date::{format_duration_hours, Date};
use steward_domain::permission::Permission;
use steward_domain::project::Project;
use steward_domain::work_package::WorkPackageState;
use steward_services::work_packages::{WorkPackageInput, SUBJECT_MAX};
use steward_services::ServiceError;
use steward_storage::lookups::{self, Priority, Status, WpType};

use crate::auth::{Caller, SignedIn};
use crate::error::{validation_errors, ApiError, ErrorObject};
use crate::extract::{parse_id, ApiPath, JsonBody};
use crate::hal::{ok, Hal, Link};
use crate::routes::activities::attribute_label;
use crate::routes::shared::{encode, reader_access};
use crate::routes::work_packages::{input_from, OptLink, ReadBody, WpBody};
use crate::AppState;

// ---------------------------------------------------------------- schema

#[derive(Serialize)]
#[serde(untagged)]
pub enum AllowedValues {
    /// The values themselves, as links.
    List(Vec<Link>),
    /// Where to fetch them.
    Href(Link),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldLinks {
    allowed_values: AllowedValues,
}

/// The description of one attribute.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    required: bool,
    has_default: bool,
    writable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'static str>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<FieldLinks>,
}

fn field(kind: &'static str, attribute: &'static str, required: bool, writable: bool) -> Field {
    Field {
        kind,
        name: attribute_label(attribute),
        required,
        has_default: false,
        writable,
        min_length: None,
        max_length: None,
        location: None,
        links: None,
    }
}

/// A property given under `_links`.
fn linked(kind: &'static str, attribute: &'static str, required: bool, writable: bool) -> Field {
    Field {
        location: Some("_links"),
        ..field(kind, attribute, required, writable)
    }
}

impl Field {
    fn defaulted(mut self) -> Field {
        self.has_default = true;
        self
    }
    fn allowed(mut self, values: AllowedValues) -> Field {
        self.links = Some(FieldLinks {
            allowed_values: values,
        });
        self
    }
}

#[derive(Serialize)]
pub struct SchemaLinks {
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    self_: Option<Link>,
}

/// The attributes Steward keeps for a work package, described.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    #[serde(rename = "_dependencies")]
    dependencies: Vec<String>,
    id: Field,
    lock_version: Field,
    subject: Field,
    description: Field,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Field>,
    estimated_time: Field,
    remaining_time: Field,
    percentage_done: Field,
    created_at: Field,
    updated_at: Field,
    project: Field,
    #[serde(rename = "type")]
    type_: Field,
    status: Field,
    priority: Field,
    author: Field,
    assignee: Field,
    responsible: Field,
    parent: Field,
    version: Field,
    #[serde(rename = "_links")]
    links: SchemaLinks,
}

/// Statuses, types and priorities, read once per request.
struct Lookups {
    statuses: Vec<Status>,
    types: Vec<WpType>,
    priorities: Vec<Priority>,
}

impl Lookups {
    async fn load(state: &AppState) -> Result<Lookups, ApiError> {
        let mut conn = state.services.db.conn().await?;
        Ok(Lookups {
            statuses: lookups::statuses(&mut conn).await?,
            types: lookups::types(&mut conn).await?,
            priorities: lookups::priorities(&mut conn).await?,
        })
    }

    fn wp_type(&self, id: i64) -> Option<&WpType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// The state of a new work package before the client's values.
    fn defaults(&self, author: i64, project: Option<i64>) -> WorkPackageState {
        WorkPackageState {
            project_id: project.unwrap_or(0),
            type_id: self
                .types
                .iter()
                .find(|t| t.is_default)
                .or(self.types.first())
                .map_or(0, |t| t.id),
            status_id: self
                .statuses
                .iter()
                .find(|s| s.is_default)
                .or(self.statuses.first())
                .map_or(0, |s| s.id),
            priority_id: self
                .priorities
                .iter()
                .find(|p| p.is_default)
                .or(self.priorities.first())
                .map_or(0, |p| p.id),
            subject: String::new(),
            description: String::new(),
            author_id: author,
            assigned_to_id: None,
            responsible_id: None,
            start_date: None,
            due_date: None,
            estimated_hours: None,
            remaining_hours: None,
            done_ratio: None,
            parent_id: None,
            version_id: None,
        }
    }
}

fn schema_href(project_id: i64, type_id: i64) -> String {
    format!("/api/v3/work_packages/schemas/{project_id}-{type_id}")
}

/// The schema of work packages of `wp_type` in the project `project_id`
/// (none yet: a create form without a project).
fn schema(project_id: Option<i64>, wp_type: Option<&WpType>, l: &Lookups) -> SchemaRepr {
    let milestone = wp_type.is_some_and(|t| t.is_milestone);
    let members = project_id.map(|p| {
        let filters = format!(r#"[{{"member":{{"operator":"=","values":["{p}"]}}}}]"#);
        format!("/api/v3/principals?filters={}", encode(&filters))
    });
    let people = |attribute: &'static str| {
        let f = linked("User", attribute, false, true);
        match &members {
            Some(href) => f.allowed(AllowedValues::Href(Link::new(href.clone()))),
            None => f,
        }
    };
    let version = linked("Version", "version", false, true);
    SchemaRepr {
        kind: "Schema",
        dependencies: Vec::new(),
        id: field("Integer", "id", true, false),
        lock_version: field("Integer", "lockVersion", true, false),
        subject: Field {
            min_length: Some(1),
            max_length: Some(SUBJECT_MAX),
            ..field("String", "subject", true, true)
        },
        description: field("Formattable", "description", false, true),
        start_date: (!milestone).then(|| field("Date", "startDate", false, true)),
        due_date: (!milestone).then(|| field("Date", "dueDate", false, true)),
        date: milestone.then(|| field("Date", "date", false, true)),
        estimated_time: field("Duration", "estimatedTime", false, true),
        remaining_time: field("Duration", "remainingTime", false, true),
        percentage_done: field("Integer", "percentageDone", false, true),
        created_at: field("DateTime", "createdAt", true, false),
        updated_at: field("DateTime", "updatedAt", true, false),
        project: linked("Project", "project", true, true)
            .allowed(AllowedValues::Href(Link::new("/api/v3/projects"))),
        type_: linked("Type", "type", true, true)
            .defaulted()
            .allowed(AllowedValues::List(
                l.types
                    .iter()
                    .map(|t| Link::titled(format!("/api/v3/types/{}", t.id), t.name.clone()))
                    .collect(),
            )),
        status: linked("Status", "status", true, true)
            .defaulted()
            .allowed(AllowedValues::List(
                l.statuses
                    .iter()
                    .map(|s| Link::titled(format!("/api/v3/statuses/{}", s.id), s.name.clone()))
                    .collect(),
            )),
        priority: linked("Priority", "priority", true, true)
            .defaulted()
            .allowed(AllowedValues::List(
                l.priorities
                    .iter()
                    .filter(|p| p.active)
                    .map(|p| Link::titled(format!("/api/v3/priorities/{}", p.id), p.name.clone()))
                    .collect(),
            )),
        author: linked("User", "author", true, false),
        assignee: people("assignee"),
        responsible: people("responsible"),
        parent: linked("WorkPackage", "parent", false, true),
        version: match project_id {
            Some(p) => version.allowed(AllowedValues::Href(Link::new(format!(
                "/api/v3/projects/{p}/versions"
            )))),
            None => version,
        },
        links: SchemaLinks {
            self_: match (project_id, wp_type) {
                (Some(p), Some(t)) => Some(Link::new(schema_href(p, t.id))),
                _ => None,
            },
        },
    }
}

/// `GET /api/v3/work_packages/schemas/{project}-{type}`.
pub async fn show_schema(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identifier): ApiPath<String>,
) -> Result<Hal<SchemaRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let (project_ref, type_ref) = identifier
        .rsplit_once('-')
        .ok_or_else(ApiError::not_found)?;
    let type_id = parse_id(type_ref)?;
    let project = state
        .services
        .project(&access, project_ref)
        .await
        .ok()
        .filter(|p| access.allowed(p, Permission::ViewWorkPackages))
        .ok_or_else(ApiError::not_found)?;
    let l = Lookups::load(&state).await?;
    let wp_type = l.wp_type(type_id).ok_or_else(ApiError::not_found)?;
    Ok(ok(schema(Some(project.id), Some(wp_type), &l)))
}

// ---------------------------------------------------------------- forms

#[derive(Serialize)]
pub struct TextOut {
    format: &'static str,
    raw: String,
}

#[derive(Serialize)]
pub struct PayloadLinks {
    project: OptLink,
    #[serde(rename = "type")]
    type_: OptLink,
    status: OptLink,
    priority: OptLink,
    assignee: OptLink,
    responsible: OptLink,
    parent: OptLink,
    version: OptLink,
}

/// The values a write with the posted body would store, in the shape the
/// create and update endpoints accept.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_version: Option<i64>,
    subject: String,
    description: TextOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<Option<Date>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<Option<Date>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Option<Date>>,
    estimated_time: Option<String>,
    remaining_time: Option<String>,
    percentage_done: Option<i64>,
    #[serde(rename = "_links")]
    links: PayloadLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormEmbedded {
    payload: Payload,
    schema: SchemaRepr,
    validation_errors: BTreeMap<&'static str, ErrorObject>,
}

#[derive(Serialize)]
pub struct FormLinks {
    #[serde(rename = "self")]
    self_: Link,
    validate: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<Link>,
}

#[derive(Serialize)]
pub struct FormRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    #[serde(rename = "_embedded")]
    embedded: FormEmbedded,
    #[serde(rename = "_links")]
    links: FormLinks,
}

/// `base` with the client's values laid over it, unchecked.
fn overlay(base: &WorkPackageState, i: &WorkPackageInput, l: &Lookups) -> WorkPackageState {
    let mut s = base.clone();
    if let Some(v) = i.project_id {
        s.project_id = v;
    }
    if let Some(v) = i.type_id {
        s.type_id = v;
    }
    if let Some(v) = i.status_id {
        s.status_id = v;
    }
    if let Some(v) = i.priority_id {
        s.priority_id = v;
    }
    if let Some(v) = &i.subject {
        s.subject = v.trim().to_string();
    }
    if let Some(v) = &i.description {
        s.description = v.clone();
    }
    if let Some(v) = i.assigned_to_id {
        s.assigned_to_id = v;
    }
    if let Some(v) = i.responsible_id {
        s.responsible_id = v;
    }
    if let Some(v) = i.start_date {
        s.start_date = v;
    }
    if let Some(v) = i.due_date {
        s.due_date = v;
    }
    if l.wp_type(s.type_id).is_some_and(|t| t.is_milestone) {
        match (i.start_date.is_some(), i.due_date.is_some()) {
            (true, false) => s.due_date = s.start_date,
            (false, true) => s.start_date = s.due_date,
            _ => {}
        }
    }
    if let Some(v) = i.estimated_hours {
        s.estimated_hours = v;
    }
    if let Some(v) = i.remaining_hours {
        s.remaining_hours = v;
    }
    if let Some(v) = i.done_ratio {
        s.done_ratio = v;
    }
    if let Some(v) = i.parent_id {
        s.parent_id = v;
    }
    if let Some(v) = i.version_id {
        s.version_id = v;
    }
    s
}

fn link(prefix: &str, id: Option<i64>, title: Option<String>) -> OptLink {
    match id.filter(|id| *id > 0) {
        Some(id) => OptLink {
            href: Some(format!("{prefix}/{id}")),
            title,
        },
        None => OptLink::default(),
    }
}

fn payload(
    s: &WorkPackageState,
    lock_version: Option<i64>,
    project: Option<&Project>,
    l: &Lookups,
) -> Payload {
    let milestone = l.wp_type(s.type_id).is_some_and(|t| t.is_milestone);
    Payload {
        lock_version,
        subject: s.subject.clone(),
        description: TextOut {
            format: "markdown",
            raw: s.description.clone(),
        },
        start_date: (!milestone).then_some(s.start_date),
        due_date: (!milestone).then_some(s.due_date),
        date: milestone.then_some(s.start_date),
        estimated_time: s.estimated_hours.map(format_duration_hours),
        remaining_time: s.remaining_hours.map(format_duration_hours),
        percentage_done: s.done_ratio,
        links: PayloadLinks {
            project: link(
                "/api/v3/projects",
                Some(s.project_id),
                project
                    .filter(|p| p.id == s.project_id)
                    .map(|p| p.name.clone()),
            ),
            type_: link(
                "/api/v3/types",
                Some(s.type_id),
                l.wp_type(s.type_id).map(|t| t.name.clone()),
            ),
            status: link(
                "/api/v3/statuses",
                Some(s.status_id),
                l.statuses
                    .iter()
                    .find(|x| x.id == s.status_id)
                    .map(|x| x.name.clone()),
            ),
            priority: link(
                "/api/v3/priorities",
                Some(s.priority_id),
                l.priorities
                    .iter()
                    .find(|x| x.id == s.priority_id)
                    .map(|x| x.name.clone()),
            ),
            assignee: link("/api/v3/users", s.assigned_to_id, None),
            responsible: link("/api/v3/users", s.responsible_id, None),
            parent: link("/api/v3/work_packages", s.parent_id, None),
            version: link("/api/v3/versions", s.version_id, None),
        },
    }
}

/// What the form is for.
enum Target {
    /// A new work package, possibly in a given project.
    Create {
        project: Option<Project>,
        form_href: String,
        commit_href: String,
    },
    /// An existing one.
    Edit { id: i64 },
}

async fn form(
    state: &AppState,
    caller: &SignedIn,
    target: Target,
    body: WpBody,
) -> Result<Hal<FormRepr>, ApiError> {
    let user = &caller.user;
    let access = state.services.access(Some(user)).await?;
    let l = Lookups::load(state).await?;
    // The values before the client's, and what the form links to.
    let (id, base, current_lock, mut project, form_href, commit) = match target {
        Target::Create {
            project,
            form_href,
            commit_href,
        } => (
            None,
            l.defaults(user.id, project.as_ref().map(|p| p.id)),
            None,
            project,
            form_href,
            Link::new(commit_href).method("post"),
        ),
        Target::Edit { id } => {
            let (row, project) = state.services.work_package(&access, id).await?;
            let href = format!("/api/v3/work_packages/{id}");
            (
                Some(id),
                row.wp.state.clone(),
                Some(row.wp.lock_version),
                Some(project),
                format!("{href}/form"),
                Link::new(href).method("patch"),
            )
        }
    };
    let scoped = id.is_none() && project.is_some();
    let ReadBody {
        mut input,
        lock_version,
        malformed,
        ..
    } = input_from(body);
    if scoped {
        input.project_id = project.as_ref().map(|p| p.id);
    }
    // The malformed properties first, then what the services find in the
    // rest: every error of the body at once.
    let mut errors = malformed;
    let merged = overlay(&base, &input, &l);
    let mut may_write = false;
    match state
        .services
        .validate_work_package(&access, user, id, lock_version, input)
        .await
    {
        Ok(()) => may_write = true,
        Err(ServiceError::Invalid(found)) => {
            let unreadable: Vec<&str> = errors.iter().map(|e| e.attribute).collect();
            for e in found {
                // A malformed property, left alone, is not refused again.
                if !unreadable.contains(&e.attribute) {
                    errors.push(e);
                }
            }
        }
        Err(ServiceError::Forbidden(_)) => {}
        Err(e) => return Err(e.into()),
    }
    if merged.subject.is_empty() && !errors.has("subject") {
        errors.add("subject", "Subject can't be blank.");
    }
    if merged.project_id == 0 && !errors.has("project") {
        errors.add("project", "Project can't be blank.");
    }
    if project.as_ref().is_none_or(|p| p.id != merged.project_id) && merged.project_id > 0 {
        // A project named in the body: shown by name only if the caller can see it.
        project = state
            .services
            .project(&access, &merged.project_id.to_string())
            .await
            .ok();
    }
    let schema_project = project
        .as_ref()
        .filter(|p| p.id == merged.project_id)
        .map(|p| p.id);
    let commit = (errors.is_empty() && may_write).then_some(commit);
    Ok(ok(FormRepr {
        kind: "Form",
        embedded: FormEmbedded {
            payload: payload(&merged, current_lock, project.as_ref(), &l),
            schema: schema(schema_project, l.wp_type(merged.type_id), &l),
            validation_errors: validation_errors(&errors),
        },
        links: FormLinks {
            self_: Link::new(form_href.clone()).method("post"),
            validate: Link::new(form_href).method("post"),
            commit,
        },
    }))
}

/// `POST /api/v3/work_packages/form`: an empty body gives the defaults.
pub async fn create_form(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<FormRepr>, ApiError> {
    let target = Target::Create {
        project: None,
        form_href: "/api/v3/work_packages/form".into(),
        commit_href: "/api/v3/work_packages".into(),
    };
    form(&state, &caller, target, body).await
}

/// `POST /api/v3/projects/{id}/work_packages/form`.
pub async fn create_form_in_project(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(project): ApiPath<String>,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<FormRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let p = state.services.project(&access, &project).await?;
    if !access.allowed(&p, Permission::ViewWorkPackages) {
        return Err(ApiError::not_found());
    }
    let base = format!("/api/v3/projects/{}/work_packages", p.id);
    let target = Target::Create {
        project: Some(p),
        form_href: format!("{base}/form"),
        commit_href: base,
    };
    form(&state, &caller, target, body).await
}

/// `POST /api/v3/work_packages/{id}/form`.
pub async fn update_form(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<FormRepr>, ApiError> {
    let id = parse_id(&id)?;
    form(&state, &caller, Target::Edit { id }, body).await
}
