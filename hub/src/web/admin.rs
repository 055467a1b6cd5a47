//! Admin pages: officers and their devices (add with a scope, the enrolment QR code on screen,
//! last sync, revoke), staff accounts (add with a role and password, deactivate) and the audit
//! log (list and filter).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::kelurahan::three_digits;
use jemput_core::permissions::Scope;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::auth::{self, as_web, CsrfForm, Me, Role};
use super::layout::{self, field_error};
use super::settings;
use super::{day_start_ms, when, WebResult};
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::HubTx;
use crate::storage::{AuditFilter, DeviceRow, Officer};

type Errors = Vec<(String, String)>;

/// The add-officer form.
#[derive(Deserialize, Default, Clone)]
pub struct OfficerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    rw: String,
    #[serde(default)]
    rt: String,
}

fn officers_page(me: &Me, officers: &[Officer], devices: &[DeviceRow], f: &OfficerForm, e: &Errors, extra: Option<Markup>) -> Markup {
    html! {
        h1 { "Petugas & perangkat" }
        @if let Some(x) = extra { (x) }
        section {
            h2 { "Tambah petugas" }
            form.baris method="post" action="/petugas" {
                input type="hidden" name="csrf" value=(me.csrf);
                div.isian { label for="o-name" { "Nama" } input #o-name type="text" name="name" value=(f.name) required; (field_error(e, "name")) }
                div.isian { label for="o-rw" { "RW" } input #o-rw type="number" min="1" name="rw" value=(f.rw) required; (field_error(e, "rw")) }
                div.isian { label for="o-rt" { "RT" } input #o-rt type="number" min="1" name="rt" value=(f.rt); small { "kosongkan untuk seluruh RW" } (field_error(e, "rt")) }
                div.tombol { button type="submit" { "Tambah" } }
            }
        }
        table.daftar {
            thead { tr { th { "Petugas" } th { "Wilayah" } th { "Perangkat (sinkron terakhir · yang masih harus dikirim)" } th { "Tindakan" } } }
            tbody {
                @for o in officers {
                    tr.dicabut[!o.active] {
                        td { (o.name) br; small { code { (o.id) } } }
                        td { "RW " (three_digits(o.rw)) @match o.rt { Some(rt) => { " RT " (three_digits(rt)) }, None => { " (semua RT)" } } }
                        td {
                            @for d in devices.iter().filter(|d| d.officer_id == o.id) {
                                div {
                                    (d.name) " — " (d.last_seen.map(when).unwrap_or_else(|| "belum pernah".into()))
                                    @if d.last_seen.is_some() {
                                        " · "
                                        @match d.backlog {
                                            Some(b) if b.total() > 0 => strong.sisa { (b.describe()) },
                                            Some(b) => span { (b.describe()) },
                                            None => small { "sisa kiriman tidak dilaporkan (aplikasi versi lama)" },
                                        }
                                    }
                                    @if d.revoked_at.is_some() { " (dicabut)" } @else {
                                        form.sebaris method="post" action={ "/perangkat/" (d.id) "/cabut" } data-yakin="Cabut perangkat ini? HP tidak bisa sinkron lagi." {
                                            input type="hidden" name="csrf" value=(me.csrf);
                                            button.tautan type="submit" { "cabut" }
                                        }
                                    }
                                }
                            }
                        }
                        td {
                            @if o.active {
                                form.sebaris method="post" action={ "/petugas/" (o.id) "/kode" } {
                                    input type="hidden" name="csrf" value=(me.csrf);
                                    button type="submit" { "Kode QR pendaftaran" }
                                }
                                form.sebaris method="post" action={ "/petugas/" (o.id) "/cabut" } data-yakin="Cabut petugas ini beserta semua perangkatnya?" {
                                    input type="hidden" name="csrf" value=(me.csrf);
                                    button.bahaya type="submit" { "Cabut" }
                                }
                            } @else { "dicabut" }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /petugas` (admin).
pub async fn officers(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, o, d) = as_web(&s, &headers, Role::Admin, None, |tx, _, me| Ok((me.clone(), tx.officers()?, tx.devices()?))).await?;
    Ok(layout::page("Petugas", &me, "/petugas", officers_page(&me, &o, &d, &OfficerForm::default(), &Vec::new(), None)).into_response())
}

/// `POST /petugas` (admin): a new officer for one RT or a whole RW of this kelurahan.
pub async fn add_officer(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<OfficerForm>) -> WebResult<Response> {
    let f2 = f.clone();
    let out = as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), move |tx, cipher, me| {
        let mut e = Errors::new();
        let name = f2.name.trim();
        if let Some(i) = jemput_core::validation::request::validate_name("name", name).into_iter().find(|i| i.is_error()) {
            e.push(("name".into(), i.message));
        }
        let rw = f2.rw.trim().parse::<u16>().ok().filter(|n| *n > 0);
        let rt = match f2.rt.trim() {
            "" => Ok(None),
            x => x.parse::<u16>().ok().filter(|n| *n > 0).map(Some).ok_or(()),
        };
        let k = settings::kelurahan(tx, cipher)?;
        match (rw, rt) {
            (None, _) => e.push(("rw".into(), "Nomor RW wajib diisi".into())),
            (_, Err(())) => e.push(("rt".into(), "Nomor RT tidak valid".into())),
            (Some(rw), Ok(None)) if !k.has_rw(rw) => e.push(("rw".into(), format!("RW {} tidak ada di kelurahan ini", three_digits(rw)))),
            (Some(rw), Ok(Some(rt))) if !k.has_rt(rw, rt) => {
                e.push(("rt".into(), format!("RT {} tidak ada di RW {}", three_digits(rt), three_digits(rw))))
            }
            _ => {}
        }
        if e.is_empty() {
            if let (Some(rw), Ok(rt)) = (rw, rt) {
                service::add_officer_as(tx, name, Scope { rw, rt }, &me.who())?;
                return Ok(None);
            }
        }
        Ok(Some((me.clone(), tx.officers()?, tx.devices()?, e)))
    })
    .await?;
    Ok(match out {
        None => Redirect::to("/petugas").into_response(),
        Some((me, o, d, e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, layout::page("Petugas", &me, "/petugas", officers_page(&me, &o, &d, &f, &e, None)))
                .into_response()
        }
    })
}

/// The QR code of `payload` as inline SVG (drawn by the hub).
pub fn qr_svg(payload: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).map_err(|_| ServiceError::Internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(260, 260)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The enrolment QR payload: the hub's address, the one-time code and, when the hub serves
/// HTTPS itself, its certificate's fingerprint.
pub fn enrol_payload(hub_url: &str, code: &str, fingerprint: Option<&str>) -> String {
    let mut u = url::Url::parse(&crate::setup::qr_payload(hub_url, code)).expect("qr_payload gives a URL");
    if let Some(fp) = fingerprint {
        u.query_pairs_mut().append_pair("sidik", fp);
    }
    u.to_string()
}

/// `POST /petugas/{id}/kode` (admin): a one-time enrolment code, shown with its QR code.
pub async fn enrol_code(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    let url = super::hub_url(&headers);
    let fp = super::options().cert_fingerprint;
    let (me, officer, code, o, d) = as_web(&s, &headers, Role::Admin, Some(f.csrf), move |tx, _, me| {
        let officer = tx.officer(&id)?.ok_or(ServiceError::NotFound("petugas tidak ditemukan"))?;
        let code = service::create_enrol_code(tx, &id, 48)?;
        service::audit(tx, &me.who(), &format!("kode_pendaftaran:{id}"), None)?;
        Ok((me.clone(), officer, code, tx.officers()?, tx.devices()?))
    })
    .await?;
    let payload = enrol_payload(&url, &code, fp.as_deref());
    let svg = qr_svg(&payload)?;
    let extra = html! {
        section.qr #kode-qr {
            h2 { "Pendaftaran HP untuk " (officer.name) }
            div.qr-gambar data-isi=(payload) { (PreEscaped(svg)) }
            dl {
                dt { "Alamat hub" } dd { code { (url) } }
                dt { "Kode sekali pakai" } dd { code.kode-besar data-kode { (code) } }
                @if let Some(fp) = &fp { dt { "Sidik sertifikat (SHA-256)" } dd { code.kecil { (fp) } } }
                dt { "Berlaku" } dd { "48 jam, sekali pakai" }
            }
            p.kecil { "Pindai kode QR ini dengan aplikasi Jemput di HP petugas, atau ketik alamat hub dan kodenya." }
        }
    };
    Ok(layout::page("Petugas", &me, "/petugas", officers_page(&me, &o, &d, &OfficerForm::default(), &Vec::new(), Some(extra)))
        .into_response())
}

/// `POST /petugas/{id}/cabut` (admin): the officer and all their devices.
pub async fn revoke_officer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    as_web(&s, &headers, Role::Admin, Some(f.csrf), move |tx, _, me| service::revoke_officer_as(tx, &id, &me.who())).await?;
    Ok(Redirect::to("/petugas").into_response())
}

/// `POST /perangkat/{id}/cabut` (admin).
pub async fn revoke_device(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    as_web(&s, &headers, Role::Admin, Some(f.csrf), move |tx, _, me| service::revoke_device_as(tx, &id, &me.who())).await?;
    Ok(Redirect::to("/petugas").into_response())
}

/// The add-staff form.
#[derive(Deserialize, Default, Clone)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

struct StaffRow {
    id: String,
    name: String,
    active: bool,
    role: Role,
    username: Option<String>,
}

fn staff_rows(tx: &mut dyn HubTx) -> Result<Vec<StaffRow>, ServiceError> {
    let mut out = Vec::new();
    for a in tx.staff_accounts()? {
        let p = tx.staff_profile(&a.id)?;
        out.push(StaffRow {
            role: auth::role_of(tx, &a.id)?,
            username: p.and_then(|p| p.username),
            id: a.id,
            name: a.name,
            active: a.active,
        });
    }
    Ok(out)
}

fn staff_page(me: &Me, rows: &[StaffRow], f: &StaffForm, e: &Errors) -> Markup {
    html! {
        h1 { "Akun staf" }
        table.daftar {
            thead { tr { th { "Nama" } th { "Nama pengguna" } th { "Peran" } th { "Status" } th {} } }
            tbody {
                @for r in rows {
                    tr.dicabut[!r.active] {
                        td { (r.name) } td { (r.username.as_deref().unwrap_or("(hanya token API)")) } td { (r.role.label()) }
                        td { (if r.active { "aktif" } else { "nonaktif" }) }
                        td { @if r.active && r.id != me.account.id {
                            form.sebaris method="post" action={ "/staf/" (r.id) "/nonaktifkan" } data-yakin="Nonaktifkan akun ini?" {
                                input type="hidden" name="csrf" value=(me.csrf);
                                button.bahaya type="submit" { "Nonaktifkan" }
                            }
                        } }
                    }
                }
            }
        }
        h2 { "Tambah akun" }
        form method="post" action="/staf" {
            input type="hidden" name="csrf" value=(me.csrf);
            div.isian { label for="s-name" { "Nama lengkap" } input #s-name type="text" name="name" value=(f.name) required; (field_error(e, "name")) }
            div.isian { label for="s-user" { "Nama pengguna" } input #s-user type="text" name="username" value=(f.username) required autocomplete="off"; (field_error(e, "username")) }
            div.isian { label for="s-role" { "Peran" }
                select #s-role name="role" { @for r in Role::ALL { option value=(r.code()) selected[f.role == r.code()] { (r.label()) } } } (field_error(e, "role")) }
            div.isian { label for="s-pw" { "Kata sandi" } input #s-pw type="password" name="password" autocomplete="new-password" required; small { "paling sedikit 10 karakter" } (field_error(e, "password")) }
            div.isian { label for="s-pw2" { "Ulangi kata sandi" } input #s-pw2 type="password" name="password2" autocomplete="new-password" required; }
            button type="submit" { "Tambah akun" }
        }
    }
}

/// `GET /staf` (admin).
pub async fn staff(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, rows) = as_web(&s, &headers, Role::Admin, None, |tx, _, me| Ok((me.clone(), staff_rows(tx)?))).await?;
    Ok(layout::page("Akun staf", &me, "/staf", staff_page(&me, &rows, &StaffForm::default(), &Vec::new())).into_response())
}

/// Validates a new account's name, user name, role and password.
pub fn check_account(name: &str, username: &str, role: &str, password: &str, password2: &str) -> Result<(String, Role, String), Errors> {
    let mut e = Errors::new();
    if let Some(i) = jemput_core::validation::request::validate_name("name", name.trim()).into_iter().find(|i| i.is_error()) {
        e.push(("name".into(), i.message));
    }
    let user = auth::check_username(username).map_err(|m| e.push(("username".into(), m.into()))).ok();
    let role = Role::from_code(role);
    if role.is_none() {
        e.push(("role".into(), "Pilih peran".into()));
    }
    if let Err(m) = auth::check_password(password, password2) {
        e.push(("password".into(), m.into()));
    }
    match (user, role) {
        (Some(u), Some(r)) if e.is_empty() => Ok((u, r, name.trim().to_string())),
        _ => Err(e),
    }
}

/// `POST /staf` (admin).
pub async fn add_staff(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<StaffForm>) -> WebResult<Response> {
    // The role and token first: the password is hashed only for an admin's valid form.
    as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), |_, _, _| Ok(())).await?;
    let checked = check_account(&f.name, &f.username, &f.role, &f.password, &f.password2);
    let hash = match &checked {
        Ok(_) => Some(
            tokio::task::spawn_blocking({
                let pw = f.password.clone();
                move || auth::hash_password(&pw)
            })
            .await
            .map_err(|_| ServiceError::Internal)??,
        ),
        Err(_) => None,
    };
    let mut f2 = f.clone();
    f2.password.clear();
    f2.password2.clear();
    let out = as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), move |tx, _, me| {
        let mut e = match &checked {
            Err(e) => e.clone(),
            Ok((user, role, name)) => match auth::create_account(tx, name, user, hash.clone().unwrap_or_default(), *role, &me.who()) {
                Ok(_) => return Ok(None),
                Err(ServiceError::BadRequest(_, m)) => vec![("username".to_string(), m.to_string())],
                Err(x) => return Err(x),
            },
        };
        e.dedup();
        Ok(Some((me.clone(), staff_rows(tx)?, e)))
    })
    .await?;
    Ok(match out {
        None => Redirect::to("/staf").into_response(),
        Some((me, rows, e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, layout::page("Akun staf", &me, "/staf", staff_page(&me, &rows, &f2, &e))).into_response()
        }
    })
}

/// `POST /staf/{id}/nonaktifkan` (admin): the account can no longer sign in; its sessions end.
pub async fn deactivate_staff(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    as_web(&s, &headers, Role::Admin, Some(f.csrf), move |tx, _, me| {
        if id == me.account.id {
            return Err(ServiceError::BadRequest("akun_sendiri", "Anda tidak dapat menonaktifkan akun sendiri"));
        }
        service::revoke_staff_as(tx, &id, &me.who())
    })
    .await?;
    Ok(Redirect::to("/staf").into_response())
}

/// Audit filters.
#[derive(Deserialize, Default)]
pub struct AuditParams {
    #[serde(default)]
    pelaku: String,
    #[serde(default)]
    tindakan: String,
    #[serde(default)]
    dokumen: String,
    #[serde(default)]
    dari: String,
    #[serde(default)]
    sampai: String,
    #[serde(default)]
    hal: Option<u32>,
}

/// `GET /audit` (admin): the audit log, newest first, filtered by person, action, document and
/// date.
pub async fn audit(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<AuditParams>) -> WebResult<Response> {
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 100);
    let filter = AuditFilter {
        actor: opt(&p.pelaku),
        action_prefix: opt(&p.tindakan),
        doc_id: opt(&p.dokumen),
        from: day_start_ms(&p.dari),
        until: day_start_ms(&p.sampai).map(|d| d + jemput_core::time_util::DAY_MS),
    };
    let page = p.hal.unwrap_or(1).clamp(1, 100_000);
    let (me, rows, people) = as_web(&s, &headers, Role::Admin, None, move |tx, _, me| {
        let rows = tx.audit_query(&filter, (page - 1) * 100, 100)?;
        let people: Vec<(String, String)> = tx.staff_accounts()?.into_iter().map(|a| (format!("staf:{}", a.id), a.name)).collect();
        Ok((me.clone(), rows, people))
    })
    .await?;
    let name = |actor: &str| people.iter().find(|(a, _)| a == actor).map(|(_, n)| n.clone());
    // The page links keep the filters.
    let q = super::filter_query(&[
        ("pelaku", &p.pelaku),
        ("tindakan", &p.tindakan),
        ("dokumen", &p.dokumen),
        ("dari", &p.dari),
        ("sampai", &p.sampai),
    ]);
    let sep = if q.is_empty() { "" } else { "&" };
    let body = html! {
        h1 { "Jejak audit" }
        form.saring method="get" action="/audit" {
            div.isian { label for="a-pelaku" { "Pelaku" } select #a-pelaku name="pelaku" { option value="" { "Semua" } option value="sistem" selected[p.pelaku == "sistem"] { "sistem" } @for (a, n) in &people { option value=(a) selected[&p.pelaku == a] { (n) } } } }
            div.isian { label for="a-tindakan" { "Tindakan (awalan)" } input #a-tindakan type="text" name="tindakan" value=(p.tindakan) placeholder="mis. lihat_permohonan"; }
            div.isian { label for="a-dok" { "Dokumen" } input #a-dok type="text" name="dokumen" value=(p.dokumen); }
            div.isian { label for="a-dari" { "Dari" } input #a-dari type="date" name="dari" value=(p.dari); }
            div.isian { label for="a-sampai" { "Sampai" } input #a-sampai type="date" name="sampai" value=(p.sampai); }
            div.tombol { button type="submit" { "Terapkan" } }
        }
        div.ringkas {
            a.tombol-kecil href={ "/audit/ekspor.csv?" (super::filter_query(&[("dari", &p.dari), ("sampai", &p.sampai)])) } download { "Unduh CSV" }
            span { "Semua catatan rentang tanggal di atas (tanpa tanggal: 3 hari terakhir; paling panjang 92 hari), untuk laporan kebocoran data 3 × 24 jam." }
        }
        table.daftar {
            thead { tr { th { "Waktu" } th { "Pelaku" } th { "Tindakan" } th { "Dokumen" } } }
            tbody {
                @for r in &rows {
                    tr { td.waktu { (when(r.at)) } td { (name(&r.actor).unwrap_or_else(|| r.actor.clone())) } td { code { (r.action) } }
                         td { @if let Some(d) = &r.doc_id { a href={ "/audit?dokumen=" (d) } { code { (d) } } } } }
                }
                @if rows.is_empty() { tr { td colspan="4" { "Tidak ada catatan yang cocok." } } }
            }
        }
        nav.halaman { @if page > 1 { a href={ "/audit?" (q) (sep) "hal=" (page - 1) } { "‹ Lebih baru" } } @if rows.len() == 100 { a href={ "/audit?" (q) (sep) "hal=" (page + 1) } { "Lebih lama ›" } } }
    };
    Ok(layout::page("Jejak audit", &me, "/audit", body).into_response())
}

/// `GET /audit/ekspor.csv` (admin): every audit entry of the range in the filter (`dari`,
/// `sampai`; without them the last three days, the 3 × 24 hours of a breach report) as CSV with
/// names and receipt codes (ADR 0014); limited and audited like the staff API's export.
pub async fn audit_export_csv(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<AuditParams>) -> WebResult<Response> {
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms());
    let or = |v: &str, d: time::Date| if v.trim().is_empty() { d.to_string() } else { v.trim().to_string() };
    let dari = or(&p.dari, today.previous_day().and_then(|d| d.previous_day()).unwrap_or(today));
    let sampai = or(&p.sampai, today);
    let (dari2, sampai2) = (dari.clone(), sampai.clone());
    let rows = as_web(&s, &headers, Role::Admin, None, move |tx, _, me| {
        let range = service::audit::ExportRange::from_days(&dari2, &sampai2)?;
        service::audit::export(tx, &range, &me.who())
    })
    .await?;
    let disposition = format!("attachment; filename=\"audit-{dari}-{sampai}.csv\"");
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (axum::http::header::CONTENT_DISPOSITION, disposition)],
        service::audit::to_csv(&rows),
    )
        .into_response())
}
