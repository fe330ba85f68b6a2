//! Administration of roles and their permissions: the list, a new role, a
//! role's page (name and permissions) and deleting a role. Only
//! administrators reach these pages (`AdminViewer`); the services keep the
//! rules (unique names, permissions fitting the kind, built-in roles, roles
//! in use).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_domain::permission::Permission;
use steward_http::AppState;
use steward_services::roles::{RoleInput, RoleUsage};
use steward_services::ServiceError;

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, described_by, field_error, message_for, Nav};
use crate::pages::{admin_menu, path_id, NoticeQuery};
use crate::session::{AdminViewer, Viewer};

/// "view_work_packages" → "View work packages".
fn permission_label(p: Permission) -> String {
    let words = p.name().replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// The groups the form shows permissions in, with the kind of role that
/// may hold them.
struct PermissionGroup {
    id: &'static str,
    legend: &'static str,
    kind: &'static str,
    members: fn(Permission) -> bool,
}

const GROUPS: &[PermissionGroup] = &[
    PermissionGroup {
        id: "project",
        legend: "Project",
        kind: "project",
        members: |p| !p.is_global() && p.module().is_none(),
    },
    PermissionGroup {
        id: "work_packages",
        legend: "Work packages",
        kind: "project",
        members: |p| !p.is_global() && p.module() == Some("work_package_tracking"),
    },
    PermissionGroup {
        id: "global",
        legend: "Global",
        kind: "global",
        members: |p| p.is_global(),
    },
];

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "global" => "Global role",
        _ => "Project role",
    }
}

fn builtin_label(builtin: Option<&str>) -> &'static str {
    match builtin {
        Some("non_member") => "Yes (people who are not members)",
        Some("anonymous") => "Yes (visitors who are not signed in)",
        Some(_) => "Yes",
        None => "No",
    }
}

pub async fn list(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let roles = state.services.role_usages(&access).await?;
    let main = html! {
        (admin_menu("/admin/roles"))
        h1 { "Roles and permissions" }
        p { a.button href="/admin/roles/new" { "New role" } }
        div.table-wrap {
            table.list {
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Kind" }
                    th scope="col" { "Built in" }
                    th scope="col" { "Permissions" }
                    th scope="col" { "Memberships" }
                } }
                tbody {
                    @for u in &roles {
                        tr {
                            td { a href=(format!("/admin/roles/{}", u.role.id)) { (u.role.name) } }
                            td { (kind_label(&u.role.kind)) }
                            td { (builtin_label(u.role.builtin.as_deref())) }
                            td { (u.role.permissions.iter().count()) }
                            td { (u.memberships) }
                        }
                    }
                }
            }
        }
    };
    Ok(viewer.page(
        StatusCode::OK,
        "Roles and permissions",
        Nav::Admin,
        layout::notice(q.notice.as_deref()),
        main,
    ))
}

/// What the form shows: the stored values, or what was typed.
struct Values {
    name: String,
    kind: String,
    permissions: Vec<String>,
}

impl Values {
    fn of(u: &RoleUsage) -> Self {
        Values {
            name: u.role.name.clone(),
            kind: u.role.kind.clone(),
            permissions: u
                .role
                .permissions
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
        }
    }

    fn from_form(form: &Form, kind: String) -> Self {
        Values {
            name: form.text("name"),
            kind,
            permissions: form.all("permission").map(str::to_string).collect(),
        }
    }
}

/// One group of permission checkboxes. On the new-role form every group is
/// shown (the script hides those that do not fit the chosen kind); on a
/// role's page only those of its kind.
fn permission_group(group: &PermissionGroup, v: &Values, error_id: Option<&str>) -> Markup {
    html! {
        fieldset data-role-kind=(group.kind) aria-describedby=[error_id] {
            legend {
                (group.legend)
                @if group.kind == "global" { " (global roles only)" } @else { " (project roles only)" }
            }
            @for p in Permission::ALL.iter().copied().filter(|p| (group.members)(*p)) {
                @let id = format!("perm-{}", p.name());
                div.field.check {
                    input id=(id) name="permission" type="checkbox" value=(p.name())
                        checked[v.permissions.iter().any(|n| n == p.name())];
                    label for=(id) { (permission_label(p)) }
                }
            }
        }
        @if group.id == "work_packages" {
            p.help { "Work package permissions apply in projects that use work packages." }
        }
    }
}

/// The name field and the permission groups, shared by both forms.
fn role_fields(v: &Values, error: Option<(&str, &str)>, builtin: bool, kinds: &[&str]) -> Markup {
    let name_error = message_for(error, "name");
    let perm_error = message_for(error, "permissions");
    let perm_error_id = described_by("permissions", perm_error);
    let name_described = match (described_by("name", name_error), builtin) {
        (Some(e), true) => Some(format!("{e} name-help")),
        (Some(e), false) => Some(e),
        (None, true) => Some("name-help".to_string()),
        (None, false) => None,
    };
    html! {
        div.field {
            label for="name" { "Name" }
            input #name name="name" type="text" value=(v.name) required maxlength="255"
                aria-invalid=[name_error.map(|_| "true")] aria-describedby=[name_described];
            @if builtin {
                p.help #name-help { "A built-in role keeps its name; its permissions can be changed." }
            }
            (field_error("name", name_error))
        }
        h2 { "Permissions" }
        (field_error("permissions", perm_error))
        @for g in GROUPS.iter().filter(|g| kinds.contains(&g.kind)) {
            (permission_group(g, v, perm_error_id.as_deref()))
        }
    }
}

fn render_new(
    viewer: &Viewer,
    v: &Values,
    status: StatusCode,
    error: Option<(&str, &str)>,
) -> Response {
    let kind_error = message_for(error, "kind");
    let main = html! {
        (admin_menu("/admin/roles"))
        p.crumbs { a href="/admin/roles" { "Roles and permissions" } }
        h1 { "New role" }
        section.narrow {
            form.stack method="post" action="/admin/roles" novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                fieldset #kind aria-describedby=[described_by("kind", kind_error)] {
                    legend { "Kind" }
                    div.field.check {
                        input #kind-project name="kind" type="radio" value="project" checked[v.kind == "project"];
                        label for="kind-project" { "Project role: given to members of a project" }
                    }
                    div.field.check {
                        input #kind-global name="kind" type="radio" value="global" checked[v.kind == "global"];
                        label for="kind-global" { "Global role: given without a project" }
                    }
                    p.help { "The kind cannot be changed later." }
                }
                (field_error("kind", kind_error))
                (role_fields(v, error, false, &["project", "global"]))
                button.primary type="submit" { "Create" }
            }
        }
    };
    viewer.page(status, "New role", Nav::Admin, None, main)
}

pub async fn new_form(AdminViewer(viewer): AdminViewer) -> Result<Response, WebError> {
    let v = Values {
        name: String::new(),
        kind: "project".into(),
        permissions: Vec::new(),
    };
    Ok(render_new(&viewer, &v, StatusCode::OK, None))
}

pub async fn create(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let v = Values::from_form(&form, form.text("kind"));
    let input = RoleInput {
        name: Some(v.name.clone()),
        kind: Some(v.kind.clone()),
        permissions: Some(v.permissions.clone()),
    };
    match state.services.create_role(&access, input).await {
        Ok(role) => Ok(layout::see_other(&format!(
            "/admin/roles/{}?notice=role_created",
            role.id
        ))),
        Err(ServiceError::Invalid(e)) => Ok(render_new(
            &viewer,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            layout::first_refusal(&e),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A role's page: its name and permissions, and deleting it. `error` is a
/// validation error (attribute, message); `alert` a refusal shown above.
fn render_role(
    viewer: &Viewer,
    u: &RoleUsage,
    v: &Values,
    status: StatusCode,
    error: Option<(&str, &str)>,
    alert: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let base = format!("/admin/roles/{}", u.role.id);
    let builtin = u.role.builtin.is_some();
    let main = html! {
        (admin_menu("/admin/roles"))
        p.crumbs { a href="/admin/roles" { "Roles and permissions" } }
        h1 { (u.role.name) }
        @if let Some(m) = alert { div.alert role="alert" { (m) } }
        dl.attrs {
            dt { "Kind" } dd { (kind_label(&u.role.kind)) }
            dt { "Built in" } dd { (builtin_label(u.role.builtin.as_deref())) }
            dt { "Memberships" } dd { (u.memberships) }
        }
        section.narrow {
            form.stack method="post" action=(base) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                (role_fields(v, error, builtin, &[u.role.kind.as_str()]))
                button.primary type="submit" { "Save" }
            }
            h2 { "Delete" }
            @if builtin {
                p { "Built-in roles cannot be deleted." }
            } @else {
                @if u.memberships > 0 {
                    p { "Memberships using this role: " (u.memberships) ". It can only be deleted when none do." }
                }
                form.inline method="post" action=(format!("{base}/delete")) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf());
                    button.danger type="submit" data-confirm=(format!("Delete the role {}?", u.role.name)) { "Delete this role" }
                }
            }
        }
    };
    viewer.page(status, &u.role.name, Nav::Admin, notice, main)
}

pub async fn show(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let u = state.services.role_usage(&access, path_id(&id)?).await?;
    Ok(render_role(
        &viewer,
        &u,
        &Values::of(&u),
        StatusCode::OK,
        None,
        None,
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
    let access = viewer.access(&state).await?;
    let u = state.services.role_usage(&access, id).await?;
    let v = Values::from_form(&form, u.role.kind.clone());
    let input = RoleInput {
        name: Some(v.name.clone()),
        kind: None,
        permissions: Some(v.permissions.clone()),
    };
    match state.services.update_role(&access, id, input).await {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/roles/{id}?notice=role_saved"
        ))),
        Err(ServiceError::Invalid(e)) => Ok(render_role(
            &viewer,
            &u,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            layout::first_refusal(&e),
            None,
            None,
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = path_id(&id)?;
    let access = viewer.access(&state).await?;
    match state.services.delete_role(&access, id).await {
        Ok(()) => Ok(layout::see_other("/admin/roles?notice=role_deleted")),
        // Built in, or held by memberships: the role's page again, with why.
        Err(ServiceError::Conflict(m)) => {
            let u = state.services.role_usage(&access, id).await?;
            Ok(render_role(
                &viewer,
                &u,
                &Values::of(&u),
                StatusCode::CONFLICT,
                None,
                Some(&m),
                None,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_a_label_and_one_group() {
        assert_eq!(
            permission_label(Permission::ViewWorkPackages),
            "View work packages"
        );
        for p in Permission::ALL.iter().copied() {
            let groups: Vec<_> = GROUPS.iter().filter(|g| (g.members)(p)).collect();
            assert_eq!(groups.len(), 1, "{}", p.name());
            assert_eq!(groups[0].kind == "global", p.is_global(), "{}", p.name());
        }
    }
}
