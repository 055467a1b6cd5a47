//! Time helpers: timestamps are Unix milliseconds (UTC); calendar dates are ISO `YYYY-MM-DD`.

use time::{Date, OffsetDateTime};

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// The current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Parses an ISO calendar date (`YYYY-MM-DD`).
pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

/// The calendar date (UTC+7, Western Indonesia Time) of a Unix-millisecond timestamp.
pub fn date_of_ms(ms: i64) -> Date {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    (t + time::Duration::hours(7)).date()
}
