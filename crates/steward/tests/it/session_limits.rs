//! Session lifetimes changed by administrators at run time: the
//! configuration's values as defaults, the settings page and API that
//! change them, their effect on sessions already open, on the retention job
//! and on the record of processing, and the refusal of bad values.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::jobs::{JobOutcome, Registry, Worker, WorkerOptions};
use steward_services::{Policy, Services};
use steward_storage::params;

use crate::harness::{Backend, TestApp};
use crate::web_pages::{admin_visitor, assert_page, location, Visitor, USER_PASSWORD};

const IDLE_KEY: &str = "session_idle_timeout_minutes";
const ABSOLUTE_KEY: &str = "session_absolute_lifetime_hours";

async fn exec(app: &TestApp, sql: &str, params: Vec<steward_storage::Param>) -> u64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.execute(sql, params).await.unwrap()
}

async fn count(app: &TestApp, sql: &str, params: Vec<steward_storage::Param>) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one::<i64>(sql, params).await.unwrap()
}

/// The stored value of a setting, if any.
async fn stored(app: &TestApp, key: &str) -> Option<String> {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_opt::<String>("SELECT value FROM settings WHERE key = $1", params![key])
        .await
        .unwrap()
}

/// The `details` of the `settings.changed` audit entries by `actor`.
async fn settings_audit(app: &TestApp, actor: i64) -> Vec<Value> {
    let mut c = app.services().db.conn().await.unwrap();
    c.query::<String>(
        "SELECT details FROM audit_events WHERE event = 'settings.changed' AND actor_id = $1 ORDER BY id",
        params![actor],
    )
    .await
    .unwrap()
    .iter()
    .map(|d| serde_json::from_str(d).unwrap())
    .collect()
}

/// A user signed in through the web form.
async fn signed_in<'a>(app: &'a TestApp, login: &str) -> (i64, Visitor<'a>) {
    let (id, _) = app.user(login).await;
    let mut v = Visitor::signed_in(app, login, USER_PASSWORD).await;
    assert_page(&v.get("/my/account").await, 200);
    (id, v)
}

/// Makes `user`'s sessions look signed in and last used that long ago.
async fn age_sessions(app: &TestApp, user: i64, created_secs_ago: i64, seen_secs_ago: i64) {
    let now = Timestamp::now();
    let n = exec(
        app,
        "UPDATE sessions SET created_at = $1, last_seen_at = $2 WHERE user_id = $3",
        params![
            now.minus_seconds(created_secs_ago),
            now.minus_seconds(seen_secs_ago),
            user
        ],
    )
    .await;
    assert_eq!(n, 1, "one session of user {user}");
}

/// Whether the visitor's session still lets them in.
async fn still_signed_in(v: &mut Visitor<'_>) -> bool {
    let res = v.get("/my/account").await;
    match res.status {
        200 => true,
        303 => {
            assert!(location(&res).starts_with("/login"), "{}", location(&res));
            false
        }
        other => panic!("unexpected status {other}: {}", res.text()),
    }
}

async fn sessions_of(app: &TestApp, user: i64) -> i64 {
    count(
        app,
        "SELECT count(*) FROM sessions WHERE user_id = $1",
        params![user],
    )
    .await
}

/// Runs the session retention job once, in this test.
async fn run_session_retention(app: &TestApp) {
    let s = app.services().clone();
    s.enqueue_job_now("retention.sessions", &json!({}), None)
        .await
        .unwrap();
    let options = WorkerOptions {
        concurrency: 1,
        poll_interval: Duration::from_millis(20),
    };
    let w = Worker::new(s, Registry::builtin(), options).unwrap();
    let outcomes = w.run_until_idle().await.unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert!(
        matches!(outcomes[0], JobOutcome::Done { .. }),
        "{outcomes:?}"
    );
}

async fn record_markdown(app: &TestApp) -> String {
    let res = app
        .admin(Method::GET, "/api/v3/gdpr/record?format=markdown")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.text()
}

async fn defaults_come_from_the_configuration(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.session.idle_timeout_minutes = 45;
        c.session.absolute_lifetime_hours = 30;
    })
    .await;
    let limits = app.services().session_limits().await.unwrap();
    assert_eq!((limits.idle_minutes(), limits.absolute_hours()), (45, 30));

    let res = app.admin(Method::GET, "/api/v3/settings").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let j = res.json();
    assert_eq!(j["sessionIdleTimeoutMinutes"], 45, "{j}");
    assert_eq!(j["sessionAbsoluteLifetimeHours"], 30, "{j}");

    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    assert!(body.contains("<legend>Sessions</legend>"), "{body}");
    assert!(
        body.contains(r#"name="session_idle_timeout_minutes" type="number""#),
        "{body}"
    );
    assert!(body.contains(r#"value="45""#), "{body}");
    assert!(body.contains(r#"value="30""#), "{body}");
    assert!(
        body.contains("only the defaults from the configuration file"),
        "{body}"
    );

    // Saving the other settings leaves the defaults unpinned: nothing is
    // stored for the session limits, so a new configuration still applies.
    let res = v
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("users_deletable_by_admins", "1"),
                (IDLE_KEY, "45"),
                (ABSOLUTE_KEY, "30"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(stored(&app, IDLE_KEY).await, None);
    assert_eq!(stored(&app, ABSOLUTE_KEY).await, None);

    assert!(record_markdown(&app)
        .await
        .contains("ends after 45 minutes without use and at most 30 hours after sign-in"),);
}
both_backends!(defaults_come_from_the_configuration);

async fn idle_timeout_set_on_the_page(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let (old, mut old_v) = signed_in(&app, "olga").await;
    let (fresh, mut fresh_v) = signed_in(&app, "fred").await;

    // Under the default of 120 minutes, six minutes idle is fine.
    age_sessions(&app, old, 6 * 60, 6 * 60).await;
    assert!(still_signed_in(&mut old_v).await);

    let mut v = admin_visitor(&app).await;
    let res = v
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("users_deletable_by_admins", "1"),
                ("anonymous_access", "1"),
                (IDLE_KEY, " 5 "),
                (ABSOLUTE_KEY, "168"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(body.contains("The settings were saved."), "{body}");
    assert!(
        body.contains(r#"id="session_idle_timeout_minutes" name="session_idle_timeout_minutes" type="number" inputmode="numeric" step="1" value="5" required"#),
        "{body}"
    );
    // The other settings in the same form were saved as sent.
    let deletion = app.services().deletion_settings().await.unwrap();
    assert!(deletion.by_admins && !deletion.by_self, "{deletion:?}");
    assert!(app.services().anonymous_access().await.unwrap());
    // Only the changed value is stored.
    assert_eq!(stored(&app, IDLE_KEY).await.as_deref(), Some("5"));
    assert_eq!(stored(&app, ABSOLUTE_KEY).await, None);
    let limits = app.services().session_limits().await.unwrap();
    assert_eq!((limits.idle_seconds, limits.absolute_hours()), (300, 168));

    // Six minutes idle is now too long; four minutes is not.
    age_sessions(&app, old, 6 * 60, 6 * 60).await;
    age_sessions(&app, fresh, 4 * 60, 4 * 60).await;
    assert!(!still_signed_in(&mut old_v).await);
    assert_eq!(sessions_of(&app, old).await, 0, "deleted on sight");
    assert!(still_signed_in(&mut fresh_v).await);

    // Audited, as the administrator, with the setting and its value.
    let audit = settings_audit(&app, app.admin_id).await;
    assert!(
        audit.contains(&json!({"setting": IDLE_KEY, "value": 5})),
        "{audit:?}"
    );
    assert!(
        !audit.iter().any(|d| d["setting"] == ABSOLUTE_KEY),
        "{audit:?}"
    );

    // The record of processing states the limits in force.
    let record = record_markdown(&app).await;
    assert!(
        record.contains("ends after 5 minutes without use and at most 168 hours after sign-in"),
        "{record}"
    );
    assert!(
        record.contains("after 5 minutes idle or 168 hours"),
        "{record}"
    );
    let page = assert_page(&v.get("/admin/gdpr/record").await, 200);
    assert!(page.contains("5 minutes without use"), "{page}");

    // Retention deletes what expired under the new limit, and only that.
    let (idle_user, _idle_v) = signed_in(&app, "ivan").await;
    age_sessions(&app, idle_user, 10 * 60, 10 * 60).await;
    age_sessions(&app, fresh, 60, 60).await;
    run_session_retention(&app).await;
    assert_eq!(sessions_of(&app, idle_user).await, 0);
    assert_eq!(sessions_of(&app, fresh).await, 1);
    assert!(still_signed_in(&mut fresh_v).await);
}
both_backends!(idle_timeout_set_on_the_page);

async fn absolute_lifetime_set_through_the_api(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let (old, mut old_v) = signed_in(&app, "abe").await;
    let (recent, mut recent_v) = signed_in(&app, "rita").await;
    age_sessions(&app, old, 2 * 3600, 0).await;
    assert!(still_signed_in(&mut old_v).await);

    // One hour is shorter than the default idle timeout of two hours: both
    // change together.
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"sessionIdleTimeoutMinutes": 30, "sessionAbsoluteLifetimeHours": 1}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let j = res.json();
    assert_eq!(j["sessionIdleTimeoutMinutes"], 30, "{j}");
    assert_eq!(j["sessionAbsoluteLifetimeHours"], 1, "{j}");
    assert_eq!(stored(&app, ABSOLUTE_KEY).await.as_deref(), Some("1"));

    // In constant use, but signed in two hours ago: refused.
    age_sessions(&app, old, 2 * 3600, 0).await;
    age_sessions(&app, recent, 30 * 60, 0).await;
    assert!(!still_signed_in(&mut old_v).await);
    assert!(still_signed_in(&mut recent_v).await);

    let audit = settings_audit(&app, app.admin_id).await;
    assert!(
        audit.contains(&json!({"setting": ABSOLUTE_KEY, "value": 1})),
        "{audit:?}"
    );
    assert!(
        audit.contains(&json!({"setting": IDLE_KEY, "value": 30})),
        "{audit:?}"
    );
    assert!(record_markdown(&app)
        .await
        .contains("ends after 30 minutes without use and at most 1 hours after sign-in"));

    // The page shows the values in force.
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    assert!(body.contains(r#"name="session_absolute_lifetime_hours" type="number" inputmode="numeric" step="1" value="1""#), "{body}");

    // Retention: a session signed in 90 minutes ago goes, however active.
    let (long, _long_v) = signed_in(&app, "lena").await;
    age_sessions(&app, long, 90 * 60, 60).await;
    age_sessions(&app, recent, 20 * 60, 60).await;
    run_session_retention(&app).await;
    assert_eq!(sessions_of(&app, long).await, 0);
    assert_eq!(sessions_of(&app, recent).await, 1);

    // Another process (its own services, its own cache) reads the stored
    // limits, not its configuration's defaults.
    let other = Services::new(app.services().db.clone(), Policy::default());
    let limits = other.session_limits().await.unwrap();
    assert_eq!((limits.idle_minutes(), limits.absolute_hours()), (30, 1));
}
both_backends!(absolute_lifetime_set_through_the_api);

async fn bad_values_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = admin_visitor(&app).await;
    let cases: &[(&str, &str, &str, &str)] = &[
        ("0", "168", IDLE_KEY, "between 5 and 43200 minutes"),
        ("99999999", "168", IDLE_KEY, "between 5 and 43200 minutes"),
        ("soon", "168", IDLE_KEY, "must be a whole number"),
        ("", "168", IDLE_KEY, "must be a whole number"),
        ("120", "0", ABSOLUTE_KEY, "between 1 and 8760 hours"),
        ("120", "8761", ABSOLUTE_KEY, "between 1 and 8760 hours"),
        ("120", "1.5", ABSOLUTE_KEY, "must be a whole number"),
        (
            "120",
            "1",
            ABSOLUTE_KEY,
            "must not be shorter than the idle timeout",
        ),
        (
            "<script>x</script>",
            "168",
            IDLE_KEY,
            "&lt;script&gt;x&lt;/script&gt;",
        ),
    ];
    for (idle, absolute, field, message) in cases {
        let res = v
            .submit(
                "/admin/settings",
                "/admin/settings",
                &[
                    ("users_deletable_by_self", "1"),
                    ("anonymous_access", "1"),
                    (IDLE_KEY, idle),
                    (ABSOLUTE_KEY, absolute),
                ],
            )
            .await;
        let body = assert_page(&res, 422);
        assert!(body.contains(message), "{idle}/{absolute}: {body}");
        assert!(
            body.contains(&format!(
                r#"aria-invalid="true" aria-describedby="{field}-error""#
            )),
            "{idle}/{absolute}: {body}"
        );
        assert!(
            body.contains(&format!(r#"<p class="field-error" id="{field}-error">"#)),
            "{body}"
        );
        assert_eq!(body.matches("aria-invalid").count(), 1, "{body}");
        // What was typed is shown again, escaped, with the boxes as sent.
        assert!(!body.contains("<script>x"), "{body}");
        assert!(
            body.contains(r#"name="anonymous_access" type="checkbox" value="1" checked"#),
            "{body}"
        );
    }
    // Nothing was stored, the other settings in the form included.
    assert_eq!(stored(&app, IDLE_KEY).await, None);
    assert_eq!(stored(&app, ABSOLUTE_KEY).await, None);
    assert!(!app.services().anonymous_access().await.unwrap());
    assert!(!app.services().deletion_settings().await.unwrap().by_self);

    // Without the form's CSRF token nothing changes either.
    let res = v
        .post("/admin/settings", &[(IDLE_KEY, "10"), (ABSOLUTE_KEY, "1")])
        .await;
    let body = assert_page(&res, 403);
    assert!(body.contains("Form expired"), "{body}");
    assert_eq!(stored(&app, IDLE_KEY).await, None);

    // The API refuses the same values with its error format.
    let api_cases = [
        (
            json!({"sessionIdleTimeoutMinutes": 0}),
            "sessionIdleTimeoutMinutes",
        ),
        (
            json!({"sessionIdleTimeoutMinutes": 99_999_999}),
            "sessionIdleTimeoutMinutes",
        ),
        (
            json!({"sessionIdleTimeoutMinutes": "soon"}),
            "sessionIdleTimeoutMinutes",
        ),
        (
            json!({"sessionIdleTimeoutMinutes": 7.5}),
            "sessionIdleTimeoutMinutes",
        ),
        (
            json!({"sessionAbsoluteLifetimeHours": 0}),
            "sessionAbsoluteLifetimeHours",
        ),
        (
            json!({"sessionAbsoluteLifetimeHours": "1"}),
            "sessionAbsoluteLifetimeHours",
        ),
        // Shorter than the default idle timeout of two hours.
        (
            json!({"sessionAbsoluteLifetimeHours": 1}),
            "sessionAbsoluteLifetimeHours",
        ),
        (
            json!({"sessionIdleTimeoutMinutes": 600, "sessionAbsoluteLifetimeHours": 2}),
            "sessionAbsoluteLifetimeHours",
        ),
        // Longer than the default absolute lifetime of a week.
        (
            json!({"sessionIdleTimeoutMinutes": 43_200}),
            "sessionIdleTimeoutMinutes",
        ),
        (
            json!({"sessionIdleTimeoutMinutes": 0, "anonymousAccessPublicProjects": true}),
            "sessionIdleTimeoutMinutes",
        ),
    ];
    for (body, attribute) in api_cases {
        let res = app
            .admin(Method::PATCH, "/api/v3/settings")
            .json(&body)
            .send()
            .await;
        let message = res.assert_error(422, "PropertyConstraintViolation");
        assert!(
            message.to_lowercase().contains("session"),
            "{body}: {message}"
        );
        assert_eq!(
            res.json()["_embedded"]["details"]["attribute"],
            attribute,
            "{body}"
        );
    }
    assert_eq!(stored(&app, IDLE_KEY).await, None);
    assert_eq!(stored(&app, ABSOLUTE_KEY).await, None);
    assert!(!app.services().anonymous_access().await.unwrap());
    assert!(settings_audit(&app, app.admin_id).await.is_empty());
    let limits = app.services().session_limits().await.unwrap();
    assert_eq!((limits.idle_minutes(), limits.absolute_hours()), (120, 168));

    // Not for other people.
    let (_, token) = app.user("nora").await;
    let res = crate::harness::Req::new(&app.base, Method::PATCH, "/api/v3/settings")
        .token(&token)
        .json(&json!({"sessionIdleTimeoutMinutes": 10}))
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    assert_eq!(stored(&app, IDLE_KEY).await, None);
}
both_backends!(bad_values_are_refused);

/// `steward settings` against the app's database, with a clean environment.
fn steward_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut cmd = app.db.steward_command(&app.db.dir.join("cli-data"));
    cmd.args(args);
    tokio::task::block_in_place(|| cmd.output()).expect("run the steward binary")
}

async fn set_from_the_shell(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Read once, so that the server holds the defaults in its cache.
    let limits = app.services().session_limits().await.unwrap();
    assert_eq!(limits.idle_minutes(), 120);

    let out = steward_cli(&app, &["settings", "show"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("session-idle-timeout-minutes: 120"), "{text}");
    assert!(
        text.contains("session-absolute-lifetime-hours: 168"),
        "{text}"
    );

    for (value, says) in [("4", "between 5 and 43200"), ("soon", "whole number")] {
        let out = steward_cli(
            &app,
            &["settings", "set", "session-idle-timeout-minutes", value],
        );
        assert!(!out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{value}: {err}");
    }
    assert_eq!(stored(&app, IDLE_KEY).await, None);

    let out = steward_cli(
        &app,
        &["settings", "set", "session-idle-timeout-minutes", "15"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stored(&app, IDLE_KEY).await.as_deref(), Some("15"));
    let text =
        String::from_utf8_lossy(&steward_cli(&app, &["settings", "show"]).stdout).into_owned();
    assert!(text.contains("session-idle-timeout-minutes: 15"), "{text}");
    // Audited without an actor: the operator at the shell.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_events WHERE event = 'settings.changed' AND actor_id IS NULL AND details LIKE $1",
            params![format!("%{IDLE_KEY}%")],
        )
        .await,
        1
    );

    // The running server picks the change up once its cached copy is old.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let limits = app.services().session_limits().await.unwrap();
        if limits.idle_minutes() == 15 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server still uses {limits:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
both_backends!(set_from_the_shell);

/// The configuration allows an idle timeout shorter than administrators may
/// set; the form still saves the other settings while it shows that value.
async fn configured_defaults_outside_the_range(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.session.idle_timeout_minutes = 1).await;
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    assert!(
        body.contains(r#"name="session_idle_timeout_minutes" type="number" inputmode="numeric" step="1" value="1""#),
        "{body}"
    );
    let res = v
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("anonymous_access", "1"),
                (IDLE_KEY, "1"),
                (ABSOLUTE_KEY, "168"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(app.services().anonymous_access().await.unwrap());
    assert_eq!(stored(&app, IDLE_KEY).await, None);
    // Changing it is held to the range.
    let res = v
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[(IDLE_KEY, "2"), (ABSOLUTE_KEY, "168")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("between 5 and 43200 minutes"), "{body}");
    assert!(app.services().anonymous_access().await.unwrap());
    assert_eq!(
        app.services().session_limits().await.unwrap().idle_seconds,
        60
    );
}
both_backends!(configured_defaults_outside_the_range);

/// Reading the limits (from the database when the cached copy is stale)
/// never needs a second connection while a request holds one: with a pool
/// of one connection a signed-in page still answers.
async fn one_connection_is_enough(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.database.pool_size = 1).await;
    let mut v = admin_visitor(&app).await;
    let page = tokio::time::timeout(Duration::from_secs(10), v.get("/"))
        .await
        .expect("the home page answers with one database connection");
    assert_page(&page, 200);
}
both_backends!(one_connection_is_enough);
