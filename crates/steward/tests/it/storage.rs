//! The storage layer on both engines: migrations, transactions, parameter
//! and row conversion, placeholder translation, constraints and SQLite's
//! connection settings.

use std::time::{Duration, Instant};

use steward_domain::user::{NewUser, User, UserStatus};
use steward_domain::Timestamp;
use steward_storage::{
    api_tokens, login_attempts, migrate, params, sessions, users, Db, DbOptions, Engine, FromRow,
    Param, Row, StorageError,
};

use crate::harness::{Backend, TestDb};

/// A fresh, migrated database.
async fn open(backend: &Backend, opts: DbOptions) -> (TestDb, Db) {
    let tdb = TestDb::new(backend).await;
    let db = Db::connect(&tdb.url, &opts).await.expect("connect");
    migrate::run(&db).await.expect("migrate");
    (tdb, db)
}

fn new_user(login: &str) -> NewUser {
    NewUser {
        login: login.to_string(),
        firstname: "Test".into(),
        lastname: login.to_string(),
        email: format!("{}@example.org", login.to_lowercase()),
        admin: false,
        status: UserStatus::Active,
        language: "en".into(),
        time_zone: "UTC".into(),
    }
}

async fn insert_user(db: &Db, login: &str) -> User {
    let mut conn = db.conn().await.unwrap();
    users::insert(&mut conn, &new_user(login), None, Timestamp::now())
        .await
        .unwrap()
}

async fn find(db: &Db, login: &str) -> Option<User> {
    let mut conn = db.conn().await.unwrap();
    users::find_by_login(&mut conn, login).await.unwrap()
}

async fn count(db: &Db, sql: &str, params: Vec<Param>) -> i64 {
    db.conn()
        .await
        .unwrap()
        .query_one::<i64>(sql, params)
        .await
        .unwrap()
}

async fn migrations_are_recorded_and_run_once(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let db = Db::connect(&tdb.url, &DbOptions::default()).await.unwrap();
    assert_eq!(migrate::applied(&db).await.unwrap(), Vec::<i64>::new());

    let all: Vec<i64> = migrate::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(all.first(), Some(&1));
    assert_eq!(all.last(), Some(&migrate::latest_version()));
    let ran = migrate::run(&db).await.unwrap();
    assert_eq!(ran, all, "the first run applies every migration, in order");
    let recorded: Vec<i64> = db
        .conn()
        .await
        .unwrap()
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            params![],
        )
        .await
        .unwrap();
    assert_eq!(recorded, all);
    let name: String = db
        .conn()
        .await
        .unwrap()
        .query_one(
            "SELECT name FROM schema_migrations WHERE version = $1",
            params![1i64],
        )
        .await
        .unwrap();
    assert_eq!(name, "accounts");

    let again = migrate::run(&db).await.unwrap();
    assert!(
        again.is_empty(),
        "the second run applies nothing: {again:?}"
    );
    assert_eq!(migrate::applied(&db).await.unwrap(), all);
    // The built-in principals were created once, not twice.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE kind <> $1",
            params!["user"]
        )
        .await,
        2
    );

    // A second handle on the same database (another process, say) also finds nothing to do.
    let other = Db::connect(&tdb.url, &DbOptions::default()).await.unwrap();
    assert!(migrate::run(&other).await.unwrap().is_empty());
    other.close().await;
    db.close().await;
}
both_backends!(migrations_are_recorded_and_run_once);

async fn a_newer_schema_is_refused(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let future = migrate::latest_version() + 1;
    db.conn()
        .await
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            params![future, "from the future", Timestamp::now()],
        )
        .await
        .unwrap();
    let err = migrate::run(&db).await.unwrap_err();
    assert!(matches!(err, StorageError::Migration(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("newer"), "{msg}");
    assert!(msg.contains(&future.to_string()), "{msg}");
    db.close().await;
}
both_backends!(a_newer_schema_is_refused);

async fn dropped_transactions_roll_back(backend: Backend) {
    // One connection only: whatever the dropped transaction leaves behind,
    // the next user of the pool gets that very connection.
    let opts = DbOptions {
        pool_size: 1,
        ..DbOptions::default()
    };
    let (_tdb, db) = open(&backend, opts).await;

    {
        let mut tx = db.begin().await.unwrap();
        let u = users::insert(&mut tx, &new_user("alice"), None, Timestamp::now())
            .await
            .unwrap();
        assert_eq!(u.login, "alice");
        // Visible inside the transaction...
        assert!(users::find_by_login(&mut tx, "alice")
            .await
            .unwrap()
            .is_some());
        // ...and dropped here without commit.
    }
    assert!(find(&db, "alice").await.is_none(), "rolled back on drop");

    // The connection went back clean: a new transaction on it commits only its own work.
    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &new_user("bob"), None, Timestamp::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(find(&db, "bob").await.is_some(), "committed");
    assert!(find(&db, "alice").await.is_none(), "still rolled back");

    // An explicit rollback, too.
    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &new_user("carol"), None, Timestamp::now())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(find(&db, "carol").await.is_none());

    // An early return with `?` inside a transaction.
    async fn fails_halfway(db: &Db) -> Result<(), StorageError> {
        let mut tx = db.begin().await?;
        users::insert(&mut tx, &new_user("dave"), None, Timestamp::now()).await?;
        users::insert(&mut tx, &new_user("DAVE"), None, Timestamp::now()).await?;
        tx.commit().await
    }
    let err = fails_halfway(&db).await.unwrap_err();
    assert!(matches!(err, StorageError::Unique(_)), "{err:?}");
    assert!(find(&db, "dave").await.is_none(), "nothing half-written");

    // Autocommit statements on the same (only) connection still work and persist.
    insert_user(&db, "erin").await;
    assert!(find(&db, "erin").await.is_some());
    db.close().await;
}
both_backends!(dropped_transactions_roll_back);

async fn unique_violations_are_recognised(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    insert_user(&db, "alice").await;

    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &new_user("frank"), None, Timestamp::now())
        .await
        .unwrap();
    // login_key is the lower-cased login: "ALICE" collides with "alice".
    let mut clash = new_user("ALICE");
    clash.email = "other@example.org".into();
    let err = users::insert(&mut tx, &clash, None, Timestamp::now())
        .await
        .unwrap_err();
    match &err {
        StorageError::Unique(what) => assert!(what.contains("login_key"), "{what}"),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    drop(tx);
    assert!(find(&db, "frank").await.is_none(), "nothing half-written");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE kind = $1",
            params!["user"]
        )
        .await,
        1
    );

    // Same e-mail address, other case: the email_key index names itself.
    let mut conn = db.conn().await.unwrap();
    let mut clash = new_user("alice2");
    clash.email = "ALICE@example.org".into();
    match users::insert(&mut conn, &clash, None, Timestamp::now()).await {
        Err(StorageError::Unique(what)) => assert!(what.contains("email_key"), "{what}"),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    // The connection is still usable after the error.
    assert!(users::find_by_login(&mut conn, "alice")
        .await
        .unwrap()
        .is_some());
    drop(conn);
    db.close().await;
}
both_backends!(unique_violations_are_recognised);

#[derive(Debug, PartialEq)]
struct Sample {
    id: i64,
    i: Option<i64>,
    f: Option<f64>,
    b: bool,
    t: Option<String>,
}

impl FromRow for Sample {
    fn from_row(row: &Row<'_>) -> Result<Self, StorageError> {
        Ok(Sample {
            id: row.i64(0)?,
            i: row.opt_i64(1)?,
            f: row.opt_f64(2)?,
            b: row.bool(3)?,
            t: row.opt_string(4)?,
        })
    }
}

struct Plain(i64, f64, String);

impl FromRow for Plain {
    fn from_row(row: &Row<'_>) -> Result<Self, StorageError> {
        Ok(Plain(row.i64(0)?, row.f64(1)?, row.string(2)?))
    }
}

async fn params_and_rows_round_trip(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let mut conn = db.conn().await.unwrap();
    conn.batch(&migrate::render(
        "CREATE TABLE roundtrip (
            id BIGINT NOT NULL,
            i BIGINT,
            f DOUBLE PRECISION,
            b {bool} NOT NULL,
            t TEXT
        )",
        db.engine(),
    ))
    .await
    .unwrap();

    let text = "It's \"quoted\" — Grüße, 日本語, emoji 🦀, a '$1' and a ? and a backslash \\";
    let samples = vec![
        Sample {
            id: 1,
            i: Some(i64::MAX),
            f: Some(std::f64::consts::PI),
            b: true,
            t: Some(text.to_string()),
        },
        Sample {
            id: 2,
            i: Some(i64::MIN),
            f: Some(-1.5e-300),
            b: false,
            t: Some(String::new()),
        },
        Sample {
            id: 3,
            i: Some(0),
            f: Some(f64::MAX),
            b: true,
            t: Some("''".into()),
        },
        Sample {
            id: 4,
            i: None,
            f: None,
            b: false,
            t: None,
        },
        Sample {
            id: 5,
            i: Some(-1),
            f: Some(f64::MIN_POSITIVE),
            b: false,
            t: Some("line\nbreak\ttab".into()),
        },
    ];
    for s in &samples {
        let n = conn
            .execute(
                "INSERT INTO roundtrip (id, i, f, b, t) VALUES ($1, $2, $3, $4, $5)",
                params![s.id, s.i, s.f, s.b, s.t.clone()],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let back: Vec<Sample> = conn
        .query(
            "SELECT id, i, f, b, t FROM roundtrip ORDER BY id",
            params![],
        )
        .await
        .unwrap();
    assert_eq!(back, samples);

    // Parameters compare correctly, not just store correctly.
    let hit: Vec<Sample> = conn
        .query(
            "SELECT id, i, f, b, t FROM roundtrip WHERE i = $1 AND t = $2 AND b = $3",
            params![i64::MAX, text, true],
        )
        .await
        .unwrap();
    assert_eq!(
        hit.len(),
        1,
        "matched by i64::MAX, the unicode text and a bool"
    );
    assert_eq!(hit[0].id, 1);
    let nulls = count(
        &db,
        "SELECT count(*) FROM roundtrip WHERE i IS NULL AND f IS NULL AND t IS NULL",
        params![],
    )
    .await;
    assert_eq!(nulls, 1);
    // Param::Null binds as NULL: `= NULL` matches nothing on either engine.
    let none = count(
        &db,
        "SELECT count(*) FROM roundtrip WHERE i = $1",
        vec![Param::Null],
    )
    .await;
    assert_eq!(none, 0);
    let falses = count(
        &db,
        "SELECT count(*) FROM roundtrip WHERE b = $1",
        params![false],
    )
    .await;
    assert_eq!(falses, 3);

    // Non-null getters on a full row.
    let p: Plain = conn
        .query_one("SELECT i, f, t FROM roundtrip WHERE id = $1", params![3i64])
        .await
        .unwrap();
    assert_eq!((p.0, p.1, p.2.as_str()), (0, f64::MAX, "''"));
    // A non-null getter on NULL is an error, not a default.
    assert!(conn
        .query_one::<i64>("SELECT i FROM roundtrip WHERE id = $1", params![4i64])
        .await
        .is_err());
    // query_one on no rows.
    assert!(matches!(
        conn.query_one::<i64>("SELECT i FROM roundtrip WHERE id = $1", params![99i64])
            .await,
        Err(StorageError::NotFound)
    ));
    drop(conn);
    db.close().await;
}
both_backends!(params_and_rows_round_trip);

async fn placeholders_can_repeat_and_skip_quotes(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let mut conn = db.conn().await.unwrap();
    conn.batch("CREATE TABLE pairs (a BIGINT NOT NULL, b BIGINT NOT NULL, s TEXT NOT NULL)")
        .await
        .unwrap();
    for (a, b, s) in [(1i64, 2i64, "x"), (3, 1, "$1"), (4, 5, "y"), (1, 1, "z")] {
        conn.execute(
            "INSERT INTO pairs (a, b, s) VALUES ($1, $2, $3)",
            params![a, b, s],
        )
        .await
        .unwrap();
    }
    let n: i64 = conn
        .query_one(
            "SELECT count(*) FROM pairs WHERE a = $1 OR b = $1",
            params![1i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 3, "the same parameter used twice");

    // Parameters out of order and reused.
    let n: i64 = conn
        .query_one(
            "SELECT count(*) FROM pairs WHERE (a = $2 AND b = $1) OR (a = $1 AND b = $2)",
            params![1i64, 3i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);

    // A `$1` inside a string literal is text, not a placeholder.
    let n: i64 = conn
        .query_one(
            "SELECT count(*) FROM pairs WHERE s = '$1' AND a = $1",
            params![3i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let s: String = conn
        .query_one(
            "SELECT s FROM pairs WHERE s <> 'it''s $2' AND a = $1 AND b = $2",
            params![4i64, 5i64],
        )
        .await
        .unwrap();
    assert_eq!(s, "y");
    drop(conn);
    db.close().await;
}
both_backends!(placeholders_can_repeat_and_skip_quotes);

async fn concurrent_writers_wait_for_each_other(backend: Backend) {
    let opts = DbOptions {
        busy_timeout_ms: 5000,
        ..DbOptions::default()
    };
    let (_tdb, db) = open(&backend, opts).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await?;
            users::insert(
                &mut tx,
                &new_user(&format!("writer{i}")),
                None,
                Timestamp::now(),
            )
            .await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.commit().await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        t.await
            .unwrap()
            .unwrap_or_else(|e| panic!("writer {i} failed: {e:?}"));
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE login LIKE $1",
            params!["writer%"]
        )
        .await,
        20
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );

    // While a write transaction is open, readers go on (WAL on SQLite, MVCC on
    // PostgreSQL) and see the last committed state.
    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &new_user("pending"), None, Timestamp::now())
        .await
        .unwrap();
    let read = tokio::time::timeout(Duration::from_secs(2), find(&db, "pending"))
        .await
        .expect("a reader is not blocked by a writer");
    assert!(read.is_none(), "uncommitted rows are invisible to others");
    tx.commit().await.unwrap();
    assert!(find(&db, "pending").await.is_some());
    db.close().await;
}
both_backends!(concurrent_writers_wait_for_each_other);

async fn sqlite_connections_use_wal_and_foreign_keys(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    assert_eq!(db.engine(), Engine::Sqlite);
    // Hold several connections at once so that the pool has to open new
    // ones: each must get the settings, not just the first.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(db.conn().await.unwrap());
    }
    for conn in &mut conns {
        let mode: String = conn
            .query_one("PRAGMA journal_mode", params![])
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .query_one("PRAGMA foreign_keys", params![])
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = conn
            .query_one("PRAGMA busy_timeout", params![])
            .await
            .unwrap();
        assert_eq!(busy, 5000);
    }
    drop(conns);
    db.close().await;
}
sqlite_only!(sqlite_connections_use_wal_and_foreign_keys);

async fn foreign_keys_are_enforced_and_cascade(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let mut conn = db.conn().await.unwrap();
    let now = Timestamp::now();

    let err = sessions::insert(
        &mut conn,
        &sessions::NewSession {
            user_id: 999_999,
            token_hash: "hash-orphan",
            csrf_token: "csrf",
            user_agent: None,
            ip_address: None,
        },
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StorageError::ForeignKey(_)), "{err:?}");
    let err = api_tokens::insert(&mut conn, 999_999, "t", "hash-orphan", now)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::ForeignKey(_)), "{err:?}");

    let alice = users::insert(&mut conn, &new_user("alice"), None, now)
        .await
        .unwrap();
    let bob = users::insert(&mut conn, &new_user("bob"), None, now)
        .await
        .unwrap();
    for (user, tag) in [(&alice, "a"), (&bob, "b")] {
        for n in 0..2 {
            sessions::insert(
                &mut conn,
                &sessions::NewSession {
                    user_id: user.id,
                    token_hash: &format!("session-{tag}{n}"),
                    csrf_token: "csrf",
                    user_agent: Some("test"),
                    ip_address: Some("127.0.0.1"),
                },
                now,
            )
            .await
            .unwrap();
            api_tokens::insert(&mut conn, user.id, "t", &format!("token-{tag}{n}"), now)
                .await
                .unwrap();
        }
        login_attempts::insert(&mut conn, Some(user.id), &user.login, true, "ok", None, now)
            .await
            .unwrap();
    }
    assert_eq!(
        sessions::list_for_user(&mut conn, alice.id)
            .await
            .unwrap()
            .len(),
        2
    );

    let deleted = conn
        .execute("DELETE FROM users WHERE id = $1", params![alice.id])
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    for table in ["sessions", "api_tokens", "login_attempts"] {
        let left: i64 = conn
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE user_id = $1"),
                params![alice.id],
            )
            .await
            .unwrap();
        assert_eq!(left, 0, "{table} rows of a deleted user are gone");
        let others: i64 = conn
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE user_id = $1"),
                params![bob.id],
            )
            .await
            .unwrap();
        assert!(others > 0, "{table} rows of other users stay");
    }
    assert!(sessions::find_by_token_hash(&mut conn, "session-a0")
        .await
        .unwrap()
        .is_none());
    assert!(api_tokens::find_by_hash(&mut conn, "token-a0")
        .await
        .unwrap()
        .is_none());
    let still = api_tokens::find_by_hash(&mut conn, "token-b0")
        .await
        .unwrap()
        .expect("bob's token stays");
    assert_eq!(still.1.login, "bob");
    drop(conn);
    db.close().await;
}
both_backends!(foreign_keys_are_enforced_and_cascade);

async fn logins_match_without_case_beyond_ascii(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let joerg = insert_user(&db, "Jörg").await;
    assert_eq!(joerg.login, "Jörg", "the login is kept as typed");
    for probe in ["Jörg", "JÖRG", "jörg", "jÖrG", " Jörg "] {
        let found = find(&db, probe)
            .await
            .unwrap_or_else(|| panic!("{probe:?} finds Jörg"));
        assert_eq!(found.id, joerg.id);
        assert_eq!(found.login, "Jörg");
    }
    assert!(find(&db, "Jorg").await.is_none());
    assert!(find(&db, "joerg").await.is_none());

    let elodie = insert_user(&db, "ÉLODIE").await;
    assert_eq!(find(&db, "élodie").await.map(|u| u.id), Some(elodie.id));

    // The same login in another case is taken.
    let mut conn = db.conn().await.unwrap();
    let mut clash = new_user("JÖRG");
    clash.email = "joerg2@example.org".into();
    assert!(matches!(
        users::insert(&mut conn, &clash, None, Timestamp::now()).await,
        Err(StorageError::Unique(_))
    ));
    drop(conn);
    db.close().await;
}
both_backends!(logins_match_without_case_beyond_ascii);

/// PostgreSQL connections keep the join order Steward writes, and the
/// URL's own options (the tests' search_path) still apply. PostgreSQL only:
/// SQLite has no such setting.
async fn postgres_keeps_the_written_join_order(backend: Backend) {
    let (_tdb, db) = open(&backend, DbOptions::default()).await;
    let mut conn = db.conn().await.unwrap();
    let limit: Vec<String> = conn
        .query("SELECT current_setting('join_collapse_limit')", params![])
        .await
        .unwrap();
    assert_eq!(limit, vec!["1".to_string()]);
    let path: Vec<String> = conn
        .query("SELECT current_setting('search_path')", params![])
        .await
        .unwrap();
    assert!(path[0].starts_with("t_"), "{path:?}");
}
postgres_only!(postgres_keeps_the_written_join_order);
