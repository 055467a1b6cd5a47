//! Rotating the store's key (ADR 0015): everything sealed under the old key (document
//! snapshots and chunks, the applicants' names in the index, the hub link, colleagues' bundles
//! waiting to be relayed, the sync exchange in flight, the key check) is sealed again under
//! the new key, and the blind tags (NIK, name prefixes) are computed again, in **one SQLite
//! transaction**: a rotation cut
//! short (the app killed, the battery out) leaves the store exactly as it was, under the old
//! key; a finished one leaves nothing under the old key, and the write-ahead log is
//! checkpointed and truncated so the old key's pages do not linger in it.
//!
//! The app's side: keep the new key as "pending" before calling [`Store::rotate_key`], keep
//! the old key until it returns, then make the new key the current one. Opened after a crash,
//! the store answers `WrongKey` to the key it is not under, so the app tries the other one.

use rusqlite::{params, OptionalExtension, Transaction};

use super::{docs, index, Store, StoreKey};
use crate::crypto::Cipher;
use crate::document;
use crate::error::{Error, Result};
use crate::request::Request;

/// Rows read per statement (bounds memory on a phone with thousands of records).
const BATCH: i64 = 200;

impl Store {
    /// Replaces the store's key with `new_key` (see the module documentation). Afterwards the
    /// old key opens nothing (`WrongKey`), the new key opens everything, and nothing is lost.
    pub fn rotate_key(&mut self, new_key: &StoreKey) -> Result<()> {
        self.rotate_key_with(new_key, &mut || {})
    }

    /// [`Store::rotate_key`], calling `midway` once half-way through, inside the transaction
    /// (tests copy the files there, as a power cut would leave them).
    pub(crate) fn rotate_key_with(&mut self, new_key: &StoreKey, midway: &mut dyn FnMut()) -> Result<()> {
        let new = Cipher::new(new_key, "toko-perangkat");
        let tx = self.conn.transaction()?;
        rekey(&tx, &self.cipher, &new, &self.actor, midway)?;
        tx.commit()?;
        self.cipher = new;
        // The old key's pages leave the write-ahead log now rather than at the next checkpoint.
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn reseal(old: &Cipher, new: &Cipher, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    let plain = zeroize::Zeroizing::new(old.open(context, sealed).map_err(|_| Error::Corrupt)?);
    Ok(new.seal(context, &plain))
}

fn rekey(tx: &Transaction<'_>, old: &Cipher, new: &Cipher, actor: &automerge::ActorId, midway: &mut dyn FnMut()) -> Result<()> {
    // The request index first, while the documents still open under the old key.
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = tx
            .prepare("SELECT doc, doc_id FROM requests WHERE doc > ?1 ORDER BY doc LIMIT ?2")?
            .query_map(params![after, BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(&(last, _)) = rows.last() else { break };
        for (rowid, doc_id) in rows {
            let stored = docs::load(tx, old, &doc_id, actor)?.ok_or(Error::Corrupt)?;
            let r: Request = document::read(&stored.doc)?;
            index::rekey_request(tx, new, rowid, &r)?;
        }
        after = last;
    }
    // Snapshots, with their chunks.
    let total: i64 = tx.query_row("SELECT count(*) FROM docs", [], |r| r.get(0))?;
    let (mut after, mut done) = (0i64, 0i64);
    loop {
        let rows: Vec<(i64, String, Vec<u8>)> = tx
            .prepare("SELECT id, doc_id, snapshot FROM docs WHERE id > ?1 ORDER BY id LIMIT ?2")?
            .query_map(params![after, BATCH], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(&(last, _, _)) = rows.last() else { break };
        for (rowid, doc_id, snapshot) in rows {
            let sealed = reseal(old, new, &docs::snapshot_context(&doc_id), &snapshot)?;
            tx.execute("UPDATE docs SET snapshot = ?2 WHERE id = ?1", params![rowid, sealed])?;
            let chunks: Vec<(i64, Vec<u8>)> = tx
                .prepare_cached("SELECT seq, data FROM doc_chunks WHERE doc = ?1")?
                .query_map(params![rowid], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (seq, data) in chunks {
                let sealed = reseal(old, new, &docs::chunk_context(&doc_id, seq), &data)?;
                tx.execute("UPDATE doc_chunks SET data = ?3 WHERE doc = ?1 AND seq = ?2", params![rowid, seq, sealed])?;
            }
            done += 1;
            if done == total / 2 {
                midway();
            }
        }
        after = last;
    }
    // Colleagues' bundles waiting to be relayed.
    let bundles: Vec<(String, Vec<u8>)> = tx
        .prepare("SELECT fingerprint, sealed FROM relay_bundles")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (fp, sealed) in bundles {
        let sealed = reseal(old, new, format!("relay:{fp}").as_bytes(), &sealed)?;
        tx.execute("UPDATE relay_bundles SET sealed = ?2 WHERE fingerprint = ?1", params![fp, sealed])?;
    }
    // The hub link, the sync exchange in flight and the key check.
    for (key, context) in
        [("hub_link", &b"meta:hub_link"[..]), ("exchange_in_flight", super::in_flight::CONTEXT), ("key_check", &b"meta:key_check"[..])]
    {
        let value: Option<Vec<u8>> = tx.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?;
        if let Some(v) = value {
            tx.execute("UPDATE meta SET value = ?2 WHERE key = ?1", params![key, reseal(old, new, context, &v)?])?;
        }
    }
    Ok(())
}
