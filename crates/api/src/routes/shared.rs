//! Pieces the resource routes share: links and formatted text in request
//! bodies, formatted text in responses, who may read, and the query
//! parameters a collection keeps in its links.

use serde::{Deserialize, Deserializer, Serialize};
use steward_services::authz::Access;

use crate::auth::{unauthenticated, Caller};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::AppState;
use steward_http::markdown::Rendering;

/// A link in a request body: `{"href": "/api/v3/projects/5"}`; other
/// properties (`title`, `method`) are ignored.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct LinkIn {
    #[serde(default)]
    pub href: Option<String>,
}

impl LinkIn {
    /// The href, with an empty one counting as none.
    pub fn target(&self) -> Option<&str> {
        self.href
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
    }
}

/// For `Option<Option<T>>` fields with `#[serde(default)]`: absent is
/// `None`, `null` is `Some(None)`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The path segment after `/api/v3/{collection}/` in an href (root-relative
/// or a full URL, with or without a trailing slash or query).
pub fn href_segment<'a>(href: &'a str, collection: &str) -> Option<&'a str> {
    let marker = format!("/api/v3/{collection}/");
    let start = href.find(&marker)? + marker.len();
    let rest = &href[start..];
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let rest = rest.trim_matches('/');
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// The numeric id in an href to one of `collections`.
pub fn href_id(href: &str, collections: &[&str]) -> Option<i64> {
    collections
        .iter()
        .find_map(|c| href_segment(href, c))
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
}

/// Formatted text in a request: a plain string or `{"raw": "..."}` (the
/// `format` and `html` a client echoes back are ignored).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
pub enum TextIn {
    Plain(String),
    Formatted {
        #[serde(default)]
        raw: Option<String>,
    },
}

impl TextIn {
    pub fn into_raw(self) -> String {
        match self {
            TextIn::Plain(s) => s,
            TextIn::Formatted { raw } => raw.unwrap_or_default(),
        }
    }
}

/// Formatted text in a response: the markdown source and its rendering.
#[derive(Serialize, Debug, Clone)]
pub struct Formattable {
    pub format: &'static str,
    pub raw: String,
    pub html: String,
}

impl Formattable {
    pub fn markdown(raw: &str, rendering: Rendering) -> Formattable {
        Formattable {
            format: "markdown",
            raw: raw.to_string(),
            html: steward_http::markdown::to_html(raw, rendering),
        }
    }
}

/// How this response renders texts: remote images as the instance's
/// setting says, mentions linked to the user resource (as the `author`
/// and `assignee` links are).
pub async fn rendering(state: &AppState) -> Result<Rendering, ApiError> {
    Ok(Rendering {
        remote_images: state.services.text_settings().await?.remote_images,
        user_link: Some("/api/v3/users/"),
    })
}

/// A link that may point nowhere: `{"href": null}`.
#[derive(Serialize, Debug, Clone, Default)]
pub struct MaybeLink {
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What the caller may do. Anonymous callers are turned away (401) unless
/// the instance lets anonymous visitors read public projects.
pub async fn reader_access(state: &AppState, caller: &Caller) -> Result<Access, ApiError> {
    let access = state.services.access(caller.user()).await?;
    if caller.user().is_none() && !access.visible_scope().public {
        return Err(unauthenticated());
    }
    Ok(access)
}

/// `filters` and `sortBy` as given, encoded for a collection's links.
pub fn kept_query(q: &QueryParams) -> String {
    let mut extra = Vec::new();
    for key in ["filters", "sortBy"] {
        if let Some(v) = q.get(key).filter(|v| !v.trim().is_empty()) {
            extra.push((key, v));
        }
    }
    serde_urlencoded::to_string(&extra).unwrap_or_default()
}

/// Percent-encodes a query value (JSON filters carry `"`, `[` and `{`).
pub fn encode(v: &str) -> String {
    serde_urlencoded::to_string([("", v)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_string()
}

/// Parses filter values that must be positive ids.
pub fn id_values(name: &str, values: &[String]) -> Result<Vec<i64>, ApiError> {
    values
        .iter()
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| {
                    ApiError::InvalidQuery(format!("Filter {name:?} takes ids; {v:?} is not one."))
                })
        })
        .collect()
}

/// Parses a boolean filter value: `t`/`f` as API v3 writes them, or `true`/`false`.
pub fn bool_value(name: &str, values: &[String]) -> Result<bool, ApiError> {
    match values {
        [v] => match v.trim() {
            "t" | "true" | "1" => Ok(true),
            "f" | "false" | "0" => Ok(false),
            other => Err(ApiError::InvalidQuery(format!(
                "Filter {name:?} takes \"t\" or \"f\", not {other:?}."
            ))),
        },
        _ => Err(ApiError::InvalidQuery(format!(
            "Filter {name:?} takes exactly one value, \"t\" or \"f\"."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs() {
        assert_eq!(href_id("/api/v3/projects/5", &["projects"]), Some(5));
        assert_eq!(
            href_id("http://x/api/v3/users/7/", &["users", "groups"]),
            Some(7)
        );
        assert_eq!(href_id("/api/v3/groups/9", &["users", "groups"]), Some(9));
        assert_eq!(href_id("/api/v3/projects/demo", &["projects"]), None);
        assert_eq!(
            href_segment("/api/v3/projects/demo", "projects"),
            Some("demo")
        );
        assert_eq!(href_id("/api/v3/roles/0", &["roles"]), None);
        assert_eq!(href_id("/api/v3/projects/5/versions", &["projects"]), None);
        assert_eq!(encode("[{\"a\":1}]"), "%5B%7B%22a%22%3A1%7D%5D");
    }
}
