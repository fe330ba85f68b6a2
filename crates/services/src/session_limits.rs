//! How long a session lasts, as OpenProject's "session expires after":
//! the idle timeout and the absolute lifetime. The configuration file gives
//! the defaults ([`crate::Policy`]); administrators may change both at run
//! time, and the values they set are kept in the `settings` table.
//!
//! Every request with a session cookie needs the limits, so they are cached
//! in the process and read again from the database only when the cached copy
//! is older than [`CACHE_SECONDS`], which is how a change made by another
//! process (another server, the CLI) arrives.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use steward_domain::record::RecordContext;
use steward_domain::ValidationError;
use steward_storage::settings;
use steward_storage::Conn;

use crate::audit::{self, AuditEntry};
use crate::{Policy, ServiceError, Services};

pub const IDLE_TIMEOUT_MINUTES: &str = "session_idle_timeout_minutes";
pub const ABSOLUTE_LIFETIME_HOURS: &str = "session_absolute_lifetime_hours";

pub const IDLE_MINUTES_MIN: i64 = 5;
/// 30 days.
pub const IDLE_MINUTES_MAX: i64 = 43_200;
pub const ABSOLUTE_HOURS_MIN: i64 = 1;
/// 365 days.
pub const ABSOLUTE_HOURS_MAX: i64 = 8_760;

/// How long this process trusts its cached copy of the limits.
const CACHE_SECONDS: u64 = 10;

/// The limits in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
}

impl SessionLimits {
    pub fn idle_minutes(&self) -> i64 {
        self.idle_seconds / 60
    }

    pub fn absolute_hours(&self) -> i64 {
        self.absolute_seconds / 3600
    }

    /// The defaults from the configuration file.
    pub fn configured(policy: &Policy) -> Self {
        SessionLimits {
            idle_seconds: policy.session_idle_seconds,
            absolute_seconds: policy.session_absolute_seconds,
        }
    }
}

/// The limits this process last read, with when it read them.
#[derive(Default)]
pub(crate) struct LimitsCache(RwLock<Option<(Instant, SessionLimits)>>);

impl LimitsCache {
    fn fresh(&self) -> Option<SessionLimits> {
        let guard = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(CACHE_SECONDS))
            .map(|(_, limits)| *limits)
    }

    fn put(&self, limits: SessionLimits) {
        let mut guard = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Some((Instant::now(), limits));
    }
}

/// A stored number if it is one and within `min..=max`; anything else (a
/// value edited by hand in the database) falls back to the default.
fn stored(value: Option<String>, min: i64, max: i64) -> Option<i64> {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| (min..=max).contains(n))
}

async fn load(conn: &mut Conn, policy: &Policy) -> Result<SessionLimits, ServiceError> {
    let defaults = SessionLimits::configured(policy);
    let idle = stored(
        settings::get(conn, IDLE_TIMEOUT_MINUTES).await?,
        IDLE_MINUTES_MIN,
        IDLE_MINUTES_MAX,
    );
    let absolute = stored(
        settings::get(conn, ABSOLUTE_LIFETIME_HOURS).await?,
        ABSOLUTE_HOURS_MIN,
        ABSOLUTE_HOURS_MAX,
    );
    Ok(SessionLimits {
        idle_seconds: idle.map_or(defaults.idle_seconds, |m| m * 60),
        absolute_seconds: absolute.map_or(defaults.absolute_seconds, |h| h * 3600),
    })
}

/// Checks a change against the limits and against the other value in force.
fn validate(
    current: SessionLimits,
    idle_minutes: Option<i64>,
    absolute_hours: Option<i64>,
) -> Result<SessionLimits, ValidationError> {
    if let Some(m) = idle_minutes {
        if !(IDLE_MINUTES_MIN..=IDLE_MINUTES_MAX).contains(&m) {
            return Err(ValidationError::new(
                "sessionIdleTimeoutMinutes",
                format!(
                    "Session idle timeout must be between {IDLE_MINUTES_MIN} and {IDLE_MINUTES_MAX} minutes (30 days)."
                ),
            ));
        }
    }
    if let Some(h) = absolute_hours {
        if !(ABSOLUTE_HOURS_MIN..=ABSOLUTE_HOURS_MAX).contains(&h) {
            return Err(ValidationError::new(
                "sessionAbsoluteLifetimeHours",
                format!(
                    "Session absolute lifetime must be between {ABSOLUTE_HOURS_MIN} and {ABSOLUTE_HOURS_MAX} hours (365 days)."
                ),
            ));
        }
    }
    let next = SessionLimits {
        idle_seconds: idle_minutes.map_or(current.idle_seconds, |m| m * 60),
        absolute_seconds: absolute_hours.map_or(current.absolute_seconds, |h| h * 3600),
    };
    if next.absolute_seconds < next.idle_seconds {
        // Blame the value that was changed; when both were, the lifetime.
        let (attribute, message) = if absolute_hours.is_some() {
            (
                "sessionAbsoluteLifetimeHours",
                format!(
                    "Session absolute lifetime ({} hours) must not be shorter than the idle timeout ({} minutes).",
                    next.absolute_hours(),
                    next.idle_minutes()
                ),
            )
        } else {
            (
                "sessionIdleTimeoutMinutes",
                format!(
                    "Session idle timeout ({} minutes) must not be longer than the absolute lifetime ({} hours).",
                    next.idle_minutes(),
                    next.absolute_hours()
                ),
            )
        };
        return Err(ValidationError::new(attribute, message));
    }
    Ok(next)
}

impl Services {
    /// The session limits in force: what an administrator set, else the
    /// configuration file's. Served from the cache while it is fresh.
    pub async fn session_limits(&self) -> Result<SessionLimits, ServiceError> {
        if let Some(limits) = self.session_limits.fresh() {
            return Ok(limits);
        }
        let mut conn = self.db.conn().await?;
        let limits = load(&mut conn, &self.policy).await?;
        self.session_limits.put(limits);
        Ok(limits)
    }

    /// Changes the idle timeout (minutes) and/or the absolute lifetime
    /// (hours); `None` keeps a value as it is. Callers check that the
    /// person is an administrator.
    pub async fn set_session_limits(
        &self,
        idle_minutes: Option<i64>,
        absolute_hours: Option<i64>,
    ) -> Result<SessionLimits, ServiceError> {
        let mut tx = self.db.begin().await?;
        // Compare with what is stored now, not with a cached copy that
        // another process may have outdated.
        let current = load(&mut tx, &self.policy).await?;
        let next = validate(current, idle_minutes, absolute_hours)?;
        for (key, value) in [
            (IDLE_TIMEOUT_MINUTES, idle_minutes),
            (ABSOLUTE_LIFETIME_HOURS, absolute_hours),
        ] {
            let Some(value) = value else { continue };
            settings::set(&mut tx, key, &value.to_string()).await?;
            audit::record(
                &mut tx,
                AuditEntry::security("settings.changed", audit::current_actor(), None)
                    .with_details(serde_json::json!({ "setting": key, "value": value })),
            )
            .await?;
        }
        tx.commit().await?;
        self.session_limits.put(next);
        Ok(next)
    }

    /// The record of processing's settings with the session limits in
    /// force, which may differ from the configuration file's `configured`.
    pub async fn record_context_in_force(
        &self,
        configured: &RecordContext,
    ) -> Result<RecordContext, ServiceError> {
        let limits = self.session_limits().await?;
        let mut ctx = configured.clone();
        // Both are within u32 once validated; the fallback is for values
        // the configuration could not have produced.
        ctx.session_idle_minutes = u32::try_from(limits.idle_minutes()).unwrap_or(u32::MAX);
        ctx.session_absolute_hours = u32::try_from(limits.absolute_hours()).unwrap_or(u32::MAX);
        Ok(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: SessionLimits = SessionLimits {
        idle_seconds: 2 * 3600,
        absolute_seconds: 7 * 24 * 3600,
    };

    #[test]
    fn accepts_values_within_the_limits() {
        let next = validate(CURRENT, Some(5), Some(1)).unwrap();
        assert_eq!(next.idle_minutes(), 5);
        assert_eq!(next.absolute_hours(), 1);
        let next = validate(CURRENT, None, Some(8_760)).unwrap();
        assert_eq!(next.idle_seconds, CURRENT.idle_seconds);
        assert_eq!(next.absolute_hours(), 8_760);
    }

    #[test]
    fn refuses_values_out_of_range() {
        assert_eq!(
            validate(CURRENT, Some(4), None).unwrap_err().attribute,
            "sessionIdleTimeoutMinutes"
        );
        assert_eq!(
            validate(CURRENT, Some(43_201), None).unwrap_err().attribute,
            "sessionIdleTimeoutMinutes"
        );
        assert_eq!(
            validate(CURRENT, None, Some(0)).unwrap_err().attribute,
            "sessionAbsoluteLifetimeHours"
        );
        assert_eq!(
            validate(CURRENT, None, Some(8_761)).unwrap_err().attribute,
            "sessionAbsoluteLifetimeHours"
        );
    }

    #[test]
    fn refuses_a_lifetime_shorter_than_the_idle_timeout() {
        let e = validate(CURRENT, Some(120), Some(1)).unwrap_err();
        assert_eq!(e.attribute, "sessionAbsoluteLifetimeHours");
        assert!(e.message.contains("shorter"), "{}", e.message);
        // Only the idle timeout changed: it is the one at fault.
        let e = validate(CURRENT, Some(8 * 24 * 60), None).unwrap_err();
        assert_eq!(e.attribute, "sessionIdleTimeoutMinutes");
    }

    #[test]
    fn ignores_stored_values_out_of_range() {
        assert_eq!(stored(Some("30".into()), 5, 60), Some(30));
        assert_eq!(stored(Some("3".into()), 5, 60), None);
        assert_eq!(stored(Some("soon".into()), 5, 60), None);
        assert_eq!(stored(None, 5, 60), None);
    }
}
