//! Long database work (erasure, the residue scan, exports, seeding) runs
//! off the async workers: while it runs, requests are still served, even
//! with a single worker thread. PostgreSQL's driver is asynchronous, so
//! this concerns SQLite only.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use steward_storage::Db;

use crate::harness::{Backend, TestApp};

/// A statement that keeps SQLite busy for a while (counting rows one by one).
const SLOW_COUNT: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000000) \
     SELECT count(*) FROM n";

/// Runs [`SLOW_COUNT`] in a transaction of `db` in a task of its own and
/// returns when it finished.
fn spawn_slow_transaction(db: Db) -> tokio::task::JoinHandle<Instant> {
    tokio::spawn(async move {
        let mut tx = db.begin().await.unwrap();
        let n: i64 = tx.query_one(SLOW_COUNT, Vec::new()).await.unwrap();
        assert_eq!(n, 20_000_000);
        let done = Instant::now();
        tx.commit().await.unwrap();
        done
    })
}

/// GET /health over a plain socket from an OS thread of its own, so that
/// only the server needs the runtime's worker; returns when it was answered.
fn health_from_a_thread(addr: std::net::SocketAddr) -> std::thread::JoinHandle<Instant> {
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        Instant::now()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn long_work_leaves_the_only_worker_free_for_requests() {
    let app = TestApp::start(Backend::Sqlite).await;
    let slow = spawn_slow_transaction(app.services().db.for_long_work());
    // Let the statement start before the request arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answered = health_from_a_thread(app.server.addr);
    let slow_done = slow.await.unwrap();
    let answered = answered.join().unwrap();
    assert!(
        answered < slow_done,
        "/health was answered only after the long transaction ({:?} later)",
        answered - slow_done
    );
}
