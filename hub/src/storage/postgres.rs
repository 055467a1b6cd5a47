//! The PostgreSQL back end, for several hub instances behind a load balancer sharing one
//! database. The async client (`tokio-postgres`) with a pool of connections
//! (`deadpool-postgres`, up to [`POOL_SIZE`]), each connection with its prepared statements
//! cached. The connections' sockets are driven by a small runtime of the back end's own (one
//! worker thread); the transaction itself runs on the thread that asked for it (a blocking
//! task of the hub, or the CLI), which waits on each query, so no thread is started per
//! transaction and the storage trait stays synchronous.
//!
//! Each transaction runs `READ COMMITTED` with explicit locks: a document being changed is
//! locked `FOR UPDATE`, and writers take one transaction-level advisory lock before appending
//! to the change log, so sequence numbers become visible in the order they were given out (a
//! device's cursor never skips a change committed late). Deadlocks, serialization failures and
//! unique-key races between instances are retried. Migrations run under a session advisory
//! lock, so instances starting together migrate once.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{ClientWrapper, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime as PoolRuntime};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use super::schema;
use super::sql::{Arg, Conn, Dialect, Row, SqlTx, Value};
use super::StorageError;
use super::{Backend, HubTx};

/// Statements this process sent to PostgreSQL in transactions (`BEGIN`, queries, locks,
/// `COMMIT`/`ROLLBACK`), each one round trip: the benchmark counts them per exchange.
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// How many statements (round trips) this process has sent to PostgreSQL in transactions so
/// far, over every back end it opened.
pub fn statements_sent() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

fn counted() {
    STATEMENTS.fetch_add(1, Ordering::Relaxed);
}

pub use super::schema::SCHEMA_VERSION;

/// Connections in the pool, at most.
pub const POOL_SIZE: usize = 16;

/// Advisory lock keys (arbitrary, fixed).
const LOCK_MIGRATE: i64 = 0x4a45_4d50_0001;
const LOCK_CHANGE_LOG: i64 = 0x4a45_4d50_0002;

/// How often a transaction is retried after a deadlock or a unique-key race.
const RETRIES: usize = 5;

/// How long a transaction waits for a free connection, or for a new one to open.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// The PostgreSQL back end.
pub struct PgBackend {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for PgBackend {
    /// Closes the connections and lets the runtime go without waiting for it (waiting is not
    /// allowed on a thread that runs async tasks).
    fn drop(&mut self) {
        self.pool.close();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Polls `fut` on this thread until it is done, parking between polls. The futures of the
/// client only talk to their connection's task (on the back end's runtime) through channels,
/// so they can be waited on from any thread, including one that runs async tasks (the CLI).
fn park_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut fut = std::pin::pin!(fut);
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

impl PgBackend {
    /// Connects to `url` (e.g. `postgres://jemput@127.0.0.1/jemput`) and brings the schema up to
    /// date (safe when several instances start at once).
    pub fn connect(url: &str) -> Result<PgBackend, StorageError> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| StorageError::Config("alamat PostgreSQL tidak valid".into()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("jemput-pg")
            .enable_all()
            .build()
            .map_err(|e| StorageError::Config(format!("runtime PostgreSQL tidak dapat dimulai: {e}")))?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(PoolRuntime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| StorageError::Config(format!("kumpulan koneksi PostgreSQL: {e}")))?;
        let backend = PgBackend { pool, runtime: Some(runtime) };
        backend.migrate()?;
        Ok(backend)
    }

    /// Runs `f` with the back end's runtime as the current one (new connections start their
    /// task there).
    fn entered<T>(&self, f: impl FnOnce() -> T) -> T {
        let _enter = self.runtime.as_ref().map(|rt| rt.enter());
        f()
    }

    fn checkout(&self) -> Result<Object, deadpool_postgres::PoolError> {
        self.entered(|| park_on(self.pool.get()))
    }

    fn migrate(&self) -> Result<(), StorageError> {
        let c = self.checkout().map_err(|e| StorageError::Config(format!("tidak dapat terhubung ke PostgreSQL: {e}")))?;
        park_on(async {
            c.execute("SELECT pg_advisory_lock($1)", &[&LOCK_MIGRATE]).await?;
            let result = migrate_locked(&c).await;
            c.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_MIGRATE]).await?;
            result
        })
    }

    /// The schema version of the connected database.
    pub fn schema_version(&self) -> Result<usize, StorageError> {
        let c = self.checkout().map_err(|e| StorageError::Config(format!("PostgreSQL: {e}")))?;
        let v: i32 = park_on(c.query_one("SELECT version FROM jemput_schema", &[]))?.get(0);
        Ok(v as usize)
    }
}

/// Brings the schema up to date, in one transaction, holding the migration lock.
async fn migrate_locked(c: &tokio_postgres::Client) -> Result<(), StorageError> {
    c.batch_execute("CREATE TABLE IF NOT EXISTS jemput_schema (version INTEGER NOT NULL, unified BOOLEAN); BEGIN").await?;
    let result = async {
        // A database from before the one history: its versions were one behind SQLite's.
        c.batch_execute(
            "ALTER TABLE jemput_schema ADD COLUMN IF NOT EXISTS unified BOOLEAN;
             UPDATE jemput_schema SET version = CASE WHEN version >= 1 THEN version + 1 ELSE version END, unified = TRUE
             WHERE unified IS NOT TRUE",
        )
        .await?;
        let version = match c.query_opt("SELECT version FROM jemput_schema", &[]).await? {
            Some(r) => usize::try_from(r.get::<_, i32>(0)).unwrap_or(0),
            None => {
                c.execute("INSERT INTO jemput_schema (version, unified) VALUES (0, TRUE)", &[]).await?;
                0
            }
        };
        if version > SCHEMA_VERSION {
            return Err(schema::too_new(version));
        }
        for v in version + 1..=SCHEMA_VERSION {
            c.batch_execute(&schema::migration(Dialect::Postgres, v).ok_or(StorageError::Internal)?).await?;
            c.execute("UPDATE jemput_schema SET version = $1", &[&(v as i32)]).await?;
        }
        c.batch_execute("COMMIT").await?;
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = c.batch_execute("ROLLBACK").await;
    }
    result
}

/// A pooled connection on loan to one transaction. A connection left inside a transaction
/// (the closure panicked, or `ROLLBACK` failed) is closed rather than handed to the next.
struct Loan {
    conn: Option<Object>,
    in_transaction: bool,
}

impl Drop for Loan {
    fn drop(&mut self) {
        if self.in_transaction {
            if let Some(c) = self.conn.take() {
                drop(Object::take(c));
            }
        }
    }
}

impl Backend for PgBackend {
    fn transaction(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        let conn = self.checkout().map_err(|e| {
            tracing::error!(error = %e, "kumpulan koneksi PostgreSQL habis");
            StorageError::Busy
        })?;
        let mut loan = Loan { conn: Some(conn), in_transaction: false };
        let client: &ClientWrapper = loan.conn.as_deref().ok_or(StorageError::Internal)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            loan.in_transaction = true;
            counted();
            park_on(client.batch_execute("BEGIN"))?;
            let mut t = SqlTx::new(PgConn { client, change_log_locked: false });
            let result = f(&mut t).and_then(|()| {
                counted();
                park_on(client.batch_execute("COMMIT")).map_err(StorageError::from)
            });
            if result.is_err() {
                counted();
                if park_on(client.batch_execute("ROLLBACK")).is_err() {
                    return result;
                }
            }
            loan.in_transaction = false;
            match result {
                Err(e) if attempt < RETRIES && e.is_transient() => {
                    tracing::info!(attempt, "transaksi PostgreSQL diulang setelah bentrok");
                    continue;
                }
                other => return other,
            }
        }
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn scrub(&self) -> Result<(), StorageError> {
        let c = self.checkout().map_err(|e| StorageError::Config(format!("PostgreSQL: {e}")))?;
        // Dead row versions stay in the table files until they are rewritten. (The server's
        // own WAL segments are recycled on its schedule; ADR 0013 names that limit.)
        park_on(c.batch_execute("VACUUM (FULL) docs, office_rows, office_tags, device_known, exchanges"))?;
        Ok(())
    }
}

/// An open PostgreSQL transaction, for the shared queries.
struct PgConn<'c> {
    /// The connection, with its cache of prepared statements (one round trip per query once
    /// a statement is prepared).
    client: &'c ClientWrapper,
    change_log_locked: bool,
}

impl Conn for PgConn<'_> {
    const DIALECT: Dialect = Dialect::Postgres;

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StorageError> {
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        counted();
        let rows = park_on(async {
            let st = self.client.prepare_cached(sql).await?;
            self.client.query(&st, &params).await
        })?;
        rows.iter().map(|r| Ok(Row((0..r.len()).map(|i| r.try_get::<_, Value>(i)).collect::<Result<_, _>>()?))).collect()
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StorageError> {
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        counted();
        Ok(park_on(async {
            let st = self.client.prepare_cached(sql).await?;
            self.client.execute(&st, &params).await
        })?)
    }

    fn lock_change_log(&mut self) -> Result<(), StorageError> {
        if !self.change_log_locked {
            counted();
            park_on(async {
                let st = self.client.prepare_cached("SELECT pg_advisory_xact_lock($1)").await?;
                self.client.execute(&st, &[&LOCK_CHANGE_LOG]).await
            })?;
            self.change_log_locked = true;
        }
        Ok(())
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            // A boolean as SQLite keeps it (a restore from a backup file).
            Arg::Int(v) if *ty == Type::BOOL => (v != 0).to_sql_checked(ty, out),
            Arg::Int(v) if *ty == Type::INT2 => i16::try_from(v)?.to_sql_checked(ty, out),
            Arg::Int(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql_checked(ty, out),
            Arg::Int(v) => v.to_sql_checked(ty, out),
            Arg::Bool(b) => b.to_sql_checked(ty, out),
            Arg::Text(s) => s.to_sql_checked(ty, out),
            Arg::Bytes(b) => b.to_sql_checked(ty, out),
            Arg::Texts(v) => v.to_sql_checked(ty, out),
            Arg::OptTexts(v) => v.to_sql_checked(ty, out),
            Arg::Blobs(v) => v.to_sql_checked(ty, out),
            Arg::Ints(v) => v.to_sql_checked(ty, out),
        }
    }

    /// Any parameter type: the value checks it against its own kind when it is written.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(if *ty == Type::INT2 {
            Value::Int(i16::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT4 {
            Value::Int(i32::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT8 {
            Value::Int(i64::from_sql(ty, raw)?)
        } else if *ty == Type::BOOL {
            Value::Bool(bool::from_sql(ty, raw)?)
        } else if *ty == Type::BYTEA {
            Value::Bytes(Vec::<u8>::from_sql(ty, raw)?)
        } else {
            Value::Text(String::from_sql(ty, raw)?)
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT2, Type::INT4, Type::INT8, Type::BOOL, Type::BYTEA].contains(ty) || <String as FromSql>::accepts(ty)
    }
}
