//! Custom fields (`custom_fields`), their choices (`custom_options`), the
//! values they hold on work packages and users (`custom_values`) and the
//! values after each change (`custom_value_journals`).

use std::collections::HashMap;

use steward_domain::custom_field::{
    CustomField, CustomFieldId, CustomOption, CustomOptionId, Format, Kind, Value,
};
use steward_domain::Timestamp;

use crate::db::{Conn, FromRow, Param, Result, Row, StorageError};
use crate::params;

const FIELD_COLUMNS: &str = "id, kind, field_format, name, is_required, position, created_at";
const OPTION_COLUMNS: &str = "id, custom_field_id, value, position";

/// A field as stored, before its options are attached.
struct FieldRow(CustomField);

impl FromRow for FieldRow {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        let kind = r.string(1)?;
        let format = r.string(2)?;
        Ok(FieldRow(CustomField {
            id: r.i64(0)?,
            kind: Kind::parse(&kind).ok_or_else(|| {
                StorageError::Engine(format!("unknown custom field kind {kind:?}"))
            })?,
            format: Format::parse(&format).ok_or_else(|| {
                StorageError::Engine(format!("unknown custom field format {format:?}"))
            })?,
            name: r.string(3)?,
            is_required: r.bool(4)?,
            position: r.i64(5)?,
            created_at: r.timestamp(6)?,
            options: Vec::new(),
        }))
    }
}

impl FromRow for CustomOption {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(CustomOption {
            id: r.i64(0)?,
            custom_field_id: r.i64(1)?,
            value: r.string(2)?,
            position: r.i64(3)?,
        })
    }
}

fn placeholders(ids: &[i64], params: &mut Vec<Param>) -> String {
    ids.iter()
        .map(|id| {
            params.push((*id).into());
            format!("${}", params.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Attaches to each field its options, read in one query.
async fn with_options(conn: &mut Conn, rows: Vec<FieldRow>) -> Result<Vec<CustomField>> {
    let mut fields: Vec<CustomField> = rows.into_iter().map(|FieldRow(f)| f).collect();
    let list_ids: Vec<i64> = fields
        .iter()
        .filter(|f| f.format == Format::List)
        .map(|f| f.id)
        .collect();
    if list_ids.is_empty() {
        return Ok(fields);
    }
    let mut params = Vec::new();
    let sql = format!(
        "SELECT {OPTION_COLUMNS} FROM custom_options WHERE custom_field_id IN ({}) \
         ORDER BY custom_field_id, position, id",
        placeholders(&list_ids, &mut params)
    );
    let options: Vec<CustomOption> = conn.query(&sql, params).await?;
    let mut by_field: HashMap<CustomFieldId, Vec<CustomOption>> = HashMap::new();
    for o in options {
        by_field.entry(o.custom_field_id).or_default().push(o);
    }
    for f in &mut fields {
        f.options = by_field.remove(&f.id).unwrap_or_default();
    }
    Ok(fields)
}

/// Every field, or those of one kind, in their order, with their options.
pub async fn all(conn: &mut Conn, kind: Option<Kind>) -> Result<Vec<CustomField>> {
    let rows: Vec<FieldRow> = match kind {
        Some(k) => {
            conn.query(
                &format!(
                    "SELECT {FIELD_COLUMNS} FROM custom_fields WHERE kind = $1 ORDER BY position, id"
                ),
                params![k.as_str()],
            )
            .await?
        }
        None => {
            conn.query(
                &format!("SELECT {FIELD_COLUMNS} FROM custom_fields ORDER BY kind, position, id"),
                params![],
            )
            .await?
        }
    };
    with_options(conn, rows).await
}

pub async fn find(conn: &mut Conn, id: CustomFieldId) -> Result<Option<CustomField>> {
    let rows: Vec<FieldRow> = conn
        .query(
            &format!("SELECT {FIELD_COLUMNS} FROM custom_fields WHERE id = $1"),
            params![id],
        )
        .await?;
    Ok(with_options(conn, rows).await?.into_iter().next())
}

/// Adds a field at the end of its kind's fields.
pub async fn insert(
    conn: &mut Conn,
    kind: Kind,
    format: Format,
    name: &str,
    is_required: bool,
    now: Timestamp,
) -> Result<CustomFieldId> {
    conn.query_one(
        "INSERT INTO custom_fields (kind, field_format, name, is_required, position, created_at) \
         VALUES ($1, $2, $3, $4, \
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM custom_fields WHERE kind = $1), $5) \
         RETURNING id",
        params![kind.as_str(), format.as_str(), name, is_required, now],
    )
    .await
}

/// Changes name and/or the required flag; `false` if the field is gone.
pub async fn update(
    conn: &mut Conn,
    id: CustomFieldId,
    name: Option<&str>,
    is_required: Option<bool>,
) -> Result<bool> {
    let found = conn
        .query_opt::<i64>("SELECT id FROM custom_fields WHERE id = $1", params![id])
        .await?
        .is_some();
    if !found {
        return Ok(false);
    }
    if let Some(name) = name {
        conn.execute(
            "UPDATE custom_fields SET name = $1 WHERE id = $2",
            params![name, id],
        )
        .await?;
    }
    if let Some(req) = is_required {
        conn.execute(
            "UPDATE custom_fields SET is_required = $1 WHERE id = $2",
            params![req, id],
        )
        .await?;
    }
    Ok(true)
}

/// Deletes a field with its options, its values and their history.
pub async fn delete(conn: &mut Conn, id: CustomFieldId) -> Result<bool> {
    conn.execute(
        "DELETE FROM custom_value_journals WHERE custom_field_id = $1",
        params![id],
    )
    .await?;
    conn.execute(
        "DELETE FROM custom_values WHERE custom_field_id = $1",
        params![id],
    )
    .await?;
    conn.execute(
        "DELETE FROM custom_options WHERE custom_field_id = $1",
        params![id],
    )
    .await?;
    Ok(conn
        .execute("DELETE FROM custom_fields WHERE id = $1", params![id])
        .await?
        == 1)
}

pub async fn find_option(conn: &mut Conn, id: CustomOptionId) -> Result<Option<CustomOption>> {
    conn.query_opt(
        &format!("SELECT {OPTION_COLUMNS} FROM custom_options WHERE id = $1"),
        params![id],
    )
    .await
}

/// Makes `values` the choices of a list field, in that order. Choices that
/// stay keep their ids (so stored values stay valid); choices that go are
/// deleted together with the current values that chose them (the change
/// history keeps them).
pub async fn set_options(
    conn: &mut Conn,
    field_id: CustomFieldId,
    values: &[String],
) -> Result<()> {
    let existing: Vec<CustomOption> = conn
        .query(
            &format!(
                "SELECT {OPTION_COLUMNS} FROM custom_options WHERE custom_field_id = $1 ORDER BY position, id"
            ),
            params![field_id],
        )
        .await?;
    for o in &existing {
        if !values.contains(&o.value) {
            conn.execute(
                "DELETE FROM custom_values WHERE custom_field_id = $1 AND value = $2",
                params![field_id, o.id.to_string()],
            )
            .await?;
            conn.execute("DELETE FROM custom_options WHERE id = $1", params![o.id])
                .await?;
        }
    }
    for (i, v) in values.iter().enumerate() {
        let position = i as i64 + 1;
        match existing.iter().find(|o| &o.value == v) {
            Some(o) if o.position == position => {}
            Some(o) => {
                conn.execute(
                    "UPDATE custom_options SET position = $1 WHERE id = $2",
                    params![position, o.id],
                )
                .await?;
            }
            None => {
                conn.execute(
                    "INSERT INTO custom_options (custom_field_id, value, position) VALUES ($1, $2, $3)",
                    params![field_id, v, position],
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// One stored value: of a customized object, or in a journal.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredValue {
    pub custom_field_id: CustomFieldId,
    pub value: Option<String>,
    pub value_user_id: Option<i64>,
    /// The name of the person `value_user_id` points to.
    pub user_name: Option<String>,
}

/// (owner id, value): the owner is the customized object or the journal.
struct OwnedValue(i64, StoredValue);

impl FromRow for OwnedValue {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(OwnedValue(
            r.i64(0)?,
            StoredValue {
                custom_field_id: r.i64(1)?,
                value: r.opt_string(2)?,
                value_user_id: r.opt_i64(3)?,
                user_name: r.opt_string(4)?,
            },
        ))
    }
}

const USER_NAME: &str = "COALESCE(NULLIF(trim(u.firstname || ' ' || u.lastname), ''), u.login)";

fn group(rows: Vec<OwnedValue>) -> HashMap<i64, Vec<StoredValue>> {
    let mut out: HashMap<i64, Vec<StoredValue>> = HashMap::new();
    for OwnedValue(owner, v) in rows {
        out.entry(owner).or_default().push(v);
    }
    out
}

/// The values of many objects of one type (`WorkPackage`, `Principal`),
/// in one query: for a page of a listing.
pub async fn values_for(
    conn: &mut Conn,
    customized_type: &str,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredValue>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut params = params![customized_type];
    let sql = format!(
        "SELECT v.customized_id, v.custom_field_id, v.value, v.value_user_id, {USER_NAME} \
         FROM custom_values v LEFT JOIN users u ON u.id = v.value_user_id \
         WHERE v.customized_type = $1 AND v.customized_id IN ({}) \
         ORDER BY v.customized_id, v.custom_field_id, v.id",
        placeholders(ids, &mut params)
    );
    Ok(group(conn.query(&sql, params).await?))
}

/// Sets (or with `None` removes) the value of one field on one object.
pub async fn set_value(
    conn: &mut Conn,
    customized_type: &str,
    customized_id: i64,
    field_id: CustomFieldId,
    value: Option<&Value>,
) -> Result<()> {
    conn.execute(
        "DELETE FROM custom_values WHERE customized_type = $1 AND customized_id = $2 \
         AND custom_field_id = $3",
        params![customized_type, customized_id, field_id],
    )
    .await?;
    if let Some(v) = value {
        let (text, user) = v.to_stored();
        conn.execute(
            "INSERT INTO custom_values (custom_field_id, customized_type, customized_id, value, value_user_id) \
             VALUES ($1, $2, $3, $4, $5)",
            params![field_id, customized_type, customized_id, text, user],
        )
        .await?;
    }
    Ok(())
}

/// Sets several values of one object; see [`set_value`].
pub async fn set_values(
    conn: &mut Conn,
    customized_type: &str,
    customized_id: i64,
    values: &[(CustomFieldId, Option<Value>)],
) -> Result<()> {
    for (field_id, value) in values {
        set_value(
            conn,
            customized_type,
            customized_id,
            *field_id,
            value.as_ref(),
        )
        .await?;
    }
    Ok(())
}

/// Removes every value of an object (when the object is deleted).
pub async fn delete_values(
    conn: &mut Conn,
    customized_type: &str,
    customized_id: i64,
) -> Result<()> {
    conn.execute(
        "DELETE FROM custom_values WHERE customized_type = $1 AND customized_id = $2",
        params![customized_type, customized_id],
    )
    .await?;
    Ok(())
}

/// Copies the current values of an object into the history of `journal_id`,
/// so that the journal records the custom values after its change.
pub async fn snapshot_journal(
    conn: &mut Conn,
    journal_id: i64,
    customized_type: &str,
    customized_id: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO custom_value_journals (journal_id, custom_field_id, value, value_user_id) \
         SELECT $1, custom_field_id, value, value_user_id FROM custom_values \
         WHERE customized_type = $2 AND customized_id = $3 ORDER BY custom_field_id, id",
        params![journal_id, customized_type, customized_id],
    )
    .await?;
    Ok(())
}

/// The custom values recorded by each of the given journals, in one query.
pub async fn journal_values(
    conn: &mut Conn,
    journal_ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredValue>>> {
    if journal_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut params = Vec::new();
    let sql = format!(
        "SELECT v.journal_id, v.custom_field_id, v.value, v.value_user_id, {USER_NAME} \
         FROM custom_value_journals v LEFT JOIN users u ON u.id = v.value_user_id \
         WHERE v.journal_id IN ({}) ORDER BY v.journal_id, v.custom_field_id, v.id",
        placeholders(journal_ids, &mut params)
    );
    Ok(group(conn.query(&sql, params).await?))
}
