//! The native library the Android and iOS apps load: a thin UniFFI layer over `jemput-core`.
//!
//! Nothing here decides anything: [`store::JemputStore`] delegates every call to
//! [`jemput_core::Store`], the records and enums the apps see are the core's own types (derived
//! for UniFFI behind the core's `uniffi` feature; [`views`] adds the few that reshape them for a
//! screen), [`error::ApiError`] is the one error type the apps see, and [`sync`] runs
//! enrolment and sync on the library's runtime. The free functions below are the checks the
//! app runs while the officer types. The Kotlin API is described in `bindings/API.md`.

#![warn(missing_docs)]

uniffi::setup_scaffolding!();

pub mod error;
pub mod store;
pub mod sync;
pub mod views;

pub use error::ApiError;
pub use jemput_core::{Issue, Severity, Sex};
pub use store::{JemputStore, KeyProvider};
pub use sync::{HubTransport, SyncListener, SyncTask, TransportError};
pub use views::*;

/// The NIK as typed with the separators people use (spaces between digit groups, dots,
/// dashes) removed; anything else is kept, so validation still reports it.
#[uniffi::export]
pub fn normalize_nik(nik: String) -> String {
    nik.chars().filter(|c| !(c.is_whitespace() || *c == '.' || *c == '-')).collect()
}

/// Checks a NIK as typed (digit groups separated by spaces are accepted): 16 digits, a real province and a possible birth date part. With the
/// birth date (`YYYY-MM-DD`) and sex, also says when the NIK disagrees with them (warnings).
/// An empty list means the NIK is fine. Issues are reported on the field `applicant.nik`
/// (and `applicant.birth_date` for a birth date in the future); messages never repeat the NIK.
#[uniffi::export]
pub fn validate_nik(nik: String, birth_date: Option<String>, sex: Option<Sex>) -> Vec<Issue> {
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms());
    let birth = birth_date.as_deref().and_then(jemput_core::time_util::parse_date);
    jemput_core::validation::nik::validate_nik("applicant.nik", &normalize_nik(nik), birth, sex, today)
}

/// True when `code` is a well-formed receipt code whose check character matches (any case, with
/// or without dashes and spaces). A single mistyped character or two swapped characters always
/// give false.
#[uniffi::export]
pub fn check_receipt_code(code: String) -> bool {
    jemput_core::ReceiptCode::parse(&code).is_ok()
}

/// The canonical display form (`XXXX-XXXX-C`) of a receipt code as people type it, or `None`
/// when it is not a valid code.
#[uniffi::export]
pub fn normalize_receipt_code(code: String) -> Option<String> {
    jemput_core::ReceiptCode::parse(&code).ok().map(|c| c.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_codes_are_checked() {
        let prefix = "K7QM";
        let code = jemput_core::ReceiptCode::new(&jemput_core::receipt::DevicePrefix::parse(prefix).unwrap(), 1).unwrap();
        assert!(check_receipt_code(code.as_str().to_string()));
        assert!(check_receipt_code(code.as_str().to_lowercase().replace('-', " ")));
        let mut typo: Vec<u8> = code.as_str().bytes().collect();
        typo[5] = if typo[5] == b'2' { b'3' } else { b'2' };
        assert!(!check_receipt_code(String::from_utf8(typo).unwrap()));
        assert!(!check_receipt_code("bukan kode".into()));
        assert_eq!(normalize_receipt_code(code.as_str().to_lowercase()).as_deref(), Some(code.as_str()));
    }

    #[test]
    fn nik_checks_use_stable_codes_and_never_repeat_the_nik() {
        assert!(validate_nik("3576024405900001".into(), Some("1990-05-04".into()), Some(Sex::Perempuan)).is_empty());
        let bad = validate_nik("3576024405".into(), None, None);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].code, "nik_panjang");
        assert_eq!(bad[0].severity, Severity::Error);
        let warn = validate_nik("3576024405900001".into(), Some("1990-05-04".into()), Some(Sex::LakiLaki));
        assert_eq!(warn.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(), ["nik_jenis_kelamin_beda"]);
        assert!(warn.iter().chain(&bad).all(|i| !i.message.contains("3576")));
        assert_eq!(normalize_nik("3576 0244 0590 0001".into()), "3576024405900001");
        assert!(validate_nik("3576 0244 0590 0001".into(), Some("1990-05-04".into()), Some(Sex::Perempuan)).is_empty());
    }
}
