//! Roles and permissions in the web UI, on both backends: administrators
//! create roles, choose their permissions (which take effect on the next
//! request) and delete unused ones; the rules the services keep show as
//! messages; members' roles change on a project's members page.

use hyper::Method;
use serde_json::json;
use steward_domain::permission::Permission;
use steward_services::authz::Access;
use steward_storage::audit_events::AuditFilter;
use steward_storage::roles::Role;

use crate::harness::{Backend, TestApp};
use crate::projects_api::membership_body;
use crate::web_pages::{admin_visitor, assert_page, hidden, location, Visitor, USER_PASSWORD};

async fn admin_access(app: &TestApp) -> Access {
    let admin = app.services().user(app.admin_id).await.unwrap();
    app.services().access(Some(&admin)).await.unwrap()
}

async fn role_named(app: &TestApp, name: &str) -> Option<Role> {
    app.services()
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == name)
}

fn permission_names(role: &Role) -> Vec<&'static str> {
    let mut names: Vec<_> = role.permissions.iter().map(Permission::name).collect();
    names.sort_unstable();
    names
}

/// A project with one work package; returns the work package's id.
async fn project_with_work_package(app: &TestApp, identifier: &str) -> i64 {
    app.created(
        "/api/v3/projects",
        json!({"name": identifier, "identifier": identifier}),
    )
    .await;
    app.created(
        &format!("/api/v3/projects/{identifier}/work_packages"),
        json!({"subject": "Calibrate the sensor"}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// Makes `principal` a member of the project with `roles` through the API.
async fn add_member(app: &TestApp, project: &str, principal: i64, roles: &[i64]) -> i64 {
    let project_id = app
        .admin(Method::GET, &format!("/api/v3/projects/{project}"))
        .send()
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let body = membership_body(project_id, &format!("/api/v3/users/{principal}"), roles);
    app.created("/api/v3/memberships", body).await["id"]
        .as_i64()
        .unwrap()
}

/// Whether the API lets the token's owner change the work package's subject.
async fn may_edit(app: &TestApp, token: &str, wp: i64) -> bool {
    let path = format!("/api/v3/work_packages/{wp}");
    let current = crate::harness::Req::new(&app.base, Method::GET, &path)
        .token(token)
        .send()
        .await;
    assert_eq!(current.status, 200, "{}", current.text());
    let res = crate::harness::Req::new(&app.base, Method::PATCH, &path)
        .token(token)
        .json(&json!({"lockVersion": current.json()["lockVersion"], "subject": "Calibrated"}))
        .send()
        .await;
    match res.status {
        200 => true,
        403 => false,
        other => panic!("PATCH answered {other}: {}", res.text()),
    }
}

async fn role_grants_and_changes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let wp = project_with_work_package(&app, "lab").await;
    let (frank, frank_token) = app.user("frank").await;
    let mut v = admin_visitor(&app).await;

    let form = assert_page(&v.get("/admin/roles/new").await, 200);
    assert!(
        form.contains("<label for=\"perm-view_work_packages\">View work packages</label>"),
        "{form}"
    );
    assert!(form.contains("<label for=\"name\">Name</label>"), "{form}");
    assert!(form.contains("data-role-kind=\"global\""), "{form}");

    let res = v
        .submit(
            "/admin/roles/new",
            "/admin/roles",
            &[
                ("name", "  Observer "),
                ("kind", "project"),
                ("permission", "view_project"),
                ("permission", "view_work_packages"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = location(&res).to_string();
    assert!(page.ends_with("?notice=role_created"), "{page}");
    let body = assert_page(&v.get(&page).await, 200);
    assert!(body.contains("The role was created."), "{body}");
    assert!(
        body.contains("id=\"perm-view_work_packages\" name=\"permission\" type=\"checkbox\" value=\"view_work_packages\" checked"),
        "{body}"
    );
    // A project role's page offers no global permission.
    assert!(!body.contains("perm-add_project"), "{body}");
    let observer = role_named(&app, "Observer").await.expect("the new role");
    assert_eq!(observer.kind, "project");
    assert_eq!(
        permission_names(&observer),
        ["view_project", "view_work_packages"]
    );
    let roles = app.services().list_roles().await.unwrap();
    assert_eq!(
        observer.position,
        roles.iter().map(|r| r.position).max().unwrap()
    );

    // Frank joins with that role through the members page.
    let (f, r) = (frank.to_string(), observer.id.to_string());
    let res = v
        .submit(
            "/projects/lab/members",
            "/projects/lab/members",
            &[("principal", &f), ("role", &r)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = assert_page(&v.get("/admin/roles").await, 200);
    let row = list
        .split("<tr>")
        .find(|row| row.contains(">Observer</a>"))
        .expect("Observer in the list");
    assert!(
        row.contains("<td>Project role</td>") && row.contains("<td>2</td><td>1</td>"),
        "{row}"
    );

    // He sees the work package but may not edit it.
    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let wp_page = format!("/work_packages/{wp}");
    let body = assert_page(&fv.get(&wp_page).await, 200);
    assert!(body.contains("Calibrate the sensor"), "{body}");
    assert!(!body.contains(&format!("{wp_page}/edit")), "{body}");
    assert!(!may_edit(&app, &frank_token, wp).await);

    // With "edit work packages" added to the role, he may, at once.
    let role_page = format!("/admin/roles/{}", observer.id);
    let res = v
        .submit(
            &role_page,
            &role_page,
            &[
                ("name", "Observer"),
                ("permission", "view_project"),
                ("permission", "view_work_packages"),
                ("permission", "edit_work_packages"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), format!("{role_page}?notice=role_saved"));
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(body.contains("The role was saved."), "{body}");
    let body = assert_page(&fv.get(&wp_page).await, 200);
    assert!(body.contains(&format!("{wp_page}/edit")), "{body}");
    assert!(may_edit(&app, &frank_token, wp).await);

    // Taking "view work packages" away hides the work package again.
    let res = v
        .submit(
            &role_page,
            &role_page,
            &[("name", "Observer"), ("permission", "view_project")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_page(&fv.get(&wp_page).await, 404);

    // Each change is in the audit trail, about the role, without its name.
    let (events, _) = app
        .services()
        .audit_events(
            &AuditFilter {
                event_prefix: Some("role.".into()),
                ..AuditFilter::default()
            },
            true,
            100,
            0,
        )
        .await
        .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["role.created", "role.updated", "role.updated"]);
    for e in &events {
        assert_eq!(e.actor_id, Some(app.admin_id));
        assert!(e.target_user_id.is_none());
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
        assert_eq!(details["role_id"], observer.id);
        assert!(!e.details.contains("Observer"), "{}", e.details);
    }
}
both_backends!(role_grants_and_changes);

async fn role_rules_on_the_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    project_with_work_package(&app, "lab").await;
    let (frank, _) = app.user("frank").await;
    let mut v = admin_visitor(&app).await;
    let before = app.services().list_roles().await.unwrap().len();

    let create = |name: &'static str, kind: &'static str, permission: &'static str| {
        [("name", name), ("kind", kind), ("permission", permission)]
    };
    for (fields, attribute, message) in [
        (
            create("  ", "project", "view_project"),
            "name",
            "Name can't be blank.",
        ),
        (
            create("mEMBER ", "project", "view_project"),
            "name",
            "Name has already been taken.",
        ),
        (
            create("Creators", "project", "add_project"),
            "permissions",
            "is global; a project role cannot hold it",
        ),
        (
            create("Viewers", "global", "view_work_packages"),
            "permissions",
            "applies in projects; a global role cannot hold it",
        ),
        (
            create("Ghosts", "project", "walk_through_walls"),
            "permissions",
            "is not a permission Steward knows",
        ),
        (
            create("Nobody", "system", "view_project"),
            "kind",
            "Kind must be",
        ),
    ] {
        let res = v.submit("/admin/roles/new", "/admin/roles", &fields).await;
        let body = assert_page(&res, 422);
        // However the page's escaping writes an apostrophe.
        let escaped = message.replace('\'', "&#39;");
        assert!(
            body.contains(message) || body.contains(&escaped),
            "{message}: {body}"
        );
        assert!(
            body.contains(&format!("id=\"{attribute}-error\"")),
            "{attribute}: {body}"
        );
        // What was typed is kept.
        assert!(
            body.contains(&format!("value=\"{}\"", fields[0].1)),
            "{body}"
        );
    }
    assert_eq!(app.services().list_roles().await.unwrap().len(), before);

    // A name with markup is shown as text.
    let res = v
        .submit(
            "/admin/roles/new",
            "/admin/roles",
            &create("<script>alert(1)</script>", "global", "add_project"),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let edit_page = location(&res).split('?').next().unwrap().to_string();
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let list = assert_page(&v.get("/admin/roles").await, 200);
    assert!(list.contains(escaped), "{list}");
    let body = assert_page(&v.get(&edit_page).await, 200);
    assert!(body.contains(&format!("<h1>{escaped}</h1>")), "{body}");
    // A global role's page offers only global permissions.
    assert!(body.contains("perm-add_project") && !body.contains("perm-view_project"));
    let scripted = role_named(&app, "<script>alert(1)</script>").await.unwrap();
    assert_eq!(
        (scripted.kind.as_str(), permission_names(&scripted)),
        ("global", vec!["add_project"])
    );

    // The built-in role of non-members keeps its name; its permissions change.
    let non_member = app
        .services()
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.builtin.as_deref() == Some("non_member"))
        .unwrap();
    let page = format!("/admin/roles/{}", non_member.id);
    let body = assert_page(&v.get(&page).await, 200);
    assert!(body.contains("keeps its name"), "{body}");
    assert!(body.contains("Built-in roles cannot be deleted."), "{body}");
    let res = v
        .submit(
            &page,
            &page,
            &[("name", "Outsiders"), ("permission", "view_project")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(
        body.contains("is a built-in role and keeps its name"),
        "{body}"
    );
    assert!(body.contains("id=\"name-error\""), "{body}");
    let res = v
        .submit(
            &page,
            &page,
            &[
                ("name", &non_member.name),
                ("permission", "view_project"),
                ("permission", "view_work_packages"),
                ("permission", "view_members"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let changed = role_named(&app, &non_member.name).await.unwrap();
    assert_eq!(
        permission_names(&changed),
        ["view_members", "view_project", "view_work_packages"]
    );
    let res = v.submit(&page, &format!("{page}/delete"), &[]).await;
    let body = assert_page(&res, 409);
    assert!(body.contains("is built in and cannot be deleted"), "{body}");
    assert!(role_named(&app, &non_member.name).await.is_some());

    // A role a membership uses stays; the page says why.
    let member = role_named(&app, "Member").await.unwrap();
    add_member(&app, "lab", frank, &[member.id]).await;
    let page = format!("/admin/roles/{}", member.id);
    let res = v.submit(&page, &format!("{page}/delete"), &[]).await;
    let body = assert_page(&res, 409);
    assert!(
        body.contains("cannot be deleted: 1 membership uses it."),
        "{body}"
    );
    assert!(role_named(&app, "Member").await.is_some());

    // So does the role project creators get, used or not, under its name.
    let creator = role_named(&app, "Project admin").await.unwrap();
    let page = format!("/admin/roles/{}", creator.id);
    let res = v.submit(&page, &format!("{page}/delete"), &[]).await;
    let body = assert_page(&res, 409);
    assert!(body.contains("the projects they create"), "{body}");
    let res = v
        .submit(
            &page,
            &page,
            &[("name", "Owner"), ("permission", "view_project")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("keeps its name"), "{body}");
    let kept = role_named(&app, "Project admin")
        .await
        .expect("still there");
    assert_eq!(kept.permissions, creator.permissions);

    // An unused role goes.
    let reader = role_named(&app, "Reader").await.unwrap();
    let page = format!("/admin/roles/{}", reader.id);
    let res = v.submit(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/admin/roles?notice=role_deleted");
    let list = assert_page(&v.get(location(&res)).await, 200);
    assert!(list.contains("The role was deleted."), "{list}");
    assert!(!list.contains(">Reader</a>"), "{list}");
    assert!(role_named(&app, "Reader").await.is_none());
    assert_page(&v.get(&page).await, 404);
}
both_backends!(role_rules_on_the_pages);

async fn who_manages_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.user("frank").await;
    let reader = role_named(&app, "Reader").await.unwrap();
    let pages = [
        "/admin/roles".to_string(),
        "/admin/roles/new".to_string(),
        format!("/admin/roles/{}", reader.id),
    ];
    let actions = [
        "/admin/roles".to_string(),
        format!("/admin/roles/{}", reader.id),
        format!("/admin/roles/{}/delete", reader.id),
    ];
    let fields = |token: &str| {
        vec![
            ("name".to_string(), "Readers".to_string()),
            ("kind".to_string(), "project".to_string()),
            ("permission".to_string(), "view_project".to_string()),
            ("csrf_token".to_string(), token.to_string()),
        ]
    };

    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let home = assert_page(&fv.get("/").await, 200);
    for page in &pages {
        assert_page(&fv.get(page).await, 404);
    }
    let token = hidden(&home, "csrf_token");
    for action in &actions {
        let f = fields(&token);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_page(&fv.post(action, &f).await, 404);
    }

    // The administrator's forms without the session's token do nothing.
    let mut v = admin_visitor(&app).await;
    for page in &pages {
        let body = assert_page(&v.get(page).await, 200);
        assert!(
            body.contains("href=\"/admin/roles\" aria-current=\"page\""),
            "{body}"
        );
    }
    for action in &actions {
        let f = fields("not the token");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = assert_page(&v.post(action, &f).await, 403);
        assert!(body.contains("Form expired"), "{body}");
    }
    let after = role_named(&app, "Reader")
        .await
        .expect("Reader is still there");
    assert_eq!(
        permission_names(&after),
        ["view_members", "view_project", "view_work_packages"]
    );
    assert!(role_named(&app, "Readers").await.is_none());

    // The services refuse non-administrators too.
    let frank = app.services().user_by_ref("frank").await.unwrap();
    let access = app.services().access(Some(&frank)).await.unwrap();
    let refused = app.services().delete_role(&access, reader.id).await;
    assert!(
        matches!(refused, Err(steward_services::ServiceError::Forbidden(_))),
        "{refused:?}"
    );
}
both_backends!(who_manages_roles);

async fn member_roles_on_the_members_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    project_with_work_package(&app, "lab").await;
    let (frank, _) = app.user("frank").await;
    let (pam, _) = app.user("pam").await;
    let member = role_named(&app, "Member").await.unwrap();
    let reader = role_named(&app, "Reader").await.unwrap();
    let project_admin = role_named(&app, "Project admin").await.unwrap();
    let frank_membership = add_member(&app, "lab", frank, &[member.id]).await;
    add_member(&app, "lab", pam, &[project_admin.id]).await;
    let action = format!("/projects/lab/members/{frank_membership}/roles");

    // Pam manages the members (not an administrator).
    let mut pv = Visitor::signed_in(&app, "pam", USER_PASSWORD).await;
    let body = assert_page(&pv.get("/projects/lab/members").await, 200);
    assert!(body.contains(&format!("action=\"{action}\"")), "{body}");
    assert!(
        body.contains(&format!(
            "<label for=\"member-{frank_membership}-role-{}\">Reader</label>",
            reader.id
        )),
        "{body}"
    );

    let (m, r) = (member.id.to_string(), reader.id.to_string());
    let res = pv
        .submit(
            "/projects/lab/members",
            &action,
            &[("role", &m), ("role", &r)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        "/projects/lab/members?notice=member_roles_saved"
    );
    let body = assert_page(&pv.get(location(&res)).await, 200);
    assert!(
        body.contains("The member&#39;s roles were saved.")
            || body.contains("The member's roles were saved."),
        "{body}"
    );
    let access = admin_access(&app).await;
    let saved = app
        .services()
        .membership(&access, frank_membership)
        .await
        .unwrap();
    let mut expected = vec![member.id, reader.id];
    expected.sort_unstable();
    assert_eq!(saved.membership.role_ids, expected);

    // No role at all: refused, with the service's message by the form.
    let res = pv.submit("/projects/lab/members", &action, &[]).await;
    let body = assert_page(&res, 422);
    assert!(body.contains("Roles need to be assigned"), "{body}");
    assert!(
        body.contains(&format!("id=\"member-{frank_membership}-roles-error\"")),
        "{body}"
    );
    let kept = app
        .services()
        .membership(&access, frank_membership)
        .await
        .unwrap();
    assert_eq!(kept.membership.role_ids, expected);

    // Without the token, or without "manage members", nothing changes.
    let res = pv.post(&action, &[("role", &r)]).await;
    assert_page(&res, 403);
    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let body = assert_page(&fv.get("/projects/lab/members").await, 200);
    assert!(!body.contains("Save roles"), "{body}");
    let res = fv
        .submit("/projects/lab/members", &action, &[("role", &r)])
        .await;
    assert_page(&res, 403);
    // A membership of another project is not found through this one, even
    // by an administrator.
    project_with_work_package(&app, "dock").await;
    let mut v = admin_visitor(&app).await;
    let res = v
        .submit(
            "/projects/dock/members",
            &format!("/projects/dock/members/{frank_membership}/roles"),
            &[("role", &r)],
        )
        .await;
    assert_page(&res, 404);
    let kept = app
        .services()
        .membership(&access, frank_membership)
        .await
        .unwrap();
    assert_eq!(kept.membership.role_ids, expected);
}
both_backends!(member_roles_on_the_members_page);
