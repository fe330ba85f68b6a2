//! `/api/v3/work_packages` over HTTP: creating as pyopenproject does (form,
//! then a minimal body), defaults, the representation, filters, sorting and
//! pages with cached totals, updates with lockVersion, whole-document
//! PATCHes, deletion, milestones, validation, parent cycles, bad queries,
//! baseline comparison with `timestamps`, the forms and schemas, and who
//! may do what.

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::projects::ProjectInput;
use steward_storage::params;

use crate::harness::{Backend, Req, Resp, TestApp};

// ---------------------------------------------------------------- helpers

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

/// `filters=` with the given filters, each `(name, operator, values)`.
pub fn filters(list: &[(&str, &str, &[&str])]) -> String {
    let f: Vec<Value> = list
        .iter()
        .map(|(n, o, v)| json!({ *n: { "operator": o, "values": v } }))
        .collect();
    format!("filters={}", enc(&Value::Array(f).to_string()))
}

/// Creates a project through the services, as the administrator.
pub async fn make_project(app: &TestApp, identifier: &str, public: bool) -> i64 {
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let access = app.services().access(Some(&admin)).await.unwrap();
    app.services()
        .create_project(
            &access,
            ProjectInput {
                identifier: Some(identifier.into()),
                name: Some(format!("Project {identifier}")),
                public: Some(public),
                ..ProjectInput::default()
            },
        )
        .await
        .unwrap()
        .id
}

/// Makes `user` a member of `project` with the named role.
pub async fn add_member(app: &TestApp, project: i64, user: i64, role: &str) {
    let mut conn = app.services().db.conn().await.unwrap();
    let role_id = steward_storage::roles::all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == role)
        .unwrap_or_else(|| panic!("no role {role}"))
        .id;
    steward_storage::members::insert(&mut conn, Some(project), user, &[role_id], Timestamp::now())
        .await
        .unwrap();
}

/// The id of a status, type or priority by name.
pub async fn lookup(app: &TestApp, kind: &str, name: &str) -> i64 {
    let mut conn = app.services().db.conn().await.unwrap();
    let found = match kind {
        "statuses" => steward_storage::lookups::statuses(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.id),
        "types" => steward_storage::lookups::types(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.id),
        "priorities" => steward_storage::lookups::priorities(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.id),
        _ => None,
    };
    found.unwrap_or_else(|| panic!("no {kind} named {name}"))
}

pub fn href(kind: &str, id: i64) -> Value {
    json!({ "href": format!("/api/v3/{kind}/{id}") })
}

/// A request as the holder of `token`.
pub fn as_user(app: &TestApp, token: &str, method: Method, path: &str) -> Req {
    Req::new(&app.base, method, path).token(token)
}

/// The smallest body pyopenproject sends: subject, project and type.
pub fn minimal(project: i64, subject: &str, type_id: i64) -> Value {
    json!({
        "subject": subject,
        "_links": { "project": href("projects", project), "type": href("types", type_id) }
    })
}

/// Creates a work package as the administrator and returns it.
pub async fn new_wp(app: &TestApp, body: Value) -> Value {
    let res = app
        .admin(Method::POST, "/api/v3/work_packages")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.admin(Method::GET, path).send().await;
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

pub async fn patch(app: &TestApp, id: i64, body: Value) -> Resp {
    app.admin(Method::PATCH, &format!("/api/v3/work_packages/{id}"))
        .json(&body)
        .send()
        .await
}

fn ids(collection: &Value) -> Vec<i64> {
    collection["_embedded"]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect()
}

/// Asserts a 422 that names `attribute`.
fn assert_invalid(res: &Resp, attribute: &str) {
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(
        res.json()["_embedded"]["details"]["attribute"],
        attribute,
        "{}",
        res.text()
    );
}

pub async fn count_rows(app: &TestApp, sql: &str, id: i64) -> i64 {
    let mut conn = app.services().db.conn().await.unwrap();
    conn.query_one::<i64>(sql, params![id]).await.unwrap()
}

async fn journal_count(app: &TestApp, wp: i64) -> i64 {
    count_rows(
        app,
        "SELECT count(*) FROM journals WHERE journable_type = 'WorkPackage' AND journable_id = $1",
        wp,
    )
    .await
}

// ---------------------------------------------------------------- tests

async fn create_like_pyopenproject(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    // The client posts an empty body to the form and fills its payload.
    let res = app
        .admin(Method::POST, "/api/v3/work_packages/form")
        .raw("application/hal+json", "")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let form = res.json();
    assert_eq!(form["_type"], "Form");
    assert!(form["_links"]["commit"].is_null(), "{form}");
    assert_eq!(form["_links"]["self"]["href"], "/api/v3/work_packages/form");
    let errors = &form["_embedded"]["validationErrors"];
    assert_eq!(errors["subject"]["_type"], "Error", "{errors}");
    assert_eq!(errors["project"]["_type"], "Error", "{errors}");
    let mut payload = form["_embedded"]["payload"].clone();
    assert_eq!(
        payload["_links"]["status"]["href"],
        format!("/api/v3/statuses/{}", lookup(&app, "statuses", "New").await)
    );
    assert_eq!(
        payload["_links"]["priority"]["href"],
        format!(
            "/api/v3/priorities/{}",
            lookup(&app, "priorities", "Normal").await
        )
    );
    assert_eq!(
        payload["_links"]["type"]["href"],
        format!("/api/v3/types/{task}")
    );
    assert_eq!(form["_embedded"]["schema"]["_type"], "Schema");
    payload["subject"] = json!("Write the docs");
    payload["_links"]["project"] = href("projects", project);
    payload["_links"]["type"] = href("types", task);
    let wp = new_wp(&app, payload).await;
    assert_eq!(wp["_type"], "WorkPackage");
    assert_eq!(wp["lockVersion"], 0);
    assert_eq!(wp["subject"], "Write the docs");
    assert_eq!(wp["_links"]["status"]["title"], "New");
    assert_eq!(wp["_links"]["priority"]["title"], "Normal");
    assert_eq!(wp["_links"]["type"]["title"], "Task");
    assert_eq!(wp["_links"]["project"]["title"], "Project alpha");
    assert_eq!(
        wp["_links"]["author"]["href"],
        format!("/api/v3/users/{}", app.admin_id)
    );
    assert!(wp["_links"]["author"]["title"].is_string());
    assert_eq!(wp["_links"]["assignee"]["href"], Value::Null);

    // The minimal body alone works too, with the defaults applied.
    let res = app
        .admin(Method::POST, "/api/v3/work_packages")
        .json(&minimal(project, "Second", task))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let second = res.json();
    assert_eq!(second["_links"]["status"]["title"], "New");
    assert_eq!(second["lockVersion"], 0);
    let id = second["id"].as_i64().unwrap();
    let shown = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert_eq!(shown["subject"], "Second");
    assert_eq!(
        shown["_links"]["self"]["href"],
        format!("/api/v3/work_packages/{id}")
    );
    assert_eq!(shown["description"]["format"], "markdown");
    // Doubled and trailing slashes reach the same resource.
    let res = app
        .admin(Method::GET, &format!("/api/v3/work_packages//{id}/"))
        .send()
        .await;
    assert_eq!(res.status, 200);

    // In a project's own collection, the project comes from the path.
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v3/projects/{project}/work_packages"),
        )
        .json(&json!({"subject": "Third"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["_links"]["project"]["href"],
        format!("/api/v3/projects/{project}")
    );
}
both_backends!(create_like_pyopenproject);

async fn forms_validate_without_writing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let (rita, reader) = app.user("rita").await;
    add_member(&app, project, rita, "Reader").await;

    // A valid body: no errors, a commit link, nothing written.
    let res = app
        .admin(Method::POST, "/api/v3/work_packages/form")
        .json(&minimal(project, "Planned", task))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let form = res.json();
    assert_eq!(form["_embedded"]["validationErrors"], json!({}), "{form}");
    assert_eq!(form["_links"]["commit"]["href"], "/api/v3/work_packages");
    assert_eq!(form["_links"]["commit"]["method"], "post");
    assert_eq!(form["_embedded"]["payload"]["subject"], "Planned");
    assert_eq!(
        form["_embedded"]["schema"]["_links"]["self"]["href"],
        format!("/api/v3/work_packages/schemas/{project}-{task}")
    );
    let list = get_json(&app, "/api/v3/work_packages").await;
    assert_eq!(list["total"], 0, "the form wrote nothing");

    // Invalid values are reported, not refused.
    let mut body = minimal(project, "Planned", task);
    body["percentageDone"] = json!(150);
    let res = app
        .admin(Method::POST, "/api/v3/work_packages/form")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let form = res.json();
    let err = &form["_embedded"]["validationErrors"]["percentageDone"];
    assert_eq!(
        err["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:PropertyConstraintViolation"
    );
    assert!(form["_links"]["commit"].is_null());
    body["percentageDone"] = json!(null);
    body["startDate"] = json!("tomorrow");
    let res = app
        .admin(Method::POST, "/api/v3/work_packages/form")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_embedded"]["validationErrors"]["startDate"].is_object());

    // The project's own form knows the project.
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v3/projects/{project}/work_packages/form"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let form = res.json();
    assert_eq!(
        form["_embedded"]["payload"]["_links"]["project"]["href"],
        format!("/api/v3/projects/{project}")
    );
    assert!(form["_embedded"]["validationErrors"]["project"].is_null());
    assert!(form["_embedded"]["validationErrors"]["subject"].is_object());

    // The edit form: current values, lockVersion, commit by PATCH.
    let wp = new_wp(&app, minimal(project, "Existing", task)).await;
    let id = wp["id"].as_i64().unwrap();
    let res = app
        .admin(Method::POST, &format!("/api/v3/work_packages/{id}/form"))
        .json(&json!({"subject": "Renamed", "lockVersion": 0}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let form = res.json();
    assert_eq!(form["_embedded"]["payload"]["subject"], "Renamed");
    assert_eq!(form["_embedded"]["payload"]["lockVersion"], 0);
    assert_eq!(form["_links"]["commit"]["method"], "patch");
    assert_eq!(
        get_json(&app, &format!("/api/v3/work_packages/{id}")).await["subject"],
        "Existing"
    );
    // A stale lockVersion conflicts.
    let res = app
        .admin(Method::POST, &format!("/api/v3/work_packages/{id}/form"))
        .json(&json!({"subject": "Renamed", "lockVersion": 7}))
        .send()
        .await;
    res.assert_error(409, "UpdateConflict");
    // A reader sees the form but may not commit it.
    let res = as_user(
        &app,
        &reader,
        Method::POST,
        &format!("/api/v3/work_packages/{id}/form"),
    )
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_links"]["commit"].is_null());
    // Unknown work packages and anonymous callers.
    app.admin(Method::POST, "/api/v3/work_packages/999999/form")
        .send()
        .await
        .assert_error(404, "NotFound");
    app.anon(Method::POST, "/api/v3/work_packages/form")
        .send()
        .await
        .assert_error(401, "Unauthenticated");
}
both_backends!(forms_validate_without_writing);

async fn schemas_describe_attributes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let milestone = lookup(&app, "types", "Milestone").await;
    let s = get_json(
        &app,
        &format!("/api/v3/work_packages/schemas/{project}-{task}"),
    )
    .await;
    assert_eq!(s["_type"], "Schema");
    assert_eq!(s["subject"]["type"], "String");
    assert_eq!(s["subject"]["required"], true);
    assert_eq!(s["subject"]["writable"], true);
    assert_eq!(s["id"]["writable"], false);
    assert_eq!(s["status"]["hasDefault"], true);
    assert_eq!(s["estimatedTime"]["type"], "Duration");
    assert_eq!(s["startDate"]["type"], "Date");
    assert!(s["date"].is_null());
    let statuses = s["status"]["_links"]["allowedValues"].as_array().unwrap();
    assert_eq!(statuses.len(), 14);
    assert!(statuses.iter().any(|l| l["title"] == "In progress"));
    assert_eq!(
        s["type"]["_links"]["allowedValues"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        s["priority"]["_links"]["allowedValues"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        s["_links"]["self"]["href"],
        format!("/api/v3/work_packages/schemas/{project}-{task}")
    );
    for attr in [
        "lockVersion",
        "description",
        "dueDate",
        "remainingTime",
        "percentageDone",
        "createdAt",
        "updatedAt",
        "project",
        "author",
        "assignee",
        "responsible",
        "parent",
        "version",
    ] {
        assert!(s[attr]["name"].is_string(), "{attr} in {s}");
    }
    let m = get_json(
        &app,
        &format!("/api/v3/work_packages/schemas/{project}-{milestone}"),
    )
    .await;
    assert_eq!(m["date"]["type"], "Date");
    assert!(m["startDate"].is_null());

    for bad in [
        format!("{project}-999"),
        format!("999-{task}"),
        "nonsense".to_string(),
        format!("{project}-x"),
    ] {
        app.admin(Method::GET, &format!("/api/v3/work_packages/schemas/{bad}"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    // A private project's schema is hidden from people outside it.
    let (_, token) = app.user("outsider").await;
    as_user(
        &app,
        &token,
        Method::GET,
        &format!("/api/v3/work_packages/schemas/{project}-{task}"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
}
both_backends!(schemas_describe_attributes);

async fn list_filters_sorting_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let a = make_project(&app, "alpha", false).await;
    let b = make_project(&app, "beta", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    add_member(&app, a, alice, "Member").await;
    add_member(&app, a, bob, "Member").await;
    let task = lookup(&app, "types", "Task").await;
    let bug = lookup(&app, "types", "Bug").await;
    let high = lookup(&app, "priorities", "High").await;
    let low = lookup(&app, "priorities", "Low").await;
    let in_progress = lookup(&app, "statuses", "In progress").await;
    let closed = lookup(&app, "statuses", "Closed").await;

    let mut body = minimal(a, "Alpha bug", bug);
    body["_links"]["priority"] = href("priorities", high);
    body["_links"]["assignee"] = href("users", alice);
    body["_links"]["responsible"] = href("users", bob);
    let w1 = new_wp(&app, body).await["id"].as_i64().unwrap();
    let mut body = minimal(a, "Beta task", task);
    body["_links"]["assignee"] = href("users", bob);
    body["_links"]["status"] = href("statuses", in_progress);
    let w2 = new_wp(&app, body).await["id"].as_i64().unwrap();
    let mut body = minimal(a, "Gamma closed", task);
    body["_links"]["priority"] = href("priorities", low);
    body["_links"]["status"] = href("statuses", closed);
    let res = as_user(&app, &alice_token, Method::POST, "/api/v3/work_packages")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let w3 = res.json()["id"].as_i64().unwrap();
    let w4 = new_wp(&app, minimal(b, "Delta other", task)).await["id"]
        .as_i64()
        .unwrap();

    let q = |f: String| format!("/api/v3/work_packages?{f}&pageSize=100");
    let all = get_json(&app, "/api/v3/work_packages").await;
    assert_eq!(all["_type"], "WorkPackageCollection");
    assert_eq!(all["total"], 4);
    assert_eq!(ids(&all), vec![w1, w2, w3, w4]);
    let cases: Vec<(String, Vec<i64>)> = vec![
        (filters(&[("status", "o", &[])]), vec![w1, w2, w4]),
        (filters(&[("status", "c", &[])]), vec![w3]),
        (
            filters(&[("status", "=", &[&in_progress.to_string()])]),
            vec![w2],
        ),
        (
            filters(&[("status", "!", &[&in_progress.to_string()])]),
            vec![w1, w3, w4],
        ),
        (filters(&[("type", "=", &[&bug.to_string()])]), vec![w1]),
        (
            filters(&[("priority", "=", &[&high.to_string(), &low.to_string()])]),
            vec![w1, w3],
        ),
        (filters(&[("assignee", "=", &[&bob.to_string()])]), vec![w2]),
        (
            filters(&[("assignee", "=", &[&alice.to_string(), &bob.to_string()])]),
            vec![w1, w2],
        ),
        (filters(&[("assignee", "!*", &[])]), vec![w3, w4]),
        (filters(&[("author", "=", &[&alice.to_string()])]), vec![w3]),
        (
            filters(&[("responsible", "=", &[&bob.to_string()])]),
            vec![w1],
        ),
        (filters(&[("project", "=", &[&b.to_string()])]), vec![w4]),
        (filters(&[("subject", "~", &["TASK"])]), vec![w2]),
        (filters(&[("subject", "!~", &["a"])]), vec![]),
        (
            filters(&[("id", "=", &[&w2.to_string(), &w4.to_string()])]),
            vec![w2, w4],
        ),
        (
            filters(&[("status", "o", &[]), ("project", "=", &[&a.to_string()])]),
            vec![w1, w2],
        ),
        (
            filters(&[("createdAt", "<>d", &["2000-01-01", "2000-01-02"])]),
            vec![],
        ),
        (
            filters(&[("createdAt", "<>d", &["2000-01-01", "2999-01-01"])]),
            vec![w1, w2, w3, w4],
        ),
        (
            filters(&[("updatedAt", "<>d", &["", "2000-01-01"])]),
            vec![],
        ),
        (
            filters(&[("updatedAt", "<>d", &["2000-01-01", ""])]),
            vec![w1, w2, w3, w4],
        ),
        (filters(&[("createdAt", "t", &[])]), vec![w1, w2, w3, w4]),
    ];
    for (f, want) in cases {
        let got = get_json(&app, &q(f.clone())).await;
        assert_eq!(ids(&got), want, "{f}");
        assert_eq!(got["total"], want.len(), "{f}");
    }
    // "me" is the caller; alice sees only her project.
    let mine = as_user(
        &app,
        &alice_token,
        Method::GET,
        &q(filters(&[("assignee", "=", &["me"])])),
    )
    .send()
    .await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    assert_eq!(ids(&mine.json()), vec![w1]);
    let hers = as_user(&app, &alice_token, Method::GET, "/api/v3/work_packages")
        .send()
        .await
        .json();
    assert_eq!(ids(&hers), vec![w1, w2, w3]);
    // Filters as pyopenproject writes them: raw JSON, a leading "?&".
    let raw =
        "/api/v3/work_packages/?&filters=[{%22status%22:{%22operator%22:%22c%22,%22values%22:[]}}]";
    assert_eq!(ids(&get_json(&app, raw).await), vec![w3]);

    // Sorting.
    let sorted = |s: &str| format!("/api/v3/work_packages?sortBy={}", enc(s));
    assert_eq!(
        ids(&get_json(&app, &sorted(r#"[["id","desc"]]"#)).await),
        vec![w4, w3, w2, w1]
    );
    assert_eq!(
        ids(&get_json(&app, &sorted(r#"[["subject","asc"]]"#)).await),
        vec![w1, w2, w4, w3]
    );
    assert_eq!(
        ids(&get_json(&app, &sorted(r#"[["priority","desc"]]"#)).await),
        vec![w1, w2, w4, w3]
    );
    assert_eq!(
        ids(&get_json(&app, &sorted(r#"[["priority","asc"],["id","desc"]]"#)).await),
        vec![w3, w4, w2, w1]
    );

    // Pages: offset is a page number; no nextByOffset on the last page.
    let p1 = get_json(&app, "/api/v3/work_packages?pageSize=3&offset=1").await;
    assert_eq!(p1["total"], 4);
    assert_eq!(p1["count"], 3);
    assert_eq!(p1["pageSize"], 3);
    assert_eq!(p1["offset"], 1);
    assert_eq!(ids(&p1), vec![w1, w2, w3]);
    assert!(p1["_links"]["previousByOffset"].is_null());
    let next = p1["_links"]["nextByOffset"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let p2 = get_json(&app, &next).await;
    assert_eq!(ids(&p2), vec![w4]);
    assert_eq!(p2["count"], 1);
    assert!(p2["_links"]["nextByOffset"].is_null(), "{p2}");
    assert!(p2["_links"]["previousByOffset"]["href"].is_string());
    let past = get_json(&app, "/api/v3/work_packages?pageSize=3&offset=5").await;
    assert_eq!(past["count"], 0);
    assert_eq!(past["total"], 4);
    assert!(past["_links"]["nextByOffset"].is_null());
    // Filters are kept in the page links.
    let f = filters(&[("project", "=", &[&a.to_string()])]);
    let page = get_json(&app, &format!("/api/v3/work_packages?{f}&pageSize=2")).await;
    assert_eq!(page["total"], 3);
    let next = page["_links"]["nextByOffset"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(next.contains("filters="), "{next}");
    assert_eq!(ids(&get_json(&app, &next).await), vec![w3]);

    // Cached totals follow creates and deletes.
    let path = format!("/api/v3/work_packages?{f}&pageSize=1");
    assert_eq!(get_json(&app, &path).await["total"], 3);
    let w5 = new_wp(&app, minimal(a, "Epsilon", task)).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(get_json(&app, &path).await["total"], 4);
    assert_eq!(
        get_json(&app, "/api/v3/work_packages?pageSize=1").await["total"],
        5
    );
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/work_packages/{w5}"))
        .send()
        .await;
    assert_eq!(res.status, 204);
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/work_packages/{w1}"))
        .send()
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(get_json(&app, &path).await["total"], 2);
    assert_eq!(
        get_json(&app, "/api/v3/work_packages?pageSize=1").await["total"],
        3
    );
    // A project's collection.
    let in_b = get_json(&app, &format!("/api/v3/projects/{b}/work_packages")).await;
    assert_eq!(ids(&in_b), vec![w4]);
}
both_backends!(list_filters_sorting_and_pages);

async fn updates_need_the_current_lock_version(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let wp = new_wp(&app, minimal(project, "Original", task)).await;
    let id = wp["id"].as_i64().unwrap();

    let res = patch(
        &app,
        id,
        json!({"lockVersion": 0, "subject": "First change"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let v1 = res.json();
    assert_eq!(v1["lockVersion"], 1);
    assert_eq!(v1["subject"], "First change");

    // A stale lockVersion: 409, nothing written.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 0, "subject": "Lost update"}),
    )
    .await;
    res.assert_error(409, "UpdateConflict");
    let now = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert_eq!(now["subject"], "First change");
    assert_eq!(now["lockVersion"], 1);
    assert_eq!(journal_count(&app, id).await, 2);

    // No lockVersion at all: 422.
    let res = patch(&app, id, json!({"subject": "No lock"})).await;
    assert_invalid(&res, "lockVersion");
    assert_eq!(journal_count(&app, id).await, 2);

    // A PATCH without changes writes nothing and keeps the version.
    let res = patch(&app, id, json!({"lockVersion": 1})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["lockVersion"], 1);
    assert_eq!(journal_count(&app, id).await, 2);

    // The whole document, as returned, with a changed subject.
    let mut doc = now.clone();
    doc["subject"] = json!("From the whole document");
    let res = patch(&app, id, doc).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v2 = res.json();
    assert_eq!(v2["subject"], "From the whole document");
    assert_eq!(v2["lockVersion"], 2);
    assert_eq!(v2["_links"]["status"], now["_links"]["status"]);
    assert_eq!(v2["_links"]["project"], now["_links"]["project"]);
    // And a minimal {id, lockVersion, subject}.
    let res = patch(
        &app,
        id,
        json!({"id": id, "lockVersion": 2, "subject": "Minimal"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["lockVersion"], 3);

    // Other values: dates, durations, progress, description.
    let res = patch(
        &app,
        id,
        json!({
            "lockVersion": 3,
            "startDate": "2024-05-01",
            "dueDate": "2024-05-10",
            "estimatedTime": "PT5H30M",
            "percentageDone": 40,
            "description": {"raw": "Some **bold** text"}
        }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    assert_eq!(v["startDate"], "2024-05-01");
    assert_eq!(v["dueDate"], "2024-05-10");
    assert_eq!(v["estimatedTime"], "PT5H30M");
    assert_eq!(v["percentageDone"], 40);
    assert_eq!(v["description"]["raw"], "Some **bold** text");
    assert!(v["description"]["html"]
        .as_str()
        .unwrap()
        .contains("<strong>bold</strong>"));
    // Clearing with null.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 4, "startDate": null, "estimatedTime": null}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    assert_eq!(v["startDate"], Value::Null);
    assert_eq!(v["estimatedTime"], Value::Null);
    assert_eq!(v["dueDate"], "2024-05-10");

    app.admin(Method::PATCH, "/api/v3/work_packages/999999")
        .json(&json!({"lockVersion": 0, "subject": "x"}))
        .send()
        .await
        .assert_error(404, "NotFound");
}
both_backends!(updates_need_the_current_lock_version);

async fn delete_removes_the_history(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let parent = new_wp(&app, minimal(project, "Parent", task)).await["id"]
        .as_i64()
        .unwrap();
    let mut body = minimal(project, "Child", task);
    body["_links"]["parent"] = href("work_packages", parent);
    let child = new_wp(&app, body).await["id"].as_i64().unwrap();
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v3/work_packages/{parent}/activities"),
        )
        .json(&json!({"comment": {"raw": "A note"}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(journal_count(&app, parent).await, 2);

    let res = app
        .admin(Method::DELETE, &format!("/api/v3/work_packages/{parent}"))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &format!("/api/v3/work_packages/{parent}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(
        Method::GET,
        &format!("/api/v3/work_packages/{parent}/activities"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
    app.admin(Method::DELETE, &format!("/api/v3/work_packages/{parent}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    assert_eq!(journal_count(&app, parent).await, 0);
    let mut conn = app.services().db.conn().await.unwrap();
    let orphans: i64 = conn
        .query_one(
            "SELECT count(*) FROM work_package_journals WHERE journal_id NOT IN (SELECT id FROM journals)",
            params![],
        )
        .await
        .unwrap();
    assert_eq!(orphans, 0);
    drop(conn);
    // The child stays, without a parent.
    let c = get_json(&app, &format!("/api/v3/work_packages/{child}")).await;
    assert_eq!(c["_links"]["parent"]["href"], Value::Null);
}
both_backends!(delete_removes_the_history);

async fn milestones_have_one_date(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let milestone = lookup(&app, "types", "Milestone").await;
    let mut body = minimal(project, "Release", milestone);
    body["date"] = json!("2024-06-01");
    let wp = new_wp(&app, body).await;
    assert_eq!(wp["date"], "2024-06-01");
    assert_eq!(wp["_links"]["type"]["title"], "Milestone");
    assert!(wp["startDate"].is_null() && wp["dueDate"].is_null(), "{wp}");
    assert!(wp["duration"].is_null());
    let id = wp["id"].as_i64().unwrap();
    let res = patch(&app, id, json!({"lockVersion": 0, "date": "2024-07-01"})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["date"], "2024-07-01");
    // Two different dates do not make a milestone.
    let mut body = minimal(project, "Bad", milestone);
    body["startDate"] = json!("2024-06-01");
    body["dueDate"] = json!("2024-06-05");
    let res = app
        .admin(Method::POST, "/api/v3/work_packages")
        .json(&body)
        .send()
        .await;
    assert_invalid(&res, "date");
    // A task has a start and a finish, and no `date`.
    let task = lookup(&app, "types", "Task").await;
    let mut body = minimal(project, "Task", task);
    body["startDate"] = json!("2024-06-01");
    body["dueDate"] = json!("2024-06-05");
    let t = new_wp(&app, body).await;
    assert!(t.get("date").is_none(), "{t}");
    assert_eq!(t["duration"], "P5D");
}
both_backends!(milestones_have_one_date);

async fn invalid_values_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let post = |body: Value| {
        app.admin(Method::POST, "/api/v3/work_packages")
            .json(&body)
            .send()
    };
    let with = |k: &str, v: Value| {
        let mut b = minimal(project, "Subject", task);
        b[k] = v;
        b
    };
    let with_link = |k: &str, v: Value| {
        let mut b = minimal(project, "Subject", task);
        b["_links"][k] = v;
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (with_link("status", href("statuses", 999)), "status"),
        (with_link("type", href("types", 999)), "type"),
        (with_link("priority", href("priorities", 999)), "priority"),
        (
            with_link("status", json!({"href": "/api/v3/types/1"})),
            "status",
        ),
        (with_link("project", json!({"href": null})), "project"),
        (with_link("assignee", href("users", 999)), "assignee"),
        (with_link("parent", href("work_packages", 999)), "parent"),
        (with("startDate", json!("2024-13-01")), "startDate"),
        (with("dueDate", json!("tomorrow")), "dueDate"),
        (with("percentageDone", json!(150)), "percentageDone"),
        (with("percentageDone", json!(-1)), "percentageDone"),
        (with("estimatedTime", json!("5 hours")), "estimatedTime"),
        (with("remainingTime", json!("PT")), "remainingTime"),
        (with("subject", json!("   ")), "subject"),
        (with("subject", json!("x".repeat(256))), "subject"),
        (json!({"subject": "No project"}), "project"),
    ];
    for (body, attribute) in cases {
        let res = post(body.clone()).await;
        assert_invalid(&res, attribute);
    }
    let mut body = minimal(project, "Backwards", task);
    body["startDate"] = json!("2024-05-10");
    body["dueDate"] = json!("2024-05-01");
    assert_invalid(&post(body).await, "dueDate");
    // A body that is not JSON, or of the wrong shape.
    let res = app
        .admin(Method::POST, "/api/v3/work_packages")
        .raw("application/json", "{\"subject\": ")
        .send()
        .await;
    res.assert_error(400, "InvalidRequestBody");
    assert_eq!(get_json(&app, "/api/v3/work_packages").await["total"], 0);

    // The same checks on update, with nothing written.
    let wp = new_wp(&app, minimal(project, "Valid", task)).await;
    let id = wp["id"].as_i64().unwrap();
    for (body, attribute) in [
        (
            json!({"lockVersion": 0, "percentageDone": 101}),
            "percentageDone",
        ),
        (
            json!({"lockVersion": 0, "_links": {"status": href("statuses", 999)}}),
            "status",
        ),
        (
            json!({"lockVersion": 0, "startDate": "2024-02-30"}),
            "startDate",
        ),
        (json!({"lockVersion": 0, "subject": ""}), "subject"),
    ] {
        assert_invalid(&patch(&app, id, body).await, attribute);
    }
    let after = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert_eq!(after["lockVersion"], 0);
    assert_eq!(after["subject"], "Valid");
    assert_eq!(journal_count(&app, id).await, 1);
}
both_backends!(invalid_values_are_refused);

/// Asserts a 422 `MultipleErrors` that embeds one PropertyConstraintViolation
/// for each of `attributes` and for nothing else.
fn assert_all_invalid(res: &Resp, attributes: &[&str]) {
    res.assert_error(422, "MultipleErrors");
    let body = res.json();
    assert_eq!(
        body["message"], "Multiple field constraints have been violated.",
        "{body}"
    );
    let mut found: Vec<&str> = body["_embedded"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.errors: {body}"))
        .iter()
        .map(|e| {
            assert_eq!(e["_type"], "Error", "{e}");
            assert_eq!(
                e["errorIdentifier"],
                "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
                "{e}"
            );
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            e["_embedded"]["details"]["attribute"]
                .as_str()
                .unwrap_or_else(|| panic!("no attribute: {e}"))
        })
        .collect();
    found.sort_unstable();
    let mut expected = attributes.to_vec();
    expected.sort_unstable();
    assert_eq!(found, expected, "{body}");
}

/// The attributes a form lists in `_embedded.validationErrors`, each a
/// PropertyConstraintViolation naming its own attribute.
fn form_error_attributes(form: &Value) -> Vec<String> {
    let errors = form["_embedded"]["validationErrors"]
        .as_object()
        .unwrap_or_else(|| panic!("no validationErrors: {form}"));
    for (attribute, e) in errors {
        assert_eq!(
            e["errorIdentifier"], "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
            "{e}"
        );
        assert_eq!(
            e["_embedded"]["details"]["attribute"],
            attribute.as_str(),
            "{e}"
        );
    }
    errors.keys().cloned().collect()
}

/// A body with several bad fields is refused with every one of them, on
/// create and update, whether a field is malformed (a date that is no
/// date) or refused by the rules (a blank subject, a finish before the
/// start); the forms list them all; nothing is written. One bad field is
/// still a single PropertyConstraintViolation.
async fn every_invalid_field_is_reported(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let post = |path: &'static str, body: Value| app.admin(Method::POST, path).json(&body).send();
    let mut backwards = minimal(project, "", task);
    backwards["startDate"] = json!("2024-05-10");
    backwards["dueDate"] = json!("2024-05-01");
    backwards["estimatedTime"] = json!("5 hours");
    let mut no_date = minimal(project, "  ", task);
    no_date["startDate"] = json!("2024-13-45");
    no_date["percentageDone"] = json!(150);
    assert_all_invalid(
        &post("/api/v3/work_packages", backwards.clone()).await,
        &["subject", "dueDate", "estimatedTime"],
    );
    assert_all_invalid(
        &post("/api/v3/work_packages", no_date.clone()).await,
        &["subject", "startDate", "percentageDone"],
    );
    let in_project = format!("/api/v3/projects/{project}/work_packages");
    let res = app
        .admin(Method::POST, &in_project)
        .json(&backwards)
        .send()
        .await;
    assert_all_invalid(&res, &["subject", "dueDate", "estimatedTime"]);
    assert_eq!(get_json(&app, "/api/v3/work_packages").await["total"], 0);

    let form = post("/api/v3/work_packages/form", backwards).await;
    assert_eq!(form.status, 200, "{}", form.text());
    let form = form.json();
    let mut attributes = form_error_attributes(&form);
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        ["dueDate", "estimatedTime", "subject"],
        "{form}"
    );
    assert!(form["_links"]["commit"].is_null(), "{form}");

    let wp = new_wp(&app, minimal(project, "Valid", task)).await;
    let id = wp["id"].as_i64().unwrap();
    let bad_update = json!({
        "lockVersion": 0, "subject": "", "startDate": "2024-05-10",
        "dueDate": "2024-05-01", "percentageDone": 101
    });
    assert_all_invalid(
        &patch(&app, id, bad_update.clone()).await,
        &["subject", "dueDate", "percentageDone"],
    );
    let malformed_update = json!({
        "lockVersion": 0, "subject": "", "dueDate": "tomorrow",
        "_links": {"status": href("statuses", 999)}
    });
    assert_all_invalid(
        &patch(&app, id, malformed_update.clone()).await,
        &["subject", "dueDate", "status"],
    );
    let form = app
        .admin(Method::POST, &format!("/api/v3/work_packages/{id}/form"))
        .json(&malformed_update)
        .send()
        .await;
    assert_eq!(form.status, 200, "{}", form.text());
    let mut attributes = form_error_attributes(&form.json());
    attributes.sort_unstable();
    assert_eq!(attributes, ["dueDate", "status", "subject"]);
    // One bad field: as before, one PropertyConstraintViolation.
    assert_invalid(
        &patch(&app, id, json!({"lockVersion": 0, "subject": ""})).await,
        "subject",
    );
    assert_invalid(
        &patch(&app, id, json!({"lockVersion": 0, "dueDate": "tomorrow"})).await,
        "dueDate",
    );
    let after = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert_eq!(after["lockVersion"], 0);
    assert_eq!(after["subject"], "Valid");
    assert_eq!(journal_count(&app, id).await, 1);
}
both_backends!(every_invalid_field_is_reported);

async fn parents_cannot_make_cycles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let a = new_wp(&app, minimal(project, "A", task)).await["id"]
        .as_i64()
        .unwrap();
    let b = new_wp(&app, minimal(project, "B", task)).await["id"]
        .as_i64()
        .unwrap();
    let c = new_wp(&app, minimal(project, "C", task)).await["id"]
        .as_i64()
        .unwrap();
    // A is the parent of B, B of C.
    let res = patch(
        &app,
        b,
        json!({"lockVersion": 0, "_links": {"parent": href("work_packages", a)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["_links"]["parent"]["title"], "A");
    let res = patch(
        &app,
        c,
        json!({"lockVersion": 0, "_links": {"parent": href("work_packages", b)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // B (a child) or C (a grandchild) as A's parent, or A itself: refused.
    for parent in [b, c, a] {
        let res = patch(
            &app,
            a,
            json!({"lockVersion": 0, "subject": "A renamed", "_links": {"parent": href("work_packages", parent)}}),
        )
        .await;
        assert_invalid(&res, "parent");
    }
    let now = get_json(&app, &format!("/api/v3/work_packages/{a}")).await;
    assert_eq!(now["subject"], "A", "nothing half-written");
    assert_eq!(now["lockVersion"], 0);
    assert_eq!(now["_links"]["parent"]["href"], Value::Null);
    assert_eq!(journal_count(&app, a).await, 1);
    // Removing the parent is fine.
    let res = patch(
        &app,
        b,
        json!({"lockVersion": 1, "_links": {"parent": {"href": null}}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["_links"]["parent"]["href"], Value::Null);
    // And now B may take A as a child.
    let res = patch(
        &app,
        a,
        json!({"lockVersion": 0, "_links": {"parent": href("work_packages", b)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
}
both_backends!(parents_cannot_make_cycles);

async fn bad_queries_are_invalid(backend: Backend) {
    let app = TestApp::start(backend).await;
    let bad = [
        filters(&[("nonsense", "=", &["1"])]),
        filters(&[("status", "~", &["1"])]),
        filters(&[("subject", "=", &["x"])]),
        filters(&[("assignee", "=", &["someone"])]),
        filters(&[("createdAt", "<>d", &["2024-13-01", ""])]),
        filters(&[("createdAt", "<>d", &["", ""])]),
        format!("filters={}", enc("[{\"status\":")),
        format!("filters={}", enc("{\"status\":{}}")),
        format!("filters={}", enc("[{\"status\":{\"values\":[]}}]")),
        format!("sortBy={}", enc(r#"[["nonsense","asc"]]"#)),
        format!("sortBy={}", enc(r#"[["id","up"]]"#)),
        "offset=0".to_string(),
        "pageSize=abc".to_string(),
        "timestamps=yesterday".to_string(),
    ];
    for q in bad {
        let res = app
            .admin(Method::GET, &format!("/api/v3/work_packages?{q}"))
            .send()
            .await;
        res.assert_error(400, "InvalidQuery");
    }
    // "me" needs someone signed in; anonymous visitors get no further.
    let res = app
        .anon(
            Method::GET,
            &format!(
                "/api/v3/work_packages?{}",
                filters(&[("assignee", "=", &["me"])])
            ),
        )
        .send()
        .await;
    assert!(res.status == 400 || res.status == 401, "{}", res.text());
}
both_backends!(bad_queries_are_invalid);

/// Sets the time of one journal of a work package.
pub async fn set_journal_time(app: &TestApp, wp: i64, version: i64, rfc3339: &str) {
    let at = Timestamp::parse_rfc3339(rfc3339).unwrap();
    let mut conn = app.services().db.conn().await.unwrap();
    let n = conn
        .execute(
            "UPDATE journals SET created_at = $1, updated_at = $1 \
             WHERE journable_type = 'WorkPackage' AND journable_id = $2 AND version = $3",
            params![at, wp, version],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    if version == 1 {
        conn.execute(
            "UPDATE work_packages SET created_at = $1 WHERE id = $2",
            params![at, wp],
        )
        .await
        .unwrap();
    }
}

async fn baseline_shows_earlier_states(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let new = lookup(&app, "statuses", "New").await;
    let in_progress = lookup(&app, "statuses", "In progress").await;
    let closed = lookup(&app, "statuses", "Closed").await;
    let wp = new_wp(&app, minimal(project, "Version one", task)).await;
    let id = wp["id"].as_i64().unwrap();
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 0, "subject": "Version two", "_links": {"status": href("statuses", in_progress)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 1, "subject": "Version three", "_links": {"status": href("statuses", closed)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    set_journal_time(&app, id, 1, "2024-01-01T00:00:00Z").await;
    set_journal_time(&app, id, 2, "2024-02-01T00:00:00Z").await;
    set_journal_time(&app, id, 3, "2024-03-01T00:00:00Z").await;

    let one = get_json(
        &app,
        &format!("/api/v3/work_packages/{id}?timestamps=2024-01-15T00:00:00Z,PT0S"),
    )
    .await;
    assert_eq!(one["subject"], "Version three");
    let then = &one["_embedded"]["attributesByTimestamp"][0];
    assert_eq!(then["subject"], "Version one", "{one}");
    assert_eq!(
        then["_links"]["status"]["href"],
        format!("/api/v3/statuses/{new}")
    );
    assert_eq!(then["_meta"]["exists"], true);
    assert_eq!(then["_meta"]["timestamp"], "2024-01-15T00:00:00Z");
    let now = &one["_embedded"]["attributesByTimestamp"][1];
    assert!(
        now.get("subject").is_none(),
        "unchanged attributes are left out: {now}"
    );
    assert_eq!(now["_meta"]["exists"], true);
    assert_eq!(one["_meta"]["timestamp"], "PT0S");

    let feb = get_json(
        &app,
        &format!("/api/v3/work_packages/{id}?timestamps=2024-02-15T00:00:00Z,PT0S"),
    )
    .await;
    let then = &feb["_embedded"]["attributesByTimestamp"][0];
    assert_eq!(then["subject"], "Version two");
    assert_eq!(
        then["_links"]["status"]["href"],
        format!("/api/v3/statuses/{in_progress}")
    );

    // Before it was created, it did not exist.
    let before = get_json(
        &app,
        &format!("/api/v3/work_packages/{id}?timestamps=2023-06-01T00:00:00Z,PT0S"),
    )
    .await;
    assert_eq!(
        before["_embedded"]["attributesByTimestamp"][0]["_meta"]["exists"],
        false
    );

    // In a list, each point in time says whether it matched the filters then.
    let f = filters(&[("status", "c", &[])]);
    let list = get_json(
        &app,
        &format!("/api/v3/work_packages?{f}&timestamps=2024-02-15T00:00:00Z,PT0S"),
    )
    .await;
    assert_eq!(ids(&list), vec![id]);
    let el = &list["_embedded"]["elements"][0];
    let at = &el["_embedded"]["attributesByTimestamp"];
    assert_eq!(at[0]["_meta"]["matchesFilters"], false, "{el}");
    assert_eq!(at[0]["_meta"]["exists"], true);
    assert_eq!(at[0]["subject"], "Version two");
    assert_eq!(at[1]["_meta"]["matchesFilters"], true);
    let next = list["_links"]["self"]["href"].as_str().unwrap();
    assert!(next.contains("timestamps="), "{next}");
    // A list as of an earlier time also holds what matched then but not
    // now: open work packages in February include this one, closed today.
    let open = filters(&[("status", "o", &[])]);
    let list = get_json(
        &app,
        &format!("/api/v3/work_packages?{open}&timestamps=2024-02-15T00:00:00Z,PT0S"),
    )
    .await;
    assert_eq!(ids(&list), vec![id], "{list}");
    assert_eq!(list["total"], 1);
    let el = &list["_embedded"]["elements"][0];
    assert_eq!(el["_meta"]["matchesFilters"], false, "{el}");
    let at = &el["_embedded"]["attributesByTimestamp"];
    assert_eq!(at[0]["_meta"]["matchesFilters"], true, "{el}");
    // ...and a time when nothing matched lists nothing more than today does.
    let list = get_json(
        &app,
        &format!("/api/v3/work_packages?{open}&timestamps=2023-06-01T00:00:00Z,PT0S"),
    )
    .await;
    assert_eq!(list["total"], 0, "{list}");
    let today = get_json(&app, &format!("/api/v3/work_packages?{open}")).await;
    assert_eq!(today["total"], 0);

    // Without timestamps there is no baseline data.
    let plain = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert!(
        plain.get("_embedded").is_none() && plain.get("_meta").is_none(),
        "{plain}"
    );
}
both_backends!(baseline_shows_earlier_states);

async fn who_may_do_what(backend: Backend) {
    let app = TestApp::start(backend).await;
    let private = make_project(&app, "private", false).await;
    let public = make_project(&app, "public", true).await;
    let task = lookup(&app, "types", "Task").await;
    let (reader_id, reader) = app.user("rita").await;
    let (member_id, member) = app.user("mike").await;
    let (_, outsider) = app.user("otto").await;
    add_member(&app, private, reader_id, "Reader").await;
    add_member(&app, private, member_id, "Member").await;
    let wp = new_wp(&app, minimal(private, "Secret", task)).await["id"]
        .as_i64()
        .unwrap();
    let open_wp = new_wp(&app, minimal(public, "Open", task)).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v3/work_packages/{wp}");

    // A reader sees, and may not change.
    let res = as_user(&app, &reader, Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let doc = res.json();
    assert!(
        doc["_links"]["update"].is_null() && doc["_links"]["delete"].is_null(),
        "{doc}"
    );
    as_user(&app, &reader, Method::POST, "/api/v3/work_packages")
        .json(&minimal(private, "Nope", task))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &reader, Method::PATCH, &path)
        .json(&json!({"lockVersion": 0, "subject": "Nope"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &reader, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    assert_eq!(get_json(&app, &path).await["subject"], "Secret");

    // A member may create and edit, not delete.
    let res = as_user(&app, &member, Method::POST, "/api/v3/work_packages")
        .json(&minimal(private, "Member's", task))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = as_user(&app, &member, Method::PATCH, &path)
        .json(&json!({"lockVersion": 0, "subject": "Edited by a member"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let doc = res.json();
    assert_eq!(doc["_links"]["update"]["href"], format!("{path}/form"));
    assert!(doc["_links"]["delete"].is_null());
    as_user(&app, &member, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");

    // Someone outside the private project does not see it at all.
    as_user(&app, &outsider, Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(&app, &outsider, Method::PATCH, &path)
        .json(&json!({"lockVersion": 1, "subject": "Nope"}))
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(&app, &outsider, Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = as_user(&app, &outsider, Method::POST, "/api/v3/work_packages")
        .json(&minimal(private, "Nope", task))
        .send()
        .await;
    assert_invalid(&res, "project");
    let list = as_user(&app, &outsider, Method::GET, "/api/v3/work_packages")
        .send()
        .await
        .json();
    assert_eq!(ids(&list), vec![open_wp], "only the public project's");
    assert_eq!(list["total"], 1);
    as_user(
        &app,
        &outsider,
        Method::GET,
        &format!("/api/v3/projects/{private}/work_packages"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");

    // Anonymous visitors: nothing, until anonymous access is on; then
    // public projects only, read-only.
    let res = app
        .anon(Method::GET, &format!("/api/v3/work_packages/{open_wp}"))
        .send()
        .await;
    assert!(res.status == 401 || res.status == 404, "{}", res.text());
    app.anon(Method::POST, "/api/v3/work_packages")
        .json(&minimal(public, "Anon", task))
        .send()
        .await
        .assert_error(401, "Unauthenticated");
    app.services().set_anonymous_access(true).await.unwrap();
    let res = app
        .anon(Method::GET, &format!("/api/v3/work_packages/{open_wp}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.anon(Method::GET, &path).send().await;
    res.assert_error(404, "NotFound");
    let list = app.anon(Method::GET, "/api/v3/work_packages").send().await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(ids(&list.json()), vec![open_wp]);
    app.anon(Method::PATCH, &format!("/api/v3/work_packages/{open_wp}"))
        .json(&json!({"lockVersion": 0, "subject": "Anon"}))
        .send()
        .await
        .assert_error(401, "Unauthenticated");
}
both_backends!(who_may_do_what);
