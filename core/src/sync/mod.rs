//! Sync between devices and the kelurahan hub (see `docs/adr/0004-sync-protocol.md`).
//!
//! One HTTP exchange carries Automerge sync messages for many documents. Each side seeds its
//! per-document sync state with the heads it knows the other side has, so a message carries the
//! missing changes at once and an upload takes a single exchange. Only documents that changed
//! take part: the device sends its unsent documents, and the hub adds the documents of the
//! device's scope that changed in its change log after the device's cursor. An idle sync is a
//! cursor and an empty list each way.

pub mod bundle;
pub mod client;
pub mod device;
pub mod hub_side;
pub mod peer;
pub mod protocol;
#[cfg(feature = "native-http")]
pub mod tls;
pub mod transport;

pub use device::{HubLink, SyncHealth, SyncReport};
