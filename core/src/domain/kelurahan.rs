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
    /// How long finished records keep their personal data (a profile from before the
    /// retention policy reads as the defaults).
    #[serde(default)]
    #[autosurgeon(missing = "Retention::default")]
    pub retention: Retention,
}

/// The kelurahan's retention policy (UU PDP No. 27/2022: personal data is kept only as long as
/// its purpose needs; ADR 0013). Days count from the day a record is finished: a request
/// handed over (diserahkan) or rejected (ditolak), a complaint closed (selesai). Synced to
/// every phone with the profile. After the hub's period the personal data is erased and only
/// the letter register entry (receipt code, service, dates, status, letter number, RT/RW)
/// remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Retention {
    /// Days a finished request stays on officers' phones.
    pub request_days_on_phone: u32,
    /// Days a closed complaint stays on officers' phones.
    pub complaint_days_on_phone: u32,
    /// Days a finished request keeps its personal data at the hub (the archive period).
    pub request_days_on_hub: u32,
    /// Days a closed complaint keeps its personal data at the hub.
    pub complaint_days_on_hub: u32,
}

impl Default for Retention {
    /// 30 days on phones (time for the officer to answer a question about a letter just handed
    /// over), two years of archive for requests at the hub and one year for complaints (see
    /// ADR 0013 for the reasoning).
    fn default() -> Self {
        Retention { request_days_on_phone: 30, complaint_days_on_phone: 30, request_days_on_hub: 730, complaint_days_on_hub: 365 }
    }
}

impl Retention {
    /// Longest period accepted (ten years), so a typing slip cannot keep data for ever.
    pub const MAX_DAYS: u32 = 3_650;

    /// The policy's problem, in Bahasa Indonesia, or `None` when it is acceptable: every period
    /// from 1 day to [`Retention::MAX_DAYS`], and the hub keeps a record at least as long as
    /// the phones (the office answers for its letters longer than an officer does).
    pub fn problem(&self) -> Option<&'static str> {
        self.field_problems().first().map(|(_, m)| *m)
    }

    /// Every problem of the policy with the field it belongs to (the field's name as the JSON
    /// and the dashboard form spell it), so a form can show each next to its field; empty when
    /// the policy is acceptable. The same rules as [`Retention::problem`].
    pub fn field_problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let fields = [
            ("request_days_on_phone", self.request_days_on_phone),
            ("complaint_days_on_phone", self.complaint_days_on_phone),
            ("request_days_on_hub", self.request_days_on_hub),
            ("complaint_days_on_hub", self.complaint_days_on_hub),
        ];
        for (field, days) in fields {
            if days == 0 || days > Retention::MAX_DAYS {
                out.push((field, "Masa simpan harus antara 1 dan 3650 hari"));
            }
        }
        if !out.is_empty() {
            return out;
        }
        let shorter = "Masa simpan di kelurahan tidak boleh lebih pendek dari masa simpan di HP petugas";
        if self.request_days_on_hub < self.request_days_on_phone {
            out.push(("request_days_on_hub", shorter));
        }
        if self.complaint_days_on_hub < self.complaint_days_on_phone {
            out.push(("complaint_days_on_hub", shorter));
        }
        out
    }
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

#[cfg(test)]
mod tests {
    use super::Retention;

    #[test]
    fn retention_problems_name_their_field() {
        assert_eq!(Retention::default().field_problems(), vec![]);
        assert_eq!(Retention::default().problem(), None);
        let zero = Retention { request_days_on_phone: 0, complaint_days_on_hub: 3_651, ..Default::default() };
        let fields: Vec<_> = zero.field_problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["request_days_on_phone", "complaint_days_on_hub"]);
        assert_eq!(zero.problem(), Some("Masa simpan harus antara 1 dan 3650 hari"));
        let shorter = Retention { complaint_days_on_phone: 60, complaint_days_on_hub: 59, ..Default::default() };
        assert_eq!(shorter.field_problems().iter().map(|(f, _)| *f).collect::<Vec<_>>(), vec!["complaint_days_on_hub"]);
        assert!(shorter.problem().is_some_and(|m| m.contains("lebih pendek")));
        let edge =
            Retention { request_days_on_phone: 1, complaint_days_on_phone: 3_650, request_days_on_hub: 1, complaint_days_on_hub: 3_650 };
        assert_eq!(edge.problem(), None);
    }
}
