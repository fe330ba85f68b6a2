//! `steward user ...`: account administration from the shell.

use anyhow::anyhow;
use clap::Subcommand;
use steward_domain::user::User;
use steward_services::accounts::{CreateUser, UpdateUser};
use steward_services::{secrets, ServiceError};
use steward_storage::users::{UserFilter, UserSort};

use super::service_error;
use crate::config::Config;
use crate::server;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an active account. Without --password-stdin a password is generated and printed.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        #[arg(long, default_value = "en")]
        language: String,
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        /// Only accounts with this status (active, registered, invited, locked).
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one account (by login or id).
    Show { user: String },
    /// Correct an account's personal data (rectification): only the
    /// options given change.
    Update {
        user: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Lock an account: it can no longer sign in and its sessions end.
    Lock { user: String },
    /// Unlock an account (also lifts a block after failed sign-ins).
    Unlock { user: String },
    /// Set a new password; the user's sessions end.
    SetPassword {
        user: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for an account and print it (shown once).
    Token {
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn describe(u: &User) -> String {
    format!(
        "id:         {}\nlogin:      {}\nname:       {}\nemail:      {}\nadmin:      {}\nstatus:     {}\nlanguage:   {}\ntime zone:  {}\ncreated:    {}\nlast login: {}{}",
        u.id,
        u.login,
        u.name(),
        u.email.as_deref().unwrap_or(""),
        if u.admin { "yes" } else { "no" },
        u.status.as_str(),
        u.language,
        u.time_zone,
        u.created_at,
        u.last_login_at.map_or("never".to_string(), |t| t.to_string()),
        u.blocked_until
            .map_or(String::new(), |t| format!("\nblocked until: {t}")),
    )
}

pub async fn run(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let services = server::open_services(config).await?;
    let result = run_with(&services, cmd).await;
    services.db.close().await;
    result
}

async fn run_with(services: &steward_services::Services, cmd: UserCommand) -> anyhow::Result<()> {
    let lookup = |reference: String| async move {
        services.user_by_ref(&reference).await.map_err(|e| match e {
            ServiceError::NotFound(_) => anyhow!("no user with login or id {reference:?}"),
            other => service_error(other),
        })
    };
    match cmd {
        UserCommand::Update {
            user,
            first_name,
            last_name,
            email,
            language,
            time_zone,
        } => {
            if first_name.is_none()
                && last_name.is_none()
                && email.is_none()
                && language.is_none()
                && time_zone.is_none()
            {
                return Err(anyhow!(
                    "nothing to change: give --first-name, --last-name, --email, --language or --time-zone"
                ));
            }
            let id = lookup(user).await?.id;
            let updated = services
                .update_user(
                    id,
                    UpdateUser {
                        firstname: first_name,
                        lastname: last_name,
                        email,
                        language,
                        time_zone,
                        ..UpdateUser::default()
                    },
                )
                .await
                .map_err(service_error)?;
            println!("{}", describe(&updated));
        }
        UserCommand::Create {
            login,
            email,
            first_name,
            last_name,
            admin,
            language,
            time_zone,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (super::read_password_stdin()?, false)
            } else {
                (secrets::random_password(), true)
            };
            let user = services
                .create_user(CreateUser {
                    login: Some(login),
                    email: Some(email),
                    firstname: Some(first_name),
                    lastname: Some(last_name),
                    admin,
                    status: Some("active".into()),
                    language: Some(language),
                    time_zone: Some(time_zone),
                    password: Some(password.clone()),
                })
                .await
                .map_err(service_error)?;
            println!("Created user {} (id {}).", user.login, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List { status } => {
            let mut filter = UserFilter::default();
            if let Some(s) = status {
                let st = steward_domain::user::UserStatus::parse(&s).ok_or_else(|| {
                    anyhow!("--status {s:?} must be active, registered, invited or locked")
                })?;
                filter.status = Some(vec![st]);
            }
            let (users, total) = services
                .list_users(&filter, &[(UserSort::Id, false)], 100_000, 0)
                .await
                .map_err(service_error)?;
            println!(
                "{:>6}  {:<24} {:<30} {:<32} {:<8} admin",
                "id", "login", "name", "email", "status"
            );
            for u in &users {
                println!(
                    "{:>6}  {:<24} {:<30} {:<32} {:<8} {}",
                    u.id,
                    u.login,
                    u.name(),
                    u.email.as_deref().unwrap_or(""),
                    u.status.as_str(),
                    if u.admin { "yes" } else { "" }
                );
            }
            println!("{total} user(s)");
        }
        UserCommand::Show { user } => {
            let u = lookup(user).await?;
            println!("{}", describe(&u));
        }
        UserCommand::Lock { user } => {
            let u = lookup(user).await?;
            let u = services.lock_user(u.id).await.map_err(service_error)?;
            println!(
                "Locked {} (id {}); their sessions have ended.",
                u.login, u.id
            );
        }
        UserCommand::Unlock { user } => {
            let u = lookup(user).await?;
            let u = services.unlock_user(u.id).await.map_err(service_error)?;
            println!("Unlocked {} (id {}).", u.login, u.id);
        }
        UserCommand::SetPassword {
            user,
            password_stdin,
        } => {
            let u = lookup(user).await?;
            let (password, generated) = if password_stdin {
                (super::read_password_stdin()?, false)
            } else {
                (secrets::random_password(), true)
            };
            services
                .update_user(
                    u.id,
                    UpdateUser {
                        password: Some(password.clone()),
                        ..UpdateUser::default()
                    },
                )
                .await
                .map_err(service_error)?;
            println!(
                "Set a new password for {}; their sessions have ended.",
                u.login
            );
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Token { user, name } => {
            let u = lookup(user).await?;
            let (_, secret) = services
                .create_api_token(u.id, &name)
                .await
                .map_err(service_error)?;
            println!("{secret}");
        }
    }
    Ok(())
}
