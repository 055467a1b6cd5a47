//! Who may write what. A device (an officer's phone) may create requests and complaints inside
//! its scope (one RT, or a whole RW) and edit the officer-owned parts of them; office-owned parts
//! (office statuses, letter number, staff notes, complaint answers), the catalog and the profile
//! are written by staff only, through the hub. The hub applies every incoming change to a copy,
//! reads the record back and runs these checks before it merges anything.

use serde::{Deserialize, Serialize};

use crate::complaint::Complaint;
use crate::receipt::ReceiptCode;
use crate::request::{Request, Role, Status};

/// The area a device serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The RW.
    pub rw: u16,
    /// One RT of that RW, or `None` for the whole RW.
    pub rt: Option<u16>,
}

impl Scope {
    /// Whether RT `rt` of RW `rw` is inside this scope.
    pub fn covers(&self, rw: u16, rt: u16) -> bool {
        self.rw == rw && self.rt.is_none_or(|s| s == rt)
    }
}

/// Why a device's change was refused: a stable code and a message in Bahasa Indonesia.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Stable code.
    pub code: String,
    /// Message for the officer.
    pub message: String,
}

fn refuse(code: &str, message: impl Into<String>) -> Refusal {
    Refusal { code: code.into(), message: message.into() }
}

/// The device writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceWriter<'a> {
    /// Device id.
    pub device_id: &'a str,
    /// Officer the device is enrolled for.
    pub officer_id: &'a str,
    /// Its scope.
    pub scope: Scope,
}

/// Checks a device's write of a request: `old` is the hub's copy (None for a new request),
/// `new` the record after applying the device's changes.
pub fn check_request_write(w: &DeviceWriter<'_>, old: Option<&Request>, new: &Request) -> Result<(), Refusal> {
    let (rw, rt) = (new.applicant.address.rw, new.applicant.address.rt);
    if !w.scope.covers(rw, rt) {
        return Err(refuse("di_luar_wilayah", "Alamat pemohon di luar wilayah RT/RW petugas ini"));
    }
    match old {
        None => {
            if new.device_id != w.device_id || new.officer_id != w.officer_id {
                return Err(refuse("identitas_tidak_cocok", "Permohonan tidak dicatat oleh perangkat dan petugas ini"));
            }
            if ReceiptCode::parse(&new.receipt).is_err() {
                return Err(refuse("kode_tidak_valid", "Kode tanda terima tidak valid"));
            }
            if new.history.len() != 1 || new.history[0].status != Status::Dicatat || new.history[0].by.role != Role::Petugas {
                return Err(refuse("status_tidak_diizinkan", "Permohonan baru hanya boleh berstatus dicatat"));
            }
            if new.office != Default::default() {
                return Err(refuse("kolom_kantor", "Nomor surat dan catatan staf hanya diisi oleh kelurahan"));
            }
        }
        Some(old) => {
            if !old.applicant_scope_matches(w) {
                return Err(refuse("di_luar_wilayah", "Permohonan ini di luar wilayah RT/RW petugas ini"));
            }
            let fixed_same = old.id == new.id
                && old.receipt == new.receipt
                && old.service_code == new.service_code
                && old.catalog_version == new.catalog_version
                && old.officer_id == new.officer_id
                && old.device_id == new.device_id
                && old.created_at == new.created_at;
            if !fixed_same {
                return Err(refuse("kolom_tetap", "Kode, layanan, petugas dan waktu pencatatan tidak dapat diubah"));
            }
            if old.office != new.office {
                return Err(refuse("kolom_kantor", "Nomor surat dan catatan staf hanya diubah oleh kelurahan"));
            }
            // The same requirement codes (as sets: the map's iteration order means nothing).
            if old.checklist.len() != new.checklist.len() || !old.checklist.keys().all(|k| new.checklist.contains_key(k)) {
                return Err(refuse("persyaratan_berubah", "Daftar persyaratan tidak dapat diubah dari perangkat"));
            }
            check_appended_history(w, old, new)?;
        }
    }
    Ok(())
}

impl Request {
    fn applicant_scope_matches(&self, w: &DeviceWriter<'_>) -> bool {
        w.scope.covers(self.applicant.address.rw, self.applicant.address.rt)
    }
}

/// Every step of `old` is still there, and every new step is an officer's own step that was
/// allowed from the status it followed.
fn check_appended_history(w: &DeviceWriter<'_>, old: &Request, new: &Request) -> Result<(), Refusal> {
    let mut remaining = new.history.clone();
    for step in &old.history {
        match remaining.iter().position(|s| s == step) {
            Some(i) => {
                remaining.remove(i);
            }
            None => return Err(refuse("riwayat_dihapus", "Riwayat status tidak boleh dihapus atau diubah")),
        }
    }
    remaining.sort_by_key(|s| (s.at, s.status));
    let mut replay = old.clone();
    for step in remaining {
        if step.by.role != Role::Petugas || step.by.id != w.officer_id {
            return Err(refuse("status_tidak_diizinkan", format!("Status \"{}\" hanya dapat diubah oleh kelurahan", step.status.label())));
        }
        replay
            .change_status(step.status, step.by.clone(), step.reason.clone(), step.at)
            .map_err(|m| refuse("status_tidak_diizinkan", m))?;
    }
    Ok(())
}

/// Checks a device's write of a complaint.
pub fn check_complaint_write(w: &DeviceWriter<'_>, old: Option<&Complaint>, new: &Complaint) -> Result<(), Refusal> {
    if !w.scope.covers(new.place.rw, new.place.rt) {
        return Err(refuse("di_luar_wilayah", "Tempat pengaduan di luar wilayah RT/RW petugas ini"));
    }
    match old {
        None => {
            if new.device_id != w.device_id || new.officer_id != w.officer_id {
                return Err(refuse("identitas_tidak_cocok", "Pengaduan tidak dicatat oleh perangkat dan petugas ini"));
            }
            if ReceiptCode::parse(&new.receipt).is_err() {
                return Err(refuse("kode_tidak_valid", "Kode tanda terima tidak valid"));
            }
            if !new.updates.is_empty() {
                return Err(refuse("jawaban_kantor", "Jawaban pengaduan hanya diberikan oleh kelurahan"));
            }
        }
        Some(old) => {
            if !w.scope.covers(old.place.rw, old.place.rt) {
                return Err(refuse("di_luar_wilayah", "Pengaduan ini di luar wilayah RT/RW petugas ini"));
            }
            if old.id != new.id
                || old.receipt != new.receipt
                || old.category != new.category
                || old.created_at != new.created_at
                || old.officer_id != new.officer_id
                || old.device_id != new.device_id
            {
                return Err(refuse("kolom_tetap", "Kode, kategori, petugas dan waktu pencatatan tidak dapat diubah"));
            }
            if old.updates != new.updates {
                return Err(refuse("jawaban_kantor", "Jawaban pengaduan hanya diberikan oleh kelurahan"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Actor;

    fn writer() -> DeviceWriter<'static> {
        DeviceWriter { device_id: "hp-1", officer_id: "petugas-1", scope: Scope { rw: 5, rt: Some(3) } }
    }

    fn new_request() -> Request {
        let mut r = crate::document::tests_support::sample_request();
        r.receipt = crate::receipt::ReceiptCode::new(&crate::receipt::DevicePrefix::random(), 1).unwrap().as_str().to_string();
        r
    }

    fn staff() -> Actor {
        Actor { role: Role::Staf, id: "staf".into() }
    }

    #[test]
    fn scope_covers_rt_or_whole_rw() {
        assert!(Scope { rw: 5, rt: Some(3) }.covers(5, 3));
        assert!(!Scope { rw: 5, rt: Some(3) }.covers(5, 4));
        assert!(Scope { rw: 5, rt: None }.covers(5, 4));
        assert!(!Scope { rw: 5, rt: None }.covers(6, 3));
    }

    #[test]
    fn a_new_request_in_scope_is_accepted_and_each_forbidden_variant_refused() {
        let w = writer();
        let r = new_request();
        assert_eq!(check_request_write(&w, None, &r), Ok(()));
        let code = |r: &Request| check_request_write(&w, None, r).unwrap_err().code;
        let mut x = r.clone();
        x.applicant.address.rt = 4;
        assert_eq!(code(&x), "di_luar_wilayah");
        let mut x = r.clone();
        x.device_id = "hp-lain".into();
        assert_eq!(code(&x), "identitas_tidak_cocok");
        let mut x = r.clone();
        x.office.letter_number = Some("470/12/2026".into());
        assert_eq!(code(&x), "kolom_kantor");
        let mut x = r.clone();
        x.history[0].status = Status::Selesai;
        assert_eq!(code(&x), "status_tidak_diizinkan");
        let mut x = r.clone();
        x.receipt = "bukan kode".into();
        assert_eq!(code(&x), "kode_tidak_valid");
    }

    #[test]
    fn officer_steps_on_existing_requests_are_checked() {
        let w = writer();
        let mut old = new_request();
        old.change_status(Status::Terkirim, Actor { role: Role::Sistem, id: "hub".into() }, None, 10).unwrap();
        // The officer may add notes and tick documents.
        let mut new = old.clone();
        new.notes = "sudah dicek".into();
        new.checklist.insert("kk".into(), true);
        assert_eq!(check_request_write(&w, Some(&old), &new), Ok(()));
        // But not set an office status, change the letter number, drop history or move scope.
        let mut new = old.clone();
        new.history.push(crate::request::StatusChange {
            status: Status::Diproses,
            at: 20,
            by: Actor { role: Role::Petugas, id: "petugas-1".into() },
            reason: None,
        });
        assert_eq!(check_request_write(&w, Some(&old), &new).unwrap_err().code, "status_tidak_diizinkan");
        let mut new = old.clone();
        new.history.push(crate::request::StatusChange { status: Status::Diproses, at: 20, by: staff(), reason: None });
        assert_eq!(
            check_request_write(&w, Some(&old), &new).unwrap_err().code,
            "status_tidak_diizinkan",
            "a device cannot forge a staff step"
        );
        let mut new = old.clone();
        new.office.letter_number = Some("1".into());
        assert_eq!(check_request_write(&w, Some(&old), &new).unwrap_err().code, "kolom_kantor");
        let mut new = old.clone();
        new.history.pop();
        assert_eq!(check_request_write(&w, Some(&old), &new).unwrap_err().code, "riwayat_dihapus");
        let mut new = old.clone();
        new.service_code = "domisili".into();
        assert_eq!(check_request_write(&w, Some(&old), &new).unwrap_err().code, "kolom_tetap");
        // Handing over a finished letter is the officer's step.
        for s in [Status::Diverifikasi, Status::Diproses, Status::Selesai] {
            old.change_status(s, staff(), None, 30).unwrap();
        }
        let mut new = old.clone();
        new.change_status(Status::Diserahkan, Actor { role: Role::Petugas, id: "petugas-1".into() }, None, 40).unwrap();
        assert_eq!(check_request_write(&w, Some(&old), &new), Ok(()));
        let other = DeviceWriter { officer_id: "petugas-2", ..writer() };
        assert_eq!(check_request_write(&other, Some(&old), &new).unwrap_err().code, "status_tidak_diizinkan");
    }
}
