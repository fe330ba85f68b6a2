//! Projects.

use crate::{Timestamp, ValidationError};

pub type ProjectId = i64;

#[derive(Clone, Debug)]
pub struct Project {
    pub id: ProjectId,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub active: bool,
    pub parent_id: Option<ProjectId>,
    pub modules: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Project {
    pub fn has_module(&self, module: &str) -> bool {
        self.modules.iter().any(|m| m == module)
    }
}

pub const IDENTIFIER_MAX: usize = 100;

/// Identifiers are URL slugs: lower-case letters, digits, `-` and `_`,
/// starting with a letter, and not a word the routes use.
pub fn validate_identifier(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    let fail = |m: String| Err(ValidationError::new("identifier", m));
    if v.is_empty() {
        return fail("Identifier can't be blank.".into());
    }
    if v.len() > IDENTIFIER_MAX {
        return fail(format!(
            "Identifier is too long (maximum is {IDENTIFIER_MAX} characters)."
        ));
    }
    if !v.starts_with(|c: char| c.is_ascii_lowercase()) {
        return fail(format!(
            "Identifier {v:?} must start with a lower-case letter."
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return fail(format!(
            "Identifier {v:?} may only contain lower-case letters, digits, - and _."
        ));
    }
    if matches!(
        v,
        "new" | "menu" | "form" | "schema" | "available_parent_projects"
    ) {
        return fail(format!("Identifier {v:?} is reserved."));
    }
    Ok(v.to_string())
}

pub fn validate_name(raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ValidationError::new("name", "Name can't be blank."));
    }
    if v.chars().count() > 255 {
        return Err(ValidationError::new(
            "name",
            "Name is too long (maximum is 255 characters).",
        ));
    }
    Ok(v.to_string())
}

/// Makes an identifier from a name, for clients that send only a name.
pub fn identifier_from_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    let out = if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("p-{out}")
    };
    out.chars().take(IDENTIFIER_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(validate_identifier("my-project_2").unwrap(), "my-project_2");
        for bad in ["", "My", "2fast", "has space", "new", "ümlaut"] {
            assert!(validate_identifier(bad).is_err(), "{bad}");
        }
        assert_eq!(identifier_from_name("Demo Project 1!"), "demo-project-1");
        assert_eq!(identifier_from_name("42 things"), "p-42-things");
    }
}
