//! Authentication over HTTP: API tokens (Basic `apikey` and Bearer),
//! sessions with cookies and CSRF tokens, their expiry, password changes,
//! brute-force blocking, locked accounts and rehashing of old hashes.

use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::passwords::{self, Argon2Params};
use steward_services::secrets::token_hash;
use steward_storage::params;

use crate::harness::{Backend, Req, Resp, TestApp, ADMIN_PASSWORD};

const PASSWORD: &str = "user password 1";

async fn sign_in(app: &TestApp, login: &str, password: &str) -> Resp {
    app.anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
}

/// A signed-in browser: the session cookie and its CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(app: &TestApp, login: &str, password: &str) -> Browser {
        let res = sign_in(app, login, password).await;
        assert_eq!(res.status, 201, "{}", res.text());
        Browser {
            cookie: session_cookie(&res).expect("a session cookie"),
            csrf: res.json()["csrfToken"].as_str().unwrap().to_string(),
        }
    }

    /// A request carrying only the cookie (no CSRF token).
    fn cookie_only(&self, app: &TestApp, m: Method, p: &str) -> Req {
        app.anon(m, p)
            .header("cookie", &format!("steward_session={}", self.cookie))
    }

    /// A request as the browser sends it: cookie and CSRF token.
    fn req(&self, app: &TestApp, m: Method, p: &str) -> Req {
        self.cookie_only(app, m, p)
            .header("x-csrf-token", &self.csrf)
    }
}

/// The value of `steward_session` in a Set-Cookie header.
fn session_cookie(res: &Resp) -> Option<String> {
    let set = res.header("set-cookie")?;
    let first = set.split(';').next()?;
    let (name, value) = first.split_once('=')?;
    (name.trim() == "steward_session").then(|| value.to_string())
}

async fn count(app: &TestApp, sql: &str, params: Vec<steward_storage::Param>) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one::<i64>(sql, params).await.unwrap()
}

async fn exec(app: &TestApp, sql: &str, params: Vec<steward_storage::Param>) -> u64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.execute(sql, params).await.unwrap()
}

async fn password_hash(app: &TestApp, id: i64) -> String {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one::<String>("SELECT password_hash FROM users WHERE id = $1", params![id])
        .await
        .unwrap()
}

async fn api_tokens_by_basic_and_bearer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, token) = app.user("tina").await;

    for req in [
        app.anon(Method::GET, "/api/v3/users/me").token(&token),
        app.anon(Method::GET, "/api/v3/users/me").bearer(&token),
    ] {
        let res = req.send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["id"], id);
    }

    let basic = |cred: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(cred)
        )
    };
    let wrong = "x".repeat(43);
    for auth in [
        basic(&format!("apikey:{wrong}")),
        format!("Bearer {wrong}"),
        // The token is only accepted with the user name "apikey".
        basic(&format!("tina:{token}")),
        basic(&format!("admin:{token}")),
        // A password is not a token.
        basic(&format!("apikey:{PASSWORD}")),
        basic("tina:user password 1"),
        "Basic !!!not-base64".into(),
        "Digest username=\"tina\"".into(),
        "Bearer ".into(),
        format!("Bearer {}", "y".repeat(5000)),
    ] {
        let res = app
            .anon(Method::GET, "/api/v3/users/me")
            .header("authorization", &auth)
            .send()
            .await;
        res.assert_error(401, "Unauthenticated");
        assert!(res.header("www-authenticate").is_some(), "{auth}");
    }
    // A bad Authorization header is not excused by a valid session cookie.
    let browser = Browser::sign_in(&app, "tina", PASSWORD).await;
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/users/me")
        .bearer(&wrong)
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
}
both_backends!(api_tokens_by_basic_and_bearer);

async fn api_token_lifecycle(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, token) = app.user("tom").await;

    let res = app
        .anon(Method::POST, "/api/v3/my/api_tokens")
        .token(&token)
        .json(&json!({"name": "ci"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    assert_eq!(created["_type"], "ApiToken");
    assert_eq!(created["name"], "ci");
    assert!(created["createdAt"].is_string());
    let secret = created["token"]
        .as_str()
        .expect("the token, once")
        .to_string();
    assert!(secret.len() >= 32, "{secret}");
    let token_id = created["id"].as_i64().unwrap();

    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .bearer(&secret)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["id"], id);

    // Listed afterwards, never with the secret.
    let res = app
        .anon(Method::GET, "/api/v3/my/api_tokens")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(!res.text().contains(&secret));
    assert!(!res.text().contains(&token));
    let list = res.json();
    let elements = list["_embedded"]["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 2, "{list}");
    for t in elements {
        assert!(t.get("token").is_none(), "{t}");
        assert!(t["name"].is_string() && t["createdAt"].is_string(), "{t}");
        assert!(t.get("lastUsedAt").is_some(), "{t}");
    }
    let ci = elements.iter().find(|t| t["id"] == token_id).unwrap();
    assert_eq!(ci["name"], "ci");
    assert!(ci["lastUsedAt"].is_string(), "it was used: {ci}");

    // Only SHA-256 hashes are stored.
    let mut c = app.services().db.conn().await.unwrap();
    let hashes: Vec<String> = c
        .query("SELECT token_hash FROM api_tokens", vec![])
        .await
        .unwrap();
    drop(c);
    assert!(!hashes
        .iter()
        .any(|h| h.contains(&secret) || h.contains(&token)));
    assert!(hashes.contains(&token_hash(&secret)));
    assert!(hashes
        .iter()
        .all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())));

    // Someone else cannot revoke it.
    let (_, other) = app.user("other").await;
    let res = app
        .anon(Method::DELETE, &format!("/api/v3/my/api_tokens/{token_id}"))
        .token(&other)
        .send()
        .await;
    res.assert_error(404, "NotFound");
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .bearer(&secret)
        .send()
        .await;
    assert_eq!(res.status, 200);

    let res = app
        .anon(Method::DELETE, &format!("/api/v3/my/api_tokens/{token_id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .bearer(&secret)
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
    let res = app
        .anon(Method::DELETE, &format!("/api/v3/my/api_tokens/{token_id}"))
        .token(&token)
        .send()
        .await;
    res.assert_error(404, "NotFound");
    // The other token is untouched.
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200);

    for name in [json!(""), json!("   "), json!("x".repeat(101))] {
        let res = app
            .anon(Method::POST, "/api/v3/my/api_tokens")
            .token(&token)
            .json(&json!({ "name": name }))
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(res.json()["_embedded"]["details"]["attribute"], "name");
    }
    let res = app
        .anon(Method::POST, "/api/v3/my/api_tokens")
        .json(&json!({"name": "anonymous"}))
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
}
both_backends!(api_token_lifecycle);

async fn sessions_with_cookie_and_csrf(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, _) = app.user("sam").await;

    // The login is not case-sensitive.
    let res = sign_in(&app, "SAM", PASSWORD).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(res.header("x-request-id").is_some());
    let set = res.header("set-cookie").expect("Set-Cookie").to_string();
    assert!(set.starts_with("steward_session="), "{set}");
    assert!(set.contains("; HttpOnly"), "{set}");
    assert!(set.contains("; SameSite=Lax"), "{set}");
    assert!(set.contains("; Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain http: {set}");
    let cookie = session_cookie(&res).unwrap();
    assert!(cookie.len() >= 32, "{cookie}");
    let body: Value = res.json();
    assert_eq!(body["_type"], "Session");
    assert_eq!(body["current"], true);
    assert_eq!(body["_embedded"]["user"]["id"], id);
    assert_eq!(body["_embedded"]["user"]["login"], "sam");
    let csrf = body["csrfToken"].as_str().unwrap().to_string();
    assert_ne!(csrf, cookie);
    let browser = Browser {
        cookie: cookie.clone(),
        csrf: csrf.clone(),
    };

    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["csrfToken"], csrf.as_str());
    assert_eq!(res.json()["_embedded"]["user"]["id"], id);
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["id"], id);

    // The session id is stored only as a hash.
    let mut c = app.services().db.conn().await.unwrap();
    let stored: Vec<String> = c
        .query(
            "SELECT token_hash FROM sessions WHERE user_id = $1",
            params![id],
        )
        .await
        .unwrap();
    drop(c);
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], cookie);
    assert_eq!(stored[0], token_hash(&cookie));

    // A state-changing request by cookie needs the CSRF token.
    let tokens = || {
        count(
            &app,
            "SELECT count(*) FROM api_tokens WHERE user_id = $1",
            params![id],
        )
    };
    let before = tokens().await;
    let res = browser
        .cookie_only(&app, Method::POST, "/api/v3/my/api_tokens")
        .json(&json!({"name": "csrf"}))
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    let res = browser
        .cookie_only(&app, Method::POST, "/api/v3/my/api_tokens")
        .header("x-csrf-token", "not-the-token")
        .json(&json!({"name": "csrf"}))
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    assert_eq!(tokens().await, before, "refused requests wrote nothing");
    let res = browser
        .req(&app, Method::POST, "/api/v3/my/api_tokens")
        .json(&json!({"name": "csrf"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(tokens().await, before + 1);

    // An unknown cookie is no credential at all.
    let res = app
        .anon(Method::GET, "/api/v3/my/session")
        .header("cookie", "steward_session=forged")
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");

    // Signing out needs the CSRF token too, then ends the session on the server.
    let res = browser
        .cookie_only(&app, Method::DELETE, "/api/v3/my/session")
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    let res = browser
        .req(&app, Method::DELETE, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let cleared = res.header("set-cookie").unwrap_or("");
    assert!(
        cleared.starts_with("steward_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM sessions WHERE user_id = $1",
            params![id]
        )
        .await,
        0
    );

    // Wrong password and unknown login get the same answer.
    let wrong = sign_in(&app, "sam", "not the password").await;
    let m1 = wrong.assert_error(401, "Unauthenticated");
    assert!(session_cookie(&wrong).is_none());
    let unknown = sign_in(&app, "nobody-here", "not the password").await;
    let m2 = unknown.assert_error(401, "Unauthenticated");
    assert_eq!(m1, m2);
    // Missing fields are a bad request, not a server error.
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "sam"}))
        .send()
        .await;
    res.assert_error(400, "InvalidRequestBody");
}
both_backends!(sessions_with_cookie_and_csrf);

async fn cookies_are_secure_behind_https(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.public_url = "https://pm.example.org".into();
    })
    .await;
    let res = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let set = res.header("set-cookie").unwrap();
    assert!(set.contains("; Secure"), "{set}");
    assert!(
        set.contains("; HttpOnly") && set.contains("; SameSite=Lax"),
        "{set}"
    );
}
both_backends!(cookies_are_secure_behind_https);

async fn sessions_expire_when_idle(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.session.idle_timeout_minutes = 1).await;
    let (id, _) = app.user("ida").await;
    let browser = Browser::sign_in(&app, "ida", PASSWORD).await;
    let set_seen = |secs_ago: i64| {
        exec(
            &app,
            "UPDATE sessions SET last_seen_at = $1 WHERE user_id = $2",
            params![Timestamp::now().minus_seconds(secs_ago), id],
        )
    };

    // Seen 30 seconds ago: still inside the minute.
    assert_eq!(set_seen(30).await, 1);
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // Seen two minutes ago: gone, and deleted on sight.
    assert_eq!(set_seen(120).await, 1);
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM sessions WHERE user_id = $1",
            params![id]
        )
        .await,
        0
    );
}
both_backends!(sessions_expire_when_idle);

async fn sessions_expire_after_their_lifetime(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.session.absolute_lifetime_hours = 1).await;
    let (id, _) = app.user("abe").await;
    let browser = Browser::sign_in(&app, "abe", PASSWORD).await;
    let set_created = |secs_ago: i64| {
        exec(
            &app,
            "UPDATE sessions SET created_at = $1, last_seen_at = $2 WHERE user_id = $3",
            params![
                Timestamp::now().minus_seconds(secs_ago),
                Timestamp::now(),
                id
            ],
        )
    };

    assert_eq!(set_created(30 * 60).await, 1);
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // In constant use, but signed in more than an hour ago.
    assert_eq!(set_created(2 * 3600).await, 1);
    let res = browser
        .cookie_only(&app, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
}
both_backends!(sessions_expire_after_their_lifetime);

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, _) = app.user("pat").await;
    let here = Browser::sign_in(&app, "pat", PASSWORD).await;
    let elsewhere = Browser::sign_in(&app, "pat", PASSWORD).await;
    let sessions = || {
        count(
            &app,
            "SELECT count(*) FROM sessions WHERE user_id = $1",
            params![id],
        )
    };
    assert_eq!(sessions().await, 2);

    let res = here
        .req(&app, Method::POST, "/api/v3/my/password")
        .json(&json!({"currentPassword": "not my password", "newPassword": "new password 22"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(
        res.json()["_embedded"]["details"]["attribute"],
        "currentPassword"
    );

    let res = here
        .req(&app, Method::POST, "/api/v3/my/password")
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "short"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(res.json()["_embedded"]["details"]["attribute"], "password");

    // Neither refused attempt changed anything.
    assert_eq!(sessions().await, 2);
    let res = elsewhere
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 200);

    // Without the CSRF token the cookie is not enough.
    let res = here
        .cookie_only(&app, Method::POST, "/api/v3/my/password")
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "new password 22"}))
        .send()
        .await;
    res.assert_error(403, "MissingPermission");

    let res = here
        .req(&app, Method::POST, "/api/v3/my/password")
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "new password 22"}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());

    let res = here
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    assert_eq!(res.status, 200, "the current session stays: {}", res.text());
    let res = elsewhere
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await;
    res.assert_error(401, "Unauthenticated");
    assert_eq!(sessions().await, 1);

    sign_in(&app, "pat", PASSWORD)
        .await
        .assert_error(401, "Unauthenticated");
    let res = sign_in(&app, "pat", "new password 22").await;
    assert_eq!(res.status, 201, "{}", res.text());
}
both_backends!(password_change_ends_other_sessions);

async fn repeated_failures_block_the_account(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.security.max_failed_logins = 3;
        c.security.lockout_minutes = 1;
    })
    .await;
    let (id, _) = app.user("eve").await;
    let failures = || {
        count(
            &app,
            "SELECT count(*) FROM login_attempts WHERE user_id = $1 AND success = $2",
            params![id, false],
        )
    };

    sign_in(&app, "eve", "guess one")
        .await
        .assert_error(401, "Unauthenticated");
    sign_in(&app, "eve", "guess two")
        .await
        .assert_error(401, "Unauthenticated");
    let msg = sign_in(&app, "eve", "guess three")
        .await
        .assert_error(403, "MissingPermission");
    assert!(msg.contains("Too many failed sign-ins"), "{msg}");
    assert_eq!(failures().await, 3);

    // Now even the right password is refused.
    let res = sign_in(&app, "eve", PASSWORD).await;
    let msg = res.assert_error(403, "MissingPermission");
    assert!(msg.contains("Too many failed sign-ins"), "{msg}");
    assert!(session_cookie(&res).is_none());
    assert_eq!(failures().await, 4);

    // An administrator lifts the block.
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "active");
    let res = sign_in(&app, "eve", PASSWORD).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM login_attempts WHERE user_id = $1 AND success = $2",
            params![id, true],
        )
        .await,
        1
    );

    // Successes reset the count: two more failures do not block.
    for _ in 0..2 {
        sign_in(&app, "eve", "guess again")
            .await
            .assert_error(401, "Unauthenticated");
    }
    assert_eq!(sign_in(&app, "eve", PASSWORD).await.status, 201);
}
both_backends!(repeated_failures_block_the_account);

async fn block_expires_by_itself(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.security.max_failed_logins = 2;
        c.security.lockout_minutes = 1;
    })
    .await;
    let (id, _) = app.user("bea").await;
    for _ in 0..2 {
        sign_in(&app, "bea", "guess").await;
    }
    sign_in(&app, "bea", PASSWORD)
        .await
        .assert_error(403, "MissingPermission");
    // Pretend the minute has passed: the failures are older than the
    // longest wait.
    exec(
        &app,
        "UPDATE login_attempts SET created_at = $1 WHERE user_id = $2",
        params![Timestamp::now().minus_seconds(61), id],
    )
    .await;
    let res = sign_in(&app, "bea", PASSWORD).await;
    assert_eq!(res.status, 201, "{}", res.text());
}
both_backends!(block_expires_by_itself);

async fn locked_accounts_cannot_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, _) = app.user("lou").await;
    let browser = Browser::sign_in(&app, "lou", PASSWORD).await;
    let res = app
        .admin(Method::POST, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // Locking ended the existing session.
    browser
        .cookie_only(&app, Method::GET, "/api/v3/my/session")
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // With the right password, the reason is told.
    let msg = sign_in(&app, "lou", PASSWORD)
        .await
        .assert_error(403, "MissingPermission");
    assert!(msg.contains("locked"), "{msg}");
    // With a wrong one, nothing is revealed.
    let msg = sign_in(&app, "lou", "wrong password")
        .await
        .assert_error(401, "Unauthenticated");
    assert!(!msg.contains("locked"), "{msg}");

    app.admin(Method::DELETE, &format!("/api/v3/users/{id}/lock"))
        .send()
        .await;
    assert_eq!(sign_in(&app, "lou", PASSWORD).await.status, 201);
}
both_backends!(locked_accounts_cannot_sign_in);

async fn old_hashes_are_renewed_at_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(app.config.security.argon2_memory_kib, 256);
    let (id, _) = app.user("ray").await;
    assert!(password_hash(&app, id).await.contains("m=256,"));

    let old = passwords::hash(
        PASSWORD.into(),
        Argon2Params {
            memory_kib: 512,
            iterations: 1,
            parallelism: 1,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        exec(
            &app,
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            params![old.as_str(), id],
        )
        .await,
        1
    );

    // A wrong password does not touch the hash.
    sign_in(&app, "ray", "wrong password")
        .await
        .assert_error(401, "Unauthenticated");
    assert_eq!(password_hash(&app, id).await, old);

    let res = sign_in(&app, "ray", PASSWORD).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let renewed = password_hash(&app, id).await;
    assert_ne!(renewed, old);
    assert!(renewed.starts_with("$argon2id$"), "{renewed}");
    assert!(renewed.contains("m=256,t=1,p=1"), "{renewed}");
    // And it still verifies.
    assert_eq!(sign_in(&app, "ray", PASSWORD).await.status, 201);
    assert_eq!(password_hash(&app, id).await, renewed);
}
both_backends!(old_hashes_are_renewed_at_sign_in);

async fn odd_sign_in_input_is_refused_cleanly(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.user("nul").await;
    // PostgreSQL cannot store NUL in text; a login carrying one must still
    // be an ordinary failed sign-in, not a server error.
    for login in ["nul\u{0}", "\u{0}", "n\u{0}ul", "nul\u{7}"] {
        let res = sign_in(&app, login, PASSWORD).await;
        res.assert_error(401, "Unauthenticated");
    }
    let long = "a".repeat(10_000);
    sign_in(&app, &long, PASSWORD)
        .await
        .assert_error(401, "Unauthenticated");
    sign_in(&app, "nul", &"p".repeat(100_000))
        .await
        .assert_error(401, "Unauthenticated");
    // Token names are shown in lists: control characters are refused.
    let (_, token) = app.user("tok").await;
    let res = app
        .anon(Method::POST, "/api/v3/my/api_tokens")
        .token(&token)
        .json(&json!({"name": "a\u{0}b"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
}
both_backends!(odd_sign_in_input_is_refused_cleanly);

/// The sign-in throttle answers alike for an account and for a login that
/// does not exist, and holds back only the address the failures came
/// from: a stranger cannot lock the owner out. The wait grows.
async fn throttle_is_per_login_and_address(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.security.max_failed_logins = 2;
        c.security.lockout_minutes = 10;
    })
    .await;
    app.user("eve").await;
    let mut answers = Vec::new();
    for login in ["eve", "nobody-here"] {
        sign_in(&app, login, "guess one")
            .await
            .assert_error(401, "Unauthenticated");
        let res = sign_in(&app, login, "guess two").await;
        let first = res.assert_error(403, "MissingPermission");
        let res = sign_in(&app, login, "guess three").await;
        let later = res.assert_error(403, "MissingPermission");
        // Same words for both; only the time differs.
        let words = |m: &str| m.split(" after ").next().unwrap().to_string();
        answers.push((words(&first), words(&later)));
    }
    assert_eq!(answers[0], answers[1], "{answers:?}");
    assert!(
        answers[0].0.contains("Too many failed sign-ins"),
        "{answers:?}"
    );

    // From here even the right password waits; from elsewhere the owner
    // signs in at once.
    sign_in(&app, "eve", PASSWORD)
        .await
        .assert_error(403, "MissingPermission");
    let elsewhere = steward_services::auth::ClientInfo {
        ip_address: Some("192.0.2.7".into()),
        user_agent: None,
    };
    let signed_in = app
        .services()
        .sign_in("eve", PASSWORD, &elsewhere)
        .await
        .expect("the owner signs in from another address");
    assert_eq!(signed_in.user.login, "eve");
    let user = app.services().user_by_ref("eve").await.unwrap();
    assert_eq!(user.status.as_str(), "active");
    assert!(user.blocked_until.is_none(), "the account is not blocked");

    // Each failure past the limit doubles the wait (30 s, then 60 s).
    assert_eq!(steward_services::auth::throttle_wait(1, 2, 600), None);
    assert_eq!(steward_services::auth::throttle_wait(2, 2, 600), Some(30));
    assert_eq!(steward_services::auth::throttle_wait(3, 2, 600), Some(60));
    assert_eq!(steward_services::auth::throttle_wait(9, 2, 600), Some(600));
    assert_eq!(steward_services::auth::throttle_wait(99, 0, 600), None);
}
both_backends!(throttle_is_per_login_and_address);
