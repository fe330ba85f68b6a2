//! `steward worker` (run background jobs) and `steward jobs ...` (look at
//! the queue, retry failed jobs, start a diagnostic job).

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use steward_services::jobs::{parse_statuses, DIAGNOSTICS_FAIL, DIAGNOSTICS_SLEEP};
use steward_services::{ServiceError, Services};
use steward_storage::jobs::{Job, JobFilter};

use super::service_error;
use crate::config::Config;
use crate::server;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Jobs run at the same time (default: jobs.concurrency).
    #[arg(long)]
    pub concurrency: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// Only jobs with this status: queued, running, done or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only jobs of this kind (such as retention.sessions).
        #[arg(long)]
        kind: Option<String>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Show one job with its payload and last error.
    Show { id: i64 },
    /// Queue a failed job again, with a fresh set of attempts.
    Retry { id: i64 },
    /// Start a diagnostic job, to check that workers run: diagnostics.sleep
    /// (sleeps, then succeeds) or diagnostics.fail (fails every attempt).
    Enqueue {
        /// diagnostics.sleep or diagnostics.fail
        kind: String,
        /// diagnostics.sleep: how long to sleep (0 to 86400).
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// diagnostics.fail: the error to fail with.
        #[arg(long)]
        message: Option<String>,
    },
    /// List the recurring jobs: schedule, kind, next and last run.
    Schedules,
}

/// `steward worker`: runs jobs until SIGTERM or SIGINT, then lets the
/// running jobs finish (a second signal stops at once).
pub async fn worker(config: &Config, args: WorkerArgs) -> anyhow::Result<()> {
    let mut config = config.clone();
    if let Some(n) = args.concurrency {
        config.jobs.concurrency = n;
        config
            .validate()
            .map_err(|e| anyhow!("--concurrency {n}: {e}"))?;
    }
    let services = server::open_services(&config).await?;
    // Signals are caught before the worker announces itself, so that a
    // SIGTERM right after the announcement stops it gracefully.
    let stop = server::shutdown_signal();
    let handle = server::start_worker(&config, services.clone())?;
    println!(
        "Steward worker {} is running jobs (concurrency {}, database: {}).",
        handle.id(),
        config.jobs.concurrency,
        steward_storage::redact_url(&config.database_url())
    );
    stop.await;
    println!("Stopping: letting the running jobs finish (a second signal stops at once).");
    let again = server::shutdown_signal();
    tokio::select! {
        _ = handle.stop() => println!("Steward worker stopped."),
        _ = again => println!("Steward worker stopped without waiting for its running jobs; they run again after jobs.visibility_timeout_seconds."),
    }
    services.db.close().await;
    Ok(())
}

/// A `steward jobs` command with its arguments checked: a mistyped
/// argument is refused before the database is opened (or created and
/// migrated).
enum JobsAction {
    List { filter: JobFilter, limit: i64 },
    Show(i64),
    Retry(i64),
    Enqueue { kind: String, payload: Value },
    Schedules,
}

fn check(cmd: JobsCommand) -> anyhow::Result<JobsAction> {
    Ok(match cmd {
        JobsCommand::List {
            status,
            kind,
            limit,
        } => {
            if !(1..=1000).contains(&limit) {
                return Err(anyhow!("--limit {limit} must be between 1 and 1000"));
            }
            let statuses = match status {
                Some(s) => Some(parse_statuses(std::slice::from_ref(&s)).map_err(|_| {
                    anyhow!("--status {s:?} is not one of queued, running, done, failed")
                })?),
                None => None,
            };
            JobsAction::List {
                filter: JobFilter {
                    statuses,
                    kinds: kind.map(|k| vec![k]),
                    exclude_kinds: None,
                },
                limit,
            }
        }
        JobsCommand::Show { id } => JobsAction::Show(id),
        JobsCommand::Retry { id } => JobsAction::Retry(id),
        JobsCommand::Enqueue {
            kind,
            seconds,
            message,
        } => {
            let payload = if kind == DIAGNOSTICS_SLEEP {
                if !(0.0..=86_400.0).contains(&seconds) {
                    return Err(anyhow!("--seconds {seconds} must be between 0 and 86400"));
                }
                json!({ "seconds": seconds })
            } else if kind == DIAGNOSTICS_FAIL {
                match message {
                    Some(m) => json!({ "message": m }),
                    None => json!({}),
                }
            } else {
                return Err(anyhow!(
                    "{kind:?} cannot be started by hand: `steward jobs enqueue` starts only the diagnostic jobs {DIAGNOSTICS_SLEEP} and {DIAGNOSTICS_FAIL}"
                ));
            };
            JobsAction::Enqueue { kind, payload }
        }
        JobsCommand::Schedules => JobsAction::Schedules,
    })
}

pub async fn run(config: &Config, cmd: JobsCommand) -> anyhow::Result<()> {
    let action = check(cmd)?;
    let services = server::open_services(config).await?;
    let result = run_with(&services, action).await;
    services.db.close().await;
    result
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn describe(j: &Job) -> String {
    let opt = |t: Option<steward_domain::Timestamp>| t.map_or("-".to_string(), |t| t.to_string());
    format!(
        "id:           {}\nkind:         {}\nstatus:       {}\npayload:      {}\nattempts:     {} of {}\nrun at:       {}\nlocked by:    {}\nlocked until: {}\ncreated:      {}\nupdated:      {}\nfinished:     {}\nlast error:   {}",
        j.id,
        j.kind,
        j.status,
        j.payload,
        j.attempts,
        j.max_attempts,
        j.run_at,
        j.locked_by.as_deref().unwrap_or("-"),
        opt(j.locked_until),
        j.created_at,
        j.updated_at,
        opt(j.finished_at),
        j.last_error.as_deref().unwrap_or("-"),
    )
}

/// A service error about the job `id`, with its absence said plainly.
fn job_error(id: i64) -> impl FnOnce(ServiceError) -> anyhow::Error {
    move |e| match e {
        ServiceError::NotFound(_) => anyhow!("there is no job with id {id}"),
        other => service_error(other),
    }
}

async fn run_with(services: &Services, action: JobsAction) -> anyhow::Result<()> {
    match action {
        JobsAction::List { filter, limit } => {
            let (list, total) = services
                .list_jobs(&filter, &[], limit, 0)
                .await
                .map_err(service_error)?;
            if list.is_empty() {
                println!("No jobs.");
                return Ok(());
            }
            println!(
                "{:<8} {:<8} {:<28} {:<9} {:<24} LAST ERROR",
                "ID", "STATUS", "KIND", "ATTEMPTS", "RUN AT"
            );
            for j in &list {
                println!(
                    "{:<8} {:<8} {:<28} {:<9} {:<24} {}",
                    j.id,
                    j.status.as_str(),
                    j.kind,
                    format!("{}/{}", j.attempts, j.max_attempts),
                    j.run_at.to_string(),
                    one_line(j.last_error.as_deref().unwrap_or(""), 60)
                );
            }
            if total > list.len() as i64 {
                println!("({} of {total} shown; use --limit)", list.len());
            }
            Ok(())
        }
        JobsAction::Show(id) => {
            let job = services.job(id).await.map_err(job_error(id))?;
            println!("{}", describe(&job));
            Ok(())
        }
        JobsAction::Retry(id) => {
            let job = services.retry_job(id).await.map_err(job_error(id))?;
            println!(
                "Job {} ({}) is queued again with {} attempts; a worker runs it at its next poll.",
                job.id, job.kind, job.max_attempts
            );
            Ok(())
        }
        JobsAction::Enqueue { kind, payload } => {
            let id = services
                .enqueue_job_now(&kind, &payload, None)
                .await
                .map_err(service_error)
                .context("enqueueing the job")?;
            println!("Enqueued job {id} ({kind}).");
            Ok(())
        }
        JobsAction::Schedules => {
            let rows = services.job_schedule_rows().await.map_err(service_error)?;
            let registry = steward_services::jobs::Registry::builtin();
            println!(
                "{:<28} {:<20} {:<28} {:<24} LAST RUN",
                "SCHEDULE", "WHEN (UTC)", "KIND", "NEXT RUN"
            );
            for s in registry.schedules() {
                let row = rows.iter().find(|r| r.name == s.name);
                println!(
                    "{:<28} {:<20} {:<28} {:<24} {}",
                    s.name,
                    s.spec.to_string(),
                    s.kind,
                    row.map_or("(when a worker first starts)".to_string(), |r| r
                        .next_run_at
                        .to_string()),
                    row.and_then(|r| r.last_run_at)
                        .map_or("never".to_string(), |t| t.to_string()),
                );
            }
            Ok(())
        }
    }
}
