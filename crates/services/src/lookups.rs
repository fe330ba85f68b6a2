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
use steward_storage::lookups::{self, Lookup, Priority, Status, WpType};
use steward_storage::roles::{self, Role};
use steward_storage::{work_packages, Conn, StorageError};

use crate::authz::Access;
use crate::{ServiceError, Services};

/// A new status or a change to one; `None` leaves a field as it is (or
/// takes the default on create).
#[derive(Clone, Debug, Default)]
pub struct StatusInput {
    pub name: Option<String>,
    pub is_closed: Option<bool>,
    pub is_default: Option<bool>,
    /// `Some(None)` (or an empty string) removes the colour.
    pub color: Option<Option<String>>,
    pub position: Option<i64>,
}

/// A new type or a change to one, as [`StatusInput`].
#[derive(Clone, Debug, Default)]
pub struct TypeInput {
    pub name: Option<String>,
    pub is_milestone: Option<bool>,
    pub is_default: Option<bool>,
    pub color: Option<Option<String>>,
    pub position: Option<i64>,
}

/// A new priority or a change to one, as [`StatusInput`].
#[derive(Clone, Debug, Default)]
pub struct PriorityInput {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    pub is_active: Option<bool>,
    pub position: Option<i64>,
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
fn checked_name<'a>(
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

/// Deletes a row unless it is the default or a work package uses it.
async fn delete_unused(
    conn: &mut Conn,
    lookup: Lookup,
    id: i64,
    name: &str,
    is_default: bool,
    what: &str,
) -> Result<(), ServiceError> {
    if is_default {
        return Err(ServiceError::Conflict(format!(
            "The {what} {name:?} is the default {what} and cannot be deleted; make another {what} the default first."
        )));
    }
    if lookups::in_use(conn, lookup, id).await? {
        return Err(ServiceError::Conflict(format!(
            "The {what} {name:?} is used by work packages (now or in their history) and cannot be deleted."
        )));
    }
    lookups::delete(conn, lookup, id).await?;
    Ok(())
}

impl Services {
    pub async fn list_statuses(&self) -> Result<Vec<Status>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::statuses(&mut conn).await?)
    }

    pub async fn list_types(&self) -> Result<Vec<WpType>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::types(&mut conn).await?)
    }

    pub async fn list_priorities(&self) -> Result<Vec<Priority>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(lookups::priorities(&mut conn).await?)
    }

    /// Every role, ordered by position.
    pub async fn list_roles(&self) -> Result<Vec<Role>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(roles::all(&mut conn).await?)
    }

    // ------------------------------------------------------------ statuses

    pub async fn create_status(
        &self,
        access: &Access,
        input: StatusInput,
    ) -> Result<Status, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("statuses"));
        }
        let color = checked_color(input.color.flatten())?;
        let mut tx = self.db.begin().await?;
        let all = lookups::statuses(&mut tx).await?;
        let name = checked_name(
            input.name.as_deref().unwrap_or(""),
            all.iter().map(|s| (s.id, s.name.as_str())),
            None,
        )?;
        let mut status = Status {
            id: 0,
            name,
            is_closed: input.is_closed.unwrap_or(false),
            is_default: input.is_default.unwrap_or(false),
            color,
            position: position_or_next(&mut tx, Lookup::Status, input.position).await?,
        };
        status.id = lookups::insert_status(&mut tx, &status)
            .await
            .map_err(unique_to_name)?;
        if status.is_default {
            lookups::clear_default(&mut tx, Lookup::Status, status.id).await?;
        }
        tx.commit().await?;
        Ok(status)
    }

    pub async fn update_status(
        &self,
        access: &Access,
        id: i64,
        input: StatusInput,
    ) -> Result<Status, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("statuses"));
        }
        let mut tx = self.db.begin().await?;
        let all = lookups::statuses(&mut tx).await?;
        let current = all
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("status"))?;
        keep_default(current.is_default, input.is_default, "status")?;
        let mut status = current.clone();
        if let Some(name) = &input.name {
            status.name =
                checked_name(name, all.iter().map(|s| (s.id, s.name.as_str())), Some(id))?;
        }
        if let Some(v) = input.is_closed {
            status.is_closed = v;
        }
        if let Some(v) = input.is_default {
            status.is_default = v;
        }
        if let Some(color) = input.color {
            status.color = checked_color(color)?;
        }
        if let Some(p) = input.position {
            status.position = checked_position(p)?;
        }
        lookups::update_status(&mut tx, &status)
            .await
            .map_err(unique_to_name)?;
        if status.is_default && !current.is_default {
            lookups::clear_default(&mut tx, Lookup::Status, id).await?;
        }
        if status.is_closed != current.is_closed {
            // Counts of open and closed work packages change with it.
            work_packages::bump_data_version(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(status)
    }

    pub async fn delete_status(&self, access: &Access, id: i64) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("statuses"));
        }
        let mut tx = self.db.begin().await?;
        let status = lookups::statuses(&mut tx)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(ServiceError::NotFound("status"))?;
        delete_unused(
            &mut tx,
            Lookup::Status,
            id,
            &status.name,
            status.is_default,
            "status",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // --------------------------------------------------------------- types

    pub async fn create_type(
        &self,
        access: &Access,
        input: TypeInput,
    ) -> Result<WpType, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("types"));
        }
        let color = checked_color(input.color.flatten())?;
        let mut tx = self.db.begin().await?;
        let all = lookups::types(&mut tx).await?;
        let name = checked_name(
            input.name.as_deref().unwrap_or(""),
            all.iter().map(|t| (t.id, t.name.as_str())),
            None,
        )?;
        let mut t = WpType {
            id: 0,
            name,
            is_milestone: input.is_milestone.unwrap_or(false),
            is_default: input.is_default.unwrap_or(false),
            color,
            position: position_or_next(&mut tx, Lookup::Type, input.position).await?,
        };
        t.id = lookups::insert_type(&mut tx, &t)
            .await
            .map_err(unique_to_name)?;
        if t.is_default {
            lookups::clear_default(&mut tx, Lookup::Type, t.id).await?;
        }
        tx.commit().await?;
        Ok(t)
    }

    pub async fn update_type(
        &self,
        access: &Access,
        id: i64,
        input: TypeInput,
    ) -> Result<WpType, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("types"));
        }
        let mut tx = self.db.begin().await?;
        let all = lookups::types(&mut tx).await?;
        let current = all
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("type"))?;
        keep_default(current.is_default, input.is_default, "type")?;
        let mut t = current.clone();
        if let Some(name) = &input.name {
            t.name = checked_name(name, all.iter().map(|t| (t.id, t.name.as_str())), Some(id))?;
        }
        if let Some(v) = input.is_milestone {
            t.is_milestone = v;
        }
        if let Some(v) = input.is_default {
            t.is_default = v;
        }
        if let Some(color) = input.color {
            t.color = checked_color(color)?;
        }
        if let Some(p) = input.position {
            t.position = checked_position(p)?;
        }
        lookups::update_type(&mut tx, &t)
            .await
            .map_err(unique_to_name)?;
        if t.is_default && !current.is_default {
            lookups::clear_default(&mut tx, Lookup::Type, id).await?;
        }
        tx.commit().await?;
        Ok(t)
    }

    pub async fn delete_type(&self, access: &Access, id: i64) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("types"));
        }
        let mut tx = self.db.begin().await?;
        let t = lookups::types(&mut tx)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(ServiceError::NotFound("type"))?;
        delete_unused(&mut tx, Lookup::Type, id, &t.name, t.is_default, "type").await?;
        tx.commit().await?;
        Ok(())
    }

    // ---------------------------------------------------------- priorities

    pub async fn create_priority(
        &self,
        access: &Access,
        input: PriorityInput,
    ) -> Result<Priority, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("priorities"));
        }
        let mut tx = self.db.begin().await?;
        let all = lookups::priorities(&mut tx).await?;
        let name = checked_name(
            input.name.as_deref().unwrap_or(""),
            all.iter().map(|p| (p.id, p.name.as_str())),
            None,
        )?;
        let mut p = Priority {
            id: 0,
            name,
            is_default: input.is_default.unwrap_or(false),
            active: input.is_active.unwrap_or(true),
            position: position_or_next(&mut tx, Lookup::Priority, input.position).await?,
        };
        check_default_active(&p)?;
        p.id = lookups::insert_priority(&mut tx, &p)
            .await
            .map_err(unique_to_name)?;
        if p.is_default {
            lookups::clear_default(&mut tx, Lookup::Priority, p.id).await?;
        }
        tx.commit().await?;
        Ok(p)
    }

    pub async fn update_priority(
        &self,
        access: &Access,
        id: i64,
        input: PriorityInput,
    ) -> Result<Priority, ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("priorities"));
        }
        let mut tx = self.db.begin().await?;
        let all = lookups::priorities(&mut tx).await?;
        let current = all
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("priority"))?;
        keep_default(current.is_default, input.is_default, "priority")?;
        let mut p = current.clone();
        if let Some(name) = &input.name {
            p.name = checked_name(name, all.iter().map(|p| (p.id, p.name.as_str())), Some(id))?;
        }
        if let Some(v) = input.is_default {
            p.is_default = v;
        }
        if let Some(v) = input.is_active {
            p.active = v;
        }
        if let Some(pos) = input.position {
            p.position = checked_position(pos)?;
        }
        check_default_active(&p)?;
        lookups::update_priority(&mut tx, &p)
            .await
            .map_err(unique_to_name)?;
        if p.is_default && !current.is_default {
            lookups::clear_default(&mut tx, Lookup::Priority, id).await?;
        }
        tx.commit().await?;
        Ok(p)
    }

    pub async fn delete_priority(&self, access: &Access, id: i64) -> Result<(), ServiceError> {
        if !access.is_admin() {
            return Err(admins_only("priorities"));
        }
        let mut tx = self.db.begin().await?;
        let p = lookups::priorities(&mut tx)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(ServiceError::NotFound("priority"))?;
        delete_unused(
            &mut tx,
            Lookup::Priority,
            id,
            &p.name,
            p.is_default,
            "priority",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// New work packages get the default priority, so it must be active.
fn check_default_active(p: &Priority) -> Result<(), ServiceError> {
    if p.is_default && !p.active {
        return Err(invalid(
            "isActive",
            "The default priority must be active: make another priority the default first.",
        ));
    }
    Ok(())
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
