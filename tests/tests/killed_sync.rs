//! A sync whose process is killed mid-exchange (Android kills background processes freely)
//! resumes in the next process (ADR 0006, "Surviving a killed process"). The phone's sync runs
//! in a child process (`jemput-phone DIR sync`, the real core on a store file) against a real hub
//! on both back ends, through a proxy whose link is slow and goes silent at a chosen byte; the
//! child is killed with SIGKILL there, and a new process syncs the same store file again:
//!
//! - killed part-way through the upload: the second run sends only the rest of the body;
//! - killed after the hub applied the exchange, while its answer was on the way: the second run
//!   fetches the kept answer and uploads nothing of the body.
//!
//! Either way every record ends confirmed on the phone and stored once at the hub. The byte
//! counts are asserted with a wide margin, never timings: where the link stops is set in bytes.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jemput_core::permissions::Scope;
use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient, UPLOAD_BUDGET_BYTES};
use jemput_core::sync::protocol;
use jemput_hub::service;
use jemput_hub::storage::DocFilter;
use jemput_tests::fault_proxy::{FaultProxy, FaultRates, LinkShape};
use jemput_tests::harness::{draft, Phone, TestHub};
use jemput_tests::on_both_backends;

/// Requests on the phone: with their long notes, an upload of ≈ 22 KB in one exchange (few
/// requests with long notes rather than many short ones: recording is the slow part of a debug
/// build).
const REQUESTS: usize = 16;

/// 256 kbit/s with a short delay: the upload takes most of a second, and the link is where the
/// process is caught (by byte count, not by time).
fn slow_link() -> LinkShape {
    LinkShape { bytes_per_sec: 32_000, one_way_delay: Duration::from_millis(20), loss: 0.0 }
}

/// A phone kept in a folder as `jemput-phone` keeps it (key file, store file, hub address and
/// token), enrolled directly at the hub, synced once (catalog and profile), then holding
/// [`REQUESTS`] unsent requests; later syncs go through `proxy_url`. Returns the ids of the
/// requests and the length of the body the next sync uploads.
async fn phone_in(dir: &Path, hub: &TestHub, proxy_url: &str, rw: u16) -> (Vec<String>, usize) {
    let key = StoreKey::generate();
    std::fs::write(dir.join("kunci"), key.as_bytes()).unwrap();
    let store = Mutex::new(Store::open(dir.join("hp.db"), &key).unwrap());
    let o = hub.db.with(|tx, _| service::add_officer(tx, "Bu Ratna", Scope { rw, rt: None })).unwrap();
    let code = hub.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).unwrap();
    let e = client::enroll(&hub.url(), &code, "HP Bu Ratna", &store).await.unwrap();
    SyncClient::new(&hub.url(), &e.token, RetryPolicy::default()).unwrap().sync(&store, |_| {}).await.unwrap();
    std::fs::write(dir.join("hub"), proxy_url).unwrap();
    std::fs::write(dir.join("token"), &e.token).unwrap();
    let mut s = store.into_inner().unwrap();
    let mut rng = jemput_tests::gen::Rng(0x9e37_79b9_7f4a_7c15u64 ^ u64::from(rw));
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        let mut d = draft(i, rw, 1);
        // A note that compresses poorly, so the body, not the HTTP headers, is what counts.
        d.notes = rng.letters(1900);
        ids.push(s.record_request(&d, true).unwrap().id);
    }
    let body = protocol::encode(&s.prepare_sync(UPLOAD_BUDGET_BYTES).unwrap());
    assert_eq!(protocol::SyncRequest::decode(&body).unwrap().docs.len(), REQUESTS, "one exchange carries them all");
    (ids, body.len())
}

fn open(dir: &Path) -> Store {
    let key = StoreKey::from_slice(&std::fs::read(dir.join("kunci")).unwrap()).unwrap();
    Store::open(dir.join("hp.db"), &key).unwrap()
}

/// `jemput-phone DIR sync` in a process of its own.
fn sync_process(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_jemput-phone"))
        .arg(dir)
        .arg("sync")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jemput-phone")
}

/// Waits until the proxy's link has gone silent at its stall point with the child still
/// syncing, then kills the child (SIGKILL) and severs the connection it had.
async fn kill_when_stalled(mut child: Child, proxy: &FaultProxy) {
    let t = Instant::now();
    while !proxy.stalled() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sync ended before it was caught ({status}): {}", stderr_of(child));
        }
        assert!(t.elapsed() < Duration::from_secs(20), "the sync never reached the stall point");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(child.try_wait().unwrap().is_none(), "the sync was still running when killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    proxy.sever();
}

/// Runs a second sync process to its end (at most 20 s).
async fn sync_to_the_end(dir: &Path) {
    let mut child = sync_process(dir);
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the second sync failed: {}", stderr_of(child));
            return;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the second sync did not end");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn stderr_of(mut child: Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
    }
    s
}

fn hub_requests(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

/// Every request confirmed on the phone, and each stored once at the hub.
fn assert_all_delivered_once(dir: &Path, hub: &TestHub, ids: &[String]) {
    let s = open(dir);
    let health = s.sync_health().unwrap();
    assert_eq!((health.unsent_requests, health.refused), (0, 0), "{}", health.summary);
    for id in ids {
        assert_eq!(s.request(id).unwrap().status().code(), "terkirim", "the phone shows the hub holds {id}");
        assert!(hub.db.with(|tx, _| tx.sealed_doc(id, false)).unwrap().is_some(), "the hub holds {id}");
    }
    assert_eq!(hub_requests(hub), ids.len() as u64, "each request stored once at the hub");
}

/// The key of the hub's latest exchange with the phone whose token is `token`.
fn latest_exchange_key(hub: &TestHub, token: &str) -> Option<String> {
    hub.db
        .with(|tx, _| {
            let device = service::officers::device_by_token(tx, token)?.expect("device");
            Ok::<_, jemput_hub::error::ServiceError>(tx.exchange(&device.id)?.map(|row| row.key))
        })
        .unwrap()
}

/// Where the exchange the killed process started stands at the hub (the first exchange after
/// `before`, the key of the phone's last exchange before it): the status and `jemput-offset` of
/// `GET /api/v1/sync/{key}`, once the hub holds at least `min_held` bytes of it or its answer
/// (the part of a cut upload is kept by a task of its own, a moment after the break).
async fn hub_holds(hub: &TestHub, token: &str, before: &Option<String>, min_held: usize) -> (u16, Option<usize>) {
    let t = Instant::now();
    loop {
        if let Some(key) = latest_exchange_key(hub, token).filter(|k| Some(k) != before.as_ref()) {
            let r = reqwest::Client::new().get(format!("{}/api/v1/sync/{key}", hub.url())).bearer_auth(token).send().await.unwrap();
            let offset = r.headers().get(protocol::OFFSET_HEADER).and_then(|v| v.to_str().ok()?.parse().ok());
            let status = r.status().as_u16();
            if status != 202 || offset.unwrap_or(0) >= min_held || t.elapsed() > Duration::from_secs(10) {
                return (status, offset);
            }
        }
        assert!(t.elapsed() < Duration::from_secs(10), "the hub never kept anything of the exchange");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends! {
async fn killed_mid_upload_the_next_process_sends_only_the_rest(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let proxy = FaultProxy::start(hub.addr, 7, FaultRates::NONE, slow_link()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ids, body_len) = phone_in(dir.path(), &hub, &proxy.url(), 2).await;
    assert!(body_len > 18_000, "a body worth resuming: {body_len} bytes");
    let token = std::fs::read_to_string(dir.path().join("token")).unwrap();

    // The link goes silent three quarters into the upload; the app is killed there.
    let before = latest_exchange_key(&hub, &token);
    proxy.reset_counters();
    proxy.stall_after(true, body_len as u64 * 3 / 4);
    kill_when_stalled(sync_process(dir.path()), &proxy).await;
    let (status, held) = hub_holds(&hub, &token, &before, body_len / 2).await;
    let held = held.unwrap_or(0);
    assert_eq!(status, 202, "the exchange was not applied");
    assert!(held > body_len / 2 && held < body_len, "the hub holds part of the upload: {held} of {body_len}");
    assert_eq!(hub_requests(&hub), 0, "nothing applied from a partial upload");
    assert_eq!(open(dir.path()).sync_health().unwrap().unsent_requests, REQUESTS as u32);

    // A new process on the same store file: the rest of the body, not the whole body again.
    proxy.reset_counters();
    sync_to_the_end(dir.path()).await;
    let (up, _) = proxy.bytes();
    eprintln!("killed mid-upload: body {body_len} B, held by the hub {held} B, sent by the second run {up} B");
    assert_all_delivered_once(dir.path(), &hub, &ids);
    assert!(
        up < body_len as u64 / 2,
        "the second run sent {up} bytes towards the hub for a {body_len}-byte body of which the hub held {held}"
    );
}
}

on_both_backends! {
async fn killed_while_the_answer_came_the_next_process_fetches_it(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let proxy = FaultProxy::start(hub.addr, 8, FaultRates::NONE, slow_link()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ids, body_len) = phone_in(dir.path(), &hub, &proxy.url(), 3).await;
    let token = std::fs::read_to_string(dir.path().join("token")).unwrap();

    // The whole upload goes; the answer stops after its first 100 bytes (mid-headers), with the
    // exchange applied at the hub. The app is killed there.
    let before = latest_exchange_key(&hub, &token);
    proxy.reset_counters();
    proxy.stall_after(false, 100);
    kill_when_stalled(sync_process(dir.path()), &proxy).await;
    assert!(proxy.bytes().0 >= body_len as u64, "the whole upload reached the hub");
    assert_eq!(hub_holds(&hub, &token, &before, 0).await.0, 200, "the hub applied the exchange and keeps its answer");
    assert_eq!(hub_requests(&hub), REQUESTS as u64);
    assert_eq!(open(dir.path()).sync_health().unwrap().unsent_requests, REQUESTS as u32, "the phone never saw the answer");

    // A new process: the kept answer, not the upload again.
    proxy.reset_counters();
    sync_to_the_end(dir.path()).await;
    let (up, _) = proxy.bytes();
    eprintln!("killed while the answer came: body {body_len} B, sent by the second run {up} B");
    assert_all_delivered_once(dir.path(), &hub, &ids);
    assert!(up < body_len as u64 / 10, "the second run sent {up} bytes towards the hub for a {body_len}-byte body");
}
}

/// What a killed process leaves behind in the cases above, set up in one process: a remembered
/// exchange in the store, and the hub holding it or not.
fn remember_next_exchange(phone: &Phone, key: &str) -> (protocol::SyncRequest, Vec<u8>) {
    let mut s = phone.store.lock().unwrap();
    let request = s.prepare_sync(UPLOAD_BUDGET_BYTES).unwrap();
    let body = protocol::encode(&request);
    s.remember_exchange(key, &body).unwrap();
    (request, body)
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
    }
}

on_both_backends! {
async fn a_remembered_exchange_is_resumed_once_with_its_own_body_or_started_over(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let phone = Phone::enrol(&hub, "Pak Darto", Scope { rw: 4, rt: None }).await;
    let client = phone.client(&hub.url(), quick());
    client.sync(&phone.store, |_| {}).await.unwrap();
    let first: Vec<String> =
        (0..3).map(|i| phone.store.lock().unwrap().record_request(&draft(i, 4, 1), true).unwrap().id).collect();

    // The hub applied the exchange, the answer never reached the phone; meanwhile the officer
    // recorded another request and edited one that was sent. The kept answer is applied with
    // the body that was really sent: the edit is not taken as held by the hub, and goes next.
    let (sent, body) = remember_next_exchange(&phone, "dibunuh000000001");
    assert_eq!(sent.docs.len(), 3);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/sync", hub.url()))
        .bearer_auth(&phone.token)
        .header(protocol::EXCHANGE_HEADER, "dibunuh000000001")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let later = phone.store.lock().unwrap().record_request(&draft(3, 4, 1), true).unwrap().id;
    phone.store.lock().unwrap().set_request_notes(&first[0], "KTP asli dibawa besok").unwrap();
    let out = client.sync(&phone.store, |_| {}).await.unwrap();
    assert_eq!(out.rounds, 2, "the kept answer, then the new request and the edit");
    // The two untouched requests by the kept answer, then the edited one and the new one.
    assert_eq!(out.report.confirmed, 2 + 2, "{:?}", out.report);
    {
        let s = phone.store.lock().unwrap();
        assert_eq!(s.sync_health().unwrap().unsent_requests, 0);
        assert!(s.exchange_in_flight().unwrap().is_none(), "applied, so forgotten: never resumed twice");
    }
    assert_eq!(hub_requests(&hub), 4);
    let at_hub = hub.db.with(|tx, c| service::load_doc(tx, c, &first[0], false)).unwrap().expect("at the hub");
    let edited: jemput_core::request::Request = jemput_core::document::read(&at_hub).unwrap();
    assert_eq!(edited.notes, "KTP asli dibawa besok", "the edit made after the kill reached the hub");
    assert!(hub.db.with(|tx, _| tx.sealed_doc(&later, false)).unwrap().is_some());

    // A remembered exchange the hub holds nothing of (the process was killed before any byte
    // arrived): forgotten and started over with what is unsent now.
    phone.store.lock().unwrap().record_request(&draft(4, 4, 1), true).unwrap();
    remember_next_exchange(&phone, "dibunuh000000002");
    phone.store.lock().unwrap().record_request(&draft(5, 4, 1), true).unwrap();
    let out = client.sync(&phone.store, |_| {}).await.unwrap();
    assert_eq!((out.rounds, out.report.confirmed), (1, 2), "one new exchange carries both");
    assert!(phone.store.lock().unwrap().exchange_in_flight().unwrap().is_none());
    assert_eq!(hub_requests(&hub), 6);

    // A remembered body that does not read (e.g. from another version of the app) is dropped.
    phone.store.lock().unwrap().remember_exchange("dibunuh000000003", b"bukan pesan").unwrap();
    client.sync(&phone.store, |_| {}).await.unwrap();
    assert!(phone.store.lock().unwrap().exchange_in_flight().unwrap().is_none());
    assert_eq!(phone.store.lock().unwrap().sync_health().unwrap().unsent_requests, 0);
}
}
