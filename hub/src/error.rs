//! The error of the hub's engine and services (enrolment, accounts, the sync exchange): what a
//! call can fail with, with a stable code and a message in Bahasa Indonesia, never with personal
//! data. It knows nothing of HTTP: `crate::api::error::ApiError` maps it to a status code, and
//! the command line reports it through `anyhow`.

use crate::storage::{StorageError, TxError};

/// Everything an engine or service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input from the caller.
    #[error("{1}")]
    BadRequest(&'static str, &'static str),
    /// No or unknown credentials.
    #[error("{1}")]
    Unauthorized(&'static str, &'static str),
    /// Known caller, not allowed.
    #[error("{1}")]
    Forbidden(&'static str, &'static str),
    /// A state change the rules do not allow (message says why, no personal data).
    #[error("{1}")]
    Rejected(&'static str, String),
    /// Input a person typed that breaks a rule (a length limit): the validator's code and
    /// message (`jemput_core::validation`).
    #[error("{1}")]
    Invalid(String, String),
    /// Too many failed attempts from this address or with this code; try again later.
    #[error("terlalu banyak percobaan yang gagal; coba lagi dalam 15 menit")]
    Throttled,
    /// Nothing there.
    #[error("{0}")]
    NotFound(&'static str),
    /// The hub is not set up as the call needs (e.g. no kelurahan profile).
    #[error("{0}")]
    Config(String),
    /// A stored document or row that cannot be read (what it is, no personal data).
    #[error("data tersimpan rusak: {0}")]
    Corrupt(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The hub is overloaded for now; try again.
    #[error("hub sedang sibuk; coba lagi sebentar lagi")]
    Unavailable,
    /// Anything else.
    #[error("kesalahan internal hub")]
    Internal,
}

impl TxError for ServiceError {
    fn storage(&self) -> Option<&StorageError> {
        match self {
            ServiceError::Storage(s) => Some(s),
            _ => None,
        }
    }
}

impl ServiceError {
    /// A length check of a typed text (`jemput_core::validation::limits`): an error naming the
    /// field when `value` is longer than `max` characters.
    pub fn check_length(label: &str, value: Option<&str>, max: usize) -> Result<(), ServiceError> {
        match value.and_then(|v| jemput_core::validation::limits::check(label, label, v, max)) {
            Some(issue) => Err(ServiceError::Invalid(issue.code, issue.message)),
            None => Ok(()),
        }
    }
}
