//! API v3 query syntax: `filters=[{"name":{"operator":"=","values":[...]}}]`
//! and `sortBy=[["name","asc"]]`. Parsed here into plain structs; each
//! resource then says which names and operators it knows.

use serde_json::Value;

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl Filter {
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
        "Unknown filter {name:?}; this collection can be filtered by: {}.",
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
    fn parses_sort() {
        assert_eq!(
            parse_sort(Some(r#"[["id","desc"],["login","ASC"]]"#)).unwrap(),
            vec![("id".to_string(), true), ("login".to_string(), false)]
        );
        assert!(parse_sort(Some(r#"[["id","sideways"]]"#)).is_err());
        assert!(parse_sort(Some(r#"["id"]"#)).is_err());
    }
}
