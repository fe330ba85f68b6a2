//! `steward audit list`: the audit trail from the shell, the same entries
//! administrators read at `/api/v3/audit_events`.

use std::collections::HashMap;

use anyhow::anyhow;
use clap::Subcommand;
use steward_domain::date::Date;
use steward_domain::user::UserId;
use steward_domain::Timestamp;
use steward_services::{ServiceError, Services};
use steward_storage::audit_events::{AuditEvent, AuditFilter, UserCond};

use crate::config::Config;
use crate::server;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// List entries of the audit trail, newest first.
    List {
        /// Only this category: security or access.
        #[arg(long)]
        category: Option<String>,
        /// Only this event (`login.failed`), or events starting with a
        /// prefix when it ends in `*` (`login.*`).
        #[arg(long)]
        event: Option<String>,
        /// Only entries in which this user (login or id) acted.
        #[arg(long, value_name = "USER")]
        actor: Option<String>,
        /// Only entries about this user (login or id).
        #[arg(long, value_name = "USER")]
        target: Option<String>,
        /// Only entries from this day (YYYY-MM-DD, UTC) or moment
        /// (2024-05-01T10:00:00Z) on.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// text (one line per entry) or json (an array).
        #[arg(long, default_value = "text")]
        format: String,
    },
}

/// The most entries one listing prints.
const MAX_LIMIT: i64 = 100_000;

fn since(raw: &str) -> anyhow::Result<Timestamp> {
    let raw = raw.trim();
    if Date::parse(raw).is_some() {
        if let Some(t) = Timestamp::parse_rfc3339(&format!("{raw}T00:00:00Z")) {
            return Ok(t);
        }
    }
    Timestamp::parse_rfc3339(raw).ok_or_else(|| {
        anyhow!(
            "--since {raw:?} is neither a date (YYYY-MM-DD) nor a timestamp (2024-05-01T10:00:00Z)"
        )
    })
}

async fn user_id(services: &Services, option: &str, reference: &str) -> anyhow::Result<UserId> {
    match services.user_by_ref(reference).await {
        Ok(u) => Ok(u.id),
        // An erased person's entries point to the "Deleted user"; ids of
        // accounts that no longer exist can still be asked for.
        Err(ServiceError::NotFound(_)) => reference
            .trim()
            .parse::<UserId>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| anyhow!("{option}: there is no user {reference:?}")),
        Err(e) => Err(anyhow!(e)),
    }
}

pub async fn run(config: &Config, cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List {
        category,
        event,
        actor,
        target,
        since: since_raw,
        limit,
        format,
    } = cmd;
    // Check the arguments before touching the database.
    let json = super::json_format(&format)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(anyhow!("--limit must be between 1 and {MAX_LIMIT}"));
    }
    let mut filter = AuditFilter::default();
    if let Some(c) = category {
        let c = c.trim().to_ascii_lowercase();
        if c != "security" && c != "access" {
            return Err(anyhow!("--category takes security or access, not {c:?}"));
        }
        filter.categories = Some((vec![c], false));
    }
    if let Some(e) = event {
        let e = e.trim();
        if e.is_empty() || e.chars().any(char::is_control) {
            return Err(anyhow!("--event needs an event name such as login.failed"));
        }
        match e.strip_suffix('*') {
            Some(prefix) => filter.event_prefix = Some(prefix.to_string()),
            None => filter.events = Some((vec![e.to_string()], false)),
        }
    }
    if let Some(s) = &since_raw {
        filter.created_from = Some(since(s)?);
    }
    let services = server::open_services(config).await?;
    let result = async {
        if let Some(a) = &actor {
            filter.actor = Some(UserCond::In(vec![user_id(&services, "--actor", a).await?]));
        }
        if let Some(t) = &target {
            filter.target = Some(UserCond::In(vec![user_id(&services, "--target", t).await?]));
        }
        let (events, total) = services.audit_events(&filter, false, limit, 0).await?;
        let names = services.audit_names(&events).await?;
        if json {
            let list: Vec<serde_json::Value> = events.iter().map(|e| to_json(e, &names)).collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            for e in &events {
                println!("{}", to_text(e, &names));
            }
            if total > events.len() as i64 {
                eprintln!(
                    "({} of {total} entries shown; use --limit to see more)",
                    events.len()
                );
            } else if events.is_empty() {
                eprintln!("(no entries)");
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    services.db.close().await;
    result
}

fn who(id: Option<UserId>, names: &HashMap<UserId, String>) -> String {
    match id {
        Some(id) => match names.get(&id) {
            Some(name) => format!("{name} ({id})"),
            None => format!("#{id}"),
        },
        None => "-".into(),
    }
}

fn to_text(e: &AuditEvent, names: &HashMap<UserId, String>) -> String {
    format!(
        "{}  {:<8}  {:<24}  actor: {}  target: {}  request: {}  {}",
        e.created_at,
        e.category,
        e.event,
        who(e.actor_id, names),
        who(e.target_user_id, names),
        e.request_id.as_deref().unwrap_or("-"),
        e.details
    )
}

fn to_json(e: &AuditEvent, names: &HashMap<UserId, String>) -> serde_json::Value {
    let user = |id: Option<UserId>| match id {
        Some(id) => serde_json::json!({ "id": id, "name": names.get(&id) }),
        None => serde_json::Value::Null,
    };
    serde_json::json!({
        "id": e.id,
        "createdAt": e.created_at,
        "category": e.category,
        "event": e.event,
        "actor": user(e.actor_id),
        "targetUser": user(e.target_user_id),
        "requestId": e.request_id,
        "details": serde_json::from_str::<serde_json::Value>(&e.details)
            .unwrap_or_else(|_| serde_json::json!({})),
    })
}
