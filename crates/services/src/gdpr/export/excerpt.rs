//! The text around each mention of a person, for the export's `mentions`
//! section: structured `<mention data-type="user" data-id="N">` elements and
//! plain `@login` words, shown as a reader sees them (an element becomes its
//! display text, `@Name`), with about [`CONTEXT`] characters on each side.

/// Characters kept on each side of a mention (about 100 in all).
pub const CONTEXT: usize = 50;

const ELLIPSIS: char = '…';

/// The excerpts of `text` around each mention of user `user_id` (whose
/// login is `login`), in order. Empty when the text no longer names them.
pub fn excerpts(text: &str, user_id: i64, login: &str) -> Vec<String> {
    let (plain, mut spans, elements) = readable(text, user_id);
    // `@Name` inside an element is its display text, not a plain mention.
    spans.extend(
        plain_mentions(&plain, login)
            .into_iter()
            .filter(|(s, _)| !elements.iter().any(|(a, b)| a <= s && s < b)),
    );
    spans.sort_unstable();
    spans.dedup();
    let chars: Vec<char> = plain.chars().collect();
    spans
        .into_iter()
        .map(|(start, end)| {
            let from = start.saturating_sub(CONTEXT);
            let to = (end + CONTEXT).min(chars.len());
            let mut out = String::new();
            if from > 0 {
                out.push(ELLIPSIS);
            }
            let mut last_space = false;
            for &c in &chars[from..to] {
                // Line breaks and runs of spaces read as one space in an excerpt.
                if c.is_whitespace() {
                    if !last_space {
                        out.push(' ');
                    }
                    last_space = true;
                } else {
                    out.push(c);
                    last_space = false;
                }
            }
            if to < chars.len() {
                out.push(ELLIPSIS);
            }
            out.trim().to_string()
        })
        .collect()
}

type Spans = Vec<(usize, usize)>;

/// The text with every `<mention>` element replaced by its display text,
/// the character spans of the elements that mention `user_id`, and those
/// of all elements.
fn readable(text: &str, user_id: i64) -> (String, Spans, Spans) {
    let mut out = String::with_capacity(text.len());
    let mut out_chars = 0usize;
    let mut spans = Vec::new();
    let mut elements = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<mention") {
        let before = &rest[..start];
        out.push_str(before);
        out_chars += before.chars().count();
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            // A tag that never closes is left as it is.
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = &after[..tag_end];
        let (inner, element_end) = match after.find("</mention>") {
            Some(close) if close > tag_end => {
                (&after[tag_end + 1..close], close + "</mention>".len())
            }
            _ => ("", tag_end + 1),
        };
        let shown = if inner.is_empty() {
            attr(tag, "data-text").unwrap_or("")
        } else {
            inner
        };
        let is_them = attr(tag, "data-type") == Some("user")
            && attr(tag, "data-id").and_then(|v| v.parse::<i64>().ok()) == Some(user_id);
        let len = shown.chars().count();
        if is_them {
            spans.push((out_chars, out_chars + len));
        }
        elements.push((out_chars, out_chars + len));
        out.push_str(shown);
        out_chars += len;
        rest = &after[element_end..];
    }
    out.push_str(rest);
    (out, spans, elements)
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Character spans of `@login` words (any case) in `plain`: `@` starting a
/// word, and the login not running on into a longer word.
fn plain_mentions(plain: &str, login: &str) -> Vec<(usize, usize)> {
    if login.is_empty() {
        return Vec::new();
    }
    let chars: Vec<char> = plain.chars().collect();
    let needle: Vec<char> = login.chars().flat_map(char::to_lowercase).collect();
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+');
    let mut out = Vec::new();
    for i in 0..chars.len() {
        if chars[i] != '@' {
            continue;
        }
        if i > 0 {
            let p = chars[i - 1];
            if p.is_alphanumeric() || matches!(p, '_' | '.' | '-') {
                continue;
            }
        }
        let mut j = i + 1;
        let mut k = 0;
        while k < needle.len() && j < chars.len() {
            let mut lower = chars[j].to_lowercase();
            if lower.next() != Some(needle[k]) || lower.next().is_some() {
                break;
            }
            j += 1;
            k += 1;
        }
        if k < needle.len() {
            continue;
        }
        // `@bob` must not be the start of `@bobby`; a trailing `.` ends a
        // sentence unless a word goes on after it.
        let next = chars.get(j).copied();
        let runs_on = match next {
            Some('.') => chars.get(j + 1).is_some_and(|c| c.is_alphanumeric()),
            Some(c) => word(c),
            None => false,
        };
        if !runs_on {
            out.push((i, j));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::mention::markup;

    #[test]
    fn structured_mentions_read_as_their_display_text() {
        let text = format!(
            "Could {} check this before Friday? {} knows.",
            markup(7, "Anna Smith"),
            markup(8, "Bob")
        );
        let e = excerpts(&text, 7, "anna");
        assert_eq!(
            e,
            vec!["Could @Anna Smith check this before Friday? @Bob knows.".to_string()]
        );
        assert!(excerpts(&text, 9, "carol").is_empty());
    }

    #[test]
    fn long_texts_are_cut_around_each_mention() {
        let filler = "word ".repeat(40);
        let text = format!(
            "{filler}{}{filler}and again @anna. {filler}",
            markup(7, "Anna")
        );
        let e = excerpts(&text, 7, "anna");
        assert_eq!(e.len(), 2, "{e:?}");
        for x in &e {
            assert!(x.starts_with('…') && x.ends_with('…'), "{x}");
            assert!(x.chars().count() <= 2 * CONTEXT + 10, "{x}");
        }
        assert!(e[0].contains("@Anna"));
        assert!(e[1].contains("@anna."));
    }

    #[test]
    fn plain_mentions_respect_word_boundaries() {
        assert_eq!(excerpts("hi @Anna, see", 7, "anna").len(), 1);
        assert!(excerpts("mail anna@example.org", 7, "anna").is_empty());
        assert!(excerpts("hi @annabel", 7, "anna").is_empty());
        assert!(excerpts("hi @anna.b", 7, "anna").is_empty());
        assert_eq!(excerpts("ünïcödé @ANNA", 7, "anna"), vec!["ünïcödé @ANNA"]);
        assert!(excerpts("", 7, "anna").is_empty());
        assert!(excerpts("<mention data-id=\"7\" data-type=\"user\"", 7, "").is_empty());
    }

    #[test]
    fn whitespace_is_folded() {
        let text = format!("line one\n\n{}\tline   two", markup(7, "A"));
        assert_eq!(
            excerpts(&text, 7, "a"),
            vec!["line one @A line two".to_string()]
        );
    }
}
