//! Custom fields in the API: the `customFieldN` properties and
//! `_links.customFieldN` links of work packages and users (how values are
//! shown and read from request bodies), and Steward's administration
//! endpoints for the fields themselves: `/api/v3/custom_fields` (list,
//! create), `/api/v3/custom_fields/{id}` (show, change, delete), and
//! `/api/v3/custom_options/{id}` (one choice of a list field).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::custom_field::{
    self as cf, CustomField, CustomOption, Format, Input, Kind, Value, OPTION_PREFIX,
};
use steward_domain::date::Date;
use steward_domain::Timestamp;
use steward_services::custom_fields::{CustomFieldInput, CustomValuesInput, ShownValue};

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::shared::Formattable;
use crate::routes::work_packages::OptLink;
use crate::AppState;
use steward_http::markdown::Rendering;

// ---------------------------------------------------------------- values

/// The value of a `customFieldN` property, typed by the field's format.
#[derive(Serialize)]
#[serde(untagged)]
pub enum CustomValueRepr {
    /// No value.
    Null,
    /// `string` values.
    Text(String),
    /// `text` values: `{format, raw, html}`.
    Formattable(Formattable),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(Date),
}

/// The `customFieldN` properties and the `_links.customFieldN` links of one object.
#[derive(Default)]
pub struct CustomRepr {
    pub properties: BTreeMap<String, CustomValueRepr>,
    pub links: BTreeMap<String, OptLink>,
}

/// Every field with its value (null when it has none): list and user
/// values as links with a title, the others as properties.
pub fn represent_values(shown: &[ShownValue<'_>], rendering: Rendering) -> CustomRepr {
    let mut out = CustomRepr::default();
    for s in shown {
        let key = cf::property(s.field.id);
        let link = |prefix: &str, id: i64| OptLink {
            href: Some(format!("{prefix}/{id}")),
            title: s.title.clone(),
        };
        match (s.field.format, &s.value) {
            (Format::List | Format::User, None) => {
                out.links.insert(key, OptLink::default());
            }
            (_, Some(Value::Option(id))) => {
                out.links.insert(key, link(OPTION_PREFIX, *id));
            }
            (_, Some(Value::User(id))) => {
                out.links.insert(key, link("/api/v3/users", *id));
            }
            (Format::Text, v) => {
                let raw = match v {
                    Some(Value::Text(t)) => t.as_str(),
                    _ => "",
                };
                out.properties.insert(
                    key,
                    CustomValueRepr::Formattable(Formattable::markdown(raw, rendering)),
                );
            }
            (_, v) => {
                let repr = match v {
                    None => CustomValueRepr::Null,
                    Some(Value::Text(t)) => CustomValueRepr::Text(t.clone()),
                    Some(Value::Int(i)) => CustomValueRepr::Int(*i),
                    Some(Value::Float(f)) => CustomValueRepr::Float(*f),
                    Some(Value::Bool(b)) => CustomValueRepr::Bool(*b),
                    Some(Value::Date(d)) => CustomValueRepr::Date(*d),
                    Some(Value::Option(_) | Value::User(_)) => CustomValueRepr::Null,
                };
                out.properties.insert(key, repr);
            }
        }
    }
    out
}

/// A link's href as a path from `/api/v3/`, also when a client sent a full URL.
fn api_path(href: &str) -> String {
    let path = href.find("/api/v3/").map_or(href, |i| &href[i..]);
    path.split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// What a client wrote for one custom field, as a value to check.
fn input_of(v: &serde_json::Value) -> Input {
    use serde_json::Value as J;
    match v {
        J::Null => Input::Null,
        J::String(s) => Input::Text(s.clone()),
        J::Number(n) => Input::Number(n.to_string()),
        J::Bool(b) => Input::Bool(*b),
        J::Array(_) => Input::Other("a list"),
        J::Object(o) => match (o.get("href"), o.get("raw")) {
            (Some(J::Null), _) => Input::Null,
            (Some(J::String(h)), _) if h.trim().is_empty() => Input::Null,
            (Some(J::String(h)), _) => Input::Href(api_path(h)),
            (None, Some(J::Null)) => Input::Null,
            (None, Some(J::String(raw))) => Input::Text(raw.clone()),
            (Some(_), _) => Input::Other("a link whose href is not a text"),
            (None, Some(_)) => Input::Other("a text whose raw is not a text"),
            (None, None) => Input::Other("an object without href or raw"),
        },
    }
}

/// The custom values in a request body: `customFieldN` properties among
/// `extra` (the properties the body's struct does not know) and
/// `_links.customFieldN` among `links` (the same for `_links`). A link wins
/// over a property for the same field. `_meta.validateCustomFields` asks
/// for every required field to be checked.
pub fn values_from_body(
    extra: &HashMap<String, serde_json::Value>,
    links: &HashMap<String, serde_json::Value>,
) -> CustomValuesInput {
    let mut by_id: BTreeMap<i64, Input> = BTreeMap::new();
    for (k, v) in extra {
        if let Some(id) = cf::parse_property(k) {
            by_id.insert(id, input_of(v));
        }
    }
    for (k, v) in links {
        if let Some(id) = cf::parse_property(k) {
            by_id.insert(id, input_of(v));
        }
    }
    let validate_all = extra
        .get("_meta")
        .and_then(|m| m.get("validateCustomFields"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    CustomValuesInput {
        values: by_id.into_iter().collect(),
        validate_all,
    }
}

// ---------------------------------------------------------------- fields

#[derive(Serialize)]
pub struct CustomFieldLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(rename = "customOptions", skip_serializing_if = "Vec::is_empty")]
    custom_options: Vec<Link>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    field_format: &'static str,
    /// The property under which values appear (`customField3`).
    attribute: String,
    is_required: bool,
    position: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    possible_values: Option<Vec<String>>,
    created_at: Timestamp,
    #[serde(rename = "_links")]
    links: CustomFieldLinks,
}

pub fn represent_field(f: &CustomField) -> CustomFieldRepr {
    CustomFieldRepr {
        kind: f.kind.api_type(),
        id: f.id,
        name: f.name.clone(),
        field_format: f.format.as_str(),
        attribute: cf::property(f.id),
        is_required: f.is_required,
        position: f.position,
        possible_values: (f.format == Format::List)
            .then(|| f.options.iter().map(|o| o.value.clone()).collect()),
        created_at: f.created_at,
        links: CustomFieldLinks {
            self_: Link::titled(format!("/api/v3/custom_fields/{}", f.id), f.name.clone()),
            custom_options: f
                .options
                .iter()
                .map(|o| Link::titled(format!("{OPTION_PREFIX}/{}", o.id), o.value.clone()))
                .collect(),
        },
    }
}

/// The body of create and change.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomFieldBody {
    name: Option<String>,
    field_format: Option<String>,
    /// `WorkPackageCustomField` or `UserCustomField`; `_type` is read as well.
    kind: Option<String>,
    #[serde(rename = "_type")]
    type_: Option<String>,
    is_required: Option<bool>,
    possible_values: Option<Vec<String>>,
}

impl From<CustomFieldBody> for CustomFieldInput {
    fn from(b: CustomFieldBody) -> Self {
        CustomFieldInput {
            name: b.name,
            kind: b.kind.or(b.type_),
            format: b.field_format,
            is_required: b.is_required,
            possible_values: b.possible_values,
        }
    }
}

fn kind_filter(q: &QueryParams) -> Result<Option<Kind>, ApiError> {
    match q.get("kind").map(str::trim) {
        None | Some("") => Ok(None),
        Some(k) => Kind::parse_api_type(k).map(Some).ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "kind must be WorkPackageCustomField or UserCustomField, not {k:?}."
            ))
        }),
    }
}

/// `GET /api/v3/custom_fields` (administrators): every field, or those
/// of one `kind`, in order.
pub async fn list(
    State(state): State<AppState>,
    caller: SignedIn,
    q: QueryParams,
) -> Result<Hal<Collection<CustomFieldRepr>>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let kind = kind_filter(&q)?;
    let page = Page::from_query(&q)?;
    let fields = state.services.custom_fields(&access, kind).await?;
    let total = fields.len() as i64;
    let elements = fields
        .iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(represent_field)
        .collect();
    let extra = match q.get("kind") {
        Some(k) => serde_urlencoded::to_string([("kind", k)]).unwrap_or_default(),
        None => String::new(),
    };
    Ok(ok(Collection::new(
        "Collection",
        "/api/v3/custom_fields",
        &extra,
        page,
        total,
        elements,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<CustomFieldRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let field = state.services.custom_field(&access, parse_id(&id)?).await?;
    Ok(ok(represent_field(&field)))
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<CustomFieldBody>,
) -> Result<Hal<CustomFieldRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let field = state
        .services
        .create_custom_field(&access, body.into())
        .await?;
    Ok(Hal(StatusCode::CREATED, represent_field(&field)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<CustomFieldBody>,
) -> Result<Hal<CustomFieldRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    let field = state
        .services
        .update_custom_field(&access, id, body.into())
        .await?;
    Ok(ok(represent_field(&field)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    state.services.delete_custom_field(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- options

#[derive(Serialize)]
pub struct CustomOptionLinks {
    #[serde(rename = "self")]
    self_: Link,
}

#[derive(Serialize)]
pub struct CustomOptionRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    value: String,
    #[serde(rename = "_links")]
    links: CustomOptionLinks,
}

pub fn represent_option(o: &CustomOption) -> CustomOptionRepr {
    CustomOptionRepr {
        kind: "CustomOption",
        id: o.id,
        value: o.value.clone(),
        links: CustomOptionLinks {
            self_: Link::titled(format!("{OPTION_PREFIX}/{}", o.id), o.value.clone()),
        },
    }
}

/// `GET /api/v3/custom_options/{id}`: the target of list values' links.
pub async fn show_option(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<CustomOptionRepr>, ApiError> {
    let access = state.services.access(caller.user()).await?;
    let option = state
        .services
        .custom_option(&access, parse_id(&id)?)
        .await?;
    Ok(ok(represent_option(&option)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_give_custom_values() {
        let body: HashMap<String, serde_json::Value> = serde_json::from_value(json!({
            "subject": "x",
            "customField1": "text",
            "customField2": 42,
            "customField3": {"raw": "long"},
            "customField4": null,
            "customField5": [1],
            "customFieldX": 1,
            "_meta": {"validateCustomFields": true}
        }))
        .unwrap();
        let links: HashMap<String, serde_json::Value> = serde_json::from_value(json!({
            "customField6": {"href": "http://host/api/v3/custom_options/9?x=1"},
            "customField2": {"href": null},
            "status": {"href": "/api/v3/statuses/1"}
        }))
        .unwrap();
        let input = values_from_body(&body, &links);
        assert!(input.validate_all);
        assert_eq!(
            input.values,
            vec![
                (1, Input::Text("text".into())),
                (2, Input::Null),
                (3, Input::Text("long".into())),
                (4, Input::Null),
                (5, Input::Other("a list")),
                (6, Input::Href("/api/v3/custom_options/9".into())),
            ]
        );
    }
}
