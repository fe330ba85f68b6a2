//! The data controller's API (a Steward extension): erasure with its
//! preview and certificates, the residue scan, the redaction queue and the
//! record of processing activities. `DELETE /api/v3/users/{id}` is
//! OpenProject's way to delete a user and leads to the same erasure.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_services::gdpr::certificate::{
    CertificateDoc, CertificateSummary, Requester, Scrubbed,
};
use steward_services::gdpr::erase::ErasureOutcome;
use steward_services::gdpr::redaction::{self, QueueEntry, Resolution};
use steward_services::gdpr::scan::{Hit, ScanReport, ScanTarget};

use crate::auth::{Admin, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::users::user_id_or_me;
use crate::AppState;

const ERASURES: &str = "/api/v3/gdpr/erasures";
const REDACTIONS: &str = "/api/v3/gdpr/redactions";

// ---- erasure -------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    /// True when the person had been erased before; nothing was done now.
    already_erased: bool,
    certificate: CertificateDoc,
    #[serde(rename = "_links")]
    links: CertificateLinks,
}

#[derive(Serialize)]
pub struct CertificateLinks {
    #[serde(rename = "self")]
    self_: Link,
    text: Link,
}

fn certificate_links(id: i64) -> CertificateLinks {
    CertificateLinks {
        self_: Link::new(format!("{ERASURES}/{id}")),
        text: Link::new(format!("{ERASURES}/{id}/text")),
    }
}

fn represent_outcome(o: ErasureOutcome) -> CertificateRepr {
    CertificateRepr {
        kind: "ErasureCertificate",
        id: o.certificate_id,
        already_erased: o.already_erased,
        certificate: o.certificate,
        links: certificate_links(o.certificate_id),
    }
}

/// `DELETE /api/v3/users/{id}`: as in OpenProject, answers 202 Accepted;
/// here the erasure is complete when the answer comes.
pub async fn delete_user(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = user_id_or_me(&caller, &id)?;
    let requester = state.services.erasure_requester(&caller.user, id).await?;
    let outcome = state.services.erase_user(id, requester).await?;
    if outcome.already_erased {
        return Err(ApiError::not_found());
    }
    let mut res = StatusCode::ACCEPTED.into_response();
    if matches!(requester, Requester::Administrator(_)) {
        if let Ok(v) = HeaderValue::from_str(&format!("{ERASURES}/{}", outcome.certificate_id)) {
            res.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErasureBody {
    /// The user's id, or their login.
    user: Option<serde_json::Value>,
    #[serde(rename = "_links")]
    links: Option<ErasureBodyLinks>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ErasureBodyLinks {
    user: Option<HrefOnly>,
}

#[derive(Deserialize, Default)]
pub struct HrefOnly {
    href: Option<String>,
}

/// `"user"` as given: a user id or login; `None` when absent, null or blank.
fn user_reference(user: Option<&serde_json::Value>) -> Result<Option<String>, ApiError> {
    match user {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            Ok(Some(s.trim().to_string()))
        }
        Some(other) => Err(ApiError::PropertyConstraintViolation {
            attribute: "user",
            message: format!("user must be a user id or login, not {other}."),
        }),
    }
}

fn user_from_body(body: &ErasureBody) -> Result<String, ApiError> {
    let from_link = body
        .links
        .as_ref()
        .and_then(|l| l.user.as_ref())
        .and_then(|u| u.href.as_deref())
        .map(|h| {
            h.strip_prefix("/api/v3/users/")
                .map(str::to_string)
                .ok_or_else(|| ApiError::PropertyConstraintViolation {
                    attribute: "user",
                    message: format!("The user link must be /api/v3/users/{{id}}, not {h:?}."),
                })
        })
        .transpose()?;
    user_reference(body.user.as_ref())?
        .or(from_link)
        .ok_or(ApiError::PropertyConstraintViolation {
            attribute: "user",
            message: "Name the user to erase: \"user\": id or login, or _links.user.".into(),
        })
}

/// `POST /api/v3/gdpr/erasures {"user": 42}`: erases and returns the
/// certificate (201), or the earlier certificate (200) when the person was
/// erased before.
pub async fn create_erasure(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<ErasureBody>,
) -> Result<Hal<CertificateRepr>, ApiError> {
    let reference = user_from_body(&body)?;
    let id = match reference.parse::<UserId>() {
        Ok(id) if id > 0 => id,
        Ok(_) => return Err(ApiError::not_found()),
        Err(_) => state.services.user_by_ref(&reference).await?.id,
    };
    let requester = state.services.erasure_requester(&admin.user, id).await?;
    let outcome = state.services.erase_user(id, requester).await?;
    let status = if outcome.already_erased {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Hal(status, represent_outcome(outcome)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSummaryRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    requested_at: Timestamp,
    completed_at: Timestamp,
    subject_hash: String,
    #[serde(rename = "_links")]
    links: SummaryLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryLinks {
    #[serde(rename = "self")]
    self_: Link,
    text: Link,
    requested_by: Link,
}

fn represent_summary(c: CertificateSummary) -> CertificateSummaryRepr {
    CertificateSummaryRepr {
        kind: "ErasureCertificate",
        id: c.id,
        requested_at: c.requested_at,
        completed_at: c.completed_at,
        subject_hash: c.subject_hash,
        links: SummaryLinks {
            self_: Link::new(format!("{ERASURES}/{}", c.id)),
            text: Link::new(format!("{ERASURES}/{}/text", c.id)),
            requested_by: Link::new(format!("/api/v3/users/{}", c.requested_by)),
        },
    }
}

pub async fn list_erasures(
    State(state): State<AppState>,
    _admin: Admin,
    q: QueryParams,
) -> Result<Hal<Collection<CertificateSummaryRepr>>, ApiError> {
    let page = Page::from_query(&q)?;
    let (list, total) = state
        .services
        .erasure_certificates(page.skip(), page.limit())
        .await?;
    let elements = list.into_iter().map(represent_summary).collect();
    Ok(ok(Collection::new(
        "Collection",
        ERASURES,
        "",
        page,
        total,
        elements,
    )))
}

pub async fn show_erasure(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<CertificateRepr>, ApiError> {
    let id = parse_id(&id)?;
    let certificate = state.services.erasure_certificate(id).await?;
    Ok(ok(CertificateRepr {
        kind: "ErasureCertificate",
        id,
        already_erased: false,
        certificate,
        links: certificate_links(id),
    }))
}

/// The certificate as readable text, for printing or filing.
pub async fn erasure_text(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let certificate = state.services.erasure_certificate(id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        certificate.to_text(),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    user_id: UserId,
    changes: Vec<Scrubbed>,
    texts_with_mentions: i64,
    texts_for_review: i64,
    own_contributions: i64,
    #[serde(rename = "_links")]
    links: PreviewLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewLinks {
    #[serde(rename = "self")]
    self_: Link,
    user: Link,
    delete: Link,
}

/// What erasing the user would change, for the confirmation step. The
/// person themself may ask when self-deletion is allowed.
pub async fn erasure_preview(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<PreviewRepr>, ApiError> {
    let id = user_id_or_me(&caller, &id)?;
    state.services.erasure_requester(&caller.user, id).await?;
    let p = state.services.erasure_preview(id).await?;
    Ok(ok(PreviewRepr {
        kind: "ErasurePreview",
        user_id: p.user_id,
        changes: p.changes,
        texts_with_mentions: p.mentions_in_text,
        texts_for_review: p.texts_for_review,
        own_contributions: p.own_contributions,
        links: PreviewLinks {
            self_: Link::new(format!("/api/v3/users/{id}/erasure_preview")),
            user: Link::new(format!("/api/v3/users/{id}")),
            delete: Link::new(format!("/api/v3/users/{id}")).method("delete"),
        },
    }))
}

// ---- residue scan ----------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanBody {
    /// An existing user (id or login): their identifiers are scanned for.
    user: Option<serde_json::Value>,
    /// Or the identifiers of someone erased before.
    id: Option<UserId>,
    login: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    clean: bool,
    tables_checked: usize,
    columns_checked: usize,
    residue: Vec<Hit>,
    free_text: Vec<Hit>,
    held_for_redaction: Vec<Hit>,
    request_log_lines: usize,
    cache_entries: usize,
}

fn represent_scan(r: ScanReport) -> ScanRepr {
    ScanRepr {
        kind: "ResidueScan",
        clean: r.clean,
        tables_checked: r.tables_checked,
        columns_checked: r.columns_checked,
        residue: r.residue,
        free_text: r.free_text,
        held_for_redaction: r.held,
        request_log_lines: r.request_log_lines,
        cache_entries: r.cache_entries,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub async fn scan(
    State(state): State<AppState>,
    _admin: Admin,
    JsonBody(body): JsonBody<ScanBody>,
) -> Result<Hal<ScanRepr>, ApiError> {
    let target = match user_reference(body.user.as_ref())? {
        Some(reference) => state.services.scan_target_of(&reference).await?,
        None => ScanTarget {
            id: body.id,
            login: non_empty(body.login),
            email: non_empty(body.email),
            firstname: non_empty(body.first_name),
            lastname: non_empty(body.last_name),
            secret_hashes: Vec::new(),
        },
    };
    let report = state.services.residue_scan(&target).await?;
    Ok(ok(represent_scan(report)))
}

// ---- redaction queue -------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedactionRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    table: String,
    column: String,
    row_id: i64,
    status: String,
    contexts: Vec<String>,
    created_at: Timestamp,
    resolved_at: Option<Timestamp>,
    #[serde(rename = "_links")]
    links: RedactionLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedactionLinks {
    #[serde(rename = "self")]
    self_: Link,
    certificate: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_by: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redact: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dismiss: Option<Link>,
}

fn represent_entry(e: QueueEntry) -> RedactionRepr {
    let href = format!("{REDACTIONS}/{}", e.id);
    let open = e.status == "open";
    RedactionRepr {
        kind: "RedactionEntry",
        id: e.id,
        links: RedactionLinks {
            self_: Link::new(href.clone()),
            certificate: Link::new(format!("{ERASURES}/{}", e.certificate_id)),
            resolved_by: e
                .resolved_by
                .map(|u| Link::new(format!("/api/v3/users/{u}"))),
            redact: open.then(|| Link::new(format!("{href}/redact")).method("post")),
            dismiss: open.then(|| Link::new(format!("{href}/dismiss")).method("post")),
        },
        table: e.table,
        column: e.column,
        row_id: e.row_id,
        status: e.status,
        contexts: e.contexts,
        created_at: e.created_at,
        resolved_at: e.resolved_at,
    }
}

pub async fn list_redactions(
    State(state): State<AppState>,
    _admin: Admin,
    q: QueryParams,
) -> Result<Hal<Collection<RedactionRepr>>, ApiError> {
    let page = Page::from_query(&q)?;
    let status_param = q.get("status").unwrap_or("open").to_string();
    let status = redaction::parse_status(&status_param)
        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
    let (list, total) = state
        .services
        .redaction_queue(status, page.skip(), page.limit())
        .await?;
    let elements = list.into_iter().map(represent_entry).collect();
    let extra = format!("status={}", status.unwrap_or("all"));
    Ok(ok(Collection::new(
        "Collection",
        REDACTIONS,
        &extra,
        page,
        total,
        elements,
    )))
}

pub async fn show_redaction(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<RedactionRepr>, ApiError> {
    let entry = state.services.redaction_entry(parse_id(&id)?).await?;
    Ok(ok(represent_entry(entry)))
}

pub async fn redact(
    state: State<AppState>,
    admin: Admin,
    id: ApiPath<String>,
) -> Result<Hal<RedactionRepr>, ApiError> {
    resolve(state, admin, id, Resolution::Redact).await
}

pub async fn dismiss(
    state: State<AppState>,
    admin: Admin,
    id: ApiPath<String>,
) -> Result<Hal<RedactionRepr>, ApiError> {
    resolve(state, admin, id, Resolution::Dismiss).await
}

async fn resolve(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<String>,
    resolution: Resolution,
) -> Result<Hal<RedactionRepr>, ApiError> {
    let entry = state
        .services
        .resolve_redaction(parse_id(&id)?, resolution, admin.user.id)
        .await?;
    Ok(ok(represent_entry(entry)))
}

// ---- record of processing ------------------------------------------------

/// `GET /api/v3/gdpr/record` (JSON) or `?format=markdown`.
pub async fn record(
    State(state): State<AppState>,
    _admin: Admin,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let ctx = state
        .http
        .record_context
        .as_ref()
        .ok_or_else(|| ApiError::Internal("the record context is not configured".into()))?;
    let ctx = state.services.record_context_in_force(ctx).await?;
    let record = steward_domain::record::build(&ctx);
    match q.get("format").unwrap_or("json") {
        "json" => Ok(ok(record).into_response()),
        "markdown" | "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            record.to_markdown(),
        )
            .into_response()),
        other => Err(ApiError::InvalidQuery(format!(
            "format must be json or markdown, not {other:?}."
        ))),
    }
}
