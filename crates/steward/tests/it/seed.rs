//! Demo and benchmark data sets: what they create, on both engines.

use crate::harness::{Backend, TestApp};

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
