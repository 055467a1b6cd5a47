//! Jemput core: the domain of kelurahan letter requests and complaints, their validation,
//! the Automerge documents they live in, and the encrypted offline store on the officer's phone.
//!
//! The core knows nothing of the FFI layer (`bindings/`) or of the hub; both delegate to it.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod catalog;
pub mod complaint;
pub mod crypto;
pub mod document;
pub mod error;
pub mod kelurahan;
pub mod permissions;
pub mod receipt;
pub mod request;
pub mod store;
pub mod sync;
pub mod time_util;
pub mod validation;

pub use catalog::{Catalog, ExtraField, FieldKind, Requirement, Service};
pub use complaint::{Complaint, ComplaintCategory, ComplaintDraft, ComplaintStatus};
pub use error::{Error, Result};
pub use kelurahan::Kelurahan;
pub use receipt::ReceiptCode;
pub use request::{Actor, Applicant, Request, RequestDraft, Role, Sex, Status, StatusChange};
pub use store::{Store, StoreKey};
pub use validation::{Issue, Severity};
