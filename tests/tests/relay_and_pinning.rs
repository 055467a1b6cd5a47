//! The no-signal hand-off carried by a colleague's phone, through the real sync path (the
//! device forwards the bundles it keeps at its next sync; the hub applies each once), and a
//! self-signed hub pinned by the certificate fingerprint from the enrolment QR code.

use std::sync::Mutex;
use std::time::Duration;

use jemput_core::permissions::Scope;
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient, SyncError};
use jemput_core::sync::tls::CertPin;
use jemput_hub::storage::DocFilter;
use jemput_tests::harness::{draft, Phone, TestHub};

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
    }
}

fn hub_requests(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carried_bundle_is_forwarded_at_the_carriers_sync_and_applied_once() {
    let hub = TestHub::start().await;
    let url = hub.url();
    let author = Phone::enrol(&hub, "Bu Sri", Scope { rw: 1, rt: Some(1) }).await;
    let carrier = Phone::enrol(&hub, "Pak Joko", Scope { rw: 1, rt: Some(2) }).await;
    let rec = author.store.lock().unwrap().record_request(&draft(0, 1, 1), true).unwrap();
    let file = author.store.lock().unwrap().export_bundle().unwrap();
    assert_eq!(carrier.store.lock().unwrap().keep_bundle_for_relay(&file).unwrap(), 1);

    let out = carrier.client(&url, quick()).sync(&carrier.store, |_| {}).await.unwrap();
    assert_eq!(out.relayed, 1);
    assert!(out.report.refused.is_empty(), "{:?}", out.report.refused);
    assert!(carrier.store.lock().unwrap().relay_bundles().unwrap().is_empty(), "forwarded bundles are forgotten");
    assert_eq!(hub_requests(&hub), 1);
    let at_hub = hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap();
    assert_eq!(at_hub, 1);

    // The same file carried again changes nothing at the hub; the author's own sync neither.
    carrier.store.lock().unwrap().keep_bundle_for_relay(&file).unwrap();
    assert_eq!(carrier.client(&url, quick()).sync(&carrier.store, |_| {}).await.unwrap().relayed, 1);
    let out = author.client(&url, quick()).sync(&author.store, |_| {}).await.unwrap();
    assert!(out.report.refused.is_empty());
    assert_eq!(hub_requests(&hub), 1);
    let mine = author.store.lock().unwrap().request(&rec.id).unwrap();
    assert_eq!(mine.status(), jemput_core::Status::Terkirim);

    // A bundle from a phone this hub does not know is refused for good: reported, forgotten.
    let dir = tempfile::tempdir().unwrap();
    let mut stranger = Store::open(dir.path().join("asing.db"), &StoreKey::generate()).unwrap();
    stranger.set_enrolment("petugas-lain", "ZZZZ").unwrap();
    stranger.record_request(&draft(1, 1, 1), true).unwrap();
    let foreign = stranger.export_bundle().unwrap();
    carrier.store.lock().unwrap().keep_bundle_for_relay(&foreign).unwrap();
    let out = carrier.client(&url, quick()).sync(&carrier.store, |_| {}).await.unwrap();
    assert_eq!(out.relayed, 0);
    let refusal = out.report.refused.iter().find(|r| r.doc_id.starts_with("bundel:")).expect("refusal reported");
    assert_eq!(refusal.code, "perangkat_tidak_dikenal");
    assert!(carrier.store.lock().unwrap().relay_bundles().unwrap().is_empty());
    assert_eq!(hub_requests(&hub), 1);

    // Without signal the kept bundle waits; the sync itself fails only for its own exchange.
    carrier.store.lock().unwrap().keep_bundle_for_relay(&file).unwrap();
    let dead = format!("http://127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    assert!(matches!(carrier.client(&dead, quick()).sync(&carrier.store, |_| {}).await, Err(SyncError::Network(_))));
    assert_eq!(carrier.store.lock().unwrap().relay_bundles().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_hub_is_reached_only_with_its_pinned_certificate() {
    let hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["hub.kelurahan.lan".to_string()]).unwrap();
    let files = jemput_hub::config::TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    std::fs::write(&files.cert, ck.cert.pem()).unwrap();
    std::fs::write(&files.key, ck.signing_key.serialize_pem()).unwrap();
    let tls = jemput_hub::serve::tls_config(&files).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = jemput_hub::api::app(jemput_hub::api::AppState::new(hub.db.clone()));
    let server = tokio::spawn(jemput_hub::serve::serve(listener, app, Some(tls), std::future::pending()));
    // The name in the certificate does not matter when pinned: the phone dials an address.
    let url = format!("https://127.0.0.1:{port}");
    let pin = CertPin::of_certificate(ck.cert.der());
    assert_eq!(jemput_hub::setup::pin_of_cert_file(&files.cert), Some(pin.to_hex()), "the hub prints the pin in its QR code");
    let qr = jemput_hub::setup::qr_payload_pinned(&url, "KODE", Some(&pin.to_hex()));
    assert!(qr.contains(&format!("sha256={}", pin.to_hex())), "{qr}");

    let officer = hub.db.with(|tx, _| jemput_hub::service::add_officer(tx, "Pak Darmo", Scope { rw: 1, rt: Some(1) })).unwrap();
    let code = |hub: &TestHub| hub.db.with(|tx, _| jemput_hub::service::create_enrol_code(tx, &officer.id, 1)).unwrap();
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());

    // Ordinary verification does not trust a self-signed certificate; another pin is refused
    // as a mismatch before anything is sent.
    let mut up = false;
    for _ in 0..100 {
        match client::enroll(&url, &code(&hub), "HP", &store).await {
            Err(SyncError::Network(_)) => {
                up = true;
                break;
            }
            Err(SyncError::Protocol) | Ok(_) => panic!("a self-signed hub must not be trusted without its pin"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(up);
    let other = CertPin::of_certificate(b"sertifikat lain");
    assert!(matches!(client::enroll_pinned(&url, &code(&hub), "HP", Some(other), &store).await, Err(SyncError::CertificateMismatch)));
    assert!(store.lock().unwrap().hub_link().unwrap().is_none());

    let e = client::enroll_pinned(&url, &code(&hub), "HP Pak Darmo", Some(pin), &store).await.unwrap();
    assert_eq!(e.officer_name, "Pak Darmo");
    let link = store.lock().unwrap().hub_link().unwrap().expect("kept");
    assert_eq!(link.cert_sha256, Some(pin.to_hex()));
    store.lock().unwrap().record_request(&draft(0, 1, 1), true).unwrap();
    let sync = SyncClient::pinned(&url, &link.token, quick(), Some(pin)).unwrap();
    assert_eq!(sync.sync(&store, |_| {}).await.unwrap().report.refused.len(), 0);
    assert_eq!(hub_requests(&hub), 1);
    let wrong = SyncClient::pinned(&url, &link.token, quick(), Some(other)).unwrap();
    assert!(matches!(wrong.sync(&store, |_| {}).await, Err(SyncError::CertificateMismatch)));
    server.abort();
}
