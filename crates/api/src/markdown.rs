//! Markdown to HTML for the `html` part of formattable texts. Raw HTML in
//! the source is escaped, never passed through: texts come from users and
//! are shown to other users.

use pulldown_cmark::{html, CowStr, Event, Options, Parser};

pub fn to_html(source: &str) -> String {
    if source.is_empty() {
        return String::new();
    }
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(CowStr::from(raw.into_string())),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn renders_markdown_and_escapes_html() {
        assert_eq!(to_html("**bold**"), "<p><strong>bold</strong></p>\n");
        let h = to_html("<script>alert(1)</script> and <b>x</b>");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert_eq!(to_html(""), "");
    }
}
