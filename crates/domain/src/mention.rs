//! Finding mentions of people in Markdown text: OpenProject's structured
//! `<mention class="mention" data-id="7" data-type="user" data-text="@Name">`
//! markup, and plain `@login` words.

/// What a text mentions, before logins are resolved to users.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// User ids from `<mention data-type="user" data-id="..">` tags.
    pub user_ids: Vec<i64>,
    /// Words written as `@login`.
    pub logins: Vec<String>,
}

/// Whether `text` can mention anyone at all: [`find`] finds nothing in a
/// text without a `<mention` tag and without an `@`. Lets a caller skip
/// the work for the many texts that mention no one.
pub fn may_mention(text: &str) -> bool {
    text.contains('@') || text.contains("<mention")
}

pub fn find(text: &str) -> Mentions {
    let mut out = Mentions::default();
    let mut rest = text;
    while let Some(start) = rest.find("<mention") {
        let after = &rest[start..];
        let Some(end) = after.find('>') else { break };
        if let Some(id) = user_id(&after[..end]) {
            if !out.user_ids.contains(&id) {
                out.user_ids.push(id);
            }
        }
        rest = &after[end..];
    }
    let stripped = strip_mention_tags(text);
    for (i, ch) in stripped.char_indices() {
        if ch != '@' {
            continue;
        }
        // `@` must start a word: not inside an e-mail address like a@b.org.
        let prev_ok = i == 0 || {
            let p = stripped[..i].chars().next_back().unwrap_or(' ');
            !(p.is_alphanumeric() || p == '_' || p == '.' || p == '-')
        };
        if !prev_ok {
            continue;
        }
        let word: String = stripped[i + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+'))
            .collect();
        let word = word.trim_end_matches(['.', '-', '@', '+']).to_string();
        if !word.is_empty() && !out.logins.iter().any(|l| l.eq_ignore_ascii_case(&word)) {
            out.logins.push(word);
        }
    }
    out
}

/// The closing tag of a structured mention.
pub const CLOSING_TAG: &str = "</mention>";

/// Whether `html` is the opening tag of a structured mention (with or
/// without its `>`).
pub fn is_opening_tag(html: &str) -> bool {
    html.strip_prefix("<mention")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_whitespace() || c == '>')
}

/// The user a `<mention ...>` opening tag points to: its `data-id` when its
/// `data-type` is `user`.
pub fn user_id(tag: &str) -> Option<i64> {
    if attr(tag, "data-type") != Some("user") {
        return None;
    }
    attr(tag, "data-id").and_then(|v| v.parse::<i64>().ok())
}

/// The name a `<mention ...>` opening tag shows (`data-text`, e.g. `@Alice`).
pub fn display_text(tag: &str) -> Option<&str> {
    attr(tag, "data-text")
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The text without `<mention ...>...</mention>` elements, so that their
/// `@Name` display text is not read a second time as a plain mention.
fn strip_mention_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<mention") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        match after.find(CLOSING_TAG) {
            Some(end) => rest = &after[end + CLOSING_TAG.len()..],
            None => match after.find('>') {
                Some(end) => rest = &after[end + 1..],
                None => {
                    rest = "";
                }
            },
        }
    }
    out.push_str(rest);
    out
}

/// The markup for a structured mention of a user.
pub fn markup(user_id: i64, display: &str) -> String {
    let display = display.replace(['"', '<', '>', '&'], "");
    format!(
        "<mention class=\"mention\" data-id=\"{user_id}\" data-type=\"user\" data-text=\"@{display}\">@{display}</mention>"
    )
}

/// Rewrites every mention of user `from` in `text` to a mention of user
/// `to` shown as `to_display`: structured `<mention>` elements whose
/// `data-id` is `from` (the whole element, so the old display name goes
/// too) and plain `@from_login` words (to `@to_login`). Returns `None` when
/// the text mentions `from` nowhere, so callers write only what changed.
pub fn replace_user(
    text: &str,
    from: i64,
    from_login: &str,
    to: i64,
    to_display: &str,
    to_login: &str,
) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<mention") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let is_from = user_id(&after[..tag_end]) == Some(from);
        // The element ends at its closing tag; a tag left open ends at `>`.
        let element_end = after
            .find(CLOSING_TAG)
            .map_or(tag_end + 1, |e| e + CLOSING_TAG.len());
        if is_from {
            out.push_str(&markup(to, to_display));
            changed = true;
        } else {
            out.push_str(&after[..element_end]);
        }
        rest = &after[element_end..];
    }
    out.push_str(rest);
    if !from_login.is_empty() {
        if let Some(replaced) = replace_plain_mentions(&out, from_login, to_login) {
            out = replaced;
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Replaces `@login` words (case-insensitive, as [`find`] reads them)
/// outside `<mention>` elements.
fn replace_plain_mentions(text: &str, login: &str, to_login: &str) -> Option<String> {
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII; then positions
    // in `lower` do not map back and nothing is replaced this way (structured
    // mentions are unaffected).
    if lower.len() != text.len() {
        return None;
    }
    let needle = format!("@{}", login.to_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    let mut inside_mention = false;
    let mut i = 0;
    while i < text.len() {
        if lower[i..].starts_with("<mention") {
            inside_mention = true;
        } else if inside_mention && lower[i..].starts_with(CLOSING_TAG) {
            inside_mention = false;
        }
        if !inside_mention && lower[i..].starts_with(&needle) {
            let prev_ok = i == 0 || {
                let p = text[..i].chars().next_back().unwrap_or(' ');
                !(p.is_alphanumeric() || p == '_' || p == '.' || p == '-')
            };
            let end = i + needle.len();
            // The login must end here: not followed by more login
            // characters, nor by a dot that continues the word.
            let next_ok = text[end..].chars().next().is_none_or(|c| {
                let continues_word = c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '+');
                let dot_continues = c == '.'
                    && text[end + 1..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphanumeric);
                !continues_word && !dot_continues
            });
            if prev_ok && next_ok {
                out.push_str(&text[last..i]);
                out.push('@');
                out.push_str(to_login);
                last = end;
                changed = true;
                i = end;
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[last..]);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_structured_and_plain_mentions() {
        let t = format!(
            "Hi {} and @bob, also @Carol.Smith. Mail me at dave@example.org. @bob again",
            markup(7, "Alice A")
        );
        let m = find(&t);
        assert_eq!(m.user_ids, vec![7]);
        assert_eq!(m.logins, vec!["bob".to_string(), "Carol.Smith".to_string()]);
    }

    #[test]
    fn ignores_other_mention_types_and_broken_tags() {
        let m = find(
            r#"<mention class="mention" data-id="3" data-type="group" data-text="@Devs">@Devs</mention> <mention data-id="x" data-type="user">"#,
        );
        assert!(m.user_ids.is_empty());
        assert!(m.logins.is_empty());
        assert_eq!(find("no mentions here").logins.len(), 0);
        assert!(!may_mention("no mentions here"));
        assert!(may_mention("see @alice"));
        assert!(may_mention(
            r#"<mention data-id="3" data-type="user">x</mention>"#
        ));
        assert_eq!(find("@").logins.len(), 0);
    }

    #[test]
    fn replaces_structured_and_plain_mentions_of_one_user() {
        let text = format!(
            "Ask {} or {}; cc @anna, @anna.b and @Anna. Mail anna@example.org.",
            markup(7, "Anna Smith"),
            markup(8, "Bob")
        );
        let out = replace_user(&text, 7, "anna", 1, "Deleted user", "deleted-user").unwrap();
        assert!(!out.contains("Anna Smith"), "{out}");
        assert!(out.contains(&markup(1, "Deleted user")));
        assert!(out.contains(&markup(8, "Bob")));
        assert!(
            out.contains("cc @deleted-user, @anna.b and @deleted-user."),
            "{out}"
        );
        assert!(
            out.contains("anna@example.org"),
            "an email is not a mention: {out}"
        );
        let again = find(&out);
        assert_eq!(again.user_ids, vec![1, 8]);
        assert_eq!(replace_user("nothing here", 7, "anna", 1, "D", "d"), None);
        assert_eq!(
            replace_user(&markup(8, "Bob"), 7, "anna", 1, "D", "d"),
            None
        );
    }
}
