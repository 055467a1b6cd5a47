//! Database round trips of a sync exchange on PostgreSQL (benchmark scenario 9, ADR 0005):
//! every statement there is a round trip, and most of a writing exchange's are made while it
//! holds the change-log lock, so their number must not grow with the documents an exchange
//! carries. Counted with `storage::postgres::statements_sent` (statements sent in
//! transactions, `BEGIN` and `COMMIT` included) around real exchanges of phones (the core's
//! store and sync client) with the hub served on loopback. One test in this file: the counter
//! is the process's.

use std::future::IntoFuture;
use std::sync::Mutex;

use jemput_core::permissions::Scope;
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::api::{app, AppState};
use jemput_hub::storage::postgres::statements_sent;
use jemput_hub::testing::{postgres_url, BackendKind, TestDb};
use jemput_hub::{service, setup};

struct Phone {
    store: Mutex<Store>,
    sync: SyncClient,
    _dir: tempfile::TempDir,
}

async fn phone(db: &jemput_hub::storage::HubDb, url: &str, officer_id: &str) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());
    let officer = officer_id.to_string();
    let code = db.with(move |tx, _| service::create_enrol_code(tx, &officer, 1)).unwrap();
    let e = client::enroll(url, &code, "HP uji", &store).await.unwrap();
    let sync = SyncClient::new(url, &e.token, RetryPolicy::default()).unwrap();
    sync.sync(&store, |_| {}).await.unwrap();
    Phone { store, sync, _dir: dir }
}

/// Statements the hub sent for one sync of `p`, which must be one exchange.
async fn counted_sync(p: &Phone) -> u64 {
    let before = statements_sent();
    let out = p.sync.sync(&p.store, |_| {}).await.unwrap();
    assert_eq!(out.rounds, 1, "one exchange");
    statements_sent() - before
}

fn record(p: &Phone, n: u32, seed: u32) {
    let mut s = p.store.lock().unwrap();
    for i in 0..n {
        let nik = format!("357602440590{:04}", seed * 100 + i + 1);
        let draft = jemput_core::test_support::domisili_draft("Siti Aminah", &nik, 1, 1);
        s.record_request(&draft, true).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_of_an_exchange_do_not_grow_with_its_documents() {
    if postgres_url().is_none() {
        return;
    }
    let store = TestDb::fresh(BackendKind::Postgres).expect("postgres");
    let db = store.db.clone();
    setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, app(AppState::new(db.clone()))).into_future());
    let area = Scope { rw: 1, rt: Some(1) };
    let a_officer = db.with(move |tx, _| service::add_officer(tx, "Bu Sri", area)).unwrap().id;
    let b_officer = db.with(move |tx, _| service::add_officer(tx, "Pak Darmo", area)).unwrap().id;
    let a = phone(&db, &url, &a_officer).await;
    let b = phone(&db, &url, &b_officer).await;

    // Phone A uploads n new requests in one exchange; phone B, in the same RT, gets them in one.
    let mut trips = Vec::new();
    for (round, n) in [1u32, 6].into_iter().enumerate() {
        record(&a, n, round as u32);
        let up = counted_sync(&a).await;
        let down = counted_sync(&b).await;
        assert_eq!(
            b.store.lock().unwrap().list_requests(&Default::default(), 0, 100).unwrap().len() as u32,
            [1, 7][round],
            "B holds what A sent"
        );
        eprintln!("{n} dokumen: unggah {up} pernyataan, terima {down} pernyataan");
        trips.push((n, up, down));
    }
    let ((_, up1, down1), (n, up_n, down_n)) = (trips[0], trips[1]);
    assert!(up_n <= up1, "an upload of {n} documents took {up_n} statements, of 1 document {up1}: it grows with the documents");
    assert!(down_n <= down1, "receiving {n} documents took {down_n} statements, 1 document {down1}: it grows with the documents");
    // What it is now (ADR 0005), with a little room: an upload 8 statements in the transaction
    // that prepares the checks and 19 in the write; receiving 12.
    assert!(up_n <= 30 && down_n <= 14, "{up_n} statements for an upload, {down_n} for receiving");
    server.abort();
}
