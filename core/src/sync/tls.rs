//! How the phone trusts its hub. A kelurahan with a domain name serves a public certificate
//! (Let's Encrypt): ordinary verification against the web's root certificates. A kelurahan
//! without one runs its hub with a self-signed certificate and prints its SHA-256 fingerprint
//! in the enrolment QR code; the phone then pins exactly that certificate: the connection is
//! accepted only when the hub presents it (the handshake signatures are still checked, so only
//! the holder of its private key can), and nothing else is trusted for that hub, not even a
//! certificate a public authority signed.
//!
//! This module is the reqwest + rustls transport ([`NativeHttp`], cargo feature `native-http`)
//! that the hub, the tests and the tools sync with. The phone's native library leaves it out:
//! there the app's own HTTP stack makes the calls and checks the pin (ADR 0016).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

pub use super::transport::CertPin;
use super::transport::{CallFuture, HttpCall, HttpHeader, HttpMethod, HttpReply, HubTransport, TransportError};

impl CertPin {
    /// The fingerprint of a certificate (DER).
    pub fn of_certificate(der: &[u8]) -> CertPin {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        CertPin(out)
    }
}

/// The reqwest + rustls transport (ADR 0016): what the hub's own tools, the tests and the
/// benchmark sync with. One HTTP client per pin (and one verifying the ordinary way), made on
/// first use and kept, so connections are reused across the calls of a sync.
#[derive(Debug, Default)]
pub struct NativeHttp {
    clients: Mutex<Vec<(Option<CertPin>, HubHttp)>>,
}

impl NativeHttp {
    /// A transport with no client yet.
    pub fn new() -> NativeHttp {
        NativeHttp::default()
    }

    fn client(&self, pin: Option<CertPin>) -> Result<HubHttp, TransportError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = clients.iter().find(|(p, _)| *p == pin) {
            return Ok(c.clone());
        }
        let c = HubHttp::new(pin)?;
        clients.push((pin, c.clone()));
        Ok(c)
    }
}

impl HubTransport for NativeHttp {
    fn call(&self, call: HttpCall) -> CallFuture<'_> {
        Box::pin(async move {
            if call.cert_sha256.is_some() && call.pin().is_none() {
                return Err(TransportError::CertificateMismatch);
            }
            let hub = self.client(call.pin())?;
            let method = match call.method {
                HttpMethod::Get => reqwest::Method::GET,
                HttpMethod::Post => reqwest::Method::POST,
            };
            let mut req = hub.client.request(method, &call.url).timeout(Duration::from_millis(call.timeout_ms));
            for h in &call.headers {
                req = req.header(&h.name, &h.value);
            }
            let network = |e: reqwest::Error| hub.explain(TransportError::Network { reason: e.to_string() });
            let mut resp = req.body(call.body).send().await.map_err(network)?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .filter_map(|(n, v)| Some(HttpHeader { name: n.as_str().to_string(), value: v.to_str().ok()?.to_string() }))
                .collect();
            let mut body = Vec::new();
            // Read piece by piece, so a break keeps what arrived.
            let complete = loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        if (body.len() + chunk.len()) as u64 > call.max_reply_bytes {
                            return Err(TransportError::TooLarge);
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break true,
                    Err(e) => {
                        tracing::debug!(error = %e, "jawaban terputus di tengah");
                        break false;
                    }
                }
            };
            Ok(HttpReply { status, headers, body, complete })
        })
    }
}

/// An HTTP client for one hub: pinned to `pin` when given, else verifying certificates
/// against the web's root certificates. Also says whether a connection failed because the hub
/// presented another certificate than the pinned one.
#[derive(Debug, Clone)]
struct HubHttp {
    client: reqwest::Client,
    mismatch: Arc<AtomicBool>,
}

impl HubHttp {
    fn new(pin: Option<CertPin>) -> Result<HubHttp, TransportError> {
        let mismatch = Arc::new(AtomicBool::new(false));
        let mut builder =
            reqwest::Client::builder().connect_timeout(Duration::from_secs(20)).user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION")));
        if let Some(pin) = pin {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(PinnedCert { pin, provider: provider.clone(), mismatch: mismatch.clone() });
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TransportError::Network { reason: e.to_string() })?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            builder = builder.use_preconfigured_tls(config);
        }
        let client = builder.build().map_err(|e| TransportError::Network { reason: e.to_string() })?;
        Ok(HubHttp { client, mismatch })
    }

    /// `e`, or [`TransportError::CertificateMismatch`] once a connection was refused because
    /// the pinned certificate was not presented.
    fn explain(&self, e: TransportError) -> TransportError {
        match e {
            TransportError::Network { .. } if self.mismatch.load(Ordering::Relaxed) => TransportError::CertificateMismatch,
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
    fn fingerprints_are_the_sha256_of_the_der_bytes() {
        // `printf 'abc' | sha256sum`
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(CertPin::of_certificate(b"abc").to_hex(), abc);
        assert_eq!(CertPin::parse(abc), Some(CertPin::of_certificate(b"abc")));
        assert_ne!(CertPin::of_certificate(b"lain"), CertPin::of_certificate(b"abc"));
    }
}
