//! The device's sync client (reqwest on tokio): a few exchanges with the hub, each retried with
//! exponential backoff; progress for a progress bar. A cut-off exchange loses nothing and
//! duplicates nothing: the store only moves when a whole response has been applied, and
//! Automerge ignores changes it already has.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::sync::SyncReport;
use crate::store::Store;
use crate::sync::protocol::{self, SyncResponse, CONTENT_TYPE};

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
pub struct SyncSummary {
    /// Exchanges made.
    pub rounds: u32,
    /// Body bytes sent.
    pub bytes_sent: u64,
    /// Body bytes received.
    pub bytes_received: u64,
    /// What changed, over every exchange.
    pub report: SyncReport,
}

/// Checks a hub address: HTTPS, or HTTP to a loopback address (development and tests).
pub fn check_hub_url(url: &str) -> Result<reqwest::Url, SyncError> {
    let u = reqwest::Url::parse(url).map_err(|_| SyncError::BadUrl)?;
    match u.scheme() {
        "https" => Ok(u),
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(u)
            } else {
                Err(SyncError::InsecureUrl)
            }
        }
        _ => Err(SyncError::BadUrl),
    }
}

/// A client for one hub and one device token.
#[derive(Debug, Clone)]
pub struct SyncClient {
    sync_url: reqwest::Url,
    token: String,
    http: reqwest::Client,
    policy: RetryPolicy,
}

#[derive(Deserialize)]
struct HubError {
    kode: String,
    pesan: String,
}

impl SyncClient {
    /// A client for the hub at `hub_url` (e.g. `https://hub.kelurahan.example`).
    pub fn new(hub_url: &str, token: &str, policy: RetryPolicy) -> Result<SyncClient, SyncError> {
        let base = check_hub_url(hub_url)?;
        let sync_url = base.join("/api/v1/sync").map_err(|_| SyncError::BadUrl)?;
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(SyncClient { sync_url, token: token.to_string(), http, policy })
    }

    /// One exchange, retried with exponential backoff on network errors and 5xx/429.
    async fn exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        let mut delay = self.policy.base_delay;
        let mut last = SyncError::Network("belum dicoba".into());
        for attempt in 0..self.policy.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(self.policy.max_delay);
            }
            match self.try_exchange(body.clone()).await {
                Ok(b) => return Ok(b),
                Err(e) if e.is_transient() => {
                    tracing::debug!(attempt, error = %e, "pertukaran sinkron gagal, dicoba lagi");
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn try_exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        let resp = self
            .http
            .post(self.sync_url.clone())
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| SyncError::Network(e.to_string()))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SyncError::Unauthorized);
        }
        if !status.is_success() {
            let (code, message) = match serde_json::from_slice::<HubError>(&bytes) {
                Ok(e) => (e.kode, e.pesan),
                Err(_) => ("tidak_diketahui".into(), format!("HTTP {}", status.as_u16())),
            };
            return Err(SyncError::Server { status: status.as_u16(), code, message });
        }
        if bytes.len() > protocol::MAX_BODY_BYTES {
            return Err(SyncError::Protocol);
        }
        Ok(bytes.to_vec())
    }

    /// Syncs `store` with the hub: sends what the hub lacks, applies what the hub has for this
    /// device, in as few exchanges as possible (one when everything fits). `progress` is called
    /// after each exchange.
    pub async fn sync(&self, store: &Mutex<Store>, mut progress: impl FnMut(&Progress)) -> Result<SyncSummary, SyncError> {
        let mut summary = SyncSummary::default();
        let mut p = Progress::default();
        for round in 1..=MAX_ROUNDS {
            let request = {
                let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
                p.docs_waiting = {
                    let h = s.sync_health()?;
                    h.unsent_requests + h.unsent_complaints
                };
                s.prepare_sync(UPLOAD_BUDGET_BYTES)?
            };
            let sent_docs = request.docs.len() as u32;
            let body = protocol::encode(&request);
            p.round = round;
            p.bytes_sent += body.len() as u64;
            let answer = self.exchange(body).await?;
            p.bytes_received += answer.len() as u64;
            let response = SyncResponse::decode(&answer).map_err(|_| SyncError::Protocol)?;
            let report = {
                let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
                s.apply_sync(&request, &response)?
            };
            p.docs_sent += sent_docs;
            summary.rounds = round;
            merge_report(&mut summary.report, report.clone());
            progress(&p);
            // Stop when nothing is left, or when a round moved nothing (refused or stuck docs
            // wait for the next sync instead of looping).
            if !report.more || (sent_docs == 0 && response.docs.is_empty()) {
                break;
            }
        }
        summary.report.more = store.lock().unwrap_or_else(|e| e.into_inner()).sync_health()?.unsent_requests > 0;
        summary.bytes_sent = p.bytes_sent;
        summary.bytes_received = p.bytes_received;
        p.done = true;
        progress(&p);
        Ok(summary)
    }
}

/// What the hub gives a newly enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// The device's id at the hub.
    pub device_id: String,
    /// The device's secret token (keep it in the platform key store).
    pub token: String,
    /// The officer.
    pub officer_id: String,
    /// The receipt prefix allocated to this device.
    pub receipt_prefix: String,
    /// Scope: RW.
    pub rw: u16,
    /// Scope: RT, or none for the whole RW.
    pub rt: Option<u16>,
}

/// Redeems a one-time enrolment code at the hub, binding this store's actor id to the new
/// device, and records the enrolment in the store. Returns the enrolment (with the token).
pub async fn enroll(hub_url: &str, code: &str, device_name: &str, store: &Mutex<Store>) -> Result<Enrolment, SyncError> {
    let base = check_hub_url(hub_url)?;
    let url = base.join("/api/v1/enroll").map_err(|_| SyncError::BadUrl)?;
    let (actor, device_id) = {
        let s = store.lock().unwrap_or_else(|e| e.into_inner());
        (s.actor_hex(), s.identity()?.device_id)
    };
    let body = serde_json::json!({ "code": code, "device_name": device_name, "actor": actor, "device_id": device_id });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| SyncError::Network(e.to_string()))?;
    let resp = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| SyncError::Network(e.to_string()))?;
    if !status.is_success() {
        let (code, message) = match serde_json::from_slice::<HubError>(&bytes) {
            Ok(e) => (e.kode, e.pesan),
            Err(_) => ("tidak_diketahui".into(), format!("HTTP {}", status.as_u16())),
        };
        return Err(SyncError::Server { status: status.as_u16(), code, message });
    }
    let e: Enrolment = serde_json::from_slice(&bytes).map_err(|_| SyncError::Protocol)?;
    store.lock().unwrap_or_else(|e| e.into_inner()).set_enrolment(&e.officer_id, &e.receipt_prefix)?;
    Ok(e)
}

fn merge_report(into: &mut SyncReport, r: SyncReport) {
    into.confirmed += r.confirmed;
    into.received += r.received;
    into.status_changes.extend(r.status_changes);
    into.refused.extend(r.refused);
    into.more = r.more;
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
