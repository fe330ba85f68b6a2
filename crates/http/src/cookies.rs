//! Reading cookies, and the session cookie as both front-ends set it.

use axum::http::{header, HeaderMap};

use crate::AppState;

/// The value of the cookie `name`, if the request sent a non-empty one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value of the session cookie: no Max-Age (a browser
/// session's cookie; the server enforces the idle and absolute lifetimes),
/// HttpOnly, SameSite=Lax, Secure when the instance is served over https.
/// `clear` makes the browser drop it.
pub fn session_cookie(state: &AppState, value: &str, clear: bool) -> String {
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax",
        state.http.cookie_name
    );
    if state.http.secure_cookies {
        c.push_str("; Secure");
    }
    if clear {
        c.push_str("; Max-Age=0");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; steward_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, "steward_session").as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "missing"), None);
        h.insert(header::COOKIE, "steward_session=".parse().unwrap());
        assert_eq!(cookie_value(&h, "steward_session"), None);
    }
}
