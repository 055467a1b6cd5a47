//! No. KK (Kartu Keluarga number): 16 digits with the same region prefix as a NIK; its date part
//! is the card's issue date (no +40), not a birth date.

use time::{Date, Month};

use super::nik::PROVINCES;
use super::Issue;

/// Validates a No. KK; a region different from the applicant's NIK is a warning (people move).
pub fn validate_kk(field: &str, kk: &str, nik: Option<&str>, today: Date) -> Vec<Issue> {
    let kk = kk.trim();
    if kk.is_empty() {
        return vec![Issue::error(field, "wajib_diisi", "Nomor KK wajib diisi")];
    }
    if !kk.chars().all(|c| c.is_ascii_digit()) {
        return vec![Issue::error(field, "kk_bukan_angka", "Nomor KK hanya terdiri dari angka, tanpa spasi atau tanda baca")];
    }
    if kk.len() != 16 {
        return vec![Issue::error(field, "kk_panjang", format!("Nomor KK harus terdiri dari 16 angka (tertulis {} angka)", kk.len()))];
    }
    let n = |i: usize| kk[i..i + 2].parse::<u8>().expect("digits");
    let mut issues = Vec::new();
    if !PROVINCES.contains(&n(0)) {
        issues.push(Issue::error(field, "kk_provinsi", "Dua angka pertama nomor KK bukan kode provinsi yang ada"));
    }
    if n(2) == 0 || n(4) == 0 {
        issues.push(Issue::error(field, "kk_wilayah", "Kode kabupaten/kota atau kecamatan pada nomor KK tidak boleh 00"));
    }
    let issued = Month::try_from(n(8)).ok().and_then(|m| {
        // YY up to this year's two digits means 20YY, otherwise 19YY; numbered family cards
        // date from the 1970s on, so 19YY before 1970 cannot be.
        let yy = i32::from(n(10));
        let year = if 2000 + yy <= today.year() { 2000 + yy } else { 1900 + yy };
        Date::from_calendar_date(year, m, n(6)).ok()
    });
    match issued {
        None => {
            issues.push(Issue::error(field, "kk_tanggal", "Bagian tanggal terbit pada nomor KK (angka ke-7 sampai ke-12) tidak mungkin"))
        }
        Some(d) if d > today || d.year() < 1970 => {
            issues.push(Issue::error(field, "kk_tanggal", "Tanggal terbit pada nomor KK tidak mungkin (di masa depan atau sebelum 1970)"))
        }
        Some(_) => {}
    }
    if kk[12..] == *"0000" {
        issues.push(Issue::error(field, "kk_nomor_urut", "Empat angka terakhir nomor KK tidak boleh 0000"));
    }
    if issues.is_empty() {
        // Only a NIK of 16 digits is compared (its own check reports anything else); slicing
        // a 16-byte text of other characters could cut one in two.
        if let Some(nik) = nik.map(str::trim).filter(|n| n.len() == 16 && n.bytes().all(|b| b.is_ascii_digit())) {
            if nik[..4] != kk[..4] {
                issues.push(Issue::warning(
                    field,
                    "kk_wilayah_beda",
                    "Kode wilayah nomor KK berbeda dengan NIK (mungkin pindah domisili); periksa kembali",
                ));
            }
        }
    }
    issues
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
    fn kk_numbers() {
        assert!(validate_kk("kk", "3576020101150003", Some("3576024405900001"), TODAY).is_empty());
        assert_eq!(codes(&validate_kk("kk", "3576020101150003", Some("3578024405900001"), TODAY)), ["kk_wilayah_beda"]);
        assert_eq!(codes(&validate_kk("kk", "35760201011500", None, TODAY)), ["kk_panjang"]);
        assert_eq!(codes(&validate_kk("kk", "3576 020101150003", None, TODAY)), ["kk_bukan_angka"]);
        assert_eq!(codes(&validate_kk("kk", "3576024101150003", None, TODAY)), ["kk_tanggal"], "no +40 on a KK");
        assert_eq!(codes(&validate_kk("kk", "3576020101270003", None, TODAY)), ["kk_tanggal"], "issued in 2027 or 1927: neither possible");
        assert_eq!(codes(&validate_kk("kk", "1076020101150003", None, TODAY)), ["kk_provinsi"]);
        assert_eq!(codes(&validate_kk("kk", "3576020101150000", None, TODAY)), ["kk_nomor_urut"]);
        assert_eq!(codes(&validate_kk("kk", "", None, TODAY)), ["wajib_diisi"]);
        // A "NIK" of 16 bytes that are not 16 digits (found by the property test): no panic,
        // no comparison.
        assert!(validate_kk("kk", "3576020101150003", Some("!A ® 0 𮯰0  !"), TODAY).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,20}", d in "[0-9]{16}") {
            let _ = validate_kk("kk", &s, Some(&d), TODAY);
            let _ = validate_kk("kk", &d, Some(&s), TODAY);
        }
    }
}
