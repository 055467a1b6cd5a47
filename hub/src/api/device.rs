//! The device side of the API: enrolment with a one-time code, and the sync exchange (ADR 0004):
//! many documents per exchange, each incoming change checked on a copy before it is merged (the
//! checks run outside the write lock), the documents of the device's scope that changed since
//! its cursor sent back, and exchanges that resume where a broken connection left them
//! (ADR 0006).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use jemput_core::crypto::Cipher;
use jemput_core::sync::hub_side;
use jemput_core::sync::protocol::{self, DocMessage, DocRefusal, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use serde::Deserialize;

use super::{bearer, AppState};
use crate::db::{self, HubTx};
use crate::error::AppError;
use crate::isolation::{Isolation, Job, Outcome};
use crate::storage::ExchangeRow;

/// Most documents the hub sends in one response; the rest follow with `more`.
pub const MAX_DOCS_PER_RESPONSE: usize = 500;

#[derive(Deserialize)]
pub(crate) struct EnrollBody {
    code: String,
    device_name: String,
    actor: String,
    device_id: String,
}

pub(crate) async fn enroll(State(s): State<AppState>, Json(b): Json<EnrollBody>) -> Result<impl IntoResponse, AppError> {
    let enrolled = s.db.call(move |tx, _| db::enrol(tx, &b.code, &b.device_name, &b.actor, &b.device_id)).await?;
    Ok(Json(enrolled))
}

/// A colleague's no-signal bundle that this device carried and now forwards (`POST
/// /api/v1/relay`, body = the bundle file). Only an enrolled device may relay; the documents
/// are checked as if the device that wrote them had synced them (its scope, its actor ids), and
/// forwarding the same bundle twice changes nothing (Automerge ignores changes it has).
pub(crate) async fn relay(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Result<impl IntoResponse, AppError> {
    let token = bearer(&headers).ok_or(AppError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    let isolation = s.isolation.clone();
    let report =
        s.db.call(move |tx, cipher| {
            let carrier = authorized(tx, &token)?;
            super::staff::import_bundle_bytes(tx, cipher, &isolation, &body, &format!("relai:perangkat:{}", carrier.id))
        })
        .await?;
    Ok(Json(report))
}

/// How long a question about an exchange waits for an upload of it still arriving.
const UPLOAD_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long the hub waits for the next piece of an upload before it treats the connection as
/// cut (and keeps what arrived).
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The exchange key and upload offset of a request (ADR 0006).
fn resumable(headers: &HeaderMap) -> Result<(Option<String>, usize), AppError> {
    let key = match header_str(headers, protocol::EXCHANGE_HEADER) {
        None => None,
        Some(k) if protocol::valid_exchange_key(k) => Some(k.to_string()),
        Some(_) => return Err(AppError::BadRequest("kunci_pertukaran_salah", "Kunci pertukaran sinkronisasi tidak valid")),
    };
    let offset = match header_str(headers, protocol::OFFSET_HEADER) {
        None => 0,
        Some(o) => o.parse::<usize>().map_err(|_| AppError::BadRequest("offset_salah", "Posisi unggahan tidak valid"))?,
    };
    if offset > 0 && key.is_none() {
        return Err(AppError::BadRequest("offset_salah", "Posisi unggahan tanpa kunci pertukaran"));
    }
    if offset > protocol::MAX_BODY_BYTES {
        return Err(AppError::BadRequest("pesan_terlalu_besar", "Pesan sinkronisasi terlalu besar"));
    }
    Ok((key, offset))
}

fn exchange_context(device_id: &str, key: &str) -> Vec<u8> {
    format!("hub:exchange:{device_id}:{key}").into_bytes()
}

/// The device a token belongs to, if it is enrolled and not revoked.
fn authorized(tx: &mut dyn HubTx, token: &str) -> Result<db::Device, AppError> {
    let device = db::device_by_token(tx, token)?.ok_or(AppError::Unauthorized("token_salah", "Perangkat tidak dikenal"))?;
    if device.revoked {
        return Err(AppError::Unauthorized("perangkat_dicabut", "Perangkat ini sudah dicabut oleh kelurahan"));
    }
    Ok(device)
}

/// What the hub holds of a device's exchange `key`: the answer once applied (uncompressed, see
/// [`protocol::raw_body`]), or else the upload received so far (empty when the key is new).
enum Held {
    Answer(Vec<u8>),
    Upload(Vec<u8>),
}

fn held(tx: &mut dyn HubTx, cipher: &Cipher, device_id: &str, key: &str) -> Result<Held, AppError> {
    let ctx = exchange_context(device_id, key);
    match tx.exchange(device_id)? {
        Some(row) if row.key == key => match row.answer {
            Some(a) => Ok(Held::Answer(cipher.open(&ctx, &a).map_err(|_| AppError::Internal)?)),
            None => Ok(Held::Upload(cipher.open(&ctx, &row.upload).map_err(|_| AppError::Internal)?)),
        },
        _ => Ok(Held::Upload(Vec::new())),
    }
}

/// The held upload with `part` written at `offset` (what the hub held past `offset` is replaced);
/// `Err` with the held length when the hub holds fewer than `offset` bytes.
fn join_upload(mut held: Vec<u8>, offset: usize, part: &[u8]) -> Result<Vec<u8>, usize> {
    if offset > held.len() {
        return Err(held.len());
    }
    held.truncate(offset);
    held.extend_from_slice(part);
    Ok(held)
}

fn offset_mismatch(held: usize) -> AppError {
    AppError::Rejected("offset_tidak_cocok", format!("Hub memegang {held} bita dari unggahan ini; lanjutkan dari sana"))
}

/// A kept answer as sent: compressed (deterministic, so a resumed answer continues the same bytes).
fn compress_answer(raw: &[u8]) -> Vec<u8> {
    protocol::compress(raw, protocol::FORMAT_DICTIONARY_V1)
}

/// The exchange keys whose uploads this hub instance is receiving right now. A device asking
/// where such an exchange stands (after its side of the connection broke) waits until the hub
/// has noticed the break and kept what arrived, so the answer counts every byte received.
#[derive(Clone, Default)]
pub struct Receiving(Arc<Mutex<HashSet<String>>>);

/// Removes a key from [`Receiving`] when its upload ends, however it ends.
struct ReceivingGuard(Receiving, String);

impl Drop for ReceivingGuard {
    fn drop(&mut self) {
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

impl Receiving {
    fn start(&self, key: &str) -> ReceivingGuard {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string());
        ReceivingGuard(self.clone(), key.to_string())
    }

    fn busy(&self, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
    }

    /// Waits (at most `limit`) while the upload of `key` is still being received.
    async fn settle(&self, key: &str, limit: std::time::Duration) {
        let until = tokio::time::Instant::now() + limit;
        while self.busy(key) && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// Reads an upload to its end. When the connection breaks first, the part that arrived is kept
/// for the device to resume from (when the exchange has a key). Runs as a task of its own, so it
/// finishes even though the handler is dropped with the broken connection.
async fn read_upload(db: crate::db::HubDb, token: String, key: Option<String>, offset: usize, body: Body) -> Result<Vec<u8>, AppError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = Vec::new();
    loop {
        match tokio::time::timeout(UPLOAD_IDLE, body.frame()).await {
            Ok(None) => return Ok(buf),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if offset + buf.len() + data.len() > protocol::MAX_BODY_BYTES {
                        return Err(AppError::BadRequest("pesan_terlalu_besar", "Pesan sinkronisasi terlalu besar"));
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(_))) | Err(_) => {
                if let Some(key) = key.filter(|_| !buf.is_empty()) {
                    let kept = db
                        .call(move |tx, cipher| {
                            let device = authorized(tx, &token)?;
                            let Held::Upload(held) = held(tx, cipher, &device.id, &key)? else { return Ok(()) };
                            let Ok(upload) = join_upload(held, offset, &buf) else { return Ok(()) };
                            let sealed = cipher.seal(&exchange_context(&device.id, &key), &upload);
                            let at = jemput_core::time_util::now_ms();
                            tx.put_exchange(&device.id, &ExchangeRow { key: key.clone(), upload: sealed, answer: None, at })
                        })
                        .await;
                    if let Err(e) = kept {
                        tracing::debug!(error = %e, "bagian unggahan tidak disimpan");
                    }
                }
                return Err(AppError::BadRequest("unggahan_terputus", "Unggahan terputus"));
            }
        }
    }
}

/// One sync exchange. With an exchange key (ADR 0006) it is resumable: the part of a cut upload
/// that arrived is kept, a later part continues it at `jemput-offset`, and the answer is kept
/// with the applied changes (in the same transaction), so a device whose answer was cut asks
/// for it again (`GET /api/v1/sync/{key}`) instead of sending everything again.
pub(crate) async fn sync(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Result<impl IntoResponse, AppError> {
    let token = bearer(&headers).ok_or(AppError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    let (key, offset) = resumable(&headers)?;
    let receiving = key.as_ref().map(|k| s.uploads.start(k));
    let part = tokio::spawn({
        let (db, token, key) = (s.db.clone(), token.clone(), key.clone());
        async move {
            let _receiving = receiving;
            read_upload(db, token, key, offset, body).await
        }
    })
    .await
    .map_err(|_| AppError::Internal)??;
    // A continued upload: put it together with the part the hub kept.
    let whole = match (&key, offset) {
        (Some(k), o) if o > 0 => {
            let (token, k) = (token.clone(), k.clone());
            let kept = s.db.call(move |tx, cipher| {
                let device = authorized(tx, &token)?;
                held(tx, cipher, &device.id, &k)
            });
            match kept.await? {
                Held::Answer(raw) => return Ok(answer(compress_answer(&raw))),
                Held::Upload(u) => join_upload(u, o, &part).map_err(offset_mismatch)?,
            }
        }
        _ => part,
    };
    let req =
        SyncRequest::decode(&whole).map_err(|_| AppError::BadRequest("pesan_rusak", "Pesan sinkronisasi rusak atau terlalu besar"))?;
    // The checks of the incoming documents (decoding and applying Automerge changes, the
    // costly part) run before the write transaction, outside any lock, on the hub as it stands;
    // the transaction reuses each one whose inputs did not change meanwhile.
    let prechecked = if req.docs.is_empty() {
        Vec::new()
    } else {
        let (token, docs, cursor) = (token.clone(), req.docs.clone(), req.cursor);
        let jobs =
            s.db.call(move |tx, cipher| {
                let device = authorized(tx, &token)?;
                prepare_checks(tx, cipher, &device, &docs, cursor)
            })
            .await?;
        let isolation = s.isolation.clone();
        tokio::task::spawn_blocking(move || {
            jobs.into_iter()
                .map(|job| {
                    let outcome = isolation.run(&job);
                    (job, outcome)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| AppError::Internal)?
    };
    let isolation = s.isolation.clone();
    // The answer is kept (sealed) in the same transaction, uncompressed; compressing it, the
    // costly part, happens after the transaction (the same bytes each time, ADR 0006).
    let raw =
        s.db.call(move |tx, cipher| {
            let device = authorized(tx, &token)?;
            if let Some(k) = &key {
                // The same exchange applied already (a replayed or re-sent upload): the same answer.
                if let Held::Answer(raw) = held(tx, cipher, &device.id, k)? {
                    return Ok(raw);
                }
            }
            let resp = exchange(tx, cipher, &isolation, &device, &req, &prechecked)?;
            let raw = protocol::raw_body(&resp);
            if let Some(k) = &key {
                let sealed = cipher.seal(&exchange_context(&device.id, k), &raw);
                let row = ExchangeRow { key: k.clone(), upload: Vec::new(), answer: Some(sealed), at: jemput_core::time_util::now_ms() };
                tx.put_exchange(&device.id, &row)?;
            }
            Ok(raw)
        })
        .await?;
    let encoded = tokio::task::spawn_blocking(move || compress_answer(&raw)).await.map_err(|_| AppError::Internal)?;
    Ok(answer(encoded))
}

fn answer(body: Vec<u8>) -> axum::response::Response {
    ([(header::CONTENT_TYPE, protocol::CONTENT_TYPE)], body).into_response()
}

/// Where a resumable exchange stands (ADR 0006), for a device whose connection broke: `200`
/// with the rest of the answer after the `jemput-received` bytes the device has, when the
/// exchange was applied; otherwise `202` with `jemput-offset`, how much of the upload the hub
/// holds (0 when it has nothing), for the device to continue from.
pub(crate) async fn resume(
    State(s): State<AppState>,
    axum::extract::Path(key): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response, AppError> {
    let token = bearer(&headers).ok_or(AppError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    if !protocol::valid_exchange_key(&key) {
        return Err(AppError::BadRequest("kunci_pertukaran_salah", "Kunci pertukaran sinkronisasi tidak valid"));
    }
    // An upload of this exchange still arriving here: let it end first (a break on the device's
    // side reaches the hub a moment later).
    s.uploads.settle(&key, UPLOAD_SETTLE).await;
    let received = match header_str(&headers, protocol::RECEIVED_HEADER) {
        None => 0,
        Some(r) => r.parse::<usize>().map_err(|_| AppError::BadRequest("posisi_salah", "Posisi jawaban tidak valid"))?,
    };
    let held =
        s.db.call(move |tx, cipher| {
            let device = authorized(tx, &token)?;
            held(tx, cipher, &device.id, &key)
        })
        .await?;
    match held {
        Held::Answer(raw) => {
            let a = compress_answer(&raw);
            let rest = a.get(received..).ok_or(AppError::BadRequest("posisi_salah", "Posisi jawaban melewati panjangnya"))?;
            Ok(answer(rest.to_vec()))
        }
        Held::Upload(u) => Ok((StatusCode::ACCEPTED, [(protocol::OFFSET_HEADER, u.len().to_string())]).into_response()),
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

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
    device: &db::Device,
    hub_actor: &automerge::ActorId,
    dm: &DocMessage,
    cursor: u64,
    track_device: bool,
    in_write: bool,
) -> Result<Job, AppError> {
    let current = db::load_doc_bytes(tx, cipher, &dm.doc_id, in_write)?;
    let known = match (track_device, in_write) {
        (false, _) => Vec::new(),
        (true, true) => db::known_heads(tx, &device.id, &dm.doc_id, cursor)?,
        (true, false) => db::known_heads_peek(tx, &device.id, &dm.doc_id, cursor)?,
    };
    Ok(Job {
        current,
        known: known.iter().map(|h| h.0).collect(),
        device_id: device.id.clone(),
        officer_id: device.officer_id.clone(),
        scope: device.scope,
        actors: device.actors.iter().filter_map(|a| hex(a)).collect(),
        hub_actor: hub_actor.to_bytes().to_vec(),
        message: dm.message.clone(),
    })
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
    device: &db::Device,
    docs: &[DocMessage],
    cursor: u64,
) -> Result<Vec<Job>, AppError> {
    let hub_actor = db::hub_actor(tx)?;
    in_order(docs).into_iter().map(|dm| job_for(tx, cipher, device, &hub_actor, dm, cursor, true, false)).collect()
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
    device: &db::Device,
    docs: &[DocMessage],
    cursor: u64,
    track_device: bool,
    audit_actor: &str,
    prechecked: &[(Job, Outcome)],
) -> Result<Vec<Applied>, AppError> {
    let hub_actor = db::hub_actor(tx)?;
    // Phase 1: lock and check every document (row locks first, so two hub instances cannot
    // deadlock on the change-log lock taken when storing).
    let mut outcomes = Vec::with_capacity(docs.len());
    for dm in in_order(docs) {
        let job = job_for(tx, cipher, device, &hub_actor, dm, cursor, track_device, true)?;
        let outcome = match prechecked.iter().find(|(j, _)| *j == job) {
            Some((_, o)) => o.clone(),
            None => isolation.run(&job),
        };
        outcomes.push((dm.doc_id.clone(), outcome));
    }
    // Phase 2: store what was accepted.
    let heads = |h: &[[u8; 32]]| h.iter().map(|x| automerge::ChangeHash(*x)).collect::<Vec<_>>();
    let mut out = Vec::with_capacity(outcomes.len());
    for (doc_id, o) in outcomes {
        if track_device {
            db::set_known_heads(tx, &device.id, &doc_id, &heads(&o.device_heads))?;
        }
        if let Some((code, message)) = o.refusal {
            db::audit(tx, audit_actor, &format!("ditolak:{code}"), Some(&doc_id))?;
            out.push(Applied {
                doc_id: doc_id.clone(),
                reply: None,
                hub_heads: None,
                refusal: Some(DocRefusal { doc_id, code, message }),
                stored: false,
            });
            continue;
        }
        let stored = match (o.updated, o.placed, o.full_message, &o.hub_heads) {
            (Some(bytes), Some(place), Some(full), Some(h)) => {
                db::put_doc(tx, cipher, &doc_id, &db::DocVersion { bytes: &bytes, full_message: &full, heads: &heads(h) }, &place)?;
                db::audit(tx, audit_actor, "tulis", Some(&doc_id))?;
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
fn exchange(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    isolation: &Isolation,
    device: &db::Device,
    req: &SyncRequest,
    prechecked: &[(Job, Outcome)],
) -> Result<SyncResponse, AppError> {
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
    for (seq, doc_id) in changed {
        if handled.contains(&doc_id) {
            continue;
        }
        if sent >= MAX_DOCS_PER_RESPONSE {
            cursor = seq - 1;
            more = true;
            break;
        }
        let known = db::known_heads(tx, &device.id, &doc_id, req.cursor)?;
        // A document the device has none of: its stored full message, without decoding it.
        if known.is_empty() {
            if let Some(full) = db::full_message(tx, cipher, &doc_id)? {
                replies.push(DocMessage { doc_id: doc_id.clone(), message: full.message });
                sent += 1;
                pending.push((doc_id.clone(), full.heads));
                continue;
            }
        }
        let Some(mut doc) = db::load_doc(tx, cipher, &doc_id, false)? else { continue };
        if let Some(m) = hub_side::message_for_device(&mut doc, &known) {
            replies.push(DocMessage { doc_id: doc_id.clone(), message: m });
            sent += 1;
            pending.push((doc_id.clone(), doc.get_heads()));
        }
    }
    // Only an answer that moves the cursor can be recognised as applied later.
    if cursor as u64 > req.cursor {
        for (doc_id, heads) in &pending {
            db::set_pending_heads(tx, &device.id, doc_id, heads, cursor as u64)?;
        }
    }
    tx.touch_device(&device.id, jemput_core::time_util::now_ms())?;
    Ok(SyncResponse { version: PROTOCOL_VERSION, cursor: cursor as u64, more, docs: replies, refused })
}
