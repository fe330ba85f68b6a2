//! The background job queue for administrators, as `/api/v3/jobs` and
//! `steward jobs` show it: the jobs (filtered by state), one job with its
//! payload and last error, retrying a failed one, and the recurring jobs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use steward_domain::job::JobStatus;
use steward_http::AppState;
use steward_services::jobs::Registry;
use steward_services::ServiceError;
use steward_storage::jobs::{Job, JobFilter, JobSort};

use crate::error::WebError;
use crate::forms::{Form, Path, Query};
use crate::layout::{self, Nav};
use crate::pages::{admin_menu, page_number, page_of, pager, path_id, NoticeQuery};
use crate::session::{AdminViewer, Viewer};

const PER_PAGE: i64 = 25;

/// How much of a last error the list shows; the job's page has all of it.
const ERROR_PREVIEW_CHARS: usize = 120;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    page: Option<String>,
}

fn preview(error: &str) -> String {
    let mut chars = error.chars();
    let head: String = chars.by_ref().take(ERROR_PREVIEW_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn state_badge(status: JobStatus) -> Markup {
    let class = match status {
        JobStatus::Failed => "badge warn",
        JobStatus::Done => "badge closed",
        JobStatus::Queued | JobStatus::Running => "badge",
    };
    html! { span class=(class) { (status.as_str()) } }
}

/// The recurring jobs, with when each runs next.
async fn schedules(state: &AppState, viewer: &Viewer) -> Result<Markup, WebError> {
    let rows = state.services.job_schedule_rows().await?;
    let registry = Registry::builtin();
    Ok(html! {
        section aria-labelledby="schedules" {
            h2 #schedules { "Recurring jobs" }
            div.table-wrap {
                table.list {
                    thead { tr {
                        th scope="col" { "Kind" }
                        th scope="col" { "When (UTC)" }
                        th scope="col" { "Next run" }
                        th scope="col" { "Last run" }
                    } }
                    tbody {
                        @for s in registry.schedules() {
                            @let row = rows.iter().find(|r| r.name == s.name);
                            tr {
                                td { code { (s.kind) } }
                                td { (s.spec.to_string()) }
                                td {
                                    @match row {
                                        Some(r) => (viewer.time(r.next_run_at)),
                                        None => span.muted { "when a worker first starts" },
                                    }
                                }
                                td {
                                    @match row.and_then(|r| r.last_run_at) {
                                        Some(t) => (viewer.time(t)),
                                        None => span.muted { "never" },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

pub async fn list(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let wanted = q.state.trim();
    // An unknown state in a hand-made link lists every job, with the
    // select showing "Any".
    let status = JobStatus::parse(wanted);
    let wanted = status.map_or("", JobStatus::as_str);
    let filter = JobFilter {
        statuses: status.map(|s| vec![s]),
        ..JobFilter::default()
    };
    let sort = [(JobSort::Id, true)];
    let (jobs, total, page) = page_of(page_number(q.page.as_deref()), PER_PAGE, |offset| {
        state.services.list_jobs(&filter, &sort, PER_PAGE, offset)
    })
    .await?;
    let schedules = schedules(&state, &viewer).await?;
    let main = html! {
        (admin_menu("/admin/jobs"))
        h1 { "Background jobs" }
        p { "Work done in the background: exports, retention, redaction. Also available from the API (" code { "GET /api/v3/jobs" } ") and the command line (" code { "steward jobs" } ")." }
        form.filters method="get" action="/admin/jobs" role="search" aria-label="Filter jobs" {
            div.field {
                label for="f-state" { "State" }
                select #f-state name="state" {
                    option value="" selected[wanted.is_empty()] { "Any" }
                    @for s in JobStatus::ALL {
                        option value=(s.as_str()) selected[wanted == s.as_str()] { (s.as_str()) }
                    }
                }
            }
            div.actions {
                button type="submit" { "Apply" }
                a href="/admin/jobs" { "Reset" }
            }
        }
        p.muted role="status" { (total) " job" @if total != 1 { "s" } }
        @if jobs.is_empty() {
            p { "No jobs match." }
        } @else {
            div.table-wrap {
                table.list {
                    caption.visually-hidden { "Jobs, newest first" }
                    thead { tr {
                        th scope="col" { "Job" }
                        th scope="col" { "Kind" }
                        th scope="col" { "State" }
                        th scope="col" { "Attempts" }
                        th scope="col" { "Run at" }
                        th scope="col" { "Last error" }
                    } }
                    tbody {
                        @for j in &jobs {
                            tr {
                                td { a href=(format!("/admin/jobs/{}", j.id)) { "No. " (j.id) } }
                                td { code { (j.kind) } }
                                td { (state_badge(j.status)) }
                                td { (j.attempts) " of " (j.max_attempts) }
                                td { (viewer.time(j.run_at)) }
                                td { @if let Some(e) = &j.last_error { (preview(e)) } }
                            }
                        }
                    }
                }
            }
        }
        (pager("/admin/jobs", &[("state", wanted)], page, PER_PAGE, total))
        (schedules)
    };
    Ok(viewer.page(StatusCode::OK, "Background jobs", Nav::Admin, None, main))
}

fn render_job(
    viewer: &Viewer,
    job: &Job,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let optional_time = |t: Option<steward_domain::Timestamp>| match t {
        Some(t) => viewer.time(t),
        None => html! { span.muted { "—" } },
    };
    let main = html! {
        (admin_menu("/admin/jobs"))
        p.crumbs { a href="/admin/jobs" { "Background jobs" } }
        h1 { "Job No. " (job.id) ": " code { (job.kind) } }
        @if let Some(m) = error { div.alert role="alert" { (m) } }
        dl.attrs {
            dt { "State" } dd { (state_badge(job.status)) }
            dt { "Attempts" } dd { (job.attempts) " of " (job.max_attempts) }
            dt { "Run at" } dd { (viewer.time(job.run_at)) }
            dt { "Created" } dd { (viewer.time(job.created_at)) }
            dt { "Updated" } dd { (viewer.time(job.updated_at)) }
            dt { "Finished" } dd { (optional_time(job.finished_at)) }
            dt { "Worker" } dd { @if let Some(w) = &job.locked_by { code { (w) } } @else { span.muted { "—" } } }
            dt { "Lease until" } dd { (optional_time(job.locked_until)) }
        }
        @if job.status == JobStatus::Failed {
            form.inline method="post" action=(format!("/admin/jobs/{}/retry", job.id)) {
                input type="hidden" name="csrf_token" value=(viewer.csrf());
                button.primary type="submit" { "Retry" }
            }
            p.muted { "Retrying queues the job again with a fresh set of attempts." }
        }
        h2 { "Payload" }
        div.prose { pre { code { (job.payload) } } }
        h2 { "Last error" }
        @match &job.last_error {
            Some(e) => div.prose { pre { code { (e) } } },
            None => p.muted { "None." },
        }
    };
    viewer.page(
        status,
        &format!("Job No. {}", job.id),
        Nav::Admin,
        notice,
        main,
    )
}

pub async fn show(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let job = state.services.job(path_id(&id)?).await?;
    Ok(render_job(
        &viewer,
        &job,
        StatusCode::OK,
        None,
        layout::notice(q.notice.as_deref()),
    ))
}

pub async fn retry(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    viewer.check_csrf(&form)?;
    let id = path_id(&id)?;
    match state.services.retry_job(id).await {
        Ok(_) => Ok(layout::see_other(&format!(
            "/admin/jobs/{id}?notice=job_retried"
        ))),
        // Not failed (any more): the job as it is now, with why nothing
        // happened.
        Err(ServiceError::Conflict(m)) => {
            let job = state.services.job(id).await?;
            Ok(render_job(
                &viewer,
                &job,
                StatusCode::CONFLICT,
                Some(&m),
                None,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
