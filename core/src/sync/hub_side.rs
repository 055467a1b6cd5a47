//! The hub's side of one document in a sync exchange, independent of how the hub stores
//! documents: apply the device's message to a *copy*, check the result (kind, size, actors,
//! one history per document id, the record's id bound to the document's, the device's receipt
//! prefix, the device's times against the hub's clock, permissions, and the phone's own
//! validators, see ADR 0009), and answer with exactly what the device lacks, or nothing when the exchange
//! itself acknowledges the document. A document outside the device's scope is, to that device,
//! one the hub does not have (ADR 0009). A refused change leaves the hub's copy untouched and
//! yields a refusal for the device. The hub writes no "terkirim" step: every replica derives
//! it (`Request::mark_received`).

use automerge::{ActorId, AutoCommit, ChangeHash};

use crate::catalog::Catalog;
use crate::complaint::Complaint;
use crate::document::{self, DocKind, MAX_DOC_BYTES};
use crate::kelurahan::Kelurahan;
use crate::permissions::{self, DeviceWriter, Refusal, Scope};
use crate::request::Request;
use crate::sync::peer;
use crate::validation::date::validate_device_time;
use crate::validation::record::{validate_complaint_record, validate_request_record};
use crate::validation::Issue;

/// What became of one incoming document message.
#[derive(Debug)]
pub struct Incoming {
    /// The document to store when it changed (the accepted changes).
    pub updated: Option<AutoCommit>,
    /// When it changed, its bytes as the hub stores them (`save_nocompress()`), made once for
    /// the size check.
    pub saved: Option<Vec<u8>>,
    /// When it changed, the message carrying all its changes ([`peer::exact_message`] from
    /// nothing), for devices that have none of it.
    pub full_message: Option<Vec<u8>>,
    /// Its kind and scope (RW, RT), for the change log; `None` when nothing is stored.
    pub placed: Option<Placement>,
    /// The answer for the device.
    pub reply: Option<Vec<u8>>,
    /// The heads the device said it has.
    pub device_heads: Vec<ChangeHash>,
    /// Why the change was refused, if it was.
    pub refusal: Option<Refusal>,
}

/// More than a document's bytes can grow when Automerge deflates its columns (each column of
/// 256 bytes or more is deflated whatever it gains, at level 6): a block deflate cannot shrink
/// is written stored, 5 bytes more per block (a block ends every 16 Ki symbols or sooner), and
/// a column's length prefix grows by at most a byte; for a document under `MAX_DOC_BYTES` and
/// the few dozen columns of the format, well under 1 KiB.
const DEFLATE_GROWTH: usize = MAX_DOC_BYTES / 64;

fn refusal(code: &str, message: &str) -> Refusal {
    Refusal { code: code.into(), message: message.into() }
}

/// Where a document belongs and how the office lists it: its kind, RW and RT (0, 0 for the
/// catalog and profile, which every device gets), and for requests and complaints the status
/// (as the office sees it) and receipt code. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    /// Kind of record.
    pub kind: DocKind,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// Status code.
    pub status: Option<String>,
    /// Receipt code.
    pub receipt: Option<String>,
}

impl Placement {
    /// A request's placement; a request the hub holds counts as received
    /// (`Request::mark_received`).
    pub fn of_request(r: &Request) -> Placement {
        let status = match r.status() {
            crate::request::Status::Dicatat => crate::request::Status::Terkirim,
            s => s,
        };
        Placement {
            kind: DocKind::Request,
            rw: r.applicant.address.rw,
            rt: r.applicant.address.rt,
            status: Some(status.code().into()),
            receipt: Some(r.receipt.clone()),
        }
    }

    /// A complaint's placement.
    pub fn of_complaint(c: &Complaint) -> Placement {
        Placement {
            kind: DocKind::Complaint,
            rw: c.place.rw,
            rt: c.place.rt,
            status: Some(c.status().code().into()),
            receipt: Some(c.receipt.clone()),
        }
    }

    /// A document every device gets (catalog, profile).
    pub fn everyone(kind: DocKind) -> Placement {
        Placement { kind, rw: 0, rt: 0, status: None, receipt: None }
    }
}

/// What the hub brings to the check of a document beyond the device: its clock and the catalog
/// and kelurahan profile records are validated against (the same validators as the phone's).
#[derive(Debug, Clone, Copy)]
pub struct HubContext<'a> {
    /// The hub's clock, Unix milliseconds.
    pub now_ms: i64,
    /// The hub's service catalog (`None`: the catalog that ships with the core).
    pub catalog: Option<&'a Catalog>,
    /// The kelurahan profile (`None` before the hub is set up: RT/RW are then only checked to
    /// be non-zero).
    pub kelurahan: Option<&'a Kelurahan>,
}

/// Applies a device's message for document `doc_id`. `current` is the hub's copy (None if the
/// hub has never seen the document), `known` the heads the hub knows the device has, `actors`
/// the actor ids bound to the device, `hub_actor` the hub's own actor (for the working copy),
/// `ctx` the hub's clock, catalog and profile.
#[allow(clippy::too_many_arguments)]
pub fn receive_from_device(
    current: Option<&AutoCommit>,
    known: &[ChangeHash],
    writer: &DeviceWriter<'_>,
    actors: &[ActorId],
    hub_actor: &ActorId,
    doc_id: &str,
    ctx: &HubContext<'_>,
    message: &[u8],
) -> Incoming {
    let refused = |device_heads: Vec<ChangeHash>, r: Refusal| Incoming {
        updated: None,
        saved: None,
        full_message: None,
        placed: None,
        reply: None,
        device_heads,
        refusal: Some(r),
    };
    let msg = match peer::decode_message(message) {
        Ok(m) => m,
        Err(_) => return refused(Vec::new(), refusal("pesan_rusak", "Data dari perangkat rusak; kirim ulang")),
    };
    let device_heads = peer::message_heads(&msg);
    // A document outside the device's scope is, to this device, one the hub does not have: it
    // is answered as absent (nothing of it is sent) and never written.
    let hidden = current.is_some_and(|c| !readable_by(c, writer.scope));
    let current = if hidden { None } else { current };
    let mut copy = current.cloned().unwrap_or_default().with_actor(hub_actor.clone());
    let before = copy.get_heads();
    let mut state = automerge::sync::State::new();
    state.shared_heads = known.to_vec();
    if peer::receive(&mut copy, &mut state, msg).is_err() {
        return refused(device_heads, refusal("pesan_rusak", "Data dari perangkat tidak dapat dibaca; kirim ulang"));
    }
    let new_changes = copy.get_changes(&before);
    if new_changes.is_empty() {
        // Nothing new from the device: just answer with what it lacks.
        let mut original = current.cloned().unwrap_or_default();
        let reply = answer(&mut original, &mut state, &device_heads);
        return Incoming { updated: None, saved: None, full_message: None, placed: None, reply, device_heads, refusal: None };
    }
    if new_changes.iter().any(|c| !actors.contains(c.actor_id())) {
        return refused(device_heads, refusal("aktor_tidak_dikenal", "Perubahan tidak berasal dari perangkat ini"));
    }
    if hidden {
        // The id is taken by a record this device may not see: refused as a history that does
        // not continue the hub's (the same answer as for any id already in use).
        return refused(device_heads, foreign_history());
    }
    // One document, one history: the device's changes may only extend the hub's copy. A change
    // without dependencies starts a document; a second one (a "fresh" document sent under an
    // existing id) would graft a foreign record into this one.
    let roots = new_changes.iter().filter(|c| c.deps().is_empty()).count();
    if roots != usize::from(current.is_none()) {
        return refused(device_heads, foreign_history());
    }
    // The limit is on the compressed form (`save()`), but deflating every column is the
    // costliest step of a check (a compressor started per column: about a quarter of a check's
    // instructions under callgrind), and the hub stores the uncompressed form. Deflating makes
    // a document at most a few hundred bytes longer (see `DEFLATE_GROWTH`), so uncompressed
    // bytes at least `DEFLATE_GROWTH` under the limit are under it compressed too; only a
    // document near or over the limit is compressed to decide.
    let saved = copy.save_nocompress();
    if saved.len() > MAX_DOC_BYTES - DEFLATE_GROWTH && copy.save().len() > MAX_DOC_BYTES {
        return refused(device_heads, refusal("dokumen_terlalu_besar", "Data terlalu besar untuk satu permohonan"));
    }
    let checked = check(current, &mut copy, writer, doc_id, ctx);
    match checked {
        Err(r) => refused(device_heads, r),
        Ok(placed) => {
            let reply = answer(&mut copy, &mut state, &device_heads);
            // A new document's changes are all the device's: the ones collected above.
            let full_message = match current {
                None => peer::full_message_of(&mut copy, &new_changes),
                Some(_) => peer::exact_message(&mut copy, &[]),
            };
            Incoming { updated: Some(copy), saved: Some(saved), full_message, placed: Some(placed), reply, device_heads, refusal: None }
        }
    }
}

fn foreign_history() -> Refusal {
    refusal("riwayat_asing", "Data ini bukan kelanjutan data yang ada di kelurahan dengan nomor yang sama")
}

/// Whether a device with `scope` may see the hub's document `doc`: the catalog and profile
/// every device may; a request or complaint when the scope covers its address (ADR 0009). A
/// document that cannot be read is seen by no device.
pub fn readable_by(doc: &AutoCommit, scope: Scope) -> bool {
    match document::kind(doc) {
        Ok(DocKind::Catalog | DocKind::Kelurahan) => true,
        Ok(DocKind::Request) => document::read::<Request>(doc).is_ok_and(|r| scope.covers(r.applicant.address.rw, r.applicant.address.rt)),
        Ok(DocKind::Complaint) => document::read::<Complaint>(doc).is_ok_and(|c| scope.covers(c.place.rw, c.place.rt)),
        Err(_) => false,
    }
}

/// The answer for a device that says it has `device_heads`: nothing when the hub holds exactly
/// that (the exchange itself acknowledges the document), the exact changes it lacks when the
/// hub holds all of its heads, and otherwise Automerge's own message (which asks for what the
/// hub is missing).
fn answer(doc: &mut AutoCommit, state: &mut automerge::sync::State, device_heads: &[ChangeHash]) -> Option<Vec<u8>> {
    if peer::has_all(doc, device_heads) {
        peer::exact_message(doc, device_heads)
    } else {
        state.their_capabilities = None;
        peer::generate(doc, state).ok().flatten()
    }
}

/// The first blocking issue as the device's refusal: the validator's code and message.
fn first_error(issues: Vec<Issue>) -> Result<(), Refusal> {
    match issues.into_iter().find(Issue::is_error) {
        Some(i) => Err(Refusal { code: i.code, message: i.message }),
        None => Ok(()),
    }
}

/// A new record's id must be its document's id: one identity, bound at creation.
fn check_identity(is_new: bool, record_id: &str, doc_id: &str) -> Result<(), Refusal> {
    if is_new && record_id != doc_id {
        return Err(refusal("id_tidak_cocok", "Nomor data tidak cocok dengan isinya; data ini tidak dapat diterima"));
    }
    Ok(())
}

/// The times a device stamped: a new record's creation and every step it added.
fn check_times<'t>(created: Option<i64>, added: impl IntoIterator<Item = &'t i64>, now_ms: i64) -> Result<(), Refusal> {
    let issues = created.into_iter().chain(added.into_iter().copied()).filter_map(|at| validate_device_time("waktu", at, now_ms));
    first_error(issues.collect())
}

fn check(
    current: Option<&AutoCommit>,
    copy: &mut AutoCommit,
    w: &DeviceWriter<'_>,
    doc_id: &str,
    ctx: &HubContext<'_>,
) -> Result<Placement, Refusal> {
    let today = crate::time_util::date_of_ms(ctx.now_ms);
    let bad = || refusal("dokumen_tidak_valid", "Isi data tidak sesuai format Jemput");
    let kind = document::kind(copy).map_err(|_| bad())?;
    if let Some(cur) = current {
        if document::kind(cur).ok() != Some(kind) {
            return Err(bad());
        }
    }
    match kind {
        DocKind::Request => {
            let new: Request = document::read(copy).map_err(|_| bad())?;
            let old: Option<Request> = match current {
                Some(c) => Some(document::read(c).map_err(|_| bad())?),
                None => None,
            };
            check_identity(old.is_none(), &new.id, doc_id)?;
            permissions::check_request_write(w, old.as_ref(), &new)?;
            let added = new.history.iter().filter(|s| !old.as_ref().is_some_and(|o| o.history.contains(s))).map(|s| &s.at);
            check_times(old.is_none().then_some(new.created_at), added, ctx.now_ms)?;
            let default_catalog;
            let catalog = match ctx.catalog {
                Some(c) => c,
                None => {
                    default_catalog = Catalog::default_catalog();
                    &default_catalog
                }
            };
            first_error(validate_request_record(&new, catalog, ctx.kelurahan, today))?;
            Ok(Placement::of_request(&new))
        }
        DocKind::Complaint => {
            let new: Complaint = document::read(copy).map_err(|_| bad())?;
            let old: Option<Complaint> = match current {
                Some(c) => Some(document::read(c).map_err(|_| bad())?),
                None => None,
            };
            check_identity(old.is_none(), &new.id, doc_id)?;
            permissions::check_complaint_write(w, old.as_ref(), &new)?;
            check_times(old.is_none().then_some(new.created_at), None, ctx.now_ms)?;
            first_error(validate_complaint_record(&new, ctx.kelurahan))?;
            Ok(Placement::of_complaint(&new))
        }
        DocKind::Catalog | DocKind::Kelurahan => {
            Err(refusal("hanya_kantor", "Katalog layanan dan profil kelurahan hanya diubah oleh staf kelurahan"))
        }
    }
}

/// The message that brings a device up to date with `doc`, given the heads the hub knows the
/// device has (empty when it has none); `None` when the device lacks nothing.
pub fn message_for_device(doc: &mut AutoCommit, known: &[ChangeHash]) -> Option<Vec<u8>> {
    if doc.get_changes(known).is_empty() && !known.is_empty() {
        return None;
    }
    peer::exact_message(doc, known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    /// What the hub makes of a new document whose `notes` hold `text` (not a valid record: a
    /// document within the size limit is refused by the record's checks instead).
    fn sent(text: &str) -> Incoming {
        let actor = document::random_actor();
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        doc.put(automerge::ROOT, "kind", DocKind::Request.code()).unwrap();
        doc.put(automerge::ROOT, "notes", text).unwrap();
        doc.commit();
        let message = peer::exact_message(&mut doc, &[]).unwrap();
        let writer = DeviceWriter { device_id: "hp-1", officer_id: "petugas-1", scope: Scope { rw: 1, rt: Some(1) }, prefixes: &["K7QM"] };
        let ctx = HubContext { now_ms: crate::time_util::now_ms(), catalog: None, kelurahan: None };
        receive_from_device(None, &[], &writer, &[actor], &document::random_actor(), "doc-1", &ctx, &message)
    }

    /// Text that deflate shrinks only to three quarters (pseudo-random letters of 64).
    fn incompressible(len: usize) -> String {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[(x % 64) as usize])
            })
            .collect()
    }

    fn code(inc: &Incoming) -> Option<&str> {
        inc.refusal.as_ref().map(|r| r.code.as_str())
    }

    #[test]
    fn the_size_limit_is_on_the_compressed_document() {
        // Over the limit once deflated (6 bits a letter: three quarters of it): refused for its size.
        assert_eq!(code(&sent(&incompressible(MAX_DOC_BYTES * 2))), Some("dokumen_terlalu_besar"));
        // Over the limit uncompressed, far under it deflated: not refused for its size.
        assert_eq!(code(&sent(&"a".repeat(MAX_DOC_BYTES * 2))), Some("dokumen_tidak_valid"));
        // Within `DEFLATE_GROWTH` under the limit, where the compressed form decides: under it.
        assert_eq!(code(&sent(&incompressible(MAX_DOC_BYTES - DEFLATE_GROWTH / 2))), Some("dokumen_tidak_valid"));
    }
}
