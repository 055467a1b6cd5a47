//! `jemput-bench`: every benchmark scenario of issue 4 in one run, on realistic generated data
//! (see `jemput_tests::gen`), through the real code paths: the core's encrypted store and sync
//! client, the hub's HTTP API on loopback, and a TCP proxy that counts the bytes on the wire
//! (HTTP headers included) and shapes the link. Prints one table: measured figure, target, and
//! whether it is met. Progress goes to stderr.
//!
//! `cargo run --release -p jemput-tests --bin jemput-bench` (or `bash scripts/bench.sh`, which
//! also starts PostgreSQL for scenario 9 and measures the native library for scenario 7).
//! Scenario 17 renders the staff dashboard's request list on a hub holding 10,000 requests.
//! `--only 1,3,11` runs some scenarios; `--quick` uses smaller sizes for a smoke run.

use std::io::Write;
use std::time::{Duration, Instant};

use jemput_core::kelurahan::Kelurahan;
use jemput_core::permissions::Scope;
use jemput_core::request::Status;
use jemput_core::store::{RequestFilter, Store, StoreKey};
use jemput_core::sync::client::RetryPolicy;
use jemput_core::sync::protocol::{self, SyncResponse};
use jemput_core::Catalog;
use jemput_hub::storage::HubDb;
use jemput_tests::fault_proxy::{FaultProxy, FaultRates, LinkShape};
use jemput_tests::gen::{self, Rng};
use jemput_tests::harness::{serve, BackendKind, Phone, TestHub};

/// One row of the result table.
struct Row {
    scenario: &'static str,
    what: String,
    measured: String,
    target: String,
    met: Option<bool>,
}

struct Bench {
    rows: Vec<Row>,
    quick: bool,
}

impl Bench {
    fn row(
        &mut self,
        scenario: &'static str,
        what: impl Into<String>,
        measured: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) {
        let r = Row { scenario, what: what.into(), measured: measured.into(), target: target.into(), met };
        eprintln!("  [{}] {} = {} (target {})", r.scenario, r.what, r.measured, r.target);
        self.rows.push(r);
    }
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("{}", msg.as_ref());
    let _ = std::io::stderr().flush();
}

fn kb(b: u64) -> String {
    if b < 10_000 {
        format!("{b} B")
    } else {
        format!("{:.1} KB", b as f64 / 1000.0)
    }
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        attempts: 8,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        timeout: Duration::from_secs(120),
    }
}

/// Records `n` generated requests on `phone` (in its area), returning their ids.
fn record(phone: &Phone, rng: &mut Rng, n: usize, area: (u16, u16)) -> Vec<String> {
    let kel = Kelurahan::demo();
    let catalog = Catalog::default_catalog();
    let mut s = phone.store.lock().unwrap();
    (0..n)
        .map(|i| {
            let d = gen::draft(rng.next_u64() % 1_000_000 + i as u64, rng, &catalog, &kel, Some(area));
            s.record_request(&d, true).expect("generated request is valid").id
        })
        .collect()
}

/// gzip (default level) of the records as JSON: what a plain JSON API would send.
fn gzip_json_baseline(phone: &Phone, ids: &[String]) -> u64 {
    let s = phone.store.lock().unwrap();
    let records: Vec<_> = ids.iter().map(|id| s.request(id).unwrap()).collect();
    let json = serde_json::to_vec(&records).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).unwrap();
    enc.finish().unwrap().len() as u64
}

async fn staff_status(hub_url: &str, token: &str, id: &str, status: &str) {
    let r = reqwest::Client::new()
        .post(format!("{hub_url}/api/v1/staff/requests/{id}/status"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "staff status {status}: {}", r.text().await.unwrap_or_default());
}

/// Scenarios 1 and 2: bytes and exchanges to upload 1, 10, 100 new requests; exchanges for a
/// new device's first sync of 500 records.
async fn upload(b: &mut Bench) {
    progress("Skenario 1–2: unggah 1, 10, 100 permohonan baru …");
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.addr, 1, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let phone = Phone::enrol(&hub, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
    let client = phone.client(&proxy.url(), patient());
    client.sync(&phone.store, |_| {}).await.unwrap();
    let mut rng = Rng(0x4A45_4D50);
    let mut rounds_seen = Vec::new();
    for n in [1usize, 10, 100] {
        let ids = record(&phone, &mut rng, n, (1, 1));
        proxy.reset_counters();
        let out = client.sync(&phone.store, |_| {}).await.unwrap();
        assert_eq!(out.report.confirmed as usize, n);
        let (up, down) = proxy.bytes();
        let wire = up + down;
        let base = gzip_json_baseline(&phone, &ids);
        let ratio = wire as f64 / base as f64;
        let (target, met) = if n == 1 { ("≤ 2 KB".to_string(), wire <= 2000) } else { ("≤ 1.5 × baseline".to_string(), ratio <= 1.5) };
        b.row(
            "1",
            format!("upload {n} new request(s): wire bytes up+down (baseline gzip JSON {})", kb(base)),
            format!("{} ({} up / {} down), {ratio:.2} × baseline", kb(wire), kb(up), kb(down)),
            target,
            Some(met),
        );
        rounds_seen.push((n, out.rounds));
    }
    let all_small = rounds_seen.iter().all(|(_, r)| *r <= 2);
    b.row(
        "2",
        "HTTP exchanges to upload 1 / 10 / 100",
        rounds_seen.iter().map(|(_, r)| r.to_string()).collect::<Vec<_>>().join(" / "),
        "small constant",
        Some(all_small && rounds_seen.windows(2).all(|w| w[0].1 == w[1].1)),
    );
    // A new device for the same RT receives 500 records.
    let per = if b.quick { 150 } else { 500 };
    progress(format!("Skenario 2: perangkat baru menerima {per} data RT-nya …"));
    record(&phone, &mut rng, per - 111, (1, 1)); // 111 recorded above
    client.sync(&phone.store, |_| {}).await.unwrap();
    let newcomer = Phone::enrol(&hub, "Bu Ningsih", Scope { rw: 1, rt: Some(1) }).await;
    proxy.reset_counters();
    let out = newcomer.client(&proxy.url(), patient()).sync(&newcomer.store, |_| {}).await.unwrap();
    let got = newcomer.store.lock().unwrap().count_requests(&RequestFilter::default()).unwrap();
    let (up, down) = proxy.bytes();
    b.row(
        "2",
        format!("first sync of a new device: {got} records of its RT (+ catalog, profile)"),
        format!("{} exchanges, {} down, {} up", out.rounds, kb(down), kb(up)),
        "small constant",
        Some(out.rounds <= 3 && got as usize == per),
    );
}

/// Scenario 3: 100 new requests through a 64 kbit/s, 600 ms RTT, 2 % loss link.
/// Scenario 4: the same upload cut 5 times at random points, against an uncut one.
async fn weak_link(b: &mut Bench) {
    progress("Skenario 3: 100 permohonan lewat jalur EDGE (64 kbit/s, RTT 600 ms, hilang 2%) …");
    let hub = TestHub::start().await;
    let mut rng = Rng(0x5EED);
    let edge = FaultProxy::start(hub.addr, 3, FaultRates::NONE, LinkShape::edge()).await.unwrap();
    let phone = Phone::enrol(&hub, "Pak Hadi", Scope { rw: 2, rt: None }).await;
    let client = phone.client(&edge.url(), patient());
    client.sync(&phone.store, |_| {}).await.unwrap();
    record(&phone, &mut rng, 100, (2, 1));
    let t = Instant::now();
    let out = client.sync(&phone.store, |_| {}).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(out.report.confirmed, 100);
    b.row(
        "3",
        "sync 100 new requests over EDGE (64 kbit/s, 600 ms RTT, 2% loss)",
        format!("{secs:.1} s ({} exchanges)", out.rounds),
        "≤ 15 s",
        Some(secs <= 15.0),
    );

    progress("Skenario 4: unggahan yang sama terputus 5 kali …");
    let open = FaultProxy::start(hub.addr, 4, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let uncut_phone = Phone::enrol(&hub, "Petugas A", Scope { rw: 3, rt: None }).await;
    let c = uncut_phone.client(&open.url(), patient());
    c.sync(&uncut_phone.store, |_| {}).await.unwrap();
    let mut r1 = Rng(0xC0FFEE);
    record(&uncut_phone, &mut r1, 100, (3, 1));
    open.reset_counters();
    c.sync(&uncut_phone.store, |_| {}).await.unwrap();
    let (u_up, u_down) = open.bytes();
    let uncut = u_up + u_down;

    let cut = FaultProxy::start(hub.addr, 5, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let cut_phone = Phone::enrol(&hub, "Petugas B", Scope { rw: 4, rt: None }).await;
    cut_phone.client(&cut.url(), patient()).sync(&cut_phone.store, |_| {}).await.unwrap();
    let mut r2 = Rng(0xC0FFEE);
    record(&cut_phone, &mut r2, 100, (4, 1));
    cut.reset_counters();
    cut.cut_at_random(5, uncut);
    // A fresh client, so the exchange opens a new connection (faults are drawn per connection).
    let c = cut_phone.client(&cut.url(), patient());
    let out = c.sync(&cut_phone.store, |_| {}).await.unwrap();
    let (c_up, c_down) = cut.bytes();
    let total = c_up + c_down;
    let (conns, faults) = (cut.connections().0, cut.cuts());
    let health = cut_phone.store.lock().unwrap().sync_health().unwrap();
    let ratio = total as f64 / uncut as f64;
    b.row(
        "4",
        format!("same upload cut {faults} times at random points ({conns} connections), then completed"),
        format!(
            "{} vs {} uncut = {ratio:.2} ×; {} confirmed, {} unsent after",
            kb(total),
            kb(uncut),
            out.report.confirmed,
            health.unsent_requests
        ),
        "≤ 1.3 ×",
        Some(ratio <= 1.3 && health.unsent_requests == 0 && faults == 5),
    );
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn db_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal", "-shm"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok()).map(|m| m.len()).sum()
}

const STORE_KEY: [u8; 32] = [7u8; 32];

/// Scenario 5 measurements, in a fresh process (a phone after a cold start). Prints
/// `name=value` lines for the parent.
fn store_measure(path: &str, n: u64) {
    let key = StoreKey::from_slice(&STORE_KEY).unwrap();
    let path = std::path::Path::new(path);
    let t = Instant::now();
    let mut store = Store::open(path, &key).expect("open");
    println!("open_ms={}", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let page = store.list_requests(&RequestFilter::default(), 0, 50).expect("list");
    println!("page_ms={}", t.elapsed().as_secs_f64() * 1e3);
    assert_eq!(page.len(), 50);
    let t = Instant::now();
    let mid = store.list_requests(&RequestFilter::default(), (n / 2) as u32, 50).expect("list");
    println!("page_mid_ms={}", t.elapsed().as_secs_f64() * 1e3);
    assert_eq!(mid.len(), 50);
    let t = Instant::now();
    let found = store.list_requests(&RequestFilter { name: Some("siti ami".into()), ..Default::default() }, 0, 50).expect("search");
    println!("search_ms={}", t.elapsed().as_secs_f64() * 1e3);
    println!("search_hits={}", found.len());
    let catalog = store.catalog().unwrap();
    let mut rng = Rng(0xBEEF);
    let d = gen::draft(n + 1, &mut rng, &catalog, &Kelurahan::demo(), None);
    let t = Instant::now();
    store.record_request(&d, true).expect("record");
    println!("record_ms={}", t.elapsed().as_secs_f64() * 1e3);
    drop(store);
    println!("peak_kb={}", peak_rss_kb());
    println!("db_bytes={}", db_bytes(path));
}

/// Scenarios 5 and 6: the device store with 10,000 requests.
fn device_store(b: &mut Bench) {
    let n: u64 = if b.quick { 1_000 } else { 10_000 };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.db");
    progress(format!("Skenario 5–6: mengisi toko HP dengan {n} permohonan (jalur record_request asli) …"));
    {
        let key = StoreKey::from_slice(&STORE_KEY).unwrap();
        let mut store = Store::open(&path, &key).unwrap();
        store.set_enrolment("petugas-bench", "K7QM").unwrap();
        let kel = Kelurahan::demo();
        store.set_kelurahan(&kel).unwrap();
        let catalog = store.catalog().unwrap();
        let mut rng = Rng(0x4A45_4D50_5554);
        let t = Instant::now();
        for i in 0..n {
            let d = gen::draft(i, &mut rng, &catalog, &kel, None);
            store.record_request(&d, true).unwrap_or_else(|e| panic!("request {i} refused: {e:?}"));
            if (i + 1) % 2000 == 0 {
                progress(format!("  {} / {n} ({:.0} s)", i + 1, t.elapsed().as_secs_f64()));
            }
        }
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--store-measure", path.to_str().unwrap(), &n.to_string()])
        .output()
        .expect("child");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let get =
        |k: &str| -> f64 { text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN) };
    let ms = |v: f64| format!("{v:.2} ms");
    b.row("5", format!("open store with {n} requests (cold process)"), ms(get("open_ms")), "≤ 100 ms", Some(get("open_ms") <= 100.0));
    b.row("5", "list newest page of 50", ms(get("page_ms")), "≤ 10 ms", Some(get("page_ms") <= 10.0));
    b.row("5", format!("list page of 50 at offset {}", n / 2), ms(get("page_mid_ms")), "≤ 10 ms", Some(get("page_mid_ms") <= 10.0));
    b.row(
        "5",
        format!("search by name (\"siti ami\", {} hits)", get("search_hits")),
        ms(get("search_ms")),
        "≤ 10 ms",
        Some(get("search_ms") <= 10.0),
    );
    b.row("5", "record one more (validate, duplicate check, fsync)", ms(get("record_ms")), "≤ 10 ms", Some(get("record_ms") <= 10.0));
    let peak = get("peak_kb") / 1024.0;
    b.row("5", "peak memory of the whole process (VmHWM)", format!("{peak:.1} MB"), "≤ 30 MB", Some(peak <= 30.0));
    let bytes = get("db_bytes");
    let per = bytes / (n + 1) as f64;
    b.row(
        "6",
        format!("disk per stored request (database with {} requests: {:.1} MB)", n + 1, bytes / 1e6),
        format!("{per:.0} B"),
        "≤ 2 KB",
        Some(per <= 2048.0),
    );
}

/// The workspace root. Cargo runs from there so that `.cargo/config.toml` (SQLite's compile-time
/// options for the bundled build) applies whichever folder the bench was started from.
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Scenario 7: the stripped release native library.
fn native_library(b: &mut Bench) {
    progress("Skenario 7: pustaka native (cargo build --release -p jemput-bindings) …");
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", "jemput-bindings", "--lib"])
        .status();
    let dir = workspace_root().join("target/release");
    let lib = ["libjemput.so", "libjemput.dylib", "jemput.dll"].iter().map(|n| dir.join(n)).find(|p| p.exists());
    match (status, lib) {
        (Ok(s), Some(lib)) if s.success() => {
            let size = std::fs::metadata(&lib).unwrap().len();
            let bytes = std::fs::read(&lib).unwrap_or_default();
            // Without exported functions the linker drops the core, and the size says nothing.
            let exports = bytes.windows(17).filter(|w| *w == b"uniffi_jemput_fn_").count();
            let name = lib.file_name().unwrap().to_string_lossy().to_string();
            let mb = format!("{:.2} MB", size as f64 / 1_048_576.0);
            if exports == 0 {
                b.row(
                    "7",
                    format!("stripped release native library ({name}): exports no API, the core is dropped"),
                    format!("{mb} (not representative)"),
                    "≤ 4 MB",
                    None,
                );
            } else {
                b.row(
                    "7",
                    format!("stripped release native library ({name}, {exports} exported functions)"),
                    format!("{mb} ({size} B)"),
                    "≤ 4 MB",
                    Some(size <= 4 * 1_048_576),
                );
            }
            if let Some(sections) = elf_sections(&bytes) {
                let sum = |names: &[&str]| sections.iter().filter(|(n, _)| names.contains(&n.as_str())).map(|(_, s)| s).sum::<u64>();
                let parts = [
                    ("code (.text)", sum(&[".text"])),
                    (
                        "unwind tables for panic = unwind (.eh_frame*, .gcc_except_table)",
                        sum(&[".eh_frame", ".eh_frame_hdr", ".gcc_except_table"]),
                    ),
                    ("read-only data (.rodata)", sum(&[".rodata"])),
                    ("relocations (.rela.*)", sum(&[".rela.dyn", ".rela.plt"])),
                ];
                let known: u64 = parts.iter().map(|(_, s)| s).sum();
                let mut text: Vec<String> = parts.iter().map(|(what, s)| format!("{what} {}", kb(*s))).collect();
                text.push(format!("rest {}", kb(size.saturating_sub(known))));
                b.row("7", "  where the bytes are (sections of the stripped library)", text.join(", "), "", None);
            }
            native_library_breakdown(b);
        }
        _ => b.row("7", "stripped release native library", "build failed", "≤ 4 MB", Some(false)),
    }
}

/// Scenario 16: the native library as the app sees it, from Kotlin on the JVM through the
/// generated bindings and JNA (`bindings/kotlin-tests/run.sh bench`: the release library, a
/// store of 10,000 requests recorded through the bindings). Needs a JDK and Maven.
fn through_the_bindings(b: &mut Bench) {
    progress("Skenario 16: pustaka native dari Kotlin/JVM (bindings/kotlin-tests/run.sh bench) …");
    let out = std::process::Command::new("bash").current_dir(workspace_root()).args(["bindings/kotlin-tests/run.sh", "bench"]).output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr).lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_string();
            b.row("16", "open store + first page through the bindings (JVM)", format!("failed: {why}"), "", Some(false));
            return;
        }
        Err(e) => {
            b.row("16", "open store + first page through the bindings (JVM)", format!("cannot run: {e}"), "", None);
            return;
        }
    };
    let value = |key: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix("JEMPUT-BENCH ")?.strip_prefix(key)?.strip_prefix('=').map(str::to_string))
    };
    let n = value("requests").unwrap_or_else(|| "?".into());
    match value("open_and_first_page_ms") {
        Some(ms) => b.row(
            "16",
            format!("open store with {n} requests and list its first page of 50, from Kotlin (JNA, release library)"),
            format!("{ms} ms"),
            "≤ 100 ms",
            ms.parse::<f64>().ok().map(|v| v <= 100.0),
        ),
        None => b.row("16", "open store + first page through the bindings (JVM)", "no figure printed", "", Some(false)),
    }
    if let (Some(bytes), Some(ms)) = (value("list_page_alloc_bytes"), value("list_page_ms")) {
        let per_row = bytes.parse::<f64>().map(|v| format!(", {:.0} B per row", v / 50.0)).unwrap_or_default();
        b.row("16", "  one list call of 50 rows from Kotlin: JVM heap allocated, time", format!("{bytes} B{per_row}, {ms} ms"), "", None);
    }
}

/// Section sizes (name, bytes in the file) of a 64-bit little-endian ELF file, the host build
/// on Linux; `None` for anything else.
fn elf_sections(data: &[u8]) -> Option<Vec<(String, u64)>> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let (offset, entry, count, names) = (u64_at(0x28)? as usize, u16_at(0x3A)? as usize, u16_at(0x3C)? as usize, u16_at(0x3E)? as usize);
    let names = u64_at(offset + names * entry + 0x18)? as usize;
    (0..count)
        .map(|i| {
            let h = offset + i * entry;
            let name = data.get(names + u32_at(h)? as usize..)?.split(|&c| c == 0).next()?;
            // SHT_NOBITS (.bss, .tbss) takes no room in the file.
            let size = if u32_at(h + 4)? == 8 { 0 } else { u64_at(h + 0x20)? };
            Some((String::from_utf8_lossy(name).into_owned(), size))
        })
        .collect()
}

/// The biggest crates in the native library (`cargo bloat --crates`, when cargo-bloat is
/// installed; built unstripped in a separate target folder, `target/bloat`). cargo-bloat cannot
/// attribute unmangled symbols (its `[Unknown]`): those are SQLite's C code and UniFFI's
/// `extern "C"` entry points, split with `nm` when it is available.
fn native_library_breakdown(b: &mut Bench) {
    progress("Skenario 7: rincian per crate (cargo bloat --crates, build tanpa strip di target/bloat) …");
    let dir = workspace_root().join("target/bloat");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["bloat", "--release", "-p", "jemput-bindings", "--lib", "--crates", "-n", "12"])
        .env("CARGO_PROFILE_RELEASE_STRIP", "false")
        .env("CARGO_TARGET_DIR", &dir)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let split = ["libjemput.so", "libjemput.dylib"]
                .iter()
                .map(|n| dir.join("release").join(n))
                .find(|p| p.exists())
                .and_then(|l| unmangled_split(&l));
            let text = String::from_utf8_lossy(&o.stdout);
            let rows: Vec<String> = text
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    // Rows are `File% .text% Size Crate`; the last two lines are the crates left
                    // out (`And N more crates.`) and the total (`.text section size`).
                    (f.len() >= 4 && f[0].ends_with('%') && f[1].ends_with('%') && f[3] != ".text").then(|| match (f[3], split) {
                        ("[Unknown]", Some((c, uniffi))) => {
                            format!("[Unknown] {} (nm: SQLite and other C {}, UniFFI entry points {})", f[2], kb(c), kb(uniffi))
                        }
                        ("And", _) => format!("{} more crates {}", f.get(4).unwrap_or(&"?"), f[2]),
                        _ => format!("{} {}", f[3], f[2]),
                    })
                })
                .collect();
            let total =
                text.lines().find(|l| l.contains(".text section size")).map(|l| l.split_whitespace().nth(2).unwrap_or("?").to_string());
            let what =
                format!("  biggest crates in .text (cargo bloat --crates, unstripped build; .text {})", total.as_deref().unwrap_or("?"));
            b.row("7", what, rows.join(", "), "", None);
        }
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr).lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_string();
            b.row("7", "  biggest crates", format!("cargo bloat failed: {why}"), "", None)
        }
        Err(_) => b.row("7", "  biggest crates", "cargo-bloat not installed (cargo install cargo-bloat)", "", None),
    }
}

/// Code bytes of the unmangled symbols of an unstripped library, by `nm`: (SQLite and any other
/// C code, UniFFI's `uniffi_*`/`ffi_*` entry points). `None` when `nm` is missing or fails.
fn unmangled_split(lib: &std::path::Path) -> Option<(u64, u64)> {
    let out = std::process::Command::new("nm").args(["--defined-only", "-S", "-t", "d"]).arg(lib).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let (mut c, mut uniffi) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(size), Some(kind), Some(name)) = (f.get(1).and_then(|s| s.parse::<u64>().ok()), f.get(2), f.get(3)) else { continue };
        if f.len() != 4 || !matches!(*kind, "t" | "T" | "W") || name.starts_with("_ZN") || name.starts_with("_R") {
            continue;
        }
        if name.starts_with("uniffi_") || name.starts_with("ffi_") {
            uniffi += size;
        } else {
            c += size;
        }
    }
    Some((c, uniffi))
}

/// Runs `waves` waves in which each of `phones` records 1–5 new requests and syncs once, the
/// exchanges of a wave all in flight together, against `urls` (phones spread over them).
/// Returns (exchanges, seconds spent in exchanges, latencies in ms).
async fn load(phones: &[Phone], urls: &[String], waves: usize, rng: &mut Rng) -> (usize, f64, Vec<f64>) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(400).build().unwrap();
    let mut lat = Vec::new();
    let mut busy = 0.0;
    let mut n = 0;
    for _ in 0..waves {
        // Prepare every device's upload (device-side work, not timed).
        let mut bodies = Vec::new();
        for p in phones {
            let area = {
                let s = p.store.lock().unwrap();
                let req = s.list_requests(&RequestFilter::default(), 0, 1).unwrap();
                req.first().map(|r| (r.rw, r.rt))
            };
            let k = 1 + (rng.next_u64() % 5) as usize;
            record(p, rng, k, area.unwrap_or((1, 1)));
            let req = p.store.lock().unwrap().prepare_sync(256 * 1024).unwrap();
            bodies.push((protocol::encode(&req), req));
        }
        let t = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let mut sent = Vec::new();
        for (i, (p, (body, req))) in phones.iter().zip(bodies).enumerate() {
            sent.push(req);
            let http = http.clone();
            let url = format!("{}/api/v1/sync", urls[i % urls.len()]);
            let token = p.token.clone();
            tasks.spawn(async move {
                let t = Instant::now();
                let r = http.post(url).bearer_auth(token).body(body).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                let bytes = r.bytes().await.unwrap();
                (i, t.elapsed().as_secs_f64() * 1e3, bytes)
            });
        }
        let mut answers = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (i, ms, bytes) = r.unwrap();
            lat.push(ms);
            answers.push((i, bytes));
        }
        busy += t.elapsed().as_secs_f64();
        n += phones.len();
        for (i, bytes) in answers {
            let resp = SyncResponse::decode(&bytes).unwrap();
            phones[i].store.lock().unwrap().apply_sync(&sent[i], &resp).unwrap();
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (n, busy, lat)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn enrol_many(hub: &TestHub, n: usize) -> Vec<Phone> {
    let mut phones = Vec::new();
    for i in 0..n {
        let rw = 1 + (i % 6) as u16;
        let rt = 1 + ((i / 6) % 3) as u16;
        let p = Phone::enrol(hub, &format!("Petugas {i}"), Scope { rw, rt: Some(rt) }).await;
        p.client(&hub.url(), patient()).sync(&p.store, |_| {}).await.unwrap();
        record(&p, &mut Rng(i as u64 + 1), 1, (rw, rt));
        p.client(&hub.url(), patient()).sync(&p.store, |_| {}).await.unwrap();
        phones.push(p);
    }
    phones
}

/// Scenario 8: hub throughput on SQLite with 200 concurrent devices.
async fn hub_throughput(b: &mut Bench) {
    let devices = if b.quick { 40 } else { 200 };
    progress(format!("Skenario 8: hub SQLite, {devices} perangkat serentak …"));
    let hub = TestHub::start().await;
    let phones = enrol_many(&hub, devices).await;
    let (n, secs, lat) = load(&phones, &[hub.url()], 3, &mut Rng(8)).await;
    let rate = n as f64 / secs;
    b.row(
        "8",
        format!("hub on SQLite: {devices} concurrent devices × 3 waves, 1–5 new requests each"),
        format!("{rate:.0} exchanges/s"),
        "≥ 300 /s",
        Some(rate >= 300.0),
    );
    let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
    b.row("8", "  latency p50 / p99", format!("{p50:.0} ms / {p99:.0} ms"), "p99 ≤ 500 ms", Some(p99 <= 500.0));
}

/// Scenario 9: hub on PostgreSQL, one instance vs two sharing the database.
async fn postgres_scaling(b: &mut Bench) {
    if std::env::var("JEMPUT_TEST_POSTGRES_URL").is_err() {
        b.row("9", "hub on PostgreSQL, one vs two instances", "not run: no PostgreSQL (JEMPUT_TEST_POSTGRES_URL)", "two ≥ 1.6 × one", None);
        return;
    }
    let devices = if b.quick { 40 } else { 200 };
    progress(format!("Skenario 9: hub PostgreSQL, satu vs dua instans, {devices} perangkat …"));
    let hub = TestHub::start_on(BackendKind::Postgres).await.expect("postgres");
    let phones = enrol_many(&hub, devices).await;
    let (n1, s1, l1) = load(&phones, &[hub.url()], 3, &mut Rng(9)).await;
    let second: HubDb = hub.store.reopen().unwrap();
    let (addr2, task2) = serve(second).await;
    let (n2, s2, l2) = load(&phones, &[hub.url(), format!("http://{addr2}")], 3, &mut Rng(10)).await;
    task2.abort();
    let (r1, r2) = (n1 as f64 / s1, n2 as f64 / s2);
    b.row("9", "hub on PostgreSQL: one instance", format!("{r1:.0} exchanges/s (p99 {:.0} ms)", pct(&l1, 0.99)), "", None);
    b.row(
        "9",
        "hub on PostgreSQL: two instances sharing the database (same 2-core machine)",
        format!("{r2:.0} exchanges/s (p99 {:.0} ms) = {:.2} × one", pct(&l2, 0.99), r2 / r1),
        "two ≥ 1.6 × one",
        Some(r2 / r1 >= 1.6),
    );
}

/// Scenario 10: a month of one officer's work, syncing every hour.
async fn month(b: &mut Bench) {
    progress("Skenario 10: sebulan kerja satu petugas (200 permohonan, sinkron tiap jam) …");
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.addr, 10, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let phone = Phone::enrol(&hub, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
    let client = phone.client(&proxy.url(), patient());
    proxy.reset_counters();
    let mut rng = Rng(0x30DA);
    let mut open: Vec<(String, u32)> = Vec::new(); // (id, office steps done)
    let mut recorded = 0;
    let mut exchanges = 0;
    let days = 30;
    for day in 0..days {
        for hour in 0..24 {
            // Daytime work at the door: about 200 requests over the month.
            if (8..16).contains(&hour) && recorded < 200 && rng.next_u64() % 8 < 7 {
                for id in record(&phone, &mut rng, 1, (1, 1)) {
                    open.push((id, 0));
                }
                recorded += 1;
            }
            // Office hours: staff move requests along (verified, processed, done).
            if (9..15).contains(&hour) {
                for (id, steps) in open.iter_mut().filter(|(_, s)| *s < 3).take(4) {
                    let st = ["diverifikasi", "diproses", "selesai"][*steps as usize];
                    let on_hub = hub.db.with({
                        let id = id.clone();
                        move |tx, cipher| -> Result<bool, jemput_hub::error::ServiceError> {
                            Ok(jemput_hub::service::load_doc(tx, cipher, &id, false)?.is_some())
                        }
                    });
                    if on_hub.unwrap() {
                        staff_status(&hub.url(), &hub.staff_token, id, st).await;
                        *steps += 1;
                    }
                }
            }
            // The officer hands over finished letters.
            {
                let mut s = phone.store.lock().unwrap();
                for (id, steps) in open.iter_mut().filter(|(_, s)| *s == 3) {
                    if s.request(id).unwrap().status() == Status::Selesai {
                        s.set_request_status(id, Status::Diserahkan, None).unwrap();
                        *steps = 4;
                    }
                }
            }
            if day == 15 && hour == 10 {
                let mut cat = Catalog::default_catalog();
                cat.version += 1;
                if let Some(s) = cat.services.iter_mut().find(|s| s.code == "sktm") {
                    s.processing_days = 2;
                }
                jemput_hub::setup::update_catalog(&hub.db, &cat).unwrap();
            }
            let out = client.sync(&phone.store, |_| {}).await.unwrap();
            exchanges += out.rounds;
        }
    }
    let (up, down) = proxy.bytes();
    let total = up + down;
    let handed =
        phone.store.lock().unwrap().count_requests(&RequestFilter { status: Some(Status::Diserahkan), ..Default::default() }).unwrap();
    b.row(
        "10",
        format!(
            "a month: {recorded} requests, {handed} handed over, statuses back, 1 catalog change, {} hourly syncs ({exchanges} exchanges)",
            days * 24
        ),
        format!("{:.0} KB ({:.0} KB up / {:.0} KB down)", total as f64 / 1000.0, up as f64 / 1000.0, down as f64 / 1000.0),
        "≤ 1 MB",
        Some(total <= 1_000_000),
    );
}

/// Scenario 11: an idle sync from a device holding 2,000 documents.
async fn idle(b: &mut Bench) {
    let n = if b.quick { 300 } else { 2_000 };
    progress(format!("Skenario 11: sinkron tanpa perubahan dari HP dengan {n} dokumen …"));
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.addr, 11, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let phone = Phone::enrol(&hub, "Pak Hadi", Scope { rw: 2, rt: None }).await;
    let client = phone.client(&proxy.url(), patient());
    record(&phone, &mut Rng(11), n, (2, 1));
    for _ in 0..20 {
        let out = client.sync(&phone.store, |_| {}).await.unwrap();
        if out.report.confirmed == 0 && !out.report.more {
            break;
        }
    }
    let health = phone.store.lock().unwrap().sync_health().unwrap();
    assert_eq!(health.unsent_requests, 0, "{}", health.summary);
    proxy.reset_counters();
    let out = client.sync(&phone.store, |_| {}).await.unwrap();
    let (up, down) = proxy.bytes();
    b.row(
        "11",
        format!("idle sync from a device holding {n} documents"),
        format!("{} B ({up} up / {down} down), {} exchange(s)", up + down, out.rounds),
        "≤ 1 KB, 1 exchange",
        Some(up + down <= 1024 && out.rounds == 1),
    );
}

/// Scenario 17: the staff dashboard's request list (a page of 50, over HTTP in-process: session,
/// role, office index, 50 documents opened, HTML rendered) on a hub with 10,000 requests.
async fn dashboard_page(b: &mut Bench) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use jemput_core::request::{Actor, OfficeFields, Request, Role, StatusChange};
    use jemput_core::sync::hub_side::Placement;
    use tower::ServiceExt;
    let n: u64 = if b.quick { 1_000 } else { 10_000 };
    progress(format!("Skenario 12: halaman daftar dasbor (50 baris) dengan {n} permohonan di hub …"));
    let hub = TestHub::start().await;
    let catalog = Catalog::default_catalog();
    let kel = Kelurahan::demo();
    let mut rng = Rng(17);
    let t0 = jemput_core::time_util::now_ms() - 90 * 86_400_000;
    let mut all = Vec::new();
    for i in 0..n {
        let d = gen::draft(i, &mut rng, &catalog, &kel, None);
        let at = t0 + (i as i64) * 700_000;
        let officer = format!("petugas-{}", d.applicant.address.rw);
        all.push(Request {
            id: uuid_like(i),
            receipt: jemput_core::ReceiptCode::new(
                &jemput_core::receipt::DevicePrefix::from_index((i / 50_000) as u32),
                (i % 50_000) as u32 + 1,
            )
            .unwrap()
            .as_str()
            .to_string(),
            service_code: d.service_code,
            catalog_version: catalog.version,
            checklist: d.documents_seen.into_iter().map(|c| (c, true)).collect(),
            applicant: d.applicant,
            fields: d.fields,
            notes: d.notes,
            officer_id: officer.clone(),
            device_id: format!("hp-{officer}"),
            created_at: at,
            history: vec![StatusChange { status: Status::Dicatat, at, by: Actor { role: Role::Petugas, id: officer }, reason: None }],
            office: OfficeFields::default(),
        });
    }
    for chunk in all.chunks(1_000) {
        let chunk = chunk.to_vec();
        hub.db
            .with::<_, jemput_hub::error::ServiceError>(move |tx, cipher| {
                let actor = jemput_core::document::random_actor();
                for r in &chunk {
                    let mut doc = jemput_core::document::create(r, &actor).map_err(|_| jemput_hub::error::ServiceError::Internal)?;
                    jemput_hub::service::put_doc_from(tx, cipher, &r.id, &mut doc, &Placement::of_request(r))?;
                }
                Ok(())
            })
            .unwrap();
    }
    let (account, _) = hub
        .db
        .with(|tx, _| jemput_hub::web::auth::add_staff_with_role(tx, "Operator Bench", jemput_hub::web::Role::Operator, None, "sistem"))
        .unwrap();
    let (cookie, _) = hub.db.with(|tx, _| jemput_hub::web::auth::open_session(tx, &account.id)).unwrap();
    let router = jemput_hub::api::app(jemput_hub::api::AppState::new(hub.db.clone()));
    let page = |path: &'static str| {
        let router = router.clone();
        let cookie = cookie.clone();
        async move {
            let t = Instant::now();
            let req = axum::http::Request::get(path).header("cookie", cookie).body(Body::empty()).unwrap();
            let resp = router.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (t.elapsed(), body.len())
        }
    };
    let (first, _) = page("/permohonan").await;
    let mut rows = Vec::new();
    for (path, what) in [
        ("/permohonan", "newest page of 50"),
        ("/permohonan?rw=2&status=terkirim", "filtered by RW and status"),
        ("/permohonan?layanan=domisili&hal=20", "filtered by service, page 20"),
        ("/permohonan?cari=siti", "search by a name word (blind index)"),
        ("/papan-pengumuman", "for comparison: a page with no request data (session check and its write only)"),
    ] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..30 {
            let (t, s) = page(path).await;
            times.push(t);
            size = s;
        }
        times.sort();
        rows.push((what, times[times.len() / 2], times[times.len() * 95 / 100], size));
    }
    b.row(
        "17",
        format!("dashboard: first list page after {n} requests arrived (indexes them)"),
        format!("{:.0} ms", first.as_secs_f64() * 1e3),
        "",
        None,
    );
    for (what, p50, p95, size) in rows {
        let comparison = what.starts_with("for comparison");
        b.row(
            "17",
            format!("dashboard list with {n} requests: {what} ({} KB HTML)", size / 1024),
            format!("p50 {:.1} ms, p95 {:.1} ms", p50.as_secs_f64() * 1e3, p95.as_secs_f64() * 1e3),
            if comparison { "" } else { "≤ 50 ms" },
            (!comparison).then_some(p95 <= Duration::from_millis(50)),
        );
    }
}

/// A UUID-shaped id for generated request `i`.
fn uuid_like(i: u64) -> String {
    format!("0190a1b2-0000-7000-8000-{i:012x}")
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|k| format!("{:.0} GiB", k as f64 / 1_048_576.0))
        .unwrap_or_default();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    format!("{cpus} CPU ({model}), {mem} RAM, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--store-measure") {
        store_measure(&args[i + 1], args[i + 2].parse().unwrap());
        return;
    }
    let only: Option<Vec<u32>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let want = |n: u32| only.as_ref().is_none_or(|o| o.contains(&n));
    let mut b = Bench { rows: Vec::new(), quick: args.iter().any(|a| a == "--quick") };
    if cfg!(debug_assertions) {
        progress("PERINGATAN: build debug; angka resmi memakai --release");
    }
    let t = Instant::now();
    if want(1) || want(2) {
        upload(&mut b).await;
    }
    if want(3) || want(4) {
        weak_link(&mut b).await;
    }
    if want(5) || want(6) {
        device_store(&mut b);
    }
    if want(7) {
        native_library(&mut b);
    }
    if want(8) {
        hub_throughput(&mut b).await;
    }
    if want(9) {
        postgres_scaling(&mut b).await;
    }
    if want(10) {
        month(&mut b).await;
    }
    if want(11) {
        idle(&mut b).await;
    }
    if want(16) {
        through_the_bindings(&mut b);
    }
    if want(17) {
        dashboard_page(&mut b).await;
    }
    println!();
    println!("Jemput benchmarks — {} — {}", jemput_core::time_util::date_of_ms(jemput_core::time_util::now_ms()), machine());
    if b.quick {
        println!("(--quick: smaller sizes; not the official figures)");
    }
    println!();
    println!("| # | what | measured | target | met |");
    println!("|---|---|---|---|---|");
    for r in &b.rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**NO**",
            None => "–",
        };
        println!("| {} | {} | {} | {} | {met} |", r.scenario, r.what, r.measured, r.target);
    }
    println!();
    println!("Total run time {:.0} s.", t.elapsed().as_secs_f64());
}
