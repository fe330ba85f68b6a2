//! The worker: claims due jobs, runs their handlers with a renewed lease,
//! records the outcome, and enqueues recurring jobs when they are due.
//!
//! One worker runs up to `concurrency` jobs at once. Each running job has
//! a lease in the database (`locked_until`) that the worker renews every
//! third of the visibility timeout; a worker that dies stops renewing, and
//! once the lease has run out another worker takes the job. A worker that
//! finds its lease taken over (it stalled for longer than the timeout)
//! abandons the attempt rather than run the job next to its new owner.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use steward_domain::job::retry_delay_ms;
use steward_domain::Timestamp;
use steward_storage::jobs::{self, Claim, Job, Lease};
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::registry::Registry;
use super::{clip_error, HandlerFuture};
use crate::{secrets, ServiceError, Services};

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Jobs run at the same time.
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs and schedules.
    pub poll_interval: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 1,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What became of one claimed job.
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    Done {
        id: i64,
    },
    /// The attempt failed; the job waits until `at` for the next one.
    Retrying {
        id: i64,
        at: Timestamp,
        error: String,
    },
    /// The attempt failed and none is left.
    Failed {
        id: i64,
        error: String,
    },
    /// The lease was lost to another worker (or the outcome could not be
    /// recorded): the job is that worker's now, or will be retried after
    /// the visibility timeout.
    Lost {
        id: i64,
    },
}

/// A worker; cheap to clone (clones share the registry and the id).
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    registry: Registry,
    kinds: Vec<&'static str>,
    id: String,
    opts: WorkerOptions,
}

/// `host:pid:random`: names the process in `jobs.locked_by` for
/// operators, and is unique even for several workers in one process.
fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let r = secrets::random_bytes::<3>();
    format!(
        "{host}:{}:{:02x}{:02x}{:02x}",
        std::process::id(),
        r[0],
        r[1],
        r[2]
    )
}

fn panic_text(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "the attempt was cancelled".into();
    }
    let payload = e.into_panic();
    let what = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!("the handler panicked: {what}")
}

/// What to write about an attempt that ended.
enum Write {
    Complete,
    Fail {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// How one attempt ended, before it is recorded.
enum Attempt {
    Finished(Result<(), String>),
    Lost,
}

impl Worker {
    /// A worker running the handlers of `registry`. Fails when a schedule
    /// names a kind without a handler, or concurrency is 0.
    pub fn new(
        services: Services,
        registry: Registry,
        opts: WorkerOptions,
    ) -> Result<Worker, String> {
        registry.check()?;
        if opts.concurrency == 0 {
            return Err("a worker needs a concurrency of at least 1".into());
        }
        Ok(Worker {
            inner: Arc::new(Inner {
                kinds: registry.kinds(),
                services,
                registry,
                id: worker_id(),
                opts,
            }),
        })
    }

    /// The id written to `jobs.locked_by` for the jobs it runs.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Creates the rows of the registry's schedules (due at their next
    /// instant); existing rows keep their time unless it is later.
    pub async fn register_schedules(&self) -> Result<(), ServiceError> {
        let now = Timestamp::now();
        let mut conn = self.inner.services.db.conn().await?;
        for s in self.inner.registry.schedules() {
            jobs::upsert_schedule(&mut conn, s.name, s.spec.next_after(now)).await?;
        }
        Ok(())
    }

    /// Enqueues one job for each schedule that is due, and moves each on to
    /// its next instant. Several workers calling this at once enqueue each
    /// due run once. Runs missed while no worker ran are not made up: one
    /// run, then the schedule continues from now. Returns the jobs enqueued.
    pub async fn enqueue_due_schedules(&self) -> Result<usize, ServiceError> {
        let services = &self.inner.services;
        let now = Timestamp::now();
        let due = {
            let mut conn = services.db.conn().await?;
            jobs::due_schedules(&mut conn, now).await?
        };
        let mut enqueued = 0;
        for row in due {
            // A row of a schedule this build no longer has is left alone.
            let Some(s) = self
                .inner
                .registry
                .schedules()
                .iter()
                .find(|s| s.name == row.name)
            else {
                continue;
            };
            let mut tx = services.db.begin().await?;
            let next = s.spec.next_after(now);
            if !jobs::take_schedule(&mut tx, s.name, row.next_run_at, next, now).await? {
                // Another worker took this run.
                continue;
            }
            // A run still waiting or running (slow, or retrying after a
            // failure) is not joined by another: they would pile up.
            if jobs::has_pending(&mut tx, s.kind).await? {
                tx.commit().await?;
                tracing::info!(
                    schedule = s.name,
                    "recurring job skipped: the previous run has not finished"
                );
                continue;
            }
            let id = services
                .enqueue_job(&mut tx, s.kind, &json!({}), Some(now))
                .await?;
            tx.commit().await?;
            tracing::debug!(schedule = s.name, job = id, "recurring job enqueued");
            enqueued += 1;
        }
        Ok(enqueued)
    }

    async fn claim(&self) -> Result<Option<Job>, ServiceError> {
        let now = Timestamp::now();
        let visibility = self.inner.services.jobs.visibility_timeout;
        let job = jobs::claim(
            &self.inner.services.db,
            &Claim {
                worker: &self.inner.id,
                kinds: &self.inner.kinds,
                now,
                lease_until: Timestamp(now.0.saturating_add(visibility.as_micros() as i64)),
            },
        )
        .await?;
        Ok(job)
    }

    /// Claims one due job and runs it; `None` when none is due.
    pub async fn run_one(&self) -> Result<Option<JobOutcome>, ServiceError> {
        match self.claim().await? {
            Some(job) => Ok(Some(self.execute(job).await)),
            None => Ok(None),
        }
    }

    /// Runs due jobs one after another until none is due; returns what
    /// became of each. For tools and tests; the service loop is
    /// [`Worker::start`].
    pub async fn run_until_idle(&self) -> Result<Vec<JobOutcome>, ServiceError> {
        let mut out = Vec::new();
        while let Some(outcome) = self.run_one().await? {
            out.push(outcome);
        }
        Ok(out)
    }

    /// Runs the handler of a claimed job and records the outcome.
    async fn execute(&self, job: Job) -> JobOutcome {
        let started = Instant::now();
        let attempt = match self.inner.registry.get(&job.kind) {
            // Claims only take kinds with a handler; kept for safety.
            None => Attempt::Finished(Err(format!(
                "no handler for job kind {:?} in this worker",
                job.kind
            ))),
            Some(handler) => match serde_json::from_str(&job.payload) {
                Err(e) => Attempt::Finished(Err(format!("the payload is not JSON: {e}"))),
                Ok(payload) => {
                    self.supervise(&job, handler(self.inner.services.clone(), payload))
                        .await
                }
            },
        };
        let lease = Lease {
            id: job.id,
            worker: &self.inner.id,
            attempt: job.attempts,
        };
        let result = match attempt {
            Attempt::Lost => {
                tracing::warn!(
                    job = job.id,
                    kind = %job.kind,
                    "job abandoned: its lease ran out and another worker took it"
                );
                return JobOutcome::Lost { id: job.id };
            }
            Attempt::Finished(r) => r,
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (outcome, write) = match result {
            Ok(()) => {
                tracing::info!(job = job.id, kind = %job.kind, elapsed_ms, "job done");
                (JobOutcome::Done { id: job.id }, Write::Complete)
            }
            Err(error) => {
                let error = clip_error(&error);
                if job.attempts < job.max_attempts {
                    let base = self.inner.services.jobs.backoff_base.as_millis() as u64;
                    let delay_ms = retry_delay_ms(base, job.attempts) as i64;
                    let at = Timestamp(Timestamp::now().0.saturating_add(delay_ms * 1000));
                    tracing::warn!(
                        job = job.id,
                        kind = %job.kind,
                        attempt = job.attempts,
                        max_attempts = job.max_attempts,
                        retry_at = %at,
                        %error,
                        "job attempt failed; it will be retried"
                    );
                    (
                        JobOutcome::Retrying {
                            id: job.id,
                            at,
                            error: error.clone(),
                        },
                        Write::Fail {
                            error,
                            retry_at: Some(at),
                        },
                    )
                } else {
                    tracing::error!(
                        job = job.id,
                        kind = %job.kind,
                        attempts = job.attempts,
                        %error,
                        "job failed: no attempts left (retry it with `steward jobs retry` or POST /api/v3/jobs/{{id}}/retry)"
                    );
                    (
                        JobOutcome::Failed {
                            id: job.id,
                            error: error.clone(),
                        },
                        Write::Fail {
                            error,
                            retry_at: None,
                        },
                    )
                }
            }
        };
        if self.record(lease, &write).await {
            outcome
        } else {
            JobOutcome::Lost { id: job.id }
        }
    }

    /// Writes an outcome, trying again briefly when the database does not
    /// answer: an outcome not written is not lost, but the job would run
    /// again after the visibility timeout. False when it could not be
    /// written or the lease was no longer this worker's.
    async fn record(&self, lease: Lease<'_>, write: &Write) -> bool {
        let mut pause = Duration::from_millis(100);
        for _ in 0..5 {
            let attempt = async {
                let mut conn = self.inner.services.db.conn().await?;
                let now = Timestamp::now();
                match write {
                    Write::Complete => jobs::complete(&mut conn, lease, now).await,
                    Write::Fail { error, retry_at } => {
                        jobs::fail(&mut conn, lease, error, *retry_at, now).await
                    }
                }
            };
            match attempt.await {
                Ok(true) => return true,
                Ok(false) => {
                    tracing::warn!(
                        job = lease.id,
                        "the job's lease was taken over before its outcome was recorded"
                    );
                    return false;
                }
                Err(e) => {
                    tracing::warn!(job = lease.id, error = %e, "recording a job's outcome failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
        false
    }

    /// Runs the handler in a task of its own (a panic is a failed attempt,
    /// not a dead worker), renewing the lease while it runs and stopping it
    /// at the job timeout.
    async fn supervise(&self, job: &Job, work: HandlerFuture) -> Attempt {
        let settings = &self.inner.services.jobs;
        let mut task = tokio::spawn(work);
        let beat = (settings.visibility_timeout / 3).max(Duration::from_millis(100));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = tokio::time::sleep(settings.job_timeout);
        tokio::pin!(deadline);
        let lease = Lease {
            id: job.id,
            worker: &self.inner.id,
            attempt: job.attempts,
        };
        loop {
            tokio::select! {
                res = &mut task => {
                    return Attempt::Finished(match res {
                        Ok(r) => r,
                        Err(e) => Err(panic_text(e)),
                    });
                }
                _ = &mut deadline => {
                    task.abort();
                    return Attempt::Finished(Err(format!(
                        "the attempt ran longer than the job timeout ({} s) and was stopped",
                        settings.job_timeout.as_secs()
                    )));
                }
                _ = ticker.tick() => {
                    let now = Timestamp::now();
                    let until = Timestamp(now.0.saturating_add(settings.visibility_timeout.as_micros() as i64));
                    let renewed = async {
                        let mut conn = self.inner.services.db.conn().await?;
                        jobs::extend(&mut conn, lease, until, now).await
                    };
                    // Bounded by a beat: waiting on a busy pool must not keep
                    // this loop from seeing the job end or its deadline pass.
                    match tokio::time::timeout(beat, renewed).await {
                        Ok(Ok(true)) => {}
                        Ok(Ok(false)) => {
                            task.abort();
                            return Attempt::Lost;
                        }
                        // The lease is still good for a while; the next beat tries again.
                        Ok(Err(e)) => tracing::warn!(job = job.id, error = %e, "renewing a job's lease failed"),
                        Err(_) => tracing::warn!(job = job.id, "renewing a job's lease timed out"),
                    }
                }
            }
        }
    }

    /// Starts the service loop in the background: register the schedules,
    /// then poll. Stop it with [`WorkerHandle::stop`].
    pub fn start(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let id = self.inner.id.clone();
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle { id, stop, task }
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        // A dropped handle stops the worker too, rather than leave it
        // running with no way to stop it.
        let stopping = |rx: &watch::Receiver<bool>| *rx.borrow() || rx.has_changed().is_err();
        let poll = self.inner.opts.poll_interval;
        loop {
            match self.register_schedules().await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "registering the recurring jobs failed; trying again");
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                    if stopping(&stop) {
                        return;
                    }
                }
            }
        }
        let slots = Arc::new(Semaphore::new(self.inner.opts.concurrency));
        let mut running = JoinSet::new();
        let mut schedules_checked: Option<Instant> = None;
        while !stopping(&stop) {
            while running.try_join_next().is_some() {}
            if schedules_checked.is_none_or(|t| t.elapsed() >= poll) {
                schedules_checked = Some(Instant::now());
                if let Err(e) = self.enqueue_due_schedules().await {
                    tracing::warn!(error = %e, "enqueueing recurring jobs failed");
                }
            }
            while let Ok(slot) = slots.clone().try_acquire_owned() {
                match self.claim().await {
                    Ok(Some(job)) => {
                        let worker = self.clone();
                        running.spawn(async move {
                            let _slot = slot;
                            worker.execute(job).await
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming a job failed");
                        break;
                    }
                }
            }
            let free = slots.available_permits() > 0;
            tokio::select! {
                _ = stop.changed() => {}
                _ = self.inner.services.job_wake.notified(), if free => {}
                _ = tokio::time::sleep(poll), if free => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        // Stopping: claim nothing more, let the running jobs finish.
        if !running.is_empty() {
            tracing::info!(
                jobs = running.len(),
                "worker stopping: waiting for running jobs"
            );
        }
        while running.join_next().await.is_some() {}
    }
}

/// A worker running in the background.
pub struct WorkerHandle {
    id: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stops claiming jobs and waits until the running ones have finished.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
