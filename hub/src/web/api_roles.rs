//! The JSON staff API gets the dashboard's roles: a middleware in front of `/api/v1/staff/…`
//! refuses a token whose account's role is below what the call needs (the same rules as the
//! pages: officers, devices and the audit log are for admins; approving, refusing and letter
//! numbers for the lurah/sekretaris; the rest for every staff member). Unknown or missing
//! tokens pass through to the handlers, which answer 401 as before.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jemput_core::request::Status;

use super::auth::{role_of, Role};
use super::requests::role_for_status;
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::error::ServiceError;
use crate::service;

/// The role a staff API call needs, given its body (status changes and letter numbers depend
/// on what is asked).
pub fn needed(method: &Method, path: &str, body: &[u8]) -> Role {
    let p = path.trim_start_matches("/api/v1/staff/");
    let admin_only = p.starts_with("officers") || p.starts_with("devices") || p.starts_with("audit");
    if admin_only {
        return Role::Admin;
    }
    if *method == Method::POST && p.starts_with("requests/") && p.ends_with("/status") {
        let status = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).and_then(Status::from_code));
        return status.map(role_for_status).unwrap_or(Role::Operator);
    }
    if *method == Method::POST && p.starts_with("requests/") && p.ends_with("/office") {
        let numbers =
            serde_json::from_slice::<serde_json::Value>(body).ok().is_some_and(|v| v.get("letter_number").is_some_and(|n| !n.is_null()));
        return if numbers { Role::Pimpinan } else { Role::Operator };
    }
    Role::Operator
}

/// The middleware (mounted on the whole router; acts on `/api/v1/staff/…` only).
pub async fn check(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/v1/staff/") {
        return next.run(req).await;
    }
    let Some(token) = crate::api::bearer(req.headers()) else { return next.run(req).await };
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, jemput_core::sync::protocol::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return ApiError(ServiceError::BadRequest("badan_terlalu_besar", "Isi permintaan terlalu besar")).into_response(),
    };
    let need = needed(&parts.method, parts.uri.path(), &bytes);
    let role =
        s.db.call(move |tx, _| -> Result<_, ServiceError> {
            match tx.staff_by_token_hash(&service::secret_hash(&token))? {
                Some(a) if a.active => Ok(Some(role_of(tx, &a.id)?)),
                _ => Ok(None),
            }
        })
        .await;
    match role {
        Err(e) => ApiError(e).into_response(),
        Ok(Some(r)) if r < need => {
            ApiError(ServiceError::Forbidden("peran_tidak_cukup", "Peran akun ini tidak berwenang untuk tindakan ini")).into_response()
        }
        _ => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}
