//! A project's members and their roles: the list, adding someone, changing
//! a member's roles and removing a membership. Who may do it is `Access`'s
//! "manage members".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_domain::permission::Permission;
use steward_domain::project::Project;
use steward_domain::user::PrincipalKind;
use steward_http::AppState;
use steward_services::authz::Access;
use steward_services::memberships::{MembershipFilter, MembershipInput, MembershipView};
use steward_services::principals::PrincipalQuery;
use steward_services::ServiceError;
use steward_storage::roles::Role;

use super::NoticeQuery;
use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, Nav};
use crate::session::Viewer;

/// `error` is about the form adding a member; `roles_error` about the
/// roles form of one membership (its id and the message).
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    viewer: &Viewer,
    access: &Access,
    project: &Project,
    status: StatusCode,
    error: Option<&str>,
    roles_error: Option<(i64, &str)>,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let filter = MembershipFilter {
        project_ids: Some(vec![project.id]),
        principal_id: None,
    };
    let (members, _) = state
        .services
        .list_memberships(access, &filter, 500, 0)
        .await?;
    let may_manage = access.allowed(project, Permission::ManageMembers);
    let (candidates, roles) = if may_manage {
        let query = PrincipalQuery {
            kinds: Some(vec![PrincipalKind::User, PrincipalKind::Group]),
            ..PrincipalQuery::default()
        };
        let (people, _) = state
            .services
            .list_principals(access, &query, 1000, 0)
            .await?;
        let people: Vec<_> = people
            .into_iter()
            .filter(|p| !members.iter().any(|m| m.principal.id == p.id))
            .collect();
        let roles: Vec<_> = state
            .services
            .list_roles()
            .await?
            .into_iter()
            .filter(|r| r.kind == "project" && r.builtin.is_none())
            .collect();
        (people, roles)
    } else {
        (Vec::new(), Vec::new())
    };
    let main = html! {
        p.crumbs { a href=(format!("/projects/{}", project.identifier)) { (project.name) } }
        h1 { "Members" }
        @if members.is_empty() {
            p.muted { "This project has no members yet." }
        } @else {
            div.table-wrap {
                table.list {
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Roles" }
                        @if may_manage { th scope="col" { span.visually-hidden { "Actions" } } }
                    } }
                    tbody {
                        @for m in &members {
                            tr {
                                td {
                                    (m.principal.name())
                                    @if m.principal.kind == PrincipalKind::Group { " " span.badge { "group" } }
                                }
                                td { @for (i, r) in m.roles.iter().enumerate() { @if i > 0 { ", " } (r.name) } }
                                @if may_manage {
                                    td {
                                        @if m.can_manage {
                                            (roles_form(viewer, project, m, &roles, roles_error))
                                            form.inline method="post" action=(format!("/projects/{}/members/{}/delete", project.identifier, m.membership.id)) {
                                                input type="hidden" name="csrf_token" value=(viewer.csrf());
                                                button.danger type="submit" data-confirm=(format!("Remove {} from {}?", m.principal.name(), project.name)) { "Remove" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if may_manage {
            section.narrow {
                h2 { "Add a member" }
                @if let Some(e) = error { div.alert role="alert" { (e) } }
                @if candidates.is_empty() {
                    p.muted { "Everyone you can add is a member already." }
                } @else {
                    form.stack method="post" action=(format!("/projects/{}/members", project.identifier)) {
                        input type="hidden" name="csrf_token" value=(viewer.csrf());
                        div.field {
                            label for="principal" { "User or group" }
                            select #principal name="principal" required {
                                option value="" { "Choose…" }
                                @for p in &candidates {
                                    option value=(p.id) { (p.name()) @if p.kind == PrincipalKind::User { " (" (p.login) ")" } }
                                }
                            }
                        }
                        fieldset {
                            legend { "Roles" }
                            @for r in &roles {
                                div.field.check {
                                    input id=(format!("role-{}", r.id)) name="role" type="checkbox" value=(r.id);
                                    label for=(format!("role-{}", r.id)) { (r.name) }
                                }
                            }
                        }
                        button.primary type="submit" { "Add" }
                    }
                }
            }
        }
    };
    Ok(viewer.page(
        status,
        &format!("Members · {}", project.name),
        Nav::Projects,
        notice,
        main,
    ))
}

/// The roles of one membership as checkboxes, folded away until wanted
/// (open when the last attempt was refused, with the message).
fn roles_form(
    viewer: &Viewer,
    project: &Project,
    m: &MembershipView,
    roles: &[Role],
    error: Option<(i64, &str)>,
) -> Markup {
    let mid = m.membership.id;
    let error = error.filter(|(id, _)| *id == mid).map(|(_, e)| e);
    let error_id = format!("member-{mid}-roles");
    html! {
        details open[error.is_some()] {
            summary { "Change roles" }
            form.stack method="post" action=(format!("/projects/{}/members/{mid}/roles", project.identifier)) {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                fieldset aria-describedby=[layout::described_by(&error_id, error)] {
                    legend { "Roles of " (m.principal.name()) }
                    @for r in roles {
                        @let id = format!("member-{mid}-role-{}", r.id);
                        div.field.check {
                            input id=(id) name="role" type="checkbox" value=(r.id)
                                checked[m.membership.role_ids.contains(&r.id)];
                            label for=(id) { (r.name) }
                        }
                    }
                }
                (layout::field_error(&error_id, error))
                button type="submit" { "Save roles" }
            }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    render(
        &state,
        &viewer,
        &access,
        &project,
        StatusCode::OK,
        None,
        None,
        layout::notice(q.notice.as_deref()),
    )
    .await
}

pub async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    let input = MembershipInput {
        project_id: Some(project.id),
        principal_id: form.text("principal").trim().parse().ok(),
        role_ids: form
            .all("role")
            .filter_map(|v| v.trim().parse().ok())
            .collect(),
    };
    match state.services.create_membership(&access, input).await {
        Ok(_) => Ok(layout::see_other(&format!(
            "/projects/{}/members?notice=member_added",
            project.identifier
        ))),
        Err(ServiceError::Invalid(v)) => {
            render(
                &state,
                &viewer,
                &access,
                &project,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&v.to_string()),
                None,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The project and the membership id of a member form, which must name a
/// membership of this project, whatever id was sent.
async fn this_projects_membership(
    state: &AppState,
    access: &Access,
    project: &str,
    membership: &str,
) -> Result<(Project, i64), WebError> {
    let project = state.services.project(access, project).await?;
    let membership = crate::pages::path_id(membership)?;
    let view = state.services.membership(access, membership).await?;
    if view.membership.project_id != Some(project.id) {
        return Err(WebError::NotFound);
    }
    Ok((project, membership))
}

pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, membership)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let (project, membership) = this_projects_membership(&state, &access, &id, &membership).await?;
    state
        .services
        .delete_membership(&access, membership)
        .await?;
    Ok(layout::see_other(&format!(
        "/projects/{}/members?notice=member_removed",
        project.identifier
    )))
}

/// Replaces the roles of a membership of this project.
pub async fn set_roles(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, membership)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let (project, membership) = this_projects_membership(&state, &access, &id, &membership).await?;
    let role_ids = form
        .all("role")
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    match state
        .services
        .update_membership(&access, membership, Some(role_ids))
        .await
    {
        Ok(_) => Ok(layout::see_other(&format!(
            "/projects/{}/members?notice=member_roles_saved",
            project.identifier
        ))),
        Err(ServiceError::Invalid(v)) => {
            render(
                &state,
                &viewer,
                &access,
                &project,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some((membership, &v.to_string())),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
