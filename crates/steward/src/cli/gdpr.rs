//! `steward gdpr ...`: the data controller's commands: the record of
//! processing activities, per-person export, erasure, residue scan and the
//! redaction queue.

use anyhow::{anyhow, Context};
use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum GdprCommand {
    /// Print the record of processing activities of this instance,
    /// generated from the personal-data registry and the configuration.
    Record {
        /// markdown or json
        #[arg(long, default_value = "markdown")]
        format: String,
    },
}

pub async fn run(config: &Config, cmd: GdprCommand) -> anyhow::Result<()> {
    match cmd {
        GdprCommand::Record { format } => record(config, &format),
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
