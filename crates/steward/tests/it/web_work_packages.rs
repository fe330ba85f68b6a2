//! The work-package form's attributes beyond the basics (times, % done,
//! version, parent, custom fields) and the home page's activity feed, over
//! real HTTP on both backends: what is stored, what is refused with the
//! message by its field, what the pages show, who sees which activity, and
//! escaping.

use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{Backend, TestApp};
use crate::projects_api::{add_member, new_project};
use crate::web_admin::field_errors;
use crate::web_pages::{assert_page, hidden, location, Visitor, USER_PASSWORD};

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// Creates a custom field of work packages as the administrator.
async fn field(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["kind"] = json!("WorkPackageCustomField");
    app.created("/api/v3/custom_fields", body).await
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

/// The id at the end of a link's href.
fn href_id(v: &Value) -> i64 {
    v["href"]
        .as_str()
        .and_then(|h| h.rsplit('/').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no link: {v}"))
}

async fn api_wp(app: &TestApp, id: i64) -> Value {
    let res = app
        .admin(Method::GET, &format!("/api/v3/work_packages/{id}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn new_wp(app: &TestApp, project: &str, subject: &str) -> i64 {
    let wp = app
        .created(
            &format!("/api/v3/projects/{project}/work_packages"),
            json!({"subject": subject}),
        )
        .await;
    id_of(&wp)
}

async fn wp_count(app: &TestApp, project: &str) -> i64 {
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/projects/{project}/work_packages"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["total"].as_i64().unwrap()
}

/// The custom fields of the form scenario.
struct Fields {
    points: i64,
    severity: i64,
    high: i64,
    note: i64,
    customer: i64,
}

impl Fields {
    async fn create(app: &TestApp) -> Fields {
        let points = id_of(&field(app, json!({"name": "Points", "fieldFormat": "int"})).await);
        let severity = field(
            app,
            json!({"name": "Severity", "fieldFormat": "list", "possibleValues": ["Low", "High"]}),
        )
        .await;
        let high = severity["_links"]["customOptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["title"] == "High")
            .map(href_id)
            .unwrap();
        let note = id_of(&field(app, json!({"name": "Note", "fieldFormat": "string"})).await);
        let customer = id_of(
            &field(
                app,
                json!({"name": "Customer", "fieldFormat": "string", "isRequired": true}),
            )
            .await,
        );
        Fields {
            points,
            severity: id_of(&severity),
            high,
            note,
            customer,
        }
    }

    fn name(id: i64) -> String {
        format!("custom_field_{id}")
    }
}

/// A complete, valid form; a scenario changes one field of it.
fn form(fields: &Fields, version: i64, parent: i64) -> Vec<(String, String)> {
    [
        ("subject".to_string(), "Measure the load".to_string()),
        ("description".into(), "Peak hours.".into()),
        ("estimated_time".into(), "2.5".into()),
        ("remaining_time".into(), "1,5".into()),
        ("done_ratio".into(), "40".into()),
        ("version".into(), version.to_string()),
        ("parent".into(), format!("#{parent}")),
        (Fields::name(fields.points), "7".into()),
        (Fields::name(fields.severity), fields.high.to_string()),
        (Fields::name(fields.note), SCRIPT.into()),
        (Fields::name(fields.customer), "ACME".into()),
    ]
    .into_iter()
    .collect()
}

fn with(mut all: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match all.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value.to_string(),
        None => all.push((name.to_string(), value.to_string())),
    }
    all
}

fn borrowed(all: &[(String, String)]) -> Vec<(&str, &str)> {
    all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn form_attributes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = new_project(&app, "alpha", false).await;
    let (mia, _) = app.user("mia").await;
    add_member(&app, alpha, mia, "Member").await;
    let res = app
        .admin(Method::POST, "/api/v3/versions")
        .json(&json!({
            "name": "1.0",
            "_links": { "definingProject": {"href": format!("/api/v3/projects/{alpha}")} },
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let version = id_of(&res.json());
    let epic = new_wp(&app, "alpha", "Epic").await;
    let fields = Fields::create(&app).await;

    let mut v = Visitor::signed_in(&app, "mia", USER_PASSWORD).await;
    let new = "/projects/alpha/work_packages/new";
    let action = "/projects/alpha/work_packages";
    let body = assert_page(&v.get(new).await, 200);
    for label in [
        "<label for=\"wp-estimated\">Estimated time</label>",
        "<label for=\"wp-remaining\">Remaining time</label>",
        "<label for=\"wp-done\">% done</label>",
        "<label for=\"wp-version\">Version</label>",
        "<label for=\"wp-parent\">Parent</label>",
    ] {
        assert!(body.contains(label), "{label}: {body}");
    }
    assert!(
        body.contains(&format!("<option value=\"{version}\">1.0</option>")),
        "{body}"
    );
    assert!(
        body.contains(&format!("<label for=\"wp-cf-{}\">Points", fields.points)),
        "{body}"
    );
    assert!(
        body.contains(&format!("<option value=\"{}\">High</option>", fields.high)),
        "{body}"
    );

    // Each bad value: the form again, the message under its field, what
    // was typed kept, nothing created.
    let good = form(&fields, version, epic);
    let points = Fields::name(fields.points);
    let customer = Fields::name(fields.customer);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "done_ratio",
            "150",
            "wp-done-error\">% Complete must be between 0 and 100.".into(),
            "value=\"150\"",
        ),
        (
            "estimated_time",
            "abc",
            "wp-estimated-error\">Estimated time must be a number of hours".into(),
            "value=\"abc\"",
        ),
        (
            "parent",
            "999999",
            "wp-parent-error\">Work package 999999 does not exist.".into(),
            "value=\"999999\"",
        ),
        (
            "parent",
            "first",
            "wp-parent-error\">Parent must be the number of a work package".into(),
            "value=\"first\"",
        ),
        (
            &points,
            "x",
            format!(
                "wp-cf-{}-error\">Points (customField{})",
                fields.points, fields.points
            ),
            "value=\"x\"",
        ),
        (
            &customer,
            "",
            format!(
                "wp-cf-{}-error\">Customer (customField{}) can't be blank.",
                fields.customer, fields.customer
            ),
            "value=\"Measure the load\"",
        ),
    ];
    for (name, value, message, kept) in &cases {
        let sent = with(good.clone(), name, value);
        let res = v.submit(new, action, &borrowed(&sent)).await;
        let body = assert_page(&res, 422);
        // Whichever way the apostrophe is escaped.
        let quoted = message.replace('\'', "&#39;");
        assert!(
            body.contains(message.as_str()) || body.contains(&quoted),
            "{name}={value}: {body}"
        );
        assert!(body.contains(kept), "{name}={value}: {body}");
        assert!(body.contains("aria-invalid=\"true\""), "{body}");
        // The other values stay as typed, escaped.
        assert!(body.contains(SCRIPT_ESCAPED), "{body}");
        assert!(!body.contains(SCRIPT), "{body}");
        assert_eq!(wp_count(&app, "alpha").await, 1, "{name}={value}");
    }
    // A form without the session's token changes nothing.
    assert_page(&v.post(action, &borrowed(&good)).await, 403);
    assert_eq!(wp_count(&app, "alpha").await, 1);

    let res = v.submit(new, action, &borrowed(&good)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let path = location(&res).split('?').next().unwrap().to_string();
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let wp = api_wp(&app, id).await;
    assert_eq!(wp["estimatedTime"], "PT2H30M", "{wp}");
    assert_eq!(wp["remainingTime"], "PT1H30M", "{wp}");
    assert_eq!(wp["percentageDone"], 40, "{wp}");
    assert_eq!(href_id(&wp["_links"]["version"]), version, "{wp}");
    assert_eq!(href_id(&wp["_links"]["parent"]), epic, "{wp}");
    assert_eq!(wp[format!("customField{}", fields.points)], 7, "{wp}");
    assert_eq!(
        href_id(&wp["_links"][format!("customField{}", fields.severity)]),
        fields.high,
        "{wp}"
    );
    assert_eq!(wp[format!("customField{}", fields.note)], SCRIPT, "{wp}");
    assert_eq!(
        wp[format!("customField{}", fields.customer)],
        "ACME",
        "{wp}"
    );

    // The detail page shows them; the parent's lists its child.
    let body = assert_page(&v.get(&path).await, 200);
    for shown in [
        "<dt>Estimated time</dt><dd>2.5 h</dd>",
        "<dt>Remaining time</dt><dd>1.5 h</dd>",
        "<dt>% done</dt><dd>40 %</dd>",
        "<dt>Version</dt><dd>1.0</dd>",
        "<dt>Points</dt><dd>7</dd>",
        "<dt>Severity</dt><dd>High</dd>",
        "<dt>Customer</dt><dd>ACME</dd>",
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    assert!(
        body.contains(&format!(
            "<dt>Parent</dt><dd><a href=\"/work_packages/{epic}\">#{epic} Epic</a></dd>"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("<dt>Note</dt><dd>{SCRIPT_ESCAPED}</dd>")),
        "{body}"
    );
    assert!(!body.contains(SCRIPT), "{body}");
    let parent_page = assert_page(&v.get(&format!("/work_packages/{epic}")).await, 200);
    assert!(
        parent_page.contains(&format!(
            "<a href=\"/work_packages/{id}\">#{id} Measure the load</a>"
        )),
        "{parent_page}"
    );

    // The edit form holds the stored values.
    let edit = format!("{path}/edit");
    let body = assert_page(&v.get(&edit).await, 200);
    for kept in [
        "name=\"estimated_time\" type=\"text\" value=\"2.5\"".to_string(),
        "name=\"remaining_time\" type=\"text\" value=\"1.5\"".to_string(),
        "value=\"40\"".to_string(),
        format!("<option value=\"{version}\" selected>1.0</option>"),
        format!("name=\"parent\" type=\"text\" value=\"{epic}\""),
        format!("name=\"{points}\" type=\"text\" value=\"7\""),
        format!("<option value=\"{}\" selected>High</option>", fields.high),
        format!("value=\"{SCRIPT_ESCAPED}\""),
    ] {
        assert!(body.contains(&kept), "{kept}: {body}");
    }
    let lock = hidden(&body, "lock_version");

    // Its own parent: refused by the service, nothing changed.
    let stored = with(form(&fields, version, epic), "lock_version", &lock);
    let sent = with(stored.clone(), "parent", &id.to_string());
    let res = v.submit(&edit, &edit, &borrowed(&sent)).await;
    let body = assert_page(&res, 422);
    assert!(
        body.contains("wp-parent-error\">A work package cannot be its own ancestor"),
        "{body}"
    );
    assert!(
        body.contains(&format!("name=\"parent\" type=\"text\" value=\"{id}\"")),
        "{body}"
    );
    let after = api_wp(&app, id).await;
    assert_eq!(after["lockVersion"], wp["lockVersion"], "{after}");
    assert_eq!(href_id(&after["_links"]["parent"]), epic, "{after}");
    // A required field cleared on edit is refused too.
    let sent = with(stored.clone(), &customer, " ");
    let body = assert_page(&v.submit(&edit, &edit, &borrowed(&sent)).await, 422);
    assert!(
        body.contains(&format!("wp-cf-{}-error", fields.customer)),
        "{body}"
    );
    assert_eq!(api_wp(&app, id).await["lockVersion"], wp["lockVersion"]);

    // A change to one value keeps the others.
    let sent = with(stored.clone(), "done_ratio", "60");
    let res = v.submit(&edit, &edit, &borrowed(&sent)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let after = api_wp(&app, id).await;
    assert_eq!(after["percentageDone"], 60, "{after}");
    assert_eq!(after["estimatedTime"], "PT2H30M", "{after}");
    assert_eq!(href_id(&after["_links"]["version"]), version, "{after}");
    assert_eq!(href_id(&after["_links"]["parent"]), epic, "{after}");
    assert_eq!(after[format!("customField{}", fields.points)], 7, "{after}");
    assert_eq!(
        after[format!("customField{}", fields.customer)],
        "ACME",
        "{after}"
    );
    let body = assert_page(&v.get(&path).await, 200);
    assert!(
        body.contains("<strong>% done</strong> changed from <em>40</em> to <em>60</em>"),
        "{body}"
    );

    // The lock version still guards against a stale edit.
    let sent = with(stored, "done_ratio", "10");
    let body = assert_page(&v.submit(&edit, &edit, &borrowed(&sent)).await, 409);
    assert!(body.contains("Someone changed this work package"), "{body}");
    assert_eq!(api_wp(&app, id).await["percentageDone"], 60);

    // Clearing: blank values remove the attributes.
    let lock = hidden(&assert_page(&v.get(&edit).await, 200), "lock_version");
    let mut sent = with(form(&fields, version, epic), "lock_version", &lock);
    for name in ["estimated_time", "done_ratio", "version", "parent", &points] {
        sent = with(sent, name, "");
    }
    let res = v.submit(&edit, &edit, &borrowed(&sent)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let after = api_wp(&app, id).await;
    assert!(after["estimatedTime"].is_null(), "{after}");
    assert!(after["percentageDone"].is_null(), "{after}");
    assert!(after["_links"]["version"]["href"].is_null(), "{after}");
    assert!(after["_links"]["parent"]["href"].is_null(), "{after}");
    assert!(
        after[format!("customField{}", fields.points)].is_null(),
        "{after}"
    );
}
both_backends!(form_attributes);

/// Every refused field of the work-package form is shown next to its own
/// field at once, whether the form could not read it (a date that is no
/// date, hours that are no number) or the services refused it (a blank
/// subject, a finish before the start); nothing is written. One refused
/// field is one message.
async fn every_refused_field_is_shown(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = new_project(&app, "alpha", false).await;
    let (mia, _) = app.user("mia").await;
    add_member(&app, alpha, mia, "Member").await;
    let mut v = Visitor::signed_in(&app, "mia", USER_PASSWORD).await;
    let new = "/projects/alpha/work_packages/new";
    let action = "/projects/alpha/work_packages";
    let shown = |body: &str| -> Vec<(String, String)> {
        let mut e = field_errors(body);
        e.sort();
        e
    };
    let pair = |id: &str, message: &str| (id.to_string(), message.to_string());

    let res = v
        .submit(
            new,
            action,
            &[
                ("subject", " "),
                ("start_date", "2026-05-10"),
                ("due_date", "2026-05-01"),
                ("estimated_time", "abc"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert_eq!(
        shown(&body),
        [
            pair(
                "wp-due",
                "The finish date must not be before the start date."
            ),
            pair(
                "wp-estimated",
                "Estimated time must be a number of hours, such as 2.5."
            ),
            pair("wp-subject", "Subject can't be blank."),
        ],
        "{body}"
    );
    assert!(body.contains("value=\"abc\""), "{body}");
    let res = v
        .submit(
            new,
            action,
            &[
                ("subject", ""),
                ("start_date", "2026-02-30"),
                ("done_ratio", "150"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert_eq!(
        shown(&body),
        [
            pair("wp-done", "% Complete must be between 0 and 100."),
            pair("wp-start", "Start date must be a date (YYYY-MM-DD)."),
            pair("wp-subject", "Subject can't be blank."),
        ],
        "{body}"
    );
    assert_eq!(wp_count(&app, "alpha").await, 0);

    // Editing: the same, and the work package stays as it was.
    let id = new_wp(&app, "alpha", "Valid").await;
    let before = api_wp(&app, id).await;
    let edit = format!("/work_packages/{id}/edit");
    let body = assert_page(&v.get(&edit).await, 200);
    let lock = hidden(&body, "lock_version");
    let res = v
        .submit(
            &edit,
            &edit,
            &[
                ("lock_version", &lock),
                ("subject", ""),
                ("start_date", "2026-05-10"),
                ("due_date", "tomorrow"),
                ("done_ratio", "101"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert_eq!(
        shown(&body),
        [
            pair("wp-done", "% Complete must be between 0 and 100."),
            pair("wp-due", "Finish date must be a date (YYYY-MM-DD)."),
            pair("wp-subject", "Subject can't be blank."),
        ],
        "{body}"
    );
    let res = v
        .submit(&edit, &edit, &[("lock_version", &lock), ("subject", "")])
        .await;
    let body = assert_page(&res, 422);
    assert_eq!(
        shown(&body),
        [pair("wp-subject", "Subject can't be blank.")]
    );
    let after = api_wp(&app, id).await;
    assert_eq!(after["lockVersion"], before["lockVersion"], "{after}");
    assert_eq!(after["subject"], "Valid");
}
both_backends!(every_refused_field_is_shown);

async fn comment(app: &TestApp, wp: i64, text: &str) -> i64 {
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v3/work_packages/{wp}/activities"),
        )
        .json(&json!({"comment": {"raw": text}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    id_of(&res.json())
}

async fn home_activity(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = new_project(&app, "alpha", false).await;
    new_project(&app, "secret", false).await;
    let (mia, _) = app.user("mia").await;
    add_member(&app, alpha, mia, "Reader").await;
    let (_, _) = app.user("noah").await;

    let seen = new_wp(&app, "alpha", "Visible task").await;
    let hidden_wp = new_wp(&app, "secret", "Hidden task").await;
    let journal = comment(&app, seen, &format!("Looks fine {SCRIPT}")).await;
    comment(&app, hidden_wp, "Top secret remark").await;
    let statuses = app
        .admin(Method::GET, "/api/v3/statuses")
        .send()
        .await
        .json();
    let current = href_id(&api_wp(&app, seen).await["_links"]["status"]);
    let other_status = statuses["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .find(|s| *s != current)
        .unwrap();
    let lock = api_wp(&app, seen).await["lockVersion"].clone();
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/work_packages/{seen}"))
        .json(&json!({
            "lockVersion": lock,
            "percentageDone": 30,
            "_links": {"status": {"href": format!("/api/v3/statuses/{other_status}")}},
        }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let mut v = Visitor::signed_in(&app, "mia", USER_PASSWORD).await;
    let body = assert_page(&v.get("/").await, 200);
    assert!(body.contains("Recent activity"), "{body}");
    assert!(
        body.contains(&format!("Looks fine {SCRIPT_ESCAPED}")),
        "{body}"
    );
    assert!(!body.contains(SCRIPT), "{body}");
    assert!(
        body.contains(&format!(
            "href=\"/work_packages/{seen}#activity-{journal}\">#{seen} Visible task</a>"
        )),
        "{body}"
    );
    assert!(body.contains("Changed status, % done"), "{body}");
    assert!(body.contains(" created "), "{body}");
    assert!(body.contains(" commented on "), "{body}");
    assert!(!body.contains("Top secret remark"), "{body}");
    assert!(!body.contains("Hidden task"), "{body}");
    // The time is the reader's: a <time> element with the instant.
    assert!(body.contains("<time datetime=\""), "{body}");

    // The service: newest first, the viewer's projects only, limited.
    let services = app.services();
    let user = services.user(mia).await.unwrap();
    let access = services.access(Some(&user)).await.unwrap();
    let feed = services.recent_activity(&access, 15).await.unwrap();
    assert_eq!(feed.len(), 3, "{feed:?}");
    assert!(
        feed.iter().all(|a| a.journal.journable_id == seen),
        "{feed:?}"
    );
    assert_eq!(feed[0].changed, vec!["status", "percentageDone"]);
    assert_eq!(feed[1].journal.id, journal);
    assert!(feed[1].changed.is_empty() && !feed[1].is_creation());
    assert!(feed[2].is_creation());
    assert_eq!(services.recent_activity(&access, 1).await.unwrap().len(), 1);

    // Someone in no project sees none of it; the administrator sees all.
    let mut n = Visitor::signed_in(&app, "noah", USER_PASSWORD).await;
    let body = assert_page(&n.get("/").await, 200);
    assert!(
        !body.contains("Looks fine") && !body.contains("Top secret"),
        "{body}"
    );
    let mut a = Visitor::new(&app);
    assert_eq!(
        a.sign_in("admin", crate::harness::ADMIN_PASSWORD)
            .await
            .status,
        303
    );
    let body = assert_page(&a.get("/").await, 200);
    assert!(body.contains("Top secret remark"), "{body}");
    assert!(body.contains("Looks fine"), "{body}");
}
both_backends!(home_activity);
