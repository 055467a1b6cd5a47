//! Validation of a whole request draft against the catalog (service, requirements, the
//! service's extra fields) and the kelurahan (RT/RW that exist).

use time::Date;

use super::date::{validate_birth_date, validate_date};
use super::kk::validate_kk;
use super::nik::{validate_nik, validate_nik_format};
use super::phone::validate_phone;
use super::{limits, Issue};
use crate::catalog::{Catalog, FieldKind};
use crate::kelurahan::{three_digits, Kelurahan};
use crate::request::RequestDraft;

/// Checks a person's name: letters, spaces, apostrophes, dots, commas and hyphens, at least
/// two letters.
pub fn validate_name(field: &str, name: &str) -> Vec<Issue> {
    let n = name.trim();
    if n.is_empty() {
        return vec![Issue::error(field, "wajib_diisi", "Nama wajib diisi")];
    }
    if n.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return vec![Issue::error(field, "nama_terlalu_pendek", "Nama terlalu pendek")];
    }
    if n.chars().take(limits::NAME + 1).count() > limits::NAME {
        return vec![Issue::error(field, "nama_terlalu_panjang", "Nama terlalu panjang (paling banyak 100 huruf)")];
    }
    if !n.chars().all(|c| c.is_alphabetic() || " '.,-".contains(c)) {
        return vec![Issue::error(
            field,
            "nama_tidak_valid",
            "Nama hanya boleh berisi huruf, spasi, titik, koma, apostrof dan tanda hubung",
        )];
    }
    vec![]
}

/// Checks that RT `rt` of RW `rw` exists in the kelurahan (when the profile is known).
pub fn validate_area(prefix: &str, rw: u16, rt: u16, kelurahan: Option<&Kelurahan>) -> Vec<Issue> {
    let Some(k) = kelurahan else {
        return if rw == 0 || rt == 0 {
            vec![Issue::error(format!("{prefix}.rt"), "rt_tidak_ada", "Nomor RT dan RW wajib diisi")]
        } else {
            vec![]
        };
    };
    if !k.has_rw(rw) {
        return vec![Issue::error(format!("{prefix}.rw"), "rw_tidak_ada", format!("RW {} tidak ada di {}", three_digits(rw), k.name))];
    }
    if !k.has_rt(rw, rt) {
        return vec![Issue::error(
            format!("{prefix}.rt"),
            "rt_tidak_ada",
            format!("RT {} tidak ada di RW {}", three_digits(rt), three_digits(rw)),
        )];
    }
    vec![]
}

/// Validates a request draft. Errors block saving; warnings (a document not yet seen, a NIK
/// that disagrees with the birth date) need the officer's confirmation.
pub fn validate_request(draft: &RequestDraft, catalog: &Catalog, kelurahan: Option<&Kelurahan>, today: Date) -> Vec<Issue> {
    let mut issues = Vec::new();
    let a = &draft.applicant;
    let service = catalog.service(&draft.service_code);
    match service {
        None => issues.push(Issue::error("service_code", "layanan_tidak_dikenal", "Layanan tidak ada dalam katalog")),
        Some(s) if !s.active => {
            issues.push(Issue::error("service_code", "layanan_tidak_aktif", "Layanan ini sudah tidak dibuka kelurahan"))
        }
        Some(_) => {}
    }
    issues.extend(validate_name("applicant.name", &a.name));
    if a.birth_place.trim().is_empty() {
        issues.push(Issue::error("applicant.birth_place", "wajib_diisi", "Tempat lahir wajib diisi"));
    }
    issues.extend(limits::check("applicant.birth_place", "Tempat lahir", &a.birth_place, limits::BIRTH_PLACE));
    let (birth, date_issues) = validate_birth_date("applicant.birth_date", &a.birth_date, today);
    issues.extend(date_issues);
    issues.extend(validate_nik("applicant.nik", &a.nik, birth, Some(a.sex), today).into_iter().filter(|i| i.field == "applicant.nik"));
    issues.extend(validate_kk("applicant.kk", &a.kk, Some(&a.nik), today));
    if let Some(p) = a.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        issues.extend(validate_phone("applicant.phone", p));
    }
    if a.address.street.trim().is_empty() {
        issues.push(Issue::error("applicant.address.street", "wajib_diisi", "Alamat (jalan, gang, nomor rumah) wajib diisi"));
    }
    issues.extend(limits::check("applicant.address.street", "Alamat", &a.address.street, limits::STREET));
    issues.extend(validate_area("applicant.address", a.address.rw, a.address.rt, kelurahan));
    issues.extend(limits::check("notes", "Catatan", &draft.notes, limits::NOTES));
    let Some(service) = service else { return issues };
    for code in &draft.documents_seen {
        if !service.requirements.iter().any(|r| &r.code == code) {
            issues.push(Issue::error("documents_seen", "dokumen_tidak_dikenal", "Ada dokumen yang bukan persyaratan layanan ini"));
        }
    }
    for r in service.requirements.iter().filter(|r| r.mandatory) {
        if !draft.documents_seen.contains(&r.code) {
            issues.push(Issue::warning(
                "documents_seen",
                "dokumen_belum_ada",
                format!("Belum ada: {}. Warga perlu membawanya nanti.", r.label),
            ));
        }
    }
    // In key order, so the issues come in the same order every time (the map has none).
    let mut keys: Vec<&String> = draft.fields.keys().collect();
    keys.sort();
    for key in keys {
        if !service.fields.iter().any(|f| &f.key == key) {
            issues.push(Issue::error(format!("fields.{key}"), "kolom_tidak_dikenal", "Kolom ini tidak dipakai layanan tersebut"));
        }
    }
    for f in &service.fields {
        let field = format!("fields.{}", f.key);
        let value = draft.fields.get(&f.key).map(|v| v.trim()).unwrap_or("");
        if value.is_empty() {
            if f.required {
                issues.push(Issue::error(field, "wajib_diisi", format!("{} wajib diisi", f.label)));
            }
            continue;
        }
        match f.kind {
            FieldKind::Text => issues.extend(limits::check(field, &f.label, value, limits::TEXT_FIELD)),
            FieldKind::LongText => issues.extend(limits::check(field, &f.label, value, limits::LONG_TEXT_FIELD)),
            FieldKind::Date => issues.extend(validate_date(&field, value).1),
            FieldKind::Number => {
                if value.parse::<u64>().is_err() {
                    issues.push(Issue::error(field, "bukan_angka", format!("{} harus berupa angka", f.label)));
                }
            }
            FieldKind::Nik => issues.extend(validate_nik_format(&field, value).into_iter().filter(|i| i.is_error())),
            FieldKind::Phone => issues.extend(validate_phone(&field, value)),
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("n", "Siti Aminah").is_empty());
        assert!(validate_name("n", "Ni Luh Putu Ayu-Sari").is_empty());
        assert!(validate_name("n", "Drs. H. Achmad, S.H.").is_empty());
        assert!(validate_name("n", "Ma'ruf").is_empty());
        assert_eq!(validate_name("n", " ")[0].code, "wajib_diisi");
        assert_eq!(validate_name("n", "A")[0].code, "nama_terlalu_pendek");
        assert_eq!(validate_name("n", "Budi 123")[0].code, "nama_tidak_valid");
    }
}
