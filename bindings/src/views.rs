//! The few records the apps need that are not a core type as it is: each one reshapes core
//! data for a screen (a request with its derived status and the hub's refusal, the enrolment
//! as the officer sees it, the QR code's contents). Everything else the apps see is a core type
//! itself, derived for UniFFI in `jemput-core` (feature `uniffi`).

use jemput_core::complaint::{Complaint, ComplaintStatus};
use jemput_core::sync::protocol::DocRefusal;
use jemput_core::{Request, Status};

/// A request for its detail screen: the record, its current status and reason (derived from the
/// history), and the hub's refusal of its last change, if any.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestDetail {
    /// The request itself, with its whole history.
    pub request: Request,
    /// The current status.
    pub status: Status,
    /// The reason attached to the current status (missing document, rejection), if any.
    pub status_reason: Option<String>,
    /// Why the hub refused this request's last change, if it did.
    pub refusal: Option<DocRefusal>,
}

/// A complaint for its detail screen: the record, its current status and the office's latest
/// answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComplaintDetail {
    /// The complaint itself, with its updates.
    pub complaint: Complaint,
    /// The current status.
    pub status: ComplaintStatus,
    /// The office's latest answer to the resident, if any.
    pub latest_response: Option<String>,
    /// Why the hub refused this complaint's last change, if it did.
    pub refusal: Option<DocRefusal>,
}

/// How many requests have one status (home screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StatusCount {
    /// The status.
    pub status: Status,
    /// Requests with it.
    pub count: u64,
}

/// The enrolment as the officer sees it after scanning the QR code. The device's token stays
/// inside the encrypted store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolmentInfo {
    /// The officer's id at the hub.
    pub officer_id: String,
    /// The officer's name.
    pub officer_name: String,
    /// The receipt prefix the hub allocated to this phone.
    pub receipt_prefix: String,
    /// Scope: RW.
    pub rw: u16,
    /// Scope: RT, or none for the whole RW.
    pub rt: Option<u16>,
    /// The hub's address.
    pub hub_url: String,
    /// This phone's device id.
    pub device_id: String,
}

/// What an enrolment QR code says: `jemput://enroll?hub=<url>&code=<code>[&sha256=<hex>]`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolmentQr {
    /// The hub's address.
    pub hub_url: String,
    /// The one-time enrolment code.
    pub code: String,
    /// The SHA-256 fingerprint of a self-signed hub's certificate (64 hex digits), to pin.
    pub cert_sha256: Option<String>,
}
