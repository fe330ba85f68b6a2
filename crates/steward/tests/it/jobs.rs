//! The background job queue on both engines: enqueue and run, retries with
//! backoff ending in a visible failure (API and CLI) that an administrator
//! can retry, leases that run out, recurring jobs enqueued once by several
//! workers, the retention jobs, two workers sharing 200 jobs, and a real
//! `steward worker` killed with SIGKILL in the middle of a job.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::job::JobStatus;
use steward_domain::Timestamp;
use steward_services::jobs::{JobOutcome, JobSettings, Registry, Worker, WorkerOptions};
use steward_services::{Policy, Services};
use steward_storage::jobs::{self, Claim, Job};
use steward_storage::sessions::{self, NewSession};
use steward_storage::{audit_events, login_attempts, params, Db, DbOptions};

use crate::harness::{Backend, TestApp, TestDb};
use crate::work_packages_api::enc;

/// Polls `check` until it gives a value or `limit` passes.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn job(db: &Db, id: i64) -> Job {
    let mut conn = db.conn().await.unwrap();
    jobs::get(&mut conn, id)
        .await
        .unwrap()
        .expect("the job exists")
}

async fn count(db: &Db, sql: &str, params: Vec<steward_storage::Param>) -> i64 {
    let mut conn = db.conn().await.unwrap();
    conn.query_one::<i64>(sql, params).await.unwrap()
}

/// Queue settings for tests: short waits.
fn quick(max_attempts: i64) -> JobSettings {
    JobSettings {
        max_attempts,
        backoff_base: Duration::from_millis(200),
        visibility_timeout: Duration::from_secs(5),
        job_timeout: Duration::from_secs(30),
        ..JobSettings::default()
    }
}

fn options(concurrency: usize) -> WorkerOptions {
    WorkerOptions {
        concurrency,
        poll_interval: Duration::from_millis(20),
    }
}

/// Services on a pool of their own, as another process would have.
async fn separate_services(url: &str, settings: JobSettings) -> Services {
    let db = Db::connect(url, &DbOptions::default()).await.unwrap();
    Services::new(db, Policy::default()).with_job_settings(settings)
}

/// The `steward` binary against the test database, with a clean environment.
fn steward(db: &TestDb, extra: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = db.steward_command(&db.dir.join("data"));
    cmd.envs(extra.iter().copied()).args(args);
    cmd
}

fn run(db: &TestDb, extra: &[(&str, &str)], args: &[&str]) -> Output {
    tokio::task::block_in_place(|| steward(db, extra, args).output())
        .expect("run the steward binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---------------------------------------------------------------- enqueue and run

async fn jobs_enqueued_are_run(backend: Backend) {
    // The server's own worker (jobs.in_process_worker, on by default)
    // runs a job enqueued in its process at once.
    let app = TestApp::start(backend).await;
    let s = app.services();
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 0}), None)
        .await
        .unwrap();
    let done = eventually(
        Duration::from_secs(10),
        "the in-process worker runs it",
        || async { Some(job(&s.db, id).await).filter(|j| j.status == JobStatus::Done) },
    )
    .await;
    assert_eq!(done.attempts, 1);
    assert!(done.finished_at.is_some() && done.locked_until.is_none());
    assert!(done.locked_by.is_some(), "the worker that ran it is named");
    assert_eq!(done.last_error, None);

    // A job enqueued in a transaction exists only if it commits.
    let mut tx = s.db.begin().await.unwrap();
    let gone = s
        .enqueue_job(&mut tx, "diagnostics.sleep", &json!({}), None)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut conn = s.db.conn().await.unwrap();
    assert!(jobs::get(&mut conn, gone).await.unwrap().is_none());
    drop(conn);

    // Kinds are checked.
    let e = s
        .enqueue_job_now("Not A Kind", &json!({}), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("lower-case"), "{e}");

    // A job due later waits for its time.
    let later = s
        .enqueue_job_now(
            "diagnostics.sleep",
            &json!({"seconds": 0}),
            Some(Timestamp::now().plus_seconds(3600)),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(job(&s.db, later).await.status, JobStatus::Queued);
    app.server.shutdown().await.unwrap();
}
both_backends!(jobs_enqueued_are_run);

/// With jobs.in_process_worker off, `serve` runs no jobs.
async fn in_process_worker_can_be_turned_off(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let s = app.services();
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 0}), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(job(&s.db, id).await.status, JobStatus::Queued);
    // A worker started separately runs it.
    let w = Worker::new(s.clone(), Registry::builtin(), options(1)).unwrap();
    assert_eq!(
        w.run_until_idle().await.unwrap(),
        vec![JobOutcome::Done { id }]
    );
}
both_backends!(in_process_worker_can_be_turned_off);

// ---------------------------------------------------------------- failures

/// A registry with `test.flaky`, which fails while `broken` is set.
fn flaky_registry(broken: Arc<AtomicBool>, runs: Arc<AtomicUsize>) -> Registry {
    let mut r = Registry::new();
    r.handler("test.flaky", move |_s: Services, _p: Value| {
        let broken = broken.clone();
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            if broken.load(Ordering::SeqCst) {
                Err("the upstream service said no".to_string())
            } else {
                Ok(())
            }
        }
    });
    r
}

async fn failing_jobs_back_off_then_fail_visibly_and_can_be_retried(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let s = app.services().clone().with_job_settings(quick(3));
    let broken = Arc::new(AtomicBool::new(true));
    let runs = Arc::new(AtomicUsize::new(0));
    let w = Worker::new(
        s.clone(),
        flaky_registry(broken.clone(), runs.clone()),
        options(1),
    )
    .unwrap();
    let id = s
        .enqueue_job_now("test.flaky", &json!({"thing": 7}), None)
        .await
        .unwrap();

    // Attempt 1 fails: queued again, 200 ms later.
    let before = Timestamp::now();
    let Some(JobOutcome::Retrying { at, error, .. }) = w.run_one().await.unwrap() else {
        panic!("the first attempt is retried");
    };
    assert!(at.0 >= before.0 + 200_000, "waits the backoff base");
    assert!(error.contains("upstream service said no"), "{error}");
    let j = job(&s.db, id).await;
    assert_eq!((j.status, j.attempts, j.run_at), (JobStatus::Queued, 1, at));
    assert_eq!(
        j.last_error.as_deref(),
        Some("the upstream service said no")
    );
    // Not due yet: nothing to run.
    assert_eq!(w.run_one().await.unwrap(), None);

    // Attempt 2, when due, fails and waits twice as long.
    let (at2, failed_at) = eventually(Duration::from_secs(10), "attempt 2", || async {
        let t = Timestamp::now();
        match w.run_one().await.unwrap() {
            Some(JobOutcome::Retrying { at, .. }) => Some((at, t)),
            Some(other) => panic!("{other:?}"),
            None => None,
        }
    })
    .await;
    assert!(at2.0 - failed_at.0 >= 400_000, "the backoff doubles");

    // Attempt 3 is the last: the job fails for good.
    let outcome = eventually(Duration::from_secs(10), "attempt 3", || async {
        w.run_one().await.unwrap()
    })
    .await;
    assert!(
        matches!(outcome, JobOutcome::Failed { id: i, .. } if i == id),
        "{outcome:?}"
    );
    let j = job(&s.db, id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 3));
    assert!(j.finished_at.is_some() && j.locked_until.is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    // No endless loop: nothing more runs, even later.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(w.run_one().await.unwrap(), None);
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // Visible in the API, to administrators only.
    let filters = r#"[{"status":{"operator":"=","values":["failed"]}}]"#;
    let path = format!("/api/v3/jobs?filters={}", enc(filters));
    let res = app.admin(Method::GET, &path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["total"], 1, "{body}");
    let el = &body["_embedded"]["elements"][0];
    assert_eq!(el["id"], id);
    assert_eq!(el["status"], "failed");
    assert_eq!(el["kind"], "test.flaky");
    assert_eq!(el["attempts"], 3);
    assert_eq!(el["maxAttempts"], 3);
    assert_eq!(el["payload"], json!({"thing": 7}));
    assert_eq!(el["lastError"], "the upstream service said no");
    assert_eq!(
        el["_links"]["retry"]["href"],
        format!("/api/v3/jobs/{id}/retry")
    );
    let res = app
        .admin(Method::GET, &format!("/api/v3/jobs/{id}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "failed");
    let (_, plain) = app.user("plain").await;
    let res = app
        .anon(Method::GET, "/api/v3/jobs")
        .token(&plain)
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    let res = app
        .anon(Method::POST, &format!("/api/v3/jobs/{id}/retry"))
        .token(&plain)
        .send()
        .await;
    res.assert_error(403, "MissingPermission");
    // Bad filters are refused with a message naming them.
    let bad = enc(r#"[{"status":{"operator":"=","values":["broken"]}}]"#);
    let res = app
        .admin(Method::GET, &format!("/api/v3/jobs?filters={bad}"))
        .send()
        .await;
    let msg = res.assert_error(400, "InvalidQuery");
    assert!(msg.contains("\"broken\""), "{msg}");
    let bad = enc(r#"[{"color":{"operator":"=","values":[]}}]"#);
    let res = app
        .admin(Method::GET, &format!("/api/v3/jobs?filters={bad}"))
        .send()
        .await;
    let msg = res.assert_error(400, "InvalidQuery");
    assert!(
        msg.contains("color") && msg.contains("status, kind"),
        "{msg}"
    );
    let bad = enc(r#"[{"kind":{"operator":"~","values":["x"]}}]"#);
    let res = app
        .admin(Method::GET, &format!("/api/v3/jobs?filters={bad}"))
        .send()
        .await;
    res.assert_error(400, "InvalidQuery");
    let bad = enc(r#"[["colour","asc"]]"#);
    let res = app
        .admin(Method::GET, &format!("/api/v3/jobs?sortBy={bad}"))
        .send()
        .await;
    let msg = res.assert_error(400, "InvalidQuery");
    assert!(msg.contains("colour") && msg.contains("runAt"), "{msg}");
    let res = app
        .admin(Method::GET, "/api/v3/jobs/not-an-id")
        .send()
        .await;
    res.assert_error(404, "NotFound");
    let res = app
        .admin(Method::POST, "/api/v3/jobs/not-an-id/retry")
        .send()
        .await;
    res.assert_error(404, "NotFound");

    // Visible in the CLI.
    let out = run(&app.db, &[], &["jobs", "list", "--status", "failed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains(&format!("{id} ")) && listed.contains("test.flaky"),
        "{listed}"
    );
    assert!(listed.contains("the upstream service said no"), "{listed}");
    let out = run(&app.db, &[], &["jobs", "show", &id.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("attempts:     3 of 3"),
        "{}",
        stdout(&out)
    );
    let out = run(&app.db, &[], &["jobs", "list", "--status", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--status \"broken\" is not one of queued, running, done, failed"),
        "{}",
        stderr(&out)
    );
    let out = run(&app.db, &[], &["jobs", "list", "--limit", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--limit 0 must be between 1 and 1000"),
        "{}",
        stderr(&out)
    );
    let out = run(&app.db, &[], &["jobs", "retry", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("there is no job with id 999999"),
        "{}",
        stderr(&out)
    );

    // Retried through the API, it runs again with a fresh set of attempts.
    let res = app
        .admin(Method::POST, &format!("/api/v3/jobs/{id}/retry"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(
        (body["status"].clone(), body["attempts"].clone()),
        (json!("queued"), json!(0))
    );
    assert!(body["_links"].get("retry").is_none());
    // Only failed jobs can be retried.
    let res = app
        .admin(Method::POST, &format!("/api/v3/jobs/{id}/retry"))
        .send()
        .await;
    let msg = res.assert_error(409, "Conflict");
    assert!(msg.contains("is queued, not failed"), "{msg}");
    let res = app
        .admin(Method::POST, "/api/v3/jobs/999999/retry")
        .send()
        .await;
    res.assert_error(404, "NotFound");

    broken.store(false, Ordering::SeqCst);
    assert_eq!(
        w.run_until_idle().await.unwrap(),
        vec![JobOutcome::Done { id }]
    );
    let j = job(&s.db, id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Done, 1));
    let res = app
        .admin(Method::POST, &format!("/api/v3/jobs/{id}/retry"))
        .send()
        .await;
    let msg = res.assert_error(409, "Conflict");
    assert!(msg.contains("is done, not failed"), "{msg}");
    // The CLI retries failed jobs too.
    let out = run(&app.db, &[], &["jobs", "retry", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is done, not failed"),
        "{}",
        stderr(&out)
    );
}
both_backends!(failing_jobs_back_off_then_fail_visibly_and_can_be_retried);

/// Panics, timeouts, dead workers and stolen leases each end an attempt;
/// none of them leaves a job running forever.
async fn poisoned_jobs_end_failed(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let mut settings = quick(2);
    settings.job_timeout = Duration::from_millis(300);
    settings.visibility_timeout = Duration::from_millis(600);
    settings.backoff_base = Duration::from_millis(1);
    let s = app.services().clone().with_job_settings(settings);
    let mut r = Registry::builtin();
    r.handler("test.panics", |_s: Services, p: Value| async move {
        let empty: Vec<i64> = Vec::new();
        let i = p["i"].as_u64().unwrap_or(3) as usize;
        std::hint::black_box(empty[i]);
        Ok::<(), String>(())
    });
    let w = Worker::new(s.clone(), r, options(1)).unwrap();

    // A panic is a failed attempt, not a dead worker.
    let id = s
        .enqueue_job_now("test.panics", &json!({}), None)
        .await
        .unwrap();
    let outcomes = eventually(Duration::from_secs(10), "both attempts", || async {
        let _ = w.run_one().await.unwrap();
        Some(job(&s.db, id).await).filter(|j| j.status == JobStatus::Failed)
    })
    .await;
    assert_eq!(outcomes.attempts, 2);
    let err = outcomes.last_error.unwrap();
    assert!(
        err.contains("the handler panicked: index out of bounds"),
        "{err}"
    );

    // An attempt that outlives the job timeout is stopped.
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 60}), None)
        .await
        .unwrap();
    let started = Instant::now();
    let outcome = w.run_one().await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let JobOutcome::Retrying { error, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(error.contains("job timeout"), "{error}");
    let mut conn = s.db.conn().await.unwrap();
    conn.execute("DELETE FROM jobs WHERE id = $1", params![id])
        .await
        .unwrap();
    drop(conn);

    // A worker that died with the job: once its lease has run out another
    // worker takes the job (a new attempt)...
    let claim_dead = |id: i64| {
        let db = s.db.clone();
        async move {
            let now = Timestamp::now();
            let j = jobs::claim(
                &db,
                &Claim {
                    worker: "dead-worker",
                    kinds: &["diagnostics.sleep"],
                    now,
                    lease_until: Timestamp(now.0 - 1),
                },
            )
            .await
            .unwrap()
            .expect("claimed");
            assert_eq!(j.id, id);
            j
        }
    };
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 0}), None)
        .await
        .unwrap();
    assert_eq!(claim_dead(id).await.attempts, 1);
    assert_eq!(w.run_one().await.unwrap(), Some(JobOutcome::Done { id }));
    let j = job(&s.db, id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Done, 2));
    assert_eq!(j.locked_by.as_deref(), Some(w.id()));

    // ...but when that was the last allowed attempt, the job ends failed.
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 0}), None)
        .await
        .unwrap();
    claim_dead(id).await;
    claim_dead(id).await;
    assert_eq!(w.run_one().await.unwrap(), None);
    let j = job(&s.db, id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 2));
    assert!(
        j.last_error.unwrap().contains("stopped before it finished"),
        "the reason is given"
    );

    // A worker that finds its lease taken over abandons the attempt.
    let id = s
        .enqueue_job_now("diagnostics.sleep", &json!({"seconds": 0.25}), None)
        .await
        .unwrap();
    let w2 = w.clone();
    let running = tokio::spawn(async move { w2.run_one().await });
    eventually(Duration::from_secs(5), "the job runs", || async {
        let j = job(&s.db, id).await;
        (j.status == JobStatus::Running).then_some(())
    })
    .await;
    let mut conn = s.db.conn().await.unwrap();
    conn.execute(
        "UPDATE jobs SET locked_by = 'thief' WHERE id = $1",
        params![id],
    )
    .await
    .unwrap();
    drop(conn);
    let outcome = running.await.unwrap().unwrap();
    assert_eq!(outcome, Some(JobOutcome::Lost { id }));
    let j = job(&s.db, id).await;
    assert_eq!(
        (j.status, j.locked_by.as_deref()),
        (JobStatus::Running, Some("thief")),
        "the outcome is not written over the new owner's"
    );
}
both_backends!(poisoned_jobs_end_failed);

// ---------------------------------------------------------------- recurring jobs

async fn recurring_jobs_are_enqueued_once(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let first = separate_services(&tdb.url, quick(3)).await;
    steward_storage::migrate::run(&first.db).await.unwrap();
    let second = separate_services(&tdb.url, quick(3)).await;
    let registry = || {
        let mut r = Registry::new();
        r.handler("test.tick", |_s: Services, _p: Value| async { Ok(()) });
        r.schedule("tick", "daily 03:30", "test.tick");
        r
    };
    let w1 = Worker::new(first.clone(), registry(), options(1)).unwrap();
    let w2 = Worker::new(second.clone(), registry(), options(1)).unwrap();
    w1.register_schedules().await.unwrap();
    w2.register_schedules().await.unwrap();
    let spec = steward_domain::job::ScheduleSpec::parse("daily 03:30").unwrap();
    let rows = first.job_schedule_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].next_run_at, spec.next_after(Timestamp::now()));
    assert_eq!(rows[0].last_run_at, None);
    // Not due: nothing is enqueued.
    assert_eq!(w1.enqueue_due_schedules().await.unwrap(), 0);

    let ticks = |db: Db| async move {
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'test.tick'",
            params![],
        )
        .await
    };
    let make_due = |db: Db| async move {
        let mut conn = db.conn().await.unwrap();
        assert!(
            jobs::set_schedule_next(&mut conn, "tick", Timestamp::now().minus_seconds(60))
                .await
                .unwrap()
        );
    };
    make_due(first.db.clone()).await;
    // Both workers see it due, several times over, at the same time.
    for _ in 0..5 {
        let (a, b) = tokio::join!(w1.enqueue_due_schedules(), w2.enqueue_due_schedules());
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(ticks(first.db.clone()).await, 1, "one run per due time");
    let rows = first.job_schedule_rows().await.unwrap();
    assert_eq!(rows[0].next_run_at, spec.next_after(Timestamp::now()));
    assert!(rows[0].last_run_at.is_some());

    // Due again while that run still waits: skipped, not piled up.
    make_due(first.db.clone()).await;
    assert_eq!(w2.enqueue_due_schedules().await.unwrap(), 0);
    assert_eq!(ticks(first.db.clone()).await, 1);
    // Once it ran, the next due time enqueues the next run.
    assert_eq!(w1.run_until_idle().await.unwrap().len(), 1);
    make_due(first.db.clone()).await;
    assert_eq!(w2.enqueue_due_schedules().await.unwrap(), 1);
    assert_eq!(ticks(first.db.clone()).await, 2);

    // Workers started later keep the schedule's time; a spec changed to a
    // shorter period pulls it forward.
    let before = first.job_schedule_rows().await.unwrap()[0].next_run_at;
    w1.register_schedules().await.unwrap();
    assert_eq!(
        first.job_schedule_rows().await.unwrap()[0].next_run_at,
        before
    );
    let mut r = registry();
    r.schedule("tick", "every 1s", "test.tick");
    let w3 = Worker::new(first.clone(), r, options(1)).unwrap();
    w3.register_schedules().await.unwrap();
    let now = first.job_schedule_rows().await.unwrap()[0].next_run_at;
    assert!(now <= Timestamp::now().plus_seconds(1), "pulled forward");

    // Started, a worker enqueues and runs the recurring job on its own.
    let handle = w3.start();
    eventually(Duration::from_secs(10), "a recurring run", || {
        let db = first.db.clone();
        async move {
            let done = count(
                &db,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'test.tick' AND status = 'done'",
                params![],
            )
            .await;
            (done >= 3).then_some(())
        }
    })
    .await;
    handle.stop().await;
    first.db.close().await;
    second.db.close().await;
}
both_backends!(recurring_jobs_are_enqueued_once);

// ---------------------------------------------------------------- retention

async fn retention_jobs_delete_exactly_what_is_expired(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.jobs.in_process_worker = false;
        c.session.idle_timeout_minutes = 120;
        c.session.absolute_lifetime_hours = 24 * 7;
        c.security.login_attempt_retention_days = 90;
        c.audit.security_retention_days = 365;
        c.audit.access_retention_days = 730;
    })
    .await;
    let s = app.services().clone();
    let (user, _) = app.user("kept").await;
    let now = Timestamp::now();
    let days = |n: i64| now.minus_seconds(n * 86_400);
    let hours = |n: i64| now.minus_seconds(n * 3600);
    let mut conn = s.db.conn().await.unwrap();

    // Sessions: (created, last seen, expected to stay).
    let mut session_ids = Vec::new();
    for (i, (created, seen, stays)) in [
        (now, now, true),
        (hours(3), hours(3), false),  // idle for 3 h > 2 h
        (days(8), hours(1), false),   // signed in 8 days ago > 7 days
        (days(6), hours(1), true),    // within both limits
        (hours(119), hours(1), true), // idle 1 h
    ]
    .into_iter()
    .enumerate()
    {
        let hash = format!("retention-test-{i}");
        let session = sessions::insert(
            &mut conn,
            &NewSession {
                user_id: user,
                token_hash: &hash,
                csrf_token: "csrf",
                user_agent: None,
                ip_address: None,
            },
            created,
        )
        .await
        .unwrap();
        sessions::touch(&mut conn, session.id, seen).await.unwrap();
        session_ids.push((session.id, stays));
    }

    // Sign-in attempts.
    let mut attempt_times = Vec::new();
    for (age, stays) in [(days(91), false), (days(89), true), (now, true)] {
        login_attempts::insert(&mut conn, Some(user), "kept", false, "test", None, age)
            .await
            .unwrap();
        attempt_times.push((age, stays));
    }

    // Audit entries.
    let mut audit_ids = Vec::new();
    for (category, age, stays) in [
        ("security", days(366), false),
        ("security", days(364), true),
        ("access", days(366), true),
        ("access", days(731), false),
        ("access", now, true),
    ] {
        let id = audit_events::insert(
            &mut conn,
            &audit_events::NewAuditEvent {
                category,
                event: "test",
                actor_id: Some(user),
                target_user_id: Some(user),
                request_id: None,
                details: "{}",
            },
            age,
        )
        .await
        .unwrap();
        audit_ids.push((id, stays));
    }

    // Finished jobs.
    let mut job_ids = Vec::new();
    for (status, finished, stays) in [
        ("done", Some(days(8)), false),
        ("done", Some(days(6)), true),
        ("failed", Some(days(8)), true),
        ("failed", Some(days(91)), false),
        ("queued", None, true),
    ] {
        let id = s
            .enqueue_job(&mut conn, "test.old", &json!({}), Some(days(100)))
            .await
            .unwrap();
        conn.execute(
            "UPDATE jobs SET status = $2, finished_at = $3 WHERE id = $1",
            params![id, status, finished],
        )
        .await
        .unwrap();
        job_ids.push((id, stays));
    }
    drop(conn);

    let w = Worker::new(s.clone(), Registry::builtin(), options(1)).unwrap();
    let check = || async {
        let mut conn = s.db.conn().await.unwrap();
        for (id, stays) in &session_ids {
            let n: i64 = conn
                .query_one("SELECT COUNT(*) FROM sessions WHERE id = $1", params![*id])
                .await
                .unwrap();
            assert_eq!(n == 1, *stays, "session {id}");
        }
        for (at, stays) in &attempt_times {
            let n: i64 = conn
                .query_one(
                    "SELECT COUNT(*) FROM login_attempts WHERE created_at = $1",
                    params![*at],
                )
                .await
                .unwrap();
            assert_eq!(n == 1, *stays, "sign-in attempt at {at}");
        }
        for (id, stays) in &audit_ids {
            let n: i64 = conn
                .query_one(
                    "SELECT COUNT(*) FROM audit_events WHERE id = $1",
                    params![*id],
                )
                .await
                .unwrap();
            assert_eq!(n == 1, *stays, "audit entry {id}");
        }
        for (id, stays) in &job_ids {
            let n: i64 = conn
                .query_one("SELECT COUNT(*) FROM jobs WHERE id = $1", params![*id])
                .await
                .unwrap();
            assert_eq!(n == 1, *stays, "job {id}");
        }
    };
    for kind in [
        "retention.sessions",
        "retention.login_attempts",
        "retention.audit_events",
        "retention.jobs",
    ] {
        s.enqueue_job_now(kind, &json!({}), None).await.unwrap();
    }
    let outcomes = w.run_until_idle().await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, JobOutcome::Done { .. })),
        "{outcomes:?}"
    );
    check().await;
    // Idempotent: a second run deletes nothing more.
    for kind in [
        "retention.sessions",
        "retention.login_attempts",
        "retention.audit_events",
        "retention.jobs",
    ] {
        s.enqueue_job_now(kind, &json!({}), None).await.unwrap();
    }
    assert_eq!(w.run_until_idle().await.unwrap().len(), 4);
    check().await;

    // 0 keeps the records indefinitely.
    let mut keep = JobSettings::default();
    keep.retention.login_attempt_days = 0;
    keep.retention.audit_security_days = 0;
    let keeper = s.clone().with_job_settings(keep);
    let mut conn = s.db.conn().await.unwrap();
    login_attempts::insert(&mut conn, None, "x", false, "test", None, days(5000))
        .await
        .unwrap();
    drop(conn);
    let w = Worker::new(keeper.clone(), Registry::builtin(), options(1)).unwrap();
    keeper
        .enqueue_job_now("retention.login_attempts", &json!({}), None)
        .await
        .unwrap();
    w.run_until_idle().await.unwrap();
    assert_eq!(
        count(
            &s.db,
            "SELECT COUNT(*) FROM login_attempts WHERE created_at = $1",
            params![days(5000)]
        )
        .await,
        1
    );

    // The rules are in the record of processing, with the values in force.
    let out = run(
        &app.db,
        &[
            ("STEWARD_AUDIT_ACCESS_RETENTION_DAYS", "400"),
            ("STEWARD_SECURITY_LOGIN_ATTEMPT_RETENTION_DAYS", "0"),
        ],
        &["gdpr", "record"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let record = stdout(&out);
    assert!(record.contains("## Retention jobs"), "{record}");
    assert!(
        record.contains("deleted 400 days after the access (audit.access_retention_days)"),
        "{record}"
    );
    assert!(
        record.contains("kept indefinitely (security.login_attempt_retention_days = 0)"),
        "{record}"
    );
    assert!(
        record.contains("retention.sessions, hourly :05 UTC"),
        "{record}"
    );
}
both_backends!(retention_jobs_delete_exactly_what_is_expired);

// ---------------------------------------------------------------- many workers

/// Two workers, each with its own pool (as two processes would be), share
/// 200 jobs: each runs exactly once.
async fn two_workers_run_each_job_exactly_once(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let a = separate_services(&tdb.url, quick(3)).await;
    steward_storage::migrate::run(&a.db).await.unwrap();
    let b = separate_services(&tdb.url, quick(3)).await;
    a.db.conn()
        .await
        .unwrap()
        .batch("CREATE TABLE test_job_runs (n BIGINT NOT NULL, worker TEXT NOT NULL)")
        .await
        .unwrap();
    let registry = |label: &'static str| {
        let mut r = Registry::new();
        r.handler("test.record", move |s: Services, p: Value| async move {
            let n = p["n"].as_i64().ok_or("no n")?;
            // A little work, so that jobs overlap.
            tokio::time::sleep(Duration::from_millis((n % 4) as u64)).await;
            let mut conn = s.db.conn().await.map_err(|e| e.to_string())?;
            conn.execute(
                "INSERT INTO test_job_runs (n, worker) VALUES ($1, $2)",
                params![n, label],
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(())
        });
        r
    };
    let wa = Worker::new(a.clone(), registry("a"), options(4))
        .unwrap()
        .start();
    let wb = Worker::new(b.clone(), registry("b"), options(4))
        .unwrap()
        .start();
    const N: i64 = 200;
    let mut tx = a.db.begin().await.unwrap();
    for n in 0..N {
        a.enqueue_job(&mut tx, "test.record", &json!({ "n": n }), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    a.wake_job_workers();
    eventually(Duration::from_secs(60), "all jobs done", || async {
        let done = count(
            &a.db,
            "SELECT COUNT(*) FROM jobs WHERE status = 'done'",
            params![],
        )
        .await;
        (done == N).then_some(())
    })
    .await;
    wa.stop().await;
    wb.stop().await;
    let mut conn = a.db.conn().await.unwrap();
    let runs: Vec<(String, String)> = conn
        .query(
            "SELECT CAST(n AS TEXT), worker FROM test_job_runs ORDER BY n",
            params![],
        )
        .await
        .unwrap();
    let distinct: BTreeSet<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(runs.len(), N as usize, "no job ran twice");
    assert_eq!(distinct.len(), N as usize, "every job ran");
    let by_a = runs.iter().filter(|(_, w)| w == "a").count();
    assert!(
        by_a > 0 && by_a < N as usize,
        "both workers took jobs (a ran {by_a})"
    );
    let retried: i64 = conn
        .query_one("SELECT COUNT(*) FROM jobs WHERE attempts <> 1", params![])
        .await
        .unwrap();
    assert_eq!(retried, 0, "each job was claimed once");
    drop(conn);
    a.db.close().await;
    b.db.close().await;
}
both_backends!(two_workers_run_each_job_exactly_once);

// ---------------------------------------------------------------- a real worker, killed

/// A `steward worker` process; killed when the test ends.
struct WorkerProcess {
    child: Child,
    id: String,
    lines: mpsc::Receiver<String>,
}

impl WorkerProcess {
    fn start(db: &TestDb, env: &[(&str, &str)]) -> WorkerProcess {
        let mut child = steward(db, env, &["worker"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start steward worker");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut w = WorkerProcess {
            child,
            id: String::new(),
            lines,
        };
        let line = w.wait_for("is running jobs");
        w.id = line
            .strip_prefix("Steward worker ")
            .and_then(|l| l.split(' ').next())
            .expect("the worker's id")
            .to_string();
        assert!(
            w.id.contains(&format!(":{}:", w.child.id())),
            "the id names the process: {line}"
        );
        w
    }

    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("steward worker ended before printing {needle:?}")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    assert!(Instant::now() < deadline, "no {needle:?} within 60 s");
                }
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(sig)
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn a_killed_worker_loses_no_job(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    let env = [
        ("STEWARD_JOBS_VISIBILITY_TIMEOUT_SECONDS", "2"),
        ("STEWARD_JOBS_POLL_INTERVAL_MS", "50"),
    ];
    let out = run(
        &tdb,
        &env,
        &["jobs", "enqueue", "diagnostics.sleep", "--seconds", "3"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let id: i64 = printed
        .trim()
        .strip_prefix("Enqueued job ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a job id in {printed:?}"));
    let db = Db::connect(&tdb.url, &DbOptions::default()).await.unwrap();

    let mut first = tokio::task::block_in_place(|| WorkerProcess::start(&tdb, &env));
    let running = eventually(
        Duration::from_secs(30),
        "the first worker runs it",
        || async { Some(job(&db, id).await).filter(|j| j.status == JobStatus::Running) },
    )
    .await;
    assert_eq!(running.locked_by.as_deref(), Some(first.id.as_str()));
    first.signal("-KILL");
    let _ = tokio::task::block_in_place(|| first.child.wait());
    assert_eq!(
        job(&db, id).await.status,
        JobStatus::Running,
        "killed mid-job: the job is still marked as running"
    );

    // Another worker takes it once the lease has run out and completes it.
    let mut second = tokio::task::block_in_place(|| WorkerProcess::start(&tdb, &env));
    let retaken = eventually(
        Duration::from_secs(30),
        "the second worker takes it",
        || async {
            Some(job(&db, id).await).filter(|j| j.locked_by.as_deref() == Some(second.id.as_str()))
        },
    )
    .await;
    assert_eq!((retaken.status, retaken.attempts), (JobStatus::Running, 2));
    // Told to stop mid-job, it lets the job finish first.
    second.signal("-TERM");
    let status = tokio::task::block_in_place(|| {
        second.wait_for("Steward worker stopped.");
        second.child.wait().unwrap()
    });
    assert!(status.success(), "{status:?}");
    let done = job(&db, id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 2));
    assert_eq!(done.locked_by.as_deref(), Some(second.id.as_str()));
    assert_eq!(done.last_error, None);
    db.close().await;
}
both_backends!(a_killed_worker_loses_no_job);

// ---------------------------------------------------------------- the CLI

async fn jobs_cli_explains_mistakes(backend: Backend) {
    let tdb = TestDb::new(&backend).await;
    for path in [
        &["worker"][..],
        &["jobs"],
        &["jobs", "list"],
        &["jobs", "show"],
        &["jobs", "retry"],
        &["jobs", "enqueue"],
        &["jobs", "schedules"],
    ] {
        let mut args = path.to_vec();
        args.push("--help");
        let out = run(&tdb, &[], &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("Usage: steward {}", path.join(" "))),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    let out = run(&tdb, &[], &["jobs", "enqueue", "retention.sessions"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("starts only the diagnostic jobs"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &tdb,
        &[],
        &["jobs", "enqueue", "diagnostics.sleep", "--seconds", "99999"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--seconds 99999"), "{}", stderr(&out));
    let out = run(&tdb, &[], &["jobs", "show", "424242"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("there is no job with id 424242"),
        "{}",
        stderr(&out)
    );
    let out = run(&tdb, &[], &["jobs", "show", "abc"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&tdb, &[], &["jobs", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "No jobs.");
    let out = run(&tdb, &[("STEWARD_JOBS_CONCURRENCY", "0")], &["worker"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("jobs.concurrency"),
        "{}",
        stderr(&out)
    );
    let out = run(&tdb, &[], &["worker", "--concurrency", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--concurrency 0") && stderr(&out).contains("jobs.concurrency"),
        "{}",
        stderr(&out)
    );
    // diagnostics.fail fails every attempt, visibly.
    let out = run(
        &tdb,
        &[],
        &[
            "jobs",
            "enqueue",
            "diagnostics.fail",
            "--message",
            "checking alerts",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&tdb, &[], &["jobs", "schedules"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for expected in [
        "retention.sessions",
        "hourly :05",
        "retention.audit_events",
        "daily 03:20",
    ] {
        assert!(
            stdout(&out).contains(expected),
            "{expected}: {}",
            stdout(&out)
        );
    }
    let out = run(&tdb, &[], &["jobs", "list", "--kind", "diagnostics.fail"]);
    assert!(stdout(&out).contains("queued"), "{}", stdout(&out));
}
both_backends!(jobs_cli_explains_mistakes);

/// The daily statistics job leaves the planner statistics of the work
/// packages table behind on either engine.
async fn statistics_job_analyses_the_database(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Stats", "identifier": "stats"}),
    )
    .await;
    for i in 0..3 {
        app.created(
            "/api/v3/projects/stats/work_packages",
            json!({"subject": format!("Row {i}")}),
        )
        .await;
    }
    let s = app.services();
    let analysed = |db: Db| async move {
        match db.engine() {
            steward_storage::Engine::Sqlite => {
                let tables = count(
                    &db,
                    "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
                    vec![],
                )
                .await;
                tables == 1
                    && count(
                        &db,
                        "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'work_packages'",
                        vec![],
                    )
                    .await
                        > 0
            }
            steward_storage::Engine::Postgres => {
                count(
                    &db,
                    "SELECT count(*) FROM pg_stat_user_tables \
                     WHERE relname = 'work_packages' AND schemaname = current_schema() \
                       AND last_analyze IS NOT NULL",
                    vec![],
                )
                .await
                    == 1
            }
        }
    };
    assert!(
        !analysed(s.db.clone()).await,
        "no statistics before the job"
    );
    let id = s
        .enqueue_job_now("database.statistics", &json!({}), None)
        .await
        .unwrap();
    let w = Worker::new(s.clone(), Registry::builtin(), options(1)).unwrap();
    assert_eq!(
        w.run_until_idle().await.unwrap(),
        vec![JobOutcome::Done { id }]
    );
    assert!(analysed(s.db.clone()).await, "statistics after the job");
    let schedules = Registry::builtin();
    assert!(schedules
        .schedules()
        .iter()
        .any(|sc| sc.kind == "database.statistics"));
}
both_backends!(statistics_job_analyses_the_database);
