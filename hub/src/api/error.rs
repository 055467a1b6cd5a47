//! The one HTTP error of the hub: every error of the layers below (service, storage) becomes a
//! status code and the JSON [`ErrorBody`] `{"kode": …, "pesan": …}` here, and only here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jemput_core::sync::protocol::ErrorBody;

use crate::error::ServiceError;
use crate::storage::{StorageError, TxError};

/// An error answered over HTTP.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub ServiceError);

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError(ServiceError::Storage(e))
    }
}

impl TxError for ApiError {
    fn storage(&self) -> Option<&StorageError> {
        self.0.storage()
    }
}

/// The status and stable code of an error (logging what a person must not see): the one
/// mapping, used by the JSON answers here and the dashboard's error pages (`crate::web`).
pub(crate) fn status_of(e: &ServiceError) -> (StatusCode, &'static str) {
    match e {
        ServiceError::BadRequest(c, _) => (StatusCode::BAD_REQUEST, c),
        ServiceError::Unauthorized(c, _) => (StatusCode::UNAUTHORIZED, c),
        ServiceError::Forbidden(c, _) => (StatusCode::FORBIDDEN, c),
        ServiceError::Rejected(c, _) => (StatusCode::CONFLICT, c),
        ServiceError::Invalid(..) => (StatusCode::BAD_REQUEST, "tidak_valid"),
        ServiceError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "terlalu_sering"),
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "tidak_ditemukan"),
        ServiceError::Config(m) => {
            tracing::error!(masalah = %m, "hub belum disiapkan");
            (StatusCode::INTERNAL_SERVER_ERROR, "konfigurasi")
        }
        ServiceError::Corrupt(what) => {
            tracing::error!(data = what, "data tersimpan rusak");
            (StatusCode::INTERNAL_SERVER_ERROR, "data_rusak")
        }
        ServiceError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "sibuk"),
        ServiceError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        ServiceError::Storage(s) => match s {
            StorageError::Sqlite(e) => {
                tracing::error!(error = %e, "kesalahan basis data");
                (StatusCode::SERVICE_UNAVAILABLE, "basis_data")
            }
            StorageError::Pg(e) => {
                tracing::error!(error = %e, "kesalahan PostgreSQL");
                (StatusCode::SERVICE_UNAVAILABLE, "basis_data")
            }
            StorageError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "sibuk"),
            StorageError::Config(m) => {
                tracing::error!(masalah = %m, "konfigurasi basis data");
                (StatusCode::INTERNAL_SERVER_ERROR, "konfigurasi")
            }
            StorageError::Corrupt(what) => {
                tracing::error!(data = what, "data tersimpan rusak");
                (StatusCode::INTERNAL_SERVER_ERROR, "data_rusak")
            }
            StorageError::Internal | StorageError::Aborted { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = status_of(&self.0);
        let kode = match &self.0 {
            ServiceError::Invalid(code, _) => code.clone(),
            _ => code.to_string(),
        };
        (status, Json(ErrorBody { kode, pesan: self.0.to_string() })).into_response()
    }
}

/// Gives every error answer the one JSON shape `{"kode", "pesan"}`: axum's own rejections
/// (malformed JSON, a body over the limit, a bad path, a wrong method) come as plain text or
/// empty; they are replaced here by a fixed code and message for their status (their text,
/// which may quote the input, is dropped; a body of the wrong shape, 422 in axum, is 400 like
/// every other refused input). Answers already in JSON, and pages (HTML), pass.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let kind = resp.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if kind.starts_with("application/json") || kind.starts_with("text/html") {
        return resp;
    }
    let (kode, pesan) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("terlalu_besar", "Isi permintaan terlalu besar"),
        StatusCode::NOT_FOUND => ("tidak_ditemukan", "Alamat ini tidak ada di hub"),
        StatusCode::METHOD_NOT_ALLOWED => ("metode_tidak_diizinkan", "Cara permintaan ini tidak diterima di alamat ini"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("jenis_isi_salah", "Jenis isi permintaan tidak diterima; kirim JSON"),
        StatusCode::UNPROCESSABLE_ENTITY => ("isi_tidak_valid", "Isi permintaan tidak sesuai yang diharapkan"),
        s if s.is_client_error() => ("permintaan_tidak_valid", "Permintaan tidak valid"),
        _ => ("internal", "Kesalahan internal hub"),
    };
    // A body of the wrong shape is a bad request like any other input the hub refuses.
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    let mut out = (status, Json(ErrorBody { kode: kode.into(), pesan: pesan.into() })).into_response();
    for h in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = resp.headers().get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    out
}
