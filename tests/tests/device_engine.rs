//! Engine tests: a real device [`Store`] against the real hub sync engine
//! (`jemput_hub::engine`) over a temporary SQLite database and a PostgreSQL one, without HTTP
//! in between (the HTTP path, faults and resumption are tested in the other files here).
//! These replace an in-memory imitation of the hub that had drifted from the real one.

use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place};
use jemput_core::document;
use jemput_core::permissions::Scope;
use jemput_core::request::{Actor, Request, Role, Status};
use jemput_core::store::{RequestFilter, Store, StoreKey};
use jemput_core::sync::hub_side::Placement;
use jemput_core::sync::protocol::{self, DocMessage, SyncRequest, SyncResponse};
use jemput_core::sync::SyncReport;
use jemput_core::test_support::{draft, nik, tamper_request, test_catalog, test_kelurahan};
use jemput_hub::engine::{Engine, Isolation};
use jemput_hub::error::ServiceError;
use jemput_hub::service;
use jemput_hub::storage::{DocFilter, HubDb};
use jemput_hub::testing::{BackendKind, TestDb};
use jemput_tests::on_both_backends;

/// A hub: its database and its sync engine (documents checked in this process). Nothing is
/// set up beyond an officer for RW 5 / RT 3, so the change log holds only what devices send.
struct Hub {
    _db: TestDb,
    db: HubDb,
    engine: Engine,
    officer_id: String,
}

fn hub(kind: BackendKind) -> Hub {
    hub_for(kind, Scope { rw: 5, rt: Some(3) }, false)
}

/// A hub whose officer has `scope`; with `profile`, set up with the test kelurahan and catalog
/// (what incoming records are validated against).
fn hub_for(kind: BackendKind, scope: Scope, profile: bool) -> Hub {
    let t = TestDb::fresh(kind).expect("back end available");
    let db = t.db.clone();
    if profile {
        service::setup::init(&db, &test_kelurahan(), &test_catalog()).unwrap();
    }
    let officer = db.with(|tx, _| service::add_officer(tx, "Pak RT", scope)).unwrap();
    Hub { engine: Engine::new(db.clone(), Isolation::InProcess), db, _db: t, officer_id: officer.id }
}

/// A device store enrolled at `hub` (its actor bound, like the enrolment call does); returns
/// the store and its token.
fn device(hub: &Hub) -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap();
    s.set_clock(|| 1_763_000_000_000);
    s.set_kelurahan(&test_kelurahan()).unwrap();
    s.set_catalog(&test_catalog()).unwrap();
    let (actor, device_id) = (s.actor_hex(), s.identity().unwrap().device_id);
    let officer = hub.officer_id.clone();
    let e = hub
        .db
        .with(move |tx, _| {
            let code = service::create_enrol_code(tx, &officer, 1)?;
            service::enrol(tx, &code, "HP uji", &actor, &device_id)
        })
        .unwrap();
    s.set_enrolment(&e.officer_id, &e.receipt_prefix).unwrap();
    (dir, s, e.token)
}

/// One exchange of the device with `token` through the real engine.
async fn exchange(hub: &Hub, token: &str, req: &SyncRequest) -> SyncResponse {
    let answer = hub.engine.exchange(token.to_string(), None, 0, protocol::encode(req), Default::default()).await.unwrap();
    SyncResponse::decode(&answer).unwrap()
}

async fn sync(hub: &Hub, s: &mut Store, token: &str) -> (SyncRequest, SyncReport) {
    let req = s.prepare_sync(1 << 20).unwrap();
    let resp = exchange(hub, token, &req).await;
    let report = s.apply_sync(&req, &resp).unwrap();
    (req, report)
}

/// Sends one document message under `doc_id` as a modified phone would.
async fn send_one(hub: &Hub, token: &str, doc_id: &str, message: Vec<u8>) -> SyncResponse {
    let req = SyncRequest {
        version: protocol::PROTOCOL_VERSION,
        cursor: 0,
        docs: vec![DocMessage { doc_id: doc_id.into(), message }],
        backlog: None,
    };
    exchange(hub, token, &req).await
}

/// The code the hub refused the device's first unsent document with (after a sync).
async fn refused_code(hub: &Hub, s: &mut Store, token: &str) -> Option<String> {
    let (_, report) = sync(hub, s, token).await;
    report.refused.first().map(|r| r.code.clone())
}

/// The hub's stored bytes of a document, if it has it.
fn stored_bytes(hub: &Hub, id: &str) -> Option<Vec<u8>> {
    let id = id.to_string();
    hub.db.with(move |tx, cipher| service::load_doc_bytes(tx, cipher, &id, false)).unwrap()
}

/// The hub's copy of a request.
fn on_hub(hub: &Hub, id: &str) -> Request {
    let id = id.to_string();
    let doc = hub.db.with(move |tx, cipher| service::load_doc(tx, cipher, &id, false)).unwrap().expect("on the hub");
    document::read(&doc).unwrap()
}

/// How many requests the hub holds.
fn hub_requests(hub: &Hub) -> u64 {
    hub.db.with(|tx, _| Ok::<_, ServiceError>(tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })?)).unwrap()
}

/// The hub's change-log position.
fn hub_log(hub: &Hub) -> i64 {
    hub.db.with(|tx, _| Ok::<_, ServiceError>(tx.top_seq()?)).unwrap()
}

/// Staff set a request's status on the hub (what the staff API does).
fn staff_sets(hub: &Hub, id: &str, status: Status, reason: Option<&str>) {
    let (id, reason) = (id.to_string(), reason.map(str::to_string));
    hub.db
        .with(move |tx, cipher| {
            let mut doc = service::load_doc(tx, cipher, &id, true)?.unwrap();
            let mut r: Request = document::read(&doc).unwrap();
            r.mark_received();
            r.change_status(status, Actor { role: Role::Staf, id: "staf-1".into() }, reason.clone(), 1_763_000_900_000).unwrap();
            doc.set_actor(service::hub_actor(tx)?);
            document::update(&mut doc, &r).unwrap();
            service::put_doc_from(tx, cipher, &id, &mut doc, &Placement::of_request(&r))?;
            Ok::<_, ServiceError>(())
        })
        .unwrap();
}

on_both_backends! {
    async fn upload_takes_one_exchange_and_is_acknowledged_without_an_answer(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        for i in 0..3 {
            s.record_request(&draft("Siti Aminah", &nik(i + 1)), false).unwrap();
        }
        assert!(s.sync_health().unwrap().summary.starts_with("3 permohonan belum terkirim"), "{}", s.sync_health().unwrap().summary);
        let req = s.prepare_sync(1 << 20).unwrap();
        let resp = exchange(&hub, &token, &req).await;
        assert!(resp.docs.is_empty() && resp.refused.is_empty(), "the exchange itself acknowledges: {resp:?}");
        let report = s.apply_sync(&req, &resp).unwrap();
        assert_eq!(req.docs.len(), 3);
        assert_eq!(report.confirmed, 3, "{report:?}");
        assert_eq!(report.status_changes.iter().filter(|n| n.status == Status::Terkirim).count(), 3);
        assert!(!report.more);
        assert_eq!(hub_requests(&hub), 3);
        for r in s.list_requests(&RequestFilter::default(), 0, 10).unwrap() {
            assert_eq!(r.status, Status::Terkirim);
            let mut copy = on_hub(&hub, &r.id);
            assert_eq!(copy.history.len(), 1, "the hub writes no terkirim step");
            copy.mark_received();
            assert_eq!(copy, s.request(&r.id).unwrap(), "device and hub hold the same record");
        }
        let h = s.sync_health().unwrap();
        assert_eq!((h.unsent_requests, h.refused), (0, 0));
        assert!(h.summary.starts_with("Semua data sudah terkirim"), "{}", h.summary);
        // Idle: nothing to send, nothing comes back.
        let (req, report) = sync(&hub, &mut s, &token).await;
        assert!(req.docs.is_empty());
        assert_eq!(report, Default::default());
    }
}

on_both_backends! {
    async fn office_decisions_come_back_with_their_reasons(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        staff_sets(&hub, &rec.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
        let (req, report) = sync(&hub, &mut s, &token).await;
        assert!(req.docs.is_empty());
        assert_eq!(report.status_changes.len(), 1);
        assert_eq!(report.status_changes[0].status, Status::PerluKelengkapan);
        assert_eq!(report.status_changes[0].reason.as_deref(), Some("Fotokopi KK belum ada"));
        // The officer collects the document; the office sees it.
        s.set_request_status(&rec.id, Status::Dilengkapi, None).unwrap();
        let (req, _) = sync(&hub, &mut s, &token).await;
        assert_eq!(req.docs.len(), 1);
        assert_eq!(on_hub(&hub, &rec.id).status(), Status::Dilengkapi);
    }
}

on_both_backends! {
    async fn a_lost_response_is_repaired_by_the_next_sync_without_duplicates(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        let req = s.prepare_sync(1 << 20).unwrap();
        let _lost = exchange(&hub, &token, &req).await;
        assert_eq!(s.sync_health().unwrap().unsent_requests, 1, "nothing applied, still unsent");
        let (req2, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(req2.docs.len(), 1);
        assert_eq!(report.confirmed, 1);
        let mut copy = on_hub(&hub, &rec.id);
        assert_eq!(copy.history.len(), 1, "recorded once: {:?}", copy.history);
        copy.mark_received();
        assert_eq!(s.request(&rec.id).unwrap(), copy);
        // Applying the same response twice changes nothing.
        let again = exchange(&hub, &token, &req2).await;
        s.apply_sync(&req2, &again).unwrap();
        assert_eq!(s.request(&rec.id).unwrap(), copy);
    }
}

on_both_backends! {
    async fn forbidden_changes_are_refused_and_the_hub_copy_stays_untouched(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        let before = on_hub(&hub, &rec.id);
        // A tampered app writes an office field directly into its document.
        tamper_request(&mut s, &rec.id, |r| {
            r.office.letter_number = Some("474/999/2026".into());
            Ok(())
        })
        .unwrap();
        let (_, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(report.refused.len(), 1);
        assert_eq!(report.refused[0].code, "kolom_kantor");
        assert_eq!(on_hub(&hub, &rec.id), before);
        let h = s.sync_health().unwrap();
        assert_eq!(h.refused, 1);
        assert!(h.summary.contains("ditolak"), "{}", h.summary);
        assert_eq!(s.sync_refusal(&rec.id).unwrap().unwrap().code, "kolom_kantor");
        // A refused document is not resent on every sync.
        assert!(s.prepare_sync(1 << 20).unwrap().docs.is_empty());
        // Changes from an actor not bound to the device are refused too: another phone's
        // request sent with the first device's token.
        let (_d2, mut other, _) = device(&hub);
        other.record_request(&draft("Budi", &nik(2)), false).unwrap();
        let req = other.prepare_sync(1 << 20).unwrap();
        let resp = exchange(&hub, &token, &req).await;
        assert_eq!(resp.refused[0].code, "aktor_tidak_dikenal");
        assert_eq!(hub_requests(&hub), 1, "nothing of the foreign device was stored");
    }
}

on_both_backends! {
    async fn a_bundle_hands_unsent_changes_over_without_signal_and_imports_idempotently(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let a = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
        let file = s.export_bundle().unwrap();
        assert!(!file.windows(5).any(|w| w == b"Aminah"), "the bundle body is compressed, not plain text");
        let bundle = jemput_core::sync::bundle::Bundle::decode(&file).unwrap();
        assert_eq!(bundle.docs.len(), 2);
        assert_eq!(bundle.officer_id, hub.officer_id);
        // The office imports it (twice), with the checks of a sync from that device.
        let import = |file: Vec<u8>| {
            hub.db
                .with(move |tx, cipher| jemput_hub::engine::import_bundle_bytes(tx, cipher, &Isolation::InProcess, &file, "staf-1"))
                .unwrap()
        };
        let first = import(file.clone());
        assert!(first.refused.is_empty(), "{:?}", first.refused);
        let ids: Vec<String> = bundle.docs.iter().map(|d| d.doc_id.clone()).collect();
        let snapshot: Vec<Request> = ids.iter().map(|id| on_hub(&hub, id)).collect();
        let log_len = hub_log(&hub);
        import(file.clone());
        let again: Vec<Request> = ids.iter().map(|id| on_hub(&hub, id)).collect();
        assert_eq!(snapshot, again, "importing the same bundle twice changes nothing");
        assert_eq!(hub_log(&hub), log_len);
        // The device is still "unsent" until its own sync confirms; that sync sends the same
        // changes again and the hub takes them as known.
        assert_eq!(s.sync_health().unwrap().unsent_requests, 2);
        let (_, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(report.confirmed, 2);
        assert_eq!(hub_requests(&hub), 2);
        assert_eq!(s.request(&a.id).unwrap().status(), Status::Terkirim);
        // A colleague keeps the bundle to forward later, once.
        let (_d2, mut colleague, _) = device(&hub);
        assert_eq!(colleague.keep_bundle_for_relay(&file).unwrap(), 2);
        colleague.keep_bundle_for_relay(&file).unwrap();
        let waiting = colleague.relay_bundles().unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].1, file);
        colleague.forget_relay_bundle(&waiting[0].0).unwrap();
        assert!(colleague.relay_bundles().unwrap().is_empty());
        assert!(colleague.keep_bundle_for_relay(b"bukan bundel").is_err());
    }
}

// ---- The hub's trust boundary (issue 10): what a modified phone sends, crafted with the real
// core, and what the engine's per-document check makes of it.

on_both_backends! {
    async fn a_receipt_code_outside_the_prefixes_allocated_to_the_device_is_refused(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let own = s.identity().unwrap().receipt_prefix;
        let other = if own == "M2X9" { "M2X8" } else { "M2X9" };
        // The modified phone writes receipt codes under a prefix the hub never allocated to it.
        s.set_enrolment(&hub.officer_id, other).unwrap();
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        assert!(rec.receipt.starts_with(other));
        assert_eq!(refused_code(&hub, &mut s, &token).await.as_deref(), Some("kode_bukan_perangkat"));
        assert_eq!(hub_requests(&hub), 0, "nothing stored");
        // Its own prefix goes through.
        s.set_enrolment(&hub.officer_id, &own).unwrap();
        s.record_request(&draft("Sri Wahyuni", &nik(2)), false).unwrap();
        let (_, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(hub_requests(&hub), 1, "{report:?}");
    }
}

on_both_backends! {
    async fn device_timestamps_outside_the_window_are_refused(kind) {
        use jemput_core::time_util::{now_ms, DAY_MS, EPOCH_MS};
        let now = now_ms();
        let cases: [(i64, bool); 5] =
            [(i64::MAX, false), (now + 2 * DAY_MS, false), (EPOCH_MS - 1, false), (i64::MIN, false), (now + DAY_MS - 10 * 60_000, true)];
        for (at, accepted) in cases {
            let hub = hub(kind);
            let (_d, mut s, token) = device(&hub);
            let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
            tamper_request(&mut s, &rec.id, |r| {
                r.created_at = at;
                r.history[0].at = at;
                Ok(())
            })
            .unwrap();
            let code = refused_code(&hub, &mut s, &token).await;
            if accepted {
                assert_eq!(code, None, "at {at}");
                assert_eq!(hub_requests(&hub), 1);
            } else {
                assert_eq!(code.as_deref(), Some("waktu_tidak_valid"), "at {at}");
                assert_eq!(hub_requests(&hub), 0, "at {at}");
            }
        }
        // An officer's later step stamped far ahead is refused too, and the office still works.
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        staff_sets(&hub, &rec.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
        sync(&hub, &mut s, &token).await;
        tamper_request(&mut s, &rec.id, |r| {
            r.history.push(jemput_core::request::StatusChange {
                status: Status::Dilengkapi,
                at: i64::MAX,
                by: Actor { role: Role::Petugas, id: r.officer_id.clone() },
                reason: None,
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(refused_code(&hub, &mut s, &token).await.as_deref(), Some("waktu_tidak_valid"));
        assert_eq!(on_hub(&hub, &rec.id).status(), Status::PerluKelengkapan);
        staff_sets(&hub, &rec.id, Status::Ditolak, Some("Berkas tidak dilengkapi"));
        assert_eq!(on_hub(&hub, &rec.id).status(), Status::Ditolak, "office status changes still work");
    }
}

on_both_backends! {
    async fn records_failing_the_phones_validators_are_refused_with_the_validators_code(kind) {
        type Edit = fn(&mut Request);
        let cases: [(Edit, &str); 8] = [
            (|r| r.applicant.nik = "357602440590001".into(), "nik_panjang"),
            (|r| r.applicant.name = "Siti ".repeat(40_000), "nama_terlalu_panjang"),
            (|r| r.applicant.birth_date = "2099-01-01".into(), "tanggal_masa_depan"),
            (|r| r.applicant.address.rt = 4, "rt_tidak_ada"),
            (|r| r.service_code = "bukan_layanan".into(), "layanan_tidak_dikenal"),
            (|r| r.notes = "catatan ".repeat(400), "terlalu_panjang"),
            (|r| r.applicant.birth_place = "Mojokerto ".repeat(30), "terlalu_panjang"),
            (|r| r.applicant.address.street = "Jl. Balongsari ".repeat(30), "terlalu_panjang"),
        ];
        // One hub with the kelurahan profile (RW 5 has RT 1–3) and an RW officer, so an RT the
        // kelurahan does not have is the validator's to refuse, not the scope check's.
        let hub = hub_for(kind, Scope { rw: 5, rt: None }, true);
        for (edit, code) in cases {
            let (_d, mut s, token) = device(&hub);
            let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
            tamper_request(&mut s, &rec.id, |r| {
                edit(r);
                Ok(())
            })
            .unwrap();
            let (_, report) = sync(&hub, &mut s, &token).await;
            assert_eq!(report.refused.first().map(|r| r.code.as_str()), Some(code), "{report:?}");
            assert!(!report.refused[0].message.is_empty());
            assert_eq!(hub_requests(&hub), 0, "{code}: nothing stored");
        }
        // An existing record edited into an invalid one is refused as well.
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        tamper_request(&mut s, &rec.id, |r| {
            r.applicant.nik = "12345".into();
            Ok(())
        })
        .unwrap();
        assert_eq!(refused_code(&hub, &mut s, &token).await.as_deref(), Some("nik_panjang"));
        assert_eq!(on_hub(&hub, &rec.id).applicant.nik, nik(1));
    }
}

on_both_backends! {
    async fn a_new_document_must_carry_its_own_record_id(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        let req = s.prepare_sync(1 << 20).unwrap();
        // The same record sent under another document id (two documents for one record id).
        let other_id = "0199aaaa-0000-7000-8000-000000000001";
        let resp = send_one(&hub, &token, other_id, req.docs[0].message.clone()).await;
        assert_eq!(resp.refused.first().map(|r| r.code.as_str()), Some("id_tidak_cocok"), "{resp:?}");
        assert_eq!(hub_requests(&hub), 0);
        // Under its own id it is taken.
        let resp = send_one(&hub, &token, &rec.id, req.docs[0].message.clone()).await;
        assert!(resp.refused.is_empty(), "{resp:?}");
        assert_eq!(hub_requests(&hub), 1);
    }
}

on_both_backends! {
    async fn a_fresh_document_under_an_existing_id_is_refused(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        let before = stored_bytes(&hub, &rec.id).expect("on the hub");
        // A modified phone of the same officer (enrolled with an actor id that sorts first, so
        // the honest values would win every conflict and the fixed fields would look
        // unchanged) builds a fresh document holding the same record with its own values.
        let low = automerge::ActorId::from([0u8; 16]);
        let (officer, low_hex) = (hub.officer_id.clone(), protocol::actor_hex(&low));
        let forger = hub
            .db
            .with(move |tx, _| {
                let code = service::create_enrol_code(tx, &officer, 1)?;
                service::enrol(tx, &code, "HP modifikasi", &low_hex, &uuid::Uuid::new_v4().to_string())
            })
            .unwrap();
        let mut forged = on_hub(&hub, &rec.id);
        forged.notes = "catatan asing".into();
        forged.applicant.address.street = "Jl. Lain No. 1".into();
        let mut fresh = document::create(&forged, &low).unwrap();
        let message = jemput_core::sync::peer::exact_message(&mut fresh, &[]).unwrap();
        let resp = send_one(&hub, &forger.token, &rec.id, message).await;
        assert_eq!(resp.refused.first().map(|r| r.code.as_str()), Some("riwayat_asing"), "{resp:?}");
        assert_eq!(stored_bytes(&hub, &rec.id).unwrap(), before, "the hub's copy is untouched");
    }
}

on_both_backends! {
    async fn a_document_too_large_for_one_message_is_reported_and_the_others_go_through(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        let small = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        let big = s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
        sync(&hub, &mut s, &token).await;
        // A record grown past what one message carries (stored before every staff text had its
        // limit, written here past the staff API).
        staff_sets(&hub, &big.id, Status::PerluKelengkapan, Some(&"a".repeat(2 << 20)));
        staff_sets(&hub, &small.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
        // The phone that holds both: the small one's news arrives, the big one is reported.
        let (_, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(report.status_changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec![small.id.as_str()], "{report:?}");
        assert_eq!(report.refused.iter().map(|r| (r.doc_id.as_str(), r.code.as_str())).collect::<Vec<_>>(), vec![(big.id.as_str(), "dokumen_terlalu_besar")]);
        // A colleague's new phone of the same RT, starting from nothing: the same.
        let (_d2, mut fresh, token2) = device(&hub);
        let (_, report) = sync(&hub, &mut fresh, &token2).await;
        assert!(fresh.request(&small.id).is_ok(), "{report:?}");
        assert!(fresh.request(&big.id).is_err());
        assert_eq!(report.refused.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), vec!["dokumen_terlalu_besar"]);
        // Neither phone is stuck: the next sync goes through and sends new records.
        let rec = fresh.record_request(&draft("Sri Wahyuni", &nik(3)), false).unwrap();
        let (req, report) = sync(&hub, &mut fresh, &token2).await;
        assert_eq!((req.docs.len(), report.confirmed), (1, 1), "{report:?}");
        assert_eq!(on_hub(&hub, &rec.id).applicant.name, "Sri Wahyuni");
    }
}

/// What the hub's device list says the device still holds to send (its reported backlog).
fn backlog_on_hub(hub: &Hub) -> Option<protocol::Backlog> {
    let devices = hub.db.with(|tx, _| Ok::<_, ServiceError>(tx.devices()?)).unwrap();
    assert_eq!(devices.len(), 1);
    devices[0].backlog
}

on_both_backends! {
    async fn the_office_sees_what_each_device_still_has_to_send(kind) {
        let hub = hub(kind);
        let (_d, mut s, token) = device(&hub);
        assert_eq!(backlog_on_hub(&hub), None, "never synced: not told");
        let first = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        for i in 2..=5 {
            s.record_request(&draft("Budi Santoso", &nik(i)), false).unwrap();
        }
        s.record_complaint(&ComplaintDraft {
            category: ComplaintCategory::Pengaduan,
            topic: "Lampu jalan".into(),
            text: "Lampu jalan di depan musala mati sejak seminggu".into(),
            place: Place { rt: 3, rw: 5, description: "Gang 3".into() },
            reporter: None,
        })
        .unwrap();
        // A small budget: the first exchange carries one record, the rest wait.
        let req = s.prepare_sync(1).unwrap();
        assert_eq!(req.docs.len(), 1);
        let resp = exchange(&hub, &token, &req).await;
        s.apply_sync(&req, &resp).unwrap();
        let left = backlog_on_hub(&hub).expect("reported");
        assert_eq!((left.requests, left.complaints, left.refused), (4, 1, 0));
        assert_eq!(left.describe(), "belum terkirim: 4 permohonan, 1 pengaduan");
        // A record the hub refuses stays on the phone for the officer to correct: reported too.
        sync(&hub, &mut s, &token).await;
        tamper_request(&mut s, &first.id, |r| {
            r.office.letter_number = Some("474/999/2026".into());
            Ok(())
        })
        .unwrap();
        let (_, report) = sync(&hub, &mut s, &token).await;
        assert_eq!(report.refused.len(), 1);
        // The refusal is known to the phone after that exchange: the next one reports it.
        sync(&hub, &mut s, &token).await;
        assert_eq!(backlog_on_hub(&hub), Some(protocol::Backlog { requests: 0, complaints: 0, refused: 1 }));
        // An app from before the field reports nothing: the list says so instead of a stale count.
        let old = SyncRequest { backlog: None, ..s.prepare_sync(1 << 20).unwrap() };
        exchange(&hub, &token, &old).await;
        assert_eq!(backlog_on_hub(&hub), None);
    }
}
