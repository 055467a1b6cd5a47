//! The hub's HTTP API: the device side (enrolment, the sync exchange) and the staff side (the
//! office actions the dashboard builds on). `app(state)` is the whole router; tests drive it
//! in-process with `oneshot`.

pub mod device;
pub mod error;
pub mod staff;
pub mod throttle;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use jemput_core::sync::protocol;
use jemput_core::{Complaint, Request};

use crate::engine::{Engine, Isolation};
use crate::error::ServiceError;
use crate::storage::HubDb;
use error::ApiError;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: HubDb,
    /// The sync engine.
    pub engine: Engine,
    /// Failure counts of enrolment codes and staff tokens (ADR 0009).
    pub throttles: throttle::Throttles,
}

impl AppState {
    /// State with documents checked in this process (tests, the demo).
    pub fn new(db: HubDb) -> AppState {
        AppState::with_isolation(db, Isolation::default())
    }

    /// State with documents checked as `isolation` says.
    pub fn with_isolation(db: HubDb, isolation: Isolation) -> AppState {
        AppState { engine: Engine::new(db.clone(), isolation), db, throttles: Default::default() }
    }
}

/// The router.
pub fn app(state: AppState) -> Router {
    let staff = Router::new()
        .route("/api/v1/staff/me", get(staff::me))
        .route("/api/v1/staff/requests", get(staff::list::<Request>))
        .route("/api/v1/staff/requests/{id}", get(staff::get_one::<Request>))
        .route("/api/v1/staff/requests/{id}/status", post(staff::set_request_status))
        .route("/api/v1/staff/requests/{id}/office", post(staff::set_office_fields))
        .route("/api/v1/staff/receipts/{code}", get(staff::by_receipt))
        .route("/api/v1/staff/complaints", get(staff::list::<Complaint>))
        .route("/api/v1/staff/complaints/{id}", get(staff::get_one::<Complaint>))
        .route("/api/v1/staff/complaints/{id}/response", post(staff::answer_complaint))
        .route("/api/v1/staff/officers", get(staff::list_officers).post(staff::add_officer))
        .route("/api/v1/staff/officers/{id}/enrol-code", post(staff::enrol_code))
        .route("/api/v1/staff/officers/{id}/revoke", post(staff::revoke_officer))
        .route("/api/v1/staff/devices", get(staff::list_devices))
        .route("/api/v1/staff/devices/{id}/revoke", post(staff::revoke_device))
        .route("/api/v1/staff/bundles", post(staff::import_bundle))
        .route("/api/v1/staff/audit", get(staff::audit_log))
        .route("/api/v1/staff/audit/export", get(staff::audit_export))
        .route("/api/v1/staff/access", post(staff::access_request))
        .route("/api/v1/staff/requests/{id}/erase", post(staff::erase_record))
        .route("/api/v1/staff/complaints/{id}/erase", post(staff::erase_record))
        .route("/api/v1/staff/retention", get(staff::retention).put(staff::set_retention))
        .route_layer(axum::middleware::from_fn_with_state(state.throttles.staff.clone(), throttle::staff_tokens));
    Router::new()
        .route("/api/v1/enroll", post(device::enroll))
        .route("/api/v1/sync", post(device::sync))
        .route("/api/v1/sync/{key}", get(device::resume))
        .route("/api/v1/relay", post(device::relay))
        .merge(staff)
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::web::routes())
        .fallback(|| async { ApiError(ServiceError::NotFound("alamat ini tidak ada di hub")) })
        .layer(DefaultBodyLimit::max(protocol::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(state)
}

/// Refuses a request whose declared length (`Content-Length`) is over the body limit before
/// reading any of it: 413 at once, instead of after the limit's worth of bytes has crossed a
/// paid link (a body without a declared length is cut at the limit by `DefaultBodyLimit`).
async fn refuse_declared_oversize(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > protocol::MAX_BODY_BYTES as u64) {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(req).await
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    Some(headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim().to_string())
}
