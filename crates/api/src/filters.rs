//! API v3 query syntax: `filters=[{"name":{"operator":"=","values":[...]}}]`
//! and `sortBy=[["name","asc"]]`. Parsed here into plain structs; each
//! resource then says which names and operators it knows.
//!
//! Names come in several spellings: OpenProject's own (`assignee`,
//! `createdAt`), snake_case (`created_at`), and the column names of its
//! database and of Redmine, which clients written against either send
//! (`assigned_to_id`, `project_id`, `fixed_version_id`). A collection lists
//! each name once, in the API's spelling; [`resolve`] finds the entry for
//! any spelling of it, so that every collection accepts every spelling.

use serde_json::Value;

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl Filter {
    /// This filter's name as the collection spells it (one of `known`),
    /// whatever spelling the client used; an unknown name is refused.
    pub fn resolve(&self, known: &[&'static str]) -> Result<&'static str, ApiError> {
        resolve(&self.name, known).ok_or_else(|| unknown_filter(&self.name, known))
    }

    pub fn unknown_operator(&self, allowed: &[&str]) -> ApiError {
        ApiError::InvalidQuery(format!(
            "Filter {:?} does not support operator {:?}; use one of: {}.",
            self.name,
            self.operator,
            allowed.join(", ")
        ))
    }
}

pub fn parse_filters(raw: Option<&str>) -> Result<Vec<Filter>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    let bad =
        |why: &str| ApiError::InvalidQuery(format!("The filters parameter is malformed: {why}."));
    let parsed: Value =
        serde_json::from_str(raw).map_err(|e| bad(&format!("not valid JSON ({e})")))?;
    let list = parsed
        .as_array()
        .ok_or_else(|| bad("expected a JSON array of filter objects"))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let obj = item
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(|| bad("each filter must be an object with exactly one filter name"))?;
        let (name, spec) = obj.iter().next().expect("one entry");
        let operator = spec
            .get("operator")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("filter {name:?} has no operator")))?;
        let values = match spec.get("values") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(vals)) => vals
                .iter()
                .map(|v| match v {
                    // PostgreSQL refuses NUL in text and SQLite's string
                    // functions stop at it, so the engines would disagree.
                    Value::String(s) if s.contains('\0') => Err(bad(&format!(
                        "filter {name:?} has a value containing a NUL character"
                    ))),
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(bad(&format!(
                        "filter {name:?} has a value that is not a string"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(bad(&format!(
                    "the values of filter {name:?} must be an array"
                )))
            }
        };
        out.push(Filter {
            name: name.clone(),
            operator: operator.to_string(),
            values,
        });
    }
    Ok(out)
}

pub fn unknown_filter(name: &str, known: &[&str]) -> ApiError {
    ApiError::InvalidQuery(format!(
        "Unknown filter {name:?}; this collection can be filtered by: {} (camelCase, snake_case and the _id form of each are accepted too).",
        known.join(", ")
    ))
}

/// Names that OpenProject's database columns and Redmine give to what
/// the API calls otherwise, as [`name_key`]s: (theirs, the API's).
const SYNONYMS: &[(&str, &str)] = &[
    ("assignedto", "assignee"),
    ("fixedversion", "version"),
    ("doneratio", "percentagedone"),
    ("createdon", "createdat"),
    ("updatedon", "updatedat"),
    ("tracker", "type"),
];

/// What every spelling of a name has in common: its words in lower case
/// without separators (`createdAt`, `created_at` and `CreatedAt` are all
/// `createdat`), without a trailing `id` word (`project_id` and
/// `projectId` are `project`; `id` alone stays), and OpenProject's names
/// for the database's columns (`assigned_to_id` is `assignee`).
pub fn name_key(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut after_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' {
            words.extend((!word.is_empty()).then(|| std::mem::take(&mut word)));
            after_lower = false;
            continue;
        }
        if c.is_uppercase() && after_lower {
            words.push(std::mem::take(&mut word));
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    words.extend((!word.is_empty()).then_some(word));
    if words.len() > 1 && words.last().is_some_and(|w| w == "id") {
        words.pop();
    }
    let key = words.concat();
    match SYNONYMS.iter().find(|(theirs, _)| *theirs == key) {
        Some((_, ours)) => (*ours).to_string(),
        None => key,
    }
}

/// The entry of `known` that `name` spells, if any: the one filter, sort
/// or grouping name resolver of every collection.
pub fn resolve(name: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = name_key(name);
    debug_assert!(
        known.iter().filter(|k| name_key(k) == key).count() <= 1,
        "two entries of {known:?} are spellings of {name:?}"
    );
    known.iter().copied().find(|k| name_key(k) == key)
}

/// The sort field `field` names (one of `known`), or the clear error
/// naming what this collection (`what`) can be sorted by.
pub fn sort_field(
    field: &str,
    known: &[&'static str],
    what: &str,
) -> Result<&'static str, ApiError> {
    resolve(field, known).ok_or_else(|| unknown_sort(field, known, what))
}

pub fn unknown_sort(field: &str, known: &[&str], what: &str) -> ApiError {
    ApiError::InvalidQuery(format!(
        "{what} cannot be sorted by {field:?}; use {} (camelCase, snake_case and the _id form of each are accepted too).",
        known.join(", ")
    ))
}

/// `[["field","asc"],["other","desc"]]` into (field, descending) pairs.
pub fn parse_sort(raw: Option<&str>) -> Result<Vec<(String, bool)>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    let bad =
        |why: &str| ApiError::InvalidQuery(format!("The sortBy parameter is malformed: {why}."));
    let parsed: Value =
        serde_json::from_str(raw).map_err(|e| bad(&format!("not valid JSON ({e})")))?;
    let list = parsed
        .as_array()
        .ok_or_else(|| bad("expected an array of [field, direction] pairs"))?;
    list.iter()
        .map(|pair| {
            let pair = pair
                .as_array()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| bad("each entry must be a [field, direction] pair"))?;
            let field = pair[0]
                .as_str()
                .ok_or_else(|| bad("the field must be a string"))?;
            let desc = match pair[1].as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("asc") => false,
                Some("desc") => true,
                _ => return Err(bad("the direction must be \"asc\" or \"desc\"")),
            };
            Ok((field.to_string(), desc))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters() {
        let f = parse_filters(Some(r#"[{"status":{"operator":"=","values":["active",3]}},{"name":{"operator":"~","values":["jo"]}}]"#)).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].values, vec!["active", "3"]);
        assert_eq!(f[1].operator, "~");
        assert!(parse_filters(Some("")).unwrap().is_empty());
        for bad in [
            "[",
            "{}",
            "[1]",
            r#"[{"a":{}}]"#,
            r#"[{"a":{"operator":"=","values":"x"}}]"#,
            r#"[{"a":{"operator":"="},"b":{"operator":"="}}]"#,
            r#"[{"a":{"operator":"=","values":["x\u0000"]}}]"#,
        ] {
            let e = parse_filters(Some(bad)).unwrap_err();
            assert!(matches!(e, ApiError::InvalidQuery(_)), "{bad}");
        }
    }

    #[test]
    fn every_spelling_has_one_key() {
        for (spellings, key) in [
            (
                &["project", "project_id", "projectId", "Project"][..],
                "project",
            ),
            (
                &[
                    "assignee",
                    "assigned_to",
                    "assigned_to_id",
                    "assignedToId",
                    "assignee_id",
                ],
                "assignee",
            ),
            (
                &["version", "version_id", "fixed_version_id", "fixedVersion"],
                "version",
            ),
            (&["type", "type_id", "typeId", "tracker_id"], "type"),
            (
                &["createdAt", "created_at", "CreatedAt", "created_on"],
                "createdat",
            ),
            (&["startDate", "start_date"], "startdate"),
            (
                &["percentageDone", "done_ratio", "percentage_done"],
                "percentagedone",
            ),
            (&["parent", "parent_id", "parentID"], "parent"),
            (&["id", "ID", "_id"], "id"),
            (
                &["name_and_identifier", "nameAndIdentifier"],
                "nameandidentifier",
            ),
        ] {
            for s in spellings {
                assert_eq!(name_key(s), key, "{s}");
            }
        }
        assert_ne!(name_key("identifier"), name_key("id"));
    }

    #[test]
    fn resolves_to_the_collections_spelling() {
        let known = ["status", "assignee", "createdAt", "parent_id", "id"];
        assert_eq!(resolve("status_id", &known), Some("status"));
        assert_eq!(resolve("assigned_to_id", &known), Some("assignee"));
        assert_eq!(resolve("created_at", &known), Some("createdAt"));
        assert_eq!(resolve("parent", &known), Some("parent_id"));
        assert_eq!(resolve("parentId", &known), Some("parent_id"));
        assert_eq!(resolve("id", &known), Some("id"));
        assert_eq!(resolve("author", &known), None);
        assert_eq!(resolve("", &known), None);
        let e = Filter {
            name: "colour".into(),
            operator: "=".into(),
            values: vec![],
        }
        .resolve(&known)
        .unwrap_err();
        assert!(e.to_string().contains("Unknown filter \"colour\""), "{e}");
    }

    #[test]
    fn parses_sort() {
        assert_eq!(
            parse_sort(Some(r#"[["id","desc"],["login","ASC"]]"#)).unwrap(),
            vec![("id".to_string(), true), ("login".to_string(), false)]
        );
        assert!(parse_sort(Some(r#"[["id","sideways"]]"#)).is_err());
        assert!(parse_sort(Some(r#"["id"]"#)).is_err());
    }
}
