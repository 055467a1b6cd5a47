//! Resumable sync exchanges (ADR 0006) against the real hub on both back ends: the part of an
//! upload that arrived before the connection broke is kept and continued, an answer that was
//! cut is fetched again instead of re-sending the upload, a re-sent exchange is answered with
//! the same bytes and applied once, and the real client does all of this by itself through a
//! proxy that cuts connections.

use jemput_core::permissions::Scope;
use jemput_core::sync::client::RetryPolicy;
use jemput_core::sync::protocol::{self, SyncResponse};
use jemput_hub::storage::DocFilter;
use jemput_tests::fault_proxy::{FaultProxy, FaultRates, LinkShape};
use jemput_tests::harness::{draft, Phone, TestHub};
use jemput_tests::on_both_backends;
use tokio::io::AsyncWriteExt;

fn patient() -> RetryPolicy {
    RetryPolicy {
        attempts: 8,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(40),
        timeout: std::time::Duration::from_secs(10),
    }
}

fn hub_requests(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

fn record(phone: &Phone, n: usize, rw: u16, rt: u16) {
    let mut s = phone.store.lock().unwrap();
    for i in 0..n {
        s.record_request(&draft(i, rw, rt), true).unwrap();
    }
}

/// Like [`record`], each request with a 400-letter note that compresses poorly, so that the
/// upload (≈ 18 KB for 60), not the HTTP headers each retry repeats, dominates the bytes of a
/// cut sync: with short notes (4.5 KB) five cuts' headers alone were 0.4–0.5 × the upload and a
/// bound on the ratio measured the headers, not the resumption.
fn record_with_long_notes(phone: &Phone, n: usize, rw: u16, rt: u16) {
    let mut s = phone.store.lock().unwrap();
    let mut rng = jemput_tests::gen::Rng(0x9e37_79b9_7f4a_7c15u64 ^ (rw as u64) << 32 ^ rt as u64);
    for i in 0..n {
        let mut d = draft(i, rw, rt);
        d.notes = rng.letters(400);
        s.record_request(&d, true).unwrap();
    }
}

/// Sends the head of a POST and the first `part` bytes of `body`, then drops the connection.
async fn cut_upload(hub: &TestHub, token: &str, key: &str, offset: usize, body: &[u8], part: usize) {
    let mut c = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/sync HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: {}\r\n{}: {key}\r\n{}: {offset}\r\ncontent-length: {}\r\n\r\n",
        hub.addr,
        protocol::CONTENT_TYPE,
        protocol::EXCHANGE_HEADER,
        protocol::OFFSET_HEADER,
        body.len() - offset
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body[offset..offset + part]).await.unwrap();
    c.flush().await.unwrap();
    drop(c);
}

/// Asks the hub where exchange `key` stands: (status, `jemput-offset`, body).
async fn ask(hub: &TestHub, token: &str, key: &str, received: usize) -> (u16, Option<usize>, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/{key}", hub.url()))
        .bearer_auth(token)
        .header(protocol::RECEIVED_HEADER, received.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let offset = r.headers().get(protocol::OFFSET_HEADER).map(|v| v.to_str().unwrap().parse().unwrap());
    (status, offset, r.bytes().await.unwrap().to_vec())
}

async fn post(hub: &TestHub, token: &str, key: &str, offset: usize, body: &[u8]) -> (u16, Vec<u8>) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/sync", hub.url()))
        .bearer_auth(token)
        .header(protocol::EXCHANGE_HEADER, key)
        .header(protocol::OFFSET_HEADER, offset.to_string())
        .body(body[offset..].to_vec())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Polls until the hub holds at least `n` bytes of exchange `key` (the kept part is written by
/// a task of its own after the connection broke).
async fn held_offset(hub: &TestHub, token: &str, key: &str, n: usize) -> usize {
    for _ in 0..200 {
        let (status, offset, _) = ask(hub, token, key, 0).await;
        assert_eq!(status, 202);
        if offset.unwrap() >= n {
            return offset.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the hub never kept the part of the upload");
}

on_both_backends! {
async fn a_cut_upload_is_continued_and_a_cut_answer_fetched_again(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let phone = Phone::enrol(&hub, "Bu Sri", Scope { rw: 1, rt: Some(2) }).await;
    phone.client(&hub.url(), patient()).sync(&phone.store, |_| {}).await.unwrap();
    record(&phone, 20, 1, 2);
    let sent = phone.store.lock().unwrap().prepare_sync(256 * 1024).unwrap();
    let body = protocol::encode(&sent);
    assert!(body.len() > 1000, "a body worth cutting: {} bytes", body.len());
    let key = "resume0001";

    // Nothing held yet: continue from 0. A malformed key is refused.
    assert_eq!(ask(&hub, &phone.token, key, 0).await.0, 202);
    assert_eq!(ask(&hub, &phone.token, key, 0).await.1, Some(0));
    assert_eq!(ask(&hub, &phone.token, "KUNCI-SALAH", 0).await.0, 400);
    assert_eq!(ask(&hub, "token-palsu", key, 0).await.0, 401);

    // Cut after 400 bytes: the hub keeps them; cut again after 300 more: it holds 700.
    cut_upload(&hub, &phone.token, key, 0, &body, 400).await;
    assert_eq!(held_offset(&hub, &phone.token, key, 400).await, 400);
    cut_upload(&hub, &phone.token, key, 400, &body, 300).await;
    assert_eq!(held_offset(&hub, &phone.token, key, 700).await, 700);
    assert_eq!(hub_requests(&hub), 0, "nothing applied from a partial upload");

    // Continuing beyond what the hub holds is refused with the offset to use.
    let (status, b) = post(&hub, &phone.token, key, 900, &body).await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&b));

    // The rest, from 700: applied, answered.
    let (status, answer) = post(&hub, &phone.token, key, 700, &body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let resp = SyncResponse::decode(&answer).unwrap();
    assert!(resp.refused.is_empty(), "{:?}", resp.refused);
    assert_eq!(hub_requests(&hub), 20);

    // The answer was cut half-way: the hub gives the rest, the same bytes.
    let half = answer.len() / 2;
    let (status, _, rest) = ask(&hub, &phone.token, key, half).await;
    assert_eq!(status, 200);
    assert_eq!(rest, answer[half..]);
    assert_eq!(ask(&hub, &phone.token, key, answer.len() + 1).await.0, 400);

    // The whole upload sent again under the same key: the same answer, applied once.
    let (status, again) = post(&hub, &phone.token, key, 0, &body).await;
    assert_eq!((status, &again), (200, &answer));
    assert_eq!(hub_requests(&hub), 20);

    // The phone applies the answer: all 20 confirmed, nothing left to send.
    let report = phone.store.lock().unwrap().apply_sync(&sent, &resp).unwrap();
    assert_eq!(report.confirmed, 20);
    assert_eq!(phone.store.lock().unwrap().sync_health().unwrap().unsent_requests, 0);

    // Another device cannot read this device's exchange.
    let other = Phone::enrol(&hub, "Pak Joko", Scope { rw: 1, rt: Some(2) }).await;
    assert_eq!(ask(&hub, &other.token, key, 0).await.1, Some(0));
}
}

on_both_backends! {
async fn the_client_resumes_by_itself_through_cuts(kind) {
    const PER_PHONE: usize = 60;
    let hub = TestHub::start_on(kind).await.expect("back end available");
    // Uncut, for the byte count.
    let open = FaultProxy::start(hub.addr, 11, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let a = Phone::enrol(&hub, "Petugas A", Scope { rw: 3, rt: None }).await;
    a.client(&open.url(), patient()).sync(&a.store, |_| {}).await.unwrap();
    record_with_long_notes(&a, PER_PHONE, 3, 1);
    open.reset_counters();
    a.client(&open.url(), patient()).sync(&a.store, |_| {}).await.unwrap();
    let (up, down) = open.bytes();

    for seed in [21, 22, 23] {
        let cut = FaultProxy::start(hub.addr, seed, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
        let b = Phone::enrol(&hub, "Petugas B", Scope { rw: 4, rt: None }).await;
        b.client(&cut.url(), patient()).sync(&b.store, |_| {}).await.unwrap();
        record_with_long_notes(&b, PER_PHONE, 4, seed as u16 - 20);
        cut.reset_counters();
        cut.cut_at_random(5, up + down);
        let out = b.client(&cut.url(), patient()).sync(&b.store, |_| {}).await.unwrap();
        assert_eq!(out.report.confirmed, PER_PHONE as u32, "seed {seed}");
        assert_eq!(b.store.lock().unwrap().sync_health().unwrap().unsent_requests, 0);
        let (c_up, c_down) = cut.bytes();
        assert_eq!(cut.cuts(), 5, "cut five times");
        // Without resumption each cut costs what was sent of the upload before it (a client
        // that restarts from byte 0 measured 1.68 × for seed 21); resumed, only the headers of
        // the retries and of the "where does it stand" questions are repeated (1.10–1.14 ×).
        let ratio = (c_up + c_down) as f64 / (up + down) as f64;
        assert!(ratio < 1.35, "seed {seed}: {ratio:.2} × the uncut bytes");
    }
    assert_eq!(hub_requests(&hub), 4 * PER_PHONE as u64, "each request stored once");
}
}

/// The answer to an exchange that sends nothing from `cursor` (0: everything in the device's
/// scope), asked with `reads` as the device's `jemput-reads` header.
async fn answer_from(hub: &TestHub, token: &str, cursor: u64, reads: Option<&str>) -> Vec<u8> {
    let idle = protocol::SyncRequest { version: protocol::PROTOCOL_VERSION, cursor, docs: vec![], backlog: None };
    let mut post = reqwest::Client::new().post(format!("{}/api/v1/sync", hub.url())).bearer_auth(token);
    if let Some(r) = reads {
        post = post.header(protocol::READS_HEADER, r);
    }
    let r = post.body(protocol::encode(&idle)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.unwrap().to_vec()
}

on_both_backends! {
async fn a_large_answer_goes_out_as_zstd_to_a_phone_that_reads_it_and_resumes_through_cuts(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let a = Phone::enrol(&hub, "Petugas A", Scope { rw: 3, rt: None }).await;
    record(&a, 60, 3, 1);
    a.client(&hub.url(), patient()).sync(&a.store, |_| {}).await.unwrap();
    // A colleague's new phone of the same RW receives all 60: deflate for an app that does not
    // say it reads zstd, zstd (smaller) for one that does; the same answer either way.
    let b = Phone::enrol(&hub, "Petugas B", Scope { rw: 3, rt: None }).await;
    let deflated = answer_from(&hub, &b.token, 0, None).await;
    let zstd = answer_from(&hub, &b.token, 0, Some("lz4, zstd")).await;
    assert_eq!((deflated[0], zstd[0]), (protocol::FORMAT_DICTIONARY_V1, protocol::FORMAT_ZSTD));
    assert!(zstd.len() < deflated.len(), "zstd {} B, deflate {} B", zstd.len(), deflated.len());
    assert_eq!(SyncResponse::decode(&zstd).unwrap(), SyncResponse::decode(&deflated).unwrap());
    assert_eq!(SyncResponse::decode(&zstd).unwrap().docs.len(), 60 + 2, "60 requests, the catalog and the profile");
    // A small answer (nothing new since) stays deflate, where the preset dictionary makes it
    // smaller.
    let cursor = SyncResponse::decode(&zstd).unwrap().cursor;
    let idle = answer_from(&hub, &b.token, cursor, Some("zstd")).await;
    assert_eq!(idle[0], protocol::FORMAT_DICTIONARY_V1);
    assert!(SyncResponse::decode(&idle).unwrap().docs.is_empty());
    // The real client (it reads zstd) through a link cut three times, mostly inside the answer:
    // it continues the same zstd bytes where they broke, and every record arrives once.
    let cut = FaultProxy::start(hub.addr, 31, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    cut.cut_at_random(3, zstd.len() as u64);
    let out = b.client(&cut.url(), patient()).sync(&b.store, |_| {}).await.unwrap();
    assert_eq!(cut.cuts(), 3);
    let got = b.store.lock().unwrap().list_requests(&jemput_core::store::RequestFilter::default(), 0, 100).unwrap();
    assert_eq!(got.len(), 60, "{:?}", out.report);
    let (_, down) = cut.bytes();
    assert!(down < 2 * zstd.len() as u64, "resumed, not fetched again from the start each time: {down} B down for a {} B answer", zstd.len());
}
}
