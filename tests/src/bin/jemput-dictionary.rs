//! Builds the preset deflate dictionary of the sync wire format (ADR 0007) and writes it to the
//! path given (normally `core/src/sync/dictionary-v1.bin`). A dictionary, once shipped, is
//! frozen: devices and hubs of different versions must agree on its bytes, so this tool is run
//! once per dictionary version and its output committed; the core checks the committed bytes
//! against a fixed hash.
//!
//! The content is what every upload repeats, with neutral values (none from the benchmark's
//! generator or from any resident): a request document for every service of the default
//! catalog, as the real core writes it (Automerge change format, column layout, field names,
//! service and document codes, status codes), and a complaint.

use std::collections::HashMap;

use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place};
use jemput_core::permissions::Scope;
use jemput_core::request::{Address, Applicant, RequestDraft, Sex};
use jemput_core::{Catalog, FieldKind};
use jemput_tests::harness::{Phone, TestHub};

fn neutral(kind: FieldKind) -> String {
    match kind {
        FieldKind::Text | FieldKind::LongText => "Untuk keperluan pengurusan surat".into(),
        FieldKind::Date => "2025-01-01".into(),
        FieldKind::Number => "1".into(),
        FieldKind::Nik => "3301010101000001".into(),
        FieldKind::Phone => "081200000000".into(),
    }
}

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1).expect("usage: jemput-dictionary <output file>");
    let hub = TestHub::start().await;
    let phone = Phone::enrol(&hub, "Petugas", Scope { rw: 1, rt: Some(1) }).await;
    let catalog = Catalog::default_catalog();
    {
        let mut s = phone.store.lock().unwrap();
        let c = ComplaintDraft {
            category: ComplaintCategory::Pengaduan,
            topic: "Jalan rusak".into(),
            text: "Jalan di depan rumah warga rusak dan berlubang".into(),
            place: Place { rt: 1, rw: 1, description: "Jl. Raya dekat masjid".into() },
            reporter: None,
        };
        s.record_complaint(&c).expect("complaint");
        for (i, service) in catalog.active_services().enumerate() {
            let d = RequestDraft {
                service_code: service.code.clone(),
                applicant: Applicant {
                    name: "Nama Lengkap".into(),
                    nik: format!("33010101010{:05}", i + 1),
                    kk: "3301010101000001".into(),
                    birth_place: "Kota".into(),
                    birth_date: "2001-01-01".into(),
                    sex: Sex::LakiLaki,
                    address: Address { street: "Jl. Raya No. 1".into(), rt: 1, rw: 1 },
                    phone: Some("081200000000".into()),
                    uses_whatsapp: false,
                },
                documents_seen: service.requirements.iter().map(|r| r.code.clone()).collect(),
                fields: service.fields.iter().map(|f| (f.key.clone(), neutral(f.kind))).collect::<HashMap<_, _>>(),
                notes: "Surat diantar ke rumah".into(),
            };
            s.record_request(&d, true).unwrap_or_else(|e| panic!("{}: {e:?}", service.code));
        }
    }
    let req = phone.store.lock().unwrap().prepare_sync(1024 * 1024).expect("prepare");
    let raw = jemput_core::sync::protocol::raw_body(&req);
    // Deflate reaches back 32 KiB; the most common strings should be nearest the data, so the
    // requests (written last) end the dictionary.
    let dict = &raw[raw.len().saturating_sub(jemput_core::sync::protocol::MAX_DICTIONARY_BYTES)..];
    std::fs::write(&out, dict).expect("write");
    println!("{out}: {} bytes", dict.len());
}
