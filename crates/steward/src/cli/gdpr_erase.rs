//! `steward gdpr erase | scan | certificates | certificate | redactions |
//! redact | dismiss`: erasure and its proof from the shell. The operator
//! is recorded as such on certificates and redactions (the built-in system
//! user), never as a person.

use anyhow::anyhow;
use steward_domain::user::SYSTEM_USER_ID;
use steward_services::gdpr::certificate::Requester;
use steward_services::gdpr::redaction::Resolution;
use steward_services::gdpr::scan::{ScanReport, ScanTarget};
use steward_services::Services;

use super::json_format;

fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| anyhow!("rendering JSON: {e}"))
}

/// Without `yes`: prints what would change and refuses. With it: erases
/// and prints the certificate.
pub async fn erase(
    services: &Services,
    user: &str,
    yes: bool,
    json_out: bool,
) -> anyhow::Result<()> {
    let id = match services.user_by_ref(user).await {
        Ok(u) => u.id,
        // An id erased before: erase_user recognises it from its
        // certificate and answers harmlessly.
        Err(e) => match user.parse::<i64>() {
            Ok(id) if id > 0 => id,
            _ => return Err(anyhow!("user {user:?}: {e}")),
        },
    };
    if !yes {
        let preview = services
            .erasure_preview(id)
            .await
            .map_err(|e| anyhow!("user {user:?}: {e}"))?;
        println!("Erasing user {id} would change:");
        for c in &preview.changes {
            println!(
                "  {:<40} {:>7} row(s)  {}",
                format!("{}.{}", c.table, c.column),
                c.rows,
                c.action
            );
        }
        println!(
            "  texts whose mentions will name the Deleted user: {}",
            preview.mentions_in_text
        );
        println!(
            "  texts queued for review (redaction queue): {}",
            preview.texts_for_review
        );
        println!(
            "  own contributions kept, by the Deleted user: {}",
            preview.own_contributions
        );
        return Err(anyhow!(
            "nothing was erased: add --yes to erase user {user:?}"
        ));
    }
    let outcome = services
        .erase_user(id, Requester::Operator)
        .await
        .map_err(|e| anyhow!("erasing user {user:?}: {e}"))?;
    if json_out {
        println!("{}", json(&outcome.certificate)?);
    } else {
        if outcome.already_erased {
            println!(
                "User {id} was erased before (certificate {}); nothing to do.\n",
                outcome.certificate_id
            );
        }
        print!("{}", outcome.certificate.to_text());
    }
    Ok(())
}

/// What `steward gdpr scan` looks for: an existing USER, or the
/// identifiers of someone erased.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    user: Option<String>,
    #[arg(long)]
    id: Option<i64>,
    #[arg(long)]
    login: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    /// text or json
    #[arg(long, default_value = "text")]
    format: String,
}

impl ScanArgs {
    /// Whether the output is JSON; refuses a scan with nothing to look for.
    pub fn check(&self) -> anyhow::Result<bool> {
        let json_out = json_format(&self.format)?;
        let identifiers = [&self.login, &self.email, &self.first_name, &self.last_name];
        if self.user.is_none() && self.id.is_none() && identifiers.iter().all(|i| i.is_none()) {
            return Err(anyhow!(
                "give the USER to scan for, or the identifiers of someone erased (--id, --login, --email, --first-name, --last-name)"
            ));
        }
        Ok(json_out)
    }
}

pub async fn scan(services: &Services, args: ScanArgs, json_out: bool) -> anyhow::Result<()> {
    let target = match &args.user {
        Some(user) => services
            .scan_target_of(user)
            .await
            .map_err(|e| anyhow!("user {user:?}: {e} (to scan for someone erased, give --id, --login, --email, --first-name, --last-name)"))?,
        None => ScanTarget {
            id: args.id,
            login: args.login,
            email: args.email,
            firstname: args.first_name,
            lastname: args.last_name,
            secret_hashes: Vec::new(),
        },
    };
    let report = services
        .residue_scan(&target)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if json_out {
        println!("{}", json(&report)?);
    } else {
        print_scan(&report);
    }
    if report.clean {
        Ok(())
    } else {
        Err(anyhow!(
            "the scan is not clean: {} residue hit(s), {} request-log line(s), {} cache entr(ies)",
            report.residue.len(),
            report.request_log_lines,
            report.cache_entries
        ))
    }
}

fn print_scan(r: &ScanReport) {
    println!(
        "Searched {} tables, {} columns; request log and caches.",
        r.tables_checked, r.columns_checked
    );
    for (title, hits) in [
        ("Residue", &r.residue),
        ("Free text (redaction queue)", &r.free_text),
        ("Held for the redaction queue", &r.held),
    ] {
        println!("{title}: {}", hits.len());
        for h in hits {
            println!("  {}.{} row {} ({})", h.table, h.column, h.row, h.found);
        }
    }
    println!("Request-log lines: {}", r.request_log_lines);
    println!("Cache entries: {}", r.cache_entries);
    println!("Result: {}", if r.clean { "CLEAN" } else { "NOT CLEAN" });
}

pub async fn certificates(services: &Services) -> anyhow::Result<()> {
    let (list, total) = services
        .erasure_certificates(0, 1000)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("{total} erasure certificate(s)");
    for c in list {
        println!(
            "  {:>5}  {}  requested by user {}  {}",
            c.id, c.completed_at, c.requested_by, c.subject_hash
        );
    }
    Ok(())
}

pub async fn certificate(services: &Services, id: i64, json_out: bool) -> anyhow::Result<()> {
    let doc = services
        .erasure_certificate(id)
        .await
        .map_err(|e| anyhow!("certificate {id}: {e}"))?;
    if json_out {
        println!("{}", json(&doc)?);
    } else {
        print!("{}", doc.to_text());
    }
    Ok(())
}

pub async fn redactions(services: &Services, status: Option<&'static str>) -> anyhow::Result<()> {
    let (list, total) = services
        .redaction_queue(status, 0, 1000)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("{total} entr{}", if total == 1 { "y" } else { "ies" });
    for e in list {
        println!(
            "  #{:<5} {:<9} {}.{} row {} (certificate {})",
            e.id, e.status, e.table, e.column, e.row_id, e.certificate_id
        );
        for c in e.contexts {
            println!("           …{}…", c.replace('\n', " "));
        }
    }
    Ok(())
}

pub async fn resolve(services: &Services, id: i64, resolution: Resolution) -> anyhow::Result<()> {
    let e = services
        .resolve_redaction(id, resolution, SYSTEM_USER_ID)
        .await
        .map_err(|e| anyhow!("redaction entry {id}: {e}"))?;
    println!("Entry #{} is now {}.", e.id, e.status);
    Ok(())
}
