//! Custom fields over HTTP: the seven formats on work packages (create,
//! change, show, list), bad values and required fields, the change
//! history, user custom fields, and the administration of fields.

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::projects::ProjectInput;
use steward_storage::{members, params, roles};

use crate::harness::{Backend, Resp, TestApp};

/// An instance with a project whose members are alice and carol; bob is
/// not a member.
struct Ctx {
    app: TestApp,
    project: i64,
    alice: (i64, String),
    carol: (i64, String),
    bob: (i64, String),
}

async fn setup(backend: Backend) -> Ctx {
    let app = TestApp::start(backend).await;
    let s = app.services();
    let admin = s.user(app.admin_id).await.unwrap();
    let access = s.access(Some(&admin)).await.unwrap();
    let project = s
        .create_project(
            &access,
            ProjectInput {
                identifier: Some("fields".into()),
                name: Some("Fields".into()),
                ..ProjectInput::default()
            },
        )
        .await
        .unwrap();
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let bob = app.user("bob").await;
    let mut conn = s.db.conn().await.unwrap();
    let member = roles::all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == "Member")
        .unwrap()
        .id;
    for u in [alice.0, carol.0] {
        members::insert(&mut conn, Some(project.id), u, &[member], Timestamp::now())
            .await
            .unwrap();
    }
    Ctx {
        app,
        project: project.id,
        alice,
        carol,
        bob,
    }
}

/// Creates a field as the administrator; returns its representation.
async fn field(app: &TestApp, body: Value) -> Value {
    let res = app
        .admin(Method::POST, "/api/v3/custom_fields")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn key(field: &Value) -> String {
    format!("customField{}", field["id"].as_i64().unwrap())
}

fn option_href(field: &Value, value: &str) -> String {
    field["_links"]["customOptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["title"] == value)
        .unwrap_or_else(|| panic!("no option {value}: {field}"))["href"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One field of every format, in this order: string, text, int, float,
/// date, bool, list (Low, High), user.
async fn all_formats(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, format) in [
        ("Code", "string"),
        ("Notes", "text"),
        ("Points", "int"),
        ("Ratio", "float"),
        ("Deadline", "date"),
        ("Urgent", "bool"),
        ("Severity", "list"),
        ("Reviewer", "user"),
    ] {
        let mut body = json!({
            "name": name,
            "fieldFormat": format,
            "kind": "WorkPackageCustomField",
        });
        if format == "list" {
            body["possibleValues"] = json!(["Low", "High"]);
        }
        out.push(field(app, body).await);
    }
    out
}

async fn create_wp(ctx: &Ctx, token: &str, body: Value) -> Resp {
    ctx.app
        .anon(
            Method::POST,
            &format!("/api/v3/projects/{}/work_packages", ctx.project),
        )
        .token(token)
        .json(&body)
        .send()
        .await
}

async fn get_wp(ctx: &Ctx, id: i64) -> Value {
    let res = ctx
        .app
        .admin(Method::GET, &format!("/api/v3/work_packages/{id}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn patch_wp(ctx: &Ctx, token: &str, id: i64, mut body: Value) -> Resp {
    let current = get_wp(ctx, id).await;
    body["lockVersion"] = current["lockVersion"].clone();
    ctx.app
        .anon(Method::PATCH, &format!("/api/v3/work_packages/{id}"))
        .token(token)
        .json(&body)
        .send()
        .await
}

fn assert_attribute(res: &Resp, attribute: &str) -> String {
    let msg = res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(
        res.json()["_embedded"]["details"]["attribute"],
        attribute,
        "{}",
        res.text()
    );
    msg
}

async fn count(app: &TestApp, sql: &str, p: Vec<steward_storage::Param>) -> i64 {
    let mut conn = app.services().db.conn().await.unwrap();
    conn.query_one::<i64>(sql, p).await.unwrap()
}

async fn every_format_round_trips(backend: Backend) {
    let ctx = setup(backend).await;
    let f = all_formats(&ctx.app).await;
    let k: Vec<String> = f.iter().map(key).collect();
    let (alice, carol) = (&ctx.alice, &ctx.carol);
    let low = option_href(&f[6], "Low");
    let high = option_href(&f[6], "High");

    let mut body = json!({
        "subject": "With every kind of field",
        k[0].clone(): "  ABC-1 ",
        k[1].clone(): {"raw": "Some *notes*"},
        k[2].clone(): 42,
        k[3].clone(): 1.5,
        k[4].clone(): "2024-02-29",
        k[5].clone(): true,
        "_links": {
            k[6].clone(): {"href": low},
            k[7].clone(): {"href": format!("/api/v3/users/{}", carol.0)},
        },
    });
    let res = create_wp(&ctx, &alice.1, body.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    for wp in [res.json(), get_wp(&ctx, id).await] {
        assert_eq!(wp[&k[0]], "ABC-1", "{wp}");
        assert_eq!(wp[&k[1]]["format"], "markdown");
        assert_eq!(wp[&k[1]]["raw"], "Some *notes*");
        assert!(wp[&k[1]]["html"]
            .as_str()
            .unwrap()
            .contains("<em>notes</em>"));
        assert_eq!(wp[&k[2]], 42);
        assert_eq!(wp[&k[3]], 1.5);
        assert_eq!(wp[&k[4]], "2024-02-29");
        assert_eq!(wp[&k[5]], true);
        assert_eq!(wp["_links"][&k[6]]["href"], low.as_str());
        assert_eq!(wp["_links"][&k[6]]["title"], "Low");
        assert_eq!(
            wp["_links"][&k[7]]["href"],
            format!("/api/v3/users/{}", carol.0)
        );
        assert_eq!(wp["_links"][&k[7]]["title"], "Test carol");
        // Link-valued fields are links only.
        assert!(wp.get(&k[6]).is_none() && wp.get(&k[7]).is_none(), "{wp}");
    }

    // The option resource the link points to.
    let opt = ctx.app.anon(Method::GET, &low).token(&alice.1).send().await;
    assert_eq!(opt.status, 200, "{}", opt.text());
    assert_eq!(opt.json()["_type"], "CustomOption");
    assert_eq!(opt.json()["value"], "Low");

    // A user value is a reference to the person, not text.
    let user_field = f[7]["id"].as_i64().unwrap();
    assert_eq!(
        count(
            &ctx.app,
            "SELECT count(*) FROM custom_values WHERE custom_field_id = $1 \
             AND value IS NULL AND value_user_id = $2",
            params![user_field, carol.0],
        )
        .await,
        1
    );

    // Change every value.
    body = json!({
        k[0].clone(): "XYZ",
        k[1].clone(): {"raw": "Other"},
        k[2].clone(): "-7",
        k[3].clone(): -0.25,
        k[4].clone(): "2025-01-01",
        k[5].clone(): false,
        "_links": {
            k[6].clone(): {"href": high},
            k[7].clone(): {"href": format!("/api/v3/users/{}", alice.0)},
        },
    });
    let res = patch_wp(&ctx, &alice.1, id, body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    for wp in [res.json(), get_wp(&ctx, id).await] {
        assert_eq!(wp[&k[0]], "XYZ");
        assert_eq!(wp[&k[1]]["raw"], "Other");
        assert_eq!(wp[&k[2]], -7);
        assert_eq!(wp[&k[3]], -0.25);
        assert_eq!(wp[&k[4]], "2025-01-01");
        assert_eq!(wp[&k[5]], false);
        assert_eq!(wp["_links"][&k[6]]["title"], "High");
        assert_eq!(wp["_links"][&k[7]]["title"], "Test alice");
    }
    assert_eq!(
        count(
            &ctx.app,
            "SELECT value_user_id FROM custom_values WHERE custom_field_id = $1",
            params![user_field],
        )
        .await,
        alice.0
    );

    // Clear some values: null, an empty text, a link to nothing.
    let res = patch_wp(
        &ctx,
        &alice.1,
        id,
        json!({
            k[0].clone(): null,
            k[2].clone(): "",
            "_links": { k[6].clone(): {"href": null}, k[7].clone(): null },
        }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let wp = res.json();
    assert!(wp[&k[0]].is_null() && wp[&k[2]].is_null(), "{wp}");
    assert!(wp["_links"][&k[6]]["href"].is_null(), "{wp}");
    assert!(wp["_links"][&k[7]]["href"].is_null(), "{wp}");
    assert_eq!(wp[&k[3]], -0.25, "untouched values stay");

    // A work package without values shows every field, empty.
    let res = create_wp(&ctx, &alice.1, json!({"subject": "Plain"})).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let plain = res.json();
    assert!(plain[&k[2]].is_null() && plain[&k[5]].is_null(), "{plain}");
    assert_eq!(plain[&k[1]]["raw"], "");

    // The listing shows the values of every row.
    let res = ctx
        .app
        .admin(
            Method::GET,
            &format!("/api/v3/projects/{}/work_packages", ctx.project),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    let rows = list["_embedded"]["elements"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let first = rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(first[&k[3]], -0.25);
    assert_eq!(first[&k[4]], "2025-01-01");
    assert_eq!(first[&k[1]]["raw"], "Other");
    let second = rows.iter().find(|r| r["id"] != id).unwrap();
    assert!(second[&k[3]].is_null(), "{second}");

    // A list value may also be given as the option's text, at the top level.
    let res = patch_wp(&ctx, &alice.1, id, json!({ k[6].clone(): "Low" })).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["_links"][&k[6]]["title"], "Low");
}
both_backends!(every_format_round_trips);

async fn bad_values_are_refused(backend: Backend) {
    let ctx = setup(backend).await;
    let f = all_formats(&ctx.app).await;
    let k: Vec<String> = f.iter().map(key).collect();
    let other_list = field(
        &ctx.app,
        json!({"name": "Other", "fieldFormat": "list", "kind": "WorkPackageCustomField",
               "possibleValues": ["X"]}),
    )
    .await;
    let foreign_option = option_href(&other_list, "X");
    let alice = &ctx.alice;
    let cases: Vec<(usize, Value)> = vec![
        (2, json!({ k[2].clone(): "abc" })),
        (2, json!({ k[2].clone(): 1.5 })),
        (2, json!({ k[2].clone(): 9_223_372_036_854_775_808u64 })),
        (4, json!({ k[4].clone(): "2024-02-30" })),
        (4, json!({ k[4].clone(): 20240201 })),
        (3, json!({ k[3].clone(): "NaN" })),
        (3, json!({ k[3].clone(): "inf" })),
        (5, json!({ k[5].clone(): "maybe" })),
        (0, json!({ k[0].clone(): ["a"] })),
        (
            6,
            json!({ "_links": { k[6].clone(): {"href": foreign_option} } }),
        ),
        (
            6,
            json!({ "_links": { k[6].clone(): {"href": "/api/v3/custom_options/999999"} } }),
        ),
        (6, json!({ k[6].clone(): "Medium" })),
        (
            7,
            json!({ "_links": { k[7].clone(): {"href": format!("/api/v3/users/{}", ctx.bob.0)} } }),
        ),
        (
            7,
            json!({ "_links": { k[7].clone(): {"href": "/api/v3/users/999999"} } }),
        ),
        (
            7,
            json!({ "_links": { k[7].clone(): {"href": "/api/v3/statuses/1"} } }),
        ),
    ];
    for (i, extra) in &cases {
        let mut body = json!({"subject": "Bad"});
        for (name, v) in extra.as_object().unwrap() {
            body[name] = v.clone();
        }
        let res = create_wp(&ctx, &alice.1, body.clone()).await;
        let msg = assert_attribute(&res, &k[*i]);
        assert!(!msg.is_empty());
    }
    let msg = assert_attribute(
        &create_wp(
            &ctx,
            &alice.1,
            json!({"subject": "Bad", "_links": { k[7].clone(): {"href": format!("/api/v3/users/{}", ctx.bob.0)} }}),
        )
        .await,
        &k[7],
    );
    assert!(msg.contains("not a member"), "{msg}");
    // Nothing was written.
    assert_eq!(
        count(&ctx.app, "SELECT count(*) FROM work_packages", params![]).await,
        0
    );
    assert_eq!(
        count(&ctx.app, "SELECT count(*) FROM custom_values", params![]).await,
        0
    );

    // A field that does not exist is refused too.
    let res = create_wp(
        &ctx,
        &alice.1,
        json!({"subject": "Bad", "customField999999": 1}),
    )
    .await;
    let msg = assert_attribute(&res, "customField");
    assert!(msg.contains("customField999999"), "{msg}");

    // On update, a bad value refuses the whole change.
    let res = create_wp(&ctx, &alice.1, json!({"subject": "Good", k[2].clone(): 5})).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let before = get_wp(&ctx, id).await;
    for (i, extra) in &cases {
        let mut body = json!({"subject": "Changed", k[2].clone(): 6});
        for (name, v) in extra.as_object().unwrap() {
            body[name] = v.clone();
        }
        assert_attribute(&patch_wp(&ctx, &alice.1, id, body).await, &k[*i]);
    }
    let after = get_wp(&ctx, id).await;
    assert_eq!(after["subject"], "Good");
    assert_eq!(after[&k[2]], 5);
    assert_eq!(after["lockVersion"], before["lockVersion"]);

    // Moving to a project the chosen person is not a member of is refused.
    let res = patch_wp(
        &ctx,
        &alice.1,
        id,
        json!({"_links": { k[7].clone(): {"href": format!("/api/v3/users/{}", ctx.carol.0)} }}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let s = ctx.app.services();
    let admin = s.user(ctx.app.admin_id).await.unwrap();
    let other = s
        .create_project(
            &s.access(Some(&admin)).await.unwrap(),
            ProjectInput {
                identifier: Some("other".into()),
                name: Some("Other".into()),
                ..ProjectInput::default()
            },
        )
        .await
        .unwrap();
    let mut conn = s.db.conn().await.unwrap();
    let member = roles::all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == "Member")
        .unwrap()
        .id;
    members::insert(
        &mut conn,
        Some(other.id),
        alice.0,
        &[member],
        Timestamp::now(),
    )
    .await
    .unwrap();
    drop(conn);
    let res = patch_wp(
        &ctx,
        &alice.1,
        id,
        json!({"_links": {"project": {"href": format!("/api/v3/projects/{}", other.id)}}}),
    )
    .await;
    let msg = assert_attribute(&res, &k[7]);
    assert!(msg.contains("not a member"), "{msg}");
}
both_backends!(bad_values_are_refused);

async fn required_fields(backend: Backend) {
    let ctx = setup(backend).await;
    let alice = &ctx.alice;
    let points = field(
        &ctx.app,
        json!({"name": "Points", "fieldFormat": "int", "kind": "WorkPackageCustomField",
               "isRequired": true}),
    )
    .await;
    assert_eq!(points["isRequired"], true);
    let kp = key(&points);

    let res = create_wp(&ctx, &alice.1, json!({"subject": "Missing"})).await;
    let msg = assert_attribute(&res, &kp);
    assert!(msg.contains("Points"), "{msg}");
    let res = create_wp(&ctx, &alice.1, json!({"subject": "Null", kp.clone(): null})).await;
    assert_attribute(&res, &kp);
    for table in [
        "work_packages",
        "journals",
        "custom_values",
        "custom_value_journals",
    ] {
        assert_eq!(
            count(
                &ctx.app,
                &format!("SELECT count(*) FROM {table}"),
                params![]
            )
            .await,
            0,
            "{table}"
        );
    }

    let res = create_wp(&ctx, &alice.1, json!({"subject": "Given", kp.clone(): 3})).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    // Clearing it is refused; other changes need not repeat it.
    assert_attribute(
        &patch_wp(&ctx, &alice.1, id, json!({ kp.clone(): null })).await,
        &kp,
    );
    let res = patch_wp(&ctx, &alice.1, id, json!({"subject": "Renamed"})).await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A field made required later is checked when it is sent, or when
    // the client asks for every required field to be checked.
    let code = field(
        &ctx.app,
        json!({"name": "Code", "fieldFormat": "string", "kind": "WorkPackageCustomField"}),
    )
    .await;
    let kc = key(&code);
    let res = ctx
        .app
        .admin(
            Method::PATCH,
            &format!("/api/v3/custom_fields/{}", code["id"]),
        )
        .json(&json!({"isRequired": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["isRequired"], true);
    let res = patch_wp(&ctx, &alice.1, id, json!({"subject": "Again"})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = patch_wp(
        &ctx,
        &alice.1,
        id,
        json!({"subject": "Checked", "_meta": {"validateCustomFields": true}}),
    )
    .await;
    assert_attribute(&res, &kc);
    let res = patch_wp(&ctx, &alice.1, id, json!({ kc.clone(): "C-1" })).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()[&kc], "C-1");
}
both_backends!(required_fields);

async fn history_shows_custom_field_changes(backend: Backend) {
    let ctx = setup(backend).await;
    let f = all_formats(&ctx.app).await;
    let k: Vec<String> = f.iter().map(key).collect();
    let (alice, carol) = (&ctx.alice, &ctx.carol);
    let res = create_wp(
        &ctx,
        &alice.1,
        json!({"subject": "Tracked", k[2].clone(): 1,
               "_links": { k[6].clone(): {"href": option_href(&f[6], "Low")} }}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let res = patch_wp(
        &ctx,
        &alice.1,
        id,
        json!({
            k[2].clone(): null,
            k[5].clone(): true,
            "_links": {
                k[6].clone(): {"href": option_href(&f[6], "High")},
                k[7].clone(): {"href": format!("/api/v3/users/{}", carol.0)},
            },
        }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // A change of custom values only is a change: lock version and journal.
    assert_eq!(res.json()["lockVersion"], 1);
    let res = ctx
        .app
        .anon(
            Method::POST,
            &format!("/api/v3/work_packages/{id}/activities"),
        )
        .token(&alice.1)
        .json(&json!({"comment": {"raw": "Just a note"}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    let s = ctx.app.services();
    let admin = s.user(ctx.app.admin_id).await.unwrap();
    let access = s.access(Some(&admin)).await.unwrap();
    let acts = s.activities(&access, id).await.unwrap();
    assert_eq!(acts.len(), 3);
    let change = |a: usize, name: &str| {
        acts[a]
            .changes
            .iter()
            .find(|c| c.attribute == name)
            .map(|c| (c.old.clone(), c.new.clone()))
    };
    assert_eq!(change(0, "Severity"), Some((None, Some("Low".into()))));
    assert_eq!(change(0, "Points"), Some((None, Some("1".into()))));
    assert_eq!(
        change(1, "Severity"),
        Some((Some("Low".into()), Some("High".into())))
    );
    assert_eq!(change(1, "Points"), Some((Some("1".into()), None)));
    assert_eq!(
        change(1, "Reviewer"),
        Some((None, Some("Test carol".into())))
    );
    assert_eq!(change(1, "Urgent"), Some((None, Some("Yes".into()))));
    assert_eq!(change(1, "Code"), None);
    assert!(
        acts[2].changes.is_empty(),
        "a comment changes nothing: {:?}",
        acts[2].changes
    );

    // Each journal keeps the values after its change, the person as a reference.
    let reviewer = f[7]["id"].as_i64().unwrap();
    assert_eq!(
        count(
            &ctx.app,
            "SELECT count(*) FROM custom_value_journals WHERE custom_field_id = $1 \
             AND value_user_id = $2 AND value IS NULL",
            params![reviewer, carol.0],
        )
        .await,
        2
    );

    // The API's activities say it in words.
    let res = ctx
        .app
        .admin(
            Method::GET,
            &format!("/api/v3/work_packages/{id}/activities"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let details = res.json()["_embedded"]["elements"][1]["details"].to_string();
    assert!(
        details.contains("Low") && details.contains("High"),
        "{details}"
    );
    assert!(details.contains("Test carol"), "{details}");
}
both_backends!(history_shows_custom_field_changes);

async fn user_custom_fields(backend: Backend) {
    let ctx = setup(backend).await;
    let app = &ctx.app;
    let number = field(
        app,
        json!({"name": "Employee number", "fieldFormat": "int", "kind": "UserCustomField"}),
    )
    .await;
    assert_eq!(number["_type"], "UserCustomField");
    let dept = field(
        app,
        json!({"name": "Department", "fieldFormat": "list", "_type": "UserCustomField",
               "possibleValues": ["Sales", "Ops"]}),
    )
    .await;
    let mentor = field(
        app,
        json!({"name": "Mentor", "fieldFormat": "user", "kind": "UserCustomField"}),
    )
    .await;
    let (kn, kd, km) = (key(&number), key(&dept), key(&mentor));

    let mut body = json!({
        "login": "dave", "email": "dave@example.org", "firstName": "Dave",
        "lastName": "Jones", "password": "user password 1", "status": "active",
        kn.clone(): 1234,
        "_links": {
            kd.clone(): {"href": option_href(&dept, "Ops")},
            km.clone(): {"href": format!("/api/v3/users/{}", ctx.alice.0)},
        },
    });
    // A bad value refuses the whole creation.
    body[&kn] = json!("twelve");
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&body)
        .send()
        .await;
    assert_attribute(&res, &kn);
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM users WHERE login = 'dave'",
            params![]
        )
        .await,
        0
    );
    body[&kn] = json!(1234);
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let dave = res.json();
    let dave_id = dave["id"].as_i64().unwrap();
    assert_eq!(dave[&kn], 1234);
    assert_eq!(dave["_links"][&kd]["title"], "Ops");
    assert_eq!(dave["_links"][&km]["title"], "Test alice");
    assert_eq!(
        count(
            app,
            "SELECT value_user_id FROM custom_values WHERE customized_type = 'Principal' \
             AND customized_id = $1 AND custom_field_id = $2",
            params![dave_id, mentor["id"].as_i64().unwrap()],
        )
        .await,
        ctx.alice.0
    );

    // The person sees their own fields; others do not see the person.
    let (_, dave_token) = app.services().create_api_token(dave_id, "t").await.unwrap();
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .token(&dave_token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()[&kn], 1234);
    let res = app
        .anon(Method::GET, &format!("/api/v3/users/{dave_id}"))
        .token(&ctx.bob.1)
        .send()
        .await;
    res.assert_error(404, "NotFound");
    // Administrators see them in the list too.
    let res = app.admin(Method::GET, "/api/v3/users").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let listed = res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == dave_id)
        .cloned()
        .unwrap();
    assert_eq!(listed["_links"][&kd]["title"], "Ops");
    // A user that does not exist is not a value; alice's other field stays empty.
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{}", ctx.alice.0))
        .send()
        .await;
    assert!(res.json()[&kn].is_null());

    // Only administrators change them.
    let res = app
        .anon(Method::PATCH, &format!("/api/v3/users/{dave_id}"))
        .token(&dave_token)
        .json(&json!({ kn.clone(): 1 }))
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{dave_id}"))
        .json(&json!({
            "_links": { km.clone(): {"href": "/api/v3/users/999999"} },
        }))
        .send()
        .await;
    assert_attribute(&res, &km);
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{dave_id}"))
        .json(&json!({
            kn.clone(): 99,
            "_links": { kd.clone(): {"href": option_href(&dept, "Sales")}, km.clone(): null },
        }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let dave = res.json();
    assert_eq!(dave[&kn], 99);
    assert_eq!(dave["_links"][&kd]["title"], "Sales");
    assert!(dave["_links"][&km]["href"].is_null(), "{dave}");

    // User fields do not apply to work packages.
    let res = create_wp(&ctx, &ctx.alice.1, json!({"subject": "x", kn.clone(): 1})).await;
    assert_attribute(&res, "customField");
}
both_backends!(user_custom_fields);

async fn managing_fields(backend: Backend) {
    let ctx = setup(backend).await;
    let app = &ctx.app;
    let sev = field(
        app,
        json!({"name": "Severity", "fieldFormat": "list", "kind": "WorkPackageCustomField",
               "possibleValues": ["Low", "Mid", "High"]}),
    )
    .await;
    let sev_id = sev["id"].as_i64().unwrap();
    assert_eq!(sev["possibleValues"], json!(["Low", "Mid", "High"]));
    assert_eq!(sev["fieldFormat"], "list");
    assert_eq!(sev["attribute"], key(&sev));

    // Not for other people.
    let alice = &ctx.alice.1;
    let path = format!("/api/v3/custom_fields/{sev_id}");
    for (method, p, body) in [
        (Method::GET, "/api/v3/custom_fields", None),
        (
            Method::POST,
            "/api/v3/custom_fields",
            Some(json!({"name": "X", "fieldFormat": "int", "kind": "WorkPackageCustomField"})),
        ),
        (Method::GET, path.as_str(), None),
        (Method::PATCH, path.as_str(), Some(json!({"name": "Y"}))),
        (Method::DELETE, path.as_str(), None),
    ] {
        let mut req = app.anon(method.clone(), p).token(alice);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.assert_error(403, "MissingPermission");
    }
    app.anon(Method::GET, "/api/v3/custom_fields")
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // Bad definitions.
    for (body, attribute) in [
        (
            json!({"fieldFormat": "int", "kind": "WorkPackageCustomField"}),
            "name",
        ),
        (
            json!({"name": "A", "fieldFormat": "money", "kind": "WorkPackageCustomField"}),
            "fieldFormat",
        ),
        (json!({"name": "A", "fieldFormat": "int"}), "kind"),
        (
            json!({"name": "A", "fieldFormat": "int", "kind": "ProjectCustomField"}),
            "kind",
        ),
        (
            json!({"name": "A", "fieldFormat": "list", "kind": "WorkPackageCustomField"}),
            "possibleValues",
        ),
        (
            json!({"name": "A", "fieldFormat": "list", "kind": "WorkPackageCustomField", "possibleValues": ["a", "a"]}),
            "possibleValues",
        ),
        (
            json!({"name": "A", "fieldFormat": "int", "kind": "WorkPackageCustomField", "possibleValues": ["a"]}),
            "possibleValues",
        ),
        (
            json!({"name": "severity", "fieldFormat": "int", "kind": "WorkPackageCustomField"}),
            "name",
        ),
    ] {
        let res = app
            .admin(Method::POST, "/api/v3/custom_fields")
            .json(&body)
            .send()
            .await;
        assert_attribute(&res, attribute);
    }
    // The same name is fine for another kind.
    field(
        app,
        json!({"name": "Severity", "fieldFormat": "string", "kind": "UserCustomField"}),
    )
    .await;
    let res = app
        .admin(Method::GET, "/api/v3/custom_fields?kind=UserCustomField")
        .send()
        .await;
    assert_eq!(res.json()["total"], 1);
    let res = app.admin(Method::GET, "/api/v3/custom_fields").send().await;
    assert_eq!(res.json()["total"], 2);

    // A work package holding "Mid".
    let res = create_wp(
        &ctx,
        alice,
        json!({"subject": "x", "_links": { key(&sev): {"href": option_href(&sev, "Mid")} }}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let wp = res.json()["id"].as_i64().unwrap();
    let high = option_href(&sev, "High");

    // Rename, reorder, drop "Mid" (the value that chose it goes), add "Critical".
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"name": "Impact", "possibleValues": ["High", "Low", "Critical"]}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let changed = res.json();
    assert_eq!(changed["name"], "Impact");
    assert_eq!(
        changed["possibleValues"],
        json!(["High", "Low", "Critical"])
    );
    assert_eq!(
        option_href(&changed, "High"),
        high,
        "kept options keep their ids"
    );
    let shown = get_wp(&ctx, wp).await;
    assert!(shown["_links"][&key(&sev)]["href"].is_null(), "{shown}");
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"fieldFormat": "int"}))
        .send()
        .await;
    assert_attribute(&res, "fieldFormat");

    // Deleting takes the values with it.
    let res = patch_wp(
        &ctx,
        alice,
        wp,
        json!({"_links": { key(&sev): {"href": high} }}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.admin(Method::DELETE, &path).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::GET, &high)
        .send()
        .await
        .assert_error(404, "NotFound");
    let shown = get_wp(&ctx, wp).await;
    assert!(shown["_links"].get(key(&sev)).is_none(), "{shown}");
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM custom_value_journals WHERE custom_field_id = $1",
            params![sev_id],
        )
        .await,
        0
    );
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
}
both_backends!(managing_fields);
