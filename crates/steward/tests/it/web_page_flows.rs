//! How the pages behave around their forms, over real HTTP on both
//! backends: a form is refused to whoever may not use it, a post that
//! creates something answers with a redirect, paging stays within the
//! pages there are, and a form reports every problem by its field.

use hyper::Method;
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::projects_api::{add_member, new_project};
use crate::web_pages::{admin_visitor, assert_page, Visitor, USER_PASSWORD};

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
