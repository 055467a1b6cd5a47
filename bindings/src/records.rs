//! FFI records and enums: plain mirrors of the `jemput-core` types the app needs, with the
//! conversions to and from them. No logic lives here beyond copying fields.

use std::collections::HashMap;

use jemput_core as jc;

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

/// Jenis kelamin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Sex {
    /// Laki-laki.
    LakiLaki,
    /// Perempuan.
    Perempuan,
}

/// The status of a request, in life order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Status {
    /// Recorded on the phone, not yet at the office.
    Dicatat,
    /// Reached the kelurahan hub.
    Terkirim,
    /// Checked by the office.
    Diverifikasi,
    /// Being processed.
    Diproses,
    /// A document is missing; the reason says which.
    PerluKelengkapan,
    /// The officer has collected what was missing.
    Dilengkapi,
    /// Rejected; the reason says why.
    Ditolak,
    /// The letter is ready.
    Selesai,
    /// The letter has been handed to the resident.
    Diserahkan,
}

/// Who acts on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    /// An RT/RW officer with the app.
    Petugas,
    /// Kelurahan office staff, through the hub.
    Staf,
    /// The hub itself.
    Sistem,
}

/// How serious a validation issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    /// The value is impossible; the record cannot be saved.
    Error,
    /// The value is possible but suspicious; the officer must confirm it.
    Warning,
}

/// How an extra field of a service is entered and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// Longer free text.
    LongText,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A whole number.
    Number,
    /// A NIK (16 digits).
    Nik,
    /// A phone number.
    Phone,
}

/// What kind of message a resident brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ComplaintCategory {
    /// Pengaduan: something is wrong and needs action.
    Pengaduan,
    /// Aspirasi: a wish for the neighbourhood.
    Aspirasi,
    /// Saran: a suggestion to the office.
    Saran,
}

/// The status of a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ComplaintStatus {
    /// Recorded on the phone.
    Dicatat,
    /// Received by the office.
    Diterima,
    /// Being acted on.
    Ditindaklanjuti,
    /// Done, with the office's answer.
    Selesai,
}

/// Maps a mirror enum to and from its core twin, variant by variant.
macro_rules! mirror_enum {
    ($ffi:ident <=> $core:ty { $($v:ident),* $(,)? }) => {
        impl From<$core> for $ffi {
            fn from(v: $core) -> Self {
                type C = $core;
                match v { $(C::$v => $ffi::$v),* }
            }
        }
        impl From<$ffi> for $core {
            fn from(v: $ffi) -> Self {
                type C = $core;
                match v { $($ffi::$v => C::$v),* }
            }
        }
    };
}

mirror_enum!(Sex <=> jc::Sex { LakiLaki, Perempuan });
mirror_enum!(Status <=> jc::Status {
    Dicatat, Terkirim, Diverifikasi, Diproses, PerluKelengkapan, Dilengkapi, Ditolak, Selesai, Diserahkan
});
mirror_enum!(Role <=> jc::Role { Petugas, Staf, Sistem });
mirror_enum!(Severity <=> jc::Severity { Error, Warning });
mirror_enum!(FieldKind <=> jc::FieldKind { Text, LongText, Date, Number, Nik, Phone });
mirror_enum!(ComplaintCategory <=> jc::ComplaintCategory { Pengaduan, Aspirasi, Saran });
mirror_enum!(ComplaintStatus <=> jc::ComplaintStatus { Dicatat, Diterima, Ditindaklanjuti, Selesai });

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// One validation problem: the field, a stable code and a message in Bahasa Indonesia. The
/// message never repeats personal data (NIK, names) typed by the officer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Issue {
    /// The field, as a dotted path (`applicant.nik`, `fields.keperluan`).
    pub field: String,
    /// A stable machine-readable code (`nik_panjang`, `kemungkinan_ganda`, …).
    pub code: String,
    /// A message in Bahasa Indonesia a person understands.
    pub message: String,
    /// Error (blocks saving) or warning (needs the officer's confirmation).
    pub severity: Severity,
}

impl From<jc::Issue> for Issue {
    fn from(i: jc::Issue) -> Self {
        Issue { field: i.field, code: i.code, message: i.message, severity: i.severity.into() }
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog and kelurahan
// ---------------------------------------------------------------------------------------------

/// The service catalog: which letters the kelurahan issues.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Catalog {
    /// Incremented by the office on every published change.
    pub version: u64,
    /// The services, in display order (withdrawn ones included, with `active = false`).
    pub services: Vec<Service>,
}

/// One service (layanan) the office provides.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Service {
    /// Stable code, e.g. `sktm`, `domisili`.
    pub code: String,
    /// Name shown to officers and residents.
    pub name: String,
    /// What the letter is for.
    pub description: String,
    /// Documents the resident must show or hand over (persyaratan).
    pub requirements: Vec<Requirement>,
    /// Extra data the letter needs.
    pub fields: Vec<ExtraField>,
    /// Whether a surat pengantar RT/RW is needed.
    pub needs_rt_rw_endorsement: bool,
    /// Typical processing time in working days.
    pub processing_days: u32,
    /// False when the office has withdrawn the service.
    pub active: bool,
}

/// One requirement (persyaratan) of a service.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Requirement {
    /// Stable code within the service, e.g. `ktp`, `kk`.
    pub code: String,
    /// What the resident brings, in Bahasa Indonesia.
    pub label: String,
    /// False for "if any" documents.
    pub mandatory: bool,
}

/// An extra field a service's letter needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExtraField {
    /// Stable key, e.g. `keperluan`.
    pub key: String,
    /// Label shown to the officer.
    pub label: String,
    /// How it is entered and validated.
    pub kind: FieldKind,
    /// Whether the letter cannot be made without it.
    pub required: bool,
}

impl From<jc::Catalog> for Catalog {
    fn from(c: jc::Catalog) -> Self {
        Catalog { version: c.version, services: c.services.into_iter().map(Into::into).collect() }
    }
}

impl From<jc::Service> for Service {
    fn from(s: jc::Service) -> Self {
        Service {
            code: s.code,
            name: s.name,
            description: s.description,
            requirements: s
                .requirements
                .into_iter()
                .map(|r| Requirement { code: r.code, label: r.label, mandatory: r.mandatory })
                .collect(),
            fields: s
                .fields
                .into_iter()
                .map(|f| ExtraField { key: f.key, label: f.label, kind: f.kind.into(), required: f.required })
                .collect(),
            needs_rt_rw_endorsement: s.needs_rt_rw_endorsement,
            processing_days: s.processing_days,
            active: s.active,
        }
    }
}

/// The kelurahan (or desa) profile officers show offline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Kelurahan {
    /// Official name, e.g. "Kelurahan Balongsari".
    pub name: String,
    /// Official region code (kode wilayah).
    pub region_code: String,
    /// Kecamatan name.
    pub kecamatan: String,
    /// City or regency name.
    pub city: String,
    /// The RWs and their RTs.
    pub rws: Vec<Rw>,
    /// Office address.
    pub office_address: String,
    /// Office hours, in words.
    pub office_hours: String,
    /// Staff contacts.
    pub contacts: Vec<Contact>,
    /// Emergency numbers.
    pub emergency_numbers: Vec<Contact>,
    /// Useful links.
    pub links: Vec<Link>,
}

/// One RW and the RTs in it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Rw {
    /// RW number.
    pub number: u16,
    /// RT numbers in this RW.
    pub rts: Vec<u16>,
}

/// A named phone contact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Contact {
    /// Who or what (e.g. "Sekretaris Kelurahan", "Ambulans").
    pub label: String,
    /// Phone number as dialled.
    pub phone: String,
}

/// A useful link.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Link {
    /// What it is for.
    pub label: String,
    /// The address.
    pub url: String,
}

impl From<jc::Kelurahan> for Kelurahan {
    fn from(k: jc::Kelurahan) -> Self {
        let contact = |c: jc::kelurahan::Contact| Contact { label: c.label, phone: c.phone };
        Kelurahan {
            name: k.name,
            region_code: k.region_code,
            kecamatan: k.kecamatan,
            city: k.city,
            rws: k.rws.into_iter().map(|r| Rw { number: r.number, rts: r.rts }).collect(),
            office_address: k.office_address,
            office_hours: k.office_hours,
            contacts: k.contacts.into_iter().map(contact).collect(),
            emergency_numbers: k.emergency_numbers.into_iter().map(contact).collect(),
            links: k.links.into_iter().map(|l| Link { label: l.label, url: l.url }).collect(),
        }
    }
}

impl From<Kelurahan> for jc::Kelurahan {
    fn from(k: Kelurahan) -> Self {
        let contact = |c: Contact| jc::kelurahan::Contact { label: c.label, phone: c.phone };
        jc::Kelurahan {
            name: k.name,
            region_code: k.region_code,
            kecamatan: k.kecamatan,
            city: k.city,
            rws: k.rws.into_iter().map(|r| jc::kelurahan::Rw { number: r.number, rts: r.rts }).collect(),
            office_address: k.office_address,
            office_hours: k.office_hours,
            contacts: k.contacts.into_iter().map(contact).collect(),
            emergency_numbers: k.emergency_numbers.into_iter().map(contact).collect(),
            links: k.links.into_iter().map(|l| jc::kelurahan::Link { label: l.label, url: l.url }).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Where a resident lives.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Address {
    /// Street, house number, gang.
    pub street: String,
    /// RT number.
    pub rt: u16,
    /// RW number.
    pub rw: u16,
}

/// The resident asking for the letter (pemohon).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Applicant {
    /// Full name as on the KTP.
    pub name: String,
    /// NIK, 16 digits.
    pub nik: String,
    /// No. KK, 16 digits.
    pub kk: String,
    /// Tempat lahir.
    pub birth_place: String,
    /// Tanggal lahir, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Jenis kelamin.
    pub sex: Sex,
    /// Alamat.
    pub address: Address,
    /// Phone number, if the resident has one.
    #[uniffi(default)]
    pub phone: Option<String>,
    /// Whether the resident uses WhatsApp.
    #[uniffi(default = false)]
    pub uses_whatsapp: bool,
}

impl From<jc::Applicant> for Applicant {
    fn from(a: jc::Applicant) -> Self {
        Applicant {
            name: a.name,
            nik: a.nik,
            kk: a.kk,
            birth_place: a.birth_place,
            birth_date: a.birth_date,
            sex: a.sex.into(),
            address: Address { street: a.address.street, rt: a.address.rt, rw: a.address.rw },
            phone: a.phone,
            uses_whatsapp: a.uses_whatsapp,
        }
    }
}

impl From<Applicant> for jc::Applicant {
    fn from(a: Applicant) -> Self {
        jc::Applicant {
            name: a.name,
            nik: a.nik,
            kk: a.kk,
            birth_place: a.birth_place,
            birth_date: a.birth_date,
            sex: a.sex.into(),
            address: jc::request::Address { street: a.address.street, rt: a.address.rt, rw: a.address.rw },
            phone: a.phone,
            uses_whatsapp: a.uses_whatsapp,
        }
    }
}

/// What an officer enters at the door for a letter request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestDraft {
    /// Service code from the catalog.
    pub service_code: String,
    /// The applicant.
    pub applicant: Applicant,
    /// Requirement codes whose documents the officer has seen.
    #[uniffi(default)]
    pub documents_seen: Vec<String>,
    /// The service's extra fields, by key.
    #[uniffi(default)]
    pub fields: HashMap<String, String>,
    /// Free notes.
    #[uniffi(default = "")]
    pub notes: String,
}

impl From<RequestDraft> for jc::RequestDraft {
    fn from(d: RequestDraft) -> Self {
        jc::RequestDraft {
            service_code: d.service_code,
            applicant: d.applicant.into(),
            documents_seen: d.documents_seen,
            fields: d.fields.into_iter().collect(),
            notes: d.notes,
        }
    }
}

/// A saved request or complaint.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Recorded {
    /// Its id.
    pub id: String,
    /// The receipt code to give the resident (`XXXX-XXXX-C`).
    pub receipt: String,
    /// The warnings the officer confirmed (e.g. a document to bring later).
    pub warnings: Vec<Issue>,
}

impl From<jc::store::Recorded> for Recorded {
    fn from(r: jc::store::Recorded) -> Self {
        Recorded { id: r.id, receipt: r.receipt, warnings: r.warnings.into_iter().map(Into::into).collect() }
    }
}

/// One step in a request's life.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusChange {
    /// The new status.
    pub status: Status,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The role of who set it.
    pub by_role: Role,
    /// Who set it, within the role (officer id, staff id, hub).
    pub by_id: String,
    /// Why (missing document, rejection), if given.
    pub reason: Option<String>,
}

/// A request for a letter, as the office and the officer see it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Request {
    /// Unique id.
    pub id: String,
    /// The receipt code given to the resident.
    pub receipt: String,
    /// Service code.
    pub service_code: String,
    /// Catalog version the request was recorded against.
    pub catalog_version: u64,
    /// The applicant.
    pub applicant: Applicant,
    /// Requirement code → whether the officer has seen the document.
    pub checklist: HashMap<String, bool>,
    /// The service's extra fields, by key.
    pub fields: HashMap<String, String>,
    /// Free notes by the officer.
    pub notes: String,
    /// Officer who recorded it.
    pub officer_id: String,
    /// Device it was recorded on.
    pub device_id: String,
    /// When it was recorded, Unix milliseconds.
    pub created_at: i64,
    /// The current status.
    pub status: Status,
    /// The reason attached to the current status, if any.
    pub status_reason: Option<String>,
    /// The status history, in the order appended.
    pub history: Vec<StatusChange>,
    /// The letter's number once the office has issued it.
    pub letter_number: Option<String>,
    /// Notes by office staff.
    pub staff_notes: Option<String>,
}

impl From<jc::Request> for Request {
    fn from(r: jc::Request) -> Self {
        let status = r.status().into();
        let status_reason = r.status_reason().map(str::to_string);
        Request {
            id: r.id,
            receipt: r.receipt,
            service_code: r.service_code,
            catalog_version: r.catalog_version,
            applicant: r.applicant.into(),
            checklist: r.checklist.into_iter().collect(),
            fields: r.fields.into_iter().collect(),
            notes: r.notes,
            officer_id: r.officer_id,
            device_id: r.device_id,
            created_at: r.created_at,
            status,
            status_reason,
            history: r
                .history
                .into_iter()
                .map(|h| StatusChange { status: h.status.into(), at: h.at, by_role: h.by.role.into(), by_id: h.by.id, reason: h.reason })
                .collect(),
            letter_number: r.office.letter_number,
            staff_notes: r.office.staff_notes,
        }
    }
}

/// Which requests to list. Every criterion is optional; the default lists everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct RequestFilter {
    /// Only this status.
    #[uniffi(default)]
    pub status: Option<Status>,
    /// Only open requests (not ditolak or diserahkan).
    #[uniffi(default = false)]
    pub open_only: bool,
    /// Only this RW.
    #[uniffi(default)]
    pub rw: Option<u16>,
    /// Only this RT (with `rw`).
    #[uniffi(default)]
    pub rt: Option<u16>,
    /// Only this service.
    #[uniffi(default)]
    pub service_code: Option<String>,
    /// Names containing words that start with each word of this query.
    #[uniffi(default)]
    pub name: Option<String>,
    /// Only this receipt code (canonical form).
    #[uniffi(default)]
    pub receipt: Option<String>,
}

impl From<RequestFilter> for jc::store::RequestFilter {
    fn from(f: RequestFilter) -> Self {
        jc::store::RequestFilter {
            status: f.status.map(Into::into),
            open_only: f.open_only,
            rw: f.rw,
            rt: f.rt,
            service_code: f.service_code,
            name: f.name,
            receipt: f.receipt,
        }
    }
}

/// One line of a request list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestSummary {
    /// Request id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// Service code.
    pub service_code: String,
    /// Current status.
    pub status: Status,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// The applicant's name.
    pub applicant_name: String,
    /// When recorded, Unix milliseconds.
    pub created_at: i64,
    /// When last changed, Unix milliseconds.
    pub updated_at: i64,
}

impl From<jc::store::RequestSummary> for RequestSummary {
    fn from(s: jc::store::RequestSummary) -> Self {
        RequestSummary {
            id: s.id,
            receipt: s.receipt,
            service_code: s.service_code,
            status: s.status.into(),
            rw: s.rw,
            rt: s.rt,
            applicant_name: s.applicant_name,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Complaints
// ---------------------------------------------------------------------------------------------

/// The place a complaint is about.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Place {
    /// RT number.
    pub rt: u16,
    /// RW number.
    pub rw: u16,
    /// Where exactly (street, landmark).
    pub description: String,
}

/// Who reported a complaint, unless anonymous.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reporter {
    /// Name.
    pub name: String,
    /// Phone number, if any.
    #[uniffi(default)]
    pub phone: Option<String>,
}

/// What an officer enters for a complaint, aspiration or suggestion.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComplaintDraft {
    /// Pengaduan, aspirasi or saran.
    pub category: ComplaintCategory,
    /// Topic (e.g. "Jalan rusak", "Sampah").
    pub topic: String,
    /// The resident's words.
    pub text: String,
    /// Where.
    pub place: Place,
    /// Who reported it; `None` for anonymous.
    #[uniffi(default)]
    pub reporter: Option<Reporter>,
}

impl From<ComplaintDraft> for jc::ComplaintDraft {
    fn from(d: ComplaintDraft) -> Self {
        jc::ComplaintDraft {
            category: d.category.into(),
            topic: d.topic,
            text: d.text,
            place: jc::complaint::Place { rt: d.place.rt, rw: d.place.rw, description: d.place.description },
            reporter: d.reporter.map(|r| jc::complaint::Reporter { name: r.name, phone: r.phone }),
        }
    }
}

/// One line of a complaint list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComplaintSummary {
    /// Complaint id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// Category.
    pub category: ComplaintCategory,
    /// Current status.
    pub status: ComplaintStatus,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// When recorded, Unix milliseconds.
    pub created_at: i64,
}

impl From<jc::store::ComplaintSummary> for ComplaintSummary {
    fn from(s: jc::store::ComplaintSummary) -> Self {
        ComplaintSummary {
            id: s.id,
            receipt: s.receipt,
            category: s.category.into(),
            status: s.status.into(),
            rw: s.rw,
            rt: s.rt,
            created_at: s.created_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Device and sync state
// ---------------------------------------------------------------------------------------------

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// The device id, fixed when the store is created.
    pub device_id: String,
    /// The officer the device is enrolled for, once enrolled.
    pub officer_id: Option<String>,
    /// The 4-character receipt prefix (from the hub at enrolment; random before).
    pub receipt_prefix: String,
}

impl From<jc::store::Identity> for Identity {
    fn from(i: jc::store::Identity) -> Self {
        Identity { device_id: i.device_id, officer_id: i.officer_id, receipt_prefix: i.receipt_prefix }
    }
}

/// How the device's sync stands, for the officer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncHealth {
    /// Requests not yet at the hub.
    pub unsent_requests: u32,
    /// Complaints not yet at the hub.
    pub unsent_complaints: u32,
    /// Records the hub refused (the officer must look at them).
    pub refused: u32,
    /// When the oldest unsent record was last changed, Unix milliseconds.
    pub oldest_unsent_at: Option<i64>,
    /// When a sync last succeeded, Unix milliseconds.
    pub last_sync_at: Option<i64>,
    /// One sentence in Bahasa Indonesia, e.g. "3 permohonan belum terkirim sejak 2 hari".
    pub summary: String,
}

impl From<jc::sync::device::SyncHealth> for SyncHealth {
    fn from(h: jc::sync::device::SyncHealth) -> Self {
        SyncHealth {
            unsent_requests: h.unsent_requests,
            unsent_complaints: h.unsent_complaints,
            refused: h.refused,
            oldest_unsent_at: h.oldest_unsent_at,
            last_sync_at: h.last_sync_at,
            summary: h.summary,
        }
    }
}

/// What a retention run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PurgeReport {
    /// Requests removed.
    pub requests: u32,
    /// Complaints removed.
    pub complaints: u32,
}

impl From<jc::store::PurgeReport> for PurgeReport {
    fn from(p: jc::store::PurgeReport) -> Self {
        PurgeReport { requests: p.requests, complaints: p.complaints }
    }
}
