//! What administrators manage besides accounts and projects: types,
//! statuses and priorities (`POST`/`PATCH`/`DELETE`, a Steward extension),
//! and the instance setting that lets anonymous visitors read public
//! projects, through `/api/v3/settings` and `steward settings`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use hyper::Method;
use serde_json::{json, Value};
use steward_storage::{settings, Db, DbOptions};

use crate::harness::{Backend, Resp, TestApp, TestDb};
use crate::projects_api::{as_user, element_ids, new_project};
use crate::work_packages_api::{filters, href, lookup, minimal, new_wp};

fn attribute(res: &Resp) -> String {
    res.json()["_embedded"]["details"]["attribute"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[track_caller]
fn assert_invalid(res: &Resp, attr: &str) {
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(res), attr, "{}", res.text());
}

async fn send(app: &TestApp, method: Method, path: &str, body: Value) -> Resp {
    app.admin(method, path).json(&body).send().await
}

/// The elements of a lookup collection (all on one page).
async fn elements(app: &TestApp, collection: &str) -> Vec<Value> {
    let res = app
        .admin(Method::GET, &format!("/api/v3/{collection}?pageSize=100"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .clone()
}

/// The names of the rows flagged as default.
async fn defaults(app: &TestApp, collection: &str) -> Vec<String> {
    elements(app, collection)
        .await
        .iter()
        .filter(|e| e["isDefault"] == true)
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

async fn types_are_managed_by_administrators(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (_alice, alice_token) = app.user("alice").await;

    let res = send(
        &app,
        Method::POST,
        "/api/v3/types",
        json!({"name": " Risk ", "color": "#aa00cc", "isMilestone": false}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let risk = res.json();
    let id = risk["id"].as_i64().unwrap();
    let path = format!("/api/v3/types/{id}");
    assert_eq!(risk["_type"], "Type");
    assert_eq!(risk["name"], "Risk");
    assert_eq!(risk["color"], "#AA00CC");
    assert_eq!(risk["isDefault"], false);
    assert_eq!(risk["isMilestone"], false);
    // After the seven built-in types.
    assert_eq!(risk["position"], 8);
    assert_eq!(risk["_links"]["self"]["href"], path);
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.json()["name"], "Risk");

    // Everyone reads types; only administrators change them.
    let res = as_user(&app, &alice_token, Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    as_user(&app, &alice_token, Method::POST, "/api/v3/types")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    app.anon(Method::POST, "/api/v3/types")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // Validation names the attribute.
    for (body, attr) in [
        (json!({}), "name"),
        (json!({"name": " "}), "name"),
        (json!({"name": "risk"}), "name"),
        (json!({"name": "BUG"}), "name"),
        (json!({"name": "Other", "color": "red"}), "color"),
        (json!({"name": "Other", "color": "#12345"}), "color"),
        (json!({"name": "Other", "position": 0}), "position"),
    ] {
        let res = send(&app, Method::POST, "/api/v3/types", body.clone()).await;
        assert_invalid(&res, attr);
    }
    assert_invalid(
        &send(&app, Method::PATCH, &path, json!({"name": "Task"})).await,
        "name",
    );
    send(&app, Method::POST, "/api/v3/types", json!({"name": 1}))
        .await
        .assert_error(400, "InvalidRequestBody");
    send(
        &app,
        Method::PATCH,
        "/api/v3/types/999999",
        json!({"name": "Ghost"}),
    )
    .await
    .assert_error(404, "NotFound");

    // Changing properties, one at a time; absent ones stay.
    let res = send(
        &app,
        Method::PATCH,
        &path,
        json!({"name": "Risk item", "isMilestone": true, "position": 3}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let t = res.json();
    assert_eq!(t["name"], "Risk item");
    assert_eq!(t["isMilestone"], true);
    assert_eq!(t["position"], 3);
    assert_eq!(t["color"], "#AA00CC");
    let res = send(&app, Method::PATCH, &path, json!({"color": null})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["color"], "");
    assert_eq!(res.json()["name"], "Risk item");

    // Exactly one default: making Risk the default takes the flag from Task.
    assert_eq!(defaults(&app, "types").await, vec!["Task"]);
    let res = send(&app, Method::PATCH, &path, json!({"isDefault": true})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["isDefault"], true);
    assert_eq!(defaults(&app, "types").await, vec!["Risk item"]);
    // A work package without a type gets the default.
    let wp = new_wp(
        &app,
        json!({"subject": "Untyped", "_links": {"project": href("projects", project)}}),
    )
    .await;
    assert_eq!(wp["_links"]["type"]["title"], "Risk item");
    let wp_id = wp["id"].as_i64().unwrap();
    // The default can be moved, not unset or deleted.
    assert_invalid(
        &send(&app, Method::PATCH, &path, json!({"isDefault": false})).await,
        "isDefault",
    );
    let msg = app
        .admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    assert!(msg.contains("default"), "{msg}");
    let task = lookup(&app, "types", "Task").await;
    let res = send(
        &app,
        Method::PATCH,
        &format!("/api/v3/types/{task}"),
        json!({"isDefault": true}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(defaults(&app, "types").await, vec!["Task"]);
    // A new type can be created as the default.
    let res = send(
        &app,
        Method::POST,
        "/api/v3/types",
        json!({"name": "Chore", "isDefault": true, "position": 20}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let chore = res.json()["id"].as_i64().unwrap();
    assert_eq!(defaults(&app, "types").await, vec!["Chore"]);
    send(
        &app,
        Method::PATCH,
        &format!("/api/v3/types/{task}"),
        json!({"isDefault": true}),
    )
    .await;

    // A type in use, now or in a work package's history, is kept.
    let msg = app
        .admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    assert!(msg.contains("used by work packages"), "{msg}");
    let lock = wp["lockVersion"].clone();
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/work_packages/{wp_id}"))
        .json(&json!({"lockVersion": lock, "_links": {"type": href("types", task)}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/work_packages/{wp_id}"))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app.admin(Method::DELETE, &path).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/types/{chore}"))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let names: Vec<String> = elements(&app, "types")
        .await
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(!names.contains(&"Risk item".to_string()));
}
both_backends!(types_are_managed_by_administrators);

async fn statuses_are_managed_by_administrators(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (_alice, alice_token) = app.user("alice").await;
    let task = lookup(&app, "types", "Task").await;

    let res = send(
        &app,
        Method::POST,
        "/api/v3/statuses",
        json!({"name": "Blocked", "isClosed": true, "color": "#123abc"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let s = res.json();
    let id = s["id"].as_i64().unwrap();
    let path = format!("/api/v3/statuses/{id}");
    assert_eq!(s["_type"], "Status");
    assert_eq!(s["name"], "Blocked");
    assert_eq!(s["isClosed"], true);
    assert_eq!(s["isDefault"], false);
    assert_eq!(s["color"], "#123ABC");
    assert_eq!(s["position"], 15);

    as_user(&app, &alice_token, Method::POST, "/api/v3/statuses")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&json!({"isClosed": false}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");

    for (body, attr) in [
        (json!({"isClosed": true}), "name"),
        (json!({"name": "blocked"}), "name"),
        (json!({"name": "Waiting", "color": "#GGGGGG"}), "color"),
        (json!({"name": "Waiting", "position": -1}), "position"),
    ] {
        let res = send(&app, Method::POST, "/api/v3/statuses", body).await;
        assert_invalid(&res, attr);
    }
    assert_invalid(
        &send(&app, Method::PATCH, &path, json!({"name": "New"})).await,
        "name",
    );

    // Work packages in a closed status count as closed; reopening the
    // status moves them, and the cached totals follow.
    let mut body = minimal(project, "Stuck", task);
    body["_links"]["status"] = href("statuses", id);
    let stuck = new_wp(&app, body).await["id"].as_i64().unwrap();
    let open_wp = new_wp(&app, minimal(project, "Moving", task)).await;
    let open_id = open_wp["id"].as_i64().unwrap();
    assert_eq!(open_wp["_links"]["status"]["title"], "New");
    let open_filter = format!("/api/v3/work_packages?{}", filters(&[("status", "o", &[])]));
    let res = app.admin(Method::GET, &open_filter).send().await;
    assert_eq!(res.json()["total"], 1);
    assert_eq!(element_ids(&res.json()), vec![open_id]);
    let res = send(&app, Method::PATCH, &path, json!({"isClosed": false})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["isClosed"], false);
    let res = app.admin(Method::GET, &open_filter).send().await;
    assert_eq!(res.json()["total"], 2);
    assert_eq!(element_ids(&res.json()), vec![stuck, open_id]);

    // One default status: new work packages start in it.
    let res = send(&app, Method::PATCH, &path, json!({"isDefault": true})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(defaults(&app, "statuses").await, vec!["Blocked"]);
    let wp = new_wp(&app, minimal(project, "Fresh", task)).await;
    assert_eq!(wp["_links"]["status"]["title"], "Blocked");
    assert_invalid(
        &send(&app, Method::PATCH, &path, json!({"isDefault": false})).await,
        "isDefault",
    );
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    let new = lookup(&app, "statuses", "New").await;
    let res = send(
        &app,
        Method::PATCH,
        &format!("/api/v3/statuses/{new}"),
        json!({"isDefault": true}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(defaults(&app, "statuses").await, vec!["New"]);

    // In use: refused, with a message that says why.
    let msg = app
        .admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    assert!(
        msg.contains("Blocked") && msg.contains("work packages"),
        "{msg}"
    );

    // An unused status goes.
    let res = send(
        &app,
        Method::POST,
        "/api/v3/statuses",
        json!({"name": "Unused"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["color"], "");
    let unused = res.json()["id"].as_i64().unwrap();
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/statuses/{unused}"))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &format!("/api/v3/statuses/{unused}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    assert_eq!(elements(&app, "statuses").await.len(), 15);
}
both_backends!(statuses_are_managed_by_administrators);

async fn priorities_are_managed_by_administrators(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (_alice, alice_token) = app.user("alice").await;
    let task = lookup(&app, "types", "Task").await;

    let res = send(
        &app,
        Method::POST,
        "/api/v3/priorities",
        json!({"name": "Someday", "isActive": false}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let p = res.json();
    let id = p["id"].as_i64().unwrap();
    let path = format!("/api/v3/priorities/{id}");
    assert_eq!(p["_type"], "Priority");
    assert_eq!(p["isActive"], false);
    assert_eq!(p["isDefault"], false);
    assert_eq!(p["position"], 5);

    as_user(&app, &alice_token, Method::POST, "/api/v3/priorities")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    assert_invalid(
        &send(
            &app,
            Method::POST,
            "/api/v3/priorities",
            json!({"name": "HIGH"}),
        )
        .await,
        "name",
    );
    // The default must be active.
    assert_invalid(
        &send(&app, Method::PATCH, &path, json!({"isDefault": true})).await,
        "isActive",
    );
    let res = send(
        &app,
        Method::PATCH,
        &path,
        json!({"isDefault": true, "isActive": true}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(defaults(&app, "priorities").await, vec!["Someday"]);
    let wp = new_wp(&app, minimal(project, "Later", task)).await;
    assert_eq!(wp["_links"]["priority"]["title"], "Someday");
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    let normal = lookup(&app, "priorities", "Normal").await;
    send(
        &app,
        Method::PATCH,
        &format!("/api/v3/priorities/{normal}"),
        json!({"isDefault": true}),
    )
    .await;
    assert_eq!(defaults(&app, "priorities").await, vec!["Normal"]);
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(409, "Conflict");
    let res = app
        .admin(
            Method::DELETE,
            &format!("/api/v3/work_packages/{}", wp["id"]),
        )
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app.admin(Method::DELETE, &path).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(elements(&app, "priorities").await.len(), 4);
}
both_backends!(priorities_are_managed_by_administrators);

async fn the_settings_api_switches_anonymous_reading(backend: Backend) {
    let app = TestApp::start(backend).await;
    let public = new_project(&app, "open", true).await;
    let task = lookup(&app, "types", "Task").await;
    let wp = new_wp(&app, minimal(public, "Visible", task)).await["id"]
        .as_i64()
        .unwrap();
    let (_alice, alice_token) = app.user("alice").await;
    let wps = format!("/api/v3/projects/{public}/work_packages");

    let res = app.admin(Method::GET, "/api/v3/settings").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let s = res.json();
    assert_eq!(s["_type"], "Settings");
    assert_eq!(s["anonymousAccessPublicProjects"], false);
    assert_eq!(s["_links"]["self"]["href"], "/api/v3/settings");

    // Administrators only.
    as_user(&app, &alice_token, Method::GET, "/api/v3/settings")
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::PATCH, "/api/v3/settings")
        .json(&json!({"anonymousAccessPublicProjects": true}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    app.anon(Method::GET, "/api/v3/settings")
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // Off: anonymous visitors are turned away.
    app.anon(Method::GET, &wps)
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    let res = send(
        &app,
        Method::PATCH,
        "/api/v3/settings",
        json!({"_type": "Settings", "anonymousAccessPublicProjects": true}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["anonymousAccessPublicProjects"], true);
    let res = app.anon(Method::GET, &wps).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(element_ids(&res.json()), vec![wp]);
    let res = app.admin(Method::GET, "/api/v3/settings").send().await;
    assert_eq!(res.json()["anonymousAccessPublicProjects"], true);
    // An empty change changes nothing.
    let res = send(&app, Method::PATCH, "/api/v3/settings", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["anonymousAccessPublicProjects"], true);

    // Bad bodies change nothing.
    send(
        &app,
        Method::PATCH,
        "/api/v3/settings",
        json!({"anonymousAccessPublicProjects": "no"}),
    )
    .await
    .assert_error(400, "InvalidRequestBody");
    let msg = send(
        &app,
        Method::PATCH,
        "/api/v3/settings",
        json!({"anonymousAccess": false}),
    )
    .await
    .assert_error(400, "InvalidRequestBody");
    assert!(msg.contains("anonymousAccess"), "{msg}");
    let res = send(
        &app,
        Method::PATCH,
        "/api/v3/settings",
        json!({"_type": "Project", "anonymousAccessPublicProjects": false}),
    )
    .await;
    assert_invalid(&res, "_type");
    let res = app.anon(Method::GET, &wps).send().await;
    assert_eq!(res.status, 200, "{}", res.text());

    // Off again.
    let res = send(
        &app,
        Method::PATCH,
        "/api/v3/settings",
        json!({"anonymousAccessPublicProjects": false}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["anonymousAccessPublicProjects"], false);
    app.anon(Method::GET, &wps)
        .send()
        .await
        .assert_error(401, "Unauthenticated");
}
both_backends!(the_settings_api_switches_anonymous_reading);

// ---------------------------------------------------------------- CLI

/// Runs the `steward` binary with a clean environment, the given data
/// directory and, for PostgreSQL, the given database.
fn steward(data_dir: &PathBuf, database_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
    for (k, _) in std::env::vars() {
        if k.starts_with("STEWARD_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("STEWARD_DATA_DIR", data_dir)
        .env("STEWARD_LOG_LEVEL", "warn")
        .args(args)
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("STEWARD_DATABASE_URL", url);
    }
    tokio::task::block_in_place(|| cmd.output().expect("run the steward binary"))
}

#[track_caller]
fn stdout_of(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one error line of a failed run (exit code 1).
#[track_caller]
fn error_of(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("steward: error: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

async fn the_settings_command_shows_and_sets(backend: Backend) {
    // The harness's database: a new SQLite file or PostgreSQL schema.
    let db = TestDb::new(&backend).await;
    let data_dir = db.dir.join("data");
    let url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres(_) => Some(db.url.as_str()),
    };
    let show = stdout_of(&steward(&data_dir, url, &["settings", "show"]));
    assert!(show.contains("anonymous-access: off"), "{show}");

    let out = stdout_of(&steward(
        &data_dir,
        url,
        &["settings", "set", "anonymous-access", "on"],
    ));
    assert!(out.contains("anonymous-access is now on"), "{out}");
    let show = stdout_of(&steward(&data_dir, url, &["settings", "show"]));
    assert!(show.contains("anonymous-access: on"), "{show}");

    // What the server reads.
    let db_url = match url {
        Some(u) => u.to_string(),
        None => format!("sqlite:{}", data_dir.join("steward.sqlite3").display()),
    };
    let conn_db = Db::connect(&db_url, &DbOptions::default()).await.unwrap();
    let mut conn = conn_db.conn().await.unwrap();
    let stored = settings::get(&mut conn, steward_services::authz::ANONYMOUS_ACCESS)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("true"));
    drop(conn);
    conn_db.close().await;

    // Errors name the problem and change nothing.
    let err = error_of(&steward(
        &data_dir,
        url,
        &["settings", "set", "anonymous-access", "maybe"],
    ));
    assert!(err.contains("on or off") && err.contains("maybe"), "{err}");
    let err = error_of(&steward(
        &data_dir,
        url,
        &["settings", "set", "frobnicate", "on"],
    ));
    assert!(
        err.contains("frobnicate") && err.contains("anonymous-access"),
        "{err}"
    );
    let show = stdout_of(&steward(&data_dir, url, &["settings", "show"]));
    assert!(show.contains("anonymous-access: on"), "{show}");
    // Missing arguments are usage errors.
    let out = steward(&data_dir, url, &["settings", "set", "anonymous-access"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let out = stdout_of(&steward(
        &data_dir,
        url,
        &["settings", "set", "anonymous-access", "off"],
    ));
    assert!(out.contains("anonymous-access is now off"), "{out}");
    let show = stdout_of(&steward(&data_dir, url, &["settings", "show"]));
    assert!(show.contains("anonymous-access: off"), "{show}");
    let help = stdout_of(&steward(&data_dir, url, &["settings", "--help"]));
    assert!(help.contains("show") && help.contains("set"), "{help}");
}
both_backends!(the_settings_command_shows_and_sets);
