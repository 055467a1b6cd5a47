//! Serving the API: plain HTTP (on loopback, or behind an HTTPS reverse proxy, see
//! `hub/README.md`) or HTTPS with rustls from certificate and key files, with graceful shutdown
//! (requests in flight finish, then the hub stops).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;

use crate::config::TlsFiles;
use crate::error::ServiceError;

/// How long requests in flight may take to finish once shutdown starts.
const DRAIN: Duration = Duration::from_secs(20);

/// Loads a TLS configuration (PEM certificate chain and private key).
pub async fn tls_config(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig, ServiceError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key).await.map_err(|e| {
        ServiceError::Config(format!("sertifikat TLS tidak dapat dibaca ({} / {}): {e}", files.cert.display(), files.key.display()))
    })
}

/// Serves `app` on `listener` until `shutdown` completes; HTTPS when `tls` is given.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    listener.set_nonblocking(true).map_err(|e| ServiceError::Config(e.to_string()))?;
    let handle = axum_server::Handle::<SocketAddr>::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(DRAIN));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let result = match tls {
        Some(cfg) => {
            axum_server::from_tcp_rustls(listener, cfg)
                .map_err(|e| ServiceError::Config(e.to_string()))?
                .handle(handle)
                .serve(service)
                .await
        }
        None => axum_server::from_tcp(listener).map_err(|e| ServiceError::Config(e.to_string()))?.handle(handle).serve(service).await,
    };
    result.map_err(|e| ServiceError::Config(format!("hub berhenti karena galat: {e}")))
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("berhenti dengan tertib");
}

/// How often `serve` erases records whose retention period ended (ADR 0013).
pub const RETENTION_EVERY: Duration = Duration::from_secs(6 * 60 * 60);

/// Starts the periodic retention task: shortly after start, then every [`RETENTION_EVERY`],
/// records whose retention period at the hub ended lose their personal data (the letter
/// register entry remains), and the keys of every erased record leave the register of backup
/// keys. A failed run is logged and tried again next time.
pub fn spawn_retention(db: crate::storage::HubDb) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), RETENTION_EVERY);
        loop {
            every.tick().await;
            let db = db.clone();
            let run = tokio::task::spawn_blocking(move || {
                let erased = crate::web::index::run_retention(&db, jemput_core::time_util::now_ms())?;
                // Erasures made by staff or by another hub instance reach the register of
                // backup keys here at the latest (ADR 0014).
                db.shred_backup_keys()?;
                Ok::<_, crate::error::ServiceError>(erased)
            })
            .await;
            match run {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(galat = %e, "retensi gagal; dicoba lagi nanti"),
                Err(_) => tracing::warn!("retensi terhenti; dicoba lagi nanti"),
            }
        }
    });
}
