//! Backup and restore of a hub (ADR 0014), over the storage layer's sealed backup files and
//! the sync engine's lineage: `jemput-hub backup FILE` copies the hub while it serves (SQLite
//! with the online backup API, PostgreSQL table by table in one snapshot), seals each record's
//! personal data under its own key from the register of backup keys and the whole copy with
//! the data key; `jemput-hub restore FILE` opens it, puts back every record whose key the
//! register still holds, keeps only the letter register entry of every record erased since
//! (its key is gone), gives it a new lineage (so phones send again what the hub lost) and puts
//! it in place: a SQLite file only when no hub has the database open, a PostgreSQL hub into a
//! new, empty database. A hub restored by hand from `pg_dump` gets its lineage with
//! `jemput-hub mark-restored`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use jemput_core::crypto::{Cipher, MasterKey};
use zeroize::Zeroizing;

use crate::engine::heads;
use crate::service::{audit, docs, erasure};
use crate::storage::backup::{self as files, BackupError};
use crate::storage::backup_image::{Image, KeptRecord, StoredRecord};
use crate::storage::backup_keys::{self, BackupKeys};
use crate::storage::{ErasedDoc, HubDb};

/// Whether `database` names a PostgreSQL database.
pub fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// Records sealed per transaction of the image.
const BATCH: u32 = 200;

/// The key domain of a record's own key (ADR 0014).
const RECORD_PURPOSE: &str = "hub cadangan rekaman";

fn record_cipher(key: &MasterKey) -> Cipher {
    Cipher::new(key, RECORD_PURPOSE)
}

/// The context a record's letter register entry is sealed under in a backup.
fn register_context(doc_id: &str) -> Vec<u8> {
    format!("cadangan:daftar:{doc_id}").into_bytes()
}

/// What a backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The sealed backup file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Requests and complaints whose personal data it holds, each under its own key.
    pub records: usize,
    /// The mirror of the register of backup keys written beside it.
    pub mirror: PathBuf,
}

/// Backs up the hub database `database` (SQLite or PostgreSQL; it may be serving) into the new
/// file `out`: each request's and complaint's personal data sealed under its own key from the
/// register of backup keys at `keys` (created when missing; a mirror of it is written beside
/// `out`), the whole sealed with a key derived from the data key `key`, which is checked
/// against the database first.
pub fn backup(database: &str, key: &MasterKey, keys: &Path, out: &Path, actor: &str) -> anyhow::Result<BackupReport> {
    if out.exists() {
        anyhow::bail!("berkas {} sudah ada: pilih nama lain untuk cadangan baru", out.display());
    }
    let postgres = is_postgres(database);
    if !postgres && !Path::new(database).exists() {
        anyhow::bail!("basis data {database} tidak ada: periksa pengaturan database");
    }
    // The key must be this database's: a backup nobody can open is worse than none.
    let db = HubDb::open(database, key)?;
    // Erasures the register has not applied yet go first: their keys are not handed out again.
    let mut register = BackupKeys::open_or_create(keys)?;
    register.forget(&db.read(|tx, _| tx.erased_all())?)?;
    // The unsealed image lives for a moment on the hub's own disk (beside the database, or the
    // key file for PostgreSQL), never beside the backup file, which may be on a removable disk.
    let plain = files::sibling(if postgres { keys } else { Path::new(database) }, "cadangan-sementara");
    let made = (|| -> anyhow::Result<usize> {
        if postgres {
            Image::create(&plain)?.copy_from(&db)?;
        } else {
            files::snapshot_sqlite(Path::new(database), &plain)?;
        }
        let records = protect_records(&plain, key, &mut register)?;
        files::seal_file(&files::backup_cipher(key), &plain, out)?;
        Ok(records)
    })();
    remove_with_journals(&plain);
    let records = match made {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
    };
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mirror = register.mirror_into(&folder)?;
    db.with(|tx, _| audit::audit(tx, actor, "cadangan_dibuat", None))?;
    let bytes = std::fs::metadata(out).with_context(|| format!("berkas {}", out.display()))?.len();
    Ok(BackupReport { file: out.to_path_buf(), bytes, records, mirror })
}

/// Seals, in the image at `plain`, each request's and complaint's personal data under its own
/// key from `register` (made when missing) and keeps its letter register entry under the data
/// key beside it; drops what a restore rebuilds. Returns how many records it sealed.
fn protect_records(plain: &Path, key: &MasterKey, register: &mut BackupKeys) -> anyhow::Result<usize> {
    let cipher = Cipher::new(key, "hub");
    let mut image = Image::open(plain)?;
    let actor = automerge::ActorId::from(image.meta(crate::storage::HUB_ACTOR_KEY)?.context("basis data hub tanpa aktor")?.as_slice());
    let (mut after, mut count) = (String::new(), 0);
    loop {
        let batch = image.personal_records(&after, BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.doc_id.clone();
        let ids: Vec<&str> = batch.iter().map(|r| r.doc_id.as_str()).collect();
        let keys = register.keys_for(&ids)?;
        let mut out = Vec::with_capacity(batch.len());
        for r in &batch {
            let unreadable = || anyhow::anyhow!("dokumen {} tidak dapat dibuka dengan kunci data hub", r.doc_id);
            let doc_bytes = Zeroizing::new(cipher.open(&docs::doc_context(&r.doc_id), &r.sealed).map_err(|_| unreadable())?);
            let doc = automerge::AutoCommit::load(&doc_bytes).map_err(|_| unreadable())?;
            let mut entry = erasure::register_entry(&doc, &actor)?;
            let register_sealed = cipher.seal(&register_context(&r.doc_id), &entry.doc.save());
            // A record the register already holds an erasure of keeps its register entry only.
            let (sealed, full_message) = match keys.get(&r.doc_id) {
                Some(k) => {
                    let own = record_cipher(k);
                    let full = match &r.full_message {
                        Some(f) => {
                            let m = Zeroizing::new(cipher.open(&docs::full_context(&r.doc_id), f).map_err(|_| unreadable())?);
                            Some(own.seal(&docs::full_context(&r.doc_id), &m))
                        }
                        None => None,
                    };
                    (own.seal(&docs::doc_context(&r.doc_id), &doc_bytes), full)
                }
                None => (Vec::new(), None),
            };
            out.push(KeptRecord {
                stored: StoredRecord { doc_id: r.doc_id.clone(), kind: r.kind.clone(), sealed, full_message },
                register: register_sealed,
            });
        }
        image.protect(&out)?;
        count += out.len();
    }
    image.finish_protection(register.id())?;
    Ok(count)
}

/// A record of a backup whose own key is gone: its personal data was erased after the backup.
struct Lost {
    doc_id: String,
    kind: String,
    /// Its letter register entry (a document without personal data).
    entry: Vec<u8>,
    /// The erasure, as the register kept it.
    erasure: Option<ErasedDoc>,
}

/// What opening a backup's records found.
#[derive(Default)]
struct Recovered {
    /// Records erased since the backup (their keys are gone).
    lost: Vec<Lost>,
    /// Every erasure the register holds (records recorded after the backup among them).
    erasures: Vec<ErasedDoc>,
    /// Whether the image's records had keys of their own (a backup of format 2).
    protected: bool,
}

/// The register a backup's image names: the hub's own at `keys` when it is that one, or else
/// the mirror beside the backup file (a hub whose disk was lost). When the hub has no register
/// at all, the mirror becomes its register again.
fn register_for(id: &str, keys: &Path, file: &Path) -> anyhow::Result<BackupKeys> {
    if let Ok(own) = BackupKeys::open_existing(keys) {
        if own.id() == id {
            return Ok(own);
        }
    }
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mirror = folder.join(backup_keys::mirror_name(id));
    let m = BackupKeys::open_existing(&mirror).map_err(|_| {
        anyhow::anyhow!(
            "register kunci cadangan {id} untuk cadangan ini tidak ditemukan (di {} maupun {}): tanpa register itu data pribadi \
             dalam cadangan tidak dapat dibuka; letakkan salinan register (berkas {}) di sebelah berkas cadangan",
            keys.display(),
            mirror.display(),
            backup_keys::mirror_name(id)
        )
    })?;
    if m.id() != id {
        anyhow::bail!("berkas {} bukan register kunci cadangan {id}", mirror.display());
    }
    if !keys.exists() {
        m.copy_to(keys)?;
    }
    Ok(m)
}

/// Puts every record of the image at `plain` back under the data key when `register` still
/// holds its key; collects the others (erased since the backup).
fn recover_records(plain: &Path, key: &MasterKey, keys: &Path, file: &Path) -> anyhow::Result<Recovered> {
    let mut image = Image::open(plain)?;
    let Some(id) = image.register_id()? else { return Ok(Recovered::default()) };
    let register = register_for(&id, keys, file)?;
    let cipher = Cipher::new(key, "hub");
    let mut out = Recovered { protected: true, ..Recovered::default() };
    let mut after = String::new();
    loop {
        let batch = image.kept_records(&after, BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.stored.doc_id.clone();
        let mut back = Vec::with_capacity(batch.len());
        for r in batch {
            let id = r.stored.doc_id.clone();
            let damaged = || anyhow::anyhow!("berkas cadangan rusak: catatan {id} tidak terbuka dengan kuncinya");
            match (register.key(&id)?, register.erasure(&id)?) {
                (Some(k), None) if !r.stored.sealed.is_empty() => {
                    let own = record_cipher(&k);
                    let doc = Zeroizing::new(own.open(&docs::doc_context(&id), &r.stored.sealed).map_err(|_| damaged())?);
                    let full = match &r.stored.full_message {
                        Some(f) => {
                            let m = Zeroizing::new(own.open(&docs::full_context(&id), f).map_err(|_| damaged())?);
                            Some(cipher.seal(&docs::full_context(&id), &m))
                        }
                        None => None,
                    };
                    back.push(StoredRecord { sealed: cipher.seal(&docs::doc_context(&id), &doc), full_message: full, ..r.stored });
                }
                (_, erasure) => {
                    let entry = cipher.open(&register_context(&id), &r.register).map_err(|_| damaged())?;
                    out.lost.push(Lost { doc_id: id, kind: r.stored.kind, entry, erasure });
                }
            }
        }
        image.restore_records(&back)?;
    }
    image.drop_image_tables()?;
    out.erasures = register.erasures()?;
    Ok(out)
}

/// In the restored hub `db`: every record erased since the backup keeps only its letter
/// register entry and is marked erased (so phones that still hold it are told and refused);
/// the register's other erasures are carried; the office index starts again (a backup does
/// not keep it). Returns how many records were erased.
fn settle_recovered(db: &HubDb, recovered: Recovered, actor: &str) -> anyhow::Result<usize> {
    let mut erased = 0;
    let now = jemput_core::time_util::now_ms();
    for lost in recovered.lost {
        erased += db.with(|tx, cipher| {
            if tx.erased(&lost.doc_id)?.is_some() {
                return Ok::<_, crate::error::ServiceError>(0);
            }
            let entry = automerge::AutoCommit::load(&lost.entry).map_err(|_| crate::error::ServiceError::Corrupt("entri register"))?;
            let e = lost.erasure.clone().unwrap_or_else(|| ErasedDoc {
                doc_id: lost.doc_id.clone(),
                kind: lost.kind.clone(),
                erased_at: now,
                reason: "kunci cadangan sudah dimusnahkan: data pribadinya dihapus sesudah cadangan dibuat".into(),
                erased_by: actor.to_string(),
            });
            erasure::erase_to_register_entry(tx, cipher, &entry, &e)?;
            Ok(1)
        })?;
    }
    let carried = carry(db, recovered.erasures)?;
    if recovered.protected {
        db.with(|tx, _| {
            tx.clear_office_index()?;
            crate::web::index::reset(tx)?;
            crate::web::access::reset_complaint_tags(tx)
        })?;
    }
    if erased + carried > 0 {
        db.scrub()?;
    }
    Ok(erased + carried)
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Where the database that was replaced was kept (nothing is deleted).
    pub kept_previous: Option<PathBuf>,
    /// The restored hub's new lineage.
    pub epoch: u64,
    /// Erasures made after the backup, applied to the restored hub (records whose keys the
    /// register destroyed, and erasures carried from the replaced database or the register):
    /// a restore never brings erased personal data back.
    pub erasures_carried: usize,
}

/// Restores the backup file `file` into the database `database`: a SQLite file (refused while
/// a hub has it open, and over an existing database unless `replace`; the replaced one is
/// kept beside it), or a new, empty PostgreSQL database (`previous`, the database it replaces,
/// if still there, gives its erasures). Opens it with the data key `key` and the register of
/// backup keys at `keys` (or the mirror beside `file`): a wrong key, a damaged file or a
/// missing register is an error and nothing changes. Every record erased since the backup
/// keeps only its letter register entry; the restored hub gets a new lineage.
pub fn restore(
    database: &str,
    key: &MasterKey,
    keys: &Path,
    file: &Path,
    replace: bool,
    previous: Option<&str>,
    actor: &str,
) -> anyhow::Result<RestoreReport> {
    if is_postgres(database) {
        return restore_postgres(database, key, keys, file, previous, actor);
    }
    if previous.is_some() {
        // A SQLite restore carries the erasures of the database it replaces by itself.
        anyhow::bail!("--hapus-dari hanya untuk PostgreSQL: pemulihan SQLite membawa sendiri penghapusan dari basis data yang diganti");
    }
    let target = Path::new(database);
    if target.exists() {
        if !replace {
            return Err(BackupError::Exists(database.to_string()).into());
        }
        files::ensure_unused(target)?;
    }
    let plain = files::sibling(target, "pemulihan");
    let result = restore_into(key, keys, file, &plain, actor).and_then(|(epoch, mut erasures_carried)| {
        if target.exists() {
            let location = plain.to_str().context("nama berkas basis data bukan UTF-8")?;
            let (from, into) = (HubDb::open(database, key)?, HubDb::open(location, key)?);
            erasures_carried += carry_erasures(&from, &into)?;
            drop((from, into));
            files::check_and_settle(&plain)?;
        }
        let kept = files::put_in_place(&plain, target, replace)?;
        Ok(RestoreReport { kept_previous: kept, epoch, erasures_carried })
    });
    if result.is_err() {
        remove_with_journals(&plain);
    }
    result
}

/// Gives a restored hub its new lineage (ADR 0014: phones send again what it lost), audited.
fn start_lineage(db: &HubDb, actor: &str) -> anyhow::Result<u64> {
    Ok(db.with(|tx, _| {
        let epoch = heads::begin_new_epoch(tx)?;
        audit::audit(tx, actor, "dipulihkan_dari_cadangan", None)?;
        Ok::<_, crate::error::ServiceError>(epoch)
    })?)
}

/// Removes a temporary SQLite file with whatever journal it left beside it.
fn remove_with_journals(plain: &Path) {
    for extra in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{extra}", plain.display()));
    }
}

/// Opens `file` into the new SQLite database `plain`, puts its records back, checks it and
/// starts its new lineage. Returns the lineage and the erasures applied.
fn restore_into(key: &MasterKey, keys: &Path, file: &Path, plain: &Path, actor: &str) -> anyhow::Result<(u64, usize)> {
    files::open_file(&files::backup_cipher(key), file, plain)?;
    let recovered = recover_records(plain, key, keys, file)?;
    files::check_and_settle(plain)?;
    let location = plain.to_str().context("nama berkas basis data bukan UTF-8")?;
    let (epoch, erased) = {
        let db = HubDb::open(location, key).map_err(|e| BackupError::BadDatabase(e.to_string()))?;
        let erased = settle_recovered(&db, recovered, actor)?;
        let epoch = start_lineage(&db, actor)?;
        (epoch, erased)
    };
    files::check_and_settle(plain)?;
    Ok((epoch, erased))
}

/// [`restore`] into a new, empty PostgreSQL database: the image is opened and settled as a
/// SQLite file on the hub's disk (beside the key file), then written into the database table by
/// table in one transaction.
fn restore_postgres(
    database: &str,
    key: &MasterKey,
    keys: &Path,
    file: &Path,
    previous: Option<&str>,
    actor: &str,
) -> anyhow::Result<RestoreReport> {
    let plain = files::sibling(keys, "pemulihan");
    let result = (|| -> anyhow::Result<RestoreReport> {
        files::open_file(&files::backup_cipher(key), file, &plain)?;
        let recovered = recover_records(&plain, key, keys, file)?;
        files::check_and_settle(&plain)?;
        let location = plain.to_str().context("nama berkas sementara bukan UTF-8")?;
        let mut erased = {
            let image_db = HubDb::open(location, key).map_err(|e| BackupError::BadDatabase(e.to_string()))?;
            settle_recovered(&image_db, recovered, actor)?
        };
        files::check_and_settle(&plain)?;
        let target = HubDb::open(database, key)?;
        Image::open(&plain)?.copy_into(&target)?;
        drop(target);
        let db = HubDb::open(database, key)?;
        if let Some(old) = previous {
            erased += carry_erasures(&HubDb::open(old, key)?, &db)?;
        }
        let epoch = start_lineage(&db, actor)?;
        Ok(RestoreReport { kept_previous: None, epoch, erasures_carried: erased })
    })();
    remove_with_journals(&plain);
    result
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
    let epoch = start_lineage(db, actor)?;
    Ok((epoch, carried))
}

/// Carries every erasure of `from` (the database a restore replaces) into `into` (the restored
/// one) that `into` lacks (see [`carry`]). Without this a restore would bring back the personal
/// data of every erasure made since the backup (ADR 0013, ADR 0014). Returns how many were
/// carried.
pub fn carry_erasures(from: &HubDb, into: &HubDb) -> anyhow::Result<usize> {
    let erasures = from.with(|tx, _| Ok::<_, crate::error::ServiceError>(tx.erased_all()?))?;
    carry(into, erasures)
}

/// Applies `erasures` that `into` lacks: a record it holds is erased the same way (same reason,
/// who and time; the letter register entry stays), and a record it does not hold (recorded
/// after the backup) gets the tombstone, so a phone that sends it again after the restore is
/// refused (`data_dihapus`) and deletes its copy. Returns how many were applied.
fn carry(into: &HubDb, erasures: Vec<ErasedDoc>) -> anyhow::Result<usize> {
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
