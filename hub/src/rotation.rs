//! Rotating the hub's data key (ADR 0015): `jemput-hub rotate-key` makes a new key, seals
//! everything sealed under the old one again under the new one, and retires the old key;
//! resumable when interrupted, and every sealed value opens at every moment.
//!
//! The steps, each durable before the next:
//! 1. the new key is written beside the key file as `<key file>.baru` (created readable by its
//!    owner only; an existing one is the rotation being resumed);
//! 2. one transaction marks the rotation in the database (a mark sealed under the old key),
//!    seals the key check under the new key and empties the office index, whose blind tags
//!    belong to the old key; from then on the hub opens with both keys, seals and tags under
//!    the new one, and rebuilds the index as it lists, and an instance still holding only the
//!    old key stores no document (`service::put_doc` checks the key check);
//! 3. documents are sealed again in batches, in id order, each batch with the position it
//!    reached in one transaction; then the held sync exchanges;
//! 4. one transaction removes the mark: from then on the database opens with the new key
//!    alone;
//! 5. the new key file replaces the old one (an atomic rename): the old key is gone.
//!
//! Killed anywhere, the hub still opens (with the old key, both, or the new key, as the
//! database says) and `rotate-key` run again continues where it stopped.

use std::path::{Path, PathBuf};

use jemput_core::crypto::{Cipher, MasterKey};

use crate::error::ServiceError;
use crate::service::setup;
use crate::storage::{ExchangeRow, HubDb, HubTx, ROTATION_MARK, ROTATION_MARK_CONTEXT};

/// Where the rotation has got to in the documents (the last id sealed again).
const CURSOR: &str = "key_rotation_cursor";

/// The file the next key waits in during a rotation: `<key file>.baru`.
pub fn next_key_path(key_file: &Path) -> PathBuf {
    let mut p = key_file.as_os_str().to_owned();
    p.push(".baru");
    PathBuf::from(p)
}

/// Opens the hub's database with its key file (created when missing, as `init` does) and,
/// when a rotation was interrupted, the next key beside it: every sealed value opens.
pub fn open(database: &str, key_file: &Path) -> Result<HubDb, ServiceError> {
    let key = setup::load_or_create_key(key_file)?;
    let next_path = next_key_path(key_file);
    let next = if next_path.exists() { Some(setup::read_key(&next_path)?) } else { None };
    Ok(HubDb::open_keys(database, &key, next.as_ref())?)
}

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Whether it continued an interrupted rotation.
    pub resumed: bool,
    /// Documents sealed again by this run.
    pub docs: u64,
    /// Held sync exchanges sealed again by this run.
    pub exchanges: u64,
}

/// How a rotation runs.
#[derive(Debug, Clone, Copy)]
pub struct RotationOptions {
    /// Documents per transaction.
    pub batch: u32,
    /// A pause after each batch (spreads the load on a hub that keeps serving).
    pub pause: std::time::Duration,
}

impl Default for RotationOptions {
    fn default() -> Self {
        RotationOptions { batch: 200, pause: std::time::Duration::ZERO }
    }
}

/// Rotates the data key of the hub at `database` whose key is in `key_file` (see the module
/// documentation); `progress` is told the documents sealed again so far after each batch.
pub fn rotate_key(
    database: &str,
    key_file: &Path,
    options: RotationOptions,
    mut progress: impl FnMut(u64),
) -> Result<RotationReport, ServiceError> {
    let old = setup::read_key(key_file)?;
    let next_path = next_key_path(key_file);
    let mut report = RotationReport::default();
    // 1. The next key, durable before anything is sealed under it.
    let next = if next_path.exists() {
        report.resumed = true;
        setup::read_key(&next_path)?
    } else {
        let k = MasterKey::generate();
        setup::write_new_key_file(&next_path, &k)?;
        k
    };
    let mut db = HubDb::open_keys(database, &old, Some(&next))?;
    let (old_cipher, next_cipher) = (Cipher::new(&old, "hub"), Cipher::new(&next, "hub"));
    let check = db.read(|tx, _| Ok::<_, ServiceError>(tx.meta(crate::storage::KEY_CHECK_KEY)?))?;
    let switched = !db.is_rotating() && check.is_some_and(|c| next_cipher.open(b"hub:key_check", &c).is_ok());
    if !switched {
        // 2. Mark the rotation and seal the key check under the new key (an instance that
        // holds only the old key now stops sealing anything, `service::put_doc`); the office
        // index starts again under the new key.
        if !db.is_rotating() {
            db.with(|tx, _| {
                tx.set_meta(ROTATION_MARK, &old_cipher.seal(ROTATION_MARK_CONTEXT, b"ok"))?;
                tx.set_meta(crate::storage::KEY_CHECK_KEY, &next_cipher.seal(b"hub:key_check", b"ok"))?;
                tx.set_meta(CURSOR, b"")?;
                tx.clear_office_index()?;
                crate::web::index::reset(tx)?;
                crate::web::access::reset_complaint_tags(tx)?;
                crate::service::audit(tx, "sistem:cli", "ganti_kunci_mulai", None)
            })?;
            db = HubDb::open_keys(database, &old, Some(&next))?;
        }
        if !db.is_rotating() {
            return Err(ServiceError::Internal);
        }
        // 3. Documents, a batch per transaction with the position reached.
        loop {
            let n = db.with(|tx, cipher| reseal_batch(tx, cipher, options.batch))?;
            if n == 0 {
                break;
            }
            report.docs += n;
            progress(report.docs);
            if !options.pause.is_zero() {
                std::thread::sleep(options.pause);
            }
        }
        report.exchanges = db.with(reseal_exchanges)?;
        // 4. The switch: the mark gone, the new key alone.
        db.with(|tx, _| {
            tx.set_meta(ROTATION_MARK, b"")?;
            tx.set_meta(CURSOR, b"")?;
            crate::service::audit(tx, "sistem:cli", "ganti_kunci_selesai", None)
        })?;
    }
    // 5. The new key file replaces the old one; the old key is gone.
    std::fs::rename(&next_path, key_file)
        .map_err(|e| ServiceError::Config(format!("tidak dapat mengganti berkas kunci {}: {e}", key_file.display())))?;
    setup::sync_dir(key_file)
        .map_err(|e| ServiceError::Config(format!("tidak dapat menyimpan berkas kunci {}: {e}", key_file.display())))?;
    // The office index is rebuilt now rather than at the first list.
    let db = HubDb::open(database, &next)?;
    db.with(|tx, cipher| {
        crate::web::index::catch_up(tx, cipher)?;
        crate::web::access::catch_up_complaints(tx, cipher)
    })?;
    Ok(report)
}

/// Seals the next batch of documents again; returns how many (0 when all are done).
fn reseal_batch(tx: &mut dyn HubTx, cipher: &Cipher, batch: u32) -> Result<u64, ServiceError> {
    let after = String::from_utf8(tx.meta(CURSOR)?.unwrap_or_default()).map_err(|_| ServiceError::Corrupt("posisi penggantian kunci"))?;
    let rows = tx.sealed_docs_after(&after, batch)?;
    let Some(last) = rows.last().map(|r| r.doc_id.clone()) else { return Ok(0) };
    for r in &rows {
        let sealed = cipher
            .reseal(&crate::service::docs::doc_context(&r.doc_id), &r.sealed)
            .map_err(|_| ServiceError::Corrupt("dokumen tersimpan"))?;
        let full = match &r.full_message {
            Some(f) => Some(
                cipher
                    .reseal(&crate::service::docs::full_context(&r.doc_id), f)
                    .map_err(|_| ServiceError::Corrupt("pesan dokumen tersimpan"))?,
            ),
            None => None,
        };
        tx.reseal_doc(&r.doc_id, &sealed, full.as_deref())?;
    }
    tx.set_meta(CURSOR, last.as_bytes())?;
    Ok(rows.len() as u64)
}

/// Seals every held sync exchange again (one row per device, so one transaction).
fn reseal_exchanges(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<u64, ServiceError> {
    let mut n = 0;
    for device in tx.exchange_devices()? {
        let Some(row) = tx.exchange(&device)? else { continue };
        let ctx = crate::engine::held::exchange_context(&device, &row.key);
        let reseal = |b: &[u8]| cipher.reseal(&ctx, b).map_err(|_| ServiceError::Corrupt("pertukaran sinkron tersimpan"));
        let upload = if row.upload.is_empty() { Vec::new() } else { reseal(&row.upload)? };
        let answer = match &row.answer {
            Some(a) => Some(reseal(a)?),
            None => None,
        };
        tx.put_exchange(&device, &ExchangeRow { key: row.key.clone(), upload, answer, at: row.at })?;
        n += 1;
    }
    Ok(n)
}
