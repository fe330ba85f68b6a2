//! The web UI's administration area over real HTTP, on both backends:
//! who sees it, the users pages (create, rectify, lock, erase with its
//! certificate), the settings, the GDPR pages, CSRF refusals and escaping.

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::web_pages::{admin_visitor, assert_page, hidden, location, Visitor, USER_PASSWORD};

/// Every administration page one can open, for the 404 and 200 checks.
fn admin_pages(user_id: i64) -> Vec<String> {
    vec![
        "/admin/users".into(),
        "/admin/users/new".into(),
        format!("/admin/users/{user_id}"),
        format!("/admin/users/{user_id}/erase"),
        "/admin/settings".into(),
        "/admin/gdpr/record".into(),
        "/admin/gdpr/redactions".into(),
    ]
}

/// Every administration form, for the CSRF and non-admin refusals.
fn admin_actions(user_id: i64) -> Vec<String> {
    vec![
        "/admin/users".into(),
        format!("/admin/users/{user_id}"),
        format!("/admin/users/{user_id}/lock"),
        format!("/admin/users/{user_id}/unlock"),
        format!("/admin/users/{user_id}/erase"),
        "/admin/settings".into(),
        "/admin/gdpr/redactions/1/redact".into(),
        "/admin/gdpr/redactions/1/dismiss".into(),
    ]
}

async fn who_sees_administration(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (frank, _) = app.user("frank").await;

    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let home = assert_page(&fv.get("/").await, 200);
    assert!(!home.contains("/admin/"), "{home}");
    for page in admin_pages(frank) {
        assert_page(&fv.get(&page).await, 404);
    }
    // With a valid token a non-administrator's forms are still "not found".
    let token = hidden(&home, "csrf_token");
    for action in admin_actions(frank) {
        let res = fv.post(&action, &[("csrf_token", &token)]).await;
        assert_page(&res, 404);
    }
    let me = app.services().user(frank).await.unwrap();
    assert!(!me.admin && me.status.as_str() == "active");

    let mut v = admin_visitor(&app).await;
    let home = assert_page(&v.get("/").await, 200);
    assert!(home.contains("href=\"/admin/users\""), "{home}");
    for page in admin_pages(frank) {
        let body = assert_page(&v.get(&page).await, 200);
        assert!(
            body.contains("aria-current=\"page\">Administration"),
            "{body}"
        );
    }
    let record = assert_page(&v.get("/admin/gdpr/record").await, 200);
    assert!(
        record.contains("<h1>") || record.contains("<h2>"),
        "{record}"
    );

    // A form without the session's token is refused, and nothing changes.
    for action in admin_actions(frank) {
        let res = v
            .post(&action, &[("login", "x"), ("confirm_login", "frank")])
            .await;
        assert_page(&res, 403);
    }
    assert!(app.services().user(frank).await.is_ok());
    assert_eq!(
        app.services().user(frank).await.unwrap().status.as_str(),
        "active"
    );
}
both_backends!(who_sees_administration);

async fn users_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = admin_visitor(&app).await;

    // A blank login: the form again, with the message by the field.
    let res = v
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("login", ""),
                ("firstname", "<script>alert(1)</script>"),
                ("lastname", "Doe"),
                ("email", "jane@example.org"),
                ("password", "a good long password"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("Login can't be blank."), "{body}");
    assert!(body.contains("id=\"login-error\""), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );

    let res = v
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("login", "jane"),
                ("firstname", "<script>alert(1)</script>"),
                ("lastname", "Doe"),
                ("email", "jane@example.org"),
                ("password", "a good long password"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = location(&res).to_string();
    assert!(page.ends_with("?notice=user_created"), "{page}");
    let body = assert_page(&v.get(&page).await, 200);
    assert!(body.contains("The user was created."), "{body}");
    let jane = app.services().user_by_ref("jane").await.unwrap();
    assert_eq!(jane.email.as_deref(), Some("jane@example.org"));
    assert!(!jane.admin);

    // The list escapes the name.
    let list = assert_page(&v.get("/admin/users").await, 200);
    assert!(
        list.contains("&lt;script&gt;alert(1)&lt;/script&gt; Doe"),
        "{list}"
    );
    assert!(
        list.contains("jane@example.org") && list.contains(">admin<"),
        "{list}"
    );

    // Rectification: a bad email is a message, then the change is saved.
    let user_page = format!("/admin/users/{}", jane.id);
    let fields = |email: &'static str| {
        [
            ("firstname", "Jane"),
            ("lastname", "Roe"),
            ("email", email),
            ("language", "de"),
            ("time_zone", "Europe/Berlin"),
        ]
    };
    let res = v
        .submit(&user_page, &user_page, &fields("not an email"))
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"email-error\""), "{body}");
    let res = v
        .submit(&user_page, &user_page, &fields("jane.roe@example.org"))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let jane = app.services().user(jane.id).await.unwrap();
    assert_eq!(
        (
            jane.name().as_str(),
            jane.email.as_deref(),
            jane.language.as_str(),
            jane.time_zone.as_str()
        ),
        (
            "Jane Roe",
            Some("jane.roe@example.org"),
            "de",
            "Europe/Berlin"
        )
    );

    // Lock and unlock.
    let res = v
        .submit(&user_page, &format!("{user_page}/lock"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(body.contains("This account is locked"), "{body}");
    assert_eq!(
        app.services().user(jane.id).await.unwrap().status.as_str(),
        "locked"
    );
    let res = v
        .submit(&user_page, &format!("{user_page}/unlock"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        app.services().user(jane.id).await.unwrap().status.as_str(),
        "active"
    );

    // The last administrator can neither be locked nor lose the flag: the
    // page says why, it is no error page.
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let admin_page = format!("/admin/users/{}", admin.id);
    let res = v
        .submit(&admin_page, &format!("{admin_page}/lock"), &[])
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("role=\"alert\""), "{body}");
    let email = admin.email.clone().unwrap_or_default();
    let res = v
        .submit(
            &admin_page,
            &admin_page,
            &[
                ("firstname", "Ada"),
                ("lastname", "Admin"),
                ("email", &email),
                ("language", &admin.language),
                ("time_zone", &admin.time_zone),
            ],
        )
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(app.services().user(admin.id).await.unwrap().admin);
}
both_backends!(users_pages);

/// A page's field messages: `(id of the input, message)` for each
/// `<p class="field-error" id="ID-error">MESSAGE</p>`.
pub fn field_errors(body: &str) -> Vec<(String, String)> {
    let marker = "<p class=\"field-error\" id=\"";
    body.match_indices(marker)
        .map(|(at, _)| {
            let rest = &body[at + marker.len()..];
            let (id, rest) = rest.split_once("-error\">").expect("the message");
            let (message, _) = rest.split_once("</p>").expect("its end");
            (id.to_string(), message.replace("&#39;", "'"))
        })
        .collect()
}

/// Every refused field of the new-user form and of the profile is shown
/// next to its own field at once; nothing is written.
async fn every_refused_user_field_is_shown(backend: Backend) {
    let app = TestApp::start(backend).await;
    let users = || async {
        app.services()
            .list_users(&Default::default(), &[], 100, 0)
            .await
            .unwrap()
            .1
    };
    let before = users().await;
    let mut v = admin_visitor(&app).await;
    let res = v
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("login", "has space"),
                ("firstname", " "),
                ("lastname", "Doe"),
                ("email", "not-an-address"),
                ("password", "short"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    let errors = field_errors(&body);
    let ids: Vec<&str> = errors.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["login", "firstname", "email", "password"], "{body}");
    assert!(
        errors[0].1.starts_with("Login may only contain"),
        "{errors:?}"
    );
    assert_eq!(errors[1].1, "First name can't be blank.");
    assert!(errors[2].1.contains("is not a valid address"), "{errors:?}");
    assert!(
        errors[3].1.starts_with("Password is too short"),
        "{errors:?}"
    );
    assert_eq!(users().await, before, "nothing was created");

    // One bad field: one message.
    let res = v
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("login", ""),
                ("firstname", "Jane"),
                ("lastname", "Doe"),
                ("email", "jane@example.org"),
                ("password", "a good long password"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert_eq!(
        field_errors(&body),
        [("login".to_string(), "Login can't be blank.".to_string())]
    );

    // The profile: each refused field by itself.
    app.user("mia").await;
    let mut mia = Visitor::signed_in(&app, "mia", USER_PASSWORD).await;
    let res = mia
        .submit(
            "/my/account",
            "/my/account",
            &[
                ("firstname", ""),
                ("lastname", "Mia"),
                ("email", "mia@example.org"),
                ("language", "xx"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    let ids: Vec<String> = field_errors(&body).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["firstname", "language", "time_zone"], "{body}");
    let mia_now = app.services().user_by_ref("mia").await.unwrap();
    assert_ne!(mia_now.firstname, "");
}
both_backends!(every_refused_user_field_is_shown);

async fn erasure_and_redaction(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (erin, _) = app.user("erin").await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Site", "identifier": "site"}),
    )
    .await;
    // Free text naming Erin: after the erasure it waits in the queue.
    app.created(
        "/api/v3/projects/site/work_packages",
        json!({"subject": "Handover", "description": {"raw": "Ask Test erin about the keys."}}),
    )
    .await;

    let mut v = admin_visitor(&app).await;
    let erase = format!("/admin/users/{erin}/erase");
    let body = assert_page(&v.get(&erase).await, 200);
    assert!(body.contains("<td>users</td>"), "{body}");
    assert!(body.contains("name=\"confirm_login\""), "{body}");

    // The wrong login erases nobody.
    let res = v.submit(&erase, &erase, &[("confirm_login", "eri")]).await;
    let body = assert_page(&res, 422);
    assert!(body.contains("does not match"), "{body}");
    assert!(app.services().user(erin).await.is_ok());

    // Switched off: the page says so, and nothing is erased.
    app.services()
        .set_deletion_settings(Some(false), None)
        .await
        .unwrap();
    let body = assert_page(&v.get(&erase).await, 200);
    assert!(body.contains("users_deletable_by_admins"), "{body}");
    assert!(!body.contains("name=\"confirm_login\""), "{body}");
    let token = hidden(&body, "csrf_token");
    let res = v
        .post(&erase, &[("confirm_login", "erin"), ("csrf_token", &token)])
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("users_deletable_by_admins"), "{body}");
    assert!(app.services().user(erin).await.is_ok());
    app.services()
        .set_deletion_settings(Some(true), None)
        .await
        .unwrap();

    let res = v.submit(&erase, &erase, &[("confirm_login", "erin")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let cert = location(&res).to_string();
    assert!(cert.starts_with("/admin/erasures/"), "{cert}");
    let body = assert_page(&v.get(&cert).await, 200);
    assert!(body.contains("<pre class=\"certificate\">"), "{body}");
    assert!(body.contains("Residue scan: CLEAN"), "{body}");
    assert!(!body.contains("erin@example.org"), "{body}");
    assert!(app.services().user(erin).await.is_err(), "erin is gone");
    assert_page(&v.get(&format!("/admin/users/{erin}")).await, 404);
    let list = assert_page(&v.get("/admin/users").await, 200);
    assert!(!list.contains("erin@example.org"), "{list}");

    // The last administrator cannot be erased: a message, never a 500.
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let own = format!("/admin/users/{}/erase", admin.id);
    let res = v.submit(&own, &own, &[("confirm_login", "admin")]).await;
    let body = assert_page(&res, 409);
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(app.services().user(admin.id).await.is_ok());

    // The queue shows the text around the name; each entry is redacted
    // from its review page, which empties the queue.
    let review_link = |page: &str| {
        page.split("href=\"/admin/gdpr/redactions/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .find(|id| id.parse::<i64>().is_ok())
            .map(|id| format!("/admin/gdpr/redactions/{id}"))
    };
    let queue = assert_page(&v.get("/admin/gdpr/redactions").await, 200);
    assert!(queue.contains("Test erin"), "{queue}");
    let first = review_link(&queue).expect("a Review link");
    let mut next = Some(first.clone());
    let mut body = String::new();
    // The description and its history may each have an entry.
    while let Some(entry) = next {
        let action = format!("{entry}/redact");
        let res = v.submit(&entry, &action, &[("confirm", "redact")]).await;
        assert_eq!(res.status, 303, "{}", res.text());
        body = assert_page(&v.get(location(&res)).await, 200);
        next = review_link(&body);
    }
    assert!(body.contains("The mention was redacted."), "{body}");
    assert!(body.contains("Nothing is waiting"), "{body}");
    // Resolving it again is a message on the queue, not an error page.
    let res = v
        .submit(
            "/admin/gdpr/redactions",
            &format!("{first}/redact"),
            &[("confirm", "redact")],
        )
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("already redacted"), "{body}");
}
both_backends!(erasure_and_redaction);

async fn settings_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/admin/settings").await, 200);
    // The defaults: administrators may erase, people may not delete
    // themselves, no anonymous access.
    assert!(
        body.contains("name=\"users_deletable_by_admins\" type=\"checkbox\" value=\"1\" checked"),
        "{body}"
    );
    assert!(
        !body.contains("name=\"users_deletable_by_self\" type=\"checkbox\" value=\"1\" checked"),
        "{body}"
    );

    let res = v
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[("users_deletable_by_self", "1"), ("anonymous_access", "1")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(body.contains("The settings were saved."), "{body}");
    assert!(
        body.contains("name=\"anonymous_access\" type=\"checkbox\" value=\"1\" checked"),
        "{body}"
    );
    let s = app.services().deletion_settings().await.unwrap();
    assert!(!s.by_admins && s.by_self, "{s:?}");
    assert!(app.services().anonymous_access().await.unwrap());
}
both_backends!(settings_page);

/// Malformed ids in paths are pages that do not exist, repeated or broken
/// query fields and undecodable path segments are a 400 page, and a
/// nonsensical page number shows the first page: never a 500, never the
/// framework's plain-text answer.
async fn malformed_paths_and_queries(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Odd", "identifier": "odd"}),
    )
    .await;
    let mut v = crate::web_pages::admin_visitor(&app).await;
    let token = hidden(&assert_page(&v.get("/").await, 200), "csrf_token");
    for page in [
        "/admin/users/abc",
        "/admin/users/abc/erase",
        "/admin/roles/abc",
        "/admin/types/abc",
        "/admin/jobs/x",
        "/admin/erasures/abc",
        "/work_packages/abc/edit",
        "/work_packages/abc/mentionable?q=a",
    ] {
        assert_page(&v.get(page).await, 404);
    }
    for action in [
        "/admin/users/abc/lock",
        "/admin/users/abc/unlock",
        "/admin/roles/abc/delete",
        "/admin/gdpr/redactions/abc/redact",
        "/admin/gdpr/redactions/abc/dismiss",
        "/admin/jobs/x/retry",
        "/my/sessions/abc/revoke",
        "/my/tokens/abc/revoke",
        "/projects/odd/members/abc/delete",
        "/projects/odd/members/abc/roles",
        "/work_packages/abc/comments",
    ] {
        assert_page(&v.post(action, &[("csrf_token", &token)]).await, 404);
    }
    for page in ["/admin/users?page=1&page=2", "/admin/users/%FF"] {
        let res = v.get(page).await;
        let body = assert_page(&res, 400);
        assert!(body.contains("<html"), "a page, not plain text: {body}");
    }
    for page in [
        "/admin/users?page=x",
        "/admin/jobs?page=x",
        "/admin/audit?page=x",
        "/admin/gdpr/redactions?page=-3",
    ] {
        assert_page(&v.get(page).await, 200);
    }
}
both_backends!(malformed_paths_and_queries);
