//! Filter and sort names in every spelling clients send: OpenProject's
//! (`assignee`, `createdAt`), snake_case (`created_at`), the `_id` form of
//! link filters (`project_id`, `projectId`) and the database's and
//! Redmine's column names (`assigned_to_id`, `fixed_version_id`), for
//! filters, `sortBy` and the work packages' `groupBy`. One table of
//! spellings per collection; each spelling must give exactly what the
//! API's own name gives. Unknown names are still refused.

use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{Backend, TestApp};

/// One filter of a collection: its name in the API's spelling, the other
/// spellings, the operator and values, and whether it must leave out some
/// of the collection (so that the comparison shows the filter acted).
struct FilterCase {
    spellings: &'static [&'static str],
    operator: &'static str,
    values: Vec<Value>,
    narrows: bool,
}

fn case(
    spellings: &'static [&'static str],
    operator: &'static str,
    values: Vec<Value>,
    narrows: bool,
) -> FilterCase {
    FilterCase {
        spellings,
        operator,
        values,
        narrows,
    }
}

async fn one(app: &TestApp, sql: &str) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one(sql, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The ids of a collection's elements, in order, for this query.
async fn ids(app: &TestApp, collection: &str, query: &[(&str, String)]) -> Vec<i64> {
    let mut q: Vec<(&str, String)> = vec![("pageSize", "1000".into())];
    q.extend(query.iter().cloned());
    let path = format!("{collection}?{}", serde_urlencoded::to_string(&q).unwrap());
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

fn filters(name: &str, c: &FilterCase) -> String {
    json!([{ name: { "operator": c.operator, "values": c.values } }]).to_string()
}

/// Every spelling of each filter gives what the first (the API's) gives.
async fn check_filters(app: &TestApp, collection: &str, cases: &[FilterCase]) {
    let all = ids(app, collection, &[]).await;
    for c in cases {
        let canonical = c.spellings[0];
        let expected = ids(app, collection, &[("filters", filters(canonical, c))]).await;
        if c.narrows {
            assert!(
                !expected.is_empty() && expected.len() < all.len(),
                "{collection} {canonical}: the case does not show the filter acting ({} of {})",
                expected.len(),
                all.len()
            );
        }
        for spelling in &c.spellings[1..] {
            let got = ids(app, collection, &[("filters", filters(spelling, c))]).await;
            assert_eq!(
                got, expected,
                "{collection}: filter {spelling:?} vs {canonical:?}"
            );
        }
    }
}

/// Every spelling of each sort field orders as the first does, both ways.
async fn check_sorts(app: &TestApp, collection: &str, cases: &[&[&str]]) {
    for spellings in cases {
        for direction in ["asc", "desc"] {
            let sort = |name: &str| json!([[name, direction]]).to_string();
            let expected = ids(app, collection, &[("sortBy", sort(spellings[0]))]).await;
            for spelling in &spellings[1..] {
                let got = ids(app, collection, &[("sortBy", sort(spelling))]).await;
                assert_eq!(
                    got, expected,
                    "{collection}: sortBy {spelling:?} vs {:?} {direction}",
                    spellings[0]
                );
            }
        }
    }
}

/// Names no collection knows, in any spelling, are still refused clearly.
async fn check_unknown(app: &TestApp, collection: &str, names: &[&str]) {
    for name in names {
        let c = case(&[], "=", vec![json!("1")], false);
        let path = format!(
            "{collection}?{}",
            serde_urlencoded::to_string([("filters", filters(name, &c))]).unwrap()
        );
        let res = app.admin(Method::GET, &path).send().await;
        let message = res.assert_error(400, "InvalidQuery");
        assert!(message.contains("Unknown filter"), "{name}: {message}");
        let path = format!(
            "{collection}?{}",
            serde_urlencoded::to_string([("sortBy", json!([[name, "asc"]]).to_string())]).unwrap()
        );
        let res = app.admin(Method::GET, &path).send().await;
        let message = res.assert_error(400, "InvalidQuery");
        assert!(message.contains("cannot be sorted by"), "{name}: {message}");
    }
}

/// A grouped listing: (total, groups).
async fn grouped(app: &TestApp, collection: &str, by: &str) -> (i64, Vec<Value>) {
    let path = format!(
        "{collection}?{}",
        serde_urlencoded::to_string([("groupBy", by), ("pageSize", "1")]).unwrap()
    );
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    let j = res.json();
    (
        j["total"].as_i64().unwrap(),
        j["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("no groups: {j}"))
            .clone(),
    )
}

/// Every spelling of each grouping gives the groups the first gives, and
/// the groups count every match (not only the page's).
async fn check_groups(app: &TestApp, collection: &str, cases: &[&[&str]]) {
    for spellings in cases {
        let (total, expected) = grouped(app, collection, spellings[0]).await;
        assert!(
            !expected.is_empty(),
            "{collection} groupBy {}",
            spellings[0]
        );
        let counted: i64 = expected.iter().map(|g| g["count"].as_i64().unwrap()).sum();
        assert_eq!(counted, total, "{expected:?}");
        for spelling in &spellings[1..] {
            let (_, got) = grouped(app, collection, spelling).await;
            assert_eq!(
                got, expected,
                "{collection}: groupBy {spelling:?} vs {:?}",
                spellings[0]
            );
        }
    }
}

async fn filter_and_sort_names_in_every_spelling(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    app.services()
        .seed_demo(&admin)
        .await
        .unwrap()
        .expect("seeded");
    let demo = one(&app, "SELECT id FROM projects WHERE identifier = 'demo'").await;
    let alice = one(&app, "SELECT id FROM users WHERE login = 'alice'").await;
    let wp = |column: &'static str| {
        format!(
            "SELECT min({column}) FROM work_packages WHERE {column} IS NOT NULL \
             AND {column} <> (SELECT max({column}) FROM work_packages)"
        )
    };
    let assignee = one(&app, &wp("assigned_to_id")).await;
    let status = one(&app, &wp("status_id")).await;
    let kind = one(&app, &wp("type_id")).await;
    let priority = one(&app, &wp("priority_id")).await;
    let author = one(&app, &wp("author_id")).await;
    let version = one(
        &app,
        "SELECT min(version_id) FROM work_packages WHERE version_id IS NOT NULL",
    )
    .await;
    let parent = one(
        &app,
        "SELECT min(parent_id) FROM work_packages WHERE parent_id IS NOT NULL",
    )
    .await;
    let id = |v: i64| vec![json!(v.to_string())];

    let work_packages = [
        case(&["project", "project_id", "projectId"], "=", id(demo), true),
        case(
            &[
                "assignee",
                "assigned_to",
                "assigned_to_id",
                "assignedToId",
                "assignee_id",
                "assigneeId",
            ],
            "=",
            id(assignee),
            true,
        ),
        case(&["status", "status_id", "statusId"], "=", id(status), true),
        case(&["type", "type_id", "typeId"], "=", id(kind), true),
        case(
            &["priority", "priority_id", "priorityId"],
            "=",
            id(priority),
            true,
        ),
        case(&["author", "author_id", "authorId"], "=", id(author), true),
        case(
            &["responsible", "responsible_id", "responsibleId"],
            "!*",
            vec![],
            false,
        ),
        case(
            &[
                "version",
                "version_id",
                "versionId",
                "fixed_version",
                "fixed_version_id",
                "fixedVersionId",
            ],
            "=",
            id(version),
            true,
        ),
        case(&["parent", "parent_id", "parentId"], "=", id(parent), true),
        case(
            &["createdAt", "created_at", "CreatedAt"],
            ">t-",
            vec![json!("1")],
            false,
        ),
        case(&["updatedAt", "updated_at"], ">t-", vec![json!("1")], false),
    ];
    check_filters(&app, "/api/v3/work_packages", &work_packages).await;
    let in_project = format!("/api/v3/projects/{demo}/work_packages");
    check_filters(&app, &in_project, &work_packages[1..3]).await;
    check_sorts(
        &app,
        "/api/v3/work_packages",
        &[
            &["assignee", "assigned_to", "assigned_to_id", "assigneeId"],
            &["status", "status_id", "statusId"],
            &["type", "type_id"],
            &["priority", "priority_id"],
            &["project", "project_id", "projectId"],
            &["createdAt", "created_at"],
            &["updatedAt", "updated_at"],
            &["startDate", "start_date"],
            &["dueDate", "due_date"],
            &["percentageDone", "percentage_done", "done_ratio"],
        ],
    )
    .await;
    check_unknown(
        &app,
        "/api/v3/work_packages",
        &["colour", "assigned", "project_ids", "idid"],
    )
    .await;
    check_groups(
        &app,
        "/api/v3/work_packages",
        &[
            &["status", "status_id", "statusId"],
            &["assignee", "assigned_to", "assigned_to_id", "assigneeId"],
            &["version", "version_id", "fixed_version_id"],
            &["type", "type_id"],
            &["priority", "priority_id"],
            &["project", "project_id", "projectId"],
            &["author", "author_id"],
            &["responsible", "responsible_id"],
            &["parent", "parent_id"],
        ],
    )
    .await;
    check_groups(&app, &in_project, &[&["status", "status_id"]]).await;
    // Each group counts what filtering by its value finds; "not set" last.
    let (_, by_status) = grouped(&app, "/api/v3/work_packages", "status").await;
    for g in &by_status {
        let href = g["_links"]["valueLink"][0]["href"].as_str().unwrap();
        assert_eq!(g["_type"], "GroupBy");
        assert!(g["value"].is_string(), "{g}");
        let status = href.rsplit('/').next().unwrap().to_string();
        let c = case(&["status"], "=", vec![json!(status)], false);
        let found = ids(
            &app,
            "/api/v3/work_packages",
            &[("filters", filters("status", &c))],
        )
        .await;
        assert_eq!(found.len() as i64, g["count"].as_i64().unwrap(), "{g}");
    }
    let (_, by_version) = grouped(&app, "/api/v3/work_packages", "version").await;
    let last = by_version.last().unwrap();
    assert!(last["value"].is_null(), "{by_version:?}");
    assert_eq!(last["_links"]["valueLink"], json!([]), "{by_version:?}");
    let res = app
        .admin(Method::GET, "/api/v3/work_packages?groupBy=colour")
        .send()
        .await;
    let message = res.assert_error(400, "InvalidQuery");
    assert!(message.contains("cannot be grouped by"), "{message}");

    check_filters(
        &app,
        "/api/v3/projects",
        &[
            case(
                &["name_and_identifier", "nameAndIdentifier"],
                "~",
                vec![json!("web")],
                true,
            ),
            case(&["parent_id", "parent", "parentId"], "!*", vec![], false),
            case(&["id", "ID"], "=", id(demo), true),
        ],
    )
    .await;
    check_sorts(
        &app,
        "/api/v3/projects",
        &[&["createdAt", "created_at"], &["updatedAt", "updated_at"]],
    )
    .await;
    check_unknown(&app, "/api/v3/projects", &["colour", "parents"]).await;

    check_filters(
        &app,
        "/api/v3/users",
        &[case(&["login", "Login"], "=", vec![json!("alice")], true)],
    )
    .await;
    check_sorts(
        &app,
        "/api/v3/users",
        &[
            &["createdAt", "created_at"],
            &["lastName", "last_name", "lastname"],
        ],
    )
    .await;
    check_unknown(&app, "/api/v3/users", &["colour"]).await;

    check_filters(
        &app,
        "/api/v3/principals",
        &[
            case(&["member", "member_id", "memberId"], "=", id(demo), true),
            case(
                &["any_name_attribute", "anyNameAttribute"],
                "~",
                vec![json!("ali")],
                true,
            ),
        ],
    )
    .await;

    check_filters(
        &app,
        "/api/v3/memberships",
        &[
            case(&["project", "project_id", "projectId"], "=", id(demo), true),
            case(
                &[
                    "principal",
                    "principal_id",
                    "principalId",
                    "user",
                    "user_id",
                    "userId",
                ],
                "=",
                id(alice),
                true,
            ),
        ],
    )
    .await;

    check_filters(
        &app,
        "/api/v3/audit_events",
        &[
            case(&["actor", "actor_id", "actorId"], "=", id(admin.id), true),
            case(
                &[
                    "targetUser",
                    "target_user",
                    "target_user_id",
                    "targetUserId",
                ],
                "=",
                id(alice),
                true,
            ),
        ],
    )
    .await;
    check_sorts(
        &app,
        "/api/v3/audit_events",
        &[&["createdAt", "created_at"]],
    )
    .await;

    check_sorts(
        &app,
        "/api/v3/jobs",
        &[
            &["runAt", "run_at"],
            &["createdAt", "created_at"],
            &["updatedAt", "updated_at"],
        ],
    )
    .await;
    check_filters(
        &app,
        "/api/v3/jobs",
        &[case(
            &["status", "status_id", "Status"],
            "=",
            vec![json!("queued")],
            false,
        )],
    )
    .await;
    check_sorts(&app, "/api/v3/groups", &[&["createdAt", "created_at"]]).await;
}
both_backends!(filter_and_sort_names_in_every_spelling);
