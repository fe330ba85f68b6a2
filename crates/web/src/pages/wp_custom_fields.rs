//! The custom fields of work packages in the work-package form: one input
//! per field, chosen by its format, holding the text as typed or stored.
//! The services parse and check the values; their message for a field
//! (attribute `customFieldN`) is shown under that field's input.

use maud::{html, Markup};
use steward_domain::custom_field::{
    self as cf, CustomField, CustomFieldId, Format, Input, Value, OPTION_PREFIX, USER_PREFIX,
};
use steward_services::custom_fields::{CustomValueSet, CustomValuesInput};

use crate::forms::Form;
use crate::layout::field_error;

/// A field's values as text, by field id.
pub type Typed = Vec<(CustomFieldId, String)>;

/// The form field of custom field `id`.
fn name(id: CustomFieldId) -> String {
    format!("custom_field_{id}")
}

/// The input's element id (its message's is this with `-error`).
fn element_id(id: CustomFieldId) -> String {
    format!("wp-cf-{id}")
}

/// The values the form sent, for the fields it had an input for: a field
/// the form did not send is left as it is.
pub fn from_form(form: &Form, fields: &[CustomField]) -> Typed {
    fields
        .iter()
        .filter_map(|f| form.get(&name(f.id)).map(|v| (f.id, v.to_string())))
        .collect()
}

/// The stored values of work package `id`, as the form shows them.
pub fn stored(set: &CustomValueSet, id: i64) -> Typed {
    set.of(id)
        .into_iter()
        .filter_map(|shown| {
            let text = match shown.value? {
                Value::Text(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Date(d) => d.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Option(o) => o.to_string(),
                Value::User(u) => u.to_string(),
            };
            Some((shown.field.id, text))
        })
        .collect()
}

/// The values for the services. List and user inputs send ids, which
/// become the links the services expect; anything else goes as typed, so
/// that the services' message names what was entered.
pub fn input(typed: &Typed, fields: &[CustomField]) -> CustomValuesInput {
    let values = typed
        .iter()
        .filter_map(|(id, raw)| {
            let field = fields.iter().find(|f| f.id == *id)?;
            let number = raw.trim().parse::<i64>().ok();
            let value = match (field.format, number) {
                (Format::List, Some(o)) => Input::Href(format!("{OPTION_PREFIX}/{o}")),
                (Format::User, Some(u)) => Input::Href(format!("{USER_PREFIX}/{u}")),
                _ => Input::Text(raw.clone()),
            };
            Some((*id, value))
        })
        .collect();
    CustomValuesInput {
        values,
        validate_all: false,
    }
}

/// Whether a validation error's attribute names one of `fields`.
pub fn is_field_attribute(attribute: &str, fields: &[CustomField]) -> bool {
    cf::parse_property(attribute).is_some_and(|id| fields.iter().any(|f| f.id == id))
}

/// One input per field, in the fields' order. `people` are the choices of
/// user fields (id, name); `error` is the message for an attribute.
pub fn inputs<'a>(
    fields: &[CustomField],
    typed: &Typed,
    people: &[(String, String)],
    error: impl Fn(&str) -> Option<&'a str>,
) -> Markup {
    html! {
        @for f in fields {
            (one(f, typed.iter().find(|(id, _)| *id == f.id).map_or("", |(_, v)| v.as_str()), people, error(f.attribute())))
        }
    }
}

fn one(
    field: &CustomField,
    current: &str,
    people: &[(String, String)],
    error: Option<&str>,
) -> Markup {
    let id = element_id(field.id);
    let name = name(field.id);
    let help_id = format!("{id}-help");
    let help = match field.format {
        Format::Int => Some("A whole number."),
        Format::Float => Some("A number, such as 2.5."),
        Format::Date => Some("A date (YYYY-MM-DD)."),
        _ => None,
    };
    let described: Vec<String> = help
        .map(|_| help_id.clone())
        .into_iter()
        .chain(error.map(|_| format!("{id}-error")))
        .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = error.map(|_| "true");
    let required = field.is_required;
    let choices = |options: Vec<(String, String)>| {
        html! {
            select id=(id) name=(name) required[required] aria-invalid=[invalid] aria-describedby=[described.as_deref()] {
                option value="" selected[current.is_empty()] { "—" }
                @for (value, text) in &options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
        }
    };
    let control = match field.format {
        Format::Text => html! {
            textarea id=(id) name=(name) rows="4" required[required] aria-invalid=[invalid] aria-describedby=[described.as_deref()] { (current) }
        },
        Format::Bool => choices(vec![
            ("true".into(), "Yes".into()),
            ("false".into(), "No".into()),
        ]),
        Format::List => choices(
            field
                .options
                .iter()
                .map(|o| (o.id.to_string(), o.value.clone()))
                .collect(),
        ),
        Format::User => choices(people.to_vec()),
        Format::Date => html! {
            input id=(id) name=(name) type="date" value=(current) required[required]
                aria-invalid=[invalid] aria-describedby=[described.as_deref()];
        },
        Format::Int | Format::Float | Format::String => {
            let mode = match field.format {
                Format::Int => Some("numeric"),
                Format::Float => Some("decimal"),
                _ => None,
            };
            html! {
                input id=(id) name=(name) type="text" value=(current) inputmode=[mode] required[required]
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];
            }
        }
    };
    html! {
        div.field {
            label for=(id) {
                (field.name)
                @if required { " " span.muted { "(required)" } }
            }
            (control)
            @if let Some(h) = help { p.help id=(help_id) { (h) } }
            (field_error(&id, error))
        }
    }
}
