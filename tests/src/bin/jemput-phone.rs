//! A command-line officer's phone for end-to-end tests of the staff dashboard: the real core
//! (encrypted store, enrolment, the sync client) kept in a folder between calls, so a browser
//! test can enrol it from the dashboard's QR payload, record a request, sync, and read back the
//! status the office set.
//!
//! ```text
//! jemput-phone DIR enrol PAYLOAD NAME   # PAYLOAD: the QR code's text, jemput://enroll?hub=…&code=…
//! jemput-phone DIR record RW RT I       # records request I of the test residents; prints the receipt code
//! jemput-phone DIR sync                 # one sync with the hub it enrolled at
//! jemput-phone DIR status RECEIPT       # prints the request's status code as the phone sees it
//! jemput-phone DIR complaint RW RT      # records a complaint (with its reporter); prints the receipt code
//! jemput-phone DIR complaint-status RECEIPT  # the complaint's status code; fails when the phone has none
//! jemput-phone DIR retention            # the retention policy the phone holds (days: request on
//!                                       # phone, at the hub, complaint on phone, at the hub)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use jemput_core::store::{Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};

fn open(dir: &Path) -> Result<Store, String> {
    let key_file = dir.join("kunci");
    let key = match std::fs::read(&key_file) {
        Ok(b) => StoreKey::from_slice(&b).ok_or("kunci rusak")?,
        Err(_) => {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            let k = StoreKey::generate();
            std::fs::write(&key_file, k.as_bytes()).map_err(|e| e.to_string())?;
            k
        }
    };
    Store::open(dir.join("hp.db"), &key).map_err(|e| e.to_string())
}

async fn run(args: &[String]) -> Result<(), String> {
    let usage = "pemakaian: jemput-phone DIR enrol PAYLOAD NAMA | record RW RT I | sync | status KODE | complaint RW RT \
                 | complaint-status KODE | retention";
    let dir = PathBuf::from(args.first().ok_or(usage)?);
    let store = Mutex::new(open(&dir)?);
    match args.get(1).map(String::as_str) {
        Some("enrol") => {
            let payload = url::Url::parse(args.get(2).ok_or(usage)?).map_err(|e| e.to_string())?;
            let get = |k: &str| payload.query_pairs().find(|(x, _)| x == k).map(|(_, v)| v.into_owned());
            let hub = get("hub").ok_or("QR tanpa alamat hub")?;
            let code = get("code").ok_or("QR tanpa kode")?;
            let e = client::enroll(&hub, &code, args.get(3).ok_or(usage)?, &store).await.map_err(|e| e.to_string())?;
            std::fs::write(dir.join("hub"), &hub).map_err(|e| e.to_string())?;
            std::fs::write(dir.join("token"), &e.token).map_err(|e| e.to_string())?;
            println!("terdaftar");
        }
        Some("record") => {
            let n = |i: usize| args.get(i).and_then(|s| s.parse::<u16>().ok()).ok_or(usage);
            let draft = jemput_tests::harness::draft(n(4)? as usize, n(2)?, n(3)?);
            let r = store.lock().unwrap().record_request(&draft, true).map_err(|e| e.to_string())?;
            println!("{}", r.receipt);
        }
        Some("sync") => {
            let hub = std::fs::read_to_string(dir.join("hub")).map_err(|_| "belum terdaftar")?;
            let token = std::fs::read_to_string(dir.join("token")).map_err(|_| "belum terdaftar")?;
            let c = SyncClient::new(&hub, &token, RetryPolicy::default()).map_err(|e| e.to_string())?;
            let s = c.sync(&store, |_| {}).await.map_err(|e| e.to_string())?;
            println!("sinkron: {} putaran", s.rounds);
        }
        Some("status") => {
            let r = store.lock().unwrap().request_by_receipt(args.get(2).ok_or(usage)?).map_err(|e| e.to_string())?;
            println!("{}", r.status().code());
        }
        Some("complaint") => {
            use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place, Reporter};
            let n = |i: usize| args.get(i).and_then(|s| s.parse::<u16>().ok()).ok_or(usage);
            let draft = ComplaintDraft {
                category: ComplaintCategory::Pengaduan,
                topic: "Lampu jalan mati".into(),
                text: "Lampu jalan di depan musala mati sejak seminggu, gang gelap pada malam hari".into(),
                place: Place { rw: n(2)?, rt: n(3)?, description: "Gang Melati depan musala".into() },
                reporter: Some(Reporter { name: "Hartono Wibisono".into(), phone: Some("081298765432".into()) }),
            };
            let c = store.lock().unwrap().record_complaint(&draft).map_err(|e| e.to_string())?;
            println!("{}", c.receipt);
        }
        Some("complaint-status") => {
            let receipt = args.get(2).ok_or(usage)?;
            let all = store.lock().unwrap().list_complaints(false, 0, 10_000).map_err(|e| e.to_string())?;
            let c = all.into_iter().find(|c| &c.receipt == receipt).ok_or("pengaduan tidak ada di HP ini")?;
            println!("{}", c.status.code());
        }
        Some("retention") => {
            let r = store.lock().unwrap().retention().map_err(|e| e.to_string())?;
            println!("{} {} {} {}", r.request_days_on_phone, r.request_days_on_hub, r.complaint_days_on_phone, r.complaint_days_on_hub);
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Gagal: {e}");
            ExitCode::FAILURE
        }
    }
}
