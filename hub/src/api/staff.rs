//! The staff side of the API (the office actions the dashboard builds on): requests and
//! complaints (list, read, set an office status with its reason, assign the letter number, answer
//! a complaint), officers and their devices, enrolment codes, bundles brought by hand, and the
//! audit log. Every call needs a staff token, and an account role as the dashboard's pages do
//! (officers, devices and the audit log are for admins; approving, refusing and letter numbers
//! for the lurah/sekretaris; the rest for every staff member); every read of personal data is
//! audited.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use jemput_core::complaint::{Complaint, ComplaintStatus};
use jemput_core::crypto::Cipher;
use jemput_core::document::{self, DocKind};
use jemput_core::permissions::Scope;
use jemput_core::request::{Actor, Request, Role as ActorRole, Status};
use jemput_core::sync::hub_side::Placement;
use jemput_core::validation::limits;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{bearer, AppState};
use crate::error::ServiceError;
use crate::service::{self, Role};
use crate::storage::{DocFilter, HubTx, StaffAccount};

/// The staff account behind a request's token.
fn staff_of(tx: &mut dyn HubTx, token: &Option<String>) -> Result<StaffAccount, ServiceError> {
    let t = token.as_deref().ok_or(ServiceError::Unauthorized("staf_belum_masuk", "Staf belum masuk"))?;
    service::staff_by_token(tx, t)
}

/// Runs `f` in a transaction as the staff member whose token `headers` carry; refused when there
/// is none or it is unknown or revoked (401), or when the account's role is below `need` (403).
async fn as_staff<T: Send + 'static>(
    s: &AppState,
    headers: &HeaderMap,
    need: Role,
    mut f: impl FnMut(&mut dyn HubTx, &Cipher, &StaffAccount) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let token = bearer(headers);
    s.db.call(move |tx, cipher| {
        let staff = staff_of(tx, &token)?;
        // Every account is at least an operator: only a higher need looks the role up.
        if need > Role::Operator && service::role_of(tx, &staff.id)? < need {
            return Err(ServiceError::Forbidden("peran_tidak_cukup", "Peran akun ini tidak berwenang untuk tindakan ini"));
        }
        f(tx, cipher, &staff)
    })
    .await
}

fn who(s: &StaffAccount) -> String {
    format!("staf:{}", s.id)
}

/// A record the staff API lists and reads: requests and complaints.
pub(crate) trait OfficeRecord: document::Record + Serialize + Send + 'static {
    /// "Not found" message.
    const MISSING: &'static str;
    /// Audit actions for a list and for reading one.
    const AUDIT_LIST: &'static str;
    const AUDIT_READ: &'static str;
    /// A list row.
    type Row: Serialize + Send + 'static;
    /// Whether `code` is one of this record's statuses.
    fn valid_status(code: &str) -> bool;
    /// The record as the office sees it (a request the hub holds counts as received).
    fn office_view(&mut self) {}
    /// Its list row.
    fn row(&self) -> Self::Row;
}

impl OfficeRecord for Request {
    const MISSING: &'static str = "permohonan tidak ditemukan";
    const AUDIT_LIST: &'static str = "lihat_daftar_permohonan";
    const AUDIT_READ: &'static str = "lihat_permohonan";
    type Row = RequestRow;
    fn valid_status(code: &str) -> bool {
        Status::from_code(code).is_some()
    }
    fn office_view(&mut self) {
        self.mark_received();
    }
    fn row(&self) -> RequestRow {
        RequestRow {
            id: self.id.clone(),
            receipt: self.receipt.clone(),
            service_code: self.service_code.clone(),
            status: self.status(),
            status_label: self.status().label(),
            status_reason: self.status_reason().map(str::to_string),
            name: self.applicant.name.clone(),
            rw: self.applicant.address.rw,
            rt: self.applicant.address.rt,
            created_at: self.created_at,
            letter_number: self.office.letter_number.clone(),
        }
    }
}

impl OfficeRecord for Complaint {
    const MISSING: &'static str = "pengaduan tidak ditemukan";
    const AUDIT_LIST: &'static str = "lihat_daftar_pengaduan";
    const AUDIT_READ: &'static str = "lihat_pengaduan";
    type Row = ComplaintRow;
    fn valid_status(code: &str) -> bool {
        ComplaintStatus::from_code(code).is_some()
    }
    fn row(&self) -> ComplaintRow {
        ComplaintRow {
            id: self.id.clone(),
            receipt: self.receipt.clone(),
            category: self.category.code().into(),
            topic: self.topic.clone(),
            status: self.status(),
            rw: self.place.rw,
            rt: self.place.rt,
            created_at: self.created_at,
            response: self.latest_response().map(str::to_string),
        }
    }
}

/// A stored record as the office sees it, with its document.
pub(crate) fn read_record<R: OfficeRecord>(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    id: &str,
    for_update: bool,
) -> Result<(automerge::AutoCommit, R), ServiceError> {
    let doc = service::load_doc(tx, cipher, id, for_update)?.ok_or(ServiceError::NotFound(R::MISSING))?;
    let mut r: R = document::read(&doc).map_err(|_| ServiceError::Corrupt("dokumen yang diminta staf"))?;
    r.office_view();
    Ok((doc, r))
}

/// The signed-in staff account.
pub(crate) async fn me(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(as_staff(&s, &headers, Role::Operator, |_, _, staff| Ok(staff.clone())).await?))
}

/// Filters and paging for lists.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    status: Option<String>,
    rw: Option<u16>,
    rt: Option<u16>,
    offset: Option<u32>,
    limit: Option<u32>,
}

/// One page of a list.
#[derive(Serialize)]
struct Page<T> {
    total: u64,
    items: Vec<T>,
}

/// A request as staff see it in a list.
#[derive(Serialize)]
pub(crate) struct RequestRow {
    id: String,
    receipt: String,
    service_code: String,
    status: Status,
    status_label: &'static str,
    status_reason: Option<String>,
    name: String,
    rw: u16,
    rt: u16,
    created_at: i64,
    letter_number: Option<String>,
}

fn filter(kind: DocKind, q: &ListQuery, valid_status: fn(&str) -> bool) -> Result<DocFilter, ServiceError> {
    if let Some(st) = &q.status {
        if !valid_status(st) {
            return Err(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal"));
        }
    }
    Ok(DocFilter { kind: kind.code().into(), status: q.status.clone(), rw: q.rw, rt: q.rt })
}

fn page(q: &ListQuery) -> (u32, u32) {
    (q.offset.unwrap_or(0), q.limit.unwrap_or(50).clamp(1, 100))
}

/// A page of requests or complaints, newest change first, filtered by status and area.
pub(crate) async fn list<R: OfficeRecord>(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let out = as_staff(&s, &headers, Role::Operator, move |tx, cipher, staff| {
        let f = filter(R::KIND, &q, R::valid_status)?;
        let (offset, limit) = page(&q);
        let total = tx.count_docs(&f)?;
        let mut items = Vec::new();
        for id in tx.doc_ids(&f, offset, limit)? {
            items.push(read_record::<R>(tx, cipher, &id, false)?.1.row());
        }
        service::audit(tx, &who(staff), R::AUDIT_LIST, None)?;
        Ok(Page { total, items })
    })
    .await?;
    Ok(Json(out))
}

/// One request or complaint in full.
pub(crate) async fn get_one<R: OfficeRecord>(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let r = as_staff(&s, &headers, Role::Operator, move |tx, cipher, staff| {
        let (_, r) = read_record::<R>(tx, cipher, &id, false)?;
        service::audit(tx, &who(staff), R::AUDIT_READ, Some(&id))?;
        Ok(r)
    })
    .await?;
    Ok(Json(r))
}

/// A record found by its receipt code (a resident asking at the counter).
#[derive(Serialize)]
struct Found {
    kind: &'static str,
    id: String,
    status: String,
}

pub(crate) async fn by_receipt(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let code = jemput_core::ReceiptCode::parse(&code)
        .map_err(|_| ServiceError::BadRequest("kode_tanda_terima_salah", "Kode tanda terima salah ketik"))?;
    let found = as_staff(&s, &headers, Role::Operator, move |tx, cipher, staff| {
        let id = tx.doc_by_receipt(code.as_str())?.ok_or(ServiceError::NotFound("tidak ada permohonan dengan kode ini"))?;
        let doc = service::load_doc(tx, cipher, &id, false)?.ok_or(ServiceError::NotFound("tidak ada permohonan dengan kode ini"))?;
        service::audit(tx, &who(staff), "cari_tanda_terima", Some(&id))?;
        Ok(match document::kind(&doc).map_err(|_| ServiceError::Corrupt("dokumen dengan kode tanda terima"))? {
            DocKind::Complaint => {
                let c: Complaint = document::read(&doc).map_err(|_| ServiceError::Corrupt("dokumen dengan kode tanda terima"))?;
                Found { kind: "pengaduan", id, status: c.status().code().into() }
            }
            _ => {
                let mut r: Request = document::read(&doc).map_err(|_| ServiceError::Corrupt("dokumen dengan kode tanda terima"))?;
                r.mark_received();
                Found { kind: "permohonan", id, status: r.status().code().into() }
            }
        })
    })
    .await?;
    Ok(Json(found))
}

#[derive(Deserialize, Clone)]
pub(crate) struct StatusBody {
    status: String,
    reason: Option<String>,
}

pub(crate) async fn set_request_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> Result<impl IntoResponse, ApiError> {
    let status = Status::from_code(&b.status).ok_or(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal"))?;
    let r = as_staff(&s, &headers, service::role_for_status(status), move |tx, cipher, staff| {
        change_request_status(tx, cipher, staff, &id, status, b.reason.clone())
    })
    .await?;
    Ok(Json(r))
}

/// Changes a request's status as a staff member (the core's transition rules), stores it for
/// the officer's next sync and audits it once.
pub(crate) fn change_request_status(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    staff: &StaffAccount,
    id: &str,
    status: Status,
    reason: Option<String>,
) -> Result<Request, ServiceError> {
    ServiceError::check_length("Alasan", reason.as_deref(), limits::REASON)?;
    let (mut doc, mut r) = read_record::<Request>(tx, cipher, id, true)?;
    let actor = Actor { role: ActorRole::Staf, id: staff.id.clone() };
    r.change_status(status, actor, reason, jemput_core::time_util::now_ms()).map_err(|m| {
        tracing::info!(reason = %m, "perubahan status ditolak");
        ServiceError::Rejected("status_tidak_diizinkan", m)
    })?;
    doc.set_actor(service::hub_actor(tx)?);
    document::update(&mut doc, &r).map_err(|_| ServiceError::Internal)?;
    service::put_doc_from(tx, cipher, id, &mut doc, &Placement::of_request(&r))?;
    service::audit(tx, &who(staff), &format!("status:{}", status.code()), Some(id))?;
    Ok(r)
}

#[derive(Deserialize, Clone)]
pub(crate) struct OfficeBody {
    letter_number: Option<String>,
    staff_notes: Option<String>,
}

pub(crate) async fn set_office_fields(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<OfficeBody>,
) -> Result<impl IntoResponse, ApiError> {
    if b.letter_number.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ServiceError::BadRequest("nomor_surat_tidak_valid", "Nomor surat wajib diisi").into());
    }
    // Assigning the letter number is for the lurah/sekretaris; the office note for everyone.
    let need = if b.letter_number.is_some() { Role::Pimpinan } else { Role::Operator };
    let r = as_staff(&s, &headers, need, move |tx, cipher, staff| {
        set_office_fields_of(tx, cipher, staff, &id, b.letter_number.as_deref(), b.staff_notes.as_deref())
    })
    .await?;
    Ok(Json(r))
}

/// Sets a request's letter number and/or office note (checked by the caller), stores it and
/// audits it once.
pub(crate) fn set_office_fields_of(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    staff: &StaffAccount,
    id: &str,
    letter_number: Option<&str>,
    staff_notes: Option<&str>,
) -> Result<Request, ServiceError> {
    ServiceError::check_length("Nomor surat", letter_number, limits::LETTER_NUMBER)?;
    ServiceError::check_length("Catatan staf", staff_notes, limits::STAFF_NOTES)?;
    let (mut doc, mut r) = read_record::<Request>(tx, cipher, id, true)?;
    if let Some(n) = letter_number {
        r.office.letter_number = Some(n.trim().to_string());
    }
    if let Some(n) = staff_notes {
        r.office.staff_notes = Some(n.trim().to_string()).filter(|n| !n.is_empty());
    }
    doc.set_actor(service::hub_actor(tx)?);
    document::update(&mut doc, &r).map_err(|_| ServiceError::Internal)?;
    service::put_doc_from(tx, cipher, id, &mut doc, &Placement::of_request(&r))?;
    service::audit(tx, &who(staff), "isian_kantor", Some(id))?;
    Ok(r)
}

/// A complaint as staff see it in a list.
#[derive(Serialize)]
pub(crate) struct ComplaintRow {
    id: String,
    receipt: String,
    category: String,
    topic: String,
    status: ComplaintStatus,
    rw: u16,
    rt: u16,
    created_at: i64,
    response: Option<String>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct ResponseBody {
    status: String,
    response: Option<String>,
}

pub(crate) async fn answer_complaint(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<ResponseBody>,
) -> Result<impl IntoResponse, ApiError> {
    let status = ComplaintStatus::from_code(&b.status).ok_or(ServiceError::BadRequest("status_tidak_dikenal", "Status tidak dikenal"))?;
    let c = as_staff(&s, &headers, Role::Operator, move |tx, cipher, staff| {
        answer_complaint_of(tx, cipher, staff, &id, status, b.response.clone())
    })
    .await?;
    Ok(Json(c))
}

/// Answers a complaint (new status and the office's answer), stores it for the officer's next
/// sync and audits it once.
pub(crate) fn answer_complaint_of(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    staff: &StaffAccount,
    id: &str,
    status: ComplaintStatus,
    response: Option<String>,
) -> Result<Complaint, ServiceError> {
    ServiceError::check_length("Jawaban", response.as_deref(), limits::RESPONSE)?;
    let (mut doc, mut c) = read_record::<Complaint>(tx, cipher, id, true)?;
    let actor = Actor { role: ActorRole::Staf, id: staff.id.clone() };
    c.respond(status, actor, response, jemput_core::time_util::now_ms())
        .map_err(|m| ServiceError::Rejected("status_tidak_diizinkan", m))?;
    doc.set_actor(service::hub_actor(tx)?);
    document::update(&mut doc, &c).map_err(|_| ServiceError::Internal)?;
    service::put_doc_from(tx, cipher, id, &mut doc, &Placement::of_complaint(&c))?;
    service::audit(tx, &who(staff), &format!("jawab_pengaduan:{}", status.code()), Some(id))?;
    Ok(c)
}

pub(crate) async fn list_officers(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(as_staff(&s, &headers, Role::Admin, move |tx, _, _| service::officers(tx)).await?))
}

#[derive(Deserialize, Clone)]
pub(crate) struct OfficerBody {
    name: String,
    rw: u16,
    rt: Option<u16>,
}

pub(crate) async fn add_officer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<OfficerBody>,
) -> Result<impl IntoResponse, ApiError> {
    let o = as_staff(&s, &headers, Role::Admin, move |tx, cipher, staff| {
        let k = service::docs::kelurahan(tx, cipher)?.ok_or(ServiceError::Config("profil kelurahan belum dibuat; jalankan init".into()))?;
        let exists = match b.rt {
            Some(rt) => k.has_rt(b.rw, rt),
            None => k.has_rw(b.rw),
        };
        if !exists {
            return Err(ServiceError::BadRequest("wilayah_tidak_ada", "RW/RT ini tidak ada di kelurahan"));
        }
        service::add_officer_as(tx, &b.name, Scope { rw: b.rw, rt: b.rt }, &who(staff))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

#[derive(Deserialize, Default)]
pub(crate) struct CodeBody {
    hours: Option<i64>,
    hub_url: Option<String>,
}

/// A one-time enrolment code and the QR payload that carries it.
#[derive(Serialize)]
struct EnrolCodeOut {
    code: String,
    hours: i64,
    qr: Option<String>,
}

pub(crate) async fn enrol_code(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<CodeBody>>,
) -> Result<impl IntoResponse, ApiError> {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    ServiceError::check_length("Alamat hub", b.hub_url.as_deref(), limits::STREET)?;
    let hours = b.hours.unwrap_or(48);
    let code = as_staff(&s, &headers, Role::Admin, move |tx, _, staff| {
        let code = service::create_enrol_code(tx, &id, hours)?;
        service::audit(tx, &who(staff), &format!("kode_pendaftaran:{id}"), None)?;
        Ok(code)
    })
    .await?;
    let qr = b.hub_url.map(|u| crate::service::setup::qr_payload(&u, &code));
    Ok((StatusCode::CREATED, Json(EnrolCodeOut { code, hours, qr })))
}

pub(crate) async fn revoke_officer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    as_staff(&s, &headers, Role::Admin, move |tx, _, staff| service::revoke_officer_as(tx, &id, &who(staff))).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_devices(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(as_staff(&s, &headers, Role::Admin, move |tx, _, _| Ok(tx.devices()?)).await?))
}

pub(crate) async fn revoke_device(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    as_staff(&s, &headers, Role::Admin, move |tx, _, staff| service::revoke_device_as(tx, &id, &who(staff))).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn import_bundle(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let isolation = s.engine.isolation().clone();
    let report = as_staff(&s, &headers, Role::Operator, move |tx, cipher, staff| {
        crate::engine::import_bundle_bytes(tx, cipher, &isolation, &body, &who(staff))
    })
    .await?;
    Ok(Json(report))
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<u32>,
}

/// One audit entry.
#[derive(Serialize)]
struct AuditRow {
    at: i64,
    actor: String,
    action: String,
    doc_id: Option<String>,
}

pub(crate) async fn audit_log(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = as_staff(&s, &headers, Role::Admin, move |tx, _, _| {
        Ok(tx
            .audit_tail(limit)?
            .into_iter()
            .map(|e| AuditRow { at: e.at, actor: e.actor, action: e.action, doc_id: e.doc_id })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(rows))
}

/// The range and format of an audit export.
#[derive(Deserialize)]
pub(crate) struct AuditExportQuery {
    /// First day (YYYY-MM-DD, WIB), included.
    #[serde(default)]
    dari: String,
    /// Last day (YYYY-MM-DD, WIB), included.
    #[serde(default)]
    sampai: String,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `GET /api/v1/staff/audit/export?dari=…&sampai=…[&format=csv]` (admin): the audit log of a
/// date range for a data breach report (ADR 0014), at most 92 days and 50,000 entries;
/// audited itself.
pub(crate) async fn audit_export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    let format = q.format.clone();
    let (dari, sampai) = (q.dari.clone(), q.sampai.clone());
    // Checked once the caller is known to be an admin: nobody else learns anything of the rules.
    let (rows, csv) = as_staff(&s, &headers, Role::Admin, move |tx, _, staff| {
        let csv = match format.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(_) => return Err(ServiceError::BadRequest("format_tidak_dikenal", "Format ekspor harus json atau csv")),
        };
        let range = service::audit::ExportRange::from_days(&dari, &sampai)?;
        Ok((service::audit::export(tx, &range, &who(staff))?, csv))
    })
    .await?;
    if csv {
        let disposition = format!("attachment; filename=\"audit-{}-{}.csv\"", q.dari, q.sampai);
        Ok((
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (axum::http::header::CONTENT_DISPOSITION, disposition),
            ],
            service::audit::to_csv(&rows),
        )
            .into_response())
    } else {
        Ok(Json(rows).into_response())
    }
}

/// An access request: the resident's NIK (in the body, never in the address).
#[derive(Deserialize)]
pub(crate) struct AccessBody {
    nik: String,
}

/// `POST /api/v1/staff/access`: everything the hub holds about a NIK (UU PDP access request,
/// ADR 0015), for the lurah/sekretaris and admins; audited with the NIK's blind tag.
pub(crate) async fn access_request(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<AccessBody>,
) -> Result<impl IntoResponse, ApiError> {
    let nik: String = b.nik.chars().take(64).collect();
    let report = as_staff(&s, &headers, Role::Pimpinan, move |tx, cipher, staff| {
        crate::web::access::access_report(tx, cipher, &nik, &who(staff), &staff.name)
    })
    .await?;
    Ok(Json(report))
}

/// What staff send to erase a record's personal data.
#[derive(Deserialize)]
pub(crate) struct EraseBody {
    /// Why (e.g. "permintaan warga tanggal …, surat no. …"); audited, at most
    /// `service::erasure::MAX_REASON_CHARS` characters, with no personal data.
    alasan: String,
}

/// `POST /api/v1/staff/{requests|complaints}/{id}/erase` (pimpinan or admin): erases the
/// record's personal data on the hub and, as they sync, on every phone (ADR 0013); the letter
/// register entry remains. Answers with the erasure.
pub(crate) async fn erase_record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<EraseBody>,
) -> Result<impl IntoResponse, ApiError> {
    let reason = service::erasure::check_reason(&b.alasan)?;
    let erased = as_staff(&s, &headers, Role::Pimpinan, move |tx, cipher, staff| {
        crate::web::index::erase_record(tx, cipher, &id, &reason, &who(staff), jemput_core::time_util::now_ms())
    })
    .await?;
    s.db.scrub_in_background().await.map_err(ServiceError::from)?;
    Ok(Json(erased))
}

/// `GET /api/v1/staff/retention` (any staff): the kelurahan's retention policy.
pub(crate) async fn retention(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(as_staff(&s, &headers, Role::Operator, move |tx, cipher, _| service::erasure::retention(tx, cipher)).await?))
}

/// `PUT /api/v1/staff/retention` (admin): sets the retention policy; phones get it with the
/// kelurahan profile on their next sync.
pub(crate) async fn set_retention(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(policy): Json<jemput_core::kelurahan::Retention>,
) -> Result<impl IntoResponse, ApiError> {
    let p = policy;
    as_staff(&s, &headers, Role::Admin, move |tx, cipher, staff| service::erasure::set_retention(tx, cipher, &p, &who(staff))).await?;
    Ok(Json(policy))
}
