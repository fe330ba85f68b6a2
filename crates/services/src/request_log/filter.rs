//! Secret filtering: which parameter names hold secrets, and the recursive
//! replacement of their values before a line is written.
//!
//! Names are compared by their words, not as raw strings: `newPassword`,
//! `new_password`, `X-CSRF-Token` and `apiKey` all split into lower-case
//! words (`new password`, `x csrf token`, `api key`), and a name is secret
//! when one of its words, or two adjacent words run together (`api`+`key`),
//! is on the list. Matching words rather than substrings keeps `footprint`
//! (which contains "otp") and `tokenizer_settings`-like names from being
//! over- or under-matched by accident.

use serde_json::Value;

/// What a filtered value is replaced with.
pub const FILTERED: &str = "[FILTERED]";

/// Longest string value kept in a line, in bytes; longer ones are cut (at
/// a character boundary) so that one huge description does not eat the
/// size budget of the log.
pub const MAX_STRING_BYTES: usize = 4096;

/// Words that make a parameter name secret wherever they appear in it.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "apikey",
    "otp",
    "totp",
    "hotp",
    "code",
    "cookie",
    "authorization",
    "csrf",
    "xsrf",
    "privatekey",
    "credential",
    "credentials",
    "salt",
    "signature",
];

/// Whole names that are secret only on their own: `key` is how several
/// clients (Redmine's, among others) pass an API key, but `key` inside a
/// longer name (`sort_key`) is not a secret.
const SECRET_NAMES: &[&str] = &["key", "auth", "pin", "session"];

/// Decides which parameter names are secret: the built-in list plus the
/// names the configuration adds.
#[derive(Clone, Debug, Default)]
pub struct SecretFilter {
    /// Configured names, normalised (lower case, no separators).
    extra: Vec<String>,
}

/// Splits a parameter name into lower-case words at `_`, `-`, `.`, spaces,
/// brackets and camel-case humps: `currentPassword` -> [current, password],
/// `user[api_key]` -> [user, api, key].
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn normalise(name: &str) -> String {
    words(name).concat()
}

impl SecretFilter {
    pub fn new(extra: &[String]) -> Self {
        SecretFilter {
            extra: extra
                .iter()
                .map(|n| normalise(n))
                .filter(|n| !n.is_empty())
                .collect(),
        }
    }

    /// Whether a parameter (or header, or JSON property) of this name holds
    /// a secret.
    pub fn is_secret(&self, name: &str) -> bool {
        let w = words(name);
        if w.is_empty() {
            return false;
        }
        let whole = w.concat();
        if SECRET_NAMES.contains(&whole.as_str()) || self.extra.contains(&whole) {
            return true;
        }
        let singular = |s: &str| -> String { s.strip_suffix('s').unwrap_or(s).to_string() };
        let listed = |s: &str| SECRET_WORDS.contains(&s) || SECRET_WORDS.contains(&&*singular(s));
        // Single words, and every run of adjacent words run together:
        // `api key` -> `apikey`, `private key` -> `privatekey`, and a
        // configured `ssn` inside `user_ssn`.
        for start in 0..w.len() {
            let mut joined = String::new();
            for word in &w[start..] {
                joined.push_str(word);
                if listed(&joined) || self.extra.contains(&joined) {
                    return true;
                }
            }
        }
        false
    }

    /// Replaces the values of secret properties, at any depth, with
    /// [`FILTERED`], and cuts long strings.
    pub fn filter_json(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if self.is_secret(k) {
                        *v = Value::String(FILTERED.into());
                    } else {
                        self.filter_json(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.filter_json(v)),
            Value::String(s) => truncate(s),
            _ => {}
        }
    }

    /// URL-encoded pairs (a query string or a form body) as a JSON object;
    /// a key given more than once becomes an array of its values. Invalid
    /// percent-encoding is decoded lossily. `None` when the pairs cannot be
    /// read at all: then nothing of them is logged, since they cannot be
    /// filtered.
    pub fn filter_urlencoded(&self, text: &[u8]) -> Option<Value> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(text).ok()?;
        let mut map = serde_json::Map::new();
        for (k, mut v) in pairs {
            let value = if self.is_secret(&k) {
                Value::String(FILTERED.into())
            } else {
                truncate(&mut v);
                Value::String(v)
            };
            match map.get_mut(&k) {
                Some(Value::Array(list)) => list.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None => {
                    map.insert(k, value);
                }
            }
        }
        Some(Value::Object(map))
    }
}

fn truncate(s: &mut String) {
    if s.len() <= MAX_STRING_BYTES {
        return;
    }
    let mut cut = MAX_STRING_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s.len() - cut;
    s.truncate(cut);
    s.push_str(&format!("...[{dropped} more bytes]"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_names() {
        let f = SecretFilter::new(&["ssn".into(), "Bank-Account".into()]);
        for name in [
            "password",
            "Password",
            "newPassword",
            "current_password",
            "password_confirmation",
            "passwd",
            "token",
            "csrfToken",
            "X-CSRF-Token",
            "access_token",
            "refreshTokens",
            "apiKey",
            "api_key",
            "API-KEY",
            "apikey",
            "key",
            "client_secret",
            "otp",
            "otp_code",
            "totpCode",
            "code",
            "recovery_codes",
            "cookie",
            "Cookie",
            "authorization",
            "private_key",
            "user[password]",
            "ssn",
            "user_ssn",
            "bankAccount",
            "session",
        ] {
            assert!(f.is_secret(name), "{name} should be secret");
        }
        for name in [
            "login",
            "subject",
            "description",
            "footprint",
            "sort_key",
            "keyboard",
            "name",
            "lockVersion",
            "filters",
            "pageSize",
            "sessions_count",
            "",
        ] {
            assert!(!f.is_secret(name), "{name} should not be secret");
        }
    }

    #[test]
    fn filters_json_at_any_depth() {
        let f = SecretFilter::default();
        let mut v = json!({
            "login": "ann",
            "password": "hunter2",
            "nested": {"apiKey": "k", "list": [{"token": {"deep": 1}}, "plain"]},
            "long": "x".repeat(MAX_STRING_BYTES + 10),
        });
        f.filter_json(&mut v);
        assert_eq!(v["login"], "ann");
        assert_eq!(v["password"], FILTERED);
        assert_eq!(v["nested"]["apiKey"], FILTERED);
        assert_eq!(v["nested"]["list"][0]["token"], FILTERED);
        assert_eq!(v["nested"]["list"][1], "plain");
        let long = v["long"].as_str().unwrap();
        assert!(long.starts_with("xxxx") && long.ends_with("...[10 more bytes]"));
        assert!(!v.to_string().contains("hunter2"));
    }

    #[test]
    fn filters_urlencoded() {
        let f = SecretFilter::default();
        let v = f
            .filter_urlencoded(b"a=1&token=s3cret&a=2&pageSize=5&Password=x")
            .unwrap();
        assert_eq!(
            v,
            json!({"a": ["1", "2"], "token": FILTERED, "pageSize": "5", "Password": FILTERED})
        );
        // Bad percent-encoding is decoded lossily; names are still checked.
        let v = f.filter_urlencoded(b"token=%ff%fe&q=%ff").unwrap();
        assert_eq!(v["token"], FILTERED);
        assert_eq!(v["q"], "\u{fffd}");
    }

    #[test]
    fn truncates_at_char_boundaries() {
        let mut s = "é".repeat(MAX_STRING_BYTES);
        truncate(&mut s);
        assert!(s.ends_with("more bytes]"));
    }
}
