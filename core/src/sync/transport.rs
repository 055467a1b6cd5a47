//! One HTTP call to the hub, and the [`HubTransport`] that makes it (ADR 0016).
//!
//! The sync protocol, resumption (ADR 0006), retries, backoff and time limits live in
//! [`super::client`]; moving bytes over HTTPS is the transport's job. On the phone the app makes
//! the calls with the platform's own HTTP and TLS stack (Android's `HttpsURLConnection`, iOS's
//! `URLSession`: the system's trust store and proxy, one TLS stack in the process), so the
//! native library links no HTTP client, TLS library or root certificates. The hub, the tests and
//! the command-line tools use the reqwest + rustls transport of [`super::tls`] (cargo feature
//! `native-http`, on by default).
//!
//! A transport must: send [`HttpCall::headers`] and [`HttpCall::body`] as given; give up after
//! [`HttpCall::timeout_ms`]; stop reading an answer longer than [`HttpCall::max_reply_bytes`]
//! ([`TransportError::TooLarge`]); when the connection breaks while the answer's body arrives,
//! return what arrived with [`HttpReply::complete`] false (the client asks the hub for the rest
//! only); and when [`HttpCall::cert_sha256`] is set, accept exactly the server certificate whose
//! DER bytes have that SHA-256, whatever its names or issuer, and report any other as
//! [`TransportError::CertificateMismatch`] (ordinary verification when it is not set).

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

/// The SHA-256 fingerprint of the hub's certificate (the DER bytes), as the phone pins it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertPin(pub(crate) [u8; 32]);

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

    /// The fingerprint's 32 bytes.
    pub fn bytes(&self) -> [u8; 32] {
        self.0
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

/// The HTTP method of a call (the protocol needs only these two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// One request header. Names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpHeader {
    /// The header's name, lowercase (`authorization`, `content-type`, `jemput-offset`, …).
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One HTTP call to the hub, as the client wants it made.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpCall {
    /// `GET` or `POST`.
    pub method: HttpMethod,
    /// The whole address (`https://hub.kelurahan.example/api/v1/sync`).
    pub url: String,
    /// Headers to send besides the ones the HTTP stack adds itself (host, length).
    pub headers: Vec<HttpHeader>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
    /// Time limit of the whole call, in milliseconds: connecting, sending and reading.
    pub timeout_ms: u64,
    /// Most answer bytes to read; a longer answer is [`TransportError::TooLarge`].
    pub max_reply_bytes: u64,
    /// The SHA-256 of the only certificate to accept (64 lowercase hex digits, from the QR
    /// code), or `None` for ordinary certificate verification.
    pub cert_sha256: Option<String>,
}

impl fmt::Debug for HttpCall {
    /// Without the headers' values (the device token) and the body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCall")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .field("timeout_ms", &self.timeout_ms)
            .field("pinned", &self.cert_sha256.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpCall {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    /// The pin, if the call carries a well-formed one.
    pub fn pin(&self) -> Option<CertPin> {
        self.cert_sha256.as_deref().and_then(CertPin::parse)
    }
}

/// The hub's answer to one call.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpReply {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers (names lowercase; the client reads only its own protocol headers).
    pub headers: Vec<HttpHeader>,
    /// The body's bytes: all of it, or what arrived before the connection broke.
    pub body: Vec<u8>,
    /// False when the connection broke while the body arrived: `body` holds the part that did.
    pub complete: bool,
}

impl fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpReply")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

impl HttpReply {
    /// The value of header `name` (any case), if the hub sent it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection, a broken one before the answer began, or the time limit passed. The
    /// reason is technical (for logs; it never reaches the officer).
    #[error("network: {reason}")]
    Network {
        /// What the HTTP stack said.
        reason: String,
    },
    /// The hub presented another certificate than the pinned one: nothing was sent.
    #[error("certificate mismatch")]
    CertificateMismatch,
    /// The answer is longer than [`HttpCall::max_reply_bytes`].
    #[error("answer too large")]
    TooLarge,
}

/// What a transport's call gives: a future, so async stacks (reqwest) run on the runtime and
/// blocking ones (the app's, through the native library) run on its blocking threads.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<HttpReply, TransportError>> + Send + 'a>>;

/// Makes HTTP calls to the hub (see the module documentation for what each call must honour).
pub trait HubTransport: Send + Sync + fmt::Debug {
    /// Makes `call` and gives the hub's answer.
    fn call(&self, call: HttpCall) -> CallFuture<'_>;
}

/// A hub's address reduced to what the client uses: scheme, host and port (the protocol's
/// paths are absolute). Parsed by hand so the library needs no URL crate (and its IDNA tables):
/// a host must be ASCII (a domain name in punycode, an IPv4 address, or an IPv6 one in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAddress {
    origin: String,
    loopback: bool,
    https: bool,
}

impl HubAddress {
    /// Reads `url` (`https://host[:port][/anything]`). `None` when it is not a usable address.
    pub fn parse(url: &str) -> Option<HubAddress> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://")?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.is_empty() || authority.len() > 260 || authority.contains('@') {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (ip, after) = v6.split_once(']')?;
            let ip: Ipv6Addr = ip.parse().ok()?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?),
            };
            (Host::V6(ip), port)
        } else {
            let (name, port) = match authority.split_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (authority, None),
            };
            let name_ok = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && !name.starts_with(['.', '-']);
            if !name_ok {
                return None;
            }
            match name.parse::<Ipv4Addr>() {
                Ok(ip) => (Host::V4(ip), port),
                Err(_) => (Host::Name(name.to_ascii_lowercase()), port),
            }
        };
        let port = match port {
            None => None,
            Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u16>().ok()?),
            Some(_) => return None,
        };
        let loopback = match &host {
            Host::Name(n) => n == "localhost",
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => ip.is_loopback(),
        };
        let host = match host {
            Host::Name(n) => n,
            Host::V4(ip) => ip.to_string(),
            Host::V6(ip) => format!("[{ip}]"),
        };
        let origin = match port {
            Some(p) => format!("{}://{host}:{p}", if https { "https" } else { "http" }),
            None => format!("{}://{host}", if https { "https" } else { "http" }),
        };
        Some(HubAddress { origin, loopback, https })
    }

    /// Whether the address uses HTTPS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The address of `path` (absolute, e.g. `/api/v1/sync`) on this hub.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_the_usual_forms() {
        let hex = "0123456789abcdef".repeat(4);
        let pin = CertPin::parse(&hex).unwrap();
        assert_eq!(pin.to_hex(), hex);
        assert_eq!(CertPin::parse(&hex.to_uppercase()), Some(pin));
        let colons = hex.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(":");
        assert_eq!(CertPin::parse(&colons), Some(pin));
        assert_eq!(CertPin::parse(&hex[..62]), None);
        assert_eq!(CertPin::parse(&format!("{}zz", &hex[..62])), None);
        assert_eq!(CertPin::parse(&format!("{}é", &hex[..62])), None);
    }

    #[test]
    fn hub_addresses_keep_scheme_host_and_port() {
        let a = HubAddress::parse("https://Hub.Balongsari.go.id/kelurahan?x=1").unwrap();
        assert_eq!(a.at("/api/v1/sync"), "https://hub.balongsari.go.id/api/v1/sync");
        assert!(a.is_https() && !a.is_loopback());
        let l = HubAddress::parse(" http://127.0.0.1:8080 ").unwrap();
        assert_eq!(l.at("/healthz"), "http://127.0.0.1:8080/healthz");
        assert!(!l.is_https() && l.is_loopback());
        assert!(HubAddress::parse("http://[::1]:8080").unwrap().is_loopback());
        assert_eq!(HubAddress::parse("http://[::1]:8080").unwrap().at("/x"), "http://[::1]:8080/x");
        assert!(HubAddress::parse("http://localhost").unwrap().is_loopback());
        assert!(!HubAddress::parse("http://192.168.1.10").unwrap().is_loopback());
        for bad in [
            "bukan url",
            "ftp://x",
            "https://",
            "https://:80",
            "https://user@hub.go.id",
            "https://hub.go.id:99999",
            "https://hub.go.id:",
            "https://hub.go.id:8a",
            "https://hüb.go.id",
            "https://[::1",
            "https://[::1]x",
            "https://hub go.id",
        ] {
            assert_eq!(HubAddress::parse(bad), None, "{bad}");
        }
    }
}
