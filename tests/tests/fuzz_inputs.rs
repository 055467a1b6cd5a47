//! Fuzzing of everything that parses network or file input (issue 10), on stable Rust: the
//! sync body decoder (compressed and raw), bundle files, the hub's per-document check with
//! arbitrary Automerge bytes, and enrolment requests. Inputs are the kept corpus
//! (`tests/fuzz/corpus/`, real bodies made by the real core) mutated, plus random bytes.
//! `JEMPUT_FUZZ_CASES` sets the number of cases per target (bounded by default; see
//! `docs/adr/0009-trust-boundary.md` for a long campaign). Regenerate the corpus with
//! `cargo test -p jemput-tests --test fuzz_inputs -- --ignored regenerate_corpus`.

use automerge::{ActorId, AutoCommit};
use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place};
use jemput_core::permissions::{DeviceWriter, Scope};
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::bundle::Bundle;
use jemput_core::sync::hub_side::{self, HubContext};
use jemput_core::sync::protocol::{self, SyncRequest};
use jemput_core::validation::record::validate_request_record;
use jemput_core::{document, Catalog, Kelurahan, Request};
use jemput_hub::error::ServiceError;
use jemput_hub::service;
use jemput_hub::testing::{BackendKind, TestDb};
use jemput_tests::fuzz::{cases, corpus, inputs, keep, run};
use jemput_tests::harness::draft;

/// The device every corpus input was written by (a fixed store would need a fixed key; the
/// corpus records its identity in `identity.json` instead).
struct Seeder {
    _dir: tempfile::TempDir,
    store: Store,
}

fn seeder() -> Seeder {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap();
    store.set_kelurahan(&Kelurahan::demo()).unwrap();
    store.set_enrolment("petugas-fuzz", "K7QM").unwrap();
    Seeder { _dir: dir, store }
}

#[test]
#[ignore = "writes the corpus; run by hand when the formats change"]
fn regenerate_corpus() {
    let mut s = seeder();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(s.store.record_request(&draft(i, 1, 1), true).unwrap().id);
    }
    s.store
        .record_complaint(&ComplaintDraft {
            category: ComplaintCategory::Pengaduan,
            topic: "Saluran air".into(),
            text: "Got di depan rumah nomor 4 tersumbat sampah".into(),
            place: Place { rt: 1, rw: 1, description: "Jl. Balongsari gang 2".into() },
            reporter: None,
        })
        .unwrap();
    let req = s.store.prepare_sync(1 << 20).unwrap();
    keep("sync_body", &protocol::encode(&req)).unwrap();
    keep("sync_body", &protocol::encode_as(&req, protocol::FORMAT_PLAIN)).unwrap();
    keep("sync_body", &protocol::encode(&SyncRequest { version: 1, cursor: 7, docs: vec![], backlog: None })).unwrap();
    keep("raw_body", &protocol::raw_body(&req)).unwrap();
    keep("bundle", &s.store.export_bundle().unwrap()).unwrap();
    let identity = serde_json::json!({
        "device_id": s.store.identity().unwrap().device_id,
        "actor": s.store.actor_hex(),
    });
    for dm in &req.docs {
        keep("automerge", &dm.message).unwrap();
    }
    // An incremental message (a note added after the first upload), and the document it extends.
    let base = {
        let mut d = AutoCommit::new();
        let mut st = automerge::sync::State::new();
        jemput_core::sync::peer::receive(&mut d, &mut st, jemput_core::sync::peer::decode_message(&req.docs[0].message).unwrap()).unwrap();
        d
    };
    std::fs::create_dir_all(jemput_tests::fuzz::corpus_dir("state")).unwrap();
    std::fs::write(jemput_tests::fuzz::corpus_dir("state").join("identity.json"), identity.to_string()).unwrap();
    std::fs::write(jemput_tests::fuzz::corpus_dir("state").join("base.automerge"), base.clone().save()).unwrap();
    std::fs::write(jemput_tests::fuzz::corpus_dir("state").join("base.id"), &req.docs[0].doc_id).unwrap();
    let mut edited = base.clone().with_actor(ActorId::from(hex(&s.store.actor_hex())));
    let mut r: Request = document::read(&edited).unwrap();
    r.notes = "Rumah cat hijau".into();
    document::update(&mut edited, &r).unwrap();
    let m = jemput_core::sync::peer::exact_message(&mut edited, &base.clone().get_heads()).unwrap();
    keep("automerge", &m).unwrap();
    for body in [
        serde_json::json!({"code": "K7QMABCDEF", "device_name": "HP Bu Sri", "actor": s.store.actor_hex(), "device_id": identity["device_id"]}),
        serde_json::json!({"code": "", "device_name": "", "actor": "", "device_id": ""}),
    ] {
        keep("enrol", body.to_string().as_bytes()).unwrap();
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).filter_map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

#[test]
fn sync_bodies() {
    run("sync_body", cases(3000), inputs(corpus("sync_body")), |body| {
        if let Ok(req) = SyncRequest::decode(&body) {
            // Whatever decodes is within the limits and survives a round trip.
            assert!(req.docs.len() <= protocol::MAX_DOCS);
            assert_eq!(SyncRequest::decode(&protocol::encode(&req)).unwrap(), req);
        }
    });
}

#[test]
fn raw_bodies_behind_the_compression() {
    run("raw_body", cases(2000), inputs(corpus("raw_body")), |raw| {
        let _ = SyncRequest::decode(&protocol::compress(&raw, protocol::FORMAT_PLAIN));
        let mut file = jemput_core::sync::bundle::MAGIC.to_vec();
        file.extend(protocol::compress(&raw, protocol::FORMAT_DICTIONARY_V1));
        let _ = Bundle::decode(&file);
    });
}

#[test]
fn bundle_files() {
    run("bundle", cases(2000), inputs(corpus("bundle")), |file| {
        if let Ok(b) = Bundle::decode(&file) {
            assert!(b.docs.len() <= protocol::MAX_DOCS);
        }
    });
}

/// The hub's check of one document message, on no copy and on a real copy: it never panics,
/// and whatever it accepts is a record the phone's validators accept, under its own id.
#[test]
fn hub_check_with_arbitrary_automerge_bytes() {
    let state = jemput_tests::fuzz::corpus_dir("state");
    let identity: serde_json::Value = serde_json::from_slice(&std::fs::read(state.join("identity.json")).unwrap()).unwrap();
    let base = AutoCommit::load(&std::fs::read(state.join("base.automerge")).unwrap()).unwrap();
    let base_id = std::fs::read_to_string(state.join("base.id")).unwrap();
    let device_id = identity["device_id"].as_str().unwrap().to_string();
    let actors = vec![ActorId::from(hex(identity["actor"].as_str().unwrap()))];
    let catalog = Catalog::default_catalog();
    let kelurahan = Kelurahan::demo();
    run("automerge", cases(600), inputs(corpus("automerge")), |message| {
        let writer =
            DeviceWriter { device_id: &device_id, officer_id: "petugas-fuzz", scope: Scope { rw: 1, rt: Some(1) }, prefixes: &["K7QM"] };
        let now = jemput_core::time_util::now_ms();
        let ctx = HubContext { now_ms: now, catalog: Some(&catalog), kelurahan: Some(&kelurahan) };
        let hub_actor = document::random_actor();
        for (current, doc_id) in [(None, base_id.as_str()), (Some(&base), base_id.as_str()), (None, "lain")] {
            let inc = hub_side::receive_from_device(current, &[], &writer, &actors, &hub_actor, doc_id, &ctx, &message);
            if let (None, Some(doc)) = (&inc.refusal, &inc.updated) {
                if let Ok(document::DocKind::Request) = document::kind(doc) {
                    let r: Request = document::read(doc).expect("an accepted request reads back");
                    assert_eq!(r.id, doc_id, "an accepted record carries its document's id");
                    let issues = validate_request_record(&r, &catalog, Some(&kelurahan), jemput_core::time_util::date_of_ms(now));
                    assert!(issues.is_empty(), "accepted an invalid record: {issues:?}");
                }
            }
        }
    });
}

/// Requests a modified phone could build (any field values, times, ids, receipt codes) made
/// into real documents and checked by the hub: whatever the check accepts passes the phone's
/// validators, carries its document's id, a receipt code of the device's prefix and times in
/// the window.
#[test]
fn hub_check_with_arbitrary_records() {
    use proptest::prelude::*;
    let catalog = Catalog::default_catalog();
    let kelurahan = Kelurahan::demo();
    let actor = document::random_actor();
    let services: Vec<String> = catalog.services.iter().map(|s| s.code.clone()).chain(["bukan".to_string()]).collect();
    let domisili = services.iter().position(|c| c == "domisili").unwrap();
    let now = jemput_core::time_util::now_ms();
    let time = prop_oneof![
        12 => (now - 10 * 86_400_000)..(now + 2 * 86_400_000),
        1 => any::<i64>(),
        1 => Just(i64::MAX),
    ]
    .boxed();
    let text =
        |max: usize| prop_oneof![4 => proptest::string::string_regex(&format!("[A-Za-z .,'-]{{0,{max}}}")).unwrap(), 1 => any::<String>()];
    let strategy = (
        (
            text(40),
            prop_oneof![
                3 => proptest::string::string_regex("357602440590[0-9]{4}").unwrap(),
                1 => proptest::string::string_regex("[0-9]{14,17}").unwrap()
            ],
            prop_oneof![
                3 => proptest::string::string_regex("19[5-9][0-9]-0[1-9]-[01][1-9]").unwrap(),
                1 => proptest::string::string_regex("[0-9]{4}-[0-9]{2}-[0-9]{2}").unwrap()
            ],
        ),
        (
            prop_oneof![4 => Just(1u16), 1 => 0u16..8],
            prop_oneof![4 => 1u16..5, 1 => 0u16..8],
            prop_oneof![4 => Just(domisili), 1 => 0..services.len()],
            text(230),
            text(2050),
        ),
        (time.clone(), time, prop::bool::weighted(0.8), prop::bool::weighted(0.8), 1u32..20),
    );
    let device_id = "hp-fuzz".to_string();
    let accepted = std::sync::atomic::AtomicU64::new(0);
    let record_cases = cases(200);
    run("record", record_cases, strategy, |((name, nik, birth), (rw, rt, svc, street, notes), (created, step, own_id, own_prefix, n))| {
        let mut r = jemput_core::Request {
            id: uuid_v7_like(n),
            receipt: jemput_core::ReceiptCode::new(
                &jemput_core::receipt::DevicePrefix::parse(if own_prefix { "K7QM" } else { "M2X9" }).unwrap(),
                n,
            )
            .unwrap()
            .to_string(),
            service_code: services[svc].clone(),
            catalog_version: catalog.version,
            applicant: draft(n as usize, rw, rt).applicant,
            checklist: [("ktp".to_string(), true)].into_iter().collect(),
            fields: [("keperluan".to_string(), "Membuka rekening bank".to_string())].into_iter().collect(),
            notes,
            officer_id: "petugas-fuzz".into(),
            device_id: device_id.clone(),
            created_at: created,
            history: vec![jemput_core::StatusChange {
                status: jemput_core::Status::Dicatat,
                at: step,
                by: jemput_core::Actor { role: jemput_core::Role::Petugas, id: "petugas-fuzz".into() },
                reason: None,
            }],
            office: Default::default(),
        };
        r.applicant.name = name;
        r.applicant.nik = nik;
        r.applicant.birth_date = birth;
        r.applicant.address.street = street;
        let doc_id = if own_id { r.id.clone() } else { uuid_v7_like(n + 1000) };
        let mut doc = document::create(&r, &actor).unwrap();
        let message = jemput_core::sync::peer::exact_message(&mut doc, &[]).unwrap();
        let writer =
            DeviceWriter { device_id: &device_id, officer_id: "petugas-fuzz", scope: Scope { rw: 1, rt: None }, prefixes: &["K7QM"] };
        let ctx = HubContext { now_ms: now, catalog: Some(&catalog), kelurahan: Some(&kelurahan) };
        let inc = hub_side::receive_from_device(
            None,
            &[],
            &writer,
            std::slice::from_ref(&actor),
            &document::random_actor(),
            &doc_id,
            &ctx,
            &message,
        );
        if inc.refusal.is_none() {
            // What the hub stores and sends beside it is made once in the check: the very bytes
            // and full message of the accepted document.
            let mut updated = inc.updated.clone().expect("accepted and stored");
            assert_eq!(inc.saved.as_deref(), Some(updated.save_nocompress().as_slice()));
            assert_eq!(inc.full_message, jemput_core::sync::peer::exact_message(&mut updated, &[]));
            let stored: Request = document::read(inc.updated.as_ref().expect("accepted and stored")).unwrap();
            assert_eq!(stored.id, doc_id);
            assert!(stored.receipt.starts_with("K7QM"));
            let window = jemput_core::time_util::EPOCH_MS..=now + jemput_core::time_util::MAX_AHEAD_MS;
            assert!(window.contains(&stored.created_at) && stored.history.iter().all(|h| window.contains(&h.at)));
            let issues = validate_request_record(&stored, &catalog, Some(&kelurahan), jemput_core::time_util::date_of_ms(now));
            assert!(issues.is_empty(), "accepted an invalid record: {issues:?}");
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let accepted = accepted.into_inner();
    eprintln!("fuzz record: {accepted} of {record_cases} records accepted");
    assert!(record_cases < 100 || accepted > 0, "the property was never exercised on an accepted record");
}

fn uuid_v7_like(n: u32) -> String {
    format!("0190aaaa-0000-7000-8000-{n:012}")
}

/// Enrolment requests: the JSON a client sends (kept corpus, mutated) and arbitrary field
/// values; never a server error, whatever the fields hold.
#[test]
fn enrolment_requests() {
    let db = TestDb::fresh(BackendKind::Sqlite).unwrap();
    let o = db.db.with(|tx, _| service::add_officer(tx, "Bu Sri", Scope { rw: 1, rt: Some(1) })).unwrap();
    let code = db.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).unwrap();
    let seeds: Vec<Vec<u8>> =
        corpus("enrol").into_iter().map(|s| String::from_utf8_lossy(&s).replace("K7QMABCDEF", &code).into_bytes()).collect();
    run("enrol", cases(1500), inputs(seeds), |body| {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else { return };
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let (c, n, a, d) = (field("code"), field("device_name"), field("actor"), field("device_id"));
        match db.db.with(|tx, _| service::enrol(tx, &c, &n, &a, &d)) {
            Ok(_) => {}
            Err(
                ServiceError::BadRequest(..) | ServiceError::Forbidden(..) | ServiceError::Unauthorized(..) | ServiceError::Rejected(..),
            ) => {}
            Err(e) => panic!("enrolment answered a server error: {e:?}"),
        }
    });
    use proptest::prelude::*;
    let field = || prop_oneof![any::<String>(), Just(String::new()), proptest::string::string_regex("[0-9a-fA-F]{30,34}").unwrap()];
    let fields = (prop_oneof![Just(code.clone()), any::<String>()], field(), field(), prop_oneof![field(), Just(uuid_v7_like(1))]);
    run("enrol_fields", cases(1500), fields, |(c, n, a, d)| match db.db.with(|tx, _| service::enrol(tx, &c, &n, &a, &d)) {
        Ok(_) => {}
        Err(ServiceError::BadRequest(..) | ServiceError::Forbidden(..) | ServiceError::Unauthorized(..) | ServiceError::Rejected(..)) => {}
        Err(e) => panic!("enrolment answered a server error: {e:?}"),
    });
}
