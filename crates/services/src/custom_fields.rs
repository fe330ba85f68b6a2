//! Custom fields: administrators define them (with the choices of list
//! fields); work packages and users carry their values. Values are checked
//! against their field here (the person a user field names must exist and,
//! on a work package, be a member of its project) and written in the
//! caller's transaction, before the journal that records them.

use std::collections::HashMap;

use steward_domain::custom_field::{
    self as cf, CustomField, CustomFieldId, CustomOption, CustomOptionId, Format, Input, Kind,
    Value,
};
use steward_domain::project::ProjectId;
use steward_domain::user::{PrincipalKind, UserId};
use steward_domain::{Timestamp, ValidationError, ValidationErrors};
use steward_storage::custom_fields::{self as store, StoredValue};
use steward_storage::journals::Journal;
use steward_storage::{members, users, Conn, StorageError};

use crate::authz::Access;
use crate::error::gather;
use crate::work_packages::NamedChange;
use crate::{ServiceError, Services};

/// A field definition as an administrator sends it; absent parts stay as
/// they are on update (kind and format cannot change).
#[derive(Clone, Debug, Default)]
pub struct CustomFieldInput {
    pub name: Option<String>,
    /// `WorkPackageCustomField` or `UserCustomField`.
    pub kind: Option<String>,
    /// `string`, `text`, `int`, `float`, `date`, `bool`, `list` or `user`.
    pub format: Option<String>,
    pub is_required: Option<bool>,
    /// The choices of a list field, in order.
    pub possible_values: Option<Vec<String>>,
}

/// Custom values as a client sent them, keyed by field id.
#[derive(Clone, Debug, Default)]
pub struct CustomValuesInput {
    pub values: Vec<(CustomFieldId, Input)>,
    /// On update, check every required field, not only those sent (API v3's
    /// `_meta.validateCustomFields`). A new object is always checked in full.
    pub validate_all: bool,
}

/// Checked custom values: what to write for which field.
#[derive(Clone, Debug, Default)]
pub struct PreparedValues {
    kind: Option<Kind>,
    changes: Vec<(CustomFieldId, Option<Value>)>,
    /// The check found that no field of the kind is defined.
    none_defined: bool,
}

impl PreparedValues {
    /// Whether the check found that no custom field of the kind exists, so
    /// that the object's representation has none to show.
    pub fn none_defined(&self) -> bool {
        self.none_defined
    }

    /// Whether any value differs from what is stored.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Writes the changed values of object `id`.
    pub async fn store(&self, conn: &mut Conn, id: i64) -> Result<(), ServiceError> {
        if let Some(kind) = self.kind {
            store::set_values(conn, kind.customized_type(), id, &self.changes).await?;
        }
        Ok(())
    }
}

/// The fields of one kind and the values of a set of objects, loaded once
/// for a representation or a page of a listing.
#[derive(Clone, Debug, Default)]
pub struct CustomValueSet {
    pub fields: Vec<CustomField>,
    values: HashMap<i64, Vec<StoredValue>>,
}

/// One field of an object with its value and, for list and user values,
/// what a link to the value shows as title (the option, the person's name).
#[derive(Clone, Debug)]
pub struct ShownValue<'a> {
    pub field: &'a CustomField,
    pub value: Option<Value>,
    pub title: Option<String>,
}

impl CustomValueSet {
    /// Every field, in order, with the value object `id` holds (if any).
    pub fn of(&self, id: i64) -> Vec<ShownValue<'_>> {
        let stored = self.values.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        self.fields
            .iter()
            .map(|field| {
                let found = stored.iter().find(|s| s.custom_field_id == field.id);
                let value = found.and_then(|s| field.decode(s.value.as_deref(), s.value_user_id));
                let title = match (&value, found) {
                    (Some(Value::Option(o)), _) => field.option(*o).map(|o| o.value.clone()),
                    (Some(Value::User(_)), Some(s)) => s.user_name.clone(),
                    _ => None,
                };
                ShownValue {
                    field,
                    value,
                    title,
                }
            })
            .collect()
    }
}

fn forbidden() -> ServiceError {
    ServiceError::Forbidden("Only administrators may manage custom fields.".into())
}

fn name_taken(e: StorageError) -> ServiceError {
    match &e {
        StorageError::Unique(what) if what.contains("name") => {
            ValidationError::new("name", "Name has already been taken.").into()
        }
        _ => e.into(),
    }
}

/// The change of one field between two sets of stored values, in words.
fn shown(field: &CustomField, stored: Option<&StoredValue>) -> Option<String> {
    let s = stored?;
    match field.decode(s.value.as_deref(), s.value_user_id)? {
        Value::User(id) => Some(s.user_name.clone().unwrap_or_else(|| id.to_string())),
        Value::Option(id) => Some(
            field
                .option(id)
                .map(|o| o.value.clone())
                .unwrap_or_else(|| format!("#{id}")),
        ),
        v => Some(v.to_string()),
    }
}

/// The custom values recorded by a work package's journals, to tell what
/// each journal changed.
pub(crate) struct CustomHistory {
    fields: Vec<CustomField>,
    per_journal: HashMap<i64, Vec<StoredValue>>,
}

impl CustomHistory {
    pub(crate) async fn load(
        conn: &mut Conn,
        journals: &[Journal],
    ) -> Result<CustomHistory, ServiceError> {
        let fields = store::all(conn, Some(Kind::WorkPackage)).await?;
        let per_journal = if fields.is_empty() {
            HashMap::new()
        } else {
            let ids: Vec<i64> = journals.iter().map(|j| j.id).collect();
            store::journal_values(conn, &ids).await?
        };
        Ok(CustomHistory {
            fields,
            per_journal,
        })
    }

    /// What journal `id` changed compared with journal `previous` (`None`
    /// for the first): one change per field whose value differs, named
    /// after the field.
    pub(crate) fn changes(&self, previous: Option<i64>, id: i64) -> Vec<NamedChange> {
        let values = |jid: Option<i64>| {
            jid.and_then(|j| self.per_journal.get(&j))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        let (before, after) = (values(previous), values(Some(id)));
        self.fields
            .iter()
            .filter_map(|f| {
                let find =
                    |list: &[StoredValue]| list.iter().find(|s| s.custom_field_id == f.id).cloned();
                let old = shown(f, find(before).as_ref());
                let new = shown(f, find(after).as_ref());
                (old != new).then(|| NamedChange {
                    attribute: f.static_name(),
                    old,
                    new,
                })
            })
            .collect()
    }
}

impl Services {
    /// Every custom field, or those of one kind (administrators only).
    pub async fn custom_fields(
        &self,
        access: &Access,
        kind: Option<Kind>,
    ) -> Result<Vec<CustomField>, ServiceError> {
        if !access.is_admin() {
            return Err(forbidden());
        }
        let mut conn = self.db.conn().await?;
        Ok(store::all(&mut conn, kind).await?)
    }

    pub async fn custom_field(
        &self,
        access: &Access,
        id: CustomFieldId,
    ) -> Result<CustomField, ServiceError> {
        if !access.is_admin() {
            return Err(forbidden());
        }
        let mut conn = self.db.conn().await?;
        store::find(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("custom field"))
    }

    /// An option of a list field. Options are labels that anyone who can
    /// read work packages may follow a link to.
    pub async fn custom_option(
        &self,
        access: &Access,
        id: CustomOptionId,
    ) -> Result<CustomOption, ServiceError> {
        if access.user_id().is_none() && !access.visible_scope().public {
            return Err(ServiceError::NotFound("custom option"));
        }
        let mut conn = self.db.conn().await?;
        store::find_option(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("custom option"))
    }

    pub async fn create_custom_field(
        &self,
        access: &Access,
        input: CustomFieldInput,
    ) -> Result<CustomField, ServiceError> {
        if !access.is_admin() {
            return Err(forbidden());
        }
        let name = cf::validate_name(input.name.as_deref().unwrap_or(""))?;
        let kind = match input.kind.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(ValidationError::new(
                    "kind",
                    "Kind can't be blank; use WorkPackageCustomField or UserCustomField.",
                )
                .into())
            }
            Some(k) => Kind::parse_api_type(k).ok_or_else(|| {
                ValidationError::new(
                    "kind",
                    format!("Kind {k:?} is not one of WorkPackageCustomField, UserCustomField."),
                )
            })?,
        };
        let format = parse_format(input.format.as_deref())?;
        let options = match (format, &input.possible_values) {
            (Format::List, Some(v)) => Some(cf::validate_options(v)?),
            (Format::List, None) => Some(cf::validate_options(&[])?),
            (_, Some(v)) if !v.is_empty() => {
                return Err(ValidationError::new(
                    "possibleValues",
                    "Only list fields have possible values.",
                )
                .into())
            }
            _ => None,
        };
        let mut tx = self.db.begin().await?;
        check_name_free(&mut tx, kind, &name, None).await?;
        let id = store::insert(
            &mut tx,
            kind,
            format,
            &name,
            input.is_required.unwrap_or(false),
            Timestamp::now(),
        )
        .await
        .map_err(name_taken)?;
        if let Some(options) = options {
            store::set_options(&mut tx, id, &options).await?;
        }
        let field = store::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("custom field"))?;
        tx.commit().await?;
        Ok(field)
    }

    pub async fn update_custom_field(
        &self,
        access: &Access,
        id: CustomFieldId,
        input: CustomFieldInput,
    ) -> Result<CustomField, ServiceError> {
        if !access.is_admin() {
            return Err(forbidden());
        }
        let mut tx = self.db.begin().await?;
        let current = store::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("custom field"))?;
        if let Some(k) = input.kind.as_deref() {
            if k.trim() != current.kind.api_type() {
                return Err(ValidationError::new(
                    "kind",
                    "The kind of a custom field cannot be changed.",
                )
                .into());
            }
        }
        if input.format.is_some() && parse_format(input.format.as_deref())? != current.format {
            return Err(ValidationError::new(
                "fieldFormat",
                "The format of a custom field cannot be changed.",
            )
            .into());
        }
        let name = input.name.as_deref().map(cf::validate_name).transpose()?;
        if let Some(n) = &name {
            check_name_free(&mut tx, current.kind, n, Some(id)).await?;
        }
        let options = match (&input.possible_values, current.format) {
            (None, _) => None,
            (Some(v), Format::List) => Some(cf::validate_options(v)?),
            (Some(_), _) => {
                return Err(ValidationError::new(
                    "possibleValues",
                    "Only list fields have possible values.",
                )
                .into())
            }
        };
        store::update(&mut tx, id, name.as_deref(), input.is_required)
            .await
            .map_err(name_taken)?;
        if let Some(options) = options {
            store::set_options(&mut tx, id, &options).await?;
        }
        let field = store::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("custom field"))?;
        tx.commit().await?;
        Ok(field)
    }

    /// Deletes a field with its choices, values and their history.
    pub async fn delete_custom_field(
        &self,
        access: &Access,
        id: CustomFieldId,
    ) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(forbidden());
        }
        let mut tx = self.db.begin().await?;
        if !store::delete(&mut tx, id).await? {
            return Err(ServiceError::NotFound("custom field"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The fields of `kind` with the values of the objects `ids`; one query
    /// for the values of all of them.
    pub async fn custom_values(
        &self,
        kind: Kind,
        ids: &[i64],
    ) -> Result<CustomValueSet, ServiceError> {
        let mut conn = self.db.conn().await?;
        let fields = store::all(&mut conn, Some(kind)).await?;
        let values = if fields.is_empty() {
            HashMap::new()
        } else {
            store::values_for(&mut conn, kind.customized_type(), ids).await?
        };
        Ok(CustomValueSet { fields, values })
    }

    /// Checks custom values for an object of `kind`: `id` is `None` for a
    /// new one. For work packages, `project` is the project the work
    /// package will be in and whether it moves there with this change.
    pub(crate) async fn prepare_custom_values(
        &self,
        conn: &mut Conn,
        kind: Kind,
        id: Option<i64>,
        project: Option<(ProjectId, bool)>,
        input: &CustomValuesInput,
    ) -> Result<PreparedValues, ServiceError> {
        let moved = project.is_some_and(|(_, moved)| moved);
        if input.values.is_empty() && id.is_some() && !input.validate_all && !moved {
            return Ok(PreparedValues::default());
        }
        let fields = store::all(conn, Some(kind)).await?;
        if fields.is_empty() && input.values.is_empty() {
            return Ok(PreparedValues {
                none_defined: true,
                ..PreparedValues::default()
            });
        }
        let mut current: HashMap<CustomFieldId, Value> = HashMap::new();
        if let Some(id) = id {
            let stored = store::values_for(conn, kind.customized_type(), &[id]).await?;
            for s in stored.get(&id).into_iter().flatten() {
                if let Some(f) = fields.iter().find(|f| f.id == s.custom_field_id) {
                    if let Some(v) = f.decode(s.value.as_deref(), s.value_user_id) {
                        current.insert(f.id, v);
                    }
                }
            }
        }
        // Every value is checked, and every refusal reported together.
        let mut errors = ValidationErrors::new();
        let mut result: HashMap<CustomFieldId, Option<Value>> = HashMap::new();
        for (field_id, raw) in &input.values {
            let Some(field) = fields.iter().find(|f| f.id == *field_id) else {
                errors.add(
                    "customField",
                    format!(
                        "{} is not a custom field of {}.",
                        cf::property(*field_id),
                        match kind {
                            Kind::WorkPackage => "work packages",
                            Kind::User => "users",
                        }
                    ),
                );
                continue;
            };
            let Some(value) = errors.check(field.parse(raw)) else {
                continue;
            };
            if let Some(Value::User(uid)) = value {
                // An unchanged person stays valid even if they left the
                // project, unless the work package moves to another one.
                if current.get(&field.id) != Some(&Value::User(uid)) || moved {
                    gather(
                        &mut errors,
                        check_user_value(conn, field, uid, project.map(|(p, _)| p)).await,
                    )?;
                }
            }
            result.insert(field.id, value);
        }
        if moved {
            for field in &fields {
                if let (false, Some(Value::User(uid))) =
                    (result.contains_key(&field.id), current.get(&field.id))
                {
                    gather(
                        &mut errors,
                        check_user_value(conn, field, *uid, project.map(|(p, _)| p)).await,
                    )?;
                }
            }
        }
        let mut changes = Vec::new();
        for field in &fields {
            let given = result.contains_key(&field.id);
            let after = match result.remove(&field.id) {
                Some(v) => v,
                None => current.get(&field.id).cloned(),
            };
            let check = id.is_none() || input.validate_all || given;
            // A refused value is not reported as missing as well.
            if field.is_required && check && after.is_none() && !errors.has(field.attribute()) {
                errors.push(field.missing());
            }
            if given && after.as_ref() != current.get(&field.id) {
                changes.push((field.id, after));
            }
        }
        errors.finish()?;
        Ok(PreparedValues {
            kind: Some(kind),
            changes,
            none_defined: fields.is_empty(),
        })
    }

    /// Checks and writes custom values of a user (administrators only), in
    /// one transaction: either all are written or none.
    pub async fn set_user_custom_values(
        &self,
        access: &Access,
        user_id: UserId,
        input: &CustomValuesInput,
    ) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(ServiceError::Forbidden(
                "Only administrators may change the custom fields of users.".into(),
            ));
        }
        if input.values.is_empty() && !input.validate_all {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let prepared = self
            .prepare_custom_values(&mut tx, Kind::User, Some(user_id), None, input)
            .await?;
        prepared.store(&mut tx, user_id).await?;
        // Changing another person's custom fields is an edit of their
        // personal data: audited with the fields' names, never the values.
        if let Some(actor) = access.user_id().filter(|a| *a != user_id) {
            if prepared.changed() {
                let fields: Vec<String> = prepared
                    .changes
                    .iter()
                    .map(|(id, _)| format!("customField{id}"))
                    .collect();
                crate::audit::record(
                    &mut tx,
                    crate::audit::AuditEntry::access("personal_data.edited", actor, user_id)
                        .with_details(serde_json::json!({ "resource": "user", "fields": fields })),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks custom values for a user (`None`: one about to be created)
    /// without writing anything, so that a bad value refuses the whole
    /// request before the account itself is written.
    pub async fn check_user_custom_values(
        &self,
        user_id: Option<UserId>,
        input: &CustomValuesInput,
    ) -> Result<(), ServiceError> {
        let mut conn = self.db.conn().await?;
        self.prepare_custom_values(&mut conn, Kind::User, user_id, None, input)
            .await?;
        Ok(())
    }
}

fn parse_format(raw: Option<&str>) -> Result<Format, ServiceError> {
    let all = || {
        Format::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match raw.map(str::trim) {
        None | Some("") => Err(ValidationError::new(
            "fieldFormat",
            format!("Field format can't be blank; use one of {}.", all()),
        )
        .into()),
        Some(f) => Format::parse(f).ok_or_else(|| {
            ValidationError::new(
                "fieldFormat",
                format!("Field format {f:?} is not one of {}.", all()),
            )
            .into()
        }),
    }
}

/// Names are unique per kind, without regard to case.
async fn check_name_free(
    conn: &mut Conn,
    kind: Kind,
    name: &str,
    except: Option<CustomFieldId>,
) -> Result<(), ServiceError> {
    let key = name.to_lowercase();
    let taken = store::all(conn, Some(kind))
        .await?
        .iter()
        .any(|f| Some(f.id) != except && f.name.to_lowercase() == key);
    if taken {
        return Err(ValidationError::new("name", "Name has already been taken.").into());
    }
    Ok(())
}

/// A user value names an existing person; on a work package, one who is
/// a member of its project, as for the assignee.
async fn check_user_value(
    conn: &mut Conn,
    field: &CustomField,
    uid: UserId,
    project: Option<ProjectId>,
) -> Result<(), ServiceError> {
    let exists = users::find(conn, uid)
        .await?
        .is_some_and(|u| u.kind == PrincipalKind::User);
    if !exists {
        return Err(ValidationError::new(
            field.attribute(),
            format!("{}: user {uid} does not exist.", field.name),
        )
        .into());
    }
    if let Some(p) = project {
        if !members::principal_ids(conn, p).await?.contains(&uid) {
            return Err(ValidationError::new(
                field.attribute(),
                format!(
                    "{}: user {uid} is not a member of the project and cannot be chosen.",
                    field.name
                ),
            )
            .into());
        }
    }
    Ok(())
}
