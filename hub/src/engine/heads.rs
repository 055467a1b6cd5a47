//! What the hub knows each device holds of each document: known heads, and heads sent in an
//! answer that count once the device comes back with that answer's cursor (so a lost answer
//! makes the hub send the changes again).

use std::collections::HashMap;

use automerge::ChangeHash;
use jemput_core::sync::protocol;

use crate::error::ServiceError;
use crate::storage::HubTx;

/// Stored heads; a length that is not whole hashes is a corrupt row (an error, never cut).
fn bytes_heads(b: &[u8]) -> Result<Vec<ChangeHash>, ServiceError> {
    protocol::decode_heads(b).map_err(|_| ServiceError::Corrupt("heads tersimpan"))
}

/// What the hub knows a device has of each of `doc_ids`, in one read. Heads sent in an earlier
/// answer count once the device's cursor shows it applied that answer (`cursor` ≥ the
/// answer's cursor); an answer lost on the way leaves the older heads, so the changes are sent
/// again. With `promote`, the heads that now count are recorded (one write for all of them);
/// without, nothing is written (checks prepared outside the write transaction). Documents the
/// device is not known to have are left out.
pub fn known_heads_many(
    tx: &mut dyn HubTx,
    device_id: &str,
    doc_ids: &[&str],
    cursor: u64,
    promote: bool,
) -> Result<HashMap<String, Vec<ChangeHash>>, ServiceError> {
    let rows = tx.known_many(device_id, doc_ids)?;
    let mut out = HashMap::with_capacity(rows.len());
    let mut promoted: Vec<(String, Vec<u8>)> = Vec::new();
    for (doc_id, k) in rows {
        let heads = match k.pending {
            Some((p, pc)) if cursor as i64 >= pc => {
                let h = bytes_heads(&p)?;
                promoted.push((doc_id.clone(), p));
                h
            }
            _ => bytes_heads(&k.heads)?,
        };
        out.insert(doc_id, heads);
    }
    if promote && !promoted.is_empty() {
        let rows: Vec<(&str, &[u8])> = promoted.iter().map(|(d, p)| (d.as_str(), p.as_slice())).collect();
        tx.promote_pending_many(device_id, &rows)?;
    }
    Ok(out)
}

/// Records heads sent to a device in an answer with cursor `cursor`, for each document.
pub fn set_pending_heads_many(
    tx: &mut dyn HubTx,
    device_id: &str,
    rows: &[(String, Vec<ChangeHash>)],
    cursor: u64,
) -> Result<(), ServiceError> {
    let encoded: Vec<(&str, Vec<u8>)> = rows.iter().map(|(d, h)| (d.as_str(), protocol::encode_heads(h))).collect();
    let rows: Vec<(&str, &[u8])> = encoded.iter().map(|(d, h)| (*d, h.as_slice())).collect();
    Ok(tx.set_pending_many(device_id, &rows, cursor as i64)?)
}

/// Records what a device has of each document.
pub fn set_known_heads_many(tx: &mut dyn HubTx, device_id: &str, rows: &[(&str, &[ChangeHash])]) -> Result<(), ServiceError> {
    let encoded: Vec<(&str, Vec<u8>)> = rows.iter().map(|(d, h)| (*d, protocol::encode_heads(h))).collect();
    let rows: Vec<(&str, &[u8])> = encoded.iter().map(|(d, h)| (*d, h.as_slice())).collect();
    Ok(tx.set_known_many(device_id, &rows)?)
}

/// The hub's lineage as phones are told it (ADR 0014); 0 when the database has none yet.
pub fn epoch(tx: &mut dyn HubTx) -> Result<u64, ServiceError> {
    Ok(match tx.meta(crate::storage::EPOCH_KEY)? {
        Some(b) => u64::from_le_bytes(b.as_slice().try_into().map_err(|_| ServiceError::Corrupt("garis waktu hub"))?),
        None => 0,
    })
}

/// After a restore (ADR 0014): the database starts a new lineage, so every phone, at its next
/// exchange, learns that the hub went back in time, starts its cursor over and sends again
/// what the hub lost. What the hub knows each device holds stays (a device only ever gains);
/// heads sent in answers that may never have arrived are forgotten. The hub writes from now on
/// under a new Automerge actor: the restored one's later sequence numbers are taken by changes
/// the hub lost but phones may hold, and a second change under the same actor and number would
/// make those phones' documents unreadable. Returns the new lineage.
pub fn begin_new_epoch(tx: &mut dyn HubTx) -> Result<u64, ServiceError> {
    let epoch = crate::storage::new_epoch();
    tx.forget_pending_heads()?;
    tx.set_meta(crate::storage::HUB_ACTOR_KEY, jemput_core::document::random_actor().to_bytes())?;
    tx.set_meta(crate::storage::EPOCH_KEY, &epoch.to_le_bytes())?;
    Ok(epoch)
}
