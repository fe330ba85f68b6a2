//! The change history over HTTP: `/api/v3/work_packages/{id}/activities`
//! and `/api/v3/activities/{id}`: one journal per change, details in words,
//! comments and their edits (with the earlier wording kept), who may
//! comment and edit, and the mentions found in descriptions and comments.

use hyper::Method;
use serde_json::{json, Value};
use steward_storage::params;

use crate::harness::{Backend, Resp, TestApp};
use crate::work_packages_api::{
    add_member, as_user, get_json, href, lookup, make_project, minimal, new_wp, patch,
};

pub async fn comment(app: &TestApp, token: &str, wp: i64, text: &str) -> Resp {
    as_user(
        app,
        token,
        Method::POST,
        &format!("/api/v3/work_packages/{wp}/activities"),
    )
    .json(&json!({"comment": {"raw": text}}))
    .send()
    .await
}

async fn edit(app: &TestApp, token: &str, activity: i64, text: &str) -> Resp {
    as_user(
        app,
        token,
        Method::PATCH,
        &format!("/api/v3/activities/{activity}"),
    )
    .json(&json!({"comment": {"raw": text}}))
    .send()
    .await
}

fn raw_details(activity: &Value) -> Vec<String> {
    activity["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["raw"].as_str().unwrap().to_string())
        .collect()
}

async fn history_lists_every_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let in_progress = lookup(&app, "statuses", "In progress").await;
    let wp = new_wp(&app, minimal(project, "Write docs", task)).await;
    let id = wp["id"].as_i64().unwrap();
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 0, "_links": {"status": href("statuses", in_progress)}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 1, "percentageDone": 40, "description": {"raw": "Now with text"}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = comment(&app, &app.admin_token, id, "Looks good").await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let created = res.json();
    assert_eq!(created["_type"], "Activity::Comment");
    assert_eq!(created["comment"]["raw"], "Looks good");
    assert_eq!(created["comment"]["format"], "markdown");
    assert_eq!(created["version"], 4);

    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/work_packages/{id}/activities"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/hal+json"));
    let list = res.json();
    assert_eq!(list["_type"], "Collection");
    assert_eq!(list["total"], 4);
    assert_eq!(list["count"], 4);
    assert_eq!(
        list["_links"]["self"]["href"],
        format!("/api/v3/work_packages/{id}/activities")
    );
    let el = list["_embedded"]["elements"].as_array().unwrap();
    let versions: Vec<i64> = el.iter().map(|a| a["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![1, 2, 3, 4], "oldest first");
    assert_eq!(el[0]["_type"], "Activity");
    assert!(
        raw_details(&el[0]).contains(&"Subject set to Write docs".to_string()),
        "{}",
        el[0]
    );
    assert_eq!(el[1]["_type"], "Activity");
    assert_eq!(
        raw_details(&el[1]),
        vec!["Status changed from New to In progress".to_string()]
    );
    assert_eq!(el[1]["details"][0]["format"], "custom");
    assert_eq!(
        el[1]["details"][0]["html"],
        "<strong>Status</strong> changed from <i>New</i> to <i>In progress</i>"
    );
    let d2 = raw_details(&el[2]);
    assert!(
        d2.iter()
            .any(|d| d.contains("% Complete") && d.contains("40")),
        "{d2:?}"
    );
    assert!(d2.contains(&"Description changed".to_string()), "{d2:?}");
    assert_eq!(el[3]["_type"], "Activity::Comment");
    assert_eq!(el[3]["comment"]["raw"], "Looks good");
    assert!(el[3]["comment"]["html"]
        .as_str()
        .unwrap()
        .contains("Looks good"));
    assert_eq!(el[3]["details"], json!([]));
    assert_eq!(el[3]["edited"], false);
    for a in el {
        assert_eq!(
            a["_links"]["workPackage"]["href"],
            format!("/api/v3/work_packages/{id}")
        );
        assert_eq!(a["_links"]["workPackage"]["title"], "Write docs");
        assert_eq!(
            a["_links"]["user"]["href"],
            format!("/api/v3/users/{}", app.admin_id)
        );
        assert!(a["_links"]["user"]["title"].is_string());
        let aid = a["id"].as_i64().unwrap();
        assert_eq!(
            a["_links"]["self"]["href"],
            format!("/api/v3/activities/{aid}")
        );
        assert!(a["createdAt"].is_string() && a["updatedAt"].is_string());
    }
    // One activity on its own.
    let aid = el[1]["id"].as_i64().unwrap();
    let one = get_json(&app, &format!("/api/v3/activities/{aid}")).await;
    assert_eq!(one["id"], aid);
    assert_eq!(one["details"], el[1]["details"]);
    app.admin(Method::GET, "/api/v3/activities/999999")
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::GET, "/api/v3/work_packages/999999/activities")
        .send()
        .await
        .assert_error(404, "NotFound");
    // A comment with a change: one journal with both.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 2, "subject": "Write the docs", "comment": {"raw": "Renamed"}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = get_json(&app, &format!("/api/v3/work_packages/{id}/activities")).await;
    assert_eq!(list["total"], 5);
    let last = &list["_embedded"]["elements"][4];
    assert_eq!(last["_type"], "Activity::Comment");
    assert_eq!(last["comment"]["raw"], "Renamed");
    assert_eq!(
        raw_details(last),
        vec!["Subject changed from Write docs to Write the docs".to_string()]
    );
}
both_backends!(history_lists_every_change);

async fn comments_and_who_may_edit_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    let (carol, carol_token) = app.user("carol").await;
    let (rita, rita_token) = app.user("rita").await;
    let (_, otto_token) = app.user("otto").await;
    add_member(&app, project, alice, "Member").await;
    add_member(&app, project, bob, "Member").await;
    add_member(&app, project, carol, "Project admin").await;
    add_member(&app, project, rita, "Reader").await;
    let wp = new_wp(&app, minimal(project, "Discuss", task)).await["id"]
        .as_i64()
        .unwrap();

    let res = comment(&app, &alice_token, wp, "Original wording").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let note = res.json();
    let nid = note["id"].as_i64().unwrap();
    assert_eq!(
        note["_links"]["update"]["href"],
        format!("/api/v3/activities/{nid}")
    );
    assert_eq!(note["_links"]["update"]["method"], "patch");
    assert_eq!(
        note["_links"]["user"]["href"],
        format!("/api/v3/users/{alice}")
    );
    assert_eq!(note["_links"]["user"]["title"], "Test alice");

    // Its author edits it; the earlier wording is kept.
    let res = edit(&app, &alice_token, nid, "Better wording").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let edited = res.json();
    assert_eq!(edited["comment"]["raw"], "Better wording");
    assert_eq!(edited["edited"], true);
    assert_eq!(edited["version"], note["version"]);
    let mut conn = app.services().db.conn().await.unwrap();
    let kept: Vec<String> = conn
        .query(
            "SELECT previous_notes FROM journal_note_edits WHERE journal_id = $1 ORDER BY id",
            params![nid],
        )
        .await
        .unwrap();
    assert_eq!(kept, vec!["Original wording".to_string()]);
    drop(conn);
    let shown = get_json(&app, &format!("/api/v3/activities/{nid}")).await;
    assert_eq!(shown["comment"]["raw"], "Better wording");
    assert_eq!(shown["edited"], true);

    // Another member may not; they see no update link.
    let res = as_user(
        &app,
        &bob_token,
        Method::GET,
        &format!("/api/v3/activities/{nid}"),
    )
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["_links"]["update"].is_null());
    edit(&app, &bob_token, nid, "Bob was here")
        .await
        .assert_error(403, "MissingPermission");
    // A project admin may.
    let res = edit(&app, &carol_token, nid, "Moderated").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["comment"]["raw"], "Moderated");
    assert_eq!(
        get_json(&app, &format!("/api/v3/activities/{nid}")).await["comment"]["raw"],
        "Moderated"
    );

    // A reader reads but may not comment; outsiders see nothing.
    let res = as_user(
        &app,
        &rita_token,
        Method::GET,
        &format!("/api/v3/work_packages/{wp}/activities"),
    )
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 2);
    comment(&app, &rita_token, wp, "Me too")
        .await
        .assert_error(403, "MissingPermission");
    edit(&app, &rita_token, nid, "Me too")
        .await
        .assert_error(403, "MissingPermission");
    comment(&app, &otto_token, wp, "Hello?")
        .await
        .assert_error(404, "NotFound");
    as_user(
        &app,
        &otto_token,
        Method::GET,
        &format!("/api/v3/activities/{nid}"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
    edit(&app, &otto_token, nid, "Hello?")
        .await
        .assert_error(404, "NotFound");
    as_user(
        &app,
        &otto_token,
        Method::GET,
        &format!("/api/v3/work_packages/{wp}/activities"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
    // Blank comments are refused; anonymous callers must sign in.
    for blank in [
        json!({"comment": {"raw": "   "}}),
        json!({}),
        json!({"comment": {"raw": null}}),
    ] {
        let res = as_user(
            &app,
            &alice_token,
            Method::POST,
            &format!("/api/v3/work_packages/{wp}/activities"),
        )
        .json(&blank)
        .send()
        .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(res.json()["_embedded"]["details"]["attribute"], "comment");
    }
    app.anon(
        Method::POST,
        &format!("/api/v3/work_packages/{wp}/activities"),
    )
    .json(&json!({"comment": {"raw": "Hi"}}))
    .send()
    .await
    .assert_error(401, "Unauthenticated");
    app.anon(
        Method::GET,
        &format!("/api/v3/work_packages/{wp}/activities"),
    )
    .send()
    .await
    .assert_error(401, "Unauthenticated");
    app.anon(Method::PATCH, &format!("/api/v3/activities/{nid}"))
        .json(&json!({"comment": {"raw": "Hi"}}))
        .send()
        .await
        .assert_error(401, "Unauthenticated");
    // Nothing was added by the refused attempts.
    assert_eq!(
        get_json(&app, &format!("/api/v3/work_packages/{wp}/activities")).await["total"],
        2
    );
}
both_backends!(comments_and_who_may_edit_them);

async fn mentions(app: &TestApp, source_type: &str, source_id: i64) -> Vec<i64> {
    let mut conn = app.services().db.conn().await.unwrap();
    conn.query(
        "SELECT user_id FROM mentions WHERE source_type = $1 AND source_id = $2 ORDER BY user_id",
        params![source_type, source_id],
    )
    .await
    .unwrap()
}

async fn mentions_are_recorded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "alpha", false).await;
    let task = lookup(&app, "types", "Task").await;
    let (alice, _) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    add_member(&app, project, alice, "Member").await;
    add_member(&app, project, bob, "Member").await;

    let mut body = minimal(project, "Mentions", task);
    body["description"] = json!({
        "raw": format!(
            "Please look, <mention class=\"mention\" data-id=\"{alice}\" data-type=\"user\" data-text=\"@Test alice\">@Test alice</mention>."
        )
    });
    let wp = new_wp(&app, body).await;
    let id = wp["id"].as_i64().unwrap();
    assert_eq!(mentions(&app, "work_package", id).await, vec![alice]);

    let res = comment(&app, &bob_token, id, "Ping @carol and mail x@example.org").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let jid = res.json()["id"].as_i64().unwrap();
    assert_eq!(mentions(&app, "journal", jid).await, vec![carol]);

    // Editing the comment replaces its mentions.
    let res = edit(&app, &bob_token, jid, "Actually @alice").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(mentions(&app, "journal", jid).await, vec![alice]);

    // A changed description replaces the work package's mentions.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 0, "description": {"raw": "Over to @bob and @nobody"}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(mentions(&app, "work_package", id).await, vec![bob]);

    // A comment given with an update is a journal like any other.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": 1, "comment": {"raw": "cc @alice"}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = get_json(&app, &format!("/api/v3/work_packages/{id}/activities")).await;
    let last = list["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["comment"]["raw"], "cc @alice");
    let last_id = last["id"].as_i64().unwrap();
    assert_eq!(mentions(&app, "journal", last_id).await, vec![alice]);

    // Deleting the work package removes its mentions.
    let res = app
        .admin(Method::DELETE, &format!("/api/v3/work_packages/{id}"))
        .send()
        .await;
    assert_eq!(res.status, 204);
    assert!(mentions(&app, "work_package", id).await.is_empty());
    assert!(mentions(&app, "journal", jid).await.is_empty());
}
both_backends!(mentions_are_recorded);

/// A comment is a change to its work package: `updatedAt` becomes the
/// comment's time (lists sorted by "updated" show it first), while the
/// lock version stays, as in OpenProject, so an edit begun before the
/// comment still saves.
async fn comment_updates_the_work_package(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "lab", false).await;
    let task = lookup(&app, "types", "Task").await;
    let first = new_wp(&app, minimal(project, "Older", task)).await;
    let second = new_wp(&app, minimal(project, "Newer", task)).await;
    let id = first["id"].as_i64().unwrap();
    let before = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;

    let res = comment(&app, &app.admin_token, id, "Looked at it.").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let activity = res.json();

    let after = get_json(&app, &format!("/api/v3/work_packages/{id}")).await;
    assert_ne!(after["updatedAt"], before["updatedAt"], "{after}");
    assert_eq!(after["updatedAt"], activity["createdAt"], "{after}");
    assert_eq!(after["lockVersion"], before["lockVersion"], "{after}");
    let list = get_json(
        &app,
        "/api/v3/projects/lab/work_packages?sortBy=%5B%5B%22updatedAt%22%2C%22desc%22%5D%5D",
    )
    .await;
    let ids: Vec<i64> = list["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [id, second["id"].as_i64().unwrap()]);

    // An edit started before the comment still saves.
    let res = patch(
        &app,
        id,
        json!({"lockVersion": before["lockVersion"], "subject": "Oldest"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
}
both_backends!(comment_updates_the_work_package);
