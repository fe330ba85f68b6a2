//! `/api/v3/groups` over HTTP: administrators create, rename, change the
//! members of and delete groups; the group's project roles follow its
//! members in and out; who sees which groups; and what is refused.

use hyper::Method;
use serde_json::{json, Value};
use steward_storage::params;

use crate::harness::{Backend, Resp, TestApp};
use crate::projects_api::{as_user, element_ids, membership_body, new_project, role_id};
use crate::work_packages_api::{href, lookup, minimal, new_wp};

fn attribute(res: &Resp) -> String {
    res.json()["_embedded"]["details"]["attribute"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn group_body(name: &str, members: &[i64]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"href": format!("/api/v3/users/{m}")}))
        .collect();
    json!({"name": name, "_links": {"members": members}})
}

fn member_ids(group: &Value) -> Vec<i64> {
    let links: Vec<i64> = group["_links"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no member links: {group}"))
        .iter()
        .map(|l| {
            l["href"]
                .as_str()
                .unwrap()
                .trim_start_matches("/api/v3/users/")
                .parse()
                .unwrap()
        })
        .collect();
    let embedded: Vec<i64> = group["_embedded"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no embedded members: {group}"))
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(links, embedded, "links and embedded members agree: {group}");
    links
}

async fn create_group(app: &TestApp, name: &str, members: &[i64]) -> Value {
    let res = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&group_body(name, members))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one::<i64>(sql, params![id]).await.unwrap()
}

async fn groups_give_their_members_the_project_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = new_project(&app, "team", false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (bob, bob_token) = app.user("bob").await;
    let (_loner, loner_token) = app.user("loner").await;
    let task = lookup(&app, "types", "Task").await;
    let wp = new_wp(&app, minimal(project, "Secret plan", task)).await["id"]
        .as_i64()
        .unwrap();
    let wp_path = format!("/api/v3/work_packages/{wp}");
    let project_wps = format!("/api/v3/projects/{project}/work_packages");

    // Created with one member.
    let g = create_group(&app, " Developers ", &[bob]).await;
    let group = g["id"].as_i64().unwrap();
    let path = format!("/api/v3/groups/{group}");
    assert_eq!(g["_type"], "Group");
    assert_eq!(g["name"], "Developers");
    assert!(g["createdAt"].is_string() && g["updatedAt"].is_string());
    assert_eq!(g["_links"]["self"]["href"], path);
    assert_eq!(g["_links"]["self"]["title"], "Developers");
    assert_eq!(g["_links"]["updateImmediately"]["method"], "patch");
    assert_eq!(g["_links"]["delete"]["method"], "delete");
    assert_eq!(g["_links"]["delete"]["href"], path);
    assert!(g["_links"]["memberships"]["href"]
        .as_str()
        .unwrap()
        .starts_with("/api/v3/memberships?filters="));
    assert_eq!(member_ids(&g), vec![bob]);
    assert_eq!(g["_links"]["members"][0]["title"], "Test bob");
    assert_eq!(g["_embedded"]["members"][0]["_type"], "User");
    assert_eq!(g["_embedded"]["members"][0]["login"], "bob");
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(member_ids(&res.json()), vec![bob]);

    // The group becomes a member of the project with the role Member.
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
    let membership = res.json()["id"].as_i64().unwrap();

    // Bob, in the group, sees the project's work packages; Alice does not.
    let res = as_user(&app, &bob_token, Method::GET, &project_wps)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(element_ids(&res.json()), vec![wp]);
    as_user(&app, &alice_token, Method::GET, &project_wps)
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(&app, &alice_token, Method::GET, &wp_path)
        .send()
        .await
        .assert_error(404, "NotFound");

    // Members are replaced as a whole: Alice joins.
    let res = app
        .admin(Method::PATCH, &path)
        .json(&group_body("Developers", &[alice, bob, alice]))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(member_ids(&res.json()), vec![alice, bob]);
    let res = as_user(&app, &alice_token, Method::GET, &project_wps)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(element_ids(&res.json()), vec![wp]);
    let res = as_user(&app, &alice_token, Method::GET, &wp_path)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = as_user(&app, &alice_token, Method::GET, "/api/v3/work_packages")
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), vec![wp]);

    // Who sees the group: its members and administrators; not the loner.
    let res = as_user(&app, &alice_token, Method::GET, "/api/v3/groups")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    assert_eq!(list["_type"], "Collection");
    assert_eq!(element_ids(&list), vec![group]);
    let seen = &list["_embedded"]["elements"][0];
    assert_eq!(member_ids(seen), vec![alice, bob]);
    assert!(seen["_links"]["updateImmediately"].is_null(), "{seen}");
    assert!(seen["_links"]["delete"].is_null(), "{seen}");
    // Alice sees herself in full, Bob reduced.
    assert_eq!(seen["_embedded"]["members"][0]["login"], "alice");
    assert!(seen["_embedded"]["members"][1].get("login").is_none());
    let res = as_user(&app, &loner_token, Method::GET, "/api/v3/groups")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 0);
    as_user(&app, &loner_token, Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.anon(Method::GET, "/api/v3/groups")
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // Renaming keeps the members; leaving out the members keeps them.
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"name": "Engineering"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let g = res.json();
    assert_eq!(g["name"], "Engineering");
    assert_eq!(member_ids(&g), vec![alice, bob]);
    // A membership shows the new name.
    let res = app
        .admin(Method::GET, &format!("/api/v3/memberships/{membership}"))
        .send()
        .await;
    assert_eq!(res.json()["_links"]["principal"]["title"], "Engineering");

    // Removing Alice from the group takes the project away from her.
    let res = app
        .admin(Method::PATCH, &path)
        .json(&group_body("Engineering", &[bob]))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(member_ids(&res.json()), vec![bob]);
    as_user(&app, &alice_token, Method::GET, &project_wps)
        .send()
        .await
        .assert_error(404, "NotFound");
    as_user(&app, &alice_token, Method::GET, &wp_path)
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = as_user(&app, &alice_token, Method::GET, "/api/v3/work_packages")
        .send()
        .await;
    assert_eq!(res.json()["total"], 0);

    // An empty member list empties the group.
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"_links": {"members": []}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(member_ids(&res.json()), Vec::<i64>::new());
    as_user(&app, &bob_token, Method::GET, &project_wps)
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app
        .admin(Method::PATCH, &path)
        .json(&group_body("Engineering", &[bob]))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A work package assigned to the group goes to the "Deleted user" when
    // the group is deleted.
    let lock = app.admin(Method::GET, &wp_path).send().await.json()["lockVersion"].clone();
    let res = app
        .admin(Method::PATCH, &wp_path)
        .json(&json!({"lockVersion": lock, "_links": {"assignee": href("groups", group)}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        count(
            &app,
            "SELECT assigned_to_id FROM work_packages WHERE id = $1",
            wp
        )
        .await,
        group
    );

    // Deleting: 202 without a body; memberships and member list go too.
    let res = app.admin(Method::DELETE, &path).send().await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert!(res.body.is_empty(), "{}", res.text());
    app.admin(Method::GET, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::DELETE, &path)
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::GET, &format!("/api/v3/memberships/{membership}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM group_users WHERE group_id = $1",
            group
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM members WHERE principal_id = $1",
            group
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT assigned_to_id FROM work_packages WHERE id = $1",
            wp
        )
        .await,
        steward_domain::user::DELETED_USER_ID
    );
    as_user(&app, &bob_token, Method::GET, &project_wps)
        .send()
        .await
        .assert_error(404, "NotFound");
    // The users themselves stay.
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{bob}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}
both_backends!(groups_give_their_members_the_project_roles);

async fn group_changes_are_checked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alice_token) = app.user("alice").await;
    let g = create_group(&app, "Developers", &[alice]).await;
    let group = g["id"].as_i64().unwrap();
    let path = format!("/api/v3/groups/{group}");
    let other = create_group(&app, "Testers", &[]).await["id"]
        .as_i64()
        .unwrap();

    // Only administrators change groups.
    as_user(&app, &alice_token, Method::POST, "/api/v3/groups")
        .json(&group_body("Mine", &[]))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::PATCH, &path)
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .assert_error(403, "MissingPermission");
    as_user(&app, &alice_token, Method::DELETE, &path)
        .send()
        .await
        .assert_error(403, "MissingPermission");
    app.anon(Method::POST, "/api/v3/groups")
        .json(&group_body("Mine", &[]))
        .send()
        .await
        .assert_error(401, "Unauthenticated");

    // Names are required and unique, without case.
    for (body, attr) in [
        (json!({}), "name"),
        (json!({"name": "  "}), "name"),
        (group_body("Developers", &[]), "name"),
        (group_body("developers", &[]), "name"),
        (json!({"name": "x".repeat(300)}), "name"),
    ] {
        let res = app
            .admin(Method::POST, "/api/v3/groups")
            .json(&body)
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), attr, "{body}: {}", res.text());
    }
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/groups/{other}"))
        .json(&json!({"name": "DEVELOPERS"}))
        .send()
        .await;
    res.assert_error(422, "PropertyConstraintViolation");
    assert_eq!(attribute(&res), "name");
    // Renaming a group to its own name in other letters is fine.
    let res = app
        .admin(Method::PATCH, &path)
        .json(&json!({"name": "developers"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "developers");

    // Members must be existing users: not unknown ids, groups, built-in
    // principals or other resources.
    for members in [
        json!([{"href": "/api/v3/users/999999"}]),
        json!([{"href": format!("/api/v3/groups/{other}")}]),
        json!([{"href": format!("/api/v3/users/{other}")}]),
        json!([{"href": "/api/v3/users/1"}]),
        json!([{"href": "/api/v3/projects/1"}]),
        json!([{"href": null}]),
        json!([{}]),
    ] {
        let res = app
            .admin(Method::POST, "/api/v3/groups")
            .json(&json!({"name": "New", "_links": {"members": members}}))
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), "members", "{members}: {}", res.text());
        let res = app
            .admin(Method::PATCH, &path)
            .json(&json!({"_links": {"members": members}}))
            .send()
            .await;
        res.assert_error(422, "PropertyConstraintViolation");
        assert_eq!(attribute(&res), "members", "{members}: {}", res.text());
    }
    // Nothing of a refused change was kept.
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(member_ids(&res.json()), vec![alice]);
    let res = app
        .admin(Method::GET, "/api/v3/groups?pageSize=100")
        .send()
        .await;
    assert_eq!(res.json()["total"], 2);

    // Bad bodies and unknown groups.
    app.admin(Method::POST, "/api/v3/groups")
        .json(&json!({"name": 5}))
        .send()
        .await
        .assert_error(400, "InvalidRequestBody");
    app.admin(Method::POST, "/api/v3/groups")
        .json(&json!({"name": "X", "_links": {"members": {"href": "/api/v3/users/3"}}}))
        .send()
        .await
        .assert_error(400, "InvalidRequestBody");
    app.admin(Method::PATCH, "/api/v3/groups/999999")
        .json(&json!({"name": "Ghosts"}))
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::DELETE, "/api/v3/groups/999999")
        .send()
        .await
        .assert_error(404, "NotFound");
    // A user is no group.
    app.admin(Method::PATCH, &format!("/api/v3/groups/{alice}"))
        .json(&json!({"name": "Ghosts"}))
        .send()
        .await
        .assert_error(404, "NotFound");
    app.admin(Method::DELETE, &format!("/api/v3/groups/{alice}"))
        .send()
        .await
        .assert_error(404, "NotFound");
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{alice}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A group's name never blocks a user's login, nor the other way round.
    let res = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&group_body("alice", &[]))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    app.user("testers").await;
}
both_backends!(group_changes_are_checked);

async fn groups_are_listed_in_pages_and_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut ids = Vec::new();
    for name in ["One", "Two", "Three"] {
        ids.push(create_group(&app, name, &[]).await["id"].as_i64().unwrap());
    }
    let res = app.admin(Method::GET, "/api/v3/groups").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    assert_eq!(element_ids(&list), ids);
    assert_eq!(list["total"], 3);
    // Administrators get the links to change each group.
    assert_eq!(
        list["_embedded"]["elements"][0]["_links"]["updateImmediately"]["method"],
        "patch"
    );

    let sort = crate::projects_api::enc(r#"[["id","desc"]]"#);
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/groups?sortBy={sort}&pageSize=2"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    assert_eq!(element_ids(&list), vec![ids[2], ids[1]]);
    assert_eq!(list["total"], 3);
    let next = list["_links"]["nextByOffset"]["href"].as_str().unwrap();
    assert!(next.contains("sortBy="), "{next}");
    let res = app.admin(Method::GET, next).send().await;
    assert_eq!(element_ids(&res.json()), vec![ids[0]]);

    let sort = crate::projects_api::enc(r#"[["name","asc"]]"#);
    app.admin(Method::GET, &format!("/api/v3/groups?sortBy={sort}"))
        .send()
        .await
        .assert_error(400, "InvalidQuery");
    let filters = crate::projects_api::filter("name", "~", &["One"]);
    app.admin(Method::GET, &format!("/api/v3/groups?{filters}"))
        .send()
        .await
        .assert_error(400, "InvalidQuery");

    // Groups are principals too.
    let res = app
        .admin(
            Method::GET,
            &format!(
                "/api/v3/principals?{}",
                crate::projects_api::filter("type", "=", &["Group"])
            ),
        )
        .send()
        .await;
    assert_eq!(element_ids(&res.json()), ids);
}
both_backends!(groups_are_listed_in_pages_and_order);
