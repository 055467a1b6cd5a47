//! The image inside a backup file (ADR 0014): a SQLite database with the hub's schema, taken
//! from a SQLite hub with the online backup API or copied table by table from a PostgreSQL hub
//! in one consistent snapshot, and written back the same two ways on restore. In the image each
//! request's and complaint's personal data is sealed under its own key from the register of
//! backup keys ([`super::backup_keys`]); beside it, under the data key, the record's letter
//! register entry, so a restore that no longer finds the key keeps the register entry and
//! nothing else. Two tables exist only in images: `backup_info` (the register's id) and
//! `backup_records` (the register entries). What is derived from personal data and rebuilt
//! after a restore is not kept: the office index with its sealed list rows and blind tags, and
//! held sync exchanges (a device simply sends its exchange again).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::backup::BackupError;
use super::sql::{Arg, Row};
use super::{schema, sqlite, HubDb, StorageError};

/// Rows copied per statement and per page.
const PAGE: u32 = 500;

const IMAGE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS backup_info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backup_records (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, register BLOB NOT NULL) WITHOUT ROWID;
";

/// A request or complaint in an image, as the hub stored it.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// Document id.
    pub doc_id: String,
    /// `request` or `complaint`.
    pub kind: String,
    /// The document sealed (under the data key in a fresh image; under the record's own key in
    /// a protected one, or empty when its personal data was not kept).
    pub sealed: Vec<u8>,
    /// Its full message, sealed the same way (none before schema v3, or when not kept).
    pub full_message: Option<Vec<u8>>,
}

/// A record of a protected image: sealed under its own key (empty when its personal data is
/// not kept), with its register entry.
#[derive(Debug, Clone)]
pub struct KeptRecord {
    /// The record as stored in the image.
    pub stored: StoredRecord,
    /// The letter register entry (a document without personal data) sealed under the data key.
    pub register: Vec<u8>,
}

fn db(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError {
    let path = path.display().to_string();
    move |e| BackupError::BadDatabase(format!("{path}: {e}"))
}

/// An image file, open.
pub struct Image {
    conn: Connection,
    path: PathBuf,
}

impl Image {
    /// A new, empty image at `path` with the schema of this hub (for a copy of a PostgreSQL hub).
    pub fn create(path: &Path) -> Result<Image, BackupError> {
        super::backup::create_owner_only(path).map_err(|e| BackupError::Io(format!("tidak dapat membuat {}: {e}", path.display())))?;
        let mut image = Image::open(path)?;
        sqlite::migrate(&mut image.conn).map_err(|e| BackupError::BadDatabase(e.to_string()))?;
        Ok(image)
    }

    /// Opens the image at `path` (a snapshot of a SQLite hub, or one opened from a backup file).
    pub fn open(path: &Path) -> Result<Image, BackupError> {
        let conn = Connection::open(path).map_err(db(path))?;
        // Freed pages are zeroed: what the image no longer holds is not left in it.
        conn.pragma_update(None, "secure_delete", "ON").map_err(db(path))?;
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(db(path))?;
        Ok(Image { conn, path: path.to_path_buf() })
    }

    /// Copies every table of the hub `from` into this (empty) image, in one transaction of
    /// `from` that sees one consistent state (a PostgreSQL hub keeps serving meanwhile).
    pub fn copy_from(&mut self, from: &HubDb) -> Result<(), BackupError> {
        let conn = &mut self.conn;
        let path = self.path.clone();
        from.read(|tx, _| -> Result<(), StorageError> {
            tx.snapshot_reads()?;
            let w = conn.transaction()?;
            for (table, _) in schema::TABLES {
                // A transaction the back end runs again starts from an empty image again.
                w.execute(&format!("DELETE FROM {table}"), [])?;
                let mut offset = 0u64;
                loop {
                    let rows = tx.table_rows(table, offset, PAGE)?;
                    for row in &rows {
                        insert(&w, table, row)?;
                    }
                    if rows.len() < PAGE as usize {
                        break;
                    }
                    offset += u64::from(PAGE);
                }
            }
            w.commit()?;
            Ok(())
        })
        .map_err(|e| BackupError::BadDatabase(format!("{}: {e}", path.display())))
    }

    /// Writes every table of this image into the hub `into`, which must hold no hub yet (no
    /// officer, staff account, device or document): a restore into a new PostgreSQL database.
    pub fn copy_into(&self, into: &HubDb) -> Result<(), BackupError> {
        let empty = into
            .read(|tx, _| -> Result<bool, StorageError> {
                for table in ["officers", "staff", "devices", "docs"] {
                    if !tx.table_rows(table, 0, 1)?.is_empty() {
                        return Ok(false);
                    }
                }
                Ok(true)
            })
            .map_err(|e| BackupError::BadDatabase(e.to_string()))?;
        if !empty {
            return Err(BackupError::Io(
                "basis data tujuan sudah berisi hub: pulihkan ke basis data PostgreSQL baru yang kosong (createdb jemput_pulih)".into(),
            ));
        }
        // A connection of its own, behind a lock: the transaction's closure may run on another
        // thread.
        let conn = std::sync::Mutex::new(Connection::open(&self.path).map_err(db(&self.path))?);
        into.with(|tx, _| -> Result<(), StorageError> {
            tx.clear_tables()?;
            let conn = conn.lock().map_err(|_| StorageError::Internal)?;
            for (table, order) in schema::TABLES {
                let mut st = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))?;
                let n = st.column_count();
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    let row = Row((0..n).map(|i| sqlite::value(r.get_ref(i)?)).collect::<Result<_, StorageError>>()?);
                    tx.insert_table_row(table, &row)?;
                }
            }
            tx.restart_serials()
        })
        .map_err(|e| BackupError::BadDatabase(e.to_string()))
    }

    /// A value of the image's `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, BackupError> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(db(&self.path))
    }

    /// Requests and complaints whose personal data the image holds (not erased), after `after`
    /// in id order, at most `limit`.
    pub fn personal_records(&self, after: &str, limit: u32) -> Result<Vec<StoredRecord>, BackupError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT d.doc_id, d.kind, d.sealed, d.full_message FROM docs d
                 WHERE d.kind IN ('request', 'complaint') AND d.doc_id > ?1
                 AND NOT EXISTS (SELECT 1 FROM erased_docs e WHERE e.doc_id = d.doc_id)
                 ORDER BY d.doc_id LIMIT ?2",
            )
            .map_err(db(&self.path))?;
        let rows = st
            .query_map(rusqlite::params![after, limit], |r| {
                Ok(StoredRecord { doc_id: r.get(0)?, kind: r.get(1)?, sealed: r.get(2)?, full_message: r.get(3)? })
            })
            .map_err(db(&self.path))?;
        rows.collect::<Result<_, _>>().map_err(db(&self.path))
    }

    /// Stores records sealed under their own keys, with their register entries, in one
    /// transaction.
    pub fn protect(&mut self, records: &[KeptRecord]) -> Result<(), BackupError> {
        let fail = db(&self.path);
        let tx = self.conn.transaction().map_err(&fail)?;
        tx.execute_batch(IMAGE_TABLES).map_err(&fail)?;
        {
            let mut doc = tx.prepare_cached("UPDATE docs SET sealed = ?2, full_message = ?3 WHERE doc_id = ?1").map_err(&fail)?;
            let mut reg = tx.prepare_cached("INSERT INTO backup_records (doc_id, kind, register) VALUES (?1, ?2, ?3)").map_err(&fail)?;
            for KeptRecord { stored: r, register } in records {
                doc.execute(rusqlite::params![r.doc_id, r.sealed, r.full_message]).map_err(&fail)?;
                reg.execute(rusqlite::params![r.doc_id, r.kind, register]).map_err(&fail)?;
            }
        }
        tx.commit().map_err(&fail)
    }

    /// Ends the protection of an image: names the register its keys are in, drops what is
    /// rebuilt after a restore (the office index, its sealed rows and blind tags; held sync
    /// exchanges) and rewrites the file, so none of the data-key sealed values it replaced is
    /// left in a free page.
    pub fn finish_protection(&mut self, register_id: &str) -> Result<(), BackupError> {
        let fail = db(&self.path);
        let tx = self.conn.transaction().map_err(&fail)?;
        tx.execute_batch(IMAGE_TABLES).map_err(&fail)?;
        tx.execute("INSERT INTO backup_info (key, value) VALUES ('register', ?1)", [register_id]).map_err(&fail)?;
        tx.execute_batch("DELETE FROM office_rows; DELETE FROM office_tags; DELETE FROM office_index; DELETE FROM exchanges;")
            .map_err(&fail)?;
        tx.commit().map_err(&fail)?;
        self.conn.execute_batch("VACUUM").map_err(&fail)
    }

    /// The id of the register whose keys seal this image's records; none for a backup made
    /// before records had keys of their own (everything in it is under the data key).
    pub fn register_id(&self) -> Result<Option<String>, BackupError> {
        let has: bool = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'backup_info'", [], |r| r.get::<_, i64>(0))
            .map_err(db(&self.path))?
            > 0;
        if !has {
            return Ok(None);
        }
        self.conn.query_row("SELECT value FROM backup_info WHERE key = 'register'", [], |r| r.get(0)).optional().map_err(db(&self.path))
    }

    /// The records of a protected image, after `after` in id order, at most `limit`.
    pub fn kept_records(&self, after: &str, limit: u32) -> Result<Vec<KeptRecord>, BackupError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT b.doc_id, b.kind, d.sealed, d.full_message, b.register FROM backup_records b JOIN docs d ON d.doc_id = b.doc_id
                 WHERE b.doc_id > ?1 ORDER BY b.doc_id LIMIT ?2",
            )
            .map_err(db(&self.path))?;
        let rows = st
            .query_map(rusqlite::params![after, limit], |r| {
                Ok(KeptRecord {
                    stored: StoredRecord { doc_id: r.get(0)?, kind: r.get(1)?, sealed: r.get(2)?, full_message: r.get(3)? },
                    register: r.get(4)?,
                })
            })
            .map_err(db(&self.path))?;
        rows.collect::<Result<_, _>>().map_err(db(&self.path))
    }

    /// Puts records back as the hub stores them (sealed under the data key), in one
    /// transaction.
    pub fn restore_records(&mut self, records: &[StoredRecord]) -> Result<(), BackupError> {
        let fail = db(&self.path);
        let tx = self.conn.transaction().map_err(&fail)?;
        {
            let mut doc = tx.prepare_cached("UPDATE docs SET sealed = ?2, full_message = ?3 WHERE doc_id = ?1").map_err(&fail)?;
            for r in records {
                doc.execute(rusqlite::params![r.doc_id, r.sealed, r.full_message]).map_err(&fail)?;
            }
        }
        tx.commit().map_err(&fail)
    }

    /// Drops the tables only images have (once every record is back under the data key or
    /// erased).
    pub fn drop_image_tables(&mut self) -> Result<(), BackupError> {
        self.conn.execute_batch("DROP TABLE IF EXISTS backup_records; DROP TABLE IF EXISTS backup_info;").map_err(db(&self.path))
    }
}

fn insert(conn: &Connection, table: &str, row: &Row) -> Result<(), StorageError> {
    let marks: Vec<String> = (1..=row.0.len()).map(|i| format!("?{i}")).collect();
    let mut st = conn.prepare_cached(&format!("INSERT INTO {table} VALUES ({})", marks.join(", ")))?;
    st.execute(rusqlite::params_from_iter(row.0.iter().map(Arg::from)))?;
    Ok(())
}
