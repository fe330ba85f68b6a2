//! Per-person exports (GDPR Art. 15 and 20), a Steward extension:
//!
//! - `POST /api/v3/users/{id}/exports`: the person themself (`me` works) or
//!   an administrator asks for an export; 202 with the export, `queued`. A
//!   background job builds the archive.
//! - `GET /api/v3/users/{id}/exports`: the exports the caller asked for.
//! - `GET /api/v3/exports/{id}`: one export, for its requester only.
//! - `GET /api/v3/exports/{id}/archive`: the archive, for its requester
//!   only, until it expires (then 410).
//!
//! Anyone else asking about a person they can see gets 403, about one they
//! cannot see 404; someone else's export does not exist for them (404).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Serialize;
use steward_domain::Timestamp;
use steward_services::gdpr::export::{Download, FORMAT, FORMAT_VERSION};
use steward_storage::gdpr_exports::{ExportStatus, GdprExport};

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath};
use crate::hal::{ok, Hal, Link};
use crate::routes::users::user_id_or_me;
use crate::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    /// `queued`, `running`, `ready`, `failed` or `expired`.
    status: &'static str,
    format: &'static str,
    format_version: u32,
    size_bytes: Option<i64>,
    sha256: Option<String>,
    error: Option<String>,
    created_at: Timestamp,
    completed_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    #[serde(rename = "_links")]
    links: ExportLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportLinks {
    #[serde(rename = "self")]
    self_: Link,
    /// The person whose data it is.
    user: Link,
    requested_by: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<Link>,
}

pub fn represent(e: &GdprExport) -> ExportRepr {
    let href = format!("/api/v3/exports/{}", e.id);
    let ready = e.status == ExportStatus::Ready;
    ExportRepr {
        kind: "PersonalDataExport",
        id: e.id,
        status: e.status.as_str(),
        format: FORMAT,
        format_version: FORMAT_VERSION,
        size_bytes: e.size_bytes.filter(|_| ready),
        sha256: e.sha256.clone().filter(|_| ready),
        error: e.error.clone(),
        created_at: e.created_at,
        completed_at: e.completed_at,
        expires_at: e.expires_at,
        links: ExportLinks {
            download: ready.then(|| Link::new(format!("{href}/archive"))),
            self_: Link::new(href),
            user: Link::new(format!("/api/v3/users/{}", e.subject_user_id)),
            requested_by: Link::new(format!("/api/v3/users/{}", e.requested_by)),
        },
    }
}

#[derive(Serialize)]
pub struct ExportList {
    #[serde(rename = "_type")]
    kind: &'static str,
    total: usize,
    count: usize,
    #[serde(rename = "_embedded")]
    embedded: Elements,
    #[serde(rename = "_links")]
    links: ListLinks,
}

#[derive(Serialize)]
pub struct Elements {
    elements: Vec<ExportRepr>,
}

#[derive(Serialize)]
pub struct ListLinks {
    #[serde(rename = "self")]
    self_: Link,
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<ExportRepr>, ApiError> {
    let subject = user_id_or_me(&caller, &id)?;
    let export = state.services.request_export(&caller.user, subject).await?;
    Ok(Hal(StatusCode::ACCEPTED, represent(&export)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<ExportList>, ApiError> {
    let subject = user_id_or_me(&caller, &id)?;
    let exports = state.services.exports_of(&caller.user, subject).await?;
    let elements: Vec<ExportRepr> = exports.iter().map(represent).collect();
    Ok(ok(ExportList {
        kind: "Collection",
        total: elements.len(),
        count: elements.len(),
        embedded: Elements { elements },
        links: ListLinks {
            self_: Link::new(format!("/api/v3/users/{subject}/exports")),
        },
    }))
}

pub async fn show(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<ExportRepr>, ApiError> {
    let export = state
        .services
        .export_for(&caller.user, parse_id(&id)?)
        .await?;
    Ok(ok(represent(&export)))
}

/// Streams the archive. Personal data: never cached on the way.
pub async fn archive(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let file = match state.services.open_export_archive(&caller.user, id).await? {
        Download::Ready(file) => file,
        Download::NotReady(status) => {
            return Err(ApiError::Conflict(format!(
                "The export is not ready yet (status {}); download it when its status is ready.",
                status.as_str()
            )))
        }
        Download::Failed(why) => {
            return Err(ApiError::Conflict(format!(
                "The export failed ({why}); request a new one."
            )))
        }
        Download::Expired => {
            return Err(ApiError::Gone(
                "The archive of this export has expired and was deleted; request a new export."
                    .into(),
            ))
        }
    };
    let mut res = Body::from_stream(file_stream(file.file)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size_bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The name is built from ids and digits only: always a valid header value.
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.download_name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&file.sha256) {
        h.insert("x-content-sha256", v);
    }
    Ok(res)
}

/// The file in chunks, each read on a blocking thread.
fn file_stream(file: std::fs::File) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let read = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 256 * 1024];
            let n = loop {
                match file.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    })
}
