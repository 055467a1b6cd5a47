//! `jemput-hub demo`: the main job on one machine, through the real code paths. A hub on SQLite
//! in a temporary folder; three officers enrolled with one-time codes; each phone (a real
//! encrypted core store) records requests and a complaint with no network, then syncs over
//! HTTP; staff decide through the API; the decisions come back to the phones.

use std::collections::HashMap;
use std::sync::Mutex;

use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, Place};
use jemput_core::permissions::Scope;
use jemput_core::request::{Address, Applicant, RequestDraft, Sex};
use jemput_core::store::{RequestFilter, Store, StoreKey};
use jemput_core::sync::client::{self, RetryPolicy, SyncClient};

use crate::api::{self, AppState};
use crate::error::ServiceError;
use crate::service;
use crate::setup;
use crate::storage::{DocFilter, HubDb};

struct Resident {
    name: &'static str,
    nik: &'static str,
    kk: &'static str,
    birth: &'static str,
    sex: Sex,
    street: &'static str,
}

const RESIDENTS: [Resident; 6] = [
    Resident {
        name: "Siti Aminah",
        nik: "3576024405900001",
        kk: "3576020101150003",
        birth: "1990-05-04",
        sex: Sex::Perempuan,
        street: "Jl. Balongsari Gg. 3 No. 12",
    },
    Resident {
        name: "Budi Santoso",
        nik: "3576021708850002",
        kk: "3576021203100004",
        birth: "1985-08-17",
        sex: Sex::LakiLaki,
        street: "Jl. Empunala No. 45",
    },
    Resident {
        name: "Sri Wahyuni",
        nik: "3576025201780003",
        kk: "3576020506090001",
        birth: "1978-01-12",
        sex: Sex::Perempuan,
        street: "Gg. Kenanga No. 7",
    },
    Resident {
        name: "Ahmad Fauzi",
        nik: "3576020303000004",
        kk: "3576021512200002",
        birth: "2000-03-03",
        sex: Sex::LakiLaki,
        street: "Jl. Mawar No. 2",
    },
    Resident {
        name: "Dewi Lestari",
        nik: "3576026110950005",
        kk: "3576022202190006",
        birth: "1995-10-21",
        sex: Sex::Perempuan,
        street: "Gg. Melati No. 19",
    },
    Resident {
        name: "Slamet Riyadi",
        nik: "3576021111600006",
        kk: "3576020807050005",
        birth: "1960-11-11",
        sex: Sex::LakiLaki,
        street: "Jl. Pahlawan No. 88",
    },
];

fn request(r: &Resident, rw: u16, rt: u16, service: &str, fields: &[(&str, &str)], seen: &[&str]) -> RequestDraft {
    RequestDraft {
        service_code: service.into(),
        applicant: Applicant {
            name: r.name.into(),
            nik: r.nik.into(),
            kk: r.kk.into(),
            birth_place: "Mojokerto".into(),
            birth_date: r.birth.into(),
            sex: r.sex,
            address: Address { street: r.street.into(), rt, rw },
            phone: Some("0812 3300 4455".into()),
            uses_whatsapp: false,
        },
        documents_seen: seen.iter().map(|s| s.to_string()).collect(),
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>(),
        notes: String::new(),
    }
}

fn fail(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Config(e.to_string())
}

/// The demo's own folder under the system's temporary folder, removed at the end unless the
/// hub keeps serving from it.
struct DemoDir(std::path::PathBuf, bool);

impl DemoDir {
    fn create(keep: bool) -> std::io::Result<DemoDir> {
        let path = std::env::temp_dir().join(format!("jemput-demo-{}", crate::service::random_secret(10).to_lowercase()));
        std::fs::create_dir(&path)?;
        Ok(DemoDir(path, keep))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs the demo.
pub async fn run(keep_serving: bool) -> Result<(), ServiceError> {
    let demo_dir = DemoDir::create(keep_serving).map_err(fail)?;
    let dir = demo_dir.0.clone();
    let key = setup::load_or_create_key(&dir.join("hub.key"))?;
    let hub = HubDb::open(&dir.join("hub.db").to_string_lossy(), &key)?;
    let staff_token = setup::init(&hub, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(fail)?;
    let addr = listener.local_addr().map_err(fail)?;
    let url = format!("http://{addr}");
    let app = api::app(AppState::new(hub.clone()));
    let server =
        tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await });
    println!("1. Hub kelurahan berjalan di {url} (SQLite: {})", dir.join("hub.db").display());

    // Three officers: RT 001 and RT 002 of RW 001, and the whole RW 002.
    let officers = [
        ("Pak Darmo (Ketua RT 001/RW 001)", 1, Some(1)),
        ("Bu Ningsih (Ketua RT 002/RW 001)", 1, Some(2)),
        ("Pak Hadi (Ketua RW 002)", 2, None),
    ];
    let mut phones = Vec::new();
    for (i, (name, rw, rt)) in officers.iter().enumerate() {
        let o = hub.with(|c, _| service::add_officer(c, name, Scope { rw: *rw, rt: *rt }))?;
        let code = hub.with(|c, _| service::create_enrol_code(c, &o.id, 48))?;
        let store = Mutex::new(Store::open(dir.join(format!("hp-{i}.db")), &StoreKey::generate()).map_err(fail)?);
        let e = client::enroll(&url, &code, &format!("HP {name}"), &store).await.map_err(fail)?;
        let sync = SyncClient::new(&url, &e.token, RetryPolicy::default()).map_err(fail)?;
        let first = sync.sync(&store, |_| {}).await.map_err(fail)?;
        println!(
            "2. {name}: terdaftar (kode tanda terima berawalan {}), menerima katalog dan profil kelurahan ({} bita)",
            e.receipt_prefix, first.bytes_received
        );
        phones.push((name.to_string(), *rw, rt.unwrap_or(1), store, sync));
    }

    // Offline: record at the door.
    println!("3. Tanpa sinyal, petugas mencatat di rumah warga:");
    let mut receipts = Vec::new();
    for (i, (name, rw, rt, store, _)) in phones.iter().enumerate() {
        let mut s = store.lock().unwrap();
        let work: Vec<RequestDraft> = match i {
            0 => vec![
                request(
                    &RESIDENTS[0],
                    *rw,
                    *rt,
                    "sktm",
                    &[("keperluan", "Keringanan biaya berobat di RSUD")],
                    &["ktp", "kk", "surat_pernyataan_tidak_mampu"],
                ),
                request(
                    &RESIDENTS[1],
                    *rw,
                    *rt,
                    "pengantar_skck",
                    &[("keperluan", "Melamar kerja di pabrik")],
                    &["ktp", "kk", "akta_kelahiran"],
                ),
            ],
            1 => vec![request(&RESIDENTS[2], *rw, *rt, "domisili", &[("keperluan", "Membuka rekening bank")], &["ktp", "kk"])],
            _ => vec![
                request(
                    &RESIDENTS[3],
                    *rw,
                    3,
                    "sku",
                    &[
                        ("nama_usaha", "Warung Fauzi"),
                        ("jenis_usaha", "Warung makan"),
                        ("alamat_usaha", "Jl. Mawar No. 2"),
                        ("keperluan", "Pengajuan KUR"),
                    ],
                    &["ktp", "kk", "foto_usaha"],
                ),
                request(
                    &RESIDENTS[4],
                    *rw,
                    1,
                    "pengantar_nikah",
                    &[
                        ("nama_calon_pasangan", "Rizky Pratama"),
                        ("tanggal_nikah", "2027-02-14"),
                        ("tempat_nikah", "KUA Magersari"),
                        ("status_perkawinan", "Perawan"),
                    ],
                    &["ktp", "kk", "akta_kelahiran", "pas_foto"],
                ),
            ],
        };
        for d in work {
            let rec = s.record_request(&d, true).map_err(fail)?;
            let warn = if rec.warnings.is_empty() { String::new() } else { format!(" — {}", rec.warnings[0].message) };
            println!("   {name}: {} untuk {} → kode {}{warn}", d.service_code, d.applicant.name, rec.receipt);
            receipts.push(rec);
        }
        if i == 2 {
            let c = s
                .record_complaint(&ComplaintDraft {
                    category: ComplaintCategory::Pengaduan,
                    topic: "Lampu jalan".into(),
                    text: "Lampu penerangan jalan di depan musala padam sejak seminggu".into(),
                    place: Place { rt: 2, rw: 2, description: "Depan Musala Al-Ikhlas".into() },
                    reporter: None,
                })
                .map_err(fail)?;
            println!("   {name}: pengaduan lampu jalan (anonim) → kode {}", c.receipt);
        }
        println!("   {name}: {}", s.sync_health().map_err(fail)?.summary);
    }

    println!("4. Sinyal kembali; HP mengirim data:");
    for (name, _, _, store, sync) in &phones {
        let out = sync.sync(store, |_| {}).await.map_err(fail)?;
        println!(
            "   {name}: {} dokumen terkonfirmasi dalam {} pertukaran, {} bita terkirim / {} bita diterima",
            out.report.confirmed, out.rounds, out.bytes_sent, out.bytes_received
        );
        for r in &out.report.refused {
            println!("   {name}: DITOLAK {}: {}", r.code, r.message);
        }
    }

    // The office decides, through the staff API.
    println!("5. Staf kelurahan memproses:");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let rb = http.get(format!("{url}/api/v1/staff/{path}")).bearer_auth(&staff_token);
        async move { rb.send().await.map_err(fail)?.json::<serde_json::Value>().await.map_err(fail) }
    };
    let page = get("requests").await?;
    let list = page["items"].as_array().cloned().unwrap_or_default();
    let post = |path: String, body: serde_json::Value| {
        let rb = http.post(format!("{url}/api/v1/staff/{path}")).bearer_auth(&staff_token).json(&body);
        async move {
            let r = rb.send().await.map_err(fail)?;
            if !r.status().is_success() {
                return Err(ServiceError::Config(format!("staf gagal: {}", r.text().await.unwrap_or_default())));
            }
            Ok::<(), ServiceError>(())
        }
    };
    for (k, row) in list.iter().enumerate() {
        let id = row["id"].as_str().unwrap_or_default();
        let steps: Vec<(&str, Option<&str>)> = match row["service_code"].as_str() {
            Some("pengantar_nikah") => vec![("perlu_kelengkapan", Some("Surat keterangan status (N1) belum dilampirkan"))],
            Some("sku") => vec![("ditolak", Some("Usaha berada di luar wilayah Kelurahan Balongsari"))],
            _ => vec![("diverifikasi", None), ("diproses", None), ("selesai", None)],
        };
        for (status, reason) in steps {
            if status == "selesai" {
                let number = format!("470/{:03}/418.57.3/2026", k + 1);
                post(format!("requests/{id}/office"), serde_json::json!({ "letter_number": number })).await?;
            }
            post(format!("requests/{id}/status"), serde_json::json!({ "status": status, "reason": reason })).await?;
        }
        println!(
            "   {} {} → {}",
            row["receipt"].as_str().unwrap_or_default(),
            row["service_code"].as_str().unwrap_or_default(),
            if row["service_code"] == "sku" {
                "ditolak"
            } else if row["service_code"] == "pengantar_nikah" {
                "perlu kelengkapan"
            } else {
                "selesai"
            }
        );
    }

    let complaints = get("complaints").await?;
    for c in complaints["items"].as_array().into_iter().flatten() {
        let answer = "Sudah dilaporkan ke Dinas PUPR; lampu diganti hari Kamis";
        post(
            format!("complaints/{}/response", c["id"].as_str().unwrap_or_default()),
            serde_json::json!({ "status": "selesai", "response": answer }),
        )
        .await?;
        println!(
            "   pengaduan {} ({}) → dijawab: {answer}",
            c["receipt"].as_str().unwrap_or_default(),
            c["topic"].as_str().unwrap_or_default()
        );
    }

    println!("6. Keputusan kantor sampai ke HP petugas:");
    for (name, _, _, store, sync) in &phones {
        let out = sync.sync(store, |_| {}).await.map_err(fail)?;
        for n in &out.report.status_changes {
            let reason = n.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let letter = store
                .lock()
                .unwrap()
                .request(&n.id)
                .ok()
                .and_then(|r| r.office.letter_number)
                .map(|l| format!(", surat nomor {l}"))
                .unwrap_or_default();
            println!("   {name}: {} → {}{reason}{letter}", n.receipt, n.status.label());
        }
        let s = store.lock().unwrap();
        for c in s.list_complaints(false, 0, 10).map_err(fail)? {
            if let Some(answer) = s.complaint(&c.id).ok().and_then(|c| c.latest_response().map(str::to_string)) {
                println!("   {name}: jawaban kelurahan atas pengaduan {}: {answer}", c.receipt);
            }
        }
        let ready = s.count_requests(&RequestFilter { status: Some(jemput_core::Status::Selesai), ..Default::default() }).map_err(fail)?;
        println!("   {name}: {ready} surat siap diantar; {}", s.sync_health().map_err(fail)?.summary);
    }
    let total = hub.with(|tx, _| -> Result<u64, ServiceError> {
        let requests = tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })?;
        Ok(requests + tx.count_docs(&DocFilter { kind: "complaint".into(), ..Default::default() })?)
    })?;
    println!("7. Hub menyimpan {total} dokumen (permohonan dan pengaduan), terenkripsi di {}", dir.join("hub.db").display());
    if keep_serving {
        let password = crate::service::random_secret(14);
        let hash = crate::web::auth::hash_password(&password)?;
        hub.with(|tx, _| {
            crate::web::auth::add_staff_with_role(tx, "Admin demo", crate::web::Role::Admin, Some(("admin".into(), hash.clone())), "sistem")
        })?;
        println!("   Dasbor staf: {url}/ — masuk dengan nama pengguna \"admin\", kata sandi {password}");
        println!("   Hub tetap berjalan di {url}; token staf: {staff_token}. Tekan Ctrl-C untuk berhenti.");
        let _ = server.await;
    } else {
        server.abort();
        println!("   Selesai. Jalankan dengan --serve agar hub tetap berjalan.");
    }
    Ok(())
}
