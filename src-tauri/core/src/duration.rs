//! Parsing of the CLI's durations (`90s`, `15m`, `12h`, `30d`, `1h30m`) and
//! times (RFC 3339 or Unix seconds), with one-line errors.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// Parses a duration such as `90s`, `15m`, `12h`, `30d`, `2w` or `1h30m`.
/// Zero is allowed here; callers that need a positive one use [`parse_positive`].
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(
            "bad_duration",
            format!("invalid duration {text:?}: use a number with a unit s, m, h, d or w (for example 90s, 15m, 12h, 30d, 1h30m)"),
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut saw_unit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        if digits.is_empty() {
            return Err(bad());
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
        saw_unit = true;
    }
    if !digits.is_empty() || !saw_unit {
        return Err(bad());
    }
    // Cap at 100 years: beyond that chrono arithmetic on dates can overflow.
    if total > 100 * 366 * 86_400 {
        return Err(Error::invalid(
            "bad_duration",
            format!("duration {text:?} is too long (at most 100 years)"),
        ));
    }
    Ok(Duration::seconds(total))
}

/// Parses a duration that must be greater than zero (`--ttl`, `--expires-in`).
pub fn parse_positive(text: &str) -> Result<Duration> {
    let d = parse_duration(text)?;
    if d <= Duration::zero() {
        return Err(Error::invalid(
            "bad_duration",
            format!("duration {text:?} must be greater than zero"),
        ));
    }
    Ok(d)
}

/// Parses a time given as RFC 3339 (`2026-01-01T00:00:00Z`) or Unix seconds.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let s = text.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(secs) = s.parse::<i64>() {
            if let Some(t) = Utc.timestamp_opt(secs, 0).single() {
                return Ok(t);
            }
        }
    } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    Err(Error::invalid(
        "bad_time",
        format!("invalid time {text:?}: use RFC 3339 (2026-01-01T00:00:00Z) or Unix seconds"),
    ))
}

/// Formats a duration compactly (`1d2h`, `15m`, `0s`) for display.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.num_seconds();
    if secs == 0 {
        return "0s".into();
    }
    let neg = secs < 0;
    secs = secs.abs();
    let mut out = String::new();
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= n {
            out.push_str(&format!("{}{unit}", secs / n));
            secs %= n;
        }
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// Formats an instant as RFC 3339 UTC with milliseconds, as stored and shown.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::seconds(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::minutes(15));
        assert_eq!(parse_duration("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_duration("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("0s").unwrap(), Duration::zero());
        for bad in [
            "",
            "10",
            "h",
            "1x",
            "-5m",
            "1.5h",
            "m5",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_positive("0s").is_err());
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("0").unwrap().timestamp(), 0);
        assert_eq!(
            parse_time("2026-01-01T00:00:00Z").unwrap().timestamp(),
            1_767_225_600
        );
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
    }

    #[test]
    fn durations_format() {
        assert_eq!(format_duration(Duration::minutes(90)), "1h30m");
        assert_eq!(format_duration(Duration::zero()), "0s");
    }
}
