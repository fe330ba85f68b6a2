//! The request log with real files: secrets never reach them (the exact
//! values sent are searched for), pseudonymised lines carry no user id,
//! rotation and retention by size and by age, the writer never waits, and
//! the functions export and erasure use (`lines_for_user`, `unlink_user`,
//! `mentions_user`, `redact_terms`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::request_log::{
    BodyKind, Entry, RequestLog, RequestLogConfig, ACTIVE_FILE, FILTERED, KEY_FILE,
};

use crate::harness::{Backend, Req, Resp, TestApp};

fn random(prefix: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{prefix}-{hex}")
}

fn log_dir(app: &TestApp) -> PathBuf {
    app.config.request_log_dir()
}

/// The log's files (not the key or the lock), oldest first.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_str().unwrap();
                    name.starts_with("requests") && name.ends_with(".jsonl")
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    // The active file sorts first by name; it holds the newest lines.
    if let Some(i) = files
        .iter()
        .position(|p| p.file_name().unwrap() == ACTIVE_FILE)
    {
        let active = files.remove(i);
        files.push(active);
    }
    files
}

/// Everything in every file of the directory: the log files, the key,
/// whatever else is there.
fn all_bytes(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
            out.push('\n');
        }
    }
    out
}

fn lines(dir: &Path) -> Vec<Value> {
    log_files(dir)
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn line_of<'a>(lines: &'a [Value], res: &Resp) -> &'a Value {
    let id = res.header("x-request-id").expect("a request id");
    lines
        .iter()
        .find(|l| l["request_id"] == id)
        .unwrap_or_else(|| panic!("no line for request {id}"))
}

/// Every line of every request-log file, oldest first, after the writer
/// caught up.
pub async fn request_log_lines(app: &TestApp) -> Vec<Value> {
    app.services().request_log().flush().await;
    lines(&log_dir(app))
}

fn session_cookie(res: &Resp) -> String {
    let set = res.header("set-cookie").expect("a session cookie");
    set.split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap()
}

/// A request carrying a password, tokens, an API key, a one-time code, a
/// cookie, a CSRF token and an Authorization header leaves none of them
/// in the log files (nor in the audit trail), while ordinary parameters are
/// logged.
async fn secrets_never_reach_the_log(backend: Backend) {
    let custom = random("ssn");
    let app = TestApp::start_with(backend, |c| {
        c.request_log.filter_parameters = vec!["social_security_number".into()];
        c.request_log.pseudonymize = false;
    })
    .await;
    let password = random("password");
    let new_password = random("newpassword");
    let query_token = random("querytoken");
    let query_key = random("querykey");
    let form_password = random("formpassword");
    let otp = random("otp");
    let nested_secret = random("nestedsecret");

    // A body parameter: the password of a new account.
    let res = app
        .admin(Method::POST, "/api/v3/users")
        .json(&json!({
            "login": "carol",
            "email": "carol@example.org",
            "firstName": "Carol",
            "lastName": "Visible",
            "password": password,
            "status": "active",
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let carol = res.json()["id"].as_i64().unwrap();
    let create = res;

    // Signing in: the password in the body, the session cookie and CSRF
    // token in the answer.
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "carol", "password": password}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let cookie = session_cookie(&res);
    let csrf = res.json()["csrfToken"].as_str().unwrap().to_string();
    let sign_in = res;

    // The cookie and CSRF token as headers; a token in the answer; a
    // nested secret and a configured name in the body.
    let res = app
        .anon(Method::POST, "/api/v3/my/api_tokens")
        .header("cookie", &format!("steward_session={cookie}"))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "name": "visible-token-name",
            "options": {"clientSecret": nested_secret, "note": "visible-note"},
            "social_security_number": custom,
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let new_token = res.json()["token"].as_str().unwrap().to_string();
    let token_line = res;

    // Query parameters, and the Authorization header (the admin's token).
    let res = app
        .admin(
            Method::GET,
            &format!("/api/v3/users/me?token={query_token}&api_key={query_key}&visible=yes"),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let query_line = res;
    let res = app
        .anon(Method::GET, "/api/v3/users/me")
        .bearer(&new_token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A password change: both passwords in the body.
    let res = app
        .anon(Method::POST, "/api/v3/my/password")
        .header("cookie", &format!("steward_session={cookie}"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"currentPassword": password, "newPassword": new_password}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());

    // A form body with a password and a one-time code (refused, logged).
    let res = Req::new(&app.base, Method::POST, "/api/v3/my/session")
        .raw(
            "application/x-www-form-urlencoded",
            format!("login=carol&password={form_password}&otp_code={otp}&remember=visible-form"),
        )
        .send()
        .await;
    assert_eq!(res.status, 415, "{}", res.text());
    let form_line = res;

    let all = request_log_lines(&app).await;
    let text = all_bytes(&log_dir(&app));
    for (what, secret) in [
        ("password", password.as_str()),
        ("new password", &new_password),
        ("query token", &query_token),
        ("query api key", &query_key),
        ("form password", &form_password),
        ("one-time code", &otp),
        ("nested secret", &nested_secret),
        ("configured parameter", &custom),
        ("session cookie", &cookie),
        ("CSRF token", &csrf),
        ("API token in the Authorization header", &app.admin_token),
        ("API token created", &new_token),
    ] {
        assert!(!text.contains(secret), "the {what} {secret} is in the log");
    }
    // Nor in the audit trail.
    let mut c = app.services().db.conn().await.unwrap();
    let details: Vec<String> = c
        .query("SELECT details FROM audit_events", vec![])
        .await
        .unwrap();
    let audit = details.join("\n");
    for secret in [&password, &new_password, &cookie, &csrf, &new_token] {
        assert!(
            !audit.contains(secret.as_str()),
            "{secret} in the audit trail"
        );
    }
    drop(c);

    // What is logged is there, with secrets marked as filtered.
    let l = line_of(&all, &create);
    assert_eq!(l["method"], "POST");
    assert_eq!(l["path"], "/api/v3/users");
    assert_eq!(l["status"], 201);
    assert_eq!(l["user_id"], app.admin_id);
    assert_eq!(l["params"]["lastName"], "Visible");
    assert_eq!(l["params"]["password"], FILTERED);
    assert!(l["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(l["time"].as_str().unwrap().ends_with('Z'));
    let l = line_of(&all, &sign_in);
    assert_eq!(l["params"]["login"], "carol");
    assert_eq!(l["params"]["password"], FILTERED);
    assert_eq!(l["user_id"], carol, "a sign-in is the person's own request");
    let l = line_of(&all, &token_line);
    assert_eq!(l["user_id"], carol);
    assert_eq!(l["params"]["name"], "visible-token-name");
    assert_eq!(l["params"]["options"]["clientSecret"], FILTERED);
    assert_eq!(l["params"]["options"]["note"], "visible-note");
    assert_eq!(l["params"]["social_security_number"], FILTERED);
    let l = line_of(&all, &query_line);
    assert_eq!(l["query"]["token"], FILTERED);
    assert_eq!(l["query"]["api_key"], FILTERED);
    assert_eq!(l["query"]["visible"], "yes");
    assert_eq!(l["path"], "/api/v3/users/me");
    let l = line_of(&all, &form_line);
    assert_eq!(l["params"]["password"], FILTERED);
    assert_eq!(l["params"]["otp_code"], FILTERED);
    assert_eq!(l["params"]["remember"], "visible-form");
    assert_eq!(l["status"], 415);
    assert!(l.get("user_id").is_none(), "an anonymous request: {l}");
    // No header is ever logged.
    assert!(!text.to_ascii_lowercase().contains("authorization"));
    assert!(!text.contains("x-csrf-token"));
}
both_backends!(secrets_never_reach_the_log);

/// By default (pseudonyms on), no line carries a user id; each person has
/// one pseudonym per key; the export finds the lines under the current key;
/// after the key is rotated the old lines cannot be linked any more.
async fn pseudonymised_lines_carry_no_user_id(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alice_token) = app.user("alice").await;
    for _ in 0..3 {
        let res = app
            .anon(Method::GET, "/api/v3/projects")
            .token(&alice_token)
            .send()
            .await;
        assert_eq!(res.status, 200);
    }
    let res = app.admin(Method::GET, "/api/v3/projects").send().await;
    assert_eq!(res.status, 200);
    let admin_line = res;
    let all = request_log_lines(&app).await;
    let dir = log_dir(&app);
    let text: String = log_files(&dir)
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(!text.contains("\"user_id\""), "{text}");
    for l in &all {
        assert!(l.get("user_id").is_none(), "{l}");
    }
    let admin_pseudonym = line_of(&all, &admin_line)["user_pseudonym"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(admin_pseudonym.len(), 32);
    assert_ne!(admin_pseudonym, app.admin_id.to_string());
    assert!(dir.join(KEY_FILE).exists());

    let log = app.services().request_log();
    let own = log.lines_for_user(alice).await.unwrap();
    assert_eq!(own.len(), 3, "{own:?}");
    let alice_pseudonym = own[0]["user_pseudonym"].as_str().unwrap().to_string();
    assert_ne!(alice_pseudonym, admin_pseudonym);
    assert!(own
        .iter()
        .all(|l| l["user_pseudonym"] == alice_pseudonym.as_str()));
    assert!(own.iter().all(|l| l["path"] == "/api/v3/projects"));

    // The key is due: the job destroys it, and a new one begins.
    let key_path = dir.join(KEY_FILE);
    let mut key: Value =
        serde_json::from_str(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let old_key = key["key"].as_str().unwrap().to_string();
    key["created_at"] = json!(Timestamp::now().minus_seconds(8 * 86_400).0);
    std::fs::write(&key_path, key.to_string()).unwrap();
    let report = log.enforce_retention().await.unwrap();
    assert!(report.key_rotated, "{report:?}");
    assert!(!std::fs::read_to_string(&key_path)
        .unwrap()
        .contains(&old_key));
    assert!(log.lines_for_user(alice).await.unwrap().is_empty());
    // The writer notices the new key file at its next batch.
    let res = app
        .anon(Method::GET, "/api/v3/projects")
        .token(&alice_token)
        .send()
        .await;
    assert_eq!(res.status, 200);
    let after = log.lines_for_user(alice).await.unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["request_id"], res.header("x-request-id").unwrap());
    assert!(after[0].get("user_id").is_none());
    assert_ne!(after[0]["user_pseudonym"], alice_pseudonym.as_str());

    // Erasure takes the current pseudonym out too.
    log.unlink_user(alice).await.unwrap();
    assert!(log.lines_for_user(alice).await.unwrap().is_empty());
    assert!(log.mentions_user(alice).await.unwrap().is_empty());
}
both_backends!(pseudonymised_lines_carry_no_user_id);

/// The export's lines, the residue scan and erasure, on plain user ids.
async fn lines_for_user_and_unlink_user(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.request_log.pseudonymize = false).await;
    let (alice, alice_token) = app.user("alice").await;
    let (_, bob_token) = app.user("bob").await;
    let mut own = Vec::new();
    for path in ["/api/v3/users/me", "/api/v3/projects", "/api/v3/principals"] {
        let res = app.anon(Method::GET, path).token(&alice_token).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        own.push(res.header("x-request-id").unwrap().to_string());
    }
    // Others' requests naming her: in the path and in a link.
    let res = app
        .admin(Method::GET, &format!("/api/v3/users/{alice}"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .admin(Method::POST, "/api/v3/groups")
        .json(&json!({
            "name": "Readers",
            "_links": {"members": [{"href": format!("/api/v3/users/{alice}")}]},
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .anon(Method::GET, "/api/v3/projects")
        .token(&bob_token)
        .send()
        .await;
    assert_eq!(res.status, 200);

    let log = app.services().request_log();
    let lines_of_alice = log.lines_for_user(alice).await.unwrap();
    let ids: Vec<&str> = lines_of_alice
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, own, "her own requests, oldest first");
    assert!(lines_of_alice.iter().all(|l| l["user_id"] == alice));
    let mentions = log.mentions_user(alice).await.unwrap();
    // Her three requests, the administrator's view of her and the group
    // change naming her; her creation by the administrator returned her id
    // but named her nowhere in the request.
    assert_eq!(mentions.len(), 5, "{mentions:?}");
    assert!(mentions.iter().all(|(f, n)| f.exists() && *n >= 1));

    // The active file is rewritten; its time stays (for the age limit).
    let active = log_dir(&app).join(ACTIVE_FILE);
    let old = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&active)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let changed = log.unlink_user(alice).await.unwrap();
    assert_eq!(changed, 5);
    let modified = std::fs::metadata(&active).unwrap().modified().unwrap();
    assert_eq!(
        modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        old.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    assert!(log.mentions_user(alice).await.unwrap().is_empty());
    assert!(log.lines_for_user(alice).await.unwrap().is_empty());
    let text: String = log_files(&log_dir(&app))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(!text.contains(&format!("\"user_id\":{alice},")));
    assert!(!text.contains(&format!("/users/{alice}\"")));
    assert!(text.contains("/api/v3/users/erased"));
    // The lines stay (operations keep their log), without her.
    let all = lines(&log_dir(&app));
    for id in &own {
        let l = all.iter().find(|l| l["request_id"] == id.as_str()).unwrap();
        assert!(l.get("user_id").is_none(), "{l}");
    }

    // The writer goes on in the replaced file; a line of hers still in
    // flight (her erasure request's own, say) is written without her.
    let res = app
        .anon(Method::GET, "/api/v3/projects")
        .token(&bob_token)
        .send()
        .await;
    let bob_after = res.header("x-request-id").unwrap().to_string();
    let res = app
        .anon(Method::GET, "/api/v3/projects")
        .token(&alice_token)
        .send()
        .await;
    let alice_after = res.header("x-request-id").unwrap().to_string();
    app.services().request_log().flush().await;
    let all = lines(&log_dir(&app));
    assert!(all
        .iter()
        .any(|l| l["request_id"] == bob_after.as_str() && l["user_id"].is_i64()));
    let l = all
        .iter()
        .find(|l| l["request_id"] == alice_after.as_str())
        .unwrap();
    assert!(l.get("user_id").is_none(), "{l}");

    // Names typed into parameters: redacted on request.
    let terms = vec!["Readers".to_string()];
    assert_eq!(log.mentions_terms(&terms).await.unwrap().len(), 1);
    assert_eq!(log.redact_terms(&terms).await.unwrap(), 1);
    assert!(log.mentions_terms(&terms).await.unwrap().is_empty());
    assert!(!all_bytes(&log_dir(&app)).contains("Readers"));
    // A term found inside the erasure marker ("erased") is redacted too, and
    // the redaction marker holds no letters to be found again.
    let terms = vec!["ase".to_string()];
    assert!(log.redact_terms(&terms).await.unwrap() >= 1);
    assert!(log.mentions_terms(&terms).await.unwrap().is_empty());
}
both_backends!(lines_for_user_and_unlink_user);

fn entry(i: usize, pad: &str) -> Entry {
    Entry {
        time: Timestamp::now(),
        request_id: format!("req-{i:05}"),
        user_id: Some(7),
        method: Cow::Borrowed("POST"),
        path: "/api/v3/work_packages".into(),
        query: Some("pageSize=5".into()),
        body: Some((
            BodyKind::Json,
            serde_json::to_vec(&json!({"subject": pad, "password": "hunter2"}))
                .unwrap()
                .into(),
        )),
        status: 201,
        duration_micros: 1234,
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(random("steward-request-log"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn size_of(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

/// Rotation by size and retention by total size, oldest first, with real
/// files; no line is split across files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_retention_by_size() {
    let dir = scratch_dir();
    let log = RequestLog::new(RequestLogConfig {
        max_file_bytes: 4096,
        max_total_bytes: 16 * 1024,
        ..RequestLogConfig::new(dir.clone())
    });
    let pad = "x".repeat(200);
    for i in 0..400 {
        log.record(entry(i, &pad));
        if i % 50 == 49 {
            // Batches of different sizes, like real traffic.
            log.flush().await;
        }
    }
    log.flush().await;
    assert_eq!(log.dropped(), 0);
    let files = log_files(&dir);
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        let size = std::fs::metadata(f).unwrap().len();
        assert!(size <= 4096, "{f:?} has {size} bytes");
    }
    let total = size_of(&files);
    assert!(total <= 16 * 1024, "{total} bytes in all");
    assert!(total > 16 * 1024 - 2 * 4096, "only {total} bytes kept");
    // What is left are the newest lines, in order, without gaps.
    let kept: Vec<String> = lines(&dir)
        .iter()
        .map(|l| l["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept.last().unwrap(), "req-00399");
    let first: usize = kept[0][4..].parse().unwrap();
    assert!(first > 0, "the oldest lines are gone");
    let expected: Vec<String> = (first..400).map(|i| format!("req-{i:05}")).collect();
    assert_eq!(kept, expected);
    assert!(!all_bytes(&dir).contains("hunter2"));
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Retention by age: files last written before the limit go, the active
/// one too; newer ones stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_by_age() {
    let dir = scratch_dir();
    let day = Duration::from_secs(86_400);
    let now = SystemTime::now();
    let write = |name: &str, age: Duration| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            "{\"time\":\"2020-01-01T00:00:00.000Z\",\"request_id\":\"old\"}\n",
        )
        .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(now - age)
            .unwrap();
        p
    };
    let ancient = write("requests-20200101T000000.000000Z.jsonl", day * 40);
    let old = write("requests-20200201T000000.000000Z.jsonl", day * 31);
    let recent = write("requests-20200301T000000.000000Z.jsonl", day * 10);
    let active = write(ACTIVE_FILE, day * 30 + Duration::from_secs(60));
    let unrelated = write("notes.txt", day * 400);
    let log = RequestLog::new(RequestLogConfig {
        max_age_days: 30,
        ..RequestLogConfig::new(dir.clone())
    });
    let report = log.enforce_retention().await.unwrap();
    assert_eq!(report.files_removed, 3, "{report:?}");
    assert!(!ancient.exists() && !old.exists() && !active.exists());
    assert!(recent.exists());
    assert!(unrelated.exists(), "only the log's files are touched");
    // The writer starts a new active file after retention took the old one.
    log.record(entry(1, "after"));
    log.flush().await;
    assert!(dir.join(ACTIVE_FILE).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A full queue drops lines and counts them; `record` never waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts() {
    let dir = scratch_dir();
    let log = RequestLog::new(RequestLogConfig {
        queue_capacity: 16,
        ..RequestLogConfig::new(dir.clone())
    });
    let started = std::time::Instant::now();
    let n = 20_000;
    for i in 0..n {
        log.record(entry(i, "p"));
    }
    let spent = started.elapsed();
    log.flush().await;
    let written = lines(&dir).len() as u64;
    assert_eq!(written + log.dropped(), n as u64);
    assert!(spent < Duration::from_secs(5), "record waited: {spent:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The retention job is registered and applies both limits to the server's
/// own log directory.
async fn retention_job_on_the_server(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.request_log.max_file_mb = 1;
        c.request_log.max_total_mb = 1;
        c.request_log.max_age_days = 30;
    })
    .await;
    let registry = steward_services::jobs::Registry::builtin();
    assert!(registry
        .schedules()
        .iter()
        .any(|s| s.kind == steward_services::request_log::RETENTION_JOB));
    let res = app.admin(Method::GET, "/api/v3/users/me").send().await;
    assert_eq!(res.status, 200);
    app.services().request_log().flush().await;
    let dir = log_dir(&app);
    let now = SystemTime::now();
    let chunk = "y".repeat(400 * 1024);
    let mut made = Vec::new();
    for (i, age_days) in [(1, 45u64), (2, 3), (3, 2), (4, 1)] {
        let p = dir.join(format!("requests-2024010{i}T000000.000000Z.jsonl"));
        std::fs::write(&p, format!("{{\"note\":\"{chunk}\"}}\n")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(now - Duration::from_secs(age_days * 86_400))
            .unwrap();
        made.push(p);
    }
    steward_services::request_log::retention_job(app.services().clone(), json!({}))
        .await
        .unwrap();
    // 45 days old: gone by age. Of the three newer 400 KB files, the
    // oldest goes so that all fit in 1 MB.
    assert!(!made[0].exists());
    assert!(!made[1].exists());
    assert!(made[2].exists() && made[3].exists());
    assert!(size_of(&log_files(&dir)) <= 1024 * 1024);
    assert!(dir.join(ACTIVE_FILE).exists());
}
both_backends!(retention_job_on_the_server);

/// With the log off nothing is written, bodies are not read, and the
/// files of before still answer export and erasure.
async fn switched_off(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.request_log.enabled = false).await;
    let res = app.admin(Method::GET, "/api/v3/users/me").send().await;
    assert_eq!(res.status, 200);
    app.services().request_log().flush().await;
    assert!(log_files(&log_dir(&app)).is_empty());
    let dir = log_dir(&app);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("requests-20240101T000000.000000Z.jsonl"),
        format!(
            "{{\"time\":\"2024-01-01T00:00:00.000Z\",\"request_id\":\"r1\",\"user_id\":{},\"method\":\"GET\",\"path\":\"/api/v3/users/me\",\"status\":200,\"duration_ms\":1.0}}\n",
            app.admin_id
        ),
    )
    .unwrap();
    let log = app.services().request_log();
    assert_eq!(log.lines_for_user(app.admin_id).await.unwrap().len(), 1);
    assert_eq!(log.unlink_user(app.admin_id).await.unwrap(), 1);
    assert!(log.mentions_user(app.admin_id).await.unwrap().is_empty());
}
both_backends!(switched_off);

/// A body too large for the limit is refused as the API always did, and
/// logged without its content.
async fn oversized_bodies_are_refused_and_logged(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.server.max_body_bytes = 1024).await;
    let res = app
        .admin(Method::POST, "/api/v3/my/api_tokens")
        .json(&json!({"name": "x".repeat(5000)}))
        .send()
        .await;
    res.assert_error(413, "InvalidRequestBody");
    let all = request_log_lines(&app).await;
    let l = line_of(&all, &res);
    assert_eq!(l["status"], 413);
    assert!(l.get("params").is_none(), "{l}");
}
both_backends!(oversized_bodies_are_refused_and_logged);
