//! Devices and the hub over a faulty network: drops, connections cut mid-body either way,
//! replayed requests, delays. After the network heals, every replica holds the same state and
//! nothing acknowledged is lost or duplicated. Concurrent edits on a phone and at the office
//! merge as ADR 0002 says.

use jemput_core::document;
use jemput_core::permissions::Scope;
use jemput_core::request::{Request, Status};
use jemput_core::store::RequestFilter;
use jemput_core::sync::client::RetryPolicy;
use jemput_hub::storage::DocFilter;
use jemput_tests::fault_proxy::{FaultProxy, FaultRates, LinkShape};
use jemput_tests::harness::{draft, BackendKind, Phone, TestHub};
use jemput_tests::on_both_backends;
use proptest::prelude::*;

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(20),
        timeout: std::time::Duration::from_secs(5),
    }
}

async fn office_sets(hub: &TestHub, id: &str, status: &str, reason: Option<&str>) -> bool {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/staff/requests/{id}/status", hub.url()))
        .bearer_auth(&hub.staff_token)
        .json(&serde_json::json!({ "status": status, "reason": reason }))
        .send()
        .await
        .unwrap();
    r.status().is_success()
}

fn hub_request(hub: &TestHub, id: &str) -> Option<Request> {
    let id = id.to_string();
    // As the office sees it: with the derived "terkirim" step (`Request::mark_received`).
    let seen = |d: automerge::AutoCommit| {
        let mut r = document::read::<Request>(&d).unwrap();
        r.mark_received();
        r
    };
    hub.db
        .with(move |tx, cipher| Ok::<_, jemput_hub::error::ServiceError>(jemput_hub::service::load_doc(tx, cipher, &id, false)?.map(seen)))
        .unwrap()
}

fn hub_count(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

/// Runs one scenario: phones record, sync through faults while the office decides, the network
/// heals, everything converges. Returns how many faults were injected.
async fn scenario(kind: BackendKind, seed: u64, per_phone: usize, rounds: usize) -> u64 {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let rates = FaultRates { drop: 0.1, cut_request: 0.1, cut_response: 0.15, replay: 0.1, delay: 0.1 };
    let proxy = FaultProxy::start(hub.addr, seed, rates, LinkShape::OPEN).await.unwrap();
    let scopes = [(1, Some(1)), (1, Some(2)), (2, None)];
    let mut phones = Vec::new();
    for (i, (rw, rt)) in scopes.iter().enumerate() {
        phones.push(Phone::enrol(&hub, &format!("Petugas {i}"), Scope { rw: *rw, rt: *rt }).await);
    }
    let mut recorded = Vec::new();
    let mut n = 0;
    for round in 0..rounds {
        // Record at the door.
        for (p, (rw, rt)) in phones.iter().zip(scopes) {
            for _ in 0..per_phone.div_ceil(rounds) {
                let rec = p.store.lock().unwrap().record_request(&draft(n + seed as usize % 100, rw, rt.unwrap_or(3)), true).unwrap();
                recorded.push(rec.id);
                n += 1;
            }
        }
        // Sync through the faulty network; failures are expected and harmless.
        for p in &phones {
            let _ = p.client(&proxy.url(), quick()).sync(&p.store, |_| {}).await;
        }
        // The office decides on what it has.
        for (k, id) in recorded.iter().enumerate() {
            if (k + round + seed as usize).is_multiple_of(3) {
                if let Some(r) = hub_request(&hub, id) {
                    let next = match r.status() {
                        Status::Terkirim => Some("diverifikasi"),
                        Status::Diverifikasi => Some("diproses"),
                        Status::Diproses => Some("selesai"),
                        _ => None,
                    };
                    if let Some(s) = next {
                        assert!(office_sets(&hub, id, s, None).await);
                    }
                }
            }
        }
    }
    // Heal and finish.
    proxy.set_rates(FaultRates::NONE);
    for p in &phones {
        for _ in 0..3 {
            let out = p.client(&proxy.url(), quick()).sync(&p.store, |_| {}).await.unwrap();
            if !out.report.more {
                break;
            }
        }
    }
    for p in &phones {
        let _ = p.client(&proxy.url(), quick()).sync(&p.store, |_| {}).await.unwrap();
    }
    // Every replica holds the same state; nothing lost or duplicated.
    assert_eq!(hub_count(&hub), recorded.len() as u64, "the hub holds each request once");
    for p in &phones {
        let s = p.store.lock().unwrap();
        let health = s.sync_health().unwrap();
        assert_eq!((health.unsent_requests, health.refused), (0, 0), "{}", health.summary);
        for summary in s.list_requests(&RequestFilter::default(), 0, 500).unwrap() {
            let on_phone = s.request(&summary.id).unwrap();
            let on_hub = hub_request(&hub, &summary.id).expect("on the hub");
            assert_eq!(on_phone, on_hub, "replicas differ for {}", summary.receipt);
            assert_ne!(on_hub.status(), Status::Dicatat);
        }
    }
    let total_on_phones: u64 = phones.iter().map(|p| p.store.lock().unwrap().count_requests(&RequestFilter::default()).unwrap()).sum();
    assert_eq!(total_on_phones, recorded.len() as u64);
    proxy.connections().1
}

on_both_backends! {
    async fn replicas_converge_after_the_network_heals(kind) {
        let faults = scenario(kind, 42, 6, 4).await;
        assert!(faults >= 3, "the network really was faulty ({faults} faults)");
    }
}

on_both_backends! {
    async fn concurrent_edits_on_the_phone_and_at_the_office_both_survive(kind) {
        concurrent_edits(kind).await
    }
}

async fn concurrent_edits(kind: BackendKind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let phone = Phone::enrol(&hub, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
    let client = phone.client(&hub.url(), quick());
    let rec = phone.store.lock().unwrap().record_request(&draft(1, 1, 1), true).unwrap();
    client.sync(&phone.store, |_| {}).await.unwrap();
    // At the same time: the officer ticks a document and writes a note, the office asks for a
    // missing document.
    {
        let mut s = phone.store.lock().unwrap();
        s.set_request_notes(&rec.id, "Warga minta dikabari lewat RT").unwrap();
        s.set_document_seen(&rec.id, "kk", false).unwrap();
    }
    assert!(office_sets(&hub, &rec.id, "perlu_kelengkapan", Some("Fotokopi KK buram")).await);
    let out = client.sync(&phone.store, |_| {}).await.unwrap();
    assert_eq!(out.report.status_changes.len(), 1);
    let on_phone = phone.store.lock().unwrap().request(&rec.id).unwrap();
    let on_hub = hub_request(&hub, &rec.id).unwrap();
    assert_eq!(on_phone, on_hub);
    assert_eq!(on_hub.notes, "Warga minta dikabari lewat RT");
    assert_eq!(on_hub.checklist.get("kk"), Some(&false));
    assert_eq!(on_hub.status(), Status::PerluKelengkapan);
    assert_eq!(on_hub.status_reason(), Some("Fotokopi KK buram"));
    // The officer collects the document; the office continues from there.
    phone.store.lock().unwrap().set_request_status(&rec.id, Status::Dilengkapi, None).unwrap();
    client.sync(&phone.store, |_| {}).await.unwrap();
    assert!(office_sets(&hub, &rec.id, "diproses", None).await);
    assert!(office_sets(&hub, &rec.id, "selesai", None).await);
    client.sync(&phone.store, |_| {}).await.unwrap();
    phone.store.lock().unwrap().set_request_status(&rec.id, Status::Diserahkan, None).unwrap();
    client.sync(&phone.store, |_| {}).await.unwrap();
    assert_eq!(hub_request(&hub, &rec.id).unwrap().status(), Status::Diserahkan);
    // A revoked phone gets 401 and keeps its unsent data.
    let rec2 = phone.store.lock().unwrap().record_request(&draft(2, 1, 1), true).unwrap();
    hub.db.with(|tx, _| jemput_hub::service::revoke_officer(tx, &phone.officer_id)).unwrap();
    let err = client.sync(&phone.store, |_| {}).await.unwrap_err();
    assert!(matches!(err, jemput_core::sync::client::SyncError::Unauthorized), "{err:?}");
    let s = phone.store.lock().unwrap();
    assert_eq!(s.request(&rec2.id).unwrap().applicant.name, draft(2, 1, 1).applicant.name);
    assert_eq!(s.sync_health().unwrap().unsent_requests, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, .. ProptestConfig::default() })]
    /// Random seeds drive the faults and the recorded data; every run must converge.
    #[test]
    fn convergence_holds_for_random_fault_seeds(seed in 1u64..u64::MAX, per_phone in 1usize..5, rounds in 1usize..4) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(scenario(BackendKind::Sqlite, seed, per_phone, rounds));
    }
}
