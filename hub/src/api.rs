//! The hub's HTTP API: device enrolment, the sync exchange, and the staff actions that exist
//! before the dashboard (list requests, set an office status with its reason).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use jemput_core::document::{self, DocKind};
use jemput_core::permissions::DeviceWriter;
use jemput_core::request::{Actor, Request, Role, Status};
use jemput_core::sync::hub_side;
use jemput_core::sync::protocol::{self, DocMessage, DocRefusal, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use serde::Deserialize;

use crate::db::{self, HubDb};
use crate::error::AppError;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: HubDb,
}

/// Most documents the hub sends in one response; the rest follow with `more`.
const MAX_DOCS_PER_RESPONSE: usize = 500;

/// The router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/sync", post(sync))
        .route("/api/v1/staff/requests", get(list_requests))
        .route("/api/v1/staff/requests/{id}/status", post(set_status))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(protocol::MAX_BODY_BYTES))
        .with_state(state)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

#[derive(Deserialize)]
struct EnrollBody {
    code: String,
    device_name: String,
    actor: String,
    device_id: String,
}

async fn enroll(State(s): State<AppState>, Json(b): Json<EnrollBody>) -> Result<impl IntoResponse, AppError> {
    let enrolled =
        s.db.call(move |c, _| {
            let e = db::enrol(c, &b.code, &b.device_name, &b.actor, &b.device_id)?;
            db::audit(c, &format!("perangkat:{}", e.device_id), "daftar_perangkat", None)?;
            Ok(e)
        })
        .await?;
    Ok(Json(enrolled))
}

/// One sync exchange (see ADR 0004).
async fn sync(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<impl IntoResponse, AppError> {
    let token = bearer(&headers).ok_or(AppError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?.to_string();
    let req = SyncRequest::decode(&body).map_err(|_| AppError::BadRequest("pesan_rusak", "Pesan sinkronisasi rusak atau terlalu besar"))?;
    let resp =
        s.db.call(move |c, cipher| {
            let device = db::device_by_token(c, &token)?.ok_or(AppError::Unauthorized("token_salah", "Perangkat tidak dikenal"))?;
            if device.revoked {
                return Err(AppError::Unauthorized("perangkat_dicabut", "Perangkat ini sudah dicabut oleh kelurahan"));
            }
            exchange(c, cipher, &device, &req)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, protocol::CONTENT_TYPE)], protocol::encode(&resp)))
}

/// Applies a device's request and builds the answer, in one transaction: either everything
/// the answer acknowledges is durable, or nothing changed.
fn exchange(
    c: &mut rusqlite::Connection,
    cipher: &jemput_core::crypto::Cipher,
    device: &db::Device,
    req: &SyncRequest,
) -> Result<SyncResponse, AppError> {
    let tx = c.transaction()?;
    let hub_actor = db::hub_actor(&tx)?;
    let actors: Vec<automerge::ActorId> =
        device.actors.iter().filter_map(|a| hex(a).map(|b| automerge::ActorId::from(b.as_slice()))).collect();
    let writer = DeviceWriter { device_id: &device.id, officer_id: &device.officer_id, scope: device.scope };
    let now = jemput_core::time_util::now_ms();
    let mut replies: Vec<DocMessage> = Vec::new();
    let mut refused = Vec::new();
    // Heads each answered document will have on the device once it applies this answer.
    let mut pending: Vec<(String, Vec<automerge::ChangeHash>)> = Vec::new();
    for dm in &req.docs {
        let current = db::load_doc(&tx, cipher, &dm.doc_id)?;
        let known = db::known_heads(&tx, &device.id, &dm.doc_id, req.cursor)?;
        let inc = hub_side::receive_from_device(current.as_ref(), &known, &writer, &actors, &hub_actor, &dm.message, now);
        db::set_known_heads(&tx, &device.id, &dm.doc_id, &inc.device_heads)?;
        if let Some(r) = inc.refusal {
            db::audit(&tx, &format!("perangkat:{}", device.id), &format!("ditolak:{}", r.code), Some(&dm.doc_id))?;
            refused.push(DocRefusal { doc_id: dm.doc_id.clone(), code: r.code, message: r.message });
            continue;
        }
        let hub_heads = match (inc.updated, inc.placed) {
            (Some(mut doc), Some((kind, rw, rt))) => {
                db::put_doc(&tx, cipher, &dm.doc_id, &mut doc, kind, rw, rt)?;
                db::audit(&tx, &format!("perangkat:{}", device.id), "tulis", Some(&dm.doc_id))?;
                Some(doc.get_heads())
            }
            _ => current.map(|mut d| d.get_heads()),
        };
        if let Some(m) = inc.reply {
            replies.push(DocMessage { doc_id: dm.doc_id.clone(), message: m });
            if let Some(h) = hub_heads {
                pending.push((dm.doc_id.clone(), h));
            }
        }
    }
    // Documents of the device's scope (and the catalog and profile) changed after its cursor.
    let (rt_lo, rt_hi) = match device.scope.rt {
        Some(rt) => (rt, rt),
        None => (0, u16::MAX),
    };
    let changed: Vec<(i64, String)> = {
        let mut st = tx.prepare(
            "SELECT max(seq), doc_id FROM change_log WHERE seq > ?1 AND ((rw = ?2 AND rt BETWEEN ?3 AND ?4) OR (rw = 0 AND rt = 0))
             GROUP BY doc_id ORDER BY max(seq)",
        )?;
        let rows = st.query_map(rusqlite::params![req.cursor as i64, device.scope.rw, rt_lo, rt_hi], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let top: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM change_log", [], |r| r.get(0))?;
    let mut cursor = top.max(req.cursor as i64);
    let mut more = false;
    let mut sent = 0usize;
    for (seq, doc_id) in changed {
        if replies.iter().any(|r| r.doc_id == doc_id) || refused.iter().any(|r| r.doc_id == doc_id) {
            continue;
        }
        if sent >= MAX_DOCS_PER_RESPONSE {
            cursor = seq - 1;
            more = true;
            break;
        }
        let Some(mut doc) = db::load_doc(&tx, cipher, &doc_id)? else { continue };
        let known = db::known_heads(&tx, &device.id, &doc_id, req.cursor)?;
        if let Some(m) = hub_side::message_for_device(&mut doc, &known) {
            replies.push(DocMessage { doc_id: doc_id.clone(), message: m });
            sent += 1;
            pending.push((doc_id.clone(), doc.get_heads()));
        }
    }
    // Only an answer that moves the cursor can be recognised as applied later.
    if cursor as u64 > req.cursor {
        for (doc_id, heads) in &pending {
            db::set_pending_heads(&tx, &device.id, doc_id, heads, cursor as u64)?;
        }
    }
    tx.execute("UPDATE devices SET last_seen = ?2 WHERE id = ?1", rusqlite::params![device.id, jemput_core::time_util::now_ms()])?;
    tx.commit()?;
    Ok(SyncResponse { version: PROTOCOL_VERSION, cursor: cursor as u64, more, docs: replies, refused })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

fn staff(headers: &HeaderMap, db_hash: &[u8]) -> Result<(), AppError> {
    let t = bearer(headers).ok_or(AppError::Unauthorized("staf_belum_masuk", "Staf belum masuk"))?;
    if db::secret_hash(t) != db_hash {
        return Err(AppError::Unauthorized("staf_belum_masuk", "Token staf tidak valid"));
    }
    Ok(())
}

fn staff_hash(c: &rusqlite::Connection) -> Result<Vec<u8>, AppError> {
    use rusqlite::OptionalExtension;
    c.query_row("SELECT value FROM meta WHERE key = 'staff_token'", [], |r| r.get(0))
        .optional()?
        .ok_or(AppError::Unauthorized("staf_belum_ada", "Belum ada akun staf; jalankan jemput-hub init"))
}

/// A request as staff see it in a list.
#[derive(serde::Serialize)]
struct StaffRow {
    id: String,
    receipt: String,
    service_code: String,
    status: Status,
    status_reason: Option<String>,
    name: String,
    rw: u16,
    rt: u16,
}

async fn list_requests(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, AppError> {
    let rows =
        s.db.call(move |c, cipher| {
            staff(&headers, &staff_hash(c)?)?;
            let ids: Vec<String> = {
                let mut st = c.prepare("SELECT doc_id FROM docs WHERE kind = 'request' ORDER BY seq DESC LIMIT 200")?;
                let rows = st.query_map([], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut out = Vec::new();
            for id in ids {
                let Some(doc) = db::load_doc(c, cipher, &id)? else { continue };
                let r: Request = document::read(&doc).map_err(|_| AppError::Internal)?;
                out.push(StaffRow {
                    id: r.id.clone(),
                    receipt: r.receipt.clone(),
                    service_code: r.service_code.clone(),
                    status: r.status(),
                    status_reason: r.status_reason().map(str::to_string),
                    name: r.applicant.name.clone(),
                    rw: r.applicant.address.rw,
                    rt: r.applicant.address.rt,
                });
            }
            db::audit(c, "staf", "lihat_daftar_permohonan", None)?;
            Ok(out)
        })
        .await?;
    Ok(Json(rows))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    reason: Option<String>,
    staff_id: Option<String>,
}

async fn set_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> Result<impl IntoResponse, AppError> {
    s.db.call(move |c, cipher| {
        staff(&headers, &staff_hash(c)?)?;
        let status = Status::from_code(&b.status).ok_or(AppError::BadRequest("status_tidak_dikenal", "Status tidak dikenal"))?;
        let tx = c.transaction()?;
        let mut doc = db::load_doc(&tx, cipher, &id)?.ok_or(AppError::NotFound("permohonan tidak ditemukan"))?;
        let mut r: Request = document::read(&doc).map_err(|_| AppError::NotFound("permohonan tidak ditemukan"))?;
        let actor = Actor { role: Role::Staf, id: b.staff_id.unwrap_or_else(|| "staf".into()) };
        r.change_status(status, actor, b.reason, jemput_core::time_util::now_ms()).map_err(|m| {
            tracing::info!(reason = %m, "perubahan status ditolak");
            AppError::Forbidden("status_tidak_diizinkan", "Perubahan status ini tidak diizinkan dari status sekarang")
        })?;
        doc.set_actor(db::hub_actor(&tx)?);
        document::update(&mut doc, &r).map_err(|_| AppError::Internal)?;
        db::put_doc(&tx, cipher, &id, &mut doc, DocKind::Request, r.applicant.address.rw, r.applicant.address.rt)?;
        db::audit(&tx, "staf", &format!("status:{}", status.code()), Some(&id))?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
