//! Custom fields: attributes that administrators add to work packages and
//! users, in seven formats (text, integer, float, date, boolean, list,
//! user). The API shows a field with id N as the property `customFieldN`
//! (or `_links.customFieldN` for list and user values).
//!
//! This module decides what a value may be: it parses what a client sent
//! into a typed [`Value`], and turns values into the text stored in
//! `custom_values.value` and back. A user value is never stored as text: it
//! lives in `custom_values.value_user_id`, a real reference to the person,
//! so that erasure and the residue scan find it.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use crate::date::Date;
use crate::user::UserId;
use crate::{Timestamp, ValidationError};

pub type CustomFieldId = i64;
pub type CustomOptionId = i64;

pub const NAME_MAX: usize = 255;
/// A one-line text value.
pub const STRING_MAX: usize = 255;
/// A long (formattable) text value.
pub const TEXT_MAX: usize = 100_000;
pub const OPTION_MAX: usize = 255;
/// Choices of one list field.
pub const OPTIONS_MAX: usize = 500;

/// What a custom field is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    WorkPackage,
    User,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::WorkPackage, Kind::User];

    /// The value of `custom_fields.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WorkPackage => "work_package",
            Kind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The API's `_type` of such a field (`WorkPackageCustomField`).
    pub fn api_type(self) -> &'static str {
        match self {
            Kind::WorkPackage => "WorkPackageCustomField",
            Kind::User => "UserCustomField",
        }
    }

    pub fn parse_api_type(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.api_type() == s)
    }

    /// The value of `custom_values.customized_type` for objects of this kind.
    pub fn customized_type(self) -> &'static str {
        match self {
            Kind::WorkPackage => "WorkPackage",
            Kind::User => "Principal",
        }
    }
}

/// The format of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One line of text.
    String,
    /// Long text with Markdown, shown as `{format, raw, html}`.
    Text,
    Int,
    Float,
    Date,
    Bool,
    /// One of the field's options.
    List,
    /// A person.
    User,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::String,
        Format::Text,
        Format::Int,
        Format::Float,
        Format::Date,
        Format::Bool,
        Format::List,
        Format::User,
    ];

    /// The value of `custom_fields.field_format`, also the API's `fieldFormat`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::String => "string",
            Format::Text => "text",
            Format::Int => "int",
            Format::Float => "float",
            Format::Date => "date",
            Format::Bool => "bool",
            Format::List => "list",
            Format::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether the API writes values of this format as links (`_links.customFieldN`).
    pub fn is_link(self) -> bool {
        matches!(self, Format::List | Format::User)
    }

    /// The type name API v3 schemas use for this format.
    pub fn schema_type(self) -> &'static str {
        match self {
            Format::String => "String",
            Format::Text => "Formattable",
            Format::Int => "Integer",
            Format::Float => "Float",
            Format::Date => "Date",
            Format::Bool => "Boolean",
            Format::List => "CustomOption",
            Format::User => "User",
        }
    }

    fn expects(self) -> &'static str {
        match self {
            Format::String => "a text",
            Format::Text => "a text ({\"raw\": \"...\"})",
            Format::Int => "a whole number",
            Format::Float => "a finite number",
            Format::Date => "a date (YYYY-MM-DD)",
            Format::Bool => "true or false",
            Format::List => "a link to one of its options (/api/v3/custom_options/{id})",
            Format::User => "a link to a user (/api/v3/users/{id})",
        }
    }
}

/// One choice of a list field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomOption {
    pub id: CustomOptionId,
    pub custom_field_id: CustomFieldId,
    pub value: String,
    pub position: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomField {
    pub id: CustomFieldId,
    pub kind: Kind,
    pub format: Format,
    pub name: String,
    pub is_required: bool,
    pub position: i64,
    pub created_at: Timestamp,
    /// The choices of a list field, in order; empty for other formats.
    pub options: Vec<CustomOption>,
}

/// A typed value of a custom field.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A `string` or `text` value; never empty (an empty text is no value).
    Text(String),
    Int(i64),
    Float(f64),
    Date(Date),
    Bool(bool),
    /// A `list` value: the id of one of the field's options.
    Option(CustomOptionId),
    /// A `user` value.
    User(UserId),
}

impl Value {
    /// The columns a value is stored in: (`value`, `value_user_id`).
    pub fn to_stored(&self) -> (Option<String>, Option<UserId>) {
        match self {
            Value::Text(s) => (Some(s.clone()), None),
            Value::Int(i) => (Some(i.to_string()), None),
            Value::Float(f) => (Some(f.to_string()), None),
            Value::Date(d) => (Some(d.to_string()), None),
            Value::Bool(b) => (Some(if *b { "1" } else { "0" }.to_string()), None),
            Value::Option(id) => (Some(id.to_string()), None),
            Value::User(id) => (None, Some(*id)),
        }
    }
}

impl fmt::Display for Value {
    /// The value as the change history shows it, with ids (option and user
    /// ids are turned into names by the caller, which knows them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Bool(b) => f.write_str(if *b { "Yes" } else { "No" }),
            Value::Option(id) | Value::User(id) => write!(f, "{id}"),
        }
    }
}

/// A value as a client sent it, before it is checked against a field.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// `null`, or a link with `href: null`: clears the value.
    Null,
    /// A JSON string, or the `raw` of a formattable.
    Text(String),
    /// A JSON number, as written (so that integers beyond i64 are caught).
    Number(String),
    Bool(bool),
    /// The `href` of a link.
    Href(String),
    /// Anything else (an array, an object without `raw` or `href`); names what it was.
    Other(&'static str),
}

impl Input {
    fn describe(&self) -> String {
        match self {
            Input::Null => "null".into(),
            Input::Text(s) => format!("{s:?}"),
            Input::Number(n) => n.clone(),
            Input::Bool(b) => b.to_string(),
            Input::Href(h) => format!("a link to {h:?}"),
            Input::Other(what) => (*what).into(),
        }
    }
}

/// Interned strings for names that must be `&'static str` (validation
/// errors and change lists name attributes that way). Only names of custom
/// fields that exist are interned, never text taken from a request, so the
/// set stays as small as the number of fields an administrator defines.
fn intern(s: &str) -> &'static str {
    static SET: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let set = SET.get_or_init(|| Mutex::new(HashSet::new()));
    let mut set = match set.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(found) = set.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// The property under which the API shows field `id`: `customField{id}`.
pub fn property(id: CustomFieldId) -> String {
    format!("customField{id}")
}

/// Reads `customField{id}` back; `None` for any other key.
pub fn parse_property(key: &str) -> Option<CustomFieldId> {
    let digits = key.strip_prefix("customField")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

/// The id at the end of `href` if it starts with one of `prefixes`.
pub fn href_id(href: &str, prefixes: &[&str]) -> Option<i64> {
    prefixes.iter().find_map(|p| {
        href.strip_prefix(p)?
            .strip_prefix('/')?
            .trim_end_matches('/')
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
    })
}

pub const OPTION_PREFIX: &str = "/api/v3/custom_options";
pub const USER_PREFIX: &str = "/api/v3/users";

impl CustomField {
    /// The API property of this field, for validation errors and schemas.
    pub fn attribute(&self) -> &'static str {
        intern(&property(self.id))
    }

    /// The field's name as a `&'static str`, for change lists.
    pub fn static_name(&self) -> &'static str {
        intern(&self.name)
    }

    fn invalid(&self, message: impl Into<String>) -> ValidationError {
        ValidationError::new(self.attribute(), message)
    }

    fn refuse(&self, input: &Input) -> ValidationError {
        self.invalid(format!(
            "{} ({}) expects {}, not {}.",
            self.name,
            self.attribute(),
            self.format.expects(),
            input.describe()
        ))
    }

    pub fn option(&self, id: CustomOptionId) -> Option<&CustomOption> {
        self.options.iter().find(|o| o.id == id)
    }

    /// Checks a client's value against the field. `Ok(None)` clears the
    /// value. A user value is only checked for its form here; whether the
    /// person exists (and may be chosen) is for the caller to check.
    pub fn parse(&self, input: &Input) -> Result<Option<Value>, ValidationError> {
        if matches!(input, Input::Null) {
            return Ok(None);
        }
        // An empty text clears any field, as an empty form input does.
        if let Input::Text(t) = input {
            if t.trim().is_empty() {
                return Ok(None);
            }
        }
        let text = match input {
            Input::Text(s) => Some(s.as_str()),
            Input::Number(n) => Some(n.as_str()),
            _ => None,
        };
        match self.format {
            Format::String | Format::Text => {
                let Input::Text(s) = input else {
                    return Err(self.refuse(input));
                };
                let (s, max) = if self.format == Format::String {
                    (s.trim(), STRING_MAX)
                } else {
                    (s.as_str(), TEXT_MAX)
                };
                if s.chars().count() > max {
                    return Err(self.invalid(format!(
                        "{} is too long (maximum is {max} characters).",
                        self.name
                    )));
                }
                if self.format == Format::String && s.contains(['\n', '\r']) {
                    return Err(self.invalid(format!(
                        "{} is a single line; use a text field for several lines.",
                        self.name
                    )));
                }
                Ok(Some(Value::Text(s.to_string())))
            }
            Format::Int => {
                let t = text.ok_or_else(|| self.refuse(input))?.trim();
                let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(self.refuse(input));
                }
                t.parse::<i64>().map(|i| Some(Value::Int(i))).map_err(|_| {
                    self.invalid(format!(
                        "{} must be between {} and {}.",
                        self.name,
                        i64::MIN,
                        i64::MAX
                    ))
                })
            }
            Format::Float => {
                let t = text.ok_or_else(|| self.refuse(input))?.trim();
                // Only plain decimal notation: Rust would also read "inf" and "NaN".
                let plain = t
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
                match t.parse::<f64>() {
                    Ok(v) if plain && v.is_finite() => Ok(Some(Value::Float(v))),
                    _ => Err(self.refuse(input)),
                }
            }
            Format::Date => {
                let t = text.ok_or_else(|| self.refuse(input))?;
                Date::parse(t)
                    .map(|d| Some(Value::Date(d)))
                    .ok_or_else(|| self.refuse(input))
            }
            Format::Bool => match input {
                Input::Bool(b) => Ok(Some(Value::Bool(*b))),
                Input::Text(s) => match s.trim() {
                    "true" | "1" => Ok(Some(Value::Bool(true))),
                    "false" | "0" => Ok(Some(Value::Bool(false))),
                    _ => Err(self.refuse(input)),
                },
                _ => Err(self.refuse(input)),
            },
            Format::List => {
                let option = match input {
                    Input::Href(h) => {
                        let id = href_id(h, &[OPTION_PREFIX]).ok_or_else(|| self.refuse(input))?;
                        self.option(id)
                    }
                    // The option's text is accepted too, as a convenience.
                    Input::Text(s) => self.options.iter().find(|o| o.value == s.trim()),
                    _ => return Err(self.refuse(input)),
                };
                match option {
                    Some(o) => Ok(Some(Value::Option(o.id))),
                    None => Err(self.invalid(format!(
                        "{} is not one of the options of {} ({}); choose one of: {}.",
                        input.describe(),
                        self.name,
                        self.attribute(),
                        self.options
                            .iter()
                            .map(|o| format!("{:?}", o.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
            Format::User => match input {
                Input::Href(h) => href_id(h, &[USER_PREFIX])
                    .map(|id| Some(Value::User(id)))
                    .ok_or_else(|| self.refuse(input)),
                _ => Err(self.refuse(input)),
            },
        }
    }

    /// The stored columns read back as a value; `None` when empty or no
    /// longer valid (an option that was removed).
    pub fn decode(&self, value: Option<&str>, value_user_id: Option<UserId>) -> Option<Value> {
        if self.format == Format::User {
            return value_user_id.map(Value::User);
        }
        let v = value?;
        match self.format {
            Format::String | Format::Text => (!v.is_empty()).then(|| Value::Text(v.to_string())),
            Format::Int => v.parse().ok().map(Value::Int),
            Format::Float => v
                .parse()
                .ok()
                .filter(|f: &f64| f.is_finite())
                .map(Value::Float),
            Format::Date => Date::parse(v).map(Value::Date),
            Format::Bool => match v {
                "1" | "t" | "true" => Some(Value::Bool(true)),
                "0" | "f" | "false" => Some(Value::Bool(false)),
                _ => None,
            },
            Format::List => v.parse().ok().map(Value::Option),
            Format::User => None,
        }
    }

    /// The error for a required field left without a value.
    pub fn missing(&self) -> ValidationError {
        self.invalid(format!(
            "{} ({}) can't be blank.",
            self.name,
            self.attribute()
        ))
    }
}

/// Checks a field's name.
pub fn validate_name(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ValidationError::new("name", "Name can't be blank."));
    }
    if v.chars().count() > NAME_MAX {
        return Err(ValidationError::new(
            "name",
            format!("Name is too long (maximum is {NAME_MAX} characters)."),
        ));
    }
    Ok(v.to_string())
}

/// Checks the choices of a list field: at least one, each non-blank and
/// distinct. Returns them trimmed, in the order given.
pub fn validate_options(values: &[String]) -> Result<Vec<String>, ValidationError> {
    let fail = |m: String| Err(ValidationError::new("possibleValues", m));
    if values.is_empty() {
        return fail("A list field needs at least one possible value.".into());
    }
    if values.len() > OPTIONS_MAX {
        return fail(format!(
            "A list field has at most {OPTIONS_MAX} possible values."
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            return fail("Possible values can't be blank.".into());
        }
        if v.chars().count() > OPTION_MAX {
            return fail(format!(
                "Possible value {v:?} is too long (maximum is {OPTION_MAX} characters)."
            ));
        }
        if out.iter().any(|o| o == v) {
            return fail(format!("Possible value {v:?} is given twice."));
        }
        out.push(v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(format: Format) -> CustomField {
        CustomField {
            id: 7,
            kind: Kind::WorkPackage,
            format,
            name: "Field".into(),
            is_required: false,
            position: 1,
            created_at: Timestamp(0),
            options: vec![
                CustomOption {
                    id: 3,
                    custom_field_id: 7,
                    value: "Low".into(),
                    position: 1,
                },
                CustomOption {
                    id: 4,
                    custom_field_id: 7,
                    value: "High".into(),
                    position: 2,
                },
            ],
        }
    }

    fn text(s: &str) -> Input {
        Input::Text(s.into())
    }
    fn num(s: &str) -> Input {
        Input::Number(s.into())
    }

    #[test]
    fn properties() {
        assert_eq!(property(12), "customField12");
        assert_eq!(parse_property("customField12"), Some(12));
        for bad in [
            "customField",
            "customFieldx",
            "customField-1",
            "customField0",
            "subject",
        ] {
            assert_eq!(parse_property(bad), None, "{bad}");
        }
        assert_eq!(field(Format::Int).attribute(), "customField7");
    }

    #[test]
    fn ints() {
        let f = field(Format::Int);
        assert_eq!(f.parse(&num("42")).unwrap(), Some(Value::Int(42)));
        assert_eq!(f.parse(&text("-5")).unwrap(), Some(Value::Int(-5)));
        assert_eq!(f.parse(&Input::Null).unwrap(), None);
        assert_eq!(f.parse(&text("")).unwrap(), None);
        for bad in [
            text("abc"),
            num("1.5"),
            num("1e3"),
            num("9223372036854775808"),
            Input::Bool(true),
        ] {
            let e = f.parse(&bad).unwrap_err();
            assert_eq!(e.attribute, "customField7", "{bad:?}");
        }
    }

    #[test]
    fn floats() {
        let f = field(Format::Float);
        assert_eq!(f.parse(&num("1.25")).unwrap(), Some(Value::Float(1.25)));
        assert_eq!(f.parse(&text("3")).unwrap(), Some(Value::Float(3.0)));
        for bad in ["NaN", "inf", "-infinity", "1e400", "x"] {
            assert!(f.parse(&text(bad)).is_err(), "{bad}");
        }
        let (stored, _) = Value::Float(0.1).to_stored();
        assert_eq!(f.decode(stored.as_deref(), None), Some(Value::Float(0.1)));
    }

    #[test]
    fn dates_bools_texts() {
        let d = field(Format::Date);
        assert!(d.parse(&text("2024-02-30")).is_err());
        assert_eq!(
            d.parse(&text("2024-02-29")).unwrap().unwrap().to_string(),
            "2024-02-29"
        );
        let b = field(Format::Bool);
        assert_eq!(
            b.parse(&Input::Bool(false)).unwrap(),
            Some(Value::Bool(false))
        );
        assert!(b.parse(&text("maybe")).is_err());
        let (stored, _) = Value::Bool(true).to_stored();
        assert_eq!(b.decode(stored.as_deref(), None), Some(Value::Bool(true)));
        let s = field(Format::String);
        assert_eq!(
            s.parse(&text("  hi ")).unwrap(),
            Some(Value::Text("hi".into()))
        );
        assert!(s.parse(&text("two\nlines")).is_err());
        assert!(s.parse(&text(&"x".repeat(STRING_MAX + 1))).is_err());
        let t = field(Format::Text);
        assert_eq!(
            t.parse(&text("two\nlines")).unwrap(),
            Some(Value::Text("two\nlines".into()))
        );
    }

    #[test]
    fn lists_and_users() {
        let l = field(Format::List);
        assert_eq!(
            l.parse(&Input::Href("/api/v3/custom_options/4".into()))
                .unwrap(),
            Some(Value::Option(4))
        );
        assert_eq!(l.parse(&text("Low")).unwrap(), Some(Value::Option(3)));
        assert!(l
            .parse(&Input::Href("/api/v3/custom_options/99".into()))
            .is_err());
        assert!(l.parse(&text("Medium")).is_err());
        assert!(l.parse(&Input::Href("/api/v3/users/4".into())).is_err());
        let u = field(Format::User);
        assert_eq!(
            u.parse(&Input::Href("/api/v3/users/9".into())).unwrap(),
            Some(Value::User(9))
        );
        assert_eq!(Value::User(9).to_stored(), (None, Some(9)));
        assert!(u.parse(&text("9")).is_err());
        assert!(u.parse(&Input::Href("/api/v3/users/abc".into())).is_err());
        assert!(u.parse(&Input::Href("/api/v3/groups/9".into())).is_err());
        assert_eq!(u.decode(Some("5"), None), None);
        assert_eq!(u.decode(None, Some(5)), Some(Value::User(5)));
    }

    #[test]
    fn options_and_names() {
        assert!(validate_options(&[]).is_err());
        assert!(validate_options(&["a".into(), " a ".into()]).is_err());
        assert!(validate_options(&[" ".into()]).is_err());
        assert_eq!(
            validate_options(&[" a".into(), "b".into()]).unwrap(),
            vec!["a", "b"]
        );
        assert!(validate_name("  ").is_err());
        assert_eq!(validate_name(" Severity ").unwrap(), "Severity");
    }
}
