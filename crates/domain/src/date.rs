//! Calendar dates (`2024-05-01`) and ISO 8601 durations (`PT5H30M`), as
//! API v3 writes them.

use std::fmt;

/// A calendar date without time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub jiff::civil::Date);

impl Date {
    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
            return None;
        }
        s.parse::<jiff::civil::Date>().ok().map(Date)
    }

    /// The last microsecond of this day in an IANA time zone (UTC when the
    /// zone is unknown): what "as of this date" means to someone there.
    pub fn end_of_day_in(self, zone: &str) -> Option<crate::Timestamp> {
        let next = self
            .0
            .tomorrow()
            .ok()?
            .to_zoned(crate::time::zone_or_utc(zone))
            .ok()?;
        Some(crate::Timestamp(next.timestamp().as_microsecond() - 1))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses an ISO 8601 duration into hours: `PT5H`, `PT1.5H`, `P1DT2H30M`, `PT90M`.
/// A day counts 24 hours. Years, months and weeks are refused as ambiguous.
pub fn parse_duration_hours(s: &str) -> Option<f64> {
    let s = s.trim();
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut hours = 0.0;
    let mut take = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        let mut allowed = units.iter();
        for ch in part.chars() {
            if ch.is_ascii_digit() || ch == '.' || ch == ',' {
                num.push(if ch == ',' { '.' } else { ch });
            } else {
                // Units must come in order, each at most once.
                let (_, factor) = allowed.by_ref().find(|(u, _)| *u == ch)?;
                let n: f64 = num.parse().ok()?;
                hours += n * factor;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    take(date_part, &[('D', 24.0)])?;
    if let Some(t) = time_part {
        take(t, &[('H', 1.0), ('M', 1.0 / 60.0), ('S', 1.0 / 3600.0)])?;
    }
    hours.is_finite().then_some(hours)
}

/// Formats hours as an ISO 8601 duration: 2.5 becomes `PT2H30M`.
pub fn format_duration_hours(hours: f64) -> String {
    let total_seconds = (hours * 3600.0).round() as i64;
    let (h, rem) = (total_seconds / 3600, total_seconds % 3600);
    let (m, s) = (rem / 60, rem % 60);
    let mut out = String::from("PT");
    if h != 0 || (m == 0 && s == 0) {
        out.push_str(&format!("{h}H"));
    }
    if m != 0 {
        out.push_str(&format!("{m}M"));
    }
    if s != 0 {
        out.push_str(&format!("{s}S"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_day_in_zones() {
        let d = Date::parse("2024-07-01").unwrap();
        assert_eq!(
            d.end_of_day_in("UTC").unwrap().to_string(),
            "2024-07-01T23:59:59.999Z"
        );
        // Midnight in Berlin (CEST, UTC+2) is 22:00 UTC.
        let midnight = crate::Timestamp::parse_rfc3339("2024-07-01T22:00:00Z").unwrap();
        assert_eq!(d.end_of_day_in("Europe/Berlin").unwrap().0, midnight.0 - 1);
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2024-2-1",
            "tomorrow",
            "2024-13-01",
            "2024-01-01T00:00:00Z",
            "",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_hours("PT5H"), Some(5.0));
        assert_eq!(parse_duration_hours("PT1.5H"), Some(1.5));
        assert_eq!(parse_duration_hours("P1DT2H30M"), Some(26.5));
        assert_eq!(parse_duration_hours("PT90M"), Some(1.5));
        assert_eq!(parse_duration_hours("P2D"), Some(48.0));
        for bad in ["5h", "P", "PT", "PT5", "P1Y", "PTH", "PT5M3H", "P1W"] {
            assert_eq!(parse_duration_hours(bad), None, "{bad}");
        }
        assert_eq!(format_duration_hours(2.5), "PT2H30M");
        assert_eq!(format_duration_hours(0.0), "PT0H");
        assert_eq!(format_duration_hours(8.0), "PT8H");
        assert_eq!(format_duration_hours(0.25), "PT15M");
    }
}
