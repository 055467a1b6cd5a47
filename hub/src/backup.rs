//! Backup and restore of a hub (ADR 0014), over the storage layer's sealed backup files and
//! the sync engine's lineage: `jemput-hub backup FILE` copies a SQLite hub while it serves and
//! seals the copy with the data key; `jemput-hub restore FILE` opens it, checks it, gives it a
//! new lineage (so phones send again what the hub lost) and puts it in place only when no hub
//! has the database open. A PostgreSQL hub is backed up with `pg_dump` and restored with
//! `pg_restore`, then `jemput-hub mark-restored` gives it its new lineage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use jemput_core::crypto::MasterKey;

use crate::engine::heads;
use crate::service::audit;
use crate::storage::backup::{self as files, BackupError};
use crate::storage::HubDb;

/// Whether `database` names a PostgreSQL database.
pub fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

const USE_PG_DUMP: &str = "hub ini memakai PostgreSQL: cadangkan dengan pg_dump -Fc dan pulihkan dengan pg_restore, \
lalu jalankan `jemput-hub mark-restored` (lihat docs/adr/0014-backups.md); simpan berkas kunci data terpisah dari cadangan";

/// What a backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The sealed backup file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Backs up the SQLite hub database `database` (which may be serving) into the new file `out`,
/// sealed with a key derived from `key`. The key is checked against the database first.
pub fn backup(database: &str, key: &MasterKey, out: &Path, actor: &str) -> anyhow::Result<BackupReport> {
    if is_postgres(database) {
        anyhow::bail!(USE_PG_DUMP);
    }
    if out.exists() {
        anyhow::bail!("berkas {} sudah ada: pilih nama lain untuk cadangan baru", out.display());
    }
    if !Path::new(database).exists() {
        anyhow::bail!("basis data {database} tidak ada: periksa pengaturan database");
    }
    // The key must be this database's: a backup nobody can open is worse than none.
    let db = HubDb::open(database, key)?;
    // The unsealed copy lives for a moment beside the database (where the same data already
    // is), never beside the backup file, which may be on a removable disk.
    let plain = files::sibling(Path::new(database), "cadangan-sementara");
    let made = files::snapshot_sqlite(Path::new(database), &plain).and_then(|()| files::seal_file(&files::backup_cipher(key), &plain, out));
    let _ = std::fs::remove_file(&plain);
    if let Err(e) = made {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    db.with(|tx, _| audit::audit(tx, actor, "cadangan_dibuat", None))?;
    let bytes = std::fs::metadata(out).with_context(|| format!("berkas {}", out.display()))?.len();
    Ok(BackupReport { file: out.to_path_buf(), bytes })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Where the database that was replaced was kept (nothing is deleted).
    pub kept_previous: Option<PathBuf>,
    /// The restored hub's new lineage.
    pub epoch: u64,
    /// Erasures made after the backup, carried from the replaced database into the restored
    /// one (a restore never brings erased personal data back).
    pub erasures_carried: usize,
}

/// Restores the backup file `file` into the SQLite database `database`: opens it with `key`
/// (a wrong key or a damaged file is an error and nothing changes), checks it, brings its
/// schema up to date, gives it a new lineage and puts it in place. Refuses while a hub has
/// the database open, and to replace an existing database unless `replace`.
pub fn restore(database: &str, key: &MasterKey, file: &Path, replace: bool, actor: &str) -> anyhow::Result<RestoreReport> {
    if is_postgres(database) {
        anyhow::bail!(USE_PG_DUMP);
    }
    let target = Path::new(database);
    if target.exists() {
        if !replace {
            return Err(BackupError::Exists(database.to_string()).into());
        }
        files::ensure_unused(target)?;
    }
    let plain = files::sibling(target, "pemulihan");
    let result = restore_into(key, file, &plain, actor).and_then(|epoch| {
        let erasures_carried = if target.exists() {
            let location = plain.to_str().context("nama berkas basis data bukan UTF-8")?;
            let (from, into) = (HubDb::open(database, key)?, HubDb::open(location, key)?);
            let n = carry_erasures(&from, &into)?;
            drop((from, into));
            n
        } else {
            0
        };
        let kept = files::put_in_place(&plain, target, replace)?;
        Ok(RestoreReport { kept_previous: kept, epoch, erasures_carried })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&plain);
        for extra in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{extra}", plain.display()));
        }
    }
    result
}

/// Opens `file` into the new database `plain`, checks it and starts its new lineage.
fn restore_into(key: &MasterKey, file: &Path, plain: &Path, actor: &str) -> anyhow::Result<u64> {
    files::open_file(&files::backup_cipher(key), file, plain)?;
    files::check_and_settle(plain)?;
    let location = plain.to_str().context("nama berkas basis data bukan UTF-8")?;
    let epoch = {
        let db = HubDb::open(location, key).map_err(|e| BackupError::BadDatabase(e.to_string()))?;
        db.with(|tx, _| {
            let epoch = heads::begin_new_epoch(tx)?;
            audit::audit(tx, actor, "dipulihkan_dari_cadangan", None)?;
            Ok::<_, crate::error::ServiceError>(epoch)
        })?
    };
    files::check_and_settle(plain)?;
    Ok(epoch)
}

/// After a PostgreSQL hub was restored with `pg_restore` (or a SQLite file copied back by
/// hand): gives the database a new lineage, so phones send again what it lost; with
/// `previous` (the database it replaces), carries over the erasures made after the backup.
/// Returns the lineage and the number of erasures carried.
pub fn mark_restored(db: &HubDb, previous: Option<&HubDb>, actor: &str) -> anyhow::Result<(u64, usize)> {
    let carried = match previous {
        Some(from) => carry_erasures(from, db)?,
        None => 0,
    };
    let epoch = db.with(|tx, _| {
        let epoch = heads::begin_new_epoch(tx)?;
        audit::audit(tx, actor, "dipulihkan_dari_cadangan", None)?;
        Ok::<_, crate::error::ServiceError>(epoch)
    })?;
    Ok((epoch, carried))
}

/// Carries every erasure of `from` (the database a restore replaces) into `into` (the restored
/// one) that `into` lacks: a record it holds is erased the same way (same reason, who and time;
/// the letter register entry stays), and a record it does not hold (recorded after the backup)
/// gets the tombstone, so a phone that sends it again after the restore is refused
/// (`data_dihapus`) and deletes its copy. Without this a restore would bring back the personal
/// data of every erasure made since the backup (ADR 0013, ADR 0014). Returns how many were
/// carried.
pub fn carry_erasures(from: &HubDb, into: &HubDb) -> anyhow::Result<usize> {
    let erasures = from.with(|tx, _| Ok::<_, crate::error::ServiceError>(tx.erased_all()?))?;
    let mut carried = 0;
    for e in erasures {
        carried += into.with(|tx, cipher| {
            if tx.erased(&e.doc_id)?.is_some() {
                return Ok::<_, crate::error::ServiceError>(0);
            }
            if tx.sealed_doc(&e.doc_id, true)?.is_some() {
                crate::web::index::erase_record(tx, cipher, &e.doc_id, &e.reason, &e.erased_by, e.erased_at)?;
            } else {
                tx.mark_erased(&e)?;
                audit::audit(tx, &e.erased_by, "hapus_data", Some(&e.doc_id))?;
            }
            Ok(1)
        })?;
    }
    if carried > 0 {
        into.scrub()?;
    }
    Ok(carried)
}

/// Reads the hub's 32-byte data key from `path`; never creates one (a backup or restore with a
/// fresh key would make a file nobody can open).
pub fn read_key(path: &Path) -> anyhow::Result<MasterKey> {
    let b = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "tidak dapat membaca berkas kunci data {}: {e}; cadangan hanya dibuat dan dipulihkan dengan kunci data hub itu sendiri",
            path.display()
        )
    })?;
    MasterKey::from_slice(&b).ok_or_else(|| anyhow::anyhow!("berkas kunci {} harus berisi tepat 32 bita", path.display()))
}
