//! Reference data every work package points to: statuses, types and
//! priorities, and the roles memberships give. Readable by anyone who may
//! use the instance; the HTTP layer decides who that is.
//!
//! Administrators manage statuses, types and priorities (a Steward
//! extension of API v3; OpenProject does this in its administration pages).
//! Names are unique without case; colours are `#RRGGBB`; exactly one row of
//! each table is the default, so making one the default takes the flag from
//! the others, and the default cannot be unset or deleted. A row that a work
//! package uses, now or in its history, cannot be deleted.

use steward_domain::validate::{unique_key, NAME_MAX};
use steward_domain::ValidationError;
use steward_storage::lookups::{self, Lookup, LookupRow, Priority, Status, WpType};
use steward_storage::roles::{self, Role};
use steward_storage::{work_packages, Conn, StorageError};

use crate::authz::Access;
use crate::{ServiceError, Services};

/// A new row of a reference table or a change to one; `None` leaves a
/// field as it is (or takes the default on create).
#[derive(Clone, Debug, Default)]
pub struct ReferenceInput<Own> {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    pub position: Option<i64>,
    /// The fields only this kind of row has.
    pub own: Own,
}

pub type StatusInput = ReferenceInput<StatusFields>;
pub type TypeInput = ReferenceInput<TypeFields>;
pub type PriorityInput = ReferenceInput<PriorityFields>;

#[derive(Clone, Debug, Default)]
pub struct StatusFields {
    pub is_closed: Option<bool>,
    /// `Some(None)` (or an empty string) removes the colour.
    pub color: Option<Option<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct TypeFields {
    pub is_milestone: Option<bool>,
    /// As [`StatusFields::color`].
    pub color: Option<Option<String>>,
}

/// Priorities have no colour.
#[derive(Clone, Debug, Default)]
pub struct PriorityFields {
    pub is_active: Option<bool>,
}

/// The highest position accepted.
const POSITION_MAX: i64 = i32::MAX as i64;

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

fn admins_only(what: &str) -> ServiceError {
    ServiceError::Forbidden(format!("Only administrators may manage {what}."))
}

/// A name: trimmed, not blank, not too long, and not one that another row
/// (`others`, as `(id, name)`) has, compared without case.
pub(crate) fn checked_name<'a>(
    raw: &str,
    others: impl IntoIterator<Item = (i64, &'a str)>,
    this: Option<i64>,
) -> Result<String, ServiceError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(invalid("name", "Name can't be blank."));
    }
    if v.chars().count() > NAME_MAX {
        return Err(invalid(
            "name",
            format!("Name is too long (maximum is {NAME_MAX} characters)."),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid("name", "Name must not contain control characters."));
    }
    let key = unique_key(v);
    if others
        .into_iter()
        .any(|(id, name)| Some(id) != this && unique_key(name) == key)
    {
        return Err(name_taken());
    }
    Ok(v.to_string())
}

fn name_taken() -> ServiceError {
    invalid("name", "Name has already been taken.")
}

/// `#RRGGBB` (stored in upper case), or nothing.
fn checked_color(raw: Option<String>) -> Result<String, ServiceError> {
    let v = raw.unwrap_or_default();
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let hex = v.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid(
            "color",
            format!("Color {v:?} is not a colour of the form #RRGGBB (for example #1A67A3)."),
        ));
    }
    Ok(format!("#{}", hex.to_ascii_uppercase()))
}

/// Sets a colour if one was asked for (`Some(None)` removes it).
fn apply_color(color: &mut String, requested: &Option<Option<String>>) -> Result<(), ServiceError> {
    if let Some(v) = requested {
        *color = checked_color(v.clone())?;
    }
    Ok(())
}

fn checked_position(p: i64) -> Result<i64, ServiceError> {
    if (1..=POSITION_MAX).contains(&p) {
        Ok(p)
    } else {
        Err(invalid(
            "position",
            format!("Position must be a number from 1 to {POSITION_MAX}."),
        ))
    }
}

/// The position asked for, or the next free one.
async fn position_or_next(
    conn: &mut Conn,
    lookup: Lookup,
    requested: Option<i64>,
) -> Result<i64, ServiceError> {
    match requested {
        Some(p) => checked_position(p),
        None => Ok(lookups::next_position(conn, lookup).await?),
    }
}

/// Refuses to unset the default flag of the current default.
fn keep_default(
    was_default: bool,
    requested: Option<bool>,
    what: &str,
) -> Result<(), ServiceError> {
    if was_default && requested == Some(false) {
        return Err(invalid(
            "isDefault",
            format!(
                "There must be a default {what}: make another {what} the default instead of unsetting this one."
            ),
        ));
    }
    Ok(())
}

fn unique_to_name(e: StorageError) -> ServiceError {
    match e {
        StorageError::Unique(_) => name_taken(),
        other => other.into(),
    }
}

/// What the administration of one reference table needs to know about its
/// kind. Creating, changing and deleting rows follow the same steps for all
/// three (see the `Services` methods below); each kind only adds its own
/// columns and rules here.
pub trait ReferenceTable: LookupRow + Default {
    /// The fields of a [`ReferenceInput`] only this kind has.
    type Own: Send;
    /// The kind in messages and in "not found" answers.
    const ONE: &'static str;
    /// The kind in the plural, for the "administrators only" answer.
    const MANY: &'static str;

    /// What a new row holds before the input is applied.
    fn blank() -> Self {
        Self::default()
    }
    /// Applies the kind's own fields of an input (of a change, or of a new
    /// row to [`ReferenceTable::blank`]).
    fn apply(&mut self, own: &Self::Own) -> Result<(), ServiceError>;
    /// Rules about the row as a whole, once every change is applied.
    fn check(&self) -> Result<(), ServiceError> {
        Ok(())
    }
    /// Whether going from `before` to `after` changes what cached totals of
    /// work packages count.
    fn invalidates_totals(_before: &Self, _after: &Self) -> bool {
        false
    }
}

impl ReferenceTable for Status {
    type Own = StatusFields;
    const ONE: &'static str = "status";
    const MANY: &'static str = "statuses";

    fn apply(&mut self, own: &StatusFields) -> Result<(), ServiceError> {
        if let Some(v) = own.is_closed {
            self.is_closed = v;
        }
        apply_color(&mut self.color, &own.color)
    }
    /// Counts of open and closed work packages change with `is_closed`.
    fn invalidates_totals(before: &Self, after: &Self) -> bool {
        before.is_closed != after.is_closed
    }
}

impl ReferenceTable for WpType {
    type Own = TypeFields;
    const ONE: &'static str = "type";
    const MANY: &'static str = "types";

    fn apply(&mut self, own: &TypeFields) -> Result<(), ServiceError> {
        if let Some(v) = own.is_milestone {
            self.is_milestone = v;
        }
        apply_color(&mut self.color, &own.color)
    }
}

impl ReferenceTable for Priority {
    type Own = PriorityFields;
    const ONE: &'static str = "priority";
    const MANY: &'static str = "priorities";

    /// New priorities are active unless asked otherwise.
    fn blank() -> Self {
        Priority {
            active: true,
            ..Priority::default()
        }
    }
    fn apply(&mut self, own: &PriorityFields) -> Result<(), ServiceError> {
        if let Some(v) = own.is_active {
            self.active = v;
        }
        Ok(())
    }
    /// New work packages get the default priority, so it must be active.
    fn check(&self) -> Result<(), ServiceError> {
        if self.is_default && !self.active {
            return Err(invalid(
                "isActive",
                "The default priority must be active: make another priority the default first.",
            ));
        }
        Ok(())
    }
}

fn others<T: ReferenceTable>(all: &[T]) -> impl Iterator<Item = (i64, &str)> {
    all.iter().map(|r| (r.id(), r.name()))
}

impl Services {
    /// Every row of a reference table, ordered by position.
    pub async fn list_reference<T: ReferenceTable>(&self) -> Result<Vec<T>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::all(&mut conn).await?)
    }

    /// Every role, ordered by position.
    pub async fn list_roles(&self) -> Result<Vec<Role>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(roles::all(&mut conn).await?)
    }

    pub async fn create_reference<T: ReferenceTable>(
        &self,
        access: &Access,
        input: ReferenceInput<T::Own>,
    ) -> Result<T, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only(T::MANY));
        }
        // The kind's own fields first: a wrong colour was always the first
        // thing reported.
        let mut row = T::blank();
        row.apply(&input.own)?;
        let mut tx = self.db.begin().await?;
        let all = lookups::all::<T>(&mut tx).await?;
        let name = checked_name(input.name.as_deref().unwrap_or(""), others(&all), None)?;
        let position = position_or_next(&mut tx, T::LOOKUP, input.position).await?;
        let is_default = input.is_default.unwrap_or(false);
        row.set_shared(0, name.clone(), is_default, position);
        row.check()?;
        let id = lookups::insert(&mut tx, &row)
            .await
            .map_err(unique_to_name)?;
        row.set_shared(id, name, is_default, position);
        if is_default {
            lookups::clear_default(&mut tx, T::LOOKUP, id).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    pub async fn update_reference<T: ReferenceTable>(
        &self,
        access: &Access,
        id: i64,
        input: ReferenceInput<T::Own>,
    ) -> Result<T, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only(T::MANY));
        }
        let mut tx = self.db.begin().await?;
        let all = lookups::all::<T>(&mut tx).await?;
        let current = all
            .iter()
            .find(|r| r.id() == id)
            .cloned()
            .ok_or(ServiceError::NotFound(T::ONE))?;
        keep_default(current.is_default(), input.is_default, T::ONE)?;
        let name = match &input.name {
            Some(name) => checked_name(name, others(&all), Some(id))?,
            None => current.name().to_string(),
        };
        let mut row = current.clone();
        row.apply(&input.own)?;
        let position = match input.position {
            Some(p) => checked_position(p)?,
            None => current.position(),
        };
        let is_default = input.is_default.unwrap_or(current.is_default());
        row.set_shared(id, name, is_default, position);
        row.check()?;
        lookups::update(&mut tx, &row)
            .await
            .map_err(unique_to_name)?;
        if row.is_default() && !current.is_default() {
            lookups::clear_default(&mut tx, T::LOOKUP, id).await?;
        }
        if T::invalidates_totals(&current, &row) {
            work_packages::bump_data_version(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Refused for the default row and for one that a work package uses,
    /// now or in its history.
    pub async fn delete_reference<T: ReferenceTable>(
        &self,
        access: &Access,
        id: i64,
    ) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only(T::MANY));
        }
        let what = T::ONE;
        let mut tx = self.db.begin().await?;
        let row = lookups::all::<T>(&mut tx)
            .await?
            .into_iter()
            .find(|r| r.id() == id)
            .ok_or(ServiceError::NotFound(what))?;
        let name = row.name();
        if row.is_default() {
            return Err(ServiceError::Conflict(format!(
                "The {what} {name:?} is the default {what} and cannot be deleted; make another {what} the default first."
            )));
        }
        if lookups::in_use(&mut tx, T::LOOKUP, id).await? {
            return Err(ServiceError::Conflict(format!(
                "The {what} {name:?} is used by work packages (now or in their history) and cannot be deleted."
            )));
        }
        lookups::delete(&mut tx, T::LOOKUP, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_names() {
        assert_eq!(checked_color(Some("#1a67a3".into())).unwrap(), "#1A67A3");
        assert_eq!(checked_color(None).unwrap(), "");
        assert_eq!(checked_color(Some(" ".into())).unwrap(), "");
        for bad in ["1A67A3", "#1A67A", "#1A67A3F", "#GGGGGG", "red"] {
            assert!(checked_color(Some(bad.into())).is_err(), "{bad}");
        }
        let others = [(1, "New"), (2, "Closed")];
        assert!(checked_name(" new ", others, None).is_err());
        assert_eq!(checked_name(" new ", others, Some(1)).unwrap(), "new");
        assert!(checked_name("  ", others, None).is_err());
        assert_eq!(checked_name("Open", others, None).unwrap(), "Open");
        assert!(checked_position(0).is_err());
        assert!(checked_position(3).is_ok());
    }
}
