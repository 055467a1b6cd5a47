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

/// The built `jemput-hub` binary serving a database in its own process on loopback (as an
/// operator runs `jemput-hub serve`, with its decode workers), for benchmarks that must not
/// share the hub's process with the load generator.
pub struct HubProcess {
    /// The database (created and set up by this process; the hub opens it as a second handle).
    pub store: TestDb,
    /// This process's handle on it (to add officers and enrolment codes).
    pub db: HubDb,
    /// Where the hub listens.
    pub addr: SocketAddr,
    child: std::process::Child,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `jemput-hub` binary built beside the running executable (`target/<profile>/jemput-hub`),
/// or `JEMPUT_HUB_BIN`.
pub fn hub_binary() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("JEMPUT_HUB_BIN") {
        return Some(p.into());
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().skip(1).take(2).map(|d| d.join("jemput-hub")).find(|p| p.is_file())
}

/// A fresh database on `kind`, set up with the demo kelurahan and the default catalog, for a
/// [`HubProcess`]; `None` when that back end is not available here.
pub fn prepared_db(kind: BackendKind) -> Option<TestDb> {
    let store = TestDb::fresh(kind)?;
    setup::init(&store.db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog()).expect("init");
    Some(store)
}

impl HubProcess {
    /// Starts `exe serve` on a free loopback port over `store` (prepared with [`prepared_db`]),
    /// run through `wrapper` when not empty (e.g. `valgrind --tool=callgrind`), and waits until
    /// it answers `/healthz` (up to `wait`).
    pub async fn start(store: TestDb, exe: &std::path::Path, wrapper: &[String], extra: &[&str], wait: std::time::Duration) -> HubProcess {
        let key_file = store.dir.path().join("hub.key");
        std::fs::write(&key_file, store.key.as_bytes()).expect("key file");
        let config = store.dir.path().join("jemput-hub.toml");
        std::fs::write(&config, format!("database = {:?}\nkey_file = {:?}\n", store.location, key_file)).expect("config");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = std::process::Command::new(first);
                c.args(rest).arg(exe);
                c
            }
            None => std::process::Command::new(exe),
        };
        cmd.arg("--config").arg(&config).args(extra).args(["serve", "--listen", &addr.to_string()]);
        let child = cmd
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start jemput-hub serve");
        let db = store.db.clone();
        let mut hub = HubProcess { store, db, addr, child };
        let http = reqwest::Client::new();
        let t = std::time::Instant::now();
        while t.elapsed() < wait {
            if let Ok(r) = http.get(format!("http://{addr}/healthz")).send().await {
                if r.status().is_success() {
                    return hub;
                }
            }
            if let Ok(Some(status)) = hub.child.try_wait() {
                panic!("jemput-hub serve ended: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("jemput-hub serve did not come up");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The hub's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The hub's process and its live children (the decode workers).
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.pid()];
        pids.extend(children_of(self.pid()));
        pids
    }

    /// CPU time (user + system, seconds) the hub, its live workers and the workers it reaped
    /// used so far.
    pub fn cpu_seconds(&self) -> f64 {
        let reaped = proc_stat(self.pid())
            .and_then(|f| Some(f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?))
            .map(|t| t as f64 / clock_ticks())
            .unwrap_or(0.0);
        reaped + self.pids().into_iter().map(cpu_seconds_of).sum::<f64>()
    }

    /// Peak resident memory (VmHWM, KiB) of the hub's process, and the largest of its workers'.
    pub fn peak_rss_kb(&self) -> (u64, u64) {
        let worker = children_of(self.pid()).into_iter().map(peak_rss_kb_of).max().unwrap_or(0);
        (peak_rss_kb_of(self.pid()), worker)
    }

    /// Stops the hub (SIGTERM, then waits; SIGKILL after `grace`).
    pub fn stop(mut self, grace: std::time::Duration) {
        // SAFETY: kill(2) on the child this struct started and still owns.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let t = std::time::Instant::now();
        while t.elapsed() < grace {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// Processes whose parent is `pid` (from `/proc`).
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| proc_stat(*p).and_then(|f| f.get(1)?.parse::<u32>().ok()) == Some(pid))
        .collect()
}

/// The fields of `/proc/PID/stat` after the command name (state first).
fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(s.get(s.rfind(')')? + 2..)?.split_whitespace().map(str::to_string).collect())
}

/// CPU time (user + system, seconds) process `pid` used so far (0 when it is gone).
pub fn cpu_seconds_of(pid: u32) -> f64 {
    // utime and stime are fields 14 and 15 of stat, in clock ticks.
    proc_stat(pid)
        .and_then(|f| Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?))
        .map(|t| t as f64 / clock_ticks())
        .unwrap_or(0.0)
}

/// CPU time (user + system, seconds) every PostgreSQL server process on this machine used so
/// far: the live ones, and the children the postmaster reaped (connections that ended). For
/// the benchmark, whose PostgreSQL is the only one running.
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    let pids: Vec<u32> = dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).collect();
    let is_postgres = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres");
    let pg: Vec<u32> = pids.into_iter().filter(|p| is_postgres(*p)).collect();
    let ticks = |f: &[String], a: usize, b: usize| -> u64 {
        f.get(a).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0) + f.get(b).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
    };
    let mut total = 0u64;
    for pid in &pg {
        let Some(f) = proc_stat(*pid) else { continue };
        total += ticks(&f, 11, 12);
        // The postmaster (its parent is not a PostgreSQL process): add its reaped children.
        let parent = f.get(1).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
        if !pg.contains(&parent) {
            total += ticks(&f, 13, 14);
        }
    }
    total as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64
}

/// Peak resident memory (VmHWM, KiB) of process `pid` (0 when it is gone).
pub fn peak_rss_kb_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}
