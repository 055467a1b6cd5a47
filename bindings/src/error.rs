//! The one error type the apps see, [`ApiError`], and its single conversion from the core's
//! error. Every variant carries a stable `code` for the app's logic and a `detail` sentence in
//! Bahasa Indonesia for the officer; neither ever contains personal data (NIK, names, notes),
//! because errors end up in logs and crash reports.
//!
//! The sentence is called `detail`, not `message`: in Kotlin the error becomes an exception
//! whose `message` property is generated from all its fields.

use jemput_core::sync::client::SyncError;
use jemput_core::Issue;

/// Everything that can go wrong in a call to the native library. In Kotlin this is the sealed
/// class `ApiException`, one subclass per variant.
#[derive(Debug, Clone, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// The key does not open this database (or is not a 32-byte key). Nothing was changed.
    #[error("{code}: {detail}")]
    WrongKey {
        /// Stable code: `kunci_salah`, or `kunci_tidak_valid` for a key that is not 32 bytes.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
    },
    /// The input is invalid; `issues` says which fields and why. Nothing was saved.
    #[error("{code}: {detail}")]
    Invalid {
        /// Stable code: `tidak_valid`.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
        /// The blocking problems, field by field.
        issues: Vec<Issue>,
    },
    /// The input is valid but has warnings the officer must confirm (call again with
    /// `confirmed = true`). Nothing was saved.
    #[error("{code}: {detail}")]
    NeedsConfirmation {
        /// Stable code: `perlu_konfirmasi`.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
        /// The warnings to show the officer.
        issues: Vec<Issue>,
    },
    /// No record with that id or receipt code on this device.
    #[error("{code}: {detail}")]
    NotFound {
        /// Stable code: `tidak_ditemukan`.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
    },
    /// The change is not allowed (a status that belongs to the office, or an impossible step).
    #[error("{code}: {detail}")]
    Forbidden {
        /// Stable code: `tidak_diizinkan`.
        code: String,
        /// Which rule refused it, in Bahasa Indonesia.
        detail: String,
    },
    /// The device's storage failed: the database, a file, a damaged record, or a database from
    /// a newer app version.
    #[error("{code}: {detail}")]
    Storage {
        /// Stable code: `basis_data`, `berkas`, `dokumen`, `data_rusak` or `versi_terlalu_baru`.
        code: String,
        /// What happened, in Bahasa Indonesia (never the underlying technical text).
        detail: String,
    },
    /// Enrolment or sync did not happen: no signal, the hub refused (its own code), a
    /// certificate that is not the pinned one, a malformed QR code, … Unsent data stays on the
    /// phone and goes with the next sync.
    #[error("{code}: {detail}")]
    Sync {
        /// Stable code: `tidak_ada_sinyal`, `alamat_tidak_aman`, `alamat_tidak_valid`,
        /// `qr_tidak_valid`, `sertifikat_tidak_cocok`, `perangkat_dicabut`, `belum_terdaftar`,
        /// `jawaban_rusak`, `sinkron_sedang_berjalan`, or the hub's refusal code.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
    },
    /// The sync was cancelled; what was already applied stays, the rest goes next time.
    #[error("{code}: {detail}")]
    Cancelled {
        /// Stable code: `dibatalkan`.
        code: String,
        /// What happened, in Bahasa Indonesia.
        detail: String,
    },
}

impl ApiError {
    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            ApiError::WrongKey { code, .. }
            | ApiError::Invalid { code, .. }
            | ApiError::NeedsConfirmation { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Storage { code, .. }
            | ApiError::Sync { code, .. }
            | ApiError::Cancelled { code, .. } => code,
        }
    }

    /// The sentence for the officer.
    pub fn detail(&self) -> &str {
        match self {
            ApiError::WrongKey { detail, .. }
            | ApiError::Invalid { detail, .. }
            | ApiError::NeedsConfirmation { detail, .. }
            | ApiError::NotFound { detail, .. }
            | ApiError::Forbidden { detail, .. }
            | ApiError::Storage { detail, .. }
            | ApiError::Sync { detail, .. }
            | ApiError::Cancelled { detail, .. } => detail,
        }
    }

    /// A sync or enrolment error with a fixed code and sentence.
    pub(crate) fn sync(code: &str, detail: &str) -> ApiError {
        ApiError::Sync { code: code.into(), detail: detail.into() }
    }

    /// The sync was cancelled.
    pub(crate) fn cancelled() -> ApiError {
        ApiError::Cancelled {
            code: "dibatalkan".into(),
            detail: "Sinkronisasi dibatalkan; data yang belum terkirim tetap aman dan dikirim nanti".into(),
        }
    }

    /// A key that is not 32 bytes long.
    pub(crate) fn bad_key_length() -> ApiError {
        ApiError::WrongKey { code: "kunci_tidak_valid".into(), detail: "Kunci enkripsi harus 32 byte (256 bit)".into() }
    }
}

/// The one conversion point from the core's error. Texts of SQLite, file and Automerge errors
/// are dropped (they may quote stored values); only the core's own code and a fixed sentence
/// cross the boundary.
impl From<jemput_core::Error> for ApiError {
    fn from(e: jemput_core::Error) -> Self {
        use jemput_core::Error as E;
        let code = e.code().to_string();
        let issues = |v: Vec<Issue>| v;
        match e {
            E::WrongKey => ApiError::WrongKey { code, detail: "Kunci enkripsi salah untuk basis data ini; data tidak diubah".into() },
            E::Invalid(v) => ApiError::Invalid {
                code,
                detail: format!("Data belum benar ({} masalah); periksa kolom yang ditandai", v.len()),
                issues: issues(v),
            },
            E::NeedsConfirmation(v) => ApiError::NeedsConfirmation {
                code,
                detail: format!("Ada {} peringatan yang perlu dikonfirmasi petugas", v.len()),
                issues: issues(v),
            },
            E::NotFound => ApiError::NotFound { code, detail: "Data tidak ditemukan di perangkat ini".into() },
            // The core's rule texts name statuses and roles only.
            E::Forbidden(rule) => ApiError::Forbidden { code, detail: format!("Perubahan tidak diizinkan: {rule}") },
            E::SchemaTooNew { found, supported } => ApiError::Storage {
                code,
                detail: format!(
                    "Basis data dibuat oleh versi Jemput yang lebih baru (versi {found}, didukung {supported}); perbarui aplikasi"
                ),
            },
            E::Corrupt => ApiError::Storage { code, detail: "Data tersimpan rusak atau telah diubah".into() },
            E::Sqlite(_) => ApiError::Storage { code, detail: "Kesalahan basis data di perangkat".into() },
            E::Document(_) => ApiError::Storage { code, detail: "Kesalahan saat membaca atau mengubah dokumen".into() },
            E::Io(_) => ApiError::Storage { code, detail: "Kesalahan berkas di perangkat (mungkin penyimpanan penuh)".into() },
        }
    }
}

/// A sync failure, for the officer: the hub's own refusals keep its code and sentence (the hub
/// writes them in Bahasa Indonesia, without personal data); network and TLS texts are dropped.
impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let fixed = |code: &str, e: &SyncError| ApiError::sync(code, &capitalised(&e.to_string()));
        match e {
            SyncError::InsecureUrl => fixed("alamat_tidak_aman", &e),
            SyncError::BadUrl => fixed("alamat_tidak_valid", &e),
            SyncError::Network(_) => ApiError::sync(
                "tidak_ada_sinyal",
                "Tidak ada sinyal atau server kelurahan tidak terjangkau; data tetap aman di HP dan dikirim nanti",
            ),
            SyncError::Unauthorized => fixed("perangkat_dicabut", &e),
            SyncError::Server { code, message, .. } => ApiError::Sync { code, detail: message },
            SyncError::Protocol => fixed("jawaban_rusak", &e),
            SyncError::CertificateMismatch => fixed("sertifikat_tidak_cocok", &e),
            SyncError::Store(e) => e.into(),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What the app's own code (a [`crate::KeyProvider`]) threw unexpectedly.
impl From<uniffi::UnexpectedUniFFICallbackError> for ApiError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ApiError::WrongKey {
            code: "kunci_tidak_tersedia".into(),
            detail: "Kunci enkripsi tidak dapat diambil dari penyimpanan kunci HP; data tidak diubah".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::{Error as E, Issue as CoreIssue};

    const SECRET: &str = "3576024405900001 Siti Aminah";

    fn all_core_errors() -> Vec<E> {
        vec![
            E::Invalid(vec![CoreIssue::error("applicant.nik", "nik_panjang", "NIK harus terdiri dari 16 angka")]),
            E::NeedsConfirmation(vec![CoreIssue::warning("documents_seen", "dokumen_belum_ada", "Belum ada: KTP")]),
            E::WrongKey,
            E::Corrupt,
            E::NotFound,
            E::Forbidden("status \"Selesai\" hanya dapat diubah oleh staf kelurahan".into()),
            E::SchemaTooNew { found: 9, supported: 3 },
            E::Sqlite(rusqlite_error_with(SECRET)),
            E::Document(format!("cannot hydrate {SECRET}")),
            E::Io(std::io::Error::other(format!("disk full writing {SECRET}"))),
        ]
    }

    fn rusqlite_error_with(text: &str) -> rusqlite::Error {
        rusqlite::Error::InvalidParameterName(text.to_string())
    }

    #[test]
    fn every_core_error_keeps_its_code_and_sheds_technical_text() {
        for e in all_core_errors() {
            let core_code = e.code();
            let api = ApiError::from(e);
            assert_eq!(api.code(), core_code);
            let shown = format!("{api} {api:?}");
            assert!(!shown.contains("3576024405900001"), "{shown}");
            assert!(!shown.contains("Siti"), "{shown}");
            assert!(!api.detail().is_empty());
        }
    }

    #[test]
    fn variants_are_chosen_by_kind() {
        assert!(matches!(ApiError::from(E::WrongKey), ApiError::WrongKey { .. }));
        assert!(matches!(ApiError::from(E::NotFound), ApiError::NotFound { .. }));
        assert!(matches!(ApiError::from(E::Corrupt), ApiError::Storage { .. }));
        match ApiError::from(E::Invalid(vec![CoreIssue::error("applicant.nik", "nik_panjang", "NIK harus 16 angka")])) {
            ApiError::Invalid { issues, code, .. } => {
                assert_eq!(code, "tidak_valid");
                assert_eq!(issues[0].code, "nik_panjang");
                assert_eq!(issues[0].field, "applicant.nik");
            }
            other => panic!("{other:?}"),
        }
        match ApiError::from(E::NeedsConfirmation(vec![CoreIssue::warning("applicant.nik", "kemungkinan_ganda", "ganda")])) {
            ApiError::NeedsConfirmation { issues, .. } => assert_eq!(issues[0].severity, jemput_core::Severity::Warning),
            other => panic!("{other:?}"),
        }
        assert_eq!(ApiError::bad_key_length().code(), "kunci_tidak_valid");
    }
}
