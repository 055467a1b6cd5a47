//! Documents as the hub keeps them: sealed under the hub's data key, with the message carrying
//! all of a document's changes kept beside it (sent to a device that has none of it without
//! decoding), and the hub's own Automerge actor. The catalog and the kelurahan profile, which
//! every exchange's checks and every dashboard page need, are decoded once per stored version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, ChangeHash};
use jemput_core::crypto::Cipher;
use jemput_core::document::{self, Record};
use jemput_core::sync::hub_side::Placement;
use jemput_core::sync::protocol;
use jemput_core::{Catalog, Kelurahan};

use crate::error::ServiceError;
use crate::storage::{DocPlace, HubTx, SealedDocIn};

/// The hub's own Automerge actor (for its stamps and staff edits).
pub fn hub_actor(tx: &mut dyn HubTx) -> Result<automerge::ActorId, ServiceError> {
    let b = tx.meta(crate::storage::HUB_ACTOR_KEY)?.ok_or(ServiceError::Internal)?;
    Ok(automerge::ActorId::from(b.as_slice()))
}

/// Loads a stored document; `for_update` locks it until the transaction ends (use it before
/// changing the document).
pub fn load_doc(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, for_update: bool) -> Result<Option<AutoCommit>, ServiceError> {
    match load_doc_bytes(tx, cipher, doc_id, for_update)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(AutoCommit::load(&bytes).map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))?)),
    }
}

/// A stored document's bytes (opened, not decoded).
pub fn load_doc_bytes(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, for_update: bool) -> Result<Option<Vec<u8>>, ServiceError> {
    match tx.sealed_doc(doc_id, for_update)? {
        None => Ok(None),
        Some(s) => Ok(Some(open_doc(cipher, doc_id, &s)?)),
    }
}

/// [`load_doc_bytes`] for several documents at once (one read; with `for_update`, locked in id
/// order): those stored, by id.
pub fn load_docs_bytes(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    doc_ids: &[&str],
    for_update: bool,
) -> Result<HashMap<String, Vec<u8>>, ServiceError> {
    let mut out = HashMap::with_capacity(doc_ids.len());
    for (id, sealed) in tx.sealed_docs(doc_ids, for_update)? {
        let bytes = open_doc(cipher, &id, &sealed)?;
        out.insert(id, bytes);
    }
    Ok(out)
}

/// The context a stored document is sealed under (it binds the sealed bytes to their row).
pub fn doc_context(doc_id: &str) -> Vec<u8> {
    format!("hubdoc:{doc_id}").into_bytes()
}

/// The context a stored document's full message is sealed under.
pub fn full_context(doc_id: &str) -> Vec<u8> {
    format!("hubfull:{doc_id}").into_bytes()
}

fn open_doc(cipher: &Cipher, doc_id: &str, sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
    cipher.open(&doc_context(doc_id), sealed).map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))
}

/// A version of a document to store: its `save()` bytes and the message carrying all its
/// changes with its heads (what a device that has none of it is sent, without decoding).
#[derive(Clone, Copy)]
pub struct DocVersion<'a> {
    /// `save()` bytes.
    pub bytes: &'a [u8],
    /// [`jemput_core::sync::peer::exact_message`] from nothing.
    pub full_message: &'a [u8],
    /// The document's heads.
    pub heads: &'a [ChangeHash],
}

/// Stores a document (sealed) under its placement and appends it to the change log.
pub fn put_doc(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, v: &DocVersion<'_>, place: &Placement) -> Result<(), ServiceError> {
    store_docs(tx, cipher, &[NewVersion { doc_id, version: *v, place }])
}

/// One document for [`store_docs`]: its id, the version to store, where it belongs.
pub struct NewVersion<'a> {
    /// Document id.
    pub doc_id: &'a str,
    /// The version.
    pub version: DocVersion<'a>,
    /// Its placement.
    pub place: &'a Placement,
}

/// [`put_doc`] for several documents at once (distinct ids): sealed, appended to the change
/// log and stored in one write (on PostgreSQL sent with the transaction's next statement).
pub fn store_docs(tx: &mut dyn HubTx, cipher: &Cipher, docs: &[NewVersion<'_>]) -> Result<(), ServiceError> {
    if docs.is_empty() {
        return Ok(());
    }
    check_sealing_key(tx, cipher)?;
    let sealed: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = docs
        .iter()
        .map(|d| {
            (
                cipher.seal(&doc_context(d.doc_id), d.version.bytes),
                cipher.seal(&full_context(d.doc_id), d.version.full_message),
                protocol::encode_heads(d.version.heads),
            )
        })
        .collect();
    let rows: Vec<SealedDocIn<'_>> = docs
        .iter()
        .zip(&sealed)
        .map(|(d, (doc, full, heads))| SealedDocIn {
            doc_id: d.doc_id,
            place: DocPlace {
                kind: d.place.kind.code(),
                rw: d.place.rw,
                rt: d.place.rt,
                status: d.place.status.as_deref(),
                receipt: d.place.receipt.as_deref(),
            },
            sealed: doc,
            full_message: full,
            heads,
        })
        .collect();
    Ok(tx.store_sealed_docs(&rows)?)
}

/// Refuses to seal a document under a key the database is no longer under: a hub instance
/// started before a key rotation (ADR 0015) holds only the key being retired, and what it
/// stored would be lost with that key. It must be restarted.
fn check_sealing_key(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<(), ServiceError> {
    match tx.meta(crate::storage::KEY_CHECK_KEY)? {
        Some(check) if cipher.open_current(b"hub:key_check", &check).is_err() => {
            tracing::error!("kunci data hub sudah diganti; mulai ulang hub ini");
            Err(ServiceError::Config("kunci data hub sudah diganti; mulai ulang hub ini".into()))
        }
        _ => Ok(()),
    }
}

/// Stores a document the hub holds decoded (see [`put_doc`]).
pub fn put_doc_from(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    doc_id: &str,
    doc: &mut AutoCommit,
    place: &Placement,
) -> Result<(), ServiceError> {
    let full = jemput_core::sync::peer::exact_message(doc, &[]).unwrap_or_default();
    put_doc(tx, cipher, doc_id, &DocVersion { bytes: &doc.save(), full_message: &full, heads: &doc.get_heads() }, place)
}

/// A document's message carrying all its changes, as stored (sealed until opened), with its
/// heads.
pub struct StoredFull {
    sealed: Vec<u8>,
    /// The document's heads.
    pub heads: Vec<ChangeHash>,
}

impl StoredFull {
    /// The message, opened.
    pub fn open(&self, cipher: &Cipher, doc_id: &str) -> Result<Vec<u8>, ServiceError> {
        cipher.open(&full_context(doc_id), &self.sealed).map_err(|_| ServiceError::Internal)
    }
}

/// The messages carrying all of each document's changes, with their heads, without decoding the
/// documents (one read): those that have one (every document stored since schema v3), by id.
pub fn stored_fulls(tx: &mut dyn HubTx, doc_ids: &[&str]) -> Result<HashMap<String, StoredFull>, ServiceError> {
    let mut out = HashMap::with_capacity(doc_ids.len());
    for (id, f) in tx.sealed_fulls(doc_ids)? {
        let heads = protocol::decode_heads(&f.heads).map_err(|_| ServiceError::Corrupt("heads tersimpan"))?;
        out.insert(id, StoredFull { sealed: f.message, heads });
    }
    Ok(out)
}

/// One stored record kept decoded, with a hash of the sealed bytes it was decoded from.
type Decoded<T> = Mutex<Option<([u8; 32], Arc<T>)>>;

/// The stored record `doc_id` (its sealed bytes `sealed`), decoded once per stored version:
/// `cache` is keyed by a hash of the sealed bytes, so any new version is decoded afresh (the
/// sealing nonce makes every store a new key, and a hub's key makes its bytes its own). `None`
/// when it is not stored.
fn decoded<T: Record>(
    cache: &Decoded<T>,
    sealed: Option<Vec<u8>>,
    cipher: &Cipher,
    doc_id: &str,
    what: &'static str,
) -> Result<Option<Arc<T>>, ServiceError> {
    let Some(sealed) = sealed else { return Ok(None) };
    let key = *blake3::hash(&sealed).as_bytes();
    if let Some((k, v)) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if *k == key {
            return Ok(Some(v.clone()));
        }
    }
    let doc = AutoCommit::load(&open_doc(cipher, doc_id, &sealed)?).map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))?;
    let v = Arc::new(document::read::<T>(&doc).map_err(|_| ServiceError::Corrupt(what))?);
    *cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, v.clone()));
    Ok(Some(v))
}

static CATALOG: Decoded<Catalog> = Mutex::new(None);
static KELURAHAN: Decoded<Kelurahan> = Mutex::new(None);

/// The stored service catalog (decoded once per stored version); `None` before the hub is set up.
pub fn catalog(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Option<Arc<Catalog>>, ServiceError> {
    let sealed = tx.sealed_doc("catalog", false)?;
    decoded(&CATALOG, sealed, cipher, "catalog", "katalog layanan")
}

/// The stored kelurahan profile (decoded once per stored version); `None` before the hub is set
/// up.
pub fn kelurahan(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Option<Arc<Kelurahan>>, ServiceError> {
    let sealed = tx.sealed_doc("kelurahan", false)?;
    decoded(&KELURAHAN, sealed, cipher, "kelurahan", "profil kelurahan")
}

/// The ids of the hub's catalog and profile documents, as [`catalog_and_kelurahan`] reads them.
pub const REFERENCE_IDS: [&str; 2] = ["catalog", "kelurahan"];

/// [`catalog`] and [`kelurahan`], read in one statement (every exchange that carries documents
/// needs both).
#[allow(clippy::type_complexity)]
pub fn catalog_and_kelurahan(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<(Option<Arc<Catalog>>, Option<Arc<Kelurahan>>), ServiceError> {
    let (mut catalog, mut kelurahan) = (None, None);
    for (id, sealed) in tx.sealed_docs(&REFERENCE_IDS, false)? {
        match id.as_str() {
            "catalog" => catalog = Some(sealed),
            _ => kelurahan = Some(sealed),
        }
    }
    Ok((
        decoded(&CATALOG, catalog, cipher, "catalog", "katalog layanan")?,
        decoded(&KELURAHAN, kelurahan, cipher, "kelurahan", "profil kelurahan")?,
    ))
}
