//! `/api/v3/users` over HTTP: the representation, pagination, filters and
//! sorting, updates, case-insensitive uniqueness, locking, the guard on the
//! last administrator, and what ordinary users and anonymous callers may do.

use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{Backend, Resp, TestApp};

fn new_user(login: &str) -> Value {
    json!({
        "login": login,
        "email": format!("{login}@example.org"),
        "firstName": "First",
        "lastName": login,
        "password": "user password 1",
        "status": "active",
    })
}

async fn create(app: &TestApp, body: &Value) -> Resp {
    app.admin(Method::POST, "/api/v3/users")
        .json(body)
        .send()
        .await
}

async fn create_ok(app: &TestApp, login: &str) -> i64 {
    let res = create(app, &new_user(login)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.admin(Method::GET, path).send().await;
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

fn logins(collection: &Value) -> Vec<String> {
    collection["_embedded"]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .map(|u| u["login"].as_str().unwrap().to_string())
        .collect()
}

fn ids(collection: &Value) -> Vec<i64> {
    collection["_embedded"]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect()
}

/// Percent-encodes a query parameter value (JSON filters carry `"`, `[` and `{`).
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

async fn total(app: &TestApp) -> i64 {
    get_json(app, "/api/v3/users?pageSize=1").await["total"]
        .as_i64()
        .unwrap()
}

async fn create_returns_the_user_and_show_finds_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let res = create(
        &app,
        &json!({
            "login": "alice",
            "email": "Alice@Example.org",
            "firstName": "Alice",
            "lastName": "Liddell",
            "password": "user password 1",
            "status": "active",
            "language": "de",
            "timeZone": "Europe/Berlin",
        }),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    assert!(
        res.header("x-request-id").is_some_and(|v| !v.is_empty()),
        "every response carries a request id"
    );
    let u = res.json();
    let id = u["id"].as_i64().expect("numeric id");
    assert_eq!(u["_type"], "User");
    assert_eq!(u["login"], "alice");
    assert_eq!(u["firstName"], "Alice");
    assert_eq!(u["lastName"], "Liddell");
    assert_eq!(u["name"], "Alice Liddell");
    assert_eq!(u["email"], "Alice@Example.org");
    assert_eq!(u["status"], "active");
    assert_eq!(u["admin"], false);
    assert_eq!(u["language"], "de");
    assert_eq!(u["timeZone"], "Europe/Berlin");
    assert_eq!(u["_links"]["self"]["href"], format!("/api/v3/users/{id}"));
    assert!(u["createdAt"].as_str().is_some_and(|s| s.ends_with('Z')));
    // Neither the password nor its hash ever leaves the server.
    assert!(u.get("password").is_none() && u.get("passwordHash").is_none());
    assert!(!res.text().contains("argon2"), "{}", res.text());
    assert!(!res.text().contains("user password 1"));

    let shown = get_json(&app, &format!("/api/v3/users/{id}")).await;
    for key in [
        "_type",
        "id",
        "login",
        "firstName",
        "lastName",
        "email",
        "status",
    ] {
        assert_eq!(shown[key], u[key], "{key}");
    }
    assert_eq!(
        shown["_links"]["self"]["href"],
        format!("/api/v3/users/{id}")
    );

    let me = get_json(&app, "/api/v3/users/me").await;
    assert_eq!(me["id"], app.admin_id);
    assert_eq!(me["login"], "admin");
    assert_eq!(me["admin"], true);
}
both_backends!(create_returns_the_user_and_show_finds_it);

async fn list_paginates_by_page_number(backend: Backend) {
    let app = TestApp::start(backend).await;
    for login in ["u1", "u2", "u3", "u4"] {
        create_ok(&app, login).await;
    }
    // Five users: the administrator and four.
    let p1 = get_json(&app, "/api/v3/users?pageSize=2").await;
    assert_eq!(p1["_type"], "Collection");
    assert_eq!(p1["total"], 5);
    assert_eq!(p1["count"], 2);
    assert_eq!(p1["pageSize"], 2);
    assert_eq!(p1["offset"], 1);
    let next = p1["_links"]["nextByOffset"]["href"].as_str().expect("next");
    assert!(
        next.contains("offset=2") && next.contains("pageSize=2"),
        "{next}"
    );
    assert!(p1["_links"].get("previousByOffset").is_none(), "{p1}");

    let p2 = get_json(&app, "/api/v3/users?pageSize=2&offset=2").await;
    assert_eq!(p2["count"], 2);
    assert_eq!(p2["offset"], 2);
    assert!(p2["_links"]["nextByOffset"]["href"]
        .as_str()
        .unwrap()
        .contains("offset=3"));
    assert!(p2["_links"]["previousByOffset"]["href"]
        .as_str()
        .unwrap()
        .contains("offset=1"));

    let p3 = get_json(&app, "/api/v3/users?pageSize=2&offset=3").await;
    assert_eq!(p3["count"], 1);
    assert_eq!(p3["total"], 5);
    assert!(
        p3["_links"].get("nextByOffset").is_none(),
        "no next link on the last page: {p3}"
    );
    assert!(p3["_links"]["previousByOffset"]["href"]
        .as_str()
        .unwrap()
        .contains("offset=2"));

    // The pages do not overlap and together hold every user.
    let mut all: Vec<i64> = [&p1, &p2, &p3].iter().flat_map(|p| ids(p)).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5);

    // A page that ends exactly with the collection has no next link either.
    let full = get_json(&app, "/api/v3/users?pageSize=5").await;
    assert_eq!(full["count"], 5);
    assert!(full["_links"].get("nextByOffset").is_none(), "{full}");

    // Past the end: empty, but the total is still right.
    let past = get_json(&app, "/api/v3/users?pageSize=2&offset=4").await;
    assert_eq!(past["count"], 0);
    assert_eq!(past["total"], 5);
    assert!(past["_links"].get("nextByOffset").is_none());

    // Defaults: page 1 of 20.
    let dflt = get_json(&app, "/api/v3/users").await;
    assert_eq!(dflt["pageSize"], 20);
    assert_eq!(dflt["offset"], 1);
    assert_eq!(dflt["count"], 5);
}
both_backends!(list_paginates_by_page_number);

async fn list_filters_and_sorts(backend: Backend) {
    let app = TestApp::start(backend).await;
    create_ok(&app, "alice").await;
    create_ok(&app, "bob").await;
    let carol = create_ok(&app, "carol").await;
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{carol}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let query = |filters: &str| format!("/api/v3/users?filters={}", enc(filters));

    let locked = get_json(
        &app,
        &query(r#"[{"status":{"operator":"=","values":["locked"]}}]"#),
    )
    .await;
    assert_eq!(logins(&locked), vec!["carol"]);
    assert_eq!(locked["total"], 1);

    let not_locked = get_json(
        &app,
        &query(r#"[{"status":{"operator":"!","values":["locked"]}}]"#),
    )
    .await;
    assert_eq!(not_locked["total"], 3);
    let mut l = logins(&not_locked);
    l.sort();
    assert_eq!(l, vec!["admin", "alice", "bob"]);

    let both = get_json(
        &app,
        &query(r#"[{"status":{"operator":"=","values":["active","locked"]}}]"#),
    )
    .await;
    assert_eq!(both["total"], 4);

    let by_login = get_json(
        &app,
        &query(r#"[{"login":{"operator":"=","values":["BOB"]}}]"#),
    )
    .await;
    assert_eq!(logins(&by_login), vec!["bob"], "login filter ignores case");

    let by_name = get_json(
        &app,
        &query(r#"[{"name":{"operator":"~","values":["ALI"]}}]"#),
    )
    .await;
    assert_eq!(logins(&by_name), vec!["alice"]);

    let combined = get_json(
        &app,
        &query(
            r#"[{"name":{"operator":"~","values":["c"]}},{"status":{"operator":"=","values":["active"]}}]"#,
        ),
    )
    .await;
    assert_eq!(logins(&combined), vec!["alice"], "filters combine with AND");
    let either = get_json(
        &app,
        &query(r#"[{"name":{"operator":"~","values":["c"]}}]"#),
    )
    .await;
    assert_eq!(logins(&either), vec!["alice", "carol"]);

    // Filters are kept in the pagination links.
    let paged = get_json(
        &app,
        &format!(
            "{}&pageSize=1",
            query(r#"[{"status":{"operator":"!","values":["locked"]}}]"#)
        ),
    )
    .await;
    let next = paged["_links"]["nextByOffset"]["href"].as_str().unwrap();
    assert!(next.contains("filters="), "{next}");

    let desc = get_json(
        &app,
        &format!("/api/v3/users?sortBy={}", enc(r#"[["login","desc"]]"#)),
    )
    .await;
    assert_eq!(logins(&desc), vec!["carol", "bob", "alice", "admin"]);

    let by_id = get_json(
        &app,
        &format!("/api/v3/users?sortBy={}", enc(r#"[["id","desc"]]"#)),
    )
    .await;
    let got = ids(&by_id);
    let mut sorted = got.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(got, sorted);
    assert_eq!(got.len(), 4);
}
both_backends!(list_filters_and_sorts);

async fn update_changes_only_writable_properties(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = create_ok(&app, "dora").await;
    let other = create_ok(&app, "other").await;
    let before = get_json(&app, &format!("/api/v3/users/{id}")).await;

    // Clients echo back what they got: _type, _links, id and timestamps are ignored.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .json(&json!({
            "_type": "User",
            "id": other,
            "firstName": "Dorothea",
            "createdAt": "2000-01-01T00:00:00Z",
            "unknownProperty": [1, 2, 3],
            "_links": {"self": {"href": format!("/api/v3/users/{other}")}},
        }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let u = res.json();
    assert_eq!(u["id"], id);
    assert_eq!(u["firstName"], "Dorothea");
    assert_eq!(u["lastName"], "dora");
    assert_eq!(u["login"], "dora");
    assert_eq!(u["createdAt"], before["createdAt"]);
    let shown = get_json(&app, &format!("/api/v3/users/{id}")).await;
    assert_eq!(shown["firstName"], "Dorothea");
    let untouched = get_json(&app, &format!("/api/v3/users/{other}")).await;
    assert_eq!(untouched["firstName"], "First");

    // E-mail addresses are unique without regard to case.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .json(&json!({"email": "OTHER@Example.ORG"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "email");

    // So are logins.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .json(&json!({"login": "Other"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "login");

    // Nothing of the refused changes was written.
    let shown = get_json(&app, &format!("/api/v3/users/{id}")).await;
    assert_eq!(shown["email"], "dora@example.org");
    assert_eq!(shown["login"], "dora");

    // A change of one's own address in case only is allowed.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .json(&json!({"email": "Dora@Example.org", "language": "fr"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["email"], "Dora@Example.org");
    assert_eq!(res.json()["language"], "fr");

    // Status is not changed by PATCH but through the lock resource.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .json(&json!({"status": "locked"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "status");
    assert_eq!(
        get_json(&app, &format!("/api/v3/users/{id}")).await["status"],
        "active"
    );

    let res = app
        .admin(Method::PATCH, "/api/v3/users/999999")
        .json(&json!({"firstName": "Nobody"}))
        .send()
        .await;
    res.assert_error(404, "NotFound");
}
both_backends!(update_changes_only_writable_properties);

async fn logins_and_emails_are_unique_without_case(backend: Backend) {
    let app = TestApp::start(backend).await;
    create_ok(&app, "bob").await;
    let before = total(&app).await;

    let mut body = new_user("Bob");
    body["email"] = json!("someone-else@example.org");
    let res = create(&app, &body).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "login");

    let mut body = new_user("robert");
    body["email"] = json!("BOB@EXAMPLE.ORG");
    let res = create(&app, &body).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "email");

    assert_eq!(total(&app).await, before, "nothing was created");
}
both_backends!(logins_and_emails_are_unique_without_case);

async fn lock_and_unlock(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, token) = app.user("lucy").await;
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["id"], id);

    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let u = res.json();
    assert_eq!(u["status"], "locked");
    assert_eq!(
        u["_links"]["unlock"]["href"],
        format!("/api/v3/users/{id}/lock")
    );
    assert!(u["_links"].get("lock").is_none());

    // A locked account's API token stops working at once.
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .token(&token)
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");

    // Locking again is harmless.
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        get_json(&app, &format!("/api/v3/users/{id}")).await["status"],
        "locked"
    );

    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "active");
    assert!(res.json()["_links"]["lock"]["href"].is_string());

    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200, "the token works again: {}", res.text());

    let res = app
        .admin(Method::POST, "/api/v3/users/999999/lock")
        .send()
        .await;
    res.assert_error(404, "NotFound");
}
both_backends!(lock_and_unlock);

async fn the_last_active_administrator_stays(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.admin_id;

    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{admin}/lock"))
        .send()
        .await;
    res.assert_error(409, "Conflict");
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{admin}"))
        .json(&json!({"admin": false}))
        .send()
        .await;
    res.assert_error(409, "Conflict");
    let me = get_json(&app, "/api/v3/users/me").await;
    assert_eq!(me["admin"], true);
    assert_eq!(me["status"], "active");

    // With a second administrator, either can be locked; a locked one does not count.
    let mut body = new_user("second");
    body["admin"] = json!(true);
    let res = create(&app, &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let second = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.json()["admin"], true);

    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{second}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{admin}/lock"))
        .send()
        .await;
    res.assert_error(409, "Conflict");

    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{second}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{second}"))
        .json(&json!({"admin": false}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["admin"], false);
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{admin}"))
        .json(&json!({"admin": false}))
        .send()
        .await;
    res.assert_error(409, "Conflict");
}
both_backends!(the_last_active_administrator_stays);

async fn ordinary_users_and_anonymous_callers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (me, token) = app.user("mallory").await;
    let (victim, _) = app.user("victim").await;
    let before = total(&app).await;

    let as_user = |m: Method, p: &str| app.anon(m, p).token(&token);

    as_user(Method::GET, "/api/v3/users")
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(Method::POST, "/api/v3/users")
        .json(&new_user("sneaky"))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(Method::PATCH, &format!("/api/v3/users/{victim}"))
        .json(&json!({"firstName": "Owned"}))
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(Method::DELETE, &format!("/api/v3/users/{victim}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    // Not even one's own record: that would allow making oneself an administrator.
    as_user(Method::PATCH, &format!("/api/v3/users/{me}"))
        .json(&json!({"admin": true}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(Method::POST, &format!("/api/v3/users/{victim}/lock"))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(Method::DELETE, &format!("/api/v3/users/{victim}/lock"))
        .send()
        .await
        .assert_error(403, "MissingPermission");

    // Other users do not exist for them; they see only themselves.
    for other in [victim, app.admin_id] {
        as_user(Method::GET, &format!("/api/v3/users/{other}"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    for path in [format!("/api/v3/users/{me}"), "/api/v3/users/me".into()] {
        let res = as_user(Method::GET, &path).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let u = res.json();
        assert_eq!(u["id"], me);
        assert_eq!(u["login"], "mallory");
        assert_eq!(u["admin"], false);
        assert!(u["_links"].get("updateImmediately").is_none(), "{u}");
        assert!(u["_links"].get("lock").is_none(), "{u}");
    }

    // Nothing they tried changed anything.
    assert_eq!(total(&app).await, before);
    let v = get_json(&app, &format!("/api/v3/users/{victim}")).await;
    assert_eq!(v["firstName"], "Test");
    assert_eq!(v["status"], "active");
    assert_eq!(
        get_json(&app, &format!("/api/v3/users/{me}")).await["admin"],
        false
    );

    // Anonymous callers are told to authenticate.
    for (method, path) in [
        (Method::GET, "/api/v3/users"),
        (Method::GET, "/api/v3/users/me"),
        (Method::GET, "/api/v3/users/3"),
        (Method::POST, "/api/v3/users"),
    ] {
        let res = app.anon(method, path).json(&new_user("anon")).send().await;
        res.assert_error(401, "Unauthenticated");
        let challenge = res.header("www-authenticate").unwrap_or("");
        assert!(challenge.starts_with("Basic "), "{path}: {challenge:?}");
        assert!(res.header("x-request-id").is_some());
    }
    assert_eq!(total(&app).await, before);
}
both_backends!(ordinary_users_and_anonymous_callers);

async fn request_ids(backend: Backend) {
    let app = TestApp::start(backend).await;
    // A sane incoming id is kept, so that a proxy's id can be followed through.
    let res = app
        .admin(Method::GET, "/api/v3/users/me")
        .header("x-request-id", "proxy-abc.123")
        .send()
        .await;
    assert_eq!(res.header("x-request-id"), Some("proxy-abc.123"));
    // One that could inject into logs is replaced.
    let res = app
        .admin(Method::GET, "/api/v3/users/me")
        .header("x-request-id", "a b\"c")
        .send()
        .await;
    let id = res.header("x-request-id").expect("a request id");
    assert_ne!(id, "a b\"c");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    // Every answer gets a fresh one.
    let a = app.anon(Method::GET, "/health").send().await;
    let b = app.anon(Method::GET, "/health").send().await;
    assert_eq!(a.status, 200);
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}
both_backends!(request_ids);
