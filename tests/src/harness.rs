//! An in-process hub on loopback (the real `jemput-hub` API, on SQLite or PostgreSQL) and
//! enrolled device stores (the real core), for cross-component tests and benchmarks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use jemput_core::permissions::Scope;
use jemput_core::request::{Address, Applicant, RequestDraft, Sex};
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::api::{app, AppState};
use jemput_hub::service;
use jemput_hub::setup;
use jemput_hub::storage::HubDb;
pub use jemput_hub::testing::BackendKind;
use jemput_hub::testing::TestDb;

/// A hub serving on 127.0.0.1.
pub struct TestHub {
    /// Its database (and folder).
    pub store: TestDb,
    /// Its database handle.
    pub db: HubDb,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The staff token.
    pub staff_token: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the API for `db` on a fresh loopback port.
pub async fn serve(db: HubDb) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(AppState::new(db));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    (addr, task)
}

impl TestHub {
    /// Starts a hub on SQLite with the demo kelurahan and the default catalog.
    pub async fn start() -> TestHub {
        TestHub::start_on(BackendKind::Sqlite).await.expect("SQLite is always available")
    }

    /// Starts a hub on `kind`, or `None` when that back end is not available here.
    pub async fn start_on(kind: BackendKind) -> Option<TestHub> {
        let store = tokio::task::spawn_blocking(move || TestDb::fresh(kind)).await.expect("fresh db")?;
        let db = store.db.clone();
        let staff_token = setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).expect("init");
        let (addr, task) = serve(db.clone()).await;
        Some(TestHub { store, db, addr, staff_token, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An officer's phone: a real encrypted store, enrolled at the hub.
pub struct Phone {
    /// The store.
    pub store: Mutex<Store>,
    /// The device token.
    pub token: String,
    /// The officer's id at the hub.
    pub officer_id: String,
    _dir: tempfile::TempDir,
}

impl Phone {
    /// Creates a store, adds an officer with `scope` and enrols the phone (directly to the hub).
    pub async fn enrol(hub: &TestHub, name: &str, scope: Scope) -> Phone {
        Phone::enrol_at(&hub.db, &hub.url(), name, scope).await
    }

    /// Same, against any hub instance: `db` is its database, `url` its address.
    pub async fn enrol_at(db: &HubDb, url: &str, name: &str, scope: Scope) -> Phone {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).expect("store"));
        let o = db.with(|tx, _| service::add_officer(tx, name, scope)).expect("officer");
        let code = db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).expect("code");
        let e = client::enroll(url, &code, name, &store).await.expect("enrol");
        Phone { store, token: e.token, officer_id: o.id, _dir: dir }
    }

    /// A sync client for this phone towards `url` (the hub, or a proxy in front of it).
    pub fn client(&self, url: &str, policy: RetryPolicy) -> SyncClient {
        SyncClient::new(url, &self.token, policy).expect("client")
    }
}

const NAMES: [&str; 8] =
    ["Siti Aminah", "Budi Santoso", "Sri Wahyuni", "Ahmad Fauzi", "Dewi Lestari", "Slamet Riyadi", "Nur Hidayah", "Eko Prasetyo"];

/// A valid request for a domicile letter: resident `i` (name, NIK matching birth date and sex)
/// living in RW `rw`, RT `rt` of the demo kelurahan.
pub fn draft(i: usize, rw: u16, rt: u16) -> RequestDraft {
    let female = i.is_multiple_of(2);
    let day = 1 + (i % 28) as u8;
    RequestDraft {
        service_code: "domisili".into(),
        applicant: Applicant {
            name: NAMES[i % NAMES.len()].into(),
            nik: format!("357602{:02}0590{:04}", day + if female { 40 } else { 0 }, i + 1),
            kk: "3576020101150003".into(),
            birth_place: "Mojokerto".into(),
            birth_date: format!("1990-05-{day:02}"),
            sex: if female { Sex::Perempuan } else { Sex::LakiLaki },
            address: Address { street: format!("Jl. Balongsari No. {i}"), rt, rw },
            phone: None,
            uses_whatsapp: false,
        },
        documents_seen: vec!["ktp".into(), "kk".into()],
        fields: HashMap::from([("keperluan".to_string(), "Membuka rekening bank".to_string())]),
        notes: String::new(),
    }
}
