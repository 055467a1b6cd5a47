//! Setting up a real kelurahan from nothing, in the browser: on a hub without a kelurahan,
//! `/siapkan` asks for the one-time set-up code the hub printed in its log (so a stranger who
//! reaches the page first cannot claim the hub), the profile, the letterhead and the first admin
//! account; the catalog starts from the default one. The same installation serves
//! `jemput-hub init --profil FILE --admin USER`.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::crypto::Cipher;
use jemput_core::document::{self, DocKind};
use jemput_core::sync::hub_side::Placement;
use jemput_core::{Catalog, Kelurahan};
use maud::html;
use serde::Deserialize;

use super::auth::{self, is_set_up, Role};
use super::layout::{self, field_error};
use super::settings::{self, OfficeSettings, ProfileForm};
use super::WebResult;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::{HubTx, StaffAccount};

const META_CODE: &str = "web_kode_penyiapan";

/// The first admin account.
pub struct FirstAdmin {
    /// Full name.
    pub name: String,
    /// User name.
    pub username: String,
    /// Argon2id hash of the password.
    pub password_hash: String,
}

/// Installs a kelurahan on an empty hub: the profile and the catalog as documents every device
/// receives, the office settings, and the first admin account. Refused when the hub already has
/// a kelurahan.
pub fn install(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    k: &Kelurahan,
    catalog: &Catalog,
    settings: &OfficeSettings,
    admin: &FirstAdmin,
) -> Result<StaffAccount, ServiceError> {
    if tx.sealed_doc("kelurahan", true)?.is_some() {
        return Err(ServiceError::Config("hub ini sudah dibuat".into()));
    }
    let actor = service::hub_actor(tx)?;
    let mut kd = document::create(k, &actor).map_err(|_| ServiceError::Internal)?;
    service::put_doc_from(tx, cipher, "kelurahan", &mut kd, &Placement::everyone(DocKind::Kelurahan))?;
    let mut cd = document::create(catalog, &actor).map_err(|_| ServiceError::Internal)?;
    service::put_doc_from(tx, cipher, "catalog", &mut cd, &Placement::everyone(DocKind::Catalog))?;
    settings::set_office_settings(tx, settings)?;
    let account = auth::create_account(tx, &admin.name, &admin.username, admin.password_hash.clone(), Role::Admin, "sistem:penyiapan")?;
    service::audit(tx, &format!("staf:{}", account.id), "inisialisasi", None)?;
    Ok(account)
}

/// A kelurahan profile file for `jemput-hub init --profil`: the profile as devices receive it
/// and the office's letterhead settings.
#[derive(Deserialize)]
pub struct ProfileFile {
    /// The kelurahan.
    pub kelurahan: Kelurahan,
    /// Letterhead, signatory and letter-number format.
    pub kop: OfficeSettings,
}

/// `jemput-hub init --profil FILE --admin USER`: installs a real kelurahan from a JSON file,
/// checked with the same rules as the browser set-up.
pub fn install_from_file(
    db: &crate::storage::HubDb,
    path: &std::path::Path,
    admin_name: &str,
    username: &str,
    password: &str,
) -> Result<StaffAccount, ServiceError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Config(format!("tidak dapat membaca {}: {e}", path.display())))?;
    let file: ProfileFile =
        serde_json::from_str(&text).map_err(|e| ServiceError::Config(format!("profil {} tidak valid: {e}", path.display())))?;
    let form = settings::form_of(&file.kelurahan, &file.kop);
    let (k, st) = settings::parse_profile(&form)
        .map_err(|e| ServiceError::Config(e.into_iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ")))?;
    let (user, _, name) = super::admin::check_account(admin_name, username, "admin", password, password)
        .map_err(|e| ServiceError::Config(e.into_iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ")))?;
    let admin = FirstAdmin { name, username: user, password_hash: auth::hash_password(password)? };
    db.with(|tx, cipher| install(tx, cipher, &k, &Catalog::default_catalog(), &st, &admin))
}

/// Makes (once) the set-up code and prints it to the hub's log; only its hash is kept.
async fn ensure_code(s: &AppState) -> Result<(), ServiceError> {
    let code = service::random_secret(12);
    let c = code.clone();
    let fresh =
        s.db.call::<_, ServiceError>(move |tx, _| {
            if tx.meta(META_CODE)?.is_some() {
                return Ok(false);
            }
            tx.set_meta(META_CODE, &service::secret_hash(&c))?;
            Ok(true)
        })
        .await?;
    if fresh {
        tracing::warn!("hub belum disiapkan; buka /siapkan di peramban dan masukkan kode penyiapan: {code}");
    }
    Ok(())
}

/// The set-up form.
#[derive(Deserialize, Default, Clone)]
pub struct SetupForm {
    #[serde(flatten)]
    profile: ProfileForm,
    #[serde(default)]
    setup_code: String,
    #[serde(default)]
    admin_name: String,
    #[serde(default)]
    admin_username: String,
    #[serde(default)]
    admin_password: String,
    #[serde(default)]
    admin_password2: String,
}

fn page(f: &SetupForm, e: &[(String, String)]) -> maud::Markup {
    html! {
        div.siapkan {
            h1 { "Siapkan hub kelurahan" }
            p { "Isi data kelurahan Anda. Katalog layanan dimulai dari katalog bawaan dan dapat diubah nanti oleh admin." }
            @if !e.is_empty() { p.galat role="alert" { "Periksa isian yang ditandai." } }
            form method="post" action="/siapkan" {
                fieldset {
                    legend { "Kode penyiapan" }
                    div.isian {
                        label for="setup_code" { "Kode penyiapan" }
                        input #setup_code type="text" name="setup_code" value=(f.setup_code) autocomplete="off" required;
                        small { "Tertulis di log hub saat pertama dijalankan (\"kode penyiapan: …\")." }
                        (field_error(e, "setup_code"))
                    }
                }
                (settings::profile_fields(&f.profile, &e.to_vec()))
                fieldset {
                    legend { "Admin pertama" }
                    div.isian { label for="admin_name" { "Nama lengkap" } input #admin_name type="text" name="admin_name" value=(f.admin_name) required; (field_error(e, "admin_name")) }
                    div.isian { label for="admin_username" { "Nama pengguna" } input #admin_username type="text" name="admin_username" value=(f.admin_username) required autocomplete="off"; (field_error(e, "admin_username")) }
                    div.isian { label for="admin_password" { "Kata sandi" } input #admin_password type="password" name="admin_password" autocomplete="new-password" required; small { "paling sedikit 10 karakter" } (field_error(e, "admin_password")) }
                    div.isian { label for="admin_password2" { "Ulangi kata sandi" } input #admin_password2 type="password" name="admin_password2" autocomplete="new-password" required; }
                }
                button type="submit" { "Siapkan kelurahan" }
            }
        }
    }
}

/// `GET /siapkan`: the form, while the hub has no kelurahan.
pub async fn form(State(s): State<AppState>) -> WebResult<Response> {
    if is_set_up(&s).await? {
        return Ok(Redirect::to("/masuk").into_response());
    }
    ensure_code(&s).await?;
    let f = SetupForm { profile: settings::form_of(&blank_kelurahan(), &OfficeSettings::default()), ..Default::default() };
    Ok(layout::bare("Siapkan hub", page(&f, &[])).into_response())
}

fn blank_kelurahan() -> Kelurahan {
    Kelurahan {
        name: String::new(),
        region_code: String::new(),
        kecamatan: String::new(),
        city: String::new(),
        rws: Vec::new(),
        office_address: String::new(),
        office_hours: "Senin–Jumat 08.00–15.00".into(),
        contacts: Vec::new(),
        emergency_numbers: vec![
            jemput_core::kelurahan::Contact { label: "Darurat".into(), phone: "112".into() },
            jemput_core::kelurahan::Contact { label: "Ambulans".into(), phone: "119".into() },
        ],
        links: Vec::new(),
        retention: Default::default(),
    }
}

/// `POST /siapkan`.
pub async fn submit(State(s): State<AppState>, Form(f): Form<SetupForm>) -> WebResult<Response> {
    if is_set_up(&s).await? {
        return Ok(Redirect::to("/masuk").into_response());
    }
    let mut e = Vec::new();
    let parsed = settings::parse_profile(&f.profile).map_err(|x| e.extend(x)).ok();
    let admin = super::admin::check_account(&f.admin_name, &f.admin_username, "admin", &f.admin_password, &f.admin_password2)
        .map_err(|x| e.extend(x.into_iter().map(|(k, m)| (format!("admin_{k}"), m))))
        .ok();
    // The set-up code first (counted against guessing): the password is hashed only after it.
    let code = f.setup_code.clone();
    let code_ok =
        s.db.call::<_, ServiceError>(move |tx, _| {
            if tx.rate_hit("siapkan", jemput_core::time_util::now_ms(), auth::THROTTLE_WINDOW_MS)? > 10 {
                return Ok(Err("Terlalu banyak percobaan; tunggu 15 menit"));
            }
            Ok(if tx.meta(META_CODE)?.is_some_and(|h| h == service::secret_hash(&code)) { Ok(()) } else { Err("Kode penyiapan salah") })
        })
        .await?;
    if let Err(m) = code_ok {
        e.push(("setup_code".to_string(), m.to_string()));
    }
    let hash = match (&admin, e.is_empty()) {
        (Some(_), true) => {
            let pw = f.admin_password.clone();
            Some(tokio::task::spawn_blocking(move || auth::hash_password(&pw)).await.map_err(|_| ServiceError::Internal)??)
        }
        _ => None,
    };
    let code = f.setup_code.clone();
    let result =
        s.db.call::<_, ServiceError>(move |tx, cipher| {
            if tx.meta(META_CODE)?.is_none_or(|h| h != service::secret_hash(&code)) {
                return Ok(Err(Vec::new()));
            }
            let (Some((k, st)), Some((user, _, name)), Some(hash)) = (&parsed, &admin, &hash) else { return Ok(Err(Vec::new())) };
            let a = FirstAdmin { name: name.clone(), username: user.clone(), password_hash: hash.clone() };
            install(tx, cipher, k, &Catalog::default_catalog(), st, &a)?;
            tx.rate_clear("siapkan")?;
            Ok(Ok(()))
        })
        .await?;
    match result {
        Ok(()) => Ok(Redirect::to("/masuk").into_response()),
        Err(code_errors) => {
            e.extend(code_errors);
            let mut f = f;
            f.admin_password.clear();
            f.admin_password2.clear();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, layout::bare("Siapkan hub", page(&f, &e))).into_response())
        }
    }
}
