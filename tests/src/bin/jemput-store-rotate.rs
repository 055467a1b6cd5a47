//! The phone's side of a store key rotation, in its own process so a test can SIGKILL it at any
//! moment (`tests/tests/store_key_rotation.rs`). It does what the app does (ADR 0015): keep the
//! new key as *pending* (written and fsynced) before touching the store, rotate the store, then
//! make the pending key the current one (an atomic rename) — printing each step as it is reached.
//!
//! ```text
//! jemput-store-rotate DIR [pause-before|pause-after]
//! ```
//! DIR holds `hp.db` and the current key in `kunci`. Prints `tertunda` (pending key kept),
//! `mulai` (rotation starts), `diputar` (the store is under the new key), `selesai` (the new key
//! is current). `pause-before` waits after `tertunda`, `pause-after` after `diputar`, until killed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use jemput_core::store::{Store, StoreKey};

/// Writes `bytes` to `path` through a temporary file, fsynced, renamed, with the directory
/// fsynced: after a crash the file is either absent or whole.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
}

fn say(step: &str) {
    println!("{step}");
    let _ = std::io::stdout().flush();
}

fn pause() {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

fn run(dir: &Path, mode: &str) -> Result<(), String> {
    let current = StoreKey::from_slice(&std::fs::read(dir.join("kunci")).map_err(|e| e.to_string())?).ok_or("kunci rusak")?;
    let pending = StoreKey::generate();
    write_durably(&dir.join("kunci.baru"), pending.as_bytes()).map_err(|e| e.to_string())?;
    say("tertunda");
    if mode == "pause-before" {
        pause();
    }
    let mut store = Store::open(dir.join("hp.db"), &current).map_err(|e| e.to_string())?;
    say("mulai");
    store.rotate_key(&pending).map_err(|e| e.to_string())?;
    say("diputar");
    if mode == "pause-after" {
        pause();
    }
    drop(store);
    std::fs::rename(dir.join("kunci.baru"), dir.join("kunci")).map_err(|e| e.to_string())?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| e.to_string())?;
    say("selesai");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("pemakaian: jemput-store-rotate DIR [pause-before|pause-after]");
        return ExitCode::FAILURE;
    };
    match run(Path::new(dir), args.get(1).map(String::as_str).unwrap_or("")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Gagal: {e}");
            ExitCode::FAILURE
        }
    }
}
