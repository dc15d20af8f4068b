//! Absolute and relative renderings of NumericDates for people.

use chrono::{SecondsFormat, TimeZone, Utc};

/// RFC 3339 UTC, to the second; `None` when out of chrono's range.
pub fn rfc3339(secs: i64) -> Option<String> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A rough span: `14 min`, `3 days`, `2 h 5 min`, `40 s`.
pub fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min", s / 60),
        3_600..=86_399 => {
            let (h, m) = (s / 3_600, s % 3_600 / 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        86_400..=31_535_999 => plural(s / 86_400, "day"),
        _ => plural(s / 31_536_000, "year"),
    }
}

/// `in 14 min` or `3 days ago` for an instant relative to `now`.
pub fn relative(at: i64, now: i64) -> String {
    let d = at.saturating_sub(now);
    if d == 0 {
        "now".into()
    } else if d > 0 {
        format!("in {}", span(d))
    } else {
        format!("{} ago", span(d))
    }
}
