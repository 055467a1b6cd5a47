//! For residents without WhatsApp: a public page where anyone types a receipt code and sees
//! only the service, the status and the date (no name, no NIK, no reason text), rate-limited
//! against guessing; and printable instructions for the RT's notice board.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jemput_core::complaint::Complaint;
use jemput_core::document::{self, DocKind};
use jemput_core::{ReceiptCode, Request};
use maud::{html, PreEscaped};
use serde::Deserialize;

use super::auth::{as_web, Role};
use super::layout;
use super::{date_words, settings, WebResult};
use crate::api::throttle::ClientAddr;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;

/// Lookups allowed per address, and for everyone together, per [`WINDOW_MS`].
pub const PER_ADDRESS: u32 = 20;
/// Lookups allowed for everyone together per window.
pub const PER_HUB: u32 = 600;
/// The window.
pub const WINDOW_MS: i64 = 10 * 60 * 1000;

/// The query.
#[derive(Deserialize, Default)]
pub struct CheckParams {
    #[serde(default)]
    kode: String,
}

/// What a resident sees about a receipt code.
#[derive(Debug, PartialEq, Eq)]
pub struct PublicStatus {
    /// Service name (or "Pengaduan/aspirasi").
    pub what: String,
    /// Status label.
    pub status: String,
    /// Date of the last change.
    pub date: String,
}

enum Outcome {
    Found(PublicStatus),
    Unknown,
    Throttled,
}

/// `GET /cek`: the public receipt check.
pub async fn check(State(s): State<AppState>, ClientAddr(ip): ClientAddr, Query(p): Query<CheckParams>) -> WebResult<Response> {
    let text = p.kode.trim().to_string();
    let mut error = None;
    let mut outcome = None;
    if !text.is_empty() {
        match ReceiptCode::parse(&text) {
            Err(_) => error = Some("Kode tanda terima salah ketik. Periksa lagi huruf dan angkanya."),
            Ok(code) => {
                let ip_key = ip.map(|a| format!("cek:{a}"));
                outcome = Some(
                    s.db.call::<_, ServiceError>(move |tx, cipher| {
                        let now = jemput_core::time_util::now_ms();
                        if let Some(k) = &ip_key {
                            if tx.rate_hit(k, now, WINDOW_MS)? > PER_ADDRESS {
                                return Ok(Outcome::Throttled);
                            }
                        }
                        if tx.rate_hit("cek:*", now, WINDOW_MS)? > PER_HUB {
                            return Ok(Outcome::Throttled);
                        }
                        let Some(id) = tx.doc_by_receipt(code.as_str())? else { return Ok(Outcome::Unknown) };
                        let Some(doc) = service::load_doc(tx, cipher, &id, false)? else { return Ok(Outcome::Unknown) };
                        let found = match document::kind(&doc).map_err(|_| ServiceError::Internal)? {
                            DocKind::Complaint => {
                                let c: Complaint = document::read(&doc).map_err(|_| ServiceError::Internal)?;
                                let at = c.current().map(|u| u.at).unwrap_or(c.created_at);
                                PublicStatus {
                                    what: "Pengaduan / aspirasi".into(),
                                    status: super::complaints::label(c.status()).into(),
                                    date: date_words(at),
                                }
                            }
                            DocKind::Request => {
                                let mut r: Request = document::read(&doc).map_err(|_| ServiceError::Internal)?;
                                r.mark_received();
                                let what = settings::catalog(tx, cipher)
                                    .ok()
                                    .and_then(|c| c.service(&r.service_code).map(|s| s.name.clone()))
                                    .unwrap_or_else(|| r.service_code.clone());
                                let at = r.current().map(|h| h.at).unwrap_or(r.created_at);
                                PublicStatus { what, status: r.status().label().into(), date: date_words(at) }
                            }
                            _ => return Ok(Outcome::Unknown),
                        };
                        Ok(Outcome::Found(found))
                    })
                    .await?,
                );
            }
        }
    }
    let status = match (&error, &outcome) {
        (Some(_), _) => StatusCode::BAD_REQUEST,
        (_, Some(Outcome::Throttled)) => StatusCode::TOO_MANY_REQUESTS,
        (_, Some(Outcome::Unknown)) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let body = html! {
        div.cek {
            h1 { "Cek tanda terima" }
            p { "Ketik kode pada tanda terima permohonan atau pengaduan Anda." }
            form method="get" action="/cek" {
                label for="kode" { "Kode tanda terima" }
                input #kode type="text" name="kode" value=(text) autocomplete="off" required placeholder="mis. K7Q-4M2P-9";
                button type="submit" { "Cek" }
            }
            @if let Some(e) = error { p.galat role="alert" { (e) } }
            @match &outcome {
                Some(Outcome::Found(f)) => {
                    dl.hasil-cek {
                        dt { "Layanan" } dd { (f.what) }
                        dt { "Status" } dd { strong { (f.status) } }
                        dt { "Tanggal" } dd { (f.date) }
                    }
                },
                Some(Outcome::Unknown) => { p.galat role="alert" { "Kode tidak ditemukan. Mungkin data belum dikirim petugas; coba lagi besok atau tanyakan ke kantor kelurahan." } },
                Some(Outcome::Throttled) => { p.galat role="alert" { "Terlalu banyak pengecekan. Tunggu 10 menit lalu coba lagi." } },
                None => {},
            }
        }
    };
    Ok((status, layout::bare("Cek tanda terima", body)).into_response())
}

/// `GET /papan-pengumuman`: printable instructions for the RT's notice board (with a QR code
/// of the public check page).
pub async fn notice_board(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, k) = as_web(&s, &headers, Role::Operator, None, |tx, cipher, me| Ok((me.clone(), settings::kelurahan(tx, cipher)?))).await?;
    let url = format!("{}/cek", super::hub_url(&headers).trim_end_matches('/'));
    let svg = super::admin::qr_svg(&url)?;
    let body = html! {
        div.layar-saja { p { "Halaman ini untuk dicetak dan ditempel di papan pengumuman RT. " button type="button" data-cetak { "Cetak" } } }
        article.papan {
            h1 { "Layanan surat dari rumah — " (k.name) }
            p.besar { "Perlu surat pengantar, keterangan domisili, atau ingin menyampaikan pengaduan? Hubungi ketua RT/RW Anda: petugas mencatat permohonan Anda dan mengirimkannya ke kelurahan." }
            h2 { "Cek status permohonan" }
            div.dua-kolom {
                div {
                    ol.besar {
                        li { "Simpan kode pada tanda terima dari petugas." }
                        li { "Buka alamat ini di HP atau komputer: " strong { (url) } }
                        li { "Ketik kodenya, lalu tekan " strong { "Cek" } "." }
                        li { "Yang tampil hanya jenis layanan, status dan tanggal — tanpa nama atau NIK." }
                    }
                    p { "Tidak punya HP? Tanyakan ke ketua RT/RW atau datang ke kantor kelurahan." }
                }
                div.qr-gambar { (PreEscaped(svg)) }
            }
            h2 { "Kantor kelurahan" }
            p { (k.office_address) @if !k.office_hours.is_empty() { br; "Jam layanan: " (k.office_hours) } }
            @if !k.contacts.is_empty() { p { @for c in &k.contacts { (c.label) ": " (c.phone) br; } } }
            @if !k.emergency_numbers.is_empty() { p { strong { "Nomor darurat: " } @for (i, c) in k.emergency_numbers.iter().enumerate() { @if i > 0 { " · " } (c.label) " " (c.phone) } } }
        }
    };
    Ok(layout::page("Papan pengumuman", &me, "/papan-pengumuman", body).into_response())
}
