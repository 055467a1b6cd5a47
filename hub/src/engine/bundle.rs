//! Bundles brought by hand (the no-signal hand-off): a bundle file a device wrote, imported by
//! staff (dashboard or CLI) or relayed by a colleague's phone at its next sync. Either way the
//! documents go through the same checks as a sync from the device that wrote them (its scope,
//! its actor ids), and importing the same bundle twice changes nothing (Automerge ignores
//! changes it has).

use jemput_core::crypto::Cipher;
use jemput_core::sync::bundle::Bundle;
use serde::Serialize;

use super::exchange::check_incoming;
use super::worker::Isolation;
use crate::error::ServiceError;
use crate::service;
use crate::storage::HubTx;

/// What importing a bundle did.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// Documents in the bundle.
    pub docs: usize,
    /// Documents whose hub copy changed (0 when the bundle was imported before).
    pub changed: usize,
    /// Refused documents: (id, code, message).
    pub refused: Vec<(String, String, String)>,
}

/// Imports a bundle file written by a device, with the same checks as a sync from that device;
/// `by` is who brought it (for the audit log). Importing the same bundle twice changes nothing.
pub fn import_bundle_bytes(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    isolation: &Isolation,
    bytes: &[u8],
    by: &str,
) -> Result<ImportReport, ServiceError> {
    let bundle =
        Bundle::decode(bytes).map_err(|_| ServiceError::BadRequest("bundel_rusak", "Berkas bundel rusak atau bukan bundel Jemput"))?;
    let device = service::device_by_id(tx, &bundle.device_id)?
        .ok_or(ServiceError::Forbidden("perangkat_tidak_dikenal", "Bundel ini dari perangkat yang tidak terdaftar di kelurahan ini"))?;
    let applied = check_incoming(tx, cipher, isolation, &device, &bundle.docs, 0, false, &[])?.stored(tx, cipher, by)?;
    let changed = applied.iter().filter(|a| a.stored).count();
    let refused = applied.into_iter().filter_map(|a| a.refusal).map(|r| (r.doc_id, r.code, r.message)).collect();
    service::audit(tx, by, &format!("impor_bundel:{}", Bundle::fingerprint(bytes)), None)?;
    Ok(ImportReport { docs: bundle.docs.len(), changed, refused })
}
