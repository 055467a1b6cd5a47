//! The exchange itself, over the storage trait and nothing else: every incoming document
//! locked, checked on a copy (prepared outside the write transaction when possible) and stored
//! or refused; then the documents of the device's scope that changed after its cursor, with the
//! known/pending heads bookkeeping that lets each message carry only what the device lacks.

use jemput_core::crypto::Cipher;
use jemput_core::sync::hub_side::{self, Placement};
use jemput_core::sync::protocol::{
    DocMessage, DocRefusal, SyncRequest, SyncResponse, ERASED_CODE, MAX_DECODED_BYTES, MAX_DOC_MESSAGE_BYTES, PROTOCOL_VERSION,
};

use super::heads;
use super::worker::{Isolation, Job, Outcome, Reference};
use crate::error::ServiceError;
use crate::service::officers::Device;
use crate::service::{audit, docs, erasure};
use crate::storage::HubTx;

/// Most documents the hub sends in one response; the rest follow with `more`.
pub const MAX_DOCS_PER_RESPONSE: usize = 500;

/// Most bytes of document messages the hub puts in one answer (a quarter of what a device
/// decodes); the rest follow with `more`.
pub const MAX_ANSWER_BYTES: usize = MAX_DECODED_BYTES / 4;

/// What a device is told of a document too large for one message.
const TOO_LARGE: (&str, &str) =
    ("dokumen_terlalu_besar", "Satu data terlalu besar untuk dikirim ke HP ini; hubungi kelurahan. Data lain tetap terkirim");

/// The refusal of a new record whose receipt code another record already carries.
const RECEIPT_TAKEN: (&str, &str) =
    ("kode_tanda_terima_terpakai", "Kode tanda terima ini sudah dipakai data lain; catat ulang agar mendapat kode baru");

/// What became of one incoming document.
pub struct Applied {
    /// The document's id.
    pub doc_id: String,
    /// The answer for the device, if any.
    pub reply: Option<Vec<u8>>,
    /// The heads the hub holds after applying (the device will have them once it applies the
    /// answer).
    pub hub_heads: Option<Vec<automerge::ChangeHash>>,
    /// Why it was refused.
    pub refusal: Option<DocRefusal>,
    /// Whether the hub's copy changed.
    pub stored: bool,
}

/// The check job for one incoming document: the hub's current copy (locked with
/// `for_update`), what the device is known to have (recorded as known only with `promote`).
#[allow(clippy::too_many_arguments)]
fn job_for(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    device: &Device,
    hub_actor: &automerge::ActorId,
    dm: &DocMessage,
    cursor: u64,
    track_device: bool,
    in_write: bool,
    reference: &Reference,
) -> Result<Job, ServiceError> {
    let current = docs::load_doc_bytes(tx, cipher, &dm.doc_id, in_write)?;
    let known = match (track_device, in_write) {
        (false, _) => Vec::new(),
        (true, true) => heads::known_heads(tx, &device.id, &dm.doc_id, cursor)?,
        (true, false) => heads::known_heads_peek(tx, &device.id, &dm.doc_id, cursor)?,
    };
    Ok(Job {
        current,
        known: known.iter().map(|h| h.0).collect(),
        device_id: device.id.clone(),
        officer_id: device.officer_id.clone(),
        scope: device.scope,
        actors: device
            .actors
            .iter()
            .filter_map(|a| jemput_core::sync::protocol::actor_from_hex(a))
            .map(|a| a.to_bytes().to_vec())
            .collect(),
        hub_actor: hub_actor.to_bytes().to_vec(),
        message: dm.message.clone(),
        doc_id: dm.doc_id.clone(),
        prefixes: vec![device.receipt_prefix.clone()],
        now_ms: jemput_core::time_util::now_ms() / 60_000 * 60_000,
        reference: reference.clone(),
    })
}

/// The hub's catalog and profile, for the checks of incoming records (decoded once per stored
/// version, shared by every job).
pub fn reference(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Reference, ServiceError> {
    Ok(Reference { catalog: docs::catalog(tx, cipher)?, kelurahan: docs::kelurahan(tx, cipher)? })
}

/// Whether the receipt code of a new record is held by another document. A receipt code names
/// one record: a record under a code another document holds (the same device using a code
/// twice) is refused for itself alone.
fn receipt_taken(tx: &mut dyn HubTx, placed: Option<&Placement>, doc_id: &str) -> Result<bool, ServiceError> {
    match placed.and_then(|p| p.receipt.as_deref()) {
        Some(code) => Ok(tx.doc_by_receipt(code)?.is_some_and(|holder| holder != doc_id)),
        None => Ok(false),
    }
}

fn in_order(docs: &[DocMessage]) -> Vec<&DocMessage> {
    let mut order: Vec<&DocMessage> = docs.iter().collect();
    order.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
    order.dedup_by(|a, b| a.doc_id == b.doc_id);
    order
}

/// The check jobs for a device's incoming documents as the hub stands now, read without
/// changing anything: run them outside the write transaction (they are the costly part of an
/// exchange) and hand the results to [`apply_incoming`], which reuses each one whose job is
/// still the same inside the transaction.
pub fn prepare_checks(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    device: &Device,
    docs: &[DocMessage],
    cursor: u64,
) -> Result<Vec<Job>, ServiceError> {
    let hub_actor = docs::hub_actor(tx)?;
    let reference = reference(tx, cipher)?;
    let mut jobs = Vec::new();
    for dm in in_order(docs) {
        // An erased record is refused without a check (ADR 0013).
        if !erasure::is_erased(tx, &dm.doc_id)? {
            jobs.push(job_for(tx, cipher, device, &hub_actor, dm, cursor, true, false, &reference)?);
        }
    }
    Ok(jobs)
}

/// Applies incoming document messages written by `device` (from a sync exchange or an imported
/// bundle). Every document is locked first, in id order, then checked on a copy (in a worker
/// process when `isolation` says so; a check in `prechecked` made outside the transaction with
/// the very same job is reused), then stored: a refused change leaves the hub's copy
/// untouched. With `track_device`, what the device says it has is recorded for the next
/// exchange.
#[allow(clippy::too_many_arguments)]
pub fn apply_incoming(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    isolation: &Isolation,
    device: &Device,
    docs: &[DocMessage],
    cursor: u64,
    track_device: bool,
    audit_actor: &str,
    prechecked: &[(Job, Outcome)],
) -> Result<Vec<Applied>, ServiceError> {
    let hub_actor = docs::hub_actor(tx)?;
    let reference = if docs.is_empty() { Reference::default() } else { reference(tx, cipher)? };
    // Phase 1: lock and check every document (row locks first, so two hub instances cannot
    // deadlock on the change-log lock taken when storing).
    let mut outcomes = Vec::with_capacity(docs.len());
    let mut out = Vec::with_capacity(docs.len());
    for dm in in_order(docs) {
        // A change to an erased record, from any device, however old (ADR 0013): refused, and
        // the refusal tells the device to delete its copy. Nothing of it is stored.
        if erasure::is_erased(tx, &dm.doc_id)? {
            audit::audit(tx, audit_actor, &format!("ditolak:{ERASED_CODE}"), Some(&dm.doc_id))?;
            out.push(Applied {
                doc_id: dm.doc_id.clone(),
                reply: None,
                hub_heads: None,
                refusal: Some(DocRefusal::erased(&dm.doc_id)),
                stored: false,
            });
            continue;
        }
        let job = job_for(tx, cipher, device, &hub_actor, dm, cursor, track_device, true, &reference)?;
        let outcome = match prechecked.iter().find(|(j, _)| *j == job) {
            Some((_, o)) => o.clone(),
            None => isolation.run(&job),
        };
        outcomes.push((dm.doc_id.clone(), outcome));
    }
    // Phase 2: store what was accepted.
    let heads = |h: &[[u8; 32]]| h.iter().map(|x| automerge::ChangeHash(*x)).collect::<Vec<_>>();
    for (doc_id, o) in outcomes {
        if track_device {
            heads::set_known_heads(tx, &device.id, &doc_id, &heads(&o.device_heads))?;
        }
        let refusal = match o.refusal {
            Some(r) => Some(r),
            None if receipt_taken(tx, o.placed.as_ref(), &doc_id)? => Some((RECEIPT_TAKEN.0.into(), RECEIPT_TAKEN.1.into())),
            None => None,
        };
        if let Some((code, message)) = refusal {
            audit::audit(tx, audit_actor, &format!("ditolak:{code}"), Some(&doc_id))?;
            let refusal = Some(DocRefusal { doc_id: doc_id.clone(), code, message });
            out.push(Applied { doc_id, reply: None, hub_heads: None, refusal, stored: false });
            continue;
        }
        let stored = match (o.updated, o.placed, o.full_message, &o.hub_heads) {
            (Some(bytes), Some(place), Some(full), Some(h)) => {
                docs::put_doc(tx, cipher, &doc_id, &docs::DocVersion { bytes: &bytes, full_message: &full, heads: &heads(h) }, &place)?;
                audit::audit(tx, audit_actor, "tulis", Some(&doc_id))?;
                true
            }
            _ => false,
        };
        out.push(Applied { doc_id, reply: o.reply, hub_heads: o.hub_heads.map(|h| heads(&h)), refusal: None, stored });
    }
    Ok(out)
}

/// Applies a device's request and builds the answer, in one transaction: either everything
/// the answer acknowledges is durable, or nothing changed.
pub fn exchange(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    isolation: &Isolation,
    device: &Device,
    req: &SyncRequest,
    prechecked: &[(Job, Outcome)],
) -> Result<SyncResponse, ServiceError> {
    let actor = format!("perangkat:{}", device.id);
    let applied = apply_incoming(tx, cipher, isolation, device, &req.docs, req.cursor, true, &actor, prechecked)?;
    let mut replies: Vec<DocMessage> = Vec::new();
    let mut refused = Vec::new();
    // Heads each answered document will have on the device once it applies this answer.
    let mut pending: Vec<(String, Vec<automerge::ChangeHash>)> = Vec::new();
    let mut handled: std::collections::HashSet<String> = std::collections::HashSet::new();
    for a in applied {
        handled.insert(a.doc_id.clone());
        if let Some(r) = a.refusal {
            refused.push(r);
        } else if let Some(m) = a.reply {
            if let Some(h) = a.hub_heads {
                pending.push((a.doc_id.clone(), h));
            }
            replies.push(DocMessage { doc_id: a.doc_id, message: m });
        }
    }
    // Documents of the device's scope (and the catalog and profile) changed after its cursor,
    // up to the newest sequence number visible now (later ones come next time).
    let (rt_lo, rt_hi) = match device.scope.rt {
        Some(rt) => (rt, rt),
        None => (0, u16::MAX),
    };
    let top = tx.top_seq()?;
    let changed = tx.changed_docs(req.cursor as i64, top, device.scope.rw, rt_lo, rt_hi)?;
    let mut cursor = top.max(req.cursor as i64);
    let mut more = false;
    let mut sent = 0usize;
    let mut bytes = replies.iter().map(|d| d.message.len()).sum::<usize>();
    for (seq, doc_id) in changed {
        if handled.contains(&doc_id) {
            continue;
        }
        if sent >= MAX_DOCS_PER_RESPONSE || bytes >= MAX_ANSWER_BYTES {
            cursor = seq - 1;
            more = true;
            break;
        }
        // An erased record is never sent again: the device is told to delete its copy.
        if erasure::is_erased(tx, &doc_id)? {
            refused.push(DocRefusal::erased(&doc_id));
            continue;
        }
        let known = heads::known_heads(tx, &device.id, &doc_id, req.cursor)?;
        // A document the device has none of: its stored full message, without decoding it.
        let full = if known.is_empty() { docs::full_message(tx, cipher, &doc_id)? } else { None };
        let (message, doc_heads) = match full {
            Some(full) => (full.message, full.heads),
            None => {
                let Some(mut doc) = docs::load_doc(tx, cipher, &doc_id, false)? else { continue };
                let Some(m) = hub_side::message_for_device(&mut doc, &known) else { continue };
                (m, doc.get_heads())
            }
        };
        if message.len() > MAX_DOC_MESSAGE_BYTES {
            // More than one message may carry (a record stored before every text had a
            // limit): the device would refuse the whole answer. It is left out and reported,
            // and every other document goes through.
            tracing::warn!(doc_id = %doc_id, bytes = message.len(), "dokumen terlalu besar untuk dikirim ke perangkat");
            audit::audit(tx, "sistem", "terlalu_besar_untuk_perangkat", Some(&doc_id))?;
            refused.push(DocRefusal { doc_id, code: TOO_LARGE.0.into(), message: TOO_LARGE.1.into() });
            continue;
        }
        bytes += message.len();
        replies.push(DocMessage { doc_id: doc_id.clone(), message });
        sent += 1;
        pending.push((doc_id, doc_heads));
    }
    // Only an answer that moves the cursor can be recognised as applied later.
    if cursor as u64 > req.cursor {
        for (doc_id, heads) in &pending {
            heads::set_pending_heads(tx, &device.id, doc_id, heads, cursor as u64)?;
        }
    }
    tx.touch_device(&device.id, jemput_core::time_util::now_ms(), req.backlog)?;
    let epoch = heads::epoch(tx)?;
    Ok(SyncResponse { version: PROTOCOL_VERSION, cursor: cursor as u64, more, docs: replies, refused, epoch })
}
