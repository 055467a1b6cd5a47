//! Persistence of Automerge documents: an encrypted snapshot plus encrypted incremental chunks
//! per document, compacted into a new snapshot when the chunks grow (the automerge-repo
//! storage pattern). Every blob is sealed with the document id and its slot as context.

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{params, Connection, OptionalExtension};

use crate::crypto::Cipher;
use crate::document::{self, DocKind};
use crate::error::{Error, Result};

/// Compact once a document has this many chunks…
const MAX_CHUNKS: i64 = 8;

/// A document loaded from the store, remembering what is already on disk.
pub struct StoredDoc {
    /// Row id in `docs`.
    pub rowid: i64,
    /// The document id (UUID, or `catalog` / `kelurahan`).
    pub doc_id: String,
    /// What it holds.
    pub kind: DocKind,
    /// The document.
    pub doc: AutoCommit,
    /// Heads already persisted.
    saved_heads: Vec<ChangeHash>,
}

pub(crate) fn snapshot_context(doc_id: &str) -> Vec<u8> {
    format!("doc:{doc_id}:snapshot").into_bytes()
}

pub(crate) fn chunk_context(doc_id: &str, seq: i64) -> Vec<u8> {
    format!("doc:{doc_id}:chunk:{seq}").into_bytes()
}

/// Whether a kind of document is written on the device and uploaded to the hub.
pub fn uploaded(kind: DocKind) -> bool {
    matches!(kind, DocKind::Request | DocKind::Complaint)
}

/// Inserts a new document; returns it with its row id. A document made on this device
/// (`local`) is marked as holding changes the hub lacks.
pub fn insert(
    conn: &Connection,
    cipher: &Cipher,
    doc_id: &str,
    kind: DocKind,
    doc: &mut AutoCommit,
    now: i64,
    local: bool,
) -> Result<StoredDoc> {
    let bytes = doc.save();
    let sealed = cipher.seal(&snapshot_context(doc_id), &bytes);
    conn.execute(
        "INSERT INTO docs (doc_id, kind, snapshot, chunk_count, chunk_bytes, updated_at, sync_flag) VALUES (?1, ?2, ?3, 0, 0, ?4, ?5)",
        params![doc_id, kind.code(), sealed, now, i64::from(local && uploaded(kind))],
    )?;
    Ok(StoredDoc { rowid: conn.last_insert_rowid(), doc_id: doc_id.to_string(), kind, saved_heads: doc.get_heads(), doc: doc.clone() })
}

/// Loads a document by id.
pub fn load(conn: &Connection, cipher: &Cipher, doc_id: &str, actor: &automerge::ActorId) -> Result<Option<StoredDoc>> {
    let row = conn
        .query_row("SELECT id, kind, snapshot FROM docs WHERE doc_id = ?1", params![doc_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
        })
        .optional()?;
    let Some((rowid, kind, snapshot)) = row else { return Ok(None) };
    let kind = DocKind::from_code(&kind).ok_or(Error::Corrupt)?;
    let mut bytes = cipher.open(&snapshot_context(doc_id), &snapshot).map_err(|_| Error::Corrupt)?;
    let mut st = conn.prepare_cached("SELECT seq, data FROM doc_chunks WHERE doc = ?1 ORDER BY seq")?;
    let chunks = st.query_map(params![rowid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    for chunk in chunks {
        let (seq, data) = chunk?;
        bytes.extend(cipher.open(&chunk_context(doc_id, seq), &data).map_err(|_| Error::Corrupt)?);
    }
    let mut doc = document::load(&bytes, actor)?;
    Ok(Some(StoredDoc { rowid, doc_id: doc_id.to_string(), kind, saved_heads: doc.get_heads(), doc }))
}

/// Persists whatever changed in `stored.doc` since it was loaded or last saved: one new
/// chunk, or a fresh snapshot when the chunks have grown past the snapshot or [`MAX_CHUNKS`].
/// Returns whether anything was written. A `local` edit marks the document as holding changes
/// the hub lacks.
pub fn save(conn: &Connection, cipher: &Cipher, stored: &mut StoredDoc, now: i64, local: bool) -> Result<bool> {
    let heads = stored.doc.get_heads();
    if heads == stored.saved_heads {
        return Ok(false);
    }
    let chunk = stored.doc.save_after(&stored.saved_heads);
    let (count, chunk_bytes, snapshot_len): (i64, i64, i64) =
        conn.query_row("SELECT chunk_count, chunk_bytes, length(snapshot) FROM docs WHERE id = ?1", params![stored.rowid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if count + 1 >= MAX_CHUNKS || chunk_bytes + chunk.len() as i64 > snapshot_len {
        let snapshot = cipher.seal(&snapshot_context(&stored.doc_id), &stored.doc.save());
        conn.execute("DELETE FROM doc_chunks WHERE doc = ?1", params![stored.rowid])?;
        conn.execute(
            "UPDATE docs SET snapshot = ?2, chunk_count = 0, chunk_bytes = 0, updated_at = ?3 WHERE id = ?1",
            params![stored.rowid, snapshot, now],
        )?;
    } else {
        let sealed = cipher.seal(&chunk_context(&stored.doc_id, count), &chunk);
        conn.execute("INSERT INTO doc_chunks (doc, seq, data) VALUES (?1, ?2, ?3)", params![stored.rowid, count, sealed])?;
        conn.execute(
            "UPDATE docs SET chunk_count = ?2, chunk_bytes = chunk_bytes + ?3, updated_at = ?4 WHERE id = ?1",
            params![stored.rowid, count + 1, sealed.len() as i64, now],
        )?;
    }
    if local && uploaded(stored.kind) {
        conn.execute("UPDATE docs SET sync_flag = 1 WHERE id = ?1", params![stored.rowid])?;
        conn.execute("DELETE FROM sync_refusals WHERE doc = ?1", params![stored.rowid])?;
    }
    stored.saved_heads = heads;
    Ok(true)
}

/// Deletes a document with its chunks and index rows (cascade). Automerge keeps every old
/// value in a document's history, so dropping the document is the only real deletion.
pub fn delete(conn: &Connection, rowid: i64) -> Result<()> {
    conn.execute("DELETE FROM docs WHERE id = ?1", params![rowid])?;
    Ok(())
}

pub use crate::document::{decode_heads, encode_heads};

/// Records what the hub is known to have of a document and whether the device still holds
/// changes the hub lacks.
pub fn set_sync_state(conn: &Connection, rowid: i64, hub_heads: &[ChangeHash], unsent: bool) -> Result<()> {
    conn.execute(
        "UPDATE docs SET hub_heads = ?2, sync_flag = CASE WHEN ?3 THEN 1 ELSE 0 END WHERE id = ?1",
        params![rowid, encode_heads(hub_heads), unsent],
    )?;
    Ok(())
}

/// The heads the hub is known to have of a document.
pub fn hub_heads(conn: &Connection, rowid: i64) -> Result<Vec<ChangeHash>> {
    let b: Vec<u8> = conn.query_row("SELECT hub_heads FROM docs WHERE id = ?1", params![rowid], |r| r.get(0))?;
    decode_heads(&b)
}
