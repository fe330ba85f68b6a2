//! Rectification (GDPR Art. 16): people correct their own name, email,
//! language and time zone; administrators anyone's; every change leaves an
//! audit entry naming the fields (never the old values).

use hyper::Method;
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::work_packages_api::as_user;

async fn audit_fields(app: &TestApp, target: i64) -> Vec<(String, Option<i64>, String)> {
    let mut conn = app.services().db.conn().await.unwrap();
    let rows: Vec<(i64, String, String)> = conn
        .query(
            "SELECT COALESCE(actor_id, 0), event, details FROM audit_events \
             WHERE target_user_id = $1 ORDER BY id",
            steward_storage::params![target],
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|(actor, event, details)| (event, (actor != 0).then_some(actor), details))
        .collect()
}

async fn people_and_admins_rectify(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;

    // A new email address needs the current password: without it, or
    // with a wrong one, nothing changes.
    for body in [
        json!({"firstName": "Alicia", "email": "alicia@example.org"}),
        json!({"firstName": "Alicia", "email": "alicia@example.org", "currentPassword": "wrong password 1"}),
    ] {
        let res = as_user(&app, &alice_token, Method::PATCH, "/api/v3/users/me")
            .json(&body)
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        let j = res.json();
        assert_eq!(
            j["_embedded"]["details"]["attribute"], "currentPassword",
            "{j}"
        );
    }
    let me = as_user(&app, &alice_token, Method::GET, "/api/v3/users/me")
        .send()
        .await
        .json();
    assert_eq!(me["email"], "alice@example.org", "{me}");
    assert_eq!(me["firstName"], "Test", "{me}");

    // Their own account, by id or `me`.
    let res = as_user(&app, &alice_token, Method::PATCH, "/api/v3/users/me")
        .json(&json!({
            "firstName": "Alicia",
            "lastName": "Lidell",
            "email": "alicia@example.org",
            "language": "fr",
            "timeZone": "Europe/Paris",
            "currentPassword": "user password 1",
        }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let me = res.json();
    assert_eq!(me["firstName"], "Alicia");
    assert_eq!(me["email"], "alicia@example.org");
    assert_eq!(me["language"], "fr");
    assert_eq!(me["timeZone"], "Europe/Paris");
    let res = as_user(
        &app,
        &alice_token,
        Method::PATCH,
        &format!("/api/v3/users/{alice}"),
    )
    .json(&json!({"lastName": "Liddell"}))
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["lastName"], "Liddell");

    // Not what only administrators may change; not someone else's.
    for body in [
        json!({"login": "queen"}),
        json!({"admin": true}),
        json!({"password": "a new password 1"}),
    ] {
        as_user(&app, &alice_token, Method::PATCH, "/api/v3/users/me")
            .json(&body)
            .send()
            .await
            .assert_error(403, "MissingPermission");
    }
    as_user(
        &app,
        &alice_token,
        Method::PATCH,
        &format!("/api/v3/users/{bob}"),
    )
    .json(&json!({"firstName": "Robert"}))
    .send()
    .await
    .assert_error(404, "NotFound");
    // Bad values: clear errors, nothing changed.
    let res = as_user(&app, &alice_token, Method::PATCH, "/api/v3/users/me")
        .json(&json!({"email": "not an email", "firstName": "Changed", "currentPassword": "user password 1"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    let res = as_user(&app, &alice_token, Method::PATCH, "/api/v3/users/me")
        .json(&json!({"timeZone": "Mars/Olympus"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    let me = as_user(&app, &alice_token, Method::GET, "/api/v3/users/me")
        .send()
        .await
        .json();
    assert_eq!(
        me["firstName"], "Alicia",
        "a refused change changes nothing"
    );

    // An administrator corrects anyone's data.
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/users/{bob}"))
        .json(&json!({"firstName": "Robert", "email": "robert@example.org"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = as_user(&app, &bob_token, Method::GET, "/api/v3/users/me")
        .send()
        .await;
    assert_eq!(res.json()["firstName"], "Robert");

    // Journalled: who changed which fields, never the old or new values.
    let alice_log = audit_fields(&app, alice).await;
    let own: Vec<_> = alice_log
        .iter()
        .filter(|(e, actor, _)| e == "user.updated" && *actor == Some(alice))
        .collect();
    assert_eq!(own.len(), 2, "{alice_log:?}");
    assert!(
        own[0].2.contains("firstName") && own[0].2.contains("email"),
        "{own:?}"
    );
    for (_, _, details) in &alice_log {
        assert!(
            !details.contains("Alicia") && !details.contains("alicia@"),
            "{details}"
        );
    }
    let bob_log = audit_fields(&app, bob).await;
    assert!(
        bob_log.iter().any(|(e, actor, d)| e == "user.updated"
            && *actor == Some(app.admin_id)
            && d.contains("email")),
        "{bob_log:?}"
    );
}
both_backends!(people_and_admins_rectify);
