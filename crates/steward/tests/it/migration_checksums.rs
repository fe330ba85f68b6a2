//! Migration checksums: every applied migration is recorded with the
//! SHA-256 of its text; a database whose record disagrees with the text
//! this build carries (a migration edited after it was applied) is refused
//! by `migrate::run`, `steward migrate` and `steward serve`, naming the
//! migration. Databases migrated before checksums were kept get theirs on
//! upgrade.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use steward_storage::{migrate, params, Db, DbOptions, StorageError};

use crate::harness::{Backend, TestDb};

/// The edited migration of these tests.
const EDITED: i64 = 2;

async fn migrated(tdb: &TestDb) -> Db {
    let db = Db::connect(&tdb.url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.expect("migrate");
    db
}

/// (version, checksum) of every recorded migration, in order.
async fn recorded(db: &Db) -> Vec<(i64, Option<String>)> {
    let versions: Vec<i64> = db
        .conn()
        .await
        .unwrap()
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            params![],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for v in versions {
        let sum: Option<String> = db
            .conn()
            .await
            .unwrap()
            .query_one(
                "SELECT checksum FROM schema_migrations WHERE version = $1",
                params![v],
            )
            .await
            .unwrap();
        out.push((v, sum));
    }
    out
}

fn expected() -> Vec<(i64, Option<String>)> {
    migrate::MIGRATIONS
        .iter()
        .map(|m| (m.version, Some(m.checksum())))
        .collect()
}

/// What the database would record had migration [`EDITED`] been applied
/// with a different text: the same as its file being edited afterwards.
async fn tamper(db: &Db) {
    db.conn()
        .await
        .unwrap()
        .execute(
            "UPDATE schema_migrations SET checksum = $1 WHERE version = $2",
            params![
                migrate::checksum_of("CREATE TABLE projects (id BIGINT);"),
                EDITED
            ],
        )
        .await
        .unwrap();
}

fn edited_name() -> &'static str {
    migrate::MIGRATIONS
        .iter()
        .find(|m| m.version == EDITED)
        .unwrap()
        .name
}

/// The one `steward: error:` line of a failed run.
fn error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code 1: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("steward: error: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

fn assert_names_the_edit(msg: &str) {
    assert!(
        msg.contains(&format!("migration {EDITED} ({})", edited_name())),
        "{msg}"
    );
    assert!(msg.contains("changed after it was applied"), "{msg}");
}

async fn applied_migrations_are_recorded_with_their_checksums(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let db = migrated(&tdb).await;
    let sums = recorded(&db).await;
    assert_eq!(sums, expected());
    for (_, sum) in &sums {
        let sum = sum.as_deref().unwrap();
        assert_eq!(sum.len(), 64, "hex SHA-256: {sum}");
        assert!(sum.bytes().all(|b| b.is_ascii_hexdigit()), "{sum}");
    }
    // Running again checks them and changes nothing.
    assert!(migrate::run(&db).await.unwrap().is_empty());
    assert_eq!(recorded(&db).await, expected());
    db.close().await;
}
both_backends!(applied_migrations_are_recorded_with_their_checksums);

async fn an_edited_migration_is_refused_naming_it(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let db = migrated(&tdb).await;
    tamper(&db).await;

    let err = migrate::run(&db).await.unwrap_err();
    assert!(matches!(err, StorageError::Migration(_)), "{err:?}");
    assert_names_the_edit(&err.to_string());
    // Refused, not repaired: the record stays as it was.
    assert_ne!(recorded(&db).await, expected());
    db.close().await;

    let data = tdb.dir.join("data");
    let out = tokio::task::block_in_place(|| {
        tdb.steward_command(&data)
            .arg("migrate")
            .output()
            .expect("run steward migrate")
    });
    assert_names_the_edit(&error_line(&out));

    // The server does not start on it either.
    let out = tokio::task::block_in_place(|| serve_until_exit(&tdb, &data));
    assert_names_the_edit(&error_line(&out));
}
both_backends!(an_edited_migration_is_refused_naming_it);

/// `steward serve` on the test database, stopped after 30 s if it has not
/// exited by itself.
fn serve_until_exit(tdb: &TestDb, data: &std::path::Path) -> Output {
    let mut child = tdb
        .steward_command(data)
        .env("STEWARD_SERVER_LISTEN", "127.0.0.1:0")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start steward serve");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

async fn checksums_are_filled_in_on_upgrade(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let db = migrated(&tdb).await;
    // A database from before checksums: the table without the column, and
    // the newest migration still pending.
    let latest = migrate::latest_version();
    let mut conn = db.conn().await.unwrap();
    conn.batch("ALTER TABLE schema_migrations DROP COLUMN checksum")
        .await
        .unwrap();
    conn.batch("DROP TABLE text_index_sources").await.unwrap();
    conn.execute(
        "DELETE FROM schema_migrations WHERE version = $1",
        params![latest],
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(
        latest, 6,
        "the pending migration above is the table of 0006"
    );

    let ran = migrate::run(&db).await.unwrap();
    assert_eq!(ran, vec![latest], "the pending migration is applied");
    assert_eq!(
        recorded(&db).await,
        expected(),
        "those applied before are trusted once and recorded"
    );
    // From now on they are checked.
    tamper(&db).await;
    assert_names_the_edit(&migrate::run(&db).await.unwrap_err().to_string());
    db.close().await;
}
both_backends!(checksums_are_filled_in_on_upgrade);
