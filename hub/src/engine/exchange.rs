//! The exchange itself, over the storage trait and nothing else: every incoming document
//! locked, checked on a copy (prepared outside the write transaction when possible) and stored
//! or refused; then the documents of the device's scope that changed after its cursor, with the
//! known/pending heads bookkeeping that lets each message carry only what the device lacks.

use jemput_core::crypto::Cipher;
use jemput_core::sync::hub_side;
use jemput_core::sync::protocol::{
    DocMessage, DocRefusal, SyncRequest, SyncResponse, ERASED_CODE, MAX_DECODED_BYTES, MAX_DOC_MESSAGE_BYTES, PROTOCOL_VERSION,
};

use std::collections::{HashMap, HashSet};

use super::heads;
use super::worker::{Isolation, Job, Outcome, Reference};
use crate::error::ServiceError;
use crate::service::officers::Device;
use crate::service::{audit, docs};
use crate::storage::{Ahead, HubTx, EPOCH_KEY, HUB_ACTOR_KEY, KEY_CHECK_KEY};

/// How many changed documents the answer reads at a time (a few statements per chunk).
const READ_CHUNK: usize = 64;

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

/// The check job for one incoming document: the hub's current copy and what the device is
/// known to have.
fn job_for(
    current: Option<Vec<u8>>,
    known: Vec<automerge::ChangeHash>,
    device: &Device,
    hub_actor: &automerge::ActorId,
    dm: &DocMessage,
    reference: &Reference,
) -> Job {
    Job {
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
    }
}

/// The check jobs for incoming documents (none of them erased), in their order: the hub's
/// copies (locked in id order `in_write`) and what the device is known to have (pending heads
/// that now count recorded as known only `in_write`), each read for all documents at once.
#[allow(clippy::too_many_arguments)]
fn jobs_for(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    device: &Device,
    hub_actor: &automerge::ActorId,
    live: &[&DocMessage],
    cursor: u64,
    track_device: bool,
    in_write: bool,
    reference: &Reference,
) -> Result<Vec<Job>, ServiceError> {
    let ids: Vec<&str> = live.iter().map(|d| d.doc_id.as_str()).collect();
    let mut current = docs::load_docs_bytes(tx, cipher, &ids, in_write)?;
    let mut known = if track_device { heads::known_heads_many(tx, &device.id, &ids, cursor, in_write)? } else { HashMap::new() };
    Ok(live
        .iter()
        .map(|dm| job_for(current.remove(&dm.doc_id), known.remove(&dm.doc_id).unwrap_or_default(), device, hub_actor, dm, reference))
        .collect())
}

/// The documents of `order` (in id order) split into those not erased and those erased (ADR
/// 0013), in one read.
fn split_erased<'d>(tx: &mut dyn HubTx, order: Vec<&'d DocMessage>) -> Result<(Vec<&'d DocMessage>, Vec<&'d DocMessage>), ServiceError> {
    let ids: Vec<&str> = order.iter().map(|d| d.doc_id.as_str()).collect();
    let erased: HashSet<String> = tx.erased_among(&ids)?.into_iter().collect();
    Ok(order.into_iter().partition(|d| !erased.contains(&d.doc_id)))
}

/// The hub's catalog and profile, for the checks of incoming records (decoded once per stored
/// version, shared by every job).
pub fn reference(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Reference, ServiceError> {
    let (catalog, kelurahan) = docs::catalog_and_kelurahan(tx, cipher)?;
    Ok(Reference { catalog, kelurahan })
}

fn in_order(docs: &[DocMessage]) -> Vec<&DocMessage> {
    let mut order: Vec<&DocMessage> = docs.iter().collect();
    order.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
    order.dedup_by(|a, b| a.doc_id == b.doc_id);
    order
}

/// What the write transaction's checks of a device's incoming documents `ids` (in id order)
/// read: the hub's actor and key check, its catalog and profile, which were erased, the stored
/// copies (locked) and what the device holds. Named ahead, so PostgreSQL answers them in one
/// round trip.
pub fn reads_of_incoming<'a>(device_id: &'a str, ids: &'a [&'a str]) -> [Ahead<'a>; 6] {
    [
        Ahead::Meta(HUB_ACTOR_KEY),
        // Checked before anything is sealed.
        Ahead::Meta(KEY_CHECK_KEY),
        Ahead::SealedDocs(&docs::REFERENCE_IDS, false),
        Ahead::Erased(ids),
        Ahead::SealedDocs(ids, true),
        Ahead::Known(device_id, ids),
    ]
}

/// The change-log query of an exchange of `device` from `cursor`: after it, in the device's
/// RW and RT (every RT of the RW for an RW officer).
fn changes_asked(device: &Device, cursor: u64) -> (i64, u16, u16, u16) {
    let (rt_lo, rt_hi) = match device.scope.rt {
        Some(rt) => (rt, rt),
        None => (0, u16::MAX),
    };
    (cursor as i64, device.scope.rw, rt_lo, rt_hi)
}

/// What an exchange of `device` from `cursor` reads of its own state and of the change log
/// before it writes: its held exchange (`keyed`; the row is locked), the hub's lineage, and
/// the documents changed after the cursor.
pub fn reads_of_exchange(device: &Device, keyed: bool, cursor: u64) -> Vec<Ahead<'_>> {
    let mut reads = Vec::with_capacity(3);
    if keyed {
        reads.push(Ahead::Exchange(&device.id));
    }
    reads.push(Ahead::Meta(EPOCH_KEY));
    let (after, rw, rt_lo, rt_hi) = changes_asked(device, cursor);
    reads.push(Ahead::ChangesUpToTop { after, rw, rt_lo, rt_hi });
    reads
}

/// The ids of `docs` in id order, once each (the order they are checked and locked in).
pub fn ids_in_order(docs: &[DocMessage]) -> Vec<&str> {
    in_order(docs).into_iter().map(|d| d.doc_id.as_str()).collect()
}

/// The check jobs for a device's incoming documents as the hub stands now, read without
/// changing anything: run them outside the write transaction (they are the costly part of an
/// exchange) and hand the results to [`check_incoming`], which reuses each one whose job is
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
    // An erased record is refused without a check (ADR 0013).
    let (live, _) = split_erased(tx, in_order(docs))?;
    jobs_for(tx, cipher, device, &hub_actor, &live, cursor, true, false, &reference)
}

/// Incoming documents checked ([`check_incoming`]): what became of each, and what is left to
/// write.
pub struct Checked {
    /// What became of each document.
    pub applied: Vec<Applied>,
    /// The audit entries and accepted versions, not yet written.
    pub to_store: ToStore,
}

impl Checked {
    /// Writes what is left ([`ToStore::store`]) and returns what became of each document.
    pub fn stored(self, tx: &mut dyn HubTx, cipher: &Cipher, audit_actor: &str) -> Result<Vec<Applied>, ServiceError> {
        self.to_store.store(tx, cipher, audit_actor)?;
        Ok(self.applied)
    }
}

/// The audit entries and accepted versions of checked incoming documents, not yet written.
#[derive(Default)]
pub struct ToStore {
    /// Audit actions, with the document each is about.
    audits: Vec<(String, String)>,
    /// The accepted versions to store.
    accepted: Vec<Accepted>,
}

/// An accepted version of an incoming document, to store.
struct Accepted {
    doc_id: String,
    bytes: Vec<u8>,
    place: hub_side::Placement,
    full: Vec<u8>,
    heads: Vec<automerge::ChangeHash>,
}

impl ToStore {
    /// Writes the audit entries (as `audit_actor`) and stores the accepted versions: appended to
    /// the change log, which takes its lock (on PostgreSQL held to the commit), so an exchange
    /// does this last.
    pub fn store(self, tx: &mut dyn HubTx, cipher: &Cipher, audit_actor: &str) -> Result<(), ServiceError> {
        let entries: Vec<(&str, &str, Option<&str>)> =
            self.audits.iter().map(|(a, d)| (audit_actor, a.as_str(), Some(d.as_str()))).collect();
        audit::audit_many(tx, &entries)?;
        let versions: Vec<docs::NewVersion<'_>> = self
            .accepted
            .iter()
            .map(|a| docs::NewVersion {
                doc_id: &a.doc_id,
                version: docs::DocVersion { bytes: &a.bytes, full_message: &a.full, heads: &a.heads },
                place: &a.place,
            })
            .collect();
        docs::store_docs(tx, cipher, &versions)
    }
}

/// Checks incoming document messages written by `device` (from a sync exchange or an imported
/// bundle). Every document is locked first, in id order, then checked on a copy (in a worker
/// process when `isolation` says so; a check in `prechecked` made outside the transaction with
/// the very same job is reused). What is accepted is left for [`ToStore::store`] (or
/// [`Checked::stored`]): a refused change leaves the hub's copy untouched. With
/// `track_device`, what the device says it has is recorded now, for the next exchange.
#[allow(clippy::too_many_arguments)]
pub fn check_incoming(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    isolation: &Isolation,
    device: &Device,
    docs: &[DocMessage],
    cursor: u64,
    track_device: bool,
    prechecked: &[(Job, Outcome)],
) -> Result<Checked, ServiceError> {
    if docs.is_empty() {
        return Ok(Checked { applied: Vec::new(), to_store: ToStore::default() });
    }
    let hub_actor = docs::hub_actor(tx)?;
    let reference = reference(tx, cipher)?;
    let mut out = Vec::with_capacity(docs.len());
    // Audit entries, written together before the documents are stored.
    let mut audits: Vec<(String, String)> = Vec::new();
    // A change to an erased record, from any device, however old (ADR 0013): refused, and the
    // refusal tells the device to delete its copy. Nothing of it is stored.
    let (live, erased) = split_erased(tx, in_order(docs))?;
    for dm in erased {
        audits.push((format!("ditolak:{ERASED_CODE}"), dm.doc_id.clone()));
        out.push(Applied {
            doc_id: dm.doc_id.clone(),
            reply: None,
            hub_heads: None,
            refusal: Some(DocRefusal::erased(&dm.doc_id)),
            stored: false,
        });
    }
    // Phase 1: lock every document (row locks first, in id order, so two hub instances cannot
    // deadlock on the change-log lock taken when storing), then check each.
    let jobs = jobs_for(tx, cipher, device, &hub_actor, &live, cursor, track_device, true, &reference)?;
    let outcomes: Vec<(String, Outcome)> = jobs
        .into_iter()
        .map(|job| {
            let outcome = match prechecked.iter().find(|(j, _)| *j == job) {
                Some((_, o)) => o.clone(),
                None => isolation.run(&job),
            };
            (job.doc_id, outcome)
        })
        .collect();
    // Phase 2: store what was accepted.
    let hashes = |h: &[[u8; 32]]| h.iter().map(|x| automerge::ChangeHash(*x)).collect::<Vec<_>>();
    if track_device {
        let device_heads: Vec<(&str, Vec<automerge::ChangeHash>)> =
            outcomes.iter().map(|(d, o)| (d.as_str(), hashes(&o.device_heads))).collect();
        let rows: Vec<(&str, &[automerge::ChangeHash])> = device_heads.iter().map(|(d, h)| (*d, h.as_slice())).collect();
        heads::set_known_heads_many(tx, &device.id, &rows)?;
    }
    // A receipt code names one record: a new record under a code another document holds (the
    // same device using a code twice) is refused for itself alone, whether the other one was
    // stored before or earlier in this exchange.
    let mut codes: Vec<&str> =
        outcomes.iter().filter(|(_, o)| o.refusal.is_none()).filter_map(|(_, o)| o.placed.as_ref()?.receipt.as_deref()).collect();
    codes.sort_unstable();
    codes.dedup();
    let holders: HashMap<String, String> = tx.docs_by_receipts(&codes)?.into_iter().collect();
    let mut claimed: HashMap<String, String> = HashMap::new();
    let mut to_store = Vec::new();
    for (doc_id, o) in outcomes {
        let receipt = o.placed.as_ref().and_then(|p| p.receipt.clone());
        let held_by_other = |h: Option<&String>| h.is_some_and(|h| *h != doc_id);
        let taken = receipt.as_ref().is_some_and(|c| held_by_other(holders.get(c)) || held_by_other(claimed.get(c)));
        let refusal = match o.refusal {
            Some(r) => Some(r),
            None if taken => Some((RECEIPT_TAKEN.0.into(), RECEIPT_TAKEN.1.into())),
            None => None,
        };
        if let Some((code, message)) = refusal {
            audits.push((format!("ditolak:{code}"), doc_id.clone()));
            let refusal = Some(DocRefusal { doc_id: doc_id.clone(), code, message });
            out.push(Applied { doc_id, reply: None, hub_heads: None, refusal, stored: false });
            continue;
        }
        let hub_heads = o.hub_heads.as_deref().map(hashes);
        let stored = match (o.updated, o.placed, o.full_message, hub_heads.clone()) {
            (Some(bytes), Some(place), Some(full), Some(h)) => {
                if let Some(c) = receipt {
                    claimed.entry(c).or_insert_with(|| doc_id.clone());
                }
                audits.push(("tulis".into(), doc_id.clone()));
                to_store.push(Accepted { doc_id: doc_id.clone(), bytes, place, full, heads: h });
                true
            }
            _ => false,
        };
        out.push(Applied { doc_id, reply: o.reply, hub_heads, refusal: None, stored });
    }
    Ok(Checked { applied: out, to_store: ToStore { audits, accepted: to_store } })
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
    tx.touch_device(&device.id, jemput_core::time_util::now_ms(), req.backlog)?;
    let epoch = heads::epoch(tx)?;
    // Checked now, stored last: storing takes the change-log lock (on PostgreSQL held to the
    // commit, and every writer waits for it), so it comes after everything else the exchange
    // reads and works out, in the transaction's last round trip.
    let Checked { applied, to_store } = check_incoming(tx, cipher, isolation, device, &req.docs, req.cursor, true, prechecked)?;
    let mut replies: Vec<DocMessage> = Vec::new();
    let mut refused = Vec::new();
    // Heads each answered document will have on the device once it applies this answer.
    let mut pending: Vec<(String, Vec<automerge::ChangeHash>)> = Vec::new();
    let mut handled: HashSet<String> = HashSet::new();
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
    // up to the newest sequence number visible now (later ones come next time; this
    // exchange's own documents, stored below, too: the device holds them as the hub does, so
    // they cost it nothing then).
    let (after, rw, rt_lo, rt_hi) = changes_asked(device, req.cursor);
    let (top, changed) = tx.changes_up_to_top(after, rw, rt_lo, rt_hi)?;
    let changed: Vec<(i64, String)> = changed.into_iter().filter(|(_, d)| !handled.contains(d)).collect();
    let mut cursor = top.max(req.cursor as i64);
    let mut more = false;
    let mut sent = 0usize;
    let mut bytes = replies.iter().map(|d| d.message.len()).sum::<usize>();
    let mut too_large: Vec<String> = Vec::new();
    // In chunks, each read with a few statements for all its documents (erased marks, known
    // heads, full messages, stored copies), not a few per document.
    'chunks: for chunk in changed.chunks(READ_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(_, d)| d.as_str()).collect();
        // The three reads of the chunk together (on PostgreSQL one round trip).
        tx.read_ahead(&[Ahead::Erased(&ids), Ahead::Known(&device.id, &ids), Ahead::SealedFulls(&ids)])?;
        let erased: HashSet<String> = tx.erased_among(&ids)?.into_iter().collect();
        let live: Vec<&str> = ids.iter().copied().filter(|d| !erased.contains(*d)).collect();
        // (An erased document has no known heads left: asking for all of the chunk's is the
        // read made ahead.)
        let mut known = heads::known_heads_many(tx, &device.id, &ids, req.cursor, true)?;
        let mut fulls = docs::stored_fulls(tx, &ids)?;
        // Documents the device holds as the hub does (a record it sent in its last exchange):
        // nothing to send. Documents it has none of: their stored full messages, without
        // decoding them. The rest: what the device lacks, from the stored copies.
        let as_held = |d: &str| {
            let (Some(k), Some(f)) = (known.get(d), fulls.get(d)) else { return false };
            !k.is_empty() && k.iter().all(|h| f.heads.contains(h)) && f.heads.iter().all(|h| k.contains(h))
        };
        let up_to_date: HashSet<&str> = live.iter().copied().filter(|d| as_held(d)).collect();
        let fresh: HashSet<&str> = live.iter().copied().filter(|d| known.get(*d).is_none_or(|k| k.is_empty())).collect();
        fulls.retain(|d, _| fresh.contains(d.as_str()));
        let rest: Vec<&str> = live.iter().copied().filter(|d| !fulls.contains_key(*d) && !up_to_date.contains(d)).collect();
        let mut stored = docs::load_docs_bytes(tx, cipher, &rest, false)?;
        for (seq, doc_id) in chunk {
            if sent >= MAX_DOCS_PER_RESPONSE || bytes >= MAX_ANSWER_BYTES {
                cursor = seq - 1;
                more = true;
                break 'chunks;
            }
            // An erased record is never sent again: the device is told to delete its copy.
            if erased.contains(doc_id) {
                refused.push(DocRefusal::erased(doc_id));
                continue;
            }
            if up_to_date.contains(doc_id.as_str()) {
                continue;
            }
            let (message, doc_heads) = match fulls.remove(doc_id) {
                Some(full) => (full.open(cipher, doc_id)?, full.heads),
                None => {
                    let Some(saved) = stored.remove(doc_id) else { continue };
                    let mut doc = automerge::AutoCommit::load(&saved).map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))?;
                    let known = known.remove(doc_id).unwrap_or_default();
                    let Some(m) = hub_side::message_for_device(&mut doc, &known) else { continue };
                    (m, doc.get_heads())
                }
            };
            if message.len() > MAX_DOC_MESSAGE_BYTES {
                // More than one message may carry (a record stored before every text had a
                // limit): the device would refuse the whole answer. It is left out and reported,
                // and every other document goes through.
                tracing::warn!(doc_id = %doc_id, bytes = message.len(), "dokumen terlalu besar untuk dikirim ke perangkat");
                too_large.push(doc_id.clone());
                refused.push(DocRefusal { doc_id: doc_id.clone(), code: TOO_LARGE.0.into(), message: TOO_LARGE.1.into() });
                continue;
            }
            bytes += message.len();
            replies.push(DocMessage { doc_id: doc_id.clone(), message });
            sent += 1;
            pending.push((doc_id.clone(), doc_heads));
        }
    }
    let entries: Vec<(&str, &str, Option<&str>)> =
        too_large.iter().map(|d| ("sistem", "terlalu_besar_untuk_perangkat", Some(d.as_str()))).collect();
    audit::audit_many(tx, &entries)?;
    // Only an answer that moves the cursor can be recognised as applied later.
    if cursor as u64 > req.cursor {
        heads::set_pending_heads_many(tx, &device.id, &pending, cursor as u64)?;
    }
    to_store.store(tx, cipher, &actor)?;
    Ok(SyncResponse { version: PROTOCOL_VERSION, cursor: cursor as u64, more, docs: replies, refused, epoch })
}
