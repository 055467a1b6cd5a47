//! The hub's one error type. Every error answers with a stable code and a message in Bahasa
//! Indonesia, as JSON `{"kode": …, "pesan": …}`, and never carries personal data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jemput_core::sync::protocol::ErrorBody;

/// Everything a hub call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input from the caller.
    #[error("{1}")]
    BadRequest(&'static str, &'static str),
    /// No or unknown credentials.
    #[error("{1}")]
    Unauthorized(&'static str, &'static str),
    /// Known caller, not allowed.
    #[error("{1}")]
    Forbidden(&'static str, &'static str),
    /// A state change the rules do not allow (message says why, no personal data).
    #[error("{1}")]
    Rejected(&'static str, String),
    /// Nothing there.
    #[error("{0}")]
    NotFound(&'static str),
    /// Configuration problem (CLI).
    #[error("{0}")]
    Config(String),
    /// Storage failed.
    #[error("kesalahan basis data hub")]
    Db(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("kesalahan basis data hub")]
    Pg(#[from] postgres::Error),
    /// The hub is overloaded for now; try again.
    #[error("hub sedang sibuk; coba lagi sebentar lagi")]
    Unavailable,
    /// Anything else.
    #[error("kesalahan internal hub")]
    Internal,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            AppError::BadRequest(c, _) => (StatusCode::BAD_REQUEST, *c),
            AppError::Unauthorized(c, _) => (StatusCode::UNAUTHORIZED, *c),
            AppError::Forbidden(c, _) => (StatusCode::FORBIDDEN, *c),
            AppError::Rejected(c, _) => (StatusCode::CONFLICT, *c),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "tidak_ditemukan"),
            AppError::Config(_) => (StatusCode::INTERNAL_SERVER_ERROR, "konfigurasi"),
            AppError::Db(e) => {
                tracing::error!(error = %e, "kesalahan basis data");
                (StatusCode::SERVICE_UNAVAILABLE, "basis_data")
            }
            AppError::Pg(e) => {
                tracing::error!(error = %e, "kesalahan PostgreSQL");
                (StatusCode::SERVICE_UNAVAILABLE, "basis_data")
            }
            AppError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "sibuk"),
            AppError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        (status, Json(ErrorBody { kode: code.to_string(), pesan: self.to_string() })).into_response()
    }
}
