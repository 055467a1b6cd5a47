//! The domain, the lowest layer: letter requests and complaints as records, the service catalog
//! and kelurahan profile, their validation, who may do what (permissions), receipt codes, and
//! the Automerge documents records live in. It knows nothing of storage, sync or transport.

pub mod catalog;
pub mod complaint;
pub mod document;
pub mod kelurahan;
pub mod name_search;
pub mod permissions;
pub mod receipt;
pub mod request;
pub mod validation;
