//! Calendar dates typed by officers: ISO `YYYY-MM-DD`, real dates, birth dates not in the
//! future and not over 120 years ago, past events (a death) not in the future.

use time::Date;

use super::Issue;
use crate::time_util::parse_date;

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
}
