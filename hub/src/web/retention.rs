//! The retention policy page (admin): how long finished requests and closed complaints keep
//! their personal data on officers' phones and at the hub (ADR 0013). The policy lives in the
//! kelurahan profile, so phones receive a change on their next sync; saving goes through the
//! same service function as the JSON staff API and the CLI ([`service::erasure::set_retention`]),
//! with the core's own checks ([`Retention::field_problems`]) shown next to each field.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jemput_core::kelurahan::Retention;
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::{as_web, Me, Role};
use super::layout;
use super::WebResult;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;

/// Where the page lives.
pub const PATH: &str = "/masa-simpan";

/// Longest text accepted in one number field (a day count has at most four digits).
const MAX_FIELD_CHARS: usize = 12;

/// One error shown next to its field: field, stable code, message.
type FieldError = (&'static str, &'static str, String);

/// The form as a browser sends it (numbers as typed, so a slip is shown back as it was).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_days_on_phone: String,
    #[serde(default)]
    complaint_days_on_phone: String,
    #[serde(default)]
    request_days_on_hub: String,
    #[serde(default)]
    complaint_days_on_hub: String,
}

impl RetentionForm {
    fn of(r: &Retention) -> Self {
        RetentionForm {
            csrf: String::new(),
            request_days_on_phone: r.request_days_on_phone.to_string(),
            complaint_days_on_phone: r.complaint_days_on_phone.to_string(),
            request_days_on_hub: r.request_days_on_hub.to_string(),
            complaint_days_on_hub: r.complaint_days_on_hub.to_string(),
        }
    }

    fn value(&self, field: &str) -> &str {
        match field {
            "request_days_on_phone" => &self.request_days_on_phone,
            "complaint_days_on_phone" => &self.complaint_days_on_phone,
            "request_days_on_hub" => &self.request_days_on_hub,
            _ => &self.complaint_days_on_hub,
        }
    }
}

/// Reads the form into a policy: a field that is not a whole number is `bukan_angka`; then the
/// core's rules (the ones the API applies) give `masa_simpan_tidak_valid` on their field.
fn parse(f: &RetentionForm) -> Result<Retention, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut day = |field: &'static str| -> u32 {
        let v = f.value(field).trim();
        match v.parse::<u32>() {
            Ok(n) if v.len() <= MAX_FIELD_CHARS => n,
            _ => {
                errors.push((field, "bukan_angka", "Isi dengan jumlah hari, angka bulat tanpa titik atau huruf".to_string()));
                0
            }
        }
    };
    let policy = Retention {
        request_days_on_phone: day("request_days_on_phone"),
        complaint_days_on_phone: day("complaint_days_on_phone"),
        request_days_on_hub: day("request_days_on_hub"),
        complaint_days_on_hub: day("complaint_days_on_hub"),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let problems = policy.field_problems();
    if !problems.is_empty() {
        return Err(problems.into_iter().map(|(field, m)| (field, "masa_simpan_tidak_valid", m.to_string())).collect());
    }
    Ok(policy)
}

/// "730 hari (± 2 tahun)": days, with months or years when that helps a reader.
fn days_words(d: u32) -> String {
    match d {
        0..=59 => format!("{d} hari"),
        60..=364 => format!("{d} hari (± {} bulan)", (d + 15) / 30),
        _ => format!("{d} hari (± {} tahun)", (d + 182) / 365),
    }
}

fn field_error(errors: &[FieldError], field: &str) -> Markup {
    html! {
        @for (f, code, m) in errors {
            @if *f == field { span.galat-isian role="alert" data-kode=(code) { (m) } }
        }
    }
}

fn page(me: &Me, current: &Retention, f: &RetentionForm, errors: &[FieldError], notice: Option<&str>) -> Markup {
    let input = |name: &'static str, label: &str, hint: &str| {
        html! {
            div.isian {
                label for=(name) { (label) }
                input id=(name) type="number" name=(name) min="1" max=(Retention::MAX_DAYS) step="1" required value=(f.value(name));
                small { (hint) }
                (field_error(errors, name))
            }
        }
    };
    html! {
        h1 { "Masa simpan data pribadi" }
        p {
            "Sesuai UU Pelindungan Data Pribadi (UU No. 27 Tahun 2022), data pribadi warga hanya disimpan selama masih diperlukan. "
            "Hitungan hari dimulai saat permohonan diserahkan atau ditolak, dan saat pengaduan selesai. "
            "Setelah masa simpan habis, nama, NIK, tanggal lahir, alamat, nomor telepon dan isi pengaduan dihapus; "
            "yang tetap disimpan hanya catatan register surat (kode tanda terima, layanan, tanggal, status, nomor surat, RT/RW)."
        }
        @if let Some(n) = notice { p.berhasil role="status" { (n) } }
        @if !errors.is_empty() { p.galat role="alert" { "Periksa isian yang ditandai; masa simpan belum diubah." } }
        section {
            h2 { "Yang berlaku sekarang" }
            ul {
                li { "Permohonan surat: data pemohon dihapus dari HP petugas " (days_words(current.request_days_on_phone))
                     " setelah diserahkan atau ditolak, dan dari server kelurahan " (days_words(current.request_days_on_hub)) " setelahnya." }
                li { "Pengaduan & aspirasi: data pelapor dan isi pengaduan dihapus dari HP petugas " (days_words(current.complaint_days_on_phone))
                     " setelah selesai, dan dari server kelurahan " (days_words(current.complaint_days_on_hub)) " setelahnya." }
            }
        }
        form method="post" action=(PATH) {
            input type="hidden" name="csrf" value=(me.csrf);
            fieldset {
                legend { "Permohonan surat" }
                (input("request_days_on_phone", "Di HP petugas (hari)",
                    "Berapa hari data pemohon masih ada di HP petugas setelah surat diserahkan atau permohonan ditolak, agar petugas masih bisa menjawab pertanyaan warga."))
                (input("request_days_on_hub", "Di server kelurahan (hari)",
                    "Berapa hari kantor kelurahan menyimpan data pemohon sebagai arsip. Tidak boleh lebih pendek dari masa di HP petugas."))
            }
            fieldset {
                legend { "Pengaduan & aspirasi" }
                (input("complaint_days_on_phone", "Di HP petugas (hari)",
                    "Berapa hari pengaduan yang sudah selesai masih ada di HP petugas, termasuk nama dan nomor pelapor."))
                (input("complaint_days_on_hub", "Di server kelurahan (hari)",
                    "Berapa hari kantor kelurahan menyimpan isi pengaduan dan data pelapor. Tidak boleh lebih pendek dari masa di HP petugas."))
            }
            p.kecil { "Setiap masa simpan antara 1 dan " (Retention::MAX_DAYS) " hari. Perubahan sampai ke HP petugas pada sinkronisasi berikutnya." }
            button type="submit" { "Simpan masa simpan" }
        }
    }
}

/// `GET /masa-simpan` (admin): the policy in force and the form to change it.
pub async fn form(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let (me, current) =
        as_web(&s, &headers, Role::Admin, None, |tx, cipher, me| Ok((me.clone(), service::erasure::retention(tx, cipher)?))).await?;
    let body = page(&me, &current, &RetentionForm::of(&current), &[], None);
    Ok(layout::page("Masa simpan data", &me, PATH, body).into_response())
}

/// `POST /masa-simpan` (admin): checks the form, then sets the policy through
/// [`service::erasure::set_retention`] (audited once as `ubah_masa_simpan` with the staff
/// member; phones get it with the profile on their next sync). Errors come back next to their
/// field with status 422 and nothing changed.
pub async fn submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<RetentionForm>) -> WebResult<Response> {
    let parsed = parse(&f);
    let (me, current, outcome) = as_web(&s, &headers, Role::Admin, Some(f.csrf.clone()), move |tx, cipher, me| {
        let outcome = match &parsed {
            Err(e) => Err(e.clone()),
            Ok(policy) => match service::erasure::set_retention(tx, cipher, policy, &me.who()) {
                Ok(changed) => Ok(changed),
                // The service checks again with the same rules; shown on the form all the same.
                Err(ServiceError::Invalid(_, m)) => Err(vec![("request_days_on_phone", "masa_simpan_tidak_valid", m)]),
                Err(e) => return Err(e),
            },
        };
        Ok((me.clone(), service::erasure::retention(tx, cipher)?, outcome))
    })
    .await?;
    let (status, body) = match outcome {
        Ok(changed) => {
            let notice = if changed {
                "Masa simpan disimpan. HP petugas menerima perubahan pada sinkronisasi berikutnya."
            } else {
                "Tidak ada yang berubah."
            };
            (StatusCode::OK, page(&me, &current, &RetentionForm::of(&current), &[], Some(notice)))
        }
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, page(&me, &current, &f, &errors, None)),
    };
    Ok((status, layout::page("Masa simpan data", &me, PATH, body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(a: &str, b: &str, c: &str, d: &str) -> RetentionForm {
        RetentionForm {
            csrf: String::new(),
            request_days_on_phone: a.into(),
            request_days_on_hub: b.into(),
            complaint_days_on_phone: c.into(),
            complaint_days_on_hub: d.into(),
        }
    }

    #[test]
    fn the_form_reads_days_and_puts_each_problem_on_its_field() {
        assert_eq!(
            parse(&form(" 14 ", "365", "7", "180")).unwrap(),
            Retention { request_days_on_phone: 14, request_days_on_hub: 365, complaint_days_on_phone: 7, complaint_days_on_hub: 180 }
        );
        let codes = |f: RetentionForm| parse(&f).unwrap_err().into_iter().map(|(f, c, _)| (f, c)).collect::<Vec<_>>();
        assert_eq!(
            codes(form("30", "dua", "-1", "1.5")),
            vec![
                ("complaint_days_on_phone", "bukan_angka"),
                ("request_days_on_hub", "bukan_angka"),
                ("complaint_days_on_hub", "bukan_angka")
            ]
        );
        assert_eq!(
            codes(form("0", "3651", "30", "365")),
            vec![("request_days_on_phone", "masa_simpan_tidak_valid"), ("request_days_on_hub", "masa_simpan_tidak_valid")]
        );
        assert_eq!(codes(form("30", "29", "30", "365")), vec![("request_days_on_hub", "masa_simpan_tidak_valid")]);
        assert_eq!(codes(form("1", "99999999999999999999", "30", "365")), vec![("request_days_on_hub", "bukan_angka")]);
        assert_eq!(days_words(30), "30 hari");
        assert_eq!(days_words(730), "730 hari (± 2 tahun)");
        assert_eq!(days_words(180), "180 hari (± 6 bulan)");
    }
}
