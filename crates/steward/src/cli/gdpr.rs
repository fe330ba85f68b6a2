//! `steward gdpr ...`: the data controller's commands: the record of
//! processing activities, per-person export, erasure, residue scan and the
//! redaction queue.

use anyhow::{anyhow, Context};
use clap::Subcommand;

use steward_services::gdpr::redaction::{parse_status, Resolution};
use steward_services::Services;

use super::{gdpr_erase, json_format};
use crate::config::Config;
use crate::server;

#[derive(Subcommand, Debug)]
pub enum GdprCommand {
    /// Print the record of processing activities of this instance,
    /// generated from the personal-data registry and the configuration.
    Record {
        /// markdown or json
        #[arg(long, default_value = "markdown")]
        format: String,
    },
    /// Erase a person (id or login): sessions and tokens end, personal data
    /// is deleted, contributions point to the "Deleted user", and a residue
    /// scan must be clean. Without --yes, shows what would change.
    Erase {
        user: String,
        /// Really erase.
        #[arg(long)]
        yes: bool,
        /// text or json (the certificate)
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Search every table, column, the request log and caches for a
    /// person's identifiers: an existing USER, or the identifiers of
    /// someone erased (--id, --login, --email, --first-name, --last-name).
    /// Exits 1 when residue is found.
    Scan(gdpr_erase::ScanArgs),
    /// List the erasure certificates.
    Certificates,
    /// Print one erasure certificate.
    Certificate {
        id: i64,
        /// text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// List the redaction queue: free text that names erased people.
    Redactions {
        /// open, redacted, dismissed or all
        #[arg(long, default_value = "open")]
        status: String,
    },
    /// Redact an entry of the redaction queue.
    Redact { id: i64 },
    /// Dismiss an entry of the redaction queue (the text names someone else).
    Dismiss { id: i64 },
    /// Export everything Steward holds about a person (id or login) to a
    /// .tar.gz archive (GDPR Art. 15 and 20) and print its path, size,
    /// SHA-256 and counts.
    Export {
        /// The person: a numeric user id or a login.
        user: String,
        /// The archive to write; it must not exist. Default:
        /// steward-personal-data-user-ID-TIME.tar.gz in the working directory.
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
}

pub async fn run(config: &Config, cmd: GdprCommand) -> anyhow::Result<()> {
    if let GdprCommand::Record { format } = &cmd {
        return record(config, format);
    }
    let output = Output::of(&cmd)?;
    let services = server::open_services(config).await?;
    let result = run_with(&services, cmd, output).await;
    services.db.close().await;
    result
}

/// What a command's `--format` and `--status` ask for, checked before the
/// database is opened (or created and migrated): a mistyped argument is
/// refused first.
struct Output {
    json: bool,
    status: Option<&'static str>,
}

impl Output {
    fn of(cmd: &GdprCommand) -> anyhow::Result<Output> {
        let mut output = Output {
            json: false,
            status: None,
        };
        match cmd {
            GdprCommand::Erase { format, .. } | GdprCommand::Certificate { format, .. } => {
                output.json = json_format(format)?;
            }
            GdprCommand::Scan(args) => output.json = args.check()?,
            GdprCommand::Redactions { status } => {
                output.status = parse_status(status).map_err(|e| anyhow!("--status: {e}"))?;
            }
            _ => {}
        }
        Ok(output)
    }
}

async fn run_with(services: &Services, cmd: GdprCommand, output: Output) -> anyhow::Result<()> {
    match cmd {
        GdprCommand::Record { .. } => Ok(()),
        GdprCommand::Erase { user, yes, .. } => {
            gdpr_erase::erase(services, &user, yes, output.json).await
        }
        GdprCommand::Scan(args) => gdpr_erase::scan(services, args, output.json).await,
        GdprCommand::Certificates => gdpr_erase::certificates(services).await,
        GdprCommand::Certificate { id, .. } => {
            gdpr_erase::certificate(services, id, output.json).await
        }
        GdprCommand::Redactions { .. } => gdpr_erase::redactions(services, output.status).await,
        GdprCommand::Redact { id } => gdpr_erase::resolve(services, id, Resolution::Redact).await,
        GdprCommand::Dismiss { id } => gdpr_erase::resolve(services, id, Resolution::Dismiss).await,
        GdprCommand::Export { user, output } => {
            super::gdpr_export::export(services, &user, output).await
        }
    }
}

fn record(config: &Config, format: &str) -> anyhow::Result<()> {
    let record = steward_domain::record::build(&config.record_context());
    match format {
        "markdown" | "md" => print!("{}", record.to_markdown()),
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&record).context("rendering the record")?
        ),
        other => return Err(anyhow!("--format {other:?} must be markdown or json")),
    }
    Ok(())
}
