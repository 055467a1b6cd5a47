//! Access requests (UU PDP No. 27/2022: a resident may see the personal data held about them,
//! ADR 0015). Staff of the lurah/sekretaris or admin role give a NIK; the hub finds every
//! request and complaint where that NIK appears (as the applicant, in an extra field such as
//! the deceased's NIK, or typed into a complaint) through a blind tag (keyed BLAKE3 under the
//! hub's data key, ADR 0001/0012): the NIK is never stored or logged in clear. The result is
//! given to the resident as JSON (staff API, command line) or as a printable page with the
//! kelurahan's letterhead. Every access request is audited with who made it and the NIK's blind
//! tag, never the NIK.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use jemput_core::crypto::Cipher;
use jemput_core::document;
use jemput_core::request::Role as ActorRole;
use jemput_core::{Complaint, Request};
use maud::html;
use serde::{Deserialize, Serialize};

use super::auth::{as_web, Me, Role};
use super::requests::{kop, letterhead, sorted};
use super::settings::{self, OfficeSettings};
use super::{date_words, index, iso_date_words, layout, when, WebResult};
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::HubTx;

/// Where the complaint part of the access index stands (change-log sequence).
const COMPLAINT_SEQ_KEY: &str = "akses_pengaduan_seq";
/// The audit action of an access request (followed by `:nik#` and the NIK's blind tag).
pub const AUDIT_ACTION: &str = "akses_data_pribadi";

/// The blind tag of a NIK for access requests (a purpose of its own, so the office's NIK search
/// keeps matching applicants only).
pub fn access_tag(cipher: &Cipher, nik: &str) -> i64 {
    cipher.tag("akses:nik", nik.trim())
}

/// The runs of exactly 16 digits in a text: what may be a NIK.
fn numbers_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|w| w.len() == 16)
}

/// Where `nik` appears in a request, as a person reads it ("Pemohon", "Keterangan: …").
fn found_in_request(r: &Request, nik: &str) -> Vec<String> {
    let mut at = Vec::new();
    if r.applicant.nik.trim() == nik {
        at.push("Pemohon".to_string());
    }
    let mut keys: Vec<&String> = r.fields.iter().filter(|(_, v)| numbers_in(v).any(|n| n == nik)).map(|(k, _)| k).collect();
    keys.sort();
    at.extend(keys.into_iter().map(|k| format!("Keterangan: {}", k.replace('_', " "))));
    if numbers_in(&r.notes).any(|n| n == nik) {
        at.push("Catatan petugas".into());
    }
    at
}

/// The texts of a complaint a NIK may be typed into, with how a person names each.
fn complaint_texts(c: &Complaint) -> Vec<(&'static str, &str)> {
    let mut v = vec![("Topik", c.topic.as_str()), ("Isi", c.text.as_str()), ("Tempat", c.place.description.as_str())];
    if let Some(r) = &c.reporter {
        v.push(("Pelapor", r.name.as_str()));
    }
    v
}

fn found_in_complaint(c: &Complaint, nik: &str) -> Vec<String> {
    complaint_texts(c).into_iter().filter(|(_, t)| numbers_in(t).any(|n| n == nik)).map(|(l, _)| l.to_string()).collect()
}

/// The access tags of a request: its applicant's NIK and every 16-digit number in its extra
/// fields and notes (the office index stores them with the request's other tags).
pub fn request_tags(cipher: &Cipher, r: &Request) -> Vec<i64> {
    let mut t = vec![access_tag(cipher, &r.applicant.nik)];
    for v in r.fields.values() {
        t.extend(numbers_in(v).map(|n| access_tag(cipher, n)));
    }
    t.extend(numbers_in(&r.notes).map(|n| access_tag(cipher, n)));
    t
}

/// Brings the access tags of complaints up to date (requests are tagged by the office index,
/// [`index::catch_up`]).
pub fn catch_up_complaints(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<(), ServiceError> {
    let mut after = tx.meta(COMPLAINT_SEQ_KEY)?.and_then(|b| b.try_into().ok()).map(i64::from_le_bytes).unwrap_or(0);
    let start = after;
    loop {
        let batch = tx.docs_after("complaint", after, 500)?;
        let Some((last, _)) = batch.last() else { break };
        let last = *last;
        for (_, id) in batch {
            let Some(doc) = service::load_doc(tx, cipher, &id, false)? else { continue };
            let Ok(c) = document::read::<Complaint>(&doc) else { continue };
            let mut tags: Vec<i64> =
                complaint_texts(&c).into_iter().flat_map(|(_, t)| numbers_in(t)).map(|n| access_tag(cipher, n)).collect();
            tags.sort_unstable();
            tags.dedup();
            tx.put_doc_tags(&id, &tags)?;
        }
        after = last;
    }
    if after != start {
        tx.set_meta(COMPLAINT_SEQ_KEY, &after.to_le_bytes())?;
    }
    Ok(())
}

/// Forgets how far the complaint tags got, so the next catch-up tags every complaint again
/// (after a key rotation, whose new key gives new tags).
pub fn reset_complaint_tags(tx: &mut dyn HubTx) -> Result<(), ServiceError> {
    Ok(tx.set_meta(COMPLAINT_SEQ_KEY, &0i64.to_le_bytes())?)
}

/// A request held about the resident.
#[derive(Debug, Clone, Serialize)]
pub struct HeldRequest {
    /// Where the NIK appears in it.
    pub found_in: Vec<String>,
    /// The service's name.
    pub service_name: String,
    /// The documents the officer saw, as the catalog names them.
    pub documents_seen: Vec<String>,
    /// The request as the hub holds it (with its status history).
    pub request: Request,
}

/// A complaint held about the resident.
#[derive(Debug, Clone, Serialize)]
pub struct HeldComplaint {
    /// Where the NIK appears in it.
    pub found_in: Vec<String>,
    /// The complaint as the hub holds it (with its status history).
    pub complaint: Complaint,
}

/// Everything the hub holds about one NIK: the answer to an access request.
#[derive(Debug, Clone, Serialize)]
pub struct AccessReport {
    /// The NIK asked about.
    pub nik: String,
    /// The kelurahan that holds the data.
    pub kelurahan: String,
    /// When the answer was made (ms since epoch).
    pub made_at: i64,
    /// Who made it (the staff member's name, or "sistem" from the command line).
    pub made_by: String,
    /// Requests where the NIK appears, oldest first.
    pub requests: Vec<HeldRequest>,
    /// Complaints where the NIK appears, oldest first.
    pub complaints: Vec<HeldComplaint>,
}

/// Finds everything held about `nik` and audits the access as `actor` (`staf:ID`, or
/// `sistem:cli`) named `made_by`. An invalid NIK is refused with the core validator's code and
/// message; nothing is audited then.
pub fn access_report(tx: &mut dyn HubTx, cipher: &Cipher, nik: &str, actor: &str, made_by: &str) -> Result<AccessReport, ServiceError> {
    let nik = nik.trim();
    if let Some(issue) = jemput_core::validation::nik::validate_nik_format("nik", nik).into_iter().find(|i| i.is_error()) {
        return Err(ServiceError::Invalid(issue.code, issue.message));
    }
    index::catch_up(tx, cipher)?;
    catch_up_complaints(tx, cipher)?;
    let tag = access_tag(cipher, nik);
    let catalog = settings::catalog(tx, cipher)?;
    let mut requests = Vec::new();
    let mut complaints = Vec::new();
    for (id, kind) in tx.docs_with_tag(tag)? {
        let Some(doc) = service::load_doc(tx, cipher, &id, false)? else { continue };
        match kind.as_str() {
            "request" => {
                let Ok(mut r) = document::read::<Request>(&doc) else { continue };
                r.mark_received();
                let found_in = found_in_request(&r, nik);
                // A tag is 64 bits: a different number with the same tag is left out.
                if !found_in.is_empty() {
                    let service = catalog.service(&r.service_code);
                    let service_name = service.map(|s| s.name.clone()).unwrap_or_else(|| r.service_code.clone());
                    let label = |code: &str| {
                        service
                            .and_then(|s| s.requirements.iter().find(|q| q.code == code))
                            .map(|q| q.label.clone())
                            .unwrap_or_else(|| code.to_string())
                    };
                    let mut documents_seen: Vec<String> = r.checklist.iter().filter(|(_, seen)| **seen).map(|(c, _)| label(c)).collect();
                    documents_seen.sort();
                    requests.push(HeldRequest { found_in, service_name, documents_seen, request: r });
                }
            }
            "complaint" => {
                let Ok(c) = document::read::<Complaint>(&doc) else { continue };
                let found_in = found_in_complaint(&c, nik);
                if !found_in.is_empty() {
                    complaints.push(HeldComplaint { found_in, complaint: c });
                }
            }
            _ => {}
        }
    }
    requests.sort_by_key(|h| h.request.created_at);
    complaints.sort_by_key(|h| h.complaint.created_at);
    let action = format!("{AUDIT_ACTION}:nik#{:016x}", tag as u64);
    for id in requests.iter().map(|h| &h.request.id).chain(complaints.iter().map(|h| &h.complaint.id)) {
        service::audit(tx, actor, &action, Some(id))?;
    }
    service::audit(tx, actor, &format!("{action}:{}_catatan", requests.len() + complaints.len()), None)?;
    Ok(AccessReport {
        nik: nik.to_string(),
        kelurahan: settings::kelurahan(tx, cipher)?.name,
        made_at: jemput_core::time_util::now_ms(),
        made_by: made_by.to_string(),
        requests,
        complaints,
    })
}

/// The access request form.
#[derive(Deserialize)]
pub struct AccessForm {
    /// CSRF token.
    pub csrf: String,
    /// The resident's NIK.
    pub nik: String,
}

fn form_page(me: &Me, nik: &str, error: Option<&str>) -> maud::Markup {
    html! {
        h1 { "Permintaan akses data pribadi" }
        p { "Warga berhak melihat data pribadi yang disimpan kelurahan tentang dirinya (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi). "
            "Masukkan NIK warga untuk mencetak semua permohonan dan pengaduan yang memuat NIK tersebut. Setiap permintaan dicatat di jejak audit." }
        form method="post" action="/akses" {
            input type="hidden" name="csrf" value=(me.csrf);
            label for="nik" { "NIK warga" }
            input #nik type="text" name="nik" value=(nik) inputmode="numeric" maxlength="32" autocomplete="off" required;
            @if let Some(e) = error { span.galat-isian role="alert" { (e) } }
            button type="submit" { "Tampilkan data untuk dicetak" }
        }
    }
}

/// `GET /akses`: the form (lurah/sekretaris and admin).
pub async fn form(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let me = as_web(&s, &headers, Role::Pimpinan, None, |_, _, me| Ok(me.clone())).await?;
    Ok(layout::page("Akses data pribadi", &me, "/akses", form_page(&me, "", None)).into_response())
}

/// What the printed answer needs besides the report.
struct Printed {
    report: AccessReport,
    kelurahan: jemput_core::Kelurahan,
    office: OfficeSettings,
    people: HashMap<String, String>,
}

/// `POST /akses`: the printable answer (the NIK travels in the form's body, never in an
/// address that a browser's history or a proxy's log keeps).
pub async fn submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<AccessForm>) -> WebResult<Response> {
    let nik = f.nik.chars().take(64).collect::<String>();
    let n = nik.clone();
    let out = as_web(&s, &headers, Role::Pimpinan, Some(f.csrf), move |tx, cipher, me| {
        match access_report(tx, cipher, &n, &me.who(), &me.account.name) {
            Ok(report) => {
                let mut people: HashMap<String, String> = tx.officers()?.into_iter().map(|o| (o.id, o.name)).collect();
                people.extend(tx.staff_accounts()?.into_iter().map(|s| (s.id, s.name)));
                Ok(Ok(Printed { report, kelurahan: settings::kelurahan(tx, cipher)?, office: settings::office_settings(tx)?, people }))
            }
            Err(ServiceError::Invalid(_, msg)) => Ok(Err((me.clone(), msg))),
            Err(e) => Err(e),
        }
    })
    .await?;
    match out {
        Ok(p) => Ok(layout::bare("Data pribadi warga", printed(&p)).into_response()),
        Err((me, msg)) => {
            Ok((axum::http::StatusCode::BAD_REQUEST, layout::page("Akses data pribadi", &me, "/akses", form_page(&me, &nik, Some(&msg))))
                .into_response())
        }
    }
}

fn actor_label(people: &HashMap<String, String>, role: ActorRole, id: &str) -> String {
    let who = people.get(id).cloned().unwrap_or_else(|| id.to_string());
    match role {
        ActorRole::Petugas => format!("Petugas {who}"),
        ActorRole::Staf => format!("Staf {who}"),
        ActorRole::Sistem => "Sistem".into(),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The printable answer: A4, the letterhead, each record with where the NIK appears, what is
/// held and its status history.
fn printed(p: &Printed) -> maud::Markup {
    let r = &p.report;
    html! {
        div.layar-saja { p { a href="/akses" { "‹ Kembali" } " " button type="button" data-cetak { "Cetak" } } }
        article.surat.akses {
            (kop(letterhead(&p.kelurahan, &p.office)))
            h2.judul-surat { "DATA PRIBADI YANG DISIMPAN" }
            p.nomor { "Jawaban atas permintaan akses data pribadi (UU No. 27 Tahun 2022)" }
            table.isi {
                tr { td { "NIK yang diminta" } td { ":" } td { strong { (r.nik) } } }
                tr { td { "Dibuat" } td { ":" } td { (when(r.made_at)) " WIB oleh " (r.made_by) } }
                tr { td { "Jumlah catatan" } td { ":" } td { (r.requests.len()) " permohonan, " (r.complaints.len()) " pengaduan" } }
            }
            @if r.requests.is_empty() && r.complaints.is_empty() {
                p { "Kelurahan " (p.kelurahan.name) " tidak menyimpan permohonan atau pengaduan yang memuat NIK ini." }
            }
            @for (i, h) in r.requests.iter().enumerate() {
                @let q = &h.request;
                @let a = &q.applicant;
                section.catatan {
                    h3 { "Permohonan " (i + 1) ": " (h.service_name) " (" (q.receipt) ")" }
                    table.isi {
                        tr { td { "NIK tercantum sebagai" } td { ":" } td { (h.found_in.join(", ")) } }
                        tr { td { "Nama" } td { ":" } td { (a.name) } }
                        tr { td { "NIK" } td { ":" } td { (a.nik) } }
                        tr { td { "No. KK" } td { ":" } td { (a.kk) } }
                        tr { td { "Tempat, tanggal lahir" } td { ":" } td { (a.birth_place) ", " (iso_date_words(&a.birth_date)) } }
                        tr { td { "Jenis kelamin" } td { ":" } td { (if a.sex == jemput_core::Sex::LakiLaki { "Laki-laki" } else { "Perempuan" }) } }
                        tr { td { "Alamat" } td { ":" } td { (a.address.street) ", RT " (a.address.rt) "/RW " (a.address.rw) } }
                        tr { td { "Telepon" } td { ":" } td { (a.phone.as_deref().unwrap_or("-")) } }
                        @for (k, v) in sorted(&q.fields) { tr { td { (capital(&k.replace('_', " "))) } td { ":" } td { (iso_date_words(v)) } } }
                        tr { td { "Dokumen diperlihatkan" } td { ":" } td { (if h.documents_seen.is_empty() { "-".to_string() } else { h.documents_seen.join("; ") }) } }
                        @if !q.notes.is_empty() { tr { td { "Catatan petugas" } td { ":" } td { (q.notes) } } }
                        @if let Some(n) = &q.office.staff_notes { tr { td { "Catatan kantor" } td { ":" } td { (n) } } }
                        tr { td { "Dicatat" } td { ":" } td { (date_words(q.created_at)) " oleh " (actor_label(&p.people, ActorRole::Petugas, &q.officer_id)) } }
                        tr { td { "Status" } td { ":" } td { (q.status().label()) } }
                        tr { td { "Nomor surat" } td { ":" } td { (q.office.letter_number.as_deref().unwrap_or("-")) } }
                    }
                    table.riwayat {
                        thead { tr { th { "Waktu" } th { "Status" } th { "Oleh" } th { "Alasan" } } }
                        tbody {
                            @for s in &q.history {
                                tr { td { (when(s.at)) } td { (s.status.label()) } td { (actor_label(&p.people, s.by.role, &s.by.id)) } td { (s.reason.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
            @for (i, h) in r.complaints.iter().enumerate() {
                @let c = &h.complaint;
                section.catatan {
                    h3 { "Pengaduan " (i + 1) ": " (c.topic) " (" (c.receipt) ")" }
                    table.isi {
                        tr { td { "NIK tercantum di" } td { ":" } td { (h.found_in.join(", ")) } }
                        tr { td { "Kategori" } td { ":" } td { (capital(c.category.code())) } }
                        tr { td { "Isi" } td { ":" } td { (c.text) } }
                        tr { td { "Tempat" } td { ":" } td { (c.place.description) ", RT " (c.place.rt) "/RW " (c.place.rw) } }
                        tr { td { "Pelapor" } td { ":" } td { (c.reporter.as_ref().map(|r| r.name.as_str()).unwrap_or("Tanpa nama")) } }
                        tr { td { "Dicatat" } td { ":" } td { (date_words(c.created_at)) } }
                        tr { td { "Status" } td { ":" } td { (capital(c.status().code())) } }
                    }
                    table.riwayat {
                        thead { tr { th { "Waktu" } th { "Status" } th { "Oleh" } th { "Jawaban" } } }
                        tbody {
                            @for u in &c.updates {
                                tr { td { (when(u.at)) } td { (capital(u.status.code())) } td { (actor_label(&p.people, u.by.role, &u.by.id)) } td { (u.response.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
            p { "Data di atas adalah seluruh data pribadi yang memuat NIK tersebut dan disimpan di server kelurahan pada saat surat ini dibuat. "
                "Data juga tersimpan terenkripsi di HP petugas RT/RW yang mencatatnya. Warga dapat meminta perbaikan atau penghapusan data di kantor kelurahan." }
            div.ttd {
                p { (p.kelurahan.city) ", " (date_words(r.made_at)) }
                p { (p.office.signer_title) " " (p.kelurahan.name) }
                div.ruang-ttd {}
                p.nama-ttd { (p.office.signer_name) }
                @if !p.office.signer_nip.is_empty() { p { "NIP. " (p.office.signer_nip) } }
            }
        }
    }
}
