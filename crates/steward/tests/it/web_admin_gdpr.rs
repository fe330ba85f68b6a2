//! The web UI's data-controller pages over real HTTP, on both backends:
//! the residue scan (and that its identifiers stay out of the request
//! log), the audit trail with its filters and pages, the background jobs
//! with retry, the configured lifetimes and retention on the settings
//! page, who may use them, CSRF refusals and escaping.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::job::JobStatus;
use steward_services::jobs::{Registry, Worker, WorkerOptions};

use crate::harness::{Backend, TestApp, ADMIN_PASSWORD};
use crate::request_log::request_log_lines;
use crate::web_pages::{admin_visitor, assert_page, hidden, location, Visitor, USER_PASSWORD};

async fn residue_scan(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (erin, _) = app.user("erin").await;
    let mut v = admin_visitor(&app).await;

    let body = assert_page(&v.get("/admin/gdpr/scan").await, 200);
    assert!(
        body.contains("aria-current=\"page\">Residue scan"),
        "{body}"
    );
    for field in ["user", "id", "login", "email", "first_name", "last_name"] {
        assert!(body.contains(&format!("<label for=\"{field}\">")), "{body}");
    }

    // A living person: their account is residue, so never clean.
    let res = v
        .submit("/admin/gdpr/scan", "/admin/gdpr/scan", &[("user", "erin")])
        .await;
    let body = assert_page(&res, 200);
    assert!(body.contains("Residue found"), "{body}");
    assert!(!body.contains(">CLEAN<"), "{body}");
    assert!(body.contains("<td><code>users</code></td>"), "{body}");

    // Nothing to scan for, an unknown account, a bad id, both kinds: 422.
    let res = v
        .submit("/admin/gdpr/scan", "/admin/gdpr/scan", &[("user", "  ")])
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("Give at least one identifier"), "{body}");
    let res = v
        .submit(
            "/admin/gdpr/scan",
            "/admin/gdpr/scan",
            &[("user", "nobody")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"user-error\""), "{body}");
    assert!(body.contains("no account with the login or id"), "{body}");
    let res = v
        .submit("/admin/gdpr/scan", "/admin/gdpr/scan", &[("id", "x1")])
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"id-error\""), "{body}");
    assert!(body.contains("aria-invalid=\"true\""), "{body}");
    let res = v
        .submit(
            "/admin/gdpr/scan",
            "/admin/gdpr/scan",
            &[("user", "erin"), ("login", "erin")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("not both"), "{body}");

    // Erased through the web form; a scan for what identified her is clean.
    let erase = format!("/admin/users/{erin}/erase");
    let res = v.submit(&erase, &erase, &[("confirm_login", "erin")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let erasure_request = res.header("x-request-id").unwrap().to_string();
    assert!(app.services().user(erin).await.is_err());
    let erin_id = erin.to_string();
    let res = v
        .submit(
            "/admin/gdpr/scan",
            "/admin/gdpr/scan",
            &[
                ("id", &erin_id),
                ("login", "erin"),
                ("email", "erin@example.org"),
                ("first_name", "Test"),
                ("last_name", "erin"),
            ],
        )
        .await;
    let body = assert_page(&res, 200);
    assert!(body.contains(">CLEAN<"), "{body}");
    assert!(!body.contains("Residue found"), "{body}");

    // The scans and the erasure were logged, but not what they named.
    let lines = request_log_lines(&app).await;
    let scans: Vec<&Value> = lines
        .iter()
        .filter(|l| l["path"] == "/admin/gdpr/scan" && l["method"] == "POST")
        .collect();
    assert!(scans.len() >= 5, "{lines:?}");
    // The erasure's own line (its path no longer names her, see the
    // request log's unlinking), without the confirming login.
    let erasure = lines
        .iter()
        .find(|l| l["request_id"] == erasure_request.as_str())
        .unwrap_or_else(|| panic!("no line for the erasure: {lines:?}"));
    assert_eq!(erasure["method"], "POST");
    assert!(erasure.get("params").is_none(), "{erasure}");
    assert!(scans.iter().all(|l| l.get("params").is_none()), "{scans:?}");
    for l in &lines {
        let text = l.to_string();
        assert!(
            !text.contains("erin"),
            "an identifier in the request log: {text}"
        );
    }
}
both_backends!(residue_scan);

/// The `href` of the pager's link with this `rel`, as a path to open.
fn pager_link(body: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split('"').next()?.replace("&amp;", "&"))
}

async fn audit_trail(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (erin, _) = app.user("erin").await;
    let mut ev = Visitor::new(&app);
    let res = ev.sign_in("erin", USER_PASSWORD).await;
    assert_eq!(res.status, 303);
    let erin_request = res.header("x-request-id").unwrap().to_string();
    let mut v = Visitor::new(&app);
    let res = v.sign_in("admin", ADMIN_PASSWORD).await;
    let admin_request = res.header("x-request-id").unwrap().to_string();

    // Someone whose name is markup, as the target of an event.
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&json!({
            "login": "mallory",
            "email": "mallory@example.org",
            "firstName": "<script>alert(1)</script>",
            "lastName": "M",
            "password": USER_PASSWORD,
            "status": "active",
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mallory = res.json()["id"].as_i64().unwrap();
    app.services()
        .create_api_token(mallory, "laptop")
        .await
        .unwrap();

    let body = assert_page(&v.get("/admin/audit").await, 200);
    assert!(body.contains("aria-current=\"page\">Audit trail"), "{body}");
    for expected in [
        "<code>login.succeeded</code>",
        erin_request.as_str(),
        admin_request.as_str(),
        &format!("href=\"/admin/users/{erin}\">Test erin</a>"),
        "&lt;script&gt;alert(1)&lt;/script&gt; M",
    ] {
        assert!(body.contains(expected), "{expected}: {body}");
    }
    // Newest first: mallory's token came after erin's sign-in.
    let token_at = body.find("<code>api_token.created</code>").unwrap();
    assert!(token_at < body.find(&erin_request).unwrap(), "{body}");

    // Filters narrow the list.
    let body = assert_page(
        &v.get("/admin/audit?event=login.succeeded&actor=erin").await,
        200,
    );
    assert!(body.contains(&erin_request), "{body}");
    assert!(!body.contains(&admin_request), "{body}");
    assert!(!body.contains("<code>api_token.created</code>"), "{body}");
    assert!(body.contains("1 event<"), "{body}");
    let body = assert_page(
        &v.get(&format!("/admin/audit?actor={erin}&category=access"))
            .await,
        200,
    );
    assert!(!body.contains(&erin_request), "{body}");
    let body = assert_page(
        &v.get(&format!(
            "/admin/audit?target={mallory}&event=api_token.created"
        ))
        .await,
        200,
    );
    assert!(body.contains("<code>api_token.created</code>"), "{body}");
    assert!(!body.contains(&erin_request), "{body}");
    let body = assert_page(&v.get("/admin/audit?to=2000-01-01").await, 200);
    assert!(body.contains("No events match these filters."), "{body}");
    assert!(!body.contains(&erin_request), "{body}");
    let body = assert_page(&v.get("/admin/audit?from=2000-01-01").await, 200);
    assert!(body.contains(&erin_request), "{body}");

    // Filters that cannot be applied are said by their field.
    let body = assert_page(&v.get("/admin/audit?from=yesterday").await, 422);
    assert!(body.contains("id=\"f-from-error\""), "{body}");
    assert!(!body.contains(&erin_request), "{body}");
    let body = assert_page(&v.get("/admin/audit?actor=nobody").await, 422);
    assert!(body.contains("id=\"f-actor-error\""), "{body}");
    let body = assert_page(&v.get("/admin/audit?category=gossip").await, 422);
    assert!(body.contains("id=\"f-category-error\""), "{body}");

    // More than a page: the pager keeps the filters.
    for i in 0..30 {
        app.services()
            .create_api_token(erin, &format!("token {i}"))
            .await
            .unwrap();
    }
    let first = format!("/admin/audit?event=api_token.created&target={erin}");
    let body = assert_page(&v.get(&first).await, 200);
    let on_first = body.matches("<code>api_token.created</code>").count();
    assert_eq!(on_first, 25, "{body}");
    assert!(body.contains("Page 1 of 2"), "{body}");
    assert!(pager_link(&body, "prev").is_none(), "{body}");
    let next = pager_link(&body, "next").expect("a next link");
    assert!(
        next.contains("page=2") && next.contains("event=api_token.created"),
        "{next}"
    );
    let body = assert_page(&v.get(&next).await, 200);
    let on_second = body.matches("<code>api_token.created</code>").count();
    // 30 here and the one the harness made when it created erin.
    assert_eq!(on_first + on_second, 31, "{body}");
    assert!(body.contains("Page 2 of 2"), "{body}");
    assert!(pager_link(&body, "next").is_none(), "{body}");
    assert!(!body.contains("&lt;script"), "{body}");
}
both_backends!(audit_trail);

/// Runs the due jobs once, as a worker of this process would.
async fn run_due_jobs(app: &TestApp) {
    let worker = Worker::new(
        app.services().clone(),
        Registry::builtin(),
        WorkerOptions {
            concurrency: 1,
            poll_interval: Duration::from_millis(20),
        },
    )
    .unwrap();
    worker.run_until_idle().await.unwrap();
}

async fn background_jobs(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.jobs.in_process_worker = false;
        c.jobs.max_attempts = 1;
    })
    .await;
    let s = app.services();
    let failing = s
        .enqueue_job_now(
            "diagnostics.fail",
            &json!({"message": "<script>alert(1)</script> broke"}),
            None,
        )
        .await
        .unwrap();
    run_due_jobs(&app).await;
    assert_eq!(s.job(failing).await.unwrap().status, JobStatus::Failed);
    // Enqueued after the run: it waits.
    let waiting = s
        .enqueue_job_now("diagnostics.fail", &json!({"message": "later"}), None)
        .await
        .unwrap();

    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/jobs").await, 200);
    assert!(
        body.contains("aria-current=\"page\">Background jobs"),
        "{body}"
    );
    for expected in [
        format!("href=\"/admin/jobs/{failing}\""),
        format!("href=\"/admin/jobs/{waiting}\""),
        "<code>diagnostics.fail</code>".into(),
        "diagnostics.fail: &lt;script&gt;alert(1)&lt;/script&gt; broke".into(),
        ">failed</span>".into(),
        ">queued</span>".into(),
        "1 of 1".into(),
        // The recurring jobs.
        "<code>retention.sessions</code>".into(),
        "hourly :05".into(),
    ] {
        assert!(body.contains(&expected), "{expected}: {body}");
    }

    // Filtered by state.
    let body = assert_page(&v.get("/admin/jobs?state=failed").await, 200);
    assert!(
        body.contains(&format!("href=\"/admin/jobs/{failing}\"")),
        "{body}"
    );
    assert!(
        !body.contains(&format!("href=\"/admin/jobs/{waiting}\"")),
        "{body}"
    );
    let body = assert_page(&v.get("/admin/jobs?state=queued").await, 200);
    assert!(
        !body.contains(&format!("href=\"/admin/jobs/{failing}\"")),
        "{body}"
    );
    assert!(
        body.contains(&format!("href=\"/admin/jobs/{waiting}\"")),
        "{body}"
    );
    let body = assert_page(&v.get("/admin/jobs?state=done").await, 200);
    assert!(body.contains("No jobs match."), "{body}");

    // A job's page: payload and the whole error, escaped; retry offered.
    let page = format!("/admin/jobs/{failing}");
    let body = assert_page(&v.get(&page).await, 200);
    assert!(
        body.contains(
            "{&quot;message&quot;:&quot;&lt;script&gt;alert(1)&lt;/script&gt; broke&quot;}"
        ),
        "{body}"
    );
    assert!(
        body.contains(&format!("action=\"/admin/jobs/{failing}/retry\"")),
        "{body}"
    );
    let waiting_page = format!("/admin/jobs/{waiting}");
    let body = assert_page(&v.get(&waiting_page).await, 200);
    assert!(!body.contains("/retry\""), "{body}");

    // A job that is not failed is not retried: the reason, on its page.
    let res = v
        .submit(&waiting_page, &format!("{waiting_page}/retry"), &[])
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("is queued, not failed"), "{body}");
    assert_eq!(s.job(waiting).await.unwrap().status, JobStatus::Queued);

    // Without the form's token nothing happens.
    let res = v.post(&format!("{page}/retry"), &[]).await;
    assert_page(&res, 403);
    assert_eq!(s.job(failing).await.unwrap().status, JobStatus::Failed);

    let res = v.submit(&page, &format!("{page}/retry"), &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), format!("{page}?notice=job_retried"));
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(body.contains("The job was queued again"), "{body}");
    let job = s.job(failing).await.unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.attempts, 0);

    assert_page(&v.get("/admin/jobs/x").await, 404);
    assert_page(&v.get("/admin/jobs/987654").await, 404);
    let token = hidden(&body, "csrf_token");
    assert_page(
        &v.post("/admin/jobs/987654/retry", &[("csrf_token", &token)])
            .await,
        404,
    );
}
both_backends!(background_jobs);

/// The settings page's row for `option` shows `value`.
fn shows(body: &str, value: &str, option: &str) {
    let row = format!("<td>{value}</td><td><code>{option}</code></td>");
    assert!(body.contains(&row), "{row}: {body}");
}

async fn configured_values(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.session.idle_timeout_minutes = 45;
        c.session.absolute_lifetime_hours = 30;
        c.request_log.max_file_mb = 3;
        c.request_log.max_total_mb = 21;
        c.request_log.max_age_days = 12;
        c.request_log.pseudonymize = false;
        c.request_log.pseudonym_key_rotation_days = 5;
        c.audit.security_retention_days = 400;
        c.audit.access_retention_days = 0;
        c.security.login_attempt_retention_days = 33;
        c.jobs.done_retention_days = 2;
        c.jobs.failed_retention_days = 44;
        c.gdpr.export_expiry_hours = 48;
    })
    .await;
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    shows(&body, "45 minutes", "session.idle_timeout_minutes");
    shows(&body, "30 hours", "session.absolute_lifetime_hours");
    shows(&body, "on", "request_log.enabled");
    shows(&body, "3 MB", "request_log.max_file_mb");
    shows(&body, "21 MB", "request_log.max_total_mb");
    shows(&body, "12 days", "request_log.max_age_days");
    shows(&body, "stored as is", "request_log.pseudonymize");
    assert!(
        !body.contains("request_log.pseudonym_key_rotation_days"),
        "{body}"
    );
    shows(&body, "400 days", "audit.security_retention_days");
    shows(&body, "kept indefinitely", "audit.access_retention_days");
    shows(&body, "33 days", "security.login_attempt_retention_days");
    shows(&body, "2 days", "jobs.done_retention_days");
    shows(&body, "44 days", "jobs.failed_retention_days");
    shows(&body, "48 hours", "gdpr.export_expiry_hours");
    assert!(body.contains("<code>[session]</code>"), "{body}");
    // The form for what may be changed here is still there.
    assert!(body.contains("name=\"anonymous_access\""), "{body}");

    // The defaults, on another instance.
    let app = TestApp::start(app_backend(&app)).await;
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    shows(&body, "120 minutes", "session.idle_timeout_minutes");
    shows(&body, "pseudonymised", "request_log.pseudonymize");
    shows(&body, "7 days", "request_log.pseudonym_key_rotation_days");
}
both_backends!(configured_values);

/// The engine an app runs on, to start another on the same one.
fn app_backend(app: &TestApp) -> Backend {
    if app.config.uses_sqlite() {
        Backend::Sqlite
    } else {
        Backend::postgres()
    }
}

async fn only_administrators(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    app.user("frank").await;
    let job = app
        .services()
        .enqueue_job_now("diagnostics.fail", &json!({}), None)
        .await
        .unwrap();
    let pages = [
        "/admin/gdpr/scan".to_string(),
        "/admin/audit".into(),
        "/admin/jobs".into(),
        format!("/admin/jobs/{job}"),
    ];
    let actions = [
        "/admin/gdpr/scan".to_string(),
        format!("/admin/jobs/{job}/retry"),
    ];

    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let home = assert_page(&fv.get("/").await, 200);
    let token = hidden(&home, "csrf_token");
    for page in &pages {
        assert_page(&fv.get(page).await, 404);
    }
    for action in &actions {
        let res = fv
            .post(action, &[("csrf_token", &token), ("user", "frank")])
            .await;
        let body = assert_page(&res, 404);
        assert!(!body.contains("Residue"), "{body}");
    }

    // Not signed in: to the sign-in page.
    let mut anon = Visitor::new(&app);
    for page in &pages {
        let res = anon.get(page).await;
        assert_eq!(res.status, 303, "{page}");
        assert!(location(&res).starts_with("/login?next="), "{page}");
    }

    let mut v = admin_visitor(&app).await;
    for page in &pages {
        let body = assert_page(&v.get(page).await, 200);
        assert!(
            body.contains("aria-current=\"page\">Administration"),
            "{body}"
        );
    }
    // The administrator's forms need the session's token too.
    let res = v.post("/admin/gdpr/scan", &[("user", "frank")]).await;
    let body = assert_page(&res, 403);
    assert!(!body.contains("Residue"), "{body}");
}
both_backends!(only_administrators);
