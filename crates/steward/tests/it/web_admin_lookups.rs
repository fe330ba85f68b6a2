//! The administration pages for types, statuses and priorities over real
//! HTTP, on both backends: creating, editing and deleting rows of each
//! kind with the services' refusals shown on the pages, a new status
//! reaching the work package forms, escaping, CSRF and non-admin refusals.

use hyper::Method;
use serde_json::{json, Value};
use steward_storage::lookups::{Priority, Status, WpType};

use crate::harness::{Backend, TestApp};
use crate::web_pages::{admin_visitor, assert_page, hidden, location, Visitor, USER_PASSWORD};
use crate::work_packages_api::{get_json, href, lookup, make_project, minimal, new_wp};

/// One kind of reference row as the pages and the API name it.
struct Kind {
    /// The list page.
    path: &'static str,
    /// The API collection (and `lookup`'s kind).
    collection: &'static str,
    /// The work package link that points to a row of this kind.
    link: &'static str,
    /// The kind in notices and messages.
    one: &'static str,
    /// The form field of the kind's yes/no property.
    flag: &'static str,
    colored: bool,
    /// The seeded default row.
    default_name: &'static str,
}

const KINDS: [Kind; 3] = [
    Kind {
        path: "/admin/types",
        collection: "types",
        link: "type",
        one: "type",
        flag: "is_milestone",
        colored: true,
        default_name: "Task",
    },
    Kind {
        path: "/admin/statuses",
        collection: "statuses",
        link: "status",
        one: "status",
        flag: "is_closed",
        colored: true,
        default_name: "New",
    },
    Kind {
        path: "/admin/priorities",
        collection: "priorities",
        link: "priority",
        one: "priority",
        flag: "is_active",
        colored: false,
        default_name: "Normal",
    },
];

/// A row of any kind, as the services return it.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    id: i64,
    name: String,
    is_default: bool,
    flag: bool,
    color: String,
    position: i64,
}

async fn rows(app: &TestApp, kind: &Kind) -> Vec<Row> {
    let s = app.services();
    match kind.collection {
        "types" => s
            .list_reference::<WpType>()
            .await
            .unwrap()
            .into_iter()
            .map(|r| Row {
                id: r.id,
                name: r.name,
                is_default: r.is_default,
                flag: r.is_milestone,
                color: r.color,
                position: r.position,
            })
            .collect(),
        "statuses" => s
            .list_reference::<Status>()
            .await
            .unwrap()
            .into_iter()
            .map(|r| Row {
                id: r.id,
                name: r.name,
                is_default: r.is_default,
                flag: r.is_closed,
                color: r.color,
                position: r.position,
            })
            .collect(),
        "priorities" => s
            .list_reference::<Priority>()
            .await
            .unwrap()
            .into_iter()
            .map(|r| Row {
                id: r.id,
                name: r.name,
                is_default: r.is_default,
                flag: r.active,
                color: String::new(),
                position: r.position,
            })
            .collect(),
        other => panic!("no kind {other}"),
    }
}

async fn row_named(app: &TestApp, kind: &Kind, name: &str) -> Option<Row> {
    rows(app, kind).await.into_iter().find(|r| r.name == name)
}

async fn default_names(app: &TestApp, kind: &Kind) -> Vec<String> {
    rows(app, kind)
        .await
        .into_iter()
        .filter(|r| r.is_default)
        .map(|r| r.name)
        .collect()
}

/// What a form sends; a `false` flag leaves its checkbox unchecked.
struct Fields<'a> {
    name: &'a str,
    color: &'a str,
    flag: bool,
    is_default: bool,
    position: &'a str,
}

impl Fields<'_> {
    fn pairs(&self, kind: &Kind) -> Vec<(&'static str, String)> {
        let mut all = vec![
            ("name", self.name.to_string()),
            ("position", self.position.to_string()),
        ];
        if kind.colored {
            all.push(("color", self.color.to_string()));
        }
        if self.flag {
            all.push((kind.flag, "1".into()));
        }
        if self.is_default {
            all.push(("is_default", "1".into()));
        }
        all
    }
}

/// Opens `page` and posts `fields` to `action` with the page's token.
async fn send_form(
    v: &mut Visitor<'_>,
    kind: &Kind,
    page: &str,
    action: &str,
    f: &Fields<'_>,
) -> crate::harness::Resp {
    let pairs = f.pairs(kind);
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    v.submit(page, action, &refs).await
}

/// A work package in `project` pointing to the row `id` of `kind`.
async fn work_package_using(app: &TestApp, project: i64, kind: &Kind, id: i64) -> i64 {
    let task = lookup(app, "types", "Task").await;
    let mut body = minimal(project, &format!("Uses {} {id}", kind.one), task);
    body["_links"][kind.link] = href(kind.collection, id);
    let wp = new_wp(app, body).await;
    assert_eq!(
        wp["_links"][kind.link]["href"],
        format!("/api/v3/{}/{id}", kind.collection)
    );
    wp["id"].as_i64().unwrap()
}

async fn manage_kind(app: &TestApp, v: &mut Visitor<'_>, project: i64, kind: &Kind) {
    let list = kind.path;
    let new = format!("{list}/new");
    let body = assert_page(&v.get(list).await, 200);
    assert!(body.contains(kind.default_name), "{body}");
    assert!(body.contains(&format!("href=\"{new}\"")), "{body}");
    assert!(
        body.contains("aria-current=\"page\">Administration"),
        "{body}"
    );
    let form = assert_page(&v.get(&new).await, 200);
    assert!(form.contains("name=\"name\""), "{form}");
    assert!(form.contains(&format!("name=\"{}\"", kind.flag)), "{form}");
    assert_eq!(form.contains("name=\"color\""), kind.colored, "{form}");
    let before = rows(app, kind).await;

    // A blank name: the form again, with the message by the field.
    let blank = Fields {
        name: " ",
        color: "",
        flag: true,
        is_default: false,
        position: "",
    };
    let body = assert_page(&send_form(v, kind, &new, list, &blank).await, 422);
    assert!(
        body.contains("Name can&#39;t be blank.") || body.contains("Name can't be blank."),
        "{body}"
    );
    assert!(body.contains("id=\"name-error\""), "{body}");
    assert_eq!(rows(app, kind).await, before);

    // Creating a row: it goes last, with the colour in upper case.
    let triage = Fields {
        name: "Triage",
        color: "#aa00cc",
        flag: true,
        is_default: false,
        position: "",
    };
    let res = send_form(v, kind, &new, list, &triage).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        format!("{list}?notice={}_created", kind.one)
    );
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(
        body.contains(&format!("The {} was created.", kind.one)),
        "{body}"
    );
    let row = row_named(app, kind, "Triage").await.expect("created");
    let last = before.iter().map(|r| r.position).max().unwrap();
    assert_eq!(row.position, last + 1);
    assert!(row.flag && !row.is_default);
    if kind.colored {
        assert_eq!(row.color, "#AA00CC");
        assert!(body.contains("<code>#AA00CC</code>"), "{body}");
        assert!(
            body.contains("src=\"data:image/svg+xml,") && body.contains("%23AA00CC"),
            "{body}"
        );
    }
    let edit = format!("{list}/{}", row.id);
    assert!(body.contains(&format!("href=\"{edit}\"")), "{body}");
    assert!(
        body.contains(&format!("action=\"{edit}/delete\"")),
        "{body}"
    );
    let form = assert_page(&v.get(&edit).await, 200);
    assert!(form.contains("value=\"Triage\""), "{form}");

    // Editing every field.
    let renamed = Fields {
        name: "Triage desk",
        color: "#00ff00",
        flag: false,
        is_default: false,
        position: "3",
    };
    let res = send_form(v, kind, &edit, &edit, &renamed).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), format!("{list}?notice={}_saved", kind.one));
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(
        body.contains(&format!("The {} was saved.", kind.one)),
        "{body}"
    );
    let row = row_named(app, kind, "Triage desk").await.expect("renamed");
    assert_eq!((row.flag, row.position), (false, 3));
    if kind.colored {
        assert_eq!(row.color, "#00FF00");
    }

    // A name another row has (without case): 422, what was typed is kept,
    // nothing changes.
    let taken = kind.default_name.to_lowercase();
    let duplicate = Fields {
        name: &taken,
        color: "#00ff00",
        flag: true,
        is_default: false,
        position: "3",
    };
    let body = assert_page(&send_form(v, kind, &edit, &edit, &duplicate).await, 422);
    assert!(body.contains("Name has already been taken."), "{body}");
    assert!(body.contains("id=\"name-error\""), "{body}");
    assert!(body.contains(&format!("value=\"{taken}\"")), "{body}");
    assert_eq!(row_named(app, kind, "Triage desk").await, Some(row.clone()));

    // A colour that is no #RRGGBB, a position that is no number or out of
    // range: the message by that field.
    if kind.colored {
        let bad = Fields {
            name: "Triage desk",
            color: "red",
            flag: false,
            is_default: false,
            position: "3",
        };
        let body = assert_page(&send_form(v, kind, &edit, &edit, &bad).await, 422);
        assert!(body.contains("id=\"color-error\""), "{body}");
        assert!(body.contains("#RRGGBB"), "{body}");
        assert!(body.contains("value=\"red\""), "{body}");
        let body = assert_page(
            &send_form(
                v,
                kind,
                &new,
                list,
                &Fields {
                    name: "Other",
                    ..bad
                },
            )
            .await,
            422,
        );
        assert!(body.contains("id=\"color-error\""), "{body}");
        assert!(row_named(app, kind, "Other").await.is_none());
    }
    for position in ["abc", "0"] {
        let bad = Fields {
            name: "Triage desk",
            color: "",
            flag: false,
            is_default: false,
            position,
        };
        let body = assert_page(&send_form(v, kind, &edit, &edit, &bad).await, 422);
        assert!(body.contains("id=\"position-error\""), "{body}");
    }
    assert_eq!(row_named(app, kind, "Triage desk").await, Some(row.clone()));

    // Making the new row the default takes the mark from the old one.
    let make_default = Fields {
        name: "Triage desk",
        color: "#00ff00",
        flag: true,
        is_default: true,
        position: "3",
    };
    let res = send_form(v, kind, &edit, &edit, &make_default).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(default_names(app, kind).await, vec!["Triage desk"]);
    // The default cannot be unset, only moved.
    let unset = Fields {
        is_default: false,
        ..make_default
    };
    let body = assert_page(&send_form(v, kind, &edit, &edit, &unset).await, 422);
    assert!(body.contains("id=\"is_default-error\""), "{body}");
    assert!(body.contains("There must be a default"), "{body}");
    assert_eq!(default_names(app, kind).await, vec!["Triage desk"]);

    // Deleting the default is refused on the list page, with why.
    let res = v.submit(list, &format!("{edit}/delete"), &[]).await;
    let body = assert_page(&res, 409);
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(
        body.contains(&format!(
            "is the default {} and cannot be deleted",
            kind.one
        )),
        "{body}"
    );
    assert!(row_named(app, kind, "Triage desk").await.is_some());

    // The old default gets the mark back through its form.
    let old = row_named(app, kind, kind.default_name).await.unwrap();
    let old_page = format!("{list}/{}", old.id);
    let position = old.position.to_string();
    let restore = Fields {
        name: &old.name,
        color: &old.color,
        flag: old.flag,
        is_default: true,
        position: &position,
    };
    let res = send_form(v, kind, &old_page, &old_page, &restore).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(default_names(app, kind).await, vec![kind.default_name]);

    // A row no work package uses can be deleted.
    let spare = Fields {
        name: "Spare",
        color: "",
        flag: true,
        is_default: false,
        position: "",
    };
    let res = send_form(v, kind, &new, list, &spare).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let spare = row_named(app, kind, "Spare").await.expect("created");
    assert_eq!(spare.color, "");
    let res = v
        .submit(list, &format!("{list}/{}/delete", spare.id), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        format!("{list}?notice={}_deleted", kind.one)
    );
    let body = assert_page(&v.get(location(&res)).await, 200);
    assert!(
        body.contains(&format!("The {} was deleted.", kind.one)),
        "{body}"
    );
    assert!(row_named(app, kind, "Spare").await.is_none());
    assert!(!body.contains("Spare"), "{body}");

    // One a work package uses cannot.
    work_package_using(app, project, kind, row.id).await;
    let res = v.submit(list, &format!("{edit}/delete"), &[]).await;
    let body = assert_page(&res, 409);
    assert!(body.contains("is used by work packages"), "{body}");
    assert!(row_named(app, kind, "Triage desk").await.is_some());

    // Ids that are not there: the friendly 404 page.
    for page in [format!("{list}/999999"), format!("{list}/abc")] {
        let body = assert_page(&v.get(&page).await, 404);
        assert!(body.contains("Page not found"), "{body}");
    }
    for action in [format!("{list}/999999"), format!("{list}/999999/delete")] {
        let res = v
            .submit(list, &action, &[("name", "Ghost"), ("position", "1")])
            .await;
        let body = assert_page(&res, 404);
        assert!(body.contains("Page not found"), "{body}");
    }
    assert!(row_named(app, kind, "Ghost").await.is_none());
}

async fn types_statuses_and_priorities(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "lookups", false).await;
    let mut v = admin_visitor(&app).await;
    for kind in &KINDS {
        manage_kind(&app, &mut v, project, kind).await;
    }
}
both_backends!(types_statuses_and_priorities);

/// A new status is offered by the work package form and, once chosen,
/// shown by the work package pages; names are escaped everywhere.
async fn new_rows_reach_work_packages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let project = make_project(&app, "reach", false).await;
    let mut v = admin_visitor(&app).await;

    let names = [
        "<script>alert(1)</script> Spike",
        "<script>alert(2)</script> Review",
        "<script>alert(3)</script> Urgent",
    ];
    let mut ids = Vec::new();
    for (kind, name) in KINDS.iter().zip(names) {
        let f = Fields {
            name,
            color: "#123456",
            flag: false,
            is_default: false,
            position: "",
        };
        // Priorities need to be active to be offered.
        let f = Fields {
            flag: kind.collection == "priorities",
            ..f
        };
        let new = format!("{}/new", kind.path);
        let res = send_form(&mut v, kind, &new, kind.path, &f).await;
        assert_eq!(res.status, 303, "{}", res.text());
        let body = assert_page(&v.get(kind.path).await, 200);
        let escaped = name.replace('<', "&lt;").replace('>', "&gt;");
        assert!(body.contains(&escaped), "{body}");
        ids.push(row_named(&app, kind, name).await.unwrap().id);
    }
    let [type_id, status_id, priority_id]: [i64; 3] = ids.try_into().unwrap();

    let task = lookup(&app, "types", "Task").await;
    let wp = new_wp(&app, minimal(project, "Check the doors", task)).await;
    let wp_id = wp["id"].as_i64().unwrap();
    let edit = format!("/work_packages/{wp_id}/edit");
    let body = assert_page(&v.get(&edit).await, 200);
    for (id, name) in [type_id, status_id, priority_id].iter().zip(names) {
        let escaped = name.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            body.contains(&format!("<option value=\"{id}\">{escaped}</option>")),
            "{body}"
        );
    }
    let lock = hidden(&body, "lock_version");
    let (type_id, status_id, priority_id) = (
        type_id.to_string(),
        status_id.to_string(),
        priority_id.to_string(),
    );
    let res = v
        .submit(
            &edit,
            &edit,
            &[
                ("lock_version", &lock),
                ("subject", "Check the doors"),
                ("type", &type_id),
                ("status", &status_id),
                ("priority", &priority_id),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let api = get_json(&app, &format!("/api/v3/work_packages/{wp_id}")).await;
    for (link, name) in ["type", "status", "priority"].iter().zip(names) {
        assert_eq!(api["_links"][*link]["title"], Value::from(name), "{api}");
    }

    // The work package's page and the lists show the names, escaped
    // (`assert_page` fails on any `<script>`).
    for page in [
        format!("/work_packages/{wp_id}"),
        edit.clone(),
        "/work_packages?status=all".to_string(),
    ] {
        let body = assert_page(&v.get(&page).await, 200);
        assert!(
            body.contains("&lt;script&gt;alert(2)&lt;/script&gt; Review"),
            "{page}: {body}"
        );
    }
    let body = assert_page(&v.get(&format!("/work_packages/{wp_id}")).await, 200);
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Spike"),
        "{body}"
    );

    // The refusal to delete a status in use names it, escaped.
    let status_page = format!("/admin/statuses/{status_id}");
    let res = v
        .submit("/admin/statuses", &format!("{status_page}/delete"), &[])
        .await;
    let body = assert_page(&res, 409);
    assert!(
        body.contains("&lt;script&gt;alert(2)&lt;/script&gt; Review"),
        "{body}"
    );
}
both_backends!(new_rows_reach_work_packages);

/// Every page and action of the three kinds, for the refusals.
fn pages_and_actions(ids: &[i64; 3]) -> (Vec<String>, Vec<String>) {
    let mut pages = Vec::new();
    let mut actions = Vec::new();
    for (kind, id) in KINDS.iter().zip(ids) {
        let list = kind.path;
        pages.extend([
            list.to_string(),
            format!("{list}/new"),
            format!("{list}/{id}"),
        ]);
        actions.extend([
            list.to_string(),
            format!("{list}/{id}"),
            format!("{list}/{id}/delete"),
        ]);
    }
    (pages, actions)
}

/// Every row of every kind.
async fn snapshot(app: &TestApp) -> Vec<Vec<Row>> {
    let mut all = Vec::new();
    for kind in &KINDS {
        all.push(rows(app, kind).await);
    }
    all
}

async fn who_manages_lookups(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.user("frank").await;
    // Rows nobody uses, so that only the refusals keep them.
    let mut ids = [0; 3];
    for (i, (kind, body)) in KINDS
        .iter()
        .zip([
            json!({"name": "Spare type"}),
            json!({"name": "Spare status"}),
            json!({"name": "Spare priority"}),
        ])
        .enumerate()
    {
        let res = app
            .admin(Method::POST, &format!("/api/v3/{}", kind.collection))
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids[i] = res.json()["id"].as_i64().unwrap();
    }
    let (pages, actions) = pages_and_actions(&ids);
    let before = snapshot(&app).await;

    // Someone who is not an administrator finds no such pages, even with
    // a valid token.
    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    for page in &pages {
        let body = assert_page(&fv.get(page).await, 404);
        assert!(body.contains("Page not found"), "{page}: {body}");
    }
    let home = assert_page(&fv.get("/").await, 200);
    let token = hidden(&home, "csrf_token");
    for action in &actions {
        let res = fv
            .post(
                action,
                &[
                    ("csrf_token", &token),
                    ("name", "Mine"),
                    ("is_default", "1"),
                ],
            )
            .await;
        assert_page(&res, 404);
    }
    assert_eq!(snapshot(&app).await, before);

    // An administrator's form without the session's token is refused.
    let mut v = admin_visitor(&app).await;
    for page in &pages {
        assert_page(&v.get(page).await, 200);
    }
    for action in &actions {
        let res = v
            .post(action, &[("name", "Mine"), ("is_default", "1")])
            .await;
        let body = assert_page(&res, 403);
        assert!(body.contains("Form expired"), "{action}: {body}");
        let res = v
            .post(action, &[("csrf_token", "forged"), ("name", "Mine")])
            .await;
        assert_page(&res, 403);
    }
    assert_eq!(snapshot(&app).await, before);
}
both_backends!(who_manages_lookups);
