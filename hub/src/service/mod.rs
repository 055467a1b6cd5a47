//! The hub's record keeping over the storage trait ([`HubTx`](crate::storage::HubTx)), split by
//! what it does: the sealed documents ([`docs`]), officers and their devices ([`officers`]),
//! enrolment with one-time codes ([`enrolment`]), staff accounts ([`staff`]), the audit log
//! ([`audit`]), erasure and retention ([`erasure`]) and setting a hub up ([`setup`]). Only hashes of tokens and codes are stored. The sync engine (`crate::engine`)
//! and the HTTP handlers build on it; it knows nothing of either.

pub mod audit;
pub mod docs;
pub mod enrolment;
pub mod erasure;
pub mod officers;
pub mod setup;
pub mod staff;

pub use audit::audit;
pub use docs::{hub_actor, load_doc, load_doc_bytes, put_doc, put_doc_from, DocVersion, StoredFull};
pub use enrolment::{create_enrol_code, enrol};
pub use officers::{
    add_officer, add_officer_as, device_by_id, device_by_token, officers, revoke_device, revoke_device_as, revoke_officer,
    revoke_officer_as, Device,
};
pub use staff::{add_staff, add_staff_as, revoke_staff, revoke_staff_as, role_for_status, role_of, staff_by_token, Role};

pub(crate) fn now() -> i64 {
    jemput_core::time_util::now_ms()
}

/// A keyed hash of a secret (token or enrolment code); only hashes are stored.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::derive_key("jemput 2026 hub token", secret.trim().to_ascii_uppercase().as_bytes()).to_vec()
}

/// A random secret of `n` characters from the receipt alphabet (readable, no 0/O/1/I/L).
pub fn random_secret(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| jemput_core::receipt::ALPHABET[(*x as usize) % 31] as char).collect()
}
