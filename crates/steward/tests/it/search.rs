//! Search, in the API's work-package filters (`search`, `subject_or_id`,
//! `typeahead` with `**`) and on the results page: case and accents folded,
//! an email address found whole, only what the reader may see, and any
//! input searched as text.

use hyper::Method;
use serde_json::{json, Value};

use crate::activities_api::comment;
use crate::harness::{Backend, TestApp};
use crate::web_pages::{assert_page, Visitor};
use crate::work_packages_api::{
    add_member, as_user, enc, filters, href, lookup, make_project, minimal, new_wp,
};

struct Fixture {
    member_token: String,
    outsider_token: String,
    /// "Calibrate the Müller sensor"
    calibrate: i64,
    /// described with anna.berg@example.org
    described: i64,
    /// commented "ask MULLER first"
    commented: i64,
    /// in the private project nobody but admins and members sees
    secret: i64,
    other: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let open = make_project(app, "lab", false).await;
    let closed = make_project(app, "vault", false).await;
    let (member, member_token) = app.user("mira").await;
    let (_, outsider_token) = app.user("otto").await;
    add_member(app, open, member, "Member").await;
    let task = lookup(app, "types", "Task").await;
    let id = |v: Value| v["id"].as_i64().unwrap();
    let calibrate = id(new_wp(app, minimal(open, "Calibrate the Müller sensor", task)).await);
    let described = id(new_wp(
        app,
        json!({
            "subject": "Send the report",
            "description": {"raw": "Mail it to anna.berg@example.org today."},
            "_links": {"project": href("projects", open), "type": href("types", task)},
        }),
    )
    .await);
    let commented = id(new_wp(app, minimal(open, "Order parts", task)).await);
    let res = comment(app, &app.admin_token, commented, "Please ask MULLER first.").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let other = id(new_wp(app, minimal(open, "Paint the fence", task)).await);
    let secret = id(new_wp(app, minimal(closed, "Müller secret plan", task)).await);
    Fixture {
        member_token,
        outsider_token,
        calibrate,
        described,
        commented,
        secret,
        other,
    }
}

async fn found(app: &TestApp, token: &str, name: &str, values: &[&str]) -> Vec<i64> {
    let path = format!(
        "/api/v3/work_packages?pageSize=100&sortBy={}&{}",
        enc(r#"[["id","asc"]]"#),
        filters(&[(name, "**", values)])
    );
    let res = as_user(app, token, Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "{name} {values:?}: {}", res.text());
    res.json()["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn api_filters_search_words_folded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = fixture(&app).await;
    let admin = app.admin_token.clone();

    // Case and accents folded, in subjects, descriptions and comments.
    assert_eq!(
        found(&app, &f.member_token, "search", &["muller"]).await,
        vec![f.calibrate, f.commented]
    );
    assert_eq!(
        found(&app, &admin, "search", &["MÜLLER"]).await,
        vec![f.calibrate, f.commented, f.secret]
    );
    // Every word must occur; an email address is found whole.
    assert_eq!(
        found(&app, &admin, "search", &["calibrate sensor"]).await,
        vec![f.calibrate]
    );
    assert!(found(&app, &admin, "search", &["calibrate fence"])
        .await
        .is_empty());
    assert_eq!(
        found(&app, &admin, "search", &["anna.berg@example.org"]).await,
        vec![f.described]
    );
    assert!(found(&app, &admin, "search", &["anna.berg@example.com"])
        .await
        .is_empty());

    // subject_or_id and typeahead: the subject's words, the last one
    // begun, or the id; each spelling of the name.
    for name in ["subjectOrId", "subject_or_id", "typeahead"] {
        assert_eq!(
            found(&app, &admin, name, &["calib"]).await,
            vec![f.calibrate],
            "{name}"
        );
        assert_eq!(
            found(&app, &admin, name, &[&format!("#{}", f.other)]).await,
            vec![f.other],
            "{name}"
        );
    }
    // The description is not the subject.
    assert!(found(&app, &admin, "subjectOrId", &["anna"])
        .await
        .is_empty());

    // What the reader may not see is not found.
    assert!(found(&app, &f.outsider_token, "search", &["muller"])
        .await
        .is_empty());
    assert!(!found(&app, &f.member_token, "search", &["secret"])
        .await
        .contains(&f.secret));
}
both_backends!(api_filters_search_words_folded);

async fn any_search_text_is_searched_as_text(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = fixture(&app).await;
    let admin = app.admin_token.clone();
    let all = found(&app, &admin, "search", &[""]).await;
    assert_eq!(all.len(), 5, "an empty search filters nothing: {all:?}");
    let huge = "muller ".repeat(3_000);
    for text in [
        "\"",
        "\"müller",
        "NEAR(muller sensor)",
        "muller*",
        "*",
        ":",
        "sensor:müller",
        "a & b | !c <-> d:*",
        "'; DROP TABLE work_packages; --",
        "^muller -sensor +x",
        "\u{1}\u{7f}",
        huge.as_str(),
    ] {
        for name in ["search", "subjectOrId", "typeahead"] {
            // Each answers 200 with what its words find, never an error.
            let _ = found(&app, &admin, name, &[text]).await;
        }
    }
    assert_eq!(
        found(&app, &admin, "search", &["NEAR(muller sensor)"]).await,
        Vec::<i64>::new(),
        "NEAR is a word here"
    );
    assert_eq!(
        found(&app, &admin, "search", &["\"muller\" sensor*"]).await,
        vec![f.calibrate]
    );
    // Only the operator is checked.
    let path = format!(
        "/api/v3/work_packages?{}",
        filters(&[("search", "=", &["muller"])])
    );
    let res = app.admin(Method::GET, &path).send().await;
    res.assert_error(400, "InvalidQuery");
    assert!(res.text().contains("**"), "{}", res.text());
}
both_backends!(any_search_text_is_searched_as_text);

async fn the_results_page_marks_what_the_reader_may_see(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = fixture(&app).await;

    let mut mira = Visitor::signed_in(&app, "mira", "user password 1").await;
    let home = assert_page(&mira.get("/").await, 200);
    assert!(
        home.contains(r#"action="/search""#),
        "a search box on every page"
    );
    let page = assert_page(&mira.get("/search?q=M%C3%BCller").await, 200);
    assert!(
        page.contains(&format!(r#"href="/work_packages/{}""#, f.calibrate)),
        "{page}"
    );
    assert!(page.contains("<mark>Müller</mark>"), "{page}");
    assert!(page.contains("<mark>MULLER</mark>"), "the comment: {page}");
    assert!(
        page.contains(&format!("/work_packages/{}#activity-", f.commented)),
        "{page}"
    );
    assert!(!page.contains("secret plan"), "{page}");
    let project = assert_page(&mira.get("/search?q=lab").await, 200);
    assert!(project.contains(r#"href="/projects/"#), "{project}");

    let mut otto = Visitor::signed_in(&app, "otto", "user password 1").await;
    let nothing = assert_page(&otto.get("/search?q=m%C3%BCller").await, 200);
    assert!(nothing.contains("Nothing you may see matches"), "{nothing}");

    // Markup and engine syntax in a search are text.
    let odd = assert_page(
        &mira.get("/search?q=%3Cscript%3E%22NEAR%2A%3A%26").await,
        200,
    );
    assert!(odd.contains("&lt;script&gt;"), "{odd}");
    let empty = assert_page(&mira.get("/search?q=").await, 200);
    assert!(empty.contains("Type words"), "{empty}");
    let punctuation = assert_page(&mira.get("/search?q=%22%2A%3A").await, 200);
    assert!(punctuation.contains("holds no word"), "{punctuation}");
    let _ = f.outsider_token;
}
both_backends!(the_results_page_marks_what_the_reader_may_see);
