//! Rules for values that come from people: logins, e-mail addresses, names,
//! languages, time zones and passwords. Each returns the normalised value or
//! a [`ValidationError`] that names the attribute and says what is wrong.
//! An input of several fields gathers its rules' errors in
//! [`ValidationErrors`], so that a person sees every mistake at once.

use std::fmt;

/// A value was rejected. `attribute` uses the API's property names
/// (`login`, `email`, `firstName`, ...) so clients can point at the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub attribute: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(attribute: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            attribute,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// The errors of one input with several fields, in the order of its fields.
/// Checks push into it and go on; [`ValidationErrors::finish`] turns it
/// into an error only when something was pushed, so an error of this type
/// holds at least one [`ValidationError`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<ValidationError>);

impl ValidationErrors {
    /// An empty list, to push into.
    pub fn new() -> Self {
        ValidationErrors(Vec::new())
    }

    pub fn push(&mut self, e: ValidationError) {
        self.0.push(e);
    }

    pub fn add(&mut self, attribute: &'static str, message: impl Into<String>) {
        self.push(ValidationError::new(attribute, message));
    }

    /// The value of `result`, or `None` once its error is pushed.
    pub fn check<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(e);
                None
            }
        }
    }

    pub fn extend(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[ValidationError] {
        &self.0
    }

    /// The first error pushed: what a caller that shows one message shows.
    pub fn first(&self) -> Option<&ValidationError> {
        self.0.first()
    }

    /// Whether an error about `attribute` was pushed.
    pub fn has(&self, attribute: &str) -> bool {
        self.0.iter().any(|e| e.attribute == attribute)
    }

    /// The first message about `attribute`, for showing next to its field.
    pub fn message_for(&self, attribute: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.attribute == attribute)
            .map(|e| e.message.as_str())
    }

    /// `Ok` when nothing was pushed, else these errors.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        ValidationErrors(vec![e])
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The messages one after the other: each is a sentence.
impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

pub const LOGIN_MAX: usize = 256;
pub const NAME_MAX: usize = 255;
pub const EMAIL_MAX: usize = 254;
/// Longer passwords are refused so that hashing cannot be used to burn CPU.
pub const PASSWORD_MAX: usize = 1024;

/// Logins: letters, digits and `_ - . @ +`, no spaces; compared without case.
pub fn login(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ValidationError::new("login", "Login can't be blank."));
    }
    if v.chars().count() > LOGIN_MAX {
        return Err(ValidationError::new(
            "login",
            format!("Login is too long (maximum is {LOGIN_MAX} characters)."),
        ));
    }
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+')))
    {
        return Err(ValidationError::new(
            "login",
            format!("Login may only contain letters, digits and _ - . @ + (found {bad:?})."),
        ));
    }
    Ok(v.to_string())
}

/// The key under which logins and e-mail addresses are unique: Unicode
/// lower case, computed here so that both database engines agree.
pub fn unique_key(v: &str) -> String {
    v.trim().to_lowercase()
}

pub fn email(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    let invalid = || ValidationError::new("email", format!("Email {v:?} is not a valid address."));
    if v.is_empty() {
        return Err(ValidationError::new("email", "Email can't be blank."));
    }
    if v.len() > EMAIL_MAX {
        return Err(ValidationError::new(
            "email",
            format!("Email is too long (maximum is {EMAIL_MAX} characters)."),
        ));
    }
    let (local, domain) = v.rsplit_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
    if !domain_ok || !local_ok {
        return Err(invalid());
    }
    Ok(v.to_string())
}

pub fn name(attribute: &'static str, raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    let label = if attribute == "firstName" {
        "First name"
    } else {
        "Last name"
    };
    if v.is_empty() {
        return Err(ValidationError::new(
            attribute,
            format!("{label} can't be blank."),
        ));
    }
    if v.chars().count() > NAME_MAX {
        return Err(ValidationError::new(
            attribute,
            format!("{label} is too long (maximum is {NAME_MAX} characters)."),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ValidationError::new(
            attribute,
            format!("{label} must not contain control characters."),
        ));
    }
    Ok(v.to_string())
}

/// Languages Steward accepts for a user (ISO 639-1).
pub const LANGUAGES: &[&str] = &[
    "en", "de", "fr", "es", "it", "nl", "pt", "pl", "cs", "da", "fi", "sv", "no", "hu", "ro", "ru",
    "uk", "tr", "el", "bg", "hr", "sk", "sl", "lt", "lv", "et", "ja", "zh", "ko",
];

pub fn language(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim().to_ascii_lowercase();
    if LANGUAGES.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(ValidationError::new(
            "language",
            format!(
                "Language {raw:?} is not supported; use one of: {}.",
                LANGUAGES.join(", ")
            ),
        ))
    }
}

/// An IANA time zone name such as `Europe/Berlin`, or `UTC`.
pub fn time_zone(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    if v.is_empty() || jiff::tz::db().get(v).is_err() {
        return Err(ValidationError::new(
            "timeZone",
            format!("Time zone {raw:?} is not a known IANA time zone (for example Europe/Berlin)."),
        ));
    }
    Ok(v.to_string())
}

pub fn password(raw: &str, min_length: usize) -> Result<(), ValidationError> {
    let n = raw.chars().count();
    if n < min_length {
        return Err(ValidationError::new(
            "password",
            format!("Password is too short (minimum is {min_length} characters)."),
        ));
    }
    if raw.len() > PASSWORD_MAX {
        return Err(ValidationError::new(
            "password",
            format!("Password is too long (maximum is {PASSWORD_MAX} bytes)."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_gathered_in_order() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.clone().finish(), Ok(()));
        assert_eq!(errors.check(login("ok")), Some("ok".to_string()));
        assert_eq!(errors.check(login("")), None);
        assert_eq!(errors.check(email("nope")), None);
        errors.add("firstName", "First name can't be blank.");
        assert_eq!(errors.len(), 3);
        assert!(errors.has("email") && !errors.has("lastName"));
        assert_eq!(errors.message_for("login"), Some("Login can't be blank."));
        let attributes: Vec<_> = errors.iter().map(|e| e.attribute).collect();
        assert_eq!(attributes, ["login", "email", "firstName"]);
        assert!(errors
            .to_string()
            .starts_with("Login can't be blank. Email "));
        let err = errors.finish().unwrap_err();
        assert_eq!(err.first().map(|e| e.attribute), Some("login"));
        let one: ValidationErrors = ValidationError::new("subject", "x").into();
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn logins() {
        assert_eq!(login("  alice.b@x ").unwrap(), "alice.b@x");
        assert_eq!(login("Jörg_1").unwrap(), "Jörg_1");
        assert!(login("").is_err());
        assert!(login("has space").is_err());
        assert!(login("semi;colon").is_err());
        assert!(login(&"a".repeat(257)).is_err());
        assert_eq!(unique_key("ÄLICE"), "älice");
    }

    #[test]
    fn emails() {
        assert!(email("a@example.com").is_ok());
        assert!(email("first.last+tag@sub.example.org").is_ok());
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@.com",
            "a@exa mple.com",
            "a b@x.org",
            "a@@x.org",
            "a@x..org",
        ] {
            assert!(email(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn names_languages_zones_passwords() {
        assert!(name("firstName", "  ").is_err());
        assert_eq!(name("lastName", " Smith ").unwrap(), "Smith");
        assert!(name("lastName", "a\u{7}b").is_err());
        assert_eq!(language("DE").unwrap(), "de");
        assert!(language("xx").is_err());
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("UTC").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(password("short", 10).is_err());
        assert!(password("long enough pw", 10).is_ok());
        assert!(password(&"x".repeat(2000), 10).is_err());
    }
}
