//! Database round trips of a sync exchange on PostgreSQL (benchmark scenario 9, ADR 0005):
//! each is a wait for the server, some made while the exchange holds the change-log lock, so
//! an exchange makes at most 10, and neither they nor its statements grow with the documents
//! it carries. Counted with `storage::postgres::round_trips` (statements pipelined together
//! count once) and `statements_sent` (`BEGIN` and `COMMIT` included) around real exchanges of
//! phones (the core's store and sync client) with the hub served on loopback. One test in
//! this file: the counters are the process's.

use std::future::IntoFuture;
use std::sync::Mutex;

use jemput_core::permissions::Scope;
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::api::{app, AppState};
use jemput_hub::storage::postgres::{round_trips, statements_sent};
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

/// Round trips and statements of the hub for one sync of `p`, which must be one exchange.
async fn counted_sync(p: &Phone) -> (u64, u64) {
    let (trips, statements) = (round_trips(), statements_sent());
    let out = p.sync.sync(&p.store, |_| {}).await.unwrap();
    assert_eq!(out.rounds, 1, "one exchange");
    (round_trips() - trips, statements_sent() - statements)
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

    // Phone A uploads n new requests in one exchange; phone B, in the same RT, gets them in
    // one. The first round also prepares the statements on the connection.
    let mut counts = Vec::new();
    for (round, n) in [1u32, 1, 6].into_iter().enumerate() {
        record(&a, n, round as u32);
        let up = counted_sync(&a).await;
        let down = counted_sync(&b).await;
        assert_eq!(
            b.store.lock().unwrap().list_requests(&Default::default(), 0, 100).unwrap().len() as u32,
            [1, 2, 8][round],
            "B holds what A sent"
        );
        eprintln!("{n} dokumen: unggah {} perjalanan pulang-pergi ({} pernyataan), terima {} ({})", up.0, up.1, down.0, down.1);
        counts.push((n, up, down));
    }
    let ((_, up1, down1), (n, up_n, down_n)) = (counts[1], counts[2]);
    assert!(
        up_n.0 <= up1.0 && up_n.1 <= up1.1,
        "an upload of {n} documents took {up_n:?} (round trips, statements), of 1 document {up1:?}: it grows with the documents"
    );
    assert!(
        down_n.0 <= down1.0 && down_n.1 <= down1.1,
        "receiving {n} documents took {down_n:?}, 1 document {down1:?}: it grows with the documents"
    );
    // What it is now (ADR 0005): an upload waits 5 times (its checks run inside the write on
    // PostgreSQL), receiving 4. Statements go out together (pipelined).
    assert!(up_n.0 <= 10 && down_n.0 <= 10, "{up_n:?} for an upload, {down_n:?} for receiving: over 10 round trips");
    server.abort();

    // The hub's settings an exchange names ahead (its actor, its key check, its lineage) are
    // one statement, not one each; a setting written in the transaction is read back as written.
    use jemput_hub::storage::Ahead;
    let keys = ["uji_a", "uji_b", "uji_c"];
    db.with(|tx, _| {
        tx.set_meta("uji_a", b"1")?;
        tx.set_meta("uji_b", b"2")
    })
    .unwrap();
    let before = statements_sent();
    let (values, rewritten) = db
        .with(|tx, _| {
            tx.read_ahead(&keys.map(Ahead::Meta))?;
            let values: Vec<Option<Vec<u8>>> = keys.iter().map(|k| tx.meta(k)).collect::<Result<_, _>>()?;
            tx.set_meta("uji_a", b"3")?;
            Ok::<_, jemput_hub::storage::StorageError>((values, tx.meta("uji_a")?))
        })
        .unwrap();
    assert_eq!(values, [Some(b"1".to_vec()), Some(b"2".to_vec()), None]);
    assert_eq!(rewritten, Some(b"3".to_vec()));
    // BEGIN, the three settings, the write, the read after it, COMMIT.
    assert_eq!(statements_sent() - before, 5, "three settings named ahead are read in one statement");
}
