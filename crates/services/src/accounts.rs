//! Accounts: create, show, list, change, lock and unlock users, set
//! passwords, and make sure an instance has an administrator.

use steward_domain::user::{NewUser, User, UserChanges, UserId, UserStatus};
use steward_domain::{validate, Timestamp, ValidationError, ValidationErrors};
use steward_storage::users::{self, UserFilter, UserSort};
use steward_storage::{login_attempts, sessions, Conn};

use crate::audit::{self, current_actor, AuditEntry};
use crate::error::user_uniqueness;
use crate::{passwords, secrets, ServiceError, Services};

/// A request to create an account, as typed by a person (not yet validated).
#[derive(Clone, Debug, Default)]
pub struct CreateUser {
    pub login: Option<String>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub admin: bool,
    /// `active` (needs a password) or `invited`.
    pub status: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub password: Option<String>,
}

/// A request to change an account; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct UpdateUser {
    pub login: Option<String>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub password: Option<String>,
}

/// The result of [`Services::ensure_admin`].
pub enum AdminBootstrap {
    /// An active administrator exists already.
    Present,
    /// A new `admin` account was created; `generated_password` is set when
    /// no password was given and one was made up (shown once, never stored).
    Created {
        user: Box<User>,
        generated_password: Option<String>,
    },
}

fn required(
    v: Option<String>,
    attribute: &'static str,
    label: &str,
) -> Result<String, ValidationError> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ValidationError::new(attribute, format!("{label} can't be blank.")))
}

impl Services {
    pub async fn user(&self, id: UserId) -> Result<User, ServiceError> {
        let mut conn = self.db.conn().await?;
        users::find(&mut conn, id)
            .await?
            .filter(|u| !u.is_builtin())
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Finds an account by numeric id or by login (CLI arguments).
    pub async fn user_by_ref(&self, reference: &str) -> Result<User, ServiceError> {
        let mut conn = self.db.conn().await?;
        let found = match reference.parse::<UserId>() {
            Ok(id) => users::find(&mut conn, id).await?,
            Err(_) => users::find_by_login(&mut conn, reference).await?,
        };
        found
            .filter(|u| !u.is_builtin())
            .ok_or(ServiceError::NotFound("user"))
    }

    pub async fn list_users(
        &self,
        filter: &UserFilter,
        sort: &[(UserSort, bool)],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let list = users::list(&mut conn, filter, sort, limit, offset).await?;
        let total = users::count(&mut conn, filter).await?;
        Ok((list, total))
    }

    pub async fn create_user(&self, input: CreateUser) -> Result<User, ServiceError> {
        // Every field is checked and every refusal reported together; the
        // password is hashed only once all passed.
        let mut errors = ValidationErrors::new();
        let status = match input.status.as_deref().map(str::trim) {
            None | Some("" | "active") => Some(UserStatus::Active),
            Some("invited") => Some(UserStatus::Invited),
            Some(other) => {
                errors.add(
                    "status",
                    format!("Status {other:?} is not allowed for a new user; use \"active\" or \"invited\"."),
                );
                None
            }
        };
        let email =
            errors.check(required(input.email, "email", "Email").and_then(|v| validate::email(&v)));
        // An invited person may have no login yet: their email serves, as in OpenProject.
        let login = match (input.login, status) {
            (None, Some(UserStatus::Invited)) => email.clone(),
            (login, _) => {
                errors.check(required(login, "login", "Login").and_then(|v| validate::login(&v)))
            }
        };
        let firstname = errors.check(
            required(input.firstname, "firstName", "First name")
                .and_then(|v| validate::name("firstName", &v)),
        );
        let lastname = errors.check(
            required(input.lastname, "lastName", "Last name")
                .and_then(|v| validate::name("lastName", &v)),
        );
        let language = errors.check(validate::language(
            input.language.as_deref().unwrap_or("en"),
        ));
        let time_zone = errors.check(validate::time_zone(
            input.time_zone.as_deref().unwrap_or("UTC"),
        ));
        match (status, &input.password) {
            (Some(UserStatus::Active), None) => {
                errors.add("password", "Password can't be blank for an active user.");
            }
            (Some(UserStatus::Invited), Some(_)) => {
                errors.add("password", "An invited user sets their own password.");
            }
            (_, Some(pw)) => {
                errors.check(validate::password(pw, self.policy.password_min_length));
            }
            (_, None) => {}
        }
        errors.finish()?;
        let (
            Some(status),
            Some(email),
            Some(login),
            Some(firstname),
            Some(lastname),
            Some(language),
            Some(time_zone),
        ) = (
            status, email, login, firstname, lastname, language, time_zone,
        )
        else {
            return Err(ServiceError::Internal(
                "a user check refused without a reason".into(),
            ));
        };
        let new = NewUser {
            login,
            firstname,
            lastname,
            email,
            admin: input.admin,
            status,
            language,
            time_zone,
        };
        let hash = match input.password {
            Some(pw) => Some(passwords::hash(pw, self.policy.argon2).await?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let user = users::insert(&mut tx, &new, hash.as_deref(), Timestamp::now())
            .await
            .map_err(user_uniqueness)?;
        audit::record(
            &mut tx,
            AuditEntry::security("user.created", current_actor(), Some(user.id)).with_details(
                serde_json::json!({ "admin": user.admin, "status": user.status.as_str() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Changes an account. Taking away the last active administrator's
    /// admin flag is refused; a new password ends the user's sessions.
    pub async fn update_user(&self, id: UserId, input: UpdateUser) -> Result<User, ServiceError> {
        let changes = self.checked_changes(&input)?;
        let hash = match input.password {
            Some(pw) => Some(passwords::hash(pw, self.policy.argon2).await?),
            None => None,
        };
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        let current = users::find(&mut tx, id)
            .await?
            .filter(|u| !u.is_builtin())
            .ok_or(ServiceError::NotFound("user"))?;
        if changes.admin == Some(false) && current.admin {
            guard_last_admin(&mut tx, id, "remove the administrator flag from").await?;
        }
        let mut fields = changed_fields(&current, &changes);
        let admin_change = changes.admin.filter(|a| *a != current.admin);
        let mut user = current;
        if !changes.is_empty() {
            user = users::update(&mut tx, id, &changes, now)
                .await
                .map_err(user_uniqueness)?
                .ok_or(ServiceError::NotFound("user"))?;
        }
        let actor = current_actor();
        if let Some(admin) = admin_change {
            let event = if admin {
                "user.admin_granted"
            } else {
                "user.admin_revoked"
            };
            audit::record(&mut tx, AuditEntry::security(event, actor, Some(id))).await?;
        }
        if let Some(hash) = hash {
            users::set_password_hash(&mut tx, id, &hash, now).await?;
            let ended = sessions::delete_for_user(&mut tx, id, None).await?;
            audit::record(
                &mut tx,
                AuditEntry::security("password.changed", actor, Some(id))
                    .with_details(serde_json::json!({ "sessions_ended": ended })),
            )
            .await?;
            fields.push("password");
        }
        // The change journal of the account (rectification, Art. 16): who
        // changed which fields; never the old or new values.
        if !fields.is_empty() {
            audit::record(
                &mut tx,
                AuditEntry::security("user.updated", actor, Some(id))
                    .with_details(serde_json::json!({ "fields": fields })),
            )
            .await?;
        }
        if let Some(actor) = actor.filter(|a| *a != id && !fields.is_empty()) {
            audit::record(
                &mut tx,
                AuditEntry::access("personal_data.edited", actor, id)
                    .with_details(serde_json::json!({ "resource": "user", "fields": fields })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Locks an account: it can no longer sign in and its sessions end.
    pub async fn lock_user(&self, id: UserId) -> Result<User, ServiceError> {
        let mut tx = self.db.begin().await?;
        let current = users::find(&mut tx, id)
            .await?
            .filter(|u| !u.is_builtin())
            .ok_or(ServiceError::NotFound("user"))?;
        if current.admin && current.status == UserStatus::Active {
            guard_last_admin(&mut tx, id, "lock").await?;
        }
        let user = users::set_status(&mut tx, id, UserStatus::Locked, Timestamp::now())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let ended = sessions::delete_for_user(&mut tx, id, None).await?;
        audit::record(
            &mut tx,
            AuditEntry::security("user.locked", current_actor(), Some(id))
                .with_details(serde_json::json!({ "sessions_ended": ended })),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Unlocks an account; this also lifts a temporary block after failed sign-ins.
    pub async fn unlock_user(&self, id: UserId) -> Result<User, ServiceError> {
        let mut tx = self.db.begin().await?;
        let current = users::find(&mut tx, id)
            .await?
            .filter(|u| !u.is_builtin())
            .ok_or(ServiceError::NotFound("user"))?;
        let status = if current.status == UserStatus::Locked {
            UserStatus::Active
        } else {
            current.status
        };
        let now = Timestamp::now();
        users::set_status(&mut tx, id, status, now).await?;
        users::record_unblock(&mut tx, id).await?;
        // The sign-in throttle of this login, from every address, starts
        // again from here.
        let since = now.minus_seconds(self.policy.lockout_seconds);
        let failures =
            login_attempts::recent_failures(&mut tx, &current.login, None, since).await?;
        let max = self.policy.max_failed_logins;
        let was_blocked = max > 0 && failures.count >= max;
        login_attempts::insert(
            &mut tx,
            Some(id),
            &current.login,
            false,
            "unblocked",
            None,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::security("user.unlocked", current_actor(), Some(id)).with_details(
                serde_json::json!({
                    "was_locked": current.status == UserStatus::Locked,
                    "was_blocked": was_blocked,
                }),
            ),
        )
        .await?;
        let user = users::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a new password and ends every session of the user except `keep`.
    pub async fn set_password(
        &self,
        id: UserId,
        password: String,
        keep_session: Option<i64>,
    ) -> Result<(), ServiceError> {
        validate::password(&password, self.policy.password_min_length)?;
        let hash = passwords::hash(password, self.policy.argon2).await?;
        let mut tx = self.db.begin().await?;
        if !users::set_password_hash(&mut tx, id, &hash, Timestamp::now()).await? {
            return Err(ServiceError::NotFound("user"));
        }
        let ended = sessions::delete_for_user(&mut tx, id, keep_session).await?;
        audit::record(
            &mut tx,
            AuditEntry::security("password.changed", current_actor(), Some(id))
                .with_details(serde_json::json!({ "sessions_ended": ended })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest active administrator.
    pub async fn first_admin(&self) -> Result<User, ServiceError> {
        let filter = UserFilter {
            admin: Some(true),
            status: Some(vec![UserStatus::Active]),
            ..UserFilter::default()
        };
        let mut conn = self.db.conn().await?;
        users::list(&mut conn, &filter, &[(UserSort::Id, false)], 1, 0)
            .await?
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound("administrator"))
    }

    /// Creates the first administrator (`admin`) when the instance has no
    /// active one. With no password given, a random one is generated.
    pub async fn ensure_admin(
        &self,
        password: Option<String>,
    ) -> Result<AdminBootstrap, ServiceError> {
        let mut conn = self.db.conn().await?;
        if users::count_active_admins(&mut conn, None).await? > 0 {
            return Ok(AdminBootstrap::Present);
        }
        drop(conn);
        let generated = password.is_none().then(secrets::random_password);
        let user = self
            .create_user(CreateUser {
                login: Some("admin".into()),
                email: Some("admin@example.net".into()),
                firstname: Some("Steward".into()),
                lastname: Some("Admin".into()),
                admin: true,
                status: Some("active".into()),
                password: password.or_else(|| generated.clone()),
                ..CreateUser::default()
            })
            .await?;
        Ok(AdminBootstrap::Created {
            user: Box::new(user),
            generated_password: generated,
        })
    }
}

impl Services {
    /// The changes `input` asks for, checked: every refused field is
    /// reported at once. The password is checked, not hashed.
    pub(crate) fn checked_changes(
        &self,
        input: &UpdateUser,
    ) -> Result<UserChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut check =
            |v: &Option<String>, rule: &dyn Fn(&str) -> Result<String, ValidationError>| {
                v.as_deref().and_then(|v| errors.check(rule(v)))
            };
        let changes = UserChanges {
            login: check(&input.login, &validate::login),
            firstname: check(&input.firstname, &|v| validate::name("firstName", v)),
            lastname: check(&input.lastname, &|v| validate::name("lastName", v)),
            email: check(&input.email, &validate::email),
            admin: input.admin,
            language: check(&input.language, &validate::language),
            time_zone: check(&input.time_zone, &validate::time_zone),
        };
        if let Some(pw) = &input.password {
            errors.check(validate::password(pw, self.policy.password_min_length));
        }
        errors.finish()?;
        Ok(changes)
    }
}

/// The API names of the attributes `changes` actually alters (field names
/// only: the audit trail never holds the values).
fn changed_fields(current: &User, changes: &UserChanges) -> Vec<&'static str> {
    let mut out = Vec::new();
    let differs = |new: &Option<String>, old: &str| new.as_deref().is_some_and(|n| n != old);
    if differs(&changes.login, &current.login) {
        out.push("login");
    }
    if differs(&changes.firstname, &current.firstname) {
        out.push("firstName");
    }
    if differs(&changes.lastname, &current.lastname) {
        out.push("lastName");
    }
    if changes.email.is_some() && changes.email != current.email {
        out.push("email");
    }
    if changes.admin.is_some_and(|a| a != current.admin) {
        out.push("admin");
    }
    if differs(&changes.language, &current.language) {
        out.push("language");
    }
    if differs(&changes.time_zone, &current.time_zone) {
        out.push("timeZone");
    }
    out
}

/// Refuses a change that would leave the instance without an active administrator.
async fn guard_last_admin(conn: &mut Conn, id: UserId, what: &str) -> Result<(), ServiceError> {
    if users::count_active_admins(conn, Some(id)).await? == 0 {
        return Err(ServiceError::Conflict(format!(
            "Cannot {what} the last active administrator."
        )));
    }
    Ok(())
}
