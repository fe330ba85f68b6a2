//! HTML form bodies (`application/x-www-form-urlencoded`), read leniently:
//! any body parses, unknown fields are ignored and missing ones are empty,
//! so a bad form never becomes an error page, only a form with messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

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
}
