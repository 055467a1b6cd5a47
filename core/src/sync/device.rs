//! The device side of sync: which documents to send (those holding changes the hub lacks), what
//! the hub is known to have of each, applying the hub's answer in one transaction, the cursor
//! over the hub's change log, refusals, and a plain-language health summary for the officer.

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::complaint::Complaint;
use crate::document::{self, DocKind};
use crate::error::{Error, Result};
use crate::request::{Request, Status};
use crate::store::{docs, index, Store};
use crate::sync::bundle::Bundle;
use crate::sync::peer;
use crate::sync::protocol::{Backlog, DocMessage, DocRefusal, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use crate::time_util::DAY_MS;

/// What one applied sync response changed on the device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// Documents the hub now has in full (uploads confirmed).
    pub confirmed: u32,
    /// Documents that received changes from the hub.
    pub received: u32,
    /// Requests whose status changed, as (id, receipt, new status): the officer tells the resident.
    pub status_changes: Vec<StatusNews>,
    /// Changes the hub refused.
    pub refused: Vec<DocRefusal>,
    /// Whether another exchange is needed (more on the hub, or more to send).
    pub more: bool,
    /// The hub was restored from a backup since the last sync: this device sends its records
    /// again (ADR 0014).
    pub hub_restored: bool,
}

/// A request whose status changed at the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StatusNews {
    /// Request id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// The new status.
    pub status: Status,
    /// The reason (missing document, rejection), if any.
    pub reason: Option<String>,
}

/// How the device's sync stands, for the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncHealth {
    /// Requests not yet at the hub.
    pub unsent_requests: u32,
    /// Complaints not yet at the hub.
    pub unsent_complaints: u32,
    /// Records the hub refused (the officer must look at them).
    pub refused: u32,
    /// When the oldest unsent record was last changed.
    pub oldest_unsent_at: Option<i64>,
    /// When a sync last succeeded.
    pub last_sync_at: Option<i64>,
    /// One sentence in Bahasa Indonesia, e.g. "3 permohonan belum terkirim sejak 2 hari".
    pub summary: String,
}

/// How this device reaches its hub, from enrolment on; kept sealed in the store (the token is
/// the device's secret).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubLink {
    /// The hub's address.
    pub hub_url: String,
    /// The device's token.
    pub token: String,
    /// The pinned certificate's SHA-256 fingerprint (hex), for a self-signed hub.
    pub cert_sha256: Option<String>,
    /// The officer's name.
    pub officer_name: String,
    /// Scope: RW.
    pub rw: u16,
    /// Scope: RT, or none for the whole RW.
    pub rt: Option<u16>,
}

impl std::fmt::Debug for HubLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubLink").field("hub_url", &self.hub_url).field("cert_sha256", &self.cert_sha256).finish_non_exhaustive()
    }
}

fn since(now: i64, then: i64) -> String {
    let mins = (now - then).max(0) / 60_000;
    match mins {
        0..=1 => "baru saja".into(),
        2..=59 => format!("sejak {mins} menit"),
        60..=1439 => format!("sejak {} jam", mins / 60),
        _ => format!("sejak {} hari", (now - then) / DAY_MS),
    }
}

/// Removes document `doc_id` from every colleague's bundle this phone carries for relay (the
/// rest of each bundle is kept, under its new fingerprint); returns how many bundles changed.
fn drop_from_relay_bundles(tx: &rusqlite::Transaction<'_>, cipher: &crate::crypto::Cipher, doc_id: &str, now: i64) -> Result<usize> {
    let held: Vec<(String, Vec<u8>)> = {
        let mut st = tx.prepare("SELECT fingerprint, sealed FROM relay_bundles")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut changed = 0;
    for (fp, sealed) in held {
        let Ok(bytes) = cipher.open(format!("relay:{fp}").as_bytes(), &sealed) else { continue };
        let Ok(mut bundle) = Bundle::decode(&bytes) else { continue };
        if !bundle.docs.iter().any(|d| d.doc_id == doc_id) {
            continue;
        }
        bundle.docs.retain(|d| d.doc_id != doc_id);
        tx.execute("DELETE FROM relay_bundles WHERE fingerprint = ?1", params![fp])?;
        if !bundle.docs.is_empty() {
            let bytes = bundle.encode();
            let fp = Bundle::fingerprint(&bytes);
            let sealed = cipher.seal(format!("relay:{fp}").as_bytes(), &bytes);
            tx.execute(
                "INSERT OR IGNORE INTO relay_bundles (fingerprint, sealed, received_at) VALUES (?1, ?2, ?3)",
                params![fp, sealed, now],
            )?;
        }
        changed += 1;
    }
    Ok(changed)
}

impl Store {
    fn meta_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.meta(key)? {
            Some(v) => Ok(Some(u64::from_le_bytes(v.as_slice().try_into().map_err(|_| Error::Corrupt)?))),
            None => Ok(None),
        }
    }

    /// The hub change-log position this device has fully received.
    pub fn sync_cursor(&self) -> Result<u64> {
        Ok(self.meta_u64("sync_cursor")?.unwrap_or(0))
    }

    /// Builds the next sync request: a message for each document holding changes the hub lacks,
    /// oldest first, up to about `budget_bytes` of messages (always at least one document), and
    /// the [`Backlog`] the device still holds once they are through.
    pub fn prepare_sync(&mut self, budget_bytes: usize) -> Result<SyncRequest> {
        let cursor = self.sync_cursor()?;
        let ids: Vec<(String, i64, String)> = {
            let mut st = self.conn.prepare_cached("SELECT doc_id, id, kind FROM docs WHERE sync_flag = 1 ORDER BY updated_at, id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        let mut used = 0usize;
        let mut visited = 0;
        for (doc_id, rowid, _) in &ids {
            visited += 1;
            let Some(mut stored) = self.load_doc(doc_id)? else { continue };
            let known = docs::hub_heads(&self.conn, *rowid)?;
            if let Some(message) = peer::exact_message(&mut stored.doc, &known) {
                used += message.len();
                out.push(DocMessage { doc_id: doc_id.clone(), message });
            }
            if used >= budget_bytes {
                break;
            }
        }
        let left = &ids[visited..];
        let count = |kind: &str| left.iter().filter(|(_, _, k)| k == kind).count() as u32;
        let refused: u32 = self.conn.query_row("SELECT count(*) FROM docs WHERE sync_flag = 2", [], |r| r.get(0))?;
        let backlog = Backlog { requests: count("request"), complaints: count("complaint"), refused };
        Ok(SyncRequest { version: PROTOCOL_VERSION, cursor, docs: out, backlog: Some(backlog) })
    }

    /// Applies the hub's answer to `sent` in one transaction: merges its changes, records what
    /// the hub now has, marks refusals and moves the cursor. A document of `sent` that the answer
    /// neither refuses nor answers is acknowledged by the exchange itself: the hub holds exactly
    /// what was sent. Applying the same answer twice changes nothing more.
    pub fn apply_sync(&mut self, sent: &SyncRequest, response: &SyncResponse) -> Result<SyncReport> {
        let now = self.now();
        let mut report = SyncReport { more: response.more, refused: response.refused.clone(), ..Default::default() };
        let mut prepared = Vec::with_capacity(response.docs.len());
        // Decode and merge outside the transaction; nothing is written until all are ready.
        for dm in &response.docs {
            let msg = peer::decode_message(&dm.message)?;
            let hub_heads = peer::message_heads(&msg);
            let (stored, mut doc, before) = match self.load_doc(&dm.doc_id)? {
                Some(s) => {
                    let doc = s.doc.clone();
                    let before = self.office_view(&s)?;
                    (Some(s), doc, before)
                }
                None => (None, AutoCommit::new().with_actor(self.actor.clone()), None),
            };
            let heads_before = doc.get_heads();
            let known = match &stored {
                Some(s) => docs::hub_heads(&self.conn, s.rowid)?,
                None => Vec::new(),
            };
            let mut state = automerge::sync::State::new();
            state.shared_heads = known;
            peer::receive(&mut doc, &mut state, msg)?;
            if doc.get_heads().is_empty() {
                continue; // nothing known of a document we do not have
            }
            let kind = document::kind(&doc)?;
            if let Some(s) = &stored {
                if s.kind != kind {
                    return Err(Error::Document("jenis dokumen berubah".into()));
                }
            }
            let changed = doc.get_heads() != heads_before;
            prepared.push((dm.doc_id.clone(), stored, Some(doc), kind, hub_heads, changed, before));
        }
        // Documents the exchange acknowledged without an answer: the hub has what was sent.
        for dm in &sent.docs {
            if response.docs.iter().any(|r| r.doc_id == dm.doc_id) || response.refused.iter().any(|r| r.doc_id == dm.doc_id) {
                continue;
            }
            let Ok(msg) = peer::decode_message(&dm.message) else { continue };
            let Some(stored) = self.load_doc(&dm.doc_id)? else { continue };
            let before = self.office_view(&stored)?;
            let kind = stored.kind;
            prepared.push((dm.doc_id.clone(), Some(stored), None, kind, peer::message_heads(&msg), false, before));
        }
        let known_epoch = self.meta_u64("hub_epoch")?;
        let tx = self.conn.transaction()?;
        for (doc_id, stored, doc, kind, hub_heads, changed, before) in prepared {
            let mut stored = match (stored, doc) {
                (Some(mut s), Some(doc)) => {
                    s.doc = doc;
                    docs::save(&tx, &self.cipher, &mut s, now, false)?;
                    s
                }
                (Some(s), None) => s,
                (None, Some(mut doc)) => docs::insert(&tx, &self.cipher, &doc_id, kind, &mut doc, now, false)?,
                (None, None) => continue,
            };
            match kind {
                DocKind::Request => {
                    let mut r: Request = document::read(&stored.doc)?;
                    if !hub_heads.is_empty() {
                        r.mark_received();
                    }
                    index::put_request(&tx, &self.cipher, stored.rowid, &stored.doc_id, &r, now)?;
                    if before.as_ref().map(Request::status) != Some(r.status()) && r.status() != Status::Dicatat {
                        report.status_changes.push(StatusNews {
                            id: r.id.clone(),
                            receipt: r.receipt.clone(),
                            status: r.status(),
                            reason: r.status_reason().map(str::to_string),
                        });
                    }
                }
                DocKind::Complaint => {
                    let c: Complaint = document::read(&stored.doc)?;
                    index::put_complaint(&tx, stored.rowid, &stored.doc_id, &c, now)?;
                }
                DocKind::Catalog => {
                    document::read::<crate::catalog::Catalog>(&stored.doc)?;
                }
                DocKind::Kelurahan => {
                    document::read::<crate::kelurahan::Kelurahan>(&stored.doc)?;
                }
            }
            let unsent = has_changes_beyond(&mut stored.doc, &hub_heads);
            if unsent {
                report.more = true;
            } else {
                report.confirmed += 1;
            }
            if changed {
                report.received += 1;
            }
            docs::set_sync_state(&tx, stored.rowid, &hub_heads, unsent)?;
            tx.execute("DELETE FROM sync_refusals WHERE doc = ?1", params![stored.rowid])?;
        }
        let mut erased = 0usize;
        for r in &response.refused {
            if r.is_erasure() {
                // Erased at the kelurahan (ADR 0013): the whole document goes, with its index
                // rows (cascade) and any colleague's bundle this phone carries that holds it.
                if let Some(rowid) =
                    tx.query_row("SELECT id FROM docs WHERE doc_id = ?1", params![r.doc_id], |row| row.get::<_, i64>(0)).optional()?
                {
                    docs::delete(&tx, rowid)?;
                }
                erased += drop_from_relay_bundles(&tx, &self.cipher, &r.doc_id, now)? + 1;
                continue;
            }
            if let Some(rowid) =
                tx.query_row("SELECT id FROM docs WHERE doc_id = ?1", params![r.doc_id], |row| row.get::<_, i64>(0)).optional()?
            {
                tx.execute("UPDATE docs SET sync_flag = 2 WHERE id = ?1", params![rowid])?;
                tx.execute(
                    "INSERT OR REPLACE INTO sync_refusals (doc, code, message, at) VALUES (?1, ?2, ?3, ?4)",
                    params![rowid, r.code, r.message, now],
                )?;
            }
        }
        // The hub's lineage changed: it was restored from a backup and may lack what it
        // acknowledged since (ADR 0014). Its change log was renumbered, so the cursor starts
        // over; what it holds of each document is unknown, so every record goes again whole
        // (Automerge drops what the hub already has, nothing is doubled). The catalog and profile
        // are the office's and are not sent back.
        let mut cursor = response.cursor;
        if response.epoch != 0 {
            if known_epoch.is_some_and(|e| e != response.epoch) {
                tx.execute("UPDATE docs SET hub_heads = x''", [])?;
                tx.execute("UPDATE docs SET sync_flag = 1 WHERE sync_flag = 0 AND kind IN ('request', 'complaint')", [])?;
                cursor = 0;
                report.more = true;
                report.hub_restored = true;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_epoch', ?1)",
                params![response.epoch.to_le_bytes().to_vec()],
            )?;
        }
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sync_cursor', ?1)", params![cursor.to_le_bytes().to_vec()])?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_sync_at', ?1)", params![now.to_le_bytes().to_vec()])?;
        // The exchange this answers is done: it is never resumed again (ADR 0006).
        crate::store::in_flight::forget_in(&tx)?;
        tx.commit()?;
        if erased > 0 {
            // secure_delete zeroed the freed pages; folding the WAL back removes the old page
            // images too, so the erased data leaves the files.
            self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        let still_unsent: i64 = self.conn.query_row("SELECT count(*) FROM docs WHERE sync_flag = 1", [], |r| r.get(0))?;
        report.more |= still_unsent > 0;
        Ok(report)
    }

    /// A stored request as the officer sees it (with the derived "terkirim" step once the hub
    /// holds it); `None` for other kinds.
    fn office_view(&self, stored: &docs::StoredDoc) -> Result<Option<Request>> {
        if stored.kind != DocKind::Request {
            return Ok(None);
        }
        Ok(Some(self.as_office_sees(stored.rowid, document::read(&stored.doc)?)?))
    }

    /// How many records wait to be sent, since when, and a sentence for the officer.
    pub fn sync_health(&self) -> Result<SyncHealth> {
        let now = self.now();
        let (unsent_requests, unsent_complaints, refused, oldest): (u32, u32, u32, Option<i64>) = self.conn.query_row(
            "SELECT
                (SELECT count(*) FROM docs WHERE sync_flag = 1 AND kind = 'request'),
                (SELECT count(*) FROM docs WHERE sync_flag = 1 AND kind = 'complaint'),
                (SELECT count(*) FROM docs WHERE sync_flag = 2),
                (SELECT min(updated_at) FROM docs WHERE sync_flag = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let last_sync_at = self.meta("last_sync_at")?.and_then(|v| v.try_into().ok()).map(i64::from_le_bytes);
        let mut parts = Vec::new();
        if unsent_requests > 0 {
            parts.push(format!("{unsent_requests} permohonan"));
        }
        if unsent_complaints > 0 {
            parts.push(format!("{unsent_complaints} pengaduan"));
        }
        let mut summary = if parts.is_empty() {
            match last_sync_at {
                Some(t) => format!("Semua data sudah terkirim (sinkron terakhir {})", since(now, t).replace("sejak ", ""))
                    .replace("baru saja)", "baru saja)"),
                None => "Belum pernah sinkron dengan kelurahan".into(),
            }
        } else {
            match since(now, oldest.unwrap_or(now)) {
                s if s == "baru saja" => format!("{} belum terkirim", parts.join(" dan ")),
                s => format!("{} belum terkirim {s}", parts.join(" dan ")),
            }
        };
        if summary.contains("terakhir") && !summary.ends_with("baru saja)") {
            summary = summary.replace(")", " lalu)");
        }
        if refused > 0 {
            summary.push_str(&format!("; {refused} data ditolak kelurahan, periksa kembali"));
        }
        Ok(SyncHealth { unsent_requests, unsent_complaints, refused, oldest_unsent_at: oldest, last_sync_at, summary })
    }

    /// The refusal recorded for a document, if the hub refused its last change.
    pub fn sync_refusal(&self, doc_id: &str) -> Result<Option<DocRefusal>> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.code, s.message FROM sync_refusals s JOIN docs d ON d.id = s.doc WHERE d.doc_id = ?1",
                params![doc_id],
                |r| Ok(DocRefusal { doc_id: doc_id.to_string(), code: r.get(0)?, message: r.get(1)? }),
            )
            .optional()?)
    }

    /// Exports every change the hub is not known to have as a bundle file (for a hand-off
    /// without signal). The records stay unsent until a sync confirms them.
    pub fn export_bundle(&mut self) -> Result<Vec<u8>> {
        let req = self.prepare_sync(usize::MAX)?;
        let id = self.identity()?;
        let bundle =
            Bundle { device_id: id.device_id, officer_id: id.officer_id.unwrap_or_default(), created_at: self.now(), docs: req.docs };
        Ok(bundle.encode())
    }

    /// Keeps a colleague's bundle (sealed) to forward to the hub at the next sync. Keeping the
    /// same bundle twice keeps it once. Returns the number of documents in it.
    pub fn keep_bundle_for_relay(&mut self, bytes: &[u8]) -> Result<usize> {
        let bundle = Bundle::decode(bytes)
            .map_err(|e| Error::Invalid(vec![crate::validation::Issue::error("bundle", "berkas_tidak_valid", e.to_string())]))?;
        let fp = Bundle::fingerprint(bytes);
        let sealed = self.cipher.seal(format!("relay:{fp}").as_bytes(), bytes);
        self.conn.execute(
            "INSERT OR IGNORE INTO relay_bundles (fingerprint, sealed, received_at) VALUES (?1, ?2, ?3)",
            params![fp, sealed, self.now()],
        )?;
        Ok(bundle.docs.len())
    }

    /// Bundles waiting to be forwarded, as (fingerprint, file bytes).
    pub fn relay_bundles(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut st = self.conn.prepare("SELECT fingerprint, sealed FROM relay_bundles ORDER BY received_at")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (fp, sealed) = row?;
            let bytes = self.cipher.open(format!("relay:{fp}").as_bytes(), &sealed).map_err(|_| Error::Corrupt)?;
            out.push((fp, bytes));
        }
        Ok(out)
    }

    /// Forgets a forwarded bundle.
    pub fn forget_relay_bundle(&mut self, fingerprint: &str) -> Result<()> {
        self.conn.execute("DELETE FROM relay_bundles WHERE fingerprint = ?1", params![fingerprint])?;
        Ok(())
    }

    /// Keeps how this device reaches its hub (sealed with the store's key).
    pub fn set_hub_link(&mut self, link: &HubLink) -> Result<()> {
        let json = serde_json::to_vec(link).map_err(|e| Error::Document(e.to_string()))?;
        let sealed = self.cipher.seal(b"meta:hub_link", &json);
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_link', ?1)", params![sealed])?;
        Ok(())
    }

    /// How this device reaches its hub, once enrolled.
    pub fn hub_link(&self) -> Result<Option<HubLink>> {
        let Some(sealed) = self.meta("hub_link")? else { return Ok(None) };
        let json = self.cipher.open(b"meta:hub_link", &sealed).map_err(|_| Error::Corrupt)?;
        Ok(Some(serde_json::from_slice(&json).map_err(|_| Error::Corrupt)?))
    }

    /// The actor id this device writes its changes with (bound to the device at enrolment).
    pub fn actor_hex(&self) -> String {
        crate::sync::protocol::actor_hex(&self.actor)
    }
}

/// Whether `doc` holds changes that are not ancestors of `hub_heads`.
fn has_changes_beyond(doc: &mut AutoCommit, hub_heads: &[ChangeHash]) -> bool {
    if !doc.get_missing_deps(hub_heads).is_empty() {
        return true; // the hub has changes we lack: another exchange fetches them
    }
    !doc.get_changes(hub_heads).is_empty()
}
