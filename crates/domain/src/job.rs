//! Background jobs as values: their status, the names of their kinds, how
//! long a failed job waits before its next attempt, and the schedule specs
//! of recurring jobs (`every 15m`, `hourly`, `daily 03:30`, `weekly sun
//! 04:00`, all in UTC).

use std::fmt;

use crate::{Timestamp, ValidationError};

/// Where a job is in its life. Only the queue moves a job between them:
/// queued → running → done, or back to queued (a failed attempt with
/// attempts left), or failed (none left). An administrator's retry moves a
/// failed job back to queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 4] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const KIND_MAX: usize = 100;

/// A job kind names its handler: lower-case words joined by `.`, `_` or
/// `-` (`retention.sessions`, `gdpr.export`).
pub fn kind(raw: &str) -> Result<&str, ValidationError> {
    let bad = |why: String| ValidationError::new("kind", why);
    if raw.is_empty() {
        return Err(bad("Job kind can't be blank.".into()));
    }
    if raw.len() > KIND_MAX {
        return Err(bad(format!(
            "Job kind is too long (maximum is {KIND_MAX} characters)."
        )));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(format!(
            "Job kind {raw:?} may only contain lower-case letters, digits and . _ - (found {c:?})."
        )));
    }
    Ok(raw)
}

/// The longest wait between two attempts, however many failed before.
pub const MAX_RETRY_DELAY_MS: u64 = 24 * 3600 * 1000;

/// How long to wait after the `attempts`-th failed attempt (counted from
/// 1): `base`, then twice that, four times... up to a day. Doubling spreads
/// retries of a failing dependency out instead of hammering it.
pub fn retry_delay_ms(base_ms: u64, attempts: i64) -> u64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 62) as u32;
    base_ms
        .saturating_mul(1u64.checked_shl(doublings).unwrap_or(u64::MAX))
        .min(MAX_RETRY_DELAY_MS)
}

/// When a recurring job runs: every `period` seconds, at `offset` seconds
/// into each period, counted from the Unix epoch in UTC. Every form of the
/// spec comes down to this: `daily 03:30` is a period of a day with an
/// offset of 3.5 hours. Being anchored to the epoch, every worker computes
/// the same instants, whenever it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleSpec {
    form: Form,
    period: i64,
    offset: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Every,
    Hourly,
    Daily,
    Weekly(u8),
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY: i64 = 86_400;
/// The longest `every` period: a longer one is a weekly schedule.
const MAX_EVERY: i64 = 7 * DAY;

/// A schedule spec that cannot be read; the message says what is expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("schedule {spec:?}: {why}")]
pub struct ScheduleError {
    pub spec: String,
    pub why: String,
}

impl ScheduleSpec {
    /// Reads `every N(s|m|h|d)`, `hourly [:MM]`, `daily [HH:MM]` or
    /// `weekly DAY [HH:MM]` (DAY: mon ... sun). Times are UTC.
    pub fn parse(spec: &str) -> Result<ScheduleSpec, ScheduleError> {
        let fail = |why: &str| ScheduleError {
            spec: spec.to_string(),
            why: why.to_string(),
        };
        let words: Vec<&str> = spec.split_whitespace().collect();
        match words.as_slice() {
            ["every", amount] => {
                let split = amount
                    .find(|c: char| !c.is_ascii_digit())
                    .ok_or_else(|| fail("the period needs a unit: s, m, h or d (as in every 15m)"))?;
                let (n, unit) = amount.split_at(split);
                let n: i64 = n
                    .parse()
                    .map_err(|_| fail("the period must start with a whole number (as in every 15m)"))?;
                let unit_seconds = match unit {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => DAY,
                    _ => return Err(fail("the unit must be s, m, h or d (as in every 15m)")),
                };
                let period = n.saturating_mul(unit_seconds);
                if period < 1 {
                    return Err(fail("the period must be at least 1s"));
                }
                if period > MAX_EVERY {
                    return Err(fail("the period may be at most 7d; use weekly DAY HH:MM"));
                }
                Ok(ScheduleSpec {
                    form: Form::Every,
                    period,
                    offset: 0,
                })
            }
            ["every"] => Err(fail("every needs a period, as in every 15m")),
            ["hourly"] => Ok(ScheduleSpec {
                form: Form::Hourly,
                period: 3600,
                offset: 0,
            }),
            ["hourly", minute] => {
                let m = minute
                    .strip_prefix(':')
                    .and_then(|m| two_digits(m, 59))
                    .ok_or_else(|| fail("hourly takes the minute as :MM, from :00 to :59"))?;
                Ok(ScheduleSpec {
                    form: Form::Hourly,
                    period: 3600,
                    offset: m * 60,
                })
            }
            ["daily"] => Ok(ScheduleSpec {
                form: Form::Daily,
                period: DAY,
                offset: 0,
            }),
            ["daily", time] => Ok(ScheduleSpec {
                form: Form::Daily,
                period: DAY,
                offset: time_of_day(time)
                    .ok_or_else(|| fail("daily takes a UTC time as HH:MM, from 00:00 to 23:59"))?,
            }),
            ["weekly", day, rest @ ..] if rest.len() <= 1 => {
                let lower = day.to_ascii_lowercase();
                let wd = WEEKDAYS
                    .iter()
                    .position(|d| lower.len() >= 3 && full_day(d).starts_with(&lower))
                    .ok_or_else(|| fail("weekly takes a day: mon, tue, wed, thu, fri, sat or sun"))?;
                let time = match rest {
                    [] => 0,
                    [t] => time_of_day(t).ok_or_else(|| {
                        fail("weekly takes a UTC time as HH:MM after the day, from 00:00 to 23:59")
                    })?,
                    _ => unreachable!("guarded by rest.len() <= 1"),
                };
                // 1970-01-01, the epoch, was a Thursday (index 3).
                let day_offset = (wd as i64 - 3).rem_euclid(7) * DAY;
                Ok(ScheduleSpec {
                    form: Form::Weekly(wd as u8),
                    period: 7 * DAY,
                    offset: day_offset + time,
                })
            }
            ["weekly"] => Err(fail("weekly needs a day, as in weekly sun 04:00")),
            [] => Err(fail(
                "empty; use every N(s|m|h|d), hourly [:MM], daily [HH:MM] or weekly DAY [HH:MM]",
            )),
            _ => Err(fail(
                "not understood; use every N(s|m|h|d), hourly [:MM], daily [HH:MM] or weekly DAY [HH:MM]",
            )),
        }
    }

    /// The first instant of the schedule strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Timestamp {
        let period = self.period * 1_000_000;
        let offset = self.offset * 1_000_000;
        let k = (t.0 - offset).div_euclid(period) + 1;
        Timestamp(k.saturating_mul(period).saturating_add(offset))
    }

    /// The period in seconds.
    pub fn period_seconds(&self) -> i64 {
        self.period
    }
}

impl fmt::Display for ScheduleSpec {
    /// The canonical spelling, which [`ScheduleSpec::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |secs: i64| format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60);
        match self.form {
            Form::Every => {
                let p = self.period;
                if p % DAY == 0 {
                    write!(f, "every {}d", p / DAY)
                } else if p % 3600 == 0 {
                    write!(f, "every {}h", p / 3600)
                } else if p % 60 == 0 {
                    write!(f, "every {}m", p / 60)
                } else {
                    write!(f, "every {p}s")
                }
            }
            Form::Hourly => write!(f, "hourly :{:02}", self.offset / 60),
            Form::Daily => write!(f, "daily {}", hm(self.offset)),
            Form::Weekly(wd) => write!(
                f,
                "weekly {} {}",
                WEEKDAYS[usize::from(wd)],
                hm(self.offset % DAY)
            ),
        }
    }
}

fn full_day(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

fn two_digits(s: &str, max: i64) -> Option<i64> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|v| *v <= max)
}

/// `HH:MM` to seconds after midnight.
fn time_of_day(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    let h = if h.len() == 1 {
        two_digits(&format!("0{h}"), 23)?
    } else {
        two_digits(h, 23)?
    };
    Some(h * 3600 + two_digits(m, 59)? * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn next(spec: &str, from: &str) -> String {
        ScheduleSpec::parse(spec)
            .unwrap()
            .next_after(at(from))
            .to_string()
    }

    #[test]
    fn statuses_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("Failed"), None);
        assert_eq!(JobStatus::parse(""), None);
    }

    #[test]
    fn kinds_are_checked() {
        assert!(kind("retention.sessions").is_ok());
        assert!(kind("gdpr.export-v2_1").is_ok());
        assert!(kind("").is_err());
        assert!(kind("Retention").unwrap_err().message.contains("'R'"));
        assert!(kind("a b").is_err());
        assert!(kind(&"x".repeat(101)).is_err());
    }

    #[test]
    fn retry_delays_double_up_to_a_day() {
        assert_eq!(retry_delay_ms(30_000, 1), 30_000);
        assert_eq!(retry_delay_ms(30_000, 2), 60_000);
        assert_eq!(retry_delay_ms(30_000, 3), 120_000);
        assert_eq!(retry_delay_ms(30_000, 0), 30_000);
        assert_eq!(retry_delay_ms(30_000, 40), MAX_RETRY_DELAY_MS);
        assert_eq!(retry_delay_ms(u64::MAX, 1000), MAX_RETRY_DELAY_MS);
        assert_eq!(retry_delay_ms(0, 5), 0);
    }

    #[test]
    fn every_is_aligned_to_the_epoch() {
        assert_eq!(
            next("every 15m", "2025-03-01T10:07:12Z"),
            "2025-03-01T10:15:00.000Z"
        );
        // Strictly after: an instant on the schedule gives the next one.
        assert_eq!(
            next("every 15m", "2025-03-01T10:15:00Z"),
            "2025-03-01T10:30:00.000Z"
        );
        assert_eq!(
            next("every 30s", "2025-03-01T10:07:12Z"),
            "2025-03-01T10:07:30.000Z"
        );
        assert_eq!(
            next("every 1d", "2025-03-01T10:07:12Z"),
            "2025-03-02T00:00:00.000Z"
        );
    }

    #[test]
    fn hourly_daily_weekly() {
        assert_eq!(
            next("hourly", "2025-03-01T10:07:12Z"),
            "2025-03-01T11:00:00.000Z"
        );
        assert_eq!(
            next("hourly :45", "2025-03-01T10:07:12Z"),
            "2025-03-01T10:45:00.000Z"
        );
        assert_eq!(
            next("daily 03:30", "2025-03-01T10:07:12Z"),
            "2025-03-02T03:30:00.000Z"
        );
        assert_eq!(
            next("daily 03:30", "2025-03-01T03:29:59Z"),
            "2025-03-01T03:30:00.000Z"
        );
        assert_eq!(
            next("daily", "2024-12-31T23:59:59Z"),
            "2025-01-01T00:00:00.000Z"
        );
        // 2025-03-01 is a Saturday.
        assert_eq!(
            next("weekly sun 04:00", "2025-03-01T10:07:12Z"),
            "2025-03-02T04:00:00.000Z"
        );
        assert_eq!(
            next("weekly Saturday 04:00", "2025-03-01T10:07:12Z"),
            "2025-03-08T04:00:00.000Z"
        );
        assert_eq!(
            next("weekly thu", "1970-01-01T00:00:00Z"),
            "1970-01-08T00:00:00.000Z"
        );
        assert_eq!(
            next("daily 3:05", "2025-03-01T00:00:00Z"),
            "2025-03-01T03:05:00.000Z"
        );
    }

    #[test]
    fn canonical_spelling_reads_back() {
        for (spec, canonical) in [
            ("every 15m", "every 15m"),
            ("every 90m", "every 90m"),
            ("every 120m", "every 2h"),
            ("every 86400s", "every 1d"),
            ("hourly", "hourly :00"),
            ("daily", "daily 00:00"),
            ("daily 3:30", "daily 03:30"),
            ("weekly Sunday 4:00", "weekly sun 04:00"),
            ("weekly mon", "weekly mon 00:00"),
        ] {
            let parsed = ScheduleSpec::parse(spec).unwrap();
            assert_eq!(parsed.to_string(), canonical, "{spec}");
            assert_eq!(ScheduleSpec::parse(canonical).unwrap(), parsed, "{spec}");
        }
    }

    #[test]
    fn bad_specs_say_what_is_expected() {
        for (spec, expect) in [
            ("", "empty"),
            ("every", "needs a period"),
            ("every 15", "needs a unit"),
            ("every m", "whole number"),
            ("every 15x", "unit must be"),
            ("every 0s", "at least 1s"),
            ("every 8d", "at most 7d"),
            ("every 99999999999999999999d", "whole number"),
            ("hourly 15", ":MM"),
            ("hourly :60", ":MM"),
            ("daily 24:00", "HH:MM"),
            ("daily 3:5", "HH:MM"),
            ("daily noon", "HH:MM"),
            ("weekly", "needs a day"),
            ("weekly funday", "mon, tue"),
            ("weekly su 04:00", "mon, tue"),
            ("weekly sun 25:00", "HH:MM"),
            ("weekly sun 04:00 extra", "not understood"),
            ("monthly", "not understood"),
        ] {
            let e = ScheduleSpec::parse(spec).unwrap_err();
            assert!(e.to_string().contains(expect), "{spec:?}: {e}");
            assert!(e.to_string().contains(&format!("{spec:?}")), "{e}");
        }
    }
}
