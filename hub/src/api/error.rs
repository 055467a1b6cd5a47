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
        (status, Json(ErrorBody { kode: code.to_string(), pesan: self.0.to_string() })).into_response()
    }
}
