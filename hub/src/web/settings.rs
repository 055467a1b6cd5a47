//! The kelurahan's profile (the document every device receives), the office's own settings
//! (letterhead, signatory, letter-number format; kept on the hub only) and the service catalog
//! editor. Profile and catalog edits are merged into their documents, so phones receive only
//! what changed on their next sync.

use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::catalog::{ExtraField, FieldKind, Requirement, Service};
use jemput_core::crypto::Cipher;
use jemput_core::document::{self, DocKind};
use jemput_core::kelurahan::{Contact, Link, Rw};
use jemput_core::sync::hub_side::Placement;
use jemput_core::{Catalog, Kelurahan};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

use super::auth::{as_web, Role};
use super::layout::{self, field_error};
use super::WebResult;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::HubTx;

const META_SETTINGS: &str = "web_pengaturan";

/// The office's own settings, kept on the hub (devices do not need them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeSettings {
    /// First letterhead line, e.g. "PEMERINTAH KOTA SURABAYA".
    pub government: String,
    /// Office phone on the letterhead.
    pub phone: String,
    /// Office e-mail on the letterhead.
    pub email: String,
    /// Title of the signatory ("Lurah").
    pub signer_title: String,
    /// Name of the signatory.
    pub signer_name: String,
    /// NIP of the signatory.
    pub signer_nip: String,
    /// Letter-number format: `{no}`, `{layanan}`, `{kode}`, `{bulan}` (Roman), `{tahun}`.
    pub number_format: String,
}

impl Default for OfficeSettings {
    fn default() -> Self {
        OfficeSettings {
            government: String::new(),
            phone: String::new(),
            email: String::new(),
            signer_title: "Lurah".into(),
            signer_name: String::new(),
            signer_nip: String::new(),
            number_format: "470/{no}/{kode}/{bulan}/{tahun}".into(),
        }
    }
}

/// The office settings as stored (defaults before the first set-up).
pub fn office_settings(tx: &mut dyn HubTx) -> Result<OfficeSettings, ServiceError> {
    Ok(tx.meta(META_SETTINGS)?.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
}

/// Stores the office settings.
pub fn set_office_settings(tx: &mut dyn HubTx, s: &OfficeSettings) -> Result<(), ServiceError> {
    Ok(tx.set_meta(META_SETTINGS, &serde_json::to_vec(s).map_err(|_| ServiceError::Internal)?)?)
}

/// The stored kelurahan profile (decoded once per stored version, `service::docs`).
pub fn kelurahan(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Kelurahan, ServiceError> {
    let k = service::docs::kelurahan(tx, cipher)?.ok_or(ServiceError::Config("profil kelurahan belum dibuat".into()))?;
    Ok(Kelurahan::clone(&k))
}

/// The stored catalog (decoded once per stored version, `service::docs`).
pub fn catalog(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<Catalog, ServiceError> {
    let c = service::docs::catalog(tx, cipher)?.ok_or(ServiceError::Config("katalog belum dibuat".into()))?;
    Ok(Catalog::clone(&c))
}

fn roman(m: u8) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][usize::from(m.clamp(1, 12)) - 1]
}

/// The letter-number counter of `year` (how many numbers were given that year), and its key.
fn letter_counter(tx: &mut dyn HubTx, year: i32) -> Result<(String, u64), ServiceError> {
    let key = format!("web_nomor_surat:{year}");
    let n = tx.meta(&key)?.and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0);
    Ok((key, n))
}

/// Letter number `n` in the format, with `month` for `{bulan}`.
fn format_letter_number(settings: &OfficeSettings, n: u64, region_code: &str, service: &str, month: &str, year: i32) -> String {
    settings
        .number_format
        .replace("{no}", &format!("{n:03}"))
        .replace("{layanan}", &service.to_uppercase())
        .replace("{kode}", region_code)
        .replace("{bulan}", month)
        .replace("{tahun}", &year.to_string())
}

/// The next letter number for a service, from the format (the counter runs per year).
pub fn next_letter_number(tx: &mut dyn HubTx, settings: &OfficeSettings, region_code: &str, service: &str) -> Result<String, ServiceError> {
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms());
    let (key, n) = letter_counter(tx, today.year())?;
    tx.set_meta(&key, &(n + 1).to_le_bytes())?;
    Ok(format_letter_number(settings, n + 1, region_code, service, roman(u8::from(today.month())), today.year()))
}

/// What the next letter number would look like, without taking it (the month left open).
pub fn preview_letter_number(
    tx: &mut dyn HubTx,
    settings: &OfficeSettings,
    region_code: &str,
    service: &str,
) -> Result<String, ServiceError> {
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms());
    let (_, n) = letter_counter(tx, today.year())?;
    Ok(format_letter_number(settings, n + 1, region_code, service, "…", today.year()))
}

/// The profile form (first set-up and the profile page share it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileForm {
    /// CSRF token (the profile page) or set-up code (first set-up).
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    kecamatan: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    office_address: String,
    #[serde(default)]
    office_hours: String,
    #[serde(default)]
    rws: String,
    #[serde(default)]
    contacts: String,
    #[serde(default)]
    emergency: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    government: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    signer_title: String,
    #[serde(default)]
    signer_name: String,
    #[serde(default)]
    signer_nip: String,
    #[serde(default)]
    number_format: String,
}

type Errors = Vec<(String, String)>;

fn err(e: &mut Errors, f: &str, m: impl Into<String>) {
    e.push((f.into(), m.into()));
}

fn parse_numbers(s: &str) -> Option<Vec<u16>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a == 0 || b < a || b - a > 200 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok().filter(|n| *n > 0)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// Parses "RW: RT, RT-RT" lines.
fn parse_rws(s: &str) -> Result<Vec<Rw>, String> {
    let mut rws: Vec<Rw> = Vec::new();
    for (i, line) in s.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let bad = || format!("Baris {} tidak terbaca; tulis seperti \"1: 1-5\" (RW 1, RT 1 sampai 5)", i + 1);
        let (rw, rts) = line.split_once(':').ok_or_else(bad)?;
        let rw: u16 = rw.trim().trim_start_matches(|c: char| c.is_alphabetic() || c == ' ').trim().parse().map_err(|_| bad())?;
        let rts = parse_numbers(rts).ok_or_else(bad)?;
        if rw == 0 || rws.iter().any(|r| r.number == rw) {
            return Err(format!("RW {rw} tidak valid atau tertulis dua kali"));
        }
        rws.push(Rw { number: rw, rts });
    }
    if rws.is_empty() {
        return Err("Isi paling sedikit satu RW dengan RT-nya".into());
    }
    rws.sort_by_key(|r| r.number);
    Ok(rws)
}

fn parse_pairs(s: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out = Vec::new();
    for (i, line) in s.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let (a, b) = line.split_once('|').ok_or(i + 1)?;
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() || b.is_empty() || a.chars().count() > 100 || b.chars().count() > 300 {
            return Err(i + 1);
        }
        out.push((a.to_string(), b.to_string()));
    }
    Ok(out)
}

/// The "label | value" lines of one field: a line that does not read, or a value `check`
/// refuses, is an error on `field` (naming the line's label).
fn checked_pairs(e: &mut Errors, field: &str, text: &str, shape: &str, check: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    match parse_pairs(text) {
        Ok(pairs) => {
            for (label, value) in &pairs {
                if let Some(m) = check(value) {
                    err(e, field, format!("{label}: {m}"));
                }
            }
            pairs
        }
        Err(line) => {
            err(e, field, format!("Baris {line} tidak terbaca; tulis \"{shape}\""));
            Vec::new()
        }
    }
}

fn short(e: &mut Errors, f: &str, v: &str, label: &str, max: usize, required: bool) -> String {
    let v = v.trim();
    if required && v.is_empty() {
        err(e, f, format!("{label} wajib diisi"));
    } else if v.chars().count() > max {
        err(e, f, format!("{label} paling banyak {max} huruf"));
    }
    v.to_string()
}

/// Validates the profile form (with the core's validators for phone numbers); errors are per
/// field.
pub fn parse_profile(f: &ProfileForm) -> Result<(Kelurahan, OfficeSettings), Errors> {
    let mut e = Errors::new();
    let name = short(&mut e, "name", &f.name, "Nama kelurahan", 100, true);
    let region_code = short(&mut e, "region_code", &f.region_code, "Kode wilayah", 20, true);
    if !region_code.is_empty() && !region_code.chars().all(|c| c.is_ascii_digit() || c == '.') {
        err(&mut e, "region_code", "Kode wilayah hanya angka dan titik, mis. 35.78.01.1001");
    }
    let kecamatan = short(&mut e, "kecamatan", &f.kecamatan, "Kecamatan", 100, true);
    let city = short(&mut e, "city", &f.city, "Kota/kabupaten", 100, true);
    let office_address = short(&mut e, "office_address", &f.office_address, "Alamat kantor", 300, true);
    let office_hours = short(&mut e, "office_hours", &f.office_hours, "Jam layanan", 100, false);
    let rws = parse_rws(&f.rws).unwrap_or_else(|m| {
        err(&mut e, "rws", m);
        Vec::new()
    });
    let contacts = checked_pairs(&mut e, "contacts", &f.contacts, "Jabatan | nomor HP", |phone| {
        let issues = jemput_core::validation::phone::validate_phone("contacts", phone);
        issues.into_iter().find(|i| i.is_error()).map(|i| i.message)
    });
    let emergency_numbers = checked_pairs(&mut e, "emergency", &f.emergency, "Layanan | nomor", |phone| {
        (!(3..=20).contains(&phone.len()) || !phone.chars().all(|c| c.is_ascii_digit() || " +-".contains(c)))
            .then(|| "nomor darurat hanya angka, mis. 112".to_string())
    });
    let links = checked_pairs(&mut e, "links", &f.links, "Judul | https://…", |url| {
        (!url::Url::parse(url).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http"))
            .then(|| "alamat harus diawali https://".to_string())
    });
    let settings = OfficeSettings {
        government: short(&mut e, "government", &f.government, "Baris kop surat", 120, true),
        phone: short(&mut e, "phone", &f.phone, "Telepon kantor", 40, false),
        email: short(&mut e, "email", &f.email, "Surel kantor", 100, false),
        signer_title: short(&mut e, "signer_title", &f.signer_title, "Jabatan penanda tangan", 60, true),
        signer_name: short(&mut e, "signer_name", &f.signer_name, "Nama penanda tangan", 100, true),
        signer_nip: short(&mut e, "signer_nip", &f.signer_nip, "NIP", 30, false),
        number_format: short(&mut e, "number_format", &f.number_format, "Format nomor surat", 80, true),
    };
    if !settings.number_format.is_empty() && !settings.number_format.contains("{no}") {
        err(&mut e, "number_format", "Format nomor surat harus memuat {no}");
    }
    if !e.is_empty() {
        return Err(e);
    }
    let contact = |(label, phone)| Contact { label, phone };
    let kelurahan = Kelurahan {
        name,
        region_code,
        kecamatan,
        city,
        rws,
        office_address,
        office_hours,
        contacts: contacts.into_iter().map(contact).collect(),
        emergency_numbers: emergency_numbers.into_iter().map(contact).collect(),
        links: links.into_iter().map(|(label, url)| Link { label, url }).collect(),
        // The retention policy has its own form and command; the profile form keeps it.
        retention: Default::default(),
    };
    Ok((kelurahan, settings))
}

impl ProfileForm {
    /// The fields by name, as a browser sends them.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("region_code", self.region_code.clone()),
            ("kecamatan", self.kecamatan.clone()),
            ("city", self.city.clone()),
            ("office_address", self.office_address.clone()),
            ("office_hours", self.office_hours.clone()),
            ("rws", self.rws.clone()),
            ("contacts", self.contacts.clone()),
            ("emergency", self.emergency.clone()),
            ("links", self.links.clone()),
            ("government", self.government.clone()),
            ("phone", self.phone.clone()),
            ("email", self.email.clone()),
            ("signer_title", self.signer_title.clone()),
            ("signer_name", self.signer_name.clone()),
            ("signer_nip", self.signer_nip.clone()),
            ("number_format", self.number_format.clone()),
        ]
    }
}

/// The form filled with a stored profile.
pub fn form_of(k: &Kelurahan, s: &OfficeSettings) -> ProfileForm {
    let pairs = |v: &[Contact]| v.iter().map(|c| format!("{} | {}", c.label, c.phone)).collect::<Vec<_>>().join("\n");
    ProfileForm {
        csrf: String::new(),
        name: k.name.clone(),
        region_code: k.region_code.clone(),
        kecamatan: k.kecamatan.clone(),
        city: k.city.clone(),
        office_address: k.office_address.clone(),
        office_hours: k.office_hours.clone(),
        rws: k
            .rws
            .iter()
            .map(|r| format!("{}: {}", r.number, r.rts.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        contacts: pairs(&k.contacts),
        emergency: pairs(&k.emergency_numbers),
        links: k.links.iter().map(|l| format!("{} | {}", l.label, l.url)).collect::<Vec<_>>().join("\n"),
        government: s.government.clone(),
        phone: s.phone.clone(),
        email: s.email.clone(),
        signer_title: s.signer_title.clone(),
        signer_name: s.signer_name.clone(),
        signer_nip: s.signer_nip.clone(),
        number_format: s.number_format.clone(),
    }
}

/// The profile fields (inside a form).
pub fn profile_fields(f: &ProfileForm, e: &Errors) -> Markup {
    let text = |name: &str, label: &str, value: &str, hint: &str| {
        html! {
            div.isian {
                label for=(name) { (label) }
                input id=(name) type="text" name=(name) value=(value);
                @if !hint.is_empty() { small { (hint) } }
                (field_error(e, name))
            }
        }
    };
    let area = |name: &str, label: &str, value: &str, hint: &str| {
        html! {
            div.isian {
                label for=(name) { (label) }
                textarea id=(name) name=(name) rows="4" { (value) }
                small { (hint) }
                (field_error(e, name))
            }
        }
    };
    html! {
        fieldset {
            legend { "Kelurahan" }
            (text("name", "Nama kelurahan", &f.name, "mis. Kelurahan Sukamaju"))
            (text("region_code", "Kode wilayah", &f.region_code, "kode Kemendagri, mis. 35.78.01.1001"))
            (text("kecamatan", "Kecamatan", &f.kecamatan, ""))
            (text("city", "Kota/kabupaten", &f.city, ""))
            (text("office_address", "Alamat kantor", &f.office_address, ""))
            (text("office_hours", "Jam layanan", &f.office_hours, "mis. Senin–Jumat 08.00–15.00"))
            (area("rws", "RW dan RT", &f.rws, "satu RW per baris: \"1: 1-5\" berarti RW 001 dengan RT 001 sampai 005"))
        }
        fieldset {
            legend { "Kontak" }
            (area("contacts", "Kontak staf", &f.contacts, "satu per baris: \"Sekretaris Kelurahan | 081234567890\""))
            (area("emergency", "Nomor darurat", &f.emergency, "satu per baris: \"Ambulans | 119\""))
            (area("links", "Tautan penting", &f.links, "satu per baris: \"Cek bansos | https://cekbansos.kemensos.go.id\""))
        }
        fieldset {
            legend { "Kop surat dan penomoran" }
            (text("government", "Baris pertama kop", &f.government, "mis. PEMERINTAH KOTA SURABAYA"))
            (text("phone", "Telepon kantor", &f.phone, ""))
            (text("email", "Surel kantor", &f.email, ""))
            (text("signer_title", "Jabatan penanda tangan", &f.signer_title, "mis. Lurah"))
            (text("signer_name", "Nama penanda tangan", &f.signer_name, ""))
            (text("signer_nip", "NIP penanda tangan", &f.signer_nip, ""))
            (text("number_format", "Format nomor surat", &f.number_format, "{no} urut per tahun, {layanan}, {kode} wilayah, {bulan} Romawi, {tahun}"))
        }
    }
}

/// Stores a changed profile into the kelurahan document (every device gets the change).
pub fn store_profile(tx: &mut dyn HubTx, cipher: &Cipher, k: &Kelurahan, by: &str) -> Result<bool, ServiceError> {
    let mut doc = service::load_doc(tx, cipher, "kelurahan", true)?.ok_or(ServiceError::Config("profil kelurahan belum dibuat".into()))?;
    doc.set_actor(service::hub_actor(tx)?);
    if document::update(&mut doc, k).map_err(|_| ServiceError::Internal)? {
        service::put_doc_from(tx, cipher, "kelurahan", &mut doc, &Placement::everyone(DocKind::Kelurahan))?;
        service::audit(tx, by, "ubah_profil_kelurahan", Some("kelurahan"))?;
        return Ok(true);
    }
    Ok(false)
}

fn profile_page(me: &super::auth::Me, f: &ProfileForm, e: &Errors, saved: bool) -> Markup {
    html! {
        h1 { "Profil kelurahan" }
        @if saved { p.berhasil role="status" { "Profil disimpan. HP petugas menerima perubahan pada sinkronisasi berikutnya." } }
        @if !e.is_empty() { p.galat role="alert" { "Periksa isian yang ditandai." } }
        form method="post" action="/profil" {
            input type="hidden" name="csrf" value=(me.csrf);
            (profile_fields(f, e))
            button type="submit" { "Simpan profil" }
        }
    }
}

/// `GET /profil` (admin).
pub async fn profile_form(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, f) = as_web(&s, &headers, Role::Admin, None, |tx, cipher, me| {
        let k = kelurahan(tx, cipher)?;
        Ok((me.clone(), form_of(&k, &office_settings(tx)?)))
    })
    .await?;
    Ok(layout::page("Profil kelurahan", &me, "/profil", profile_page(&me, &f, &Vec::new(), false)).into_response())
}

/// `POST /profil` (admin).
pub async fn profile_submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<ProfileForm>) -> WebResult<Response> {
    let parsed = parse_profile(&f);
    let f2 = f.clone();
    let (me, errors) = as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), move |tx, cipher, me| match &parsed {
        Err(e) => Ok((me.clone(), e.clone())),
        Ok((k, settings)) => {
            let mut k = k.clone();
            k.retention = kelurahan(tx, cipher)?.retention;
            store_profile(tx, cipher, &k, &me.who())?;
            if office_settings(tx)? != *settings {
                set_office_settings(tx, settings)?;
                service::audit(tx, &me.who(), "ubah_kop_surat", None)?;
            }
            Ok((me.clone(), Vec::new()))
        }
    })
    .await?;
    let saved = errors.is_empty();
    let status = if saved { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, layout::page("Profil kelurahan", &me, "/profil", profile_page(&me, &f2, &errors, saved))).into_response())
}

fn kind_code(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "teks",
        FieldKind::LongText => "teks_panjang",
        FieldKind::Date => "tanggal",
        FieldKind::Number => "angka",
        FieldKind::Nik => "nik",
        FieldKind::Phone => "telepon",
    }
}

fn kind_of(c: &str) -> Option<FieldKind> {
    Some(match c {
        "teks" => FieldKind::Text,
        "teks_panjang" => FieldKind::LongText,
        "tanggal" => FieldKind::Date,
        "angka" => FieldKind::Number,
        "nik" => FieldKind::Nik,
        "telepon" => FieldKind::Phone,
        _ => return None,
    })
}

/// One service's edit form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    processing_days: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    endorsement: Option<String>,
    #[serde(default)]
    requirements: String,
    #[serde(default)]
    fields: String,
}

fn slug_ok(s: &str) -> bool {
    (2..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn parse_service(f: &ServiceForm, code: &str) -> Result<Service, Errors> {
    let mut e = Errors::new();
    if !slug_ok(code) {
        err(&mut e, "code", "Kode layanan 2–40 huruf kecil, angka atau garis bawah");
    }
    let name = short(&mut e, "name", &f.name, "Nama layanan", 100, true);
    let description = short(&mut e, "description", &f.description, "Keterangan", 500, false);
    let processing_days = match f.processing_days.trim().parse::<u32>() {
        Ok(d) if d <= 90 => d,
        _ => {
            err(&mut e, "processing_days", "Lama proses 0–90 hari");
            0
        }
    };
    let mut requirements = Vec::new();
    for (i, line) in f.requirements.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let p: Vec<&str> = line.split('|').map(str::trim).collect();
        match p.as_slice() {
            [c, l, w] if slug_ok(c) && !l.is_empty() && l.chars().count() <= 200 && ["wajib", "opsional"].contains(w) => {
                requirements.push(Requirement { code: c.to_string(), label: l.to_string(), mandatory: *w == "wajib" })
            }
            _ => err(&mut e, "requirements", format!("Baris {} tidak terbaca; tulis \"kode | nama persyaratan | wajib\"", i + 1)),
        }
    }
    let mut fields = Vec::new();
    for (i, line) in f.fields.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let p: Vec<&str> = line.split('|').map(str::trim).collect();
        match p.as_slice() {
            [k, l, kind, w] if slug_ok(k) && !l.is_empty() && kind_of(kind).is_some() && ["wajib", "opsional"].contains(w) => {
                fields.push(ExtraField {
                    key: k.to_string(),
                    label: l.to_string(),
                    kind: kind_of(kind).unwrap_or(FieldKind::Text),
                    required: *w == "wajib",
                })
            }
            _ => err(
                &mut e,
                "fields",
                format!("Baris {} tidak terbaca; tulis \"kunci | label | teks/teks_panjang/tanggal/angka/nik/telepon | wajib\"", i + 1),
            ),
        }
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Service {
        code: code.into(),
        name,
        description,
        requirements,
        fields,
        needs_rt_rw_endorsement: f.endorsement.is_some(),
        processing_days,
        active: f.active.is_some(),
    })
}

fn service_form(me: &super::auth::Me, sv: &Service, e: &Errors, open: bool) -> Markup {
    let reqs = sv
        .requirements
        .iter()
        .map(|r| format!("{} | {} | {}", r.code, r.label, if r.mandatory { "wajib" } else { "opsional" }))
        .collect::<Vec<_>>()
        .join("\n");
    let fields = sv
        .fields
        .iter()
        .map(|x| format!("{} | {} | {} | {}", x.key, x.label, kind_code(x.kind), if x.required { "wajib" } else { "opsional" }))
        .collect::<Vec<_>>()
        .join("\n");
    let new = sv.code.is_empty();
    html! {
        details open[open] {
            summary { @if new { "+ Layanan baru" } @else { (sv.name) " " small { "(" (sv.code) ")" } @if !sv.active { " — nonaktif" } } }
            form method="post" action={ "/katalog/" @if new { "baru" } @else { (sv.code) } } {
                input type="hidden" name="csrf" value=(me.csrf);
                @if new {
                    div.isian { label { "Kode layanan" } input type="text" name="code" value=""; (field_error(e, "code")) }
                }
                div.isian { label { "Nama layanan" } input type="text" name="name" value=(sv.name); (field_error(e, "name")) }
                div.isian { label { "Keterangan" } textarea name="description" rows="2" { (sv.description) } (field_error(e, "description")) }
                div.isian { label { "Lama proses (hari kerja)" } input type="number" min="0" max="90" name="processing_days" value=(sv.processing_days); (field_error(e, "processing_days")) }
                div.isian { label { input type="checkbox" name="active" value="1" checked[sv.active]; " Aktif (tampil di HP petugas)" } }
                div.isian { label { input type="checkbox" name="endorsement" value="1" checked[sv.needs_rt_rw_endorsement]; " Perlu pengantar RT/RW" } }
                div.isian { label { "Persyaratan" } textarea name="requirements" rows="4" { (reqs) } small { "satu per baris: kode | nama persyaratan | wajib/opsional" } (field_error(e, "requirements")) }
                div.isian { label { "Isian tambahan" } textarea name="fields" rows="3" { (fields) } small { "satu per baris: kunci | label | teks/teks_panjang/tanggal/angka/nik/telepon | wajib/opsional" } (field_error(e, "fields")) }
                button type="submit" { "Simpan layanan" }
            }
        }
    }
}

fn catalog_page(me: &super::auth::Me, cat: &Catalog, edited: Option<(&str, &Errors)>, saved: bool) -> Markup {
    let blank = Service {
        code: String::new(),
        name: String::new(),
        description: String::new(),
        requirements: Vec::new(),
        fields: Vec::new(),
        needs_rt_rw_endorsement: true,
        processing_days: 3,
        active: true,
    };
    let none = Errors::new();
    html! {
        h1 { "Katalog layanan" }
        p { "Versi katalog: " (cat.version) ". Perubahan sampai ke setiap HP petugas pada sinkronisasi berikutnya." }
        @if saved { p.berhasil role="status" { "Katalog disimpan." } }
        @for sv in &cat.services {
            @let e = edited.filter(|(c, _)| *c == sv.code).map(|(_, e)| e).unwrap_or(&none);
            (service_form(me, sv, e, !e.is_empty()))
        }
        @let e = edited.filter(|(c, _)| *c == "baru").map(|(_, e)| e).unwrap_or(&none);
        (service_form(me, &blank, e, !e.is_empty()))
    }
}

/// `GET /katalog` (admin).
pub async fn catalog_page_get(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, cat) = as_web(&s, &headers, Role::Admin, None, |tx, cipher, me| Ok((me.clone(), catalog(tx, cipher)?))).await?;
    Ok(layout::page("Katalog layanan", &me, "/katalog", catalog_page(&me, &cat, None, false)).into_response())
}

/// `POST /katalog/{code}` (admin): edits one service, or adds one (`baru`).
pub async fn catalog_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(f): Form<ServiceForm>,
) -> WebResult<Response> {
    let new = code == "baru";
    let target = if new { f.code.trim().to_string() } else { code.clone() };
    let parsed = parse_service(&f, &target);
    let (me, cat, errors) = as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), move |tx, cipher, me| {
        let mut cat = catalog(tx, cipher)?;
        let errors = match &parsed {
            Err(e) => e.clone(),
            Ok(sv) => {
                let pos = cat.services.iter().position(|x| x.code == sv.code);
                match (new, pos) {
                    (true, Some(_)) => vec![("code".to_string(), "Kode layanan sudah dipakai".to_string())],
                    (false, None) => return Err(ServiceError::NotFound("layanan tidak ditemukan")),
                    (_, Some(i)) => {
                        cat.services[i] = sv.clone();
                        Vec::new()
                    }
                    (true, None) => {
                        cat.services.push(sv.clone());
                        Vec::new()
                    }
                }
            }
        };
        if errors.is_empty() {
            cat.version += 1;
            if !crate::setup::update_catalog_in(tx, cipher, &cat, &me.who())? {
                cat.version -= 1;
            }
        }
        Ok((me.clone(), catalog(tx, cipher)?, errors))
    })
    .await?;
    if errors.is_empty() {
        return Ok(Redirect::to("/katalog").into_response());
    }
    let key = if new { "baru".to_string() } else { code };
    let body = catalog_page(&me, &cat, Some((&key, &errors)), false);
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, layout::page("Katalog layanan", &me, "/katalog", body)).into_response())
}
