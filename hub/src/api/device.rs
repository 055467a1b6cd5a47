//! The device side of the HTTP API: enrolment with a one-time code, the sync exchange
//! (ADR 0004, resumable per ADR 0006), and the relay of a colleague's no-signal bundle. The
//! handlers only read the request (headers, body), and call the enrolment service or the sync
//! engine (`crate::engine`), which decide.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use jemput_core::sync::protocol::{self, EnrolRequest};

use super::error::ApiError;
use super::throttle::ClientAddr;
use super::{bearer, AppState};
use crate::engine::{Engine, Reads, Resumed};
use crate::error::ServiceError;
use crate::service::enrolment;

pub(crate) async fn enroll(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Json(b): Json<EnrolRequest>,
) -> Result<impl IntoResponse, ApiError> {
    // Guessing codes is throttled per address and per code (ADR 0009).
    let throttle = &s.throttles.enrolment;
    throttle.check(addr, &b.code)?;
    let code = b.code.clone();
    let attempt = s.db.call(move |tx, _| enrolment::enrol(tx, &b.code, &b.device_name, &b.actor, &b.device_id)).await;
    Ok(Json(throttle.guard(addr, &code, attempt)?))
}

/// A colleague's no-signal bundle that this device carried and now forwards (`POST
/// /api/v1/relay`, body = the bundle file); the engine checks and applies it
/// ([`Engine::relay`]).
pub(crate) async fn relay(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Result<impl IntoResponse, ApiError> {
    let token = bearer(&headers).ok_or(ServiceError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    Ok(Json(s.engine.relay(token, body.to_vec()).await?))
}

/// How long the hub waits for the next piece of an upload before it treats the connection as
/// cut (and keeps what arrived).
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The exchange key and upload offset of a request (ADR 0006).
fn resumable(headers: &HeaderMap) -> Result<(Option<String>, usize), ServiceError> {
    let key = match header_str(headers, protocol::EXCHANGE_HEADER) {
        None => None,
        Some(k) if protocol::valid_exchange_key(k) => Some(k.to_string()),
        Some(_) => return Err(ServiceError::BadRequest("kunci_pertukaran_salah", "Kunci pertukaran sinkronisasi tidak valid")),
    };
    let offset = match header_str(headers, protocol::OFFSET_HEADER) {
        None => 0,
        Some(o) => o.parse::<usize>().map_err(|_| ServiceError::BadRequest("offset_salah", "Posisi unggahan tidak valid"))?,
    };
    if offset > 0 && key.is_none() {
        return Err(ServiceError::BadRequest("offset_salah", "Posisi unggahan tanpa kunci pertukaran"));
    }
    if offset > protocol::MAX_BODY_BYTES {
        return Err(ServiceError::BadRequest("pesan_terlalu_besar", "Pesan sinkronisasi terlalu besar"));
    }
    Ok((key, offset))
}

/// Reads an upload to its end. When the connection breaks first, the part that arrived is kept
/// for the device to resume from (when the exchange has a key). Runs as a task of its own, so it
/// finishes even though the handler is dropped with the broken connection.
async fn read_upload(engine: Engine, token: String, key: Option<String>, offset: usize, body: Body) -> Result<Vec<u8>, ServiceError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = Vec::new();
    loop {
        match tokio::time::timeout(UPLOAD_IDLE, body.frame()).await {
            Ok(None) => return Ok(buf),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if offset + buf.len() + data.len() > protocol::MAX_BODY_BYTES {
                        return Err(ServiceError::BadRequest("pesan_terlalu_besar", "Pesan sinkronisasi terlalu besar"));
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(_))) | Err(_) => {
                if let Some(key) = key.filter(|_| !buf.is_empty()) {
                    let kept = engine.keep_partial(token, key, offset, buf).await;
                    if let Err(e) = kept {
                        tracing::debug!(error = %e, "bagian unggahan tidak disimpan");
                    }
                }
                return Err(ServiceError::BadRequest("unggahan_terputus", "Unggahan terputus"));
            }
        }
    }
}

/// One sync exchange. With an exchange key (ADR 0006) it is resumable: the part of a cut upload
/// that arrived is kept, a later part continues it at `jemput-offset`, and the answer is kept
/// with the applied changes, so a device whose answer was cut asks for it again
/// (`GET /api/v1/sync/{key}`) instead of sending everything again.
pub(crate) async fn sync(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Result<impl IntoResponse, ApiError> {
    let token = bearer(&headers).ok_or(ServiceError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    let (key, offset) = resumable(&headers)?;
    let receiving = key.as_ref().map(|k| s.engine.receiving(k));
    let part = tokio::spawn({
        let (engine, token, key) = (s.engine.clone(), token.clone(), key.clone());
        async move {
            let _receiving = receiving;
            read_upload(engine, token, key, offset, body).await
        }
    })
    .await
    .map_err(|_| ServiceError::Internal)??;
    let reads = Reads::from_header(header_str(&headers, protocol::READS_HEADER));
    Ok(answer(s.engine.exchange(token, key, offset, part, reads).await?))
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
) -> Result<axum::response::Response, ApiError> {
    let token = bearer(&headers).ok_or(ServiceError::Unauthorized("token_tidak_ada", "Perangkat belum terdaftar"))?;
    let received = match header_str(&headers, protocol::RECEIVED_HEADER) {
        None => 0,
        Some(r) => r.parse::<usize>().map_err(|_| ServiceError::BadRequest("posisi_salah", "Posisi jawaban tidak valid"))?,
    };
    let reads = Reads::from_header(header_str(&headers, protocol::READS_HEADER));
    match s.engine.resume(token, key, received, reads).await? {
        Resumed::Answer(rest) => Ok(answer(rest)),
        Resumed::UploadFrom(held) => Ok((StatusCode::ACCEPTED, [(protocol::OFFSET_HEADER, held.to_string())]).into_response()),
    }
}
