//! Points in time. Stored as microseconds since the Unix epoch (a BIGINT on
//! both engines, so ordering and arithmetic are identical everywhere) and
//! shown as ISO 8601 in UTC with millisecond precision, as API v3 does.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Timestamp(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    pub fn minus_seconds(self, seconds: i64) -> Self {
        self.plus_seconds(-seconds)
    }

    /// `2024-05-01 12:00 CEST`: the minute in an IANA time zone, with the
    /// zone's abbreviation. An unknown zone (which validation keeps out of
    /// accounts) shows UTC rather than failing a page.
    pub fn local_text(self, zone: &str) -> String {
        let Ok(ts) = jiff::Timestamp::from_microsecond(self.0) else {
            return self.to_string();
        };
        ts.to_zoned(zone_or_utc(zone))
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// Parses an RFC 3339 / ISO 8601 timestamp with an offset (`2024-05-01T10:00:00Z`).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let ts: jiff::Timestamp = s.parse().ok()?;
        Some(Timestamp(ts.as_microsecond()))
    }
}

impl fmt::Display for Timestamp {
    /// `2024-05-01T10:00:00.000Z`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let millis = self.0.rem_euclid(1_000_000) / 1000;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

/// An IANA time zone by name; UTC when the name is unknown.
pub(crate) fn zone_or_utc(zone: &str) -> jiff::tz::TimeZone {
    jiff::tz::db().get(zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's well-known civil calendar arithmetic.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_text_in_zones() {
        let t = Timestamp::parse_rfc3339("2024-07-01T10:30:00Z").unwrap();
        assert_eq!(t.local_text("UTC"), "2024-07-01 10:30 UTC");
        assert_eq!(t.local_text("Europe/Berlin"), "2024-07-01 12:30 CEST");
        let winter = Timestamp::parse_rfc3339("2024-01-01T23:30:00Z").unwrap();
        assert_eq!(winter.local_text("Europe/Berlin"), "2024-01-02 00:30 CET");
        assert_eq!(winter.local_text("Mars/Olympus"), "2024-01-01 23:30 UTC");
    }

    #[test]
    fn formats_as_iso8601_utc_with_millis() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T13:45:07.123456Z
        let t = Timestamp::parse_rfc3339("2024-02-29T13:45:07.123456Z").unwrap();
        assert_eq!(t.to_string(), "2024-02-29T13:45:07.123Z");
        let before_epoch = Timestamp::parse_rfc3339("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(before_epoch.to_string(), "1969-12-31T23:59:59.500Z");
    }

    #[test]
    fn parses_offsets_and_rejects_garbage() {
        let a = Timestamp::parse_rfc3339("2024-01-01T12:00:00+02:00").unwrap();
        assert_eq!(a.to_string(), "2024-01-01T10:00:00.000Z");
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
        assert!(Timestamp::parse_rfc3339("2024-13-01T00:00:00Z").is_none());
    }
}
