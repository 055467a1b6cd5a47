//! Enrolment and sync from the app: the library's own tokio runtime, the HTTP transport and the
//! progress listener the app implements, and [`SyncTask`], the handle of one running sync
//! (await it, cancel it).
//!
//! A sync runs as a task on the runtime, not on the caller's thread: Kotlin `suspend` calls
//! (UniFFI async) only wait for it. Cancelling aborts the task at its next await point; the
//! store is locked only between await points (to prepare a request or apply a whole answer in
//! one transaction), so a cancelled sync leaves nothing half-applied, and the next sync resumes.
//!
//! The HTTP calls go through the app's [`HubTransport`] (ADR 0016): the platform's own HTTP and
//! TLS stack, so this library links none. Each call runs on one of the runtime's blocking
//! threads; a cancelled sync stops waiting for it at once, and the call itself ends by its own
//! time limit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use jemput_core::sync::client::{self, Progress, RetryPolicy, SyncClient, SyncSummary};
use jemput_core::sync::transport::{self, CallFuture, CertPin, HttpCall, HttpReply};
use jemput_core::Store;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::views::EnrolmentQr;

/// The runtime every sync and enrolment runs on: two worker threads (sync is network-bound).
pub(crate) static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("jemput-sinkron")
        .enable_all()
        .build()
        .expect("the sync runtime starts")
});

/// What the app implements to follow a sync (a progress bar). Called from the library's
/// threads after each exchange and once more with `done = true`; keep it short.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Where the sync is.
    fn on_progress(&self, progress: Progress);
}

/// The app's HTTP client, through which the library talks to the hub (on Android
/// `HttpsURLConnection`, on iOS `URLSession`). Called on the library's own threads, one call at
/// a time per sync; blocking is expected. See `jemput_core::sync::transport` for what a call
/// must honour: the time limit, the answer size limit, keeping the part of an answer that
/// arrived before the connection broke (`complete = false`), and pinning: when
/// `call.cert_sha256` is set, accept exactly the server certificate whose DER bytes have that
/// SHA-256 and throw `TransportException.CertificateMismatch` for any other.
#[uniffi::export(with_foreign)]
pub trait HubTransport: Send + Sync {
    /// Makes the call and gives the hub's answer (any HTTP status), or throws
    /// `TransportException` when there is none.
    fn call(&self, call: HttpCall) -> Result<HttpReply, TransportError>;
}

/// Why the app's [`HubTransport`] got no answer (Kotlin: `TransportException`).
///
/// The core's own `TransportError`, declared again here: UniFFI 0.32's Kotlin generator cannot
/// lower an error type of another crate from a foreign trait (the generated callback mixes the
/// two packages' `RustBuffer`), so the foreign trait's error lives in this crate and converts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// No connection, a broken one before the answer began, or the time limit passed. The
    /// reason is for logs only (the officer sees `tidak_ada_sinyal`).
    #[error("network: {reason}")]
    Network {
        /// What the HTTP stack said.
        reason: String,
    },
    /// The hub presented another certificate than the pinned one; nothing was sent.
    #[error("certificate mismatch")]
    CertificateMismatch,
    /// The answer is longer than the call allows.
    #[error("answer too large")]
    TooLarge,
}

impl From<TransportError> for transport::TransportError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Network { reason } => transport::TransportError::Network { reason },
            TransportError::CertificateMismatch => transport::TransportError::CertificateMismatch,
            TransportError::TooLarge => transport::TransportError::TooLarge,
        }
    }
}

/// What the app's transport threw that is not a `TransportException`: a network failure.
impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Network { reason: e.reason }
    }
}

/// The app's [`HubTransport`] as the core's transport: each call on a blocking thread.
pub(crate) struct AppHttp(pub(crate) Arc<dyn HubTransport>);

impl std::fmt::Debug for AppHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppHttp")
    }
}

impl transport::HubTransport for AppHttp {
    fn call(&self, call: HttpCall) -> CallFuture<'_> {
        let app = self.0.clone();
        Box::pin(async move {
            // Aborting the sync drops this future: the library stops waiting, and the blocking
            // call ends by its own time limit. The answer's size is checked by the client.
            Ok(tokio::task::spawn_blocking(move || app.call(call))
                .await
                .map_err(|_| transport::TransportError::Network { reason: "panggilan HTTP aplikasi gagal".into() })??)
        })
    }
}

/// Reads an enrolment QR code: `jemput://enroll?hub=<url>&code=<code>[&sha256=<64 hex>]`.
/// Throws `ApiException.Sync` with code `qr_tidak_valid` for anything else.
#[uniffi::export]
pub fn parse_enrolment_qr(payload: String) -> Result<EnrolmentQr, ApiError> {
    let bad = || ApiError::sync("qr_tidak_valid", "Kode QR ini bukan kode pendaftaran Jemput");
    const PREFIX: &str = "jemput://enroll";
    let payload = payload.trim();
    if payload.len() > 4096 || !payload.get(..PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PREFIX)) {
        return Err(bad());
    }
    let rest = &payload[PREFIX.len()..];
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let query = match rest.strip_prefix('?') {
        Some(q) => q.split('#').next().unwrap_or_default(),
        None => return Err(bad()),
    };
    let (mut hub, mut code, mut sha) = (None, None, None);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "hub" => hub = Some(v.into_owned()),
            "code" => code = Some(v.into_owned()),
            "sha256" => sha = Some(v.into_owned()),
            _ => {}
        }
    }
    let (Some(hub_url), Some(code)) = (hub, code) else { return Err(bad()) };
    if code.trim().is_empty() {
        return Err(bad());
    }
    client::check_hub_url(&hub_url)?;
    let cert_sha256 = match sha {
        Some(s) => Some(CertPin::parse(&s).ok_or_else(bad)?.to_hex()),
        None => None,
    };
    Ok(EnrolmentQr { hub_url, code: code.trim().to_string(), cert_sha256 })
}

/// Redeems an enrolment code on the runtime through the app's transport; the pin (when given)
/// is checked first.
pub(crate) async fn enroll(
    store: Arc<Mutex<Store>>,
    transport: Arc<dyn HubTransport>,
    hub_url: String,
    code: String,
    cert_sha256: Option<String>,
    device_name: String,
) -> Result<client::Enrolment, ApiError> {
    let pin = match cert_sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(CertPin::parse(s).ok_or_else(|| ApiError::sync("qr_tidak_valid", "Sidik jari sertifikat di kode QR tidak valid"))?),
        None => None,
    };
    let task = RUNTIME.spawn(async move { client::enroll_over(&AppHttp(transport), &hub_url, &code, &device_name, pin, &store).await });
    let _abort = AbortOnDrop(task.abort_handle());
    task.await.map_err(|_| ApiError::cancelled())?.map_err(Into::into)
}

/// One running sync. Get it from `JemputStore.startSync`; `await` gives its outcome (any number
/// of callers may wait), `cancel` stops it.
#[derive(uniffi::Object)]
pub struct SyncTask {
    abort: tokio::task::AbortHandle,
    outcome: watch::Receiver<Option<Result<SyncSummary, ApiError>>>,
}

impl std::fmt::Debug for SyncTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncTask").field("finished", &self.is_finished()).finish_non_exhaustive()
    }
}

/// Clears a store's "sync running" flag when the sync ends in any way (finished, failed,
/// aborted: an aborted task drops its future, and this with it).
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Aborts a task when the future waiting for it is dropped (a cancelled Kotlin coroutine).
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SyncTask {
    /// Starts a sync of `store` with its hub. Refused while another sync of the same store runs.
    pub(crate) fn start(
        store: Arc<Mutex<Store>>,
        transport: Arc<dyn HubTransport>,
        running: Arc<AtomicBool>,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<Arc<SyncTask>, ApiError> {
        if running.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err(ApiError::sync("sinkron_sedang_berjalan", "Sinkronisasi sedang berjalan; tunggu sampai selesai"));
        }
        let guard = Running(running);
        let (tx, rx) = watch::channel(None);
        let task = RUNTIME.spawn(async move {
            let _guard = guard;
            let outcome = run(store, transport, listener).await;
            let _ = tx.send(Some(outcome));
        });
        Ok(Arc::new(SyncTask { abort: task.abort_handle(), outcome: rx }))
    }
}

async fn run(
    store: Arc<Mutex<Store>>,
    transport: Arc<dyn HubTransport>,
    listener: Option<Arc<dyn SyncListener>>,
) -> Result<SyncSummary, ApiError> {
    let link = store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .hub_link()?
        .ok_or_else(|| ApiError::sync("belum_terdaftar", "HP ini belum didaftarkan ke kelurahan; pindai kode QR pendaftaran dulu"))?;
    let pin = link.cert_sha256.as_deref().and_then(CertPin::parse);
    let sync = SyncClient::over(Arc::new(AppHttp(transport)), &link.hub_url, &link.token, RetryPolicy::default(), pin)?;
    let summary = sync
        .sync(&store, |p| {
            if let Some(l) = &listener {
                l.on_progress(p.clone());
            }
        })
        .await?;
    Ok(summary)
}

#[uniffi::export]
impl SyncTask {
    /// Waits for the sync and gives its outcome. Throws `ApiException.Cancelled` after
    /// [`SyncTask::cancel`], or the sync's error.
    #[uniffi::method(name = "await")]
    pub async fn wait(&self) -> Result<SyncSummary, ApiError> {
        let mut rx = self.outcome.clone();
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome;
            }
            if rx.changed().await.is_err() {
                // The task ended without an outcome: it was aborted.
                return rx.borrow().clone().unwrap_or_else(|| Err(ApiError::cancelled()));
            }
        }
    }

    /// Stops the sync at its next step. What was already applied stays; the rest goes with the
    /// next sync. Does nothing once the sync has finished.
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// Whether the sync has ended (finished, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_read_and_checked() {
        let pin = "AB".repeat(32);
        let qr = parse_enrolment_qr(format!("jemput://enroll?hub=https%3A%2F%2Fhub.balongsari.go.id&code=K7QM-2345&sha256={pin}")).unwrap();
        assert_eq!(qr.hub_url, "https://hub.balongsari.go.id");
        assert_eq!(qr.code, "K7QM-2345");
        assert_eq!(qr.cert_sha256, Some("ab".repeat(32)));
        let plain = parse_enrolment_qr("jemput://enroll?hub=http%3A%2F%2F127.0.0.1%3A8080&code=abc".into()).unwrap();
        assert_eq!(plain.cert_sha256, None);
        assert_eq!(plain.hub_url, "http://127.0.0.1:8080");
        let slash = parse_enrolment_qr("JEMPUT://enroll/?code=a+b%2B&hub=https://hub.go.id#x".into()).unwrap();
        assert_eq!((slash.hub_url.as_str(), slash.code.as_str()), ("https://hub.go.id", "a b+"));
        for bad in [
            "https://hub.balongsari.go.id/?code=abc".to_string(),
            "jemput://enroll?code=abc".into(),
            "jemput://enroll?hub=https%3A%2F%2Fhub.go.id".into(),
            "jemput://enroll?hub=https%3A%2F%2Fhub.go.id&code=abc&sha256=123".into(),
            "jemput://enrollx?hub=https%3A%2F%2Fhub.go.id&code=abc".into(),
            "jemput://enroll".into(),
            "jemput://enrol".into(),
            "bukan qr".into(),
        ] {
            assert_eq!(parse_enrolment_qr(bad.clone()).unwrap_err().code(), "qr_tidak_valid", "{bad}");
        }
        // A hub over plain HTTP on the network is refused before anything is sent.
        assert_eq!(
            parse_enrolment_qr("jemput://enroll?hub=http%3A%2F%2F192.168.1.10&code=abc".into()).unwrap_err().code(),
            "alamat_tidak_aman"
        );
    }
}
