//! An in-process hub on loopback (the real `jemput-hub` API on SQLite in a temp folder) and
//! enrolled device stores (the real core), for cross-component tests and benchmarks.

use std::net::SocketAddr;
use std::sync::Mutex;

use jemput_core::permissions::Scope;
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};
use jemput_hub::api::{app, AppState};
use jemput_hub::db::{self, HubDb};
use jemput_hub::setup;

/// A hub serving on 127.0.0.1.
pub struct TestHub {
    /// Its folder.
    pub dir: tempfile::TempDir,
    /// Its database.
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

impl TestHub {
    /// Starts a hub with the demo kelurahan and the default catalog.
    pub async fn start() -> TestHub {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = setup::load_or_create_key(&dir.path().join("hub.key")).expect("key");
        let db = HubDb::open(&dir.path().join("hub.db"), &key).expect("hub db");
        let staff_token = setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).expect("init");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = app(AppState { db: db.clone() });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestHub { dir, db, addr, staff_token, task }
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
    _dir: tempfile::TempDir,
}

impl Phone {
    /// Creates a store, adds an officer with `scope` and enrols the phone (directly to the hub).
    pub async fn enrol(hub: &TestHub, name: &str, scope: Scope) -> Phone {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Mutex::new(Store::open(dir.path().join("hp.db"), &StoreKey::generate()).expect("store"));
        let o = hub.db.with(|c, _| db::add_officer(c, name, scope)).expect("officer");
        let code = hub.db.with(|c, _| db::create_enrol_code(c, &o.id, 1)).expect("code");
        let e = client::enroll(&hub.url(), &code, name, &store).await.expect("enrol");
        Phone { store, token: e.token, _dir: dir }
    }

    /// A sync client for this phone towards `url` (the hub, or a proxy in front of it).
    pub fn client(&self, url: &str, policy: RetryPolicy) -> SyncClient {
        SyncClient::new(url, &self.token, policy).expect("client")
    }
}
