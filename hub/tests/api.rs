//! The hub's API driven in-process with `oneshot`: enrolment (one-time codes), device tokens
//! and revocation, staff authentication and office status rules, and the sync exchange.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jemput_core::permissions::Scope;
use jemput_core::sync::protocol::{self, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use jemput_hub::api::{app, AppState};
use jemput_hub::service;
use jemput_hub::setup;
use jemput_hub::storage::HubDb;
use jemput_hub::testing::{BackendKind, TestDb};
use tower::ServiceExt;

use jemput_hub::on_both_backends;

struct Hub {
    _store: TestDb,
    db: HubDb,
    staff: String,
}

fn hub(kind: BackendKind) -> Hub {
    let store = TestDb::fresh(kind).expect("back end available");
    let db = store.db.clone();
    let staff = setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).unwrap();
    Hub { _store: store, db, staff }
}

async fn call(h: &Hub, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = app(AppState::new(h.db.clone())).oneshot(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn json(v: serde_json::Value) -> Body {
    Body::from(v.to_string())
}

fn kode(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["kode"].as_str().unwrap().to_string()
}

async fn enroll(h: &Hub, code: &str, device_id: &str) -> (StatusCode, Vec<u8>) {
    let body = json(
        serde_json::json!({ "code": code, "device_name": "HP Pak RT", "actor": "00112233445566778899aabbccddeeff", "device_id": device_id }),
    );
    call(h, Request::post("/api/v1/enroll").header("content-type", "application/json").body(body).unwrap()).await
}

fn sync_req(token: &str, req: &SyncRequest) -> Request<Body> {
    Request::post("/api/v1/sync").header("authorization", format!("Bearer {token}")).body(Body::from(protocol::encode(req))).unwrap()
}

on_both_backends! {
async fn enrolment_codes_work_once_and_tokens_can_be_revoked(kind) {
    let h = hub(kind);
    let o = h.db.with(|tx, _| service::add_officer(tx, "Pak Darmo", Scope { rw: 1, rt: Some(1) })).unwrap();
    let code = h.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).unwrap();
    let (s, b) = enroll(&h, "SALAHSALAH", "0190a1b2-0000-7000-8000-000000000001").await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "kode_salah"));
    let (s, b) = enroll(&h, &code.to_lowercase(), "0190a1b2-0000-7000-8000-000000000001").await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let e: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(e["rw"], 1);
    assert_eq!(e["rt"], 1);
    assert_eq!(e["receipt_prefix"].as_str().unwrap().len(), 4);
    let token = e["token"].as_str().unwrap().to_string();
    let (s, b) = enroll(&h, &code, "0190a1b2-0000-7000-8000-000000000002").await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "kode_terpakai"));
    // An expired code.
    let old = "KEDALUWARSA";
    h.db.with(|tx, _| tx.insert_enrol_code(&service::secret_hash(old), &o.id, jemput_core::time_util::now_ms() - 1)).unwrap();
    let (s, b) = enroll(&h, old, "0190a1b2-0000-7000-8000-000000000003").await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "kode_kedaluwarsa"));
    // The token syncs; an idle first sync brings the catalog and profile.
    let idle = SyncRequest { version: PROTOCOL_VERSION, cursor: 0, docs: vec![], backlog: None };
    let (s, b) = call(&h, sync_req(&token, &idle)).await;
    assert_eq!(s, StatusCode::OK);
    let resp = SyncResponse::decode(&b).unwrap();
    let mut ids: Vec<&str> = resp.docs.iter().map(|d| d.doc_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["catalog", "kelurahan"]);
    // Nothing new since that cursor: a tiny answer.
    let again = SyncRequest { version: PROTOCOL_VERSION, cursor: resp.cursor, docs: vec![], backlog: None };
    let (s, b) = call(&h, sync_req(&token, &again)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(b.len() < 16, "idle answer is {} bytes", b.len());
    assert!(SyncResponse::decode(&b).unwrap().docs.is_empty());
    // Revoked: 401 with a clear code.
    h.db.with(|tx, _| service::revoke_officer(tx, &o.id)).unwrap();
    let (s, b) = call(&h, sync_req(&token, &again)).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::UNAUTHORIZED, "perangkat_dicabut"));
    let (s, b) = call(&h, sync_req("bukan-token", &again)).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::UNAUTHORIZED, "token_salah"));
}
}

on_both_backends! {
async fn malformed_and_oversized_bodies_get_4xx(kind) {
    let h = hub(kind);
    let o = h.db.with(|tx, _| service::add_officer(tx, "Bu Ningsih", Scope { rw: 1, rt: None })).unwrap();
    let code = h.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).unwrap();
    let (_, b) = enroll(&h, &code, "0190a1b2-0000-7000-8000-000000000009").await;
    let token = serde_json::from_slice::<serde_json::Value>(&b).unwrap()["token"].as_str().unwrap().to_string();
    let garbage =
        Request::post("/api/v1/sync").header("authorization", format!("Bearer {token}")).body(Body::from(vec![7u8; 1000])).unwrap();
    let (s, b) = call(&h, garbage).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::BAD_REQUEST, "pesan_rusak"));
    let huge = Request::post("/api/v1/sync")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(vec![0u8; protocol::MAX_BODY_BYTES + 1]))
        .unwrap();
    let (s, _) = call(&h, huge).await;
    assert!(s.is_client_error(), "{s}");
    // A document message that is not Automerge is refused for that document only.
    let bad = SyncRequest {
        version: PROTOCOL_VERSION,
        cursor: 0,
        docs: vec![protocol::DocMessage { doc_id: "0190-x".into(), message: vec![1, 2, 3] }],
        backlog: None,
    };
    let (s, b) = call(&h, sync_req(&token, &bad)).await;
    assert_eq!(s, StatusCode::OK);
    let r = SyncResponse::decode(&b).unwrap();
    assert_eq!(r.refused[0].code, "pesan_rusak");
}
}

on_both_backends! {
async fn staff_routes_need_a_staff_account_and_follow_the_status_rules(kind) {
    let h = hub(kind);
    let (s, b) = call(&h, Request::get("/api/v1/staff/requests").body(Body::empty()).unwrap()).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::UNAUTHORIZED, "staf_belum_masuk"));
    let (s, b) = call(
        &h,
        Request::get("/api/v1/staff/requests").header("authorization", format!("Bearer {}", h.staff)).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, br#"{"total":0,"items":[]}"#);
    let set = |id: &str, status: &str, reason: Option<&str>| {
        Request::post(format!("/api/v1/staff/requests/{id}/status"))
            .header("authorization", format!("Bearer {}", h.staff))
            .header("content-type", "application/json")
            .body(json(serde_json::json!({ "status": status, "reason": reason })))
            .unwrap()
    };
    let (s, _) = call(&h, set("tidak-ada", "diproses", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = call(&h, set("tidak-ada", "entah", None)).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::BAD_REQUEST, "status_tidak_dikenal"));
    // A second account works; once deactivated, its token no longer does.
    let (acct, token) = h.db.with(|tx, _| service::add_staff(tx, "Bu Rina (pelayanan)")).unwrap();
    let me = |t: &str| Request::get("/api/v1/staff/me").header("authorization", format!("Bearer {t}")).body(Body::empty()).unwrap();
    let (s, b) = call(&h, me(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&b).unwrap()["name"], "Bu Rina (pelayanan)");
    h.db.with(|tx, _| service::revoke_staff(tx, &acct.id)).unwrap();
    let (s, b) = call(&h, me(&token)).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::UNAUTHORIZED, "staf_dicabut"));
    // Setting up the same hub twice is refused (devices keep their profile document).
    assert!(setup::init(&h.db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).is_err());
}
}

on_both_backends! {
async fn a_staff_token_below_the_role_a_call_needs_is_refused_with_its_code(kind) {
    use jemput_hub::web::auth::{add_staff_with_role, Role};
    let h = hub(kind);
    let (acct, op) = h.db.with(|tx, _| add_staff_with_role(tx, "Bu Operator", Role::Operator, None, "sistem")).unwrap();
    let get = |path: &str| Request::get(path).header("authorization", format!("Bearer {op}")).body(Body::empty()).unwrap();
    let (s, b) = call(&h, get("/api/v1/staff/audit")).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "peran_tidak_cukup"));
    let post = |path: &str, v: serde_json::Value| {
        Request::post(path)
            .header("authorization", format!("Bearer {op}"))
            .header("content-type", "application/json")
            .body(json(v))
            .unwrap()
    };
    // The role a status change needs comes from the status asked for.
    let (s, b) = call(&h, post("/api/v1/staff/requests/tidak-ada/status", serde_json::json!({ "status": "ditolak", "reason": "x" }))).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "peran_tidak_cukup"));
    let (s, _) = call(&h, post("/api/v1/staff/requests/tidak-ada/status", serde_json::json!({ "status": "diproses" }))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "allowed to an operator: the request is looked up");
    let (s, b) = call(&h, post("/api/v1/staff/requests/tidak-ada/office", serde_json::json!({ "letter_number": "470/1" }))).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::FORBIDDEN, "peran_tidak_cukup"));
    // A revoked account is told so first, whatever the call needs.
    h.db.with(|tx, _| service::revoke_staff(tx, &acct.id)).unwrap();
    let (s, b) = call(&h, get("/api/v1/staff/audit")).await;
    assert_eq!((s, kode(&b).as_str()), (StatusCode::UNAUTHORIZED, "staf_dicabut"));
}
}

on_both_backends! {
async fn every_text_staff_type_has_its_limit_at_the_api(kind) {
    let h = hub(kind);
    let post = |path: &str, body: serde_json::Value| {
        Request::post(path).header("authorization", format!("Bearer {}", h.staff)).header("content-type", "application/json").body(json(body)).unwrap()
    };
    let id = "0190a1b2-0000-7000-8000-0000000000aa";
    let long = |n: usize| "a".repeat(n + 1);
    let cases = [
        (format!("/api/v1/staff/requests/{id}/status"), serde_json::json!({"status": "ditolak", "reason": long(500)})),
        (format!("/api/v1/staff/requests/{id}/office"), serde_json::json!({"staff_notes": long(2000)})),
        (format!("/api/v1/staff/requests/{id}/office"), serde_json::json!({"letter_number": long(100)})),
        (format!("/api/v1/staff/complaints/{id}/response"), serde_json::json!({"status": "selesai", "response": long(2000)})),
    ];
    for (path, body) in cases {
        let (s, b) = call(&h, post(&path, body)).await;
        assert_eq!((s, kode(&b).as_str()), (StatusCode::BAD_REQUEST, "terlalu_panjang"), "{path}");
        let pesan = serde_json::from_slice::<serde_json::Value>(&b).unwrap()["pesan"].as_str().unwrap().to_string();
        assert!(pesan.contains("paling banyak"), "{pesan}");
    }
    // At the limit it is not the text that is refused (the request does not exist).
    let (s, _) = call(&h, post(&format!("/api/v1/staff/requests/{id}/office"), serde_json::json!({"letter_number": "a".repeat(100)}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = call(&h, post("/api/v1/staff/officers", serde_json::json!({"name": long(100), "rw": 1, "rt": 1}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&b));
}
}
