//! Every query of the hub, written once for both back ends. The SQL text below is the common
//! dialect of SQLite (3.35 or newer) and PostgreSQL: `$1`-style parameters (SQLite binds them by
//! name), `ON CONFLICT … DO UPDATE`, `RETURNING`, `TRUE`/`FALSE`, `NULLS FIRST`. Where the two
//! differ, the difference is named here rather than hidden in a copy: row locks
//! (`FOR UPDATE`, PostgreSQL only; SQLite has one writer at a time) and the change-log lock
//! ([`Conn::lock_change_log`]). Each back end only supplies a [`Conn`]: how to run one
//! statement with [`Arg`]s and hand back [`Value`]s.

use super::web_sql::{self, WebArg};
use super::{
    Ahead, AuditEntry, AuditFilter, DeviceRow, DocFilter, DocPlace, EnrolCode, ErasedDoc, ExchangeRow, HubTx, KnownRow, NewDevice,
    OfficeIndexRow, OfficeQuery, Officer, SealedDocIn, SealedDocRow, SealedFull, StaffAccount, StaffProfile, StorageError, WebSession,
};
use jemput_core::sync::protocol::Backlog;

/// The SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A statement argument. Integers are bound at the width the column has (PostgreSQL `INTEGER`
/// or `BIGINT`; SQLite has one integer type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// A boolean (an integer 0/1 in SQLite).
    Bool(bool),
    /// Text.
    Text(&'a str),
    /// Bytes (`BLOB` / `BYTEA`).
    Bytes(&'a [u8]),
    /// An array of text (PostgreSQL only: `text[]`, for `= ANY($n)` and `unnest`).
    Texts(&'a [&'a str]),
    /// An array of text with `NULL`s (PostgreSQL only).
    OptTexts(&'a [Option<&'a str>]),
    /// An array of byte strings (PostgreSQL only: `bytea[]`).
    Blobs(&'a [&'a [u8]]),
    /// An array of integers (PostgreSQL only: `bigint[]`).
    Ints(&'a [i64]),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(v)
    }
}
impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(v.into())
    }
}
impl From<u16> for Arg<'_> {
    fn from(v: u16) -> Self {
        Arg::Int(v.into())
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// One column of a result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// An integer (any width).
    Int(i64),
    /// A boolean (PostgreSQL; SQLite gives integers).
    Bool(bool),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

/// A stored value of a type the query did not expect: the schema and the code disagree.
fn mismatch(i: usize) -> StorageError {
    tracing::error!(column = i, "kolom basis data hub berjenis tak terduga");
    StorageError::Corrupt("kolom berjenis tak terduga")
}

impl Row {
    fn take(&mut self, i: usize) -> Value {
        self.0.get_mut(i).map(|v| std::mem::replace(v, Value::Null)).unwrap_or(Value::Null)
    }

    /// Text or `NULL`.
    pub fn opt_text(&mut self, i: usize) -> Result<Option<String>, StorageError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s)),
            _ => Err(mismatch(i)),
        }
    }

    /// Text.
    pub fn text(&mut self, i: usize) -> Result<String, StorageError> {
        self.opt_text(i)?.ok_or_else(|| mismatch(i))
    }

    /// Bytes or `NULL`.
    pub fn opt_bytes(&mut self, i: usize) -> Result<Option<Vec<u8>>, StorageError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b)),
            _ => Err(mismatch(i)),
        }
    }

    /// Bytes.
    pub fn bytes(&mut self, i: usize) -> Result<Vec<u8>, StorageError> {
        self.opt_bytes(i)?.ok_or_else(|| mismatch(i))
    }

    /// An integer or `NULL`.
    pub fn opt_int(&mut self, i: usize) -> Result<Option<i64>, StorageError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            _ => Err(mismatch(i)),
        }
    }

    /// An integer.
    pub fn int(&mut self, i: usize) -> Result<i64, StorageError> {
        self.opt_int(i)?.ok_or_else(|| mismatch(i))
    }

    /// An RW/RT number or `NULL`.
    pub fn opt_u16(&mut self, i: usize) -> Result<Option<u16>, StorageError> {
        self.opt_int(i)?.map(|v| u16::try_from(v).map_err(|_| mismatch(i))).transpose()
    }

    /// An RW/RT number.
    pub fn u16(&mut self, i: usize) -> Result<u16, StorageError> {
        self.opt_u16(i)?.ok_or_else(|| mismatch(i))
    }

    /// A boolean (PostgreSQL `BOOLEAN`, SQLite 0/1).
    pub fn bool(&mut self, i: usize) -> Result<bool, StorageError> {
        match self.take(i) {
            Value::Bool(b) => Ok(b),
            Value::Int(v) => Ok(v != 0),
            _ => Err(mismatch(i)),
        }
    }
}

/// One open transaction of a back end: runs one statement at a time.
pub trait Conn {
    /// The dialect it speaks.
    const DIALECT: Dialect;
    /// Runs a statement that returns rows.
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StorageError>;
    /// Runs a statement; returns how many rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StorageError>;
    /// Makes sure this transaction holds the change-log lock before appending to it, so
    /// sequence numbers become visible in the order they were given out. SQLite's one writer
    /// at a time holds it already; PostgreSQL takes a transaction-level advisory lock.
    fn lock_change_log(&mut self) -> Result<(), StorageError>;
    /// Runs a write whose result nothing reads. A back end behind a network (PostgreSQL) may
    /// hold it and send it with the next statement whose answer the transaction waits for, or
    /// with `COMMIT`: one round trip for both. Should it fail, that later statement fails
    /// with its error, and so does the transaction. SQLite runs it now.
    fn send(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), StorageError> {
        self.execute(sql, args).map(|_| ())
    }
    /// Reads ahead: runs every one of `reads` (statements that only read) in one round trip,
    /// and answers a later [`Conn::query`] of the very same statement and arguments from what
    /// it read, until this transaction writes to a table that statement reads. SQLite, in
    /// process, has no round trip to save and reads each when it is asked.
    fn read_ahead(&mut self, reads: &[(&str, Vec<Arg<'_>>)]) -> Result<(), StorageError> {
        let _ = reads;
        Ok(())
    }
}

/// The SQL text and the `FOR UPDATE` variant (PostgreSQL) of a query.
macro_rules! locking {
    ($sql:literal) => {
        ($sql, concat!($sql, " FOR UPDATE"))
    };
}

const META: &str = "SELECT value FROM meta WHERE key = $1";
/// Several settings read ahead at once (PostgreSQL).
const METAS_ANY: &str = "SELECT key, value FROM meta WHERE key = ANY($1)";
const SET_META: &str = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const SEALED_DOC: (&str, &str) = locking!("SELECT sealed FROM docs WHERE doc_id = $1");
const APPEND_CHANGE: &str = "INSERT INTO change_log (doc_id, rw, rt) VALUES ($1, $2, $3) RETURNING seq";
const PUT_DOC: &str = "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt, full_message, heads)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
 ON CONFLICT (doc_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, rw = excluded.rw, rt = excluded.rt,
 status = excluded.status, receipt = excluded.receipt, full_message = excluded.full_message, heads = excluded.heads";
const SEALED_FULL: &str = "SELECT full_message, heads FROM docs WHERE doc_id = $1";
const DOC_BY_RECEIPT: &str = "SELECT doc_id FROM docs WHERE receipt = $1 ORDER BY doc_id LIMIT 1";
const TOP_SEQ: &str = "SELECT CAST(coalesce(max(seq), 0) AS BIGINT) FROM change_log";
const CHANGED_DOCS: &str = "SELECT max(seq), doc_id FROM change_log
 WHERE seq > $1 AND seq <= $2 AND ((rw = $3 AND rt BETWEEN $4 AND $5) OR (rw = 0 AND rt = 0))
 GROUP BY doc_id ORDER BY max(seq)";
/// The top sequence number and the changes up to it (one row with `NULL`s when none).
const CHANGES_UP_TO_TOP: &str = "WITH t AS (SELECT CAST(coalesce(max(seq), 0) AS BIGINT) AS top FROM change_log)
 SELECT t.top, c.s, c.doc_id FROM t LEFT JOIN (
 SELECT max(seq) AS s, doc_id FROM change_log
 WHERE seq > $1 AND seq <= (SELECT top FROM t) AND ((rw = $2 AND rt BETWEEN $3 AND $4) OR (rw = 0 AND rt = 0))
 GROUP BY doc_id) c ON TRUE ORDER BY c.s";
const KNOWN: &str = "SELECT heads, pending, pending_cursor FROM device_known WHERE device_id = $1 AND doc_id = $2";
const SET_KNOWN: &str = "INSERT INTO device_known (device_id, doc_id, heads) VALUES ($1, $2, $3)
 ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads";
const PROMOTE_PENDING: &str =
    "UPDATE device_known SET heads = $3, pending = NULL, pending_cursor = NULL WHERE device_id = $1 AND doc_id = $2";
const SET_PENDING: &str = "INSERT INTO device_known (device_id, doc_id, heads, pending, pending_cursor) VALUES ($1, $2, $3, $4, $5)
 ON CONFLICT (device_id, doc_id) DO UPDATE SET pending = excluded.pending, pending_cursor = excluded.pending_cursor";
const FORGET_PENDING: &str = "UPDATE device_known SET pending = NULL, pending_cursor = NULL WHERE pending IS NOT NULL";
const AUDIT_EXPORT: &str = "SELECT a.at, a.actor, a.action, a.doc_id, d.receipt FROM audit a LEFT JOIN docs d ON d.doc_id = a.doc_id
 WHERE a.at >= $1 AND a.at < $2 ORDER BY a.id LIMIT $3";
const MARK_ERASED: &str = "INSERT INTO erased_docs (doc_id, kind, erased_at, reason, erased_by) VALUES ($1, $2, $3, $4, $5)
 ON CONFLICT (doc_id) DO NOTHING";
const ERASED: &str = "SELECT doc_id, kind, erased_at, reason, erased_by FROM erased_docs WHERE doc_id = $1";
const ERASED_ALL: &str = "SELECT doc_id, kind, erased_at, reason, erased_by FROM erased_docs ORDER BY erased_at, doc_id";
/// An `erased_docs` row.
fn erased_row(mut r: Row) -> Result<ErasedDoc, StorageError> {
    Ok(ErasedDoc { doc_id: r.text(0)?, kind: r.text(1)?, erased_at: r.int(2)?, reason: r.text(3)?, erased_by: r.text(4)? })
}

const FORGET_KNOWN: &str = "DELETE FROM device_known WHERE doc_id = $1";
const DROP_EXCHANGES: &str = "DELETE FROM exchanges";
const AUDIT: &str = "INSERT INTO audit (at, actor, action, doc_id) VALUES ($1, $2, $3, $4)";
const AUDIT_TAIL: &str = "SELECT at, actor, action, doc_id FROM audit ORDER BY id DESC LIMIT $1";
const INSERT_OFFICER: &str = "INSERT INTO officers (id, name, rw, rt, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
const OFFICERS: &str = "SELECT id, name, rw, rt, active FROM officers ORDER BY rw, rt NULLS FIRST, name";
const OFFICER: &str = "SELECT id, name, rw, rt, active FROM officers WHERE id = $1";
const DEACTIVATE_OFFICER: &str = "UPDATE officers SET active = FALSE WHERE id = $1";
const INSERT_ENROL_CODE: &str = "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES ($1, $2, $3)";
const ENROL_CODE: (&str, &str) = locking!("SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = $1");
const USE_ENROL_CODE: &str = "UPDATE enrol_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL";
const NEXT_PREFIX_INDEX: &str = "SELECT CAST(coalesce(max(prefix_index) + 1, 0) AS BIGINT) FROM devices";
const DEVICE_EXISTS: &str = "SELECT count(*) > 0 FROM devices WHERE id = $1";
const INSERT_DEVICE: &str =
    "INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
const BIND_ACTOR: &str = "INSERT INTO device_actors (actor, device_id) VALUES ($1, $2) ON CONFLICT (actor) DO NOTHING";
/// The columns of [`DeviceRow`], in its order; the queries below continue it.
macro_rules! device_columns {
    () => {
        "SELECT d.id, d.officer_id, d.name, o.rw, o.rt, d.revoked_at, d.last_seen, d.prefix_index, d.backlog_requests, d.backlog_complaints, d.backlog_refused FROM devices d JOIN officers o ON o.id = d.officer_id"
    };
}
const DEVICE_BY_TOKEN_HASH: &str = concat!(device_columns!(), " WHERE d.token_hash = $1");
const DEVICE: &str = concat!(device_columns!(), " WHERE d.id = $1");
/// A device's row, once per actor bound to it (column 11, `NULL` when none).
const DEVICE_WITH_ACTORS_BY_TOKEN_HASH: &str = "SELECT d.id, d.officer_id, d.name, o.rw, o.rt, d.revoked_at, d.last_seen, d.prefix_index,
 d.backlog_requests, d.backlog_complaints, d.backlog_refused, a.actor
 FROM devices d JOIN officers o ON o.id = d.officer_id LEFT JOIN device_actors a ON a.device_id = d.id
 WHERE d.token_hash = $1 ORDER BY a.actor";
const DEVICES: &str = concat!(device_columns!(), " ORDER BY o.rw, o.rt NULLS FIRST, d.name");
const DEVICE_ACTORS: &str = "SELECT actor FROM device_actors WHERE device_id = $1";
const REVOKE_DEVICES_OF: &str = "UPDATE devices SET revoked_at = $2 WHERE officer_id = $1 AND revoked_at IS NULL";
const REVOKE_DEVICE: &str = "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
const TOUCH_DEVICE: &str =
    "UPDATE devices SET last_seen = $2, backlog_requests = $3, backlog_complaints = $4, backlog_refused = $5 WHERE id = $1";
const EXCHANGE: (&str, &str) = locking!("SELECT key, upload, answer, at FROM exchanges WHERE device_id = $1");
const PUT_EXCHANGE: &str = "INSERT INTO exchanges (device_id, key, upload, answer, at) VALUES ($1, $2, $3, $4, $5)
 ON CONFLICT (device_id) DO UPDATE SET key = excluded.key, upload = excluded.upload, answer = excluded.answer, at = excluded.at";
const INSERT_STAFF: &str = "INSERT INTO staff (id, name, token_hash, active, created_at) VALUES ($1, $2, $3, $4, $5)";
const STAFF_BY_TOKEN_HASH: &str = "SELECT id, name, active FROM staff WHERE token_hash = $1";
const STAFF_ACCOUNTS: &str = "SELECT id, name, active FROM staff ORDER BY name";
const DEACTIVATE_STAFF: &str = "UPDATE staff SET active = FALSE WHERE id = $1";

/// `WHERE …` for an office filter, with its arguments (`$1` is the kind, then the optional
/// ones in order).
fn filter_sql<'a>(f: &'a DocFilter) -> (String, Vec<Arg<'a>>) {
    let mut sql = String::from(" WHERE kind = $1");
    let mut args = vec![Arg::Text(&f.kind)];
    let mut add = |column: &str, arg: Arg<'a>, sql: &mut String| {
        args.push(arg);
        sql.push_str(&format!(" AND {column} = ${}", args.len()));
    };
    if let Some(s) = &f.status {
        add("status", Arg::Text(s), &mut sql);
    }
    if let Some(rw) = f.rw {
        add("rw", rw.into(), &mut sql);
    }
    if let Some(rt) = f.rt {
        add("rt", rt.into(), &mut sql);
    }
    (sql, args)
}

fn officer_row(mut r: Row) -> Result<Officer, StorageError> {
    Ok(Officer { id: r.text(0)?, name: r.text(1)?, rw: r.u16(2)?, rt: r.opt_u16(3)?, active: r.bool(4)? })
}

fn device_row(mut r: Row) -> Result<DeviceRow, StorageError> {
    Ok(DeviceRow {
        id: r.text(0)?,
        officer_id: r.text(1)?,
        name: r.text(2)?,
        rw: r.u16(3)?,
        rt: r.opt_u16(4)?,
        revoked_at: r.opt_int(5)?,
        last_seen: r.opt_int(6)?,
        prefix_index: u32::try_from(r.int(7)?).map_err(|_| mismatch(7))?,
        backlog: match (r.opt_int(8)?, r.opt_int(9)?, r.opt_int(10)?) {
            (Some(requests), Some(complaints), Some(refused)) => Some(Backlog {
                requests: u32::try_from(requests).map_err(|_| mismatch(8))?,
                complaints: u32::try_from(complaints).map_err(|_| mismatch(9))?,
                refused: u32::try_from(refused).map_err(|_| mismatch(10))?,
            }),
            _ => None,
        },
    })
}

fn staff_row(mut r: Row) -> Result<StaffAccount, StorageError> {
    Ok(StaffAccount { id: r.text(0)?, name: r.text(1)?, active: r.bool(2)? })
}

/// One transaction on either back end: [`HubTx`] written once over a [`Conn`].
pub struct SqlTx<C> {
    /// The back end's open transaction.
    pub conn: C,
    /// Hub settings ([`HubTx::meta`]) read ahead together, by key (`None`: not set). Forgotten
    /// when the transaction writes settings.
    settings: Vec<(String, Option<Vec<u8>>)>,
}

impl<C: Conn> SqlTx<C> {
    /// Wraps an open transaction.
    pub fn new(conn: C) -> Self {
        SqlTx { conn, settings: Vec::new() }
    }

    /// A write of `(document, heads)` pairs of one device: on PostgreSQL one statement `unnest`
    /// over the pairs (`$1` the device, `$2` the ids, `$3` the heads, then `extra`); on SQLite
    /// `each` pair's single statement.
    fn heads_of_many(
        &mut self,
        device_id: &str,
        rows: &[(&str, &[u8])],
        unnest: &str,
        extra: &[Arg<'_>],
        mut each: impl FnMut(&mut Self, &str, &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        if !Self::batched() {
            return rows.iter().try_for_each(|(doc, heads)| each(self, doc, heads));
        }
        if rows.is_empty() {
            return Ok(());
        }
        let (ids, heads) = columns(rows);
        let mut args = vec![device_id.into(), Arg::Texts(&ids), Arg::Blobs(&heads)];
        args.extend_from_slice(extra);
        self.conn.send(unnest, &args)
    }

    /// The setting `key` as read ahead in this transaction (`Some(None)`: read, not set), or
    /// `None` when it was not.
    fn setting(&self, key: &str) -> Option<&Option<Vec<u8>>> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The plain or the `FOR UPDATE` text of a query, as the dialect allows.
    fn locked(&self, q: (&'static str, &'static str), lock: bool) -> &'static str {
        if lock && C::DIALECT == Dialect::Postgres {
            q.1
        } else {
            q.0
        }
    }

    fn opt_row(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>, StorageError> {
        Ok(self.conn.query(sql, args)?.into_iter().next())
    }

    fn one_row(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Row, StorageError> {
        self.opt_row(sql, args)?.ok_or(StorageError::Internal)
    }

    fn texts(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<String>, StorageError> {
        self.conn.query(sql, args)?.into_iter().map(|mut r| r.text(0)).collect()
    }

    /// Whether the batches below are one statement (PostgreSQL) or a loop over the single
    /// statements (SQLite, in process: a statement there is a function call, not a round trip).
    /// `read` of each of `ids`, with the ids it found something for: the row-by-row form of a
    /// batch read, where a round trip costs nothing (SQLite, in process).
    fn each_found<T>(
        &mut self,
        ids: &[&str],
        mut read: impl FnMut(&mut Self, &str) -> Result<Option<T>, StorageError>,
    ) -> Result<Vec<(String, T)>, StorageError> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(v) = read(self, id)? {
                out.push((id.to_string(), v));
            }
        }
        Ok(out)
    }

    fn batched() -> bool {
        C::DIALECT == Dialect::Postgres
    }

    /// The statement [`HubTx`] runs for `read` on this back end (the one the method of the
    /// same name sends, so a read made ahead answers it), or none when it sends nothing (no
    /// ids) or reads row by row (SQLite).
    fn statement_of<'a>(&self, read: &Ahead<'a>) -> Option<(&'static str, Vec<Arg<'a>>)> {
        let batch = |ids: &[&str]| Self::batched() && !ids.is_empty();
        Some(match *read {
            Ahead::Meta(key) => (META, vec![key.into()]),
            Ahead::Exchange(device_id) => (self.locked(EXCHANGE, true), vec![device_id.into()]),
            Ahead::SealedDocs(ids, lock) if batch(ids) => (self.locked(SEALED_DOCS_ANY, lock), vec![Arg::Texts(ids)]),
            Ahead::SealedFulls(ids) if batch(ids) => (SEALED_FULLS_ANY, vec![Arg::Texts(ids)]),
            Ahead::Known(device_id, ids) if batch(ids) => (KNOWN_ANY, vec![device_id.into(), Arg::Texts(ids)]),
            Ahead::Erased(ids) if batch(ids) => (ERASED_ANY, vec![Arg::Texts(ids)]),
            Ahead::ChangesUpToTop { after, rw, rt_lo, rt_hi } => {
                (CHANGES_UP_TO_TOP, vec![after.into(), rw.into(), rt_lo.into(), rt_hi.into()])
            }
            _ => return None,
        })
    }

    /// Runs the statement of `read` (see [`SqlTx::statement_of`]).
    fn read(&mut self, read: Ahead<'_>) -> Result<Vec<Row>, StorageError> {
        match self.statement_of(&read) {
            Some((sql, args)) => self.conn.query(sql, &args),
            None => Ok(Vec::new()),
        }
    }
}

/// `(document, bytes)` rows as two parallel arrays for `unnest`, the last of a repeated
/// document winning (one statement may not change a row twice).
fn columns<'r>(rows: &[(&'r str, &'r [u8])]) -> (Vec<&'r str>, Vec<&'r [u8]>) {
    let mut ids: Vec<&str> = Vec::with_capacity(rows.len());
    let mut values: Vec<&[u8]> = Vec::with_capacity(rows.len());
    for (id, v) in rows {
        match ids.iter().position(|x| x == id) {
            Some(i) => values[i] = v,
            None => {
                ids.push(id);
                values.push(v);
            }
        }
    }
    (ids, values)
}

// Batches (PostgreSQL): one statement for all of an exchange's documents.
const SEALED_DOCS_ANY: (&str, &str) = locking!("SELECT doc_id, sealed FROM docs WHERE doc_id = ANY($1) ORDER BY doc_id");
const SEALED_FULLS_ANY: &str = "SELECT doc_id, full_message, heads FROM docs
 WHERE doc_id = ANY($1) AND full_message IS NOT NULL AND heads IS NOT NULL ORDER BY doc_id";
/// Appends every document to the change log (in the order given) and stores it with its new
/// sequence number, in one statement.
const PUT_DOCS_UNNEST: &str = "WITH u AS (
 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[], $7::text[], $8::bytea[], $9::bytea[])
 WITH ORDINALITY AS u(doc_id, kind, rw, rt, sealed, status, receipt, full_message, heads, n)),
 c AS (INSERT INTO change_log (doc_id, rw, rt) SELECT doc_id, rw, rt FROM u ORDER BY n RETURNING seq, doc_id)
 INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt, full_message, heads)
 SELECT u.doc_id, u.kind, u.rw, u.rt, u.sealed, c.seq, u.status, u.receipt, u.full_message, u.heads FROM u JOIN c ON c.doc_id = u.doc_id
 ON CONFLICT (doc_id) DO UPDATE SET sealed = excluded.sealed, seq = excluded.seq, rw = excluded.rw, rt = excluded.rt,
 status = excluded.status, receipt = excluded.receipt, full_message = excluded.full_message, heads = excluded.heads";
const KNOWN_ANY: &str = "SELECT doc_id, heads, pending, pending_cursor FROM device_known WHERE device_id = $1 AND doc_id = ANY($2)";
const SET_KNOWN_UNNEST: &str = "INSERT INTO device_known (device_id, doc_id, heads)
 SELECT $1, d, h FROM unnest($2::text[], $3::bytea[]) AS u(d, h)
 ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads";
const PROMOTE_UNNEST: &str = "UPDATE device_known k SET heads = u.h, pending = NULL, pending_cursor = NULL
 FROM unnest($2::text[], $3::bytea[]) AS u(d, h) WHERE k.device_id = $1 AND k.doc_id = u.d";
const SET_PENDING_UNNEST: &str = "INSERT INTO device_known (device_id, doc_id, heads, pending, pending_cursor)
 SELECT $1, d, $4::bytea, h, $5::bigint FROM unnest($2::text[], $3::bytea[]) AS u(d, h)
 ON CONFLICT (device_id, doc_id) DO UPDATE SET pending = excluded.pending, pending_cursor = excluded.pending_cursor";
const ERASED_ANY: &str = "SELECT doc_id FROM erased_docs WHERE doc_id = ANY($1) ORDER BY doc_id";
const DOCS_BY_RECEIPTS: &str = "SELECT receipt, min(doc_id) FROM docs WHERE receipt = ANY($1) GROUP BY receipt";
const AUDIT_UNNEST: &str = "INSERT INTO audit (at, actor, action, doc_id)
 SELECT $1::bigint, a, b, d FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(a, b, d, n) ORDER BY n";

impl<C: Conn> HubTx for SqlTx<C> {
    fn meta(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.setting(key) {
            return Ok(value.clone());
        }
        self.read(Ahead::Meta(key))?.into_iter().next().map(|mut r| r.bytes(0)).transpose()
    }

    fn read_ahead(&mut self, reads: &[Ahead<'_>]) -> Result<(), StorageError> {
        // On PostgreSQL the settings named ahead are one statement for all of them (an exchange
        // reads three; each statement costs the server a parse, a plan's run and a reply).
        let mut keys: Vec<&str> = Vec::new();
        let mut statements: Vec<(&str, Vec<Arg<'_>>)> = Vec::new();
        for read in reads {
            match read {
                Ahead::Meta(key) if Self::batched() => {
                    if self.setting(key).is_none() {
                        keys.push(key);
                    }
                }
                _ => statements.extend(self.statement_of(read)),
            }
        }
        if !keys.is_empty() {
            statements.push((METAS_ANY, vec![Arg::Texts(&keys)]));
        }
        if statements.is_empty() {
            return Ok(());
        }
        self.conn.read_ahead(&statements)?;
        if !keys.is_empty() {
            // Answered from what was just read ahead.
            let mut found = Vec::new();
            for mut row in self.conn.query(METAS_ANY, &[Arg::Texts(&keys)])? {
                found.push((row.text(0)?, row.bytes(1)?));
            }
            for key in keys {
                let value = found.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                self.settings.push((key.to_string(), value));
            }
        }
        Ok(())
    }

    fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.settings.clear();
        self.conn.execute(SET_META, &[key.into(), value.into()])?;
        Ok(())
    }

    fn sealed_doc(&mut self, doc_id: &str, for_update: bool) -> Result<Option<Vec<u8>>, StorageError> {
        let sql = self.locked(SEALED_DOC, for_update);
        self.opt_row(sql, &[doc_id.into()])?.map(|mut r| r.bytes(0)).transpose()
    }

    fn put_sealed_doc(&mut self, doc_id: &str, place: &DocPlace<'_>, sealed: &[u8], full: &SealedFull) -> Result<i64, StorageError> {
        self.conn.lock_change_log()?;
        let seq = self.one_row(APPEND_CHANGE, &[doc_id.into(), place.rw.into(), place.rt.into()])?.int(0)?;
        self.conn.execute(
            PUT_DOC,
            &[
                doc_id.into(),
                place.kind.into(),
                place.rw.into(),
                place.rt.into(),
                sealed.into(),
                seq.into(),
                place.status.into(),
                place.receipt.into(),
                (&full.message).into(),
                (&full.heads).into(),
            ],
        )?;
        Ok(seq)
    }

    fn sealed_full(&mut self, doc_id: &str) -> Result<Option<SealedFull>, StorageError> {
        let Some(mut r) = self.opt_row(SEALED_FULL, &[doc_id.into()])? else { return Ok(None) };
        Ok(r.opt_bytes(0)?.zip(r.opt_bytes(1)?).map(|(message, heads)| SealedFull { message, heads }))
    }

    fn doc_ids(&mut self, filter: &DocFilter, offset: u32, limit: u32) -> Result<Vec<String>, StorageError> {
        let (w, mut args) = filter_sql(filter);
        args.push(limit.into());
        args.push(offset.into());
        let n = args.len();
        self.texts(&format!("SELECT doc_id FROM docs{w} ORDER BY seq DESC LIMIT ${} OFFSET ${n}", n - 1), &args)
    }

    fn count_docs(&mut self, filter: &DocFilter) -> Result<u64, StorageError> {
        let (w, args) = filter_sql(filter);
        let n = self.one_row(&format!("SELECT count(*) FROM docs{w}"), &args)?.int(0)?;
        Ok(n as u64)
    }

    fn doc_by_receipt(&mut self, receipt: &str) -> Result<Option<String>, StorageError> {
        self.opt_row(DOC_BY_RECEIPT, &[receipt.into()])?.map(|mut r| r.text(0)).transpose()
    }

    fn top_seq(&mut self) -> Result<i64, StorageError> {
        self.one_row(TOP_SEQ, &[])?.int(0)
    }

    fn changed_docs(&mut self, after: i64, upto: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<Vec<(i64, String)>, StorageError> {
        let rows = self.conn.query(CHANGED_DOCS, &[after.into(), upto.into(), rw.into(), rt_lo.into(), rt_hi.into()])?;
        rows.into_iter().map(|mut r| Ok((r.int(0)?, r.text(1)?))).collect()
    }

    fn changes_up_to_top(&mut self, after: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<(i64, Vec<(i64, String)>), StorageError> {
        let rows = self.read(Ahead::ChangesUpToTop { after, rw, rt_lo, rt_hi })?;
        let mut top = None;
        let mut changed = Vec::with_capacity(rows.len());
        for mut r in rows {
            top = Some(r.int(0)?);
            if let (Some(seq), Some(doc_id)) = (r.opt_int(1)?, r.opt_text(2)?) {
                changed.push((seq, doc_id));
            }
        }
        Ok((top.ok_or(StorageError::Internal)?, changed))
    }

    fn known(&mut self, device_id: &str, doc_id: &str) -> Result<Option<KnownRow>, StorageError> {
        let Some(mut r) = self.opt_row(KNOWN, &[device_id.into(), doc_id.into()])? else { return Ok(None) };
        Ok(Some(KnownRow { heads: r.bytes(0)?, pending: r.opt_bytes(1)?.zip(r.opt_int(2)?) }))
    }

    fn set_known(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.conn.execute(SET_KNOWN, &[device_id.into(), doc_id.into(), heads.into()])?;
        Ok(())
    }

    fn promote_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError> {
        self.conn.execute(PROMOTE_PENDING, &[device_id.into(), doc_id.into(), heads.into()])?;
        Ok(())
    }

    fn set_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8], cursor: i64) -> Result<(), StorageError> {
        let none: &[u8] = &[];
        self.conn.execute(SET_PENDING, &[device_id.into(), doc_id.into(), none.into(), heads.into(), cursor.into()])?;
        Ok(())
    }

    fn sealed_docs(&mut self, doc_ids: &[&str], for_update: bool) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        if !Self::batched() {
            let mut ids = doc_ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            return self.each_found(&ids, |tx, id| tx.sealed_doc(id, for_update));
        }
        self.read(Ahead::SealedDocs(doc_ids, for_update))?.into_iter().map(|mut r| Ok((r.text(0)?, r.bytes(1)?))).collect()
    }

    fn sealed_fulls(&mut self, doc_ids: &[&str]) -> Result<Vec<(String, SealedFull)>, StorageError> {
        if !Self::batched() {
            return self.each_found(doc_ids, |tx, id| tx.sealed_full(id));
        }
        let rows = self.read(Ahead::SealedFulls(doc_ids))?;
        rows.into_iter().map(|mut r| Ok((r.text(0)?, SealedFull { message: r.bytes(1)?, heads: r.bytes(2)? }))).collect()
    }

    fn store_sealed_docs(&mut self, docs: &[SealedDocIn<'_>]) -> Result<(), StorageError> {
        if !Self::batched() {
            for d in docs {
                let full = SealedFull { message: d.full_message.to_vec(), heads: d.heads.to_vec() };
                self.put_sealed_doc(d.doc_id, &d.place, d.sealed, &full)?;
            }
            return Ok(());
        }
        if docs.is_empty() {
            return Ok(());
        }
        self.conn.lock_change_log()?;
        let ids: Vec<&str> = docs.iter().map(|d| d.doc_id).collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d.place.kind).collect();
        let rws: Vec<i64> = docs.iter().map(|d| i64::from(d.place.rw)).collect();
        let rts: Vec<i64> = docs.iter().map(|d| i64::from(d.place.rt)).collect();
        let sealed: Vec<&[u8]> = docs.iter().map(|d| d.sealed).collect();
        let statuses: Vec<Option<&str>> = docs.iter().map(|d| d.place.status).collect();
        let receipts: Vec<Option<&str>> = docs.iter().map(|d| d.place.receipt).collect();
        let fulls: Vec<&[u8]> = docs.iter().map(|d| d.full_message).collect();
        let heads: Vec<&[u8]> = docs.iter().map(|d| d.heads).collect();
        self.conn.send(
            PUT_DOCS_UNNEST,
            &[
                Arg::Texts(&ids),
                Arg::Texts(&kinds),
                Arg::Ints(&rws),
                Arg::Ints(&rts),
                Arg::Blobs(&sealed),
                Arg::OptTexts(&statuses),
                Arg::OptTexts(&receipts),
                Arg::Blobs(&fulls),
                Arg::Blobs(&heads),
            ],
        )
    }

    fn known_many(&mut self, device_id: &str, doc_ids: &[&str]) -> Result<Vec<(String, KnownRow)>, StorageError> {
        if !Self::batched() {
            return self.each_found(doc_ids, |tx, id| tx.known(device_id, id));
        }
        let rows = self.read(Ahead::Known(device_id, doc_ids))?;
        rows.into_iter()
            .map(|mut r| Ok((r.text(0)?, KnownRow { heads: r.bytes(1)?, pending: r.opt_bytes(2)?.zip(r.opt_int(3)?) })))
            .collect()
    }

    fn set_known_many(&mut self, device_id: &str, rows: &[(&str, &[u8])]) -> Result<(), StorageError> {
        self.heads_of_many(device_id, rows, SET_KNOWN_UNNEST, &[], |tx, doc, heads| tx.set_known(device_id, doc, heads))
    }

    fn promote_pending_many(&mut self, device_id: &str, rows: &[(&str, &[u8])]) -> Result<(), StorageError> {
        self.heads_of_many(device_id, rows, PROMOTE_UNNEST, &[], |tx, doc, heads| tx.promote_pending(device_id, doc, heads))
    }

    fn set_pending_many(&mut self, device_id: &str, rows: &[(&str, &[u8])], cursor: i64) -> Result<(), StorageError> {
        let none: &[u8] = &[];
        self.heads_of_many(device_id, rows, SET_PENDING_UNNEST, &[none.into(), cursor.into()], |tx, doc, heads| {
            tx.set_pending(device_id, doc, heads, cursor)
        })
    }

    fn erased_among(&mut self, doc_ids: &[&str]) -> Result<Vec<String>, StorageError> {
        if !Self::batched() {
            return Ok(self.each_found(doc_ids, |tx, id| tx.erased(id))?.into_iter().map(|(id, _)| id).collect());
        }
        self.read(Ahead::Erased(doc_ids))?.into_iter().map(|mut r| r.text(0)).collect()
    }

    fn docs_by_receipts(&mut self, receipts: &[&str]) -> Result<Vec<(String, String)>, StorageError> {
        if !Self::batched() {
            return self.each_found(receipts, |tx, code| tx.doc_by_receipt(code));
        }
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.conn.query(DOCS_BY_RECEIPTS, &[Arg::Texts(receipts)])?;
        rows.into_iter().map(|mut r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    fn audit_many(&mut self, at: i64, entries: &[(&str, &str, Option<&str>)]) -> Result<(), StorageError> {
        if !Self::batched() {
            return entries.iter().try_for_each(|(actor, action, doc)| self.audit(at, actor, action, *doc));
        }
        if entries.is_empty() {
            return Ok(());
        }
        let actors: Vec<&str> = entries.iter().map(|e| e.0).collect();
        let actions: Vec<&str> = entries.iter().map(|e| e.1).collect();
        let docs: Vec<Option<&str>> = entries.iter().map(|e| e.2).collect();
        self.conn.send(AUDIT_UNNEST, &[at.into(), Arg::Texts(&actors), Arg::Texts(&actions), Arg::OptTexts(&docs)])
    }

    fn forget_pending_heads(&mut self) -> Result<(), StorageError> {
        self.conn.execute(FORGET_PENDING, &[])?;
        Ok(())
    }

    fn audit_export(&mut self, from: i64, until: i64, limit: u32) -> Result<Vec<(AuditEntry, Option<String>)>, StorageError> {
        let rows = self.conn.query(AUDIT_EXPORT, &[from.into(), until.into(), limit.into()])?;
        rows.into_iter()
            .map(|mut r| {
                let receipt = r.opt_text(4)?;
                Ok((audit_row(r)?, receipt))
            })
            .collect()
    }

    fn mark_erased(&mut self, e: &ErasedDoc) -> Result<bool, StorageError> {
        let n = self
            .conn
            .execute(MARK_ERASED, &[(&e.doc_id).into(), (&e.kind).into(), e.erased_at.into(), (&e.reason).into(), (&e.erased_by).into()])?;
        Ok(n > 0)
    }

    fn erased(&mut self, doc_id: &str) -> Result<Option<ErasedDoc>, StorageError> {
        self.opt_row(ERASED, &[doc_id.into()])?.map(erased_row).transpose()
    }

    fn erased_all(&mut self) -> Result<Vec<ErasedDoc>, StorageError> {
        self.conn.query(ERASED_ALL, &[])?.into_iter().map(erased_row).collect()
    }

    fn forget_known(&mut self, doc_id: &str) -> Result<(), StorageError> {
        self.conn.execute(FORGET_KNOWN, &[doc_id.into()])?;
        Ok(())
    }

    fn drop_exchanges(&mut self) -> Result<(), StorageError> {
        self.conn.execute(DROP_EXCHANGES, &[])?;
        Ok(())
    }

    fn audit(&mut self, at: i64, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), StorageError> {
        self.conn.send(AUDIT, &[at.into(), actor.into(), action.into(), doc_id.into()])
    }

    fn audit_tail(&mut self, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = self.conn.query(AUDIT_TAIL, &[limit.into()])?;
        rows.into_iter().map(audit_row).collect()
    }

    fn insert_officer(&mut self, o: &Officer, created_at: i64) -> Result<(), StorageError> {
        self.conn
            .execute(INSERT_OFFICER, &[(&o.id).into(), (&o.name).into(), o.rw.into(), o.rt.into(), o.active.into(), created_at.into()])?;
        Ok(())
    }

    fn officers(&mut self) -> Result<Vec<Officer>, StorageError> {
        self.conn.query(OFFICERS, &[])?.into_iter().map(officer_row).collect()
    }

    fn officer(&mut self, id: &str) -> Result<Option<Officer>, StorageError> {
        self.opt_row(OFFICER, &[id.into()])?.map(officer_row).transpose()
    }

    fn deactivate_officer(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.conn.execute(DEACTIVATE_OFFICER, &[id.into()])? > 0)
    }

    fn insert_enrol_code(&mut self, code_hash: &[u8], officer_id: &str, expires_at: i64) -> Result<(), StorageError> {
        self.conn.execute(INSERT_ENROL_CODE, &[code_hash.into(), officer_id.into(), expires_at.into()])?;
        Ok(())
    }

    fn enrol_code(&mut self, code_hash: &[u8]) -> Result<Option<EnrolCode>, StorageError> {
        let sql = self.locked(ENROL_CODE, true);
        self.opt_row(sql, &[code_hash.into()])?
            .map(|mut r| Ok(EnrolCode { officer_id: r.text(0)?, expires_at: r.int(1)?, used_at: r.opt_int(2)? }))
            .transpose()
    }

    fn use_enrol_code(&mut self, code_hash: &[u8], at: i64) -> Result<bool, StorageError> {
        Ok(self.conn.execute(USE_ENROL_CODE, &[code_hash.into(), at.into()])? > 0)
    }

    fn next_prefix_index(&mut self) -> Result<u32, StorageError> {
        let n = self.one_row(NEXT_PREFIX_INDEX, &[])?.int(0)?;
        u32::try_from(n).map_err(|_| mismatch(0))
    }

    fn device_exists(&mut self, id: &str) -> Result<bool, StorageError> {
        self.one_row(DEVICE_EXISTS, &[id.into()])?.bool(0)
    }

    fn insert_device(&mut self, d: &NewDevice<'_>) -> Result<(), StorageError> {
        if i32::try_from(d.prefix_index).is_err() {
            return Err(StorageError::Internal);
        }
        self.conn.execute(
            INSERT_DEVICE,
            &[d.id.into(), d.officer_id.into(), d.name.into(), d.token_hash.into(), d.prefix_index.into(), d.created_at.into()],
        )?;
        Ok(())
    }

    fn bind_actor(&mut self, actor_hex: &str, device_id: &str) -> Result<bool, StorageError> {
        Ok(self.conn.execute(BIND_ACTOR, &[actor_hex.into(), device_id.into()])? == 1)
    }

    fn device_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<DeviceRow>, StorageError> {
        self.opt_row(DEVICE_BY_TOKEN_HASH, &[token_hash.into()])?.map(device_row).transpose()
    }

    fn device_with_actors_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<(DeviceRow, Vec<String>)>, StorageError> {
        let mut device = None;
        let mut actors = Vec::new();
        for mut r in self.conn.query(DEVICE_WITH_ACTORS_BY_TOKEN_HASH, &[token_hash.into()])? {
            if let Some(a) = r.opt_text(11)? {
                actors.push(a);
            }
            if device.is_none() {
                device = Some(device_row(r)?);
            }
        }
        Ok(device.map(|d| (d, actors)))
    }

    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StorageError> {
        self.opt_row(DEVICE, &[id.into()])?.map(device_row).transpose()
    }

    fn device_actors(&mut self, device_id: &str) -> Result<Vec<String>, StorageError> {
        self.texts(DEVICE_ACTORS, &[device_id.into()])
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>, StorageError> {
        self.conn.query(DEVICES, &[])?.into_iter().map(device_row).collect()
    }

    fn revoke_devices_of(&mut self, officer_id: &str, at: i64) -> Result<(), StorageError> {
        self.conn.execute(REVOKE_DEVICES_OF, &[officer_id.into(), at.into()])?;
        Ok(())
    }

    fn revoke_device(&mut self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        Ok(self.conn.execute(REVOKE_DEVICE, &[device_id.into(), at.into()])? > 0)
    }

    fn touch_device(&mut self, device_id: &str, at: i64, backlog: Option<Backlog>) -> Result<(), StorageError> {
        let b = backlog.map(|b| (b.requests, b.complaints, b.refused));
        self.conn.send(TOUCH_DEVICE, &[device_id.into(), at.into(), b.map(|b| b.0).into(), b.map(|b| b.1).into(), b.map(|b| b.2).into()])
    }

    fn exchange(&mut self, device_id: &str) -> Result<Option<ExchangeRow>, StorageError> {
        self.read(Ahead::Exchange(device_id))?
            .into_iter()
            .next()
            .map(|mut r| Ok(ExchangeRow { key: r.text(0)?, upload: r.bytes(1)?, answer: r.opt_bytes(2)?, at: r.int(3)? }))
            .transpose()
    }

    fn put_exchange(&mut self, device_id: &str, row: &ExchangeRow) -> Result<(), StorageError> {
        self.conn
            .send(PUT_EXCHANGE, &[device_id.into(), (&row.key).into(), (&row.upload).into(), row.answer.as_ref().into(), row.at.into()])
    }

    fn insert_staff(&mut self, s: &StaffAccount, token_hash: &[u8], created_at: i64) -> Result<(), StorageError> {
        self.conn.execute(INSERT_STAFF, &[(&s.id).into(), (&s.name).into(), token_hash.into(), s.active.into(), created_at.into()])?;
        Ok(())
    }

    fn staff_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<StaffAccount>, StorageError> {
        self.opt_row(STAFF_BY_TOKEN_HASH, &[token_hash.into()])?.map(staff_row).transpose()
    }

    fn staff_accounts(&mut self) -> Result<Vec<StaffAccount>, StorageError> {
        self.conn.query(STAFF_ACCOUNTS, &[])?.into_iter().map(staff_row).collect()
    }

    fn deactivate_staff(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.conn.execute(DEACTIVATE_STAFF, &[id.into()])? > 0)
    }

    // ---- Staff dashboard (web, ADR 0012) ----

    fn staff_profile(&mut self, staff_id: &str) -> Result<Option<StaffProfile>, StorageError> {
        self.opt_row(STAFF_PROFILE, &[staff_id.into()])?.map(profile_row).transpose()
    }

    fn staff_profile_by_username(&mut self, username: &str) -> Result<Option<StaffProfile>, StorageError> {
        self.opt_row(STAFF_PROFILE_BY_USERNAME, &[username.into()])?.map(profile_row).transpose()
    }

    fn put_staff_profile(&mut self, p: &StaffProfile) -> Result<(), StorageError> {
        self.conn.execute(
            PUT_STAFF_PROFILE,
            &[(&p.staff_id).into(), (&p.role).into(), p.username.as_ref().into(), p.password_hash.as_ref().into()],
        )?;
        Ok(())
    }

    fn insert_web_session(&mut self, w: &WebSession) -> Result<(), StorageError> {
        self.conn.execute(
            INSERT_WEB_SESSION,
            &[(&w.id_hash).into(), (&w.staff_id).into(), (&w.csrf).into(), w.created_at.into(), w.last_seen.into()],
        )?;
        Ok(())
    }

    fn web_session(&mut self, id_hash: &[u8]) -> Result<Option<WebSession>, StorageError> {
        self.opt_row(WEB_SESSION, &[id_hash.into()])?
            .map(|mut r| {
                Ok(WebSession { id_hash: r.bytes(0)?, staff_id: r.text(1)?, csrf: r.text(2)?, created_at: r.int(3)?, last_seen: r.int(4)? })
            })
            .transpose()
    }

    fn touch_web_session(&mut self, id_hash: &[u8], at: i64) -> Result<(), StorageError> {
        self.conn.execute(TOUCH_WEB_SESSION, &[id_hash.into(), at.into()])?;
        Ok(())
    }

    fn delete_web_session(&mut self, id_hash: &[u8]) -> Result<(), StorageError> {
        self.conn.execute(DELETE_WEB_SESSION, &[id_hash.into()])?;
        Ok(())
    }

    fn delete_web_sessions(&mut self, staff_id: Option<&str>, idle_before: i64) -> Result<(), StorageError> {
        self.conn.execute(DELETE_WEB_SESSIONS, &[staff_id.into(), idle_before.into()])?;
        Ok(())
    }

    fn rate_hit(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        self.conn.execute(RATE_HIT, &[key.into(), now.into(), (now - window_ms).into()])?;
        let hits = self.one_row(RATE_HITS, &[key.into()])?.int(0)?;
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }

    fn rate_count(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError> {
        let hits = match self.opt_row(RATE_COUNT, &[key.into(), (now - window_ms).into()])? {
            Some(mut r) => r.int(0)?,
            None => 0,
        };
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }

    fn rate_clear(&mut self, key: &str) -> Result<(), StorageError> {
        self.conn.execute(RATE_CLEAR, &[key.into()])?;
        Ok(())
    }

    fn seen_mark(&mut self, staff_id: &str) -> Result<Option<i64>, StorageError> {
        self.opt_row(SEEN_MARK, &[staff_id.into()])?.map(|mut r| r.int(0)).transpose()
    }

    fn set_seen_mark(&mut self, staff_id: &str, seq: i64) -> Result<(), StorageError> {
        self.conn.execute(SET_SEEN_MARK, &[staff_id.into(), seq.into()])?;
        Ok(())
    }

    fn docs_after(&mut self, kind: &str, after: i64, limit: u32) -> Result<Vec<(i64, String)>, StorageError> {
        let rows = self.conn.query(DOCS_AFTER, &[kind.into(), after.into(), limit.into()])?;
        rows.into_iter().map(|mut r| Ok((r.int(0)?, r.text(1)?))).collect()
    }

    fn put_office_index(&mut self, row: &OfficeIndexRow) -> Result<(), StorageError> {
        self.conn.execute(
            PUT_OFFICE_INDEX,
            &[
                (&row.doc_id).into(),
                row.seq.into(),
                (&row.status).into(),
                row.rw.into(),
                row.rt.into(),
                (&row.receipt).into(),
                (&row.service).into(),
                row.created_at.into(),
                (&row.officer_id).into(),
            ],
        )?;
        self.conn.execute(PUT_OFFICE_ROW, &[(&row.doc_id).into(), (&row.sealed_row).into()])?;
        self.conn.execute(DELETE_OFFICE_TAGS, &[(&row.doc_id).into()])?;
        for t in &row.tags {
            self.conn.execute(INSERT_OFFICE_TAG, &[(*t).into(), (&row.doc_id).into()])?;
        }
        Ok(())
    }

    fn office_rows(&mut self, q: &OfficeQuery, offset: u32, limit: u32) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let mut w = web_sql::office_where(q);
        let l = w.arg(WebArg::Int(limit.into()));
        let o = w.arg(WebArg::Int(offset.into()));
        let sql = format!(
            "SELECT i.doc_id, r.sealed_row{} JOIN office_rows r ON r.doc_id = i.doc_id{} ORDER BY i.seq DESC LIMIT {l} OFFSET {o}",
            web_sql::OFFICE_FROM,
            w.sql()
        );
        let rows = self.conn.query(&sql, &w.args())?;
        rows.into_iter().map(|mut r| Ok((r.text(0)?, r.bytes(1)?))).collect()
    }

    fn office_count(&mut self, q: &OfficeQuery) -> Result<u64, StorageError> {
        let w = web_sql::office_where(q);
        let sql = format!("SELECT count(*){}{}", web_sql::OFFICE_FROM, w.sql());
        Ok(u64::try_from(self.one_row(&sql, &w.args())?.int(0)?).unwrap_or(0))
    }

    fn status_counts(&mut self, kind: &str) -> Result<Vec<(String, u64)>, StorageError> {
        let rows = self.conn.query(STATUS_COUNTS, &[kind.into()])?;
        rows.into_iter().map(|mut r| Ok((r.text(0)?, u64::try_from(r.int(1)?).unwrap_or(0)))).collect()
    }

    fn audit_query(&mut self, q: &AuditFilter, offset: u32, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let mut w = web_sql::audit_where(q);
        let l = w.arg(WebArg::Int(limit.into()));
        let o = w.arg(WebArg::Int(offset.into()));
        let sql = format!("SELECT at, actor, action, doc_id FROM audit{} ORDER BY id DESC LIMIT {l} OFFSET {o}", w.sql());
        let rows = self.conn.query(&sql, &w.args())?;
        rows.into_iter().map(audit_row).collect()
    }

    // ---- Access requests and key rotation (ADR 0015).

    fn put_doc_tags(&mut self, doc_id: &str, tags: &[i64]) -> Result<(), StorageError> {
        self.conn.execute(DELETE_OFFICE_TAGS, &[doc_id.into()])?;
        for t in tags {
            self.conn.execute(INSERT_OFFICE_TAG, &[(*t).into(), doc_id.into()])?;
        }
        Ok(())
    }

    fn docs_with_tag(&mut self, tag: i64) -> Result<Vec<(String, String)>, StorageError> {
        let rows = self.conn.query(DOCS_WITH_TAG, &[tag.into()])?;
        rows.into_iter().map(|mut r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    fn sealed_docs_after(&mut self, after_id: &str, limit: u32) -> Result<Vec<SealedDocRow>, StorageError> {
        let sql = self.locked(SEALED_DOCS_AFTER, true);
        let rows = self.conn.query(sql, &[after_id.into(), limit.into()])?;
        rows.into_iter().map(|mut r| Ok(SealedDocRow { doc_id: r.text(0)?, sealed: r.bytes(1)?, full_message: r.opt_bytes(2)? })).collect()
    }

    fn reseal_doc(&mut self, doc_id: &str, sealed: &[u8], full_message: Option<&[u8]>) -> Result<(), StorageError> {
        self.conn.execute(RESEAL_DOC, &[doc_id.into(), sealed.into(), full_message.into()])?;
        Ok(())
    }

    fn exchange_devices(&mut self) -> Result<Vec<String>, StorageError> {
        self.texts(EXCHANGE_DEVICES, &[])
    }

    fn clear_office_index(&mut self) -> Result<(), StorageError> {
        for sql in CLEAR_OFFICE_INDEX {
            self.conn.execute(sql, &[])?;
        }
        Ok(())
    }

    fn snapshot_reads(&mut self) -> Result<(), StorageError> {
        if C::DIALECT == Dialect::Postgres {
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[])?;
        }
        Ok(())
    }

    fn table_rows(&mut self, table: &str, offset: u64, limit: u32) -> Result<Vec<Row>, StorageError> {
        let (table, order) = listed_table(table)?;
        let offset = i64::try_from(offset).map_err(|_| StorageError::Internal)?;
        self.conn.query(&format!("SELECT * FROM {table} ORDER BY {order} LIMIT $1 OFFSET $2"), &[limit.into(), offset.into()])
    }

    fn insert_table_row(&mut self, table: &str, row: &Row) -> Result<(), StorageError> {
        self.settings.clear();
        let (table, _) = listed_table(table)?;
        let marks: Vec<String> = (1..=row.0.len()).map(|i| format!("${i}")).collect();
        let args: Vec<Arg<'_>> = row.0.iter().map(Arg::from).collect();
        self.conn.execute(&format!("INSERT INTO {table} VALUES ({})", marks.join(", ")), &args)?;
        Ok(())
    }

    fn clear_tables(&mut self) -> Result<(), StorageError> {
        self.settings.clear();
        for (table, _) in super::schema::TABLES.iter().rev() {
            self.conn.execute(&format!("DELETE FROM {table}"), &[])?;
        }
        Ok(())
    }

    fn restart_serials(&mut self) -> Result<(), StorageError> {
        // SQLite numbers after the highest row id (and `AUTOINCREMENT`'s record of it) by
        // itself; PostgreSQL's sequences are apart from the rows.
        if C::DIALECT == Dialect::Postgres {
            for (table, column) in super::schema::SERIALS {
                self.conn.query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
                    ),
                    &[],
                )?;
            }
        }
        Ok(())
    }
}

/// The schema's own name and key order of `table`, only for a table of [`super::schema::TABLES`]
/// (the names go into SQL text).
fn listed_table(table: &str) -> Result<(&'static str, &'static str), StorageError> {
    super::schema::TABLES.iter().find(|(t, _)| *t == table).copied().ok_or(StorageError::Internal)
}

impl<'a> From<&'a Value> for Arg<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Arg::Null,
            Value::Int(i) => Arg::Int(*i),
            Value::Bool(b) => Arg::Bool(*b),
            Value::Text(t) => Arg::Text(t),
            Value::Bytes(b) => Arg::Bytes(b),
        }
    }
}

// Access requests and key rotation (ADR 0015).
const DOCS_WITH_TAG: &str =
    "SELECT t.doc_id, d.kind FROM office_tags t JOIN docs d ON d.doc_id = t.doc_id WHERE t.tag = $1 ORDER BY t.doc_id";
/// Locked on PostgreSQL, so a hub instance writing one of these documents meanwhile waits
/// instead of having its write replaced by the re-sealed old version.
const SEALED_DOCS_AFTER: (&str, &str) =
    locking!("SELECT doc_id, sealed, full_message FROM docs WHERE doc_id > $1 ORDER BY doc_id LIMIT $2");
const RESEAL_DOC: &str = "UPDATE docs SET sealed = $2, full_message = $3 WHERE doc_id = $1";
const EXCHANGE_DEVICES: &str = "SELECT device_id FROM exchanges ORDER BY device_id";
const CLEAR_OFFICE_INDEX: [&str; 3] = ["DELETE FROM office_tags", "DELETE FROM office_rows", "DELETE FROM office_index"];

fn audit_row(mut r: Row) -> Result<AuditEntry, StorageError> {
    Ok(AuditEntry { at: r.int(0)?, actor: r.text(1)?, action: r.text(2)?, doc_id: r.opt_text(3)? })
}

fn profile_row(mut r: Row) -> Result<StaffProfile, StorageError> {
    Ok(StaffProfile { staff_id: r.text(0)?, role: r.text(1)?, username: r.opt_text(2)?, password_hash: r.opt_text(3)? })
}

// The staff dashboard's fixed queries (the ones built from a filter are in `web_sql`).
const STAFF_PROFILE: &str = "SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE staff_id = $1";
const STAFF_PROFILE_BY_USERNAME: &str = "SELECT staff_id, role, username, password_hash FROM staff_profiles WHERE username = $1";
const PUT_STAFF_PROFILE: &str = "INSERT INTO staff_profiles (staff_id, role, username, password_hash) VALUES ($1, $2, $3, $4)
 ON CONFLICT (staff_id) DO UPDATE SET role = excluded.role, username = excluded.username, password_hash = excluded.password_hash";
const INSERT_WEB_SESSION: &str = "INSERT INTO web_sessions (id_hash, staff_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)";
const WEB_SESSION: &str = "SELECT id_hash, staff_id, csrf, created_at, last_seen FROM web_sessions WHERE id_hash = $1";
const TOUCH_WEB_SESSION: &str = "UPDATE web_sessions SET last_seen = $2 WHERE id_hash = $1";
const DELETE_WEB_SESSION: &str = "DELETE FROM web_sessions WHERE id_hash = $1";
const DELETE_WEB_SESSIONS: &str = "DELETE FROM web_sessions WHERE staff_id = $1 OR last_seen < $2";
/// One hit on a key: a window older than `$3` (now − window) starts again at `$2` (now).
const RATE_HIT: &str = "INSERT INTO rate_limits (key, first_at, hits) VALUES ($1, $2, 1)
 ON CONFLICT (key) DO UPDATE SET
 hits = CASE WHEN rate_limits.first_at < $3 THEN 1 ELSE rate_limits.hits + 1 END,
 first_at = CASE WHEN rate_limits.first_at < $3 THEN excluded.first_at ELSE rate_limits.first_at END";
const RATE_HITS: &str = "SELECT CAST(hits AS BIGINT) FROM rate_limits WHERE key = $1";
const RATE_COUNT: &str = "SELECT CAST(hits AS BIGINT) FROM rate_limits WHERE key = $1 AND first_at >= $2";
const RATE_CLEAR: &str = "DELETE FROM rate_limits WHERE key = $1";
const SEEN_MARK: &str = "SELECT seq FROM seen_marks WHERE staff_id = $1";
const SET_SEEN_MARK: &str =
    "INSERT INTO seen_marks (staff_id, seq) VALUES ($1, $2) ON CONFLICT (staff_id) DO UPDATE SET seq = excluded.seq";
const DOCS_AFTER: &str = "SELECT seq, doc_id FROM docs WHERE kind = $1 AND seq > $2 ORDER BY seq LIMIT $3";
const PUT_OFFICE_INDEX: &str =
    "INSERT INTO office_index (doc_id, seq, status, rw, rt, receipt, service, created_at, officer_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
 ON CONFLICT (doc_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, rw = excluded.rw, rt = excluded.rt,
 receipt = excluded.receipt, service = excluded.service, created_at = excluded.created_at, officer_id = excluded.officer_id";
const PUT_OFFICE_ROW: &str =
    "INSERT INTO office_rows (doc_id, sealed_row) VALUES ($1, $2) ON CONFLICT (doc_id) DO UPDATE SET sealed_row = excluded.sealed_row";
const DELETE_OFFICE_TAGS: &str = "DELETE FROM office_tags WHERE doc_id = $1";
const INSERT_OFFICE_TAG: &str = "INSERT INTO office_tags (tag, doc_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const STATUS_COUNTS: &str = "SELECT coalesce(status, ''), count(*) FROM docs WHERE kind = $1 GROUP BY status";
