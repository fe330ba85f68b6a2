//! `GET /api/v3`: the API root.

use serde::Serialize;

use crate::auth::Caller;
use crate::hal::{ok, Hal, Link};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Root {
    #[serde(rename = "_type")]
    kind: &'static str,
    instance_name: &'static str,
    core_version: &'static str,
    #[serde(rename = "_links")]
    links: RootLinks,
}

#[derive(Serialize)]
pub struct RootLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Link>,
    users: Link,
}

pub async fn root(caller: Caller) -> Hal<Root> {
    ok(Root {
        kind: "Root",
        instance_name: "Steward",
        core_version: env!("CARGO_PKG_VERSION"),
        links: RootLinks {
            self_: Link::new("/api/v3"),
            user: caller
                .user()
                .map(|u| Link::titled(format!("/api/v3/users/{}", u.id), u.name())),
            users: Link::new("/api/v3/users"),
        },
    })
}
