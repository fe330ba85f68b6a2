//! Request extractors that answer bad input with the API's own errors
//! instead of axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use steward_http::error_document::{body_too_large_message, is_json_like, slow_body_message};

use crate::error::ApiError;
use crate::AppState;

/// A JSON request body. An empty body counts as `{}` (clients POST forms
/// without one); too large, not UTF-8, not JSON or of the wrong shape are
/// each answered with a 4xx that says which.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !is_json_like(essence) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Content-Type {essence:?} is not supported; send application/json."
                )));
            }
        }
        let limit = state.http.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| slow_body(&e).unwrap_or_else(|| body_too_large(limit)))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The answer to a request body that failed because it arrived too
/// slowly, if that is why it failed.
pub(crate) fn slow_body(e: &(dyn std::error::Error + 'static)) -> Option<ApiError> {
    slow_body_message(e).map(ApiError::InvalidRequestBody)
}

/// The answer to a request body over `server.max_body_bytes`.
pub(crate) fn body_too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(body_too_large_message(limit))
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::InvalidRequestBody(format!("The request body is not valid UTF-8: {e}."))
    })?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_syntax() || inner.is_eof() {
            format!("The request body is not valid JSON: {inner}.")
        } else if path == "." || path.is_empty() {
            format!("The request body has the wrong shape: {inner}.")
        } else {
            format!("Property {path}: {inner}.")
        };
        ApiError::InvalidRequestBody(what)
    })?;
    // Without this, `{"a": 1} garbage` would be read as `{"a": 1}`.
    de.end().map_err(|e| {
        ApiError::InvalidRequestBody(format!("The request body is not valid JSON: {e}."))
    })?;
    Ok(value)
}

/// The query string as decoded pairs, tolerant of what real clients send
/// (`?&`, raw JSON brackets, repeated keys).
#[derive(Debug, Default, Clone)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(query: &str) -> Self {
        QueryParams {
            pairs: serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default(),
        }
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(QueryParams::parse(parts.uri.query().unwrap_or("")))
    }
}

/// A path parameter. A segment that cannot be decoded (invalid UTF-8 after
/// percent-decoding) or does not fit `T` names nothing: it is answered as
/// not found in the API's format, where axum's own `Path` would answer with
/// a plain-text 400.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// Parses a numeric id from a path segment; anything else is simply not found.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        admin: Option<bool>,
    }

    #[test]
    fn json_errors_say_what_is_wrong() {
        let e = parse_json::<Body>(b"{\"name\": 1}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("name") && e.contains("invalid type"), "{e}");
        let e = parse_json::<Body>(b"{\"name\": \"x\", \"admin\": \"yes\"}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("admin"), "{e}");
        let e = parse_json::<Body>(b"{\"name\": ").unwrap_err().to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = parse_json::<Body>(b"{\"name\": \"x\"} trailing")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(parse_json::<Body>(b" {\"name\": \"x\"}\n ").is_ok());
        let e = parse_json::<Body>(b"{}").unwrap_err().to_string();
        assert!(e.contains("missing field `name`"), "{e}");
        let e = parse_json::<Body>(b"{\"name\": \"\xff\"}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("UTF-8"), "{e}");
        assert!(parse_json::<serde_json::Value>(b"").is_ok());
    }

    #[test]
    fn query_params_tolerate_odd_clients() {
        let q = QueryParams::parse(
            "&filters=[{\"status\":{\"operator\":\"o\",\"values\":[]}}]&pageSize=5&&",
        );
        assert_eq!(q.get("pageSize"), Some("5"));
        assert!(q.get("filters").unwrap().starts_with("[{"));
        assert_eq!(parse_id("12").unwrap(), 12);
        assert!(parse_id("abc").is_err());
        assert!(parse_id("-1").is_err());
    }
}
