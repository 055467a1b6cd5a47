//! Benchmark of the device store with 10,000 requests: open time, a page of 50, a name search,
//! recording one more, peak memory of the process and disk space per request.
//!
//! `cargo run --release -p jemput-core --example store_bench [-- --requests 10000]`
//!
//! The store is filled once (through the real `record_request` path) in a first process; the
//! figures are measured in a fresh child process, as on a phone after a cold start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use jemput_core::kelurahan::Kelurahan;
use jemput_core::request::{Address, Applicant, RequestDraft, Sex};
use jemput_core::store::{RequestFilter, Store, StoreKey};
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
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
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

fn draft(i: u64, rng: &mut Rng, catalog: &Catalog, kel: &Kelurahan) -> RequestDraft {
    let female = rng.next() % 2 == 0;
    let name = format!("{} {}", rng.pick(if female { FIRST_F } else { FIRST_M }), rng.pick(LAST));
    let (d, m, y) = (rng.range(1, 28), rng.range(1, 12), rng.range(1950, 2006));
    let nik = format!("357602{:02}{:02}{:02}{:04}", d + if female { 40 } else { 0 }, m, y % 100, i % 9999 + 1);
    let services: Vec<_> = catalog.active_services().collect();
    let service = services[(rng.next() % services.len() as u64) as usize];
    let rw = &kel.rws[(rng.next() % kel.rws.len() as u64) as usize];
    let rt = rw.rts[(rng.next() % rw.rts.len() as u64) as usize];
    RequestDraft {
        service_code: service.code.clone(),
        applicant: Applicant {
            name,
            nik,
            kk: format!("357602{:02}{:02}{:02}{:04}", rng.range(1, 28), rng.range(1, 12), rng.range(10, 25), rng.range(1, 9999)),
            birth_place: "Mojokerto".into(),
            birth_date: format!("{y}-{m:02}-{d:02}"),
            sex: if female { Sex::Perempuan } else { Sex::LakiLaki },
            address: Address { street: format!("{} No. {}", rng.pick(STREETS), rng.range(1, 120)), rt, rw: rw.number },
            phone: (rng.next() % 3 != 0).then(|| format!("08{}", rng.range(1_100_000_000, 1_999_999_999))),
            uses_whatsapp: rng.next() % 2 == 0,
        },
        documents_seen: service.requirements.iter().filter(|r| r.mandatory).map(|r| r.code.clone()).collect(),
        fields: service.fields.iter().map(|f| (f.key.clone(), fill_value(f.kind, rng))).collect::<BTreeMap<_, _>>(),
        notes: rng.pick(NOTES).into(),
    }
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn db_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok()).map(|m| m.len()).sum()
}

fn fill(path: &Path, key: &StoreKey, n: u64) {
    let mut store = Store::open(path, key).expect("open");
    let kel = Kelurahan::demo();
    store.set_kelurahan(&kel).expect("kelurahan");
    let catalog = store.catalog().expect("catalog");
    let mut rng = Rng(0x4A45_4D50_5554);
    let t = Instant::now();
    for i in 0..n {
        let d = draft(i, &mut rng, &catalog, &kel);
        if let Err(e) = store.record_request(&d, true) {
            panic!("request {i} refused: {e:?}");
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("  {} / {n} permohonan dicatat ({:.1} s)", i + 1, t.elapsed().as_secs_f64());
        }
    }
}

fn measure(path: &Path, key: &StoreKey, n: u64) {
    let t = Instant::now();
    let mut store = Store::open(path, key).expect("open");
    let open_ms = t.elapsed().as_secs_f64() * 1e3;

    let t = Instant::now();
    let page = store.list_requests(&RequestFilter::default(), 0, 50).expect("list");
    let list_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(page.len(), 50);

    let t = Instant::now();
    let middle = store.list_requests(&RequestFilter::default(), (n / 2) as u32, 50).expect("list");
    let list_mid_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(middle.len(), 50);

    let t = Instant::now();
    let found = store.list_requests(&RequestFilter { name: Some("siti ami".into()), ..Default::default() }, 0, 50).expect("search");
    let search_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(found.iter().all(|r| r.applicant_name.starts_with("Siti Ami")));

    let t = Instant::now();
    let by_area =
        store.list_requests(&RequestFilter { rw: Some(1), rt: Some(1), open_only: true, ..Default::default() }, 0, 50).expect("filter");
    let filter_ms = t.elapsed().as_secs_f64() * 1e3;

    let t = Instant::now();
    let one = store.request(&page[0].id).expect("read");
    let read_ms = t.elapsed().as_secs_f64() * 1e3;

    let kel = Kelurahan::demo();
    let catalog = store.catalog().expect("catalog");
    let mut rng = Rng(0xBEEF);
    let d = draft(n + 1, &mut rng, &catalog, &kel);
    let t = Instant::now();
    store.record_request(&d, true).expect("record");
    let record_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(store);
    let _ = one;

    let bytes = db_bytes(path);
    println!("| requests in store | {n} |");
    println!("| open (cold process) | {open_ms:.1} ms |");
    println!("| list newest page of 50 | {list_ms:.2} ms |");
    println!("| list page of 50 at offset {} | {list_mid_ms:.2} ms |", n / 2);
    println!("| search by name (\"siti ami\", {} hits) | {search_ms:.2} ms |", found.len());
    println!("| filter RW/RT, open only ({} hits) | {filter_ms:.2} ms |", by_area.len());
    println!("| read one full request | {read_ms:.2} ms |");
    println!("| record one more (validate, duplicate check, fsync) | {record_ms:.2} ms |");
    println!("| peak memory of the process (VmHWM) | {:.1} MB |", peak_rss_kb() as f64 / 1024.0);
    println!("| database size | {:.2} MB |", bytes as f64 / 1_048_576.0);
    println!("| disk per request | {:.0} bytes |", bytes as f64 / (n + 1) as f64);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.iter().position(|a| a == "--requests").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(10_000);
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        let path = PathBuf::from(&args[i + 1]);
        let key = StoreKey::from_slice(&[7u8; 32]).unwrap();
        measure(&path, &key, n);
        return;
    }
    let dir = std::env::temp_dir().join(format!("jemput-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let key = StoreKey::from_slice(&[7u8; 32]).unwrap();
    eprintln!("Mengisi toko dengan {n} permohonan di {} …", path.display());
    let t = Instant::now();
    fill(&path, &key, n);
    eprintln!("  selesai dalam {:.1} s; mengukur di proses baru …", t.elapsed().as_secs_f64());
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--measure", path.to_str().unwrap(), "--requests", &n.to_string()])
        .status()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    std::process::exit(status.code().unwrap_or(1));
}
