//! `jemput-hub backup`, `restore` and `audit-export` as an operator runs them (ADR 0014), on
//! the real binary: a backup taken while `serve` runs and a phone syncs, sealed (nothing of the
//! database readable in it); a restore refused while the hub runs, without `--timpa`, and with
//! another key; then done, the old database kept beside it, and the hub serving the restored
//! data. On PostgreSQL: a backup of a serving hub and a restore into a new, empty database.

mod common;

use std::io::Write;
use std::process::{Command, Output};
use std::sync::Mutex;

use common::{free_port, hub_cmd, last_word, start_serving, BIN};
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};

fn hub(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--config").arg(config).args(args).env("RUST_LOG", "warn").output().expect("run jemput-hub")
}

fn refused(config: &std::path::Path, args: &[&str]) -> String {
    let out = hub(config, args);
    assert!(!out.status.success(), "jemput-hub {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn write_config(path: &std::path::Path, database: &str, key: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "database = {database:?}\nkey_file = {key:?}").unwrap();
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_and_restore_only_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("hub.db");
    let config = dir.path().join("jemput-hub.toml");
    write_config(&config, db_path.to_str().unwrap(), &dir.path().join("hub.key"));
    let init = hub_cmd(&config, &["init"]);
    let staff_token = last_word(&init, "sekali): ");
    let officer = hub_cmd(&config, &["officer", "add", "Pak Darmo Sutrisno", "--rw", "1", "--rt", "1"]).trim().to_string();
    let code = last_word(&hub_cmd(&config, &["enroll", &officer]), "Kode pendaftaran: ");

    let port = free_port();
    let mut server = start_serving(&config, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap());
    let e = client::enroll(&url, &code, "HP Pak Darmo", &store).await.unwrap();
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    let first = store
        .lock()
        .unwrap()
        .record_request(&jemput_core::test_support::domisili_draft("Siti Aminah", "3576024405900001", 1, 1), true)
        .unwrap();
    sync.sync(&store, |_| {}).await.unwrap();

    // A backup while the hub serves (and a phone syncs meanwhile).
    let backup = dir.path().join("cadangan-1.jemput");
    let second = store
        .lock()
        .unwrap()
        .record_request(&jemput_core::test_support::domisili_draft("Budi Santoso", "3576021505900002", 1, 1), true)
        .unwrap();
    let (made, synced) = tokio::join!(
        tokio::task::spawn_blocking({
            let (config, backup) = (config.clone(), backup.clone());
            move || hub_cmd(&config, &["backup", backup.to_str().unwrap()])
        }),
        sync.sync(&store, |_| {})
    );
    let made = made.unwrap();
    synced.unwrap();
    assert!(made.contains("Cadangan dibuat") && made.contains("Simpan berkas kunci"), "{made}");
    // The database holds the officer's name and the receipt codes in clear; the backup nothing.
    let sealed = std::fs::read(&backup).unwrap();
    let plain_db = {
        let copy = dir.path().join("salinan.db");
        let c = rusqlite::Connection::open(&db_path).unwrap();
        c.execute("VACUUM INTO ?1", [copy.to_str().unwrap()]).unwrap();
        std::fs::read(&copy).unwrap()
    };
    for needle in [b"Pak Darmo Sutrisno".as_slice(), first.receipt.as_bytes()] {
        assert!(contains(&plain_db, needle), "the check looks for something the database holds");
        assert!(!contains(&sealed, needle), "the backup reveals nothing");
    }
    assert!(sealed.starts_with(b"JEMPUT-CADANGAN\n"));
    // Another backup over the same file name is refused (nothing is overwritten).
    assert!(refused(&config, &["backup", backup.to_str().unwrap()]).contains("sudah ada"));

    // A restore while the hub runs is refused, with what to do.
    let err = refused(&config, &["restore", backup.to_str().unwrap(), "--timpa"]);
    assert!(err.contains("sedang dipakai") && err.contains("hentikan dulu"), "{err}");
    server.kill().unwrap();
    server.wait().unwrap();
    // --hapus-dari is PostgreSQL's: refused on SQLite, which carries the erasures by itself.
    let err = refused(&config, &["restore", backup.to_str().unwrap(), "--timpa", "--hapus-dari", "lama.db"]);
    assert!(err.contains("hanya untuk PostgreSQL"), "{err}");
    // Without --timpa, refused, saying what a restore replaces.
    let err = refused(&config, &["restore", backup.to_str().unwrap()]);
    assert!(err.contains("--timpa") && err.contains("sudah ada"), "{err}");
    // With another key: refused as such, and the database untouched.
    let other = dir.path().join("lain.toml");
    std::fs::write(dir.path().join("lain.key"), [7u8; 32]).unwrap();
    write_config(&other, db_path.to_str().unwrap(), &dir.path().join("lain.key"));
    let err = refused(&other, &["restore", backup.to_str().unwrap(), "--timpa"]);
    assert!(err.contains("kunci data tidak cocok"), "{err}");
    // A missing key file is not created by a restore.
    let missing = dir.path().join("tanpa-kunci.toml");
    write_config(&missing, db_path.to_str().unwrap(), &dir.path().join("tidak-ada.key"));
    assert!(refused(&missing, &["restore", backup.to_str().unwrap(), "--timpa"]).contains("berkas kunci"));
    assert!(!dir.path().join("tidak-ada.key").exists());

    let out = hub_cmd(&config, &["restore", backup.to_str().unwrap(), "--timpa"]);
    assert!(out.contains("dipulihkan") && out.contains("sebelum-pemulihan"), "{out}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("hub.db.sebelum-pemulihan-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept");

    // The restored hub serves; the phone's next sync brings back whatever the backup missed.
    let port = free_port();
    let mut server = start_serving(&config, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).unwrap();
    sync.sync(&store, |_| {}).await.unwrap();
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/staff/requests"))
        .bearer_auth(&staff_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2, "{page}");
    let receipts: Vec<&str> = page["items"].as_array().unwrap().iter().filter_map(|i| i["receipt"].as_str()).collect();
    assert!(receipts.contains(&first.receipt.as_str()) && receipts.contains(&second.receipt.as_str()));
    server.kill().unwrap();
    server.wait().unwrap();

    // The audit export of today shows the restore and the reads, and the export is audited.
    let today = jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms()).to_string();
    let csv = hub_cmd(&config, &["audit-export", "--from", &today, "--to", &today]);
    assert!(csv.starts_with("\u{feff}waktu,waktu_ms,pelaku,nama_pelaku,tindakan,dokumen,tanda_terima\r\n"), "{csv}");
    assert!(csv.contains("sistem:cli,,dipulihkan_dari_cadangan"), "{csv}");
    assert!(csv.lines().any(|l| l.contains("lihat_daftar_permohonan")), "{csv}");
    let json = hub_cmd(&config, &["audit-export", "--from", &today, "--to", &today, "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        rows.as_array().unwrap().iter().any(|r| r["tindakan"].as_str().is_some_and(|a| a.starts_with("ekspor_audit:"))),
        "the first export was audited"
    );
    let err = refused(&config, &["audit-export", "--from", "2026-01-01", "--to", "2026-12-31"]);
    assert!(err.contains("92 hari"), "{err}");
}

/// Empty PostgreSQL databases on the test server, dropped at the end.
struct PgDatabases {
    admin: String,
    names: Vec<String>,
}

impl PgDatabases {
    fn create(admin: &str, n: usize) -> (PgDatabases, Vec<String>) {
        let names: Vec<String> = (0..n).map(|_| format!("jemput_cli_{}", jemput_hub::service::random_secret(10).to_lowercase())).collect();
        let (a, ns) = (admin.to_string(), names.clone());
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&a, postgres::NoTls).unwrap();
            for n in ns {
                c.batch_execute(&format!("CREATE DATABASE {n}")).unwrap();
            }
        })
        .join()
        .unwrap();
        let urls = names
            .iter()
            .map(|n| {
                let mut u = url::Url::parse(admin).unwrap();
                u.set_path(&format!("/{n}"));
                u.to_string()
            })
            .collect();
        (PgDatabases { admin: admin.to_string(), names }, urls)
    }
}

impl Drop for PgDatabases {
    fn drop(&mut self) {
        let (a, ns) = (self.admin.clone(), std::mem::take(&mut self.names));
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&a, postgres::NoTls) {
                for n in ns {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"));
                }
            }
        })
        .join();
    }
}

#[test]
fn a_postgres_hub_is_backed_up_and_restored_into_a_new_database_by_the_commands() {
    let Some(admin) = jemput_hub::testing::postgres_url() else { return };
    let (_guard, urls) = PgDatabases::create(&admin, 2);
    let dir = tempfile::tempdir().unwrap();
    let (config, restored) = (dir.path().join("jemput-hub.toml"), dir.path().join("pulih.toml"));
    let key = dir.path().join("hub.key");
    write_config(&config, &urls[0], &key);
    write_config(&restored, &urls[1], &key);
    hub_cmd(&config, &["init"]);
    hub_cmd(&config, &["officer", "add", "Bu Ratna Kusuma", "--rw", "2"]);
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let backup = usb.join("cadangan.jemput");
    let made = hub_cmd(&config, &["backup", backup.to_str().unwrap()]);
    assert!(made.contains("Cadangan dibuat") && made.contains("Register kunci cadangan"), "{made}");
    assert!(!contains(&std::fs::read(&backup).unwrap(), b"Bu Ratna Kusuma"), "the backup reveals nothing");
    assert!(dir.path().join("hub.key.kunci-cadangan").exists(), "the register beside the key file");
    assert_eq!(std::fs::read_dir(&usb).unwrap().count(), 2, "the backup and the copy of the register");
    // Into the new, empty database; the old one gives its erasures.
    let out = hub_cmd(&restored, &["restore", backup.to_str().unwrap(), "--hapus-dari", &urls[0]]);
    assert!(out.contains("dipulihkan"), "{out}");
    let officers = hub_cmd(&restored, &["officer", "list"]);
    assert!(officers.contains("Bu Ratna Kusuma"), "{officers}");
    // Not over a database that holds a hub.
    let err = refused(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(err.contains("basis data PostgreSQL baru"), "{err}");
}
