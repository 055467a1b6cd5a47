//! Throttling of guesses at the hub's secrets over the JSON API: enrolment codes and staff
//! tokens (ADR 0009). Only failures count. Each failure is counted per client address and per
//! code tried (an enrolment code, a token's hash); once a count reaches its limit within the
//! window, further attempts under that address or code are answered 429 without being
//! checked, until the window ends. The limits are far above what a real officer or staff
//! member ever needs (a few mistyped codes) and far below a guessing run.
//!
//! Counts live in memory, per hub instance, bounded in size. (The dashboard's browser sign-in
//! has its own throttling of failed sign-ins.)

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

use crate::error::ServiceError;

/// Most distinct addresses and codes tracked at once; beyond it the oldest windows are
/// dropped (a flood of fresh addresses cannot grow memory).
const MAX_KEYS: usize = 20_000;

/// One kind of secret's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures allowed per client address within the window.
    pub per_address: u32,
    /// Failures allowed per code (or token) tried within the window.
    pub per_code: u32,
    /// How long failures are counted.
    pub window: Duration,
}

/// Enrolment codes: an officer enrols a phone once, perhaps after mistyping a few times.
pub const ENROLMENT: Limits = Limits { per_address: 10, per_code: 5, window: Duration::from_secs(15 * 60) };

/// Staff tokens on the JSON API: an expired token tried by an open dashboard now and then.
pub const STAFF: Limits = Limits { per_address: 30, per_code: 30, window: Duration::from_secs(15 * 60) };

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

/// Failure counts for one kind of secret. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Throttle {
    limits: Limits,
    counts: Arc<Mutex<HashMap<String, Window>>>,
}

impl Throttle {
    /// A throttle with `limits`.
    pub fn new(limits: Limits) -> Throttle {
        Throttle { limits, counts: Arc::default() }
    }

    fn keys(address: Option<IpAddr>, code: &str) -> [(String, bool); 2] {
        // An IPv6 client holds a whole /64: it counts as one address.
        let addr = match address {
            None => "tanpa-alamat".to_string(),
            Some(IpAddr::V4(a)) => a.to_string(),
            Some(IpAddr::V6(a)) => format!("{:x?}", &a.segments()[..4]),
        };
        [(format!("a:{addr}"), true), (format!("k:{}", blake3::hash(code.trim().to_ascii_uppercase().as_bytes()).to_hex()), false)]
    }

    fn limit(&self, is_address: bool) -> u32 {
        if is_address {
            self.limits.per_address
        } else {
            self.limits.per_code
        }
    }

    /// Refuses (429) an attempt from `address` with `code` when either has used up its failures.
    pub fn check(&self, address: Option<IpAddr>, code: &str) -> Result<(), ServiceError> {
        let now = Instant::now();
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, is_address) in Self::keys(address, code) {
            if counts.get(&key).is_some_and(|w| now.duration_since(w.start) < self.limits.window && w.failures >= self.limit(is_address)) {
                return Err(ServiceError::Throttled);
            }
        }
        Ok(())
    }

    /// Counts a failed attempt from `address` with `code`.
    pub fn fail(&self, address: Option<IpAddr>, code: &str) {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MAX_KEYS {
            // Full: forget finished windows, then one-off failures, then everything.
            counts.retain(|_, w| now.duration_since(w.start) < self.limits.window);
            if counts.len() >= MAX_KEYS {
                counts.retain(|_, w| w.failures > 1);
            }
            if counts.len() >= MAX_KEYS {
                counts.clear();
            }
        }
        for (key, _) in Self::keys(address, code) {
            let w = counts.entry(key).or_insert(Window { start: now, failures: 0 });
            if now.duration_since(w.start) >= self.limits.window {
                *w = Window { start: now, failures: 0 };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// Runs an attempt: refused without running when throttled, counted when it fails with a
    /// wrong secret (`Unauthorized`, `Forbidden`).
    pub fn guard<T>(&self, address: Option<IpAddr>, code: &str, attempt: Result<T, ServiceError>) -> Result<T, ServiceError> {
        if matches!(attempt, Err(ServiceError::Unauthorized(..) | ServiceError::Forbidden(..))) {
            self.fail(address, code);
        }
        attempt
    }
}

/// The throttles of one hub instance.
#[derive(Debug, Clone)]
pub struct Throttles {
    /// Enrolment codes.
    pub enrolment: Throttle,
    /// Staff tokens.
    pub staff: Throttle,
}

impl Default for Throttles {
    fn default() -> Self {
        Throttles { enrolment: Throttle::new(ENROLMENT), staff: Throttle::new(STAFF) }
    }
}

/// The client's address, when the server records it (`ConnectInfo`); `None` in tests that
/// call the router directly.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The staff routes' guard: an address or token that used up its failures is answered 429
/// before the token is looked up; an answer 401 (unknown or revoked token) counts a failure.
pub async fn staff_tokens(State(t): State<Throttle>, ClientAddr(addr): ClientAddr, req: Request, next: Next) -> Response {
    let token = super::bearer(req.headers()).unwrap_or_default();
    if let Err(e) = t.check(addr, &token) {
        return ApiError(e).into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::UNAUTHORIZED {
        t.fail(addr, &token);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> Throttle {
        Throttle::new(Limits { per_address: 3, per_code: 2, window: Duration::from_millis(200) })
    }

    #[test]
    fn an_address_is_throttled_after_its_failures_and_free_again_after_the_window() {
        let t = tight();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for i in 0..3 {
            t.check(a, &format!("kode{i}")).unwrap();
            t.fail(a, &format!("kode{i}"));
        }
        assert!(matches!(t.check(a, "kode-baru"), Err(ServiceError::Throttled)));
        // Another address is not affected.
        t.check(Some(IpAddr::from([10, 0, 0, 2])), "kode-baru").unwrap();
        std::thread::sleep(Duration::from_millis(250));
        t.check(a, "kode-baru").unwrap();
    }

    #[test]
    fn one_code_tried_from_many_addresses_is_throttled() {
        let t = tight();
        for i in 0..2u8 {
            t.fail(Some(IpAddr::from([10, 0, 1, i])), "KODE-BOCOR");
        }
        assert!(matches!(t.check(Some(IpAddr::from([10, 0, 1, 9])), "KODE-BOCOR"), Err(ServiceError::Throttled)));
        t.check(Some(IpAddr::from([10, 0, 1, 9])), "KODE-LAIN").unwrap();
    }

    #[test]
    fn only_wrong_secrets_count() {
        let t = tight();
        let a = Some(IpAddr::from([10, 0, 2, 1]));
        for _ in 0..5 {
            let _ = t.guard(a, "x", Err::<(), _>(ServiceError::BadRequest("nama_perangkat_tidak_valid", "…")));
            let _ = t.guard(a, "x", Ok::<(), ServiceError>(()));
        }
        t.check(a, "x").unwrap();
        let _ = t.guard(a, "x", Err::<(), _>(ServiceError::Forbidden("kode_salah", "…")));
        let _ = t.guard(a, "x", Err::<(), _>(ServiceError::Forbidden("kode_salah", "…")));
        assert!(t.check(a, "x").is_err());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let t = Throttle::new(ENROLMENT);
        for i in 0..(MAX_KEYS as u32 + 500) {
            t.fail(Some(IpAddr::from(i.to_be_bytes())), "k");
        }
        assert!(t.counts.lock().unwrap().len() <= MAX_KEYS + 1);
    }
}
