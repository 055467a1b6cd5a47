//! The Automerge documents records live in. One document per request, per complaint, plus one
//! for the catalog and one for the kelurahan profile (see `docs/adr/0002-document-granularity.md`).
//! The record's fields sit at the document's root beside a `kind` key and a schema version.

use automerge::{transaction::Transactable, ActorId, AutoCommit, ReadDoc, ROOT};
use autosurgeon::{Hydrate, Reconcile};

use crate::catalog::Catalog;
use crate::complaint::Complaint;
use crate::error::{Error, Result};
use crate::kelurahan::Kelurahan;
use crate::request::Request;

/// Schema version written into every document.
pub const SCHEMA_VERSION: u64 = 1;

/// Largest document the core will load from storage or the network (bytes, compressed form).
pub const MAX_DOC_BYTES: usize = 256 * 1024;

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// One [`Request`].
    Request,
    /// One [`Complaint`].
    Complaint,
    /// The [`Catalog`].
    Catalog,
    /// The [`Kelurahan`] profile.
    Kelurahan,
}

impl DocKind {
    /// The stable code stored in the document and the index.
    pub fn code(self) -> &'static str {
        match self {
            DocKind::Request => "request",
            DocKind::Complaint => "complaint",
            DocKind::Catalog => "catalog",
            DocKind::Kelurahan => "kelurahan",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<DocKind> {
        [DocKind::Request, DocKind::Complaint, DocKind::Catalog, DocKind::Kelurahan].into_iter().find(|k| k.code() == code)
    }
}

/// A record type that lives in its own document.
pub trait Record: Reconcile + Hydrate {
    /// The kind of document that holds it.
    const KIND: DocKind;
}

impl Record for Request {
    const KIND: DocKind = DocKind::Request;
}
impl Record for Complaint {
    const KIND: DocKind = DocKind::Complaint;
}
impl Record for Catalog {
    const KIND: DocKind = DocKind::Catalog;
}
impl Record for Kelurahan {
    const KIND: DocKind = DocKind::Kelurahan;
}

/// Creates a new document holding `record`, written by `actor`.
pub fn create<R: Record>(record: &R, actor: &ActorId) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    doc.put(ROOT, "kind", R::KIND.code())?;
    doc.put(ROOT, "schema", SCHEMA_VERSION)?;
    autosurgeon::reconcile(&mut doc, record)?;
    doc.commit();
    Ok(doc)
}

/// Writes `record` into `doc` as one change (only the fields that differ are written).
/// Returns whether anything changed.
pub fn update<R: Record>(doc: &mut AutoCommit, record: &R) -> Result<bool> {
    let before = doc.get_heads();
    autosurgeon::reconcile(doc, record)?;
    doc.commit();
    Ok(doc.get_heads() != before)
}

/// Reads the record out of `doc`, checking the document holds that kind of record.
pub fn read<R: Record>(doc: &AutoCommit) -> Result<R> {
    match kind(doc)? {
        k if k == R::KIND => Ok(autosurgeon::hydrate(doc)?),
        k => Err(Error::Document(format!("dokumen berisi {}, bukan {}", k.code(), R::KIND.code()))),
    }
}

/// The kind of record in `doc`.
pub fn kind(doc: &AutoCommit) -> Result<DocKind> {
    match doc.get(ROOT, "kind")? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Str(k) => DocKind::from_code(k).ok_or_else(|| Error::Document("jenis dokumen tidak dikenal".into())),
            _ => Err(Error::Document("jenis dokumen tidak valid".into())),
        },
        _ => Err(Error::Document("dokumen tanpa jenis".into())),
    }
}

/// Loads a saved document (snapshot followed by any incremental chunks), refusing oversized input.
pub fn load(bytes: &[u8], actor: &ActorId) -> Result<AutoCommit> {
    if bytes.len() > MAX_DOC_BYTES * 4 {
        return Err(Error::Document("dokumen terlalu besar".into()));
    }
    Ok(AutoCommit::load(bytes)?.with_actor(actor.clone()))
}

/// A fresh random actor id (16 bytes).
pub fn random_actor() -> ActorId {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source works");
    ActorId::from(&b[..])
}

/// Sample records for tests across the crate.
/// Encodes change hashes as concatenated 32-byte values (how heads are stored and sent).
pub fn encode_heads(heads: &[automerge::ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Decodes concatenated 32-byte change hashes; a length that is not a multiple of 32 is
/// [`Error::Corrupt`], never silently cut.
pub fn decode_heads(bytes: &[u8]) -> Result<Vec<automerge::ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(Error::Corrupt);
    }
    Ok(bytes.chunks_exact(32).map(|c| automerge::ChangeHash(c.try_into().expect("32 bytes"))).collect())
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::request::*;
    use std::collections::HashMap;

    /// A request as recorded by officer `petugas-1` on device `hp-1` in RT 3 / RW 5.
    pub(crate) fn sample_request() -> Request {
        Request {
            id: "0190-test".into(),
            receipt: "K7QM-2F4A-X".into(),
            service_code: "sktm".into(),
            catalog_version: 1,
            applicant: Applicant {
                name: "Siti Aminah".into(),
                nik: "3576024405900001".into(),
                kk: "3576020101150003".into(),
                birth_place: "Mojokerto".into(),
                birth_date: "1990-05-04".into(),
                sex: Sex::Perempuan,
                address: Address { street: "Jl. Balongsari Gg. 3 No. 12".into(), rt: 3, rw: 5 },
                phone: Some("081234567890".into()),
                uses_whatsapp: false,
            },
            checklist: HashMap::from([("ktp".into(), true), ("kk".into(), false)]),
            fields: HashMap::from([("keperluan".into(), "Berobat ke RSUD".into())]),
            notes: String::new(),
            officer_id: "petugas-1".into(),
            device_id: "hp-1".into(),
            created_at: 1_700_000_000_000,
            history: vec![StatusChange {
                status: Status::Dicatat,
                at: 1_700_000_000_000,
                by: Actor { role: Role::Petugas, id: "petugas-1".into() },
                reason: None,
            }],
            office: OfficeFields::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sample_request;
    use super::*;
    use crate::request::*;

    #[test]
    fn round_trips_a_request() {
        let r = sample_request();
        let mut doc = create(&r, &random_actor()).unwrap();
        assert_eq!(kind(&doc).unwrap(), DocKind::Request);
        let back: Request = read(&doc).unwrap();
        assert_eq!(back, r);
        let bytes = doc.save();
        let loaded = load(&bytes, &random_actor()).unwrap();
        assert_eq!(read::<Request>(&loaded).unwrap(), r);
        assert!(read::<Complaint>(&loaded).is_err(), "a request document is not a complaint");
    }

    #[test]
    fn update_writes_only_changes() {
        let mut r = sample_request();
        let mut doc = create(&r, &random_actor()).unwrap();
        assert!(!update(&mut doc, &r).unwrap(), "no change, no new heads");
        r.notes = "Rumah cat hijau".into();
        assert!(update(&mut doc, &r).unwrap());
        assert_eq!(read::<Request>(&doc).unwrap().notes, "Rumah cat hijau");
    }

    #[test]
    fn concurrent_status_appends_are_both_kept_and_status_converges() {
        let r = sample_request();
        let mut a = create(&r, &random_actor()).unwrap();
        let mut b = load(&a.save(), &random_actor()).unwrap();
        let mut ra: Request = read(&a).unwrap();
        let mut rb: Request = read(&b).unwrap();
        ra.change_status(Status::Terkirim, Actor { role: Role::Sistem, id: "hub".into() }, None, 1_700_000_100_000).unwrap();
        rb.notes = "catatan petugas".into();
        rb.checklist.insert("kk".into(), true);
        update(&mut a, &ra).unwrap();
        update(&mut b, &rb).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let ma: Request = read(&a).unwrap();
        let mb: Request = read(&b).unwrap();
        assert_eq!(ma, mb);
        assert_eq!(ma.status(), Status::Terkirim);
        assert_eq!(ma.notes, "catatan petugas");
        assert_eq!(ma.checklist.get("kk"), Some(&true));
    }
}
