//! Test support shared by the hub's acceptance suite and the cross-component tests: a fresh,
//! empty hub database on either back end. PostgreSQL tests use the server named by
//! `JEMPUT_TEST_POSTGRES_URL` (scripts/test.sh starts a throwaway one), each test in a database
//! of its own that is dropped afterwards. Without that variable the PostgreSQL cases are
//! skipped with a notice, unless `JEMPUT_REQUIRE_POSTGRES=1` (CI), where that is a failure.

use std::sync::Arc;

use jemput_core::crypto::MasterKey;

use crate::error::ServiceError;
use crate::storage::HubDb;
use crate::storage::{postgres::PgBackend, sqlite::SqliteBackend, Backend};

/// Which back end a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite in a temporary folder.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

fn backup_keys_in(dir: &std::path::Path) -> std::path::PathBuf {
    crate::storage::backup_keys::default_path(&dir.join("hub.key"))
}

/// A fresh hub database; dropping it removes it.
pub struct TestDb {
    /// The database.
    pub db: HubDb,
    /// Its location (SQLite path or PostgreSQL URL), to open a second handle as another hub
    /// instance would.
    pub location: String,
    /// The data key.
    pub key: MasterKey,
    /// A temporary folder for files.
    pub dir: tempfile::TempDir,
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.drop_pg.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = postgres::Client::connect(&admin_url, postgres::NoTls) {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            })
            .join();
        }
    }
}

/// PostgreSQL cases skipped so far in this test binary.
static SKIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many PostgreSQL cases this test binary skipped so far (each printed as `DILEWATI`).
pub fn skipped_postgres_cases() -> usize {
    SKIPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs a test body once per back end, as two tests `NAME::sqlite` and `NAME::postgres`; the
/// PostgreSQL one is skipped, counted and printed (`DILEWATI`) where no test server is
/// configured, and fails when `JEMPUT_REQUIRE_POSTGRES=1`.
///
/// ```ignore
/// on_both_backends! {
///     async fn officers_are_listed(kind) { let db = TestDb::fresh(kind).unwrap(); /* … */ }
/// }
/// ```
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$m:meta])* async fn $name:ident($kind:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn case($kind: $crate::testing::BackendKind) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$m])*
            async fn sqlite() {
                case($crate::testing::BackendKind::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$m])*
            async fn postgres() {
                if $crate::testing::postgres_url().is_some() {
                    case($crate::testing::BackendKind::Postgres).await
                }
            }
        }
    };
}

/// The test PostgreSQL server's URL, or `None` (with a notice) when the PostgreSQL cases are
/// to be skipped. Panics when PostgreSQL is required but not configured.
pub fn postgres_url() -> Option<String> {
    match std::env::var("JEMPUT_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("JEMPUT_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("JEMPUT_REQUIRE_POSTGRES=1 tetapi JEMPUT_TEST_POSTGRES_URL tidak diatur (jalankan lewat scripts/test.sh)");
            }
            let n = SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let case = std::thread::current().name().unwrap_or("?").to_string();
            eprintln!("DILEWATI: {case} (JEMPUT_TEST_POSTGRES_URL tidak diatur; kasus PostgreSQL ke-{n} yang dilewati di berkas uji ini)");
            None
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("JEMPUT_TEST_POSTGRES_URL is a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

impl TestDb {
    /// A fresh database on `kind`, or `None` when that back end is not available here.
    pub fn fresh(kind: BackendKind) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = MasterKey::generate();
        let (backend, location, drop_pg): (Arc<dyn Backend>, String, Option<(String, String)>) = match kind {
            BackendKind::Sqlite => {
                let path = dir.path().join("hub.db");
                (Arc::new(SqliteBackend::open(&path).expect("sqlite")), path.to_string_lossy().into_owned(), None)
            }
            BackendKind::Postgres => {
                let admin = postgres_url()?;
                let name = format!("jemput_uji_{}", crate::service::random_secret(12).to_lowercase());
                let a = admin.clone();
                let n = name.clone();
                std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&a, postgres::NoTls).expect("connect to the test PostgreSQL server");
                    c.batch_execute(&format!("CREATE DATABASE {n}")).expect("create test database");
                })
                .join()
                .expect("create database thread");
                let url = with_database(&admin, &name);
                (Arc::new(PgBackend::connect(&url).expect("postgres backend")), url, Some((admin, name)))
            }
        };
        // Its erasures reach the register of backup keys beside where a key file would be.
        let db = HubDb::with_backend(backend, &key).expect("hub db").with_backup_keys(backup_keys_in(dir.path()));
        Some(TestDb { db, location, key, dir, drop_pg })
    }

    /// The register of backup keys of this hub (in its folder; it exists once a backup was made).
    pub fn backup_keys(&self) -> std::path::PathBuf {
        backup_keys_in(self.dir.path())
    }

    /// Opens a second handle on the same database (as a second hub instance would).
    pub fn reopen(&self) -> Result<HubDb, ServiceError> {
        Ok(HubDb::open(&self.location, &self.key)?)
    }
}
