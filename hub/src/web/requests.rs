//! Requests in the dashboard: the inbox (what arrived since the staff member last looked, by
//! officer; counts per status), the filtered and searchable list, the detail page (applicant,
//! requirement checklist, fields, status history with who did what), status changes, the
//! letter number and office note, exports (CSV, XLSX), the printable letter and receipt (print
//! stylesheet) and the hub-made PDFs. Reads of personal data are audited once per page.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::crypto::Cipher;
use jemput_core::kelurahan::three_digits;
use jemput_core::request::{Role as ActorRole, Status};
use jemput_core::validation::limits;
use jemput_core::{Catalog, Kelurahan, Request};
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::{as_web, CsrfForm, Me, Role};
use super::index::{self, ListRow};
use super::layout;
use super::settings::{self, OfficeSettings};
use super::{date_words, day_start_ms, iso_date_words, when, WebError, WebResult};
use crate::api::staff;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
pub use crate::service::staff::role_for_status;
use crate::storage::OfficeQuery;
use crate::storage::{DocFilter, HubTx};

/// Rows per list page.
pub const PAGE: u32 = 50;
/// Most rows in one export.
pub const MAX_EXPORT: u32 = 20_000;

/// Filters of the request list (query string).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    rw: String,
    #[serde(default)]
    rt: String,
    #[serde(default)]
    layanan: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    dari: String,
    #[serde(default)]
    sampai: String,
    #[serde(default)]
    cari: String,
    #[serde(default)]
    hal: Option<u32>,
}

impl ListParams {
    /// The query string of these filters (without the page).
    fn query(&self) -> String {
        super::filter_query(&[
            ("rw", &self.rw),
            ("rt", &self.rt),
            ("layanan", &self.layanan),
            ("status", &self.status),
            ("dari", &self.dari),
            ("sampai", &self.sampai),
            ("cari", &self.cari),
        ])
    }
}

fn num(s: &str, what: &'static str) -> Result<Option<u16>, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<u16>().map(Some).map_err(|_| ServiceError::BadRequest("filter_tidak_valid", what))
}

/// Turns the filters into an index query; the search text is a receipt code, a NIK (16
/// digits, by its blind tag) or the beginnings of words of a name (each by its blind tag, see
/// `jemput_core::name_search`: "wahy" finds "Sri Wahyuni").
pub fn office_query(p: &ListParams, cipher: &Cipher) -> Result<OfficeQuery, ServiceError> {
    let status = p.status.trim();
    if !status.is_empty() && Status::from_code(status).is_none() {
        return Err(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal"));
    }
    let mut q = OfficeQuery {
        doc: DocFilter {
            kind: "request".into(),
            status: Some(status.to_string()).filter(|s| !s.is_empty()),
            rw: num(&p.rw, "Nomor RW tidak valid")?,
            rt: num(&p.rt, "Nomor RT tidak valid")?,
        },
        service: Some(p.layanan.trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let date = |s: &str| -> Result<Option<i64>, ServiceError> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        day_start_ms(s).map(Some).ok_or(ServiceError::BadRequest("tanggal_tidak_valid", "Tanggal tidak valid (TTTT-BB-HH)"))
    };
    q.from = date(&p.dari)?;
    q.until = date(&p.sampai)?.map(|d| d + jemput_core::time_util::DAY_MS);
    let text = p.cari.trim();
    if text.chars().count() > 100 {
        return Err(ServiceError::BadRequest("pencarian_terlalu_panjang", "Kata pencarian paling banyak 100 huruf"));
    }
    if !text.is_empty() {
        if let Ok(code) = jemput_core::ReceiptCode::parse(text) {
            q.receipt = Some(code.as_str().to_string());
        } else if text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit()) {
            q.tags.push(index::nik_tag(cipher, text));
        } else {
            let terms = jemput_core::name_search::query_terms(text);
            if terms.is_empty() {
                return Err(ServiceError::BadRequest("pencarian_terlalu_pendek", "Ketik paling sedikit 2 huruf dari nama"));
            }
            q.tags.extend(terms.iter().take(5).map(|p| index::name_tag(cipher, p)));
        }
    }
    Ok(q)
}

/// A request as the office sees it.
fn read_request(tx: &mut dyn HubTx, cipher: &Cipher, id: &str) -> Result<Request, ServiceError> {
    Ok(staff::read_record::<Request>(tx, cipher, id, false)?.1)
}

fn service_name(cat: &Catalog, code: &str) -> String {
    cat.service(code).map(|s| s.name.clone()).unwrap_or_else(|| code.to_string())
}

fn status_badge(s: Status) -> Markup {
    html! { span class={ "lencana st-" (s.code()) } { (s.label()) } }
}

fn area(rw: u16, rt: u16) -> String {
    format!("RT {}/RW {}", three_digits(rt), three_digits(rw))
}

/// What the list and export pages read: matching requests and the total.
struct Found {
    total: u64,
    rows: Vec<ListRow>,
    catalog: Catalog,
}

fn find(tx: &mut dyn HubTx, cipher: &Cipher, q: &OfficeQuery, offset: u32, limit: u32) -> Result<Found, ServiceError> {
    index::catch_up(tx, cipher)?;
    let total = tx.office_count(q)?;
    let mut rows = Vec::new();
    for (id, sealed) in tx.office_rows(q, offset, limit)? {
        rows.push(ListRow::open(cipher, &id, &sealed)?);
    }
    Ok(Found { total, rows, catalog: settings::catalog(tx, cipher)? })
}

/// One page of the filtered list for `me` (the filters' RW choices need the profile), audited.
fn list_page(tx: &mut dyn HubTx, cipher: &Cipher, me: &Me, p: &ListParams, page: u32) -> Result<(Found, Kelurahan), ServiceError> {
    let q = office_query(p, cipher)?;
    let found = find(tx, cipher, &q, (page - 1) * PAGE, PAGE)?;
    service::audit(tx, &me.who(), "lihat_daftar_permohonan", None)?;
    Ok((found, settings::kelurahan(tx, cipher)?))
}

fn filters_form(p: &ListParams, cat: &Catalog, k: &Kelurahan) -> Markup {
    html! {
        form.saring method="get" action="/permohonan" {
            div.isian { label for="cari" { "Cari" } input #cari type="search" name="cari" value=(p.cari) placeholder="nama, NIK atau kode tanda terima"; }
            div.isian { label for="f-rw" { "RW" }
                select #f-rw name="rw" { option value="" { "Semua" } @for rw in &k.rws { option value=(rw.number) selected[p.rw == rw.number.to_string()] { (three_digits(rw.number)) } } } }
            div.isian { label for="f-rt" { "RT" } input #f-rt type="number" min="1" max="999" name="rt" value=(p.rt); }
            div.isian { label for="f-layanan" { "Layanan" }
                select #f-layanan name="layanan" { option value="" { "Semua" } @for sv in &cat.services { option value=(sv.code) selected[p.layanan == sv.code] { (sv.name) } } } }
            div.isian { label for="f-status" { "Status" }
                select #f-status name="status" { option value="" { "Semua" } @for st in Status::ALL { option value=(st.code()) selected[p.status == st.code()] { (st.label()) } } } }
            div.isian { label for="f-dari" { "Dari tanggal" } input #f-dari type="date" name="dari" value=(p.dari); }
            div.isian { label for="f-sampai" { "Sampai tanggal" } input #f-sampai type="date" name="sampai" value=(p.sampai); }
            div.tombol { button type="submit" { "Terapkan" } a href="/permohonan" { "Hapus saringan" } }
        }
    }
}

fn request_table(rows: &[ListRow], cat: &Catalog) -> Markup {
    html! {
        table.daftar {
            thead { tr { th { "Tanda terima" } th { "Pemohon" } th { "Layanan" } th { "Wilayah" } th { "Dicatat" } th { "Status" } th { "Nomor surat" } } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href={ "/permohonan/" (r.id) } { code { (r.receipt) } } }
                        td { (r.name) }
                        td { (service_name(cat, &r.service_code)) }
                        td { (area(r.rw, r.rt)) }
                        td { (when(r.created_at)) }
                        td { (status_badge(r.status)) }
                        td { (r.letter_number.as_deref().unwrap_or("–")) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="7" { "Tidak ada permohonan yang cocok." } } }
            }
        }
    }
}

/// `GET /permohonan`: one page of the filtered list.
pub async fn list(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<ListParams>) -> WebResult<Response> {
    let page = p.hal.unwrap_or(1).clamp(1, 100_000);
    let p2 = p.clone();
    let (me, (found, k)) =
        as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| Ok((me.clone(), list_page(tx, cipher, me, &p2, page)?))).await?;
    Ok(layout::page("Permohonan", &me, "/permohonan", list_body(&p, page, &found, &k)).into_response())
}

fn list_body(p: &ListParams, page: u32, found: &Found, k: &Kelurahan) -> Markup {
    let pages = found.total.div_ceil(u64::from(PAGE)).max(1) as u32;
    let q = p.query();
    let sep = if q.is_empty() { "" } else { "&" };
    html! {
        h1 { "Permohonan" }
        (filters_form(p, &found.catalog, k))
        div.ringkas {
            span { (found.total) " permohonan" }
            a.tombol-kecil href={ "/permohonan/ekspor.csv?" (q) } download { "Unduh CSV" }
            a.tombol-kecil href={ "/permohonan/ekspor.xlsx?" (q) } download { "Unduh Excel" }
        }
        (request_table(&found.rows, &found.catalog))
        nav.halaman aria-label="Halaman" {
            @if page > 1 { a href={ "/permohonan?" (q) (sep) "hal=" (page - 1) } { "‹ Sebelumnya" } }
            span { "Halaman " (page) " dari " (pages) }
            @if page < pages { a href={ "/permohonan?" (q) (sep) "hal=" (page + 1) } { "Berikutnya ›" } }
        }
    }
}

/// Renders one page of the list for `me` (the benchmark measures this).
pub fn render_list_page(tx: &mut dyn HubTx, cipher: &Cipher, me: &Me, p: &ListParams) -> Result<String, ServiceError> {
    let (found, k) = list_page(tx, cipher, me, p, 1)?;
    Ok(layout::page("Permohonan", me, "/permohonan", list_body(p, 1, &found, &k)).0)
}

/// Officers' names, by id.
fn officer_names(tx: &mut dyn HubTx) -> Result<HashMap<String, String>, ServiceError> {
    Ok(tx.officers()?.into_iter().map(|o| (o.id, o.name)).collect())
}

/// Names of the people in a history (staff accounts and officers), by id.
fn people(tx: &mut dyn HubTx) -> Result<HashMap<String, String>, ServiceError> {
    let mut m: HashMap<String, String> = tx.staff_accounts()?.into_iter().map(|s| (s.id, s.name)).collect();
    m.extend(officer_names(tx)?);
    Ok(m)
}

fn actor_label(people: &HashMap<String, String>, role: ActorRole, id: &str) -> String {
    let who = people.get(id).cloned().unwrap_or_else(|| id.to_string());
    match role {
        ActorRole::Petugas => format!("Petugas {who}"),
        ActorRole::Staf => format!("Staf {who}"),
        ActorRole::Sistem => "Sistem".into(),
    }
}

struct Detail {
    r: Request,
    /// The erasure of the record's personal data, if it was erased (ADR 0013).
    erased: Option<crate::storage::ErasedDoc>,
    catalog: Catalog,
    people: HashMap<String, String>,
    suggested_number: Option<String>,
}

/// `GET /permohonan/{id}`.
pub async fn detail(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> WebResult<Response> {
    let (me, d) = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| {
        let mut d = load_detail(tx, cipher, &id)?;
        service::audit(tx, &me.who(), "lihat_permohonan", Some(&id))?;
        if d.r.office.letter_number.is_none() {
            let settings = settings::office_settings(tx)?;
            let k = settings::kelurahan(tx, cipher)?;
            d.suggested_number = Some(settings::preview_letter_number(tx, &settings, &k.region_code, &d.r.service_code)?);
        }
        Ok((me.clone(), d))
    })
    .await?;
    Ok(layout::page("Permohonan", &me, "/permohonan", detail_body(&me, &d, &[])).into_response())
}

/// The statuses `me` may move a request in status `from` to.
fn next_statuses(me: &Me, from: Status) -> Vec<Status> {
    Status::ALL.into_iter().filter(|to| from.check_transition(*to, ActorRole::Staf).is_ok() && me.role >= role_for_status(*to)).collect()
}

fn detail_body(me: &Me, d: &Detail, errors: &[(String, String)]) -> Markup {
    let r = &d.r;
    let a = &r.applicant;
    let sv = d.catalog.service(&r.service_code);
    let next = next_statuses(me, r.status());
    html! {
        p { a href="/permohonan" { "‹ Semua permohonan" } }
        h1 { (service_name(&d.catalog, &r.service_code)) " " small { code { (r.receipt) } } }
        p { (status_badge(r.status())) @if let Some(reason) = r.status_reason() { " — " (reason) } }
        @if let Some(e) = &d.erased {
            p.galat role="status" {
                "Data pribadi pemohon sudah dihapus pada " (when(e.erased_at)) " (" (e.reason) "). "
                "Yang tersisa hanya catatan register surat: kode tanda terima, layanan, tanggal, status, nomor surat, RT/RW."
            }
        }
        div.dua-kolom {
            @if d.erased.is_some() {
                section {
                    h2 { "Register surat" }
                    dl {
                        dt { "Kode tanda terima" } dd { code { (r.receipt) } }
                        dt { "Layanan" } dd { (service_name(&d.catalog, &r.service_code)) }
                        dt { "Wilayah" } dd { (area(a.address.rw, a.address.rt)) }
                        dt { "Nomor surat" } dd { (r.office.letter_number.as_deref().unwrap_or("–")) }
                        dt { "Dicatat" } dd { (when(r.created_at)) " oleh " (actor_label(&d.people, ActorRole::Petugas, &r.officer_id)) }
                    }
                }
            } @else {
            section {
                h2 { "Pemohon" }
                dl {
                    dt { "Nama" } dd { (a.name) }
                    dt { "NIK" } dd { (a.nik) }
                    dt { "No. KK" } dd { (a.kk) }
                    dt { "Tempat, tanggal lahir" } dd { (a.birth_place) ", " (iso_date_words(&a.birth_date)) }
                    dt { "Jenis kelamin" } dd { (match a.sex { jemput_core::Sex::LakiLaki => "Laki-laki", jemput_core::Sex::Perempuan => "Perempuan" }) }
                    dt { "Alamat" } dd { (a.address.street) ", " (area(a.address.rw, a.address.rt)) }
                    dt { "Telepon" } dd { (a.phone.as_deref().unwrap_or("–")) @if a.uses_whatsapp { " (WhatsApp)" } }
                    dt { "Dicatat" } dd { (when(r.created_at)) " oleh " (actor_label(&d.people, ActorRole::Petugas, &r.officer_id)) }
                }
                h2 { "Persyaratan" }
                ul.periksa {
                    @if let Some(sv) = sv {
                        @for req in &sv.requirements {
                            @let ok = r.checklist.get(&req.code).copied().unwrap_or(false);
                            li class=(if ok { "ada" } else { "belum" }) {
                                (if ok { "✔ " } else { "✘ " }) (req.label) @if !req.mandatory { " (opsional)" }
                            }
                        }
                    } @else {
                        @for (code, ok) in sorted(&r.checklist) { li { (if *ok { "✔ " } else { "✘ " }) (code) } }
                    }
                }
                @if !r.fields.is_empty() {
                    h2 { "Isian layanan" }
                    dl {
                        @for (k, v) in sorted(&r.fields) {
                            dt { (sv.and_then(|s| s.fields.iter().find(|f| &f.key == k)).map(|f| f.label.as_str()).unwrap_or(k)) }
                            dd { (iso_date_words(v)) }
                        }
                    }
                }
                @if !r.notes.trim().is_empty() { h2 { "Catatan petugas" } p.pra { (r.notes) } }
            }
            }
            section {
                h2 { "Riwayat status" }
                ol.riwayat {
                    @for h in &r.history {
                        li {
                            (status_badge(h.status)) " " (when(h.at)) br;
                            small { (actor_label(&d.people, h.by.role, &h.by.id)) }
                            @if let Some(reason) = &h.reason { br; em { (reason) } }
                        }
                    }
                }
                h2 { "Ubah status" }
                @if next.is_empty() {
                    p.kecil { "Tidak ada perubahan status yang dapat Anda lakukan sekarang." }
                } @else {
                    form method="post" action={ "/permohonan/" (r.id) "/status" } {
                        input type="hidden" name="csrf" value=(me.csrf);
                        div.isian {
                            label for="status" { "Status baru" }
                            select #status name="status" { @for st in &next { option value=(st.code()) { (st.label()) } } }
                            (layout::field_error(errors, "status"))
                        }
                        div.isian {
                            label for="reason" { "Alasan / yang perlu dilengkapi" }
                            textarea #reason name="reason" rows="2" {}
                            small { "Wajib untuk \"Perlu kelengkapan\" dan \"Ditolak\"; dikirim ke HP petugas." }
                            (layout::field_error(errors, "reason"))
                        }
                        button type="submit" { "Simpan status" }
                    }
                }
                h2 { "Isian kantor" }
                form method="post" action={ "/permohonan/" (r.id) "/kantor" } {
                    input type="hidden" name="csrf" value=(me.csrf);
                    @if me.role >= Role::Pimpinan {
                        div.isian {
                            label for="letter_number" { "Nomor surat" }
                            input #letter_number type="text" name="letter_number" value=(r.office.letter_number.as_deref().unwrap_or(""));
                            @if let Some(n) = &d.suggested_number { small { "Kosongkan lalu centang di bawah untuk memakai nomor berikutnya: " (n) } }
                            label { input type="checkbox" name="auto_number" value="1"; " Beri nomor berikutnya otomatis" }
                            (layout::field_error(errors, "letter_number"))
                        }
                    } @else {
                        p { "Nomor surat: " (r.office.letter_number.as_deref().unwrap_or("belum ada")) }
                    }
                    div.isian {
                        label for="staff_notes" { "Catatan kantor" }
                        textarea #staff_notes name="staff_notes" rows="3" { (r.office.staff_notes.as_deref().unwrap_or("")) }
                        (layout::field_error(errors, "staff_notes"))
                    }
                    button type="submit" { "Simpan isian kantor" }
                }
                h2 { "Cetak" }
                p.tombol {
                    a.tombol-kecil href={ "/permohonan/" (r.id) "/cetak" } { "Cetak surat & tanda terima" }
                    a.tombol-kecil href={ "/permohonan/" (r.id) "/surat.pdf" } { "Surat (PDF)" }
                    a.tombol-kecil href={ "/permohonan/" (r.id) "/tanda-terima.pdf" } { "Tanda terima (PDF)" }
                }
                @if me.role >= Role::Pimpinan && d.erased.is_none() {
                    h2 { "Hapus data pribadi" }
                    p.kecil {
                        "Atas permintaan warga yang beralasan (UU PDP). Data pribadi dihapus dari hub dan dari HP petugas saat sinkron; "
                        "catatan register surat tetap ada. Tidak dapat dibatalkan."
                    }
                    form method="post" action={ "/permohonan/" (r.id) "/hapus" }
                        data-yakin="Hapus data pribadi pemohon ini dari hub dan semua HP petugas? Tidak dapat dibatalkan." {
                        input type="hidden" name="csrf" value=(me.csrf);
                        div.isian {
                            label for="alasan" { "Alasan penghapusan" }
                            textarea #alasan name="alasan" rows="2" required {}
                            small { "Mis. \"permintaan warga, surat tanggal 3 Desember 2026\". Jangan tulis nama atau NIK." }
                            (layout::field_error(errors, "alasan"))
                        }
                        button.bahaya type="submit" { "Hapus data pribadi" }
                    }
                }
            }
        }
    }
}

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    reason: String,
}

fn rerender(me: Me, d: Detail, errors: Vec<(String, String)>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, layout::page("Permohonan", &me, "/permohonan", detail_body(&me, &d, &errors))).into_response()
}

fn load_detail(tx: &mut dyn HubTx, cipher: &Cipher, id: &str) -> Result<Detail, ServiceError> {
    let r = read_request(tx, cipher, id)?;
    Ok(Detail { catalog: settings::catalog(tx, cipher)?, people: people(tx)?, erased: tx.erased(id)?, r, suggested_number: None })
}

/// `POST /permohonan/{id}/status`: the change reaches the officer's phone on its next sync.
pub async fn set_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> WebResult<Response> {
    let Some(status) = Status::from_code(f.status.trim()) else {
        return Err(WebError(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal")));
    };
    let reason = Some(f.reason.trim().to_string()).filter(|r| !r.is_empty());
    let id2 = id.clone();
    let out = as_web(&s, &headers, role_for_status(status), Some(f.csrf), move |tx, cipher, me| {
        let mut errors = Vec::new();
        if status.needs_reason() && reason.is_none() {
            errors.push(("reason".to_string(), "Tulis alasannya atau apa yang perlu dilengkapi".to_string()));
        }
        layout::check_length(&mut errors, "reason", "Alasan", reason.as_deref().unwrap_or(""), limits::REASON);
        if errors.is_empty() {
            match staff::change_request_status(tx, cipher, &me.account, &id2, status, reason.clone()) {
                Ok(_) => return Ok(None),
                Err(ServiceError::Rejected(_, m)) => errors.push(("status".to_string(), m)),
                Err(e) => return Err(e),
            }
        }
        Ok(Some((me.clone(), load_detail(tx, cipher, &id2)?, errors)))
    })
    .await?;
    Ok(match out {
        None => Redirect::to(&format!("/permohonan/{id}")).into_response(),
        Some((me, d, errors)) => rerender(me, d, errors),
    })
}

/// `POST /permohonan/{id}/hapus` (lurah/sekretaris, admin): erases the applicant's personal
/// data on the hub and, as they sync, on every phone; the letter register entry remains
/// (ADR 0013).
pub async fn erase(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<index::EraseForm>,
) -> WebResult<Response> {
    let reason = service::erasure::check_reason(&f.alasan);
    let id2 = id.clone();
    let out = as_web(&s, &headers, Role::Pimpinan, Some(f.csrf), move |tx, cipher, me| match &reason {
        Ok(reason) => {
            index::erase_record(tx, cipher, &id2, reason, &me.who(), jemput_core::time_util::now_ms())?;
            Ok(None)
        }
        Err(e) => Ok(Some((me.clone(), load_detail(tx, cipher, &id2)?, vec![("alasan".to_string(), e.to_string())]))),
    })
    .await?;
    Ok(match out {
        None => {
            s.db.scrub_in_background().await?;
            Redirect::to(&format!("/permohonan/{id}")).into_response()
        }
        Some((me, d, errors)) => rerender(me, d, errors),
    })
}

/// The office-fields form.
#[derive(Deserialize)]
pub struct OfficeForm {
    csrf: String,
    #[serde(default)]
    letter_number: Option<String>,
    #[serde(default)]
    auto_number: Option<String>,
    #[serde(default)]
    staff_notes: String,
}

/// `POST /permohonan/{id}/kantor`: the office note (operator) and the letter number
/// (lurah/sekretaris; typed or the next one from the format).
pub async fn set_office(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<OfficeForm>,
) -> WebResult<Response> {
    let id2 = id.clone();
    let out = as_web(&s, &headers, Role::Operator, Some(f.csrf.clone()), move |tx, cipher, me| {
        let current = read_request(tx, cipher, &id2)?;
        let mut errors = Vec::new();
        let typed = f.letter_number.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let wants_number = f.auto_number.is_some() || typed.is_some_and(|n| Some(n) != current.office.letter_number.as_deref());
        if wants_number {
            me.require(Role::Pimpinan)?;
        }
        layout::check_length(&mut errors, "letter_number", "Nomor surat", typed.unwrap_or(""), limits::LETTER_NUMBER);
        layout::check_length(&mut errors, "staff_notes", "Catatan kantor", &f.staff_notes, limits::STAFF_NOTES);
        if !errors.is_empty() {
            return Ok(Some((me.clone(), load_detail(tx, cipher, &id2)?, errors)));
        }
        let number = if f.auto_number.is_some() {
            let settings = settings::office_settings(tx)?;
            let k = settings::kelurahan(tx, cipher)?;
            Some(settings::next_letter_number(tx, &settings, &k.region_code, &current.service_code)?)
        } else {
            typed.filter(|_| wants_number).map(str::to_string)
        };
        let notes_changed = f.staff_notes.trim() != current.office.staff_notes.as_deref().unwrap_or("");
        if number.is_some() || notes_changed {
            staff::set_office_fields_of(tx, cipher, &me.account, &id2, number.as_deref(), notes_changed.then_some(f.staff_notes.as_str()))?;
        }
        Ok(None)
    })
    .await?;
    Ok(match out {
        None => Redirect::to(&format!("/permohonan/{id}")).into_response(),
        Some((me, d, errors)) => rerender(me, d, errors),
    })
}

/// `GET /kotak-masuk`: what arrived since the staff member last looked, by officer, and the
/// counts per status.
pub async fn inbox(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, body) = as_web(&s, &headers, Role::Operator, None, |tx, cipher, me| {
        index::catch_up(tx, cipher)?;
        let mark = tx.seen_mark(&me.account.id)?.unwrap_or(0);
        let q = OfficeQuery { doc: DocFilter { kind: "request".into(), ..Default::default() }, after_seq: Some(mark), ..Default::default() };
        let total_new = tx.office_count(&q)?;
        let mut by_officer: BTreeMap<String, Vec<ListRow>> = BTreeMap::new();
        for (id, sealed) in tx.office_rows(&q, 0, 200)? {
            let r = ListRow::open(cipher, &id, &sealed)?;
            by_officer.entry(r.officer_id.clone()).or_default().push(r);
        }
        let counts = tx.status_counts("request")?;
        let complaints = tx.status_counts("complaint")?;
        let devices = tx.devices()?;
        let officers = officer_names(tx)?;
        let cat = settings::catalog(tx, cipher)?;
        if total_new > 0 {
            service::audit(tx, &me.who(), "lihat_kotak_masuk", None)?;
        }
        let name = |id: &str| officers.get(id).cloned().unwrap_or_else(|| id.to_string());
        let count_of = |c: &[(String, u64)], code: &str| c.iter().find(|(s, _)| s == code).map(|(_, n)| *n).unwrap_or(0);
        let body = html! {
            h1 { "Kotak masuk" }
            section.angka {
                @for st in Status::ALL {
                    @let n = count_of(&counts, st.code()) + if st == Status::Terkirim { count_of(&counts, "dicatat") } else { 0 };
                    @if st != Status::Dicatat {
                        a.kartu href={ "/permohonan?status=" (st.code()) } { strong { (n) } span { (st.label()) } }
                    }
                }
                a.kartu href="/pengaduan" { strong { (complaints.iter().filter(|(s, _)| s != "selesai").map(|(_, n)| n).sum::<u64>()) } span { "Pengaduan terbuka" } }
            }
            h2 { "Baru sejak terakhir Anda lihat (" (total_new) ")" }
            @if total_new == 0 {
                p { "Belum ada permohonan baru." }
            } @else {
                @for (officer, rows) in &by_officer {
                    @let last = devices.iter().filter(|d| &d.officer_id == officer).filter_map(|d| d.last_seen).max();
                    h3 { (name(officer)) " " small { "— " (rows.len()) " permohonan" @if let Some(t) = last { ", sinkron terakhir " (when(t)) } } }
                    (request_table(rows, &cat))
                }
                form method="post" action="/kotak-masuk/tandai" {
                    input type="hidden" name="csrf" value=(me.csrf);
                    button type="submit" { "Tandai sudah dilihat" }
                }
            }
        };
        Ok((me.clone(), body))
    })
    .await?;
    Ok(layout::page("Kotak masuk", &me, "/kotak-masuk", body).into_response())
}

/// `POST /kotak-masuk/tandai`: everything up to now counts as seen.
pub async fn mark_seen(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> WebResult<Response> {
    as_web(&s, &headers, Role::Operator, Some(f.csrf), |tx, _, me| {
        let top = tx.top_seq()?;
        Ok(tx.set_seen_mark(&me.account.id, top)?)
    })
    .await?;
    Ok(Redirect::to("/kotak-masuk").into_response())
}

/// A spreadsheet cell that a spreadsheet program will not run as a formula.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

const HEADERS: [&str; 11] =
    ["Kode tanda terima", "Layanan", "Nama", "NIK", "RW", "RT", "Tanggal dicatat", "Status", "Alasan", "Nomor surat", "Petugas"];

fn export_rows(tx: &mut dyn HubTx, cipher: &Cipher, me: &Me, p: &ListParams, kind: &str) -> Result<Vec<[String; 11]>, ServiceError> {
    let q = office_query(p, cipher)?;
    let found = find(tx, cipher, &q, 0, MAX_EXPORT)?;
    let officers = officer_names(tx)?;
    service::audit(tx, &me.who(), &format!("ekspor_permohonan:{kind}:{}", found.rows.len()), None)?;
    Ok(found
        .rows
        .iter()
        .map(|r| {
            [
                r.receipt.clone(),
                service_name(&found.catalog, &r.service_code),
                r.name.clone(),
                r.nik.clone(),
                three_digits(r.rw),
                three_digits(r.rt),
                when(r.created_at),
                r.status.label().to_string(),
                r.reason.clone().unwrap_or_default(),
                r.letter_number.clone().unwrap_or_default(),
                officers.get(&r.officer_id).cloned().unwrap_or_else(|| r.officer_id.clone()),
            ]
        })
        .collect())
}

fn csv_field(s: &str) -> String {
    let s = cell(s);
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn file_name(ext: &str) -> String {
    let d = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms());
    format!("attachment; filename=\"permohonan-{d}.{ext}\"")
}

/// `GET /permohonan/ekspor.csv`: the filtered list (UTF-8 with BOM, so spreadsheet programs
/// read the names right).
pub async fn export_csv(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<ListParams>) -> WebResult<Response> {
    let rows = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| export_rows(tx, cipher, me, &p, "csv")).await?;
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in &rows {
        out.push_str(&r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file_name("csv"))], out)
        .into_response())
}

/// `GET /permohonan/ekspor.xlsx`: the filtered list as an Excel workbook.
pub async fn export_xlsx(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<ListParams>) -> WebResult<Response> {
    let rows = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| export_rows(tx, cipher, me, &p, "xlsx")).await?;
    let bytes = xlsx(&rows).map_err(|_| WebError(ServiceError::Internal))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, file_name("xlsx")),
        ],
        bytes,
    )
        .into_response())
}

fn xlsx(rows: &[[String; 11]]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("Permohonan")?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v)?;
        }
    }
    ws.autofit();
    wb.save_to_buffer()
}

/// What a letter shows.
pub struct Letter {
    /// The request.
    pub r: Request,
    /// Its service's name.
    pub service: String,
    /// The kelurahan.
    pub k: Kelurahan,
    /// Letterhead and signatory.
    pub s: OfficeSettings,
}

fn load_letter(tx: &mut dyn HubTx, cipher: &Cipher, me: &Me, id: &str, action: &str) -> Result<Letter, ServiceError> {
    let r = read_request(tx, cipher, id)?;
    let cat = settings::catalog(tx, cipher)?;
    service::audit(tx, &me.who(), action, Some(id))?;
    Ok(Letter { service: service_name(&cat, &r.service_code), k: settings::kelurahan(tx, cipher)?, s: settings::office_settings(tx)?, r })
}

/// The kelurahan's letterhead: government, kecamatan and kelurahan (upper case), then the
/// office's address, phone and e-mail (every printed page of the office uses it).
pub(crate) fn letterhead(k: &Kelurahan, s: &OfficeSettings) -> [String; 4] {
    let mut contact = k.office_address.clone();
    if !s.phone.is_empty() {
        contact.push_str(&format!(" · Telp. {}", s.phone));
    }
    if !s.email.is_empty() {
        contact.push_str(&format!(" · {}", s.email));
    }
    [s.government.to_uppercase(), format!("KECAMATAN {}", k.kecamatan.to_uppercase()), k.name.to_uppercase(), contact]
}

/// The letterhead's four lines as a printed page's header.
pub(crate) fn kop([government, kecamatan, kelurahan, contact]: [String; 4]) -> maud::Markup {
    html! {
        header.kop {
            div.kop-1 { (government) }
            div.kop-2 { (kecamatan) }
            div.kop-3 { (kelurahan) }
            div.kop-4 { (contact) }
        }
    }
}

/// The letter's last sentence.
pub const CLOSING: &str = "Demikian surat pengantar ini dibuat untuk dipergunakan sebagaimana mestinya.";
/// What the receipt tells the resident to do with it.
pub const RECEIPT_NOTE: &str = "Simpan kode di atas. Status permohonan dapat dicek di kantor kelurahan atau di halaman Cek Tanda Terima.";

/// What the printed page and the hub's PDF both show: the words are made here once.
impl Letter {
    /// The letterhead: government, kecamatan and kelurahan (upper case), then the office's
    /// address, phone and e-mail.
    pub fn letterhead(&self) -> [String; 4] {
        letterhead(&self.k, &self.s)
    }

    /// The letter number, or dots to write it in by hand.
    pub fn number(&self) -> String {
        format!("Nomor: {}", self.r.office.letter_number.as_deref().unwrap_or("……………"))
    }

    /// The sentence that opens the letter.
    pub fn opening(&self) -> String {
        format!(
            "Yang bertanda tangan di bawah ini {} {}, Kecamatan {}, {}, menerangkan bahwa:",
            self.s.signer_title, self.k.name, self.k.kecamatan, self.k.city
        )
    }

    /// The lines of the letter's body: (label, value).
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let a = &self.r.applicant;
        let mut v = vec![
            ("Nama", a.name.clone()),
            ("NIK", a.nik.clone()),
            ("Tempat, tanggal lahir", format!("{}, {}", a.birth_place, iso_date_words(&a.birth_date))),
            ("Jenis kelamin", if a.sex == jemput_core::Sex::LakiLaki { "Laki-laki".into() } else { "Perempuan".into() }),
            ("Alamat", format!("{}, {}", a.address.street, area(a.address.rw, a.address.rt))),
            ("Keperluan", self.service.clone()),
        ];
        for val in sorted(&self.r.fields).into_values() {
            v.push(("Keterangan", iso_date_words(val)));
        }
        v
    }

    /// Above the signature: the place and today's date, then the signatory's title.
    pub fn signed(&self) -> [String; 2] {
        [format!("{}, {}", self.k.city, date_words(jemput_core::time_util::now_ms())), format!("{} {}", self.s.signer_title, self.k.name)]
    }

    /// The receipt's lines: (label, value).
    pub fn receipt_lines(&self) -> [(&'static str, String); 5] {
        [
            ("Kode tanda terima", self.r.receipt.clone()),
            ("Layanan", self.service.clone()),
            ("Nama", self.r.applicant.name.clone()),
            ("Dicatat", date_words(self.r.created_at)),
            ("Status", self.r.status().label().to_string()),
        ]
    }
}

/// `GET /permohonan/{id}/cetak`: the letter on A4 with the letterhead, and the receipt, for
/// the browser's print (print stylesheet).
pub async fn print(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> WebResult<Response> {
    let l = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| load_letter(tx, cipher, me, &id, "cetak_surat")).await?;
    let body = html! {
        div.layar-saja { p { a href={ "/permohonan/" (l.r.id) } { "‹ Kembali" } " " button type="button" data-cetak { "Cetak" } } }
        article.surat {
            (kop(l.letterhead()))
            h2.judul-surat { "SURAT PENGANTAR" }
            p.nomor { (l.number()) }
            p { (l.opening()) }
            table.isi { @for (k, v) in l.lines() { tr { td { (k) } td { ":" } td { (v) } } } }
            p { (CLOSING) }
            div.ttd {
                @let [place_date, title] = l.signed();
                p { (place_date) }
                p { (title) }
                div.ruang-ttd {}
                p.nama-ttd { (l.s.signer_name) }
                @if !l.s.signer_nip.is_empty() { p { "NIP. " (l.s.signer_nip) } }
            }
        }
        article.tanda-terima {
            h2 { "TANDA TERIMA PERMOHONAN" }
            p { (l.k.name) " · " (l.k.office_address) }
            table.isi {
                @for (i, (k, v)) in l.receipt_lines().into_iter().enumerate() {
                    tr { td { (k) } td { ":" } td { @if i == 0 { strong { (v) } } @else { (v) } } }
                }
            }
            p.kecil { (RECEIPT_NOTE) }
        }
    };
    Ok(layout::bare("Cetak surat", body).into_response())
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    ([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\""))], bytes)
        .into_response()
}

/// `GET /permohonan/{id}/surat.pdf`: the letter as a PDF made by the hub.
pub async fn letter_pdf(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> WebResult<Response> {
    let l = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| load_letter(tx, cipher, me, &id, "cetak_surat_pdf")).await?;
    let name = format!("surat-{}.pdf", l.r.receipt);
    Ok(pdf_response(super::pdf::letter(&l), &name))
}

/// `GET /permohonan/{id}/tanda-terima.pdf`: the receipt as a PDF made by the hub.
pub async fn receipt_pdf(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> WebResult<Response> {
    let l = as_web(&s, &headers, Role::Operator, None, move |tx, cipher, me| load_letter(tx, cipher, me, &id, "cetak_tanda_terima_pdf"))
        .await?;
    let name = format!("tanda-terima-{}.pdf", l.r.receipt);
    Ok(pdf_response(super::pdf::receipt(&l), &name))
}

/// A request's map in key order: the core keeps `HashMap`s (the FFI maps to one), so a page
/// lists their entries the same way every time.
pub(crate) fn sorted<V>(map: &std::collections::HashMap<String, V>) -> std::collections::BTreeMap<&String, &V> {
    map.iter().collect()
}
