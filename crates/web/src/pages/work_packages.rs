//! Work packages: the filtered, sorted, paged list (all visible ones or one
//! project's), and a work package with its activity stream (comments and
//! changes interleaved, oldest first, as in OpenProject) and a comment box.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use steward_domain::custom_field::{Format, Kind as CustomKind, Value};
use steward_domain::permission::Permission;
use steward_domain::project::Project;
use steward_http::markdown::Rendering;
use steward_http::AppState;
use steward_services::authz::Access;
use steward_services::custom_fields::ShownValue;
use steward_services::ServiceError;
use steward_storage::lookups::{Status, WpType};
use steward_storage::work_packages::{
    Cond, IdColumn, Query as WpQuery, Sort, UserColumn, WorkPackageRow,
};

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, described_by, field_error, Nav};
use crate::session::Viewer;

const PER_PAGE: i64 = 25;
/// Children listed on a work package's page; the rest are counted.
const CHILDREN_SHOWN: i64 = 50;

/// The list's query string. Every field is optional and read leniently: a
/// value that makes no sense is ignored, never an error page.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    assignee: Option<String>,
    responsible: Option<String>,
    author: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
}

/// The sortable columns: query value, heading, sort key.
const COLUMNS: &[(&str, &str, Sort)] = &[
    ("id", "#", Sort::Id),
    ("type", "Type", Sort::Type),
    ("subject", "Subject", Sort::Subject),
    ("status", "Status", Sort::Status),
    ("assignee", "Assignee", Sort::Assignee),
    ("priority", "Priority", Sort::Priority),
    ("updated", "Updated", Sort::UpdatedAt),
];

fn user_cond(col: UserColumn, raw: &str, me: i64) -> Option<Cond> {
    let raw = raw.trim();
    match raw {
        "me" => Some(Cond::UserIn {
            col,
            ids: vec![me],
            negate: false,
        }),
        "none" => Some(Cond::UserSet { col, set: false }),
        _ => raw.parse::<i64>().ok().map(|id| Cond::UserIn {
            col,
            ids: vec![id],
            negate: false,
        }),
    }
}

/// The list's filters, sort order and page, read leniently from the query
/// string: what the list shows, and what its links and form keep.
struct ListFilters {
    /// `open`, `closed`, `all` or a status id.
    status: String,
    /// A type id, or empty.
    type_: String,
    /// `me`, `none`, a user id, or empty (anyone).
    assignee: String,
    responsible: String,
    author: String,
    /// Subject contains this.
    text: String,
    /// One of the keys of [`COLUMNS`].
    sort_key: &'static str,
    desc: bool,
    page: i64,
}

impl ListFilters {
    fn read(q: &ListQuery) -> ListFilters {
        let trimmed = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let text = super::search_text(q.q.as_deref());
        let sort_key = q
            .sort
            .as_deref()
            .and_then(|s| COLUMNS.iter().find(|(k, _, _)| *k == s))
            .map_or("updated", |(k, _, _)| *k);
        let desc = match q.dir.as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort_key == "updated",
        };
        ListFilters {
            status: q.status.as_deref().unwrap_or("open").trim().to_string(),
            type_: trimmed(&q.type_),
            assignee: trimmed(&q.assignee),
            responsible: trimmed(&q.responsible),
            author: trimmed(&q.author),
            text,
            sort_key,
            desc,
            page: super::page_number(q.page.as_deref()),
        }
    }

    /// The storage query for these filters, in `project` when given.
    fn query(&self, me: i64, project: Option<&Project>) -> WpQuery {
        let mut conds = Vec::new();
        match self.status.as_str() {
            "open" => conds.push(Cond::StatusOpen(true)),
            "closed" => conds.push(Cond::StatusOpen(false)),
            other => {
                if let Ok(id) = other.parse::<i64>() {
                    conds.push(Cond::IdIn {
                        col: IdColumn::Status,
                        ids: vec![id],
                        negate: false,
                    });
                }
            }
        }
        if let Ok(id) = self.type_.parse::<i64>() {
            conds.push(Cond::IdIn {
                col: IdColumn::Type,
                ids: vec![id],
                negate: false,
            });
        }
        conds.extend(user_cond(UserColumn::Assignee, &self.assignee, me));
        conds.extend(user_cond(UserColumn::Responsible, &self.responsible, me));
        if self.author != "none" {
            conds.extend(user_cond(UserColumn::Author, &self.author, me));
        }
        if !self.text.is_empty() {
            conds.push(Cond::SubjectContains {
                text: self.text.clone(),
                negate: false,
            });
        }
        if let Some(p) = project {
            conds.push(Cond::IdIn {
                col: IdColumn::Project,
                ids: vec![p.id],
                negate: false,
            });
        }
        let sort = COLUMNS
            .iter()
            .find(|(k, _, _)| *k == self.sort_key)
            .map_or(Sort::UpdatedAt, |(_, _, s)| *s);
        WpQuery {
            conds,
            // Ties go by id, ascending, as in every list (the storage adds
            // it), which the (updated_at DESC, id) index serves.
            sort: vec![(sort, self.desc)],
            ..WpQuery::default()
        }
    }

    fn dir(&self) -> &'static str {
        if self.desc {
            "desc"
        } else {
            "asc"
        }
    }

    /// The filters as query parameters, for links that keep them.
    fn params(&self) -> Vec<(&str, &str)> {
        vec![
            ("status", self.status.as_str()),
            ("type", self.type_.as_str()),
            ("assignee", self.assignee.as_str()),
            ("responsible", self.responsible.as_str()),
            ("author", self.author.as_str()),
            ("q", self.text.as_str()),
        ]
    }

    /// The filters with the sort order, for the pager.
    fn params_with_sort(&self) -> Vec<(&str, &str)> {
        let mut params = self.params();
        params.push(("sort", self.sort_key));
        params.push(("dir", self.dir()));
        params
    }
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    render_list(&state, &viewer, &access, q, None).await
}

pub async fn list_in_project(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    if !access.allowed(&project, Permission::ViewWorkPackages) {
        return Err(WebError::NotFound);
    }
    render_list(&state, &viewer, &access, q, Some(project)).await
}

async fn render_list(
    state: &AppState,
    viewer: &Viewer,
    access: &Access,
    q: ListQuery,
    project: Option<Project>,
) -> Result<Response, WebError> {
    let f = ListFilters::read(&q);
    let statuses = state.services.list_reference::<Status>().await?;
    let types = state.services.list_reference::<WpType>().await?;
    let query = f.query(viewer.user.id, project.as_ref());
    let (rows, total, page) = super::page_of(f.page, PER_PAGE, |offset| {
        state
            .services
            .list_work_packages(access, query.clone(), PER_PAGE, offset)
    })
    .await?;

    let base = match &project {
        Some(p) => format!("/projects/{}/work_packages", p.identifier),
        None => "/work_packages".to_string(),
    };
    let title = match &project {
        Some(p) => format!("Work packages · {}", p.name),
        None => "Work packages".to_string(),
    };
    let may_add = project
        .as_ref()
        .is_some_and(|p| access.allowed(p, Permission::AddWorkPackages));
    let main = html! {
        div.heading {
            h1 {
                "Work packages"
                @if let Some(p) = &project {
                    " · " a href=(format!("/projects/{}", p.identifier)) { (p.name) }
                }
            }
            @if let (true, Some(p)) = (may_add, &project) {
                a.button.primary href=(format!("/projects/{}/work_packages/new", p.identifier)) { "New work package" }
            }
        }
        (filter_form(&base, &f, &statuses, &types))
        p.muted role="status" { (total) " work package" @if total != 1 { "s" } }
        @if rows.is_empty() {
            p { "No work packages match these filters." }
        } @else {
            (results_table(viewer, &base, &f, &rows, project.is_none()))
        }
        (super::pager(&base, &f.params_with_sort(), page, PER_PAGE, total))
    };
    Ok(viewer.page(StatusCode::OK, &title, Nav::WorkPackages, None, main))
}

/// The filter form, showing the filters in force.
fn filter_form(base: &str, f: &ListFilters, statuses: &[Status], types: &[WpType]) -> Markup {
    let person_options = |current: &str, nobody: bool| {
        html! {
            option value="" selected[current.is_empty()] { "Anyone" }
            option value="me" selected[current == "me"] { "Me" }
            @if nobody { option value="none" selected[current == "none"] { "Nobody" } }
            @if current.parse::<i64>().is_ok() {
                option value=(current) selected { "User #" (current) }
            }
        }
    };
    html! {
        form.filters method="get" action=(base) role="search" aria-label="Filter work packages" {
            input type="hidden" name="sort" value=(f.sort_key);
            input type="hidden" name="dir" value=(f.dir());
            div.field {
                label for="f-q" { "Subject contains" }
                input #f-q name="q" type="search" value=(f.text);
            }
            div.field {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    option value="open" selected[f.status == "open"] { "Open" }
                    option value="closed" selected[f.status == "closed"] { "Closed" }
                    option value="all" selected[f.status == "all"] { "Any" }
                    @for s in statuses {
                        option value=(s.id) selected[f.status == s.id.to_string()] { (s.name) }
                    }
                }
            }
            div.field {
                label for="f-type" { "Type" }
                select #f-type name="type" {
                    option value="" selected[f.type_.is_empty()] { "Any" }
                    @for t in types {
                        option value=(t.id) selected[f.type_ == t.id.to_string()] { (t.name) }
                    }
                }
            }
            div.field {
                label for="f-assignee" { "Assignee" }
                select #f-assignee name="assignee" { (person_options(&f.assignee, true)) }
            }
            div.field {
                label for="f-responsible" { "Accountable" }
                select #f-responsible name="responsible" { (person_options(&f.responsible, true)) }
            }
            div.field {
                label for="f-author" { "Author" }
                select #f-author name="author" { (person_options(&f.author, false)) }
            }
            div.actions {
                button type="submit" { "Apply" }
                a href=(base) { "Reset" }
            }
        }
    }
}

/// The table of work packages; each heading's link sorts by its column,
/// the other way round when the list is already sorted by it.
fn results_table(
    viewer: &Viewer,
    base: &str,
    f: &ListFilters,
    rows: &[WorkPackageRow],
    with_project: bool,
) -> Markup {
    let headings: Vec<(&str, bool, String)> = COLUMNS
        .iter()
        .map(|(key, label, _)| {
            let active = *key == f.sort_key;
            let next_dir = if active && !f.desc { "desc" } else { "asc" };
            let mut params = f.params();
            params.push(("sort", key));
            params.push(("dir", next_dir));
            (*label, active, super::link(base, &params))
        })
        .collect();
    let desc = f.desc;
    html! {
        div.table-wrap {
            table.list {
                caption.visually-hidden { "Work packages, sorted by " (f.sort_key) }
                thead {
                    tr {
                        @for (label, active, href) in &headings {
                            th scope="col" aria-sort=[active.then_some(if desc { "descending" } else { "ascending" })] {
                                a href=(href) {
                                    (label)
                                    @if *active { span aria-hidden="true" { @if desc { " ▼" } @else { " ▲" } } }
                                }
                            }
                        }
                        @if with_project { th scope="col" { "Project" } }
                    }
                }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(format!("/work_packages/{}", r.wp.id)) { (r.wp.id) } }
                            td { (r.type_name) }
                            td.subject { a href=(format!("/work_packages/{}", r.wp.id)) { (r.wp.state.subject) } }
                            td { span.badge.closed[r.status_closed] { (r.status_name) } }
                            td { (r.assignee_name.as_deref().unwrap_or("—")) }
                            td { (r.priority_name) }
                            td { (viewer.time(r.wp.updated_at)) }
                            @if with_project { td { (r.project_name) } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
    /// "Show as of date" (baseline): `YYYY-MM-DD`.
    as_of: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, WebError> {
    let id = crate::pages::path_id(&id)?;
    render_show(
        &state,
        &viewer,
        id,
        StatusCode::OK,
        "",
        None,
        Extras {
            notice: layout::notice(q.notice.as_deref()),
            as_of: q.as_of.as_deref(),
        },
    )
    .await
}

/// What the page shows besides the work package: a notice after a
/// redirect, and the date for "show as of date".
#[derive(Default)]
struct Extras<'a> {
    notice: Option<&'a str>,
    as_of: Option<&'a str>,
}

async fn render_show(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    status: StatusCode,
    comment: &str,
    comment_error: Option<&str>,
    extras: Extras<'_>,
) -> Result<Response, WebError> {
    let Extras { notice, as_of } = extras;
    let access = viewer.access(state).await?;
    let (row, project) = state.services.work_package(&access, id).await?;
    let history = baseline(state, &row, as_of, &viewer.user.time_zone).await?;
    let activities = state.services.activities(&access, id).await?;
    let may_comment = access.allowed(&project, Permission::AddWorkPackageNotes);
    let may_edit = access.allowed(&project, Permission::EditWorkPackages);
    let rendering = viewer.rendering(state).await?;
    let s = &row.wp.state;
    let opt = |v: Option<String>| html! { (v.unwrap_or_else(|| "—".to_string())) };
    let hours = |h: Option<f64>| opt(h.map(|h| format!("{h} h")));
    let parent = match (s.parent_id, &row.parent_subject) {
        (Some(pid), subject) => html! {
            a href=(format!("/work_packages/{pid}")) { "#" (pid) @if let Some(t) = subject { " " (t) } }
        },
        (None, _) => opt(None),
    };
    let mut attributes: Vec<(String, Markup)> = vec![
        ("Status".into(), opt(Some(row.status_name.clone()))),
        ("Type".into(), opt(Some(row.type_name.clone()))),
        ("Priority".into(), opt(Some(row.priority_name.clone()))),
        ("Assignee".into(), opt(row.assignee_name.clone())),
        ("Accountable".into(), opt(row.responsible_name.clone())),
        ("Author".into(), opt(Some(row.author_name.clone()))),
        (
            "Start date".into(),
            opt(s.start_date.as_ref().map(ToString::to_string)),
        ),
        (
            "Finish date".into(),
            opt(s.due_date.as_ref().map(ToString::to_string)),
        ),
        ("Estimated time".into(), hours(s.estimated_hours)),
        ("Remaining time".into(), hours(s.remaining_hours)),
        ("% done".into(), opt(s.done_ratio.map(|d| format!("{d} %")))),
        ("Version".into(), opt(row.version_name.clone())),
        ("Parent".into(), parent),
    ];
    let custom = state
        .services
        .custom_values(CustomKind::WorkPackage, &[id])
        .await?;
    for shown in custom.of(id) {
        attributes.push((shown.field.name.clone(), custom_value(&shown, rendering)));
    }
    let children_query = WpQuery {
        conds: vec![Cond::IdIn {
            col: IdColumn::Parent,
            ids: vec![id],
            negate: false,
        }],
        sort: vec![(Sort::Id, false)],
        ..WpQuery::default()
    };
    let (children, children_total) = state
        .services
        .list_work_packages(&access, children_query, CHILDREN_SHOWN, 0)
        .await?;
    let title = format!("#{} {}", row.wp.id, s.subject);
    let main = html! {
        p.crumbs {
            a href=(format!("/projects/{}", project.identifier)) { (project.name) }
            " › "
            a href=(format!("/projects/{}/work_packages", project.identifier)) { "Work packages" }
        }
        div.heading {
            h1 { span.muted { (row.type_name) " #" (row.wp.id) } " " (s.subject) }
            @if may_edit {
                a.button href=(format!("/work_packages/{}/edit", row.wp.id)) { "Edit" }
            }
        }
        div.wp {
            section.card aria-labelledby="details" {
                h2 #details { "Details" }
                dl.attrs {
                    @for (k, v) in &attributes {
                        dt { (k) }
                        dd { (v) }
                    }
                }
                p.muted { "Created " (viewer.time(row.wp.created_at)) " · updated " (viewer.time(row.wp.updated_at)) }
            }
            @if !children.is_empty() {
                section.card aria-labelledby="children" {
                    h2 #children { "Children" }
                    ul.plain {
                        @for c in &children {
                            li {
                                a href=(format!("/work_packages/{}", c.wp.id)) { "#" (c.wp.id) " " (c.wp.state.subject) }
                                " " span.badge.closed[c.status_closed] { (c.status_name) }
                            }
                        }
                    }
                    @if children_total > children.len() as i64 {
                        p.muted { (children_total - children.len() as i64) " more not shown." }
                    }
                }
            }
            section.card aria-labelledby="description" {
                h2 #description { "Description" }
                @if s.description.is_empty() {
                    p.muted { "No description." }
                } @else {
                    div.prose { (layout::markdown(&s.description, rendering)) }
                }
            }
        }
        (history)
        section aria-labelledby="activity" {
            h2 #activity { "Activity" }
            ol.activity {
                @for a in &activities {
                    li.entry id=(format!("activity-{}", a.journal.id)) {
                        p.meta {
                            strong { (a.journal.user_name) }
                            " "
                            @if a.journal.version == 1 { "created this work package" }
                            @else if a.journal.notes.is_empty() { "changed" }
                            @else if a.changes.is_empty() { "commented" }
                            @else { "changed and commented" }
                            " · " (viewer.time(a.journal.created_at))
                            @if a.edits > 0 { " · " span.muted { "edited" } }
                        }
                        @if a.journal.version > 1 && !a.changes.is_empty() {
                            ul.changes {
                                @for c in &a.changes {
                                    li { (describe_change(c.attribute, c.old.as_deref(), c.new.as_deref())) }
                                }
                            }
                        }
                        @if !a.journal.notes.is_empty() {
                            div.prose.note { (layout::markdown(&a.journal.notes, rendering)) }
                        }
                    }
                }
            }
            @if may_comment {
                form.stack.comment method="post" action=(format!("/work_packages/{}/comments", row.wp.id)) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    div.field {
                        label for="comment" { "Add a comment" }
                        textarea #comment name="comment" rows="4" required
                            data-mention-source=(format!("/work_packages/{}/mentionable", row.wp.id))
                            aria-invalid=[comment_error.map(|_| "true")]
                            aria-describedby=(described_by("comment", comment_error).unwrap_or_else(|| "comment-help".into())) { (comment) }
                        p.help #comment-help { "Markdown works. Mention someone with @login." }
                        (field_error("comment", comment_error))
                    }
                    button.primary type="submit" { "Comment" }
                }
            }
        }
    };
    Ok(layout::with_text_images(
        viewer.page(status, &title, Nav::WorkPackages, notice, main),
        rendering,
    ))
}

/// What an attribute of the change history is called on the pages;
/// custom fields go by their own name.
pub fn attribute_label(attribute: &str) -> &str {
    match attribute {
        "subject" => "Subject",
        "description" => "Description",
        "status" => "Status",
        "type" => "Type",
        "priority" => "Priority",
        "assignee" => "Assignee",
        "responsible" => "Accountable",
        "author" => "Author",
        "startDate" => "Start date",
        "dueDate" => "Finish date",
        "estimatedTime" => "Estimated time",
        "remainingTime" => "Remaining time",
        "percentageDone" => "% done",
        "parent" => "Parent",
        "version" => "Version",
        "project" => "Project",
        other => other,
    }
}

/// A custom value as the details show it: a text field's Markdown
/// rendered, an option or a person by name.
fn custom_value(shown: &ShownValue<'_>, rendering: Rendering) -> Markup {
    match (&shown.value, shown.field.format) {
        (None, _) => html! { "—" },
        (Some(Value::Text(t)), Format::Text) => {
            html! { div.prose { (layout::markdown(t, rendering)) } }
        }
        (Some(Value::Option(_) | Value::User(_)), _) => {
            html! { (shown.title.clone().unwrap_or_else(|| "—".to_string())) }
        }
        (Some(v), _) => html! { (v.to_string()) },
    }
}

fn describe_change(attribute: &str, old: Option<&str>, new: Option<&str>) -> Markup {
    let label = attribute_label(attribute);
    html! {
        strong { (label) }
        @if attribute == "description" {
            " changed"
        } @else {
            @match (old, new) {
                (None, Some(n)) => { " set to " em { (n) } }
                (Some(o), None) => { " " em { (o) } " removed" }
                (Some(o), Some(n)) => { " changed from " em { (o) } " to " em { (n) } }
                (None, None) => { " changed" }
            }
        }
    }
}

pub async fn comment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = crate::pages::path_id(&id)?;
    let text = form.text("comment");
    let access = viewer.access(&state).await?;
    match state
        .services
        .add_comment(&access, &viewer.user, id, &text)
        .await
    {
        Ok(a) => Ok(layout::see_other(&format!(
            "/work_packages/{id}?notice=comment_added#activity-{}",
            a.journal.id
        ))),
        Err(ServiceError::Invalid(v)) => {
            render_show(
                &state,
                &viewer,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                &text,
                Some(&v.to_string()),
                Extras::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct MentionQuery {
    q: Option<String>,
}

#[derive(serde::Serialize)]
pub struct Mentionable {
    login: String,
    name: String,
}

/// The people one can @-mention in a work package's comments: the users
/// among its project's members whose login or name starts with `q`, for
/// the comment box's completion (`app.js`). JSON, at most 8.
pub async fn mentionable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<MentionQuery>,
) -> Result<axum::Json<Vec<Mentionable>>, WebError> {
    let id = crate::pages::path_id(&id)?;
    let access = viewer.access(&state).await?;
    let (_, project) = state.services.work_package(&access, id).await?;
    let filter = steward_services::memberships::MembershipFilter {
        project_ids: Some(vec![project.id]),
        principal_id: None,
    };
    let (members, _) = state
        .services
        .list_memberships(&access, &filter, 500, 0)
        .await?;
    let q = q.q.unwrap_or_default().trim().to_lowercase();
    let mut out: Vec<Mentionable> = members
        .into_iter()
        .map(|m| m.principal)
        .filter(|u| u.kind == steward_domain::user::PrincipalKind::User)
        .filter(|u| {
            q.is_empty()
                || u.login.to_lowercase().starts_with(&q)
                || u.firstname.to_lowercase().starts_with(&q)
                || u.lastname.to_lowercase().starts_with(&q)
        })
        .map(|u| Mentionable {
            name: u.name(),
            login: u.login,
        })
        .collect();
    out.sort_by(|a, b| a.login.cmp(&b.login));
    out.truncate(8);
    Ok(axum::Json(out))
}

/// "Show as of date": the work package's attributes at the end of a day
/// in the reader's time zone next to their current values, from the
/// change history.
async fn baseline(
    state: &AppState,
    row: &steward_storage::work_packages::WorkPackageRow,
    as_of: Option<&str>,
    zone: &str,
) -> Result<Markup, WebError> {
    let raw = as_of.unwrap_or("").trim();
    let mut error = None;
    let mut missing = false;
    let mut rows: Vec<(&str, String, String)> = Vec::new();
    if !raw.is_empty() {
        let at = steward_domain::date::Date::parse(raw).and_then(|d| d.end_of_day_in(zone));
        match at {
            None => error = Some("Give the date as YYYY-MM-DD."),
            Some(at) => {
                let states = state.services.work_packages_as_of(&[row.wp.id], at).await?;
                match states.get(&row.wp.id) {
                    None => missing = true,
                    Some(then) => rows = compare(state, then, &row.wp.state).await?,
                }
            }
        }
    }
    let err_id = error.map(|_| "as-of-error");
    Ok(html! {
        section.card.history aria-labelledby="history" {
            h2 #history { "History" }
            form.filters method="get" action=(format!("/work_packages/{}#history", row.wp.id)) {
                div.field {
                    label for="as-of" { "Show as of date" }
                    input #as-of name="as_of" type="date" value=(raw)
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[err_id];
                    (field_error("as-of", error))
                }
                button type="submit" { "Show" }
            }
            @if missing {
                p { "This work package did not exist yet at the end of " (raw) "." }
            }
            @if !rows.is_empty() {
                div.table-wrap {
                    table.list {
                        caption.visually-hidden { "Attributes at the end of " (raw) " and now" }
                        thead { tr { th scope="col" { "Attribute" } th scope="col" { "End of " (raw) " (" (zone) ")" } th scope="col" { "Now" } } }
                        tbody {
                            @for (label, then, now) in &rows {
                                tr.changed[then != now] {
                                    th scope="row" { (label) }
                                    td { (then) }
                                    td { (now) }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The attributes of two states, with names for the ids.
async fn compare(
    state: &AppState,
    then: &steward_domain::work_package::WorkPackageState,
    now: &steward_domain::work_package::WorkPackageState,
) -> Result<Vec<(&'static str, String, String)>, WebError> {
    let statuses = state.services.list_reference::<Status>().await?;
    let types = state.services.list_reference::<WpType>().await?;
    let priorities = state
        .services
        .list_reference::<steward_storage::lookups::Priority>()
        .await?;
    let status = |id: i64| {
        statuses
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("#{id}"), |s| s.name.clone())
    };
    let kind = |id: i64| {
        types
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("#{id}"), |t| t.name.clone())
    };
    let priority = |id: i64| {
        priorities
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| format!("#{id}"), |p| p.name.clone())
    };
    let person = |id: Option<i64>| {
        let services = state.services.clone();
        async move {
            match id {
                None => "—".to_string(),
                Some(id) => services
                    .user(id)
                    .await
                    .map_or_else(|_| format!("#{id}"), |u| u.name()),
            }
        }
    };
    let date = |d: &Option<steward_domain::date::Date>| {
        d.as_ref()
            .map_or_else(|| "—".to_string(), ToString::to_string)
    };
    let done = |d: Option<i64>| d.map_or_else(|| "—".to_string(), |v| format!("{v} %"));
    Ok(vec![
        ("Subject", then.subject.clone(), now.subject.clone()),
        ("Type", kind(then.type_id), kind(now.type_id)),
        ("Status", status(then.status_id), status(now.status_id)),
        (
            "Priority",
            priority(then.priority_id),
            priority(now.priority_id),
        ),
        (
            "Assignee",
            person(then.assigned_to_id).await,
            person(now.assigned_to_id).await,
        ),
        (
            "Accountable",
            person(then.responsible_id).await,
            person(now.responsible_id).await,
        ),
        ("Start date", date(&then.start_date), date(&now.start_date)),
        ("Finish date", date(&then.due_date), date(&now.due_date)),
        ("% done", done(then.done_ratio), done(now.done_ratio)),
    ])
}
