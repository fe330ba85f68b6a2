//! `/api/v3/priorities`: the priorities a work package can have. Creating,
//! changing and deleting them is for administrators (a Steward extension).

use serde::{Deserialize, Serialize};
use steward_services::lookups::{PriorityFields, PriorityInput};
use steward_storage::lookups::Priority;

use crate::hal::Link;
use crate::routes::reference_tables::ReferenceResource;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityRepr {
    #[serde(rename = "_type")]
    kind: &'static str,
    id: i64,
    name: String,
    position: i64,
    color: &'static str,
    is_default: bool,
    is_active: bool,
    #[serde(rename = "_links")]
    links: PriorityLinks,
}

#[derive(Serialize)]
pub struct PriorityLinks {
    #[serde(rename = "self")]
    self_: Link,
}

impl ReferenceResource for Priority {
    type Repr = PriorityRepr;
    type Body = PriorityBody;
    const PATH: &'static str = "/api/v3/priorities";

    fn represent(&self) -> PriorityRepr {
        PriorityRepr {
            kind: "Priority",
            id: self.id,
            name: self.name.clone(),
            position: self.position,
            color: "",
            is_default: self.is_default,
            is_active: self.active,
            links: PriorityLinks {
                self_: Link::titled(format!("{}/{}", Self::PATH, self.id), self.name.clone()),
            },
        }
    }
}

/// The body of create and update; absent properties stay as they are (or
/// take their defaults on create). Others (`_type`, `_links`, `color`) are
/// ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PriorityBody {
    name: Option<String>,
    is_default: Option<bool>,
    is_active: Option<bool>,
    position: Option<i64>,
}

impl From<PriorityBody> for PriorityInput {
    fn from(b: PriorityBody) -> Self {
        PriorityInput {
            name: b.name,
            is_default: b.is_default,
            position: b.position,
            own: PriorityFields {
                is_active: b.is_active,
            },
        }
    }
}
