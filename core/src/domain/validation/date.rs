//! Calendar dates typed by officers: ISO `YYYY-MM-DD`, real dates, birth dates not in the
//! future and not over 120 years ago, past events (a death) not in the future.

use time::Date;

use super::Issue;
use crate::time_util::{parse_date, EPOCH_MS, MAX_AHEAD_MS};

/// Parses an ISO date; an error names the expected format.
pub fn validate_date(field: &str, s: &str) -> (Option<Date>, Vec<Issue>) {
    if s.trim().is_empty() {
        return (None, vec![Issue::error(field, "wajib_diisi", "Tanggal wajib diisi")]);
    }
    match parse_date(s) {
        Some(d) => (Some(d), vec![]),
        None => (
            None,
            vec![Issue::error(field, "tanggal_tidak_valid", "Tanggal tidak valid; tulis dengan format TTTT-BB-HH, misalnya 1990-05-04")],
        ),
    }
}

/// A birth date: valid, not in the future, at most 120 years ago.
pub fn validate_birth_date(field: &str, s: &str, today: Date) -> (Option<Date>, Vec<Issue>) {
    let (d, mut issues) = validate_date(field, s);
    if let Some(d) = d {
        if d > today {
            issues.push(Issue::error(field, "tanggal_masa_depan", "Tanggal lahir tidak boleh di masa depan"));
            return (None, issues);
        }
        if today.year() - d.year() > 120 {
            issues.push(Issue::error(field, "tanggal_terlalu_lama", "Tanggal lahir lebih dari 120 tahun yang lalu; periksa kembali"));
            return (None, issues);
        }
    }
    (d, issues)
}

/// The date of an event that has already happened (a death, a move): not in the future.
pub fn validate_past_date(field: &str, s: &str, today: Date) -> (Option<Date>, Vec<Issue>) {
    let (d, mut issues) = validate_date(field, s);
    if let Some(d) = d {
        if d > today {
            issues.push(Issue::error(field, "tanggal_masa_depan", "Tanggal peristiwa tidak boleh di masa depan"));
            return (None, issues);
        }
    }
    (d, issues)
}

/// A time a device stamped (Unix milliseconds): not before Jemput's epoch and at most a day
/// ahead of the hub's clock `now_ms` (ADR 0009). Checked without arithmetic that could wrap.
pub fn validate_device_time(field: &str, at: i64, now_ms: i64) -> Option<Issue> {
    (at < EPOCH_MS || at > now_ms.saturating_add(MAX_AHEAD_MS)).then(|| {
        Issue::error(
            field,
            "waktu_tidak_valid",
            "Waktu pada data tidak masuk akal (sebelum 2023 atau lebih dari sehari setelah jam kelurahan); periksa tanggal dan jam di HP",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates() {
        let today = date!(2026 - 11 - 22);
        assert_eq!(validate_date("d", "1990-05-04").0, Some(date!(1990 - 05 - 04)));
        assert_eq!(validate_date("d", "1990-02-30").1[0].code, "tanggal_tidak_valid");
        assert_eq!(validate_date("d", "04-05-1990").1[0].code, "tanggal_tidak_valid");
        assert_eq!(validate_date("d", " ").1[0].code, "wajib_diisi");
        assert_eq!(validate_birth_date("d", "2027-01-01", today).1[0].code, "tanggal_masa_depan");
        assert_eq!(validate_birth_date("d", "1890-01-01", today).1[0].code, "tanggal_terlalu_lama");
        assert!(validate_birth_date("d", "1950-01-01", today).1.is_empty());
        assert_eq!(validate_past_date("d", "2026-11-23", today).1[0].code, "tanggal_masa_depan");
        assert!(validate_past_date("d", "2026-11-22", today).1.is_empty());
    }

    #[test]
    fn device_times() {
        let now = 1_764_000_000_000;
        assert!(validate_device_time("t", now, now).is_none());
        assert!(validate_device_time("t", EPOCH_MS, now).is_none());
        assert!(validate_device_time("t", now + MAX_AHEAD_MS, now).is_none());
        for bad in [EPOCH_MS - 1, now + MAX_AHEAD_MS + 1, i64::MAX, i64::MIN, 0, -1] {
            assert_eq!(validate_device_time("t", bad, now).unwrap().code, "waktu_tidak_valid", "{bad}");
        }
        // A hub clock at the end of time does not wrap either.
        assert!(validate_device_time("t", i64::MAX, i64::MAX).is_none());
    }
}
