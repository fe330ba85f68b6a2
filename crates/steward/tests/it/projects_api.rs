//! `/api/v3/projects` over HTTP: the representation, identifiers, who sees
//! which project (members, non-members of public projects, anonymous
//! visitors), archiving, parents, deletion, project creators, forms,
//! filters and pages; and the reference data around projects: statuses,
//! types, priorities, roles and versions.

use hyper::Method;
use serde_json::{json, Value};
use steward_services::memberships::MembershipInput;

use crate::harness::{Backend, Req, Resp, TestApp};

/// Percent-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `filters=` for one filter.
pub fn filter(name: &str, operator: &str, values: &[&str]) -> String {
    let f = json!([{ name: { "operator": operator, "values": values } }]);
    format!("filters={}", enc(&f.to_string()))
}

pub async fn create_project(app: &TestApp, body: Value) -> Resp {
    app.admin(Method::POST, "/api/v3/projects")
        .json(&body)
        .send()
        .await
}

/// Creates a project as the administrator and returns its id.
pub async fn new_project(app: &TestApp, identifier: &str, public: bool) -> i64 {
    let res = create_project(
        app,
        json!({"identifier": identifier, "name": format!("Project {identifier}"), "public": public}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

pub async fn role_id(app: &TestApp, name: &str) -> i64 {
    let res = app.admin(Method::GET, "/api/v3/roles").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no role {name}"))["id"]
        .as_i64()
        .unwrap()
}

pub fn membership_body(project: i64, principal_href: &str, roles: &[i64]) -> Value {
    let roles: Vec<Value> = roles
        .iter()
        .map(|r| json!({"href": format!("/api/v3/roles/{r}")}))
        .collect();
    json!({"_links": {
        "project": {"href": format!("/api/v3/projects/{project}")},
        "principal": {"href": principal_href},
        "roles": roles,
    }})
}

/// Makes the user a member of the project with the named role (as the administrator).
pub async fn add_member(app: &TestApp, project: i64, user: i64, role: &str) -> i64 {
    let role = role_id(app, role).await;
    let res = app
        .admin(Method::POST, "/api/v3/memberships")
        .json(&membership_body(
            project,
            &format!("/api/v3/users/{user}"),
            &[role],
        ))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

pub fn as_user(app: &TestApp, token: &str, method: Method, path: &str) -> Req {
    Req::new(&app.base, method, path).token(token)
}

pub fn element_ids(collection: &Value) -> Vec<i64> {
    collection["_embedded"]["elements"]
        .as_array()
        .unwrap_or_else(|| panic!("no elements: {collection}"))
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

fn attribute(res: &Resp) -> String {
    res.json()["_embedded"]["details"]["attribute"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Resp {
    as_user(app, token, Method::GET, path).send().await
}

async fn admin_creates_and_reads_a_project(backend: Backend) {
    let app = TestApp::start(backend).await;
    let res = create_project(
        &app,
        json!({"identifier": "demo", "name": " Demo ", "description": {"raw": "Hello **world**"}, "public": false}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let p = res.json();
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["_type"], "Project");
    assert_eq!(p["identifier"], "demo");
    assert_eq!(p["name"], "Demo");
    assert_eq!(p["active"], true);
    assert_eq!(p["public"], false);
    assert_eq!(p["description"]["format"], "markdown");
    assert_eq!(p["description"]["raw"], "Hello **world**");
    assert_eq!(
        p["description"]["html"],
        "<p>Hello <strong>world</strong></p>\n"
    );
    assert!(p["createdAt"].as_str().unwrap().ends_with('Z'));
    let l = &p["_links"];
    assert_eq!(l["self"]["href"], format!("/api/v3/projects/{id}"));
    assert_eq!(l["self"]["title"], "Demo");
    assert!(l["parent"]["href"].is_null(), "{l}");
    assert_eq!(
        l["workPackages"]["href"],
        format!("/api/v3/projects/{id}/work_packages")
    );
    assert_eq!(
        l["versions"]["href"],
        format!("/api/v3/projects/{id}/versions")
    );
    assert_eq!(l["types"]["href"], format!("/api/v3/projects/{id}/types"));
    let memberships = l["memberships"]["href"].as_str().unwrap();
    assert!(
        memberships.starts_with("/api/v3/memberships?filters="),
        "{memberships}"
    );
    assert_eq!(l["updateImmediately"]["method"], "patch");
    assert_eq!(l["delete"]["method"], "delete");

    // The memberships link works as given.
    let res = app.admin(Method::GET, memberships).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 0);

    for path in [
        format!("/api/v3/projects/{id}"),
        "/api/v3/projects/demo".to_string(),
        "/api/v3/projects/demo/".to_string(),
    ] {
        let res = app.admin(Method::GET, &path).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(res.json()["id"], id);
    }
    let res = app.admin(Method::GET, "/api/v3/projects").send().await;
    assert_eq!(res.status, 200);
    let list = res.json();
    assert_eq!(list["_type"], "Collection");
    assert_eq!(list["total"], 1);
    assert_eq!(element_ids(&list), vec![id]);
    app.admin(Method::GET, "/api/v3/projects/999999")
        .send()
        .await
        .assert_error(404, "NotFound");

    // A plain-string description is accepted too, and the identifier can
    // be left to be derived from the name.
    let res = create_project(
        &app,
        json!({"name": "Second Thing", "description": "plain"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["identifier"], "second-thing");
    assert_eq!(res.json()["description"]["raw"], "plain");
}
both_backends!(admin_creates_and_reads_a_project);

/// The attributes of a 422 `MultipleErrors`, sorted.
pub fn all_invalid(res: &Resp) -> Vec<String> {
    res.assert_error(422, "MultipleErrors");
    let body = res.json();
    let mut out: Vec<String> = body["_embedded"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.errors: {body}"))
        .iter()
        .map(|e| {
            assert_eq!(
                e["errorIdentifier"],
                "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
                "{e}"
            );
            e["_embedded"]["details"]["attribute"]
                .as_str()
                .unwrap_or_else(|| panic!("no attribute: {e}"))
                .to_string()
        })
        .collect();
    out.sort_unstable();
    out
}

async fn identifiers_are_validated_and_unique(backend: Backend) {
    let app = TestApp::start(backend).await;
    for bad in ["Bad Id", "new", "1abc", "with space"] {
        let res = create_project(&app, json!({"identifier": bad, "name": "X"})).await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), "identifier", "{bad}");
    }
    let res = create_project(&app, json!({"identifier": "ok"})).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "name");
    // Both wrong: both reported.
    let res = create_project(&app, json!({"identifier": "Bad Id", "name": " "})).await;
    assert_eq!(all_invalid(&res), ["identifier", "name"]);
    new_project(&app, "taken", false).await;
    let res = create_project(&app, json!({"identifier": "taken", "name": "Again"})).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "identifier");
    // Renaming onto a taken identifier fails the same way.
    let other = new_project(&app, "other", false).await;
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/projects/{other}"))
        .json(&json!({"identifier": "taken"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "identifier");
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/projects/{other}"))
        .json(&json!({"identifier": "Bad Id", "name": ""}))
        .send()
        .await;
    assert_eq!(all_invalid(&res), ["identifier", "name"]);
    // A body of the wrong shape is a 400.
    app.admin(Method::POST, "/api/v3/projects")
        .json(&json!({"name": 5}))
        .send()
        .await
        .assert_error(400, "InvalidRequestBody");
}
both_backends!(identifiers_are_validated_and_unique);

async fn members_see_private_projects_and_others_do_not(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = new_project(&app, "secret", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (_bob, bob_token) = app.user("bob").await;
    add_member(&app, id, alice, "Member").await;

    let res = get(&app, &alice_token, &format!("/api/v3/projects/{id}")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let p = res.json();
    assert!(
        p["_links"]["updateImmediately"].is_null(),
        "a Member may not edit: {p}"
    );
    assert!(p["_links"]["delete"].is_null());
    assert_eq!(p["_links"]["createWorkPackageImmediate"]["method"], "post");
    let res = get(&app, &alice_token, "/api/v3/projects").await;
    assert_eq!(element_ids(&res.json()), vec![id]);
    let res = get(
        &app,
        &alice_token,
        &format!(
            "/api/v3/memberships?{}",
            filter("project", "=", &[&id.to_string()])
        ),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = res.json();
    assert_eq!(m["total"], 1);
    assert_eq!(
        m["_embedded"]["elements"][0]["_links"]["principal"]["href"],
        format!("/api/v3/users/{alice}")
    );

    get(&app, &bob_token, &format!("/api/v3/projects/{id}"))
        .await
        .assert_error(404, "NotFound");
    get(&app, &bob_token, "/api/v3/projects/secret")
        .await
        .assert_error(404, "NotFound");
    let res = get(&app, &bob_token, "/api/v3/projects").await;
    assert_eq!(res.json()["total"], 0);
    let res = get(&app, &bob_token, "/api/v3/memberships").await;
    assert_eq!(res.json()["total"], 0);
    get(&app, &bob_token, &format!("/api/v3/projects/{id}/types"))
        .await
        .assert_error(404, "NotFound");
    as_user(
        &app,
        &bob_token,
        Method::PATCH,
        &format!("/api/v3/projects/{id}"),
    )
    .json(&json!({"name": "Mine now"}))
    .send()
    .await
    .assert_error(404, "NotFound");
    // A member without edit rights is told so.
    as_user(
        &app,
        &alice_token,
        Method::PATCH,
        &format!("/api/v3/projects/{id}"),
    )
    .json(&json!({"name": "Mine now"}))
    .send()
    .await
    .assert_error(403, "MissingPermission");
    // Only those with the global permission create projects.
    as_user(&app, &alice_token, Method::POST, "/api/v3/projects")
        .json(&json!({"identifier": "mine", "name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
}
both_backends!(members_see_private_projects_and_others_do_not);

async fn public_projects_and_anonymous_visitors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let public = new_project(&app, "open", true).await;
    let private = new_project(&app, "closed", false).await;
    let (_bob, bob_token) = app.user("bob").await;

    let res = get(&app, &bob_token, &format!("/api/v3/projects/{public}")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_links"]["updateImmediately"].is_null());
    let res = get(&app, &bob_token, "/api/v3/projects").await;
    assert_eq!(element_ids(&res.json()), vec![public]);

    // Anonymous visitors see nothing while the setting is off.
    app.anon(Method::GET, &format!("/api/v3/projects/{public}"))
        .send()
        .await
        .assert_error(401, "Unauthenticated");
    app.anon(Method::GET, "/api/v3/projects")
        .send()
        .await
        .assert_error(401, "Unauthenticated");
    app.anon(Method::GET, "/api/v3/statuses")
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    app.services().set_anonymous_access(true).await.unwrap();
    let res = app
        .anon(Method::GET, &format!("/api/v3/projects/{public}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.anon(Method::GET, &format!("/api/v3/projects/{private}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app.anon(Method::GET, "/api/v3/projects").send().await;
    assert_eq!(element_ids(&res.json()), vec![public]);
    let res = app.anon(Method::GET, "/api/v3/statuses").send().await;
    assert_eq!(res.status, 200);
    // Anonymous visitors never write.
    app.anon(Method::PATCH, &format!("/api/v3/projects/{public}"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .assert_error(401, "Unauthenticated");
}
both_backends!(public_projects_and_anonymous_visitors);

async fn archiving_hides_a_project(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = new_project(&app, "arch", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    add_member(&app, id, alice, "Project admin").await;
    add_member(&app, id, bob, "Member").await;
    let path = format!("/api/v3/projects/{id}");

    as_user(&app, &bob_token, Method::PATCH, &path)
        .json(&json!({"active": false}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    let res = as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&json!({"active": false}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["active"], false);

    for token in [&alice_token, &bob_token] {
        get(&app, token, &path).await.assert_error(404, "NotFound");
        assert_eq!(
            get(&app, token, "/api/v3/projects").await.json()["total"],
            0
        );
    }
    // Only an administrator brings it back.
    as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&json!({"active": true}))
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.json()["active"], false);
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/projects?{}", filter("active", "=", &["f"])),
        )
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), vec![id]);
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"active": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["active"], true);
    assert_eq!(get(&app, &alice_token, &path).await.status, 200);
    assert_eq!(get(&app, &bob_token, &path).await.status, 200);
}
both_backends!(archiving_hides_a_project);

async fn parents_and_cycles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let a = new_project(&app, "a", false).await;
    let res = create_project(
        &app,
        json!({"identifier": "b", "name": "B", "_links": {"parent": {"href": format!("/api/v3/projects/{a}")}}}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let b = res.json()["id"].as_i64().unwrap();
    assert_eq!(
        res.json()["_links"]["parent"]["href"],
        format!("/api/v3/projects/{a}")
    );
    // The parent at the top level, named by identifier.
    let res = create_project(
        &app,
        json!({"identifier": "c", "name": "C", "parent": {"href": "/api/v3/projects/b"}}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let c = res.json()["id"].as_i64().unwrap();
    assert_eq!(
        res.json()["_links"]["parent"]["href"],
        format!("/api/v3/projects/{b}")
    );

    // a under itself, its child or its grandchild: all cycles.
    for parent in [a, b, c] {
        let res = app
            .admin(Method::PATCH, &format!("/api/v3/projects/{a}"))
            .json(&json!({"_links": {"parent": {"href": format!("/api/v3/projects/{parent}")}}}))
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), "parent");
    }
    for body in [
        json!({"identifier": "d", "name": "D", "_links": {"parent": {"href": "/api/v3/projects/99999"}}}),
        json!({"identifier": "d", "name": "D", "_links": {"parent": {"href": "/api/v3/projects/nope"}}}),
        json!({"identifier": "d", "name": "D", "_links": {"parent": {"href": "/api/v3/users/1"}}}),
    ] {
        let res = create_project(&app, body).await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), "parent");
    }

    let res = app
        .admin(
            Method::GET,
            &format!(
                "/api/v3/projects?{}",
                filter("parent_id", "=", &[&a.to_string()])
            ),
        )
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), vec![b]);
    // Moving c to the top.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/projects/{c}"))
        .json(&json!({"_links": {"parent": {"href": null}}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_links"]["parent"]["href"].is_null());
}
both_backends!(parents_and_cycles);

async fn deleting_is_for_administrators(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = new_project(&app, "doomed", false).await;
    let res = create_project(
        &app,
        json!({"identifier": "child", "name": "Child", "_links": {"parent": {"href": format!("/api/v3/projects/{id}")}}}),
    )
    .await;
    let child = res.json()["id"].as_i64().unwrap();
    let (alice, alice_token) = app.user("alice").await;
    let (_bob, bob_token) = app.user("bob").await;
    add_member(&app, id, alice, "Project admin").await;
    let path = format!("/api/v3/projects/{id}");

    as_user(&app, &alice_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &bob_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app.admin(Method::DELETE, &path).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::GET, &format!("/api/v3/projects/{child}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    assert_eq!(
        app.admin(Method::GET, "/api/v3/memberships")
            .send()
            .await
            .json()["total"],
        0
    );
}
both_backends!(deleting_is_for_administrators);

async fn project_creators_create_projects(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (carol, carol_token) = app.user("carol").await;
    as_user(&app, &carol_token, Method::POST, "/api/v3/projects")
        .json(&json!({"identifier": "carols", "name": "Carol's"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");

    let creator = role_id(&app, "Project creator").await;
    let admin = app.services().user(app.admin_id).await.unwrap();
    let access = app.services().access(Some(&admin)).await.unwrap();
    let global = app
        .services()
        .create_membership(
            &access,
            MembershipInput {
                project_id: None,
                principal_id: Some(carol),
                role_ids: vec![creator],
            },
        )
        .await
        .unwrap();
    assert!(global.project.is_none());

    let res = as_user(&app, &carol_token, Method::POST, "/api/v3/projects")
        .json(&json!({"identifier": "carols", "name": "Carol's"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.json()["_links"]["updateImmediately"]["method"], "patch");

    let res = get(
        &app,
        &carol_token,
        &format!(
            "/api/v3/memberships?{}",
            filter("project", "=", &[&id.to_string()])
        ),
    )
    .await;
    let m = res.json();
    assert_eq!(m["total"], 1, "{m}");
    assert_eq!(
        m["_embedded"]["elements"][0]["_links"]["roles"][0]["title"],
        "Project admin"
    );
    // The global membership is for administrators to see.
    let res = get(&app, &carol_token, "/api/v3/memberships").await;
    assert_eq!(res.json()["total"], 1);
    let res = app.admin(Method::GET, "/api/v3/memberships").send().await;
    assert_eq!(res.json()["total"], 2);
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/memberships/{}", global.membership.id),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_links"]["project"].is_null());

    let res = as_user(
        &app,
        &carol_token,
        Method::PATCH,
        &format!("/api/v3/projects/{id}"),
    )
    .json(&json!({"name": "Carol's own"}))
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Carol's own");
}
both_backends!(project_creators_create_projects);

async fn patch_with_the_whole_document(backend: Backend) {
    let app = TestApp::start(backend).await;
    let parent = new_project(&app, "top", false).await;
    let res = create_project(
        &app,
        json!({"identifier": "sub", "name": "Sub", "_links": {"parent": {"href": format!("/api/v3/projects/{parent}")}}}),
    )
    .await;
    let id = res.json()["id"].as_i64().unwrap();
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    add_member(&app, id, alice, "Project admin").await;
    add_member(&app, id, bob, "Member").await;
    let path = format!("/api/v3/projects/{id}");

    // Alice is no member of the parent, but sending its link back unchanged is fine.
    let mut doc = get(&app, &alice_token, &path).await.json();
    doc["name"] = json!("Renamed");
    let res = as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&doc)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Renamed");
    assert_eq!(
        res.json()["_links"]["parent"]["href"],
        format!("/api/v3/projects/{parent}")
    );

    // An unchanged document changes nothing, whoever sends it.
    let doc = get(&app, &bob_token, &path).await.json();
    let res = as_user(&app, &bob_token, Method::PATCH, &path)
        .json(&doc)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["updatedAt"], doc["updatedAt"]);
    // An empty body as well.
    let res = as_user(&app, &bob_token, Method::PATCH, &path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
}
both_backends!(patch_with_the_whole_document);

async fn filters_sorting_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = new_project(&app, "alpha", false).await;
    let beta = new_project(&app, "beta", true).await;
    let gamma = new_project(&app, "gamma", false).await;

    let q = |s: String| format!("/api/v3/projects?{s}");
    let ids = |res: Resp| element_ids(&res.json());
    assert_eq!(
        ids(app
            .admin(
                Method::GET,
                &q(filter("id", "=", &[&beta.to_string(), &gamma.to_string()]))
            )
            .send()
            .await),
        vec![beta, gamma]
    );
    assert_eq!(
        ids(app
            .admin(
                Method::GET,
                &q(filter("name_and_identifier", "~", &["ALP"]))
            )
            .send()
            .await),
        vec![alpha]
    );
    assert_eq!(
        ids(app
            .admin(Method::GET, &q(filter("active", "=", &["t"])))
            .send()
            .await),
        vec![alpha, beta, gamma]
    );
    assert_eq!(
        ids(app
            .admin(Method::GET, &q(filter("public", "=", &["t"])))
            .send()
            .await),
        vec![beta]
    );
    assert_eq!(
        ids(app
            .admin(
                Method::GET,
                &q(format!("sortBy={}", enc(r#"[["name","desc"]]"#)))
            )
            .send()
            .await),
        vec![gamma, beta, alpha]
    );
    // Brackets and commas unencoded, a leading `&`, as some clients send them.
    let res = app
        .admin(
            Method::GET,
            "/api/v3/projects?&sortBy=[[%22created_at%22,%22desc%22]]&pageSize=2",
        )
        .send()
        .await;
    let page = res.json();
    assert_eq!(element_ids(&page), vec![gamma, beta]);
    assert_eq!(page["total"], 3);
    let next = page["_links"]["nextByOffset"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app.admin(Method::GET, &next).send().await;
    let page = res.json();
    assert_eq!(element_ids(&page), vec![alpha]);
    assert!(page["_links"]["nextByOffset"].is_null());

    app.admin(Method::GET, &q(filter("colour", "=", &["red"])))
        .send()
        .await
        .assert_error(400, "InvalidQuery");
    app.admin(Method::GET, &q(filter("active", "=", &["maybe"])))
        .send()
        .await
        .assert_error(400, "InvalidQuery");
    app.admin(
        Method::GET,
        &q(format!("sortBy={}", enc(r#"[["colour","asc"]]"#))),
    )
    .send()
    .await
    .assert_error(400, "InvalidQuery");
}
both_backends!(filters_sorting_and_pages);

async fn project_forms(backend: Backend) {
    let app = TestApp::start(backend).await;
    let res = app
        .admin(Method::POST, "/api/v3/projects/form")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let f = res.json();
    assert_eq!(f["_type"], "Form");
    assert_eq!(f["_embedded"]["schema"]["_type"], "Schema");
    assert!(
        f["_embedded"]["validationErrors"]["name"].is_object(),
        "{f}"
    );
    assert!(f["_links"]["commit"].is_null());

    let res = app
        .admin(Method::POST, "/api/v3/projects/form")
        .json(&json!({"name": "Fresh Start"}))
        .send()
        .await;
    let f = res.json();
    assert_eq!(f["_embedded"]["payload"]["identifier"], "fresh-start");
    assert_eq!(f["_embedded"]["validationErrors"], json!({}));
    assert_eq!(f["_links"]["commit"]["href"], "/api/v3/projects");

    let id = new_project(&app, "formed", false).await;
    let res = app
        .admin(Method::POST, &format!("/api/v3/projects/{id}/form"))
        .json(&json!({"identifier": "Not Valid"}))
        .send()
        .await;
    let f = res.json();
    assert_eq!(f["_embedded"]["payload"]["name"], "Project formed");
    assert!(
        f["_embedded"]["validationErrors"]["identifier"].is_object(),
        "{f}"
    );
}
both_backends!(project_forms);

async fn statuses_types_priorities_and_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_u, token) = app.user("reader").await;

    let res = get(&app, &token, "/api/v3/statuses").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let s = res.json();
    assert_eq!(s["_type"], "Collection");
    assert_eq!(s["total"], 14);
    assert_eq!(s["count"], 14);
    let elements = s["_embedded"]["elements"].as_array().unwrap();
    assert_eq!(elements[0]["_type"], "Status");
    assert_eq!(elements[0]["name"], "New");
    assert_eq!(elements[0]["isDefault"], true);
    assert!(elements
        .iter()
        .any(|e| e["name"] == "Closed" && e["isClosed"] == true));
    assert!(elements[0]["color"].as_str().unwrap().starts_with('#'));
    let first = elements[0]["id"].as_i64().unwrap();
    let res = get(&app, &token, &format!("/api/v3/statuses/{first}")).await;
    assert_eq!(res.json()["position"], 1);
    get(&app, &token, "/api/v3/statuses/9999")
        .await
        .assert_error(404, "NotFound");
    let res = get(&app, &token, "/api/v3/statuses?pageSize=5&offset=3").await;
    assert_eq!(res.json()["count"], 4);

    let t = get(&app, &token, "/api/v3/types").await.json();
    assert_eq!(t["total"], 7);
    let types = t["_embedded"]["elements"].as_array().unwrap();
    let milestone = types
        .iter()
        .find(|t| t["name"] == "Milestone")
        .expect("a Milestone type");
    assert_eq!(milestone["_type"], "Type");
    assert_eq!(milestone["isMilestone"], true);
    assert_eq!(types.iter().filter(|t| t["isDefault"] == true).count(), 1);
    let res = get(&app, &token, &format!("/api/v3/types/{}", milestone["id"])).await;
    assert_eq!(res.json()["name"], "Milestone");

    let p = get(&app, &token, "/api/v3/priorities").await.json();
    assert_eq!(p["total"], 4);
    let prios = p["_embedded"]["elements"].as_array().unwrap();
    let defaults: Vec<&Value> = prios.iter().filter(|p| p["isDefault"] == true).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["name"], "Normal");
    assert_eq!(defaults[0]["_type"], "Priority");
    assert_eq!(defaults[0]["isActive"], true);
    assert_eq!(defaults[0]["color"], "");

    let r = get(&app, &token, "/api/v3/roles").await.json();
    let names: Vec<&str> = r["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for n in [
        "Non member",
        "Anonymous",
        "Project admin",
        "Member",
        "Reader",
        "Project creator",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    let r = get(
        &app,
        &token,
        &format!("/api/v3/roles?{}", filter("grantable", "=", &["t"])),
    )
    .await
    .json();
    assert_eq!(r["total"], 4);
    let r = get(
        &app,
        &token,
        &format!("/api/v3/roles?{}", filter("unit", "=", &["system"])),
    )
    .await
    .json();
    assert_eq!(r["_embedded"]["elements"][0]["name"], "Project creator");
    assert!(r["_embedded"]["elements"][0]["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("add_project")));

    // The types of a project.
    let id = new_project(&app, "typed", true).await;
    let res = get(&app, &token, &format!("/api/v3/projects/{id}/types")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 7);
}
both_backends!(statuses_types_priorities_and_roles);

async fn versions_of_a_project(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = new_project(&app, "versioned", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    let (_carol, carol_token) = app.user("carol").await;
    add_member(&app, id, alice, "Project admin").await;
    add_member(&app, id, bob, "Member").await;
    let body = json!({
        "name": "1.0",
        "description": {"raw": "First release"},
        "status": "open",
        "startDate": "2024-05-01",
        "endDate": "2024-06-30",
        "_links": {"definingProject": {"href": format!("/api/v3/projects/{id}")}},
    });

    as_user(&app, &bob_token, Method::POST, "/api/v3/versions")
        .json(&body)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    let res = as_user(&app, &alice_token, Method::POST, "/api/v3/versions")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let v = res.json();
    let vid = v["id"].as_i64().unwrap();
    assert_eq!(v["_type"], "Version");
    assert_eq!(v["name"], "1.0");
    assert_eq!(v["description"]["raw"], "First release");
    assert_eq!(v["startDate"], "2024-05-01");
    assert_eq!(v["endDate"], "2024-06-30");
    assert_eq!(v["status"], "open");
    assert_eq!(v["sharing"], "none");
    assert_eq!(
        v["_links"]["definingProject"]["href"],
        format!("/api/v3/projects/{id}")
    );

    let res = as_user(&app, &alice_token, Method::POST, "/api/v3/versions")
        .json(&body)
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "name");
    for (patch, attr) in [
        (json!({"name": "2.0", "status": "frozen"}), "status"),
        (json!({"name": "2.0", "startDate": "May 1st"}), "startDate"),
        (
            json!({"name": "2.0", "startDate": "2024-05-02", "endDate": "2024-05-01"}),
            "endDate",
        ),
        (json!({"name": " "}), "name"),
        (
            json!({"name": "2.0", "_links": {"definingProject": {"href": "/api/v3/projects/99999"}}}),
            "definingProject",
        ),
    ] {
        let mut b = body.clone();
        for (k, val) in patch.as_object().unwrap() {
            b[k] = val.clone();
        }
        let res = as_user(&app, &alice_token, Method::POST, "/api/v3/versions")
            .json(&b)
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), attr, "{b}");
    }
    let mut b = body.clone();
    b["name"] = json!(" ");
    b["status"] = json!("frozen");
    b["startDate"] = json!("2024-05-02");
    b["endDate"] = json!("2024-05-01");
    let res = as_user(&app, &alice_token, Method::POST, "/api/v3/versions")
        .json(&b)
        .send()
        .await;
    assert_eq!(all_invalid(&res), ["endDate", "name", "status"]);

    let res = get(&app, &bob_token, &format!("/api/v3/projects/{id}/versions")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(element_ids(&res.json()), vec![vid]);
    let res = get(&app, &bob_token, &format!("/api/v3/versions/{vid}")).await;
    assert_eq!(res.status, 200);
    let res = get(
        &app,
        &bob_token,
        &format!("/api/v3/versions/{vid}/projects"),
    )
    .await;
    assert_eq!(element_ids(&res.json()), vec![id]);
    get(&app, &carol_token, &format!("/api/v3/versions/{vid}"))
        .await
        .assert_error(404, "NotFound");
    get(
        &app,
        &carol_token,
        &format!("/api/v3/projects/{id}/versions"),
    )
    .await
    .assert_error(404, "NotFound");
}
both_backends!(versions_of_a_project);
