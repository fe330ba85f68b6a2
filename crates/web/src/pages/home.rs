//! The home page: my projects, the open work packages I am assigned to or
//! accountable for, and what changed lately where I can see: the latest
//! journals (changes and comments) and the recently updated work packages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use steward_http::AppState;
use steward_services::recent_activity::RecentActivity;
use steward_storage::projects::ProjectFilter;
use steward_storage::work_packages::{Cond, Query, Sort, UserColumn, WorkPackageRow};

use crate::error::WebError;
use crate::layout::{self, Nav};
use crate::pages::work_packages::attribute_label;
use crate::session::Viewer;

const SHOWN: i64 = 20;
/// Entries of the activity feed.
const ACTIVITY_SHOWN: i64 = 15;
/// Characters of a comment the feed shows.
const EXCERPT: usize = 140;

/// The services take the order of a project listing as the storage layer's
/// ordering expression; this is the one the API uses for `name`.
pub const BY_NAME: &str = "lower(p.name) ASC";

pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let filter = ProjectFilter {
        active: Some(true),
        ..ProjectFilter::default()
    };
    let (projects, _) = state
        .services
        .list_projects(&access, &filter, BY_NAME, 200, 0)
        .await?;
    let mine: Vec<_> = projects
        .into_iter()
        .filter(|p| access.is_member(p.id))
        .collect();
    let me = viewer.user.id;
    let open_for = |col| Query {
        conds: vec![
            Cond::StatusOpen(true),
            Cond::UserIn {
                col,
                ids: vec![me],
                negate: false,
            },
        ],
        sort: vec![(Sort::UpdatedAt, true)],
        ..Query::default()
    };
    let (assigned, assigned_total) = state
        .services
        .list_work_packages(&access, open_for(UserColumn::Assignee), SHOWN, 0)
        .await?;
    let (accountable, accountable_total) = state
        .services
        .list_work_packages(&access, open_for(UserColumn::Responsible), SHOWN, 0)
        .await?;
    let recent_query = Query {
        sort: vec![(Sort::UpdatedAt, true)],
        ..Query::default()
    };
    let (recent, _) = state
        .services
        .list_work_packages(&access, recent_query, 10, 0)
        .await?;
    let activity = state
        .services
        .recent_activity(&access, ACTIVITY_SHOWN)
        .await?;

    let main = html! {
        h1 { "Welcome, " (viewer.user.name()) }
        div.grid {
            section.card aria-labelledby="my-projects" {
                h2 #my-projects { "My projects" }
                @if mine.is_empty() {
                    p.muted { "You are not a member of any project yet. " a href="/projects" { "See all projects" } "." }
                } @else {
                    ul.plain {
                        @for p in &mine {
                            li { a href=(format!("/projects/{}", p.identifier)) { (p.name) } }
                        }
                    }
                }
            }
            section.card aria-labelledby="assigned" {
                h2 #assigned { "Assigned to me" }
                (wp_list(&assigned, assigned_total, "/work_packages?assignee=me"))
            }
            section.card aria-labelledby="accountable" {
                h2 #accountable { "Accountable" }
                (wp_list(&accountable, accountable_total, "/work_packages?responsible=me"))
            }
            section.card aria-labelledby="activity" {
                h2 #activity { "Recent activity" }
                @if activity.is_empty() {
                    p.muted { "Nothing yet." }
                } @else {
                    ul.plain {
                        @for a in &activity {
                            li { (activity_entry(&viewer, a)) }
                        }
                    }
                }
            }
            section.card aria-labelledby="recent" {
                h2 #recent { "Recently updated" }
                @if recent.is_empty() {
                    p.muted { "Nothing yet." }
                } @else {
                    ul.plain {
                        @for r in &recent {
                            li {
                                a href=(format!("/work_packages/{}", r.wp.id)) { "#" (r.wp.id) " " (r.wp.state.subject) }
                                br;
                                span.muted { (r.project_name) " · " (viewer.time(r.wp.updated_at)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(viewer.page(StatusCode::OK, "Home", Nav::Home, None, main))
}

/// One entry of the feed: who did what to which work package, when, and
/// the start of the comment if there is one.
fn activity_entry(viewer: &Viewer, a: &RecentActivity) -> Markup {
    let j = &a.journal;
    let excerpt = layout::excerpt(&j.notes, EXCERPT);
    // Built-in attributes read as words in a sentence; custom fields keep
    // the name an administrator gave them.
    let changed: Vec<String> = a
        .changed
        .iter()
        .map(|c| match attribute_label(c) {
            label if label == *c => label.to_string(),
            label => label.to_lowercase(),
        })
        .collect();
    html! {
        strong { (j.user_name) }
        @if a.is_creation() { " created " }
        @else if changed.is_empty() { " commented on " }
        @else { " updated " }
        a href=(format!("/work_packages/{}#activity-{}", j.journable_id, j.id)) { "#" (j.journable_id) " " (a.subject) }
        @if !a.is_creation() && !changed.is_empty() {
            br;
            "Changed " (changed.join(", "))
        }
        @if !excerpt.is_empty() {
            br;
            q { (excerpt) }
        }
        br;
        span.muted { (a.project_name) " · " (viewer.time(j.created_at)) }
    }
}

fn wp_list(rows: &[WorkPackageRow], total: i64, all: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "No open work packages." }
        } @else {
            ul.plain {
                @for r in rows {
                    li {
                        a href=(format!("/work_packages/{}", r.wp.id)) { "#" (r.wp.id) " " (r.wp.state.subject) }
                        " " span.badge { (r.status_name) }
                        br;
                        span.muted { (r.project_name) }
                    }
                }
            }
            @if total > rows.len() as i64 {
                p { a href=(all) { "All " (total) } }
            }
        }
    }
}
