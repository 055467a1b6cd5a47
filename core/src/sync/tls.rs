//! How the phone trusts its hub. A kelurahan with a domain name serves a public certificate
//! (Let's Encrypt): ordinary verification against the web's root certificates. A kelurahan
//! without one runs its hub with a self-signed certificate and prints its SHA-256 fingerprint
//! in the enrolment QR code; the phone then pins exactly that certificate: the connection is
//! accepted only when the hub presents it (the handshake signatures are still checked, so only
//! the holder of its private key can), and nothing else is trusted for that hub, not even a
//! certificate a public authority signed.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::client::SyncError;

/// The SHA-256 fingerprint of the hub's certificate (the DER bytes), as the phone pins it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CertPin([u8; 32]);

impl CertPin {
    /// Reads a fingerprint as printed by the hub or by `openssl x509 -fingerprint -sha256`:
    /// 64 hex digits, any case, with or without `:` separators. `None` when malformed.
    pub fn parse(text: &str) -> Option<CertPin> {
        let hex: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(s, 16).ok()?;
        }
        Some(CertPin(out))
    }

    /// The fingerprint of a certificate (DER).
    pub fn of_certificate(der: &[u8]) -> CertPin {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        CertPin(out)
    }

    /// 64 lowercase hex digits (the form the QR code carries).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({})", self.to_hex())
    }
}

/// An HTTP client for one hub: pinned to `pin` when given, else verifying certificates
/// against the web's root certificates. Also says whether a connection failed because the hub
/// presented another certificate than the pinned one.
#[derive(Debug, Clone)]
pub struct HubHttp {
    /// The client.
    pub client: reqwest::Client,
    mismatch: Arc<AtomicBool>,
}

impl HubHttp {
    /// A client with `timeout` per request.
    pub fn new(timeout: Duration, pin: Option<CertPin>) -> Result<HubHttp, SyncError> {
        let mismatch = Arc::new(AtomicBool::new(false));
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION")));
        if let Some(pin) = pin {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(PinnedCert { pin, provider: provider.clone(), mismatch: mismatch.clone() });
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| SyncError::Network(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            builder = builder.use_preconfigured_tls(config);
        }
        let client = builder.build().map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(HubHttp { client, mismatch })
    }

    /// True once a connection was refused because the hub's certificate is not the pinned one.
    pub fn pin_mismatch(&self) -> bool {
        self.mismatch.load(Ordering::Relaxed)
    }

    /// `e`, or [`SyncError::CertificateMismatch`] when the pinned certificate was not presented.
    pub fn explain(&self, e: SyncError) -> SyncError {
        match e {
            SyncError::Network(_) if self.pin_mismatch() => SyncError::CertificateMismatch,
            e => e,
        }
    }
}

/// Accepts exactly the pinned certificate (by SHA-256 of its DER bytes), whatever its names,
/// issuer or dates: the QR code the officer scanned at the kelurahan is the trust anchor.
#[derive(Debug)]
struct PinnedCert {
    pin: CertPin,
    provider: Arc<CryptoProvider>,
    mismatch: Arc<AtomicBool>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if CertPin::of_certificate(end_entity.as_ref()) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            self.mismatch.store(true, Ordering::Relaxed);
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_the_usual_forms() {
        let pin = CertPin::of_certificate(b"bukan sertifikat sungguhan");
        let hex = pin.to_hex();
        assert_eq!(CertPin::parse(&hex), Some(pin));
        assert_eq!(CertPin::parse(&hex.to_uppercase()), Some(pin));
        let colons = hex.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(":");
        assert_eq!(CertPin::parse(&colons), Some(pin));
        assert_eq!(CertPin::parse(&hex[..62]), None);
        assert_eq!(CertPin::parse(&format!("{}zz", &hex[..62])), None);
        assert_ne!(CertPin::of_certificate(b"lain"), pin);
    }
}
