//! HTML form bodies (`application/x-www-form-urlencoded`), read leniently:
//! any body parses, unknown fields are ignored and missing ones are empty,
//! so a bad form never becomes an error page, only a form with messages.
//! And axum's `Query` and `Path`, whose refusals (a repeated query field,
//! a path segment that is not UTF-8) are the friendly 400 page rather than
//! axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::WebError;

pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        // Browsers send a textarea's line breaks as CRLF (HTML's form
        // encoding); stored texts use LF, so an unchanged description must
        // come back unchanged, not as a change in the history.
        Form(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = if v.contains('\r') {
                        v.replace("\r\n", "\n")
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value, or "" when the field is missing.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    /// Every value of a repeated field (checkboxes sharing a name).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A checkbox: present (with any value) means checked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| WebError::BadRequest(e.body_text()))?;
        Ok(Form::parse(&body))
    }
}

/// The query string as `T`; a malformed one is a 400 page.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| WebError::BadRequest(e.body_text()))
    }
}

/// The path's parameters as `T`; a malformed one is a 400 page.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| WebError::BadRequest(e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn lenient() {
        let f = Form::parse(b"a=1&b=x+y&c=%3Cs%3E&bad=%ZZ");
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.text("b"), "x y");
        assert_eq!(f.text("c"), "<s>");
        assert_eq!(f.text("missing"), "");
        assert!(!f.checked("missing"));
        let f = Form::parse(b"d=a%0D%0Ab%0D%0A%0D%0Ac");
        assert_eq!(f.text("d"), "a\nb\n\nc");
        let junk = Form::parse(&[0xff, 0xfe, b'=', 0x00]);
        assert_eq!(junk.text("x"), "");
    }

    /// A repeated query field is a 400 page, not axum's plain text.
    #[test]
    fn malformed_query_is_a_bad_request() {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};

        use axum::extract::FromRequestParts;
        use axum::http::Request;

        use crate::error::WebError;
        use crate::pages::PageQuery;

        let (mut parts, _) = Request::builder()
            .uri("/admin/users?page=1&page=2")
            .body(())
            .unwrap()
            .into_parts();
        // Reading a query string never waits: one poll answers.
        let read = super::Query::<PageQuery>::from_request_parts(&mut parts, &());
        let res = std::pin::pin!(read).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(res, Poll::Ready(Err(WebError::BadRequest(_)))));
    }
}
