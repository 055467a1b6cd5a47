//! Realistic generated data for benchmarks and tests: Indonesian names, NIKs and KK numbers
//! consistent with the birth date and sex, the default catalog's services with their required
//! fields, the demo kelurahan's RT/RW, the notes officers write. Deterministic for a seed.

use std::collections::HashMap;

use jemput_core::kelurahan::Kelurahan;
use jemput_core::request::{Address, Applicant, RequestDraft, Sex};
use jemput_core::Catalog;

const FIRST_F: &[&str] = &[
    "Siti", "Sri", "Dewi", "Nur", "Ani", "Rina", "Wulan", "Yuliana", "Endang", "Kartini", "Lestari", "Ratna", "Suparmi", "Tri", "Indah",
    "Fitri",
];
const FIRST_M: &[&str] = &[
    "Budi", "Agus", "Ahmad", "Bambang", "Slamet", "Joko", "Eko", "Hendra", "Wahyu", "Sugeng", "Rudi", "Dedi", "Yusuf", "Hadi", "Imam",
    "Teguh",
];
const LAST: &[&str] = &[
    "Santoso",
    "Wibowo",
    "Rahayu",
    "Susanti",
    "Pratama",
    "Saputra",
    "Hidayat",
    "Kurniawan",
    "Setiawan",
    "Wati",
    "Purnomo",
    "Handayani",
    "Nugroho",
    "Lestari",
    "Firmansyah",
    "Maulana",
    "Aminah",
    "Sulistyo",
];
const STREETS: &[&str] = &["Jl. Balongsari", "Jl. Mawar", "Gg. Kenanga", "Jl. Empunala", "Gg. Melati", "Jl. Pahlawan"];
const NOTES: &[&str] = &[
    "Rumah cat hijau dekat musala",
    "Warga lansia, surat diantar ke rumah",
    "Fotokopi KK menyusul besok",
    "",
    "Pemohon bekerja shift pagi, hubungi sore",
    "Untuk keperluan berobat di RSUD",
];

/// A small deterministic generator (xorshift64*), so runs are reproducible.
pub struct Rng(pub u64);
impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next_u64() % xs.len() as u64) as usize]
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// `n` random lower-case letters: text that compresses poorly (about 4.7 bits a letter),
    /// for tests whose byte counts must measure a body rather than the HTTP headers around it.
    pub fn letters(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'a' + (self.next_u64() % 26) as u8) as char).collect()
    }
}

fn fill_value(kind: jemput_core::FieldKind, rng: &mut Rng) -> String {
    use jemput_core::FieldKind::*;
    match kind {
        Text | LongText => "Keperluan administrasi sekolah anak".into(),
        Date => format!("2026-{:02}-{:02}", rng.range(1, 10), rng.range(1, 28)),
        Number => rng.range(1, 200).to_string(),
        Nik => format!("357602{:02}{:02}{:02}{:04}", rng.range(1, 28), rng.range(1, 12), rng.range(50, 99), rng.range(1, 9999)),
        Phone => format!("08{}", rng.range(1_100_000_000, 1_999_999_999)),
    }
}

/// A realistic request: a resident with an Indonesian name, a NIK consistent with the birth
/// date and sex, a service of `catalog` with its mandatory documents seen and its fields filled,
/// an RT/RW of `kel` (or `area` when given), a note now and then.
pub fn draft(i: u64, rng: &mut Rng, catalog: &Catalog, kel: &Kelurahan, area: Option<(u16, u16)>) -> RequestDraft {
    let female = rng.next_u64().is_multiple_of(2);
    let name = format!("{} {}", rng.pick(if female { FIRST_F } else { FIRST_M }), rng.pick(LAST));
    let (d, m, y) = (rng.range(1, 28), rng.range(1, 12), rng.range(1950, 2006));
    let nik = format!("357602{:02}{:02}{:02}{:04}", d + if female { 40 } else { 0 }, m, y % 100, i % 9999 + 1);
    let services: Vec<_> = catalog.active_services().collect();
    let service = services[(rng.next_u64() % services.len() as u64) as usize];
    let rw_pick = &kel.rws[(rng.next_u64() % kel.rws.len() as u64) as usize];
    let rt_pick = rw_pick.rts[(rng.next_u64() % rw_pick.rts.len() as u64) as usize];
    let (rw, rt) = area.unwrap_or((rw_pick.number, rt_pick));
    RequestDraft {
        service_code: service.code.clone(),
        applicant: Applicant {
            name,
            nik,
            kk: format!("357602{:02}{:02}{:02}{:04}", rng.range(1, 28), rng.range(1, 12), rng.range(10, 25), rng.range(1, 9999)),
            birth_place: "Mojokerto".into(),
            birth_date: format!("{y}-{m:02}-{d:02}"),
            sex: if female { Sex::Perempuan } else { Sex::LakiLaki },
            address: Address { street: format!("{} No. {}", rng.pick(STREETS), rng.range(1, 120)), rt, rw },
            phone: (!rng.next_u64().is_multiple_of(3)).then(|| format!("08{}", rng.range(1_100_000_000, 1_999_999_999))),
            uses_whatsapp: rng.next_u64().is_multiple_of(2),
        },
        documents_seen: service.requirements.iter().filter(|r| r.mandatory).map(|r| r.code.clone()).collect(),
        fields: service.fields.iter().map(|f| (f.key.clone(), fill_value(f.kind, rng))).collect::<HashMap<_, _>>(),
        notes: rng.pick(NOTES).into(),
    }
}
