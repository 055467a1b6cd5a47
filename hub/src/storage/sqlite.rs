//! The SQLite back end (the default: one file, nothing to install), in WAL mode with
//! `synchronous=FULL`, so a committed transaction survives the hub being killed. One writer
//! connection, every write transaction `IMMEDIATE` (writers never meet half-way), and a small
//! pool of reader connections (`query_only`): a read transaction sees the last commit and
//! never waits for a writer, which WAL allows. The queries are the shared ones of
//! [`super::sql`]; the schema follows the one history of [`super::schema`], counted in
//! `user_version`.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement, Transaction, TransactionBehavior};

use super::schema;
use super::sql::{Arg, Conn, Dialect, Row, SqlTx, Value};
use super::StorageError;
use super::{Backend, HubTx};

pub use super::schema::SCHEMA_VERSION;

/// Reader connections, at most: reads beyond them wait for one (on two cores, more readers
/// only take CPU time from the writer).
const READERS: usize = 4;

/// Brings a connection's schema up to date, one version per transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    loop {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        if version >= SCHEMA_VERSION {
            if version > SCHEMA_VERSION {
                return Err(schema::too_new(version));
            }
            return Ok(());
        }
        let sql = schema::migration(Dialect::Sqlite, version + 1).ok_or(StorageError::Internal)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&sql)?;
        tx.pragma_update(None, "user_version", (version + 1) as i64)?;
        tx.commit()?;
    }
}

/// The SQLite back end.
pub struct SqliteBackend {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Readers>,
    reader_free: Condvar,
}

/// The reader connections: idle ones, and how many are open (idle or in use).
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

fn configure(conn: &Connection) -> Result<(), StorageError> {
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted and overwritten rows are zeroed, not left in free pages (erasure, ADR 0013).
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Plans fixed when a statement is prepared, whatever values are bound later (the query
    // planner stability guarantee). Without it, SQLite marks a parameter whose value might
    // change the plan (an equality's estimate, a partial index, a range) and compiles the
    // cached statement again at every new binding: the device lookup of every exchange, its
    // change-log read and the receipt check were recompiled each time, about a tenth of the hub
    // process's instructions in scenario 8 (callgrind). Every query here is an equality or a
    // range on an indexed column, whose plan no value changes.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

impl SqliteBackend {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteBackend, StorageError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(SqliteBackend {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Readers { idle: Vec::new(), open: 0 }),
            reader_free: Condvar::new(),
        })
    }

    /// An idle reader connection, a new one while there are fewer than [`READERS`], or else
    /// the next one given back.
    fn reader(&self) -> Result<Connection, StorageError> {
        let mut r = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = r.idle.pop() {
                return Ok(c);
            }
            if r.open < READERS {
                r.open += 1;
                break;
            }
            r = self.reader_free.wait(r).unwrap_or_else(|e| e.into_inner());
        }
        drop(r);
        let opened = Connection::open(&self.path).map_err(StorageError::from).and_then(|conn| {
            configure(&conn)?;
            conn.pragma_update(None, "query_only", "ON")?;
            Ok(conn)
        });
        if opened.is_err() {
            self.give_back(None);
        }
        opened
    }

    /// Returns a reader connection to the pool (`None`: it was closed).
    fn give_back(&self, conn: Option<Connection>) {
        let mut r = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        match conn {
            Some(c) => r.idle.push(c),
            None => r.open -= 1,
        }
        self.reader_free.notify_one();
    }
}

impl Backend for SqliteBackend {
    fn transaction(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut t = SqlTx::new(LiteConn(tx));
        f(&mut t)?;
        t.conn.0.commit()?;
        Ok(())
    }

    /// A read on a reader connection of its own: a snapshot of the last commit, taken without
    /// the write lock, so it runs while a write transaction is open.
    fn read(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        let mut loan = ReaderLoan { backend: self, conn: Some(self.reader()?) };
        let conn = loan.conn.as_mut().ok_or(StorageError::Internal)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let mut t = SqlTx::new(LiteConn(tx));
        f(&mut t)?;
        t.conn.0.commit()?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn one_writer_at_a_time(&self) -> bool {
        true
    }

    fn scrub(&self) -> Result<(), StorageError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // Old page images of erased rows live on in the WAL until it is folded back.
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if busy != 0 {
            tracing::warn!("log tulis-depan SQLite belum dapat dikosongkan (ada pembaca); dicoba lagi pada penghapusan berikutnya");
        }
        Ok(())
    }
}

/// A reader connection on loan to one read; given back when the read ends, however it ends (a
/// connection left inside a transaction is closed rather than reused).
struct ReaderLoan<'b> {
    backend: &'b SqliteBackend,
    conn: Option<Connection>,
}

impl Drop for ReaderLoan<'_> {
    fn drop(&mut self) {
        self.backend.give_back(self.conn.take().filter(|c| c.is_autocommit()));
    }
}

/// An open SQLite transaction, for the shared queries.
struct LiteConn<'c>(Transaction<'c>);

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Arg::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(b))),
            Arg::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Arg::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            // Arrays are PostgreSQL's; the shared queries loop on SQLite instead.
            Arg::Texts(_) | Arg::OptTexts(_) | Arg::Blobs(_) | Arg::Ints(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure("SQLite tidak mengenal larik".into()))
            }
        })
    }
}

/// Binds `$n` to `args[n - 1]` (SQLite numbers named parameters in order of appearance, not
/// by their digits, so they are bound by name).
fn bind(st: &mut Statement<'_>, args: &[Arg<'_>]) -> Result<(), StorageError> {
    for i in 1..=st.parameter_count() {
        let arg = st
            .parameter_name(i)
            .and_then(|n| n.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| args.get(n.checked_sub(1)?))
            .copied()
            .ok_or(StorageError::Internal)?;
        st.raw_bind_parameter(i, arg)?;
    }
    Ok(())
}

/// A SQLite value as the shared queries read it.
pub(super) fn value(v: ValueRef<'_>) -> Result<Value, StorageError> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(std::str::from_utf8(t).map_err(|_| StorageError::Corrupt("teks bukan UTF-8"))?.to_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Real(_) => return Err(StorageError::Corrupt("kolom berjenis tak terduga")),
    })
}

impl Conn for LiteConn<'_> {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StorageError> {
        let mut st = self.0.prepare_cached(sql)?;
        bind(&mut st, args)?;
        let n = st.column_count();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Row((0..n).map(|i| value(r.get_ref(i)?)).collect::<Result<_, StorageError>>()?));
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StorageError> {
        let mut st = self.0.prepare_cached(sql)?;
        bind(&mut st, args)?;
        Ok(st.raw_execute()? as u64)
    }

    fn lock_change_log(&mut self) -> Result<(), StorageError> {
        // An IMMEDIATE transaction is the one writer already.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ExchangeRow;

    fn version(n: usize) -> String {
        schema::migration(Dialect::Sqlite, n).unwrap()
    }

    fn tables(c: &Connection) -> Vec<String> {
        let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    /// How often the exchange's receipt check and change-log read were compiled again over
    /// runs with new values, on a connection set up as the hub's (`hub`) or a bare one.
    fn recompiled(hub: bool) -> i32 {
        let mut c = Connection::open_in_memory().unwrap();
        if hub {
            configure(&c).unwrap();
        }
        migrate(&mut c).unwrap();
        let mut n = 0;
        for sql in [
            "SELECT doc_id FROM docs WHERE receipt = $1 ORDER BY doc_id LIMIT 1",
            "SELECT max(seq), doc_id FROM change_log WHERE seq > $1 AND rw = $2 AND rt BETWEEN $3 AND $4 GROUP BY doc_id",
        ] {
            for i in 0..4i64 {
                let mut st = c.prepare_cached(sql).unwrap();
                let args: Vec<Arg<'_>> = (0..st.parameter_count()).map(|_| Arg::Int(i % 3)).collect();
                bind(&mut st, &args).unwrap();
                let mut rows = st.raw_query();
                while rows.next().unwrap().is_some() {}
                drop(rows);
                n = n.max(st.get_status(rusqlite::StatementStatus::RePrepare));
            }
        }
        n
    }

    #[test]
    fn cached_statements_are_not_compiled_again_for_new_values() {
        assert!(recompiled(false) > 0, "a bare connection recompiles (what the setting is for)");
        assert_eq!(recompiled(true), 0);
    }

    #[test]
    fn the_backup_table_list_names_every_table_of_the_schema() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        let mut t: Vec<String> = tables(&c).into_iter().filter(|n| n != "sqlite_sequence").collect();
        t.sort();
        let mut listed: Vec<String> = schema::TABLES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(t, listed, "schema::TABLES must list every table, or a backup leaves one out");
        for (table, column) in schema::SERIALS {
            assert!(schema::TABLES.iter().any(|(n, _)| n == table), "{table}.{column}");
        }
    }

    #[test]
    fn migration_1_creates_the_first_schema() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(&version(1)).unwrap();
        let t = tables(&c);
        for name in ["meta", "officers", "enrol_codes", "devices", "device_actors", "docs", "change_log", "device_known", "audit"] {
            assert!(t.iter().any(|x| x == name), "missing {name}");
        }
    }

    #[test]
    fn migration_2_keeps_version_1_data_and_adds_staff_and_office_index() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(&version(1)).unwrap();
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
        c.execute_batch(&version(1)).unwrap();
        c.execute_batch(&version(2)).unwrap();
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
        let mut t = SqlTx::new(LiteConn(tx));
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
    fn a_newer_database_is_refused_not_damaged() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1).unwrap();
        assert!(matches!(migrate(&mut c), Err(StorageError::Config(_))));
    }

    #[test]
    fn a_read_does_not_wait_for_a_long_write_transaction() {
        use std::sync::{mpsc, Arc};
        use std::time::{Duration, Instant};
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(SqliteBackend::open(&dir.path().join("hub.db")).unwrap());
        b.transaction(&mut |tx| tx.set_meta("k", b"before")).unwrap();
        let (held_tx, held) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let writer = {
            let b = b.clone();
            std::thread::spawn(move || {
                let (held_tx, release) = (Mutex::new(held_tx), Mutex::new(release));
                b.transaction(&mut |tx| {
                    tx.set_meta("k", b"during")?;
                    held_tx.lock().unwrap().send(()).unwrap();
                    // The write transaction stays open until the reader is done (or 30 s).
                    let _ = release.lock().unwrap().recv_timeout(Duration::from_secs(30));
                    Ok(())
                })
            })
        };
        held.recv().unwrap();
        let started = Instant::now();
        let mut seen = None;
        b.read(&mut |tx| {
            seen = tx.meta("k")?;
            Ok(())
        })
        .unwrap();
        let waited = started.elapsed();
        release_tx.send(()).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(seen.as_deref(), Some(&b"before"[..]), "the read sees the last commit, not the open write");
        assert!(waited < Duration::from_secs(5), "the read waited {waited:?} for the writer");
        let mut after = None;
        b.read(&mut |tx| {
            after = tx.meta("k")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(after.as_deref(), Some(&b"during"[..]), "a read after the commit sees it");
    }

    #[test]
    fn a_read_transaction_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let b = SqliteBackend::open(&dir.path().join("hub.db")).unwrap();
        // More failed reads than there are reader connections: each gives its connection back.
        for _ in 0..=2 * READERS {
            assert!(b.read(&mut |tx| tx.set_meta("k", b"v")).is_err());
        }
        let mut read = None;
        b.read(&mut |tx| {
            read = Some(tx.meta("k")?);
            Ok(())
        })
        .unwrap();
        assert_eq!(read, Some(None));
        let mut seen = Some(Vec::new());
        b.transaction(&mut |tx| {
            seen = tx.meta("k")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, None, "nothing was written");
    }
}
