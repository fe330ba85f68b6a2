//! The audit trail: every security event lands in `audit_events` with its
//! actor, target and the request id the client saw in X-Request-Id; an
//! administrator's views and edits of another person's data are audited;
//! administrators list and filter it through the API and the CLI, others
//! are refused.

use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{Backend, Req, Resp, TestApp, ADMIN_PASSWORD};
use crate::work_packages_api::enc;

const PASSWORD: &str = "user password 1";

/// A signed-in browser: cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
    session_id: i64,
}

impl Browser {
    async fn sign_in(app: &TestApp, login: &str, password: &str) -> (Browser, Resp) {
        let res = app
            .anon(Method::POST, "/api/v3/my/session")
            .json(&json!({"login": login, "password": password}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let set = res.header("set-cookie").unwrap();
        let cookie = set.split(';').next().unwrap().to_string();
        let body = res.json();
        let b = Browser {
            cookie,
            csrf: body["csrfToken"].as_str().unwrap().to_string(),
            session_id: body["id"].as_i64().unwrap(),
        };
        (b, res)
    }

    fn req(&self, app: &TestApp, m: Method, p: &str) -> Req {
        app.anon(m, p)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }
}

/// The entries of one request, through the API as the administrator.
async fn entries_of(app: &TestApp, res: &Resp) -> Vec<Value> {
    let id = res.header("x-request-id").expect("a request id");
    let filters = json!([{"requestId": {"operator": "=", "values": [id]}}]).to_string();
    let list = app
        .admin(
            Method::GET,
            &format!(
                "/api/v3/audit_events?pageSize=100&filters={}",
                enc(&filters)
            ),
        )
        .send()
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    list.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .clone()
}

fn user_href(id: i64) -> Value {
    json!(format!("/api/v3/users/{id}"))
}

/// Asserts that the request `res` caused an entry `event` by `actor` about
/// `target` (None: no one) carrying the response's request id; returns it.
#[track_caller]
fn expect(
    entries: &[Value],
    res: &Resp,
    event: &str,
    actor: Option<i64>,
    target: Option<i64>,
) -> Value {
    let found = entries
        .iter()
        .find(|e| e["event"] == event)
        .unwrap_or_else(|| panic!("no {event} for this request; got {entries:#?}"))
        .clone();
    assert_eq!(
        found["requestId"],
        res.header("x-request-id").unwrap(),
        "{found}"
    );
    assert_eq!(
        found["_links"]["actor"]["href"],
        actor.map_or(Value::Null, user_href),
        "{event} actor: {found}"
    );
    assert_eq!(
        found["_links"]["targetUser"]["href"],
        target.map_or(Value::Null, user_href),
        "{event} target: {found}"
    );
    found
}

async fn security_events_are_audited(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.security.max_failed_logins = 3).await;
    let admin = Some(app.admin_id);

    // An account is created.
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&json!({
            "login": "dave", "email": "dave@example.org", "firstName": "Dave",
            "lastName": "Doe", "password": PASSWORD, "status": "active",
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let dave = res.json()["id"].as_i64().unwrap();
    let e = entries_of(&app, &res).await;
    let created = expect(&e, &res, "user.created", admin, Some(dave));
    assert_eq!(created["category"], "security");
    assert_eq!(created["_links"]["targetUser"]["title"], "Dave Doe");

    // Failed sign-ins: unknown login, wrong password; then the lockout.
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "nobody-here", "password": "whatever it is"}))
        .send()
        .await;
    assert_eq!(res.status, 401);
    let e = entries_of(&app, &res).await;
    let failed = expect(&e, &res, "login.failed", None, None);
    assert_eq!(failed["details"], json!({"reason": "unknown_login"}));
    for i in 0..3 {
        let res = app
            .anon(Method::POST, "/api/v3/my/session")
            .json(&json!({"login": "dave", "password": "wrong password!"}))
            .send()
            .await;
        let e = entries_of(&app, &res).await;
        let failed = expect(&e, &res, "login.failed", None, Some(dave));
        assert_eq!(failed["details"]["reason"], "wrong_password");
        if i == 2 {
            assert_eq!(res.status, 403, "{}", res.text());
            let lockout = expect(&e, &res, "login.lockout", None, Some(dave));
            assert_eq!(lockout["details"]["failed_logins"], 3);
        } else {
            assert_eq!(res.status, 401);
        }
    }
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "dave", "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 403);
    let e = entries_of(&app, &res).await;
    let failed = expect(&e, &res, "login.failed", None, Some(dave));
    assert_eq!(failed["details"]["reason"], "blocked");
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{dave}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let unlocked = expect(&e, &res, "user.unlocked", admin, Some(dave));
    assert_eq!(unlocked["details"]["was_blocked"], true);

    // Sign-in, tokens, sessions, password, sign-out.
    let (browser, res) = Browser::sign_in(&app, "dave", PASSWORD).await;
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "login.succeeded", Some(dave), Some(dave));
    let (other, _) = Browser::sign_in(&app, "dave", PASSWORD).await;
    let res = browser
        .req(&app, Method::POST, "/api/v3/my/api_tokens")
        .json(&json!({"name": "audited"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token_id = res.json()["id"].as_i64().unwrap();
    let e = entries_of(&app, &res).await;
    let created = expect(&e, &res, "api_token.created", Some(dave), Some(dave));
    assert_eq!(created["details"], json!({"token_id": token_id}));
    let res = browser
        .req(
            &app,
            Method::DELETE,
            &format!("/api/v3/my/api_tokens/{token_id}"),
        )
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "api_token.revoked", Some(dave), Some(dave));
    let res = browser
        .req(
            &app,
            Method::DELETE,
            &format!("/api/v3/my/sessions/{}", other.session_id),
        )
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let revoked = expect(&e, &res, "session.revoked", Some(dave), Some(dave));
    assert_eq!(revoked["details"]["session_id"], other.session_id);
    let new_password = "another password 2";
    let res = browser
        .req(&app, Method::POST, "/api/v3/my/password")
        .json(&json!({"currentPassword": PASSWORD, "newPassword": new_password}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "password.changed", Some(dave), Some(dave));
    assert!(
        e.iter().all(|x| x["event"] != "login.succeeded"),
        "confirming the password is no sign-in: {e:#?}"
    );
    let res = browser
        .req(&app, Method::DELETE, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let logout = expect(&e, &res, "logout", Some(dave), Some(dave));
    assert_eq!(logout["details"]["session_id"], browser.session_id);

    // An administrator sets the password: audited, with the sessions ended.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{dave}"))
        .json(&json!({"password": "third password 3"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "password.changed", admin, Some(dave));

    // Permissions: memberships, groups, the administrator flag, locks.
    let project = app
        .created(
            "/api/v3/projects",
            json!({"name": "Audited", "identifier": "audited"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let roles = app.admin(Method::GET, "/api/v3/roles").send().await.json();
    let role = |name: &str| {
        roles["_embedded"]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let res = app
        .admin(Method::POST, "/api/v3/memberships")
        .json(&json!({"_links": {
            "project": {"href": format!("/api/v3/projects/{project}")},
            "principal": {"href": format!("/api/v3/users/{dave}")},
            "roles": [{"href": format!("/api/v3/roles/{}", role("Member"))}],
        }}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let membership = res.json()["id"].as_i64().unwrap();
    let e = entries_of(&app, &res).await;
    let m = expect(&e, &res, "membership.created", admin, Some(dave));
    assert_eq!(m["details"]["project_id"], project);
    assert_eq!(m["details"]["role_ids"], json!([role("Member")]));
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/memberships/{membership}"))
        .json(&json!({"_links": {"roles": [{"href": format!("/api/v3/roles/{}", role("Project admin"))}]}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let m = expect(&e, &res, "membership.updated", admin, Some(dave));
    assert_eq!(m["details"]["previous_role_ids"], json!([role("Member")]));
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/memberships/{membership}"))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "membership.deleted", admin, Some(dave));

    let res = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&json!({"name": "Auditors", "_links": {"members": [{"href": format!("/api/v3/users/{dave}")}]}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let group = res.json()["id"].as_i64().unwrap();
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "group.created", admin, None);
    let added = expect(&e, &res, "group.member_added", admin, Some(dave));
    assert_eq!(added["details"]["group_id"], group);
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/groups/{group}"))
        .json(&json!({"_links": {"members": []}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "group.member_removed", admin, Some(dave));
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/groups/{group}"))
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "group.deleted", admin, None);

    for (admin_flag, event) in [(true, "user.admin_granted"), (false, "user.admin_revoked")] {
        let res = app
            .admin(Method::PATCH, &format!("/api/v3/users/{dave}"))
            .json(&json!({"admin": admin_flag}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let e = entries_of(&app, &res).await;
        expect(&e, &res, event, admin, Some(dave));
    }
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{dave}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    expect(&e, &res, "user.locked", admin, Some(dave));
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{dave}/lock"))
        .send()
        .await;
    let e = entries_of(&app, &res).await;
    let unlocked = expect(&e, &res, "user.unlocked", admin, Some(dave));
    assert_eq!(unlocked["details"]["was_locked"], true);

    // Settings.
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"anonymousAccessPublicProjects": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let s = expect(&e, &res, "settings.changed", admin, None);
    assert_eq!(
        s["details"],
        json!({"setting": "anonymous_access_public_projects", "value": true})
    );

    // Details never carry personal values: names, e-mail, passwords.
    let mut c = app.services().db.conn().await.unwrap();
    let details: Vec<String> = c
        .query("SELECT details FROM audit_events", vec![])
        .await
        .unwrap();
    let all = details.join("\n");
    for value in [
        "dave@example.org",
        "Dave",
        "Doe",
        PASSWORD,
        new_password,
        ADMIN_PASSWORD,
    ] {
        assert!(!all.contains(value), "{value} in the audit trail: {all}");
    }
}
both_backends!(security_events_are_audited);

/// An administrator's views and edits of someone else's data are audited;
/// one's own are not; the person finds the entries about them.
async fn access_to_personal_data_is_audited(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = Some(app.admin_id);
    let (erin, erin_token) = app.user("erin").await;

    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{erin}"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let e = entries_of(&app, &res).await;
    let viewed = expect(&e, &res, "personal_data.viewed", admin, Some(erin));
    assert_eq!(viewed["category"], "access");
    assert_eq!(viewed["details"], json!({"resource": "user"}));

    let res = app
        .admin(Method::GET, "/api/v3/users?pageSize=2")
        .send()
        .await;
    assert_eq!(res.status, 200);
    let total = res.json()["total"].as_i64().unwrap();
    let e = entries_of(&app, &res).await;
    let listed = expect(&e, &res, "personal_data.viewed", admin, None);
    assert_eq!(
        listed["details"],
        json!({"resource": "users", "count": 2, "total": total})
    );

    // One's own record: no entry.
    for res in [
        app.admin(Method::GET, "/api/v3/users/me").send().await,
        app.admin(Method::GET, &format!("/api/v3/users/{}", app.admin_id))
            .send()
            .await,
        app.anon(Method::GET, "/api/v3/users/me")
            .token(&erin_token)
            .send()
            .await,
    ] {
        assert_eq!(res.status, 200);
        assert!(entries_of(&app, &res).await.is_empty());
    }

    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{erin}"))
        .json(&json!({"firstName": "Erinna", "email": "erinna@example.org", "language": "en"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let e = entries_of(&app, &res).await;
    let edited = expect(&e, &res, "personal_data.edited", admin, Some(erin));
    assert_eq!(
        edited["details"],
        json!({"resource": "user", "fields": ["firstName", "email"]}),
        "the fields changed, never their values"
    );

    // What the person's export shows: the entries about them.
    let about = app.services().audit_events_about(erin).await.unwrap();
    let events: Vec<&str> = about.iter().map(|e| e.event.as_str()).collect();
    assert!(events.contains(&"personal_data.viewed"), "{events:?}");
    assert!(events.contains(&"personal_data.edited"), "{events:?}");
    assert!(about.iter().all(|e| e.target_user_id == Some(erin)));
    assert!(
        about.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
}
both_backends!(access_to_personal_data_is_audited);

fn filtered(filters: Value) -> String {
    format!(
        "/api/v3/audit_events?pageSize=100&filters={}",
        enc(&filters.to_string())
    )
}

async fn elements(app: &TestApp, path: &str) -> Vec<Value> {
    let res = app.admin(Method::GET, path).send().await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .clone()
}

/// Filters, pagination, one entry, and who may read the trail.
async fn audit_api_filters_and_access(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (frank, frank_token) = app.user("frank").await;
    for _ in 0..2 {
        let res = app
            .anon(Method::POST, "/api/v3/my/session")
            .json(&json!({"login": "frank", "password": "nope nope nope"}))
            .send()
            .await;
        assert_eq!(res.status, 401);
    }
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{frank}"))
        .send()
        .await;
    assert_eq!(res.status, 200);

    // Only administrators.
    let res = app.anon(Method::GET, "/api/v3/audit_events").send().await;
    res.assert_error(401, "Unauthenticated");
    let res = app
        .anon(Method::GET, "/api/v3/audit_events")
        .token(&frank_token)
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    let res = app
        .anon(Method::GET, "/api/v3/audit_events/1")
        .token(&frank_token)
        .send()
        .await;
    res.assert_error(403, "MissingPermission");

    let all = app.admin(Method::GET, "/api/v3/audit_events").send().await;
    assert_eq!(all.status, 200);
    let body = all.json();
    assert_eq!(body["_type"], "Collection");
    let total = body["total"].as_i64().unwrap();
    assert!(total >= 5, "{body}");
    let first = &body["_embedded"]["elements"][0];
    assert_eq!(first["_type"], "AuditEvent");

    let security = elements(
        &app,
        &filtered(json!([{"category": {"operator": "=", "values": ["security"]}}])),
    )
    .await;
    assert!(!security.is_empty() && security.iter().all(|e| e["category"] == "security"));
    let access = elements(
        &app,
        &filtered(json!([{"category": {"operator": "!", "values": ["security"]}}])),
    )
    .await;
    assert_eq!(access.len(), 1, "{access:#?}");
    assert_eq!(access[0]["event"], "personal_data.viewed");

    let failed = elements(
        &app,
        &filtered(json!([
            {"event": {"operator": "=", "values": ["login.failed"]}},
            {"targetUser": {"operator": "=", "values": [frank.to_string()]}},
        ])),
    )
    .await;
    assert_eq!(failed.len(), 2);
    assert!(failed
        .iter()
        .all(|e| e["_links"]["actor"]["href"].is_null()));
    let by_me = elements(
        &app,
        &filtered(json!([{"actor": {"operator": "=", "values": ["me"]}}])),
    )
    .await;
    assert!(!by_me.is_empty());
    assert!(by_me
        .iter()
        .all(|e| e["_links"]["actor"]["href"] == format!("/api/v3/users/{}", app.admin_id)));
    let nobody = elements(
        &app,
        &filtered(json!([{"actor": {"operator": "!*", "values": []}}])),
    )
    .await;
    assert!(nobody
        .iter()
        .all(|e| e["_links"]["actor"]["href"].is_null()));
    assert!(nobody.iter().any(|e| e["event"] == "login.failed"));

    let today = elements(
        &app,
        &filtered(json!([{"createdAt": {"operator": "t", "values": []}}])),
    )
    .await;
    assert_eq!(today.len() as i64, total.min(100));
    let long_ago = elements(
        &app,
        &filtered(
            json!([{"createdAt": {"operator": "<>d", "values": ["2000-01-01", "2000-01-02"]}}]),
        ),
    )
    .await;
    assert!(long_ago.is_empty());
    let open_ended = elements(
        &app,
        &filtered(json!([{"createdAt": {"operator": "<>d", "values": ["2000-01-01", ""]}}])),
    )
    .await;
    assert_eq!(open_ended.len() as i64, total.min(100));

    // Newest first by default; pages; ascending on request.
    let page = app
        .admin(Method::GET, "/api/v3/audit_events?pageSize=2&offset=2")
        .send()
        .await
        .json();
    assert_eq!(page["count"], 2);
    assert_eq!(page["offset"], 2);
    assert_eq!(page["total"], total);
    let ids = |v: &Value| -> Vec<i64> {
        v["_embedded"]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let desc = ids(&body);
    assert!(desc.windows(2).all(|w| w[0] > w[1]), "{desc:?}");
    let asc = app
        .admin(
            Method::GET,
            &format!(
                "/api/v3/audit_events?sortBy={}",
                enc(r#"[["createdAt","asc"]]"#)
            ),
        )
        .send()
        .await
        .json();
    let asc = ids(&asc);
    assert!(asc.windows(2).all(|w| w[0] < w[1]), "{asc:?}");

    // One entry.
    let id = first["id"].as_i64().unwrap();
    let one = app
        .admin(Method::GET, &format!("/api/v3/audit_events/{id}"))
        .send()
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(&one.json(), first);
    app.admin(Method::GET, "/api/v3/audit_events/999999")
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::GET, "/api/v3/audit_events/abc")
        .send()
        .await
        .assert_error(404, "NotFound");

    // Bad filters are clear 400s.
    for bad in [
        json!([{"category": {"operator": "=", "values": ["secret"]}}]),
        json!([{"colour": {"operator": "=", "values": ["red"]}}]),
        json!([{"actor": {"operator": "=", "values": ["someone"]}}]),
        json!([{"actor": {"operator": "~", "values": ["1"]}}]),
        json!([{"createdAt": {"operator": "<>d", "values": ["yesterday", ""]}}]),
        json!([{"createdAt": {"operator": ">t-", "values": ["many"]}}]),
        json!([{"requestId": {"operator": "=", "values": []}}]),
    ] {
        app.admin(Method::GET, &filtered(bad.clone()))
            .send()
            .await
            .assert_error(400, "InvalidQuery");
    }
    app.admin(
        Method::GET,
        &format!(
            "/api/v3/audit_events?sortBy={}",
            enc(r#"[["event","asc"]]"#)
        ),
    )
    .send()
    .await
    .assert_error(400, "InvalidQuery");
}
both_backends!(audit_api_filters_and_access);

/// `steward audit list` against the test server's database.
fn cli(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = app.db.steward_command(&app.db.dir);
    cmd.args(["audit", "list"]).args(args);
    let out = cmd.output().expect("run steward");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn audit_cli_lists_and_filters(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (gina, _) = app.user("gina").await;
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "gina", "password": "not her password"}))
        .send()
        .await;
    assert_eq!(res.status, 401);
    let failed_request = res.header("x-request-id").unwrap().to_string();
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{gina}"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    // The view is queued a moment; listing through the API writes it.
    app.services().flush_audit().await.unwrap();

    let (code, out, err) = cli(
        &app,
        &[
            "--category",
            "security",
            "--event",
            "login.failed",
            "--target",
            "gina",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.len(), 1, "{out}");
    assert_eq!(list[0]["event"], "login.failed");
    assert_eq!(list[0]["targetUser"]["id"], gina);
    assert_eq!(list[0]["targetUser"]["name"], "Test gina");
    assert_eq!(list[0]["actor"], Value::Null);
    assert_eq!(list[0]["requestId"], failed_request.as_str());
    assert_eq!(list[0]["details"]["reason"], "wrong_password");

    let (code, out, err) = cli(&app, &["--actor", "admin", "--category", "access"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("personal_data.viewed"), "{out}");
    assert!(
        lines[0].contains(&format!("target: Test gina ({gina})")),
        "{out}"
    );

    let (code, out, _) = cli(&app, &["--event", "login.*", "--format", "json"]);
    assert_eq!(code, Some(0));
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|e| e["event"].as_str().unwrap().starts_with("login.")));

    let (code, out, _) = cli(&app, &["--since", "2999-01-01", "--format", "json"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "[]");
    let (code, out, _) = cli(
        &app,
        &["--since", "2000-01-01", "--limit", "1", "--format", "json"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(serde_json::from_str::<Vec<Value>>(&out).unwrap().len(), 1);

    for (args, message) in [
        (&["--category", "secret"][..], "--category"),
        (&["--format", "xml"][..], "--format"),
        (&["--limit", "0"][..], "--limit"),
        (&["--since", "last week"][..], "--since"),
        (&["--actor", "no-such-user"][..], "--actor"),
    ] {
        let (code, _, err) = cli(&app, args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        let last = err.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("steward: error: ") && last.contains(message),
            "{args:?}: {err}"
        );
    }
}
both_backends!(audit_cli_lists_and_filters);
