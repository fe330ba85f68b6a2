//! Erasure through the API: what goes, what stays (pointing to the
//! "Deleted user"), the certificate, the residue scan, the redaction queue,
//! the guards, and an independent look at the stored bytes.

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::mention;
use steward_services::auth::ClientInfo;

use crate::harness::{Backend, Resp, TestApp};
use crate::work_packages_api::{add_member, as_user, href, lookup, make_project};

pub const FIRST: &str = "Wilhelmina";
pub const LAST: &str = "Quackenbush";
pub const LOGIN: &str = "wquack";
pub const EMAIL: &str = "wilhelmina.q@example.net";
const PASSWORD: &str = "user password 1";

/// The person to erase, with a session and a token.
pub struct Person {
    pub id: i64,
    pub token: String,
}

pub async fn create_person(app: &TestApp) -> Person {
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&json!({
            "login": LOGIN,
            "email": EMAIL,
            "firstName": FIRST,
            "lastName": LAST,
            "password": PASSWORD,
            "status": "active",
            "language": "de",
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let (_, token) = app.services().create_api_token(id, "laptop").await.unwrap();
    app.services()
        .sign_in(LOGIN, PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    Person { id, token }
}

async fn erase(app: &TestApp, id: i64) -> Resp {
    app.admin(Method::DELETE, &format!("/api/v3/users/{id}"))
        .send()
        .await
}

async fn get(app: &TestApp, path: &str) -> Value {
    let res = app.admin(Method::GET, path).send().await;
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

async fn create_wp(app: &TestApp, token: &str, project: i64, body: Value) -> i64 {
    let res = as_user(
        app,
        token,
        Method::POST,
        &format!("/api/v3/projects/{project}/work_packages"),
    )
    .json(&body)
    .send()
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

async fn comment(app: &TestApp, token: &str, wp: i64, text: &str) {
    let res = crate::activities_api::comment(app, token, wp, text).await;
    assert_eq!(res.status, 201, "{}", res.text());
}

/// Everything the stored data says, as text: SQLite's file bytes (after a
/// checkpoint, with secure_delete) or pg_dump's output of the schema.
pub async fn stored_text(app: &TestApp, backend: &Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let mut conn = app.services().db.conn().await.unwrap();
            conn.batch("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
            let path = app.db.url.strip_prefix("sqlite:").unwrap();
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).to_lowercase()
        }
        Backend::Postgres(base) => {
            let schema = app
                .db
                .url
                .rsplit("search_path%3D")
                .next()
                .unwrap()
                .to_string();
            let out = std::process::Command::new("pg_dump")
                .arg("--dbname")
                .arg(base)
                .arg("--schema")
                .arg(&schema)
                .arg("--data-only")
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).to_lowercase()
        }
    }
}

pub fn assert_nothing_left(dump: &str) {
    for needle in [LOGIN, EMAIL, FIRST, LAST] {
        assert!(
            !dump.contains(&needle.to_lowercase()),
            "the stored data still holds {needle:?}"
        );
    }
}

async fn erasure_keeps_the_work_and_scrubs_the_person(backend: Backend) {
    let app = TestApp::start(backend.clone()).await;
    let person = create_person(&app).await;
    let (bob, bob_token) = app.user("bob").await;
    let project = make_project(&app, "apollo", false).await;
    add_member(&app, project, person.id, "Member").await;
    add_member(&app, project, bob, "Member").await;
    let group = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&json!({"name": "Crew", "_links": {"members": [href("users", person.id)]}}))
        .send()
        .await;
    assert_eq!(group.status, 201, "{}", group.text());
    let reviewer = app
        .admin(Method::POST, "/api/v3/custom_fields")
        .json(&json!({"name": "Reviewer", "fieldFormat": "user", "kind": "WorkPackageCustomField"}))
        .send()
        .await;
    assert_eq!(reviewer.status, 201, "{}", reviewer.text());
    let cf = format!("customField{}", reviewer.json()["id"]);
    let task = lookup(&app, "types", "Task").await;

    // Authored by the person; assigned, accountable and reviewed by them.
    let own = create_wp(
        &app,
        &person.token,
        project,
        json!({"subject": "Fuel check", "_links": {"type": href("types", task)}}),
    )
    .await;
    let shared = create_wp(
        &app,
        &bob_token,
        project,
        json!({
            "subject": "Launch plan",
            "description": {"raw": format!(
                "Ask {} first. Then talk to {FIRST} {LAST} about it.",
                mention::markup(person.id, &format!("{FIRST} {LAST}"))
            )},
            "_links": {
                "type": href("types", task),
                "assignee": href("users", person.id),
                "responsible": href("users", person.id),
                cf.clone(): href("users", person.id),
            }
        }),
    )
    .await;
    comment(&app, &person.token, shared, "Fuel is fine.").await;
    comment(
        &app,
        &bob_token,
        shared,
        &format!(
            "Thanks {}, and @{LOGIN} again.",
            mention::markup(person.id, FIRST)
        ),
    )
    .await;

    // The preview says what will change.
    let preview = get(
        &app,
        &format!("/api/v3/users/{}/erasure_preview", person.id),
    )
    .await;
    let changes = preview["changes"].as_array().unwrap();
    let rows = |t: &str, c: &str| {
        changes
            .iter()
            .find(|x| x["table"] == t && x["column"] == c)
            .map_or(0, |x| x["rows"].as_i64().unwrap())
    };
    assert_eq!(rows("work_packages", "author_id"), 1, "{preview}");
    assert_eq!(rows("work_packages", "assigned_to_id"), 1);
    assert_eq!(rows("api_tokens", "user_id"), 1);
    assert_eq!(rows("sessions", "user_id"), 1);

    // An export of their data, ready for download.
    let export = as_user(
        &app,
        &person.token,
        Method::POST,
        "/api/v3/users/me/exports",
    )
    .send()
    .await;
    assert_eq!(export.status, 202, "{}", export.text());
    let export_id = export.json()["id"].as_i64().unwrap();
    crate::gdpr_export::wait_until_ready(&app, &person.token, export_id).await;
    let archives = |app: &TestApp| {
        std::fs::read_dir(app.config.data_dir.join("exports"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().is_file())
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(archives(&app), 1);

    let res = erase(&app, person.id).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let location = res.header("location").unwrap().to_string();
    assert_eq!(archives(&app), 0, "the export archive went with the person");

    // Sessions and tokens died with the account.
    let me = as_user(&app, &person.token, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    me.assert_error(401, "Unauthenticated");
    app.admin(Method::GET, &format!("/api/v3/users/{}", person.id))
        .send()
        .await
        .assert_error(404, "NotFound");

    // The work stays, pointing to the "Deleted user".
    let wp = get(&app, &format!("/api/v3/work_packages/{own}")).await;
    assert_eq!(wp["_links"]["author"]["href"], "/api/v3/users/1", "{wp}");
    assert_eq!(wp["_links"]["author"]["title"], "Deleted user");
    let wp = get(&app, &format!("/api/v3/work_packages/{shared}")).await;
    assert_eq!(wp["_links"]["assignee"]["href"], "/api/v3/users/1");
    assert_eq!(wp["_links"]["responsible"]["href"], "/api/v3/users/1");
    assert_eq!(wp["_links"][&cf]["href"], "/api/v3/users/1", "{wp}");
    let raw = wp["description"]["raw"].as_str().unwrap();
    assert!(raw.contains(&mention::markup(1, "Deleted user")), "{raw}");
    assert!(
        raw.contains(&format!("{FIRST} {LAST}")),
        "free text is for the controller: {raw}"
    );
    let activities = get(&app, &format!("/api/v3/work_packages/{shared}/activities")).await;
    let elements = activities["_embedded"]["elements"].as_array().unwrap();
    let by_deleted = elements
        .iter()
        .filter(|a| a["_links"]["user"]["href"] == "/api/v3/users/1")
        .count();
    assert_eq!(
        by_deleted, 1,
        "the person's comment stays, by the Deleted user"
    );
    let thanks = elements
        .iter()
        .find(|a| {
            a["comment"]["raw"]
                .as_str()
                .unwrap_or("")
                .starts_with("Thanks")
        })
        .unwrap();
    let thanks = thanks["comment"]["raw"].as_str().unwrap();
    assert!(
        !thanks.contains(FIRST) && !thanks.contains(LOGIN),
        "{thanks}"
    );
    assert!(thanks.contains("@deleted-user"), "{thanks}");

    // The certificate: clean scan, counts, one queue entry, no identifier.
    let cert = get(&app, &location).await;
    let text = cert.to_string();
    for needle in [LOGIN, EMAIL, FIRST, LAST] {
        assert!(!text.contains(needle), "certificate names {needle}: {text}");
    }
    let c = &cert["certificate"];
    assert_eq!(c["scan"]["clean"], true, "{cert}");
    assert_eq!(c["scan"]["residue"], 0);
    assert_eq!(c["requested_by"]["kind"], "administrator");
    assert!(
        c["redaction_queue_entries"].as_i64().unwrap() >= 1,
        "{cert}"
    );
    assert!(c["rows_scrubbed"].as_i64().unwrap() >= 8, "{cert}");
    let cert_text = app
        .admin(Method::GET, &format!("{location}/text"))
        .send()
        .await;
    assert_eq!(cert_text.status, 200);
    assert!(
        cert_text.text().contains("Residue scan: CLEAN"),
        "{}",
        cert_text.text()
    );

    // A scan for the erased identifiers: clean, free text listed.
    let scan_body = json!({"id": person.id, "login": LOGIN, "email": EMAIL, "firstName": FIRST, "lastName": LAST});
    let scan = app
        .admin(Method::POST, "/api/v3/gdpr/scans")
        .json(&scan_body)
        .send()
        .await;
    assert_eq!(scan.status, 200, "{}", scan.text());
    let scan = scan.json();
    assert_eq!(scan["clean"], true, "{scan}");
    assert!(!scan["freeText"].as_array().unwrap().is_empty(), "{scan}");

    // The redaction queue shows the text around the name; redact it all.
    let queue = get(&app, "/api/v3/gdpr/redactions").await;
    let entries = queue["_embedded"]["elements"].as_array().unwrap().clone();
    assert!(!entries.is_empty());
    let live = entries
        .iter()
        .find(|e| e["table"] == "work_packages" && e["rowId"] == shared)
        .expect("the live description is queued");
    assert!(
        live["contexts"][0]
            .as_str()
            .unwrap()
            .contains(&format!("{FIRST} {LAST}")),
        "{live}"
    );
    for e in &entries {
        let href = e["_links"]["redact"]["href"].as_str().unwrap();
        let res = app.admin(Method::POST, href).send().await;
        // Redacting one cell closes the other entries of that cell.
        assert!(res.status == 200 || res.status == 409, "{}", res.text());
    }
    let again = app
        .admin(
            Method::POST,
            live["_links"]["redact"]["href"].as_str().unwrap(),
        )
        .send()
        .await;
    again.assert_error(409, "Conflict");
    let wp = get(&app, &format!("/api/v3/work_packages/{shared}")).await;
    let raw = wp["description"]["raw"].as_str().unwrap();
    assert!(raw.contains("talk to [redacted] about"), "{raw}");
    let activities = get(&app, &format!("/api/v3/work_packages/{shared}/activities")).await;
    assert!(
        activities
            .to_string()
            .contains("Personal data of an erased person redacted."),
        "the redaction is journalled"
    );
    let open = get(&app, "/api/v3/gdpr/redactions?status=open").await;
    assert_eq!(open["total"], 0, "{open}");
    let scan = app
        .admin(Method::POST, "/api/v3/gdpr/scans")
        .json(&scan_body)
        .send()
        .await
        .json();
    assert_eq!(scan["clean"], true);
    assert_eq!(scan["freeText"].as_array().unwrap().len(), 0, "{scan}");
    assert_eq!(
        scan["heldForRedaction"].as_array().unwrap().len(),
        0,
        "{scan}"
    );

    // An independent look at what is stored finds nothing of the person.
    assert_nothing_left(&stored_text(&app, &backend).await);
}
both_backends!(erasure_keeps_the_work_and_scrubs_the_person);

async fn guards_and_settings(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;

    // Unknown, built-in and group principals.
    erase(&app, 999_999).await.assert_error(404, "NotFound");
    erase(&app, 1).await.assert_error(409, "Conflict");
    erase(&app, 2).await.assert_error(409, "Conflict");
    app.admin(Method::DELETE, "/api/v3/users/abc")
        .send()
        .await
        .assert_error(404, "NotFound");
    let group = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&json!({"name": "Crew"}))
        .send()
        .await
        .json();
    erase(&app, group["id"].as_i64().unwrap())
        .await
        .assert_error(409, "Conflict");
    // The last active administrator.
    erase(&app, app.admin_id)
        .await
        .assert_error(409, "Conflict");
    let body = app
        .admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": "admin"}))
        .send()
        .await;
    assert!(body
        .assert_error(409, "Conflict")
        .contains("last active administrator"));
    app.admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": {"nested": 1}}))
        .send()
        .await
        .assert_error(422, "PropertyConstraintViolation");
    app.admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({}))
        .send()
        .await
        .assert_error(422, "PropertyConstraintViolation");
    // The other data-controller endpoints refuse malformed input too.
    for body in [json!({}), json!({"user": " "}), json!({"user": true})] {
        app.admin(Method::POST, "/api/v3/gdpr/scans")
            .json(&body)
            .send()
            .await
            .assert_error(422, "PropertyConstraintViolation");
    }
    app.admin(Method::POST, "/api/v3/gdpr/scans")
        .json(&json!({"nickname": "x"}))
        .send()
        .await
        .assert_error(400, "InvalidRequestBody");
    app.admin(Method::GET, "/api/v3/gdpr/redactions?status=maybe")
        .send()
        .await
        .assert_error(400, "InvalidQuery");
    app.admin(Method::GET, "/api/v3/gdpr/record?format=xml")
        .send()
        .await
        .assert_error(400, "InvalidQuery");
    for path in [
        "/api/v3/gdpr/erasures/abc",
        "/api/v3/gdpr/erasures/999",
        "/api/v3/gdpr/erasures/abc/text",
        "/api/v3/gdpr/erasures/999/text",
        "/api/v3/gdpr/redactions/7",
        "/api/v3/gdpr/redactions/abc",
    ] {
        app.admin(Method::GET, path)
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    for path in [
        "/api/v3/gdpr/redactions/7/redact",
        "/api/v3/gdpr/redactions/abc/dismiss",
    ] {
        app.admin(Method::POST, path)
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    for id in ["abc", "0", "999999"] {
        app.admin(Method::GET, &format!("/api/v3/users/{id}/erasure_preview"))
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    let msg = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"usersDeletableBySelf": "yes"}))
        .send()
        .await
        .assert_error(400, "InvalidRequestBody");
    assert!(msg.contains("usersDeletableBySelf"), "{msg}");

    // Others may not (to them the account does not exist); self-deletion
    // is off by default.
    as_user(
        &app,
        &bob_token,
        Method::DELETE,
        &format!("/api/v3/users/{alice}"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
    as_user(
        &app,
        &alice_token,
        Method::DELETE,
        &format!("/api/v3/users/{alice}"),
    )
    .send()
    .await
    .assert_error(403, "MissingPermission");
    as_user(&app, &bob_token, Method::GET, "/api/v3/gdpr/erasures")
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &bob_token, Method::POST, "/api/v3/gdpr/scans")
        .json(&json!({"user": alice}))
        .send()
        .await
        .assert_error(403, "MissingPermission");

    // Switched on, the person may delete their own account.
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"usersDeletableBySelf": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["usersDeletableBySelf"], true);
    assert_eq!(res.json()["usersDeletableByAdmins"], true);
    let preview = as_user(
        &app,
        &alice_token,
        Method::GET,
        &format!("/api/v3/users/{alice}/erasure_preview"),
    )
    .send()
    .await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let res = as_user(&app, &alice_token, Method::DELETE, "/api/v3/users/me")
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert!(
        res.header("location").is_none(),
        "the person gets no certificate link"
    );
    let signin = app
        .services()
        .sign_in("alice", "user password 1", &ClientInfo::default())
        .await;
    assert!(signin.is_err(), "an erased person cannot sign in");
    let certs = app
        .admin(Method::GET, "/api/v3/gdpr/erasures")
        .send()
        .await
        .json();
    assert_eq!(certs["total"], 1);
    let cert = get(
        &app,
        certs["_embedded"]["elements"][0]["_links"]["self"]["href"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(cert["certificate"]["requested_by"]["kind"], "data subject");
    assert!(cert["certificate"]["requested_by"].get("user_id").is_none());

    // A second erasure of the same person is harmless.
    erase(&app, alice).await.assert_error(404, "NotFound");
    let res = app
        .admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": alice}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["alreadyErased"], true);
    assert_eq!(res.json()["id"], cert["id"]);

    // Administrators may be stopped from deleting users.
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"usersDeletableByAdmins": false}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    erase(&app, bob)
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &bob_token, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    let me = as_user(&app, &bob_token, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    assert_eq!(me.status, 200, "bob is still there");
}
both_backends!(guards_and_settings);

/// Who may delete accounts is a setting like the others: each change is a
/// `settings.changed` audit entry, and a change of both is one transaction
/// (a failure at the second leaves the first unchanged).
async fn deletion_settings_are_audited_and_atomic(backend: Backend) {
    let app = TestApp::start(backend.clone()).await;
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"usersDeletableByAdmins": false, "usersDeletableBySelf": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut conn = app.services().db.conn().await.unwrap();
    let details = conn
        .query::<String>(
            "SELECT details FROM audit_events WHERE event = 'settings.changed' \
             AND actor_id = $1 AND request_id = $2 ORDER BY id",
            steward_storage::params![app.admin_id, res.header("x-request-id").unwrap()],
        )
        .await
        .unwrap();
    let details: Vec<Value> = details
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(
        details,
        [
            json!({"setting": "users_deletable_by_admins", "value": false}),
            json!({"setting": "users_deletable_by_self", "value": true}),
        ]
    );

    // The audit entry of the second setting cannot be written: neither
    // setting changes.
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
             WHEN NEW.details LIKE '%users_deletable_by_self%' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ],
        Backend::Postgres(_) => vec![
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.details LIKE '%users_deletable_by_self%' THEN \
             RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
    };
    for sql in refuse {
        conn.execute(sql, steward_storage::params![]).await.unwrap();
    }
    drop(conn);
    let refused = app
        .services()
        .set_deletion_settings(Some(true), Some(false))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let now = app.services().deletion_settings().await.unwrap();
    assert!(!now.by_admins && now.by_self, "half-written: {now:?}");
}
both_backends!(deletion_settings_are_audited_and_atomic);

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.services().db.conn().await.unwrap();
    conn.query_one::<i64>(sql, steward_storage::params![])
        .await
        .unwrap()
}

/// The person of the issue: author of 2,000 work packages and 2,000
/// journals, assignee of 500, accountable for 100, in 3 projects through a
/// role and a group, mentioned in 50 comments, named by a custom field on
/// 20 work packages, with sessions, tokens and request-log lines.
async fn heavy_user_is_erased_completely(backend: Backend) {
    use crate::heavy_user::{build_heavy_user, Scale};
    let app = TestApp::start(backend.clone()).await;
    let heavy = build_heavy_user(&app, Scale::FULL).await;
    let wps_before = count(&app, "SELECT count(*) FROM work_packages").await;
    let journals_before = count(&app, "SELECT count(*) FROM journals").await;
    let snapshots_before = count(&app, "SELECT count(*) FROM work_package_journals").await;

    let started = std::time::Instant::now();
    let res = app
        .admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": heavy.login}))
        .send()
        .await;
    let took = started.elapsed();
    assert_eq!(res.status, 201, "{}", res.text());
    eprintln!("erasing the heavy user took {took:?} (debug build)");
    let cert = res.json();
    let c = &cert["certificate"];
    assert_eq!(c["scan"]["clean"], true, "{cert}");
    let scrubbed = |t: &str, col: &str| {
        c["scrubbed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["table"] == t && x["column"] == col)
            .map_or(0, |x| x["rows"].as_i64().unwrap())
    };
    assert_eq!(scrubbed("work_packages", "author_id"), 2000, "{cert}");
    assert_eq!(scrubbed("work_packages", "assigned_to_id"), 500);
    assert_eq!(scrubbed("work_packages", "responsible_id"), 100);
    assert!(scrubbed("journals", "user_id") >= 4000, "{cert}");
    assert_eq!(scrubbed("mentions", "user_id"), 50);
    assert_eq!(scrubbed("custom_values", "value_user_id"), 20);
    assert_eq!(scrubbed("api_tokens", "user_id"), 2);
    assert_eq!(scrubbed("sessions", "user_id"), 2);
    assert_eq!(scrubbed("group_users", "user_id"), 1);

    // Everything the person did is still there, with valid references.
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_packages").await,
        wps_before
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM journals").await,
        journals_before
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_package_journals").await,
        snapshots_before
    );
    for (table, column) in [
        ("work_packages", "author_id"),
        ("work_packages", "assigned_to_id"),
        ("work_packages", "responsible_id"),
        ("journals", "user_id"),
        ("work_package_journals", "author_id"),
        ("work_package_journals", "assigned_to_id"),
        ("mentions", "user_id"),
        ("custom_values", "value_user_id"),
        ("custom_value_journals", "value_user_id"),
    ] {
        let dangling = count(
            &app,
            &format!(
                "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.{column})"
            ),
        )
        .await;
        assert_eq!(dangling, 0, "{table}.{column} points nowhere");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM work_packages WHERE author_id = 1"
        )
        .await,
        2000
    );
    // The history shows the "Deleted user".
    let wp = heavy.authored[0];
    let activities = get(&app, &format!("/api/v3/work_packages/{wp}/activities")).await;
    let first = &activities["_embedded"]["elements"][0];
    assert_eq!(
        first["_links"]["user"]["href"], "/api/v3/users/1",
        "{activities}"
    );
    assert_eq!(first["_links"]["user"]["title"], "Deleted user");
    // Their tokens and sessions are dead.
    for token in &heavy.tokens {
        as_user(&app, token, Method::GET, "/api/v3/users/me")
            .send()
            .await
            .assert_error(401, "Unauthenticated");
    }

    // The scan, run again from outside, agrees; so does the stored data.
    let scan = app
        .admin(Method::POST, "/api/v3/gdpr/scans")
        .json(&json!({
            "id": heavy.id, "login": heavy.login, "email": heavy.email,
            "firstName": heavy.firstname, "lastName": heavy.lastname,
        }))
        .send()
        .await
        .json();
    assert_eq!(scan["clean"], true, "{scan}");
    assert_eq!(scan["requestLogLines"], 0, "{scan}");
    let dump = stored_text(&app, &backend).await;
    for needle in [
        &heavy.login,
        &heavy.email,
        &heavy.firstname,
        &heavy.lastname,
    ] {
        assert!(
            !dump.contains(&needle.to_lowercase()),
            "the stored data still holds {needle:?}"
        );
    }
}
both_backends!(heavy_user_is_erased_completely);

/// The preview runs the erasure's own steps and rolls them back: what it
/// announces is exactly what the certificate then records, including the
/// texts queued for review and the person's own contributions that stay.
async fn preview_tells_exactly_what_erasure_does(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "lab", false).await;
    let (erin, erin_token) = app.user("erin").await;
    add_member(&app, project, erin, "Member").await;
    let task = lookup(&app, "types", "Task").await;
    let wp = app
        .created(
            "/api/v3/projects/lab/work_packages",
            json!({"subject": "Calibrate", "_links": {"type": href("types", task)},
                   "description": {"raw": format!("Ask {} or Test erin.", mention::markup(erin, "Test erin"))}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for (token, text) in [
        (app.admin_token.clone(), "Test erin agreed.".to_string()),
        (
            app.admin_token.clone(),
            format!("Thanks {}.", mention::markup(erin, "Test erin")),
        ),
        (erin_token.clone(), "Done on my side.".to_string()),
        (erin_token.clone(), "And checked twice.".to_string()),
    ] {
        let res = as_user(
            &app,
            &token,
            Method::POST,
            &format!("/api/v3/work_packages/{wp}/activities"),
        )
        .json(&json!({"comment": {"raw": text}}))
        .send()
        .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    let preview = get(&app, &format!("/api/v3/users/{erin}/erasure_preview")).await;
    // Nothing was changed by looking.
    let wp_now = get(&app, &format!("/api/v3/work_packages/{wp}")).await;
    assert!(
        wp_now["description"]["raw"]
            .as_str()
            .unwrap()
            .contains(&format!("data-id=\"{erin}\"")),
        "{wp_now}"
    );
    assert_eq!(
        get(&app, &format!("/api/v3/users/{erin}")).await["login"],
        "erin"
    );

    // Reading erin's account above was audited (in a batch, a moment
    // later): an erasure now also re-points that entry. The preview that
    // must match is the one taken right before the erasure.
    app.services().flush_audit().await.unwrap();
    let looked = preview;
    let preview = get(&app, &format!("/api/v3/users/{erin}/erasure_preview")).await;
    assert_eq!(looked["textsForReview"], preview["textsForReview"]);
    let res = erase(&app, erin).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let cert = get(&app, res.header("location").unwrap()).await;
    let c = &cert["certificate"];
    assert_eq!(preview["changes"], c["scrubbed"], "{preview}\n{cert}");
    assert_eq!(
        preview["textsForReview"].as_i64().unwrap(),
        c["redaction_queue_entries"].as_i64().unwrap(),
        "{preview}\n{cert}"
    );
    assert!(
        preview["textsForReview"].as_i64().unwrap() >= 2,
        "{preview}"
    );
    let rewritten: i64 = c["scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["column"] == "text")
        .map(|s| s["rows"].as_i64().unwrap())
        .sum();
    assert_eq!(preview["textsWithMentions"].as_i64().unwrap(), rewritten);
    assert!(
        rewritten >= 2,
        "the description and a comment, with history: {cert}"
    );
    // Her two comments and her membership's changes stay, by the Deleted user.
    assert!(
        preview["ownContributions"].as_i64().unwrap() >= 2,
        "{preview}"
    );

    // The administrator's page says the same, in words.
    let (other, _) = app.user("olga").await;
    let mut v = crate::web_pages::admin_visitor(&app).await;
    let page =
        crate::web_pages::assert_page(&v.get(&format!("/admin/users/{other}/erase")).await, 200);
    assert!(page.contains("queued for you to review"), "{page}");
    assert!(page.contains("stay, attributed to the"), "{page}");
}
both_backends!(preview_tells_exactly_what_erasure_does);
