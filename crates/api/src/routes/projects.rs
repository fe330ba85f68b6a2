//! `/api/v3/projects`: list, show, create, change (archive and unarchive
//! with `active`), delete, and the create and update forms.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::permission::Permission;
use steward_domain::project::{self, Project, ProjectId};
use steward_domain::Timestamp;
use steward_services::authz::Access;
use steward_services::projects::ProjectInput;
use steward_services::ServiceError;
use steward_storage::projects::ProjectFilter;

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::filters::{parse_filters, parse_sort, sort_field, unknown_filter, unknown_sort};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::{
    bool_value, encode, href_segment, id_values, kept_query, nullable, reader_access, rendering,
    Formattable, LinkIn, MaybeLink, TextIn,
};
use crate::AppState;
use steward_http::markdown::Rendering;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    identifier: String,
    name: String,
    active: bool,
    public: bool,
    description: Formattable,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(rename = "_links")]
    links: ProjectLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectLinks {
    #[serde(rename = "self")]
    self_: Link,
    parent: MaybeLink,
    work_packages: Link,
    memberships: Link,
    versions: Link,
    types: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_work_package: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_work_package_immediate: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_immediately: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete: Option<Link>,
}

pub fn href(id: ProjectId) -> String {
    format!("/api/v3/projects/{id}")
}

/// The memberships collection of one project.
pub fn memberships_href(id: ProjectId) -> String {
    let filters = format!(r#"[{{"project":{{"operator":"=","values":["{id}"]}}}}]"#);
    format!("/api/v3/memberships?filters={}", encode(&filters))
}

/// The representation, with the action links the caller may follow.
pub fn represent(p: &Project, access: &Access, rendering: Rendering) -> ProjectRepr {
    let href = href(p.id);
    let may_change =
        access.allowed(p, Permission::EditProject) || access.allowed(p, Permission::ArchiveProject);
    let may_add_wp = access.allowed(p, Permission::AddWorkPackages);
    ProjectRepr {
        kind: "Project",
        id: p.id,
        identifier: p.identifier.clone(),
        name: p.name.clone(),
        active: p.active,
        public: p.public,
        description: Formattable::markdown(&p.description, rendering),
        created_at: p.created_at,
        updated_at: p.updated_at,
        links: ProjectLinks {
            self_: Link::titled(href.clone(), p.name.clone()),
            parent: MaybeLink {
                href: p.parent_id.map(self::href),
                title: None,
            },
            work_packages: Link::new(format!("{href}/work_packages")),
            memberships: Link::new(memberships_href(p.id)),
            versions: Link::new(format!("{href}/versions")),
            types: Link::new(format!("{href}/types")),
            create_work_package: may_add_wp
                .then(|| Link::new(format!("{href}/work_packages/form")).method("post")),
            create_work_package_immediate: may_add_wp
                .then(|| Link::new(format!("{href}/work_packages")).method("post")),
            update: may_change.then(|| Link::new(format!("{href}/form")).method("post")),
            update_immediately: may_change.then(|| Link::new(href.clone()).method("patch")),
            delete: access
                .is_admin()
                .then(|| Link::new(href.clone()).method("delete")),
        },
    }
}

const FILTERS: &[&str] = &["active", "public", "id", "name_and_identifier", "parent_id"];
const SORTS: &[&str] = &["id", "name", "identifier", "createdAt", "updatedAt"];

fn project_filter(q: &QueryParams) -> Result<ProjectFilter, ApiError> {
    let mut filter = ProjectFilter::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            name @ ("active" | "public") => {
                let v = match f.operator.as_str() {
                    "=" => bool_value(name, &f.values)?,
                    "!" => !bool_value(name, &f.values)?,
                    _ => return Err(f.unknown_operator(&["=", "!"])),
                };
                if name == "active" {
                    filter.active = Some(v);
                } else {
                    filter.public = Some(v);
                }
            }
            "id" => match f.operator.as_str() {
                "=" => filter.ids = Some(id_values("id", &f.values)?),
                _ => return Err(f.unknown_operator(&["="])),
            },
            "name_and_identifier" => match f.operator.as_str() {
                "~" | "**" => filter.name_contains = Some(f.values.join(" ")),
                _ => return Err(f.unknown_operator(&["~"])),
            },
            "parent_id" => match f.operator.as_str() {
                "=" => match id_values("parent_id", &f.values)?.as_slice() {
                    [id] => filter.parent_id = Some(Some(*id)),
                    _ => {
                        return Err(ApiError::InvalidQuery(
                            "Filter \"parent_id\" takes exactly one project id.".into(),
                        ))
                    }
                },
                "!*" => filter.parent_id = Some(None),
                _ => return Err(f.unknown_operator(&["=", "!*"])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(filter)
}

fn project_order(q: &QueryParams) -> Result<String, ApiError> {
    let mut order = Vec::new();
    for (field, desc) in parse_sort(q.get("sortBy"))? {
        let col = match sort_field(&field, SORTS, "Projects")? {
            "id" => "p.id",
            "name" => "lower(p.name)",
            "identifier" => "p.identifier",
            "createdAt" => "p.created_at",
            "updatedAt" => "p.updated_at",
            other => return Err(unknown_sort(other, SORTS, "Projects")),
        };
        order.push(format!("{col} {}", if desc { "DESC" } else { "ASC" }));
    }
    if order.is_empty() {
        order.push("p.id ASC".into());
    }
    Ok(order.join(", "))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<Collection<ProjectRepr>>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let page = Page::from_query(&q)?;
    let filter = project_filter(&q)?;
    let order = project_order(&q)?;
    let (projects, total) = state
        .services
        .list_projects(&access, &filter, &order, page.limit(), page.skip())
        .await?;
    let rendering = rendering(&state).await?;
    let elements = projects
        .iter()
        .map(|p| represent(p, &access, rendering))
        .collect();
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/projects",
        &kept_query(&q),
        page,
        total,
        elements,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Hal<ProjectRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let project = state.services.project(&access, &id).await?;
    Ok(ok(represent(&project, &access, rendering(&state).await?)))
}

/// The body of create, update and the forms. Unknown properties (`_type`,
/// read-only fields and links a client echoes back) are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectBody {
    identifier: Option<String>,
    name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    description: Option<Option<TextIn>>,
    public: Option<bool>,
    active: Option<bool>,
    /// Some clients send the parent at the top level instead of in `_links`.
    #[serde(deserialize_with = "nullable")]
    parent: Option<Option<LinkIn>>,
    #[serde(rename = "_links")]
    links: Option<ProjectLinksIn>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProjectLinksIn {
    #[serde(deserialize_with = "nullable")]
    parent: Option<Option<LinkIn>>,
}

impl ProjectBody {
    /// The parent as asked for: `None` not mentioned, `Some(None)` none.
    fn parent_href(&self) -> Option<Option<String>> {
        let link = match self.links.as_ref().and_then(|l| l.parent.clone()) {
            Some(l) => Some(l),
            None => self.parent.clone(),
        };
        link.map(|l| l.and_then(|l| l.target().map(str::to_string)))
    }

    fn description(&self) -> Option<String> {
        self.description
            .clone()
            .map(|d| d.map(TextIn::into_raw).unwrap_or_default())
    }
}

fn bad_parent(message: impl Into<String>) -> ApiError {
    ApiError::PropertyConstraintViolation {
        attribute: "parent",
        message: message.into(),
    }
}

/// Turns the parent href into a project id; an identifier is looked up
/// among the projects the caller can see.
async fn resolve_parent(
    state: &AppState,
    access: &Access,
    parent: Option<Option<String>>,
) -> Result<Option<Option<ProjectId>>, ApiError> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    let Some(href) = parent else {
        return Ok(Some(None));
    };
    let segment = href_segment(&href, "projects").ok_or_else(|| {
        bad_parent(format!(
            "The parent {href:?} is not a link to a project, such as /api/v3/projects/5."
        ))
    })?;
    if let Ok(id) = segment.parse::<ProjectId>() {
        return Ok(Some(Some(id)));
    }
    match state.services.project(access, segment).await {
        Ok(p) => Ok(Some(Some(p.id))),
        Err(ServiceError::NotFound(_)) => Err(bad_parent("The parent project does not exist.")),
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<Hal<ProjectRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    if !access.allowed_globally(Permission::AddProject) {
        return Err(ApiError::MissingPermission(
            "You are not allowed to create projects.".into(),
        ));
    }
    let parent_id = resolve_parent(&state, &access, body.parent_href()).await?;
    let input = ProjectInput {
        description: body.description(),
        identifier: body.identifier,
        name: body.name,
        public: body.public,
        active: None,
        parent_id,
        modules: None,
    };
    let project = state.services.create_project(&access, input).await?;
    // A creator who is no administrator became a member just now.
    let access = state.services.access(Some(&caller.user)).await?;
    Ok(Hal(
        StatusCode::CREATED,
        represent(&project, &access, rendering(&state).await?),
    ))
}

/// Keeps only what differs from the project as it is, so that a client
/// sending the whole document back changes (and needs rights for) only
/// what it really changes.
fn changes(
    current: &Project,
    body: ProjectBody,
    parent: Option<Option<ProjectId>>,
) -> ProjectInput {
    let description = body.description().filter(|d| *d != current.description);
    ProjectInput {
        identifier: body.identifier.filter(|i| i.trim() != current.identifier),
        name: body.name.filter(|n| n.trim() != current.name),
        description,
        public: body.public.filter(|v| *v != current.public),
        active: body.active.filter(|v| *v != current.active),
        parent_id: parent.filter(|p| *p != current.parent_id),
        modules: None,
    }
}

fn is_empty(i: &ProjectInput) -> bool {
    i.identifier.is_none()
        && i.name.is_none()
        && i.description.is_none()
        && i.public.is_none()
        && i.active.is_none()
        && i.parent_id.is_none()
        && i.modules.is_none()
}

pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<Hal<ProjectRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let current = state.services.project(&access, &id).await?;
    let parent = resolve_parent(&state, &access, body.parent_href()).await?;
    let input = changes(&current, body, parent);
    if is_empty(&input) {
        return Ok(ok(represent(&current, &access, rendering(&state).await?)));
    }
    let project = state
        .services
        .update_project(&access, &current.id.to_string(), input)
        .await?;
    Ok(ok(represent(&project, &access, rendering(&state).await?)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    state.services.delete_project(&access, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Forms: what a create or update would do, without doing it. ---

#[derive(Serialize)]
pub struct Form {
    #[serde(rename = "_type")]
    kind: &'static str,
    #[serde(rename = "_embedded")]
    embedded: FormEmbedded,
    #[serde(rename = "_links")]
    links: FormLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormEmbedded {
    payload: Payload,
    schema: Schema,
    validation_errors: BTreeMap<&'static str, FormError>,
}

#[derive(Serialize)]
pub struct Payload {
    name: String,
    identifier: String,
    description: Formattable,
    public: bool,
    active: bool,
    #[serde(rename = "_links")]
    links: PayloadLinks,
}

#[derive(Serialize)]
pub struct PayloadLinks {
    parent: MaybeLink,
}

#[derive(Serialize)]
pub struct Schema {
    #[serde(rename = "_type")]
    kind: &'static str,
    #[serde(rename = "_links")]
    links: SchemaLinks,
}

#[derive(Serialize)]
pub struct SchemaLinks {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormError {
    #[serde(rename = "_type")]
    kind: &'static str,
    error_identifier: &'static str,
    message: String,
    #[serde(rename = "_embedded")]
    embedded: FormErrorEmbedded,
}

#[derive(Serialize)]
pub struct FormErrorEmbedded {
    details: FormErrorDetails,
}

#[derive(Serialize)]
pub struct FormErrorDetails {
    attribute: &'static str,
}

#[derive(Serialize)]
pub struct FormLinks {
    #[serde(rename = "self")]
    self_: Link,
    validate: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<Link>,
}

fn add_error(
    errors: &mut BTreeMap<&'static str, FormError>,
    attribute: &'static str,
    message: String,
) {
    errors.entry(attribute).or_insert(FormError {
        kind: "Error",
        error_identifier: "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
        message,
        embedded: FormErrorEmbedded {
            details: FormErrorDetails { attribute },
        },
    });
}

/// Builds the form from the values a create or update would end up with.
async fn form(
    state: &AppState,
    access: &Access,
    current: Option<&Project>,
    body: ProjectBody,
    form_href: String,
    commit: (String, &'static str),
) -> Result<Form, ApiError> {
    let mut errors = BTreeMap::new();
    let parent = match resolve_parent(state, access, body.parent_href()).await {
        Ok(p) => p,
        Err(ApiError::PropertyConstraintViolation { attribute, message }) => {
            add_error(&mut errors, attribute, message);
            None
        }
        Err(e) => return Err(e),
    };
    let description = body
        .description()
        .or_else(|| current.map(|c| c.description.clone()))
        .unwrap_or_default();
    let name = body
        .name
        .clone()
        .or_else(|| current.map(|c| c.name.clone()))
        .unwrap_or_default();
    if let Err(e) = project::validate_name(&name) {
        add_error(&mut errors, e.attribute, e.message);
    }
    let identifier = match (&body.identifier, current) {
        (Some(i), _) => Some(i.clone()),
        (None, Some(c)) => Some(c.identifier.clone()),
        (None, None) if !name.trim().is_empty() => Some(project::identifier_from_name(&name)),
        (None, None) => None,
    };
    if let Some(i) = &identifier {
        if let Err(e) = project::validate_identifier(i) {
            add_error(&mut errors, e.attribute, e.message);
        }
    }
    let parent_id = match parent {
        Some(p) => p,
        None => current.and_then(|c| c.parent_id),
    };
    let valid = errors.is_empty();
    Ok(Form {
        kind: "Form",
        embedded: FormEmbedded {
            payload: Payload {
                name: name.trim().to_string(),
                identifier: identifier.unwrap_or_default().trim().to_string(),
                description: Formattable {
                    format: "markdown",
                    raw: description,
                    html: String::new(),
                },
                public: body.public.or(current.map(|c| c.public)).unwrap_or(false),
                active: body.active.or(current.map(|c| c.active)).unwrap_or(true),
                links: PayloadLinks {
                    parent: MaybeLink {
                        href: parent_id.map(href),
                        title: None,
                    },
                },
            },
            schema: Schema {
                kind: "Schema",
                links: SchemaLinks {},
            },
            validation_errors: errors,
        },
        links: FormLinks {
            self_: Link::new(form_href.clone()).method("post"),
            validate: Link::new(form_href).method("post"),
            commit: valid.then(|| Link::new(commit.0).method(commit.1)),
        },
    })
}

pub async fn create_form(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<Hal<Form>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    if !access.allowed_globally(Permission::AddProject) {
        return Err(ApiError::MissingPermission(
            "You are not allowed to create projects.".into(),
        ));
    }
    let f = form(
        &state,
        &access,
        None,
        body,
        "/api/v3/projects/form".into(),
        ("/api/v3/projects".into(), "post"),
    )
    .await?;
    Ok(ok(f))
}

pub async fn update_form(
    State(state): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<Hal<Form>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let current = state.services.project(&access, &id).await?;
    if !access.allowed(&current, Permission::EditProject)
        && !access.allowed(&current, Permission::ArchiveProject)
    {
        return Err(ApiError::MissingPermission(
            "You are not allowed to edit this project.".into(),
        ));
    }
    let h = href(current.id);
    let f = form(
        &state,
        &access,
        Some(&current),
        body,
        format!("{h}/form"),
        (h, "patch"),
    )
    .await?;
    Ok(ok(f))
}
