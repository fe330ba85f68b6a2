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
