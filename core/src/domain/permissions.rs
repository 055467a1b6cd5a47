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
    /// The receipt prefixes the hub allocated to the device (a new record's receipt code must
    /// carry one of them).
    pub prefixes: &'a [&'a str],
}

impl DeviceWriter<'_> {
    /// Whether this device may change a record created by officer `creator` in RT `rt` of RW
    /// `rw` (ADR 0009): its scope covers the address, and it is the creating officer's device
    /// (any of them) or the device of the RW's officer above them. Another RT officer whose
    /// scope happens to cover the same address may read the record but not change it.
    pub fn may_edit(&self, creator: &str, rw: u16, rt: u16) -> bool {
        self.scope.covers(rw, rt) && (creator == self.officer_id || self.scope.rt.is_none())
    }
}

/// The receipt code of a new record: well formed, in its display form, and under one of the
/// prefixes the hub allocated to the writing device.
fn check_new_receipt(w: &DeviceWriter<'_>, receipt: &str) -> Result<(), Refusal> {
    let code = match ReceiptCode::parse(receipt) {
        Ok(c) if c.as_str() == receipt => c,
        _ => return Err(refuse("kode_tidak_valid", "Kode tanda terima tidak valid")),
    };
    if !w.prefixes.iter().any(|p| p.eq_ignore_ascii_case(code.prefix().as_str())) {
        return Err(refuse(
            "kode_bukan_perangkat",
            "Kode tanda terima tidak memakai awalan yang diberikan kelurahan untuk HP ini; daftarkan ulang HP di kelurahan",
        ));
    }
    Ok(())
}

const NOT_CREATOR: &str = "Data ini dicatat petugas lain; hanya petugas pencatat atau petugas RW-nya yang dapat mengubahnya";

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
            check_new_receipt(w, &new.receipt)?;
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
            if !w.may_edit(&old.officer_id, old.applicant.address.rw, old.applicant.address.rt) {
                return Err(refuse("bukan_pencatat", NOT_CREATOR));
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
            check_new_receipt(w, &new.receipt)?;
            if !new.updates.is_empty() {
                return Err(refuse("jawaban_kantor", "Jawaban pengaduan hanya diberikan oleh kelurahan"));
            }
        }
        Some(old) => {
            if !w.scope.covers(old.place.rw, old.place.rt) {
                return Err(refuse("di_luar_wilayah", "Pengaduan ini di luar wilayah RT/RW petugas ini"));
            }
            if !w.may_edit(&old.officer_id, old.place.rw, old.place.rt) {
                return Err(refuse("bukan_pencatat", NOT_CREATOR));
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

    const PREFIXES: &[&str] = &["K7QM"];

    fn writer() -> DeviceWriter<'static> {
        DeviceWriter { device_id: "hp-1", officer_id: "petugas-1", scope: Scope { rw: 5, rt: Some(3) }, prefixes: PREFIXES }
    }

    fn new_request() -> Request {
        let mut r = crate::document::tests_support::sample_request();
        r.receipt =
            crate::receipt::ReceiptCode::new(&crate::receipt::DevicePrefix::parse("K7QM").unwrap(), 1).unwrap().as_str().to_string();
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
        let other = DeviceWriter { officer_id: "petugas-2", scope: Scope { rw: 5, rt: None }, ..writer() };
        assert_eq!(check_request_write(&other, Some(&old), &new).unwrap_err().code, "status_tidak_diizinkan");
    }

    #[test]
    fn a_new_records_receipt_code_must_carry_the_devices_prefix() {
        let w = writer();
        let mut r = new_request();
        r.receipt = ReceiptCode::new(&crate::receipt::DevicePrefix::parse("M2X9").unwrap(), 1).unwrap().as_str().to_string();
        assert_eq!(check_request_write(&w, None, &r).unwrap_err().code, "kode_bukan_perangkat");
        // Only the display form is stored (so one code is one string at the hub).
        let mut r = new_request();
        r.receipt = r.receipt.replace('-', "").to_lowercase();
        assert_eq!(check_request_write(&w, None, &r).unwrap_err().code, "kode_tidak_valid");
        let none = DeviceWriter { prefixes: &[], ..writer() };
        assert_eq!(check_request_write(&none, None, &new_request()).unwrap_err().code, "kode_bukan_perangkat");
    }

    #[test]
    fn only_the_creating_officer_and_the_rw_officer_above_may_edit() {
        let old = new_request();
        let mut new = old.clone();
        new.notes = "sudah dicek".into();
        // The creating officer, from any of their devices.
        let second_phone = DeviceWriter { device_id: "hp-2", ..writer() };
        assert_eq!(check_request_write(&second_phone, Some(&old), &new), Ok(()));
        // The RW officer above them.
        let rw = DeviceWriter { device_id: "hp-rw", officer_id: "petugas-rw", scope: Scope { rw: 5, rt: None }, prefixes: &[] };
        assert_eq!(check_request_write(&rw, Some(&old), &new), Ok(()));
        // Another officer of the same RT may not; nor an RW officer of another RW.
        let same_rt = DeviceWriter { device_id: "hp-9", officer_id: "petugas-9", ..writer() };
        assert_eq!(check_request_write(&same_rt, Some(&old), &new).unwrap_err().code, "bukan_pencatat");
        let other_rw = DeviceWriter { scope: Scope { rw: 6, rt: None }, ..rw.clone() };
        assert_eq!(check_request_write(&other_rw, Some(&old), &new).unwrap_err().code, "di_luar_wilayah");
        assert!(same_rt.may_edit("petugas-9", 5, 3) && !same_rt.may_edit("petugas-1", 5, 3));
        // Complaints follow the same rule.
        let c = Complaint {
            id: "c-1".into(),
            receipt: new_request().receipt,
            category: crate::complaint::ComplaintCategory::Saran,
            topic: "Taman".into(),
            text: "Mohon taman diberi lampu".into(),
            place: crate::complaint::Place { rt: 3, rw: 5, description: String::new() },
            reporter: None,
            officer_id: "petugas-1".into(),
            device_id: "hp-1".into(),
            created_at: 1_763_000_000_000,
            updates: vec![],
        };
        let mut c2 = c.clone();
        c2.text = "Mohon taman diberi lampu dan bangku".into();
        assert_eq!(check_complaint_write(&writer(), Some(&c), &c2), Ok(()));
        assert_eq!(check_complaint_write(&rw, Some(&c), &c2), Ok(()));
        assert_eq!(check_complaint_write(&same_rt, Some(&c), &c2).unwrap_err().code, "bukan_pencatat");
    }
}
