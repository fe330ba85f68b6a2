//! `/api/v3/statuses`: the statuses a work package can be in. Creating,
//! changing and deleting them is for administrators (a Steward extension).

use serde::{Deserialize, Serialize};
use steward_services::lookups::{StatusFields, StatusInput};
use steward_storage::lookups::Status;

use crate::hal::Link;
use crate::routes::reference_tables::ReferenceResource;
use crate::routes::shared::nullable;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    is_closed: bool,
    is_default: bool,
    is_readonly: bool,
    color: String,
    position: i64,
    #[serde(rename = "_links")]
    links: StatusLinks,
}

#[derive(Serialize)]
pub struct StatusLinks {
    #[serde(rename = "self")]
    self_: Link,
}

impl ReferenceResource for Status {
    type Repr = StatusRepr;
    type Body = StatusBody;
    const PATH: &'static str = "/api/v3/statuses";

    fn represent(&self) -> StatusRepr {
        StatusRepr {
            kind: "Status",
            id: self.id,
            name: self.name.clone(),
            is_closed: self.is_closed,
            is_default: self.is_default,
            is_readonly: false,
            color: self.color.clone(),
            position: self.position,
            links: StatusLinks {
                self_: Link::titled(format!("{}/{}", Self::PATH, self.id), self.name.clone()),
            },
        }
    }
}

/// The body of create and update; absent properties stay as they are (or
/// take their defaults on create). Others (`_type`, `_links`, `isReadonly`)
/// are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusBody {
    name: Option<String>,
    is_closed: Option<bool>,
    is_default: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    color: Option<Option<String>>,
    position: Option<i64>,
}

impl From<StatusBody> for StatusInput {
    fn from(b: StatusBody) -> Self {
        StatusInput {
            name: b.name,
            is_default: b.is_default,
            position: b.position,
            own: StatusFields {
                is_closed: b.is_closed,
                color: b.color,
            },
        }
    }
}
