//! The texts of the benchmark data set: subjects, descriptions and comments
//! put together from a small built-in word list, so that a text search has
//! real words of different frequency to find, and the same seed always
//! writes the same texts (each text is a function of the work package's
//! number only).

const VERBS: &[&str] = &[
    "Fix",
    "Add",
    "Remove",
    "Update",
    "Review",
    "Document",
    "Test",
    "Refactor",
    "Migrate",
    "Speed up",
    "Clean up",
    "Translate",
    "Design",
    "Replace",
    "Check",
    "Archive",
];

const ADJECTIVES: &[&str] = &[
    "slow",
    "broken",
    "missing",
    "new",
    "old",
    "shared",
    "private",
    "weekly",
    "monthly",
    "public",
    "mobile",
    "printed",
    "nightly",
    "encrypted",
    "duplicate",
    "empty",
    "large",
    "legacy",
    "optional",
    "default",
];

const NOUNS: &[&str] = &[
    "invoice",
    "report",
    "dashboard",
    "login page",
    "export",
    "calendar",
    "newsletter",
    "backup",
    "search",
    "timesheet",
    "budget",
    "contract",
    "roadmap",
    "release notes",
    "sign-up form",
    "notification",
    "workflow",
    "archive",
    "API endpoint",
    "checklist",
    "survey",
    "warehouse",
    "shipment",
    "ticket queue",
    "price list",
    "style guide",
    "data import",
    "onboarding",
    "meeting notes",
    "test plan",
    "audit log",
    "help page",
];

const PLACES: &[&str] = &[
    "for the Berlin office",
    "in the customer portal",
    "before the release",
    "for the finance team",
    "on the intranet",
    "for partners",
    "after the migration",
    "in the mobile app",
    "for the next quarter",
    "on the staging server",
];

const PROBLEMS: &[&str] = &[
    "takes minutes to load",
    "shows the wrong totals",
    "fails for long names",
    "is hard to find",
    "breaks on small screens",
    "sends the mail twice",
    "ignores the time zone",
    "needs a second review",
    "lacks a German translation",
    "blocks the nightly job",
];

const COMMENTS: &[&str] = &[
    "Status updated.",
    "Started on this today.",
    "Moved on after the review of the {noun}.",
    "Waiting for feedback on the {noun}.",
    "The {adjective} {noun} is ready for testing.",
    "Discussed in the weekly meeting; going ahead.",
    "Reproduced it: the {noun} {problem}.",
    "Picked up again after the holidays.",
];

/// A well-mixed number from `n` and `salt` (SplitMix64), so that
/// neighbouring work packages get unrelated words.
fn mix(n: usize, salt: u64) -> u64 {
    let mut z = (n as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick(words: &[&'static str], n: usize, salt: u64) -> &'static str {
    words[(mix(n, salt) % words.len() as u64) as usize]
}

/// The subject of work package number `n` (0-based), e.g. "Fix slow
/// invoice for the Berlin office".
pub fn subject(n: usize) -> String {
    format!(
        "{} {} {} {}",
        pick(VERBS, n, 1),
        pick(ADJECTIVES, n, 2),
        pick(NOUNS, n, 3),
        pick(PLACES, n, 4)
    )
}

/// The description of work package number `n`: one to three sentences.
pub fn description(n: usize) -> String {
    let mut text = format!(
        "The {} {} {}.",
        pick(ADJECTIVES, n, 5),
        pick(NOUNS, n, 3),
        pick(PROBLEMS, n, 6)
    );
    let extra = mix(n, 7) % 3;
    if extra >= 1 {
        text.push_str(&format!(
            " Compare it with the {} {} {}.",
            pick(ADJECTIVES, n, 8),
            pick(NOUNS, n, 9),
            pick(PLACES, n, 10)
        ));
    }
    if extra == 2 {
        text.push_str(&format!(
            " Work package {} of the benchmark data set.",
            n + 1
        ));
    }
    text
}

/// The comment of the status change of work package number `n`.
pub fn status_comment(n: usize) -> String {
    pick(COMMENTS, n, 11)
        .replace("{noun}", pick(NOUNS, n, 12))
        .replace("{adjective}", pick(ADJECTIVES, n, 13))
        .replace("{problem}", pick(PROBLEMS, n, 14))
}

/// A status-change comment that names `name` in the text and mentions them
/// with `markup` (the structured mention) or by `@login`, as people write
/// when they hand something over.
pub fn mentioning_comment(n: usize, markup: &str, login: &str, name: &str) -> String {
    let noun = pick(NOUNS, n, 12);
    if n.is_multiple_of(2) {
        format!("{markup} could you check the {noun}? {name} wrote the first version.")
    } else {
        format!("Handing the {noun} over to @{login}: {name} knows it best.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_vary_and_repeat_exactly() {
        assert_eq!(subject(41), subject(41));
        assert_eq!(description(7), description(7));
        let subjects: std::collections::HashSet<String> = (0..200).map(subject).collect();
        assert!(subjects.len() > 150, "{} distinct subjects", subjects.len());
        assert!((0..50).any(|n| description(n).contains("Compare")));
        assert!((0..50).all(|n| !status_comment(n).contains('{')));
    }
}
