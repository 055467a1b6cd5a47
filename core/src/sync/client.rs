//! The device's sync client (on tokio, over a [`HubTransport`]: the app's HTTP stack on the
//! phone, reqwest elsewhere; ADR 0016): a few exchanges with the hub, each resumed after a
//! break where it stopped (ADR 0006) and retried with exponential backoff; progress for a
//! progress bar. A cut-off exchange loses nothing and duplicates nothing: the store only moves
//! when a whole response has been applied, and Automerge ignores changes it already has. The
//! exchange in flight is kept in the store (key and exact body) before it is sent, so a sync
//! after the app's process was killed mid-exchange continues it instead of starting over.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{ExchangeInFlight, Store};
use crate::sync::device::{HubLink, SyncReport};
pub use crate::sync::protocol::Enrolment;
use crate::sync::protocol::{self, DocRefusal, EnrolRequest, ErrorBody, SyncRequest, SyncResponse, CONTENT_TYPE};
#[cfg(feature = "native-http")]
use crate::sync::tls::NativeHttp;
use crate::sync::transport::{CertPin, HttpCall, HttpHeader, HttpMethod, HttpReply, HubAddress, HubTransport, TransportError};

/// Most exchanges in one sync; a sync that needs more stops and continues next time.
pub const MAX_ROUNDS: u32 = 8;
/// Message bytes per exchange before the rest waits for the next exchange.
pub const UPLOAD_BUDGET_BYTES: usize = 256 * 1024;

/// How to retry a failed exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per exchange (1 = no retry).
    pub attempts: u32,
    /// First wait.
    pub base_delay: Duration,
    /// Longest wait.
    pub max_delay: Duration,
    /// Time limit of one attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Why a sync failed. Messages are for the officer, in Bahasa Indonesia.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The hub address is not HTTPS (plain HTTP is allowed only to a loopback hub).
    #[error("alamat server harus memakai https")]
    InsecureUrl,
    /// The hub address is malformed.
    #[error("alamat server tidak valid")]
    BadUrl,
    /// No connection, or it broke, after every retry.
    #[error("tidak ada sinyal atau server tidak terjangkau; data tetap aman di HP dan akan dikirim nanti")]
    Network(String),
    /// The device's token was revoked or is unknown. Unsent data stays on the phone.
    #[error("perangkat ini tidak lagi terdaftar di kelurahan; hubungi staf kelurahan")]
    Unauthorized,
    /// The hub answered with an error.
    #[error("server menolak: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Stable code from the hub.
        code: String,
        /// Message from the hub.
        message: String,
    },
    /// The hub's answer could not be read.
    #[error("jawaban server rusak")]
    Protocol,
    /// The hub presented another certificate than the one pinned at enrolment (the QR code's
    /// fingerprint): someone may be impersonating it. Nothing was sent.
    #[error("sertifikat server tidak cocok dengan yang didaftarkan; jangan lanjutkan, hubungi staf kelurahan")]
    CertificateMismatch,
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

impl SyncError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Network(_)) || matches!(self, SyncError::Server { status, .. } if *status >= 500 || *status == 429)
    }
}

/// Where a sync is, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Progress {
    /// Exchange number (1-based).
    pub round: u32,
    /// Documents sent so far.
    pub docs_sent: u32,
    /// Documents that still wait to be sent (estimate at the start of the round).
    pub docs_waiting: u32,
    /// Body bytes sent so far.
    pub bytes_sent: u64,
    /// Body bytes received so far.
    pub bytes_received: u64,
    /// True once the sync has finished.
    pub done: bool,
}

/// The outcome of a whole sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncSummary {
    /// Exchanges made.
    pub rounds: u32,
    /// Body bytes sent.
    pub bytes_sent: u64,
    /// Body bytes received.
    pub bytes_received: u64,
    /// What changed, over every exchange.
    pub report: SyncReport,
    /// Colleagues' bundles this device carried and delivered to the hub in this sync.
    #[serde(default)]
    pub relayed: u32,
}

/// Checks a hub address: HTTPS, or HTTP to a loopback address (development and tests).
pub fn check_hub_url(url: &str) -> Result<HubAddress, SyncError> {
    let u = HubAddress::parse(url).ok_or(SyncError::BadUrl)?;
    if u.is_https() || u.is_loopback() {
        Ok(u)
    } else {
        Err(SyncError::InsecureUrl)
    }
}

impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Network { reason } => SyncError::Network(reason),
            TransportError::CertificateMismatch => SyncError::CertificateMismatch,
            TransportError::TooLarge => SyncError::Protocol,
        }
    }
}

/// How long past a call's own time limit the client waits for a transport that does not keep
/// it, before it gives up on the call.
const TRANSPORT_GRACE: Duration = Duration::from_secs(15);

/// One call through `transport`, under its own time limit (plus [`TRANSPORT_GRACE`]) and answer
/// size limit; an error status becomes its [`SyncError`] ([`check_status`]).
async fn send(transport: &dyn HubTransport, call: HttpCall) -> Result<HttpReply, SyncError> {
    let limit = Duration::from_millis(call.timeout_ms) + TRANSPORT_GRACE;
    let max = call.max_reply_bytes;
    let reply = match tokio::time::timeout(limit, transport.call(call)).await {
        Ok(reply) => reply?,
        Err(_) => return Err(SyncError::Network("batas waktu panggilan terlewati".into())),
    };
    // Whatever the transport (the app's code included), no answer past the call's limit.
    if reply.body.len() as u64 > max {
        return Err(TransportError::TooLarge.into());
    }
    check_status(reply)
}

fn header(name: &str, value: impl Into<String>) -> HttpHeader {
    HttpHeader { name: name.to_string(), value: value.into() }
}

/// A client for one hub and one device token.
#[derive(Debug, Clone)]
pub struct SyncClient {
    hub: HubAddress,
    token: String,
    pin: Option<CertPin>,
    transport: Arc<dyn HubTransport>,
    policy: RetryPolicy,
}

impl SyncClient {
    /// A client for the hub at `hub_url` (e.g. `https://hub.kelurahan.example`), over the
    /// reqwest + rustls transport.
    #[cfg(feature = "native-http")]
    pub fn new(hub_url: &str, token: &str, policy: RetryPolicy) -> Result<SyncClient, SyncError> {
        SyncClient::pinned(hub_url, token, policy, None)
    }

    /// [`SyncClient::new`] trusting only the certificate `pin` (a self-signed hub, see
    /// [`crate::sync::tls`]), or verifying certificates the ordinary way when `pin` is `None`.
    #[cfg(feature = "native-http")]
    pub fn pinned(hub_url: &str, token: &str, policy: RetryPolicy, pin: Option<CertPin>) -> Result<SyncClient, SyncError> {
        SyncClient::over(Arc::new(NativeHttp::new()), hub_url, token, policy, pin)
    }

    /// A client whose calls go through `transport` (on the phone: the app's HTTP stack), which
    /// is asked to accept only the certificate `pin` when given.
    pub fn over(
        transport: Arc<dyn HubTransport>,
        hub_url: &str,
        token: &str,
        policy: RetryPolicy,
        pin: Option<CertPin>,
    ) -> Result<SyncClient, SyncError> {
        let hub = check_hub_url(hub_url)?;
        Ok(SyncClient { hub, token: token.to_string(), pin, transport, policy })
    }

    /// A call to `path` on the hub with the device's token.
    fn call(&self, method: HttpMethod, path: &str, mut headers: Vec<HttpHeader>, body: Vec<u8>, max_reply: usize) -> HttpCall {
        headers.insert(0, header("authorization", format!("Bearer {}", self.token)));
        HttpCall {
            method,
            url: self.hub.at(path),
            headers,
            body,
            timeout_ms: self.policy.timeout.as_millis().try_into().unwrap_or(u64::MAX),
            max_reply_bytes: max_reply as u64,
            cert_sha256: self.pin.map(|p| p.to_hex()),
        }
    }

    /// One exchange, resumable (ADR 0006), under `key` (kept in the store with the body before
    /// this is called): when the connection breaks, the client asks the hub where the exchange
    /// stands and continues from there: the rest of the upload from the byte the hub holds, or
    /// the rest of an answer the hub already gave. Failed attempts are retried with exponential
    /// backoff (network errors, 5xx, 429). A `resumed` exchange (left in flight by a sync that
    /// was killed) starts by asking; when the hub holds nothing of it, it is [`Exchanged::Stale`].
    async fn exchange(&self, key: &str, body: &[u8], resumed: bool) -> Result<Exchanged, SyncError> {
        let mut delay = self.policy.base_delay;
        let mut last = SyncError::Network("belum dicoba".into());
        // Where to upload from; `None` = ask the hub first (after a break).
        let mut from: Option<usize> = if resumed { None } else { Some(0) };
        // Body bytes this exchange sends, from where its first upload starts.
        let mut uploaded: Option<usize> = None;
        // The answer's bytes received so far (a response cut part-way is continued).
        let mut answer = Vec::new();
        let mut failures = 0;
        while failures < self.policy.attempts.max(1) {
            let step = match from {
                Some(offset) => {
                    uploaded.get_or_insert(body.len().saturating_sub(offset));
                    self.upload(key, offset, body, &mut answer).await
                }
                None => self.ask(key, body.len(), &mut answer).await,
            };
            match step {
                Ok(Step::Answered) => return Ok(Exchanged::Answer { answer, uploaded: uploaded.unwrap_or(0) }),
                // Nothing of a remembered exchange at the hub (it never arrived, or the hub
                // replaced it): started over with what is unsent now.
                Ok(Step::UploadFrom(0)) if resumed && uploaded.is_none() => return Ok(Exchanged::Stale),
                Ok(Step::UploadFrom(offset)) => from = Some(offset),
                Err(e) if e.is_transient() || is_offset_mismatch(&e) => {
                    tracing::debug!(attempt = failures, error = %e, "pertukaran sinkron terputus, dilanjutkan");
                    last = e;
                    from = None;
                    failures += 1;
                    if failures < self.policy.attempts.max(1) {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(self.policy.max_delay);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Sends `body` from `offset` (the whole body when 0) and reads the answer into `answer`.
    async fn upload(&self, key: &str, offset: usize, body: &[u8], answer: &mut Vec<u8>) -> Result<Step, SyncError> {
        let mut headers = vec![
            header("content-type", CONTENT_TYPE),
            header(protocol::READS_HEADER, protocol::READS_ZSTD),
            header(protocol::EXCHANGE_HEADER, key),
        ];
        if offset > 0 {
            headers.push(header(protocol::OFFSET_HEADER, offset.to_string()));
        }
        let body = body[offset.min(body.len())..].to_vec();
        let call = self.call(HttpMethod::Post, protocol::SYNC_PATH, headers, body, protocol::MAX_BODY_BYTES);
        let reply = send(&*self.transport, call).await?;
        answer.clear();
        take_answer(reply, answer)?;
        Ok(Step::Answered)
    }

    /// Asks the hub where exchange `key` stands: the rest of its answer (appended to `answer`),
    /// or the offset to continue the upload of a `len`-byte body from.
    async fn ask(&self, key: &str, len: usize, answer: &mut Vec<u8>) -> Result<Step, SyncError> {
        let path = format!("{}/{key}", protocol::SYNC_PATH);
        // The same formats as the upload: the rest of a kept answer continues the same bytes.
        let mut headers = vec![header(protocol::READS_HEADER, protocol::READS_ZSTD)];
        if !answer.is_empty() {
            headers.push(header(protocol::RECEIVED_HEADER, answer.len().to_string()));
        }
        let room = protocol::MAX_BODY_BYTES.saturating_sub(answer.len());
        let reply = send(&*self.transport, self.call(HttpMethod::Get, &path, headers, Vec::new(), room)).await?;
        if reply.status == 202 {
            let offset = reply
                .header(protocol::OFFSET_HEADER)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|o| *o <= len)
                .ok_or(SyncError::Protocol)?;
            answer.clear();
            return Ok(Step::UploadFrom(offset));
        }
        take_answer(reply, answer)?;
        Ok(Step::Answered)
    }

    /// Syncs `store` with the hub: sends what the hub lacks, applies what the hub has for this
    /// device, in as few exchanges as possible (one when everything fits). An exchange that an
    /// earlier sync left in flight (its process killed, or the sync cancelled) is continued
    /// first. `progress` is called after each exchange.
    pub async fn sync(&self, store: &Mutex<Store>, mut progress: impl FnMut(&Progress)) -> Result<SyncSummary, SyncError> {
        let mut summary = SyncSummary::default();
        let mut p = Progress::default();
        // An exchange a sync before this one left in flight (the app's process killed
        // mid-exchange) goes first, continued where it stopped.
        let mut left = left_in_flight(store)?;
        let mut round = 0;
        while round < MAX_ROUNDS {
            let (key, body, request, resumed) = {
                let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
                p.docs_waiting = {
                    let h = s.sync_health()?;
                    h.unsent_requests + h.unsent_complaints
                };
                match left.take() {
                    Some((f, request)) => (f.key, f.body, request, true),
                    None => {
                        let request = s.prepare_sync(UPLOAD_BUDGET_BYTES)?;
                        let body = protocol::encode(&request);
                        let key = protocol::new_exchange_key();
                        // Kept before the first byte goes out, so a killed sync can resume it.
                        s.remember_exchange(&key, &body)?;
                        (key, body, request, false)
                    }
                }
            };
            let sent_docs = request.docs.len() as u32;
            let (answer, uploaded) = match self.exchange(&key, &body, resumed).await {
                Ok(Exchanged::Answer { answer, uploaded }) => (answer, uploaded),
                Ok(Exchanged::Stale) => {
                    tracing::debug!("pertukaran yang tertinggal tidak dikenal hub; dimulai lagi");
                    store.lock().unwrap_or_else(|e| e.into_inner()).forget_exchange()?;
                    continue;
                }
                Err(e) => {
                    // An exchange the hub refused for good is not resumed: the next sync
                    // prepares a new one. One cut by the network is kept for the next sync.
                    if abandons_exchange(&e) {
                        store.lock().unwrap_or_else(|e| e.into_inner()).forget_exchange()?;
                    }
                    return Err(e);
                }
            };
            round += 1;
            p.round = round;
            p.bytes_sent += uploaded as u64;
            p.bytes_received += answer.len() as u64;
            let applied = SyncResponse::decode(&answer).map_err(|_| SyncError::Protocol).and_then(|response| {
                let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
                // Applying the answer forgets the exchange in the same transaction.
                let report = s.apply_sync(&request, &response)?;
                Ok((response, report))
            });
            let (response, report) = match applied {
                Ok(a) => a,
                Err(e) => {
                    // An answer that cannot be read or applied would fail the same way again.
                    store.lock().unwrap_or_else(|e| e.into_inner()).forget_exchange()?;
                    return Err(e);
                }
            };
            p.docs_sent += sent_docs;
            summary.rounds = round;
            merge_report(&mut summary.report, report.clone());
            progress(&p);
            // Stop when nothing is left, or when a round moved nothing (refused or stuck docs
            // wait for the next sync instead of looping); a restored hub is sent everything
            // again at once.
            if !report.more || (sent_docs == 0 && response.docs.is_empty() && !report.hub_restored) {
                break;
            }
        }
        self.relay(store, &mut summary).await?;
        // Finished records past the kelurahan's retention period (synced with its profile)
        // leave the phone (ADR 0013).
        store.lock().unwrap_or_else(|e| e.into_inner()).purge_by_policy()?;
        summary.report.more = store.lock().unwrap_or_else(|e| e.into_inner()).sync_health()?.unsent_requests > 0;
        summary.bytes_sent = p.bytes_sent;
        summary.bytes_received = p.bytes_received;
        p.done = true;
        progress(&p);
        Ok(summary)
    }
}

impl SyncClient {
    /// Forwards the colleagues' bundles this device keeps (see [`Store::keep_bundle_for_relay`])
    /// to the hub, oldest first, and forgets each one the hub took. A bundle the hub refuses for
    /// good (damaged, or from a device it does not know) is forgotten too and reported among
    /// `refused` (its id is `bundel:<fingerprint>`); a network failure leaves the rest for the
    /// next sync without failing this one.
    async fn relay(&self, store: &Mutex<Store>, summary: &mut SyncSummary) -> Result<(), SyncError> {
        let waiting = store.lock().unwrap_or_else(|e| e.into_inner()).relay_bundles()?;
        for (fingerprint, bytes) in waiting {
            let headers = vec![header("content-type", "application/octet-stream")];
            // The answer is a short JSON acknowledgement (or refusal).
            let call = self.call(HttpMethod::Post, protocol::RELAY_PATH, headers, bytes, 64 * 1024);
            match send(&*self.transport, call).await.map(|_| ()) {
                Ok(()) => summary.relayed += 1,
                Err(SyncError::Server { status, code, message }) if (400..500).contains(&status) && status != 429 => {
                    summary.report.refused.push(DocRefusal { doc_id: format!("bundel:{fingerprint}"), code, message });
                }
                Err(e) if e.is_transient() => {
                    tracing::debug!(error = %e, "bundel titipan belum terkirim; dicoba lagi saat sinkron berikutnya");
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            store.lock().unwrap_or_else(|e| e.into_inner()).forget_relay_bundle(&fingerprint)?;
        }
        Ok(())
    }
}

/// How an exchange ended.
enum Exchanged {
    /// The whole answer, and the body bytes uploaded for it.
    Answer {
        /// The answer's bytes.
        answer: Vec<u8>,
        /// Body bytes sent (from where the first upload started; 0 when the answer waited).
        uploaded: usize,
    },
    /// A remembered exchange the hub holds nothing of.
    Stale,
}

/// The exchange a killed sync left in flight, with the request its body holds. One that no
/// longer reads (damaged, or a body from another version of the app) is forgotten: the next
/// exchange sends what is unsent anyway, and a hub that applied it already ignores what it has.
fn left_in_flight(store: &Mutex<Store>) -> Result<Option<(ExchangeInFlight, SyncRequest)>, SyncError> {
    let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
    let kept = match s.exchange_in_flight() {
        Ok(None) => return Ok(None),
        Ok(kept) => kept,
        Err(crate::error::Error::Corrupt) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(f) = kept {
        if let Ok(request) = SyncRequest::decode(&f.body) {
            if protocol::valid_exchange_key(&f.key) {
                return Ok(Some((f, request)));
            }
        }
    }
    s.forget_exchange()?;
    Ok(None)
}

/// Whether an exchange that failed with `e` is given up rather than resumed by the next sync:
/// the hub refused it for good (4xx other than 429), or its answer does not read.
fn abandons_exchange(e: &SyncError) -> bool {
    match e {
        SyncError::Server { status, .. } => (400..500).contains(status) && *status != 429,
        SyncError::Protocol => true,
        _ => false,
    }
}

/// Where an exchange goes next.
enum Step {
    /// The whole answer is in hand.
    Answered,
    /// The hub holds the upload up to this byte: continue from there.
    UploadFrom(usize),
}

fn is_offset_mismatch(e: &SyncError) -> bool {
    matches!(e, SyncError::Server { status: 409, code, .. } if code == "offset_tidak_cocok")
}

/// Turns an error status into a [`SyncError`] (with the hub's code and message).
fn check_status(reply: HttpReply) -> Result<HttpReply, SyncError> {
    let status = reply.status;
    if status == 401 {
        return Err(SyncError::Unauthorized);
    }
    if (200..300).contains(&status) {
        return Ok(reply);
    }
    if !reply.complete {
        return Err(SyncError::Network(format!("jawaban HTTP {status} terputus")));
    }
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(e) => (e.kode, e.pesan),
        Err(_) => ("tidak_diketahui".into(), format!("HTTP {status}")),
    };
    Err(SyncError::Server { status, code, message })
}

/// Adds an answer's body to `answer`: a body cut part-way is kept (the next attempt asks the
/// hub for the rest only) and reported as a network failure.
fn take_answer(reply: HttpReply, answer: &mut Vec<u8>) -> Result<(), SyncError> {
    if answer.len() + reply.body.len() > protocol::MAX_BODY_BYTES {
        return Err(SyncError::Protocol);
    }
    answer.extend_from_slice(&reply.body);
    if reply.complete {
        Ok(())
    } else {
        Err(SyncError::Network(format!("jawaban terputus setelah {} byte", answer.len())))
    }
}

/// Redeems a one-time enrolment code at the hub, binding this store's actor id to the new
/// device, and records the enrolment in the store. Returns the enrolment (with the token).
/// Over the reqwest + rustls transport.
#[cfg(feature = "native-http")]
pub async fn enroll(hub_url: &str, code: &str, device_name: &str, store: &Mutex<Store>) -> Result<Enrolment, SyncError> {
    enroll_pinned(hub_url, code, device_name, None, store).await
}

/// [`enroll`] trusting only the certificate `pin` when given (the fingerprint in the QR code).
/// Also keeps how to reach the hub (address, token, pin) sealed in the store, for
/// [`Store::hub_link`].
#[cfg(feature = "native-http")]
pub async fn enroll_pinned(
    hub_url: &str,
    code: &str,
    device_name: &str,
    pin: Option<CertPin>,
    store: &Mutex<Store>,
) -> Result<Enrolment, SyncError> {
    enroll_over(&NativeHttp::new(), hub_url, code, device_name, pin, store).await
}

/// Time limit of the enrolment call.
const ENROL_TIMEOUT: Duration = Duration::from_secs(60);
/// Most bytes of the hub's enrolment answer (a short JSON object).
const ENROL_REPLY_BYTES: u64 = 64 * 1024;

/// [`enroll_pinned`] through `transport` (on the phone: the app's HTTP stack).
pub async fn enroll_over(
    transport: &dyn HubTransport,
    hub_url: &str,
    code: &str,
    device_name: &str,
    pin: Option<CertPin>,
    store: &Mutex<Store>,
) -> Result<Enrolment, SyncError> {
    let base = check_hub_url(hub_url)?;
    let body = {
        let s = store.lock().unwrap_or_else(|e| e.into_inner());
        EnrolRequest {
            code: code.to_string(),
            device_name: device_name.to_string(),
            actor: s.actor_hex(),
            device_id: s.identity()?.device_id,
        }
    };
    let call = HttpCall {
        method: HttpMethod::Post,
        url: base.at(protocol::ENROL_PATH),
        headers: vec![header("content-type", "application/json")],
        body: serde_json::to_vec(&body).expect("JSON encoding of owned strings cannot fail"),
        timeout_ms: ENROL_TIMEOUT.as_millis() as u64,
        max_reply_bytes: ENROL_REPLY_BYTES,
        cert_sha256: pin.map(|p| p.to_hex()),
    };
    let reply = send(transport, call).await?;
    if !reply.complete {
        return Err(SyncError::Network("jawaban pendaftaran terputus".into()));
    }
    let e: Enrolment = serde_json::from_slice(&reply.body).map_err(|_| SyncError::Protocol)?;
    let link = HubLink {
        hub_url: hub_url.to_string(),
        token: e.token.clone(),
        cert_sha256: pin.map(|p| p.to_hex()),
        officer_name: e.officer_name.clone(),
        rw: e.rw,
        rt: e.rt,
    };
    let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
    s.set_enrolment(&e.officer_id, &e.receipt_prefix)?;
    s.set_hub_link(&link)?;
    Ok(e)
}

fn merge_report(into: &mut SyncReport, r: SyncReport) {
    into.confirmed += r.confirmed;
    into.received += r.received;
    into.status_changes.extend(r.status_changes);
    into.refused.extend(r.refused);
    into.more = r.more;
    into.hub_restored |= r.hub_restored;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_hub_url("https://hub.balongsari.go.id").is_ok());
        assert!(check_hub_url("http://127.0.0.1:8080").is_ok());
        assert!(check_hub_url("http://localhost:8080").is_ok());
        assert!(check_hub_url("http://[::1]:8080").is_ok());
        assert!(matches!(check_hub_url("http://hub.balongsari.go.id"), Err(SyncError::InsecureUrl)));
        assert!(matches!(check_hub_url("http://192.168.1.10"), Err(SyncError::InsecureUrl)));
        assert!(matches!(check_hub_url("ftp://x"), Err(SyncError::BadUrl)));
        assert!(matches!(check_hub_url("bukan url"), Err(SyncError::BadUrl)));
    }
}
