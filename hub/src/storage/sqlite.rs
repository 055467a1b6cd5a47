//! The SQLite back end (the default: one file, nothing to install). One connection in WAL mode
//! with `synchronous=FULL`, so a committed transaction survives the hub being killed; every
//! transaction is `IMMEDIATE`, so writers never meet half-way.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::error::StorageError;
use super::web_sql::{self, Arg};
use super::{
    AuditEntry, AuditFilter, Backend, DeviceRow, DocFilter, DocPlace, EnrolCode, ExchangeRow, HubTx, KnownRow, NewDevice, OfficeIndexRow,
    OfficeQuery, Officer, SealedFull, StaffAccount, StaffProfile, WebSession,
};

/// Schema versions, applied in order; `user_version` says how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the first hub.
    "
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE officers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER, active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
CREATE TABLE enrol_codes (
    code_hash BLOB PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE devices (
    id TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE,
    prefix_index INTEGER NOT NULL UNIQUE, revoked_at INTEGER, created_at INTEGER NOT NULL, last_seen INTEGER);
CREATE TABLE device_actors (actor TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id)) WITHOUT ROWID;
CREATE TABLE docs (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, sealed BLOB NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL);
CREATE INDEX change_log_by_area ON change_log(rw, rt, seq);
CREATE TABLE device_known (
    device_id TEXT NOT NULL, doc_id TEXT NOT NULL, heads BLOB NOT NULL, pending BLOB, pending_cursor INTEGER,
    PRIMARY KEY (device_id, doc_id)) WITHOUT ROWID;
CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, doc_id TEXT);
",
    // 2: staff accounts; office index columns on documents.
    "
CREATE TABLE staff (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
ALTER TABLE docs ADD COLUMN status TEXT;
ALTER TABLE docs ADD COLUMN receipt TEXT;
CREATE INDEX docs_by_kind ON docs(kind, seq);
CREATE INDEX docs_by_receipt ON docs(receipt) WHERE receipt IS NOT NULL;
DELETE FROM meta WHERE key = 'staff_token';
",
    // 3: resumable sync exchanges (ADR 0006); each document's full message and heads, sent to
    // devices that have none of it without decoding the document.
    "
CREATE TABLE exchanges (
    device_id TEXT PRIMARY KEY REFERENCES devices(id), key TEXT NOT NULL, upload BLOB NOT NULL, answer BLOB, at INTEGER NOT NULL)
    WITHOUT ROWID;
ALTER TABLE docs ADD COLUMN full_message BLOB;
ALTER TABLE docs ADD COLUMN heads BLOB;
",
    // 4: the staff dashboard: roles and sign-in, sessions, throttling, inbox marks, the office
    // index of requests (service, date, officer; names and NIKs only as blind tags).
    "
CREATE TABLE staff_profiles (
    staff_id TEXT PRIMARY KEY REFERENCES staff(id), role TEXT NOT NULL, username TEXT UNIQUE, password_hash TEXT) WITHOUT ROWID;
CREATE TABLE web_sessions (
    id_hash BLOB PRIMARY KEY, staff_id TEXT NOT NULL REFERENCES staff(id), csrf TEXT NOT NULL, created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE rate_limits (key TEXT PRIMARY KEY, first_at INTEGER NOT NULL, hits INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE seen_marks (staff_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE office_index (
    doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, receipt TEXT NOT NULL,
    service TEXT NOT NULL, created_at INTEGER NOT NULL, officer_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX office_index_by_seq ON office_index(seq);
CREATE INDEX office_index_by_area ON office_index(rw, rt, status);
CREATE INDEX office_index_by_status ON office_index(status);
CREATE INDEX office_index_by_receipt ON office_index(receipt);
CREATE TABLE office_rows (doc_id TEXT PRIMARY KEY, sealed_row BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE office_tags (tag INTEGER NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (tag, doc_id)) WITHOUT ROWID;
CREATE INDEX office_tags_by_doc ON office_tags(doc_id);
CREATE INDEX office_index_by_service ON office_index(service, created_at);
CREATE INDEX audit_by_actor ON audit(actor, id);
",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings a connection's schema up to date, one version per transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    loop {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        if version >= MIGRATIONS.len() {
            if version > MIGRATIONS.len() {
                return Err(StorageError::Config(format!(
                    "basis data hub versi {version} lebih baru dari program ini (versi {}); perbarui jemput-hub",
                    MIGRATIONS.len()
                )));
            }
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(MIGRATIONS[version])?;
        tx.pragma_update(None, "user_version", (version + 1) as i64)?;
        tx.commit()?;
    }
}

/// The SQLite back end.
pub struct SqliteBackend {
    conn: Mutex<Connection>,
}

impl SqliteBackend {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteBackend, StorageError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&mut conn)?;
        Ok(SqliteBackend { conn: Mutex::new(conn) })
    }
}

impl Backend for SqliteBackend {
    fn transaction(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut t = SqliteTx(tx);
        f(&mut t)?;
        t.0.commit()?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

struct SqliteTx<'c>(Transaction<'c>);

fn officer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Officer> {
    Ok(Officer { id: r.get(0)?, name: r.get(1)?, rw: r.get(2)?, rt: r.get(3)?, active: r.get(4)? })
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        officer_id: r.get(1)?,
        name: r.get(2)?,
        rw: r.get(3)?,
        rt: r.get(4)?,
        revoked_at: r.get(5)?,
        last_seen: r.get(6)?,
    })
}

const DEVICE_COLUMNS: &str =
    "SELECT d.id, d.officer_id, d.name, o.rw, o.rt, d.revoked_at, d.last_seen FROM devices d JOIN officers o ON o.id = d.officer_id";

fn filter_sql(f: &DocFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = String::from(" WHERE kind = ?");
    let mut args = vec![Value::Text(f.kind.clone())];
    if let Some(s) = &f.status {
        sql.push_str(" AND status = ?");
        args.push(Value::Text(s.clone()));
    }
    if let Some(rw) = f.rw {
        sql.push_str(" AND rw = ?");
        args.push(Value::Integer(rw.into()));
    }
    if let Some(rt) = f.rt {
        sql.push_str(" AND rt = ?");
        args.push(Value::Integer(rt.into()));
    }
    (sql, args)
}

impl HubTx for SqliteTx<'_> {
    fn meta(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row(params![key], |r| r.get(0)).optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn sealed_doc(&mut self, doc_id: &str, _for_update: bool) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.prepare_cached("SELECT sealed FROM docs WHERE doc_id = ?1")?.query_row(params![doc_id], |r| r.get(0)).optional()?)
    }

    fn put_sealed_doc(&mut self, doc_id: &str, place: &DocPlace<'_>, sealed: &[u8], full: &SealedFull) -> Result<i64, StorageError> {
        self.0
            .prepare_cached("INSERT INTO change_log (doc_id, rw, rt) VALUES (?1, ?2, ?3)")?
            .execute(params![doc_id, place.rw, place.rt])?;
        let seq = self.0.last_insert_rowid();
        self.0
            .prepare_cached(
                "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt, full_message, heads)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(doc_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, rw = excluded.rw, rt = excluded.rt,
                 status = excluded.status, receipt = excluded.receipt, full_message = excluded.full_message, heads = excluded.heads",
            )?
            .execute(params![doc_id, place.kind, place.rw, place.rt, sealed, seq, place.status, place.receipt, full.message, full.heads])?;
        Ok(seq)
    }

    fn sealed_full(&mut self, doc_id: &str) -> Result<Option<SealedFull>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT full_message, heads FROM docs WHERE doc_id = ?1")?
            .query_row(params![doc_id], |r| Ok(r.get::<_, Option<Vec<u8>>>(0)?.zip(r.get::<_, Option<Vec<u8>>>(1)?)))
            .optional()?;
        Ok(row.flatten().map(|(message, heads)| SealedFull { message, heads }))
    }

    fn doc_ids(&mut self, filter: &DocFilter, offset: u32, limit: u32) -> Result<Vec<String>, StorageError> {
        let (w, mut args) = filter_sql(filter);
        args.push(rusqlite::types::Value::Integer(limit.into()));
        args.push(rusqlite::types::Value::Integer(offset.into()));
        let mut st = self.0.prepare(&format!("SELECT doc_id FROM docs{w} ORDER BY seq DESC LIMIT ? OFFSET ?"))?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn count_docs(&mut self, filter: &DocFilter) -> Result<u64, StorageError> {
        let (w, args) = filter_sql(filter);
        let n: i64 = self.0.query_row(&format!("SELECT count(*) FROM docs{w}"), rusqlite::params_from_iter(args), |r| r.get(0))?;
        Ok(n as u64)
    }

    fn doc_by_receipt(&mut self, receipt: &str) -> Result<Option<String>, StorageError> {
        Ok(self.0.query_row("SELECT doc_id FROM docs WHERE receipt = ?1", params![receipt], |r| r.get(0)).optional()?)
    }

    fn top_seq(&mut self) -> Result<i64, StorageError> {
        Ok(self.0.prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")?.query_row([], |r| r.get(0))?)
    }

    fn changed_docs(&mut self, after: i64, upto: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<Vec<(i64, String)>, StorageError> {
        let mut st = self.0.prepare_cached(
            "SELECT max(seq), doc_id FROM change_log WHERE seq > ?1 AND seq <= ?2 AND ((rw = ?3 AND rt BETWEEN ?4 AND ?5) OR (rw = 0 AND rt = 0))
             GROUP BY doc_id ORDER BY max(seq)",
        )?;
        let rows = st.query_map(params![after, upto, rw, rt_lo, rt_hi], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    #[allow(clippy::type_complexity)]
    fn known(&mut self, device_id: &str, doc_id: &str) -> Result<Option<KnownRow>, StorageError> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>, Option<i64>)> = self
            .0
            .prepare_cached("SELECT heads, pending, pending_cursor FROM device_known WHERE device_id = ?1 AND doc_id = ?2")?
            .query_row(params![device_id, doc_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(row.map(|(heads, p, pc)| KnownRow { heads, pending: p.zip(pc) }))
    }

    fn set_known(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "INSERT INTO device_known (device_id, doc_id, heads) VALUES (?1, ?2, ?3)
                 ON CONFLICT(device_id, doc_id) DO UPDATE SET heads = excluded.heads",
            )?
            .execute(params![device_id, doc_id, heads])?;
        Ok(())
    }

    fn promote_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "UPDATE device_known SET heads = ?3, pending = NULL, pending_cursor = NULL WHERE device_id = ?1 AND doc_id = ?2",
            )?
            .execute(params![device_id, doc_id, heads])?;
        Ok(())
    }

    fn set_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8], cursor: i64) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "INSERT INTO device_known (device_id, doc_id, heads, pending, pending_cursor) VALUES (?1, ?2, x'', ?3, ?4)
                 ON CONFLICT(device_id, doc_id) DO UPDATE SET pending = excluded.pending, pending_cursor = excluded.pending_cursor",
            )?
            .execute(params![device_id, doc_id, heads, cursor])?;
        Ok(())
    }

    fn audit(&mut self, at: i64, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), StorageError> {
        self.0
            .prepare_cached("INSERT INTO audit (at, actor, action, doc_id) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![at, actor, action, doc_id])?;
        Ok(())
    }

    fn audit_tail(&mut self, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let mut st = self.0.prepare("SELECT at, actor, action, doc_id FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows =
            st.query_map(params![limit], |r| Ok(AuditEntry { at: r.get(0)?, actor: r.get(1)?, action: r.get(2)?, doc_id: r.get(3)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_officer(&mut self, o: &Officer, created_at: i64) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO officers (id, name, rw, rt, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![o.id, o.name, o.rw, o.rt, o.active, created_at],
        )?;
        Ok(())
    }

    fn officers(&mut self) -> Result<Vec<Officer>, StorageError> {
        let mut st = self.0.prepare("SELECT id, name, rw, rt, active FROM officers ORDER BY rw, rt, name")?;
        let rows = st.query_map([], officer_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn officer(&mut self, id: &str) -> Result<Option<Officer>, StorageError> {
        Ok(self.0.query_row("SELECT id, name, rw, rt, active FROM officers WHERE id = ?1", params![id], officer_row).optional()?)
    }

    fn deactivate_officer(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.0.execute("UPDATE officers SET active = 0 WHERE id = ?1", params![id])? > 0)
    }

    fn insert_enrol_code(&mut self, code_hash: &[u8], officer_id: &str, expires_at: i64) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)",
            params![code_hash, officer_id, expires_at],
        )?;
        Ok(())
    }

    fn enrol_code(&mut self, code_hash: &[u8]) -> Result<Option<EnrolCode>, StorageError> {
        Ok(self
            .0
            .query_row("SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = ?1", params![code_hash], |r| {
                Ok(EnrolCode { officer_id: r.get(0)?, expires_at: r.get(1)?, used_at: r.get(2)? })
            })
            .optional()?)
    }

    fn use_enrol_code(&mut self, code_hash: &[u8], at: i64) -> Result<bool, StorageError> {
        Ok(self.0.execute("UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL", params![code_hash, at])? > 0)
    }

    fn next_prefix_index(&mut self) -> Result<u32, StorageError> {
        Ok(self.0.query_row("SELECT coalesce(max(prefix_index) + 1, 0) FROM devices", [], |r| r.get(0))?)
    }

    fn device_exists(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.0.query_row("SELECT count(*) > 0 FROM devices WHERE id = ?1", params![id], |r| r.get(0))?)
    }

    fn insert_device(&mut self, d: &NewDevice<'_>) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![d.id, d.officer_id, d.name, d.token_hash, d.prefix_index, d.created_at],
        )?;
        Ok(())
    }

    fn bind_actor(&mut self, actor_hex: &str, device_id: &str) -> Result<(), StorageError> {
        self.0.execute("INSERT INTO device_actors (actor, device_id) VALUES (?1, ?2)", params![actor_hex, device_id])?;
        Ok(())
    }

    fn device_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<DeviceRow>, StorageError> {
        Ok(self
            .0
            .prepare_cached(&format!("{DEVICE_COLUMNS} WHERE d.token_hash = ?1"))?
            .query_row(params![token_hash], device_row)
            .optional()?)
    }

    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StorageError> {
        Ok(self.0.query_row(&format!("{DEVICE_COLUMNS} WHERE d.id = ?1"), params![id], device_row).optional()?)
    }

    fn device_actors(&mut self, device_id: &str) -> Result<Vec<String>, StorageError> {
        let mut st = self.0.prepare_cached("SELECT actor FROM device_actors WHERE device_id = ?1")?;
        let rows = st.query_map(params![device_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>, StorageError> {
        let mut st = self.0.prepare(&format!("{DEVICE_COLUMNS} ORDER BY o.rw, o.rt, d.name"))?;
        let rows = st.query_map([], device_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_devices_of(&mut self, officer_id: &str, at: i64) -> Result<(), StorageError> {
        self.0.execute("UPDATE devices SET revoked_at = ?2 WHERE officer_id = ?1 AND revoked_at IS NULL", params![officer_id, at])?;
        Ok(())
    }

    fn revoke_device(&mut self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        Ok(self.0.execute("UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![device_id, at])? > 0)
    }

    fn touch_device(&mut self, device_id: &str, at: i64) -> Result<(), StorageError> {
        self.0.prepare_cached("UPDATE devices SET last_seen = ?2 WHERE id = ?1")?.execute(params![device_id, at])?;
        Ok(())
    }

    fn exchange(&mut self, device_id: &str) -> Result<Option<ExchangeRow>, StorageError> {
        Ok(self
            .0
            .prepare_cached("SELECT key, upload, answer, at FROM exchanges WHERE device_id = ?1")?
            .query_row(params![device_id], |r| Ok(ExchangeRow { key: r.get(0)?, upload: r.get(1)?, answer: r.get(2)?, at: r.get(3)? }))
            .optional()?)
    }

    fn put_exchange(&mut self, device_id: &str, row: &ExchangeRow) -> Result<(), StorageError> {
        self.0
            .prepare_cached("INSERT OR REPLACE INTO exchanges (device_id, key, upload, answer, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![device_id, row.key, row.upload, row.answer, row.at])?;
        Ok(())
    }

    fn insert_staff(&mut self, s: &StaffAccount, token_hash: &[u8], created_at: i64) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO staff (id, name, token_hash, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id, s.name, token_hash, s.active, created_at],
        )?;
        Ok(())
    }

    fn staff_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<StaffAccount>, StorageError> {
        Ok(self
            .0
            .query_row("SELECT id, name, active FROM staff WHERE token_hash = ?1", params![token_hash], |r| {
                Ok(StaffAccount { id: r.get(0)?, name: r.get(1)?, active: r.get(2)? })
            })
            .optional()?)
    }

    fn staff_accounts(&mut self) -> Result<Vec<StaffAccount>, StorageError> {
        let mut st = self.0.prepare("SELECT id, name, active FROM staff ORDER BY name")?;
        let rows = st.query_map([], |r| Ok(StaffAccount { id: r.get(0)?, name: r.get(1)?, active: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn deactivate_staff(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.0.execute("UPDATE staff SET active = 0 WHERE id = ?1", params![id])? > 0)
    }

    // ---- Staff dashboard (web) ----

    fn staff_profile(&mut self, staff_id: &str) -> Result<Option<StaffProfile>, StorageError> {
        Ok(self
            .0
            .prepare_cached("SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE staff_id = ?1")?
            .query_row(params![staff_id], profile_row)
            .optional()?)
    }

    fn staff_profile_by_username(&mut self, username: &str) -> Result<Option<StaffProfile>, StorageError> {
        Ok(self
            .0
            .prepare_cached("SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE username = ?1")?
            .query_row(params![username], profile_row)
            .optional()?)
    }

    fn put_staff_profile(&mut self, p: &StaffProfile) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT OR REPLACE INTO staff_profiles (staff_id, role, username, password_hash) VALUES (?1, ?2, ?3, ?4)",
            params![p.staff_id, p.role, p.username, p.password_hash],
        )?;
        Ok(())
    }

    fn insert_web_session(&mut self, s: &WebSession) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO web_sessions (id_hash, staff_id, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id_hash, s.staff_id, s.csrf, s.created_at, s.last_seen],
        )?;
        Ok(())
    }

    fn web_session(&mut self, id_hash: &[u8]) -> Result<Option<WebSession>, StorageError> {
        Ok(self
            .0
            .prepare_cached("SELECT id_hash, staff_id, csrf, created_at, last_seen FROM web_sessions WHERE id_hash = ?1")?
            .query_row(params![id_hash], |r| {
                Ok(WebSession { id_hash: r.get(0)?, staff_id: r.get(1)?, csrf: r.get(2)?, created_at: r.get(3)?, last_seen: r.get(4)? })
            })
            .optional()?)
    }

    fn touch_web_session(&mut self, id_hash: &[u8], at: i64) -> Result<(), StorageError> {
        self.0.prepare_cached("UPDATE web_sessions SET last_seen = ?2 WHERE id_hash = ?1")?.execute(params![id_hash, at])?;
        Ok(())
    }

    fn delete_web_session(&mut self, id_hash: &[u8]) -> Result<(), StorageError> {
        self.0.execute("DELETE FROM web_sessions WHERE id_hash = ?1", params![id_hash])?;
        Ok(())
    }

    fn delete_web_sessions(&mut self, staff_id: Option<&str>, idle_before: i64) -> Result<(), StorageError> {
        self.0.execute("DELETE FROM web_sessions WHERE staff_id = ?1 OR last_seen < ?2", params![staff_id, idle_before])?;
        Ok(())
    }

    fn rate_hit(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        self.0.execute(
            "INSERT INTO rate_limits (key, first_at, hits) VALUES (?1, ?2, 1)
             ON CONFLICT(key) DO UPDATE SET
                hits = CASE WHEN rate_limits.first_at < ?2 - ?3 THEN 1 ELSE rate_limits.hits + 1 END,
                first_at = CASE WHEN rate_limits.first_at < ?2 - ?3 THEN ?2 ELSE rate_limits.first_at END",
            params![key, now, window_ms],
        )?;
        Ok(self.0.query_row("SELECT hits FROM rate_limits WHERE key = ?1", params![key], |r| r.get(0))?)
    }

    fn rate_count(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        Ok(self
            .0
            .query_row("SELECT hits FROM rate_limits WHERE key = ?1 AND first_at >= ?2 - ?3", params![key, now, window_ms], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    fn rate_clear(&mut self, key: &str) -> Result<(), StorageError> {
        self.0.execute("DELETE FROM rate_limits WHERE key = ?1", params![key])?;
        Ok(())
    }

    fn seen_mark(&mut self, staff_id: &str) -> Result<Option<i64>, StorageError> {
        Ok(self.0.query_row("SELECT seq FROM seen_marks WHERE staff_id = ?1", params![staff_id], |r| r.get(0)).optional()?)
    }

    fn set_seen_mark(&mut self, staff_id: &str, seq: i64) -> Result<(), StorageError> {
        self.0.execute("INSERT OR REPLACE INTO seen_marks (staff_id, seq) VALUES (?1, ?2)", params![staff_id, seq])?;
        Ok(())
    }

    fn docs_after(&mut self, kind: &str, after: i64, limit: u32) -> Result<Vec<(i64, String)>, StorageError> {
        let mut st = self.0.prepare_cached("SELECT seq, doc_id FROM docs WHERE kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
        let rows = st.query_map(params![kind, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_office_index(&mut self, row: &OfficeIndexRow) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO office_index (doc_id, seq, status, rw, rt, receipt, service, created_at, officer_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![row.doc_id, row.seq, row.status, row.rw, row.rt, row.receipt, row.service, row.created_at, row.officer_id])?;
        self.0
            .prepare_cached("INSERT OR REPLACE INTO office_rows (doc_id, sealed_row) VALUES (?1, ?2)")?
            .execute(params![row.doc_id, row.sealed_row])?;
        self.0.prepare_cached("DELETE FROM office_tags WHERE doc_id = ?1")?.execute(params![row.doc_id])?;
        let mut st = self.0.prepare_cached("INSERT OR IGNORE INTO office_tags (tag, doc_id) VALUES (?1, ?2)")?;
        for t in &row.tags {
            st.execute(params![t, row.doc_id])?;
        }
        Ok(())
    }

    fn office_rows(&mut self, q: &OfficeQuery, offset: u32, limit: u32) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let w = web_sql::office_where(q, false);
        let mut args = sqlite_args(&w.args);
        args.push(rusqlite::types::Value::Integer(limit.into()));
        args.push(rusqlite::types::Value::Integer(offset.into()));
        let sql = format!(
            "SELECT i.doc_id, r.sealed_row{} JOIN office_rows r ON r.doc_id = i.doc_id{} ORDER BY i.seq DESC LIMIT ? OFFSET ?",
            web_sql::OFFICE_FROM,
            w.sql()
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn office_count(&mut self, q: &OfficeQuery) -> Result<u64, StorageError> {
        let w = web_sql::office_where(q, false);
        let sql = format!("SELECT count(*){}{}", web_sql::OFFICE_FROM, w.sql());
        let n: i64 = self.0.prepare_cached(&sql)?.query_row(rusqlite::params_from_iter(sqlite_args(&w.args)), |r| r.get(0))?;
        Ok(n as u64)
    }

    fn status_counts(&mut self, kind: &str) -> Result<Vec<(String, u64)>, StorageError> {
        let mut st = self.0.prepare_cached("SELECT coalesce(status, ''), count(*) FROM docs WHERE kind = ?1 GROUP BY status")?;
        let rows = st.query_map(params![kind], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn audit_query(&mut self, q: &AuditFilter, offset: u32, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let w = web_sql::audit_where(q, false);
        let mut args = sqlite_args(&w.args);
        args.push(rusqlite::types::Value::Integer(limit.into()));
        args.push(rusqlite::types::Value::Integer(offset.into()));
        let sql = format!("SELECT at, actor, action, doc_id FROM audit{} ORDER BY id DESC LIMIT ? OFFSET ?", w.sql());
        let mut st = self.0.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(AuditEntry { at: r.get(0)?, actor: r.get(1)?, action: r.get(2)?, doc_id: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

// ---- Staff dashboard (web): helpers ----

fn profile_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffProfile> {
    Ok(StaffProfile { staff_id: r.get(0)?, role: r.get(1)?, username: r.get(2)?, password_hash: r.get(3)? })
}

fn sqlite_args(args: &[Arg]) -> Vec<rusqlite::types::Value> {
    args.iter()
        .map(|a| match a {
            Arg::Text(t) => rusqlite::types::Value::Text(t.clone()),
            Arg::Int(i) => rusqlite::types::Value::Integer(*i),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(c: &Connection) -> Vec<String> {
        let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    #[test]
    fn migration_1_creates_the_first_schema() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        let t = tables(&c);
        for name in ["meta", "officers", "enrol_codes", "devices", "device_actors", "docs", "change_log", "device_known", "audit"] {
            assert!(t.iter().any(|x| x == name), "missing {name}");
        }
    }

    #[test]
    fn migration_2_keeps_version_1_data_and_adds_staff_and_office_index() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute("INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq) VALUES ('d1', 'request', 1, 2, x'00', 1)", []).unwrap();
        c.execute("INSERT INTO meta (key, value) VALUES ('staff_token', x'01')", []).unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
        assert!(tables(&c).iter().any(|x| x == "staff"));
        let (kind, status): (String, Option<String>) =
            c.query_row("SELECT kind, status FROM docs WHERE doc_id = 'd1'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((kind.as_str(), status), ("request", None));
        let old_token: i64 = c.query_row("SELECT count(*) FROM meta WHERE key = 'staff_token'", [], |r| r.get(0)).unwrap();
        assert_eq!(old_token, 0, "the single shared staff token gives way to named accounts");
    }

    #[test]
    fn migration_3_keeps_version_2_data_and_adds_resumable_exchanges() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(MIGRATIONS[1]).unwrap();
        c.pragma_update(None, "user_version", 2).unwrap();
        c.execute("INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0)", []).unwrap();
        c.execute(
            "INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ('d1', 'o1', 'HP', x'01', 0, 0)",
            [],
        )
        .unwrap();
        c.execute("INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq) VALUES ('doc1', 'request', 1, 2, x'00', 1)", []).unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
        let tx = c.transaction().unwrap();
        let mut t = SqliteTx(tx);
        assert_eq!(t.device("d1").unwrap().unwrap().officer_id, "o1");
        assert_eq!(t.exchange("d1").unwrap(), None);
        let row = ExchangeRow { key: "k1".into(), upload: vec![1, 2], answer: None, at: 5 };
        t.put_exchange("d1", &row).unwrap();
        assert_eq!(t.exchange("d1").unwrap(), Some(row));
        let row2 = ExchangeRow { key: "k2".into(), upload: vec![], answer: Some(vec![9]), at: 6 };
        t.put_exchange("d1", &row2).unwrap();
        assert_eq!(t.exchange("d1").unwrap(), Some(row2), "one row per device, the newest exchange");
        assert_eq!(t.sealed_doc("doc1", false).unwrap(), Some(vec![0]));
        assert_eq!(t.sealed_full("doc1").unwrap(), None, "a document stored before v3 has no full message yet");
    }

    #[test]
    fn migration_4_keeps_version_3_data_and_adds_the_dashboard_tables() {
        let mut c = Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..3] {
            c.execute_batch(m).unwrap();
        }
        c.pragma_update(None, "user_version", 3).unwrap();
        c.execute("INSERT INTO staff (id, name, token_hash, created_at) VALUES ('s1', 'Bu Rina', x'01', 0)", []).unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
        for name in ["staff_profiles", "web_sessions", "rate_limits", "seen_marks", "office_index", "office_tags"] {
            assert!(tables(&c).iter().any(|x| x == name), "missing {name}");
        }
        let tx = c.transaction().unwrap();
        let mut t = SqliteTx(tx);
        assert_eq!(t.staff_accounts().unwrap()[0].name, "Bu Rina");
        assert_eq!(t.staff_profile("s1").unwrap(), None, "an account from before the dashboard has no profile");
        assert_eq!(t.rate_hit("k", 1000, 100).unwrap(), 1);
        assert_eq!(t.rate_hit("k", 1050, 100).unwrap(), 2);
        assert_eq!(t.rate_count("k", 1099, 100).unwrap(), 2);
        assert_eq!(t.rate_hit("k", 1200, 100).unwrap(), 1, "a new window starts after the old one");
        assert_eq!(t.rate_count("k", 5000, 100).unwrap(), 0);
    }

    #[test]
    fn a_newer_database_is_refused_not_damaged() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1).unwrap();
        assert!(matches!(migrate(&mut c), Err(StorageError::Config(_))));
    }
}
