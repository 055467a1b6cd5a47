//! The Jemput kelurahan hub as a library, in layers (ADR 0008): `storage` (the `HubTx` trait,
//! SQLite or PostgreSQL) → `service` (sealed documents, officers and devices, enrolment, staff
//! accounts, audit) → `engine` (the sync engine) → `api` (HTTP: the JSON API) and `web` (HTTP:
//! the staff dashboard, ADR 0012), set-up and the demo. The `jemput-hub` binary is a thin CLI
//! over it; the cross-component tests start it in-process on loopback.

pub mod api;
pub mod backup;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod rotation;
pub mod serve;
pub mod service;
pub mod storage;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod web;

// `jemput_hub::setup` keeps its path.
pub use service::setup;
