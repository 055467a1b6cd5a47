//! Backups and restores of a hub on both back ends (ADR 0014), with real phones (the core's
//! store and sync client): `jemput-hub backup`/`restore` (SQLite: the online backup API;
//! PostgreSQL: every table in one snapshot, restored into a fresh database; each record sealed
//! under its own key from the register of backup keys, the whole with the data key), and on
//! PostgreSQL also `pg_dump`/`pg_restore` into a fresh database and `mark-restored`. The backup
//! is taken before the latest syncs; after the restore the phone's next sync brings back
//! everything the hub lost, nothing doubled, and the office's decision made after the backup
//! (which no phone had received) is simply gone.

use std::path::{Path, PathBuf};
use std::process::Command;

use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place};
use jemput_core::crypto::MasterKey;
use jemput_core::permissions::Scope;
use jemput_core::request::{Request, Status};
use jemput_core::sync::client::RetryPolicy;
use jemput_hub::backup;
use jemput_hub::storage::{DocFilter, HubDb};
use jemput_tests::harness::BackendKind;
use jemput_tests::harness::{draft, serve, Phone};
use jemput_tests::on_both_backends;
use serde_json::{json, Value};

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        timeout: std::time::Duration::from_secs(20),
    }
}

/// The PostgreSQL client programs (`pg_dump`, `pg_restore`, `psql`): from `JEMPUT_PG_BIN`, or
/// the newest `/usr/lib/postgresql/*/bin`, or the PATH.
fn pg_program(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("JEMPUT_PG_BIN") {
        return Path::new(&dir).join(name);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join(name).exists()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.pop().map(|d| d.join(name)).unwrap_or_else(|| PathBuf::from(name))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// A hub deployment the test can back up, stop and restore: a SQLite file or a PostgreSQL
/// database, its data key, and the server in front of it.
struct Site {
    kind: BackendKind,
    dir: tempfile::TempDir,
    key: MasterKey,
    location: String,
    db: Option<HubDb>,
    task: Option<tokio::task::JoinHandle<()>>,
    url: String,
    pg_admin: Option<String>,
    pg_databases: Vec<String>,
    staff_token: String,
    /// PostgreSQL: back up with `pg_dump` and restore with `pg_restore` + `mark-restored`
    /// instead of the hub's own commands.
    pg_dump: bool,
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(admin) = &self.pg_admin {
            for name in &self.pg_databases {
                let _ = Command::new(pg_program("psql"))
                    .arg(admin)
                    .arg("-qc")
                    .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .output();
            }
        }
    }
}

impl Site {
    async fn start(kind: BackendKind) -> Option<Site> {
        let dir = tempfile::tempdir().unwrap();
        let (location, pg_admin, pg_databases) = match kind {
            BackendKind::Sqlite => (dir.path().join("hub.db").to_string_lossy().into_owned(), None, Vec::new()),
            BackendKind::Postgres => {
                let admin = jemput_hub::testing::postgres_url()?;
                let name = format!("jemput_cadangan_{}", jemput_hub::service::random_secret(10).to_lowercase());
                run(Command::new(pg_program("psql")).arg(&admin).arg("-qc").arg(format!("CREATE DATABASE {name}")));
                (with_database(&admin, &name), Some(admin), vec![name])
            }
        };
        let mut site = Site {
            kind,
            dir,
            key: MasterKey::generate(),
            location,
            db: None,
            task: None,
            url: String::new(),
            pg_admin,
            pg_databases,
            staff_token: String::new(),
            pg_dump: false,
        };
        let db = site.open().await;
        let l = db.clone();
        site.staff_token = tokio::task::spawn_blocking(move || {
            jemput_hub::setup::init(&l, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog())
        })
        .await
        .unwrap()
        .unwrap();
        site.serve(db).await;
        Some(site)
    }

    async fn open(&self) -> HubDb {
        let (location, key) = (self.location.clone(), self.key.clone());
        let keys = self.keys();
        tokio::task::spawn_blocking(move || HubDb::open(&location, &key)).await.unwrap().expect("open hub database").with_backup_keys(keys)
    }

    /// The register of backup keys (beside the key file, were there one).
    fn keys(&self) -> PathBuf {
        jemput_hub::storage::backup_keys::default_path(&self.dir.path().join("hub.key"))
    }

    async fn serve(&mut self, db: HubDb) {
        let (addr, task) = serve(db.clone()).await;
        self.db = Some(db);
        self.task = Some(task);
        self.url = format!("http://{addr}");
    }

    fn db(&self) -> &HubDb {
        self.db.as_ref().unwrap()
    }

    /// A backup taken while the hub serves: `jemput-hub backup`, or `pg_dump -Fc`.
    async fn backup(&self, name: &str) -> PathBuf {
        let file = self.dir.path().join(name);
        if self.pg_dump {
            run(Command::new(pg_program("pg_dump")).arg("-Fc").arg("-f").arg(&file).arg(&self.location));
        } else {
            let (location, key, keys, f) = (self.location.clone(), self.key.clone(), self.keys(), file.clone());
            let r = tokio::task::spawn_blocking(move || backup::backup(&location, &key, &keys, &f, "sistem:uji")).await.unwrap().unwrap();
            assert!(r.bytes > 0 && r.records > 0 && r.mirror.exists());
        }
        file
    }

    /// Stops the hub, restores `file` (SQLite: `jemput-hub restore --timpa` over the database;
    /// PostgreSQL: `pg_restore` into a fresh database, then `mark-restored --hapus-dari` the
    /// old one) and serves again.
    async fn restore(&mut self, file: &Path) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        self.db = None;
        match self.kind {
            BackendKind::Sqlite => {
                let (location, key, keys, f) = (self.location.clone(), self.key.clone(), self.keys(), file.to_path_buf());
                let report = tokio::task::spawn_blocking(move || {
                    // The last connections close as the server's tasks wind down.
                    let mut tries = 0;
                    loop {
                        match backup::restore(&location, &key, &keys, &f, true, None, "sistem:uji") {
                            Err(e) if tries < 50 && e.to_string().contains("sedang dipakai") => {
                                tries += 1;
                                std::thread::sleep(std::time::Duration::from_millis(100));
                            }
                            other => break other,
                        }
                    }
                })
                .await
                .unwrap()
                .expect("restore");
                assert!(report.kept_previous.as_ref().is_some_and(|p| p.exists()), "the replaced database is kept");
            }
            BackendKind::Postgres => {
                let admin = self.pg_admin.clone().unwrap();
                let name = format!("jemput_pulih_{}", jemput_hub::service::random_secret(10).to_lowercase());
                run(Command::new(pg_program("psql")).arg(&admin).arg("-qc").arg(format!("CREATE DATABASE {name}")));
                self.pg_databases.push(name.clone());
                let old = std::mem::replace(&mut self.location, with_database(&admin, &name));
                if self.pg_dump {
                    let previous = HubDb::open(&old, &self.key).unwrap();
                    run(Command::new(pg_program("pg_restore")).arg("--no-owner").arg("-d").arg(&self.location).arg(file));
                    let db = self.open().await;
                    let d = db.clone();
                    tokio::task::spawn_blocking(move || backup::mark_restored(&d, Some(&previous), "sistem:uji")).await.unwrap().unwrap();
                } else {
                    let (location, key, keys, f) = (self.location.clone(), self.key.clone(), self.keys(), file.to_path_buf());
                    let report =
                        tokio::task::spawn_blocking(move || backup::restore(&location, &key, &keys, &f, false, Some(&old), "sistem:uji"))
                            .await
                            .unwrap()
                            .expect("restore");
                    assert!(report.kept_previous.is_none());
                }
            }
        }
        let db = self.open().await;
        self.serve(db).await;
    }

    fn count(&self, kind: &str) -> u64 {
        self.db().with(|tx, _| tx.count_docs(&DocFilter { kind: kind.into(), ..Default::default() })).unwrap()
    }

    fn request(&self, id: &str) -> Request {
        let id = id.to_string();
        self.db()
            .with(move |tx, cipher| -> Result<Request, jemput_hub::error::ServiceError> {
                let doc = jemput_hub::service::load_doc(tx, cipher, &id, false)?.expect("the hub holds the request");
                let mut r: Request = jemput_core::document::read(&doc).unwrap();
                r.mark_received();
                Ok(r)
            })
            .unwrap()
    }
}

async fn staff_post(url: &str, token: &str, path: &str, body: Value) -> u16 {
    reqwest::Client::new().post(format!("{url}/api/v1/staff/{path}")).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
}

on_both_backends! {
    async fn a_hub_restored_to_before_the_latest_syncs_heals_from_phones(kind) {
        let Some(mut site) = Site::start(kind).await else { return };
        let token = site.staff_token.clone();
        let phone = Phone::enrol_at(site.db(), &site.url, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let a = phone.store.lock().unwrap().record_request(&draft(1, 1, 1), true).unwrap();
        let b = phone.store.lock().unwrap().record_request(&draft(2, 1, 1), true).unwrap();
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert_eq!(site.count("request"), 2);

        // The backup, taken while the hub serves.
        let file = site.backup("cadangan").await;

        // After it: the phone records more and edits a record, and syncs; the office decides.
        let c = phone.store.lock().unwrap().record_request(&draft(3, 1, 1), true).unwrap();
        let k = phone
            .store
            .lock()
            .unwrap()
            .record_complaint(&ComplaintDraft {
                category: ComplaintCategory::Pengaduan,
                topic: "Lampu jalan".into(),
                text: "Lampu jalan di depan musala mati sejak seminggu".into(),
                place: Place { rt: 1, rw: 1, description: "Jl. Balongsari gang 3".into() },
                reporter: None,
            })
            .unwrap();
        phone.store.lock().unwrap().set_request_notes(&a.id, "Pemohon minta surat diantar sore hari").unwrap();
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(!out.report.hub_restored);
        assert_eq!((site.count("request"), site.count("complaint")), (3, 1));
        assert_eq!(staff_post(&site.url, &token, &format!("requests/{}/status", b.id), json!({ "status": "diverifikasi" })).await, 200);
        assert_eq!(site.request(&b.id).status(), Status::Diverifikasi);

        // The hub goes back to the backup: what came after is gone from it.
        site.restore(&file).await;
        assert_eq!((site.count("request"), site.count("complaint")), (2, 0), "the restored hub is the backup");
        assert_eq!(site.request(&a.id).notes, "");

        // The phone's next sync heals it.
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(out.report.hub_restored, "the phone noticed the restore");
        assert!(out.report.refused.is_empty(), "{:?}", out.report.refused);
        assert_eq!((site.count("request"), site.count("complaint")), (3, 1), "everything is back, nothing doubled");
        for (id, receipt) in [(&a.id, &a.receipt), (&b.id, &b.receipt), (&c.id, &c.receipt), (&k.id, &k.receipt)] {
            let held = site.db().with(|tx, _| tx.doc_by_receipt(receipt)).unwrap();
            assert_eq!(held.as_deref(), Some(id.as_str()), "one record per receipt code");
        }
        // The phone's edit after the backup is back; its records match the hub's.
        for id in [&a.id, &b.id, &c.id] {
            let on_phone = phone.store.lock().unwrap().request(id).unwrap();
            assert_eq!(site.request(id), on_phone, "the hub's copy equals the phone's");
        }
        assert_eq!(site.request(&a.id).notes, "Pemohon minta surat diantar sore hari");
        // The office's decision after the backup reached no phone: it is simply absent.
        assert_eq!(site.request(&b.id).status(), Status::Terkirim);
        assert_eq!(phone.store.lock().unwrap().request(&b.id).unwrap().status(), Status::Terkirim);
        let health = phone.store.lock().unwrap().sync_health().unwrap();
        assert_eq!((health.unsent_requests, health.unsent_complaints, health.refused), (0, 0, 0));

        // The office decides again and the decision reaches the phone; another sync is idle.
        assert_eq!(staff_post(&site.url, &token, &format!("requests/{}/status", b.id), json!({ "status": "diverifikasi" })).await, 200);
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(!out.report.hub_restored);
        assert_eq!(out.report.status_changes.iter().map(|n| (n.id.clone(), n.status)).collect::<Vec<_>>(), vec![(b.id.clone(), Status::Diverifikasi)]);
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert_eq!((out.rounds, out.report.confirmed, out.report.received), (1, 0, 0), "idle after healing");
        // A phone enrolled after the restore syncs as usual.
        let other = Phone::enrol_at(site.db(), &site.url, "Bu Sri", Scope { rw: 1, rt: None }).await;
        other.client(&site.url, quick()).sync(&other.store, |_| {}).await.unwrap();
        assert_eq!(other.store.lock().unwrap().request(&c.id).unwrap().notes, "");
        assert_eq!(other.store.lock().unwrap().request(&a.id).unwrap().notes, "Pemohon minta surat diantar sore hari");
    }
}

on_both_backends! {
    async fn a_lost_office_decision_a_phone_received_is_refused_not_forged_back(kind) {
        // The limit ADR 0014 names: the hub cannot tell its own lost change from one a device
        // made up under the hub's actor, so it takes none back from a phone. On PostgreSQL this
        // one goes through pg_dump, pg_restore and mark-restored (the path ADR 0014 keeps for
        // operators who back up the database server itself).
        let Some(mut site) = Site::start(kind).await else { return };
        site.pg_dump = kind == BackendKind::Postgres;
        let token = site.staff_token.clone();
        let phone = Phone::enrol_at(site.db(), &site.url, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let a = phone.store.lock().unwrap().record_request(&draft(1, 1, 1), true).unwrap();
        let b = phone.store.lock().unwrap().record_request(&draft(2, 1, 1), true).unwrap();
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        let file = site.backup("cadangan").await;
        assert_eq!(staff_post(&site.url, &token, &format!("requests/{}/status", a.id), json!({ "status": "diverifikasi" })).await, 200);
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert_eq!(phone.store.lock().unwrap().request(&a.id).unwrap().status(), Status::Diverifikasi);

        site.restore(&file).await;
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(out.report.hub_restored);
        let refused: Vec<(String, String)> = out.report.refused.iter().map(|r| (r.doc_id.clone(), r.code.clone())).collect();
        assert_eq!(refused, vec![(a.id.clone(), "aktor_tidak_dikenal".to_string())]);
        assert_eq!(site.request(&a.id).status(), Status::Terkirim, "the decision is not taken back from a phone");
        assert_eq!(site.request(&b.id), phone.store.lock().unwrap().request(&b.id).unwrap(), "the other record is untouched");
        assert_eq!(site.count("request"), 2);
        // Staff make the decision again; it reaches the phone, whose other syncs go on.
        assert_eq!(staff_post(&site.url, &token, &format!("requests/{}/status", a.id), json!({ "status": "diverifikasi" })).await, 200);
        assert_eq!(staff_post(&site.url, &token, &format!("requests/{}/status", b.id), json!({ "status": "diverifikasi" })).await, 200);
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(out.report.status_changes.iter().any(|n| n.id == b.id && n.status == Status::Diverifikasi), "{:?}", out.report);
        assert_eq!(phone.store.lock().unwrap().request(&a.id).unwrap().status(), Status::Diverifikasi);
        // That record stays marked refused on this phone: it still holds the lost change.
        let refusal = phone.store.lock().unwrap().sync_refusal(&a.id).unwrap().map(|r| r.code);
        assert_eq!(refusal.as_deref(), Some("aktor_tidak_dikenal"));
    }
}

on_both_backends! {
    async fn erasures_made_after_the_backup_survive_a_restore(kind) {
        // ADR 0013 + 0014: a restore must not bring erased personal data back, neither from the
        // backup (a record it holds whole) nor from a phone that sends everything again.
        let Some(mut site) = Site::start(kind).await else { return };
        let token = site.staff_token.clone();
        let phone = Phone::enrol_at(site.db(), &site.url, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let (da, dc, dk) = (draft(1, 1, 1), draft(3, 1, 1), draft(4, 1, 1));
        let a = phone.store.lock().unwrap().record_request(&da, true).unwrap();
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        let file = site.backup("cadangan").await;
        // After the backup: two more records reach the hub; then the office erases the one the
        // backup holds and one it does not, and the phone does not sync again before the restore.
        let c = phone.store.lock().unwrap().record_request(&dc, true).unwrap();
        let k = phone.store.lock().unwrap().record_request(&dk, true).unwrap();
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        for id in [&a.id, &c.id] {
            let status = staff_post(&site.url, &token, &format!("requests/{id}/erase"), json!({ "alasan": "permintaan warga" })).await;
            assert_eq!(status, 200);
        }

        site.restore(&file).await;
        // The restored hub: the backup's copy of `a` is erased again (register entry kept, no
        // personal data), `c` (not in the backup) is a tombstone.
        for id in [&a.id, &c.id] {
            let id = id.clone();
            let e = site.db().with(move |tx, _| tx.erased(&id)).unwrap();
            assert_eq!(e.map(|e| e.reason).as_deref(), Some("permintaan warga"));
        }
        let kept = serde_json::to_string(&site.request(&a.id)).unwrap();
        assert!(!kept.contains(&da.applicant.nik) && !kept.contains(&da.applicant.name), "the restore brought the erased data back: {kept}");
        assert!(kept.contains(&a.receipt.to_string()), "the letter register entry remains");
        assert_eq!(site.count("request"), 1, "only a's register entry: c is not in the backup, k came after it");

        // The phone notices the restore and sends everything again: `k` is taken, `a` and `c`
        // are refused as erased and deleted from the phone.
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(out.report.hub_restored);
        assert_eq!(site.count("request"), 2, "a's register entry and k");
        let again = serde_json::to_string(&site.request(&a.id)).unwrap();
        assert!(!again.contains(&da.applicant.nik), "a phone brought the erased data back");
        let c_id = c.id.clone();
        assert!(site.db().with(move |tx, _| tx.sealed_doc(&c_id, false)).unwrap().is_none(), "c's data came back from the phone");
        assert_eq!(site.request(&k.id).applicant.nik, dk.applicant.nik, "the record recorded after the backup is back");
        let s = phone.store.lock().unwrap();
        assert!(s.request(&c.id).is_err(), "the phone still holds the erased record");
        let on_phone = s.request(&a.id).map(|r| serde_json::to_string(&r).unwrap()).unwrap_or_default();
        assert!(!on_phone.contains(&da.applicant.nik), "the phone still holds the erased data");
    }
}

on_both_backends! {
    async fn a_hub_whose_disk_is_lost_comes_back_from_the_backup_and_its_register_copy(kind) {
        // Issue 14: a backup made before an erasure must not bring the erased data back, even
        // when everything on the hub's disk is gone (the database, the register of backup keys
        // and the erasure list with them): the copy of the register written beside the backup
        // no longer holds the erased record's key, and keeps the erasure.
        let Some(mut site) = Site::start(kind).await else { return };
        let token = site.staff_token.clone();
        let phone = Phone::enrol_at(site.db(), &site.url, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let (da, db_) = (draft(1, 1, 1), draft(2, 1, 1));
        let a = phone.store.lock().unwrap().record_request(&da, true).unwrap();
        let b = phone.store.lock().unwrap().record_request(&db_, true).unwrap();
        phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        // The backup goes to a removable disk, which stays connected.
        let usb = site.dir.path().join("usb");
        std::fs::create_dir(&usb).unwrap();
        let file = site.backup("usb/cadangan").await;
        let status = staff_post(&site.url, &token, &format!("requests/{}/erase", a.id), json!({ "alasan": "permintaan warga" })).await;
        assert_eq!(status, 200);
        let mirror = std::fs::read_dir(&usb).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().contains("kunci-cadangan-")).unwrap();
        let register_id = jemput_hub::storage::backup_keys::BackupKeys::open_existing(&mirror).unwrap().id().to_string();

        // The hub's disk is lost: database, register, all. (PostgreSQL: a new, empty database.)
        if let Some(t) = site.task.take() {
            t.abort();
            let _ = t.await;
        }
        site.db = None;
        std::fs::remove_file(site.keys()).unwrap();
        match kind {
            BackendKind::Sqlite => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                for extra in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{extra}", site.location));
                }
            }
            BackendKind::Postgres => {
                let admin = site.pg_admin.clone().unwrap();
                let name = format!("jemput_baru_{}", jemput_hub::service::random_secret(10).to_lowercase());
                run(Command::new(pg_program("psql")).arg(&admin).arg("-qc").arg(format!("CREATE DATABASE {name}")));
                site.pg_databases.push(name.clone());
                site.location = with_database(&admin, &name);
            }
        }
        let (location, key, keys, f) = (site.location.clone(), site.key.clone(), site.keys(), file.clone());
        let report = tokio::task::spawn_blocking(move || backup::restore(&location, &key, &keys, &f, false, None, "sistem:uji"))
            .await
            .unwrap()
            .expect("restore from the backup and the register copy beside it");
        assert_eq!(report.erasures_carried, 1);
        // The hub has its register again, from the copy.
        let again = jemput_hub::storage::backup_keys::BackupKeys::open_existing(&site.keys()).unwrap();
        assert_eq!(again.id(), register_id);
        assert!(again.key(&a.id).unwrap().is_none() && again.key(&b.id).unwrap().is_some());
        drop(again);
        let db = site.open().await;
        site.serve(db).await;
        let kept = site.request(&a.id);
        assert!(kept.applicant.nik.is_empty() && kept.applicant.name.is_empty(), "the erased data came back");
        assert_eq!(kept.receipt, a.receipt, "the letter register entry remains");
        let id = a.id.clone();
        let e = site.db().with(move |tx, _| tx.erased(&id)).unwrap();
        assert_eq!(e.map(|e| e.reason).as_deref(), Some("permintaan warga"), "the erasure as the register kept it");
        assert_eq!(site.request(&b.id).applicant.nik, db_.applicant.nik, "the other record is whole");

        // The phone had not synced since the erasure: it notices the restore, sends everything
        // again, is refused the erased record and deletes it; the other one is confirmed.
        let out = phone.client(&site.url, quick()).sync(&phone.store, |_| {}).await.unwrap();
        assert!(out.report.hub_restored);
        assert!(out.report.refused.iter().any(|r| r.doc_id == a.id && r.code == "data_dihapus"), "{:?}", out.report);
        assert!(phone.store.lock().unwrap().request(&a.id).is_err(), "the phone deleted its copy");
        assert_eq!(site.count("request"), 2);
        let kept = serde_json::to_string(&site.request(&a.id)).unwrap();
        assert!(!kept.contains(&da.applicant.nik), "the phone brought the erased data back");

        // Without the register (or its copy) the backup is refused, and says why.
        std::fs::remove_file(&mirror).unwrap();
        let moved = site.dir.path().join("cadangan-lain");
        std::fs::rename(site.keys(), &moved).unwrap();
        let (key, keys, f) = (site.key.clone(), site.keys(), file.clone());
        let target = site.dir.path().join("coba.db").to_string_lossy().into_owned();
        let err = tokio::task::spawn_blocking(move || backup::restore(&target, &key, &keys, &f, false, None, "sistem:uji"))
            .await
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("register kunci cadangan") && err.contains(&register_id), "{err}");
    }
}
