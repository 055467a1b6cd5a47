//! Signing in to the dashboard: roles, Argon2id passwords, server-side sessions (only a hash
//! of the cookie is stored; idle timeout), CSRF tokens on every POST, failed sign-ins
//! throttled per user name and per hub, signing out.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::crypto::Cipher;
use maud::html;
use serde::Deserialize;

use super::layout;
use super::WebResult;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::storage::{HubTx, StaffAccount};
use crate::storage::{StaffProfile, WebSession};

pub use crate::service::staff::{role_of, Role};

/// How long a session may stay unused.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// Failed sign-ins allowed per user name (and 10× that per hub) in [`THROTTLE_WINDOW_MS`].
pub const MAX_FAILURES: u32 = 5;
/// The throttling window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

const SESSION_COOKIE: &str = "jemput_sesi";
const LOGIN_CSRF_COOKIE: &str = "jemput_csrf_masuk";

/// Hashes a password with Argon2id (PHC string with its own random salt).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ServiceError::Internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| ServiceError::Internal)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|_| ServiceError::Internal)?.to_string())
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Checks a new password (server side); the message says what is wrong.
pub fn check_password(password: &str, confirm: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 10 {
        return Err("Kata sandi paling sedikit 10 karakter");
    }
    if n > 200 {
        return Err("Kata sandi paling banyak 200 karakter");
    }
    if password != confirm {
        return Err("Ulangan kata sandi tidak sama");
    }
    Ok(())
}

/// Checks a user name: 3–40 lower-case letters, digits, dot, dash or underscore.
pub fn check_username(u: &str) -> Result<String, &'static str> {
    let u = u.trim().to_lowercase();
    if !(3..=40).contains(&u.len()) || !u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
        return Err("Nama pengguna 3–40 huruf kecil, angka, titik, minus atau garis bawah");
    }
    Ok(u)
}

/// Creates a staff account that signs in to the dashboard (audited as `by`).
pub fn create_account(
    tx: &mut dyn HubTx,
    name: &str,
    username: &str,
    password_hash: String,
    role: Role,
    by: &str,
) -> Result<StaffAccount, ServiceError> {
    Ok(add_staff_with_role(tx, name, role, Some((username.to_string(), password_hash)), by)?.0)
}

/// Creates a staff account with a role (and, with `login`, a user name and password hash for
/// the dashboard); returns it and its API token (shown once). Audited once as `by`.
pub fn add_staff_with_role(
    tx: &mut dyn HubTx,
    name: &str,
    role: Role,
    login: Option<(String, String)>,
    by: &str,
) -> Result<(StaffAccount, String), ServiceError> {
    if let Some((u, _)) = &login {
        if tx.staff_profile_by_username(u)?.is_some() {
            return Err(ServiceError::BadRequest("nama_pengguna_dipakai", "Nama pengguna sudah dipakai"));
        }
    }
    let (account, token) = service::add_staff_as(tx, name, by)?;
    let (username, password_hash) = login.unzip();
    tx.put_staff_profile(&StaffProfile { staff_id: account.id.clone(), role: role.code().into(), username, password_hash })?;
    service::audit(tx, by, &format!("peran_staf:{}:{}", account.id, role.code()), None)?;
    Ok((account, token))
}

/// The signed-in staff member of a dashboard request.
#[derive(Debug, Clone)]
pub struct Me {
    /// The account.
    pub account: StaffAccount,
    /// Its role.
    pub role: Role,
    /// The session's CSRF token (goes into every form).
    pub csrf: String,
}

impl Me {
    /// The audit actor (`staf:ID`), the same as the JSON API writes.
    pub fn who(&self) -> String {
        format!("staf:{}", self.account.id)
    }

    /// Refused unless the role is at least `need`.
    pub fn require(&self, need: Role) -> Result<(), ServiceError> {
        if self.role >= need {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("peran_tidak_cukup", "Peran Anda tidak berwenang untuk halaman atau tindakan ini"))
        }
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn session_hash(id: &str) -> Vec<u8> {
    blake3::derive_key("jemput 2026 sesi dasbor", id.as_bytes()).to_vec()
}

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session behind a request's cookie, checked (idle timeout, account active), touched.
fn session_in(tx: &mut dyn HubTx, session_id: Option<&str>, now: i64) -> Result<Me, ServiceError> {
    let ended = ServiceError::Unauthorized("sesi_berakhir", "Sesi berakhir; silakan masuk lagi");
    let id = session_id.ok_or(ServiceError::Unauthorized("staf_belum_masuk", "Silakan masuk dulu"))?;
    let h = session_hash(id);
    let s = tx.web_session(&h)?.ok_or(ended)?;
    if s.last_seen + IDLE_TIMEOUT_MS < now {
        tx.delete_web_session(&h)?;
        return Err(ServiceError::Unauthorized("sesi_berakhir", "Sesi berakhir; silakan masuk lagi"));
    }
    let account = tx
        .staff_accounts()?
        .into_iter()
        .find(|a| a.id == s.staff_id && a.active)
        .ok_or(ServiceError::Unauthorized("staf_dicabut", "Akun staf ini sudah dinonaktifkan"))?;
    let role = role_of(tx, &account.id)?;
    tx.touch_web_session(&h, now)?;
    Ok(Me { account, role, csrf: s.csrf })
}

/// Opens a dashboard session for a staff account without a password (for `jemput-bench` and
/// tests that measure or drive pages); returns the cookie's value and the CSRF token.
pub fn open_session(tx: &mut dyn HubTx, staff_id: &str) -> Result<(String, String), ServiceError> {
    let id = service::random_secret(40);
    let csrf = service::random_secret(32);
    let now = jemput_core::time_util::now_ms();
    tx.insert_web_session(&WebSession {
        id_hash: session_hash(&id),
        staff_id: staff_id.into(),
        csrf: csrf.clone(),
        created_at: now,
        last_seen: now,
    })?;
    Ok((format!("{SESSION_COOKIE}={id}"), csrf))
}

/// Runs `f` in one transaction as the signed-in staff member, refused unless their role is at
/// least `need` and, for a POST (`csrf` given), the form's CSRF token matches the session's.
pub async fn as_web<T: Send + 'static>(
    s: &AppState,
    headers: &HeaderMap,
    need: Role,
    csrf: Option<String>,
    mut f: impl FnMut(&mut dyn HubTx, &Cipher, &Me) -> Result<T, ServiceError> + Send + 'static,
) -> WebResult<T> {
    let sid = cookie(headers, SESSION_COOKIE).map(str::to_string);
    Ok(s.db
        .call(move |tx, cipher| {
            let me = session_in(tx, sid.as_deref(), jemput_core::time_util::now_ms())?;
            if let Some(c) = &csrf {
                if !same_token(c, &me.csrf) {
                    return Err(ServiceError::Forbidden("csrf_salah", "Formulir kedaluwarsa; muat ulang halaman lalu coba lagi"));
                }
            }
            me.require(need)?;
            f(tx, cipher, &me)
        })
        .await?)
}

/// Whether the hub has a kelurahan yet.
pub async fn is_set_up(s: &AppState) -> Result<bool, ServiceError> {
    s.db.call(|tx, _| Ok(tx.sealed_doc("kelurahan", false)?.is_some())).await
}

/// `/`: the inbox when signed in, else the sign-in page (or the first set-up).
pub async fn home(State(s): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    if !is_set_up(&s).await? {
        return Ok(Redirect::to("/siapkan").into_response());
    }
    let sid = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    let ok =
        s.db.call::<_, ServiceError>(move |tx, _| Ok(session_in(tx, sid.as_deref(), jemput_core::time_util::now_ms()).is_ok())).await?;
    Ok(Redirect::to(if ok { "/kotak-masuk" } else { "/masuk" }).into_response())
}

fn login_page(csrf: &str, error: Option<&str>, username: &str) -> maud::Markup {
    html! {
        div.masuk {
            h1 { "Masuk ke dasbor kelurahan" }
            @if let Some(e) = error { p.galat role="alert" { (e) } }
            form method="post" action="/masuk" {
                input type="hidden" name="csrf" value=(csrf);
                label for="pengguna" { "Nama pengguna" }
                input #pengguna type="text" name="username" value=(username) autocomplete="username" required autofocus;
                label for="sandi" { "Kata sandi" }
                input #sandi type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Masuk" }
            }
            p.kecil { "Lupa kata sandi? Minta admin kelurahan mengatur ulang akun Anda." }
        }
    }
}

fn with_login_csrf(csrf: &str, body: maud::Markup, status: axum::http::StatusCode) -> Response {
    let mut r = (status, layout::bare("Masuk", body)).into_response();
    let c = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/masuk; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The sign-in page (double-submit CSRF token: a cookie and the same value in the form).
pub async fn login_form(State(s): State<AppState>) -> WebResult<Response> {
    if !is_set_up(&s).await? {
        return Ok(Redirect::to("/siapkan").into_response());
    }
    let csrf = service::random_secret(32);
    Ok(with_login_csrf(&csrf, login_page(&csrf, None, ""), axum::http::StatusCode::OK))
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// Signs in: a new session on success; a failure counts towards the throttle, and a throttled
/// user name (or a hub under a guessing attack) is refused without checking the password.
pub async fn login(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<LoginForm>) -> WebResult<Response> {
    let fresh = service::random_secret(32);
    if !cookie(&headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same_token(c, &f.csrf)) {
        let msg = "Formulir kedaluwarsa; silakan coba lagi";
        return Ok(with_login_csrf(&fresh, login_page(&fresh, Some(msg), ""), axum::http::StatusCode::FORBIDDEN));
    }
    let username = f.username.trim().to_lowercase();
    let u = username.clone();
    let password = f.password;
    let session_id = service::random_secret(40);
    let sid = session_id.clone();
    // 1. Count the attempt first (so parallel guesses cannot slip past the limit) and read
    //    what the check needs; the Argon2 work then runs outside any transaction, so signing
    //    in never holds the database while it hashes.
    let user_key = format!("masuk:{u}");
    let k = user_key.clone();
    let found =
        s.db.call::<_, ServiceError>(move |tx, _| {
            let now = jemput_core::time_util::now_ms();
            if tx.rate_hit(&k, now, THROTTLE_WINDOW_MS)? > MAX_FAILURES
                || tx.rate_count("masuk:*", now, THROTTLE_WINDOW_MS)? >= MAX_FAILURES * 10
            {
                service::audit(tx, "sistem", "masuk_ditahan", None)?;
                return Ok(None);
            }
            let profile = tx.staff_profile_by_username(&u)?;
            let account = match &profile {
                Some(p) => tx.staff_accounts()?.into_iter().find(|a| a.id == p.staff_id && a.active),
                None => None,
            };
            Ok(Some(account.zip(profile.and_then(|p| p.password_hash))))
        })
        .await?;
    let Some(found) = found else {
        let msg = "Terlalu banyak percobaan gagal. Tunggu 15 menit lalu coba lagi.";
        return Ok(with_login_csrf(&fresh, login_page(&fresh, Some(msg), &username), axum::http::StatusCode::UNAUTHORIZED));
    };
    let (account, ok) = tokio::task::spawn_blocking(move || match found {
        Some((account, hash)) => {
            let ok = verify_password(&password, &hash);
            (Some(account), ok)
        }
        None => {
            // The same work as a real check, so timing does not tell which names exist.
            let _ = verify_password(&password, dummy_hash());
            (None, false)
        }
    })
    .await
    .map_err(|_| ServiceError::Internal)?;
    // 2. Record the outcome.
    let outcome =
        s.db.call::<_, ServiceError>(move |tx, _| {
            let now = jemput_core::time_util::now_ms();
            let Some(account) = account.clone().filter(|_| ok) else {
                tx.rate_hit("masuk:*", now, THROTTLE_WINDOW_MS)?;
                service::audit(tx, "sistem", "masuk_gagal", None)?;
                return Ok(Err("Nama pengguna atau kata sandi salah"));
            };
            tx.rate_clear(&user_key)?;
            tx.delete_web_sessions(None, now - IDLE_TIMEOUT_MS)?;
            tx.insert_web_session(&WebSession {
                id_hash: session_hash(&sid),
                staff_id: account.id.clone(),
                csrf: service::random_secret(32),
                created_at: now,
                last_seen: now,
            })?;
            service::audit(tx, &format!("staf:{}", account.id), "masuk", None)?;
            Ok(Ok(()))
        })
        .await?;
    match outcome {
        Err(msg) => Ok(with_login_csrf(&fresh, login_page(&fresh, Some(msg), &username), axum::http::StatusCode::UNAUTHORIZED)),
        Ok(()) => {
            let mut r = Redirect::to("/kotak-masuk").into_response();
            let secure = if super::options().public_url.starts_with("https://") { "; Secure" } else { "" };
            let c = format!("{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict{secure}");
            r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&c).map_err(|_| ServiceError::Internal)?);
            Ok(r)
        }
    }
}

/// An Argon2id hash of a random password, checked against when the user name is unknown.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&service::random_secret(24)).unwrap_or_default())
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The token.
    pub csrf: String,
}

/// Signs out: the session ends on the hub, the cookie is cleared.
pub async fn logout(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> WebResult<Response> {
    let sid = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    as_web(&s, &headers, Role::Operator, Some(f.csrf), move |tx, _, me| {
        if let Some(id) = &sid {
            tx.delete_web_session(&session_hash(id))?;
        }
        service::audit(tx, &me.who(), "keluar", None)
    })
    .await?;
    let mut r = Redirect::to("/masuk").into_response();
    r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static("jemput_sesi=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    Ok(r)
}
