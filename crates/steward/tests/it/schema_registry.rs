//! The personal-data registry must declare every table and column that
//! exists in the live schema, on both engines — and nothing that does not.

use steward_domain::registry;
use steward_storage::{migrate, schema, Db, DbOptions};

use crate::harness::{Backend, TestDb};

async fn registry_matches_live_schema(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let db = Db::connect(&tdb.url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.unwrap();
    let live = schema::columns(&db).await.unwrap();
    assert!(
        live.iter().any(|(t, c)| t == "users" && c == "email"),
        "reads the schema: {live:?}"
    );
    let problems = registry::diff_with_schema(&live);
    assert!(
        problems.is_empty(),
        "the personal-data registry and the schema disagree:\n{}",
        problems.join("\n")
    );

    // A column added without a declaration is caught.
    db.conn()
        .await
        .unwrap()
        .batch("ALTER TABLE users ADD COLUMN phone TEXT")
        .await
        .unwrap();
    let live = schema::columns(&db).await.unwrap();
    let problems = registry::diff_with_schema(&live);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("users.phone"), "{problems:?}");
    db.close().await;
}
both_backends!(registry_matches_live_schema);
