//! How the pages behave around their forms, over real HTTP on both
//! backends: a form is refused to whoever may not use it, a post that
//! creates something answers with a redirect, paging stays within the
//! pages there are, and a form reports every problem by its field.

use hyper::Method;
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::projects_api::{add_member, new_project};
use crate::web_pages::{admin_visitor, assert_page, location, Visitor, USER_PASSWORD};

/// A project `lab` with one work package and a member `rita` who may only
/// read; returns the work package's id.
async fn lab_with_reader(app: &TestApp) -> i64 {
    let project = new_project(app, "lab", false).await;
    let wp = app
        .created(
            "/api/v3/projects/lab/work_packages",
            json!({"subject": "Calibrate the sensor"}),
        )
        .await;
    let (rita, _) = app.user("rita").await;
    add_member(app, project, rita, "Reader").await;
    wp["id"].as_i64().unwrap()
}

async fn reader_is_refused_the_edit_form(backend: Backend) {
    let app = TestApp::start(backend).await;
    let wp = lab_with_reader(&app).await;
    let mut v = Visitor::signed_in(&app, "rita", USER_PASSWORD).await;
    let page = format!("/work_packages/{wp}");
    let body = assert_page(&v.get(&page).await, 200);
    assert!(body.contains("Calibrate the sensor"), "{body}");
    assert!(!body.contains(&format!("{page}/edit")), "{body}");

    // The form itself is refused, not only its save.
    let body = assert_page(&v.get(&format!("{page}/edit")).await, 403);
    assert!(
        body.contains("You are not allowed to edit this work package."),
        "{body}"
    );
    assert!(!body.contains("name=\"subject\""), "{body}");
    assert_page(&v.get("/projects/lab/work_packages/new").await, 403);

    // The work package is unchanged.
    let res = app
        .admin(Method::GET, &format!("/api/v3/work_packages/{wp}"))
        .send()
        .await;
    assert_eq!(res.json()["subject"], "Calibrate the sensor");
}
both_backends!(reader_is_refused_the_edit_form);

async fn pages_beyond_the_last_show_the_last(backend: Backend) {
    let app = TestApp::start(backend).await;
    new_project(&app, "lab", false).await;
    for n in 1..=26 {
        app.created(
            "/api/v3/projects/lab/work_packages",
            json!({"subject": format!("Task {n:02}")}),
        )
        .await;
    }
    let mut v = admin_visitor(&app).await;

    // Two pages of work packages: page 999 is the second, with its row.
    for list in ["/work_packages", "/projects/lab/work_packages"] {
        let body = assert_page(&v.get(&format!("{list}?page=999&sort=subject")).await, 200);
        assert!(body.contains("Page 2 of 2"), "{body}");
        assert!(!body.contains("Page 999"), "{body}");
        assert!(body.contains("Task 26"), "{body}");
        assert!(!body.contains("Task 01"), "{body}");
        assert!(body.contains("rel=\"prev\""), "{body}");
    }
    // One page: its rows, and no pager claiming page 999.
    for (list, row) in [
        ("/projects", "Project lab"),
        ("/admin/users", ">admin</a>"),
        ("/admin/audit", "<tbody>"),
    ] {
        let body = assert_page(&v.get(&format!("{list}?page=999")).await, 200);
        assert!(!body.contains("Page 999"), "{list}: {body}");
        assert!(body.contains(row), "{list}: {body}");
    }
    for list in ["/admin/jobs", "/admin/gdpr/redactions"] {
        let body = assert_page(&v.get(&format!("{list}?page=999")).await, 200);
        assert!(!body.contains("Page 999"), "{list}: {body}");
    }
}
both_backends!(pages_beyond_the_last_show_the_last);

/// Redacting and dismissing happen only from an entry's own page, which
/// links to the text; the queue links there and acts on nothing itself.
async fn redaction_needs_review_and_confirmation(backend: Backend) {
    let app = TestApp::start(backend).await;
    new_project(&app, "lab", false).await;
    let (erin, _) = app.user("erin").await;
    let wp = app
        .created(
            "/api/v3/projects/lab/work_packages",
            json!({"subject": "Calibrate", "description": {"raw": "Ask Test erin about the sensor."}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v3/work_packages/{wp}/activities"),
        )
        .json(&json!({"comment": {"raw": "Test erin agreed."}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let journal = res.json()["id"].as_i64().unwrap();
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{erin}"))
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let queue = app
        .admin(Method::GET, "/api/v3/gdpr/redactions?status=open")
        .send()
        .await
        .json();
    let entries = queue["_embedded"]["elements"].as_array().unwrap().clone();
    let live = entries
        .iter()
        .find(|e| e["table"] == "work_packages" && e["rowId"] == wp)
        .unwrap_or_else(|| panic!("the description is queued: {queue}"))["id"]
        .as_i64()
        .unwrap();

    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/gdpr/redactions").await, 200);
    assert!(
        !body.contains("/redact\""),
        "no redaction from the list: {body}"
    );
    assert!(!body.contains("/dismiss\""), "{body}");
    let entry = format!("/admin/gdpr/redactions/{live}");
    assert!(body.contains(&format!("href=\"{entry}\"")), "{body}");
    assert!(
        body.contains(&format!("href=\"/work_packages/{wp}\"")),
        "{body}"
    );
    assert!(
        body.contains(&format!("href=\"/work_packages/{wp}#activity-{journal}\"")),
        "the comment is linked: {body}"
    );

    // A post that was not confirmed on the entry's page changes nothing.
    let res = v.submit(&entry, &format!("{entry}/redact"), &[]).await;
    let page = assert_page(&res, 422);
    assert!(page.contains("Nothing was changed"), "{page}");
    assert!(description(&app, wp).await.contains("Test erin"));

    // The entry's page: the text, where it is, and the confirming buttons.
    let page = assert_page(&v.get(&entry).await, 200);
    assert!(page.contains("about the sensor"), "{page}");
    assert!(
        page.contains(&format!("href=\"/work_packages/{wp}\"")),
        "{page}"
    );
    assert!(page.contains("cannot be undone"), "{page}");
    let res = v
        .submit(&entry, &format!("{entry}/redact"), &[("confirm", "redact")])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let now = description(&app, wp).await;
    assert!(
        !now.contains("Test erin") && now.contains("[redacted]"),
        "{now}"
    );
    assert_page(&v.get("/admin/gdpr/redactions/999999").await, 404);
}
both_backends!(redaction_needs_review_and_confirmation);

async fn description(app: &TestApp, wp: i64) -> String {
    let path = format!("/api/v3/work_packages/{wp}");
    app.admin(Method::GET, &path).send().await.json()["description"]["raw"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Changing one's email address needs the current password, on the page
/// as in the API; the other fields do not.
async fn email_change_needs_the_current_password(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (erin, _) = app.user("erin").await;
    let mut v = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let fields = |email: &'static str, password: &'static str| {
        vec![
            ("firstname", "Erin"),
            ("lastname", "Example"),
            ("email", email),
            ("language", "en"),
            ("time_zone", "UTC"),
            ("current_password", password),
        ]
    };
    for (password, message) in [
        ("", "Enter your current password."),
        ("wrong password 1", "The current password is wrong."),
    ] {
        let res = v
            .submit(
                "/my/account",
                "/my/account",
                &fields("new@example.org", password),
            )
            .await;
        let body = assert_page(&res, 422);
        assert!(body.contains(message), "{body}");
        assert!(
            body.contains("id=\"current_password-error\""),
            "by its field: {body}"
        );
        assert!(body.contains("value=\"new@example.org\""), "kept: {body}");
    }
    let stored = app.services().user(erin).await.unwrap();
    assert_eq!(stored.email.as_deref(), Some("erin@example.org"));
    assert_eq!(stored.firstname, "Test", "nothing was saved");

    // The same address (in other capitals) needs nothing; a new one with it.
    let res = v
        .submit(
            "/my/account",
            "/my/account",
            &fields("Erin@Example.org", ""),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = v
        .submit(
            "/my/account",
            "/my/account",
            &fields("new@example.org", USER_PASSWORD),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let stored = app.services().user(erin).await.unwrap();
    assert_eq!(stored.email.as_deref(), Some("new@example.org"));
}
both_backends!(email_change_needs_the_current_password);

/// "End all other sessions": on the sessions page (this browser stays
/// signed in) and in the API (`DELETE /api/v3/my/sessions`).
async fn ending_all_other_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (erin, token) = app.user("erin").await;
    let mut here = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let mut laptop = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let mut phone = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let body = assert_page(&here.get("/my/sessions").await, 200);
    assert!(body.contains("End all other sessions"), "{body}");
    let res = here
        .submit("/my/sessions", "/my/sessions/end_others", &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/my/sessions?notice=other_sessions_ended");
    assert_eq!(laptop.get("/").await.status, 303, "the laptop is out");
    assert_eq!(phone.get("/").await.status, 303, "the phone is out");
    let body = assert_page(&here.get("/my/sessions").await, 200);
    assert!(
        !body.contains("End all other sessions"),
        "only this one left: {body}"
    );
    assert_eq!(app.services().sessions_of(erin).await.unwrap().len(), 1);

    // The API, with a token: every session ends.
    let mut again = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let res = crate::harness::Req::new(&app.base, Method::DELETE, "/api/v3/my/sessions")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(app.services().sessions_of(erin).await.unwrap().is_empty());
    assert_eq!(again.get("/").await.status, 303);
    assert_eq!(here.get("/").await.status, 303);
}
both_backends!(ending_all_other_sessions);
