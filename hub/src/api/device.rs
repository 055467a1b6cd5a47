//! The device side of the API: enrolment with a one-time code, and the sync exchange (ADR 0004):
//! many documents per exchange, each incoming change checked on a copy before it is merged, and
//! the documents of the device's scope that changed since its cursor sent back.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use jemput_core::crypto::Cipher;
use jemput_core::sync::hub_side;
use jemput_core::sync::protocol::{self, DocMessage, DocRefusal, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use serde::Deserialize;

use super::{bearer, AppState};
use crate::db::{self, HubTx};
use crate::error::AppError;
use crate::isolation::{Isolation, Job};

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

/// One sync exchange.
pub(crate) async fn sync(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<impl IntoResponse, AppError> {
    let token = bearer(&headers).ok_or(AppError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    let req = SyncRequest::decode(&body).map_err(|_| AppError::BadRequest("pesan_rusak", "Pesan sinkronisasi rusak atau terlalu besar"))?;
    let isolation = s.isolation.clone();
    let resp =
        s.db.call(move |tx, cipher| {
            let device = db::device_by_token(tx, &token)?.ok_or(AppError::Unauthorized("token_salah", "Perangkat tidak dikenal"))?;
            if device.revoked {
                return Err(AppError::Unauthorized("perangkat_dicabut", "Perangkat ini sudah dicabut oleh kelurahan"));
            }
            exchange(tx, cipher, &isolation, &device, &req)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, protocol::CONTENT_TYPE)], protocol::encode(&resp)))
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

/// Applies incoming document messages written by `device` (from a sync exchange or an imported
/// bundle). Every document is locked first, in id order, then checked on a copy (in a worker
/// process when `isolation` says so), then stored: a refused change leaves the hub's copy
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
) -> Result<Vec<Applied>, AppError> {
    let hub_actor = db::hub_actor(tx)?;
    let actors: Vec<Vec<u8>> = device.actors.iter().filter_map(|a| hex(a)).collect();
    let mut order: Vec<&DocMessage> = docs.iter().collect();
    order.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
    order.dedup_by(|a, b| a.doc_id == b.doc_id);
    // Phase 1: lock and check every document (row locks first, so two hub instances cannot
    // deadlock on the change-log lock taken when storing).
    let mut outcomes = Vec::with_capacity(order.len());
    for dm in order {
        let current = db::load_doc_bytes(tx, cipher, &dm.doc_id, true)?;
        let known = if track_device { db::known_heads(tx, &device.id, &dm.doc_id, cursor)? } else { Vec::new() };
        let job = Job {
            current,
            known: known.iter().map(|h| h.0).collect(),
            device_id: device.id.clone(),
            officer_id: device.officer_id.clone(),
            scope: device.scope,
            actors: actors.clone(),
            hub_actor: hub_actor.to_bytes().to_vec(),
            message: dm.message.clone(),
        };
        outcomes.push((dm.doc_id.clone(), isolation.run(&job)));
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
        let stored = match (o.updated, o.placed) {
            (Some(bytes), Some(place)) => {
                db::put_doc(tx, cipher, &doc_id, &bytes, &place)?;
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
) -> Result<SyncResponse, AppError> {
    let actor = format!("perangkat:{}", device.id);
    let applied = apply_incoming(tx, cipher, isolation, device, &req.docs, req.cursor, true, &actor)?;
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
        let Some(mut doc) = db::load_doc(tx, cipher, &doc_id, false)? else { continue };
        let known = db::known_heads(tx, &device.id, &doc_id, req.cursor)?;
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
