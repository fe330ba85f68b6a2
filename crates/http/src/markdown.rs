//! Markdown to HTML for the `html` part of formattable texts, and to plain
//! text for excerpts. Texts come from users and are shown to other users,
//! in Steward's pages and in whatever an API client renders them into, so
//! the HTML must be safe without help from a Content-Security-Policy:
//!
//! - raw HTML in the source is escaped, never passed through; OpenProject's
//!   `<mention>` elements become links to the person (or their name alone);
//! - links keep only http, https, mailto and relative targets, images only
//!   http, https and relative ones; any other target (`javascript:`,
//!   `data:`, however spelt) is dropped and its text kept;
//! - an image on another host would send every reader's IP address there,
//!   so it is shown as a link unless the instance allows remote images;
//! - `#123` and bare URLs in running text become links (not in code).

use pulldown_cmark::{
    html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream,
};
use steward_domain::mention;

/// How texts are rendered for one response.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rendering {
    /// Show images from other hosts as images; otherwise as links to them.
    pub remote_images: bool,
    /// Where a mention of user N points: this prefix followed by N. `None`
    /// shows the mentioned name alone (the reader cannot see people).
    pub user_link: Option<&'static str>,
}

/// Where a work package reference `#N` points.
const WORK_PACKAGE_LINK: &str = "/work_packages/";

fn parser(source: &str) -> TextMergeStream<'_, Parser<'_>> {
    TextMergeStream::new(Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    ))
}

pub fn to_html(source: &str, rendering: Rendering) -> String {
    if source.is_empty() {
        return String::new();
    }
    let mut safe = SafeEvents {
        rendering,
        out: Vec::new(),
        links: Vec::new(),
        code_blocks: 0,
        image: None,
        mention: None,
    };
    for event in parser(source) {
        safe.push(event);
    }
    safe.finish();
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, safe.out.into_iter());
    out
}

/// The text a reader sees, without markup: for excerpts.
pub fn to_plain_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    // Whether a space separates what comes next from what came before.
    let mut gap = false;
    let words = |out: &mut String, gap: &mut bool, text: &str| {
        *gap |= text.starts_with(char::is_whitespace);
        for word in text.split_whitespace() {
            if *gap && !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            *gap = true;
        }
        *gap = text.ends_with(char::is_whitespace) || (*gap && text.trim().is_empty());
    };
    for event in parser(source) {
        match event {
            Event::InlineHtml(h) | Event::Html(h)
                if mention::is_opening_tag(&h) || h.trim() == mention::CLOSING_TAG => {}
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => {
                words(&mut out, &mut gap, &t);
            }
            Event::SoftBreak | Event::HardBreak => gap = true,
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell
                | TagEnd::HtmlBlock,
            ) => gap = true,
            _ => {}
        }
    }
    out
}

/// What a link or image target is, once read as a browser reads it.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// On this instance: a path, query or fragment.
    Relative,
    /// http, https or protocol-relative (`//host/...`).
    Remote,
    Mail,
    Refused,
}

/// Classifies `url` and returns it as browsers would use it: without tabs
/// and line breaks anywhere, and without control characters and spaces at
/// either end (which would otherwise hide a scheme from a simple check).
fn classify(url: &str) -> (Target, String) {
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c <= ' ').to_string();
    let target = match cleaned.find([':', '/', '?', '#']) {
        Some(i) if cleaned[i..].starts_with(':') => {
            match cleaned[..i].to_ascii_lowercase().as_str() {
                "http" | "https" => Target::Remote,
                "mailto" => Target::Mail,
                _ => Target::Refused,
            }
        }
        // Browsers read a backslash as a slash in such URLs.
        _ if cleaned.starts_with(['/', '\\']) && cleaned[1..].starts_with(['/', '\\']) => {
            Target::Remote
        }
        _ => Target::Relative,
    };
    (target, cleaned)
}

/// An image being read: its target and title, its alt text so far, and
/// how many images nested in its alt text are still open.
struct OpenImage<'a> {
    dest: CowStr<'a>,
    title: CowStr<'a>,
    alt: String,
    nested: usize,
}

/// A `<mention ...>` opening tag and the text after it, until its closing
/// tag shows it is a whole mention.
struct OpenMention<'a> {
    tag: CowStr<'a>,
    text: String,
}

/// The parser's events, made safe and linked (see the module comment).
struct SafeEvents<'a> {
    rendering: Rendering,
    out: Vec<Event<'a>>,
    /// Per open link: whether it was kept (its end tag is then kept too).
    links: Vec<bool>,
    code_blocks: usize,
    image: Option<OpenImage<'a>>,
    mention: Option<OpenMention<'a>>,
}

impl<'a> SafeEvents<'a> {
    fn in_link(&self) -> bool {
        self.links.iter().any(|kept| *kept)
    }

    fn link(&mut self, dest: String, text: String) {
        self.out.push(Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: dest.into(),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        self.out.push(Event::Text(text.into()));
        self.out.push(Event::End(TagEnd::Link));
    }

    fn push(&mut self, event: Event<'a>) {
        if let Some(mut open) = self.mention.take() {
            match event {
                Event::Text(t) => {
                    open.text.push_str(&t);
                    self.mention = Some(open);
                    return;
                }
                Event::InlineHtml(h) if h.as_ref() == mention::CLOSING_TAG => {
                    self.close_mention(open);
                    return;
                }
                // Not a whole mention after all: what was read is text.
                other => {
                    self.out.push(Event::Text(open.tag));
                    self.out.push(Event::Text(open.text.into()));
                    self.push(other);
                    return;
                }
            }
        }
        if let Some(image) = self.image.as_mut() {
            match event {
                Event::Start(Tag::Image { .. }) => image.nested += 1,
                Event::End(TagEnd::Image) if image.nested > 0 => image.nested -= 1,
                Event::End(TagEnd::Image) => {
                    if let Some(image) = self.image.take() {
                        self.close_image(image);
                    }
                }
                Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => {
                    image.alt.push_str(&t);
                }
                Event::SoftBreak | Event::HardBreak => image.alt.push(' '),
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let kept = if link_type == LinkType::Email {
                    // Written `mailto:` + the address by the HTML writer.
                    Some(dest_url)
                } else {
                    match classify(&dest_url) {
                        (Target::Refused, _) => None,
                        (_, cleaned) => Some(cleaned.into()),
                    }
                };
                self.links.push(kept.is_some());
                if let Some(dest_url) = kept {
                    self.out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if self.links.pop() == Some(true) {
                    self.out.push(event);
                }
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                self.image = Some(OpenImage {
                    dest: dest_url,
                    title,
                    alt: String::new(),
                    nested: 0,
                });
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.code_blocks += 1;
                self.out.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                self.code_blocks = self.code_blocks.saturating_sub(1);
                self.out.push(event);
            }
            Event::InlineHtml(h) if mention::is_opening_tag(&h) => {
                self.mention = Some(OpenMention {
                    tag: h,
                    text: String::new(),
                });
            }
            Event::Html(h) | Event::InlineHtml(h) => self.out.push(Event::Text(h)),
            Event::Text(t) if self.code_blocks == 0 && !self.in_link() => self.linkify(&t),
            other => self.out.push(other),
        }
    }

    /// Ends the input: a mention or image left open is shown as text.
    fn finish(&mut self) {
        if let Some(open) = self.mention.take() {
            self.out.push(Event::Text(open.tag));
            self.out.push(Event::Text(open.text.into()));
        }
        if let Some(image) = self.image.take() {
            self.out.push(Event::Text(image.alt.into()));
        }
    }

    fn close_mention(&mut self, open: OpenMention<'a>) {
        let shown = match open.text.trim() {
            "" => mention::display_text(&open.tag).unwrap_or("@?").to_string(),
            text => text.to_string(),
        };
        match (mention::user_id(&open.tag), self.rendering.user_link) {
            (Some(id), Some(prefix)) if !self.in_link() => {
                self.link(format!("{prefix}{id}"), shown);
            }
            _ => self.out.push(Event::Text(shown.into())),
        }
    }

    fn close_image(&mut self, image: OpenImage<'a>) {
        let (target, cleaned) = classify(&image.dest);
        let as_image = match target {
            Target::Relative => true,
            Target::Remote => self.rendering.remote_images,
            Target::Mail | Target::Refused => false,
        };
        if as_image {
            self.out.push(Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url: cleaned.into(),
                title: image.title,
                id: CowStr::Borrowed(""),
            }));
            self.out.push(Event::Text(image.alt.into()));
            self.out.push(Event::End(TagEnd::Image));
        } else if target == Target::Remote && !self.in_link() {
            let text = if image.alt.trim().is_empty() {
                cleaned.clone()
            } else {
                image.alt
            };
            self.link(cleaned, text);
        } else if !image.alt.is_empty() {
            self.out.push(Event::Text(image.alt.into()));
        }
    }

    /// Running text with its `#123` references and bare URLs as links.
    fn linkify(&mut self, text: &str) {
        let mut plain_from = 0;
        let mut i = 0;
        while i < text.len() {
            let found = if starts_word(text, i) {
                work_package_ref(&text[i..])
                    .map(|(len, id)| (len, format!("{WORK_PACKAGE_LINK}{id}")))
                    .or_else(|| bare_url(&text[i..]))
            } else {
                None
            };
            match found {
                Some((len, dest)) => {
                    if plain_from < i {
                        self.out
                            .push(Event::Text(text[plain_from..i].to_string().into()));
                    }
                    self.link(dest, text[i..i + len].to_string());
                    i += len;
                    plain_from = i;
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        if plain_from < text.len() {
            self.out
                .push(Event::Text(text[plain_from..].to_string().into()));
        }
    }
}

/// Whether a reference or URL may start at byte `i`: not in the middle of
/// a word, a path (`a/#1`) or an entity-like `&#1`.
fn starts_word(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_none_or(|p| !(p.is_alphanumeric() || matches!(p, '_' | '&' | '/' | '#' | '.' | '@')))
}

/// `#123` at the start of `s`: its length and the id.
fn work_package_ref(s: &str) -> Option<(usize, i64)> {
    let digits = s.strip_prefix('#')?;
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    let ends_word = digits[len..]
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    if len == 0 || len > 18 || !ends_word {
        return None;
    }
    let id: i64 = digits[..len].parse().ok()?;
    (id > 0).then_some((len + 1, id))
}

/// An `http://`, `https://` or `www.` URL at the start of `s`: its length
/// and the link target. Trailing punctuation ends the sentence, not the
/// URL, and so does a `)` without its `(`.
fn bare_url(s: &str) -> Option<(usize, String)> {
    let lower_start: String = s.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_len = ["https://", "http://", "www."]
        .iter()
        .find(|p| lower_start.starts_with(**p))
        .map(|p| p.len())?;
    let mut len = s
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(s.len());
    loop {
        let url = &s[..len];
        let Some(last) = url.chars().next_back() else {
            break;
        };
        let unbalanced = last == ')' && url.matches(')').count() > url.matches('(').count();
        if matches!(
            last,
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' | '~'
        ) || unbalanced
        {
            len -= last.len_utf8();
        } else {
            break;
        }
    }
    if len <= scheme_len {
        return None;
    }
    let url = &s[..len];
    let dest = if scheme_len == "www.".len() {
        format!("http://{url}")
    } else {
        url.to_string()
    };
    Some((len, dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINKED: Rendering = Rendering {
        remote_images: false,
        user_link: Some("/users/"),
    };

    fn html(source: &str) -> String {
        to_html(source, LINKED)
    }

    #[test]
    fn renders_markdown_and_escapes_html() {
        assert_eq!(html("**bold**"), "<p><strong>bold</strong></p>\n");
        let h = html("<script>alert(1)</script> and <b>x</b>");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert_eq!(html(""), "");
    }

    #[test]
    fn drops_link_targets_other_than_http_mailto_and_relative() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java&#115;cript:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](<\tjavascript:alert(1)>)",
            "[x](java&#x09;script:alert(1))",
            "[x](&#x01;javascript:alert(1))",
            "[x](<\u{1}javascript:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](file:///etc/passwd)",
            "<javascript:alert(1)>",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            let h = html(bad);
            assert!(!h.contains("<a"), "{bad}: {h}");
            assert!(h.contains('x') || h.contains("javascript"), "{bad}: {h}");
        }
        for (good, href) in [
            (
                "[x](https://example.org/a?b=c)",
                "https://example.org/a?b=c",
            ),
            ("[x](HTTP://example.org)", "HTTP://example.org"),
            ("[x](mailto:a@example.org)", "mailto:a@example.org"),
            ("[x](/work_packages/1)", "/work_packages/1"),
            ("[x](../other#part)", "../other#part"),
            ("[x](//elsewhere.example/)", "//elsewhere.example/"),
            ("<a@example.org>", "mailto:a@example.org"),
        ] {
            let h = html(good);
            assert!(h.contains(&format!("<a href=\"{href}\"")), "{good}: {h}");
        }
    }

    #[test]
    fn remote_images_are_links_unless_allowed() {
        let h = html("![pixel](https://elsewhere.example/p.png)");
        assert!(!h.contains("<img"), "{h}");
        assert!(
            h.contains("<a href=\"https://elsewhere.example/p.png\">pixel</a>"),
            "{h}"
        );
        let h = html("![](//elsewhere.example/p.png)");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains(">//elsewhere.example/p.png</a>"), "{h}");
        let allowed = Rendering {
            remote_images: true,
            ..LINKED
        };
        let h = to_html("![pixel](https://elsewhere.example/p.png)", allowed);
        assert!(
            h.contains("<img src=\"https://elsewhere.example/p.png\" alt=\"pixel\""),
            "{h}"
        );
        // Images of this instance stay images; refused targets leave the alt text.
        assert!(html("![logo](/assets/logo.png)").contains("<img src=\"/assets/logo.png\""));
        for bad in [
            "![alt](javascript:alert(1))",
            "![alt](data:image/png;base64,AAAA)",
        ] {
            for r in [LINKED, allowed] {
                let h = to_html(bad, r);
                assert!(!h.contains("<img") && !h.contains("<a"), "{bad}: {h}");
                assert!(h.contains("alt"), "{h}");
            }
        }
        // Inside a link, a remote image is its alt text, not a second link.
        let h = html("[![pic](https://elsewhere.example/p.png)](https://example.org)");
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        assert!(!h.contains("<img"), "{h}");
    }

    #[test]
    fn mentions_become_links_or_names() {
        let source = format!(
            "{} could you check? <mention class=\"mention\" data-id=\"3\" data-type=\"group\" data-text=\"@Devs\">@Devs</mention>",
            mention::markup(4, "Alice Smith")
        );
        let h = html(&source);
        assert!(
            h.contains("<a href=\"/users/4\">@Alice Smith</a> could you check?"),
            "{h}"
        );
        assert!(!h.contains("mention"), "{h}");
        assert!(h.contains(" @Devs</p>"), "{h}");
        let h = to_html(&source, Rendering::default());
        assert!(h.contains("<p>@Alice Smith could you check?"), "{h}");
        // Markup that is not a whole mention stays visible as text.
        let h = html("<mention data-id=\"4\" data-type=\"user\">@A **b**");
        assert!(h.contains("&lt;mention"), "{h}");
        // In code it is code.
        let h = html(&format!("`{}`", mention::markup(4, "A")));
        assert!(h.contains("<code>&lt;mention"), "{h}");
    }

    #[test]
    fn references_and_bare_urls_become_links_outside_code() {
        let h = html("See #12, (#7) and https://example.org/a_(b). Also www.example.org!");
        assert!(h.contains("<a href=\"/work_packages/12\">#12</a>,"), "{h}");
        assert!(h.contains("(<a href=\"/work_packages/7\">#7</a>)"), "{h}");
        assert!(
            h.contains("<a href=\"https://example.org/a_(b)\">https://example.org/a_(b)</a>."),
            "{h}"
        );
        assert!(
            h.contains("<a href=\"http://www.example.org\">www.example.org</a>!"),
            "{h}"
        );
        for not_linked in [
            "a#12",
            "#12a",
            "#0",
            "`#12`",
            "    #12 in a code block",
            "&#35;x",
        ] {
            assert!(
                !html(not_linked).contains("<a"),
                "{not_linked}: {}",
                html(not_linked)
            );
        }
        let h = html("```\nhttps://example.org #3\n```");
        assert!(!h.contains("<a"), "{h}");
        // Inside a link's text, no second link.
        let h = html("[see #3](https://example.org)");
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        // A heading, not a reference.
        assert!(html("# 12").contains("<h1>12</h1>"));
    }

    #[test]
    fn plain_text_has_no_markup() {
        let source = format!(
            "{} could you **check** the `scope`?\n\n- one\n- two",
            mention::markup(4, "Alice")
        );
        assert_eq!(
            to_plain_text(&source),
            "@Alice could you check the scope? one two"
        );
    }
}
