//! The kelurahan (or desa) profile that officers show offline: name, region code, the RW and
//! RT that exist, the office's address and hours, staff contacts, emergency numbers and links.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// A kelurahan or desa and what officers tell residents about its office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Kelurahan {
    /// Official name, e.g. "Kelurahan Balongsari".
    pub name: String,
    /// Official region code (kode wilayah), e.g. `35.76.02.1003`.
    pub region_code: String,
    /// Kecamatan (district) name.
    pub kecamatan: String,
    /// City or regency name.
    pub city: String,
    /// The RWs and their RTs.
    pub rws: Vec<Rw>,
    /// Office address.
    pub office_address: String,
    /// Office hours, in words (e.g. "Senin–Jumat 08.00–15.00").
    pub office_hours: String,
    /// Staff contacts.
    pub contacts: Vec<Contact>,
    /// Emergency numbers (112, 119, …).
    pub emergency_numbers: Vec<Contact>,
    /// Useful links (perizinan, bansos, news).
    pub links: Vec<Link>,
}

/// One RW (rukun warga) and the RTs in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Rw {
    /// RW number (written with three digits: RW 005).
    pub number: u16,
    /// RT numbers in this RW.
    pub rts: Vec<u16>,
}

/// A named phone contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Contact {
    /// Who or what (e.g. "Sekretaris Kelurahan", "Ambulans").
    pub label: String,
    /// Phone number as dialled.
    pub phone: String,
}

/// A useful link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Link {
    /// What it is for.
    pub label: String,
    /// The address.
    pub url: String,
}

impl Kelurahan {
    /// True when RT `rt` exists in RW `rw`.
    pub fn has_rt(&self, rw: u16, rt: u16) -> bool {
        self.rws.iter().any(|r| r.number == rw && r.rts.contains(&rt))
    }

    /// True when RW `rw` exists.
    pub fn has_rw(&self, rw: u16) -> bool {
        self.rws.iter().any(|r| r.number == rw)
    }

    /// The demo kelurahan used by `jemput-hub demo`, the examples and the tests.
    pub fn demo() -> Kelurahan {
        serde_json::from_str(include_str!("../../data/kelurahan_demo.json")).expect("the bundled demo kelurahan is valid JSON")
    }
}

/// Formats an RT or RW number with three digits ("003").
pub fn three_digits(n: u16) -> String {
    format!("{n:03}")
}
