//! Rotating the hub's data key with the real `jemput-hub` binary (ADR 0015), on SQLite and on
//! PostgreSQL: a hub with a phone's requests, `rotate-key` killed with SIGKILL part-way (after
//! it reported a few batches), the hub serving the phone in that state, `rotate-key` run again
//! to the end; then every document opens under the new key and none under the old one, the
//! old key no longer opens the database, nothing is lost, and the phone still syncs. Also the
//! access request from the command line (`akses --nik`).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use common::{free_port, hub_cmd, last_word, start_serving_with, BIN};
use jemput_core::crypto::{Cipher, MasterKey};
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::storage::HubDb;
use jemput_hub::testing::{postgres_url, BackendKind};

const NIK: &str = "3576024405900001";

fn key_of(path: &std::path::Path) -> MasterKey {
    MasterKey::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Of every stored document (sealed document and sealed full message), how many open under
/// `a` only and under `b` only; panics on one that opens under neither.
fn sealed_under(database: &str, keys: (&MasterKey, Option<&MasterKey>), a: &MasterKey, b: &MasterKey) -> (usize, usize, usize) {
    let db = HubDb::open_keys(database, keys.0, keys.1).expect("open with the keys the database is under");
    let rows = db.read(|tx, _| tx.sealed_docs_after("", 100_000)).unwrap();
    let (ca, cb) = (Cipher::new(a, "hub"), Cipher::new(b, "hub"));
    let (mut only_a, mut only_b) = (0, 0);
    for r in &rows {
        let ctx = format!("hubdoc:{}", r.doc_id);
        let mut parts = vec![(ctx.into_bytes(), r.sealed.clone())];
        if let Some(f) = &r.full_message {
            parts.push((format!("hubfull:{}", r.doc_id).into_bytes(), f.clone()));
        }
        for (ctx, sealed) in parts {
            match (ca.open(&ctx, &sealed).is_ok(), cb.open(&ctx, &sealed).is_ok()) {
                (true, false) => only_a += 1,
                (false, true) => only_b += 1,
                other => panic!("document {} opens under {other:?}", r.doc_id),
            }
        }
    }
    (rows.len(), only_a, only_b)
}

/// Stores a new document through `db` as the engine does (`service::put_doc_from`).
fn stale_put(db: &HubDb) -> Result<(), jemput_hub::error::ServiceError> {
    db.with(|tx, cipher| {
        let actor = jemput_core::document::random_actor();
        let mut doc = jemput_core::document::create(&jemput_core::Kelurahan::demo(), &actor).unwrap();
        let place = jemput_core::sync::hub_side::Placement::everyone(jemput_core::document::DocKind::Kelurahan);
        jemput_hub::service::put_doc_from(tx, cipher, "dokumen-basi", &mut doc, &place)
    })
}

async fn total_requests(url: &str, token: &str) -> u64 {
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/staff/requests?limit=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["total"].as_u64().unwrap_or_else(|| panic!("{page}"))
}

async fn rotation_killed_part_way_then_completed(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("hub.key");
    let _pg;
    let database = match kind {
        BackendKind::Sqlite => dir.path().join("hub.db").to_string_lossy().into_owned(),
        BackendKind::Postgres => {
            let db = jemput_hub::testing::TestDb::fresh(kind).expect("postgres");
            let url = db.location.clone();
            std::fs::write(&key_file, db.key.as_bytes()).unwrap();
            _pg = db;
            url
        }
    };
    let config = dir.path().join("jemput-hub.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "database = {database:?}\nkey_file = {key_file:?}").unwrap();
    drop(f);
    let init = hub_cmd(&config, &["init"]);
    let staff_token = last_word(&init, "sekali): ");
    let officer = hub_cmd(&config, &["officer", "add", "Pak Darmo", "--rw", "1", "--rt", "1"]).trim().to_string();
    let code = last_word(&hub_cmd(&config, &["enroll", &officer]), "Kode pendaftaran: ");

    // A phone records 40 requests and syncs them.
    let port = free_port();
    let mut server = start_serving_with(&config, port, &[("JEMPUT_HUB_DECODE_MEMORY_MB", "0")]).await;
    let url = format!("http://127.0.0.1:{port}");
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());
    let e = client::enroll(&url, &code, "HP Pak Darmo", &store).await.unwrap();
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    sync.sync(&store, |_| {}).await.unwrap();
    let mut receipts = Vec::new();
    for i in 0..40u8 {
        let draft = jemput_core::test_support::domisili_draft(
            &format!("Warga {}{}", char::from(b'A' + i / 26), char::from(b'a' + i % 26)),
            NIK,
            1,
            1,
        );
        receipts.push(store.lock().unwrap().record_request(&draft, true).unwrap().receipt);
    }
    let out = sync.sync(&store, |_| {}).await.unwrap();
    assert_eq!(out.report.confirmed, 40);
    assert_eq!(total_requests(&url, &staff_token).await, 40);
    server.kill().unwrap();
    server.wait().unwrap();

    // The access request from the command line: JSON with every request of the NIK.
    let access: serde_json::Value = serde_json::from_str(&hub_cmd(&config, &["akses", "--nik", NIK])).unwrap();
    assert_eq!(access["requests"].as_array().unwrap().len(), 40);
    assert_eq!(access["requests"][0]["found_in"], serde_json::json!(["Pemohon"]));
    let audit = HubDb::open(&database, &key_of(&key_file))
        .unwrap()
        .read(|tx, _| {
            let f = jemput_hub::storage::AuditFilter { action_prefix: Some("akses_data_pribadi".into()), ..Default::default() };
            tx.audit_query(&f, 0, 1000)
        })
        .unwrap();
    assert_eq!(audit.len(), 41, "one entry per request shown and one summary");
    assert!(audit.iter().all(|e| e.actor == "sistem:cli" && !e.action.contains(NIK)));
    let bad = Command::new(BIN).arg("--config").arg(&config).args(["akses", "--nik", "123"]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("16"), "{}", String::from_utf8_lossy(&bad.stderr));

    // rotate-key, 4 documents a batch with a pause, killed with SIGKILL after its third batch.
    let old = key_of(&key_file);
    // A hub instance left running from before the rotation (holding the old key only).
    let stale = HubDb::open(&database, &old).unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["rotate-key", "--batch", "4", "--jeda-ms", "400"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for n in [4, 8, 12] {
        assert_eq!(lines.next().unwrap().unwrap(), format!("disegel ulang: {n} dokumen"));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let next_file = jemput_hub::rotation::next_key_path(&key_file);
    assert!(next_file.exists(), "the next key waits beside the key file");
    let next = key_of(&next_file);
    assert_eq!(key_of(&key_file).as_bytes(), old.as_bytes(), "the old key is kept until the end");
    // Part-way: some documents under the new key, the rest still under the old one.
    let (docs, under_old, under_new) = sealed_under(&database, (&old, Some(&next)), &old, &next);
    assert_eq!(docs, 42, "40 requests, the profile and the catalog");
    assert!(under_new >= 12 && under_old > 0, "part-way: {under_new} parts under the new key, {under_old} under the old");

    // The stale instance stores nothing any more: it would seal under the key being retired.
    assert!(stale_put(&stale).is_err(), "a stale instance is refused mid-rotation");
    // Without the next key the hub refuses to open rather than half-read the database.
    let refused = HubDb::open(&database, &old).err().expect("the old key alone is refused mid-rotation");
    assert!(refused.to_string().contains("rotate-key"), "{refused}");
    // The hub serves in that state: everything opens, the phone syncs a new request.
    let port = free_port();
    let mut server = start_serving_with(&config, port, &[("JEMPUT_HUB_DECODE_MEMORY_MB", "0")]).await;
    let url = format!("http://127.0.0.1:{port}");
    assert_eq!(total_requests(&url, &staff_token).await, 40);
    let draft = jemput_core::test_support::domisili_draft("Warga Saat Jeda", NIK, 1, 1);
    receipts.push(store.lock().unwrap().record_request(&draft, true).unwrap().receipt);
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    assert_eq!(sync.sync(&store, |_| {}).await.unwrap().report.confirmed, 1);
    server.kill().unwrap();
    server.wait().unwrap();

    // Run again: it continues and finishes.
    let done = hub_cmd(&config, &["rotate-key", "--batch", "4"]);
    assert!(done.contains("dilanjutkan dan selesai"), "{done}");
    assert!(!next_file.exists());
    assert_eq!(key_of(&key_file).as_bytes(), next.as_bytes(), "the new key replaced the old one");
    let (docs, under_old, _) = sealed_under(&database, (&next, None), &old, &next);
    assert_eq!((docs, under_old), (43, 0), "every document under the new key");
    let refused = HubDb::open(&database, &old).err().expect("the old key no longer opens the database");
    assert!(refused.to_string().contains("kunci data hub salah"), "{refused}");
    assert!(stale_put(&stale).is_err(), "and after it");
    drop(stale);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Nothing lost: the office sees every request, the search by NIK works under the new key,
    // and the phone syncs both ways.
    let port = free_port();
    let mut server = start_serving_with(&config, port, &[("JEMPUT_HUB_DECODE_MEMORY_MB", "0")]).await;
    let url = format!("http://127.0.0.1:{port}");
    assert_eq!(total_requests(&url, &staff_token).await, 41);
    let draft = jemput_core::test_support::domisili_draft("Warga Sesudah", NIK, 1, 1);
    receipts.push(store.lock().unwrap().record_request(&draft, true).unwrap().receipt);
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    assert_eq!(sync.sync(&store, |_| {}).await.unwrap().report.confirmed, 1);
    // A new phone of the same RT receives every request (each document opens and is sent).
    let code = last_word(&hub_cmd(&config, &["enroll", &officer]), "Kode pendaftaran: ");
    let fresh = Mutex::new(Store::open(dir.path().join("hp2.db"), &StoreKey::generate()).unwrap());
    let e2 = client::enroll(&url, &code, "HP kedua", &fresh).await.unwrap();
    SyncClient::new(&url, &e2.token, RetryPolicy::default()).unwrap().sync(&fresh, |_| {}).await.unwrap();
    for r in &receipts {
        assert!(fresh.lock().unwrap().request_by_receipt(r).is_ok(), "{r} reached the new phone");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let access: serde_json::Value = serde_json::from_str(&hub_cmd(&config, &["akses", "--nik", NIK])).unwrap();
    assert_eq!(access["requests"].as_array().unwrap().len(), 42, "the access index rebuilt under the new key");
    // What the stale instance was refused, an instance with the current key may do.
    stale_put(&HubDb::open(&database, &next).unwrap()).expect("stored under the current key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_killed_part_way_then_completed_sqlite() {
    rotation_killed_part_way_then_completed(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_killed_part_way_then_completed_postgres() {
    if postgres_url().is_some() {
        rotation_killed_part_way_then_completed(BackendKind::Postgres).await;
    } else {
        assert!(std::env::var("JEMPUT_REQUIRE_POSTGRES").is_err(), "PostgreSQL required");
        println!("DILEWATI key_rotation_killed_part_way_then_completed_postgres");
    }
}
