//! A hostile client for the hub's trust-boundary suite: a modified phone with a valid
//! enrolment that builds its documents with the real core (records, Automerge documents, sync
//! messages) but chooses their content, ids, times and actor itself, and sends raw sync bodies;
//! and raw HTTP for a careless staff member.

use automerge::{ActorId, AutoCommit};
use jemput_core::document::{self, Record};
use jemput_core::permissions::Scope;
use jemput_core::receipt::{DevicePrefix, ReceiptCode};
use jemput_core::request::{Actor, Request, Role, Status, StatusChange};
use jemput_core::sync::peer;
use jemput_core::sync::protocol::{self, DocMessage, SyncRequest, SyncResponse, PROTOCOL_VERSION};
use jemput_hub::service;
use serde_json::Value;

use crate::harness::{draft, TestHub};

/// What the hub answered an exchange: the HTTP status, the decoded answer (when it was one)
/// and the raw body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The decoded sync answer, for a 200.
    pub sync: Option<SyncResponse>,
    /// The body as received.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (an error), if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The refusal code of `doc_id` in the answer, if it was refused.
    pub fn refusal(&self, doc_id: &str) -> Option<String> {
        self.sync.as_ref()?.refused.iter().find(|r| r.doc_id == doc_id).map(|r| r.code.clone())
    }

    /// Whether the (decompressed) answer contains `needle` anywhere: a leak check that does not
    /// depend on how the hub frames what it sends.
    pub fn reveals(&self, needle: &str) -> bool {
        let Some(resp) = &self.sync else { return contains(&self.body, needle.as_bytes()) };
        resp.docs.iter().any(|d| {
            let mut doc = AutoCommit::new();
            let mut state = automerge::sync::State::new();
            let applied = peer::decode_message(&d.message).ok().map(|m| peer::receive(&mut doc, &mut state, m));
            let text = match applied {
                Some(Ok(())) => match document::kind(&doc) {
                    Ok(document::DocKind::Request) => document::read::<Request>(&doc).map(|r| serde_json::to_string(&r).unwrap()).ok(),
                    Ok(document::DocKind::Complaint) => {
                        document::read::<jemput_core::Complaint>(&doc).map(|r| serde_json::to_string(&r).unwrap()).ok()
                    }
                    _ => None,
                },
                _ => None,
            };
            contains(&d.message, needle.as_bytes()) || text.is_some_and(|t| t.contains(needle))
        })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// POSTs raw bytes as a sync body with `token`.
pub async fn post_sync_bytes(url: &str, token: &str, body: Vec<u8>) -> Answer {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/v1/sync"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .expect("the hub answers");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let sync = if status == 200 { SyncResponse::decode(&body).ok() } else { None };
    Answer { status, sync, body }
}

/// Sends `docs` (document id, message) in one exchange from cursor `cursor`.
pub async fn post_sync(url: &str, token: &str, cursor: u64, docs: Vec<(String, Vec<u8>)>) -> Answer {
    let req = SyncRequest {
        version: PROTOCOL_VERSION,
        cursor,
        docs: docs.into_iter().map(|(doc_id, message)| DocMessage { doc_id, message }).collect(),
        backlog: None,
    };
    post_sync_bytes(url, token, protocol::encode(&req)).await
}

/// A raw HTTP call with a JSON body (or raw text); returns the status and the body as JSON
/// (`Value::Null` when it is not JSON) and as text.
pub async fn call(url: &str, token: Option<&str>, method: &str, path: &str, body: Option<String>) -> (u16, Value, String) {
    let http = reqwest::Client::new();
    let u = format!("{url}{path}");
    let mut rb = if method == "GET" { http.get(u) } else { http.post(u) };
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(b);
    }
    let resp = rb.send().await.expect("the hub answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

/// A POST (with `token` as bearer, if any) that declares a body of `declared` bytes and sends
/// only its first KiB, then reads
/// the answer: how the hub refuses a body over its limit from the declared length alone. (A
/// client that sends the whole body races the hub's early answer and may see a broken pipe
/// instead of the status, so the oversized case is asked this way.) Returns the status and the
/// body as JSON (`Value::Null` when it is not JSON) and as text.
pub async fn call_declaring(url: &str, token: Option<&str>, path: &str, declared: usize) -> (u16, Value, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = tokio::net::TcpStream::connect(host).await.expect("the hub listens");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("the hub takes the request line and headers");
    // The hub may already have answered and closed: a failed write here is not the test's subject.
    let _ = tcp.write_all(&vec![b'A'; declared.min(1024)]).await;
    // Read until the head and the body its Content-Length announces are in (the hub may keep
    // the connection open, waiting for the rest of the declared body).
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |raw: &[u8]| {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let len: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))?
            .parse()
            .ok()?;
        (body.len() >= len).then(|| (head.to_string(), body[..len].to_string()))
    };
    let (head, body) = loop {
        if let Some(done) = complete(&raw) {
            break done;
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(20), tcp.read(&mut buf))
            .await
            .expect("the hub answers within 20 s")
            .expect("the answer can be read");
        assert!(n > 0, "the hub closed without a whole answer: {}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    };
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("an HTTP status line");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

/// The message a device sends for a document the hub has none of.
pub fn full_message(doc: &mut AutoCommit) -> Vec<u8> {
    peer::exact_message(doc, &[]).expect("a document with changes has a message")
}

/// A fresh document holding `record`, written by `actor`, and its full message.
pub fn fresh<R: Record>(record: &R, actor: &ActorId) -> (AutoCommit, Vec<u8>) {
    let mut doc = document::create(record, actor).expect("document");
    let m = full_message(&mut doc);
    (doc, m)
}

/// A modified phone: enrolled with a real one-time code, but with an actor id it chose and
/// documents it builds itself.
pub struct Forger {
    /// Device token.
    pub token: String,
    /// Device id.
    pub device_id: String,
    /// Officer id.
    pub officer_id: String,
    /// The receipt prefix the hub allocated.
    pub prefix: String,
    /// The Automerge actor it bound at enrolment.
    pub actor: ActorId,
    counter: std::sync::atomic::AtomicU32,
}

impl Forger {
    /// Adds an officer with `scope` and enrols a device for them with actor `actor_hex` (32 hex
    /// digits, chosen by the client as the API allows).
    pub async fn enrol(hub: &TestHub, scope: Scope, actor_hex: &str) -> Forger {
        let o = hub.db.with(|tx, _| service::add_officer(tx, "Petugas Nakal", scope)).expect("officer");
        let code = hub.db.with(|tx, _| service::create_enrol_code(tx, &o.id, 1)).expect("code");
        let device_id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::json!({"code": code, "device_name": "HP modifikasi", "actor": actor_hex, "device_id": device_id});
        let (status, e, text) = call(&hub.url(), None, "POST", "/api/v1/enroll", Some(body.to_string())).await;
        assert_eq!(status, 200, "{text}");
        let actor: Vec<u8> = (0..32).step_by(2).map(|i| u8::from_str_radix(&actor_hex[i..i + 2], 16).unwrap()).collect();
        Forger {
            token: e["token"].as_str().unwrap().into(),
            device_id,
            officer_id: e["officer_id"].as_str().unwrap().into(),
            prefix: e["receipt_prefix"].as_str().unwrap().into(),
            actor: ActorId::from(actor),
            counter: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The next receipt code under its own prefix.
    pub fn next_receipt(&self) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        ReceiptCode::new(&DevicePrefix::parse(&self.prefix).unwrap(), n).unwrap().as_str().to_string()
    }

    /// A request exactly as an honest phone would record it now (resident `i` of RW `rw`,
    /// RT `rt`, a domicile letter of the default catalog), for the caller to tamper with.
    pub fn request(&self, i: usize, rw: u16, rt: u16) -> Request {
        let d = draft(i, rw, rt);
        let now = jemput_core::time_util::now_ms();
        let by = Actor { role: Role::Petugas, id: self.officer_id.clone() };
        Request {
            id: uuid::Uuid::now_v7().to_string(),
            receipt: self.next_receipt(),
            service_code: d.service_code,
            catalog_version: jemput_core::Catalog::default_catalog().version,
            applicant: d.applicant,
            checklist: [("ktp".to_string(), true), ("kk".to_string(), true)].into_iter().collect(),
            fields: d.fields,
            notes: String::new(),
            officer_id: self.officer_id.clone(),
            device_id: self.device_id.clone(),
            created_at: now,
            history: vec![StatusChange { status: Status::Dicatat, at: now, by, reason: None }],
            office: Default::default(),
        }
    }

    /// Sends `record` as a new document under its own id; returns the answer.
    pub async fn send_new<R: Record + HasId>(&self, url: &str, record: &R) -> Answer {
        let (_, m) = fresh(record, &self.actor);
        post_sync(url, &self.token, 0, vec![(record.id().to_string(), m)]).await
    }
}

/// A record with an id.
pub trait HasId {
    /// Its id.
    fn id(&self) -> &str;
}

impl HasId for Request {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for jemput_core::Complaint {
    fn id(&self) -> &str {
        &self.id
    }
}
