//! The stylesheet, script and icon, compiled into the binary. Their URLs
//! carry a fingerprint of their content, so browsers may keep them for a
//! year: a new build with a changed file gets a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub const STYLE: &str = include_str!("../assets/style.css");
pub const SCRIPT: &str = include_str!("../assets/app.js");
pub const ICON: &str = include_str!("../assets/favicon.svg");

/// FNV-1a: a stable fingerprint, not a security measure.
fn fingerprint(data: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

static STYLE_NAME: LazyLock<String> = LazyLock::new(|| format!("style.{}.css", fingerprint(STYLE)));
static SCRIPT_NAME: LazyLock<String> = LazyLock::new(|| format!("app.{}.js", fingerprint(SCRIPT)));
static ICON_NAME: LazyLock<String> = LazyLock::new(|| format!("favicon.{}.svg", fingerprint(ICON)));

pub fn style_url() -> String {
    format!("/assets/{}", *STYLE_NAME)
}

pub fn script_url() -> String {
    format!("/assets/{}", *SCRIPT_NAME)
}

pub fn icon_url() -> String {
    format!("/assets/{}", *ICON_NAME)
}

/// `/favicon.ico`, which browsers and feed readers ask for without reading
/// the page: sent on to the icon. Not for ever, as the icon's URL changes
/// with its content.
pub async fn favicon() -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, icon_url()),
            (header::CACHE_CONTROL, "public, max-age=86400".to_string()),
        ],
    )
        .into_response()
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = if name == *STYLE_NAME {
        (STYLE, "text/css; charset=utf-8")
    } else if name == *SCRIPT_NAME {
        (SCRIPT, "text/javascript; charset=utf-8")
    } else if name == *ICON_NAME {
        (ICON, "image/svg+xml")
    } else {
        return crate::error::WebError::NotFound.into_response();
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_differ_with_content() {
        assert_ne!(super::fingerprint("a"), super::fingerprint("b"));
        assert_eq!(super::fingerprint("a").len(), 12);
    }
}
