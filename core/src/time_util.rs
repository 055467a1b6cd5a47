//! Time helpers: timestamps are Unix milliseconds (UTC); calendar dates are ISO `YYYY-MM-DD`.

use time::{Date, OffsetDateTime};

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// Jemput's epoch: no record, step or answer can be older than 2023-01-01 00:00 UTC (before
/// Jemput existed). Times from a device before it are refused (ADR 0009).
pub const EPOCH_MS: i64 = 1_672_531_200_000;

/// How far ahead of the hub's clock a device's time may be (a phone's clock set a little
/// wrong); beyond it a time is refused (ADR 0009).
pub const MAX_AHEAD_MS: i64 = DAY_MS;

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
