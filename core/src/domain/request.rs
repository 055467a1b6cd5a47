//! A resident's request for a letter (permohonan): who asks, for which service, which
//! documents the officer has seen, the letter's extra fields, and the status history with
//! who may set which step.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// Jenis kelamin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Laki-laki.
    LakiLaki,
    /// Perempuan.
    Perempuan,
}

/// Where a resident lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Address {
    /// Street, house number, gang.
    pub street: String,
    /// RT number.
    pub rt: u16,
    /// RW number.
    pub rw: u16,
}

/// The resident asking for the letter (pemohon).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub phone: Option<String>,
    /// Whether the resident uses WhatsApp (otherwise the officer brings news in person).
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub uses_whatsapp: bool,
}

/// Who acts on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An RT/RW officer with the app.
    Petugas,
    /// Kelurahan office staff, through the hub.
    Staf,
    /// The hub itself (e.g. stamping "terkirim" on receipt).
    Sistem,
}

/// An actor: a role and an identifier (officer id, staff id, hub id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Actor {
    /// The role acting.
    pub role: Role,
    /// Who, within the role.
    pub id: String,
}

/// The status of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
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

impl Status {
    /// All statuses, in life order.
    pub const ALL: [Status; 9] = [
        Status::Dicatat,
        Status::Terkirim,
        Status::Diverifikasi,
        Status::Diproses,
        Status::PerluKelengkapan,
        Status::Dilengkapi,
        Status::Ditolak,
        Status::Selesai,
        Status::Diserahkan,
    ];

    /// The stable code (`perlu_kelengkapan`), as stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Status::Dicatat => "dicatat",
            Status::Terkirim => "terkirim",
            Status::Diverifikasi => "diverifikasi",
            Status::Diproses => "diproses",
            Status::PerluKelengkapan => "perlu_kelengkapan",
            Status::Dilengkapi => "dilengkapi",
            Status::Ditolak => "ditolak",
            Status::Selesai => "selesai",
            Status::Diserahkan => "diserahkan",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Dicatat => "Dicatat",
            Status::Terkirim => "Terkirim",
            Status::Diverifikasi => "Diverifikasi",
            Status::Diproses => "Diproses",
            Status::PerluKelengkapan => "Perlu kelengkapan",
            Status::Dilengkapi => "Kelengkapan sudah dilengkapi",
            Status::Ditolak => "Ditolak",
            Status::Selesai => "Selesai (surat siap)",
            Status::Diserahkan => "Diserahkan",
        }
    }

    /// True once nothing more will happen (the record may then be removed after retention).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Ditolak | Status::Diserahkan)
    }

    /// True when setting this status needs a reason (which document, why rejected).
    pub fn needs_reason(self) -> bool {
        matches!(self, Status::PerluKelengkapan | Status::Ditolak)
    }

    /// The statuses that may precede this one.
    fn allowed_from(self) -> &'static [Status] {
        use Status::*;
        match self {
            Dicatat => &[],
            Terkirim => &[Dicatat],
            Diverifikasi => &[Terkirim, Dilengkapi],
            Diproses => &[Terkirim, Diverifikasi, Dilengkapi],
            PerluKelengkapan => &[Terkirim, Diverifikasi, Diproses, Dilengkapi],
            Dilengkapi => &[PerluKelengkapan],
            Ditolak => &[Terkirim, Diverifikasi, Diproses, PerluKelengkapan, Dilengkapi],
            Selesai => &[Diproses],
            Diserahkan => &[Selesai],
        }
    }

    /// The roles that may set this status. Office steps belong to staff only; the officer owns
    /// recording, reporting a collected document and handing the letter over.
    pub fn allowed_roles(self) -> &'static [Role] {
        use Status::*;
        match self {
            Dicatat => &[Role::Petugas],
            Terkirim => &[Role::Sistem],
            Diverifikasi | Diproses | PerluKelengkapan | Ditolak | Selesai => &[Role::Staf],
            Dilengkapi => &[Role::Petugas, Role::Staf],
            Diserahkan => &[Role::Petugas, Role::Staf],
        }
    }

    /// Whether `role` may move a request from `self` to `to`. Errors carry a message in
    /// Bahasa Indonesia.
    pub fn check_transition(self, to: Status, role: Role) -> Result<(), String> {
        if !to.allowed_roles().contains(&role) {
            return Err(format!("status \"{}\" hanya dapat diubah oleh {}", to.label(), roles_label(to.allowed_roles())));
        }
        if !to.allowed_from().contains(&self) {
            return Err(format!("tidak dapat berpindah dari \"{}\" ke \"{}\"", self.label(), to.label()));
        }
        Ok(())
    }
}

fn roles_label(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| match r {
            Role::Petugas => "petugas RT/RW",
            Role::Staf => "staf kelurahan",
            Role::Sistem => "sistem",
        })
        .collect::<Vec<_>>()
        .join(" atau ")
}

/// One step in a request's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StatusChange {
    /// The new status.
    pub status: Status,
    /// When, Unix milliseconds.
    pub at: i64,
    /// Who set it.
    pub by: Actor,
    /// Why (required for perlu kelengkapan and ditolak).
    pub reason: Option<String>,
}

/// Fields only the office writes (through the hub).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OfficeFields {
    /// The letter's number once issued.
    pub letter_number: Option<String>,
    /// Notes by staff.
    pub staff_notes: Option<String>,
}

/// What an officer enters at the door; becomes a [`Request`] once validated and saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RequestDraft {
    /// Service code from the catalog.
    pub service_code: String,
    /// The applicant.
    pub applicant: Applicant,
    /// Requirement codes the officer has seen.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub documents_seen: Vec<String>,
    /// The service's extra fields, by key.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(serialize_with = "sorted")]
    pub fields: HashMap<String, String>,
    /// Free notes.
    #[cfg_attr(feature = "uniffi", uniffi(default = ""))]
    pub notes: String,
}

/// A request for a letter, as kept in its Automerge document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Request {
    /// Unique id (UUID v7, time-ordered).
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
    #[serde(serialize_with = "sorted")]
    #[autosurgeon(reconcile = "reconcile_sorted")]
    pub checklist: HashMap<String, bool>,
    /// The service's extra fields, by key.
    #[serde(serialize_with = "sorted")]
    #[autosurgeon(reconcile = "reconcile_sorted")]
    pub fields: HashMap<String, String>,
    /// Free notes by the officer.
    pub notes: String,
    /// Officer who recorded it.
    pub officer_id: String,
    /// Device it was recorded on.
    pub device_id: String,
    /// When it was recorded, Unix milliseconds.
    pub created_at: i64,
    /// Status history, in the order appended (concurrent appends are all kept).
    pub history: Vec<StatusChange>,
    /// Office-owned fields.
    pub office: OfficeFields,
}

impl Request {
    /// The current status: the latest step by time; ties go to the later step in the life order,
    /// so every replica derives the same status from the same (merged) history.
    pub fn status(&self) -> Status {
        self.current().map(|c| c.status).unwrap_or(Status::Dicatat)
    }

    /// Counts the request as received by the office (`terkirim`) when its last written status is
    /// still `dicatat`. The hub does not write this step into the document when a request
    /// arrives (that change would cost ~100 bytes per request on the way back to the phone, see
    /// ADR 0004); every replica derives it instead: the hub for everything it holds, a phone once
    /// the hub has confirmed the request. The derived step is deterministic (one millisecond
    /// after the last step, by the system), so replicas agree, and it is written for real along
    /// with the office's next decision.
    pub fn mark_received(&mut self) {
        if self.status() == Status::Dicatat {
            // Saturating: a step stamped at the end of time must not wrap to the distant past.
            let at = self.history.iter().map(|h| h.at).max().unwrap_or(self.created_at).saturating_add(1);
            self.history.push(StatusChange {
                status: Status::Terkirim,
                at,
                by: Actor { role: Role::Sistem, id: "hub".into() },
                reason: None,
            });
        }
    }

    /// The step that decides the current status.
    pub fn current(&self) -> Option<&StatusChange> {
        self.history.iter().max_by(|a, b| (a.at, a.status, a.by.role as u8).cmp(&(b.at, b.status, b.by.role as u8)))
    }

    /// When the request reached a closed status (ditolak, diserahkan), if it has.
    pub fn closed_at(&self) -> Option<i64> {
        let c = self.current()?;
        c.status.is_closed().then_some(c.at)
    }

    /// What the letter register keeps of this request once its personal data is erased
    /// (ADR 0013): receipt code, service, dates, status steps (who and when, without their
    /// typed reasons), letter number, RT/RW and the recording officer. The applicant's identity,
    /// address line, phone, documents seen, extra fields and every typed note are gone.
    pub fn register_only(&self) -> Request {
        Request {
            id: self.id.clone(),
            receipt: self.receipt.clone(),
            service_code: self.service_code.clone(),
            catalog_version: self.catalog_version,
            applicant: Applicant {
                name: String::new(),
                nik: String::new(),
                kk: String::new(),
                birth_place: String::new(),
                birth_date: String::new(),
                sex: self.applicant.sex,
                address: Address { street: String::new(), rt: self.applicant.address.rt, rw: self.applicant.address.rw },
                phone: None,
                uses_whatsapp: false,
            },
            checklist: Default::default(),
            fields: Default::default(),
            notes: String::new(),
            officer_id: self.officer_id.clone(),
            device_id: self.device_id.clone(),
            created_at: self.created_at,
            history: self.history.iter().map(|h| StatusChange { reason: None, ..h.clone() }).collect(),
            office: OfficeFields { letter_number: self.office.letter_number.clone(), staff_notes: None },
        }
    }

    /// The reason attached to the current status (missing document, rejection).
    pub fn status_reason(&self) -> Option<&str> {
        self.current().and_then(|c| c.reason.as_deref())
    }

    /// Appends a status change after checking it is allowed for `actor`'s role.
    pub fn change_status(&mut self, to: Status, actor: Actor, reason: Option<String>, at: i64) -> Result<(), String> {
        self.status().check_transition(to, actor.role)?;
        let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        if to.needs_reason() && reason.is_none() {
            return Err(format!("status \"{}\" wajib disertai alasan", to.label()));
        }
        // Keep the history strictly increasing in time on this replica, even if the clock
        // stepped back, so the new step becomes current.
        let at = self.history.iter().map(|c| c.at.saturating_add(1)).max().map_or(at, |m| m.max(at));
        self.history.push(StatusChange { status: to, at, by: actor, reason });
        Ok(())
    }
}

/// Serialises a map with its keys in order, so JSON and postcard output are the same on every
/// run (a `HashMap` iterates in random order; it is a `HashMap` because the FFI maps to one).
fn sorted<S: serde::Serializer, V: Serialize>(map: &HashMap<String, V>, s: S) -> Result<S::Ok, S::Error> {
    map.iter().collect::<std::collections::BTreeMap<_, _>>().serialize(s)
}

/// Writes a map into its Automerge document in key order, so the same record always makes the
/// same operations: a `HashMap` iterates in a random order, which made documents differ from
/// run to run and deflate worse against the preset dictionary (ADR 0007; the upload of 100
/// requests grew from 13.2 to 14.3 KB when these maps became `HashMap`s for the bindings).
fn reconcile_sorted<V: Reconcile + Clone, R: autosurgeon::Reconciler>(map: &HashMap<String, V>, reconciler: R) -> Result<(), R::Error> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::BTreeMap<_, _>>().reconcile(reconciler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::{Complaint, ComplaintCategory, ComplaintStatus, ComplaintUpdate, Place};

    /// The hub's clock in these tests (November 2025).
    const NOW: i64 = 1_763_003_600_000;

    #[test]
    fn a_request_is_written_into_its_document_in_the_same_order_every_time() {
        // Two equal requests whose maps were filled in different orders (each `HashMap` has its
        // own random iteration order): their documents must hold the same operations.
        let mut a = crate::document::tests_support::sample_request();
        let mut b = a.clone();
        a.fields = (0..24).map(|i| (format!("kolom{i:02}"), format!("isi {i}"))).collect();
        b.fields = (0..24).rev().map(|i| (format!("kolom{i:02}"), format!("isi {i}"))).collect();
        a.checklist = (0..24).map(|i| (format!("syarat{i:02}"), i % 2 == 0)).collect();
        b.checklist = (0..24).rev().map(|i| (format!("syarat{i:02}"), i % 2 == 0)).collect();
        assert_eq!(a, b);
        let actor = automerge::ActorId::from([7u8; 16]);
        let ops = |r: &Request| {
            let mut doc = crate::document::create(r, &actor).unwrap();
            doc.get_changes(&[]).iter().map(|c| format!("{:?}", c.decode().operations)).collect::<Vec<_>>()
        };
        assert_eq!(ops(&a), ops(&b));
    }

    #[test]
    fn the_derived_terkirim_step_and_later_steps_never_wrap() {
        let mut r = crate::document::tests_support::sample_request();
        r.created_at = i64::MAX;
        r.history[0].at = i64::MAX;
        r.mark_received();
        assert_eq!(r.status(), Status::Terkirim, "the derived step saturates instead of wrapping");
        let staff = Actor { role: Role::Staf, id: "staf-1".into() };
        r.change_status(Status::Diverifikasi, staff.clone(), None, NOW).unwrap();
        assert_eq!(r.status(), Status::Diverifikasi);
        let mut c = Complaint {
            id: "c".into(),
            receipt: "K7QM-2223-X".into(),
            category: ComplaintCategory::Saran,
            topic: "Taman".into(),
            text: "Mohon taman diberi lampu".into(),
            place: Place { rt: 3, rw: 5, description: String::new() },
            reporter: None,
            officer_id: "petugas-1".into(),
            device_id: "hp-1".into(),
            created_at: i64::MAX,
            updates: vec![ComplaintUpdate { status: ComplaintStatus::Diterima, at: i64::MAX, by: staff.clone(), response: None }],
        };
        c.respond(ComplaintStatus::Selesai, staff, Some("Sudah dipasang".into()), NOW).unwrap();
        assert_eq!(c.status(), ComplaintStatus::Selesai);
    }
}
