//! `/api/v3/memberships` over HTTP: who may add, change and remove
//! members, what is refused, clients that send memberships back without
//! links, groups whose members gain the group's roles, and the principals
//! and groups a person may see.

use hyper::Method;
use serde_json::{json, Value};
use steward_storage::params;

use crate::harness::{Backend, Resp, TestApp};
use crate::projects_api::{
    add_member, as_user, element_ids, filter, membership_body, new_project, role_id,
};

fn attribute(res: &Resp) -> String {
    res.json()["_embedded"]["details"]["attribute"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn role_titles(m: &Value) -> Vec<String> {
    m["_links"]["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("no roles: {m}"))
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

fn roles_patch(roles: &[i64]) -> Value {
    let roles: Vec<Value> = roles
        .iter()
        .map(|r| json!({"href": format!("/api/v3/roles/{r}")}))
        .collect();
    json!({"_links": {"roles": roles}})
}

/// A group with the given members, written straight to the database (groups
/// have no API yet).
async fn new_group(app: &TestApp, login: &str, name: &str, members: &[i64]) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    let id: i64 = c
        .query_one(
            "INSERT INTO users (kind, login, login_key, firstname, lastname, status, created_at, updated_at) \
             VALUES ('group', $1, $1, '', $2, 'active', 0, 0) RETURNING id",
            params![login, name],
        )
        .await
        .unwrap();
    for m in members {
        c.execute(
            "INSERT INTO group_users (group_id, user_id) VALUES ($1, $2)",
            params![id, *m],
        )
        .await
        .unwrap();
    }
    id
}

async fn managing_members_needs_the_permission(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    let (carol, carol_token) = app.user("carol").await;
    let (_dave, dave_token) = app.user("dave").await;
    add_member(&app, project, alice, "Project admin").await;
    add_member(&app, project, bob, "Member").await;
    let reader = role_id(&app, "Reader").await;
    let member = role_id(&app, "Member").await;
    let body = membership_body(project, &format!("/api/v3/users/{carol}"), &[reader]);

    as_user(&app, &bob_token, Method::POST, "/api/v3/memberships")
        .json(&body)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &dave_token, Method::POST, "/api/v3/memberships")
        .json(&body)
        .send()
        .await
        .assert_error(422, "PropertyConstraintViolation");
    let res = as_user(&app, &alice_token, Method::POST, "/api/v3/memberships")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let m = res.json();
    let id = m["id"].as_i64().unwrap();
    assert_eq!(m["_type"], "Membership");
    assert!(m["createdAt"].is_string());
    let path = format!("/api/v3/memberships/{id}");
    assert_eq!(m["_links"]["self"]["href"], path);
    assert_eq!(
        m["_links"]["project"]["href"],
        format!("/api/v3/projects/{project}")
    );
    assert_eq!(m["_links"]["project"]["title"], "Project team");
    assert_eq!(
        m["_links"]["principal"]["href"],
        format!("/api/v3/users/{carol}")
    );
    assert_eq!(m["_links"]["principal"]["title"], "Test carol");
    assert_eq!(
        m["_links"]["roles"][0]["href"],
        format!("/api/v3/roles/{reader}")
    );
    assert_eq!(role_titles(&m), vec!["Reader"]);
    assert_eq!(m["_links"]["updateImmediately"]["method"], "patch");
    assert_eq!(m["_links"]["delete"]["method"], "delete");

    // Carol now sees the project and its members, without the right to change them.
    let res = as_user(
        &app,
        &carol_token,
        Method::GET,
        &format!("/api/v3/projects/{project}"),
    )
    .send()
    .await;
    assert_eq!(res.status, 200);
    let res = as_user(&app, &carol_token, Method::GET, &path).send().await;
    assert_eq!(res.status, 200);
    assert!(res.json()["_links"]["delete"].is_null());
    let res = as_user(&app, &carol_token, Method::GET, "/api/v3/memberships")
        .send()
        .await;
    assert_eq!(res.json()["total"], 3);
    let res = as_user(
        &app,
        &carol_token,
        Method::GET,
        &format!(
            "/api/v3/memberships?{}",
            filter("principal", "=", &[&bob.to_string()])
        ),
    )
    .send()
    .await;
    assert_eq!(res.json()["total"], 1);

    // Outsiders do not see the membership at all.
    as_user(&app, &dave_token, Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(&app, &dave_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");

    // Changing roles.
    as_user(&app, &bob_token, Method::PATCH, &path)
        .json(&roles_patch(&[member]))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    let res = as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&roles_patch(&[member, reader]))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut titles = role_titles(&res.json());
    titles.sort();
    assert_eq!(titles, vec!["Member", "Reader"]);
    let res = as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&roles_patch(&[]))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "roles");

    // Removing.
    as_user(&app, &bob_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    let res = as_user(&app, &alice_token, Method::DELETE, &path)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.admin(Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(
        &app,
        &carol_token,
        Method::GET,
        &format!("/api/v3/projects/{project}"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
}
both_backends!(managing_members_needs_the_permission);

async fn invalid_and_duplicate_memberships(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (alice, _) = app.user("alice").await;
    let member = role_id(&app, "Member").await;
    let creator = role_id(&app, "Project creator").await;
    let non_member = role_id(&app, "Non member").await;
    let alice_href = format!("/api/v3/users/{alice}");

    let post = |body: Value| {
        let req = app.admin(Method::POST, "/api/v3/memberships").json(&body);
        async move { req.send().await }
    };
    // Older clients name the principal "user".
    let res = post(json!({"_links": {
        "project": {"href": format!("/api/v3/projects/{project}")},
        "user": {"href": alice_href},
        "roles": [{"href": format!("/api/v3/roles/{member}")}],
    }}))
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = post(membership_body(project, &alice_href, &[member])).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "principal");

    let (bob, _) = app.user("bob").await;
    let bob_href = format!("/api/v3/users/{bob}");
    for (body, attr) in [
        (membership_body(project, &bob_href, &[]), "roles"),
        (membership_body(project, &bob_href, &[creator]), "roles"),
        (membership_body(project, &bob_href, &[non_member]), "roles"),
        (membership_body(project, &bob_href, &[99999]), "roles"),
        (
            membership_body(project, "/api/v3/users/99999", &[member]),
            "principal",
        ),
        // The "Deleted user" is no principal one can add.
        (
            membership_body(project, "/api/v3/users/1", &[member]),
            "principal",
        ),
        (
            membership_body(project, "/api/v3/statuses/1", &[member]),
            "principal",
        ),
        (membership_body(99999, &bob_href, &[member]), "project"),
        (
            json!({"_links": {"project": {"href": format!("/api/v3/projects/{project}")}, "roles": [{"href": format!("/api/v3/roles/{member}")}]}}),
            "principal",
        ),
        // Without a project, only global roles.
        (
            json!({"_links": {"principal": {"href": bob_href}, "roles": [{"href": format!("/api/v3/roles/{member}")}]}}),
            "roles",
        ),
    ] {
        let res = post(body.clone()).await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), attr, "{body}");
    }
    // A global role, by an administrator, and only once.
    let global = json!({"_links": {"principal": {"href": bob_href}, "roles": [{"href": format!("/api/v3/roles/{creator}")}]}});
    let res = post(global.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(res.json()["_links"]["project"].is_null());
    let res = post(global).await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "principal");

    app.admin(Method::GET, "/api/v3/memberships/99999")
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(
        Method::GET,
        &format!("/api/v3/memberships?{}", filter("colour", "=", &["red"])),
    )
    .send()
    .await
    .assert_error(400, "InvalidQuery");
}
both_backends!(invalid_and_duplicate_memberships);

async fn non_admins_give_no_global_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    add_member(&app, project, alice, "Project admin").await;
    let creator = role_id(&app, "Project creator").await;
    as_user(&app, &alice_token, Method::POST, "/api/v3/memberships")
        .json(&json!({"_links": {"principal": {"href": format!("/api/v3/users/{bob}")}, "roles": [{"href": format!("/api/v3/roles/{creator}")}]}}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
}
both_backends!(non_admins_give_no_global_roles);

async fn patch_without_links_changes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (alice, _) = app.user("alice").await;
    let id = add_member(&app, project, alice, "Member").await;
    let path = format!("/api/v3/memberships/{id}");
    let before = app.admin(Method::GET, &path).send().await.json();

    // What a client sends after dropping the read-only parts.
    let mut body = before.clone();
    let obj = body.as_object_mut().unwrap();
    for k in ["_type", "id", "createdAt", "updatedAt", "_links"] {
        obj.remove(k);
    }
    for b in [body, json!({})] {
        let res = app.admin(Method::PATCH, &path).json(&b).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json(), before);
    }
    // The whole document back, unchanged, is fine too.
    let res = app.admin(Method::PATCH, &path).json(&before).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(role_titles(&res.json()), vec!["Member"]);
}
both_backends!(patch_without_links_changes_nothing);

async fn group_members_gain_the_group_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (erin, erin_token) = app.user("erin").await;
    let (_frank, frank_token) = app.user("frank").await;
    let group = new_group(&app, "devs", "Developers", &[erin]).await;
    let project_path = format!("/api/v3/projects/{project}");

    as_user(&app, &erin_token, Method::GET, &project_path)
        .send()
        .await
        .assert_error(404, "NotFound");
    let member = role_id(&app, "Member").await;
    let res = app
        .admin(Method::POST, "/api/v3/memberships")
        .json(&membership_body(
            project,
            &format!("/api/v3/groups/{group}"),
            &[member],
        ))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let m = res.json();
    assert_eq!(
        m["_links"]["principal"]["href"],
        format!("/api/v3/groups/{group}")
    );
    assert_eq!(m["_links"]["principal"]["title"], "Developers");

    let res = as_user(&app, &erin_token, Method::GET, &project_path)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["_links"]["createWorkPackageImmediate"]["method"],
        "post"
    );
    let res = as_user(&app, &erin_token, Method::GET, "/api/v3/memberships")
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), vec![m["id"].as_i64().unwrap()]);

    // The group, as its member sees it.
    let res = as_user(
        &app,
        &erin_token,
        Method::GET,
        &format!("/api/v3/groups/{group}"),
    )
    .send()
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let g = res.json();
    assert_eq!(g["_type"], "Group");
    assert_eq!(g["name"], "Developers");
    assert_eq!(
        g["_links"]["members"][0]["href"],
        format!("/api/v3/users/{erin}")
    );
    as_user(
        &app,
        &frank_token,
        Method::GET,
        &format!("/api/v3/groups/{group}"),
    )
    .send()
    .await
    .assert_error(404, "NotFound");
    as_user(&app, &frank_token, Method::GET, &project_path)
        .send()
        .await
        .assert_error(404, "NotFound");
    // A user is no group.
    app.admin(Method::GET, &format!("/api/v3/groups/{erin}"))
        .send()
        .await
        .assert_error(404, "NotFound");

    // Leaving the group loses the role.
    let mut c = app.services().db.conn().await.unwrap();
    c.execute("DELETE FROM group_users WHERE user_id = $1", params![erin])
        .await
        .unwrap();
    as_user(&app, &erin_token, Method::GET, &project_path)
        .send()
        .await
        .assert_error(404, "NotFound");
}
both_backends!(group_members_gain_the_group_role);

async fn principals_are_those_who_share_a_project(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let other = new_project(&app, "other", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    let (loner, loner_token) = app.user("loner").await;
    let group = new_group(&app, "devs", "Developers", &[carol]).await;
    add_member(&app, project, alice, "Member").await;
    add_member(&app, project, bob, "Reader").await;
    add_member(&app, other, carol, "Member").await;
    let member = role_id(&app, "Member").await;
    let res = app
        .admin(Method::POST, "/api/v3/memberships")
        .json(&membership_body(
            project,
            &format!("/api/v3/groups/{group}"),
            &[member],
        ))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Administrators see every user and group, but no built-in principal.
    let res = app
        .admin(Method::GET, "/api/v3/principals?pageSize=100")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut all = element_ids(&res.json());
    all.sort();
    let mut expected = vec![app.admin_id, alice, bob, carol, loner, group];
    expected.sort();
    assert_eq!(all, expected);

    // Alice: herself, bob, the group and carol through it.
    let res = as_user(&app, &alice_token, Method::GET, "/api/v3/principals")
        .send()
        .await;
    let list = res.json();
    let mut ids = element_ids(&list);
    ids.sort();
    let mut expected = vec![alice, bob, carol, group];
    expected.sort();
    assert_eq!(ids, expected);
    for e in list["_embedded"]["elements"].as_array().unwrap() {
        let id = e["id"].as_i64().unwrap();
        if id == alice {
            assert_eq!(e["login"], "alice");
        } else if id == group {
            assert_eq!(e["_type"], "Group");
        } else {
            assert_eq!(e["_type"], "User");
            assert!(e.get("login").is_none() && e.get("email").is_none(), "{e}");
            assert!(e["name"].is_string());
            assert_eq!(e["_links"]["self"]["href"], format!("/api/v3/users/{id}"));
        }
    }
    let res = as_user(
        &app,
        &alice_token,
        Method::GET,
        &format!("/api/v3/principals?{}", filter("type", "=", &["Group"])),
    )
    .send()
    .await;
    assert_eq!(element_ids(&res.json()), vec![group]);
    let res = as_user(
        &app,
        &alice_token,
        Method::GET,
        &format!(
            "/api/v3/principals?{}",
            filter("member", "=", &[&project.to_string()])
        ),
    )
    .send()
    .await;
    let mut ids = element_ids(&res.json());
    ids.sort();
    assert_eq!(ids, expected);
    // A project Alice cannot see tells her nothing.
    let res = as_user(
        &app,
        &alice_token,
        Method::GET,
        &format!(
            "/api/v3/principals?{}",
            filter("member", "=", &[&other.to_string()])
        ),
    )
    .send()
    .await;
    assert_eq!(res.json()["total"], 0);
    let res = app
        .admin(
            Method::GET,
            &format!(
                "/api/v3/principals?{}",
                filter("member", "=", &[&other.to_string()])
            ),
        )
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), vec![carol]);

    // Someone in no project sees only themself.
    let res = as_user(&app, &loner_token, Method::GET, "/api/v3/principals")
        .send()
        .await;
    assert_eq!(res.json()["total"], 1);
    app.anon(Method::GET, "/api/v3/principals")
        .send()
        .await
        .assert_error(401, "Unauthenticated");
}
both_backends!(principals_are_those_who_share_a_project);
