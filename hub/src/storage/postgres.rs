//! The PostgreSQL back end, for several hub instances behind a load balancer sharing one
//! database. A pool of connections (r2d2); each transaction runs `READ COMMITTED` with explicit
//! locks: a document being changed is locked `FOR UPDATE`, and writers take one transaction-level
//! advisory lock before appending to the change log, so sequence numbers become visible in the
//! order they were given out (a device's cursor never skips a change committed late). Deadlocks
//! and unique-key races between instances are retried.

use std::time::Duration;

use postgres::{NoTls, Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;

use super::error::StorageError;
use super::web_sql::{self, Arg};
use super::{
    AuditEntry, AuditFilter, Backend, DeviceRow, DocFilter, DocPlace, EnrolCode, ExchangeRow, HubTx, KnownRow, NewDevice, OfficeIndexRow,
    OfficeQuery, Officer, SealedFull, StaffAccount, StaffProfile, WebSession,
};

/// Schema versions, applied in order under an advisory lock; `jemput_schema` says how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the first hub.
    "
CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE officers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER, active BOOLEAN NOT NULL DEFAULT TRUE, created_at BIGINT NOT NULL);
CREATE TABLE enrol_codes (
    code_hash BYTEA PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), expires_at BIGINT NOT NULL, used_at BIGINT);
CREATE TABLE devices (
    id TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), name TEXT NOT NULL, token_hash BYTEA NOT NULL UNIQUE,
    prefix_index INTEGER NOT NULL UNIQUE, revoked_at BIGINT, created_at BIGINT NOT NULL, last_seen BIGINT);
CREATE TABLE device_actors (actor TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id));
CREATE TABLE docs (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, sealed BYTEA NOT NULL, seq BIGINT NOT NULL,
    status TEXT, receipt TEXT);
CREATE INDEX docs_by_kind ON docs(kind, seq);
CREATE INDEX docs_by_receipt ON docs(receipt) WHERE receipt IS NOT NULL;
CREATE TABLE change_log (seq BIGSERIAL PRIMARY KEY, doc_id TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL);
CREATE INDEX change_log_by_area ON change_log(rw, rt, seq);
CREATE TABLE device_known (
    device_id TEXT NOT NULL, doc_id TEXT NOT NULL, heads BYTEA NOT NULL, pending BYTEA, pending_cursor BIGINT,
    PRIMARY KEY (device_id, doc_id));
CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, doc_id TEXT);
CREATE TABLE staff (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash BYTEA NOT NULL UNIQUE, active BOOLEAN NOT NULL DEFAULT TRUE, created_at BIGINT NOT NULL);
",
    // 2: resumable sync exchanges (ADR 0006); each document's full message and heads, sent to
    // devices that have none of it without decoding the document.
    "
CREATE TABLE exchanges (
    device_id TEXT PRIMARY KEY REFERENCES devices(id), key TEXT NOT NULL, upload BYTEA NOT NULL, answer BYTEA, at BIGINT NOT NULL);
ALTER TABLE docs ADD COLUMN full_message BYTEA;
ALTER TABLE docs ADD COLUMN heads BYTEA;
",
    // 3: the staff dashboard: roles and sign-in, sessions, throttling, inbox marks, the office
    // index of requests (service, date, officer; names and NIKs only as blind tags).
    "
CREATE TABLE staff_profiles (
    staff_id TEXT PRIMARY KEY REFERENCES staff(id), role TEXT NOT NULL, username TEXT UNIQUE, password_hash TEXT);
CREATE TABLE web_sessions (
    id_hash BYTEA PRIMARY KEY, staff_id TEXT NOT NULL REFERENCES staff(id), csrf TEXT NOT NULL, created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL);
CREATE TABLE rate_limits (key TEXT PRIMARY KEY, first_at BIGINT NOT NULL, hits INTEGER NOT NULL);
CREATE TABLE seen_marks (staff_id TEXT PRIMARY KEY, seq BIGINT NOT NULL);
CREATE TABLE office_index (
    doc_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, status TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, receipt TEXT NOT NULL,
    service TEXT NOT NULL, created_at BIGINT NOT NULL, officer_id TEXT NOT NULL);
CREATE INDEX office_index_by_seq ON office_index(seq);
CREATE INDEX office_index_by_area ON office_index(rw, rt, status);
CREATE INDEX office_index_by_status ON office_index(status);
CREATE INDEX office_index_by_receipt ON office_index(receipt);
CREATE TABLE office_rows (doc_id TEXT PRIMARY KEY, sealed_row BYTEA NOT NULL);
CREATE TABLE office_tags (tag BIGINT NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (tag, doc_id));
CREATE INDEX office_tags_by_doc ON office_tags(doc_id);
CREATE INDEX office_index_by_service ON office_index(service, created_at);
CREATE INDEX audit_by_actor ON audit(actor, id);
"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Advisory lock keys (arbitrary, fixed).
const LOCK_MIGRATE: i64 = 0x4a45_4d50_0001;
const LOCK_CHANGE_LOG: i64 = 0x4a45_4d50_0002;

/// How often a transaction is retried after a deadlock or a unique-key race.
const RETRIES: usize = 5;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// The PostgreSQL back end.
pub struct PgBackend {
    pool: Option<Pool>,
}

impl Drop for PgBackend {
    /// Closing a connection runs the client's own small runtime, which must not happen on a
    /// thread that runs async tasks: the pool is dropped on a thread of its own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl PgBackend {
    /// Connects to `url` (e.g. `postgres://jemput@127.0.0.1/jemput`) and brings the schema up to
    /// date (safe when several instances start at once).
    pub fn connect(url: &str) -> Result<PgBackend, StorageError> {
        let config: postgres::Config = url.parse().map_err(|_| StorageError::Config("alamat PostgreSQL tidak valid".into()))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = on_own_thread(|| {
            r2d2::Pool::builder()
                .max_size(16)
                .connection_timeout(Duration::from_secs(10))
                .build(manager)
                .map_err(|e| StorageError::Config(format!("tidak dapat terhubung ke PostgreSQL: {e}")))
        })?;
        let backend = PgBackend { pool: Some(pool) };
        on_own_thread(|| backend.migrate())?;
        Ok(backend)
    }

    fn pool(&self) -> &Pool {
        self.pool.as_ref().expect("the pool lives until drop")
    }

    fn migrate(&self) -> Result<(), StorageError> {
        let mut c = self.pool().get().map_err(|e| StorageError::Config(format!("PostgreSQL: {e}")))?;
        c.execute("SELECT pg_advisory_lock($1)", &[&LOCK_MIGRATE])?;
        let result = (|| -> Result<(), StorageError> {
            c.batch_execute("CREATE TABLE IF NOT EXISTS jemput_schema (version INTEGER NOT NULL); ")?;
            let mut tx = c.transaction()?;
            let version: Option<i32> = tx.query_opt("SELECT version FROM jemput_schema", &[])?.map(|r| r.get(0));
            let version = match version {
                Some(v) => v as usize,
                None => {
                    tx.execute("INSERT INTO jemput_schema (version) VALUES (0)", &[])?;
                    0
                }
            };
            if version > MIGRATIONS.len() {
                return Err(StorageError::Config(format!(
                    "basis data hub versi {version} lebih baru dari program ini (versi {}); perbarui jemput-hub",
                    MIGRATIONS.len()
                )));
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(version) {
                tx.batch_execute(m)?;
                tx.execute("UPDATE jemput_schema SET version = $1", &[&((i + 1) as i32)])?;
            }
            tx.commit()?;
            Ok(())
        })();
        c.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_MIGRATE])?;
        result
    }

    /// The schema version of the connected database.
    pub fn schema_version(&self) -> Result<usize, StorageError> {
        on_own_thread(|| {
            let mut c = self.pool().get().map_err(|e| StorageError::Config(format!("PostgreSQL: {e}")))?;
            let v: i32 = c.query_one("SELECT version FROM jemput_schema", &[])?.get(0);
            Ok(v as usize)
        })
    }
}

/// Runs `f` on a fresh thread: the synchronous PostgreSQL client drives its own small runtime,
/// which must not start on a thread that is already running async tasks.
fn on_own_thread<T: Send>(f: impl FnOnce() -> Result<T, StorageError> + Send) -> Result<T, StorageError> {
    std::thread::scope(|s| s.spawn(f).join().unwrap_or(Err(StorageError::Internal)))
}

fn transient(e: &StorageError) -> bool {
    e.is_transient()
}

impl Backend for PgBackend {
    fn transaction(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        on_own_thread(|| {
            let mut conn = self.pool().get().map_err(|e| {
                tracing::error!(error = %e, "kumpulan koneksi PostgreSQL habis");
                StorageError::Busy
            })?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let tx = conn.transaction()?;
                let mut t = PgTx { tx, change_log_locked: false };
                let result = f(&mut t).and_then(|()| t.tx.commit().map_err(StorageError::from));
                match result {
                    Err(e) if attempt < RETRIES && transient(&e) => {
                        tracing::info!(attempt, "transaksi PostgreSQL diulang setelah bentrok");
                        continue;
                    }
                    other => return other,
                }
            }
        })
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

struct PgTx<'c> {
    tx: Transaction<'c>,
    change_log_locked: bool,
}

fn u16_of(v: i32) -> u16 {
    u16::try_from(v).unwrap_or(0)
}

fn officer_row(r: &Row) -> Officer {
    Officer { id: r.get(0), name: r.get(1), rw: u16_of(r.get(2)), rt: r.get::<_, Option<i32>>(3).map(u16_of), active: r.get(4) }
}

fn device_row(r: &Row) -> DeviceRow {
    DeviceRow {
        id: r.get(0),
        officer_id: r.get(1),
        name: r.get(2),
        rw: u16_of(r.get(3)),
        rt: r.get::<_, Option<i32>>(4).map(u16_of),
        revoked_at: r.get(5),
        last_seen: r.get(6),
    }
}

const DEVICE_COLUMNS: &str =
    "SELECT d.id, d.officer_id, d.name, o.rw, o.rt, d.revoked_at, d.last_seen FROM devices d JOIN officers o ON o.id = d.officer_id";

/// `WHERE …` for a filter, with its arguments (`$1` is the kind, then the optional ones).
fn filter_sql(f: &DocFilter) -> (String, Vec<Box<dyn postgres::types::ToSql + Sync>>) {
    let mut sql = String::from(" WHERE kind = $1");
    let mut args: Vec<Box<dyn postgres::types::ToSql + Sync>> = vec![Box::new(f.kind.clone())];
    if let Some(s) = &f.status {
        args.push(Box::new(s.clone()));
        sql.push_str(&format!(" AND status = ${}", args.len()));
    }
    if let Some(rw) = f.rw {
        args.push(Box::new(i32::from(rw)));
        sql.push_str(&format!(" AND rw = ${}", args.len()));
    }
    if let Some(rt) = f.rt {
        args.push(Box::new(i32::from(rt)));
        sql.push_str(&format!(" AND rt = ${}", args.len()));
    }
    (sql, args)
}

fn refs(args: &[Box<dyn postgres::types::ToSql + Sync>]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    args.iter().map(|b| b.as_ref()).collect()
}

impl HubTx for PgTx<'_> {
    fn meta(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.tx.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?.map(|r| r.get(0)))
    }

    fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn sealed_doc(&mut self, doc_id: &str, for_update: bool) -> Result<Option<Vec<u8>>, StorageError> {
        let sql =
            if for_update { "SELECT sealed FROM docs WHERE doc_id = $1 FOR UPDATE" } else { "SELECT sealed FROM docs WHERE doc_id = $1" };
        Ok(self.tx.query_opt(sql, &[&doc_id])?.map(|r| r.get(0)))
    }

    fn put_sealed_doc(&mut self, doc_id: &str, place: &DocPlace<'_>, sealed: &[u8], full: &SealedFull) -> Result<i64, StorageError> {
        if !self.change_log_locked {
            self.tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_CHANGE_LOG])?;
            self.change_log_locked = true;
        }
        let (rw, rt) = (i32::from(place.rw), i32::from(place.rt));
        let seq: i64 =
            self.tx.query_one("INSERT INTO change_log (doc_id, rw, rt) VALUES ($1, $2, $3) RETURNING seq", &[&doc_id, &rw, &rt])?.get(0);
        self.tx.execute(
            "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt, full_message, heads)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (doc_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, rw = excluded.rw, rt = excluded.rt,
             status = excluded.status, receipt = excluded.receipt, full_message = excluded.full_message, heads = excluded.heads",
            &[&doc_id, &place.kind, &rw, &rt, &sealed, &seq, &place.status, &place.receipt, &full.message, &full.heads],
        )?;
        Ok(seq)
    }

    fn sealed_full(&mut self, doc_id: &str) -> Result<Option<SealedFull>, StorageError> {
        let row = self.tx.query_opt("SELECT full_message, heads FROM docs WHERE doc_id = $1", &[&doc_id])?;
        Ok(row.and_then(|r| match (r.get::<_, Option<Vec<u8>>>(0), r.get::<_, Option<Vec<u8>>>(1)) {
            (Some(message), Some(heads)) => Some(SealedFull { message, heads }),
            _ => None,
        }))
    }

    fn doc_ids(&mut self, filter: &DocFilter, offset: u32, limit: u32) -> Result<Vec<String>, StorageError> {
        let (w, mut args) = filter_sql(filter);
        args.push(Box::new(i64::from(limit)));
        args.push(Box::new(i64::from(offset)));
        let n = args.len();
        let sql = format!("SELECT doc_id FROM docs{w} ORDER BY seq DESC LIMIT ${} OFFSET ${n}", n - 1);
        Ok(self.tx.query(&sql, &refs(&args))?.iter().map(|r| r.get(0)).collect())
    }

    fn count_docs(&mut self, filter: &DocFilter) -> Result<u64, StorageError> {
        let (w, args) = filter_sql(filter);
        let n: i64 = self.tx.query_one(&format!("SELECT count(*) FROM docs{w}"), &refs(&args))?.get(0);
        Ok(n as u64)
    }

    fn doc_by_receipt(&mut self, receipt: &str) -> Result<Option<String>, StorageError> {
        Ok(self.tx.query_opt("SELECT doc_id FROM docs WHERE receipt = $1", &[&receipt])?.map(|r| r.get(0)))
    }

    fn top_seq(&mut self) -> Result<i64, StorageError> {
        Ok(self.tx.query_one("SELECT coalesce(max(seq), 0)::BIGINT FROM change_log", &[])?.get(0))
    }

    fn changed_docs(&mut self, after: i64, upto: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<Vec<(i64, String)>, StorageError> {
        let (rw, lo, hi) = (i32::from(rw), i32::from(rt_lo), i32::from(rt_hi));
        let rows = self.tx.query(
            "SELECT max(seq), doc_id FROM change_log WHERE seq > $1 AND seq <= $2 AND ((rw = $3 AND rt BETWEEN $4 AND $5) OR (rw = 0 AND rt = 0))
             GROUP BY doc_id ORDER BY max(seq)",
            &[&after, &upto, &rw, &lo, &hi],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn known(&mut self, device_id: &str, doc_id: &str) -> Result<Option<KnownRow>, StorageError> {
        let row = self.tx.query_opt(
            "SELECT heads, pending, pending_cursor FROM device_known WHERE device_id = $1 AND doc_id = $2",
            &[&device_id, &doc_id],
        )?;
        Ok(row.map(|r| {
            let p: Option<Vec<u8>> = r.get(1);
            let pc: Option<i64> = r.get(2);
            KnownRow { heads: r.get(0), pending: p.zip(pc) }
        }))
    }

    fn set_known(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO device_known (device_id, doc_id, heads) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads",
            &[&device_id, &doc_id, &heads],
        )?;
        Ok(())
    }

    fn promote_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.tx.execute(
            "UPDATE device_known SET heads = $3, pending = NULL, pending_cursor = NULL WHERE device_id = $1 AND doc_id = $2",
            &[&device_id, &doc_id, &heads],
        )?;
        Ok(())
    }

    fn set_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8], cursor: i64) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO device_known (device_id, doc_id, heads, pending, pending_cursor) VALUES ($1, $2, ''::BYTEA, $3, $4)
             ON CONFLICT (device_id, doc_id) DO UPDATE SET pending = excluded.pending, pending_cursor = excluded.pending_cursor",
            &[&device_id, &doc_id, &heads, &cursor],
        )?;
        Ok(())
    }

    fn audit(&mut self, at: i64, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), StorageError> {
        self.tx.execute("INSERT INTO audit (at, actor, action, doc_id) VALUES ($1, $2, $3, $4)", &[&at, &actor, &action, &doc_id])?;
        Ok(())
    }

    fn audit_tail(&mut self, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = self.tx.query("SELECT at, actor, action, doc_id FROM audit ORDER BY id DESC LIMIT $1", &[&i64::from(limit)])?;
        Ok(rows.iter().map(|r| AuditEntry { at: r.get(0), actor: r.get(1), action: r.get(2), doc_id: r.get(3) }).collect())
    }

    fn insert_officer(&mut self, o: &Officer, created_at: i64) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO officers (id, name, rw, rt, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&o.id, &o.name, &i32::from(o.rw), &o.rt.map(i32::from), &o.active, &created_at],
        )?;
        Ok(())
    }

    fn officers(&mut self) -> Result<Vec<Officer>, StorageError> {
        Ok(self.tx.query("SELECT id, name, rw, rt, active FROM officers ORDER BY rw, rt, name", &[])?.iter().map(officer_row).collect())
    }

    fn officer(&mut self, id: &str) -> Result<Option<Officer>, StorageError> {
        Ok(self.tx.query_opt("SELECT id, name, rw, rt, active FROM officers WHERE id = $1", &[&id])?.as_ref().map(officer_row))
    }

    fn deactivate_officer(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.tx.execute("UPDATE officers SET active = FALSE WHERE id = $1", &[&id])? > 0)
    }

    fn insert_enrol_code(&mut self, code_hash: &[u8], officer_id: &str, expires_at: i64) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES ($1, $2, $3)",
            &[&code_hash, &officer_id, &expires_at],
        )?;
        Ok(())
    }

    fn enrol_code(&mut self, code_hash: &[u8]) -> Result<Option<EnrolCode>, StorageError> {
        Ok(self
            .tx
            .query_opt("SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = $1 FOR UPDATE", &[&code_hash])?
            .map(|r| EnrolCode { officer_id: r.get(0), expires_at: r.get(1), used_at: r.get(2) }))
    }

    fn use_enrol_code(&mut self, code_hash: &[u8], at: i64) -> Result<bool, StorageError> {
        Ok(self.tx.execute("UPDATE enrol_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL", &[&code_hash, &at])? > 0)
    }

    fn next_prefix_index(&mut self) -> Result<u32, StorageError> {
        let n: i32 = self.tx.query_one("SELECT coalesce(max(prefix_index) + 1, 0)::INTEGER FROM devices", &[])?.get(0);
        Ok(n as u32)
    }

    fn device_exists(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.tx.query_one("SELECT count(*) > 0 FROM devices WHERE id = $1", &[&id])?.get(0))
    }

    fn insert_device(&mut self, d: &NewDevice<'_>) -> Result<(), StorageError> {
        let index = i32::try_from(d.prefix_index).map_err(|_| StorageError::Internal)?;
        self.tx.execute(
            "INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&d.id, &d.officer_id, &d.name, &d.token_hash, &index, &d.created_at],
        )?;
        Ok(())
    }

    fn bind_actor(&mut self, actor_hex: &str, device_id: &str) -> Result<(), StorageError> {
        self.tx.execute("INSERT INTO device_actors (actor, device_id) VALUES ($1, $2)", &[&actor_hex, &device_id])?;
        Ok(())
    }

    fn device_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<DeviceRow>, StorageError> {
        Ok(self.tx.query_opt(&format!("{DEVICE_COLUMNS} WHERE d.token_hash = $1"), &[&token_hash])?.as_ref().map(device_row))
    }

    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StorageError> {
        Ok(self.tx.query_opt(&format!("{DEVICE_COLUMNS} WHERE d.id = $1"), &[&id])?.as_ref().map(device_row))
    }

    fn device_actors(&mut self, device_id: &str) -> Result<Vec<String>, StorageError> {
        Ok(self.tx.query("SELECT actor FROM device_actors WHERE device_id = $1", &[&device_id])?.iter().map(|r| r.get(0)).collect())
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>, StorageError> {
        Ok(self.tx.query(&format!("{DEVICE_COLUMNS} ORDER BY o.rw, o.rt, d.name"), &[])?.iter().map(device_row).collect())
    }

    fn revoke_devices_of(&mut self, officer_id: &str, at: i64) -> Result<(), StorageError> {
        self.tx.execute("UPDATE devices SET revoked_at = $2 WHERE officer_id = $1 AND revoked_at IS NULL", &[&officer_id, &at])?;
        Ok(())
    }

    fn revoke_device(&mut self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        Ok(self.tx.execute("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", &[&device_id, &at])? > 0)
    }

    fn touch_device(&mut self, device_id: &str, at: i64) -> Result<(), StorageError> {
        self.tx.execute("UPDATE devices SET last_seen = $2 WHERE id = $1", &[&device_id, &at])?;
        Ok(())
    }

    fn exchange(&mut self, device_id: &str) -> Result<Option<ExchangeRow>, StorageError> {
        let row = self.tx.query_opt("SELECT key, upload, answer, at FROM exchanges WHERE device_id = $1 FOR UPDATE", &[&device_id])?;
        Ok(row.map(|r| ExchangeRow { key: r.get(0), upload: r.get(1), answer: r.get(2), at: r.get(3) }))
    }

    fn put_exchange(&mut self, device_id: &str, row: &ExchangeRow) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO exchanges (device_id, key, upload, answer, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (device_id) DO UPDATE SET key = $2, upload = $3, answer = $4, at = $5",
            &[&device_id, &row.key, &row.upload, &row.answer, &row.at],
        )?;
        Ok(())
    }

    fn insert_staff(&mut self, s: &StaffAccount, token_hash: &[u8], created_at: i64) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO staff (id, name, token_hash, active, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&s.id, &s.name, &token_hash, &s.active, &created_at],
        )?;
        Ok(())
    }

    fn staff_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<StaffAccount>, StorageError> {
        Ok(self.tx.query_opt("SELECT id, name, active FROM staff WHERE token_hash = $1", &[&token_hash])?.map(|r| StaffAccount {
            id: r.get(0),
            name: r.get(1),
            active: r.get(2),
        }))
    }

    fn staff_accounts(&mut self) -> Result<Vec<StaffAccount>, StorageError> {
        Ok(self
            .tx
            .query("SELECT id, name, active FROM staff ORDER BY name", &[])?
            .iter()
            .map(|r| StaffAccount { id: r.get(0), name: r.get(1), active: r.get(2) })
            .collect())
    }

    fn deactivate_staff(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.tx.execute("UPDATE staff SET active = FALSE WHERE id = $1", &[&id])? > 0)
    }

    // ---- Staff dashboard (web) ----

    fn staff_profile(&mut self, staff_id: &str) -> Result<Option<StaffProfile>, StorageError> {
        Ok(self
            .tx
            .query_opt("SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE staff_id = $1", &[&staff_id])?
            .map(|r| profile_row(&r)))
    }

    fn staff_profile_by_username(&mut self, username: &str) -> Result<Option<StaffProfile>, StorageError> {
        Ok(self
            .tx
            .query_opt("SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE username = $1", &[&username])?
            .map(|r| profile_row(&r)))
    }

    fn put_staff_profile(&mut self, p: &StaffProfile) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO staff_profiles (staff_id, role, username, password_hash) VALUES ($1, $2, $3, $4)
             ON CONFLICT (staff_id) DO UPDATE SET role = excluded.role, username = excluded.username, password_hash = excluded.password_hash",
            &[&p.staff_id, &p.role, &p.username, &p.password_hash],
        )?;
        Ok(())
    }

    fn insert_web_session(&mut self, s: &WebSession) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO web_sessions (id_hash, staff_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)",
            &[&s.id_hash, &s.staff_id, &s.csrf, &s.created_at, &s.last_seen],
        )?;
        Ok(())
    }

    fn web_session(&mut self, id_hash: &[u8]) -> Result<Option<WebSession>, StorageError> {
        Ok(self
            .tx
            .query_opt("SELECT id_hash, staff_id, csrf, created_at, last_seen FROM web_sessions WHERE id_hash = $1", &[&id_hash])?
            .map(|r| WebSession { id_hash: r.get(0), staff_id: r.get(1), csrf: r.get(2), created_at: r.get(3), last_seen: r.get(4) }))
    }

    fn touch_web_session(&mut self, id_hash: &[u8], at: i64) -> Result<(), StorageError> {
        self.tx.execute("UPDATE web_sessions SET last_seen = $2 WHERE id_hash = $1", &[&id_hash, &at])?;
        Ok(())
    }

    fn delete_web_session(&mut self, id_hash: &[u8]) -> Result<(), StorageError> {
        self.tx.execute("DELETE FROM web_sessions WHERE id_hash = $1", &[&id_hash])?;
        Ok(())
    }

    fn delete_web_sessions(&mut self, staff_id: Option<&str>, idle_before: i64) -> Result<(), StorageError> {
        self.tx.execute("DELETE FROM web_sessions WHERE staff_id = $1 OR last_seen < $2", &[&staff_id, &idle_before])?;
        Ok(())
    }

    fn rate_hit(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        let hits: i32 = self
            .tx
            .query_one(
                "INSERT INTO rate_limits (key, first_at, hits) VALUES ($1, $2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                    hits = CASE WHEN rate_limits.first_at < $2::bigint - $3::bigint THEN 1 ELSE rate_limits.hits + 1 END,
                    first_at = CASE WHEN rate_limits.first_at < $2::bigint - $3::bigint THEN $2 ELSE rate_limits.first_at END
                 RETURNING hits",
                &[&key, &now, &window_ms],
            )?
            .get(0);
        Ok(hits.max(0) as u32)
    }

    fn rate_count(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        let hits: Option<i32> = self
            .tx
            .query_opt("SELECT hits FROM rate_limits WHERE key = $1 AND first_at >= $2::bigint - $3::bigint", &[&key, &now, &window_ms])?
            .map(|r| r.get(0));
        Ok(hits.unwrap_or(0).max(0) as u32)
    }

    fn rate_clear(&mut self, key: &str) -> Result<(), StorageError> {
        self.tx.execute("DELETE FROM rate_limits WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn seen_mark(&mut self, staff_id: &str) -> Result<Option<i64>, StorageError> {
        Ok(self.tx.query_opt("SELECT seq FROM seen_marks WHERE staff_id = $1", &[&staff_id])?.map(|r| r.get(0)))
    }

    fn set_seen_mark(&mut self, staff_id: &str, seq: i64) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO seen_marks (staff_id, seq) VALUES ($1, $2) ON CONFLICT (staff_id) DO UPDATE SET seq = excluded.seq",
            &[&staff_id, &seq],
        )?;
        Ok(())
    }

    fn docs_after(&mut self, kind: &str, after: i64, limit: u32) -> Result<Vec<(i64, String)>, StorageError> {
        Ok(self
            .tx
            .query("SELECT seq, doc_id FROM docs WHERE kind = $1 AND seq > $2 ORDER BY seq LIMIT $3", &[&kind, &after, &i64::from(limit)])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn put_office_index(&mut self, row: &OfficeIndexRow) -> Result<(), StorageError> {
        self.tx.execute(
            "INSERT INTO office_index (doc_id, seq, status, rw, rt, receipt, service, created_at, officer_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (doc_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, rw = excluded.rw, rt = excluded.rt,
             receipt = excluded.receipt, service = excluded.service, created_at = excluded.created_at, officer_id = excluded.officer_id",
            &[
                &row.doc_id,
                &row.seq,
                &row.status,
                &i32::from(row.rw),
                &i32::from(row.rt),
                &row.receipt,
                &row.service,
                &row.created_at,
                &row.officer_id,
            ],
        )?;
        self.tx.execute(
            "INSERT INTO office_rows (doc_id, sealed_row) VALUES ($1, $2) ON CONFLICT (doc_id) DO UPDATE SET sealed_row = excluded.sealed_row",
            &[&row.doc_id, &row.sealed_row],
        )?;
        self.tx.execute("DELETE FROM office_tags WHERE doc_id = $1", &[&row.doc_id])?;
        self.tx.execute(
            "INSERT INTO office_tags (tag, doc_id) SELECT DISTINCT t, $2 FROM unnest($1::bigint[]) AS t",
            &[&row.tags, &row.doc_id],
        )?;
        Ok(())
    }

    fn office_rows(&mut self, q: &OfficeQuery, offset: u32, limit: u32) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let mut w = web_sql::office_where(q, true);
        let l = w.arg(Arg::Int(limit.into()));
        let o = w.arg(Arg::Int(offset.into()));
        let sql = format!(
            "SELECT i.doc_id, r.sealed_row{} JOIN office_rows r ON r.doc_id = i.doc_id{} ORDER BY i.seq DESC LIMIT {l} OFFSET {o}",
            web_sql::OFFICE_FROM,
            w.sql()
        );
        let args = pg_args(&w.args);
        Ok(self.tx.query(&sql, &refs(&args))?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn office_count(&mut self, q: &OfficeQuery) -> Result<u64, StorageError> {
        let w = web_sql::office_where(q, true);
        let sql = format!("SELECT count(*){}{}", web_sql::OFFICE_FROM, w.sql());
        let args = pg_args(&w.args);
        let n: i64 = self.tx.query_one(&sql, &refs(&args))?.get(0);
        Ok(n as u64)
    }

    fn status_counts(&mut self, kind: &str) -> Result<Vec<(String, u64)>, StorageError> {
        Ok(self
            .tx
            .query("SELECT coalesce(status, ''), count(*) FROM docs WHERE kind = $1 GROUP BY status", &[&kind])?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
            .collect())
    }

    fn audit_query(&mut self, q: &AuditFilter, offset: u32, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let mut w = web_sql::audit_where(q, true);
        let l = w.arg(Arg::Int(limit.into()));
        let o = w.arg(Arg::Int(offset.into()));
        let sql = format!("SELECT at, actor, action, doc_id FROM audit{} ORDER BY id DESC LIMIT {l} OFFSET {o}", w.sql());
        let args = pg_args(&w.args);
        Ok(self
            .tx
            .query(&sql, &refs(&args))?
            .iter()
            .map(|r| AuditEntry { at: r.get(0), actor: r.get(1), action: r.get(2), doc_id: r.get(3) })
            .collect())
    }
}

// ---- Staff dashboard (web): helpers ----

fn profile_row(r: &Row) -> StaffProfile {
    StaffProfile { staff_id: r.get(0), role: r.get(1), username: r.get(2), password_hash: r.get(3) }
}

fn pg_args(args: &[Arg]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    args.iter()
        .map(|a| -> Box<dyn postgres::types::ToSql + Sync> {
            match a {
                Arg::Text(t) => Box::new(t.clone()),
                Arg::Int(i) => Box::new(*i),
            }
        })
        .collect()
}
