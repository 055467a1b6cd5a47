//! The `jemput-hub` binary as an operator runs it: set up from a configuration file, officers
//! and enrolment codes from the CLI, `serve`, a phone syncing, and the hub killed with SIGKILL
//! right after it answered: the acknowledged request is still there when it comes back (on
//! SQLite and on PostgreSQL). And HTTPS served by the hub itself with rustls.

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{free_port, hub_cmd, last_word, start_serving, BIN};
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::testing::{postgres_url, BackendKind};

fn draft() -> jemput_core::RequestDraft {
    jemput_core::test_support::domisili_draft("Siti Aminah", "3576024405900001", 1, 1)
}

async fn kill_after_acknowledgement(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let _pg;
    let database = match kind {
        BackendKind::Sqlite => dir.path().join("hub.db").to_string_lossy().into_owned(),
        BackendKind::Postgres => {
            let db = jemput_hub::testing::TestDb::fresh(kind).expect("postgres");
            let url = db.location.clone();
            std::fs::write(dir.path().join("hub.key"), db.key.as_bytes()).unwrap();
            _pg = db;
            url
        }
    };
    let config = dir.path().join("jemput-hub.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "database = {database:?}\nkey_file = {:?}", dir.path().join("hub.key")).unwrap();
    drop(f);
    let init = hub_cmd(&config, &["init"]);
    let staff_token = last_word(&init, "sekali): ");
    let officer = hub_cmd(&config, &["officer", "add", "Pak Darmo", "--rw", "1", "--rt", "1"]).trim().to_string();
    let enrol = hub_cmd(&config, &["enroll", &officer]);
    let code = last_word(&enrol, "Kode pendaftaran: ");
    assert!(enrol.contains("QR: jemput://enroll?hub="));

    let port = free_port();
    let mut server = start_serving(&config, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());
    let e = client::enroll(&url, &code, "HP Pak Darmo", &store).await.unwrap();
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    sync.sync(&store, |_| {}).await.unwrap();
    let rec = store.lock().unwrap().record_request(&draft(), true).unwrap();
    let out = sync.sync(&store, |_| {}).await.unwrap();
    assert_eq!(out.report.confirmed, 1);
    // Killed without warning right after answering.
    server.kill().unwrap();
    server.wait().unwrap();

    let port = free_port();
    let mut server = start_serving(&config, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/staff/requests"))
        .bearer_auth(&staff_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["receipt"], rec.receipt.as_str());
    assert_eq!(page["items"][0]["status"], "terkirim");
    // The office commands over the staff API see it too.
    let out = Command::new(BIN)
        .args(["office", "--hub", &url, "requests", "--status", "terkirim"])
        .env("JEMPUT_STAFF_TOKEN", &staff_token)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && listing.starts_with("1 permohonan") && listing.contains(&rec.receipt), "{listing}");
    let out = Command::new(BIN).args(["office", "--hub", &url, "--token", "salah", "requests"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("staf_belum_masuk"));
    // The phone has nothing to resend.
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    let out = sync.sync(&store, |_| {}).await.unwrap();
    assert_eq!((out.report.confirmed, out.rounds), (0, 1));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_request_survives_the_hub_being_killed_sqlite() {
    kill_after_acknowledgement(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_request_survives_the_hub_being_killed_postgres() {
    if postgres_url().is_some() {
        kill_after_acknowledgement(BackendKind::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_serves_https_itself_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let files = jemput_hub::config::TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    std::fs::write(&files.cert, ck.cert.pem()).unwrap();
    std::fs::write(&files.key, ck.signing_key.serialize_pem()).unwrap();
    let db = jemput_hub::testing::TestDb::fresh(BackendKind::Sqlite).unwrap();
    let tls = jemput_hub::serve::tls_config(&files).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = jemput_hub::api::app(jemput_hub::api::AppState::new(db.db.clone()));
    let server = tokio::spawn(jemput_hub::serve::serve(listener, app, Some(tls), async move {
        let _ = stopped.await;
    }));
    let trusted =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(ck.cert.pem().as_bytes()).unwrap()).build().unwrap();
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = trusted.get(format!("https://localhost:{port}/healthz")).send().await {
            assert_eq!(r.text().await.unwrap(), "ok");
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "HTTPS answered");
    // Plain HTTP to the TLS port gets nothing; a client that does not trust the certificate
    // refuses it.
    assert!(!reqwest::get(format!("http://localhost:{port}/healthz")).await.map(|r| r.status().is_success()).unwrap_or(false));
    assert!(reqwest::get(format!("https://localhost:{port}/healthz")).await.is_err());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server).await.expect("stops").unwrap().unwrap();
}

#[test]
fn a_worker_process_checks_a_real_upload_like_the_hub_and_its_death_only_refuses_the_document() {
    use jemput_hub::engine::worker::{Isolation, Job, Reference};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap();
    store.set_enrolment("petugas-1", "K7QM").unwrap();
    store.record_request(&draft(), true).unwrap();
    let req = store.prepare_sync(1 << 20).unwrap();
    let actor: Vec<u8> = jemput_core::sync::protocol::actor_from_hex(&store.actor_hex()).unwrap().to_bytes().to_vec();
    let job = Job {
        current: None,
        known: vec![],
        device_id: store.identity().unwrap().device_id,
        officer_id: "petugas-1".into(),
        scope: jemput_core::permissions::Scope { rw: 1, rt: Some(1) },
        actors: vec![actor],
        hub_actor: jemput_core::document::random_actor().to_bytes().to_vec(),
        message: req.docs[0].message.clone(),
        doc_id: req.docs[0].doc_id.clone(),
        prefixes: vec!["K7QM".into()],
        now_ms: jemput_core::time_util::now_ms(),
        reference: Default::default(),
    };
    let here = Isolation::InProcess.run(&job);
    assert!(here.refusal.is_none() && here.updated.is_some(), "{here:?}");
    // The same job in a worker process gives the same outcome.
    let workers = Isolation::workers(BIN.into(), 512);
    assert_eq!(workers.run(&job), here);
    assert_eq!(workers.run(&job), here, "a worker serves job after job");
    // The catalog and profile reach a worker apart from the jobs, again whenever they change:
    // under a catalog without the request's service it is refused, in a worker as in
    // process, and the next job is checked under its own catalog again.
    let mut narrow = jemput_core::Catalog::default_catalog();
    narrow.services.retain(|s| s.code != draft().service_code);
    let other = Job { reference: Reference { catalog: Some(std::sync::Arc::new(narrow)), kelurahan: None }, ..job.clone() };
    let refused_here = Isolation::InProcess.run(&other);
    assert!(refused_here.refusal.is_some(), "{refused_here:?}");
    assert_eq!(workers.run(&other), refused_here);
    assert_eq!(workers.run(&job), here);
    // A worker that dies (here: 16 MiB of address space is too little to even start) costs
    // only that document, refused with a clear code.
    let starved = Isolation::workers(BIN.into(), 16).run(&job);
    assert_eq!(starved.refusal.map(|r| r.0).as_deref(), Some("dokumen_tidak_dapat_diproses"));
}

fn hub_fails(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("--config").arg(config).args(args).env("RUST_LOG", "warn").output().expect("run jemput-hub");
    assert!(!out.status.success(), "jemput-hub {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Erasure and the retention policy from the command line, against a serving hub and a phone
/// syncing over HTTP with the real client (ADR 0013).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_erases_a_record_everywhere_and_sets_the_retention_policy() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jemput-hub.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "database = {:?}\nkey_file = {:?}", dir.path().join("hub.db"), dir.path().join("hub.key")).unwrap();
    drop(f);
    hub_cmd(&config, &["init"]);
    let shown = hub_cmd(&config, &["retention", "show"]);
    assert!(
        shown.contains("30 hari di HP petugas, 730 hari di hub") && shown.contains("30 hari di HP petugas, 365 hari di hub"),
        "{shown}"
    );
    let refused = hub_fails(
        &config,
        &["retention", "set", "--permohonan-hp", "60", "--pengaduan-hp", "30", "--permohonan-hub", "40", "--pengaduan-hub", "365"],
    );
    assert!(refused.contains("tidak boleh lebih pendek"), "{refused}");
    hub_cmd(
        &config,
        &["retention", "set", "--permohonan-hp", "14", "--pengaduan-hp", "30", "--permohonan-hub", "400", "--pengaduan-hub", "365"],
    );
    assert!(hub_cmd(&config, &["retention", "show"]).contains("14 hari di HP petugas, 400 hari di hub"));
    let staff_id = hub_cmd(&config, &["staff", "list"]).split_whitespace().next().unwrap().to_string();
    let officer = hub_cmd(&config, &["officer", "add", "Pak Darmo", "--rw", "1", "--rt", "1"]).trim().to_string();
    let code = last_word(&hub_cmd(&config, &["enroll", &officer]), "Kode pendaftaran: ");

    let port = free_port();
    let mut server = start_serving(&config, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());
    let e = client::enroll(&url, &code, "HP Pak Darmo", &store).await.unwrap();
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    sync.sync(&store, |_| {}).await.unwrap();
    assert_eq!(store.lock().unwrap().retention().unwrap().request_days_on_phone, 14, "the policy reached the phone");
    let rec = store.lock().unwrap().record_request(&draft(), true).unwrap();
    assert_eq!(sync.sync(&store, |_| {}).await.unwrap().report.confirmed, 1);

    let no_reason = hub_fails(&config, &["erase", &rec.id, "--alasan", " ", "--staf", &staff_id]);
    assert!(no_reason.contains("Alasan penghapusan wajib diisi"), "{no_reason}");
    assert!(hub_fails(&config, &["erase", &rec.id, "--alasan", "permintaan warga", "--staf", "tidak-ada"]).contains("akun staf"));
    let out = hub_cmd(&config, &["erase", &rec.id, "--alasan", "permintaan warga", "--staf", &staff_id]);
    assert!(out.contains("dihapus"), "{out}");
    assert!(hub_fails(&config, &["erase", &rec.id, "--alasan", "lagi", "--staf", &staff_id]).contains("sudah dihapus"));
    // The phone syncs over HTTP and loses its copy.
    let out = sync.sync(&store, |_| {}).await.unwrap();
    assert!(out.report.refused.iter().any(|r| r.doc_id == rec.id && r.code == "data_dihapus"), "{:?}", out.report);
    assert!(store.lock().unwrap().request(&rec.id).is_err());
    assert!(hub_cmd(&config, &["retention", "run"]).starts_with("0 catatan"));
    server.kill().unwrap();
    server.wait().unwrap();
}
