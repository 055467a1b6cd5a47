//! Handler tests of the dashboard, in-process (`oneshot`), on both back ends: every route with
//! every role (allowed and refused), sign-in, sessions, CSRF, throttling, the request flow
//! (filters, search, status, letter number, exports, print), complaints, officers and the
//! enrolment QR, staff accounts, profile and catalog, the audit (who did what, once), the
//! public receipt check, the first set-up, and the roles on the JSON staff API.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request as HttpRequest, StatusCode};
use http_body_util::BodyExt;
use jemput_core::complaint::{Complaint, ComplaintCategory, ComplaintUpdate, Place, Reporter};
use jemput_core::receipt::{DevicePrefix, ReceiptCode};
use jemput_core::request::{Actor, Address, Applicant, OfficeFields, Role as ActorRole, Sex, StatusChange};
use jemput_core::sync::hub_side::Placement;
use jemput_core::{document, Catalog, ComplaintStatus, Kelurahan, Request, Status};
use tower::ServiceExt;

use super::auth::{self, Role};
use super::setup::{install, FirstAdmin};
use crate::api::{app, AppState};
use crate::error::ServiceError;
use crate::on_both_backends;
use crate::service;
use crate::storage::HubDb;
use crate::storage::{AuditEntry, AuditFilter, WebSession};
use crate::testing::{BackendKind, TestDb};
use crate::web::settings::OfficeSettings;

const PASSWORD: &str = "kata-sandi-uji-123";

fn password_hash() -> String {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| auth::hash_password(PASSWORD).unwrap()).clone()
}

/// A signed-in person: session cookie, CSRF token, staff id.
#[derive(Clone)]
struct Who {
    cookie: String,
    csrf: String,
    id: String,
}

struct T {
    _store: TestDb,
    db: HubDb,
    admin: Who,
    pimpinan: Who,
    operator: Who,
    /// API token of the operator.
    operator_token: String,
}

fn session(db: &HubDb, staff_id: &str) -> Who {
    let sid = service::random_secret(40);
    let csrf = service::random_secret(32);
    let (s, c) = (sid.clone(), csrf.clone());
    let id = staff_id.to_string();
    db.with(move |tx, _| {
        let now = jemput_core::time_util::now_ms();
        tx.insert_web_session(&WebSession {
            id_hash: blake3::derive_key("jemput 2026 sesi dasbor", s.as_bytes()).to_vec(),
            staff_id: id.clone(),
            csrf: c.clone(),
            created_at: now,
            last_seen: now,
        })
    })
    .unwrap();
    Who { cookie: format!("jemput_sesi={sid}"), csrf, id: staff_id.into() }
}

fn hub(kind: BackendKind) -> T {
    let store = TestDb::fresh(kind).expect("back end available");
    let db = store.db.clone();
    let settings = OfficeSettings { government: "Pemerintah Kota Uji".into(), signer_name: "Drs. Lurah Uji".into(), ..Default::default() };
    let admin = db
        .with(|tx, cipher| {
            let a = FirstAdmin { name: "Admin Satu".into(), username: "admin".into(), password_hash: password_hash() };
            install(tx, cipher, &Kelurahan::demo(), &Catalog::default_catalog(), &settings, &a)
        })
        .unwrap();
    let (pimpinan, (operator, operator_token)) = db
        .with::<_, ServiceError>(|tx, _| {
            let p = auth::add_staff_with_role(tx, "Bu Sekretaris", Role::Pimpinan, Some(("sekretaris".into(), password_hash())), "sistem")?;
            let o = auth::add_staff_with_role(tx, "Mas Operator", Role::Operator, Some(("operator".into(), password_hash())), "sistem")?;
            Ok((p.0, o))
        })
        .unwrap();
    T {
        admin: session(&db, &admin.id),
        pimpinan: session(&db, &pimpinan.id),
        operator: session(&db, &operator.id),
        operator_token,
        db,
        _store: store,
    }
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

async fn send(t: &T, req: HttpRequest<Body>) -> Resp {
    let mut req = req;
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))));
    req.headers_mut().insert(header::HOST, axum::http::HeaderValue::from_static("hub.uji"));
    let r = app(AppState::new(t.db.clone())).oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    Resp { status, headers, body: r.into_body().collect().await.unwrap().to_bytes().to_vec() }
}

async fn get(t: &T, path: &str, who: Option<&Who>) -> Resp {
    let mut b = HttpRequest::get(path);
    if let Some(w) = who {
        b = b.header(header::COOKIE, &w.cookie);
    }
    send(t, b.body(Body::empty()).unwrap()).await
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POSTs a form as `who` with their CSRF token (unless the fields carry one).
async fn post(t: &T, path: &str, who: Option<&Who>, fields: &[(&str, &str)]) -> Resp {
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    let mut b = HttpRequest::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(w) = who {
        b = b.header(header::COOKIE, &w.cookie);
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            all.push(("csrf", &w.csrf));
        }
    }
    send(t, b.body(Body::from(form(&all))).unwrap()).await
}

fn audit(t: &T, f: AuditFilter) -> Vec<AuditEntry> {
    t.db.with(move |tx, _| tx.audit_query(&f, 0, 1000)).unwrap()
}

fn actions(t: &T, prefix: &str) -> Vec<(String, String)> {
    audit(t, AuditFilter { action_prefix: Some(prefix.into()), ..Default::default() }).into_iter().map(|e| (e.actor, e.action)).collect()
}

/// Stores a request as a phone's sync would (same document, same placement).
fn add_request(t: &T, i: u32, name: &str, nik: &str, rw: u16, rt: u16, service: &str) -> Request {
    let now = jemput_core::time_util::now_ms() - i64::from(i) * 1000;
    let r = Request {
        id: uuid::Uuid::now_v7().to_string(),
        receipt: ReceiptCode::new(&DevicePrefix::from_index(7), i).unwrap().as_str().to_string(),
        service_code: service.into(),
        catalog_version: 1,
        applicant: Applicant {
            name: name.into(),
            nik: nik.into(),
            kk: "3578010101150003".into(),
            birth_place: "Surabaya".into(),
            birth_date: "1990-05-01".into(),
            sex: Sex::Perempuan,
            address: Address { street: "Jl. Uji No. 1".into(), rt, rw },
            phone: Some("081234567890".into()),
            uses_whatsapp: false,
        },
        checklist: HashMap::from([("ktp".to_string(), true), ("kk".to_string(), false)]),
        fields: HashMap::from([("keperluan".to_string(), "Membuka rekening bank".to_string())]),
        notes: String::new(),
        officer_id: "petugas-uji".into(),
        device_id: "perangkat-uji".into(),
        created_at: now,
        history: vec![StatusChange {
            status: Status::Dicatat,
            at: now,
            by: Actor { role: ActorRole::Petugas, id: "petugas-uji".into() },
            reason: None,
        }],
        office: OfficeFields::default(),
    };
    let r2 = r.clone();
    t.db.with(move |tx, cipher| {
        let mut doc = document::create(&r2, &document::random_actor()).map_err(|_| crate::error::ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, &r2.id, &mut doc, &Placement::of_request(&r2))
    })
    .unwrap();
    r
}

fn add_complaint(t: &T) -> Complaint {
    let now = jemput_core::time_util::now_ms();
    let c = Complaint {
        id: uuid::Uuid::now_v7().to_string(),
        receipt: ReceiptCode::new(&DevicePrefix::from_index(7), 900).unwrap().as_str().to_string(),
        category: ComplaintCategory::Pengaduan,
        topic: "Jalan rusak".into(),
        text: "Lubang besar di depan musala <b>bahaya</b>".into(),
        place: Place { rt: 1, rw: 1, description: "Depan musala".into() },
        reporter: Some(Reporter { name: "Pak Warga".into(), phone: None }),
        officer_id: "petugas-uji".into(),
        device_id: "perangkat-uji".into(),
        created_at: now,
        updates: vec![ComplaintUpdate {
            status: ComplaintStatus::Dicatat,
            at: now,
            by: Actor { role: ActorRole::Petugas, id: "petugas-uji".into() },
            response: None,
        }],
    };
    let c2 = c.clone();
    t.db.with(move |tx, cipher| {
        let mut doc = document::create(&c2, &document::random_actor()).map_err(|_| crate::error::ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, &c2.id, &mut doc, &Placement::of_complaint(&c2))
    })
    .unwrap();
    c
}

fn stored_request(t: &T, id: &str) -> Request {
    let id = id.to_string();
    t.db.with::<_, ServiceError>(move |tx, cipher| Ok(crate::api::staff::read_record::<Request>(tx, cipher, &id, false)?.1)).unwrap()
}

on_both_backends! {
async fn every_route_checks_the_role(kind) {
    let t = hub(kind);
    let r = add_request(&t, 1, "Siti Aminah", "3578014101900001", 1, 1, "domisili");
    let c = add_complaint(&t);
    let officer = t.db.with(|tx, _| service::add_officer(tx, "Pak RT", jemput_core::permissions::Scope { rw: 1, rt: Some(1) })).unwrap();
    let rid = r.id.as_str();
    let pages: Vec<(String, Role)> = vec![
        ("/kotak-masuk".into(), Role::Operator),
        ("/permohonan".into(), Role::Operator),
        (format!("/permohonan/{rid}"), Role::Operator),
        (format!("/permohonan/{rid}/cetak"), Role::Operator),
        (format!("/permohonan/{rid}/surat.pdf"), Role::Operator),
        (format!("/permohonan/{rid}/tanda-terima.pdf"), Role::Operator),
        ("/permohonan/ekspor.csv".into(), Role::Operator),
        ("/permohonan/ekspor.xlsx".into(), Role::Operator),
        ("/pengaduan".into(), Role::Operator),
        (format!("/pengaduan/{}", c.id), Role::Operator),
        ("/papan-pengumuman".into(), Role::Operator),
        ("/petugas".into(), Role::Admin),
        ("/staf".into(), Role::Admin),
        ("/profil".into(), Role::Admin),
        ("/katalog".into(), Role::Admin),
        ("/audit".into(), Role::Admin),
        ("/audit/ekspor.csv".into(), Role::Admin),
        ("/masa-simpan".into(), Role::Admin),
    ];
    for (path, need) in &pages {
        let anon = get(&t, path, None).await;
        assert_eq!((anon.status, anon.location()), (StatusCode::SEE_OTHER, "/masuk"), "{path} without signing in");
        for (who, role) in [(&t.operator, Role::Operator), (&t.pimpinan, Role::Pimpinan), (&t.admin, Role::Admin)] {
            let r = get(&t, path, Some(who)).await;
            if role >= *need {
                assert_eq!(r.status, StatusCode::OK, "{path} as {role:?}: {}", r.text());
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} as {role:?}");
            }
        }
    }
    // Actions: refused below the role (403) and without a session (to the sign-in page); the
    // allowed role's success is checked in the flow tests.
    let oid = officer.id.as_str();
    type Action<'a> = (String, Vec<(&'a str, &'a str)>, Role);
    let actions: Vec<Action> = vec![
        (format!("/permohonan/{rid}/status"), vec![("status", "ditolak"), ("reason", "Bukan warga")], Role::Pimpinan),
        (format!("/permohonan/{rid}/kantor"), vec![("letter_number", "470/9/2026"), ("staff_notes", "")], Role::Pimpinan),
        (format!("/permohonan/{rid}/hapus"), vec![("alasan", "permintaan warga")], Role::Pimpinan),
        (format!("/petugas/{oid}/kode"), vec![], Role::Admin),
        (format!("/petugas/{oid}/cabut"), vec![], Role::Admin),
        ("/perangkat/tidak-ada/cabut".into(), vec![], Role::Admin),
        ("/petugas".into(), vec![("name", "Bu RW"), ("rw", "1"), ("rt", "")], Role::Admin),
        ("/staf".into(), vec![("name", "Orang Baru"), ("username", "baru"), ("role", "admin"), ("password", PASSWORD), ("password2", PASSWORD)], Role::Admin),
        (format!("/staf/{}/nonaktifkan", t.operator.id), vec![], Role::Admin),
        ("/profil".into(), vec![("name", "Kelurahan Diambil Alih")], Role::Admin),
        ("/katalog/domisili".into(), vec![("name", "Diubah")], Role::Admin),
        (format!("/pengaduan/{}/hapus", c.id), vec![("alasan", "permintaan pelapor")], Role::Pimpinan),
        (
            "/masa-simpan".into(),
            vec![("request_days_on_phone", "1"), ("complaint_days_on_phone", "1"), ("request_days_on_hub", "1"), ("complaint_days_on_hub", "1")],
            Role::Admin,
        ),
    ];
    for (path, fields, need) in &actions {
        let anon = post(&t, path, None, &[fields.as_slice(), &[("csrf", "x")]].concat()).await;
        assert_eq!((anon.status, anon.location()), (StatusCode::SEE_OTHER, "/masuk"), "POST {path} without signing in");
        for (who, role) in [(&t.operator, Role::Operator), (&t.pimpinan, Role::Pimpinan)] {
            if role < *need {
                let r = post(&t, path, Some(who), fields).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} as {role:?}: {}", r.text());
            }
        }
    }
    // Nothing was changed by the refused calls.
    let after = stored_request(&t, rid);
    assert_eq!((after.status(), after.office.letter_number), (Status::Terkirim, None));
    assert!(t.db.with(|tx, _| tx.officer(&officer.id)).unwrap().unwrap().active);
    assert_eq!(t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap().name, Kelurahan::demo().name);
    assert_eq!(t.db.with(|tx, cipher| service::erasure::retention(tx, cipher)).unwrap(), Default::default());
    let cid = c.id.clone();
    assert!(t.db.with(move |tx, _| tx.erased(&cid)).unwrap().is_none(), "the complaint was not erased");
    // The public pages need no account.
    assert_eq!(get(&t, "/cek", None).await.status, StatusCode::OK);
    assert_eq!(get(&t, "/aset/gaya.css", None).await.status, StatusCode::OK);
}
}

on_both_backends! {
async fn sign_in_throttle_csrf_idle_timeout_and_sign_out(kind) {
    let t = hub(kind);
    // The sign-in page sets the double-submit token.
    let page = get(&t, "/masuk", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let set = page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    let token = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let login = |user: &'static str, pw: &'static str, csrf: String, cookie: bool| {
        let mut b = HttpRequest::post("/masuk").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if cookie {
            b = b.header(header::COOKIE, format!("jemput_csrf_masuk={csrf}"));
        }
        b.body(Body::from(form(&[("csrf", &csrf), ("username", user), ("password", pw)]))).unwrap()
    };
    // Without the matching cookie: refused.
    assert_eq!(send(&t, login("operator", PASSWORD, token.clone(), false)).await.status, StatusCode::FORBIDDEN);
    // Right password: a session cookie, the inbox.
    let ok = send(&t, login("Operator", PASSWORD, token.clone(), true)).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/kotak-masuk"));
    let cookie = ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("HttpOnly"));
    let inbox = get(&t, "/kotak-masuk", Some(&Who { cookie: cookie.clone(), csrf: String::new(), id: String::new() })).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.text().contains("Mas Operator"));
    // Wrong passwords: refused, counted; after five, even the right one is held back.
    for _ in 0..5 {
        let r = send(&t, login("operator", "salah-salah-salah", token.clone(), true)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text().contains("Nama pengguna atau kata sandi salah"));
    }
    let held = send(&t, login("operator", PASSWORD, token.clone(), true)).await;
    assert_eq!(held.status, StatusCode::UNAUTHORIZED);
    assert!(held.text().contains("Terlalu banyak percobaan"), "{}", held.text());
    assert_eq!(actions(&t, "masuk_gagal").len(), 5);
    assert_eq!(actions(&t, "masuk_ditahan").len(), 1);
    // Another user is not held back by the operator's failures.
    assert_eq!(send(&t, login("sekretaris", PASSWORD, token.clone(), true)).await.status, StatusCode::SEE_OTHER);
    // An unknown name gets the same answer as a wrong password.
    let r = send(&t, login("tidakada", PASSWORD, token.clone(), true)).await;
    assert!(r.text().contains("Nama pengguna atau kata sandi salah"));
    // A POST with the wrong CSRF token changes nothing.
    let w = t.admin.clone();
    let r = post(&t, "/petugas", Some(&w), &[("csrf", "palsu"), ("name", "Bu RW"), ("rw", "1"), ("rt", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(t.db.with(|tx, _| tx.officers()).unwrap().is_empty());
    // Idle for longer than the timeout: back to the sign-in page.
    let idle = t.pimpinan.clone();
    let hash = blake3::derive_key("jemput 2026 sesi dasbor", idle.cookie.trim_start_matches("jemput_sesi=").as_bytes()).to_vec();
    t.db.with(move |tx, _| tx.touch_web_session(&hash, jemput_core::time_util::now_ms() - auth::IDLE_TIMEOUT_MS - 1000)).unwrap();
    let r = get(&t, "/kotak-masuk", Some(&idle)).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/masuk"));
    // Signing out ends the session on the hub.
    let r = post(&t, "/keluar", Some(&t.operator), &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/masuk"));
    assert_eq!(get(&t, "/kotak-masuk", Some(&t.operator)).await.status, StatusCode::SEE_OTHER);
    let outs = actions(&t, "keluar");
    assert_eq!(outs, vec![(format!("staf:{}", t.operator.id), "keluar".to_string())]);
}
}

on_both_backends! {
async fn list_filters_search_and_escaping(kind) {
    let t = hub(kind);
    let a = add_request(&t, 1, "Siti Aminah", "3578014101900001", 1, 1, "domisili");
    let b = add_request(&t, 2, "Budi Santoso", "3578010101900002", 2, 3, "sktm");
    let c = add_request(&t, 3, "<script>alert(1)</script> Aminah", "3578014101900003", 1, 2, "domisili");
    let op = t.operator.clone();
    let list = |q: &'static str| {
        let t = &t;
        let op = op.clone();
        async move { get(t, &format!("/permohonan?{q}"), Some(&op)).await.text() }
    };
    let all = list("").await;
    for r in [&a, &b, &c] {
        assert!(all.contains(&r.receipt), "{} missing", r.receipt);
    }
    assert!(!all.contains("<script>alert(1)</script>"), "names are escaped");
    assert!(all.contains("&lt;script&gt;"));
    let only = |html: &str, want: &[&Request]| {
        for r in [&a, &b, &c] {
            assert_eq!(html.contains(&r.receipt), want.iter().any(|w| w.id == r.id), "{} in {:?}", r.receipt, want.iter().map(|w| &w.receipt).collect::<Vec<_>>());
        }
    };
    only(&list("rw=2").await, &[&b]);
    only(&list("rw=1&rt=2").await, &[&c]);
    only(&list("layanan=domisili").await, &[&a, &c]);
    only(&list("cari=aminah").await, &[&a, &c]);
    only(&list("cari=Siti+AMINAH").await, &[&a]);
    // The beginning of any word of a name is enough, as on the phone.
    only(&list("cari=amin").await, &[&a, &c]);
    only(&list("cari=san").await, &[&b]);
    only(&list("cari=si+am").await, &[&a]);
    only(&list("cari=minah").await, &[]);
    assert_eq!(get(&t, "/permohonan?cari=a", Some(&op)).await.status, StatusCode::BAD_REQUEST, "one letter matches nearly everyone");
    only(&list("cari=3578010101900002").await, &[&b]);
    let code = a.receipt.to_lowercase().replace('-', "");
    only(&get(&t, &format!("/permohonan?cari={code}"), Some(&op)).await.text(), &[&a]);
    only(&list("status=terkirim").await, &[&a, &b, &c]);
    only(&list("status=selesai").await, &[]);
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms()).to_string();
    only(&get(&t, &format!("/permohonan?dari={today}&sampai={today}"), Some(&op)).await.text(), &[&a, &b, &c]);
    only(&list("sampai=2020-01-01").await, &[]);
    assert_eq!(get(&t, "/permohonan?status=entah", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&t, "/permohonan?dari=kemarin", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    // Each list view is audited once, as the person.
    let views = actions(&t, "lihat_daftar_permohonan");
    assert!(views.iter().all(|(who, _)| *who == format!("staf:{}", t.operator.id)));
    assert_eq!(views.len(), 16, "one per page shown; refused filters show nothing");
    // The index keeps no names or NIKs in clear.
    if kind == BackendKind::Sqlite {
        let bytes = std::fs::read(&t._store.location).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains("Aminah") && !hay.contains("3578014101900001"));
    }
}
}

on_both_backends! {
async fn status_changes_letter_number_and_note_by_role(kind) {
    let t = hub(kind);
    let r = add_request(&t, 1, "Siti Aminah", "3578014101900001", 1, 1, "domisili");
    let path = format!("/permohonan/{}", r.id);
    let detail = get(&t, &path, Some(&t.operator)).await;
    assert!(detail.text().contains("Siti Aminah") && detail.text().contains("3578014101900001"));
    assert_eq!(actions(&t, "lihat_permohonan"), vec![(format!("staf:{}", t.operator.id), "lihat_permohonan".to_string())]);
    // Operator: verify, then process; a reason is required for "perlu kelengkapan".
    let st = |s: &'static str, reason: &'static str| [("status", s), ("reason", reason)];
    assert_eq!(post(&t, &format!("{path}/status"), Some(&t.operator), &st("diverifikasi", "")).await.location(), path);
    let r2 = post(&t, &format!("{path}/status"), Some(&t.operator), &st("perlu_kelengkapan", "")).await;
    assert_eq!(r2.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r2.text().contains("Tulis alasannya"));
    let bad = post(&t, &format!("{path}/status"), Some(&t.operator), &st("diserahkan", "")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "core transition rules");
    assert!(bad.text().contains("tidak dapat berpindah"));
    assert_eq!(post(&t, &format!("{path}/status"), Some(&t.operator), &st("diproses", "")).await.status, StatusCode::SEE_OTHER);
    // Operator cannot approve; the lurah/sekretaris can.
    assert_eq!(post(&t, &format!("{path}/status"), Some(&t.operator), &st("selesai", "")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&t, &format!("{path}/status"), Some(&t.pimpinan), &st("selesai", "")).await.status, StatusCode::SEE_OTHER);
    // Letter number: operator may write a note, not a number; the sekretaris takes the next one.
    let o = post(&t, &format!("{path}/kantor"), Some(&t.operator), &[("auto_number", "1"), ("staff_notes", "")]).await;
    assert_eq!(o.status, StatusCode::FORBIDDEN);
    let o = post(&t, &format!("{path}/kantor"), Some(&t.operator), &[("staff_notes", "Berkas asli sudah dilihat <ok>")]).await;
    assert_eq!(o.status, StatusCode::SEE_OTHER);
    let o = post(&t, &format!("{path}/kantor"), Some(&t.pimpinan), &[("auto_number", "1"), ("letter_number", ""), ("staff_notes", "Berkas asli sudah dilihat <ok>")]).await;
    assert_eq!(o.status, StatusCode::SEE_OTHER);
    let stored = stored_request(&t, &r.id);
    let year = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms()).year();
    let number = stored.office.letter_number.clone().unwrap();
    assert!(number.starts_with("470/001/35.76.02.1003/") && number.ends_with(&format!("/{year}")), "{number}");
    assert_eq!(stored.office.staff_notes.as_deref(), Some("Berkas asli sudah dilihat <ok>"));
    assert_eq!(stored.status(), Status::Selesai);
    // Who did what: the history and the audit name the person, once per change.
    let by: Vec<(Status, String)> = stored.history.iter().filter(|h| h.by.role == ActorRole::Staf).map(|h| (h.status, h.by.id.clone())).collect();
    assert_eq!(by, vec![(Status::Diverifikasi, t.operator.id.clone()), (Status::Diproses, t.operator.id.clone()), (Status::Selesai, t.pimpinan.id.clone())]);
    assert_eq!(
        actions(&t, "status:"),
        vec![
            (format!("staf:{}", t.pimpinan.id), "status:selesai".to_string()),
            (format!("staf:{}", t.operator.id), "status:diproses".to_string()),
            (format!("staf:{}", t.operator.id), "status:diverifikasi".to_string()),
        ]
    );
    assert_eq!(
        actions(&t, "isian_kantor"),
        vec![(format!("staf:{}", t.pimpinan.id), "isian_kantor".into()), (format!("staf:{}", t.operator.id), "isian_kantor".into())]
    );
    // The detail page escapes the note and shows who did what.
    let d = get(&t, &path, Some(&t.admin)).await.text();
    assert!(d.contains("Berkas asli sudah dilihat &lt;ok&gt;"));
    assert!(d.contains("Staf Bu Sekretaris") && d.contains("Staf Mas Operator"));
    // Dates in our own text as people in Indonesia write them, not as records keep them.
    assert!(d.contains("Surabaya, 1 Mei 1990") && !d.contains("1990-05-01"));
    // Print page and PDFs carry the letterhead and number.
    let p = get(&t, &format!("{path}/cetak"), Some(&t.operator)).await.text();
    assert!(p.contains("PEMERINTAH KOTA UJI") && p.contains(&number) && p.contains("TANDA TERIMA"));
    assert!(p.contains("Surabaya, 1 Mei 1990") && !p.contains("1990-05-01"));
    let pdf = get(&t, &format!("{path}/surat.pdf"), Some(&t.operator)).await;
    assert_eq!(pdf.headers.get(header::CONTENT_TYPE).unwrap(), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let pdf_text = String::from_utf8_lossy(&pdf.body);
    assert!(pdf_text.contains("SURAT PENGANTAR") && pdf_text.contains(&number) && pdf_text.contains("Siti Aminah"));
    assert!(pdf_text.contains("Surabaya, 1 Mei 1990"));
    assert!(String::from_utf8_lossy(&get(&t, &format!("{path}/tanda-terima.pdf"), Some(&t.operator)).await.body).contains(&r.receipt));
    assert_eq!(actions(&t, "cetak_surat_pdf").len(), 1);
}
}

on_both_backends! {
async fn exports_inbox_and_public_check(kind) {
    let t = hub(kind);
    let a = add_request(&t, 1, "=HYPERLINK(\"x\")", "3578014101900001", 1, 1, "domisili");
    let b = add_request(&t, 2, "Budi, Santoso", "3578010101900002", 2, 3, "sktm");
    let csv = get(&t, "/permohonan/ekspor.csv?rw=1", Some(&t.operator)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("Kode tanda terima,Layanan,Nama,NIK"));
    assert!(text.contains(&a.receipt) && !text.contains(&b.receipt), "filtered");
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "no formula: {text}");
    let all = get(&t, "/permohonan/ekspor.csv", Some(&t.operator)).await.text();
    assert!(all.contains("\"Budi, Santoso\""));
    let x = get(&t, "/permohonan/ekspor.xlsx", Some(&t.operator)).await;
    assert!(x.body.starts_with(b"PK\x03\x04"), "a zip (xlsx) file");
    assert_eq!(actions(&t, "ekspor_permohonan").len(), 3);
    // Inbox: both are new; once marked, none are.
    let inbox = get(&t, "/kotak-masuk", Some(&t.operator)).await.text();
    assert!(inbox.contains("Baru sejak terakhir Anda lihat (2)") && inbox.contains(&a.receipt));
    assert_eq!(post(&t, "/kotak-masuk/tandai", Some(&t.operator), &[]).await.status, StatusCode::SEE_OTHER);
    assert!(get(&t, "/kotak-masuk", Some(&t.operator)).await.text().contains("Baru sejak terakhir Anda lihat (0)"));
    assert!(get(&t, "/kotak-masuk", Some(&t.admin)).await.text().contains("(2)"), "each person has their own mark");
    // Public check: service, status, date; no name or NIK.
    let p = get(&t, &format!("/cek?kode={}", b.receipt), None).await;
    assert_eq!(p.status, StatusCode::OK);
    let html = p.text();
    assert!(html.contains("Surat Keterangan Tidak Mampu") || html.contains("SKTM") || html.contains("Tidak Mampu"), "{html}");
    assert!(html.contains("Terkirim"));
    assert!(!html.contains("Budi") && !html.contains("3578010101900002"));
    assert_eq!(get(&t, "/cek?kode=ZZZZ-ZZZ-ZZZ", None).await.status, StatusCode::BAD_REQUEST);
    let unknown = ReceiptCode::new(&DevicePrefix::from_index(9), 1).unwrap();
    assert_eq!(get(&t, &format!("/cek?kode={}", unknown.as_str()), None).await.status, StatusCode::NOT_FOUND);
    for _ in 0..crate::web::public::PER_ADDRESS - 2 {
        get(&t, &format!("/cek?kode={}", unknown.as_str()), None).await;
    }
    let held = get(&t, &format!("/cek?kode={}", b.receipt), None).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "guessing is held back");
}
}

on_both_backends! {
async fn complaints_are_answered_and_closed(kind) {
    let t = hub(kind);
    let c = add_complaint(&t);
    let path = format!("/pengaduan/{}", c.id);
    let list = get(&t, "/pengaduan", Some(&t.operator)).await.text();
    assert!(list.contains(&c.receipt) && list.contains("Jalan rusak"));
    let d = get(&t, &path, Some(&t.operator)).await.text();
    assert!(d.contains("&lt;b&gt;bahaya&lt;/b&gt;"), "complaint text escaped");
    let r = post(&t, &format!("{path}/jawab"), Some(&t.operator), &[("status", "selesai"), ("response", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(&t, &format!("{path}/jawab"), Some(&t.operator), &[("status", "ditindaklanjuti"), ("response", "Diteruskan ke Dinas PU")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = post(&t, &format!("{path}/jawab"), Some(&t.operator), &[("status", "selesai"), ("response", "Sudah ditambal")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = c.id.clone();
    let stored = t.db.with::<_, ServiceError>(move |tx, cipher| Ok(crate::api::staff::read_record::<Complaint>(tx, cipher, &id, false)?.1)).unwrap();
    assert_eq!(stored.status(), ComplaintStatus::Selesai);
    assert_eq!(stored.latest_response(), Some("Sudah ditambal"));
    assert_eq!(stored.updates.last().unwrap().by.id, t.operator.id);
    assert_eq!(actions(&t, "jawab_pengaduan").len(), 2);
    assert!(get(&t, &path, Some(&t.operator)).await.text().contains("sudah selesai"));
}
}

on_both_backends! {
async fn officers_qr_revoke_and_audit_once_with_the_person(kind) {
    let t = hub(kind);
    let admin = format!("staf:{}", t.admin.id);
    let r = post(&t, "/petugas", Some(&t.admin), &[("name", "Bu RW"), ("rw", "99"), ("rt", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("RW 099 tidak ada"));
    let r = post(&t, "/petugas", Some(&t.admin), &[("name", "Bu RW"), ("rw", "1"), ("rt", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let o = t.db.with(|tx, _| tx.officers()).unwrap().pop().unwrap();
    assert_eq!((o.name.as_str(), o.rw, o.rt), ("Bu RW", 1, None));
    // The QR page: an SVG drawn by the hub, the hub URL and a code that enrols once.
    let q = post(&t, &format!("/petugas/{}/kode", o.id), Some(&t.admin), &[]).await;
    let html = q.text();
    assert!(html.contains("<svg") && html.contains("http://hub.uji"), "{html}");
    let code = html.split("data-kode>").nth(1).unwrap().split('<').next().unwrap().to_string();
    let e = t.db.with(move |tx, _| service::enrol(tx, &code, "HP Bu RW", "00112233445566778899aabbccddeeff", "0190a1b2-0000-7000-8000-000000000001")).unwrap();
    assert_eq!(e.officer_id, o.id);
    let page = get(&t, "/petugas", Some(&t.admin)).await.text();
    assert!(page.contains("HP Bu RW — belum pernah") && !page.contains("belum terkirim"), "{page}");
    // After a sync, what the phone reported it still holds to send, next to the sync's time.
    let id = e.device_id.clone();
    let backlog = jemput_core::sync::protocol::Backlog { requests: 3, complaints: 0, refused: 1 };
    t.db.with(move |tx, _| tx.touch_device(&id, jemput_core::time_util::now_ms(), Some(backlog))).unwrap();
    let page = get(&t, "/petugas", Some(&t.admin)).await.text();
    assert!(page.contains(r#"<strong class="sisa">belum terkirim: 3 permohonan; 1 ditolak, menunggu perbaikan petugas</strong>"#), "{page}");
    let id = e.device_id.clone();
    t.db.with(move |tx, _| tx.touch_device(&id, jemput_core::time_util::now_ms(), Some(Default::default()))).unwrap();
    assert!(get(&t, "/petugas", Some(&t.admin)).await.text().contains("<span>semua terkirim</span>"));
    assert_eq!(post(&t, &format!("/perangkat/{}/cabut", e.device_id), Some(&t.admin), &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(post(&t, &format!("/petugas/{}/cabut", o.id), Some(&t.admin), &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(actions(&t, "tambah_petugas"), vec![(admin.clone(), format!("tambah_petugas:{}", o.id))]);
    assert_eq!(actions(&t, "kode_pendaftaran"), vec![(admin.clone(), format!("kode_pendaftaran:{}", o.id))]);
    assert_eq!(actions(&t, "cabut_perangkat"), vec![(admin.clone(), format!("cabut_perangkat:{}", e.device_id))]);
    assert_eq!(actions(&t, "cabut_petugas"), vec![(admin.clone(), format!("cabut_petugas:{}", o.id))]);
    // The audit page filters by person.
    let a = get(&t, &format!("/audit?pelaku=staf:{}", t.admin.id), Some(&t.admin)).await.text();
    assert!(a.contains("cabut_petugas") && !a.contains("daftar_perangkat"));
    // Its page links keep the filters.
    let a2 = get(&t, &format!("/audit?pelaku=staf:{}&tindakan=cabut&hal=2", t.admin.id), Some(&t.admin)).await.text();
    assert!(a2.contains(&format!("href=\"/audit?pelaku=staf%3A{}&amp;tindakan=cabut&amp;hal=1\"", t.admin.id)), "{a2}");
    // The download for a breach report (ADR 0014) keeps the date range and is audited.
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms()).to_string();
    let a3 = get(&t, &format!("/audit?dari={today}&sampai={today}"), Some(&t.admin)).await.text();
    assert!(a3.contains(&format!("href=\"/audit/ekspor.csv?dari={today}&amp;sampai={today}\"")), "{a3}");
    let csv = get(&t, &format!("/audit/ekspor.csv?dari={today}&sampai={today}"), Some(&t.admin)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let csv = csv.text();
    assert!(csv.starts_with("\u{feff}waktu,waktu_ms,pelaku,nama_pelaku,tindakan,dokumen,tanda_terima\r\n"), "{csv}");
    assert!(csv.contains(&format!("{admin},")) && csv.contains(&format!("cabut_petugas:{}", o.id)), "{csv}");
    assert_eq!(actions(&t, "ekspor_audit").len(), 1);
    assert_eq!(get(&t, "/audit/ekspor.csv?dari=2026-01-01&sampai=2026-12-31", Some(&t.admin)).await.status, StatusCode::BAD_REQUEST);
}
}

on_both_backends! {
async fn staff_accounts_profile_and_catalog(kind) {
    let t = hub(kind);
    let admin = format!("staf:{}", t.admin.id);
    let r = post(&t, "/staf", Some(&t.admin), &[("name", "Orang Baru"), ("username", "baru"), ("role", "operator"), ("password", "pendek"), ("password2", "pendek")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("paling sedikit 10"));
    let r = post(&t, "/staf", Some(&t.admin), &[("name", "Orang Baru"), ("username", "operator"), ("role", "operator"), ("password", PASSWORD), ("password2", PASSWORD)]).await;
    assert!(r.text().contains("Nama pengguna sudah dipakai"));
    let r = post(&t, "/staf", Some(&t.admin), &[("name", "Orang Baru"), ("username", "baru"), ("role", "pimpinan"), ("password", PASSWORD), ("password2", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = t.db.with(|tx, _| tx.staff_profile_by_username("baru")).unwrap().unwrap();
    assert_eq!(p.role, "pimpinan");
    assert!(auth::verify_password(PASSWORD, p.password_hash.as_deref().unwrap()));
    assert!(p.password_hash.as_deref().unwrap().starts_with("$argon2id$"));
    assert_eq!(actions(&t, "tambah_staf"), vec![
        (admin.clone(), format!("tambah_staf:{}", p.staff_id)),
        ("sistem".to_string(), format!("tambah_staf:{}", t.operator.id)),
        ("sistem".to_string(), format!("tambah_staf:{}", t.pimpinan.id)),
        ("sistem:penyiapan".to_string(), format!("tambah_staf:{}", t.admin.id)),
    ]);
    // Deactivating ends the person's sessions at once.
    assert_eq!(post(&t, &format!("/staf/{}/nonaktifkan", t.operator.id), Some(&t.admin), &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&t, "/permohonan", Some(&t.operator)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(actions(&t, "cabut_staf"), vec![(admin.clone(), format!("cabut_staf:{}", t.operator.id))]);
    // Profile: server-side checks next to the field; a valid edit changes the document.
    let mut fields: Vec<(String, String)> = {
        let k = Kelurahan::demo();
        let s = OfficeSettings { government: "Pemerintah Kota Uji".into(), signer_name: "Drs. Lurah Uji".into(), ..Default::default() };
        crate::web::settings::form_of(&k, &s).fields().into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    let set = |fields: &mut Vec<(String, String)>, k: &str, v: &str| {
        fields.iter_mut().find(|(x, _)| x == k).unwrap().1 = v.into();
    };
    set(&mut fields, "rws", "satu: dua");
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = post(&t, "/profil", Some(&t.admin), &refs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Baris 1 tidak terbaca"));
    set(&mut fields, "rws", "1: 1-3\n2: 1, 2");
    set(&mut fields, "name", "Kelurahan Sukamaju");
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = post(&t, "/profil", Some(&t.admin), &refs).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let k = t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap();
    assert_eq!(k.name, "Kelurahan Sukamaju");
    assert_eq!(k.rws.iter().map(|r| (r.number, r.rts.clone())).collect::<Vec<_>>(), vec![(1, vec![1, 2, 3]), (2, vec![1, 2])]);
    assert_eq!(actions(&t, "ubah_profil"), vec![(admin.clone(), "ubah_profil_kelurahan".into())]);
    // Catalog: a bad line is shown next to the field; a good edit bumps the version once, as the person.
    let edit = |req: &'static str| {
        vec![("name", "Domisili"), ("description", "Keterangan tinggal"), ("processing_days", "2"), ("active", "1"), ("requirements", req), ("fields", "keperluan | Keperluan | teks | wajib")]
    };
    let r = post(&t, "/katalog/domisili", Some(&t.admin), &edit("ktp | KTP")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Baris 1 tidak terbaca"));
    let r = post(&t, "/katalog/domisili", Some(&t.admin), &edit("ktp | KTP asli | wajib\nsurat_rt | Surat pengantar RT | opsional")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cat = t.db.with(|tx, cipher| crate::web::settings::catalog(tx, cipher)).unwrap();
    assert_eq!(cat.version, Catalog::default_catalog().version + 1);
    let sv = cat.service("domisili").unwrap();
    assert_eq!((sv.name.as_str(), sv.requirements.len(), sv.requirements[1].mandatory), ("Domisili", 2, false));
    let r = post(&t, "/katalog/baru", Some(&t.admin), &[&edit("ktp | KTP | wajib")[..], &[("code", "surat_baru")]].concat()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(t.db.with(|tx, cipher| crate::web::settings::catalog(tx, cipher)).unwrap().service("surat_baru").is_some());
    assert_eq!(actions(&t, "ubah_katalog"), vec![(admin.clone(), "ubah_katalog".into()), (admin.clone(), "ubah_katalog".into())]);
}
}

on_both_backends! {
async fn first_set_up_in_the_browser(kind) {
    let store = TestDb::fresh(kind).unwrap();
    let t = T {
        db: store.db.clone(),
        admin: Who { cookie: String::new(), csrf: String::new(), id: String::new() },
        pimpinan: Who { cookie: String::new(), csrf: String::new(), id: String::new() },
        operator: Who { cookie: String::new(), csrf: String::new(), id: String::new() },
        operator_token: String::new(),
        _store: store,
    };
    let home = get(&t, "/", None).await;
    assert_eq!(home.location(), "/siapkan");
    assert_eq!(get(&t, "/masuk", None).await.location(), "/siapkan");
    assert_eq!(get(&t, "/siapkan", None).await.status, StatusCode::OK);
    // The code was made and printed to the log; the test puts a known one in its place.
    t.db.with(|tx, _| tx.set_meta("web_kode_penyiapan", &service::secret_hash("KODEUJI123"))).unwrap();
    let mut fields = vec![
        ("name", "Kelurahan Sukamaju"), ("region_code", "35.78.01.1001"), ("kecamatan", "Sukamaju"), ("city", "Kota Uji"),
        ("office_address", "Jl. Balai Kota 1"), ("office_hours", "Senin–Jumat 08.00–15.00"), ("rws", "1: 1-4\n2: 1-3"),
        ("contacts", "Sekretaris | 081234567890"), ("emergency", "Ambulans | 119"), ("links", "Bansos | https://cekbansos.kemensos.go.id"),
        ("government", "Pemerintah Kota Uji"), ("phone", "031-123"), ("email", "kel@uji.go.id"), ("signer_title", "Lurah"),
        ("signer_name", "Drs. Lurah"), ("signer_nip", "19700101"), ("number_format", "470/{no}/{tahun}"),
        ("admin_name", "Admin Sukamaju"), ("admin_username", "admin"), ("admin_password", PASSWORD), ("admin_password2", PASSWORD),
        ("setup_code", "SALAH"),
    ];
    let r = post(&t, "/siapkan", None, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Kode penyiapan salah"));
    fields.last_mut().unwrap().1 = "kodeuji123";
    fields[2].1 = "";
    let r = post(&t, "/siapkan", None, &fields).await;
    assert!(r.text().contains("Kecamatan wajib diisi"));
    fields[2].1 = "Sukamaju";
    let r = post(&t, "/siapkan", None, &fields).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/masuk"), "{}", r.text());
    let k = t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap();
    assert_eq!((k.name.as_str(), k.rws.len(), k.has_rt(2, 3)), ("Kelurahan Sukamaju", 2, true));
    assert!(t.db.with(|tx, cipher| crate::web::settings::catalog(tx, cipher)).unwrap().services.len() > 10, "the default catalog");
    let p = t.db.with(|tx, _| tx.staff_profile_by_username("admin")).unwrap().unwrap();
    assert_eq!(p.role, "admin");
    assert_eq!(actions(&t, "inisialisasi"), vec![(format!("staf:{}", p.staff_id), "inisialisasi".to_string())]);
    // Once set up, the set-up page is closed.
    let r = post(&t, "/siapkan", None, &fields).await;
    assert_eq!(r.location(), "/masuk");
    assert_eq!(t.db.with(|tx, _| tx.staff_accounts()).unwrap().len(), 1);
}
}

on_both_backends! {
async fn the_json_staff_api_follows_the_roles(kind) {
    let t = hub(kind);
    let r = add_request(&t, 1, "Siti Aminah", "3578014101900001", 1, 1, "domisili");
    let api = |method: &str, path: &str, token: &str, body: Option<serde_json::Value>| {
        let mut b = HttpRequest::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()
    };
    let op = t.operator_token.clone();
    assert_eq!(send(&t, api("GET", "/api/v1/staff/requests", &op, None)).await.status, StatusCode::OK);
    assert_eq!(send(&t, api("GET", "/api/v1/staff/officers", &op, None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&t, api("GET", "/api/v1/staff/audit", &op, None)).await.status, StatusCode::FORBIDDEN);
    let body = |s: &str| Some(serde_json::json!({ "status": s, "reason": null }));
    let path = format!("/api/v1/staff/requests/{}/status", r.id);
    assert_eq!(send(&t, api("POST", &path, &op, body("diproses"))).await.status, StatusCode::OK);
    assert_eq!(send(&t, api("POST", &path, &op, body("selesai"))).await.status, StatusCode::FORBIDDEN);
    let office = format!("/api/v1/staff/requests/{}/office", r.id);
    let num = Some(serde_json::json!({ "letter_number": "470/1/2026" }));
    assert_eq!(send(&t, api("POST", &office, &op, num.clone())).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&t, api("POST", &office, &op, Some(serde_json::json!({ "staff_notes": "ok" })))).await.status, StatusCode::OK);
    // An admin token (the one `init` prints is an admin's) may add officers: audited once, as the person.
    let (acct, admin_token) = t.db.with(|tx, _| auth::add_staff_with_role(tx, "Admin API", Role::Admin, None, "sistem")).unwrap();
    let add = send(&t, api("POST", "/api/v1/staff/officers", &admin_token, Some(serde_json::json!({ "name": "Pak RT", "rw": 1, "rt": 1 })))).await;
    assert_eq!(add.status, StatusCode::CREATED);
    let oid = serde_json::from_slice::<serde_json::Value>(&add.body).unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(send(&t, api("POST", &format!("/api/v1/staff/officers/{oid}/revoke"), &admin_token, None)).await.status, StatusCode::NO_CONTENT);
    let who = format!("staf:{}", acct.id);
    assert_eq!(actions(&t, "tambah_petugas"), vec![(who.clone(), format!("tambah_petugas:{oid}"))]);
    assert_eq!(actions(&t, "cabut_petugas"), vec![(who.clone(), format!("cabut_petugas:{oid}"))]);
    // An unknown token still gets the API's own 401.
    assert_eq!(send(&t, api("GET", "/api/v1/staff/officers", "bukan", None)).await.status, StatusCode::UNAUTHORIZED);
}
}

on_both_backends! {
async fn erasure_from_the_dashboard_and_the_staff_api_and_the_retention_policy(kind) {
    let t = hub(kind);
    let r1 = add_request(&t, 1, "Siti Aminah", "3578014101900001", 1, 1, "domisili");
    let r2 = add_request(&t, 2, "Budi Santoso", "3578010101800002", 1, 1, "domisili");
    let path = format!("/permohonan/{}", r1.id);
    // The button is there for the lurah/sekretaris, not for the operator.
    assert!(get(&t, &path, Some(&t.pimpinan)).await.text().contains("Hapus data pribadi"));
    assert!(!get(&t, &path, Some(&t.operator)).await.text().contains("Hapus data pribadi"));
    // A reason is required; nothing is erased without one.
    let no_reason = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", "  ")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.text().contains("Alasan penghapusan wajib diisi"), "{}", no_reason.text());
    assert_eq!(stored_request(&t, &r1.id).applicant.name, "Siti Aminah");
    let done = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", "permintaan warga, surat 3 Desember 2026")]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, path.as_str()), "{}", done.text());
    let kept = stored_request(&t, &r1.id);
    assert_eq!((kept.applicant.name.as_str(), kept.applicant.nik.as_str(), kept.receipt.as_str()), ("", "", r1.receipt.as_str()));
    let page = get(&t, &path, Some(&t.pimpinan)).await.text();
    assert!(page.contains("Data pribadi pemohon sudah dihapus") && !page.contains("Siti Aminah"), "{page}");
    assert!(page.contains("Register surat") && !page.contains("Tempat, tanggal lahir"), "only the register entry is shown");
    assert!(!page.contains("Hapus data pribadi</button>"), "no second erasure offered");
    let list = get(&t, "/permohonan", Some(&t.operator)).await.text();
    assert!(list.contains(&r1.receipt) && !list.contains("Siti Aminah") && list.contains("Budi Santoso"), "{list}");
    assert_eq!(get(&t, "/permohonan?cari=3578014101900001", Some(&t.operator)).await.text().matches(&r1.receipt).count(), 0);
    assert_eq!(get(&t, "/permohonan?cari=3578010101800002", Some(&t.operator)).await.text().matches(&r2.receipt).count(), 1, "the search works");
    assert_eq!(actions(&t, "hapus_data"), vec![(format!("staf:{}", t.pimpinan.id), "hapus_data".into())]);
    // The JSON staff API: pimpinan or admin, with a reason; once.
    let api = |method: &str, path: &str, token: &str, body: Option<serde_json::Value>| {
        let mut b = HttpRequest::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()
    };
    let (_, admin_token) = t.db.with(|tx, _| auth::add_staff_with_role(tx, "Admin API", Role::Admin, None, "sistem")).unwrap();
    let op = t.operator_token.clone();
    let erase2 = format!("/api/v1/staff/requests/{}/erase", r2.id);
    let reason = Some(serde_json::json!({ "alasan": "permintaan warga" }));
    assert_eq!(send(&t, api("POST", &erase2, &op, reason.clone())).await.status, StatusCode::FORBIDDEN);
    let long = Some(serde_json::json!({ "alasan": "x".repeat(301) }));
    assert_eq!(send(&t, api("POST", &erase2, &admin_token, long)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(stored_request(&t, &r2.id).applicant.name, "Budi Santoso");
    let ok = send(&t, api("POST", &erase2, &admin_token, reason.clone())).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&ok.body).unwrap()["reason"], "permintaan warga");
    let long_id = format!("/api/v1/staff/requests/{}/erase", "a".repeat(65));
    assert_eq!(send(&t, api("POST", &long_id, &admin_token, reason.clone())).await.status, StatusCode::NOT_FOUND);
    let again = send(&t, api("POST", &erase2, &admin_token, reason)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text().contains("sudah_dihapus"));
    assert_eq!(stored_request(&t, &r2.id).applicant.name, "");
    // The retention policy: anyone reads it, the admin sets it (checked), and it lands in the
    // profile every phone syncs.
    let got = send(&t, api("GET", "/api/v1/staff/retention", &op, None)).await;
    assert_eq!(serde_json::from_slice::<jemput_core::kelurahan::Retention>(&got.body).unwrap(), Default::default());
    let policy = serde_json::json!({ "request_days_on_phone": 14, "complaint_days_on_phone": 14, "request_days_on_hub": 365, "complaint_days_on_hub": 180 });
    assert_eq!(send(&t, api("PUT", "/api/v1/staff/retention", &op, Some(policy.clone()))).await.status, StatusCode::FORBIDDEN);
    let bad = serde_json::json!({ "request_days_on_phone": 0, "complaint_days_on_phone": 14, "request_days_on_hub": 365, "complaint_days_on_hub": 180 });
    assert_eq!(send(&t, api("PUT", "/api/v1/staff/retention", &admin_token, Some(bad))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(send(&t, api("PUT", "/api/v1/staff/retention", &admin_token, Some(policy))).await.status, StatusCode::OK);
    let k = t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap();
    assert_eq!((k.retention.request_days_on_phone, k.retention.complaint_days_on_hub), (14, 180));
    // Saving the profile form keeps the policy.
    let settings = t.db.with(|tx, _| crate::web::settings::office_settings(tx)).unwrap();
    let fields: Vec<(&str, String)> = crate::web::settings::form_of(&k, &settings).fields();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(post(&t, "/profil", Some(&t.admin), &refs).await.status, StatusCode::OK);
    assert_eq!(t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap().retention.request_days_on_phone, 14);
}
}

#[test]
fn dates_in_our_own_text_are_written_the_indonesian_way() {
    assert_eq!(super::iso_date_words("1990-05-04"), "4 Mei 1990");
    assert_eq!(super::iso_date_words("2026-12-31"), "31 Desember 2026");
    // Text that is not a date stays as it is.
    assert_eq!(super::iso_date_words("kira-kira 1990"), "kira-kira 1990");
    // 2026-03-04 23.30 UTC is already 5 March in WIB.
    assert_eq!(super::date_words(1_772_667_000_000), "5 Maret 2026");
    assert_eq!(super::when(1_772_667_000_000), "05-03-2026 06.30");
}

/// Stores `r` as a phone's sync would.
fn put_request(t: &T, r: &Request) {
    let r2 = r.clone();
    t.db.with(move |tx, cipher| {
        let mut doc = document::create(&r2, &document::random_actor()).map_err(|_| ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, &r2.id, &mut doc, &Placement::of_request(&r2))
    })
    .unwrap();
}

on_both_backends! {
async fn access_requests_find_every_record_of_a_nik_print_and_audit_without_the_nik(kind) {
    const SITI: &str = "3578014101900001";
    const BUDI: &str = "3578010505850002";
    const LAIN: &str = "3578015208700003";
    let t = hub(kind);
    // Siti's own request, with a decision in its history.
    let mut own = add_request(&t, 1, "Siti Aminah", SITI, 1, 1, "domisili");
    own.history.push(StatusChange {
        status: Status::Diproses,
        at: own.created_at + 60_000,
        by: Actor { role: ActorRole::Staf, id: t.operator.id.clone() },
        reason: None,
    });
    put_request(&t, &own);
    // Budi's request that names Siti in an extra field (e.g. the deceased's NIK).
    let mut other = add_request(&t, 2, "Budi Santoso", BUDI, 1, 2, "domisili");
    other.id = uuid::Uuid::now_v7().to_string();
    other.receipt = ReceiptCode::new(&DevicePrefix::from_index(7), 50).unwrap().as_str().to_string();
    other.fields.insert("nik_almarhum".into(), SITI.into());
    put_request(&t, &other);
    // Someone else's, not about Siti.
    add_request(&t, 3, "Wati Lestari", LAIN, 2, 1, "sku");
    // A complaint with Siti's NIK typed in it, and one without.
    let mut c = add_complaint(&t);
    c.id = uuid::Uuid::now_v7().to_string();
    c.receipt = ReceiptCode::new(&DevicePrefix::from_index(7), 901).unwrap().as_str().to_string();
    c.text = format!("Bantuan untuk warga NIK {SITI} belum diterima");
    let c2 = c.clone();
    t.db.with(move |tx, cipher| {
        let mut doc = document::create(&c2, &document::random_actor()).map_err(|_| ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, &c2.id, &mut doc, &Placement::of_complaint(&c2))
    })
    .unwrap();

    // JSON staff API: lurah/sekretaris and admins only.
    let (boss, boss_token) = t.db.with(|tx, _| auth::add_staff_with_role(tx, "Bu Lurah", Role::Pimpinan, None, "sistem")).unwrap();
    let ask = |token: &str, nik: &str| {
        HttpRequest::post("/api/v1/staff/access")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::json!({ "nik": nik }).to_string()))
            .unwrap()
    };
    assert_eq!(send(&t, ask(&t.operator_token, SITI)).await.status, StatusCode::FORBIDDEN);
    let r = send(&t, ask(&boss_token, SITI)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["nik"], SITI);
    let reqs = v["requests"].as_array().unwrap();
    let ids: Vec<&str> = reqs.iter().map(|h| h["request"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![other.id.as_str(), own.id.as_str()], "oldest first: both requests, not Wati's");
    let own_json = reqs.iter().find(|h| h["request"]["id"] == own.id.as_str()).unwrap();
    assert_eq!(own_json["found_in"], serde_json::json!(["Pemohon"]));
    assert_eq!(own_json["request"]["applicant"]["name"], "Siti Aminah");
    assert_eq!(own_json["documents_seen"].as_array().unwrap().len(), 1, "KTP seen, KK not: {}", own_json["documents_seen"]);
    let steps: Vec<&str> = own_json["request"]["history"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(steps, vec!["dicatat", "diproses"], "the status history");
    let other_json = reqs.iter().find(|h| h["request"]["id"] == other.id.as_str()).unwrap();
    assert_eq!(other_json["found_in"], serde_json::json!(["Keterangan: nik almarhum"]));
    let comps = v["complaints"].as_array().unwrap();
    assert_eq!(comps.len(), 1);
    assert_eq!(comps[0]["complaint"]["id"], c.id.as_str());
    assert_eq!(comps[0]["found_in"], serde_json::json!(["Isi"]));
    // A NIK nobody holds: an empty answer. An invalid NIK: the core validator's code.
    let none = send(&t, ask(&boss_token, "3578011212120009")).await;
    assert_eq!(none.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&none.body).unwrap();
    assert_eq!((v["requests"].as_array().unwrap().len(), v["complaints"].as_array().unwrap().len()), (0, 0));
    let huge = send(&t, ask(&boss_token, &"9".repeat(200_000))).await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST, "a huge NIK is refused, not searched");
    let odd = send(&t, ask(&boss_token, "３５７８０１４１０１９００００１")).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST, "full-width digits are not a NIK");
    let bad = send(&t, ask(&boss_token, "12345")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&bad.body).unwrap()["kode"], "nik_panjang");

    // The dashboard: the form for the pimpinan, refused to the operator, a printable answer.
    assert_eq!(get(&t, "/akses", Some(&t.operator)).await.status, StatusCode::FORBIDDEN);
    let f = get(&t, "/akses", Some(&t.pimpinan)).await;
    assert_eq!(f.status, StatusCode::OK);
    assert!(f.text().contains("Permintaan akses data pribadi"));
    assert!(get(&t, "/kotak-masuk", Some(&t.pimpinan)).await.text().contains("href=\"/akses\""), "in the menu");
    assert!(!get(&t, "/kotak-masuk", Some(&t.operator)).await.text().contains("href=\"/akses\""));
    assert_eq!(post(&t, "/akses", Some(&t.operator), &[("nik", SITI)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&t, "/akses", Some(&t.pimpinan), &[("nik", SITI), ("csrf", "salah")]).await.status, StatusCode::FORBIDDEN);
    let page = post(&t, "/akses", Some(&t.pimpinan), &[("nik", SITI)]).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for needed in ["DATA PRIBADI YANG DISIMPAN", "PEMERINTAH KOTA UJI", "Siti Aminah", "Budi Santoso", &own.receipt, &other.receipt, &c.receipt, "Pemohon", "Keterangan: nik almarhum", "Diproses", "Staf Mas Operator", "Drs. Lurah Uji", "data-cetak"] {
        assert!(html.contains(needed), "the printed answer shows {needed}");
    }
    assert!(!html.contains("Wati Lestari"));
    let bad = post(&t, "/akses", Some(&t.pimpinan), &[("nik", "35780141019O0001")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("angka"), "the validator's message: {}", bad.text());

    // Audited: who, which records, the NIK's blind tag; never the NIK itself.
    let entries = audit(&t, AuditFilter { action_prefix: Some(crate::web::access::AUDIT_ACTION.into()), ..Default::default() });
    let by_boss: Vec<&AuditEntry> = entries.iter().filter(|e| e.actor == format!("staf:{}", boss.id)).collect();
    let mut docs: Vec<&str> = by_boss.iter().filter_map(|e| e.doc_id.as_deref()).collect();
    docs.sort();
    let mut want = vec![own.id.as_str(), other.id.as_str(), c.id.as_str()];
    want.sort();
    assert_eq!(docs, want, "one entry per record shown (the empty answer has none)");
    assert_eq!(by_boss.iter().filter(|e| e.doc_id.is_none()).count(), 2, "one summary per access request");
    assert!(entries.iter().any(|e| e.actor == format!("staf:{}", t.pimpinan.id) && e.action.ends_with(":3_catatan")));
    let everything = audit(&t, AuditFilter::default());
    assert!(everything.iter().all(|e| !e.action.contains(SITI) && !e.action.contains("3578")), "no NIK in the audit log");
    let tag_of = |nik: &'static str| t.db.with::<_, ServiceError>(move |_, cipher| Ok(crate::web::access::access_tag(cipher, nik))).unwrap();
    assert!(by_boss.iter().all(|e| e.action.contains(&format!("nik#{:016x}", tag_of(SITI) as u64)) || e.action.contains(&format!("nik#{:016x}", tag_of("3578011212120009") as u64))));
}
}

fn stored_complaint(t: &T, id: &str) -> Complaint {
    let id = id.to_string();
    t.db.with::<_, ServiceError>(move |tx, cipher| Ok(crate::api::staff::read_record::<Complaint>(tx, cipher, &id, false)?.1)).unwrap()
}

on_both_backends! {
async fn the_retention_policy_form_shows_checks_and_sets_the_policy(kind) {
    let t = hub(kind);
    let policy = |a: &'static str, b: &'static str, c: &'static str, d: &'static str| {
        vec![("request_days_on_phone", a), ("request_days_on_hub", b), ("complaint_days_on_phone", c), ("complaint_days_on_hub", d)]
    };
    let stored = || t.db.with(|tx, cipher| service::erasure::retention(tx, cipher)).unwrap();
    // The admin sees the policy in force, in words, and the form filled with it.
    let page = get(&t, "/masa-simpan", Some(&t.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("dari HP petugas 30 hari") && html.contains("730 hari (± 2 tahun)"), "{html}");
    assert!(html.contains(r#"name="request_days_on_hub" min="1" max="3650" step="1" required value="730""#), "{html}");
    assert!(get(&t, "/profil", Some(&t.admin)).await.text().contains(r#"href="/masa-simpan""#), "in the admin's navigation");
    // The operator and the lurah/sekretaris may neither see nor change it.
    for who in [&t.operator, &t.pimpinan] {
        assert_eq!(get(&t, "/masa-simpan", Some(who)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(post(&t, "/masa-simpan", Some(who), &policy("7", "90", "7", "90")).await.status, StatusCode::FORBIDDEN);
    }
    // A wrong CSRF token is refused.
    let forged = post(&t, "/masa-simpan", Some(&t.admin), &[policy("7", "90", "7", "90").as_slice(), &[("csrf", "palsu")]].concat()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Invalid input: each error next to its field with its stable code, nothing stored.
    let bad = post(&t, "/masa-simpan", Some(&t.admin), &policy("0", "365", "tiga", "90")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text();
    assert!(html.contains(r#"data-kode="bukan_angka""#) && html.contains(r#"value="tiga""#), "{html}");
    let bad = post(&t, "/masa-simpan", Some(&t.admin), &policy("0", "365", "30", "3651")).await;
    let html = bad.text();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(html.matches(r#"data-kode="masa_simpan_tidak_valid""#).count(), 2, "{html}");
    assert!(html.contains("Masa simpan harus antara 1 dan 3650 hari"));
    let shorter = post(&t, "/masa-simpan", Some(&t.admin), &policy("60", "30", "30", "365")).await;
    assert_eq!(shorter.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = shorter.text();
    let at = html.find(r#"id="request_days_on_hub""#).unwrap();
    let msg = html.find("tidak boleh lebih pendek dari masa simpan di HP petugas").unwrap();
    assert!(msg > at && msg < html.find(r#"id="complaint_days_on_phone""#).unwrap(), "the error sits next to its field");
    assert_eq!(stored(), Default::default());
    assert!(actions(&t, "ubah_masa_simpan").is_empty());
    // A valid policy is stored in the profile every phone syncs, audited once with the admin.
    let profile_seq = || t.db.with(|tx, _| tx.docs_after("kelurahan", 0, 10)).unwrap();
    let before = profile_seq();
    let ok = post(&t, "/masa-simpan", Some(&t.admin), &policy("14", "400", "7", "180")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(ok.text().contains("sinkronisasi berikutnya") && ok.text().contains("dari HP petugas 14 hari"));
    let want = jemput_core::kelurahan::Retention {
        request_days_on_phone: 14,
        request_days_on_hub: 400,
        complaint_days_on_phone: 7,
        complaint_days_on_hub: 180,
    };
    assert_eq!(stored(), want);
    assert_eq!(t.db.with(|tx, cipher| crate::web::settings::kelurahan(tx, cipher)).unwrap().retention, want);
    assert_eq!(actions(&t, "ubah_masa_simpan"), vec![(format!("staf:{}", t.admin.id), "ubah_masa_simpan".into())]);
    // The change is in the profile document's change log, which phones pull on their next sync.
    let placed = profile_seq();
    assert_eq!((before.len(), placed.len()), (1, 1), "{placed:?}");
    assert!(placed[0].0 > before[0].0, "{before:?} → {placed:?}");
    // Saving the same policy again changes nothing and audits nothing.
    let same = post(&t, "/masa-simpan", Some(&t.admin), &policy("14", "400", "7", "180")).await;
    assert!(same.text().contains("Tidak ada yang berubah"));
    assert_eq!(actions(&t, "ubah_masa_simpan").len(), 1);
}
}

on_both_backends! {
async fn a_complaint_is_erased_from_the_dashboard_with_a_reason(kind) {
    let t = hub(kind);
    let c = add_complaint(&t);
    let path = format!("/pengaduan/{}", c.id);
    // The button is there for the lurah/sekretaris and the admin, not for the operator.
    assert!(get(&t, &path, Some(&t.pimpinan)).await.text().contains("Hapus data pribadi</button>"));
    assert!(get(&t, &path, Some(&t.admin)).await.text().contains("Hapus data pribadi</button>"));
    assert!(!get(&t, &path, Some(&t.operator)).await.text().contains("Hapus data pribadi"));
    // The operator is refused, with or without a reason.
    let refused = post(&t, &format!("{path}/hapus"), Some(&t.operator), &[("alasan", "permintaan pelapor")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A reason is required; nothing is erased without one.
    let no_reason = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", " \n ")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.text().contains("Alasan penghapusan wajib diisi"), "{}", no_reason.text());
    let too_long = "x".repeat(301);
    let long = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", too_long.as_str())]).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", "permintaan pelapor"), ("csrf", "palsu")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(stored_complaint(&t, &c.id).reporter.map(|r| r.name), Some("Pak Warga".to_string()));
    let cid = c.id.clone();
    assert!(t.db.with(move |tx, _| tx.erased(&cid)).unwrap().is_none());
    // Erased by the lurah/sekretaris: only the register entry remains.
    let done = post(&t, &format!("{path}/hapus"), Some(&t.pimpinan), &[("alasan", "permintaan pelapor, surat 3 Desember 2026")]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, path.as_str()), "{}", done.text());
    let kept = stored_complaint(&t, &c.id);
    assert_eq!(kept, c.register_only());
    assert_eq!((kept.text.as_str(), kept.topic.as_str(), kept.reporter.is_none(), kept.receipt.as_str()), ("", "", true, c.receipt.as_str()));
    // Marked erased, so every phone's change to it is refused (`data_dihapus`) and phones drop it.
    let cid = c.id.clone();
    let erased = t.db.with(move |tx, _| tx.erased(&cid)).unwrap().expect("marked erased");
    assert_eq!((erased.kind.as_str(), erased.reason.as_str()), ("complaint", "permintaan pelapor, surat 3 Desember 2026"));
    assert_eq!(erased.erased_by, format!("staf:{}", t.pimpinan.id));
    assert_eq!(actions(&t, "hapus_data"), vec![(format!("staf:{}", t.pimpinan.id), "hapus_data".into())]);
    let page = get(&t, &path, Some(&t.operator)).await.text();
    assert!(page.contains("Data pribadi pada pengaduan ini sudah dihapus") && page.contains("Register pengaduan"), "{page}");
    assert!(!page.contains("Pak Warga") && !page.contains("Lubang besar") && !page.contains("Depan musala"), "{page}");
    assert!(!get(&t, &path, Some(&t.pimpinan)).await.text().contains("Hapus data pribadi</button>"), "no second erasure offered");
    let list = get(&t, "/pengaduan", Some(&t.operator)).await.text();
    assert!(list.contains(&c.receipt) && list.contains("(data pribadi dihapus)") && !list.contains("Jalan rusak"), "{list}");
    // A second erasure is refused, audited nothing more.
    let again = post(&t, &format!("{path}/hapus"), Some(&t.admin), &[("alasan", "lagi")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(actions(&t, "hapus_data").len(), 1);
}
}
