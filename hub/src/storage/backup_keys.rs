//! The register of backup keys (ADR 0014, "erasure reaches old backups"): one random key per
//! request and complaint, under which that record's personal data is sealed inside every backup
//! file, kept **outside** the database and outside every backup. Erasing a record destroys its
//! key here (and in every copy of the register, the mirrors), so a backup made before the
//! erasure can still be restored but that record's personal data in it can no longer be opened
//! by any key that remains: crypto-shredding, confined to backups, where the record cannot be
//! rewritten.
//!
//! The register is a small SQLite file beside the hub's key file (`<key file>.kunci-cadangan`),
//! written with `secure_delete` (a destroyed key's bytes are zeroed, not left in a free page),
//! a rollback journal and `synchronous=FULL`. It also keeps the tombstone of every erasure it
//! has applied, so a restore after the hub's disk was lost still erases what was erased after
//! the backup. Because a backup is useless without it, each backup refreshes a **mirror** of the
//! register beside the backup file (`kunci-cadangan-<register id>.jemput`), overwritten in place,
//! never kept as dated copies: an old copy of the register would be an old copy of destroyed
//! keys. Every later erasure refreshes the mirrors that can be reached; one on a disk that is not
//! connected is refreshed at the next backup to it.
//!
//! The keys are random bytes, not derived from the data key: a backup needs the data key (its
//! outer seal) and this register both, and a register alone opens nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jemput_core::crypto::MasterKey;
use rusqlite::{Connection, OptionalExtension};

use super::backup::{create_owner_only, BackupError};
use super::ErasedDoc;

/// The register's schema (created when missing).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS register (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_keys (doc_id TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erasures (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, erased_at INTEGER NOT NULL, reason TEXT NOT NULL, erased_by TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mirrors (path TEXT PRIMARY KEY) WITHOUT ROWID;
";

/// An erasure's columns, in [`erasure_row`]'s order.
const ERASURES: &str = "SELECT doc_id, kind, erased_at, reason, erased_by FROM erasures";

fn erasure_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ErasedDoc> {
    Ok(ErasedDoc { doc_id: r.get(0)?, kind: r.get(1)?, erased_at: r.get(2)?, reason: r.get(3)?, erased_by: r.get(4)? })
}

/// The register's file for the hub whose data key is in `key_file`.
pub fn default_path(key_file: &Path) -> PathBuf {
    let mut p = key_file.as_os_str().to_owned();
    p.push(".kunci-cadangan");
    PathBuf::from(p)
}

/// The file name of a mirror of the register with id `id`, in a backup folder.
pub fn mirror_name(id: &str) -> String {
    format!("kunci-cadangan-{id}.jemput")
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError {
    let path = path.display().to_string();
    move |e| BackupError::Io(format!("register kunci cadangan {path}: {e}"))
}

/// The register of backup keys (see the module documentation).
pub struct BackupKeys {
    conn: Connection,
    path: PathBuf,
    id: String,
}

impl BackupKeys {
    /// Opens the register at `path`, creating it (readable by its owner only, with a new random
    /// id) when it does not exist.
    pub fn open_or_create(path: &Path) -> Result<BackupKeys, BackupError> {
        if !path.exists() {
            match create_owner_only(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(BackupError::Io(format!("tidak dapat membuat register kunci cadangan {}: {e}", path.display()))),
            }
        }
        BackupKeys::open_file(path, true)
    }

    /// Opens the register (or a mirror of it) at `path`, which must exist.
    pub fn open_existing(path: &Path) -> Result<BackupKeys, BackupError> {
        if !path.is_file() {
            return Err(BackupError::Io(format!("register kunci cadangan {} tidak ada", path.display())));
        }
        BackupKeys::open_file(path, false)
    }

    fn open_file(path: &Path, create: bool) -> Result<BackupKeys, BackupError> {
        let fail = sqlite(path);
        let conn = Connection::open(path).map_err(&fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(&fail)?;
        conn.pragma_update(None, "secure_delete", "ON").map_err(&fail)?;
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(&fail)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(&fail)?;
        conn.execute_batch(SCHEMA).map_err(&fail)?;
        let id: Option<String> =
            conn.query_row("SELECT value FROM register WHERE key = 'id'", [], |r| r.get(0)).optional().map_err(&fail)?;
        let id = match id {
            Some(id) => id,
            None if create => {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).map_err(|e| BackupError::Io(format!("sumber acak: {e}")))?;
                let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
                conn.execute("INSERT INTO register (key, value) VALUES ('id', ?1)", [&id]).map_err(&fail)?;
                id
            }
            None => return Err(BackupError::Io(format!("{} bukan register kunci cadangan Jemput", path.display()))),
        };
        Ok(BackupKeys { conn, path: path.to_path_buf(), id })
    }

    /// The register's id (every backup made with it names it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the register is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys of the records `doc_ids`, a new random one made for each record that has none
    /// (durable before this returns, so nothing is ever sealed under a key the register may
    /// lose). A record whose erasure the register holds gets none: its data must not be backed
    /// up.
    pub fn keys_for(&mut self, doc_ids: &[&str]) -> Result<HashMap<String, MasterKey>, BackupError> {
        let fail = sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&fail)?;
        let mut out = HashMap::with_capacity(doc_ids.len());
        {
            let mut get = tx.prepare_cached("SELECT key FROM record_keys WHERE doc_id = ?1").map_err(&fail)?;
            let mut erased = tx.prepare_cached("SELECT 1 FROM erasures WHERE doc_id = ?1").map_err(&fail)?;
            let mut put = tx.prepare_cached("INSERT INTO record_keys (doc_id, key) VALUES (?1, ?2)").map_err(&fail)?;
            for id in doc_ids {
                if erased.exists([id]).map_err(&fail)? {
                    continue;
                }
                let key: Option<Vec<u8>> = get.query_row([id], |r| r.get(0)).optional().map_err(&fail)?;
                let key = match key.as_deref().and_then(MasterKey::from_slice) {
                    Some(k) => k,
                    None => {
                        let k = MasterKey::generate();
                        put.execute(rusqlite::params![id, &k.as_bytes()[..]]).map_err(&fail)?;
                        k
                    }
                };
                out.insert((*id).to_string(), key);
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(out)
    }

    /// The key of record `doc_id`, if the register still has it.
    pub fn key(&self, doc_id: &str) -> Result<Option<MasterKey>, BackupError> {
        let key: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT key FROM record_keys WHERE doc_id = ?1", [doc_id], |r| r.get(0))
            .optional()
            .map_err(sqlite(&self.path))?;
        Ok(key.as_deref().and_then(MasterKey::from_slice))
    }

    /// Applies erasures: each record's key is destroyed (its bytes zeroed in the file) and the
    /// erasure kept as a tombstone. Returns how many keys were destroyed.
    pub fn forget(&mut self, erasures: &[ErasedDoc]) -> Result<usize, BackupError> {
        let fail = sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&fail)?;
        let mut destroyed = 0;
        {
            let mut del = tx.prepare_cached("DELETE FROM record_keys WHERE doc_id = ?1").map_err(&fail)?;
            let mut tomb = tx
                .prepare_cached(
                    "INSERT INTO erasures (doc_id, kind, erased_at, reason, erased_by) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (doc_id) DO NOTHING",
                )
                .map_err(&fail)?;
            for e in erasures {
                destroyed += del.execute([&e.doc_id]).map_err(&fail)?;
                tomb.execute(rusqlite::params![e.doc_id, e.kind, e.erased_at, e.reason, e.erased_by]).map_err(&fail)?;
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(destroyed)
    }

    /// Whether the register holds the erasure of `doc_id`.
    pub fn erasure(&self, doc_id: &str) -> Result<Option<ErasedDoc>, BackupError> {
        self.conn.query_row(&format!("{ERASURES} WHERE doc_id = ?1"), [doc_id], erasure_row).optional().map_err(sqlite(&self.path))
    }

    /// Every erasure the register holds.
    pub fn erasures(&self) -> Result<Vec<ErasedDoc>, BackupError> {
        let fail = sqlite(&self.path);
        let mut st = self.conn.prepare(&format!("{ERASURES} ORDER BY doc_id")).map_err(&fail)?;
        let rows = st.query_map([], erasure_row).map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    /// Writes a mirror of the register into the folder `dir` (a backup's folder) and remembers
    /// it, so later erasures refresh it too. Returns the mirror's path.
    pub fn mirror_into(&mut self, dir: &Path) -> Result<PathBuf, BackupError> {
        let path = dir.join(mirror_name(&self.id));
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).join(mirror_name(&self.id));
        if canonical == std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone()) {
            return Ok(path);
        }
        self.conn
            .execute("INSERT INTO mirrors (path) VALUES (?1) ON CONFLICT (path) DO NOTHING", [canonical.to_string_lossy()])
            .map_err(sqlite(&self.path))?;
        self.write_mirror(&path)?;
        Ok(path)
    }

    /// Rewrites every mirror the register knows that can be reached now (its folder exists);
    /// returns those that could not be (a disk not connected: refreshed at the next backup).
    pub fn refresh_mirrors(&self) -> Result<Vec<PathBuf>, BackupError> {
        let fail = sqlite(&self.path);
        let paths: Vec<String> = {
            let mut st = self.conn.prepare("SELECT path FROM mirrors ORDER BY path").map_err(&fail)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(&fail)?;
            rows.collect::<Result<_, _>>().map_err(&fail)?
        };
        let mut unreachable = Vec::new();
        for p in paths.into_iter().map(PathBuf::from) {
            let reachable = p.parent().is_some_and(Path::is_dir);
            if !reachable || self.write_mirror(&p).is_err() {
                unreachable.push(p);
            }
        }
        Ok(unreachable)
    }

    /// Writes a copy of the register to `path`, which must not exist yet (a hub's register put
    /// back from a mirror after the hub's disk was lost).
    pub fn copy_to(&self, path: &Path) -> Result<(), BackupError> {
        if path.exists() {
            return Err(BackupError::Io(format!("{} sudah ada", path.display())));
        }
        self.write_mirror(path)
    }

    /// Overwrites the mirror at `path` with the register's pages (SQLite's backup API, in
    /// place: the old pages, with keys destroyed since, are overwritten, not left in a file
    /// beside it).
    fn write_mirror(&self, path: &Path) -> Result<(), BackupError> {
        let fail = sqlite(path);
        if !path.exists() {
            create_owner_only(path).map_err(|e| BackupError::Io(format!("tidak dapat membuat {}: {e}", path.display())))?;
        }
        let mut dst = Connection::open(path).map_err(&fail)?;
        dst.pragma_update(None, "secure_delete", "ON").map_err(&fail)?;
        dst.pragma_update(None, "journal_mode", "DELETE").map_err(&fail)?;
        dst.pragma_update(None, "synchronous", "FULL").map_err(&fail)?;
        {
            let b = rusqlite::backup::Backup::new(&self.conn, &mut dst).map_err(&fail)?;
            b.run_to_completion(1000, std::time::Duration::from_millis(10), None).map_err(&fail)?;
        }
        Ok(())
    }
}

/// Applies the hub's erasures (`erasures`, e.g. `erased_all`) to the register at `path` when it
/// exists (a hub that never made a backup has none), then refreshes its reachable mirrors when
/// a key was destroyed. Returns how many keys were destroyed.
pub fn apply_erasures(path: &Path, erasures: &[ErasedDoc]) -> Result<usize, BackupError> {
    if !path.exists() {
        return Ok(0);
    }
    let mut keys = BackupKeys::open_existing(path)?;
    let destroyed = keys.forget(erasures)?;
    if destroyed > 0 {
        let unreachable = keys.refresh_mirrors()?;
        if !unreachable.is_empty() {
            tracing::warn!(
                count = unreachable.len(),
                "salinan register kunci cadangan tidak terjangkau; diperbarui pada pencadangan berikutnya ke sana"
            );
        }
    }
    Ok(destroyed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erasure(id: &str) -> ErasedDoc {
        ErasedDoc {
            doc_id: id.into(),
            kind: "request".into(),
            erased_at: 7,
            reason: "permintaan warga".into(),
            erased_by: "staf:s1".into(),
        }
    }

    #[test]
    fn keys_are_made_once_destroyed_by_erasure_and_gone_from_every_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(&dir.path().join("hub.key"));
        let backups = dir.path().join("usb");
        std::fs::create_dir(&backups).unwrap();
        let mut r = BackupKeys::open_or_create(&path).unwrap();
        let keys = r.keys_for(&["a", "b"]).unwrap();
        let (a, b) = (keys["a"].as_bytes().to_vec(), keys["b"].as_bytes().to_vec());
        assert_ne!(a, b);
        // The same key again, from a reopened register.
        let id = r.id().to_string();
        let mirror = r.mirror_into(&backups).unwrap();
        drop(r);
        let mut r = BackupKeys::open_or_create(&path).unwrap();
        assert_eq!(r.id(), id);
        assert_eq!(r.keys_for(&["a"]).unwrap()["a"].as_bytes().to_vec(), a);
        assert!(std::fs::read(&mirror).unwrap().windows(32).any(|w| w == a.as_slice()), "the mirror holds the key");
        // Erasure: the key goes from the register and its mirror, bytes and all; the tombstone
        // stays; no new key is made for an erased record.
        drop(r);
        assert_eq!(apply_erasures(&path, &[erasure("a")]).unwrap(), 1);
        assert_eq!(apply_erasures(&path, &[erasure("a")]).unwrap(), 0, "applied once");
        let mut r = BackupKeys::open_existing(&path).unwrap();
        assert!(r.key("a").unwrap().is_none());
        assert!(!r.keys_for(&["a", "b"]).unwrap().contains_key("a"));
        assert_eq!(r.erasure("a").unwrap().unwrap().reason, "permintaan warga");
        for file in [&path, &mirror] {
            let bytes = std::fs::read(file).unwrap();
            assert!(!bytes.windows(32).any(|w| w == a.as_slice()), "the destroyed key is gone from {}", file.display());
            assert!(bytes.windows(32).any(|w| w == b.as_slice()), "the other key is still in {}", file.display());
        }
        let m = BackupKeys::open_existing(&mirror).unwrap();
        assert_eq!((m.id(), m.key("b").unwrap().map(|k| k.as_bytes().to_vec())), (id.as_str(), Some(b.clone())));
        assert_eq!(m.erasures().unwrap(), vec![erasure("a")]);
        // A mirror whose disk is not connected is named, and nothing fails.
        drop(m);
        std::fs::remove_dir_all(&backups).unwrap();
        assert_eq!(r.refresh_mirrors().unwrap(), vec![std::fs::canonicalize(dir.path()).unwrap().join("usb").join(mirror_name(&id))]);
        // No register yet: nothing to apply, nothing created.
        let none = dir.path().join("tidak-ada");
        assert_eq!(apply_erasures(&none, &[erasure("b")]).unwrap(), 0);
        assert!(!none.exists());
        // Another file is not a register.
        std::fs::write(dir.path().join("lain"), b"").unwrap();
        assert!(BackupKeys::open_existing(&dir.path().join("lain")).is_err());
    }
}
