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
        let tag = &after[..end];
        if attr(tag, "data-type").is_some_and(|t| t == "user") {
            if let Some(id) = attr(tag, "data-id").and_then(|v| v.parse::<i64>().ok()) {
                if !out.user_ids.contains(&id) {
                    out.user_ids.push(id);
                }
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
        match after.find("</mention>") {
            Some(end) => rest = &after[end + "</mention>".len()..],
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
}
