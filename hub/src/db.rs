//! The hub's storage on SQLite (one file, nothing to install): kelurahan profile and catalog,
//! officers, enrolled devices (token hashes only) with their actor ids and receipt prefixes,
//! one-time enrolment codes, documents sealed under the hub's data key, the change log that
//! devices follow with a cursor, what each device is known to have, and an audit log. WAL with
//! `synchronous=FULL`: a write is durable when the call returns.

use std::path::Path;
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, ChangeHash};
use jemput_core::crypto::{Cipher, MasterKey};
use jemput_core::document::{self, DocKind};
use jemput_core::permissions::Scope;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::AppError;

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Officer id.
    pub officer_id: String,
    /// Scope.
    pub scope: Scope,
    /// Automerge actor ids bound to it (hex).
    pub actors: Vec<String>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// An officer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Officer {
    /// Officer id.
    pub id: String,
    /// Name.
    pub name: String,
    /// RW.
    pub rw: u16,
    /// RT, or none for the whole RW.
    pub rt: Option<u16>,
    /// Active (not revoked).
    pub active: bool,
}

/// The hub database. Cheap to clone; calls serialize on one connection.
#[derive(Clone)]
pub struct HubDb {
    conn: Arc<Mutex<Connection>>,
    cipher: Arc<Cipher>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS officers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER, active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS enrol_codes (
    code_hash BLOB PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE,
    prefix_index INTEGER NOT NULL UNIQUE, revoked_at INTEGER, created_at INTEGER NOT NULL, last_seen INTEGER);
CREATE TABLE IF NOT EXISTS device_actors (actor TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, sealed BLOB NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS change_log_by_area ON change_log(rw, rt, seq);
CREATE TABLE IF NOT EXISTS device_known (
    device_id TEXT NOT NULL, doc_id TEXT NOT NULL, heads BLOB NOT NULL, pending BLOB, pending_cursor INTEGER,
    PRIMARY KEY (device_id, doc_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, doc_id TEXT);
PRAGMA user_version = 1;
";

fn now() -> i64 {
    jemput_core::time_util::now_ms()
}

/// A keyed hash of a secret (token or enrolment code); only hashes are stored.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::derive_key("jemput 2026 hub token", secret.trim().to_ascii_uppercase().as_bytes()).to_vec()
}

/// A random secret of `n` characters from the receipt alphabet (readable, no 0/O/1/I/L).
pub fn random_secret(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| jemput_core::receipt::ALPHABET[(*x as usize) % 31] as char).collect()
}

fn heads_bytes(h: &[ChangeHash]) -> Vec<u8> {
    h.iter().flat_map(|x| x.0).collect()
}

fn bytes_heads(b: &[u8]) -> Vec<ChangeHash> {
    b.chunks_exact(32).map(|c| ChangeHash(c.try_into().expect("32"))).collect()
}

impl HubDb {
    /// Opens (or creates) the hub database at `path`, with the data key that seals documents.
    pub fn open(path: &Path, key: &MasterKey) -> Result<HubDb, AppError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        let cipher = Cipher::new(key, "hub");
        let check: Option<Vec<u8>> = conn.query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0)).optional()?;
        match check {
            Some(sealed) => {
                if cipher.open(b"hub:key_check", &sealed).is_err() {
                    return Err(AppError::Config("kunci data hub salah untuk basis data ini".into()));
                }
            }
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", params![cipher.seal(b"hub:key_check", b"ok")])?;
                conn.execute("INSERT INTO meta (key, value) VALUES ('actor', ?1)", params![document::random_actor().to_bytes().to_vec()])?;
            }
        }
        Ok(HubDb { conn: Arc::new(Mutex::new(conn)), cipher: Arc::new(cipher) })
    }

    /// Runs `f` on the connection in a blocking task.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &Cipher) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let conn = self.conn.clone();
        let cipher = self.cipher.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut c, &cipher)
        })
        .await
        .map_err(|_| AppError::Internal)?
    }

    /// Runs `f` synchronously (CLI commands).
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection, &Cipher) -> Result<T, AppError>) -> Result<T, AppError> {
        let mut c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut c, &self.cipher)
    }
}

/// The hub's own Automerge actor (for its stamps and staff edits).
pub fn hub_actor(c: &Connection) -> Result<automerge::ActorId, AppError> {
    let b: Vec<u8> = c.query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get(0))?;
    Ok(automerge::ActorId::from(b.as_slice()))
}

/// Loads a stored document.
pub fn load_doc(c: &Connection, cipher: &Cipher, doc_id: &str) -> Result<Option<AutoCommit>, AppError> {
    let sealed: Option<Vec<u8>> = c.query_row("SELECT sealed FROM docs WHERE doc_id = ?1", params![doc_id], |r| r.get(0)).optional()?;
    match sealed {
        None => Ok(None),
        Some(s) => {
            let bytes = cipher.open(format!("hubdoc:{doc_id}").as_bytes(), &s).map_err(|_| AppError::Internal)?;
            Ok(Some(AutoCommit::load(&bytes).map_err(|_| AppError::Internal)?))
        }
    }
}

/// Stores a document and appends it to the change log; returns the new sequence number.
pub fn put_doc(
    c: &Connection,
    cipher: &Cipher,
    doc_id: &str,
    doc: &mut AutoCommit,
    kind: DocKind,
    rw: u16,
    rt: u16,
) -> Result<i64, AppError> {
    c.execute("INSERT INTO change_log (doc_id, rw, rt) VALUES (?1, ?2, ?3)", params![doc_id, rw, rt])?;
    let seq = c.last_insert_rowid();
    let sealed = cipher.seal(format!("hubdoc:{doc_id}").as_bytes(), &doc.save());
    c.execute(
        "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(doc_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, rw = excluded.rw, rt = excluded.rt",
        params![doc_id, kind.code(), rw, rt, sealed, seq],
    )?;
    Ok(seq)
}

/// What the hub knows a device has of a document. Heads sent in an earlier answer count once
/// the device's cursor shows it applied that answer (`cursor` ≥ the answer's cursor); an answer
/// lost on the way leaves the older heads, so the changes are sent again.
pub fn known_heads(c: &Connection, device_id: &str, doc_id: &str, cursor: u64) -> Result<Vec<ChangeHash>, AppError> {
    let row: Option<(Vec<u8>, Option<Vec<u8>>, Option<i64>)> = c
        .query_row(
            "SELECT heads, pending, pending_cursor FROM device_known WHERE device_id = ?1 AND doc_id = ?2",
            params![device_id, doc_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => Vec::new(),
        Some((_, Some(p), Some(pc))) if cursor as i64 >= pc => {
            c.execute(
                "UPDATE device_known SET heads = ?3, pending = NULL, pending_cursor = NULL WHERE device_id = ?1 AND doc_id = ?2",
                params![device_id, doc_id, p],
            )?;
            bytes_heads(&p)
        }
        Some((h, _, _)) => bytes_heads(&h),
    })
}

/// Records heads sent to a device in an answer with cursor `cursor`; they count as known once
/// the device comes back with that cursor.
pub fn set_pending_heads(c: &Connection, device_id: &str, doc_id: &str, heads: &[ChangeHash], cursor: u64) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO device_known (device_id, doc_id, heads, pending, pending_cursor) VALUES (?1, ?2, x'', ?3, ?4)
         ON CONFLICT(device_id, doc_id) DO UPDATE SET pending = excluded.pending, pending_cursor = excluded.pending_cursor",
        params![device_id, doc_id, heads_bytes(heads), cursor as i64],
    )?;
    Ok(())
}

/// Records what a device has of a document.
pub fn set_known_heads(c: &Connection, device_id: &str, doc_id: &str, heads: &[ChangeHash]) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO device_known (device_id, doc_id, heads) VALUES (?1, ?2, ?3)
         ON CONFLICT(device_id, doc_id) DO UPDATE SET heads = excluded.heads",
        params![device_id, doc_id, heads_bytes(heads)],
    )?;
    Ok(())
}

/// Appends to the audit log (UU PDP: who saw and changed what).
pub fn audit(c: &Connection, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), AppError> {
    c.execute("INSERT INTO audit (at, actor, action, doc_id) VALUES (?1, ?2, ?3, ?4)", params![now(), actor, action, doc_id])?;
    Ok(())
}

/// Adds an officer with a scope.
pub fn add_officer(c: &Connection, name: &str, scope: Scope) -> Result<Officer, AppError> {
    let id = format!("petugas-{}", random_secret(6).to_lowercase());
    c.execute(
        "INSERT INTO officers (id, name, rw, rt, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, name, scope.rw, scope.rt, now()],
    )?;
    Ok(Officer { id, name: name.into(), rw: scope.rw, rt: scope.rt, active: true })
}

/// Lists officers.
pub fn officers(c: &Connection) -> Result<Vec<Officer>, AppError> {
    let mut st = c.prepare("SELECT id, name, rw, rt, active FROM officers ORDER BY rw, rt, name")?;
    let rows = st.query_map([], |r| Ok(Officer { id: r.get(0)?, name: r.get(1)?, rw: r.get(2)?, rt: r.get(3)?, active: r.get(4)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Creates a one-time enrolment code for an officer, valid `hours` hours.
pub fn create_enrol_code(c: &Connection, officer_id: &str, hours: i64) -> Result<String, AppError> {
    let active: Option<bool> = c.query_row("SELECT active FROM officers WHERE id = ?1", params![officer_id], |r| r.get(0)).optional()?;
    if active != Some(true) {
        return Err(AppError::NotFound("petugas tidak ditemukan atau sudah dicabut"));
    }
    let code = random_secret(10);
    c.execute(
        "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)",
        params![secret_hash(&code), officer_id, now() + hours * 3_600_000],
    )?;
    Ok(code)
}

/// Revokes an officer and all their devices.
pub fn revoke_officer(c: &Connection, officer_id: &str) -> Result<(), AppError> {
    let n = c.execute("UPDATE officers SET active = 0 WHERE id = ?1", params![officer_id])?;
    if n == 0 {
        return Err(AppError::NotFound("petugas tidak ditemukan"));
    }
    c.execute("UPDATE devices SET revoked_at = ?2 WHERE officer_id = ?1 AND revoked_at IS NULL", params![officer_id, now()])?;
    Ok(())
}

/// The result of enrolling a device.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Enrolled {
    /// New device id.
    pub device_id: String,
    /// The device's secret token (shown once).
    pub token: String,
    /// Officer id.
    pub officer_id: String,
    /// Receipt prefix allocated to the device.
    pub receipt_prefix: String,
    /// Scope RW.
    pub rw: u16,
    /// Scope RT (none = whole RW).
    pub rt: Option<u16>,
}

/// Redeems a one-time enrolment code (atomically: a code works once), binding the device's
/// Automerge actor id.
pub fn enrol(c: &mut Connection, code: &str, device_name: &str, actor_hex: &str, device_id: &str) -> Result<Enrolled, AppError> {
    if actor_hex.len() != 32 || !actor_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest("aktor_tidak_valid", "ID aktor perangkat tidak valid"));
    }
    let device_id = uuid::Uuid::parse_str(device_id)
        .map_err(|_| AppError::BadRequest("id_perangkat_tidak_valid", "ID perangkat tidak valid"))?
        .to_string();
    let tx = c.transaction()?;
    let row: Option<(String, i64, Option<i64>)> = tx
        .query_row("SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = ?1", params![secret_hash(code)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((officer_id, expires, used)) = row else { return Err(AppError::Forbidden("kode_salah", "Kode pendaftaran tidak dikenal")) };
    if used.is_some() {
        return Err(AppError::Forbidden("kode_terpakai", "Kode pendaftaran sudah pernah dipakai"));
    }
    if expires < now() {
        return Err(AppError::Forbidden("kode_kedaluwarsa", "Kode pendaftaran sudah kedaluwarsa; minta kode baru ke kelurahan"));
    }
    let (rw, rt, active): (u16, Option<u16>, bool) =
        tx.query_row("SELECT rw, rt, active FROM officers WHERE id = ?1", params![officer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    if !active {
        return Err(AppError::Forbidden("petugas_dicabut", "Petugas ini sudah tidak aktif"));
    }
    tx.execute("UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL", params![secret_hash(code), now()])?;
    let index: u32 = tx.query_row("SELECT count(*) FROM devices", [], |r| r.get(0))?;
    let taken: bool = tx.query_row("SELECT count(*) > 0 FROM devices WHERE id = ?1", params![device_id], |r| r.get(0))?;
    if taken {
        return Err(AppError::Forbidden("perangkat_sudah_terdaftar", "Perangkat ini sudah terdaftar; cabut dulu pendaftaran lamanya"));
    }
    let token = random_secret(32);
    tx.execute(
        "INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![device_id, officer_id, device_name, secret_hash(&token), index, now()],
    )?;
    tx.execute("INSERT INTO device_actors (actor, device_id) VALUES (?1, ?2)", params![actor_hex.to_ascii_lowercase(), device_id])?;
    tx.commit()?;
    let receipt_prefix = jemput_core::receipt::DevicePrefix::from_index(index).as_str().to_string();
    Ok(Enrolled { device_id, token, officer_id, receipt_prefix, rw, rt })
}

/// The device a token belongs to.
pub fn device_by_token(c: &Connection, token: &str) -> Result<Option<Device>, AppError> {
    let row: Option<(String, String, u16, Option<u16>, Option<i64>)> = c
        .query_row(
            "SELECT d.id, d.officer_id, o.rw, o.rt, d.revoked_at FROM devices d JOIN officers o ON o.id = d.officer_id WHERE d.token_hash = ?1",
            params![secret_hash(token)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((id, officer_id, rw, rt, revoked)) = row else { return Ok(None) };
    let mut st = c.prepare("SELECT actor FROM device_actors WHERE device_id = ?1")?;
    let actors = st.query_map(params![id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(Device { id, officer_id, scope: Scope { rw, rt }, actors, revoked: revoked.is_some() }))
}

/// Revokes one device.
pub fn revoke_device(c: &Connection, device_id: &str) -> Result<(), AppError> {
    let n = c.execute("UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![device_id, now()])?;
    if n == 0 {
        return Err(AppError::NotFound("perangkat tidak ditemukan"));
    }
    Ok(())
}
