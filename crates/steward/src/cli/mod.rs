//! The command line: `steward serve | worker | migrate | user ... |
//! settings ... | gdpr ... | jobs ... | seed ... | config check`.
//! Every failure ends with a non-zero exit code and one line on stderr that
//! names the problem.

mod audit;
mod gdpr;
mod gdpr_erase;
mod gdpr_export;
mod jobs;
mod seed;
mod settings;
mod user;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use steward_services::accounts::AdminBootstrap;
use steward_storage::migrate;

use crate::config::Config;
use crate::server;

#[derive(Parser, Debug)]
#[command(
    name = "steward",
    version,
    about = "Steward: a fast, GDPR-native project-management server."
)]
pub struct Cli {
    /// Configuration file (TOML). Also STEWARD_CONFIG.
    #[arg(long, global = true, env = "STEWARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (migrates the database first and creates an
    /// administrator `admin` if there is none).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Show and change instance settings.
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Add generated data (for measuring).
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Personal data: record of processing, export, erasure, residue scan.
    #[command(subcommand)]
    Gdpr(gdpr::GdprCommand),
    /// The audit trail: security events and access to personal data.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run background jobs until SIGTERM/SIGINT (for use with
    /// jobs.in_process_worker = false, or to add workers).
    Worker(jobs::WorkerArgs),
    /// Background jobs: list, show, retry failed ones, start a diagnostic job.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
}

/// `--format text|json`: whether the output is JSON.
/// A service's refusal as the command's error line: every invalid
/// attribute with its message, so that all can be fixed in one go.
pub(crate) fn service_error(e: steward_services::ServiceError) -> anyhow::Error {
    match e {
        steward_services::ServiceError::Invalid(errors) => anyhow!(
            "{}",
            errors
                .iter()
                .map(|v| format!("{}: {}", v.attribute, v.message))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => anyhow!(other),
    }
}

fn json_format(format: &str) -> anyhow::Result<bool> {
    match format {
        "text" => Ok(false),
        "json" => Ok(true),
        other => Err(anyhow!("--format takes text or json, not {other:?}")),
    }
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Password for the first administrator, if one is created. Without it a
    /// random one is generated and printed once. Also STEWARD_ADMIN_PASSWORD.
    #[arg(long, env = "STEWARD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Add demo data (people, two projects, work packages with comments and
    /// history) if the instance has no projects yet.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand, Debug)]
pub enum SeedCommand {
    /// Add the benchmark data set to an instance without it: project
    /// `bench` (and `bench-2`, ... with --projects) with users bench1..
    /// as members and work packages with three journals each. Prints
    /// progress on stderr, then the time taken.
    Benchmark {
        #[arg(long, default_value_t = 10_000)]
        work_packages: usize,
        #[arg(long, default_value_t = 20)]
        users: usize,
        /// Work packages authored by user bench1 (the first ones).
        #[arg(long, default_value_t = 2_000)]
        heavy_author: usize,
        /// Projects the work packages are spread over; bench1 is a member
        /// of all, every other user of two.
        #[arg(long, default_value_t = 1)]
        projects: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Check the configuration and print it in effect, secrets masked.
    Check,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not failures.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line naming the problem, with its causes.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("steward: error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(&config, args).await,
            Command::Migrate => {
                let db = server::open_database(&config).await?;
                let ran = migrate::run(&db).await?;
                if ran.is_empty() {
                    println!(
                        "The database is up to date (schema version {}).",
                        migrate::latest_version()
                    );
                } else {
                    println!(
                        "Applied migrations {ran:?}; schema version is now {}.",
                        migrate::latest_version()
                    );
                }
                db.close().await;
                Ok(())
            }
            Command::User(cmd) => user::run(&config, cmd).await,
            Command::Settings(cmd) => settings::run(&config, cmd).await,
            Command::Gdpr(cmd) => gdpr::run(&config, cmd).await,
            Command::Audit(cmd) => audit::run(&config, cmd).await,
            Command::Worker(args) => jobs::worker(&config, args).await,
            Command::Jobs(cmd) => jobs::run(&config, cmd).await,
            Command::Seed(SeedCommand::Benchmark {
                work_packages,
                users,
                heavy_author,
                projects,
            }) => {
                let services = server::open_services(&config).await?;
                let admin = match services.ensure_admin(None).await? {
                    AdminBootstrap::Created { user, .. } => *user,
                    AdminBootstrap::Present => services.first_admin().await?,
                };
                let seed = steward_services::seed::BenchmarkSeed {
                    work_packages,
                    users,
                    heavy_author: heavy_author.min(work_packages),
                    projects,
                };
                seed::benchmark(&services, &admin, &seed).await?;
                services.db.close().await;
                Ok(())
            }
            Command::Config(ConfigCommand::Check) => {
                println!("# Steward configuration in effect (secrets masked)");
                print!("{}", config.to_masked_toml());
                Ok(())
            }
        }
    })
}

async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    // Fail on a taken port before touching the database.
    let addr = config.listen_addr()?;
    drop(
        std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow!("server.listen: cannot listen on {addr}: {e}"))?,
    );
    let services = server::open_services(config).await?;
    match services.ensure_admin(args.admin_password).await? {
        AdminBootstrap::Present => {}
        AdminBootstrap::Created {
            user,
            generated_password,
        } => match generated_password {
            Some(pw) => println!(
                "Created the administrator account.\n  login:    {}\n  password: {pw}\nThis password is shown only once: sign in and change it.",
                user.login
            ),
            None => println!(
                "Created the administrator account {:?} with the given password.",
                user.login
            ),
        },
    }
    if args.demo {
        let admin = services.first_admin().await?;
        match services.seed_demo(&admin).await? {
            Some(demo) => println!(
                "Added demo data: projects {}, {} work packages; people {} (password: {}).",
                demo.projects.join(" and "),
                demo.work_packages,
                demo.logins.join(", "),
                demo.password
            ),
            None => println!("The instance already has projects: no demo data added."),
        }
    }
    server::serve(config, services).await
}

fn init_logging(config: &Config) {
    use tracing_subscriber::prelude::*;
    let filter =
        tracing_subscriber::filter::Targets::from_str(&config.log.level).unwrap_or_else(|_| {
            tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO)
        });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false),
        )
        .with(filter)
        .try_init();
}

/// Reads a password from stdin (one line), for `--password-stdin`.
pub(crate) fn read_password_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.lines().next().unwrap_or("").to_string();
    if pw.is_empty() {
        return Err(anyhow!("no password on standard input"));
    }
    Ok(pw)
}
