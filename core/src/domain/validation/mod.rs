//! Validation of what officers type at the door: NIK, No. KK, phone numbers, dates, RT/RW and
//! each service's required fields. Every problem is an [`Issue`]: the field, a stable code and a
//! message in Bahasa Indonesia. Errors block saving; warnings ask the officer to confirm.

pub mod complaint;
pub mod date;
pub mod kk;
pub mod limits;
pub mod nik;
pub mod phone;
pub mod record;
pub mod request;

use serde::{Deserialize, Serialize};

/// How serious an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The value is impossible; the record cannot be saved.
    Error,
    /// The value is possible but suspicious; the officer must confirm it.
    Warning,
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Issue {
    /// The field, as a dotted path (`applicant.nik`, `fields.nama_almarhum`).
    pub field: String,
    /// A stable machine-readable code (`nik_panjang`, `nik_tanggal_beda`, …).
    pub code: String,
    /// A message in Bahasa Indonesia a person understands.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Issue {
    /// A blocking error.
    pub fn error(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Issue { field: field.into(), code: code.to_string(), message: message.into(), severity: Severity::Error }
    }

    /// A warning the officer must confirm.
    pub fn warning(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Issue { field: field.into(), code: code.to_string(), message: message.into(), severity: Severity::Warning }
    }

    /// True for a blocking error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when any issue is a blocking error.
pub fn has_errors(issues: &[Issue]) -> bool {
    issues.iter().any(Issue::is_error)
}
