//! The staff dashboard, served by the hub itself: server-rendered HTML (maud, compiled
//! templates, every untrusted text escaped), a little JavaScript, no assets from the internet.
//! Staff sign in with their own account (Argon2id passwords, server-side sessions with an idle
//! timeout, a CSRF token on every POST, failed sign-ins throttled); each page and action checks
//! the role (operator, pimpinan = lurah/sekretaris, admin), and the JSON staff API checks the
//! same roles (`crate::api::staff`). Every view of a resident's personal data and every change
//! is audited once, with the person who did it.
//!
//! Routes live under `/` (pages in Bahasa Indonesia); the API keeps `/api/v1/…`.

pub mod access;
pub mod admin;
pub mod auth;
pub mod complaints;
pub mod index;
pub mod layout;
pub mod pdf;
pub mod public;
pub mod requests;
pub mod retention;
pub mod settings;
pub mod setup;

use std::sync::OnceLock;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::api::AppState;
use crate::error::ServiceError;
use crate::storage::StorageError;

pub use auth::Role;

/// How the hub is reached, for enrolment QR codes.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// The address phones use to reach the hub.
    pub public_url: String,
    /// SHA-256 fingerprint of the hub's TLS certificate (hex, colon-separated), when it serves
    /// HTTPS itself.
    pub cert_fingerprint: Option<String>,
}

static OPTIONS: OnceLock<WebOptions> = OnceLock::new();

/// Sets how the hub is reached (once, at start-up; later calls are ignored).
pub fn configure(options: WebOptions) {
    let _ = OPTIONS.set(options);
}

/// How the hub is reached (empty until [`configure`] ran).
pub fn options() -> WebOptions {
    OPTIONS.get().cloned().unwrap_or_default()
}

/// The hub's address for people and phones: the configured public address, else the host the
/// browser reached.
pub fn hub_url(headers: &axum::http::HeaderMap) -> String {
    let o = options();
    if !o.public_url.is_empty() {
        return o.public_url;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// The SHA-256 fingerprint of the first certificate in a PEM file, as `AB:CD:…`.
pub fn cert_fingerprint(pem_file: &std::path::Path) -> Result<String, ServiceError> {
    use rustls::pki_types::pem::PemObject;
    let cert = rustls::pki_types::CertificateDer::pem_file_iter(pem_file)
        .map_err(|_| ServiceError::Config("sertifikat TLS tidak dapat dibaca".into()))?
        .next()
        .ok_or(ServiceError::Config("berkas sertifikat TLS kosong".into()))?
        .map_err(|_| ServiceError::Config("sertifikat TLS rusak".into()))?;
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    Ok(d.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
}

/// Largest form the dashboard accepts.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The dashboard's routes (merged into the hub's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::home))
        .route("/aset/gaya.css", get(|| async { asset("text/css; charset=utf-8", include_str!("../../static/gaya.css")) }))
        .route("/aset/app.js", get(|| async { asset("text/javascript; charset=utf-8", include_str!("../../static/app.js")) }))
        .route("/siapkan", get(setup::form).post(setup::submit))
        .route("/masuk", get(auth::login_form).post(auth::login))
        .route("/keluar", post(auth::logout))
        .route("/kotak-masuk", get(requests::inbox))
        .route("/kotak-masuk/tandai", post(requests::mark_seen))
        .route("/permohonan", get(requests::list))
        .route("/permohonan/ekspor.csv", get(requests::export_csv))
        .route("/permohonan/ekspor.xlsx", get(requests::export_xlsx))
        .route("/permohonan/{id}", get(requests::detail))
        .route("/permohonan/{id}/status", post(requests::set_status))
        .route("/permohonan/{id}/kantor", post(requests::set_office))
        .route("/permohonan/{id}/hapus", post(requests::erase))
        .route("/permohonan/{id}/cetak", get(requests::print))
        .route("/permohonan/{id}/surat.pdf", get(requests::letter_pdf))
        .route("/permohonan/{id}/tanda-terima.pdf", get(requests::receipt_pdf))
        .route("/pengaduan", get(complaints::list))
        .route("/pengaduan/{id}", get(complaints::detail))
        .route("/pengaduan/{id}/jawab", post(complaints::answer))
        .route("/pengaduan/{id}/hapus", post(complaints::erase))
        .route("/petugas", get(admin::officers).post(admin::add_officer))
        .route("/petugas/{id}/kode", post(admin::enrol_code))
        .route("/petugas/{id}/cabut", post(admin::revoke_officer))
        .route("/perangkat/{id}/cabut", post(admin::revoke_device))
        .route("/staf", get(admin::staff).post(admin::add_staff))
        .route("/staf/{id}/nonaktifkan", post(admin::deactivate_staff))
        .route("/profil", get(settings::profile_form).post(settings::profile_submit))
        .route("/katalog", get(settings::catalog_page_get))
        .route("/masa-simpan", get(retention::form).post(retention::submit))
        .route("/katalog/{code}", post(settings::catalog_submit))
        .route("/audit", get(admin::audit))
        .route("/audit/ekspor.csv", get(admin::audit_export_csv))
        .route("/akses", get(access::form).post(access::submit))
        .route("/papan-pengumuman", get(public::notice_board))
        .route("/cek", get(public::check))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// An error shown as a page: not signed in (or the session ended) goes to the sign-in page, a
/// missing role gets a refusal page, everything else a page with the error's message. The
/// status code (and the log line for what a person must not see) comes from the API's one
/// mapping, [`crate::api::error::status_of`], so a page and a JSON answer never disagree.
#[derive(Debug)]
pub struct WebError(pub ServiceError);

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        WebError(e)
    }
}

impl From<StorageError> for WebError {
    fn from(e: StorageError) -> Self {
        WebError(ServiceError::Storage(e))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self.0, ServiceError::Unauthorized(..)) {
            return Redirect::to("/masuk").into_response();
        }
        let (status, _) = crate::api::error::status_of(&self.0);
        let title = match status {
            StatusCode::FORBIDDEN => "Tidak berwenang",
            StatusCode::NOT_FOUND => "Tidak ditemukan",
            StatusCode::BAD_REQUEST | StatusCode::CONFLICT => "Tidak dapat diproses",
            _ => "Terjadi kesalahan",
        };
        let msg = self.0.to_string();
        let body = layout::bare(
            title,
            maud::html! {
                h1 { (title) }
                p.galat { (msg) }
                p { a href="/" { "Kembali ke beranda" } }
            },
        );
        (status, body).into_response()
    }
}

/// Result of a dashboard handler.
pub type WebResult<T> = Result<T, WebError>;

/// The query string of a page's filters (the empty ones left out, the others trimmed), for
/// links to its other pages and its exports.
pub fn filter_query(filters: &[(&str, &str)]) -> String {
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if !v.trim().is_empty() {
            u.append_pair(k, v.trim());
        }
    }
    u.finish()
}

/// Formats a timestamp (ms) as a date and time in WIB.
pub fn when(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        + time::Duration::hours(7);
    format!("{:02}-{:02}-{} {:02}.{:02}", t.day(), u8::from(t.month()), t.year(), t.hour(), t.minute())
}

/// A date in words ("5 Maret 2026").
fn words(d: time::Date) -> String {
    const MONTHS: [&str; 12] =
        ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];
    format!("{} {} {}", d.day(), MONTHS[usize::from(u8::from(d.month())) - 1], d.year())
}

/// Formats a timestamp (ms) as a date in words ("5 Maret 2026").
pub fn date_words(ms: i64) -> String {
    words(jemput_core::time_util::date_of_ms(ms))
}

/// A date as records keep it ("1990-05-04", a birth date or a date field) in words ("4 Mei
/// 1990"), as people in Indonesia write it; any other text as it is.
pub fn iso_date_words(s: &str) -> String {
    jemput_core::time_util::parse_date(s).map(words).unwrap_or_else(|| s.to_string())
}

/// Ms since epoch of the start (00.00 WIB) of an ISO date.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let d = jemput_core::time_util::parse_date(date)?;
    Some((d.midnight().assume_utc().unix_timestamp() - 7 * 3600) * 1000)
}

#[cfg(test)]
mod tests;
