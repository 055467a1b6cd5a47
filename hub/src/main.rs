//! `jemput-hub`: the kelurahan hub. Officers' phones sync to it; office staff act through its
//! API. SQLite by default (one file, nothing to install).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use jemput_core::permissions::Scope;

use jemput_hub::db::{self, HubDb};
use jemput_hub::error::AppError;
use jemput_hub::{api, demo, setup};

#[derive(Parser)]
#[command(name = "jemput-hub", about = "Hub kelurahan Jemput: menerima data dari HP petugas RT/RW dan melayani staf kelurahan")]
struct Cli {
    /// The SQLite database file.
    #[arg(long, env = "JEMPUT_HUB_DATABASE", default_value = "jemput-hub.db", global = true)]
    db: PathBuf,
    /// The 32-byte key file that seals personal data at rest (created by `init`).
    #[arg(long, env = "JEMPUT_HUB_DATA_KEY", default_value = "jemput-hub.key", global = true)]
    key: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the kelurahan (demo profile) with the default catalog, and a staff token.
    Init,
    /// Serves the API (plain HTTP: put it behind an HTTPS reverse proxy, see hub/README.md).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JEMPUT_HUB_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Officers.
    Officer {
        #[command(subcommand)]
        action: OfficerCmd,
    },
    /// Creates a one-time enrolment code for an officer's phone.
    Enroll {
        /// Officer id.
        officer: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 48)]
        hours: i64,
        /// The hub's public address, for the QR payload.
        #[arg(long, default_value = "https://hub.kelurahan.example")]
        url: String,
    },
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

fn open(cli: &Cli) -> Result<HubDb, AppError> {
    let key = setup::load_or_create_key(&cli.key)?;
    HubDb::open(&cli.db, &key)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("berhenti dengan tertib");
}

async fn run(cli: Cli) -> Result<(), AppError> {
    match &cli.command {
        Command::Init => {
            let db = open(&cli)?;
            let token = setup::init(&db, &jemput_core::Kelurahan::demo(), &jemput_core::Catalog::default_catalog())?;
            println!("Kelurahan dibuat di {} (kunci data: {}).", cli.db.display(), cli.key.display());
            println!("Token staf (simpan, hanya ditampilkan sekali): {token}");
        }
        Command::Serve { listen } => {
            let db = open(&cli)?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| AppError::Config(format!("tidak dapat mendengarkan di {listen}: {e}")))?;
            tracing::info!(%listen, "hub melayani");
            axum::serve(listener, api::app(api::AppState { db }))
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| AppError::Config(e.to_string()))?;
        }
        Command::Officer { action } => {
            let db = open(&cli)?;
            match action {
                OfficerCmd::Add { name, rw, rt } => {
                    let o = db.with(|c, _| db::add_officer(c, name, Scope { rw: *rw, rt: *rt }))?;
                    println!("{}", o.id);
                }
                OfficerCmd::List => {
                    for o in db.with(|c, _| db::officers(c))? {
                        let rt = o.rt.map(|r| format!("RT {r:03}")).unwrap_or_else(|| "semua RT".into());
                        println!("{}\t{}\tRW {:03} {}\t{}", o.id, o.name, o.rw, rt, if o.active { "aktif" } else { "dicabut" });
                    }
                }
                OfficerCmd::Revoke { id } => {
                    db.with(|c, _| db::revoke_officer(c, id))?;
                    println!("Petugas {id} dan perangkatnya dicabut.");
                }
            }
        }
        Command::Enroll { officer, hours, url } => {
            let db = open(&cli)?;
            let code = db.with(|c, _| db::create_enrol_code(c, officer, *hours))?;
            println!("Kode pendaftaran: {code} (berlaku {hours} jam, sekali pakai)");
            println!("QR: jemput://enroll?hub={url}&code={code}");
        }
        Command::Demo { serve } => demo::run(*serve).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("Gagal: {e}");
        std::process::exit(1);
    }
}
