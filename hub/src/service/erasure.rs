//! Erasure of a resident's personal data across every replica, and the retention policy that
//! erases it when its time is up (ADR 0013). An Automerge document keeps every value it ever
//! held in its history, so the hub does not delete fields: it replaces the whole document by a
//! fresh one, without history, holding only the letter register entry (receipt code, service,
//! dates, status steps, letter number, RT/RW), marks the document erased, and from then on
//! refuses every change to it from any device (`data_dihapus`) and tells every device in its
//! scope to delete its copy. What could still carry old changes at the hub is dropped with it
//! (what devices were known to hold, held sync uploads and answers); [`crate::storage::HubDb::scrub`]
//! then makes the deleted rows leave the database files.

use jemput_core::complaint::{Complaint, ComplaintStatus};
use jemput_core::crypto::Cipher;
use jemput_core::document::{self, DocKind};
use jemput_core::kelurahan::Retention;
use jemput_core::request::{Request, Status};
use jemput_core::sync::hub_side::Placement;
use jemput_core::time_util::DAY_MS;

use crate::error::ServiceError;
use crate::storage::{DocFilter, ErasedDoc, HubTx};

use super::{audit, docs};

/// Longest reason staff may give for an erasure (characters).
pub const MAX_REASON_CHARS: usize = 300;

/// Who erases when a record's retention period ends.
pub const RETENTION_ACTOR: &str = "sistem:retensi";

/// The reason recorded for an erasure at the end of the retention period.
pub const RETENTION_REASON: &str = "masa simpan habis";

/// Checks a reason staff typed: required, at most [`MAX_REASON_CHARS`], no control characters.
pub fn check_reason(reason: &str) -> Result<String, ServiceError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(ServiceError::Invalid("alasan_wajib".into(), "Alasan penghapusan wajib diisi".into()));
    }
    if r.chars().count() > MAX_REASON_CHARS || r.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::Invalid(
            "alasan_tidak_valid".into(),
            format!("Alasan penghapusan paling banyak {MAX_REASON_CHARS} huruf, tanpa karakter kendali"),
        ));
    }
    Ok(r.to_string())
}

/// Whether a document was erased.
pub fn is_erased(tx: &mut dyn HubTx, doc_id: &str) -> Result<bool, ServiceError> {
    Ok(tx.erased(doc_id)?.is_some())
}

/// Erases the personal data of request or complaint `doc_id` (see the module text): the
/// stored document becomes its register entry, without history; every device is told and
/// refused; audited as `hapus_data` by `by`. Call [`crate::storage::HubDb::scrub`] after the
/// transaction commits.
pub fn erase(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, reason: &str, by: &str, now: i64) -> Result<ErasedDoc, ServiceError> {
    // Document ids are at most 64 characters (`protocol`); anything longer names nothing.
    if doc_id.is_empty() || doc_id.len() > 64 {
        return Err(ServiceError::NotFound("data tidak ditemukan"));
    }
    if tx.erased(doc_id)?.is_some() {
        return Err(ServiceError::Rejected("sudah_dihapus", "Data pribadi pada catatan ini sudah dihapus".into()));
    }
    let doc = docs::load_doc(tx, cipher, doc_id, true)?.ok_or(ServiceError::NotFound("data tidak ditemukan"))?;
    let hub_actor = docs::hub_actor(tx)?;
    let entry = register_entry(&doc, &hub_actor)?;
    drop(doc);
    let erased = ErasedDoc {
        doc_id: doc_id.to_string(),
        kind: entry.kind.code().to_string(),
        erased_at: now,
        reason: reason.to_string(),
        erased_by: by.to_string(),
    };
    replace_with_register_entry(tx, cipher, entry, &erased)?;
    Ok(erased)
}

/// A record's letter register entry ([`register_entry`]).
pub struct RegisterEntry {
    /// The record's kind.
    pub kind: DocKind,
    /// The entry: a fresh document without history.
    pub doc: automerge::AutoCommit,
    /// Where it belongs and how the office lists it.
    pub place: Placement,
}

/// The letter register entry of a request or complaint `doc` (receipt code, service, dates,
/// status steps, letter number, RT/RW; no personal data), as a fresh document without history
/// under `actor`, with the record's kind and placement.
pub fn register_entry(doc: &automerge::AutoCommit, actor: &automerge::ActorId) -> Result<RegisterEntry, ServiceError> {
    let kind = document::kind(doc).map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))?;
    let (doc, place) = match kind {
        DocKind::Request => {
            let r: Request = document::read(doc).map_err(|_| ServiceError::Corrupt("permohonan tersimpan"))?;
            let kept = r.register_only();
            (document::create(&kept, actor).map_err(|_| ServiceError::Internal)?, Placement::of_request(&kept))
        }
        DocKind::Complaint => {
            let c: Complaint = document::read(doc).map_err(|_| ServiceError::Corrupt("pengaduan tersimpan"))?;
            let kept = c.register_only();
            (document::create(&kept, actor).map_err(|_| ServiceError::Internal)?, Placement::of_complaint(&kept))
        }
        DocKind::Catalog | DocKind::Kelurahan => {
            return Err(ServiceError::Rejected("bukan_data_warga", "Hanya permohonan dan pengaduan yang dapat dihapus".into()))
        }
    };
    Ok(RegisterEntry { kind, doc, place })
}

/// Erases a record whose letter register entry is `entry` (from [`register_entry`], possibly
/// made earlier, e.g. kept in a backup whose key for the record's personal data is gone): the
/// entry, written afresh under the hub's actor, replaces the stored document; then everything
/// [`erase`] does after that. The caller checked the record is not erased yet.
pub fn erase_to_register_entry(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    entry: &automerge::AutoCommit,
    erased: &ErasedDoc,
) -> Result<(), ServiceError> {
    let hub_actor = docs::hub_actor(tx)?;
    let fresh = register_entry(entry, &hub_actor)?;
    replace_with_register_entry(tx, cipher, fresh, erased)
}

fn replace_with_register_entry(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    mut entry: RegisterEntry,
    erased: &ErasedDoc,
) -> Result<(), ServiceError> {
    // The fresh document replaces the old one and its full message (both rows are rewritten);
    // its change-log entry is what tells each device in scope on its next sync.
    docs::put_doc_from(tx, cipher, &erased.doc_id, &mut entry.doc, &entry.place)?;
    tx.mark_erased(erased)?;
    tx.forget_known(&erased.doc_id)?;
    tx.drop_exchanges()?;
    audit::audit(tx, &erased.erased_by, "hapus_data", Some(&erased.doc_id))?;
    Ok(())
}

/// The kelurahan's retention policy (the defaults while it has no profile, or a profile from
/// before the policy).
pub fn retention(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Retention, ServiceError> {
    match docs::load_doc(tx, cipher, "kelurahan", false)? {
        None => Ok(Retention::default()),
        Some(d) => {
            let k: jemput_core::kelurahan::Kelurahan = document::read(&d).map_err(|_| ServiceError::Corrupt("profil kelurahan"))?;
            Ok(k.retention)
        }
    }
}

/// Sets the retention policy in the kelurahan profile (every phone gets it on its next sync);
/// audited. `false` when nothing changed.
pub fn set_retention(tx: &mut dyn HubTx, cipher: &Cipher, policy: &Retention, by: &str) -> Result<bool, ServiceError> {
    if let Some(problem) = policy.problem() {
        return Err(ServiceError::Invalid("masa_simpan_tidak_valid".into(), problem.into()));
    }
    let mut doc = docs::load_doc(tx, cipher, "kelurahan", true)?.ok_or(ServiceError::Config("profil kelurahan belum dibuat".into()))?;
    let mut k: jemput_core::kelurahan::Kelurahan = document::read(&doc).map_err(|_| ServiceError::Corrupt("profil kelurahan"))?;
    if k.retention == *policy {
        return Ok(false);
    }
    k.retention = *policy;
    doc.set_actor(docs::hub_actor(tx)?);
    document::update(&mut doc, &k).map_err(|_| ServiceError::Internal)?;
    docs::put_doc_from(tx, cipher, "kelurahan", &mut doc, &Placement::everyone(DocKind::Kelurahan))?;
    audit::audit(tx, by, "ubah_masa_simpan", Some("kelurahan"))?;
    Ok(true)
}

/// Most records looked at per kind and status in one retention run.
const SCAN_PAGE: u32 = 500;

/// The finished records whose retention period at the hub ended before `now` and that still
/// hold personal data, oldest status list first: requests handed over or rejected more than
/// `request_days_on_hub` days ago, complaints closed more than `complaint_days_on_hub` ago.
pub fn expired(tx: &mut dyn HubTx, cipher: &Cipher, now: i64) -> Result<Vec<String>, ServiceError> {
    let policy = retention(tx, cipher)?;
    let cutoff = |days: u32| now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
    let lists: [(DocKind, &str, i64); 3] = [
        (DocKind::Request, Status::Diserahkan.code(), cutoff(policy.request_days_on_hub)),
        (DocKind::Request, Status::Ditolak.code(), cutoff(policy.request_days_on_hub)),
        (DocKind::Complaint, ComplaintStatus::Selesai.code(), cutoff(policy.complaint_days_on_hub)),
    ];
    let mut out = Vec::new();
    for (kind, status, cutoff) in lists {
        let filter = DocFilter { kind: kind.code().into(), status: Some(status.into()), rw: None, rt: None };
        let mut offset = 0;
        loop {
            let ids = tx.doc_ids(&filter, offset, SCAN_PAGE)?;
            for id in &ids {
                if tx.erased(id)?.is_some() {
                    continue;
                }
                let Some(doc) = docs::load_doc(tx, cipher, id, false)? else { continue };
                let closed = match kind {
                    DocKind::Request => document::read::<Request>(&doc).ok().and_then(|r| r.closed_at()),
                    _ => document::read::<Complaint>(&doc).ok().and_then(|c| c.closed_at()),
                };
                if closed.is_some_and(|at| at < cutoff) {
                    out.push(id.clone());
                }
            }
            if (ids.len() as u32) < SCAN_PAGE {
                break;
            }
            offset += SCAN_PAGE;
        }
    }
    Ok(out)
}

/// What runs with each erasure in its transaction (the dashboard's office index rewriting the
/// record's list row, so its old sealed row is overwritten before the database is scrubbed).
pub type AfterErasure = fn(&mut dyn HubTx, &Cipher) -> Result<(), ServiceError>;

/// One retention run (the periodic task of `serve` and `jemput-hub retention run`): erases
/// every record whose period ended before `now`, each in its own transaction with `after`,
/// then scrubs the database once. Returns how many records were erased.
pub fn run_retention(db: &crate::storage::HubDb, now: i64, after: AfterErasure) -> Result<usize, ServiceError> {
    let ids = db.read(|tx, cipher| expired(tx, cipher, now))?;
    let mut erased = 0;
    for id in &ids {
        let done = db.with(|tx, cipher| {
            let e = erase(tx, cipher, id, RETENTION_REASON, RETENTION_ACTOR, now)?;
            after(tx, cipher)?;
            Ok::<_, ServiceError>(e)
        });
        match done {
            Ok(_) => erased += 1,
            // Erased meanwhile by staff (or another hub instance): nothing left to do.
            Err(ServiceError::Rejected("sudah_dihapus", _)) => {}
            Err(e) => return Err(e),
        }
    }
    if erased > 0 {
        db.scrub()?;
        tracing::info!(erased, "retensi: data pribadi yang masa simpannya habis dihapus");
    }
    Ok(erased)
}
