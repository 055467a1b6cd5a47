//! The hub's trust boundary, tried as a hostile client would (issue 10): a modified phone with
//! a valid enrolment, building its documents with the real core and Automerge, and a careless
//! staff member with a valid token, trying to read, write, corrupt, replay and block. Every
//! case checks the hub's answer, that nothing forbidden is stored or revealed, and that an
//! honest phone still syncs afterwards; each runs on SQLite and on PostgreSQL.
//!
//! The cases of the second part of issue 10 (reading out of scope, receipt codes used twice,
//! staff texts, JSON errors, enrolment binding and throttling) were written first and seen
//! failing on the hub of the time, then fixed.

use automerge::AutoCommit;
use jemput_core::document;
use jemput_core::permissions::Scope;
use jemput_core::request::{Request, Status};
use jemput_core::sync::client::RetryPolicy;
use jemput_core::sync::peer;
use jemput_hub::service;
use jemput_hub::storage::DocFilter;
use jemput_tests::harness::{draft, Phone, TestHub};
use jemput_tests::hostile::{call, call_declaring, fresh, post_sync, post_sync_bytes, Forger};
use jemput_tests::on_both_backends;
use serde_json::json;

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        timeout: std::time::Duration::from_secs(20),
    }
}

/// An actor id that sorts before any random one (the API lets the client choose it).
const LOW_ACTOR: &str = "00000000000000000000000000000001";

fn requests_stored(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

fn stored_request(hub: &TestHub, id: &str) -> Option<Request> {
    hub.db.with(|tx, cipher| service::load_doc(tx, cipher, id, false)).unwrap().map(|d| document::read(&d).unwrap())
}

/// An honest officer of RW 1 / RT 1 with one request recorded and synced.
async fn honest(hub: &TestHub) -> (Phone, Request) {
    let phone = Phone::enrol(hub, "Bu Sri", Scope { rw: 1, rt: Some(1) }).await;
    let rec = phone.store.lock().unwrap().record_request(&draft(0, 1, 1), true).unwrap();
    phone.client(&hub.url(), quick()).sync(&phone.store, |_| {}).await.expect("honest sync");
    let r = phone.store.lock().unwrap().request(&rec.id).unwrap();
    (phone, r)
}

/// The honest phone records one more request and syncs with nothing refused.
async fn honest_still_syncs(hub: &TestHub, phone: &Phone, i: usize) {
    let rec = phone.store.lock().unwrap().record_request(&draft(i, 1, 1), true).unwrap();
    let s = phone.client(&hub.url(), quick()).sync(&phone.store, |_| {}).await.expect("the honest phone still syncs");
    assert!(s.report.refused.is_empty(), "{:?}", s.report.refused);
    assert_eq!(phone.store.lock().unwrap().sync_health().unwrap().refused, 0);
    assert!(stored_request(hub, &rec.id).is_some(), "the honest request reached the hub");
}

on_both_backends! {
    async fn writing_outside_the_devices_scope_is_refused_and_not_delivered(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 2, rt: Some(1) }, &"ab".repeat(16)).await;
        let r = forger.request(3, 1, 1);
        let a = forger.send_new(&hub.url(), &r).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.refusal(&r.id).as_deref(), Some("di_luar_wilayah"));
        assert!(stored_request(&hub, &r.id).is_none());
        honest_still_syncs(&hub, &phone, 1).await;
        assert!(phone.store.lock().unwrap().request(&r.id).is_err(), "nothing foreign reached the honest phone");
    }
}

on_both_backends! {
    async fn another_devices_receipt_code_or_prefix_is_refused(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"cd".repeat(16)).await;
        // The honest phone's own code, on a new record.
        let mut r = forger.request(3, 1, 1);
        r.receipt = honest_req.receipt.clone();
        let a = forger.send_new(&hub.url(), &r).await;
        assert_eq!(a.refusal(&r.id).as_deref(), Some("kode_bukan_perangkat"), "{a:?}");
        // A fresh code under the honest phone's prefix (the next one it will use).
        let mut r2 = forger.request(4, 1, 1);
        let prefix = jemput_core::receipt::DevicePrefix::parse(&honest_req.receipt[..4]).unwrap();
        r2.receipt = jemput_core::ReceiptCode::new(&prefix, 2).unwrap().to_string();
        let a = forger.send_new(&hub.url(), &r2).await;
        assert_eq!(a.refusal(&r2.id).as_deref(), Some("kode_bukan_perangkat"));
        assert!(stored_request(&hub, &r.id).is_none() && stored_request(&hub, &r2.id).is_none());
        // The honest phone's next code is exactly r2's: it syncs as before.
        honest_still_syncs(&hub, &phone, 1).await;
        let (s, found, _) =
            call(&hub.url(), Some(&hub.staff_token), "GET", &format!("/api/v1/staff/receipts/{}", honest_req.receipt), None).await;
        assert_eq!((s, found["id"].as_str()), (200, Some(honest_req.id.as_str())));
    }
}

on_both_backends! {
    async fn a_receipt_code_used_twice_is_refused_per_document(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"ce".repeat(16)).await;
        let first = forger.request(3, 1, 1);
        assert_eq!(forger.send_new(&hub.url(), &first).await.refusal(&first.id), None);
        let mut again = forger.request(4, 1, 1);
        again.receipt = first.receipt.clone();
        let a = forger.send_new(&hub.url(), &again).await;
        assert_eq!(a.status, 200, "one document's problem is not the exchange's: {:?}", a.json());
        assert_eq!(a.refusal(&again.id).as_deref(), Some("kode_tanda_terima_terpakai"));
        assert!(stored_request(&hub, &again.id).is_none());
        // The same code twice in one exchange: the first is taken, the second refused.
        let third = forger.request(5, 1, 1);
        let mut fourth = forger.request(6, 1, 1);
        fourth.receipt = third.receipt.clone();
        let (_, m3) = fresh(&third, &forger.actor);
        let (_, m4) = fresh(&fourth, &forger.actor);
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(third.id.clone(), m3), (fourth.id.clone(), m4)]).await;
        assert_eq!(a.status, 200);
        let (taken, refused) = if third.id < fourth.id { (&third, &fourth) } else { (&fourth, &third) };
        assert_eq!(a.refusal(&taken.id), None);
        assert_eq!(a.refusal(&refused.id).as_deref(), Some("kode_tanda_terima_terpakai"));
        assert!(stored_request(&hub, &refused.id).is_none());
        // The code still finds its one record.
        let (s, found, _) = call(&hub.url(), Some(&hub.staff_token), "GET", &format!("/api/v1/staff/receipts/{}", first.receipt), None).await;
        assert_eq!((s, found["id"].as_str()), (200, Some(first.id.as_str())));
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn timestamps_at_the_end_of_time_are_refused_and_the_office_keeps_working(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"ef".repeat(16)).await;
        for at in [i64::MAX, jemput_core::time_util::now_ms() + 3 * jemput_core::time_util::DAY_MS, 0, i64::MIN] {
            let mut r = forger.request(3, 1, 1);
            r.created_at = at;
            r.history[0].at = at;
            let a = forger.send_new(&hub.url(), &r).await;
            assert_eq!(a.refusal(&r.id).as_deref(), Some("waktu_tidak_valid"), "at {at}");
            assert!(stored_request(&hub, &r.id).is_none());
        }
        // Every office status change still works.
        let (s, body, _) = call(
            &hub.url(),
            Some(&hub.staff_token),
            "POST",
            &format!("/api/v1/staff/requests/{}/status", honest_req.id),
            Some(json!({"status": "diverifikasi"}).to_string()),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        honest_still_syncs(&hub, &phone, 1).await;
        assert_eq!(phone.store.lock().unwrap().request(&honest_req.id).unwrap().status(), Status::Diverifikasi);
    }
}

on_both_backends! {
    async fn records_the_phone_would_refuse_are_refused_by_the_hub_with_the_validators_code(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: None }, &"0f".repeat(16)).await;
        type Tamper = fn(&mut Request);
        let cases: [(Tamper, &str); 7] = [
            (|r| r.applicant.nik = "357602440590001".into(), "nik_panjang"),
            (|r| r.applicant.name = "Siti Aminah ".repeat(18_000), "nama_terlalu_panjang"),
            (|r| r.applicant.birth_date = "2099-01-01".into(), "tanggal_masa_depan"),
            (|r| r.applicant.address.rt = 9, "rt_tidak_ada"),
            (|r| r.service_code = "surat_sakti".into(), "layanan_tidak_dikenal"),
            (|r| r.notes = "x".repeat(5000), "terlalu_panjang"),
            (|r| { r.fields.insert("keperluan".into(), "y".repeat(3000)); }, "terlalu_panjang"),
        ];
        let before = requests_stored(&hub);
        for (tamper, code) in cases {
            let mut r = forger.request(3, 1, 1);
            tamper(&mut r);
            let a = forger.send_new(&hub.url(), &r).await;
            assert_eq!(a.status, 200);
            let refused = &a.sync.as_ref().unwrap().refused;
            assert_eq!(refused.first().map(|x| x.code.as_str()), Some(code), "{refused:?}");
            assert!(!refused[0].message.is_empty(), "the phone shows the validator's message");
        }
        assert_eq!(requests_stored(&hub), before, "nothing stored, nothing shown to staff");
        // The same record untampered is taken.
        let ok = forger.request(3, 1, 1);
        assert_eq!(forger.send_new(&hub.url(), &ok).await.refusal(&ok.id), None);
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn document_and_record_are_one_identity_and_a_history_only_extends(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        // The RW officer above the honest RT officer, enrolled with an actor that sorts first,
        // so that the honest values would win every conflict of a grafted history.
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: None }, LOW_ACTOR).await;
        let mut forged = stored_request(&hub, &honest_req.id).unwrap();
        forged.notes = "catatan asing".into();
        forged.applicant.address.street = "Jl. Asing No. 1".into();
        let (_, m) = fresh(&forged, &forger.actor);
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(honest_req.id.clone(), m.clone())]).await;
        assert_eq!(a.refusal(&honest_req.id).as_deref(), Some("riwayat_asing"), "{:?}", a.sync);
        let kept = stored_request(&hub, &honest_req.id).unwrap();
        assert_eq!(kept.notes, "");
        assert_ne!(kept.applicant.address.street, "Jl. Asing No. 1");
        // The same record under a new document id: two documents for one record.
        let other_doc = uuid_like();
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(other_doc.clone(), m)]).await;
        assert_eq!(a.refusal(&other_doc).as_deref(), Some("id_tidak_cocok"));
        assert!(stored_request(&hub, &other_doc).is_none());
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

fn uuid_like() -> String {
    let r = jemput_core::document::random_actor().to_hex_string();
    format!("{}-{}-7{}-8{}-{}", &r[..8], &r[8..12], &r[13..16], &r[17..20], &r[20..32])
}

on_both_backends! {
    async fn another_officer_of_the_same_rt_may_read_but_not_edit(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        let colleague = Phone::enrol(&hub, "Pak Joko", Scope { rw: 1, rt: Some(1) }).await;
        let client = colleague.client(&hub.url(), quick());
        client.sync(&colleague.store, |_| {}).await.unwrap();
        colleague.store.lock().unwrap().set_request_notes(&honest_req.id, "diubah petugas lain").unwrap();
        let s = client.sync(&colleague.store, |_| {}).await.unwrap();
        assert_eq!(s.report.refused.first().map(|r| r.code.as_str()), Some("bukan_pencatat"), "{:?}", s.report);
        assert_eq!(stored_request(&hub, &honest_req.id).unwrap().notes, "");
        // The RW officer above may.
        let rw = Phone::enrol(&hub, "Pak RW", Scope { rw: 1, rt: None }).await;
        let rw_client = rw.client(&hub.url(), quick());
        rw_client.sync(&rw.store, |_| {}).await.unwrap();
        rw.store.lock().unwrap().set_request_notes(&honest_req.id, "dicek petugas RW").unwrap();
        let s = rw_client.sync(&rw.store, |_| {}).await.unwrap();
        assert!(s.report.refused.is_empty(), "{:?}", s.report);
        assert_eq!(stored_request(&hub, &honest_req.id).unwrap().notes, "dicek petugas RW");
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn a_replayed_exchange_changes_nothing(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"9a".repeat(16)).await;
        let r = forger.request(5, 1, 1);
        let (_, m) = fresh(&r, &forger.actor);
        let body = jemput_core::sync::protocol::encode(&jemput_core::sync::protocol::SyncRequest {
            version: jemput_core::sync::protocol::PROTOCOL_VERSION,
            cursor: 0,
            docs: vec![jemput_core::sync::protocol::DocMessage { doc_id: r.id.clone(), message: m }],
            backlog: None,
        });
        let first = post_sync_bytes(&hub.url(), &forger.token, body.clone()).await;
        assert_eq!(first.refusal(&r.id), None);
        let count = requests_stored(&hub);
        let stored = hub.db.with(|tx, cipher| service::load_doc_bytes(tx, cipher, &r.id, false)).unwrap();
        for _ in 0..3 {
            let again = post_sync_bytes(&hub.url(), &forger.token, body.clone()).await;
            assert_eq!((again.status, again.refusal(&r.id)), (200, None));
        }
        assert_eq!(requests_stored(&hub), count);
        assert_eq!(hub.db.with(|tx, cipher| service::load_doc_bytes(tx, cipher, &r.id, false)).unwrap(), stored, "replays change nothing");
        // Another device replaying the captured body is refused (its actor is not theirs).
        let thief = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"9b".repeat(16)).await;
        let mut other = forger.request(6, 1, 1);
        other.device_id = thief.device_id.clone();
        let (_, m) = fresh(&other, &forger.actor);
        let a = post_sync(&hub.url(), &thief.token, 0, vec![(other.id.clone(), m)]).await;
        assert_eq!(a.refusal(&other.id).as_deref(), Some("aktor_tidak_dikenal"));
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn garbage_and_oversized_bodies_are_refused_without_effect(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 1, rt: Some(1) }, &"7c".repeat(16)).await;
        let before = requests_stored(&hub);
        // Not a sync body at all.
        let a = post_sync_bytes(&hub.url(), &forger.token, b"\x01\x02bukan pesan".to_vec()).await;
        assert_eq!(a.status, 400);
        assert_eq!(a.json().unwrap()["kode"], "pesan_rusak");
        // Larger than any sync body may be.
        let (status, _, _) = call_declaring(&hub.url(), Some(&forger.token), "/api/v1/sync", jemput_core::sync::protocol::MAX_BODY_BYTES + 1024).await;
        assert_eq!(status, 413);
        // A well-formed body whose document message is garbage: refused for that document.
        let id = uuid_like();
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(id.clone(), vec![0x42, 0xff, 0x00, 0x13])]).await;
        assert_eq!(a.refusal(&id).as_deref(), Some("pesan_rusak"));
        // An empty message for a document nobody has.
        let empty = peer::generate(&mut AutoCommit::new(), &mut automerge::sync::State::new()).unwrap().unwrap();
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(uuid_like(), empty)]).await;
        assert_eq!(a.status, 200);
        assert_eq!(requests_stored(&hub), before);
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn tokens_open_only_their_own_door(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let (s, body, _) = call(&hub.url(), Some(&phone.token), "GET", "/api/v1/staff/requests", None).await;
        assert_eq!((s, body["kode"].as_str()), (401, Some("staf_belum_masuk")));
        let a = post_sync(&hub.url(), &hub.staff_token, 0, vec![]).await;
        assert_eq!(a.status, 401);
        let a = post_sync(&hub.url(), "tebak-tebakan", 0, vec![]).await;
        assert_eq!(a.status, 401);
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

// ---- Cases of issue 10, part 2.

on_both_backends! {
    async fn a_document_outside_the_scope_is_indistinguishable_from_none(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        let forger = Forger::enrol(&hub, Scope { rw: 2, rt: Some(1) }, &"5d".repeat(16)).await;
        let empty = peer::generate(&mut AutoCommit::new(), &mut automerge::sync::State::new()).unwrap().unwrap();
        let a = post_sync(&hub.url(), &forger.token, 0, vec![(honest_req.id.clone(), empty.clone())]).await;
        assert!(!a.reveals(&honest_req.applicant.nik), "the NIK of another RW's resident was revealed");
        assert!(!a.reveals(&honest_req.applicant.name));
        let unknown = uuid_like();
        let b = post_sync(&hub.url(), &forger.token, 0, vec![(unknown.clone(), empty)]).await;
        let shape = |x: &jemput_tests::hostile::Answer, id: &str| {
            let r = x.sync.as_ref().unwrap();
            (x.status, r.docs.iter().any(|d| d.doc_id == id), r.refused.iter().find(|f| f.doc_id == id).map(|f| f.code.clone()))
        };
        assert_eq!(shape(&a, &honest_req.id), shape(&b, &unknown), "out of scope looks like absent");
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn a_two_mebibyte_staff_reason_is_refused_and_cannot_block_the_rt(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, honest_req) = honest(&hub).await;
        let reason = "a".repeat(2 << 20);
        let (s, body, _) = call(
            &hub.url(),
            Some(&hub.staff_token),
            "POST",
            &format!("/api/v1/staff/requests/{}/status", honest_req.id),
            Some(json!({"status": "ditolak", "reason": reason}).to_string()),
        )
        .await;
        assert_eq!((s, body["kode"].as_str()), (400, Some("terlalu_panjang")), "the 2 MiB reason was not refused");
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn malformed_staff_and_enrolment_input_gets_a_json_error(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (_, honest_req) = honest(&hub).await;
        let path = format!("/api/v1/staff/requests/{}/status", honest_req.id);
        let (s, body, text) = call(&hub.url(), Some(&hub.staff_token), "POST", &path, Some("{bukan json".into())).await;
        assert_eq!(s, 400);
        assert!(body["kode"].is_string() && body["pesan"].is_string(), "{text}");
        let (s, body, text) = call(&hub.url(), None, "POST", "/api/v1/enroll", Some(format!("{{\"code\":\"{}\"}}", "A".repeat(3 << 20)))).await;
        assert!(s == 400 || s == 413, "{s}");
        assert!(body["kode"].is_string(), "{}", &text[..text.len().min(200)]);
        // A complete enrolment body with a 3 MiB code: refused, not looked up.
        let long = json!({"code": "A".repeat(3 << 20), "device_name": "HP", "actor": "ab".repeat(16), "device_id": uuid_like()});
        let (s, body, _) = call(&hub.url(), None, "POST", "/api/v1/enroll", Some(long.to_string())).await;
        assert_eq!((s, body["kode"].as_str()), (400, Some("kode_tidak_valid")));
        // Over the body limit, a wrong method, an unknown address, a wrong field type.
        let (s, body, text) = call_declaring(&hub.url(), None, "/api/v1/enroll", 5 << 20).await;
        assert_eq!(s, 413);
        assert!(body["kode"].is_string() && body["pesan"].is_string(), "{}", &text[..text.len().min(200)]);
        let (s, body, text) = call(&hub.url(), None, "GET", "/api/v1/enroll", None).await;
        assert_eq!((s, body["kode"].as_str()), (405, Some("metode_tidak_diizinkan")), "{text}");
        let (s, body, text) = call(&hub.url(), Some(&hub.staff_token), "GET", "/api/v1/tidak-ada", None).await;
        assert_eq!((s, body["kode"].as_str()), (404, Some("tidak_ditemukan")), "{text}");
        let (s, body, text) = call(&hub.url(), Some(&hub.staff_token), "POST", &path, Some(json!({"status": 7}).to_string())).await;
        assert_eq!((s, body["kode"].as_str()), (400, Some("isi_tidak_valid")), "{text}");
        assert!(body["pesan"].is_string(), "{text}");
        assert!(!text.contains("invalid type"), "axum's own text is not passed on: {text}");
    }
}

on_both_backends! {
    async fn an_actor_id_already_bound_is_refused_at_enrolment(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let (phone, _) = honest(&hub).await;
        let taken = phone.store.lock().unwrap().actor_hex();
        let o = hub.db.with(|tx, _| service::add_officer(tx, "Petugas Nakal", Scope { rw: 1, rt: Some(1) })).unwrap();
        let code = hub.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).unwrap();
        let body = json!({"code": code, "device_name": "HP", "actor": taken, "device_id": uuid_like()});
        let (s, body, _) = call(&hub.url(), None, "POST", "/api/v1/enroll", Some(body.to_string())).await;
        assert_eq!(s, 409, "{body}");
        assert!(body["pesan"].as_str().is_some_and(|p| !p.is_empty()));
        honest_still_syncs(&hub, &phone, 1).await;
    }
}

on_both_backends! {
    async fn guessing_enrolment_codes_is_throttled(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let mut throttled = false;
        for i in 0..60 {
            let body = json!({"code": format!("TEBAK{i:05}"), "device_name": "HP", "actor": "ab".repeat(16), "device_id": uuid_like()});
            let (s, _, _) = call(&hub.url(), None, "POST", "/api/v1/enroll", Some(body.to_string())).await;
            if s == 429 {
                throttled = true;
                break;
            }
        }
        assert!(throttled, "60 wrong codes from one address were all answered");
        // Guessing staff tokens on the JSON API is throttled the same way.
        let mut throttled = false;
        for i in 0..80 {
            let (s, body, _) = call(&hub.url(), Some(&format!("tebakan-{i}")), "GET", "/api/v1/staff/me", None).await;
            if s == 429 {
                assert_eq!(body["kode"], "terlalu_sering");
                throttled = true;
                break;
            }
            assert_eq!(s, 401);
        }
        assert!(throttled, "80 wrong staff tokens from one address were all answered");
    }
}
