//! Validation of a whole stored record, as the hub sees what a device sends: the same
//! validators the phone runs on the officer's draft (NIK, name, dates, RT/RW, service, extra
//! fields, every length limit), plus the parts of a record a draft does not have (status
//! reasons, identifiers, office fields). Only errors count; warnings were the officer's to
//! confirm at the door.
//!
//! The catalog may have changed since the phone recorded a request offline. Against a catalog
//! of another version than the request's, a service the office has since closed, a
//! requirement or an extra field that the office has since added or removed is tolerated
//! (every value still has its length limit); a service code the catalog never had is not.

use time::Date;

use super::complaint::validate_complaint;
use super::request::validate_request;
use super::{limits, Issue};
use crate::catalog::Catalog;
use crate::complaint::{Complaint, ComplaintDraft};
use crate::kelurahan::Kelurahan;
use crate::request::{Request, RequestDraft};

fn identifier(field: &str, value: &str) -> Option<Issue> {
    (value.is_empty() || value.len() > limits::IDENTIFIER)
        .then(|| Issue::error(field, "id_tidak_valid", "Tanda pengenal pada data tidak valid"))
}

/// The blocking problems of a request as stored (see the module documentation).
pub fn validate_request_record(r: &Request, catalog: &Catalog, kelurahan: Option<&Kelurahan>, today: Date) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (field, value) in [("id", &r.id), ("officer_id", &r.officer_id), ("device_id", &r.device_id)] {
        issues.extend(identifier(field, value));
    }
    if r.fields.len() > limits::MAX_ENTRIES || r.checklist.len() > limits::MAX_ENTRIES {
        issues.push(Issue::error("fields", "terlalu_banyak", "Terlalu banyak kolom atau persyaratan pada satu permohonan"));
    }
    for key in r.fields.keys().chain(r.checklist.keys()) {
        if key.len() > limits::IDENTIFIER {
            issues.push(Issue::error("fields", "id_tidak_valid", "Kode kolom atau persyaratan tidak valid"));
        }
    }
    for (key, value) in &r.fields {
        issues.extend(limits::check(format!("fields.{key}"), "Isian layanan", value, limits::LONG_TEXT_FIELD));
    }
    for (i, step) in r.history.iter().enumerate() {
        issues.extend(identifier(&format!("history.{i}.by"), &step.by.id));
        if let Some(reason) = &step.reason {
            issues.extend(limits::check(format!("history.{i}.reason"), "Alasan", reason, limits::REASON));
        }
    }
    if let Some(n) = &r.office.letter_number {
        issues.extend(limits::check("office.letter_number", "Nomor surat", n, limits::LETTER_NUMBER));
    }
    if let Some(n) = &r.office.staff_notes {
        issues.extend(limits::check("office.staff_notes", "Catatan staf", n, limits::STAFF_NOTES));
    }
    let draft = RequestDraft {
        service_code: r.service_code.clone(),
        applicant: r.applicant.clone(),
        documents_seen: r.checklist.iter().filter(|(_, seen)| **seen).map(|(k, _)| k.clone()).collect(),
        fields: r.fields.clone(),
        notes: r.notes.clone(),
    };
    let same_catalog = r.catalog_version == catalog.version;
    let tolerated = |i: &Issue| {
        i.code == "layanan_tidak_aktif"
            || (!same_catalog
                && (i.code == "kolom_tidak_dikenal"
                    || i.code == "dokumen_tidak_dikenal"
                    || (i.code == "wajib_diisi" && i.field.starts_with("fields."))))
    };
    issues.extend(validate_request(&draft, catalog, kelurahan, today).into_iter().filter(|i| i.is_error() && !tolerated(i)));
    issues
}

/// The blocking problems of a complaint as stored (see the module documentation).
pub fn validate_complaint_record(c: &Complaint, kelurahan: Option<&Kelurahan>) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (field, value) in [("id", &c.id), ("officer_id", &c.officer_id), ("device_id", &c.device_id)] {
        issues.extend(identifier(field, value));
    }
    for (i, u) in c.updates.iter().enumerate() {
        issues.extend(identifier(&format!("updates.{i}.by"), &u.by.id));
        if let Some(r) = &u.response {
            issues.extend(limits::check(format!("updates.{i}.response"), "Jawaban kelurahan", r, limits::RESPONSE));
        }
    }
    let draft = ComplaintDraft {
        category: c.category,
        topic: c.topic.clone(),
        text: c.text.clone(),
        place: c.place.clone(),
        reporter: c.reporter.clone(),
    };
    issues.extend(validate_complaint(&draft, kelurahan).into_iter().filter(Issue::is_error));
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::tests_support::sample_request;
    use crate::kelurahan::Rw;
    use time::macros::date;

    fn kelurahan() -> Kelurahan {
        let mut k = Kelurahan::demo();
        k.rws = vec![Rw { number: 5, rts: vec![1, 2, 3] }];
        k
    }

    fn catalog() -> Catalog {
        let mut c = Catalog::default_catalog();
        c.version = 1;
        c
    }

    fn codes(r: &Request) -> Vec<String> {
        validate_request_record(r, &catalog(), Some(&kelurahan()), date!(2026 - 11 - 29)).into_iter().map(|i| i.code).collect()
    }

    #[test]
    fn a_valid_record_passes_and_each_invalid_part_is_named() {
        let r = sample_request();
        assert_eq!(codes(&r), Vec::<String>::new());
        let mut x = r.clone();
        x.history[0].reason = Some("a".repeat(limits::REASON + 1));
        assert_eq!(codes(&x), ["terlalu_panjang"]);
        let mut x = r.clone();
        x.officer_id = "p".repeat(65);
        assert_eq!(codes(&x), ["id_tidak_valid"]);
        let mut x = r.clone();
        x.applicant.address.rw = 9;
        assert_eq!(codes(&x), ["rw_tidak_ada"]);
        let mut x = r.clone();
        x.fields.insert("asing".into(), "x".repeat(limits::LONG_TEXT_FIELD + 1));
        assert_eq!(codes(&x), ["terlalu_panjang", "kolom_tidak_dikenal"]);
    }

    #[test]
    fn catalog_changes_since_recording_are_tolerated_but_lengths_are_not() {
        let mut r = sample_request();
        r.catalog_version = 0;
        r.fields.insert("kolom_lama".into(), "isi".into());
        r.fields.remove("keperluan");
        assert_eq!(codes(&r), Vec::<String>::new(), "a request recorded against an older catalog");
        r.fields.insert("kolom_lama".into(), "x".repeat(limits::LONG_TEXT_FIELD + 1));
        assert_eq!(codes(&r), ["terlalu_panjang"]);
        let mut x = sample_request();
        x.catalog_version = 0;
        x.service_code = "tidak_pernah_ada".into();
        assert_eq!(codes(&x), ["layanan_tidak_dikenal"]);
    }

    #[test]
    fn complaints() {
        let c = Complaint {
            id: "c-1".into(),
            receipt: "K7QM-2223-N".into(),
            category: crate::complaint::ComplaintCategory::Pengaduan,
            topic: "Jalan rusak".into(),
            text: "Jalan di depan musala berlubang besar".into(),
            place: crate::complaint::Place { rt: 3, rw: 5, description: "Depan musala".into() },
            reporter: None,
            officer_id: "petugas-1".into(),
            device_id: "hp-1".into(),
            created_at: 1_763_000_000_000,
            updates: vec![],
        };
        assert!(validate_complaint_record(&c, Some(&kelurahan())).is_empty());
        let mut x = c.clone();
        x.place.description = "d".repeat(limits::PLACE_DESCRIPTION + 1);
        assert_eq!(validate_complaint_record(&x, Some(&kelurahan()))[0].code, "terlalu_panjang");
        let mut x = c.clone();
        x.place.rt = 7;
        assert_eq!(validate_complaint_record(&x, Some(&kelurahan()))[0].code, "rt_tidak_ada");
    }
}
