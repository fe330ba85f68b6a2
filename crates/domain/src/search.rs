//! Words for the text index: how text is cut into words and folded (case
//! and accents), how a search typed by a person becomes a query the index
//! can answer safely, and which words of a result to highlight.
//!
//! Both engines cut text at every character that is not a letter or a
//! digit and compare words without case and accents ("Müller" finds
//! "muller" and "MÜLLER"), so an email address or a login is found whole
//! as the run of its words ("anna.berg@example.org" is the words "anna",
//! "berg", "example", "org" one after the other). SQLite's FTS5 does the
//! folding itself (tokenizer `unicode61 remove_diacritics 2`); PostgreSQL
//! gets the words already folded by [`fold`], through the SQL function
//! that [`sql_fold_map`] feeds, so that documents and queries agree.
//!
//! A query never carries the engines' own syntax: a person's `"`, `*`,
//! `NEAR`, `:` or `&` is a separator like any other, and what reaches the
//! engine is built from letters and digits alone.

use unicode_normalization::char::decompose_canonical;

/// Characters of a search beyond which the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;
/// Words of a search beyond which the rest is ignored.
pub const MAX_QUERY_WORDS: usize = 16;

/// `c` without case and accents: the base letter of its canonical
/// decomposition, lower-cased (`É` → `e`, `ß` stays `ß`). Characters that
/// fold to more than one character keep their first.
pub fn fold_char(c: char) -> char {
    let mut base = None;
    decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        }
    });
    let base = base.unwrap_or(c);
    base.to_lowercase().next().unwrap_or(base)
}

/// Whether `c` belongs to a word (a letter or digit of any script).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The folded words of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_word_char(c) {
            cur.push(fold_char(c));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `text` folded and with every run of non-word characters made one space:
/// what PostgreSQL indexes.
pub fn fold(text: &str) -> String {
    words(text).join(" ")
}

/// One part of a query: the words of one search word, a login, an email
/// address, a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    pub words: Vec<String>,
    /// The last word may be the beginning of a longer one (typeahead).
    pub prefix: bool,
    /// The words must stand one after the other. Without it, PostgreSQL
    /// asks only that they all occur in the text: what the residue scan
    /// needs there, because PostgreSQL records no word positions past
    /// 16,383 and a phrase far into a long text would be missed (the scan
    /// checks every match on the text itself anyway). FTS5 has no such
    /// limit and always asks for the phrase.
    pub adjacent: bool,
}

impl Phrase {
    /// FTS5 keeps every word's position, so a phrase is exact there
    /// whether or not [`Phrase::adjacent`] asks for it: the words one after
    /// the other, in double quotes.
    fn fts5(&self) -> String {
        let mut s = format!("\"{}\"", self.words.join(" "));
        if self.prefix {
            s.push('*');
        }
        s
    }

    fn tsquery(&self) -> String {
        let last = self.words.len().saturating_sub(1);
        let ws: Vec<String> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if self.prefix && i == last {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect();
        let join = if self.adjacent { " <-> " } else { " & " };
        format!("({})", ws.join(join))
    }
}

/// What to look for: every phrase (`all`) or any of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextQuery {
    pub phrases: Vec<Phrase>,
    pub all: bool,
}

impl TextQuery {
    /// A person's search: each word must occur, in any order; the last one
    /// also as the beginning of a word when `prefix` (search-as-you-type).
    /// `None` when it holds no word at all (only spaces or punctuation).
    pub fn from_search(input: &str, prefix: bool) -> Option<TextQuery> {
        let input: String = input.chars().take(MAX_QUERY_CHARS).collect();
        let mut ws = words(&input);
        ws.truncate(MAX_QUERY_WORDS);
        if ws.is_empty() {
            return None;
        }
        let last = ws.len() - 1;
        // A prefix of one letter would match half the index.
        let prefix_last = prefix && ws[last].chars().count() >= 2;
        let phrases = ws
            .into_iter()
            .enumerate()
            .map(|(i, w)| Phrase {
                words: vec![w],
                prefix: prefix_last && i == last,
                adjacent: true,
            })
            .collect();
        Some(TextQuery { phrases, all: true })
    }

    /// Any of `terms`, each with all its words somewhere in the text (the
    /// residue scan's names, login and email: a superset of where they
    /// occur whole, see [`Phrase::adjacent`]). `None` when no term holds a
    /// word.
    pub fn any_of<S: AsRef<str>>(terms: &[S]) -> Option<TextQuery> {
        let mut phrases: Vec<Phrase> = Vec::new();
        for t in terms {
            let ws = words(t.as_ref());
            if ws.is_empty() {
                continue;
            }
            let p = Phrase {
                words: ws,
                prefix: false,
                adjacent: false,
            };
            if !phrases.contains(&p) {
                phrases.push(p);
            }
        }
        (!phrases.is_empty()).then_some(TextQuery {
            phrases,
            all: false,
        })
    }

    /// The query in FTS5's syntax: words in double quotes (they hold no
    /// quote, so nothing can escape), `*` after a prefix.
    pub fn to_fts5(&self) -> String {
        let parts: Vec<String> = self.phrases.iter().map(Phrase::fts5).collect();
        parts.join(if self.all { " AND " } else { " OR " })
    }

    /// The query in PostgreSQL's `to_tsquery` syntax: `<->` (followed by)
    /// or `&` between words, `:*` after a prefix. Words hold only letters
    /// and digits, so none of the operators can come from the input.
    pub fn to_tsquery(&self) -> String {
        let parts: Vec<String> = self.phrases.iter().map(Phrase::tsquery).collect();
        parts.join(if self.all { " & " } else { " | " })
    }

    /// Every folded word of the query (to highlight in results).
    pub fn all_words(&self) -> impl Iterator<Item = (&str, bool)> {
        self.phrases.iter().flat_map(|p| {
            let last = p.words.len().saturating_sub(1);
            p.words
                .iter()
                .enumerate()
                .map(move |(i, w)| (w.as_str(), p.prefix && i == last))
        })
    }
}

/// Byte ranges of the words of `text` that the query looks for (a whole
/// word, or the beginning of one for a prefix), earliest first.
pub fn highlights(text: &str, query: &TextQuery) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut folded = String::new();
    let check = |s: usize, e: usize, folded: &str, out: &mut Vec<(usize, usize)>| {
        if query.all_words().any(|(w, prefix)| {
            if prefix {
                folded.starts_with(w)
            } else {
                folded == w
            }
        }) {
            out.push((s, e));
        }
    };
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
                folded.clear();
            }
            folded.push(fold_char(c));
        } else if let Some(s) = start.take() {
            check(s, i, &folded, &mut out);
        }
    }
    if let Some(s) = start {
        check(s, text.len(), &folded, &mut out);
    }
    out
}

/// The pairs (character, folded character) for PostgreSQL's `translate`:
/// every letter of the Latin, Greek and Cyrillic blocks whose fold differs
/// from its lower case, and the capitals of those blocks, so that the
/// database folds exactly as [`fold_char`] does without an extension.
pub fn sql_fold_map() -> (String, String) {
    let mut from = String::new();
    let mut to = String::new();
    let ranges = [
        ('\u{00C0}', '\u{024F}'),
        ('\u{0370}', '\u{03FF}'),
        ('\u{0400}', '\u{052F}'),
        ('\u{1E00}', '\u{1EFF}'),
    ];
    for (lo, hi) in ranges {
        for c in lo..=hi {
            if !c.is_alphabetic() {
                continue;
            }
            let f = fold_char(c);
            if f != c {
                from.push(c);
                to.push(f);
            }
        }
    }
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_cut_at_anything_but_letters_and_digits() {
        assert_eq!(
            words("Anna-Lena Müller <anna.mueller@example.org>, ÉCOLE 42x"),
            vec!["anna", "lena", "muller", "anna", "mueller", "example", "org", "ecole", "42x"]
        );
        assert_eq!(words("  \"*NEAR:&|  "), vec!["near"]);
        assert!(words("").is_empty());
        assert_eq!(fold("Žofie  Straße!"), "zofie straße");
    }

    #[test]
    fn engine_syntax_in_a_search_is_only_separators() {
        let q = TextQuery::from_search(r#"foo" OR bar* NEAR(x:y) -z ^"#, false).unwrap();
        assert_eq!(
            q.to_fts5(),
            r#""foo" AND "or" AND "bar" AND "near" AND "x" AND "y" AND "z""#
        );
        assert_eq!(
            q.to_tsquery(),
            "(foo) & (or) & (bar) & (near) & (x) & (y) & (z)"
        );
        assert!(TextQuery::from_search("\"*:&|()", false).is_none());
        assert!(TextQuery::from_search("", true).is_none());
    }

    #[test]
    fn a_login_or_email_is_one_phrase_and_a_prefix_only_ends_a_search() {
        let q = TextQuery::any_of(&["anna.berg@example.org", "Anna Berg", "ANNA BERG"]).unwrap();
        assert_eq!(q.phrases.len(), 2);
        assert_eq!(q.to_fts5(), r#""anna berg example org" OR "anna berg""#);
        assert_eq!(
            q.to_tsquery(),
            "(anna & berg & example & org) | (anna & berg)"
        );
        let t = TextQuery::from_search("report mül", true).unwrap();
        assert_eq!(t.to_fts5(), r#""report" AND "mul"*"#);
        assert_eq!(t.to_tsquery(), "(report) & (mul:*)");
        let one = TextQuery::from_search("report m", true).unwrap();
        assert!(!one.phrases[1].prefix);
    }

    #[test]
    fn a_huge_search_is_cut_short() {
        let huge = "word ".repeat(10_000);
        let q = TextQuery::from_search(&huge, false).unwrap();
        assert_eq!(q.phrases.len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn highlights_find_the_words_as_written() {
        let q = TextQuery::from_search("muller rep", true).unwrap();
        let text = "Report by Müller, reported twice; MULLERS no.";
        let marked: Vec<&str> = highlights(text, &q)
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(marked, vec!["Report", "Müller", "reported"]);
    }

    #[test]
    fn the_sql_map_folds_as_rust_does() {
        let (from, to) = sql_fold_map();
        assert_eq!(from.chars().count(), to.chars().count());
        let map: std::collections::HashMap<char, char> = from.chars().zip(to.chars()).collect();
        for c in ['É', 'é', 'ü', 'Ł', 'Ω', 'Ж', 'ё'] {
            let sql = map
                .get(&c)
                .copied()
                .unwrap_or(c)
                .to_lowercase()
                .next()
                .unwrap();
            assert_eq!(sql, fold_char(c), "{c}");
        }
        assert!(!from.contains('\''));
    }
}
