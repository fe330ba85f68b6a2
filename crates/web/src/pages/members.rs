//! A project's members and their roles: the list, adding someone, and
//! removing a membership. Who may do it is `Access`'s "manage members".

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use steward_api::AppState;
use steward_domain::permission::Permission;
use steward_domain::project::Project;
use steward_domain::user::PrincipalKind;
use steward_services::memberships::{MembershipFilter, MembershipInput};
use steward_services::principals::PrincipalQuery;
use steward_services::ServiceError;

use super::NoticeQuery;
use crate::error::WebError;
use crate::forms::Form;
use crate::layout::{self, Nav};
use crate::session::Viewer;

async fn render(
    state: &AppState,
    viewer: &Viewer,
    project: &Project,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let access = viewer.access(state).await?;
    let filter = MembershipFilter {
        project_ids: Some(vec![project.id]),
        principal_id: None,
    };
    let (members, _) = state
        .services
        .list_memberships(&access, &filter, 500, 0)
        .await?;
    let may_manage = access.allowed(project, Permission::ManageMembers);
    let (candidates, roles) = if may_manage {
        let query = PrincipalQuery {
            kinds: Some(vec![PrincipalKind::User, PrincipalKind::Group]),
            ..PrincipalQuery::default()
        };
        let (people, _) = state
            .services
            .list_principals(&access, &query, 1000, 0)
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
        &project,
        StatusCode::OK,
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
                &project,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&v.message),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, membership)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let access = viewer.access(&state).await?;
    let project = state.services.project(&access, &id).await?;
    let membership = membership.parse::<i64>().map_err(|_| WebError::NotFound)?;
    // Only a membership of this project, whatever id was sent.
    let view = state.services.membership(&access, membership).await?;
    if view.membership.project_id != Some(project.id) {
        return Err(WebError::NotFound);
    }
    state
        .services
        .delete_membership(&access, membership)
        .await?;
    Ok(layout::see_other(&format!(
        "/projects/{}/members?notice=member_removed",
        project.identifier
    )))
}
