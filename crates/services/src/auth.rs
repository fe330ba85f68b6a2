//! Authentication: signing in with a password (with brute-force
//! protection), server-side sessions and API tokens.

use steward_domain::user::{User, UserId, UserStatus};
use steward_domain::{validate, Timestamp, ValidationError};
use steward_storage::api_tokens::{self, ApiToken};
use steward_storage::sessions::{self, NewSession, Session};
use steward_storage::{login_attempts, users};

use crate::audit::{self, current_actor, AuditEntry};
use crate::passwords::{self, Verified};
use crate::{secrets, ServiceError, Services};

/// Last-use times are written at most this often, so that authenticated
/// reads do not turn into writes on every request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong login or password; deliberately does not say which.
    #[error("Invalid login or password.")]
    InvalidCredentials,
    /// Too many failures with this login from this address: the same
    /// answer whether the account exists or not, and only for that
    /// address (see [`throttle_wait`]).
    #[error(
        "Too many failed sign-ins with this login from your address: try again after {until}."
    )]
    Blocked { until: Timestamp },
    #[error("This account is locked. Ask an administrator to unlock it.")]
    Locked,
    #[error("This account is not activated yet.")]
    NotActive,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<steward_storage::StorageError> for SignInError {
    fn from(e: steward_storage::StorageError) -> Self {
        SignInError::Service(e.into())
    }
}

/// Why a password is checked: to sign in, or to confirm a change of the
/// password (then a success is no sign-in of its own in the audit trail).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    SignIn,
    Reauthenticate,
}

/// A failed password check, audited with its reason (never with what was
/// typed: that is in `login_attempts`, with its own short retention).
fn failed_login(target: Option<UserId>, reason: &str, purpose: Purpose) -> AuditEntry<'static> {
    let mut details = serde_json::json!({ "reason": reason });
    if purpose == Purpose::Reauthenticate {
        details["during"] = "password_change".into();
    }
    // The actor is whoever the request is authenticated as: nobody for a
    // sign-in, the person themself when they confirm a password change.
    AuditEntry::security("login.failed", current_actor(), target).with_details(details)
}

/// The first wait after the limit of failures; each further failure
/// doubles it, up to the configured lockout.
const FIRST_WAIT_SECONDS: i64 = 30;

/// How long a login must wait from one address after `failures` failures
/// there, with `max` free attempts: nothing below the limit, then a delay
/// that doubles with each failure, at most `longest` seconds. Keyed by
/// login and address, so a stranger elsewhere who types someone's login
/// slows down only themself, never the account's owner.
pub fn throttle_wait(failures: i64, max: i64, longest: i64) -> Option<i64> {
    if max <= 0 || failures < max {
        return None;
    }
    let doublings = u32::try_from((failures - max).min(20)).unwrap_or(20);
    Some(
        FIRST_WAIT_SECONDS
            .saturating_mul(1 << doublings)
            .min(longest),
    )
}

/// Where a sign-in came from, recorded with the attempt and the session.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

pub struct SignedIn {
    pub user: User,
    pub session: Session,
    /// The session id for the cookie; only its hash is stored.
    pub cookie_value: String,
}

impl Services {
    /// Checks a login and password, records the attempt, and opens a session.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, SignInError> {
        let user = self.verify_password(login, password, client).await?;
        let cookie_value = secrets::random_token();
        let csrf = secrets::random_token();
        let now = Timestamp::now();
        let mut conn = self.db.conn().await?;
        let session = sessions::insert(
            &mut conn,
            &NewSession {
                user_id: user.id,
                token_hash: &secrets::token_hash(&cookie_value),
                csrf_token: &csrf,
                user_agent: client.user_agent.as_deref().map(truncate_agent),
                ip_address: client.ip_address.as_deref(),
            },
            now,
        )
        .await?;
        Ok(SignedIn {
            user,
            session,
            cookie_value,
        })
    }

    /// The password check behind [`Services::sign_in`]: lockout, attempt
    /// records and rehashing, without opening a session. Audited as a
    /// sign-in.
    pub async fn verify_password(
        &self,
        login: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<User, SignInError> {
        self.check_password(login, password, client, Purpose::SignIn)
            .await
    }

    async fn check_password(
        &self,
        login: &str,
        password: &str,
        client: &ClientInfo,
        purpose: Purpose,
    ) -> Result<User, SignInError> {
        let now = Timestamp::now();
        let ip = client.ip_address.as_deref();
        // Keep what is recorded about an attempt bounded, whatever was typed.
        // Control characters cannot be part of a login, and PostgreSQL refuses
        // NUL in text: replaced, the lookup finds no account and the attempt
        // is recorded like any other unknown login instead of failing.
        let typed: String = login
            .trim()
            .chars()
            .take(validate::LOGIN_MAX)
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect();
        let mut conn = self.db.conn().await?;
        // The throttle comes first and answers alike for every login, known
        // or not: neither the answer nor its timing tells which exist.
        let max = self.policy.max_failed_logins;
        if max > 0 {
            let since = now.minus_seconds(self.policy.lockout_seconds);
            let failures = login_attempts::recent_failures(&mut conn, &typed, ip, since).await?;
            let wait = throttle_wait(failures.count, max, self.policy.lockout_seconds);
            if let (Some(wait), Some(last)) = (wait, failures.last_at) {
                let until = last.plus_seconds(wait);
                if until > now {
                    let user = users::find_by_login(&mut conn, &typed).await?;
                    let user_id = user.filter(|u| !u.is_builtin()).map(|u| u.id);
                    drop(conn);
                    let mut tx = self.db.begin().await?;
                    login_attempts::insert(&mut tx, user_id, &typed, false, "throttled", ip, now)
                        .await?;
                    audit::record(&mut tx, failed_login(user_id, "blocked", purpose)).await?;
                    tx.commit().await?;
                    return Err(SignInError::Blocked { until });
                }
            }
        }
        let found = users::find_by_login(&mut conn, &typed).await?;
        let Some(user) = found.filter(|u| !u.is_builtin()) else {
            drop(conn);
            passwords::burn_time(password.to_string(), self.policy.argon2).await;
            let mut tx = self.db.begin().await?;
            login_attempts::insert(&mut tx, None, &typed, false, "unknown_login", ip, now).await?;
            audit::record(&mut tx, failed_login(None, "unknown_login", purpose)).await?;
            let limit = self.limit_reached(&mut tx, &typed, ip, None, now).await?;
            tx.commit().await?;
            return Err(limit.map_or(SignInError::InvalidCredentials, |until| {
                SignInError::Blocked { until }
            }));
        };
        let stored = users::password_hash(&mut conn, user.id).await?;
        drop(conn);
        let verdict = match stored {
            Some(hash) if password.len() <= validate::PASSWORD_MAX => {
                passwords::verify(password.to_string(), hash, self.policy.argon2).await
            }
            _ => {
                passwords::burn_time(password.to_string(), self.policy.argon2).await;
                Verified::No
            }
        };
        if verdict == Verified::No {
            let mut tx = self.db.begin().await?;
            users::add_failed_login(&mut tx, user.id).await?;
            login_attempts::insert(
                &mut tx,
                Some(user.id),
                &typed,
                false,
                "wrong_password",
                ip,
                now,
            )
            .await?;
            audit::record(
                &mut tx,
                failed_login(Some(user.id), "wrong_password", purpose),
            )
            .await?;
            let limit = self
                .limit_reached(&mut tx, &typed, ip, Some(user.id), now)
                .await?;
            tx.commit().await?;
            return Err(limit.map_or(SignInError::InvalidCredentials, |until| {
                SignInError::Blocked { until }
            }));
        }
        // The password is right: now it is safe to say why the account cannot sign in.
        let refusal = match user.status {
            UserStatus::Active => None,
            UserStatus::Locked => Some(("locked", SignInError::Locked)),
            UserStatus::Registered | UserStatus::Invited => {
                Some(("not_active", SignInError::NotActive))
            }
        };
        let mut tx = self.db.begin().await?;
        if let Some((reason, err)) = refusal {
            login_attempts::insert(&mut tx, Some(user.id), &typed, false, reason, ip, now).await?;
            audit::record(&mut tx, failed_login(Some(user.id), reason, purpose)).await?;
            tx.commit().await?;
            return Err(err);
        }
        if verdict == Verified::YesRehash {
            let fresh = passwords::hash(password.to_string(), self.policy.argon2).await?;
            users::rehash_password(&mut tx, user.id, &fresh).await?;
        }
        users::record_login(&mut tx, user.id, now).await?;
        login_attempts::insert(&mut tx, Some(user.id), &typed, true, "ok", ip, now).await?;
        if purpose == Purpose::SignIn {
            audit::record(
                &mut tx,
                AuditEntry::security("login.succeeded", Some(user.id), Some(user.id)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// After a failure was recorded: whether this login must now wait from
    /// this address, and until when. Reaching the limit is audited (the
    /// account as target when the login names one).
    async fn limit_reached(
        &self,
        tx: &mut steward_storage::Conn,
        typed: &str,
        ip: Option<&str>,
        user: Option<UserId>,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, SignInError> {
        let max = self.policy.max_failed_logins;
        if max <= 0 {
            return Ok(None);
        }
        let since = now.minus_seconds(self.policy.lockout_seconds);
        let failures = login_attempts::recent_failures(tx, typed, ip, since).await?;
        let Some(wait) = throttle_wait(failures.count, max, self.policy.lockout_seconds) else {
            return Ok(None);
        };
        if failures.count == max {
            audit::record(
                tx,
                AuditEntry::security("login.lockout", None, user).with_details(serde_json::json!({
                    "failed_logins": failures.count,
                    "seconds": wait,
                })),
            )
            .await?;
            tracing::warn!(user_id = user, "sign-ins throttled for a login and address");
        }
        Ok(Some(now.plus_seconds(wait)))
    }

    /// The session and user behind a session cookie, if it is still valid.
    /// Expired sessions are deleted on sight.
    pub async fn session_from_cookie(
        &self,
        cookie_value: &str,
    ) -> Result<Option<(Session, User)>, ServiceError> {
        let now = Timestamp::now();
        // Before taking a connection: when its cached copy is stale,
        // `session_limits` takes one of its own, and a request holding two
        // at once can starve the pool when every request waits for its
        // second.
        let limits = self.session_limits().await?;
        let mut conn = self.db.conn().await?;
        let Some(sessions::SessionWithUser(session, user)) =
            sessions::find_by_token_hash(&mut conn, &secrets::token_hash(cookie_value)).await?
        else {
            return Ok(None);
        };
        let idle = session.last_seen_at < now.minus_seconds(limits.idle_seconds);
        let too_old = session.created_at < now.minus_seconds(limits.absolute_seconds);
        if idle || too_old || !user.can_authenticate() {
            sessions::delete(&mut conn, session.user_id, session.id).await?;
            return Ok(None);
        }
        if session.last_seen_at < now.minus_seconds(TOUCH_INTERVAL_SECONDS) {
            sessions::touch(&mut conn, session.id, now).await?;
        }
        Ok(Some((session, user)))
    }

    pub async fn sign_out(&self, session: &Session) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        if sessions::delete(&mut tx, session.user_id, session.id).await? {
            audit::record(
                &mut tx,
                AuditEntry::security("logout", Some(session.user_id), Some(session.user_id))
                    .with_details(serde_json::json!({ "session_id": session.id })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(sessions::list_for_user(&mut conn, user_id).await?)
    }

    pub async fn revoke_session(
        &self,
        user_id: UserId,
        session_id: i64,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        if !sessions::delete(&mut tx, user_id, session_id).await? {
            return Err(ServiceError::NotFound("session"));
        }
        audit::record(
            &mut tx,
            AuditEntry::security("session.revoked", current_actor(), Some(user_id))
                .with_details(serde_json::json!({ "session_id": session_id })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the person but `keep` (the one asking, when
    /// they ask from a browser); returns how many ended.
    pub async fn end_other_sessions(
        &self,
        user_id: UserId,
        keep: Option<i64>,
    ) -> Result<u64, ServiceError> {
        let mut tx = self.db.begin().await?;
        let ended = sessions::delete_for_user(&mut tx, user_id, keep).await?;
        audit::record(
            &mut tx,
            AuditEntry::security("session.revoked_others", current_actor(), Some(user_id))
                .with_details(serde_json::json!({ "sessions_ended": ended })),
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Confirms a change to one's own credentials with the current
    /// password (a session left open or a stolen cookie is not enough).
    /// Failures count against the sign-in limits like any other.
    async fn reauthenticate(
        &self,
        user: &User,
        current: &str,
        client: &ClientInfo,
    ) -> Result<(), SignInError> {
        if current.is_empty() {
            return Err(SignInError::Service(
                ValidationError::new("currentPassword", "Enter your current password.").into(),
            ));
        }
        match self
            .check_password(&user.login, current, client, Purpose::Reauthenticate)
            .await
        {
            Ok(_) => Ok(()),
            Err(SignInError::InvalidCredentials) => Err(SignInError::Service(
                ValidationError::new("currentPassword", "The current password is wrong.").into(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Changes one's own password: the current one must be right; every
    /// other session of the user ends, `keep_session` stays signed in.
    pub async fn change_own_password(
        &self,
        user: &User,
        current: &str,
        new: String,
        keep_session: Option<i64>,
        client: &ClientInfo,
    ) -> Result<(), SignInError> {
        self.reauthenticate(user, current, client).await?;
        self.set_password(user.id, new, keep_session).await?;
        Ok(())
    }

    /// Changes one's own account details (rectification, GDPR Art. 16).
    /// A new email address needs the current password: whoever controls
    /// the address can reset the account.
    pub async fn update_own_account(
        &self,
        user: &User,
        input: crate::accounts::UpdateUser,
        current_password: &str,
        client: &ClientInfo,
    ) -> Result<User, SignInError> {
        let same = |new: &str| {
            user.email
                .as_deref()
                .is_some_and(|old| old.eq_ignore_ascii_case(new.trim()))
        };
        if input.email.as_deref().is_some_and(|e| !same(e)) {
            // Malformed values (the address among them) are reported as
            // such, all of them, before the password is asked for.
            self.checked_changes(&input).map_err(ServiceError::from)?;
            self.reauthenticate(user, current_password, client).await?;
        }
        Ok(self.update_user(user.id, input).await?)
    }

    /// Creates an API token; the returned secret is shown once and never stored.
    pub async fn create_api_token(
        &self,
        user_id: UserId,
        name: &str,
    ) -> Result<(ApiToken, String), ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ValidationError::new(
                "name",
                "Token name must be 1 to 100 characters long.",
            )
            .into());
        }
        // Names are shown in lists; PostgreSQL also refuses NUL in text.
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "Token name must not contain control characters.",
            )
            .into());
        }
        let secret = secrets::random_token();
        let mut tx = self.db.begin().await?;
        let token = api_tokens::insert(
            &mut tx,
            user_id,
            name,
            &secrets::token_hash(&secret),
            Timestamp::now(),
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::security("api_token.created", current_actor(), Some(user_id))
                .with_details(serde_json::json!({ "token_id": token.id })),
        )
        .await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// The user an API token belongs to, if the token exists and the user may act.
    pub async fn user_for_api_token(&self, secret: &str) -> Result<Option<User>, ServiceError> {
        if secret.is_empty() || secret.len() > 200 {
            return Ok(None);
        }
        let now = Timestamp::now();
        let mut conn = self.db.conn().await?;
        let Some(api_tokens::TokenWithUser(token, user)) =
            api_tokens::find_by_hash(&mut conn, &secrets::token_hash(secret)).await?
        else {
            return Ok(None);
        };
        if !user.can_authenticate() {
            return Ok(None);
        }
        if token
            .last_used_at
            .is_none_or(|t| t < now.minus_seconds(TOUCH_INTERVAL_SECONDS))
        {
            api_tokens::touch(&mut conn, token.id, now).await?;
        }
        Ok(Some(user))
    }

    pub async fn api_tokens_of(&self, user_id: UserId) -> Result<Vec<ApiToken>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(api_tokens::list_for_user(&mut conn, user_id).await?)
    }

    pub async fn revoke_api_token(
        &self,
        user_id: UserId,
        token_id: i64,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        if !api_tokens::delete(&mut tx, user_id, token_id).await? {
            return Err(ServiceError::NotFound("API token"));
        }
        audit::record(
            &mut tx,
            AuditEntry::security("api_token.revoked", current_actor(), Some(user_id))
                .with_details(serde_json::json!({ "token_id": token_id })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn truncate_agent(ua: &str) -> &str {
    match ua.char_indices().nth(300) {
        Some((i, _)) => &ua[..i],
        None => ua,
    }
}
