//! Absolute and relative renderings of NumericDates for people.
//!
//! The renderings are `Display` values as well as `String` functions, so a
//! report line that embeds them is written in one allocation.

use chrono::{SecondsFormat, TimeZone, Utc};
use std::fmt;

/// RFC 3339 UTC, to the second; `None` when out of chrono's range.
pub fn rfc3339(secs: i64) -> Option<String> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A rough span: `14 min`, `3 days`, `2 h 5 min`, `40 s`.
pub fn span(secs: i64) -> String {
    Span(secs).to_string()
}

/// `in 14 min` or `3 days ago` for an instant relative to `now`.
pub fn relative(at: i64, now: i64) -> String {
    Relative { at, now }.to_string()
}

/// [`span`] as a `Display` value.
pub(crate) struct Span(pub i64);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.unsigned_abs();
        let plural = |f: &mut fmt::Formatter<'_>, n: u64, unit: &str| {
            if n == 1 {
                write!(f, "1 {unit}")
            } else {
                write!(f, "{n} {unit}s")
            }
        };
        match s {
            0..=59 => write!(f, "{s} s"),
            60..=3_599 => write!(f, "{} min", s / 60),
            3_600..=86_399 => {
                let (h, m) = (s / 3_600, s % 3_600 / 60);
                if m == 0 {
                    write!(f, "{h} h")
                } else {
                    write!(f, "{h} h {m} min")
                }
            }
            86_400..=31_535_999 => plural(f, s / 86_400, "day"),
            _ => plural(f, s / 31_536_000, "year"),
        }
    }
}

/// [`relative`] as a `Display` value.
pub(crate) struct Relative {
    pub at: i64,
    pub now: i64,
}

impl fmt::Display for Relative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.at.saturating_sub(self.now);
        if d == 0 {
            f.write_str("now")
        } else if d > 0 {
            write!(f, "in {}", Span(d))
        } else {
            write!(f, "{} ago", Span(d))
        }
    }
}
