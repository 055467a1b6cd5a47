//! The bundled data: the default service catalog and the demo kelurahan.

use std::collections::HashSet;

use jemput_core::{Catalog, FieldKind, Kelurahan};

const REQUIRED: [&str; 21] = [
    "ektp",
    "kartu_keluarga",
    "akta_kelahiran",
    "akta_kematian",
    "sk_kelahiran",
    "sk_kematian",
    "domisili",
    "skdu",
    "sku",
    "sktm",
    "pengantar_skck",
    "belum_menikah",
    "pengantar_nikah",
    "izin_keramaian",
    "surat_jalan",
    "beda_identitas",
    "pengantar_haji",
    "ahli_waris",
    "pengantar_pbb",
    "pindah_keluar",
    "pindah_masuk",
];

fn snake(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') && !s.starts_with('_')
}

#[test]
fn the_default_catalog_covers_the_usual_letters() {
    let c = Catalog::default_catalog();
    assert!(c.version >= 1);
    for code in REQUIRED {
        let s = c.service(code).unwrap_or_else(|| panic!("missing service {code}"));
        assert!(s.active, "{code}");
    }
    assert!(c.service("tidak_ada").is_none());
    assert_eq!(c.active_services().count(), c.services.len());
}

#[test]
fn every_service_is_well_formed() {
    let c = Catalog::default_catalog();
    let mut codes = HashSet::new();
    for s in &c.services {
        assert!(codes.insert(&s.code), "duplicate service {}", s.code);
        assert!(snake(&s.code), "{}", s.code);
        assert!(s.name.len() > 3 && s.description.len() > 20, "{}", s.code);
        assert!(s.requirements.iter().any(|r| r.mandatory), "{} has no mandatory requirement", s.code);
        assert!((1..=30).contains(&s.processing_days), "{}", s.code);
        let mut rs = HashSet::new();
        for r in &s.requirements {
            assert!(rs.insert(&r.code) && snake(&r.code), "{}: {}", s.code, r.code);
            assert!(!r.label.is_empty());
        }
        let mut fs = HashSet::new();
        for f in &s.fields {
            assert!(fs.insert(&f.key) && snake(&f.key), "{}: {}", s.code, f.key);
            if f.key.starts_with("tanggal") {
                assert_eq!(f.kind, FieldKind::Date, "{}: {}", s.code, f.key);
            }
            if f.key.starts_with("nik") {
                assert_eq!(f.kind, FieldKind::Nik, "{}: {}", s.code, f.key);
            }
            if f.key.starts_with("jumlah") || f.key.starts_with("luas") {
                assert_eq!(f.kind, FieldKind::Number, "{}: {}", s.code, f.key);
            }
        }
    }
    // The same document has the same code everywhere.
    let mut labels = std::collections::HashMap::new();
    for r in c.services.iter().flat_map(|s| &s.requirements) {
        let prev = labels.insert(r.code.clone(), r.label.clone());
        assert!(prev.is_none() || prev.as_ref() == Some(&r.label), "{} has two labels", r.code);
    }
    let death = c.service("akta_kematian").unwrap();
    assert!(death.fields.iter().any(|f| f.key == "tanggal_kematian" && f.required));
}

#[test]
fn the_demo_kelurahan_is_consistent() {
    let k = Kelurahan::demo();
    assert!(k.name.starts_with("Kelurahan"));
    let parts: Vec<&str> = k.region_code.split('.').collect();
    assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [2, 2, 2, 4], "{}", k.region_code);
    assert!(parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())));
    assert!(k.rws.len() >= 5);
    for rw in &k.rws {
        assert!(!rw.rts.is_empty());
        let unique: HashSet<_> = rw.rts.iter().collect();
        assert_eq!(unique.len(), rw.rts.len(), "RW {} repeats an RT", rw.number);
        assert!(k.has_rw(rw.number));
        assert!(k.has_rt(rw.number, rw.rts[0]));
    }
    assert!(!k.has_rw(99));
    assert!(!k.has_rt(1, 99));
    assert!(k.emergency_numbers.iter().any(|c| c.phone == "112"));
    assert!(k.links.iter().all(|l| l.url.starts_with("https://")));
}
