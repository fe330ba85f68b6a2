//! Many clients at once: parallel account creation over HTTP must neither
//! fail nor lose writes, and a contested login goes to exactly one of them.

use hyper::Method;
use serde_json::json;

use crate::harness::{Backend, Req, TestApp};

/// Sends `n` user creations at the same time; returns each (status, body).
async fn create_in_parallel(
    app: &TestApp,
    n: usize,
    body: impl Fn(usize) -> serde_json::Value,
) -> Vec<(u16, serde_json::Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let base = app.base.clone();
            let token = app.admin_token.clone();
            let body = body(i);
            tokio::spawn(async move {
                let res = Req::new(&base, Method::POST, "/api/v3/users")
                    .token(&token)
                    .json(&body)
                    .send()
                    .await;
                assert!(
                    res.header("x-request-id").is_some(),
                    "every answer has a request id"
                );
                let json = serde_json::from_slice(&res.body).unwrap_or(json!(null));
                (res.status, json)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

async fn total(app: &TestApp) -> i64 {
    let res = app
        .admin(Method::GET, "/api/v3/users?pageSize=1")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["total"].as_i64().unwrap()
}

async fn parallel_creations_all_succeed(backend: Backend) {
    let app = TestApp::start(backend).await;
    const N: usize = 200;
    let results = create_in_parallel(&app, N, |i| {
        json!({
            "login": format!("par{i}"),
            "email": format!("par{i}@example.org"),
            "firstName": "Parallel",
            "lastName": format!("User {i}"),
            "password": "user password 1",
            "status": "active",
        })
    })
    .await;
    let failures: Vec<_> = results.iter().filter(|(s, _)| *s != 201).collect();
    assert!(
        failures.is_empty(),
        "{} of {N} creations failed, for example: {:?}",
        failures.len(),
        failures.first()
    );
    let mut ids: Vec<i64> = results
        .iter()
        .map(|(_, b)| b["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "every creation got its own id");

    assert_eq!(total(&app).await, N as i64 + 1, "the {N} and the admin");

    // Every one of them is really there, readable by login.
    let res = app
        .admin(Method::GET, "/api/v3/users?pageSize=1000")
        .send()
        .await;
    let listed = res.json();
    let logins: Vec<&str> = listed["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    for i in 0..N {
        assert!(logins.contains(&format!("par{i}").as_str()), "par{i}");
    }
}
both_backends!(parallel_creations_all_succeed);

async fn a_contested_login_goes_to_one(backend: Backend) {
    let app = TestApp::start(backend).await;
    const N: usize = 50;
    let results = create_in_parallel(&app, N, |i| {
        json!({
            "login": if i % 2 == 0 { "contested" } else { "Contested" },
            "email": format!("contender{i}@example.org"),
            "firstName": "Contender",
            "lastName": format!("{i}"),
            "password": "user password 1",
            "status": "active",
        })
    })
    .await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s == 422).collect();
    let other: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s != 201 && *s != 422)
        .collect();
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert_eq!(created, 1, "exactly one wins");
    assert_eq!(refused.len(), N - 1);
    for (_, body) in &refused {
        assert_eq!(
            body["errorIdentifier"],
            "urn:openproject-org:api:v3:errors:PropertyConstraintViolation"
        );
        assert_eq!(body["_embedded"]["details"]["attribute"], "login", "{body}");
    }
    assert_eq!(total(&app).await, 2);
}
both_backends!(a_contested_login_goes_to_one);

/// Comments and updates arriving at once on one work package: every
/// comment lands with its own journal version, updates with a stale
/// lockVersion get 409, and nothing answers 5xx.
async fn concurrent_writes_to_one_work_package(backend: Backend) {
    use crate::work_packages_api::{make_project, new_wp};
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "busy", false).await;
    let wp = new_wp(
        &app,
        json!({"subject": "Contested", "_links": {"project": {"href": format!("/api/v3/projects/{project}")}}}),
    )
    .await;
    let id = wp["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let req = app
            .admin(
                Method::POST,
                &format!("/api/v3/work_packages/{id}/activities"),
            )
            .json(&json!({"comment": {"raw": format!("comment {i}")}}));
        tasks.push(tokio::spawn(req.send()));
    }
    for i in 0..10 {
        let req = app
            .admin(Method::PATCH, &format!("/api/v3/work_packages/{id}"))
            .json(&json!({"lockVersion": 0, "subject": format!("Edit {i}")}));
        tasks.push(tokio::spawn(req.send()));
    }
    let mut comments = 0;
    let mut updates = 0;
    for t in tasks {
        let res = t.await.unwrap();
        match res.status {
            201 => comments += 1,
            200 => updates += 1,
            409 => {}
            other => panic!("unexpected {other}: {}", res.text()),
        }
    }
    assert_eq!(comments, 20);
    assert_eq!(updates, 1, "exactly one update wins lockVersion 0");
    let mut c = app.services().db.conn().await.unwrap();
    let versions: Vec<i64> = c
        .query(
            "SELECT version FROM journals WHERE journable_id = $1 ORDER BY version",
            vec![id.into()],
        )
        .await
        .unwrap();
    assert_eq!(versions, (1..=22).collect::<Vec<i64>>());
}
both_backends!(concurrent_writes_to_one_work_package);
