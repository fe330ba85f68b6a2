//! The bounds on connections (server.header_read_timeout_seconds,
//! body_read_timeout_seconds, keep_alive_timeout_seconds, max_connections,
//! handler_timeout_seconds): a client that says nothing, or too little too
//! slowly, is cut off in time, and `/health` keeps answering meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hyper::Method;

use crate::harness::{Backend, TestApp};

/// Raw socket work, off the async workers that serve the requests.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

fn connect(app: &TestApp) -> TcpStream {
    let s = TcpStream::connect(app.server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Reads until the server closes the connection; returns what it sent.
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
}

async fn health_answers(app: &TestApp) {
    let res = app.anon(Method::GET, "/health").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// A client that trickles its request head, a header line every 200 ms,
/// is cut off once the header timeout (1 s) is up, not served for good.
async fn slow_request_head_is_closed(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.header_read_timeout_seconds = 1;
        c.server.keep_alive_timeout_seconds = 1;
    })
    .await;
    let mut s = connect(&app);
    let trickle = blocking(move || {
        let started = Instant::now();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
        // Each line arrives well within the keep-alive timeout: only the
        // header timeout can end this.
        for i in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            if s.write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
                .is_err()
            {
                break;
            }
        }
        let sent = read_until_closed(&mut s);
        (started.elapsed(), sent)
    });
    // Meanwhile the server answers others.
    health_answers(&app).await;
    let (took, sent) = trickle.await;
    assert!(
        took < Duration::from_secs(4),
        "closed after {took:?}, not within the 1 s header timeout"
    );
    assert!(
        !String::from_utf8_lossy(&sent).contains("200 OK"),
        "the unfinished request was served"
    );
    health_answers(&app).await;
}
both_backends!(slow_request_head_is_closed);

/// Half a request head and then silence: closed within the keep-alive
/// timeout, as an idle connection is.
async fn half_a_request_head_then_silence_is_closed(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.header_read_timeout_seconds = 2;
        c.server.keep_alive_timeout_seconds = 1;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut s = connect(&app);
        s.write_all(b"GET /api/v3/work_packages HTTP/1.1\r\nHost: x\r\nAcc")
            .unwrap();
        held.push(s);
    }
    let closed = blocking(move || {
        let started = Instant::now();
        for s in &mut held {
            read_until_closed(s);
        }
        started.elapsed()
    });
    health_answers(&app).await;
    let took = closed.await;
    assert!(
        took < Duration::from_secs(3),
        "20 half-sent requests were still open after {took:?}"
    );
}
both_backends!(half_a_request_head_then_silence_is_closed);

/// A body that stops arriving is answered 400 in the API's error format
/// once the body timeout is up.
async fn slow_request_body_gets_a_clear_error(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.body_read_timeout_seconds = 1;
    })
    .await;
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("apikey:{}", app.admin_token))
    };
    let mut s = connect(&app);
    let answer = blocking(move || {
        let started = Instant::now();
        write!(
            s,
            "POST /api/v3/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":"
        )
        .unwrap();
        let sent = read_until_closed(&mut s);
        (
            started.elapsed(),
            String::from_utf8_lossy(&sent).into_owned(),
        )
    });
    health_answers(&app).await;
    let (took, answer) = answer.await;
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("InvalidRequestBody"), "{answer}");
    assert!(
        answer.contains("did not arrive within 1 seconds"),
        "{answer}"
    );
}
both_backends!(slow_request_body_gets_a_clear_error);

/// At server.max_connections, a further connection waits in the listen
/// queue and is served as soon as one of the open ones closes.
async fn connections_beyond_the_cap_wait_their_turn(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.max_connections = 2;
        c.server.header_read_timeout_seconds = 30;
        c.server.keep_alive_timeout_seconds = 30;
    })
    .await;
    let first = connect(&app);
    let second = connect(&app);
    // Give the server time to accept both.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut third = connect(&app);
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let (third, first) = blocking(move || {
        third
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 64];
        match third.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            other => panic!("a third connection was served beyond the cap of 2: {other:?}"),
        }
        (third, first)
    })
    .await;
    drop(first);
    let answer = blocking(move || {
        let mut third = third;
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        String::from_utf8_lossy(&read_until_closed(&mut third)).into_owned()
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(second);
}
both_backends!(connections_beyond_the_cap_wait_their_turn);

/// A handler that runs past server.handler_timeout_seconds (here: a write
/// waiting for a lock another transaction holds) is answered 503 in the
/// API's error format, and nothing of it is saved.
async fn a_handler_past_its_time_gets_503(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.server.handler_timeout_seconds = 1;
    })
    .await;
    let services = app.services().clone();
    let mut lock = services.db.begin().await.unwrap();
    if lock.engine() == steward_storage::Engine::Postgres {
        lock.batch("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let started = Instant::now();
    let res = app
        .admin(Method::POST, "/api/v3/projects")
        .json(&serde_json::json!({ "name": "Too slow", "identifier": "too-slow" }))
        .send()
        .await;
    assert!(started.elapsed() < Duration::from_secs(4));
    res.assert_error(503, "ServiceUnavailable");
    assert!(
        res.text().contains("longer than 1 seconds"),
        "{}",
        res.text()
    );
    lock.rollback().await.unwrap();
    let list = app.admin(Method::GET, "/api/v3/projects").send().await;
    assert_eq!(list.status, 200);
    assert!(!list.text().contains("too-slow"), "{}", list.text());
}
both_backends!(a_handler_past_its_time_gets_503);
