//! Backup files of a hub (ADR 0014): the image of the database ([`super::backup_image`]: from
//! SQLite a consistent copy taken with the online backup API while the hub may be serving, from
//! PostgreSQL a copy of every table in one snapshot), sealed in chunks under a key derived
//! from the hub's data key, so a stolen backup file reveals nothing; and the way back (open,
//! check and put in place, only when no hub holds a SQLite database open).
//!
//! File format, version 2 (version 1, written before records had keys of their own, has the
//! same layout and is still read):
//!
//! ```text
//! "JEMPUT-CADANGAN\n" (16 bytes)  version (1 byte)  file id (16 random bytes)
//! sealed check (u32 LE length + bytes: "jemput-cadangan" sealed under context "…:periksa")
//! chunks: u32 LE length + sealed bytes (at most CHUNK_BYTES of the database file each), the
//!         context binding the file id, the chunk's index and whether it is the last, so
//!         chunks cannot be reordered, swapped between files, cut off or appended to.
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use jemput_core::crypto::{Cipher, MasterKey};
use rusqlite::Connection;

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 16] = b"JEMPUT-CADANGAN\n";
/// The format version this hub writes: 2, an image whose records are sealed under keys of
/// their own (the register of backup keys). Version 1 files are still read.
pub const FORMAT_VERSION: u8 = 2;
/// Bytes of the database file sealed together.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// What the sealed check holds.
const CHECK: &[u8] = b"jemput-cadangan";

/// Why a backup or a restore did not happen. The messages are for the person at the command
/// line, in Bahasa Indonesia, and never name personal data.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Not a Jemput backup file (or of a newer format).
    #[error("berkas {0} bukan berkas cadangan Jemput (atau dibuat oleh versi Jemput yang lebih baru)")]
    NotABackup(String),
    /// The key does not open the backup.
    #[error("kunci data tidak cocok dengan berkas cadangan ini: pakai berkas kunci hub yang dipakai saat cadangan dibuat")]
    WrongKey,
    /// The file was changed or cut short.
    #[error("berkas cadangan rusak atau terpotong (bagian {0}); pakai cadangan lain")]
    Damaged(u64),
    /// The restored database is not a usable hub database.
    #[error("isi cadangan bukan basis data hub yang utuh: {0}")]
    BadDatabase(String),
    /// Another process has the database open.
    #[error("basis data {0} sedang dipakai (hub masih berjalan?): hentikan dulu layanan jemput-hub, lalu jalankan pemulihan lagi")]
    InUse(String),
    /// The database exists and overwriting was not asked for.
    #[error(
        "basis data {0} sudah ada: pemulihan menggantinya dengan isi cadangan (perubahan sesudah cadangan hilang dari hub); ulangi dengan --timpa bila memang itu yang dimaksud"
    )]
    Exists(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// SQLite refused.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> BackupError {
    let (what, path) = (what.to_string(), path.display().to_string());
    move |e| BackupError::Io(format!("{what} {path}: {e}"))
}

/// The cipher of backup files: its own key domain, derived from the hub's data key.
pub fn backup_cipher(key: &MasterKey) -> Cipher {
    Cipher::new(key, "hub cadangan")
}

fn chunk_context(file_id: &[u8; 16], index: u64, last: bool) -> Vec<u8> {
    let mut c = b"jemput-cadangan:v1:bagian:".to_vec();
    c.extend_from_slice(file_id);
    c.extend_from_slice(&index.to_le_bytes());
    c.push(u8::from(last));
    c
}

fn check_context(file_id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"jemput-cadangan:v1:periksa:".to_vec();
    c.extend_from_slice(file_id);
    c
}

/// Copies the SQLite database at `db` into a new file `plain` with the online backup API: a
/// consistent snapshot in one step (in WAL mode the hub's writers go on meanwhile).
pub fn snapshot_sqlite(db: &Path, plain: &Path) -> Result<(), BackupError> {
    let src = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    let mut dst = Connection::open(plain)?;
    {
        let b = rusqlite::backup::Backup::new(&src, &mut dst)?;
        // One step copies every page under one read snapshot (in WAL mode the hub's writers
        // go on meanwhile); a busy source is tried again for up to half a minute.
        let mut waits = 0;
        loop {
            match b.step(-1)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => {}
                _ if waits < 300 => {
                    waits += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                _ => return Err(BackupError::InUse(db.display().to_string())),
            }
        }
    }
    Ok(())
}

fn write_block(out: &mut impl Write, block: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(block.len()).map_err(|_| std::io::Error::other("bagian terlalu besar"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(block)
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Seals the file `plain` into the backup file `out` (created new, readable by its owner only).
pub fn seal_file(cipher: &Cipher, plain: &Path, out: &Path) -> Result<(), BackupError> {
    let mut input = std::io::BufReader::new(std::fs::File::open(plain).map_err(io("tidak dapat membaca", plain))?);
    let file = create_owner_only(out).map_err(io("tidak dapat membuat", out))?;
    let mut w = std::io::BufWriter::new(file);
    let fail = io("tidak dapat menulis", out);
    let mut file_id = [0u8; 16];
    getrandom::fill(&mut file_id).map_err(|e| BackupError::Io(format!("sumber acak: {e}")))?;
    w.write_all(MAGIC).map_err(&fail)?;
    w.write_all(&[FORMAT_VERSION]).map_err(&fail)?;
    w.write_all(&file_id).map_err(&fail)?;
    write_block(&mut w, &cipher.seal(&check_context(&file_id), CHECK)).map_err(&fail)?;
    // Each chunk is sealed once the next one is known to exist (or not): the last says so.
    let mut current = vec![0u8; CHUNK_BYTES];
    let mut next = vec![0u8; CHUNK_BYTES];
    let mut have = read_full(&mut input, &mut current).map_err(io("tidak dapat membaca", plain))?;
    let mut index = 0u64;
    loop {
        let more = read_full(&mut input, &mut next).map_err(io("tidak dapat membaca", plain))?;
        let last = more == 0;
        write_block(&mut w, &cipher.seal(&chunk_context(&file_id, index, last), &current[..have])).map_err(&fail)?;
        if last {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        have = more;
        index += 1;
    }
    let file = w.into_inner().map_err(|e| BackupError::Io(format!("tidak dapat menulis {}: {}", out.display(), e.error())))?;
    file.sync_all().map_err(&fail)?;
    Ok(())
}

/// Most bytes one sealed block of a backup file may claim (a chunk plus the seal).
const MAX_BLOCK: usize = CHUNK_BYTES + 64;

fn read_block(input: &mut impl Read, index: u64) -> Result<Option<Vec<u8>>, BackupError> {
    let mut len = [0u8; 4];
    match read_full(input, &mut len).map_err(|e| BackupError::Io(e.to_string()))? {
        0 => return Ok(None),
        4 => {}
        _ => return Err(BackupError::Damaged(index)),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_BLOCK {
        return Err(BackupError::Damaged(index));
    }
    let mut block = vec![0u8; len];
    if read_full(input, &mut block).map_err(|e| BackupError::Io(e.to_string()))? != len {
        return Err(BackupError::Damaged(index));
    }
    Ok(Some(block))
}

/// Opens the backup file `backup` into the new file `plain`: a wrong key, a file of another
/// kind, and a changed, reordered or cut file are each a clear error (and `plain` is removed).
pub fn open_file(cipher: &Cipher, backup: &Path, plain: &Path) -> Result<(), BackupError> {
    let result = open_file_inner(cipher, backup, plain);
    if result.is_err() {
        let _ = std::fs::remove_file(plain);
    }
    result
}

fn open_file_inner(cipher: &Cipher, backup: &Path, plain: &Path) -> Result<(), BackupError> {
    let mut input = std::io::BufReader::new(std::fs::File::open(backup).map_err(io("tidak dapat membaca", backup))?);
    let mut head = [0u8; 16 + 1 + 16];
    if read_full(&mut input, &mut head).map_err(io("tidak dapat membaca", backup))? != head.len()
        || &head[..16] != MAGIC
        || !(1..=FORMAT_VERSION).contains(&head[16])
    {
        return Err(BackupError::NotABackup(backup.display().to_string()));
    }
    let file_id: [u8; 16] = head[17..].try_into().map_err(|_| BackupError::NotABackup(backup.display().to_string()))?;
    let check = read_block(&mut input, 0)?.ok_or(BackupError::Damaged(0))?;
    if cipher.open(&check_context(&file_id), &check).map_err(|_| BackupError::WrongKey)? != CHECK {
        return Err(BackupError::WrongKey);
    }
    let file = create_owner_only(plain).map_err(io("tidak dapat membuat", plain))?;
    let mut w = std::io::BufWriter::new(file);
    let mut index = 0u64;
    loop {
        let block = read_block(&mut input, index)?.ok_or(BackupError::Damaged(index))?;
        let (bytes, last) = match cipher.open(&chunk_context(&file_id, index, false), &block) {
            Ok(b) => (b, false),
            Err(_) => (cipher.open(&chunk_context(&file_id, index, true), &block).map_err(|_| BackupError::Damaged(index))?, true),
        };
        w.write_all(&bytes).map_err(io("tidak dapat menulis", plain))?;
        if last {
            break;
        }
        index += 1;
    }
    if read_block(&mut input, index + 1)?.is_some() {
        return Err(BackupError::Damaged(index + 1));
    }
    let file = w.into_inner().map_err(|e| BackupError::Io(format!("tidak dapat menulis {}: {}", plain.display(), e.error())))?;
    file.sync_all().map_err(io("tidak dapat menulis", plain))?;
    Ok(())
}

/// Creates the new file `path`, readable and writable by its owner only from its first byte,
/// never over an existing file (backups, their images, the register of backup keys, key files).
pub fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A new file name beside `path` (same folder, so a rename puts it in place), not yet used.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "hub.db".into());
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    path.with_file_name(format!("{name}.{suffix}-{:08x}", u32::from_le_bytes(b)))
}

/// Checks that the SQLite file at `path` is whole (`PRAGMA integrity_check`) and, in place,
/// turns it into a single file (no WAL beside it) ready to be renamed.
pub fn check_and_settle(path: &Path) -> Result<(), BackupError> {
    let conn = Connection::open(path)?;
    let verdict: String =
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| BackupError::BadDatabase(e.to_string()))?;
    if verdict != "ok" {
        return Err(BackupError::BadDatabase("pemeriksaan keutuhan SQLite gagal".into()));
    }
    let mode: String = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    if mode != "delete" {
        return Err(BackupError::InUse(path.display().to_string()));
    }
    Ok(())
}

/// Whether another connection (a running hub) has the SQLite database at `path` open: a hub
/// keeps it in WAL mode with its connections open, and leaving WAL mode needs the database to
/// itself. When nobody has it open, the database is left as one file (no WAL beside it).
pub fn ensure_unused(path: &Path) -> Result<(), BackupError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(std::time::Duration::from_millis(0))?;
    match conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0)) {
        Ok(mode) if mode == "delete" => Ok(()),
        _ => Err(BackupError::InUse(path.display().to_string())),
    }
}

/// Puts the checked, single-file database `restored` in place of `target`. The database that
/// was there (if any) is kept beside it under a new name, which is returned; nothing is
/// deleted. Refuses while another process has `target` open, and when `target` exists and
/// `replace` is false.
pub fn put_in_place(restored: &Path, target: &Path, replace: bool) -> Result<Option<PathBuf>, BackupError> {
    let kept = if target.exists() {
        if !replace {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        ensure_unused(target)?;
        let aside = sibling(target, "sebelum-pemulihan");
        std::fs::rename(target, &aside).map_err(io("tidak dapat memindahkan", target))?;
        Some(aside)
    } else {
        None
    };
    for extra in ["-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{extra}", target.display()));
        if p.exists() {
            std::fs::remove_file(&p).map_err(io("tidak dapat menghapus", &p))?;
        }
    }
    std::fs::rename(restored, target).map_err(io("tidak dapat memindahkan", restored))?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> (MasterKey, Cipher) {
        let k = MasterKey::generate();
        let c = backup_cipher(&k);
        (k, c)
    }

    #[test]
    fn sealed_files_open_only_whole_in_order_and_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let (_, c) = cipher();
        // Two and a half chunks of varied bytes.
        let data: Vec<u8> = (0..(CHUNK_BYTES * 5 / 2)).map(|i| (i * 7 % 251) as u8).collect();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, &data).unwrap();
        let sealed = dir.path().join("cadangan");
        seal_file(&c, &plain, &sealed).unwrap();
        let bytes = std::fs::read(&sealed).unwrap();
        assert!(bytes.windows(4096).all(|w| w != &data[..4096]), "the database bytes do not appear in clear");
        let back = dir.path().join("back");
        open_file(&c, &sealed, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), data);

        // A wrong key is told as such, and nothing is left behind.
        let (_, other) = cipher();
        let out = dir.path().join("x");
        assert!(matches!(open_file(&other, &sealed, &out), Err(BackupError::WrongKey)));
        assert!(!out.exists());
        // Cut off after the first chunk: damaged, not a shorter database.
        let first_end = 16 + 1 + 16 + 4 + u32::from_le_bytes(bytes[33..37].try_into().unwrap()) as usize;
        let chunk0 = 4 + u32::from_le_bytes(bytes[first_end..first_end + 4].try_into().unwrap()) as usize;
        std::fs::write(&sealed, &bytes[..first_end + chunk0]).unwrap();
        assert!(matches!(open_file(&c, &sealed, &out), Err(BackupError::Damaged(1))));
        assert!(!out.exists());
        // One flipped byte inside a chunk.
        let mut flipped = bytes.clone();
        flipped[first_end + 100] ^= 1;
        std::fs::write(&sealed, &flipped).unwrap();
        assert!(matches!(open_file(&c, &sealed, &out), Err(BackupError::Damaged(0))));
        // Something appended after the last chunk.
        let mut longer = bytes.clone();
        longer.extend_from_slice(&bytes[first_end..first_end + chunk0]);
        std::fs::write(&sealed, &longer).unwrap();
        assert!(open_file(&c, &sealed, &out).is_err());
        // Another kind of file.
        std::fs::write(&sealed, b"SQLite format 3\0 and more").unwrap();
        assert!(matches!(open_file(&c, &sealed, &out), Err(BackupError::NotABackup(_))));
        // An empty database file still makes one (last) chunk.
        std::fs::write(&plain, b"").unwrap();
        let e = dir.path().join("kosong");
        seal_file(&c, &plain, &e).unwrap();
        let eb = dir.path().join("kosong-buka");
        open_file(&c, &e, &eb).unwrap();
        assert_eq!(std::fs::read(&eb).unwrap(), b"");
    }

    #[test]
    fn a_database_open_elsewhere_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.db");
        let held = Connection::open(&path).unwrap();
        let _: String = held.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        held.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").unwrap();
        assert!(matches!(ensure_unused(&path), Err(BackupError::InUse(_))));
        drop(held);
        ensure_unused(&path).unwrap();
        assert!(!PathBuf::from(format!("{}-wal", path.display())).exists());
    }
}
