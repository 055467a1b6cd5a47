//! The service catalog: which letters the kelurahan issues, what each requires (persyaratan),
//! which extra fields its letter needs, and how long it usually takes. The catalog is data,
//! versioned and editable by staff, synced to devices as an Automerge document; a default
//! catalog in Bahasa Indonesia ships with the core.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// A versioned list of services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Catalog {
    /// Incremented by the office on every published change.
    pub version: u64,
    /// The services, in display order.
    pub services: Vec<Service>,
}

/// One service (layanan) the office provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Service {
    /// Stable code, e.g. `sktm`, `domisili`.
    pub code: String,
    /// Name shown to officers and residents.
    pub name: String,
    /// One or two sentences on what the letter is for.
    pub description: String,
    /// Documents the resident must show or hand over.
    pub requirements: Vec<Requirement>,
    /// Extra data the letter needs (beyond the applicant's identity).
    pub fields: Vec<ExtraField>,
    /// Whether a surat pengantar RT/RW (the officer's endorsement) is needed.
    pub needs_rt_rw_endorsement: bool,
    /// Typical processing time in working days.
    pub processing_days: u32,
    /// False when the office has withdrawn the service (kept for old requests).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// One requirement (persyaratan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Requirement {
    /// Stable code within the service, e.g. `ktp`, `kk`.
    pub code: String,
    /// What the resident brings, in Bahasa Indonesia.
    pub label: String,
    /// False for "if any" documents (e.g. a rental agreement when not the owner).
    pub mandatory: bool,
}

/// The kind of an extra field; decides how it is validated and entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
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

/// An extra field a service's letter needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ExtraField {
    /// Stable key, e.g. `nama_almarhum`.
    pub key: String,
    /// Label shown to the officer.
    pub label: String,
    /// How it is entered and validated.
    pub kind: FieldKind,
    /// Whether the letter cannot be made without it.
    pub required: bool,
}

impl Catalog {
    /// The default catalog in Bahasa Indonesia that ships with Jemput.
    pub fn default_catalog() -> Catalog {
        serde_json::from_str(include_str!("../../data/katalog_bawaan.json")).expect("the bundled default catalog is valid JSON")
    }

    /// The service with this code.
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// Active services, in display order.
    pub fn active_services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| s.active)
    }
}
