//! `jemput-hub`: the kelurahan hub. Officers' phones sync to it; office staff act through its
//! API (and the `office` commands over it). SQLite by default (one file, nothing to install),
//! PostgreSQL when several hub instances share one database.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use jemput_core::permissions::Scope;

use jemput_hub::config::{FileConfig, HubConfig, Overrides};
use jemput_hub::engine::worker::{self as isolation, Isolation};
use jemput_hub::service;
use jemput_hub::storage::HubDb;
use jemput_hub::{api, backup, demo, serve, setup};

mod office;

#[derive(Parser)]
#[command(name = "jemput-hub", version, about = "Hub kelurahan Jemput: menerima data dari HP petugas RT/RW dan melayani staf kelurahan")]
struct Cli {
    /// Configuration file (TOML); `jemput-hub.toml` is read when it exists.
    #[arg(long, env = "JEMPUT_HUB_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The database: a SQLite file path, or a postgres:// URL.
    #[arg(long, env = "JEMPUT_HUB_DATABASE", global = true)]
    database: Option<String>,
    /// The 32-byte key file that seals personal data at rest (created by `init`).
    #[arg(long, env = "JEMPUT_HUB_DATA_KEY", global = true)]
    key: Option<PathBuf>,
    /// The address phones use to reach the hub (for enrolment QR codes).
    #[arg(long, env = "JEMPUT_HUB_PUBLIC_URL", global = true)]
    public_url: Option<String>,
    /// Memory limit (MiB) of each worker process that decodes what devices send; 0 decodes in
    /// the hub's own process.
    #[arg(long, env = "JEMPUT_HUB_DECODE_MEMORY_MB", global = true)]
    decode_memory_mb: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the kelurahan with the default catalog and the first staff account: the demo
    /// profile, or a real one from `--profil` (JSON) with an admin who signs in to the dashboard.
    /// Without either, `serve` offers the first set-up in the browser (`/siapkan`).
    Init {
        /// The kelurahan profile and letterhead (JSON; see hub/README.md).
        #[arg(long)]
        profil: Option<PathBuf>,
        /// User name of the first admin (the password comes from JEMPUT_HUB_ADMIN_PASSWORD).
        #[arg(long, requires = "profil")]
        admin: Option<String>,
        /// Full name of the first admin.
        #[arg(long, default_value = "Admin kelurahan")]
        admin_nama: String,
    },
    /// Serves the API: HTTPS with --tls-cert/--tls-key, else plain HTTP for loopback or behind an
    /// HTTPS reverse proxy (see hub/README.md).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JEMPUT_HUB_LISTEN")]
        listen: Option<SocketAddr>,
        /// TLS certificate chain (PEM).
        #[arg(long, env = "JEMPUT_HUB_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, env = "JEMPUT_HUB_TLS_KEY")]
        tls_key: Option<PathBuf>,
    },
    /// Officers.
    Officer {
        #[command(subcommand)]
        action: OfficerCmd,
    },
    /// Creates a one-time enrolment code (and its QR payload) for an officer's phone.
    Enroll {
        /// Officer id.
        officer: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 48)]
        hours: i64,
    },
    /// Enrolled devices.
    Device {
        #[command(subcommand)]
        action: DeviceCmd,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        action: StaffCmd,
    },
    /// Imports a bundle file a phone exported without signal (importing twice changes nothing).
    ImportBundle {
        /// The bundle file.
        file: PathBuf,
    },
    /// Backs up the hub (SQLite or PostgreSQL, also while it serves) into a new FILE: each
    /// record's personal data under its own key from the register of backup keys (beside the
    /// key file; a copy of it is written beside FILE), the whole sealed with the data key; keep
    /// the key file elsewhere (ADR 0014).
    Backup {
        /// The backup file to create.
        file: PathBuf,
    },
    /// Restores a backup made by `backup` into the hub's database (SQLite: the hub must be
    /// stopped; PostgreSQL: a new, empty database). Records erased since the backup keep only
    /// their letter register entry. Phones send again what the hub lost since the backup.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace the existing SQLite database (it is kept beside it under another name).
        #[arg(long)]
        timpa: bool,
        /// PostgreSQL: the database the restore replaces (e.g. postgres://…/jemput_lama), whose
        /// erasures made after the backup are carried over.
        #[arg(long)]
        hapus_dari: Option<String>,
    },
    /// After restoring a PostgreSQL hub with pg_restore: phones send again what it lost.
    MarkRestored {
        /// The database the restore replaces (e.g. postgres://…/jemput_lama): the erasures made
        /// there after the backup are carried over, so no erased personal data comes back.
        #[arg(long)]
        hapus_dari: Option<String>,
    },
    /// The audit log of a date range (WIB), for a data breach report: who saw or changed which
    /// record, and when.
    AuditExport {
        /// First day (YYYY-MM-DD), included.
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD), included.
        #[arg(long)]
        to: String,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to this file instead of the standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Erases a request's or complaint's personal data on the hub and, as they sync, on every
    /// phone (a resident's justified request, UU PDP); the letter register entry remains.
    Erase {
        /// Document id of the request or complaint.
        id: String,
        /// Why (audited; no personal data), e.g. "permintaan warga 3 Des 2026".
        #[arg(long)]
        alasan: String,
        /// Who asks (a staff id; recorded in the audit log as `staf:<id>`).
        #[arg(long)]
        staf: String,
    },
    /// The retention policy: how long finished records keep their personal data.
    Retention {
        #[command(subcommand)]
        action: RetentionCmd,
    },
    /// Office actions over the staff API of a running hub.
    Office(office::OfficeArgs),
    /// Replaces the data key: a new key, everything sealed again under it, the old key
    /// retired. Stop every hub instance first. Interrupted, it continues when run again (the
    /// next key waits beside the key file as `<key file>.baru`; keep both until it finishes).
    RotateKey {
        /// Documents sealed again per transaction.
        #[arg(long, default_value_t = 200)]
        batch: u32,
        /// Pause after each batch, in milliseconds (spreads the load on a busy database).
        #[arg(long, default_value_t = 0)]
        jeda_ms: u64,
    },
    /// Access request (UU PDP): prints as JSON everything the hub holds about a NIK (requests
    /// and complaints with their status history); audited with the NIK's blind tag.
    Akses {
        /// The resident's NIK.
        #[arg(long)]
        nik: String,
    },
    /// Internal: a worker process that decodes and checks device messages (started by `serve`).
    #[command(hide = true)]
    DecodeWorker,
    /// Runs a whole demo on one machine: a hub on SQLite, simulated officers recording offline,
    /// syncing, the office deciding, the decisions coming back.
    Demo {
        /// Keep the demo hub running afterwards.
        #[arg(long)]
        serve: bool,
    },
}

#[derive(Subcommand)]
enum OfficerCmd {
    /// Adds an officer for one RT (`--rt`) or a whole RW.
    Add {
        /// Name.
        name: String,
        /// RW number.
        #[arg(long)]
        rw: u16,
        /// RT number (omit for the whole RW).
        #[arg(long)]
        rt: Option<u16>,
    },
    /// Lists officers.
    List,
    /// Revokes an officer and their devices.
    Revoke {
        /// Officer id.
        id: String,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Lists devices.
    List,
    /// Revokes one device (it gets 401 and keeps its unsent data).
    Revoke {
        /// Device id.
        id: String,
    },
}

#[derive(Subcommand)]
enum RetentionCmd {
    /// Shows the policy.
    Show,
    /// Sets the policy (days after a request is handed over or rejected, or a complaint closed).
    Set {
        /// Days a finished request stays on officers' phones.
        #[arg(long)]
        permohonan_hp: u32,
        /// Days a closed complaint stays on officers' phones.
        #[arg(long)]
        pengaduan_hp: u32,
        /// Days a finished request keeps its personal data at the hub.
        #[arg(long)]
        permohonan_hub: u32,
        /// Days a closed complaint keeps its personal data at the hub.
        #[arg(long)]
        pengaduan_hub: u32,
    },
    /// Erases now every record whose period at the hub has ended (`serve` does it every few
    /// hours).
    Run,
}

#[derive(Subcommand)]
enum StaffCmd {
    /// Adds a staff account and prints its token once; with `--pengguna`, the account also
    /// signs in to the dashboard (password from JEMPUT_HUB_STAFF_PASSWORD).
    Add {
        /// Name.
        name: String,
        /// Role: operator, pimpinan (lurah/sekretaris) or admin.
        #[arg(long, default_value = "admin")]
        peran: String,
        /// User name for the dashboard.
        #[arg(long)]
        pengguna: Option<String>,
    },
    /// Lists staff accounts.
    List,
    /// Deactivates a staff account.
    Revoke {
        /// Staff id.
        id: String,
    },
}

fn config(cli: &Cli, listen: Option<SocketAddr>, tls_cert: Option<PathBuf>, tls_key: Option<PathBuf>) -> anyhow::Result<HubConfig> {
    let file = match &cli.config {
        Some(p) => FileConfig::read(p, true)?,
        None => FileConfig::read(std::path::Path::new("jemput-hub.toml"), false)?,
    };
    let o = Overrides {
        database: cli.database.clone(),
        key_file: cli.key.clone(),
        listen,
        public_url: cli.public_url.clone(),
        tls_cert,
        tls_key,
        decode_memory_mb: cli.decode_memory_mb,
    };
    Ok(HubConfig::resolve(file, o)?)
}

fn open(cfg: &HubConfig) -> anyhow::Result<HubDb> {
    // With the next key too, should a key rotation have been interrupted (ADR 0015).
    // Its erasures destroy the records' keys in the register of backup keys (ADR 0014).
    let keys = jemput_hub::storage::backup_keys::default_path(&cfg.key_file);
    Ok(jemput_hub::rotation::open(&cfg.database, &cfg.key_file)?.with_backup_keys(keys))
}

/// Where device messages are decoded: worker processes started from this binary, unless the
/// limit is 0.
fn isolation(cfg: &HubConfig) -> anyhow::Result<Isolation> {
    if cfg.decode_memory_mb == 0 {
        return Ok(Isolation::InProcess);
    }
    let exe = std::env::current_exe().map_err(|e| anyhow::anyhow!("lokasi program tidak diketahui: {e}"))?;
    Ok(Isolation::workers(exe, cfg.decode_memory_mb))
}

fn day(ms: Option<i64>) -> String {
    ms.map(|m| jemput_core::time_util::date_of_ms(m).to_string()).unwrap_or_else(|| "-".into())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::DecodeWorker => {
            return isolation::worker_main().map_err(|e| anyhow::anyhow!("pemroses dokumen: {e}"));
        }
        Command::Demo { serve } => return Ok(demo::run(*serve).await?),
        Command::Office(args) => {
            let cfg = config(&cli, None, None, None)?;
            return office::run(args, &cfg.public_url).await;
        }
        Command::Backup { file } => {
            let cfg = config(&cli, None, None, None)?;
            let key = backup::read_key(&cfg.key_file)?;
            let keys = jemput_hub::storage::backup_keys::default_path(&cfg.key_file);
            let r = backup::backup(&cfg.database, &key, &keys, file, "sistem:cli")?;
            println!(
                "Cadangan dibuat: {} ({} bita, {} catatan warga masing-masing dengan kuncinya sendiri), tersegel dengan kunci data hub.",
                r.file.display(),
                r.bytes,
                r.records
            );
            println!(
                "Register kunci cadangan: {} (salinannya {}). Cadangan hanya dapat dipulihkan bersama register itu; jangan menyalinnya ke tempat lain.",
                keys.display(),
                r.mirror.display()
            );
            println!(
                "Simpan berkas kunci {} di tempat lain dari cadangan ini: tanpa kunci itu cadangan tidak dapat dibuka.",
                cfg.key_file.display()
            );
            return Ok(());
        }
        Command::Restore { file, timpa, hapus_dari } => {
            let cfg = config(&cli, None, None, None)?;
            let key = backup::read_key(&cfg.key_file)?;
            let keys = jemput_hub::storage::backup_keys::default_path(&cfg.key_file);
            let r = backup::restore(&cfg.database, &key, &keys, file, *timpa, hapus_dari.as_deref(), "sistem:cli")?;
            println!("Basis data {} dipulihkan dari {}.", cfg.database, file.display());
            if r.erasures_carried > 0 {
                println!("{} penghapusan data pribadi sesudah cadangan dibuat diterapkan lagi.", r.erasures_carried);
            }
            if let Some(old) = r.kept_previous {
                println!("Basis data sebelumnya disimpan sebagai {} (hapus bila tidak diperlukan lagi).", old.display());
            }
            println!("Perubahan sesudah cadangan dibuat akan dikirim ulang oleh HP petugas saat sinkron; keputusan staf sesudahnya perlu diulang.");
            return Ok(());
        }
        Command::Serve { listen, tls_cert, tls_key } => {
            let cfg = config(&cli, *listen, tls_cert.clone(), tls_key.clone())?;
            let db = open(&cfg)?;
            // A hub whose profile or catalog is missing or unreadable cannot serve anyone: say so
            // now, not at the first request. A hub with neither yet serves the first set-up in
            // the browser (`/siapkan`, its one-time code in the log) and nothing else.
            if !setup::check_ready(&db)? {
                tracing::warn!("hub belum disiapkan: jalankan `jemput-hub init`, atau buka /siapkan di peramban");
            }
            let tls = match &cfg.tls {
                Some(files) => Some(serve::tls_config(files).await?),
                None => None,
            };
            if tls.is_none() && !cfg.listen.ip().is_loopback() {
                tracing::warn!(
                    "hub melayani HTTP biasa di alamat non-loopback: pasang di belakang reverse proxy HTTPS (lihat hub/README.md)"
                );
            }
            let listener =
                std::net::TcpListener::bind(cfg.listen).map_err(|e| anyhow::anyhow!("tidak dapat mendengarkan di {}: {e}", cfg.listen))?;
            tracing::info!(listen = %cfg.listen, tls = tls.is_some(), basis_data = db.backend_name(), "hub melayani");
            let cert_fingerprint = match &cfg.tls {
                Some(files) => Some(jemput_hub::web::cert_fingerprint(&files.cert)?),
                None => None,
            };
            jemput_hub::web::configure(jemput_hub::web::WebOptions { public_url: cfg.public_url.clone(), cert_fingerprint });
            serve::spawn_retention(db.clone());
            let state = api::AppState::with_isolation(db, isolation(&cfg)?);
            return Ok(serve::serve(listener, api::app(state), tls, serve::shutdown_signal()).await?);
        }
        Command::RotateKey { batch, jeda_ms } => {
            let cfg = config(&cli, None, None, None)?;
            let options =
                jemput_hub::rotation::RotationOptions { batch: (*batch).max(1), pause: std::time::Duration::from_millis(*jeda_ms) };
            let r = jemput_hub::rotation::rotate_key(&cfg.database, &cfg.key_file, options, |n| {
                println!("disegel ulang: {n} dokumen");
            })?;
            let how = if r.resumed { "dilanjutkan dan selesai" } else { "selesai" };
            println!(
                "Penggantian kunci {how}: {} dokumen dan {} pertukaran sinkron disegel ulang; kunci lama di {} sudah diganti.",
                r.docs,
                r.exchanges,
                cfg.key_file.display()
            );
            return Ok(());
        }
        _ => {}
    }
    let cfg = config(&cli, None, None, None)?;
    let db = open(&cfg)?;
    match &cli.command {
        Command::Init { profil: None, .. } => {
            let token = setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog())?;
            println!("Kelurahan dibuat di {} (kunci data: {}).", cfg.database, cfg.key_file.display());
            println!("Token staf \"Admin kelurahan\" (simpan, hanya ditampilkan sekali): {token}");
        }
        Command::Init { profil: Some(path), admin, admin_nama } => {
            let admin = admin.as_deref().ok_or(anyhow::anyhow!("--admin NAMA_PENGGUNA wajib bersama --profil"))?;
            let password = std::env::var("JEMPUT_HUB_ADMIN_PASSWORD")
                .map_err(|_| anyhow::anyhow!("isi kata sandi admin di variabel JEMPUT_HUB_ADMIN_PASSWORD"))?;
            let account = jemput_hub::web::setup::install_from_file(&db, path, admin_nama, admin, &password)?;
            println!("Kelurahan dibuat di {} (kunci data: {}).", cfg.database, cfg.key_file.display());
            println!("Admin {} ({}) dapat masuk ke dasbor dengan nama pengguna \"{admin}\".", account.name, account.id);
        }
        Command::Officer { action } => match action {
            OfficerCmd::Add { name, rw, rt } => {
                let o = db.with(|tx, _| service::add_officer(tx, name, Scope { rw: *rw, rt: *rt }))?;
                println!("{}", o.id);
            }
            OfficerCmd::List => {
                for o in db.with(|tx, _| service::officers(tx))? {
                    let rt = o.rt.map(|r| format!("RT {r:03}")).unwrap_or_else(|| "semua RT".into());
                    println!("{}\t{}\tRW {:03} {}\t{}", o.id, o.name, o.rw, rt, if o.active { "aktif" } else { "dicabut" });
                }
            }
            OfficerCmd::Revoke { id } => {
                db.with(|tx, _| service::revoke_officer(tx, id))?;
                println!("Petugas {id} dan perangkatnya dicabut.");
            }
        },
        Command::Enroll { officer, hours } => {
            let code = db.with(|tx, _| service::create_enrol_code(tx, officer, *hours))?;
            println!("Kode pendaftaran: {code} (berlaku {hours} jam, sekali pakai)");
            let pin = cfg.tls.as_ref().and_then(|t| setup::pin_of_cert_file(&t.cert));
            println!("QR: {}", setup::qr_payload_pinned(&cfg.public_url, &code, pin.as_deref()));
        }
        Command::Device { action } => match action {
            DeviceCmd::List => {
                for d in db.with(|tx, _| tx.devices())? {
                    let state = if d.revoked_at.is_some() { "dicabut" } else { "aktif" };
                    let backlog = d.backlog.map(|b| b.describe()).unwrap_or_else(|| "sisa kiriman tidak dilaporkan".into());
                    println!("{}\t{}\t{}\tsinkron terakhir {}\t{backlog}\t{state}", d.id, d.name, d.officer_id, day(d.last_seen));
                }
            }
            DeviceCmd::Revoke { id } => {
                db.with(|tx, _| service::revoke_device(tx, id))?;
                println!("Perangkat {id} dicabut; data yang belum terkirim tetap ada di HP.");
            }
        },
        Command::Staff { action } => match action {
            StaffCmd::Add { name, peran, pengguna } => {
                let role = jemput_hub::web::Role::from_code(peran).ok_or(anyhow::anyhow!("peran harus operator, pimpinan atau admin"))?;
                let login = match pengguna {
                    Some(u) => {
                        let u = jemput_hub::web::auth::check_username(u).map_err(|m| anyhow::anyhow!(m))?;
                        let pw = std::env::var("JEMPUT_HUB_STAFF_PASSWORD")
                            .map_err(|_| anyhow::anyhow!("isi kata sandi di variabel JEMPUT_HUB_STAFF_PASSWORD"))?;
                        jemput_hub::web::auth::check_password(&pw, &pw).map_err(|m| anyhow::anyhow!(m))?;
                        Some((u, jemput_hub::web::auth::hash_password(&pw)?))
                    }
                    None => None,
                };
                let (s, token) =
                    db.with(|tx, _| jemput_hub::web::auth::add_staff_with_role(tx, name, role, login.clone(), "sistem:cli"))?;
                println!("Staf {} ({}) ditambahkan. Token (simpan, hanya ditampilkan sekali): {token}", s.name, s.id);
            }
            StaffCmd::List => {
                for s in db.with(|tx, _| tx.staff_accounts())? {
                    println!("{}\t{}\t{}", s.id, s.name, if s.active { "aktif" } else { "nonaktif" });
                }
            }
            StaffCmd::Revoke { id } => {
                db.with(|tx, _| service::revoke_staff(tx, id))?;
                println!("Akun staf {id} dinonaktifkan.");
            }
        },
        Command::MarkRestored { hapus_dari } => {
            let previous = match hapus_dari {
                Some(location) => Some(jemput_hub::rotation::open(location, &cfg.key_file)?),
                None => None,
            };
            let (_, carried) = backup::mark_restored(&db, previous.as_ref(), "sistem:cli")?;
            println!("Hub ditandai telah dipulihkan: HP petugas akan mengirim ulang data yang hilang saat sinkron berikutnya.");
            if previous.is_some() {
                println!("{carried} penghapusan data pribadi sesudah cadangan dibuat diterapkan lagi.");
            } else {
                println!(
                    "Penghapusan data pribadi sesudah cadangan dibuat tidak terbawa: jalankan lagi dengan --hapus-dari <basis data lama>."
                );
            }
        }
        Command::AuditExport { from, to, format, out } => {
            let range = service::audit::ExportRange::from_days(from, to)?;
            let rows = db.with(|tx, _| service::audit::export(tx, &range, "sistem:cli"))?;
            let text = match format.as_str() {
                "csv" => service::audit::to_csv(&rows),
                "json" => serde_json::to_string_pretty(&rows)?,
                _ => anyhow::bail!("format harus csv atau json"),
            };
            match out {
                Some(path) => {
                    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("tidak dapat menulis {}: {e}", path.display()))?;
                    eprintln!("{} catatan audit ditulis ke {}.", rows.len(), path.display());
                }
                None => print!("{text}"),
            }
        }
        Command::Akses { nik } => {
            let report =
                db.with(|tx, cipher| jemput_hub::web::access::access_report(tx, cipher, nik, "sistem:cli", "sistem (baris perintah)"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::ImportBundle { file } => {
            let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("tidak dapat membaca {}: {e}", file.display()))?;
            let iso = isolation(&cfg)?;
            let r = db.with(|tx, cipher| jemput_hub::engine::import_bundle_bytes(tx, cipher, &iso, &bytes, "sistem:cli"))?;
            println!("Bundel berisi {} dokumen; {} dokumen baru/berubah di hub.", r.docs, r.changed);
            for (id, code, msg) in r.refused {
                println!("  DITOLAK {id}: {code}: {msg}");
            }
        }
        Command::Erase { id, alasan, staf } => {
            let reason = service::erasure::check_reason(alasan)?;
            let by = format!("staf:{staf}");
            let now = jemput_core::time_util::now_ms();
            db.with(|tx, _| match tx.staff_accounts()?.into_iter().find(|s| s.id == *staf) {
                Some(s) if s.active => Ok(()),
                _ => Err(jemput_hub::error::ServiceError::NotFound("akun staf tidak dikenal atau nonaktif")),
            })?;
            let e = db.with(|tx, cipher| jemput_hub::web::index::erase_record(tx, cipher, id, &reason, &by, now))?;
            db.scrub()?;
            println!("Data pribadi {} {} dihapus; HP petugas menghapus salinannya pada sinkronisasi berikutnya.", e.kind, e.doc_id);
        }
        Command::Retention { action } => match action {
            RetentionCmd::Show => {
                let r = db.with(|tx, cipher| service::erasure::retention(tx, cipher))?;
                println!("Permohonan selesai: {} hari di HP petugas, {} hari di hub", r.request_days_on_phone, r.request_days_on_hub);
                println!("Pengaduan selesai: {} hari di HP petugas, {} hari di hub", r.complaint_days_on_phone, r.complaint_days_on_hub);
            }
            RetentionCmd::Set { permohonan_hp, pengaduan_hp, permohonan_hub, pengaduan_hub } => {
                let policy = jemput_core::kelurahan::Retention {
                    request_days_on_phone: *permohonan_hp,
                    complaint_days_on_phone: *pengaduan_hp,
                    request_days_on_hub: *permohonan_hub,
                    complaint_days_on_hub: *pengaduan_hub,
                };
                let changed = db.with(|tx, cipher| service::erasure::set_retention(tx, cipher, &policy, "sistem:cli"))?;
                println!(
                    "{}",
                    if changed {
                        "Masa simpan diubah; HP petugas menerimanya pada sinkronisasi berikutnya."
                    } else {
                        "Masa simpan tidak berubah."
                    }
                );
            }
            RetentionCmd::Run => {
                let n = jemput_hub::web::index::run_retention(&db, jemput_core::time_util::now_ms())?;
                println!("{n} catatan yang masa simpannya habis dihapus data pribadinya.");
            }
        },
        Command::Serve { .. }
        | Command::Demo { .. }
        | Command::Office(_)
        | Command::DecodeWorker
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::RotateKey { .. } => unreachable!("handled above"),
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("Gagal: {e:#}");
        std::process::exit(1);
    }
}
