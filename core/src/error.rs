//! The core's internal error type. It never carries personal data (NIK, names) in its text:
//! errors end up in logs and crash reports.

use crate::validation::Issue;

/// Result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input failed validation; each issue names the field, a stable code and a message.
    #[error("data tidak valid ({} masalah)", .0.len())]
    Invalid(Vec<Issue>),
    /// Input is valid but has warnings the officer must confirm (e.g. a possible duplicate).
    #[error("perlu konfirmasi ({} peringatan)", .0.len())]
    NeedsConfirmation(Vec<Issue>),
    /// The key given does not open this database. The database is left untouched.
    #[error("kunci enkripsi salah untuk basis data ini")]
    WrongKey,
    /// A stored value failed authentication: tampering or corruption.
    #[error("data tersimpan rusak atau telah diubah")]
    Corrupt,
    /// No record with that id or receipt code.
    #[error("data tidak ditemukan")]
    NotFound,
    /// The status change is not allowed from the current status or for this role.
    #[error("perubahan status tidak diizinkan: {0}")]
    Forbidden(String),
    /// The database was written by a newer version of Jemput.
    #[error("basis data versi {found} lebih baru dari yang didukung ({supported})")]
    SchemaTooNew { found: u32, supported: u32 },
    /// SQLite failed.
    #[error("kesalahan basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// An Automerge document could not be read or changed.
    #[error("kesalahan dokumen: {0}")]
    Document(String),
    /// A file operation failed.
    #[error("kesalahan berkas: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A stable, machine-readable code for this error (for the FFI layer and the hub).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "tidak_valid",
            Error::NeedsConfirmation(_) => "perlu_konfirmasi",
            Error::WrongKey => "kunci_salah",
            Error::Corrupt => "data_rusak",
            Error::NotFound => "tidak_ditemukan",
            Error::Forbidden(_) => "tidak_diizinkan",
            Error::SchemaTooNew { .. } => "versi_terlalu_baru",
            Error::Sqlite(_) => "basis_data",
            Error::Document(_) => "dokumen",
            Error::Io(_) => "berkas",
        }
    }
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Document(e.to_string())
    }
}

impl From<autosurgeon::ReconcileError> for Error {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        Error::Document(e.to_string())
    }
}

impl From<autosurgeon::HydrateError> for Error {
    fn from(e: autosurgeon::HydrateError) -> Self {
        Error::Document(e.to_string())
    }
}
