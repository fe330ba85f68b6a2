//! `/api/v3/work_packages` and `/api/v3/projects/{id}/work_packages`:
//! list with filters, sort and pagination; show; create; update by PATCH
//! with lockVersion; delete; the form and schema endpoints clients call
//! before writing; and baseline comparison through `timestamps`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use steward_domain::custom_field::Kind as CustomKind;
use steward_domain::date::{format_duration_hours, parse_duration_hours, Date};
use steward_domain::permission::{Permission, PermissionSet};
use steward_domain::project::Project;
use steward_domain::search::TextQuery;
use steward_domain::user::User;
use steward_domain::work_package::{WorkPackageId, WorkPackageState};
use steward_domain::{Timestamp, ValidationError, ValidationErrors};
use steward_services::authz::Access;
use steward_services::work_packages::{CreatedWorkPackage, WorkPackageInput};
use steward_services::ServiceError;
use steward_storage::work_packages::{
    Cond, GroupColumn, IdColumn, Query, Sort, TextFields, TimeColumn, UserColumn, WorkPackageRow,
};

use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{parse_id, ApiPath, JsonBody, QueryParams};
use crate::filters::{
    parse_filters, parse_sort, resolve, sort_field, unknown_filter, unknown_sort, Filter,
};
use crate::hal::{ok, Collection, Hal, Link, Page};
use crate::routes::custom_fields::{represent_values, values_from_body, CustomValueRepr};
use crate::routes::shared::{reader_access, rendering, Formattable};
use crate::AppState;
use steward_http::markdown::Rendering;

/// A link whose target may be absent (`{"href": null}`), as API v3 writes them.
#[derive(Serialize, Clone, Debug, Default)]
pub struct OptLink {
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl OptLink {
    fn to(prefix: &str, id: Option<i64>, title: Option<String>) -> OptLink {
        match id {
            Some(id) => OptLink {
                href: Some(format!("{prefix}/{id}")),
                title,
            },
            None => OptLink::default(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackageLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_immediately: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    add_comment: Option<Link>,
    schema: Link,
    activities: Link,
    project: Link,
    #[serde(rename = "type")]
    type_: Link,
    status: Link,
    priority: Link,
    author: Link,
    assignee: OptLink,
    responsible: OptLink,
    version: OptLink,
    parent: OptLink,
    /// `customFieldN` links of list and user fields.
    #[serde(flatten)]
    custom_fields: BTreeMap<String, OptLink>,
}

#[derive(Serialize)]
pub struct Meta {
    timestamp: String,
    exists: bool,
    #[serde(rename = "matchesFilters")]
    matches_filters: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackageRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    lock_version: i64,
    subject: String,
    description: Formattable,
    schedule_manually: bool,
    start_date: Option<Date>,
    due_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Option<Date>>,
    derived_start_date: Option<Date>,
    derived_due_date: Option<Date>,
    duration: Option<String>,
    estimated_time: Option<String>,
    derived_estimated_time: Option<String>,
    remaining_time: Option<String>,
    percentage_done: Option<i64>,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// `customFieldN` values of the other formats.
    #[serde(flatten)]
    custom_fields: BTreeMap<String, CustomValueRepr>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<Embedded>,
    #[serde(rename = "_links")]
    links: WorkPackageLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Embedded {
    attributes_by_timestamp: Vec<HistoricAttributes>,
}

/// The attributes of a work package at an earlier time that differ from now.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HistoricAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<Option<Date>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<Option<Date>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_time: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage_done: Option<Option<i64>>,
    #[serde(rename = "_meta")]
    meta: Option<Meta>,
    #[serde(rename = "_links")]
    links: HistoricLinks,
}

#[derive(Serialize, Default)]
pub struct HistoricLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Link>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<OptLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responsible: Option<OptLink>,
}

fn hours(v: Option<f64>) -> Option<String> {
    v.map(format_duration_hours)
}

pub fn represent(
    row: &WorkPackageRow,
    perms: PermissionSet,
    is_milestone: bool,
    rendering: Rendering,
) -> WorkPackageRepr {
    let wp = &row.wp;
    let s = &wp.state;
    let href = format!("/api/v3/work_packages/{}", wp.id);
    let can_edit = perms.contains(Permission::EditWorkPackages);
    let duration = match (s.start_date, s.due_date) {
        (Some(a), Some(b)) if !is_milestone => {
            let days = (b.0 - a.0).get_days() + 1;
            Some(format!("P{days}D"))
        }
        _ => None,
    };
    WorkPackageRepr {
        kind: "WorkPackage",
        id: wp.id,
        lock_version: wp.lock_version,
        subject: s.subject.clone(),
        description: Formattable::markdown(&s.description, rendering),
        schedule_manually: true,
        start_date: if is_milestone { None } else { s.start_date },
        due_date: if is_milestone { None } else { s.due_date },
        date: is_milestone.then_some(s.start_date),
        derived_start_date: None,
        derived_due_date: None,
        duration,
        estimated_time: hours(s.estimated_hours),
        derived_estimated_time: None,
        remaining_time: hours(s.remaining_hours),
        percentage_done: s.done_ratio,
        created_at: wp.created_at,
        updated_at: wp.updated_at,
        custom_fields: BTreeMap::new(),
        meta: None,
        embedded: None,
        links: WorkPackageLinks {
            self_: Link::titled(href.clone(), s.subject.clone()),
            update: can_edit.then(|| Link::new(format!("{href}/form")).method("post")),
            update_immediately: can_edit.then(|| Link::new(href.clone()).method("patch")),
            delete: perms
                .contains(Permission::DeleteWorkPackages)
                .then(|| Link::new(href.clone()).method("delete")),
            add_comment: perms
                .contains(Permission::AddWorkPackageNotes)
                .then(|| Link::new(format!("{href}/activities")).method("post")),
            schema: Link::new(format!(
                "/api/v3/work_packages/schemas/{}-{}",
                s.project_id, s.type_id
            )),
            activities: Link::new(format!("{href}/activities")),
            project: Link::titled(
                format!("/api/v3/projects/{}", s.project_id),
                row.project_name.clone(),
            ),
            type_: Link::titled(
                format!("/api/v3/types/{}", s.type_id),
                row.type_name.clone(),
            ),
            status: Link::titled(
                format!("/api/v3/statuses/{}", s.status_id),
                row.status_name.clone(),
            ),
            priority: Link::titled(
                format!("/api/v3/priorities/{}", s.priority_id),
                row.priority_name.clone(),
            ),
            author: Link::titled(
                format!("/api/v3/users/{}", s.author_id),
                row.author_name.clone(),
            ),
            assignee: OptLink::to(
                principal_prefix(row.assignee_is_group),
                s.assigned_to_id,
                row.assignee_name.clone(),
            ),
            responsible: OptLink::to(
                principal_prefix(row.responsible_is_group),
                s.responsible_id,
                row.responsible_name.clone(),
            ),
            version: OptLink::to("/api/v3/versions", s.version_id, row.version_name.clone()),
            parent: OptLink::to(
                "/api/v3/work_packages",
                s.parent_id,
                row.parent_subject.clone(),
            ),
            custom_fields: BTreeMap::new(),
        },
    }
}

/// Adds the custom-field values to representations of work packages,
/// reading the values of all of them in one query.
async fn add_custom_values(
    state: &AppState,
    reprs: &mut [WorkPackageRepr],
) -> Result<(), ApiError> {
    let ids: Vec<i64> = reprs.iter().map(|r| r.id).collect();
    let set = state
        .services
        .custom_values(CustomKind::WorkPackage, &ids)
        .await?;
    if set.fields.is_empty() {
        return Ok(());
    }
    let rendering = rendering(state).await?;
    for repr in reprs {
        let custom = represent_values(&set.of(repr.id), rendering);
        repr.custom_fields = custom.properties;
        repr.links.custom_fields = custom.links;
    }
    Ok(())
}

fn principal_prefix(is_group: bool) -> &'static str {
    if is_group {
        "/api/v3/groups"
    } else {
        "/api/v3/users"
    }
}

/// Permissions per project, computed once per request.
struct ProjectPerms<'a> {
    access: &'a Access,
    cache: HashMap<i64, PermissionSet>,
}

impl<'a> ProjectPerms<'a> {
    fn new(access: &'a Access) -> Self {
        ProjectPerms {
            access,
            cache: HashMap::new(),
        }
    }
    fn seed(&mut self, project: &Project) {
        self.cache
            .insert(project.id, self.access.permissions_in(project));
    }
    async fn of(&mut self, state: &AppState, project_id: i64) -> Result<PermissionSet, ApiError> {
        if let Some(p) = self.cache.get(&project_id) {
            return Ok(*p);
        }
        let perms = match state
            .services
            .project(self.access, &project_id.to_string())
            .await
        {
            Ok(p) => self.access.permissions_in(&p),
            Err(_) => PermissionSet::EMPTY,
        };
        self.cache.insert(project_id, perms);
        Ok(perms)
    }
}

// ---------------------------------------------------------------- listing

/// In the API's spelling; every other spelling is resolved to these.
const FILTERS: &[&str] = &[
    "status",
    "type",
    "priority",
    "assignee",
    "author",
    "responsible",
    "project",
    "subject",
    "createdAt",
    "updatedAt",
    "id",
    "parent",
    "version",
    "search",
    "subjectOrId",
    "typeahead",
];

const SORTS: &[&str] = &[
    "id",
    "subject",
    "status",
    "type",
    "priority",
    "createdAt",
    "updatedAt",
    "startDate",
    "dueDate",
    "assignee",
    "project",
    "percentageDone",
];

fn ids_or_me(f: &Filter, me: Option<&User>) -> Result<Vec<i64>, ApiError> {
    f.values
        .iter()
        .map(|v| {
            if v == "me" {
                me.map(|u| u.id).ok_or_else(|| {
                    ApiError::InvalidQuery(format!(
                        "Filter {:?} uses \"me\" but the request is anonymous.",
                        f.name
                    ))
                })
            } else {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::InvalidQuery(format!("Filter {:?} expects ids, not {v:?}.", f.name))
                })
            }
        })
        .collect()
}

fn ids(f: &Filter) -> Result<Vec<i64>, ApiError> {
    ids_or_me(f, None)
}

/// Midnight UTC at the start of the day.
pub(crate) fn day_start(d: Date) -> Timestamp {
    let ts =
        d.0.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_microsecond())
            .unwrap_or(0);
    Timestamp(ts)
}

fn today() -> Date {
    Date(
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
    )
}

fn time_range(f: &Filter, col: TimeColumn) -> Result<Cond, ApiError> {
    let date = |v: &str| -> Result<Option<Date>, ApiError> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        Date::parse(v).map(Some).ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "Filter {:?}: {v:?} is not a date (YYYY-MM-DD).",
                f.name
            ))
        })
    };
    let days = |v: Option<&String>| -> Result<i64, ApiError> {
        v.and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| (0..=100_000).contains(n))
            .ok_or_else(|| {
                ApiError::InvalidQuery(format!("Filter {:?} expects a number of days.", f.name))
            })
    };
    let shift = |d: Date, n: i64| Date(d.0.checked_add(jiff::Span::new().days(n)).unwrap_or(d.0));
    let t = today();
    let (from, to) = match f.operator.as_str() {
        "<>d" => {
            let from = date(f.values.first().map(String::as_str).unwrap_or(""))?;
            let to = date(f.values.get(1).map(String::as_str).unwrap_or(""))?;
            if from.is_none() && to.is_none() {
                return Err(ApiError::InvalidQuery(format!(
                    "Filter {:?} with <>d needs at least one date.",
                    f.name
                )));
            }
            (from.map(day_start), to.map(|d| day_start(shift(d, 1))))
        }
        "=d" => {
            let d = date(f.values.first().map(String::as_str).unwrap_or(""))?.ok_or_else(|| {
                ApiError::InvalidQuery(format!("Filter {:?} with =d needs a date.", f.name))
            })?;
            (Some(day_start(d)), Some(day_start(shift(d, 1))))
        }
        ">t-" => (None, Some(day_start(shift(t, -days(f.values.first())?)))),
        "<t-" => (Some(day_start(shift(t, -days(f.values.first())?))), None),
        "t-" => {
            let d = shift(t, -days(f.values.first())?);
            (Some(day_start(d)), Some(day_start(shift(d, 1))))
        }
        "t" => (Some(day_start(t)), Some(day_start(shift(t, 1)))),
        "w" => {
            let monday = shift(t, -i64::from(t.0.weekday().to_monday_zero_offset()));
            (Some(day_start(monday)), Some(day_start(shift(monday, 7))))
        }
        _ => return Err(f.unknown_operator(&["<>d", "=d", ">t-", "<t-", "t-", "t", "w"])),
    };
    Ok(Cond::TimeRange { col, from, to })
}

fn id_cond(f: &Filter, col: IdColumn, nullable: bool) -> Result<Cond, ApiError> {
    Ok(match f.operator.as_str() {
        "=" => Cond::IdIn {
            col,
            ids: ids(f)?,
            negate: false,
        },
        "!" => Cond::IdIn {
            col,
            ids: ids(f)?,
            negate: true,
        },
        "*" if nullable => Cond::IdSet { col, set: true },
        "!*" if nullable => Cond::IdSet { col, set: false },
        _ => {
            return Err(f.unknown_operator(if nullable {
                &["=", "!", "*", "!*"]
            } else {
                &["=", "!"]
            }))
        }
    })
}

fn user_cond(
    f: &Filter,
    col: UserColumn,
    me: Option<&User>,
    nullable: bool,
) -> Result<Cond, ApiError> {
    Ok(match f.operator.as_str() {
        "=" => Cond::UserIn {
            col,
            ids: ids_or_me(f, me)?,
            negate: false,
        },
        "!" => Cond::UserIn {
            col,
            ids: ids_or_me(f, me)?,
            negate: true,
        },
        "*" if nullable => Cond::UserSet { col, set: true },
        "!*" if nullable => Cond::UserSet { col, set: false },
        _ => {
            return Err(f.unknown_operator(if nullable {
                &["=", "!", "*", "!*"]
            } else {
                &["=", "!"]
            }))
        }
    })
}

/// `search` (every word in the subject, description, a comment or a custom
/// text), `subject_or_id` and `typeahead` (the subject's words, the last
/// one begun, or the id, `#12` or `12`), all with OpenProject's operator
/// `**`. Whatever the text holds is searched as words; a text without any
/// word (empty, only punctuation) filters nothing.
fn text_cond(f: &Filter, fields: TextFields, with_id: bool) -> Result<Option<Cond>, ApiError> {
    if f.operator != "**" {
        return Err(f.unknown_operator(&["**"]));
    }
    let text = f.values.join(" ");
    let id = if with_id {
        text.trim()
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
    } else {
        None
    };
    let query = TextQuery::from_search(&text, with_id);
    Ok(match (query, id) {
        (None, None) => None,
        (Some(query), id) => Some(Cond::Text {
            query,
            fields,
            id,
            negate: false,
        }),
        // Only digits that are no word of a subject cannot happen (digits
        // are words), but an id alone still finds its work package.
        (None, Some(id)) => Some(Cond::IdIn {
            col: IdColumn::Id,
            ids: vec![id],
            negate: false,
        }),
    })
}

/// Turns the `filters` parameter into query conditions.
pub fn conditions(filters: &[Filter], me: Option<&User>) -> Result<Vec<Cond>, ApiError> {
    let mut out = Vec::new();
    for f in filters {
        let cond = match f.resolve(FILTERS)? {
            "status" => match f.operator.as_str() {
                "o" => Cond::StatusOpen(true),
                "c" => Cond::StatusOpen(false),
                "*" => continue,
                "=" | "!" => id_cond(f, IdColumn::Status, false)?,
                _ => return Err(f.unknown_operator(&["o", "c", "*", "=", "!"])),
            },
            "type" => id_cond(f, IdColumn::Type, false)?,
            "priority" => id_cond(f, IdColumn::Priority, false)?,
            "project" => id_cond(f, IdColumn::Project, false)?,
            "id" => id_cond(f, IdColumn::Id, false)?,
            "parent" => id_cond(f, IdColumn::Parent, true)?,
            "version" => id_cond(f, IdColumn::Version, true)?,
            "assignee" => user_cond(f, UserColumn::Assignee, me, true)?,
            "author" => user_cond(f, UserColumn::Author, me, false)?,
            "responsible" => user_cond(f, UserColumn::Responsible, me, true)?,
            "subject" => match f.operator.as_str() {
                "~" | "!~" => Cond::SubjectContains {
                    text: f.values.join(" "),
                    negate: f.operator == "!~",
                },
                _ => return Err(f.unknown_operator(&["~", "!~"])),
            },
            "createdAt" => time_range(f, TimeColumn::CreatedAt)?,
            "updatedAt" => time_range(f, TimeColumn::UpdatedAt)?,
            "search" => match text_cond(f, TextFields::All, false)? {
                Some(c) => c,
                None => continue,
            },
            "subjectOrId" | "typeahead" => match text_cond(f, TextFields::Subject, true)? {
                Some(c) => c,
                None => continue,
            },
            other => return Err(unknown_filter(other, FILTERS)),
        };
        out.push(cond);
    }
    Ok(out)
}

pub fn sorting(raw: Option<&str>) -> Result<Vec<(Sort, bool)>, ApiError> {
    parse_sort(raw)?
        .into_iter()
        .map(|(field, desc)| {
            let s = match sort_field(&field, SORTS, "Work packages")? {
                "id" => Sort::Id,
                "subject" => Sort::Subject,
                "status" => Sort::Status,
                "type" => Sort::Type,
                "priority" => Sort::Priority,
                "createdAt" => Sort::CreatedAt,
                "updatedAt" => Sort::UpdatedAt,
                "startDate" => Sort::StartDate,
                "dueDate" => Sort::DueDate,
                "assignee" => Sort::Assignee,
                "project" => Sort::Project,
                "percentageDone" => Sort::PercentageDone,
                other => return Err(unknown_sort(other, SORTS, "Work packages")),
            };
            Ok((s, desc))
        })
        .collect()
}

/// What `groupBy` takes, in the API's spelling (any other spelling of
/// these is resolved to them).
const GROUP_BYS: &[&str] = &[
    "status",
    "type",
    "priority",
    "project",
    "assignee",
    "author",
    "responsible",
    "version",
    "parent",
];

/// What `groupBy` asks for: the column, the collection its values link
/// to, and its name in the API's spelling.
struct Grouping {
    by: GroupColumn,
    values: &'static str,
    name: &'static str,
}

fn grouping(raw: Option<&str>) -> Result<Option<Grouping>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let name = resolve(raw, GROUP_BYS);
    let (by, values) = match name {
        Some("status") => (GroupColumn::Status, "statuses"),
        Some("type") => (GroupColumn::Type, "types"),
        Some("priority") => (GroupColumn::Priority, "priorities"),
        Some("project") => (GroupColumn::Project, "projects"),
        Some("assignee") => (GroupColumn::Assignee, "users"),
        Some("author") => (GroupColumn::Author, "users"),
        Some("responsible") => (GroupColumn::Responsible, "users"),
        Some("version") => (GroupColumn::Version, "versions"),
        Some("parent") => (GroupColumn::Parent, "work_packages"),
        _ => {
            return Err(ApiError::InvalidQuery(format!(
                "Work packages cannot be grouped by {raw:?}; use {} (camelCase, snake_case and the _id form of each are accepted too).",
                GROUP_BYS.join(", ")
            )))
        }
    };
    Ok(Some(Grouping {
        by,
        values,
        name: name.unwrap_or_default(),
    }))
}

/// One group of a grouped listing, as OpenProject's `GroupBy`: counted
/// over every matching work package, not only this page.
#[derive(Serialize)]
pub struct GroupByRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    value: Option<String>,
    count: i64,
    #[serde(rename = "_links")]
    links: GroupByLinks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupByLinks {
    /// The grouped value's resource; empty for "not set".
    value_link: Vec<Link>,
    group_by: Link,
}

/// A page of work packages and, with `groupBy`, its groups.
#[derive(Serialize)]
pub struct WorkPackageCollection {
    #[serde(flatten)]
    page: Collection<WorkPackageRepr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<GroupByRepr>>,
}

/// A requested point in time of a baseline comparison.
#[derive(Clone, Debug)]
struct Moment {
    /// As the client wrote it (`PT0S`, `2024-01-01T00:00:00Z`).
    label: String,
    at: Timestamp,
    current: bool,
}

fn parse_timestamps(raw: Option<&str>) -> Result<Vec<Moment>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    let now = Timestamp::now();
    let list: Vec<Moment> = raw
        .split(',')
        .map(|part| {
            let part = part.trim();
            if let Some(t) = Timestamp::parse_rfc3339(part) {
                return Ok(Moment { label: part.to_string(), at: t, current: false });
            }
            if let Some(d) = Date::parse(part) {
                return Ok(Moment { label: part.to_string(), at: day_start(d), current: false });
            }
            // A duration counts back from now: PT0S is now; P1D, P-1D and -P1D
            // all mean a day ago.
            let dur = part.trim_start_matches('-').replacen("P-", "P", 1);
            match parse_duration_hours(&dur) {
                Some(h) => {
                    let secs = (h * 3600.0) as i64;
                    Ok(Moment { label: part.to_string(), at: now.minus_seconds(secs), current: secs == 0 })
                }
                None => Err(ApiError::InvalidQuery(format!(
                    "timestamps: {part:?} is not an ISO 8601 timestamp (2024-01-01T00:00:00Z) or duration (PT0S)."
                ))),
            }
        })
        .collect::<Result<_, _>>()?;
    if list.len() > 5 {
        return Err(ApiError::InvalidQuery(
            "timestamps: at most 5 points in time.".into(),
        ));
    }
    Ok(list)
}

/// Whether a historic state matches the filters that can be checked on it.
fn state_matches(s: &WorkPackageState, conds: &[Cond], closed: &[i64]) -> bool {
    conds.iter().all(|c| match c {
        Cond::StatusOpen(open) => closed.contains(&s.status_id) != *open,
        Cond::IdIn { col, ids, negate } => {
            let v = match col {
                IdColumn::Status => Some(s.status_id),
                IdColumn::Type => Some(s.type_id),
                IdColumn::Priority => Some(s.priority_id),
                IdColumn::Project => Some(s.project_id),
                IdColumn::Version => s.version_id,
                IdColumn::Parent => s.parent_id,
                IdColumn::Id => return true,
            };
            v.is_some_and(|v| ids.contains(&v)) != *negate
        }
        Cond::UserIn { col, ids, negate } => {
            let v = match col {
                UserColumn::Author => Some(s.author_id),
                UserColumn::Assignee => s.assigned_to_id,
                UserColumn::Responsible => s.responsible_id,
            };
            v.is_some_and(|v| ids.contains(&v)) != *negate
        }
        Cond::UserSet { col, set } => {
            let v = match col {
                UserColumn::Author => Some(s.author_id),
                UserColumn::Assignee => s.assigned_to_id,
                UserColumn::Responsible => s.responsible_id,
            };
            v.is_some() == *set
        }
        Cond::SubjectContains { text, negate } => {
            s.subject.to_lowercase().contains(&text.to_lowercase()) != *negate
        }
        // Texts are searched as they are now, not as they were.
        Cond::IdSet { .. } | Cond::TimeRange { .. } | Cond::Text { .. } => true,
    })
}

async fn closed_statuses(state: &AppState) -> Result<Vec<i64>, ApiError> {
    let mut conn = state.services.db.conn().await?;
    Ok(steward_storage::lookups::statuses(&mut conn)
        .await?
        .into_iter()
        .filter(|s| s.is_closed)
        .map(|s| s.id)
        .collect())
}

/// Adds `_meta` and `_embedded.attributesByTimestamp` for a baseline comparison.
async fn add_baseline(
    state: &AppState,
    reprs: &mut [WorkPackageRepr],
    rows: &[WorkPackageRow],
    moments: &[Moment],
    conds: &[Cond],
) -> Result<(), ApiError> {
    if moments.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.wp.id).collect();
    let closed = closed_statuses(state).await?;
    let mut history = Vec::with_capacity(moments.len());
    for m in moments {
        history.push(if m.current {
            None
        } else {
            Some(state.services.work_packages_as_of(&ids, m.at).await?)
        });
    }
    let last = moments.last().expect("not empty");
    for (repr, row) in reprs.iter_mut().zip(rows) {
        let now = &row.wp.state;
        // Listed because it matched at some point in time: say whether it
        // still matches now.
        repr.meta = Some(Meta {
            timestamp: last.label.clone(),
            exists: true,
            matches_filters: state_matches(now, conds, &closed),
        });
        let mut list = Vec::with_capacity(moments.len());
        for (m, hist) in moments.iter().zip(&history) {
            let then = match hist {
                None => Some(now),
                Some(map) => map.get(&row.wp.id),
            };
            let mut attrs = HistoricAttributes {
                meta: Some(Meta {
                    timestamp: m.label.clone(),
                    exists: then.is_some(),
                    matches_filters: then.is_some_and(|s| state_matches(s, conds, &closed)),
                }),
                ..HistoricAttributes::default()
            };
            attrs.links.self_ = Link::new(format!(
                "/api/v3/work_packages/{}?timestamps={}",
                row.wp.id,
                if m.current {
                    "PT0S".to_string()
                } else {
                    m.at.to_string()
                }
            ));
            if let Some(t) = then {
                if t.subject != now.subject {
                    attrs.subject = Some(t.subject.clone());
                }
                if t.start_date != now.start_date {
                    attrs.start_date = Some(t.start_date);
                }
                if t.due_date != now.due_date {
                    attrs.due_date = Some(t.due_date);
                }
                if t.estimated_hours != now.estimated_hours {
                    attrs.estimated_time = Some(hours(t.estimated_hours));
                }
                if t.done_ratio != now.done_ratio {
                    attrs.percentage_done = Some(t.done_ratio);
                }
                if t.status_id != now.status_id {
                    attrs.links.status =
                        Some(Link::new(format!("/api/v3/statuses/{}", t.status_id)));
                }
                if t.type_id != now.type_id {
                    attrs.links.type_ = Some(Link::new(format!("/api/v3/types/{}", t.type_id)));
                }
                if t.priority_id != now.priority_id {
                    attrs.links.priority =
                        Some(Link::new(format!("/api/v3/priorities/{}", t.priority_id)));
                }
                if t.project_id != now.project_id {
                    attrs.links.project =
                        Some(Link::new(format!("/api/v3/projects/{}", t.project_id)));
                }
                if t.assigned_to_id != now.assigned_to_id {
                    attrs.links.assignee =
                        Some(OptLink::to("/api/v3/users", t.assigned_to_id, None));
                }
                if t.responsible_id != now.responsible_id {
                    attrs.links.responsible =
                        Some(OptLink::to("/api/v3/users", t.responsible_id, None));
                }
            }
            list.push(attrs);
        }
        repr.embedded = Some(Embedded {
            attributes_by_timestamp: list,
        });
    }
    Ok(())
}

async fn list_in(
    state: &AppState,
    caller: &Caller,
    q: &QueryParams,
    project: Option<Project>,
    base: &str,
) -> Result<Hal<WorkPackageCollection>, ApiError> {
    let access = reader_access(state, caller).await?;
    let page = Page::from_query(q)?;
    let conds = conditions(&parse_filters(q.get("filters"))?, caller.user())?;
    let sort = sorting(q.get("sortBy"))?;
    let group_by = grouping(q.get("groupBy"))?;
    let moments = parse_timestamps(q.get("timestamps"))?;
    let mut query = Query {
        conds: conds.clone(),
        also_at: moments
            .iter()
            .filter(|m| !m.current)
            .map(|m| m.at)
            .collect(),
        sort: if sort.is_empty() {
            vec![(Sort::Id, false)]
        } else {
            sort
        },
        ..Query::default()
    };
    let mut perms = ProjectPerms::new(&access);
    if let Some(p) = &project {
        if !access.allowed(p, Permission::ViewWorkPackages) {
            return Err(ApiError::not_found());
        }
        perms.seed(p);
        query.scope.ids = vec![p.id];
    }
    let groups = match group_by {
        None => None,
        Some(Grouping { by, values, name }) => {
            let counted = state
                .services
                .work_package_groups(&access, query.clone(), by)
                .await?;
            Some(
                counted
                    .into_iter()
                    .map(|g| GroupByRepr {
                        kind: "GroupBy",
                        value: g.name,
                        count: g.count,
                        links: GroupByLinks {
                            value_link: g
                                .id
                                .map(|id| Link::new(format!("/api/v3/{values}/{id}")))
                                .into_iter()
                                .collect(),
                            group_by: Link::titled(
                                format!("/api/v3/queries/group_bys/{name}"),
                                name,
                            ),
                        },
                    })
                    .collect(),
            )
        }
    };
    let (rows, total) = state
        .services
        .list_work_packages(&access, query, page.limit(), page.skip())
        .await?;
    let mut elements = Vec::with_capacity(rows.len());
    let rendering = rendering(state).await?;
    for row in &rows {
        let p = perms.of(state, row.wp.state.project_id).await?;
        elements.push(represent(row, p, row.is_milestone, rendering));
    }
    add_custom_values(state, &mut elements).await?;
    add_baseline(state, &mut elements, &rows, &moments, &conds).await?;
    let mut extra = Vec::new();
    for key in ["filters", "sortBy", "groupBy", "timestamps"] {
        if let Some(v) = q.get(key) {
            extra.push((key, v));
        }
    }
    let extra = serde_urlencoded::to_string(&extra).unwrap_or_default();
    Ok(ok(WorkPackageCollection {
        page: Collection::new("WorkPackageCollection", base, &extra, page, total, elements),
        groups,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<Hal<WorkPackageCollection>, ApiError> {
    list_in(&state, &caller, &q, None, "/api/v3/work_packages").await
}

pub async fn list_for_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    q: QueryParams,
) -> Result<Hal<WorkPackageCollection>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let p = state.services.project(&access, &project).await?;
    let base = format!("/api/v3/projects/{}/work_packages", p.id);
    list_in(&state, &caller, &q, Some(p), &base).await
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    q: QueryParams,
) -> Result<Hal<WorkPackageRepr>, ApiError> {
    let access = reader_access(&state, &caller).await?;
    let (row, project) = state.services.work_package(&access, parse_id(&id)?).await?;
    let mut repr = represent(
        &row,
        access.permissions_in(&project),
        row.is_milestone,
        rendering(&state).await?,
    );
    let moments = parse_timestamps(q.get("timestamps"))?;
    let mut one = [repr];
    add_custom_values(&state, &mut one).await?;
    add_baseline(&state, &mut one, std::slice::from_ref(&row), &moments, &[]).await?;
    let [r] = one;
    repr = r;
    Ok(ok(repr))
}

// ---------------------------------------------------------------- writing

/// `Some(None)` for an explicit null, `None` when the property is absent.
fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[derive(Deserialize, Debug, Default, Clone)]
pub struct LinkRef {
    #[serde(default)]
    pub href: Option<String>,
}

/// A formattable text: `{"raw": "..."}` or a plain string.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
pub enum TextInput {
    Plain(String),
    Formatted {
        #[serde(default)]
        raw: Option<String>,
    },
}

impl TextInput {
    pub fn raw(self) -> String {
        match self {
            TextInput::Plain(s) => s,
            TextInput::Formatted { raw } => raw.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(default)]
pub struct WpLinksBody {
    #[serde(deserialize_with = "nullable")]
    project: Option<Option<LinkRef>>,
    #[serde(rename = "type", deserialize_with = "nullable")]
    type_: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    status: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    priority: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    assignee: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    responsible: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    parent: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    version: Option<Option<LinkRef>>,
    /// Other links: `customFieldN` of list and user fields; the rest is ignored.
    #[serde(flatten)]
    extra: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct WpBody {
    lock_version: Option<i64>,
    subject: Option<String>,
    #[serde(deserialize_with = "nullable")]
    description: Option<Option<TextInput>>,
    #[serde(deserialize_with = "nullable")]
    start_date: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    due_date: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    date: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    estimated_time: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    remaining_time: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    percentage_done: Option<Option<i64>>,
    /// A comment to store with an update (`{"raw": "..."}`).
    comment: Option<TextInput>,
    #[serde(rename = "_links")]
    links: WpLinksBody,
    // Links given at the top level, as some clients send them.
    #[serde(deserialize_with = "nullable")]
    project: Option<Option<LinkRef>>,
    #[serde(rename = "type", deserialize_with = "nullable")]
    type_: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    status: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    priority: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    assignee: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    responsible: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    parent: Option<Option<LinkRef>>,
    #[serde(deserialize_with = "nullable")]
    version: Option<Option<LinkRef>>,
    /// Other properties: `customFieldN` values and `_meta`; the rest is ignored.
    #[serde(flatten)]
    extra: HashMap<String, serde_json::Value>,
}

/// The id at the end of an href of the expected kind (`/api/v3/statuses/7`).
fn link_id(
    attribute: &'static str,
    link: Option<Option<LinkRef>>,
    prefixes: &[&str],
) -> Result<Option<Option<i64>>, ValidationError> {
    let Some(link) = link else { return Ok(None) };
    let Some(href) = link.and_then(|l| l.href).filter(|h| !h.is_empty()) else {
        return Ok(Some(None));
    };
    for prefix in prefixes {
        if let Some(rest) = href.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) {
            if let Ok(id) = rest.trim_end_matches('/').parse::<i64>() {
                return Ok(Some(Some(id)));
            }
        }
    }
    Err(ValidationError::new(
        attribute,
        format!(
            "{href:?} is not a valid link for {attribute}; expected {}/{{id}}.",
            prefixes[0]
        ),
    ))
}

/// A link that may be left out but not cleared.
fn required_link(
    attribute: &'static str,
    link: Option<Option<LinkRef>>,
    prefixes: &[&str],
) -> Result<Option<i64>, ValidationError> {
    match link_id(attribute, link, prefixes)? {
        None => Ok(None),
        Some(Some(id)) => Ok(Some(id)),
        Some(None) => Err(ValidationError::new(
            attribute,
            format!("{attribute} can't be empty."),
        )),
    }
}

fn date_value(
    attribute: &'static str,
    v: Option<Option<String>>,
) -> Result<Option<Option<Date>>, ValidationError> {
    match v {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(Some(s)) => Date::parse(&s).map(|d| Some(Some(d))).ok_or_else(|| {
            ValidationError::new(
                attribute,
                format!("{s:?} is not a valid date; use YYYY-MM-DD."),
            )
        }),
    }
}

fn duration_value(
    attribute: &'static str,
    v: Option<Option<String>>,
) -> Result<Option<Option<f64>>, ValidationError> {
    match v {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) => parse_duration_hours(&s)
            .map(|h| Some(Some(h)))
            .ok_or_else(|| {
                ValidationError::new(
                    attribute,
                    format!("{s:?} is not an ISO 8601 duration such as PT5H."),
                )
            }),
    }
}

/// A request body read into the service's input.
pub struct ReadBody {
    pub input: WorkPackageInput,
    pub lock_version: Option<i64>,
    pub comment: Option<String>,
    /// The properties that could not even be read (a date that is no
    /// date, a link to the wrong kind of resource): the input leaves them
    /// alone, and the write must be refused with these errors.
    pub malformed: ValidationErrors,
}

/// Translates a request body into the service's input, reading every
/// property even when an earlier one is malformed.
pub fn input_from(body: WpBody) -> ReadBody {
    let mut errors = ValidationErrors::new();
    let l = body.links;
    let pick = |a: Option<Option<LinkRef>>, b: Option<Option<LinkRef>>| a.or(b);
    let users = &["/api/v3/users", "/api/v3/groups"];
    let (start, due) = match body.date {
        Some(d) => (Some(d.clone()), Some(d)),
        None => (body.start_date, body.due_date),
    };
    let input = WorkPackageInput {
        project_id: errors
            .check(required_link(
                "project",
                pick(l.project, body.project),
                &["/api/v3/projects"],
            ))
            .flatten(),
        type_id: errors
            .check(required_link(
                "type",
                pick(l.type_, body.type_),
                &["/api/v3/types"],
            ))
            .flatten(),
        status_id: errors
            .check(required_link(
                "status",
                pick(l.status, body.status),
                &["/api/v3/statuses"],
            ))
            .flatten(),
        priority_id: errors
            .check(required_link(
                "priority",
                pick(l.priority, body.priority),
                &["/api/v3/priorities"],
            ))
            .flatten(),
        subject: body.subject,
        description: body
            .description
            .map(|d| d.map(TextInput::raw).unwrap_or_default()),
        assigned_to_id: errors
            .check(link_id("assignee", pick(l.assignee, body.assignee), users))
            .flatten(),
        responsible_id: errors
            .check(link_id(
                "responsible",
                pick(l.responsible, body.responsible),
                users,
            ))
            .flatten(),
        start_date: errors.check(date_value("startDate", start)).flatten(),
        due_date: errors.check(date_value("dueDate", due)).flatten(),
        estimated_hours: errors
            .check(duration_value("estimatedTime", body.estimated_time))
            .flatten(),
        remaining_hours: errors
            .check(duration_value("remainingTime", body.remaining_time))
            .flatten(),
        done_ratio: body.percentage_done,
        parent_id: errors
            .check(link_id(
                "parent",
                pick(l.parent, body.parent),
                &["/api/v3/work_packages"],
            ))
            .flatten(),
        version_id: errors
            .check(link_id(
                "version",
                pick(l.version, body.version),
                &["/api/v3/versions"],
            ))
            .flatten(),
        custom_fields: values_from_body(&body.extra, &l.extra),
    };
    ReadBody {
        input,
        lock_version: body.lock_version,
        comment: body.comment.map(TextInput::raw),
        malformed: errors,
    }
}

/// Refuses a body with malformed properties: their errors and whatever
/// else the services find wrong with it, all at once.
async fn refuse_malformed(
    state: &AppState,
    access: &Access,
    user: &User,
    id: Option<WorkPackageId>,
    read: ReadBody,
) -> ApiError {
    state
        .services
        .refuse_malformed_work_package(
            access,
            user,
            id,
            read.lock_version,
            read.input,
            read.malformed,
        )
        .await
        .into()
}

/// The answer to a create: the row the service read in its transaction,
/// shown with the caller's permissions in its project. As when reading it,
/// a caller who may add but not view work packages there gets 404.
async fn created(
    state: &AppState,
    access: &Access,
    created: CreatedWorkPackage,
) -> Result<Hal<WorkPackageRepr>, ApiError> {
    let CreatedWorkPackage {
        row,
        project,
        no_custom_fields,
    } = created;
    if !access.allowed(&project, Permission::ViewWorkPackages) {
        return Err(ServiceError::NotFound("work package").into());
    }
    let mut one = [represent(
        &row,
        access.permissions_in(&project),
        row.is_milestone,
        rendering(state).await?,
    )];
    if !no_custom_fields {
        add_custom_values(state, &mut one).await?;
    }
    let [repr] = one;
    Ok(Hal(StatusCode::CREATED, repr))
}

pub async fn create(
    State(state): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<WorkPackageRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let read = input_from(body);
    if !read.malformed.is_empty() {
        return Err(refuse_malformed(&state, &access, &caller.user, None, read).await);
    }
    let row = state
        .services
        .create_work_package_in(&access, &caller.user, read.input)
        .await?;
    created(&state, &access, row).await
}

pub async fn create_in_project(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(project): ApiPath<String>,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<WorkPackageRepr>, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    let p = state.services.project(&access, &project).await?;
    let mut read = input_from(body);
    read.input.project_id = Some(p.id);
    if !read.malformed.is_empty() {
        return Err(refuse_malformed(&state, &access, &caller.user, None, read).await);
    }
    let row = state
        .services
        .create_work_package_in(&access, &caller.user, read.input)
        .await?;
    created(&state, &access, row).await
}

pub async fn update(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<WpBody>,
) -> Result<Hal<WorkPackageRepr>, ApiError> {
    let id = parse_id(&id)?;
    let access = state.services.access(Some(&caller.user)).await?;
    let read = input_from(body);
    if !read.malformed.is_empty() {
        return Err(refuse_malformed(&state, &access, &caller.user, Some(id), read).await);
    }
    state
        .services
        .update_work_package(
            &access,
            &caller.user,
            id,
            read.lock_version,
            read.input,
            read.comment,
        )
        .await?;
    let (row, project) = state.services.work_package(&access, id).await?;
    let mut one = [represent(
        &row,
        access.permissions_in(&project),
        row.is_milestone,
        rendering(&state).await?,
    )];
    add_custom_values(&state, &mut one).await?;
    let [repr] = one;
    Ok(ok(repr))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let access = state.services.access(Some(&caller.user)).await?;
    state
        .services
        .delete_work_package(&access, parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
