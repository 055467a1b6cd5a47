//! Fuzzing of everything that parses network or file input (issue 10), on stable Rust: the
//! sync body decoder (compressed and raw), bundle files, the hub's per-document check with
//! arbitrary Automerge bytes, and enrolment requests. Inputs are the kept corpus
//! (`tests/fuzz/corpus/`, real bodies made by the real core) mutated, plus random bytes.
//! `JEMPUT_FUZZ_CASES` sets the number of cases per target (bounded by default; see
//! `docs/adr/0008-trust-boundary.md` for a long campaign). Regenerate the corpus with
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
use jemput_hub::db;
use jemput_hub::error::AppError;
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
    keep("sync_body", &protocol::encode(&SyncRequest { version: 1, cursor: 7, docs: vec![] })).unwrap();
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
    run("raw_body", cases(3000), inputs(corpus("raw_body")), |raw| {
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

/// Enrolment requests as JSON: never a server error, whatever the fields hold.
#[test]
fn enrolment_requests() {
    let db = TestDb::fresh(BackendKind::Sqlite).unwrap();
    let o = db.db.with(|tx, _| db::add_officer(tx, "Bu Sri", Scope { rw: 1, rt: Some(1) })).unwrap();
    let code = db.db.with(|tx, _| db::create_enrol_code(tx, &o.id, 1)).unwrap();
    let seeds: Vec<Vec<u8>> =
        corpus("enrol").into_iter().map(|s| String::from_utf8_lossy(&s).replace("K7QMABCDEF", &code).into_bytes()).collect();
    run("enrol", cases(1500), inputs(seeds), |body| {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else { return };
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let (c, n, a, d) = (field("code"), field("device_name"), field("actor"), field("device_id"));
        match db.db.with(|tx, _| db::enrol(tx, &c, &n, &a, &d)) {
            Ok(_) => {}
            Err(AppError::BadRequest(..) | AppError::Forbidden(..) | AppError::Unauthorized(..) | AppError::Rejected(..)) => {}
            Err(e) => panic!("enrolment answered a server error: {e:?}"),
        }
    });
}
