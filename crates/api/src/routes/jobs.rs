//! `/api/v3/jobs`: the background job queue, for administrators: list and
//! read jobs (failed ones with their last error) and retry a failed one.
//! A Steward extension; OpenProject has no such resource.

use axum::extract::State;
use serde::Serialize;
use steward_domain::job::JobStatus;
use steward_domain::Timestamp;
use steward_services::jobs::parse_statuses;
use steward_storage::jobs::{Job, JobFilter, JobSort};

use crate::auth::Admin;
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, QueryParams};
use crate::filters::{parse_filters, parse_sort, sort_field, unknown_filter, unknown_sort};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::kept_query;
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRepr {
    #[serde(rename = "_type")]
    kind_: &'static str,
    id: i64,
    kind: String,
    status: &'static str,
    /// The payload as enqueued: ids of other records, never personal data.
    payload: serde_json::Value,
    run_at: Timestamp,
    attempts: i64,
    max_attempts: i64,
    locked_by: Option<String>,
    locked_until: Option<Timestamp>,
    last_error: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    finished_at: Option<Timestamp>,
    #[serde(rename = "_links")]
    links: JobLinks,
}

#[derive(Serialize)]
pub struct JobLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry: Option<Link>,
}

pub fn represent(j: &Job) -> JobRepr {
    let href = format!("/api/v3/jobs/{}", j.id);
    JobRepr {
        kind_: "Job",
        id: j.id,
        kind: j.kind.clone(),
        status: j.status.as_str(),
        // Payloads are written as JSON by Steward; one that is not (edited
        // by hand in the database) is shown as the text it is.
        payload: serde_json::from_str(&j.payload)
            .unwrap_or_else(|_| serde_json::Value::String(j.payload.clone())),
        run_at: j.run_at,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        locked_by: j.locked_by.clone(),
        locked_until: j.locked_until,
        last_error: j.last_error.clone(),
        created_at: j.created_at,
        updated_at: j.updated_at,
        finished_at: j.finished_at,
        links: JobLinks {
            self_: Link::titled(href.clone(), j.kind.clone()),
            retry: (j.status == JobStatus::Failed)
                .then(|| Link::new(format!("{href}/retry")).method("post")),
        },
    }
}

const FILTERS: &[&str] = &["status", "kind"];
const SORTS: &[&str] = &["id", "runAt", "createdAt", "updatedAt"];

fn job_filter(q: &QueryParams) -> Result<JobFilter, ApiError> {
    let mut filter = JobFilter::default();
    for f in parse_filters(q.get("filters"))? {
        match f.resolve(FILTERS)? {
            "status" => {
                let statuses = parse_statuses(&f.values).map_err(ApiError::InvalidQuery)?;
                filter.statuses = Some(match f.operator.as_str() {
                    "=" => statuses,
                    "!" => JobStatus::ALL
                        .into_iter()
                        .filter(|s| !statuses.contains(s))
                        .collect(),
                    _ => return Err(f.unknown_operator(&["=", "!"])),
                });
            }
            "kind" => match f.operator.as_str() {
                "=" => filter.kinds = Some(f.values.clone()),
                "!" => filter.exclude_kinds = Some(f.values.clone()),
                _ => return Err(f.unknown_operator(&["=", "!"])),
            },
            other => return Err(unknown_filter(other, FILTERS)),
        }
    }
    Ok(filter)
}

fn job_sort(q: &QueryParams) -> Result<Vec<(JobSort, bool)>, ApiError> {
    parse_sort(q.get("sortBy"))?
        .into_iter()
        .map(|(field, desc)| {
            let s = match sort_field(&field, SORTS, "Jobs")? {
                "id" => JobSort::Id,
                "runAt" => JobSort::RunAt,
                "createdAt" => JobSort::CreatedAt,
                "updatedAt" => JobSort::UpdatedAt,
                other => return Err(unknown_sort(other, SORTS, "Jobs")),
            };
            Ok((s, desc))
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    q: QueryParams,
) -> Result<Hal<Collection<JobRepr>>, ApiError> {
    let page = Page::from_query(&q)?;
    let filter = job_filter(&q)?;
    let sort = job_sort(&q)?;
    let (jobs, total) = state
        .services
        .list_jobs(&filter, &sort, page.limit(), page.skip())
        .await?;
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/jobs",
        &kept_query(&q),
        page,
        total,
        jobs.iter().map(represent).collect(),
    )))
}

pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<JobRepr>, ApiError> {
    let job = state.services.job(parse_id(&id)?).await?;
    Ok(ok(represent(&job)))
}

/// Queues a failed job again with a fresh set of attempts; 409 when the
/// job is not failed.
pub async fn retry(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<JobRepr>, ApiError> {
    let job = state.services.retry_job(parse_id(&id)?).await?;
    Ok(ok(represent(&job)))
}
