//! NIK (Nomor Induk Kependudukan): 16 digits `PP KK CC DDMMYY SSSS` — province, regency/city and
//! district where first registered, birth date with the day plus 40 for women, and a serial.
//! There is no check digit. Impossible values are errors; a NIK that disagrees with the birth
//! date or sex given is a warning (usually a typing error to confirm).

use time::{Date, Month};

use super::Issue;
use crate::request::Sex;

/// Province codes (kode provinsi) in use, including the Papua provinces formed in 2022.
pub const PROVINCES: [u8; 38] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92,
    93, 94, 95, 96,
];

/// The parts of a NIK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NikParts {
    /// Province code.
    pub province: u8,
    /// Regency or city code.
    pub regency: u8,
    /// District (kecamatan) code.
    pub district: u8,
    /// Day of birth (1–31, without the +40).
    pub day: u8,
    /// Month of birth.
    pub month: u8,
    /// Two-digit year of birth.
    pub year2: u8,
    /// Sex, from the day part.
    pub sex: Sex,
    /// Serial number.
    pub serial: u16,
}

fn two(s: &[u8], i: usize) -> u8 {
    (s[i] - b'0') * 10 + (s[i + 1] - b'0')
}

/// Splits a 16-digit string into its parts, without judging them.
fn split(nik: &str) -> Option<NikParts> {
    let b = nik.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let raw_day = two(b, 6);
    let (day, sex) = if raw_day > 40 { (raw_day - 40, Sex::Perempuan) } else { (raw_day, Sex::LakiLaki) };
    let serial = nik[12..16].parse().ok()?;
    Some(NikParts { province: two(b, 0), regency: two(b, 2), district: two(b, 4), day, month: two(b, 8), year2: two(b, 10), sex, serial })
}

/// Parses a NIK whose parts are all possible (real province, a real day and month, serial
/// above 0); `None` otherwise.
pub fn parse_nik(nik: &str) -> Option<NikParts> {
    let p = split(nik.trim())?;
    let ok = PROVINCES.contains(&p.province)
        && p.regency != 0
        && p.district != 0
        && p.serial != 0
        && (1..=12).contains(&p.month)
        && (1..=31).contains(&p.day)
        && day_fits(p.day, p.month, p.year2);
    ok.then_some(p)
}

/// Whether the day exists in that month (29 February only in leap years, taking the two-digit
/// year as 19YY or 20YY — either may be meant, so allow it if either is a leap year).
fn day_fits(day: u8, month: u8, year2: u8) -> bool {
    let Ok(m) = Month::try_from(month) else { return false };
    [1900 + i32::from(year2), 2000 + i32::from(year2)].iter().any(|y| time::util::days_in_month(m, *y) >= day)
}

/// Validates a NIK and checks it against the birth date and sex given.
pub fn validate_nik(field: &str, nik: &str, birth_date: Option<Date>, sex: Option<Sex>, today: Date) -> Vec<Issue> {
    let nik = nik.trim();
    if nik.is_empty() {
        return vec![Issue::error(field, "wajib_diisi", "NIK wajib diisi")];
    }
    if nik.chars().any(|c| c.is_whitespace() || c == '.' || c == '-') && nik.chars().filter(char::is_ascii_digit).count() == 16 {
        return vec![Issue::error(field, "nik_pemisah", "Tulis NIK tanpa spasi, titik atau tanda hubung")];
    }
    if !nik.chars().all(|c| c.is_ascii_digit()) {
        return vec![Issue::error(field, "nik_bukan_angka", "NIK hanya terdiri dari angka")];
    }
    if nik.len() != 16 {
        return vec![Issue::error(field, "nik_panjang", format!("NIK harus terdiri dari 16 angka (tertulis {} angka)", nik.len()))];
    }
    let p = split(nik).expect("16 digits");
    let mut issues = Vec::new();
    if !PROVINCES.contains(&p.province) {
        issues.push(Issue::error(field, "nik_provinsi", "Dua angka pertama NIK bukan kode provinsi yang ada"));
    }
    if p.regency == 0 || p.district == 0 {
        issues.push(Issue::error(field, "nik_wilayah", "Kode kabupaten/kota atau kecamatan pada NIK tidak boleh 00"));
    }
    if !(1..=12).contains(&p.month) || !(1..=31).contains(&p.day) || !day_fits(p.day, p.month, p.year2) {
        issues.push(Issue::error(field, "nik_tanggal", "Bagian tanggal lahir pada NIK (angka ke-7 sampai ke-12) tidak mungkin"));
    }
    if p.serial == 0 {
        issues.push(Issue::error(field, "nik_nomor_urut", "Empat angka terakhir NIK tidak boleh 0000"));
    }
    if !issues.is_empty() {
        return issues;
    }
    if let Some(b) = birth_date {
        let same = b.day() == p.day && u8::from(b.month()) == p.month && (b.year().rem_euclid(100)) as u8 == p.year2;
        if !same {
            issues.push(Issue::warning(
                field,
                "nik_tanggal_lahir_beda",
                "Tanggal lahir pada NIK berbeda dengan tanggal lahir yang diisi; periksa kembali",
            ));
        }
        if b > today {
            issues.push(Issue::error("applicant.birth_date", "tanggal_masa_depan", "Tanggal lahir tidak boleh di masa depan"));
        }
    }
    if let Some(s) = sex {
        if s != p.sex {
            let msg = match p.sex {
                Sex::Perempuan => {
                    "NIK menunjukkan jenis kelamin perempuan (tanggal ditambah 40), berbeda dengan yang diisi; periksa kembali"
                }
                Sex::LakiLaki => "NIK menunjukkan jenis kelamin laki-laki, berbeda dengan yang diisi; periksa kembali",
            };
            issues.push(Issue::warning(field, "nik_jenis_kelamin_beda", msg));
        }
    }
    issues
}

/// Only the format of a NIK (for extra fields such as the deceased's NIK): 16 digits with a
/// possible region and date.
pub fn validate_nik_format(field: &str, nik: &str) -> Vec<Issue> {
    let today = time::OffsetDateTime::now_utc().date();
    validate_nik(field, nik, None, None, today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 22);

    fn codes(v: &[Issue]) -> Vec<&str> {
        v.iter().map(|i| i.code.as_str()).collect()
    }

    #[test]
    fn a_valid_nik_matches_its_owner() {
        // A woman born 1990-05-04, registered in Kota Mojokerto (35.76), Kecamatan 02.
        let v = validate_nik("nik", "3576024405900001", Some(date!(1990 - 05 - 04)), Some(Sex::Perempuan), TODAY);
        assert!(v.is_empty(), "{v:?}");
        let p = parse_nik("3576024405900001").unwrap();
        assert_eq!((p.province, p.regency, p.district, p.day, p.month, p.year2, p.sex, p.serial), (35, 76, 2, 4, 5, 90, Sex::Perempuan, 1));
    }

    #[test]
    fn impossible_values_are_errors() {
        assert_eq!(codes(&validate_nik("nik", "", None, None, TODAY)), ["wajib_diisi"]);
        assert_eq!(codes(&validate_nik("nik", "357602440590", None, None, TODAY)), ["nik_panjang"]);
        assert_eq!(codes(&validate_nik("nik", "3576 0244 0590 0001", None, None, TODAY)), ["nik_pemisah"]);
        assert_eq!(codes(&validate_nik("nik", "35760244059O0001", None, None, TODAY)), ["nik_bukan_angka"]);
        assert_eq!(codes(&validate_nik("nik", "9976024405900001", None, None, TODAY)), ["nik_provinsi"]);
        assert_eq!(codes(&validate_nik("nik", "3500024405900001", None, None, TODAY)), ["nik_wilayah"]);
        assert_eq!(codes(&validate_nik("nik", "3576023205900001", None, None, TODAY)), ["nik_tanggal"], "day 32");
        assert_eq!(codes(&validate_nik("nik", "3576027205900001", None, None, TODAY)), ["nik_tanggal"], "day 72 (32 + 40)");
        assert_eq!(codes(&validate_nik("nik", "3576024413900001", None, None, TODAY)), ["nik_tanggal"], "month 13");
        assert_eq!(codes(&validate_nik("nik", "3576023002900001", None, None, TODAY)), ["nik_tanggal"], "30 February");
        assert_eq!(codes(&validate_nik("nik", "3576024405900000", None, None, TODAY)), ["nik_nomor_urut"]);
    }

    #[test]
    fn disagreements_are_warnings_without_the_value() {
        let v = validate_nik("nik", "3576020405900001", Some(date!(1990 - 05 - 04)), Some(Sex::Perempuan), TODAY);
        assert_eq!(codes(&v), ["nik_jenis_kelamin_beda"]);
        assert!(v.iter().all(|i| !i.is_error()));
        let v = validate_nik("nik", "3576024405900001", Some(date!(1991 - 05 - 04)), Some(Sex::Perempuan), TODAY);
        assert_eq!(codes(&v), ["nik_tanggal_lahir_beda"]);
        assert!(v.iter().all(|i| !i.message.contains("3576")));
    }

    fn nik_for(d: Date, sex: Sex, serial: u16) -> String {
        let day = d.day() + if sex == Sex::Perempuan { 40 } else { 0 };
        format!("357602{:02}{:02}{:02}{:04}", day, u8::from(d.month()), d.year().rem_euclid(100), serial)
    }

    proptest! {
        #[test]
        fn generated_niks_validate_and_parse_back(days in 0i64..36_000, female in any::<bool>(), serial in 1u16..=9999) {
            let d = date!(1927 - 01 - 01) + time::Duration::days(days);
            prop_assume!(d <= TODAY);
            let sex = if female { Sex::Perempuan } else { Sex::LakiLaki };
            let nik = nik_for(d, sex, serial);
            let v = validate_nik("nik", &nik, Some(d), Some(sex), TODAY);
            prop_assert!(v.is_empty(), "{} {:?}", nik, v);
            let p = parse_nik(&nik).unwrap();
            prop_assert_eq!((p.day, u8::from(d.month()) , p.sex, p.serial), (d.day(), p.month, sex, serial));
        }

        #[test]
        fn any_string_never_panics(s in "\\PC{0,24}", digits in "[0-9]{16}") {
            let _ = validate_nik("nik", &s, None, None, TODAY);
            let _ = validate_nik("nik", &digits, Some(TODAY), Some(Sex::LakiLaki), TODAY);
            let _ = parse_nik(&digits);
        }
    }
}
