//! Per-document Automerge sync steps shared by the device and the hub: exact messages built
//! from what the other side is known to have, and decoding and applying messages with
//! Automerge isolated (size limits and panics caught), so hostile input cannot crash the caller.

use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};

use crate::error::{Error, Result};
use crate::sync::protocol::MAX_DOC_MESSAGE_BYTES;

/// Most changes one document message may carry.
pub const MAX_CHANGES_PER_MESSAGE: usize = 10_000;

/// Decodes a sync message, refusing oversized or malformed input.
pub fn decode_message(bytes: &[u8]) -> Result<sync::Message> {
    if bytes.len() > MAX_DOC_MESSAGE_BYTES {
        return Err(Error::Document("pesan dokumen terlalu besar".into()));
    }
    let msg = catch_unwind(|| sync::Message::decode(bytes))
        .map_err(|_| Error::Document("pesan dokumen rusak".into()))?
        .map_err(|_| Error::Document("pesan dokumen rusak".into()))?;
    if msg.changes.len() > MAX_CHANGES_PER_MESSAGE || msg.heads.len() > 1000 || msg.need.len() > 10_000 {
        return Err(Error::Document("pesan dokumen terlalu besar".into()));
    }
    Ok(msg)
}

/// Applies a received message to `doc`; a panic inside Automerge becomes an error and `doc`
/// must then be discarded by the caller (it works on a copy).
pub fn receive(doc: &mut AutoCommit, state: &mut sync::State, msg: sync::Message) -> Result<()> {
    catch_unwind(AssertUnwindSafe(|| doc.sync().receive_sync_message(state, msg)))
        .map_err(|_| Error::Document("pesan dokumen tidak dapat diterapkan".into()))?
        .map_err(|e| Error::Document(e.to_string()))
}

/// Generates the next message for the peer, encoded; `None` when there is nothing to say.
pub fn generate(doc: &mut AutoCommit, state: &mut sync::State) -> Result<Option<Vec<u8>>> {
    catch_unwind(AssertUnwindSafe(|| doc.sync().generate_sync_message(state).map(sync::Message::encode)))
        .map_err(|_| Error::Document("pesan dokumen tidak dapat dibuat".into()))
}

/// The heads a message says its sender has. A message that carries changes but no heads
/// means the heads its changes imply (see [`exact_message`]); changes that cannot be parsed
/// imply nothing (the message is then refused when applied).
pub fn message_heads(msg: &sync::Message) -> Vec<ChangeHash> {
    if !msg.heads.is_empty() || msg.changes.is_empty() {
        return msg.heads.clone();
    }
    let parsed = catch_unwind(|| {
        msg.changes
            .iter()
            .map(|b| automerge::Change::try_from(b).map(|c| (c.hash(), c.deps().to_vec())))
            .collect::<std::result::Result<Vec<_>, _>>()
    });
    match parsed {
        Ok(Ok(changes)) => implied_heads(&changes),
        _ => Vec::new(),
    }
}

/// The heads implied by a set of changes (hash, dependencies): the changes no other change of
/// the set depends on, sorted.
pub fn implied_heads(changes: &[(ChangeHash, Vec<ChangeHash>)]) -> Vec<ChangeHash> {
    let deps: std::collections::HashSet<&ChangeHash> = changes.iter().flat_map(|(_, d)| d.iter()).collect();
    let mut heads: Vec<ChangeHash> = changes.iter().map(|(h, _)| *h).filter(|h| !deps.contains(h)).collect();
    heads.sort();
    heads.dedup();
    heads
}

/// A message carrying exactly the changes of `doc` that are not ancestors of `since` (what the
/// peer is known to have), with `doc`'s heads (left out when the changes imply them, see
/// [`message_heads`]) and no Bloom filter. Used wherever the sender
/// knows what the peer has: it is smaller than a generated message and never withholds a
/// change by a Bloom-filter false positive (which would cost another exchange). `None` when
/// there is nothing to send and the peer's heads are already ours.
pub fn exact_message(doc: &mut AutoCommit, since: &[ChangeHash]) -> Option<Vec<u8>> {
    let mut heads = doc.get_heads();
    heads.sort();
    let mut sorted_since = since.to_vec();
    sorted_since.sort();
    // The peer has exactly what `doc` has: nothing to send, known without collecting changes
    // (which walks the whole document even when it finds none).
    if sorted_since == heads {
        return None;
    }
    let found = doc.get_changes(since);
    message_of(heads, &sorted_since, &found)
}

/// [`exact_message`] from nothing (every change of `doc`), when the caller holds `all`, every
/// change of `doc` (as `get_changes(&[])` gives them), already.
pub fn full_message_of(doc: &mut AutoCommit, all: &[automerge::Change]) -> Option<Vec<u8>> {
    let mut heads = doc.get_heads();
    heads.sort();
    message_of(heads, &[], all)
}

/// The message carrying `found` with `heads` (sorted), for a peer known to have `sorted_since`.
fn message_of(heads: Vec<ChangeHash>, sorted_since: &[ChangeHash], found: &[automerge::Change]) -> Option<Vec<u8>> {
    let implied = implied_heads(&found.iter().map(|c| (c.hash(), c.deps().to_vec())).collect::<Vec<_>>());
    let changes: Vec<Vec<u8>> = found.iter().map(|c| c.raw_bytes().to_vec()).collect();
    if changes.is_empty() && sorted_since == heads.as_slice() {
        return None;
    }
    // The heads travel only when the changes do not imply them (32 bytes each, which no
    // compression removes): for a new record, or an edit on top of what the peer has, they are
    // implied.
    let msg = sync::Message {
        heads: if !changes.is_empty() && implied == heads { Vec::new() } else { heads },
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    Some(msg.encode())
}

/// Whether `doc` holds every change in `heads` (and so everything before them).
pub fn has_all(doc: &mut AutoCommit, heads: &[ChangeHash]) -> bool {
    // `doc`'s own heads first: looking a change up by its hash rebuilds the change from the
    // document's columns, and a device that sent its changes usually holds exactly them.
    let own = doc.get_heads();
    heads.iter().all(|h| own.contains(h) || doc.get_change_by_hash(h).is_some())
}
