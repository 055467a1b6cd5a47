//! Complaints and aspirations in the dashboard: list (by status and area), read, answer and
//! close; the answer reaches the officer who recorded it on their next sync. The lurah,
//! sekretaris or admin can erase a complaint's personal data on the reporter's request, as
//! for requests (ADR 0013): only its register entry remains.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::complaint::{Complaint, ComplaintStatus};
use jemput_core::kelurahan::three_digits;
use jemput_core::validation::limits;
use maud::html;
use serde::Deserialize;

use super::auth::{as_web, Role};
use super::layout;
use super::{when, WebError, WebResult};
use crate::api::staff;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::{DocFilter, ErasedDoc, HubTx};
use jemput_core::crypto::Cipher;

const STATUSES: [ComplaintStatus; 4] =
    [ComplaintStatus::Dicatat, ComplaintStatus::Diterima, ComplaintStatus::Ditindaklanjuti, ComplaintStatus::Selesai];

/// Words shown for a complaint status.
pub fn label(s: ComplaintStatus) -> &'static str {
    match s {
        ComplaintStatus::Dicatat => "Dicatat",
        ComplaintStatus::Diterima => "Diterima",
        ComplaintStatus::Ditindaklanjuti => "Ditindaklanjuti",
        ComplaintStatus::Selesai => "Selesai",
    }
}

/// List filters.
#[derive(Deserialize, Default)]
pub struct ComplaintParams {
    #[serde(default)]
    status: String,
    #[serde(default)]
    rw: String,
    #[serde(default)]
    hal: Option<u32>,
}

/// `GET /pengaduan`.
pub async fn list(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<ComplaintParams>) -> WebResult<Response> {
    let status = Some(p.status.trim().to_string()).filter(|s| !s.is_empty());
    if status.as_deref().is_some_and(|s| ComplaintStatus::from_code(s).is_none()) {
        return Err(WebError(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal")));
    }
    let rw = match p.rw.trim() {
        "" => None,
        x => Some(x.parse::<u16>().map_err(|_| WebError(ServiceError::BadRequest("filter_tidak_valid", "Nomor RW tidak valid")))?),
    };
    let page = p.hal.unwrap_or(1).clamp(1, 100_000);
    let st = status.clone();
    let (me, total, rows) = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| {
        let f = DocFilter { kind: "complaint".into(), status: st.clone(), rw, rt: None };
        let total = tx.count_docs(&f)?;
        let mut rows = Vec::new();
        for id in tx.doc_ids(&f, (page - 1) * 50, 50)? {
            rows.push(staff::read_record::<Complaint>(tx, cipher, &id, false)?.1);
        }
        service::audit(tx, &me.who(), "lihat_daftar_pengaduan", None)?;
        Ok((me.clone(), total, rows))
    })
    .await?;
    let body = html! {
        h1 { "Pengaduan & aspirasi" }
        form.saring method="get" action="/pengaduan" {
            div.isian { label for="c-status" { "Status" }
                select #c-status name="status" { option value="" { "Semua" } @for st in STATUSES { option value=(st.code()) selected[status.as_deref() == Some(st.code())] { (label(st)) } } } }
            div.isian { label for="c-rw" { "RW" } input #c-rw type="number" min="1" name="rw" value=(p.rw); }
            div.tombol { button type="submit" { "Terapkan" } }
        }
        p { (total) " pengaduan" }
        table.daftar {
            thead { tr { th { "Tanda terima" } th { "Jenis" } th { "Topik" } th { "Wilayah" } th { "Dicatat" } th { "Status" } } }
            tbody {
                @for c in &rows {
                    tr {
                        td { a href={ "/pengaduan/" (c.id) } { code { (c.receipt) } } }
                        td { (c.category.code()) }
                        td { @if c.topic.is_empty() { em { "(data pribadi dihapus)" } } @else { (c.topic) } }
                        td { "RT " (three_digits(c.place.rt)) "/RW " (three_digits(c.place.rw)) }
                        td { (when(c.created_at)) }
                        td { span class={ "lencana cst-" (c.status().code()) } { (label(c.status())) } }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" { "Tidak ada pengaduan yang cocok." } } }
            }
        }
    };
    Ok(layout::page("Pengaduan", &me, "/pengaduan", body).into_response())
}

/// A complaint as its page shows it, with its erasure if it was erased.
struct Detail {
    c: Complaint,
    erased: Option<ErasedDoc>,
}

fn load_detail(tx: &mut dyn HubTx, cipher: &Cipher, id: &str) -> Result<Detail, ServiceError> {
    let c = staff::read_record::<Complaint>(tx, cipher, id, false)?.1;
    Ok(Detail { erased: tx.erased(id)?, c })
}

fn detail_page(me: &super::auth::Me, d: &Detail, errors: &[(String, String)]) -> maud::Markup {
    let c = &d.c;
    let next: Vec<ComplaintStatus> =
        STATUSES.into_iter().filter(|s| c.status().check_transition(*s, jemput_core::request::Role::Staf).is_ok()).collect();
    html! {
        p { a href="/pengaduan" { "‹ Semua pengaduan" } }
        h1 { @if d.erased.is_some() { "Pengaduan" } @else { (c.topic) } " " small { code { (c.receipt) } } }
        p { span class={ "lencana cst-" (c.status().code()) } { (label(c.status())) } " · " (c.category.code()) " · RT " (three_digits(c.place.rt)) "/RW " (three_digits(c.place.rw)) }
        @if let Some(e) = &d.erased {
            p.galat role="status" {
                "Data pribadi pada pengaduan ini sudah dihapus pada " (when(e.erased_at)) " (" (e.reason) "). "
                "Yang tersisa hanya catatan register: kode tanda terima, jenis, tanggal, status, RT/RW."
            }
        }
        div.dua-kolom {
            @if d.erased.is_some() {
                section {
                    h2 { "Register pengaduan" }
                    dl {
                        dt { "Kode tanda terima" } dd { code { (c.receipt) } }
                        dt { "Jenis" } dd { (c.category.code()) }
                        dt { "Wilayah" } dd { "RT " (three_digits(c.place.rt)) "/RW " (three_digits(c.place.rw)) }
                        dt { "Dicatat" } dd { (when(c.created_at)) }
                    }
                    @if !c.updates.is_empty() {
                        h2 { "Riwayat" }
                        ol.riwayat { @for u in &c.updates { li { (label(u.status)) " · " (when(u.at)) } } }
                    }
                }
            } @else {
            section {
                h2 { "Isi" }
                p.pra { (c.text) }
                dl {
                    dt { "Tempat" } dd { (c.place.description) }
                    dt { "Pelapor" } dd { @match &c.reporter { Some(r) => { (r.name) @if let Some(p) = &r.phone { " · " (p) } }, None => { "Anonim" } } }
                    dt { "Dicatat" } dd { (when(c.created_at)) }
                }
                h2 { "Riwayat" }
                ol.riwayat { @for u in &c.updates { li { (label(u.status)) " · " (when(u.at)) @if let Some(r) = &u.response { br; em { (r) } } } } }
            }
            section {
                h2 { "Jawab" }
                @if next.is_empty() { p.kecil { "Pengaduan ini sudah selesai." } } @else {
                    form method="post" action={ "/pengaduan/" (c.id) "/jawab" } {
                        input type="hidden" name="csrf" value=(me.csrf);
                        div.isian { label for="status" { "Status" } select #status name="status" { @for s in &next { option value=(s.code()) { (label(*s)) } } } (layout::field_error(errors, "status")) }
                        div.isian { label for="response" { "Jawaban kantor" } textarea #response name="response" rows="4" {} small { "Dikirim ke petugas yang mencatat pada sinkronisasi berikutnya." } (layout::field_error(errors, "response")) }
                        button type="submit" { "Kirim jawaban" }
                    }
                }
                @if me.role >= Role::Pimpinan {
                    h2 { "Hapus data pribadi" }
                    p.kecil {
                        "Atas permintaan pelapor yang beralasan (UU PDP). Isi pengaduan, tempat, nama dan nomor pelapor dihapus dari hub "
                        "dan dari HP petugas saat sinkron; catatan register tetap ada. Tidak dapat dibatalkan."
                    }
                    form method="post" action={ "/pengaduan/" (c.id) "/hapus" }
                        data-yakin="Hapus data pribadi pengaduan ini dari hub dan semua HP petugas? Tidak dapat dibatalkan." {
                        input type="hidden" name="csrf" value=(me.csrf);
                        div.isian {
                            label for="alasan" { "Alasan penghapusan" }
                            textarea #alasan name="alasan" rows="2" required {}
                            small { "Mis. \"permintaan pelapor, surat tanggal 3 Desember 2026\". Jangan tulis nama atau NIK." }
                            (layout::field_error(errors, "alasan"))
                        }
                        button.bahaya type="submit" { "Hapus data pribadi" }
                    }
                }
            }
            }
        }
    }
}

/// `GET /pengaduan/{id}`.
pub async fn detail(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> WebResult<Response> {
    let (me, d) = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| {
        let d = load_detail(tx, cipher, &id)?;
        service::audit(tx, &me.who(), "lihat_pengaduan", Some(&id))?;
        Ok((me.clone(), d))
    })
    .await?;
    Ok(layout::page("Pengaduan", &me, "/pengaduan", detail_page(&me, &d, &[])).into_response())
}

/// The answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    status: String,
    #[serde(default)]
    response: String,
}

/// `POST /pengaduan/{id}/jawab`.
pub async fn answer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> WebResult<Response> {
    let status = ComplaintStatus::from_code(f.status.trim())
        .ok_or(WebError(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal")))?;
    let response = Some(f.response.trim().to_string()).filter(|r| !r.is_empty());
    let id2 = id.clone();
    let out = as_web(&s, &headers, Role::Operator, Some(f.csrf), move |tx, cipher, me| {
        let mut errors = Vec::new();
        layout::check_length(&mut errors, "response", "Jawaban", response.as_deref().unwrap_or(""), limits::RESPONSE);
        if status == ComplaintStatus::Selesai && response.is_none() {
            errors.push(("response".to_string(), "Tulis jawaban kantor sebelum menutup pengaduan".to_string()));
        }
        if errors.is_empty() {
            match staff::answer_complaint_of(tx, cipher, &me.account, &id2, status, response.clone()) {
                Ok(_) => return Ok(None),
                Err(ServiceError::Rejected(_, m)) => errors.push(("status".to_string(), m)),
                Err(e) => return Err(e),
            }
        }
        Ok(Some((me.clone(), load_detail(tx, cipher, &id2)?, errors)))
    })
    .await?;
    Ok(match out {
        None => Redirect::to(&format!("/pengaduan/{id}")).into_response(),
        Some((me, d, errors)) => rerender(me, d, errors),
    })
}

fn rerender(me: super::auth::Me, d: Detail, errors: Vec<(String, String)>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, layout::page("Pengaduan", &me, "/pengaduan", detail_page(&me, &d, &errors))).into_response()
}

/// `POST /pengaduan/{id}/hapus` (lurah/sekretaris, admin): erases the complaint's personal
/// data (text, place, reporter, answers) on the hub and, as they sync, on every phone, with the
/// same function as requests and the JSON staff API (`index::erase_record`); the register
/// entry remains and phones' changes to it are refused (`data_dihapus`, ADR 0013).
pub async fn erase(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<super::index::EraseForm>,
) -> WebResult<Response> {
    let reason = service::erasure::check_reason(&f.alasan);
    let id2 = id.clone();
    let out = as_web(&s, &headers, Role::Pimpinan, Some(f.csrf), move |tx, cipher, me| match &reason {
        Ok(reason) => {
            super::index::erase_record(tx, cipher, &id2, reason, &me.who(), jemput_core::time_util::now_ms())?;
            Ok(None)
        }
        Err(e) => Ok(Some((me.clone(), load_detail(tx, cipher, &id2)?, vec![("alasan".to_string(), e.to_string())]))),
    })
    .await?;
    Ok(match out {
        None => {
            s.db.scrub_in_background().await?;
            Redirect::to(&format!("/pengaduan/{id}")).into_response()
        }
        Some((me, d, errors)) => rerender(me, d, errors),
    })
}
