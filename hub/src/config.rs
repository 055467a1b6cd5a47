//! The hub's configuration: a TOML file (`jemput-hub.toml` by default, or `--config`), overridden
//! by environment variables and command-line flags. Example:
//!
//! ```toml
//! database = "/var/lib/jemput/hub.db"      # or "postgres://jemput@db.internal/jemput"
//! key_file = "/etc/jemput/hub.key"          # 32-byte data key (created by `init`)
//! listen = "0.0.0.0:8443"
//! public_url = "https://hub.balongsari.go.id"
//!
//! [tls]                                       # omit behind an HTTPS reverse proxy
//! cert = "/etc/jemput/fullchain.pem"
//! key = "/etc/jemput/privkey.pem"
//! ```
//!
//! `decode_memory_mb = 512` (top level) bounds each worker process that decodes what devices
//! send (0 decodes in the hub's own process; see `isolation`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServiceError;

/// TLS certificate and key files (PEM).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// What the configuration file may hold; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// SQLite file path or PostgreSQL URL.
    pub database: Option<String>,
    /// Data key file.
    pub key_file: Option<PathBuf>,
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// The address phones use to reach the hub (for enrolment QR codes).
    pub public_url: Option<String>,
    /// Serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
    /// Address-space limit of each decode worker, MiB (0 = decode in the hub's process).
    pub decode_memory_mb: Option<u64>,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// SQLite file path or PostgreSQL URL.
    pub database: String,
    /// Data key file.
    pub key_file: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The address phones use to reach the hub.
    pub public_url: String,
    /// HTTPS certificate and key, when the hub terminates TLS itself.
    pub tls: Option<TlsFiles>,
    /// Address-space limit of each decode worker, MiB (0 = decode in the hub's process).
    pub decode_memory_mb: u64,
}

/// Values given on the command line or in the environment (they win over the file).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Database.
    pub database: Option<String>,
    /// Key file.
    pub key_file: Option<PathBuf>,
    /// Listen address.
    pub listen: Option<SocketAddr>,
    /// Public URL.
    pub public_url: Option<String>,
    /// TLS certificate.
    pub tls_cert: Option<PathBuf>,
    /// TLS key.
    pub tls_key: Option<PathBuf>,
    /// Decode worker memory limit, MiB.
    pub decode_memory_mb: Option<u64>,
}

impl FileConfig {
    /// Reads a configuration file. A missing file is an error only when `required`.
    pub fn read(path: &Path, required: bool) -> Result<FileConfig, ServiceError> {
        match std::fs::read_to_string(path) {
            Ok(text) => FileConfig::parse(&text).map_err(|e| ServiceError::Config(format!("berkas konfigurasi {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(FileConfig::default()),
            Err(e) => Err(ServiceError::Config(format!("tidak dapat membaca konfigurasi {}: {e}", path.display()))),
        }
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }
}

impl HubConfig {
    /// Merges file values, overrides and defaults.
    pub fn resolve(file: FileConfig, o: Overrides) -> Result<HubConfig, ServiceError> {
        let tls = match (o.tls_cert, o.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => file.tls,
            _ => return Err(ServiceError::Config("sertifikat TLS dan kuncinya harus diberikan bersama".into())),
        };
        let listen = o.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = o.public_url.or(file.public_url).unwrap_or_else(|| {
            let scheme = if tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{listen}")
        });
        Ok(HubConfig {
            database: o.database.or(file.database).unwrap_or_else(|| "jemput-hub.db".into()),
            key_file: o.key_file.or(file.key_file).unwrap_or_else(|| "jemput-hub.key".into()),
            listen,
            public_url,
            tls,
            decode_memory_mb: o.decode_memory_mb.or(file.decode_memory_mb).unwrap_or(512),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_apply_and_flags_win() {
        let f = FileConfig::parse(
            "database = \"postgres://jemput@db/jemput\"\nlisten = \"0.0.0.0:8443\"\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n",
        )
        .unwrap();
        let c = HubConfig::resolve(f.clone(), Overrides::default()).unwrap();
        assert_eq!(c.database, "postgres://jemput@db/jemput");
        assert_eq!(c.public_url, "https://0.0.0.0:8443");
        assert_eq!(c.tls, Some(TlsFiles { cert: "c.pem".into(), key: "k.pem".into() }));
        let c = HubConfig::resolve(f, Overrides { database: Some("lokal.db".into()), ..Default::default() }).unwrap();
        assert_eq!(c.database, "lokal.db");
    }

    #[test]
    fn defaults_without_a_file() {
        let c = HubConfig::resolve(FileConfig::default(), Overrides::default()).unwrap();
        assert_eq!((c.database.as_str(), c.listen.to_string().as_str(), c.tls), ("jemput-hub.db", "127.0.0.1:8080", None));
    }

    #[test]
    fn typos_and_half_tls_are_errors() {
        assert!(FileConfig::parse("databse = \"x\"").is_err());
        let o = Overrides { tls_cert: Some("c.pem".into()), ..Default::default() };
        assert!(HubConfig::resolve(FileConfig::default(), o).is_err());
    }
}
