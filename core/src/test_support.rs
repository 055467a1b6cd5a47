//! Fixtures shared by the tests of every crate (core, hub, cross-component): the kelurahan
//! and catalog of the tests, and the "Siti Aminah" draft. Built only for tests
//! (`cfg(test)`, or the `test-support` feature other crates' tests turn on).

use std::collections::HashMap;

use crate::catalog::{Catalog, ExtraField, FieldKind, Requirement, Service};
use crate::kelurahan::{Kelurahan, Rw};
use crate::request::{Address, Applicant, RequestDraft, Sex};

/// The test kelurahan: RW 5 (RT 1–3) and RW 6 (RT 1–2).
pub fn test_kelurahan() -> Kelurahan {
    Kelurahan {
        name: "Kelurahan Uji".into(),
        region_code: "35.76.02.1003".into(),
        kecamatan: "Magersari".into(),
        city: "Kota Mojokerto".into(),
        rws: vec![Rw { number: 5, rts: vec![1, 2, 3] }, Rw { number: 6, rts: vec![1, 2] }],
        office_address: "Jl. Uji No. 1".into(),
        office_hours: "Senin–Jumat 08.00–15.00".into(),
        contacts: vec![],
        emergency_numbers: vec![],
        links: vec![],
        retention: Default::default(),
    }
}

/// The test catalog: "sktm" and "domisili".
pub fn test_catalog() -> Catalog {
    let req = |code: &str, label: &str| Requirement { code: code.into(), label: label.into(), mandatory: true };
    Catalog {
        version: 7,
        services: vec![
            Service {
                code: "sktm".into(),
                name: "Surat Keterangan Tidak Mampu".into(),
                description: "Untuk keringanan biaya sekolah atau berobat".into(),
                requirements: vec![req("ktp", "KTP"), req("kk", "Kartu Keluarga")],
                fields: vec![ExtraField { key: "keperluan".into(), label: "Keperluan".into(), kind: FieldKind::Text, required: true }],
                needs_rt_rw_endorsement: true,
                processing_days: 2,
                active: true,
            },
            Service {
                code: "domisili".into(),
                name: "Surat Keterangan Domisili".into(),
                description: "Keterangan tempat tinggal".into(),
                requirements: vec![req("ktp", "KTP"), req("kk", "Kartu Keluarga")],
                fields: vec![],
                needs_rt_rw_endorsement: true,
                processing_days: 1,
                active: true,
            },
        ],
    }
}

/// A valid draft: a woman born 1990-05-04 registered in Kota Mojokerto.
pub fn draft(name: &str, nik: &str) -> RequestDraft {
    RequestDraft {
        service_code: "sktm".into(),
        applicant: Applicant {
            name: name.into(),
            nik: nik.into(),
            kk: "3576020101150003".into(),
            birth_place: "Mojokerto".into(),
            birth_date: "1990-05-04".into(),
            sex: Sex::Perempuan,
            address: Address { street: "Jl. Balongsari Gg. 3 No. 12".into(), rt: 3, rw: 5 },
            phone: Some("0812-3456-7890".into()),
            uses_whatsapp: false,
        },
        documents_seen: vec!["ktp".into(), "kk".into()],
        fields: HashMap::from([("keperluan".into(), "Keringanan biaya berobat di RSUD".into())]),
        notes: "Rumah cat hijau dekat musala".into(),
    }
}

/// A NIK for a woman born 1990-05-04 with serial `n`.
pub fn nik(n: u32) -> String {
    format!("357602440590{n:04}")
}

/// A valid "domisili" draft with no phone, for an applicant `name` with `nik` living in RW
/// `rw`, RT `rt` (the hub's tests use RW 1, RT 1 of the demo kelurahan).
pub fn domisili_draft(name: &str, nik: &str, rw: u16, rt: u16) -> RequestDraft {
    RequestDraft {
        service_code: "domisili".into(),
        applicant: Applicant {
            name: name.into(),
            nik: nik.into(),
            kk: "3576020101150003".into(),
            birth_place: "Mojokerto".into(),
            birth_date: "1990-05-04".into(),
            sex: Sex::Perempuan,
            address: Address { street: "Jl. Balongsari Gg. 3 No. 12".into(), rt, rw },
            phone: None,
            uses_whatsapp: false,
        },
        documents_seen: vec!["ktp".into(), "kk".into()],
        fields: HashMap::from([("keperluan".to_string(), "Membuka rekening bank".to_string())]),
        notes: String::new(),
    }
}

/// Changes a request in `store` the way a tampered app would: straight in its document, past
/// the store's rules (for tests of what the hub refuses).
pub fn tamper_request(
    store: &mut crate::store::Store,
    id: &str,
    edit: impl FnOnce(&mut crate::request::Request) -> crate::error::Result<()>,
) -> crate::error::Result<crate::request::Request> {
    store.edit_request(id, edit)
}
