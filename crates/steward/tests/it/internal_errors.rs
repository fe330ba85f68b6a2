//! Failures that are not the caller's doing (a file that cannot be read, a
//! stored document that no longer parses) answer 500 in the API's error
//! format with a generic message naming the request id, show the error
//! page with that id, and name the problem on the command line. The cause
//! goes to the server log under the request id, never into the answer.

use hyper::Method;
use steward_storage::params;

use crate::harness::{Backend, Resp, TestApp};
use crate::server_log;
use crate::web_pages::{admin_visitor, assert_page};

/// Texts of the causes that must stay in the log: the operating system's
/// error and serde's.
const RAW: &[&str] = &[
    "os error",
    "Not a directory",
    "line 1 column",
    "request log",
];

/// Asserts the generic 500 of the API and that its cause, `cause`, is in
/// the server log on a line with the request id (and not in the body).
fn assert_internal(res: &Resp, cause: &str) {
    let message = res.assert_error(500, "InternalServerError");
    let request_id = res
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    assert!(message.contains(&request_id), "{message}");
    let body = res.text();
    for raw in RAW.iter().chain([&cause]) {
        assert!(!body.contains(raw), "{raw:?} in the answer: {body}");
    }
    let logged = server_log::lines_with(&[&request_id, cause]);
    assert!(
        !logged.is_empty(),
        "no log line with {request_id} and {cause:?}"
    );
}

/// The same for a web page: the error page with the request id.
fn assert_internal_page(res: &Resp, cause: &str) {
    let body = assert_page(res, 500);
    let request_id = res
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    assert!(body.contains(&request_id), "{body}");
    for raw in RAW.iter().chain([&cause]) {
        assert!(!body.contains(raw), "{raw:?} on the page: {body}");
    }
    assert!(
        !server_log::lines_with(&[&request_id, cause]).is_empty(),
        "no log line with {request_id} and {cause:?}"
    );
}

/// Replaces the request log's directory with a regular file: reading it
/// fails with the operating system's error, as root too.
async fn break_request_log(app: &TestApp) {
    app.services().request_log().flush().await;
    let dir = app.config.request_log_dir();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"in the way").unwrap();
}

/// The residue scan and erasure need the request log; unreadable, they
/// fail as internal errors and erase nothing.
async fn unreadable_request_log_is_an_internal_error(backend: Backend) {
    server_log::capture();
    let app = TestApp::start(backend).await;
    let (uid, _) = app.user("ruth").await;
    break_request_log(&app).await;

    let res = app
        .admin(Method::POST, "/api/v3/gdpr/scans")
        .json(&serde_json::json!({ "login": "ruth" }))
        .send()
        .await;
    assert_internal(&res, "cannot read the request log");

    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{uid}"))
        .send()
        .await;
    assert_internal(&res, "cannot scrub the request log");
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{uid}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "nothing was erased: {}", res.text());

    let mut v = admin_visitor(&app).await;
    let res = v
        .submit("/admin/gdpr/scan", "/admin/gdpr/scan", &[("login", "ruth")])
        .await;
    assert_internal_page(&res, "cannot read the request log");

    // The operator is told the cause.
    let out = app
        .db
        .steward_command(&app.config.data_dir)
        .args(["gdpr", "scan", "--login", "ruth"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot read the request log"), "{stderr}");
}
both_backends!(unreadable_request_log_is_an_internal_error);

/// A certificate whose stored document no longer parses is the
/// instance's fault, not the reader's.
async fn unreadable_certificate_is_an_internal_error(backend: Backend) {
    server_log::capture();
    let app = TestApp::start(backend).await;
    let (uid, _) = app.user("sam").await;
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/users/{uid}"))
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let (list, _) = app.services().erasure_certificates(0, 10).await.unwrap();
    let cert = list[0].id;
    let mut conn = app.services().db.conn().await.unwrap();
    conn.execute(
        "UPDATE erasure_certificates SET document = $1 WHERE id = $2",
        params!["{not json", cert],
    )
    .await
    .unwrap();
    drop(conn);

    for path in [
        format!("/api/v3/gdpr/erasures/{cert}"),
        format!("/api/v3/gdpr/erasures/{cert}/text"),
    ] {
        let res = app.admin(Method::GET, &path).send().await;
        assert_internal(&res, "cannot be read");
    }

    let mut v = admin_visitor(&app).await;
    let res = v.get(&format!("/admin/erasures/{cert}")).await;
    assert_internal_page(&res, "cannot be read");

    let out = app
        .db
        .steward_command(&app.config.data_dir)
        .args(["gdpr", "certificate", &cert.to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot be read"), "{stderr}");
}
both_backends!(unreadable_certificate_is_an_internal_error);
