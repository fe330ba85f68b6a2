//! The change history of work packages: `/api/v3/work_packages/{id}/activities`
//! (list, and comment with POST) and `/api/v3/activities/{id}` (show, and
//! edit a comment with PATCH). Every journal is one activity; its `details`
//! say what the change did in words, its `comment` is the note.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::permission::{Permission, PermissionSet};
use steward_domain::Timestamp;
use steward_services::work_packages::{Activity, NamedChange};

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody};
use crate::hal::{ok, Hal, Link};
use crate::routes::shared::{reader_access, rendering, Formattable};
use crate::routes::work_packages::TextInput;
use crate::AppState;
use steward_http::markdown::Rendering;

/// One line of `details`: a change in words, as text and as HTML.
#[derive(Serialize, Debug, PartialEq)]
pub struct Detail {
    format: &'static str,
    raw: String,
    html: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLinks {
    #[serde(rename = "self")]
    self_: Link,
    work_package: Link,
    user: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<Link>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    version: i64,
    comment: Formattable,
    details: Vec<Detail>,
    /// Steward's addition: the comment was changed after it was written.
    edited: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(rename = "_links")]
    links: ActivityLinks,
}

#[derive(Serialize)]
pub struct ActivityElements {
    elements: Vec<ActivityRepr>,
}

#[derive(Serialize)]
pub struct ActivityCollectionLinks {
    #[serde(rename = "self")]
    self_: Link,
}

/// The whole history of one work package; it is not paginated.
#[derive(Serialize)]
pub struct ActivityCollection {
    #[serde(rename = "_type")]
    kind: &'static str,
    total: usize,
    count: usize,
    #[serde(rename = "_embedded")]
    embedded: ActivityElements,
    #[serde(rename = "_links")]
    links: ActivityCollectionLinks,
}

/// The label a person reads for an attribute (API property name).
/// The label of an attribute in change details. Custom fields are named by
/// their own name, which the change already carries.
pub fn attribute_label(attribute: &'static str) -> &'static str {
    match attribute {
        "id" => "ID",
        "lockVersion" => "Lock version",
        "project" => "Project",
        "type" => "Type",
        "status" => "Status",
        "priority" => "Priority",
        "subject" => "Subject",
        "description" => "Description",
        "author" => "Author",
        "assignee" => "Assignee",
        "responsible" => "Accountable",
        "startDate" => "Start date",
        "dueDate" => "Finish date",
        "date" => "Date",
        "estimatedTime" => "Work",
        "remainingTime" => "Remaining work",
        "percentageDone" => "% Complete",
        "parent" => "Parent",
        "version" => "Version",
        "createdAt" => "Created on",
        "updatedAt" => "Updated on",
        other => other,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A stored value as a person reads it.
fn shown(attribute: &str, value: &str) -> String {
    match attribute {
        "estimatedTime" | "remainingTime" => format!("{value} h"),
        "percentageDone" => format!("{value}%"),
        "parent" => format!("#{value}"),
        _ => value.to_string(),
    }
}

/// A change in words: "X set to Y", "X deleted (Y)", "X changed from A to B";
/// the description only says that it changed.
pub fn detail(c: &NamedChange) -> Detail {
    let label = attribute_label(c.attribute);
    let l = escape(label);
    let value = |v: &Option<String>| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| shown(c.attribute, v))
    };
    let (raw, html) = if c.attribute == "description" {
        (
            format!("{label} changed"),
            format!("<strong>{l}</strong> changed"),
        )
    } else {
        match (value(&c.old), value(&c.new)) {
            (None, Some(new)) => (
                format!("{label} set to {new}"),
                format!("<strong>{l}</strong> set to <i>{}</i>", escape(&new)),
            ),
            (Some(old), None) => (
                format!("{label} deleted ({old})"),
                format!(
                    "<strong>{l}</strong> deleted (<strike><i>{}</i></strike>)",
                    escape(&old)
                ),
            ),
            (Some(old), Some(new)) => (
                format!("{label} changed from {old} to {new}"),
                format!(
                    "<strong>{l}</strong> changed from <i>{}</i> to <i>{}</i>",
                    escape(&old),
                    escape(&new)
                ),
            ),
            (None, None) => (
                format!("{label} changed"),
                format!("<strong>{l}</strong> changed"),
            ),
        }
    };
    Detail {
        format: "custom",
        raw,
        html,
    }
}

/// May the caller change the comment of this activity?
fn may_edit(a: &Activity, perms: PermissionSet, caller: Option<i64>) -> bool {
    perms.contains(Permission::EditWorkPackageNotes)
        || (caller == Some(a.journal.user_id)
            && perms.contains(Permission::EditOwnWorkPackageNotes))
}

pub fn represent(
    a: &Activity,
    wp_subject: &str,
    perms: PermissionSet,
    caller: Option<i64>,
    rendering: Rendering,
) -> ActivityRepr {
    let j = &a.journal;
    let href = format!("/api/v3/activities/{}", j.id);
    ActivityRepr {
        kind: if j.notes.is_empty() {
            "Activity"
        } else {
            "Activity::Comment"
        },
        id: j.id,
        version: j.version,
        comment: Formattable::markdown(&j.notes, rendering),
        details: a.changes.iter().map(detail).collect(),
        edited: a.edits > 0,
        created_at: j.created_at,
        updated_at: j.updated_at,
        links: ActivityLinks {
            self_: Link::new(href.clone()),
            work_package: Link::titled(
                format!("/api/v3/work_packages/{}", j.journable_id),
                wp_subject,
            ),
            user: Link::titled(format!("/api/v3/users/{}", j.user_id), j.user_name.clone()),
            update: may_edit(a, perms, caller).then(|| Link::new(href).method("patch")),
        },
    }
}

/// The body of a comment: `{"comment": {"raw": "..."}}` (or a plain string).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommentBody {
    comment: Option<TextInput>,
}

impl CommentBody {
    fn text(self) -> String {
        self.comment.map(TextInput::raw).unwrap_or_default()
    }
}

/// Renders one activity for the caller.
async fn one(
    state: &AppState,
    access: &steward_services::authz::Access,
    a: &Activity,
) -> Result<ActivityRepr, ApiError> {
    let (row, project) = state
        .services
        .work_package(access, a.journal.journable_id)
        .await?;
    Ok(represent(
        a,
        &row.wp.state.subject,
        access.permissions_in(&project),
        access.user_id(),
        rendering(state).await?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<ActivityCollection>, ApiError> {
    let id = parse_id(&id)?;
    let access = reader_access(&state, &caller).await?;
    let (row, project) = state.services.work_package(&access, id).await?;
    let activities = state.services.activities(&access, id).await?;
    let perms = access.permissions_in(&project);
    let rendering = rendering(&state).await?;
    let elements: Vec<ActivityRepr> = activities
        .iter()
        .map(|a| represent(a, &row.wp.state.subject, perms, access.user_id(), rendering))
        .collect();
    Ok(ok(ActivityCollection {
        kind: "Collection",
        total: elements.len(),
        count: elements.len(),
        embedded: ActivityElements { elements },
        links: ActivityCollectionLinks {
            self_: Link::new(format!("/api/v3/work_packages/{id}/activities")),
        },
    }))
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<CommentBody>,
) -> Result<Hal<ActivityRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    let activity = state
        .services
        .add_comment(&access, &caller.user, id, &body.text())
        .await?;
    Ok(Hal(
        StatusCode::CREATED,
        one(&state, &access, &activity).await?,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Hal<ActivityRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = reader_access(&state, &caller).await?;
    let activity = state.services.activity(&access, id).await?;
    Ok(ok(one(&state, &access, &activity).await?))
}

pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<CommentBody>,
) -> Result<Hal<ActivityRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    let activity = state
        .services
        .edit_comment(&access, &caller.user, id, &body.text())
        .await?;
    Ok(ok(one(&state, &access, &activity).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(attribute: &'static str, old: Option<&str>, new: Option<&str>) -> NamedChange {
        NamedChange {
            attribute,
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        }
    }

    #[test]
    fn details_in_words() {
        let d = detail(&change("status", Some("New"), Some("In progress")));
        assert_eq!(d.raw, "Status changed from New to In progress");
        assert_eq!(
            d.html,
            "<strong>Status</strong> changed from <i>New</i> to <i>In progress</i>"
        );
        assert_eq!(
            detail(&change("percentageDone", None, Some("40"))).raw,
            "% Complete set to 40%"
        );
        assert_eq!(
            detail(&change("assignee", Some("Ann Smith"), None)).raw,
            "Assignee deleted (Ann Smith)"
        );
        assert_eq!(
            detail(&change("description", Some("a"), Some("b"))).raw,
            "Description changed"
        );
        let d = detail(&change("subject", None, Some("<b>x</b>")));
        assert_eq!(d.raw, "Subject set to <b>x</b>");
        assert!(d.html.contains("&lt;b&gt;x&lt;/b&gt;"), "{}", d.html);
    }
}
