//! Bad input of every kind is answered with a 4xx in the API's error
//! format — never a 5xx — and leaves nothing half-written.

use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{Backend, Resp, TestApp};
use crate::users_api::enc;

fn valid_user() -> Value {
    json!({
        "login": "valid",
        "email": "valid@example.org",
        "firstName": "Val",
        "lastName": "Id",
        "password": "user password 1",
        "status": "active",
    })
}

async fn user_count(app: &TestApp) -> i64 {
    let res = app
        .admin(Method::GET, "/api/v3/users?pageSize=1")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["total"].as_i64().unwrap()
}

fn attribute(res: &Resp) -> Value {
    res.json()["_embedded"]["details"]["attribute"].clone()
}

async fn bad_bodies_on_create(backend: Backend) {
    let app = TestApp::start(backend).await;
    let before = user_count(&app).await;
    let post = |ct: &str, body: &[u8]| {
        app.admin(Method::POST, "/api/v3/users")
            .raw(ct, body.to_vec())
            .send()
    };

    // Not JSON, or JSON of the wrong shape.
    for body in [
        &b"{\"login\": "[..],
        b"{login: 'x'}",
        b"not json at all",
        b"{\"login\": \"a\"} trailing",
        b"[1, 2, 3]",
        b"\"a string\"",
        b"42",
        b"null",
        b"{\"login\": \"\\ud800\"}",
    ] {
        let res = post("application/json", body).await;
        res.assert_error(400, "InvalidRequestBody");
    }

    // Wrong types name the property.
    for (patch, prop) in [
        (json!({"admin": "yes"}), "admin"),
        (json!({"login": 5}), "login"),
        (json!({"email": ["a@example.org"]}), "email"),
        (json!({"firstName": {"first": "x"}}), "firstName"),
        (json!({"password": true}), "password"),
    ] {
        let mut body = valid_user();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app
            .admin(Method::POST, "/api/v3/users")
            .json(&body)
            .send()
            .await;
        let msg = res.assert_error(400, "InvalidRequestBody");
        assert!(msg.contains(prop), "{prop}: {msg}");
    }

    // Missing or blank required properties.
    for prop in ["login", "email", "firstName", "lastName", "password"] {
        let mut body = valid_user();
        body.as_object_mut().unwrap().remove(prop);
        let res = app
            .admin(Method::POST, "/api/v3/users")
            .json(&body)
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), prop, "missing {prop}");

        let mut body = valid_user();
        body[prop] = json!("   ");
        let res = app
            .admin(Method::POST, "/api/v3/users")
            .json(&body)
            .send()
            .await;
        // A blank password is simply too short.
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), prop, "blank {prop}");
    }

    // Invalid values.
    for (prop, value, attr) in [
        ("email", json!("not-an-email"), "email"),
        ("email", json!("a@b"), "email"),
        ("email", json!("two@at@example.org"), "email"),
        ("email", json!("nul\u{0}@example.org"), "email"),
        ("login", json!("has space"), "login"),
        ("login", json!("a".repeat(300)), "login"),
        ("login", json!("nul\u{0}"), "login"),
        ("firstName", json!("x".repeat(300)), "firstName"),
        ("firstName", json!("ctrl\u{0}char"), "firstName"),
        ("lastName", json!("tab\there"), "lastName"),
        ("password", json!("short"), "password"),
        ("password", json!("p".repeat(2000)), "password"),
        ("language", json!("xx"), "language"),
        ("language", json!("klingon"), "language"),
        ("timeZone", json!("Mars/Olympus_Mons"), "timeZone"),
        ("timeZone", json!("Europe/Berlin\u{0}"), "timeZone"),
        ("timeZone", json!(""), "timeZone"),
        ("status", json!("locked"), "status"),
        ("status", json!("sleeping"), "status"),
    ] {
        let mut body = valid_user();
        body[prop] = value.clone();
        let res = app
            .admin(Method::POST, "/api/v3/users")
            .json(&body)
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), attr, "{prop} = {value}");
    }

    // An invited user sets their own password.
    let mut body = valid_user();
    body["status"] = json!("invited");
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&body)
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "password");

    // Invalid UTF-8 inside a JSON string.
    let res = post(
        "application/json",
        b"{\"login\": \"\xff\xfe\", \"email\": \"x@example.org\"}",
    )
    .await;
    let msg = res.assert_error(400, "InvalidRequestBody");
    assert!(msg.contains("UTF-8"), "{msg}");

    // Only JSON is accepted.
    let body = serde_json::to_vec(&valid_user()).unwrap();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let res = post(ct, &body).await;
        res.assert_error(415, "TypeNotSupported");
    }
    assert_eq!(
        user_count(&app).await,
        before,
        "no refused request wrote a user"
    );

    // JSON with parameters is fine.
    let res = post("application/json; charset=utf-8", &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();

    // Exactly one user was created, by the one valid request.
    assert_eq!(user_count(&app).await, before + 1);
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{id}"))
        .send()
        .await;
    assert_eq!(res.json()["login"], "valid");

    // The same rules on update, and nothing of a refused update is written.
    for (patch, status) in [
        (json!({"email": "broken"}), 422),
        (json!({"firstName": ""}), 422),
        (json!({"language": "xx"}), 422),
        (json!({"timeZone": "Nowhere/Land"}), 422),
        (json!({"password": "short"}), 422),
        (json!({"admin": "yes"}), 400),
        (json!({"firstName": "Changed", "login": "bad login"}), 422),
    ] {
        let res = app
            .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
            .json(&patch)
            .send()
            .await;
        assert_eq!(res.status, status, "{patch}: {}", res.text());
        assert!(res.json()["errorIdentifier"].is_string());
    }
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{id}"))
        .send()
        .await;
    let u = res.json();
    assert_eq!(u["firstName"], "Val");
    assert_eq!(u["email"], "valid@example.org");
    assert_eq!(u["language"], "en");
    assert_eq!(u["admin"], false);
}
both_backends!(bad_bodies_on_create);

async fn oversized_bodies(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.server.max_body_bytes = 1024).await;
    let before = user_count(&app).await;
    let mut body = valid_user();
    body["firstName"] = json!("x".repeat(2000));
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&body)
        .send()
        .await;
    res.assert_error(413, "InvalidRequestBody");
    assert!(res.header("x-request-id").is_some());
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{}", app.admin_id))
        .json(&json!({"lastName": "y".repeat(5000)}))
        .send()
        .await;
    res.assert_error(413, "InvalidRequestBody");
    assert_eq!(user_count(&app).await, before);
    // Just under the limit is fine.
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&valid_user())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}
both_backends!(oversized_bodies);

async fn bad_queries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let get = |q: String| app.admin(Method::GET, &format!("/api/v3/users?{q}")).send();

    for size in [
        "0",
        "-1",
        "1001",
        "99999999999999999999",
        "abc",
        "1.5",
        "%00",
    ] {
        get(format!("pageSize={size}"))
            .await
            .assert_error(400, "InvalidQuery");
    }
    for offset in ["0", "-3", "abc", "99999999999999999999", "2147483647"] {
        get(format!("offset={offset}"))
            .await
            .assert_error(400, "InvalidQuery");
    }
    for ok in [
        "pageSize=1",
        "pageSize=1000",
        "offset=1",
        "offset=500&pageSize=2",
    ] {
        let res = get(ok.to_string()).await;
        assert_eq!(res.status, 200, "{ok}: {}", res.text());
    }

    for filters in [
        "[",
        "{}",
        "not json",
        "[1]",
        r#"[{"status":{}}]"#,
        r#"[{"status":{"operator":"=","values":"active"}}]"#,
        r#"[{"status":{"operator":"=","values":[{}]}}]"#,
        r#"[{"bogus":{"operator":"=","values":["x"]}}]"#,
        r#"[{"password":{"operator":"=","values":["x"]}}]"#,
        r#"[{"status":{"operator":"~","values":["active"]}}]"#,
        r#"[{"login":{"operator":"!~","values":["a"]}}]"#,
        r#"[{"name":{"operator":"<>","values":["a"]}}]"#,
        r#"[{"status":{"operator":"=","values":["sleeping"]}}]"#,
        r#"[{"status":{"operator":"=","values":["active"]},"login":{"operator":"=","values":["a"]}}]"#,
    ] {
        let res = get(format!("filters={}", enc(filters))).await;
        res.assert_error(400, "InvalidQuery");
    }
    for sort in [
        "[",
        "id",
        r#"["id"]"#,
        r#"[["password_hash","asc"]]"#,
        r#"[["id; DROP TABLE users","asc"]]"#,
        r#"[["id","sideways"]]"#,
        r#"[["id"]]"#,
        r#"[[1,"asc"]]"#,
    ] {
        let res = get(format!("sortBy={}", enc(sort))).await;
        res.assert_error(400, "InvalidQuery");
    }

    // NUL cannot be stored or compared as text on PostgreSQL and cuts strings
    // short in SQLite's functions: refused as a bad query on both.
    for filters in [
        r#"[{"login":{"operator":"=","values":["a\u0000b"]}}]"#,
        r#"[{"name":{"operator":"~","values":["\u0000"]}}]"#,
    ] {
        let res = get(format!("filters={}", enc(filters))).await;
        res.assert_error(400, "InvalidQuery");
    }
    // LIKE wildcards are searched for literally.
    let res = get(format!(
        "filters={}",
        enc(r#"[{"name":{"operator":"~","values":["%"]}}]"#)
    ))
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["total"], 0);
    let res = get(format!(
        "filters={}",
        enc(r#"[{"name":{"operator":"~","values":["_"]}}]"#)
    ))
    .await;
    assert_eq!(res.json()["total"], 0);

    // The tables are still there.
    assert_eq!(user_count(&app).await, 1);
}
both_backends!(bad_queries);

async fn unknown_ids_routes_and_methods(backend: Backend) {
    let app = TestApp::start(backend).await;
    for path in [
        "/api/v3/users/999999",
        "/api/v3/users/abc",
        "/api/v3/users/0",
        "/api/v3/users/-1",
        "/api/v3/users/1",
        "/api/v3/users/2",
        "/api/v3/users/99999999999999999999999",
        "/api/v3/users/1e3",
        "/api/v3/users/%00",
        "/api/v3/users/%FF",
        "/api/v3/users/%C3%28",
    ] {
        let res = app.admin(Method::GET, path).send().await;
        res.assert_error(404, "NotFound");
    }
    // The built-in principals (ids 1 and 2) are not accounts one can change either.
    for id in ["1", "2", "999999", "abc", "%FF"] {
        app.admin(Method::PATCH, &format!("/api/v3/users/{id}"))
            .json(&json!({"firstName": "X"}))
            .send()
            .await
            .assert_error(404, "NotFound");
        app.admin(Method::POST, &format!("/api/v3/users/{id}/lock"))
            .send()
            .await
            .assert_error(404, "NotFound");
        app.admin(Method::DELETE, &format!("/api/v3/users/{id}/lock"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    // Deleting them is refused with a reason; unknown ids are not found.
    for id in ["1", "2"] {
        app.admin(Method::DELETE, &format!("/api/v3/users/{id}"))
            .send()
            .await
            .assert_error(409, "Conflict");
    }
    for id in ["999999", "abc", "%FF", "0", "-1"] {
        app.admin(Method::DELETE, &format!("/api/v3/users/{id}"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    for id in ["999999", "abc", "%FF"] {
        app.admin(Method::DELETE, &format!("/api/v3/my/api_tokens/{id}"))
            .send()
            .await
            .assert_error(404, "NotFound");
        app.admin(Method::DELETE, &format!("/api/v3/my/sessions/{id}"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }

    for path in [
        "/api/v3/nothing",
        "/api/v3/users/3/nothing",
        "/nothing",
        "/api/v4/users",
        "/api/v3/wiki_pages_that_do_not_exist",
    ] {
        let res = app.admin(Method::GET, path).send().await;
        res.assert_error(404, "NotFound");
        let res = app.anon(Method::POST, path).send().await;
        res.assert_error(404, "NotFound");
    }

    for (method, path) in [
        (Method::PUT, "/api/v3/users"),
        (Method::DELETE, "/api/v3/users"),
        (Method::PUT, "/api/v3/users/3"),
        (Method::GET, "/api/v3/users/3/lock"),
        (Method::POST, "/health"),
        (Method::PATCH, "/api/v3/my/session"),
    ] {
        let res = app.admin(method.clone(), path).send().await;
        res.assert_error(405, "MethodNotAllowed");
    }
}
both_backends!(unknown_ids_routes_and_methods);

async fn paths_are_normalised_and_empty_bodies_work(backend: Backend) {
    let app = TestApp::start(backend).await;
    for path in [
        "/api/v3//users/",
        "/api/v3/users/",
        "//api//v3///users",
        "/api/v3//users/?pageSize=1",
    ] {
        let res = app.admin(Method::GET, path).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(res.json()["_type"], "Collection", "{path}");
    }
    for path in ["/api/v3/users/me/", "/api/v3//users//me"] {
        let res = app.admin(Method::GET, path).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(res.json()["login"], "admin");
    }
    let res = app.anon(Method::GET, "/health/").send().await;
    assert_eq!(res.status, 200, "{}", res.text());

    // POST /lock without a body, and with an empty JSON body.
    let (id, _) = app.user("empty").await;
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "locked");
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{id}/lock/"))
        .raw("application/json", Vec::new())
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "active");

    // An empty body on update changes nothing and is not an error.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{id}"))
        .raw("application/json", Vec::new())
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["login"], "empty");

    // An empty body on create reports every missing property.
    let before = user_count(&app).await;
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .raw("application/json", Vec::new())
        .send()
        .await;
    res.assert_error(422, "MultipleErrors");
    let mut missing: Vec<String> = res.json()["_embedded"]["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["_embedded"]["details"]["attribute"].to_string())
                .collect()
        })
        .unwrap_or_default();
    missing.sort_unstable();
    assert_eq!(
        missing,
        [
            "\"email\"",
            "\"firstName\"",
            "\"lastName\"",
            "\"login\"",
            "\"password\""
        ],
        "{}",
        res.text()
    );
    assert_eq!(user_count(&app).await, before);
}
both_backends!(paths_are_normalised_and_empty_bodies_work);
