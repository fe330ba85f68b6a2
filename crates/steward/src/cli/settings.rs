//! `steward settings ...`: instance settings from the shell, the same ones
//! administrators change through `/api/v3/settings`.

use anyhow::anyhow;
use clap::Subcommand;
use steward_services::Services;

use crate::config::Config;
use crate::server;

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Show the instance settings.
    Show,
    /// Change an instance setting: `anonymous-access on|off` lets anonymous
    /// visitors read public projects (off by default);
    /// `users-deletable-by-admins on|off` (on by default) and
    /// `users-deletable-by-self on|off` (off by default) say who may delete
    /// accounts; `session-idle-timeout-minutes N` (5 to 43200) and
    /// `session-absolute-lifetime-hours N` (1 to 8760) say how long sessions
    /// last (the configuration file's `[session]` values until set);
    /// `remote-images on|off` lets texts show images from other hosts (off
    /// by default: they are shown as links).
    Set {
        /// The setting: anonymous-access, users-deletable-by-admins,
        /// users-deletable-by-self, session-idle-timeout-minutes,
        /// session-absolute-lifetime-hours or remote-images.
        name: String,
        /// The new value: on or off, or a whole number for the session limits.
        value: String,
    },
}

/// The settings the CLI knows, by the name it uses for them.
const SETTINGS: &[&str] = &[
    "anonymous-access",
    "users-deletable-by-admins",
    "users-deletable-by-self",
    "session-idle-timeout-minutes",
    "session-absolute-lifetime-hours",
    "remote-images",
];

/// One change the CLI was asked for.
#[derive(Clone, Copy, Debug)]
enum Change {
    AnonymousAccess(bool),
    DeletableByAdmins(bool),
    DeletableBySelf(bool),
    SessionIdleMinutes(i64),
    SessionAbsoluteHours(i64),
    RemoteImages(bool),
}

fn on_off(v: bool) -> &'static str {
    if v {
        "on"
    } else {
        "off"
    }
}

fn parse_switch(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(anyhow!("{name} takes on or off, not {value:?}")),
    }
}

fn parse_number(name: &str, value: &str) -> anyhow::Result<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| anyhow!("{name} takes a whole number, not {value:?}"))
}

pub async fn run(config: &Config, cmd: SettingsCommand) -> anyhow::Result<()> {
    // Check the arguments before touching the database.
    let change = match &cmd {
        SettingsCommand::Show => None,
        SettingsCommand::Set { name, value } => match name.as_str() {
            "anonymous-access" => Some(Change::AnonymousAccess(parse_switch(name, value)?)),
            "users-deletable-by-admins" => {
                Some(Change::DeletableByAdmins(parse_switch(name, value)?))
            }
            "users-deletable-by-self" => Some(Change::DeletableBySelf(parse_switch(name, value)?)),
            "session-idle-timeout-minutes" => {
                Some(Change::SessionIdleMinutes(parse_number(name, value)?))
            }
            "session-absolute-lifetime-hours" => {
                Some(Change::SessionAbsoluteHours(parse_number(name, value)?))
            }
            "remote-images" => Some(Change::RemoteImages(parse_switch(name, value)?)),
            other => {
                return Err(anyhow!(
                    "unknown setting {other:?}; known settings: {}",
                    SETTINGS.join(", ")
                ))
            }
        },
    };
    let services = server::open_services(config).await?;
    let result = run_with(&services, change).await;
    services.db.close().await;
    result
}

async fn run_with(services: &Services, change: Option<Change>) -> anyhow::Result<()> {
    match change {
        None => {
            let anonymous = services.anonymous_access().await?;
            let deletion = services.deletion_settings().await?;
            println!(
                "anonymous-access: {}  (anonymous visitors may read public projects)",
                on_off(anonymous)
            );
            println!(
                "users-deletable-by-admins: {}  (administrators may delete users)",
                on_off(deletion.by_admins)
            );
            println!(
                "users-deletable-by-self: {}  (people may delete their own account)",
                on_off(deletion.by_self)
            );
            let limits = services.session_limits().await?;
            println!(
                "session-idle-timeout-minutes: {}  (a session ends after this long without use)",
                limits.idle_minutes()
            );
            println!(
                "session-absolute-lifetime-hours: {}  (a session ends this long after sign-in)",
                limits.absolute_hours()
            );
            println!(
                "remote-images: {}  (texts show images from other hosts, which learn readers' IP addresses)",
                on_off(services.text_settings().await?.remote_images)
            );
        }
        Some(Change::RemoteImages(allowed)) => {
            services.set_remote_images(allowed).await?;
            if allowed {
                println!("remote-images is now on: texts show images from other hosts, and the record of processing names those hosts as recipients.");
            } else {
                println!("remote-images is now off: images from other hosts are shown as links.");
            }
        }
        Some(Change::SessionIdleMinutes(minutes)) => {
            services.set_session_limits(Some(minutes), None).await?;
            println!("session-idle-timeout-minutes is now {minutes}.");
        }
        Some(Change::SessionAbsoluteHours(hours)) => {
            services.set_session_limits(None, Some(hours)).await?;
            println!("session-absolute-lifetime-hours is now {hours}.");
        }
        Some(Change::DeletableByAdmins(v)) => {
            services.set_deletion_settings(Some(v), None).await?;
            println!("users-deletable-by-admins is now {}.", on_off(v));
        }
        Some(Change::DeletableBySelf(v)) => {
            services.set_deletion_settings(None, Some(v)).await?;
            println!("users-deletable-by-self is now {}.", on_off(v));
        }
        Some(Change::AnonymousAccess(allowed)) => {
            services.set_anonymous_access(allowed).await?;
            if allowed {
                println!(
                    "anonymous-access is now on: anonymous visitors may read public projects."
                );
            } else {
                println!(
                    "anonymous-access is now off: anonymous visitors see nothing without signing in."
                );
            }
        }
    }
    Ok(())
}
