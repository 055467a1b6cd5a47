//! Jemput core: the domain of kelurahan letter requests and complaints, their validation,
//! the Automerge documents they live in, and the encrypted offline store on the officer's phone.
//!
//! The core knows nothing of the FFI layer (`bindings/`) or of the hub; both delegate to it.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod crypto;
pub mod domain;
pub mod error;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod time_util;

// The domain modules keep their short paths (`jemput_core::request`, …).
pub use domain::{catalog, complaint, document, kelurahan, name_search, permissions, receipt, request, validation};

pub use catalog::{Catalog, ExtraField, FieldKind, Requirement, Service};
pub use complaint::{Complaint, ComplaintCategory, ComplaintDraft, ComplaintStatus};
pub use error::{Error, Result};
pub use kelurahan::Kelurahan;
pub use receipt::ReceiptCode;
pub use request::{Actor, Applicant, Request, RequestDraft, Role, Sex, Status, StatusChange};
pub use store::{Store, StoreKey};
pub use validation::{Issue, Severity};
