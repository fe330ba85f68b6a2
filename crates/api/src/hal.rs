//! HAL+JSON building blocks: links, collections, pagination and the
//! response wrapper that sets `application/hal+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::QueryParams;

pub use steward_http::error_document::HAL_JSON;

/// Default and maximum page sizes of collections, as in API v3.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 1000;

#[derive(Serialize, Clone, Debug, Default)]
pub struct Link {
    pub href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub templated: bool,
}

impl Link {
    pub fn new(href: impl Into<String>) -> Self {
        Link {
            href: href.into(),
            ..Link::default()
        }
    }
    pub fn titled(href: impl Into<String>, title: impl Into<String>) -> Self {
        Link {
            href: href.into(),
            title: Some(title.into()),
            ..Link::default()
        }
    }
    pub fn method(mut self, method: &'static str) -> Self {
        self.method = Some(method);
        self
    }
    pub fn templated(href: impl Into<String>) -> Self {
        Link {
            href: href.into(),
            templated: true,
            ..Link::default()
        }
    }
}

/// A response with status, serialised from a typed struct as HAL+JSON.
pub struct Hal<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for Hal<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.1) {
            Ok(bytes) => {
                let mut res = (self.0, bytes).into_response();
                res.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
                res
            }
            Err(e) => ApiError::Internal(format!("serialising a response: {e}")).into_response(),
        }
    }
}

pub fn ok<T: Serialize>(body: T) -> Hal<T> {
    Hal(StatusCode::OK, body)
}

/// `offset` (a 1-based page number, as API v3 defines it) and `pageSize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub size: i64,
}

impl Page {
    pub fn from_query(q: &QueryParams) -> Result<Page, ApiError> {
        let offset = match q.get("offset") {
            None | Some("") => 1,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    ApiError::InvalidQuery(format!(
                        "offset must be a page number of 1 or more, not {v:?}."
                    ))
                })?,
        };
        let size = match q.get("pageSize").or_else(|| q.get("per_page")) {
            None | Some("") => DEFAULT_PAGE_SIZE,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ApiError::InvalidQuery(format!(
                        "pageSize must be a number from 1 to {MAX_PAGE_SIZE}, not {v:?}."
                    ))
                })?,
        };
        if offset
            .checked_mul(size)
            .is_none_or(|n| n > i64::from(i32::MAX))
        {
            return Err(ApiError::InvalidQuery(format!(
                "offset {offset} is beyond any collection."
            )));
        }
        Ok(Page { offset, size })
    }

    pub fn limit(&self) -> i64 {
        self.size
    }

    /// Rows to skip.
    pub fn skip(&self) -> i64 {
        (self.offset - 1) * self.size
    }
}

#[derive(Serialize)]
pub struct Elements<T> {
    pub elements: Vec<T>,
}

#[derive(Serialize)]
pub struct CollectionLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    #[serde(rename = "jumpTo")]
    pub jump_to: Link,
    #[serde(rename = "changeSize")]
    pub change_size: Link,
    #[serde(rename = "previousByOffset", skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
    #[serde(rename = "nextByOffset", skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

#[derive(Serialize)]
pub struct Collection<T> {
    #[serde(rename = "_type")]
    pub kind: &'static str,
    pub total: i64,
    pub count: usize,
    #[serde(rename = "pageSize")]
    pub page_size: i64,
    pub offset: i64,
    #[serde(rename = "_embedded")]
    pub embedded: Elements<T>,
    #[serde(rename = "_links")]
    pub links: CollectionLinks,
}

impl<T> Collection<T> {
    /// Builds a collection page. `base` is the path, `extra` the other query
    /// parameters (already encoded) to keep in every link.
    pub fn new(
        kind: &'static str,
        base: &str,
        extra: &str,
        page: Page,
        total: i64,
        elements: Vec<T>,
    ) -> Self {
        let sep = if extra.is_empty() { "" } else { "&" };
        let href =
            |offset: i64, size: i64| format!("{base}?{extra}{sep}offset={offset}&pageSize={size}");
        let has_next = page.offset * page.size < total;
        Collection {
            kind,
            total,
            count: elements.len(),
            page_size: page.size,
            offset: page.offset,
            links: CollectionLinks {
                self_: Link::new(href(page.offset, page.size)),
                jump_to: Link::templated(format!(
                    "{base}?{extra}{sep}offset=%7Boffset%7D&pageSize={}",
                    page.size
                )),
                change_size: Link::templated(format!(
                    "{base}?{extra}{sep}offset={}&pageSize=%7Bsize%7D",
                    page.offset
                )),
                previous: (page.offset > 1).then(|| Link::new(href(page.offset - 1, page.size))),
                next: has_next.then(|| Link::new(href(page.offset + 1, page.size))),
            },
            embedded: Elements { elements },
        }
    }
}
