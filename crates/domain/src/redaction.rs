//! Finding and replacing a person's names, login and email in free text:
//! the redaction queue shows the controller where an erased person is still
//! named outside structured mentions, and redacting replaces those words.

/// What replaces a redacted occurrence.
pub const REDACTED: &str = "[redacted]";

/// Shortest term searched for: shorter ones ("Al") match too much to help.
pub const MIN_TERM_CHARS: usize = 3;

/// The terms to look for, from a person's identifiers: full name (both
/// orders), first and last name, login and email; short and duplicate terms
/// dropped, longest first so that a full name is matched before its parts.
pub fn terms_for(firstname: &str, lastname: &str, login: &str, email: Option<&str>) -> Vec<String> {
    let (first, last) = (firstname.trim(), lastname.trim());
    let mut terms: Vec<String> = Vec::new();
    let mut push = |t: String| {
        let t = t.trim().to_string();
        if t.chars().count() >= MIN_TERM_CHARS && !terms.iter().any(|x| x.eq_ignore_ascii_case(&t))
        {
            terms.push(t);
        }
    };
    if !first.is_empty() && !last.is_empty() {
        push(format!("{first} {last}"));
        push(format!("{last}, {first}"));
        push(format!("{last} {first}"));
    }
    push(first.to_string());
    push(last.to_string());
    push(login.to_string());
    if let Some(e) = email {
        push(e.to_string());
    }
    terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
    terms
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn same_ignoring_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Byte ranges where any term occurs as a whole word (case-insensitive),
/// earliest first, never overlapping (longer terms win at one position).
pub fn occurrences(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    'outer: while i < text.len() {
        let prev_ok = text[..i]
            .chars()
            .next_back()
            .is_none_or(|p| !is_word_char(p));
        if prev_ok {
            for term in terms {
                let end = i + term.len();
                let Some(candidate) = text.get(i..end) else {
                    continue;
                };
                if !same_ignoring_case(candidate, term) {
                    continue;
                }
                let next_ok = text[end..].chars().next().is_none_or(|n| !is_word_char(n));
                if next_ok {
                    found.push((i, end));
                    i = end;
                    continue 'outer;
                }
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    found
}

/// The text with every occurrence replaced by [`REDACTED`]; `None` when
/// nothing occurs.
pub fn redact(text: &str, terms: &[String]) -> Option<String> {
    let found = occurrences(text, terms);
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in found {
        out.push_str(&text[last..s]);
        out.push_str(REDACTED);
        last = e;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// Up to `radius` characters either side of each occurrence, with the
/// occurrence itself, for the controller to judge it.
pub fn contexts(text: &str, terms: &[String], radius: usize) -> Vec<String> {
    occurrences(text, terms)
        .into_iter()
        .map(|(s, e)| {
            let before: String = {
                let mut v: Vec<char> = text[..s].chars().rev().take(radius).collect();
                v.reverse();
                v.into_iter().collect()
            };
            let after: String = text[e..].chars().take(radius).collect();
            format!("{before}{}{after}", &text[s..e])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_skip_short_and_duplicate_values() {
        let t = terms_for("Al", "Smithers", "smithers", Some("al@example.org"));
        assert_eq!(
            t,
            vec![
                "al@example.org",
                "Smithers, Al",
                "Al Smithers",
                "Smithers Al",
                "Smithers"
            ]
        );
        assert!(terms_for("", "", "ab", None).is_empty());
    }

    #[test]
    fn finds_whole_words_case_insensitively() {
        let terms = terms_for("Anna", "Kowalska", "akow", Some("anna.k@example.org"));
        let text =
            "ANNA KOWALSKA said; ping akow or anna.k@example.org. Annabel and akowx are others.";
        let found: Vec<&str> = occurrences(text, &terms)
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, vec!["ANNA KOWALSKA", "akow", "anna.k@example.org"]);
        let red = redact(text, &terms).unwrap();
        assert_eq!(
            red,
            "[redacted] said; ping [redacted] or [redacted]. Annabel and akowx are others."
        );
        assert_eq!(redact("nobody here", &terms), None);
        assert_eq!(
            contexts("x Anna y", &terms, 2),
            vec!["x Anna y".to_string()]
        );
    }

    #[test]
    fn handles_non_ascii_text() {
        let terms = vec!["Jürgen".to_string()];
        assert_eq!(
            redact("Grüße an JÜRGEN!", &terms).as_deref(),
            Some("Grüße an [redacted]!")
        );
        assert_eq!(occurrences("Jürgens", &terms), vec![]);
    }
}
