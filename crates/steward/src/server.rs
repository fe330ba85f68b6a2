//! Wiring: open the database, migrate, build the services and serve HTTP
//! until told to stop.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use steward_http::{AppState, HttpConfig};
use steward_services::jobs::{Registry, Worker, WorkerHandle};
use steward_services::Services;
use steward_storage::{migrate, Db, DbOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::listener;

/// Makes sure the data directory exists and is writable.
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow!("data_dir: cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(".steward-write-test");
    std::fs::write(&probe, b"ok")
        .map_err(|e| anyhow!("data_dir: {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Opens the configured database (creating the data directory for SQLite).
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if config.uses_sqlite() {
        prepare_data_dir(&config.data_dir)?;
        if let Some(parent) = config
            .database_url()
            .strip_prefix("sqlite:")
            .map(Path::new)
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
        {
            prepare_data_dir(parent)?;
        }
    }
    let opts = DbOptions {
        pool_size: config.database.pool_size as usize,
        busy_timeout_ms: config.database.busy_timeout_ms,
    };
    let db = Db::connect(&config.database_url(), &opts)
        .await
        .map_err(|e| anyhow!("database.url: {e}"))?;
    Ok(db)
}

/// Opens and migrates the database and builds the services.
pub async fn open_services(config: &Config) -> anyhow::Result<Services> {
    let db = open_database(config).await?;
    migrate::run(&db).await.context("migrating the database")?;
    Ok(Services::new(db, config.policy())
        .with_job_settings(config.job_settings())
        .with_export_settings(config.export_settings())
        .with_request_log(steward_services::request_log::RequestLog::new(
            config.request_log_config(),
        )))
}

/// Starts a job worker with every built-in handler and recurring job, in
/// the background of the current runtime.
pub fn start_worker(config: &Config, services: Services) -> anyhow::Result<WorkerHandle> {
    let worker = Worker::new(services, Registry::builtin(), config.worker_options())
        .map_err(|e| anyhow!("jobs: {e}"))?;
    Ok(worker.start())
}

pub fn app_state(config: &Config, services: Services) -> AppState {
    AppState {
        services,
        http: Arc::new(HttpConfig {
            max_body_bytes: config.server.max_body_bytes as usize,
            cookie_name: config.session.cookie_name.clone(),
            secure_cookies: config.secure_cookies(),
            record_context: Some(config.record_context()),
        }),
    }
}

/// The `[server]` bounds on connections and requests.
pub fn connection_limits(config: &Config) -> listener::Limits {
    let s = &config.server;
    listener::Limits {
        header_read_timeout: Duration::from_secs(s.header_read_timeout_seconds),
        body_read_timeout: Duration::from_secs(s.body_read_timeout_seconds),
        keep_alive_timeout: Duration::from_secs(s.keep_alive_timeout_seconds),
        max_connections: usize::try_from(s.max_connections).unwrap_or(usize::MAX),
        handler_timeout: Duration::from_secs(s.handler_timeout_seconds),
    }
}

/// A server running in the background of the current runtime.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub services: Services,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The in-process job worker, unless jobs.in_process_worker is off.
    worker: Option<WorkerHandle>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests and running jobs finish,
    /// closes the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
        // Audited reads still queued, and the last request-log lines.
        if let Err(e) = self.services.flush_audit().await {
            tracing::error!(error = %e, "writing the last audit entries failed");
        }
        self.services.request_log().flush().await;
        self.services.db.close().await;
        Ok(())
    }

    /// Waits until the server stops by itself (it does not, normally).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }
}

/// The two front-ends side by side under the shared layers: the API
/// (`/health`, `/api/v3`) and the web pages.
fn app(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    steward_http::app(
        state,
        steward_api::routes().merge(steward_web::router()),
        not_found,
        steward_api::method_not_allowed,
    )
}

/// A path no route serves: a browser gets the pages' "not found" page,
/// API clients the API's error document.
async fn not_found(req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    if steward_web::answers_not_found(&req) {
        steward_web::not_found_page().await
    } else {
        steward_api::not_found(req.method().clone(), req.uri().clone())
            .await
            .into_response()
    }
}

/// Binds the listener and serves in a background task.
pub async fn start(config: &Config, services: Services) -> anyhow::Result<RunningServer> {
    let addr = config.listen_addr()?;
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (the port is already in use; stop the other process or change server.listen)"
        } else {
            ""
        };
        anyhow!("server.listen: cannot listen on {addr}: {e}{hint}")
    })?;
    let addr = listener.local_addr()?;
    let app = app(app_state(config, services.clone()));
    // The single binary is complete: without separate workers, the server
    // runs the jobs itself.
    let worker = if config.jobs.in_process_worker {
        Some(start_worker(config, services.clone())?)
    } else {
        None
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = connection_limits(config);
    let task = tokio::spawn(listener::serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        addr,
        services,
        stop: Some(stop),
        task,
        worker,
    })
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed by the call
/// itself, not at the first poll: from then on a signal can no longer kill
/// the process with the default action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async fn recv(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                _ = recv(term) => {},
                _ = recv(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `steward serve`: runs until SIGTERM/SIGINT, then drains and closes.
pub async fn serve(config: &Config, services: Services) -> anyhow::Result<()> {
    let mut server = start(config, services).await?;
    // Catch signals before announcing readiness: a SIGTERM sent right after
    // the announcement must stop the server gracefully, not kill it.
    let stop = shutdown_signal();
    println!(
        "Steward is listening on {} (database: {})",
        config.public_url(),
        steward_storage::redact_url(&config.database_url())
    );
    tokio::select! {
        res = server.wait() => return res,
        _ = stop => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
    let grace = Duration::from_secs(config.server.shutdown_timeout_seconds);
    let db = server.services.db.clone();
    match tokio::time::timeout(grace, server.shutdown()).await {
        Ok(res) => res?,
        Err(_) => {
            tracing::warn!("requests still running after the shutdown timeout; closing anyway");
            db.close().await;
        }
    }
    println!("Steward stopped.");
    Ok(())
}
