//! Demo and benchmark data sets: what they create, on both engines.

use hyper::Method;

use crate::harness::{Backend, Req, TestApp};

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut c = app.services().db.conn().await.unwrap();
    c.query_one(sql, Vec::new()).await.unwrap()
}

async fn demo_data_is_complete_and_added_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let demo = app
        .services()
        .seed_demo(&admin)
        .await
        .unwrap()
        .expect("seeded");
    assert_eq!(demo.projects, vec!["demo", "website"]);
    assert_eq!(demo.logins, vec!["alice", "bob", "carol"]);
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 2);
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_packages").await,
        demo.work_packages as i64
    );
    // Every work package has a history; the epic has comments with mentions.
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_packages w WHERE NOT EXISTS (SELECT 1 FROM journals j WHERE j.journable_id = w.id)").await,
        0
    );
    assert!(count(&app, "SELECT count(*) FROM journals WHERE notes <> ''").await >= 6);
    assert!(count(&app, "SELECT count(*) FROM mentions").await >= 3);
    assert!(
        count(
            &app,
            "SELECT count(*) FROM work_packages WHERE parent_id IS NOT NULL"
        )
        .await
            >= 3
    );
    // The people can sign in with the printed password.
    let signed = app
        .services()
        .sign_in("bob", &demo.password, &Default::default())
        .await;
    assert!(signed.is_ok());
    // A second run leaves an instance with projects alone.
    assert!(app.services().seed_demo(&admin).await.unwrap().is_none());
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 2);
}
both_backends!(demo_data_is_complete_and_added_once);

async fn benchmark_data_has_the_promised_shape(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let seed = steward_services::seed::BenchmarkSeed {
        work_packages: 60,
        users: 4,
        heavy_author: 25,
        projects: 1,
    };
    app.services().seed_benchmark(&admin, &seed).await.unwrap();
    assert_eq!(count(&app, "SELECT count(*) FROM work_packages").await, 60);
    assert_eq!(count(&app, "SELECT count(*) FROM journals").await, 180);
    assert_eq!(count(&app, "SELECT count(*) FROM members").await, 4);
    let heavy = app.services().user_by_ref("bench1").await.unwrap();
    let mut c = app.services().db.conn().await.unwrap();
    let authored: i64 = c
        .query_one(
            "SELECT count(*) FROM work_packages WHERE author_id = $1",
            vec![heavy.id.into()],
        )
        .await
        .unwrap();
    assert_eq!(authored, 25);
    // One of the three journals of each work package changes % complete.
    let changed: i64 = c
        .query_one(
            "SELECT count(DISTINCT j.journable_id) FROM journals j JOIN work_package_journals d ON d.journal_id = j.id WHERE j.version = 3 AND d.done_ratio IS NOT NULL",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(changed, 60);
}
both_backends!(benchmark_data_has_the_promised_shape);

async fn benchmark_data_spreads_over_projects_with_the_counts_asked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let seed = steward_services::seed::BenchmarkSeed {
        work_packages: 300,
        users: 50,
        heavy_author: 40,
        projects: 3,
    };
    let steps = std::sync::Mutex::new(Vec::new());
    let summary = app
        .services()
        .seed_benchmark_reporting(&admin, &seed, &|p| steps.lock().unwrap().push(p.stage))
        .await
        .unwrap();
    assert!(steps.lock().unwrap().contains(&"work packages"));
    assert_eq!(
        (
            summary.projects,
            summary.users,
            summary.work_packages,
            summary.journals
        ),
        (3, 50, 300, 900)
    );
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 3);
    assert_eq!(
        count(&app, "SELECT count(*) FROM users WHERE login LIKE 'bench%'").await,
        50
    );
    assert_eq!(count(&app, "SELECT count(*) FROM work_packages").await, 300);
    assert_eq!(count(&app, "SELECT count(*) FROM journals").await, 900);
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_package_journals").await,
        900
    );
    // bench1 in every project, everyone else in two.
    assert_eq!(
        count(&app, "SELECT count(*) FROM members").await,
        3 + 2 * 49
    );
    assert_eq!(summary.members, 101);
    assert_eq!(count(&app, "SELECT count(*) FROM member_roles").await, 101);
    // An even spread, and exactly versions 1, 2, 3 with increasing times.
    assert_eq!(
        count(&app, "SELECT count(*) FROM (SELECT project_id FROM work_packages GROUP BY project_id HAVING count(*) = 100) p").await,
        3
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM (SELECT journable_id FROM journals GROUP BY journable_id HAVING count(*) = 3 AND min(version) = 1 AND max(version) = 3) j").await,
        300
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM journals a JOIN journals b ON b.journable_id = a.journable_id AND b.version = a.version + 1 WHERE b.created_at <= a.created_at").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM work_packages w JOIN journals j ON j.journable_id = w.id AND j.version = 3 JOIN work_package_journals d ON d.journal_id = j.id WHERE w.lock_version = 2 AND w.updated_at = j.created_at AND w.status_id = d.status_id AND w.done_ratio = d.done_ratio AND w.subject = d.subject").await,
        300
    );
    // Everyone writes only in their own projects.
    assert_eq!(
        count(&app, "SELECT count(*) FROM journals j JOIN work_packages w ON w.id = j.journable_id WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.project_id = w.project_id AND m.principal_id = j.user_id)").await,
        0
    );
    // Texts vary.
    assert!(count(&app, "SELECT count(DISTINCT subject) FROM work_packages").await > 200);
    let heavy = app.services().user_by_ref("bench1").await.unwrap();
    let mut c = app.services().db.conn().await.unwrap();
    let authored: i64 = c
        .query_one(
            "SELECT count(*) FROM work_packages WHERE author_id = $1",
            vec![heavy.id.into()],
        )
        .await
        .unwrap();
    assert_eq!(authored, 40);
    // A few comments hand work to bench1: by name, and by a mention that
    // is stored as one.
    let mentioned: i64 = c
        .query_one(
            "SELECT count(*) FROM mentions m JOIN journals j ON j.id = m.source_id WHERE m.source_type = 'journal' AND m.user_id = $1 AND j.notes LIKE '%Bench User 1%'",
            vec![heavy.id.into()],
        )
        .await
        .unwrap();
    assert!(mentioned > 0);
    assert_eq!(mentioned as usize, summary.mentions);
    assert_eq!(
        count(&app, "SELECT count(*) FROM mentions").await,
        mentioned
    );
    drop(c);

    // The API lists and shows them like any others.
    let res = app
        .admin(Method::GET, "/api/v3/work_packages?pageSize=25")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    assert_eq!(list["total"], 300);
    let first = &list["_embedded"]["elements"][0];
    assert!(!first["subject"].as_str().unwrap().is_empty());
    let id = first["id"].as_i64().unwrap();
    let res = app
        .admin(Method::GET, &format!("/api/v3/work_packages/{id}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let wp = res.json();
    assert_eq!(wp["lockVersion"], 2);
    assert!(wp["_links"]["author"]["title"]
        .as_str()
        .unwrap()
        .starts_with("Bench User"));
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/work_packages/{id}/activities"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 3);
    // bench2 is a member of two of the three projects and sees their work.
    let bench2 = app.services().user_by_ref("bench2").await.unwrap();
    let (_, token) = app
        .services()
        .create_api_token(bench2.id, "tests")
        .await
        .unwrap();
    let res = Req::new(&app.base, Method::GET, "/api/v3/work_packages?pageSize=25")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 200);
}
both_backends!(benchmark_data_spreads_over_projects_with_the_counts_asked);

async fn benchmark_shape_that_cannot_be_is_refused_before_writing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.services().user_by_ref("admin").await.unwrap();
    let seed = steward_services::seed::BenchmarkSeed {
        work_packages: 10,
        users: 3,
        heavy_author: 2,
        projects: 5,
    };
    let err = app
        .services()
        .seed_benchmark(&admin, &seed)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 6 users"), "{err}");
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 0);
    // A second seed on a seeded instance is refused too.
    let small = steward_services::seed::BenchmarkSeed {
        work_packages: 5,
        users: 2,
        heavy_author: 1,
        projects: 1,
    };
    app.services().seed_benchmark(&admin, &small).await.unwrap();
    let err = app
        .services()
        .seed_benchmark(&admin, &small)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already there"), "{err}");
    assert_eq!(count(&app, "SELECT count(*) FROM work_packages").await, 5);
}
both_backends!(benchmark_shape_that_cannot_be_is_refused_before_writing);
