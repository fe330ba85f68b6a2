//! Administration of the reference data work packages point to: types,
//! statuses and priorities. The three share one set of pages (a list, a
//! form for a new row and for an existing one, and deleting); [`Kind`]
//! gives each its path, its labels and the fields only it has. The
//! services keep the rules (unique names, one default, nothing deleted
//! that work packages use) and this module shows their answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use steward_http::AppState;
use steward_services::lookups::{
    PriorityFields, ReferenceInput, ReferenceTable, StatusFields, TypeFields,
};
use steward_services::ServiceError;
use steward_storage::lookups::{Priority, Status, WpType};

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, described_by, field_error, general_message, message_for, Input, Nav};
use crate::pages::{admin_menu, path_id, refusal, NoticeQuery};
use crate::session::{AdminViewer, Viewer};

/// The yes/no property each kind has besides the default flag.
pub struct Flag {
    /// The form field.
    pub field: &'static str,
    /// The label of the checkbox and the heading of its column.
    pub label: &'static str,
    /// What the box means, under it.
    pub help: &'static str,
    /// The service's name for it in validation errors.
    pub attribute: &'static str,
}

/// What the pages need to know about one kind of reference row.
pub trait Kind: ReferenceTable + Send + Sync + 'static {
    /// The list page; the forms and actions live under it.
    const PATH: &'static str;
    /// The kind in the plural, capitalised: the list's title.
    const TITLE: &'static str;
    const FLAG: Flag;
    /// Whether rows of this kind have a colour.
    const COLORED: bool;
    /// The notice keys (see `layout::notice`) after creating, saving and
    /// deleting a row.
    const NOTICES: [&'static str; 3];

    fn flag(&self) -> bool;
    /// `#RRGGBB`, or "" for none (and for kinds without colours).
    fn color(&self) -> &str;
    /// The kind's own fields of an input, from the form.
    fn own(flag: bool, color: &str) -> Self::Own;
}

impl Kind for WpType {
    const PATH: &'static str = "/admin/types";
    const TITLE: &'static str = "Types";
    const FLAG: Flag = Flag {
        field: "is_milestone",
        label: "Milestone",
        help: "Work packages of this type are milestones: a single date, not a span.",
        attribute: "isMilestone",
    };
    const COLORED: bool = true;
    const NOTICES: [&'static str; 3] = ["type_created", "type_saved", "type_deleted"];

    fn flag(&self) -> bool {
        self.is_milestone
    }
    fn color(&self) -> &str {
        &self.color
    }
    fn own(flag: bool, color: &str) -> TypeFields {
        TypeFields {
            is_milestone: Some(flag),
            color: Some(Some(color.to_string())),
        }
    }
}

impl Kind for Status {
    const PATH: &'static str = "/admin/statuses";
    const TITLE: &'static str = "Statuses";
    const FLAG: Flag = Flag {
        field: "is_closed",
        label: "Closed",
        help: "Work packages in this status count as closed.",
        attribute: "isClosed",
    };
    const COLORED: bool = true;
    const NOTICES: [&'static str; 3] = ["status_created", "status_saved", "status_deleted"];

    fn flag(&self) -> bool {
        self.is_closed
    }
    fn color(&self) -> &str {
        &self.color
    }
    fn own(flag: bool, color: &str) -> StatusFields {
        StatusFields {
            is_closed: Some(flag),
            color: Some(Some(color.to_string())),
        }
    }
}

impl Kind for Priority {
    const PATH: &'static str = "/admin/priorities";
    const TITLE: &'static str = "Priorities";
    const FLAG: Flag = Flag {
        field: "is_active",
        label: "Active",
        help: "Only active priorities can be chosen for work packages.",
        attribute: "isActive",
    };
    const COLORED: bool = false;
    const NOTICES: [&'static str; 3] = ["priority_created", "priority_saved", "priority_deleted"];

    fn flag(&self) -> bool {
        self.active
    }
    fn color(&self) -> &str {
        ""
    }
    fn own(flag: bool, _color: &str) -> PriorityFields {
        PriorityFields {
            is_active: Some(flag),
        }
    }
}

/// The pages of one kind, to merge into the web router.
pub fn routes<K: Kind>() -> Router<AppState> {
    Router::new()
        .route(K::PATH, get(list::<K>).post(create::<K>))
        .route(&format!("{}/new", K::PATH), get(new_form::<K>))
        .route(
            &format!("{}/{{id}}", K::PATH),
            get(edit_form::<K>).post(update::<K>),
        )
        .route(&format!("{}/{{id}}/delete", K::PATH), post(delete::<K>))
}

/// The row with this id, or "not found".
async fn find<K: Kind>(state: &AppState, id: i64) -> Result<K, WebError> {
    state
        .services
        .list_reference::<K>()
        .await?
        .into_iter()
        .find(|r| r.id() == id)
        .ok_or(WebError::NotFound)
}

/// A square of the colour, as an SVG `data:` image: the CSP allows those
/// but no inline style. Only a well-formed `#RRGGBB` gets one, so nothing
/// but hex digits ever reaches the URL.
fn swatch(color: &str) -> Option<String> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16'%3E\
         %3Crect x='.5' y='.5' width='15' height='15' rx='3' fill='%23{hex}' stroke='%23666'/%3E%3C/svg%3E"
    ))
}

fn yes_no(v: bool) -> &'static str {
    if v {
        "yes"
    } else {
        "no"
    }
}

fn render_list<K: Kind>(
    viewer: &Viewer,
    rows: &[K],
    status: StatusCode,
    notice: Option<&str>,
    alert: Option<&str>,
) -> Response {
    let main = html! {
        (admin_menu(K::PATH))
        h1 { (K::TITLE) }
        @if let Some(m) = alert { div.alert role="alert" { (m) } }
        p { a.button href=(format!("{}/new", K::PATH)) { "New " (K::ONE) } }
        div.table-wrap {
            table.list {
                thead { tr {
                    th scope="col" { "Name" }
                    @if K::COLORED { th scope="col" { "Colour" } }
                    th scope="col" { "Default" }
                    th scope="col" { (K::FLAG.label) }
                    th scope="col" { "Position" }
                    th scope="col" { "Actions" }
                } }
                tbody {
                    @for r in rows {
                        @let edit = format!("{}/{}", K::PATH, r.id());
                        tr {
                            th scope="row" { a href=(edit) { (r.name()) } }
                            @if K::COLORED {
                                td {
                                    @if let Some(src) = swatch(r.color()) {
                                        img src=(src) alt="" width="16" height="16";
                                        " "
                                    }
                                    @if r.color().is_empty() { span.muted { "none" } } @else { code { (r.color()) } }
                                }
                            }
                            td { @if r.is_default() { span.badge { "default" } } @else { "no" } }
                            td { (yes_no(r.flag())) }
                            td { (r.position()) }
                            td { div.actions {
                                a href=(edit) aria-label=(format!("Edit {}", r.name())) { "Edit" }
                                form.inline method="post" action=(format!("{edit}/delete")) {
                                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                                    button.danger type="submit"
                                        aria-label=(format!("Delete {}", r.name()))
                                        data-confirm=(format!("Delete the {} {}?", K::ONE, r.name())) { "Delete" }
                                }
                            } }
                        }
                    }
                }
            }
        }
    };
    viewer.page(status, K::TITLE, Nav::Admin, notice, main)
}

pub async fn list<K: Kind>(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let rows = state.services.list_reference::<K>().await?;
    Ok(render_list(
        &viewer,
        &rows,
        StatusCode::OK,
        layout::notice(q.notice.as_deref()),
        None,
    ))
}

/// What the form shows: a row's values, or what was typed.
struct Values {
    name: String,
    /// As typed: empty means "last" for a new row and "unchanged" otherwise.
    position: String,
    is_default: bool,
    flag: bool,
    color: String,
}

impl Values {
    fn of<K: Kind>(row: &K) -> Self {
        Values {
            name: row.name().to_string(),
            position: row.position().to_string(),
            is_default: row.is_default(),
            flag: row.flag(),
            color: row.color().to_string(),
        }
    }

    /// A new row: the kind's blank values, placed last.
    fn blank<K: Kind>() -> Self {
        Values {
            position: String::new(),
            ..Values::of(&K::blank())
        }
    }

    fn from_form<K: Kind>(form: &Form) -> Self {
        Values {
            name: form.text("name"),
            position: form.text("position"),
            is_default: form.checked("is_default"),
            flag: form.checked(K::FLAG.field),
            color: form.text("color"),
        }
    }

    /// The input for the services, or the message for a position that is
    /// not a number (the services check the range).
    fn input<K: Kind>(&self) -> Result<ReferenceInput<K::Own>, ServiceError> {
        let position = match self.position.trim() {
            "" => None,
            p => Some(p.parse::<i64>().map_err(|_| {
                steward_domain::ValidationError::new(
                    "position",
                    "Position must be a whole number, for example 3.",
                )
            })?),
        };
        Ok(ReferenceInput {
            name: Some(self.name.clone()),
            is_default: Some(self.is_default),
            position,
            own: K::own(self.flag, &self.color),
        })
    }
}

/// A refusal to show on the form: the service's attribute and message.
type Refusal<'a> = Option<(&'a str, &'a str)>;

fn check_field(id: &str, label: &str, checked: bool, help: &str, err: Option<&str>) -> Markup {
    let help_id = format!("{id}-help");
    let described = match described_by(id, err) {
        Some(e) => format!("{help_id} {e}"),
        None => help_id.clone(),
    };
    html! {
        div.field.check {
            input id=(id) name=(id) type="checkbox" value="1" checked[checked]
                aria-invalid=[err.map(|_| "true")] aria-describedby=(described);
            div {
                label for=(id) { (label) }
                p.help id=(help_id) { (help) }
                (field_error(id, err))
            }
        }
    }
}

/// The form for a new row (`row` is `None`) or for an existing one.
fn render_form<K: Kind>(
    viewer: &Viewer,
    row: Option<&K>,
    v: &Values,
    status: StatusCode,
    error: Refusal<'_>,
) -> Response {
    let (title, action) = match row {
        Some(r) => (r.name().to_string(), format!("{}/{}", K::PATH, r.id())),
        None => (format!("New {}", K::ONE), K::PATH.to_string()),
    };
    let field_attributes = ["name", "position", "isDefault", "color", K::FLAG.attribute];
    let general = general_message(error, &field_attributes);
    let position_help = if row.is_some() {
        "Rows are listed by position, smallest first."
    } else {
        "Rows are listed by position, smallest first. Leave empty to put it last."
    };
    let main = html! {
        (admin_menu(K::PATH))
        p.crumbs { a href=(K::PATH) { (K::TITLE) } }
        h1 { (title) }
        section.narrow {
            @if let Some(m) = general { div.alert role="alert" { (m) } }
            form.stack method="post" action=(action) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (Input::new("name", "Name", &v.name).required().error(message_for(error, "name")))
                @if K::COLORED {
                    (Input::new("color", "Colour", &v.color)
                        .help("#RRGGBB: six hexadecimal digits, for example #1A67A3. Leave empty for no colour.")
                        .pattern("#[0-9A-Fa-f]{6}")
                        .error(message_for(error, "color")))
                }
                (check_field(K::FLAG.field, K::FLAG.label, v.flag, K::FLAG.help,
                    message_for(error, K::FLAG.attribute)))
                (check_field("is_default", "Default", v.is_default,
                    &format!("There is exactly one default {one}; making this one the default takes the mark from the other.", one = K::ONE),
                    message_for(error, "isDefault")))
                (Input::new("position", "Position", &v.position)
                    .help(position_help)
                    .error(message_for(error, "position")))
                button.primary type="submit" { @if row.is_some() { "Save" } @else { "Create" } }
            }
        }
    };
    viewer.page(status, &title, Nav::Admin, None, main)
}

pub async fn new_form<K: Kind>(AdminViewer(viewer): AdminViewer) -> Result<Response, WebError> {
    Ok(render_form::<K>(
        &viewer,
        None,
        &Values::blank::<K>(),
        StatusCode::OK,
        None,
    ))
}

/// The form again after a refusal: 422 for a field, 409 for a conflict.
fn refused<K: Kind>(
    viewer: &Viewer,
    row: Option<&K>,
    v: &Values,
    e: ServiceError,
) -> Result<Response, WebError> {
    let (status, errors) = refusal(e)?;
    Ok(render_form(
        viewer,
        row,
        v,
        status,
        layout::first_refusal(&errors),
    ))
}

pub async fn create<K: Kind>(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let v = Values::from_form::<K>(&form);
    let access = viewer.access(&state).await?;
    let outcome = match v.input::<K>() {
        Ok(input) => state.services.create_reference::<K>(&access, input).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(layout::see_other(&format!(
            "{}?notice={}",
            K::PATH,
            K::NOTICES[0]
        ))),
        Err(e) => refused::<K>(&viewer, None, &v, e),
    }
}

pub async fn edit_form<K: Kind>(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let row = find::<K>(&state, path_id(&id)?).await?;
    Ok(render_form(
        &viewer,
        Some(&row),
        &Values::of(&row),
        StatusCode::OK,
        None,
    ))
}

pub async fn update<K: Kind>(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let row = find::<K>(&state, path_id(&id)?).await?;
    let v = Values::from_form::<K>(&form);
    let access = viewer.access(&state).await?;
    let outcome = match v.input::<K>() {
        Ok(input) => {
            state
                .services
                .update_reference::<K>(&access, row.id(), input)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(layout::see_other(&format!(
            "{}?notice={}",
            K::PATH,
            K::NOTICES[1]
        ))),
        Err(e) => refused(&viewer, Some(&row), &v, e),
    }
}

pub async fn delete<K: Kind>(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = path_id(&id)?;
    let access = viewer.access(&state).await?;
    match state.services.delete_reference::<K>(&access, id).await {
        Ok(()) => Ok(layout::see_other(&format!(
            "{}?notice={}",
            K::PATH,
            K::NOTICES[2]
        ))),
        // The default row, or one that work packages use: the list again,
        // with why it stays.
        Err(ServiceError::Conflict(m)) => {
            let rows = state.services.list_reference::<K>().await?;
            Ok(render_list(
                &viewer,
                &rows,
                StatusCode::CONFLICT,
                None,
                Some(&m),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::swatch;

    #[test]
    fn swatches_only_for_hex_colours() {
        let src = swatch("#1a67A3").unwrap();
        assert!(src.starts_with("data:image/svg+xml,"), "{src}");
        assert!(src.contains("fill='%231a67A3'"), "{src}");
        for bad in ["", "#12345", "1A67A3", "#GGGGGG", "#1A67A3'/><x"] {
            assert!(swatch(bad).is_none(), "{bad}");
        }
    }
}
