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
/// `COMMIT`/`ROLLBACK`).
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Times a transaction of this process waited for PostgreSQL: once for every batch of
/// statements sent together (a pipeline), and once for every statement prepared on a
/// connection (its first use there). The benchmark counts them per exchange.
static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);

/// How many statements this process has sent to PostgreSQL in transactions so far, over
/// every back end it opened.
pub fn statements_sent() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

/// How many round trips to PostgreSQL this process's transactions have waited for so far,
/// over every back end it opened (statements sent together count once).
pub fn round_trips() -> u64 {
    ROUND_TRIPS.load(Ordering::Relaxed)
}

pub use super::schema::SCHEMA_VERSION;

/// Connections in the pool, at most.
pub const POOL_SIZE: usize = 16;

/// The server setting each connection starts with (see [`PgBackend::connect`]).
const GENERIC_PLANS: &str = "-c plan_cache_mode=force_generic_plan";

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
        let mut config: tokio_postgres::Config = url.parse().map_err(|_| StorageError::Config("alamat PostgreSQL tidak valid".into()))?;
        // Every statement is prepared once per connection and planned once (a generic plan),
        // not again at each execution: under load PostgreSQL kept re-planning about half of an
        // exchange's statements, whose `ANY($1)` arrays made the generic plan look dearer, and
        // planning took 0.8 of the time executing did (benchmark scenario 9, ADR 0005). The
        // statements are index lookups whose plan does not depend on the values.
        let options = match config.get_options() {
            Some(given) => format!("{given} {GENERIC_PLANS}"),
            None => GENERIC_PLANS.to_string(),
        };
        config.options(&options);
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
            // `BEGIN` goes out with the transaction's first statement, `COMMIT` with its last
            // writes: no round trip of their own.
            let mut t = SqlTx::new(PgConn::new(client));
            let result = f(&mut t).and_then(|()| t.conn.commit());
            if result.is_err() && t.conn.began {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
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

/// A statement waiting to go out with the next one the transaction waits for.
struct Queued {
    sql: String,
    args: Vec<OwnedArg>,
}

/// Rows read ahead ([`Conn::read_ahead`]) for a statement and its arguments.
struct ReadAhead {
    sql: String,
    args: Vec<OwnedArg>,
    /// The tables `sql` names: a write to one of them forgets these rows.
    tables: Vec<&'static str>,
    rows: Vec<Row>,
}

impl ReadAhead {
    /// Whether these are the rows of `sql` with `args`.
    fn answers(&self, sql: &str, args: &[Arg<'_>]) -> bool {
        self.sql == sql && same_args(&self.args, args)
    }
}

/// Whether the arguments kept for a statement are `given`: as many, each the same kind and value.
fn same_args(kept: &[OwnedArg], given: &[Arg<'_>]) -> bool {
    pairwise(kept, given, OwnedArg::is)
}

/// Whether `kept` and `given` are as long as each other and `eq` holds for each pair.
fn pairwise<K, G>(kept: &[K], given: &[G], eq: impl Fn(&K, &G) -> bool) -> bool {
    kept.len() == given.len() && kept.iter().zip(given).all(|(k, g)| eq(k, g))
}

/// An open PostgreSQL transaction, for the shared queries. Statements whose answer nothing
/// waits for (`BEGIN`, the change-log lock, writes whose result nothing reads) wait in a queue
/// and go out with the next statement whose answer is needed (PostgreSQL's pipelining: sent
/// one after another, answered in order, one round trip); reads named ahead go out together
/// the same way.
struct PgConn<'c> {
    /// The connection, with its cache of prepared statements.
    client: &'c ClientWrapper,
    change_log_locked: bool,
    /// Whether anything of this transaction was sent (`BEGIN` with it).
    began: bool,
    queued: Vec<Queued>,
    ahead: Vec<ReadAhead>,
}

/// The answer to one statement of a pipeline: its rows, or how many rows it changed.
type Answer = (Vec<tokio_postgres::Row>, u64);

/// A statement on its way: a future that sends it when first polled and ends with its answer.
type Sending<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One statement of a pipeline, its arguments, and whether its rows are wanted.
type Statement<'s> = (&'s str, Vec<&'s (dyn ToSql + Sync)>, bool);

impl<'c> PgConn<'c> {
    fn new(client: &'c ClientWrapper) -> Self {
        PgConn { client, change_log_locked: false, began: false, queued: Vec::new(), ahead: Vec::new() }
    }

    /// Sends the queued statements and then `statements` without waiting in between, and waits
    /// for every answer: one round trip (plus one per statement this connection has not
    /// prepared before). Returns the answers to `statements`; the first error, in the order
    /// sent, fails it all (PostgreSQL then refuses the rest of the transaction anyway).
    fn pipeline(&mut self, statements: &[Statement<'_>]) -> Result<Vec<Answer>, StorageError> {
        let mut queued = std::mem::take(&mut self.queued);
        if !self.began {
            queued.insert(0, Queued { sql: "BEGIN".into(), args: Vec::new() });
            self.began = true;
        }
        let client = self.client;
        let queued_args: Vec<Vec<&(dyn ToSql + Sync)>> =
            queued.iter().map(|q| q.args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()).collect();
        let all: Vec<Statement<'_>> = queued
            .iter()
            .zip(queued_args)
            .map(|(q, args)| (q.sql.as_str(), args, false))
            .chain(statements.iter().map(|(sql, args, rows)| (*sql, args.clone(), *rows)))
            .collect();
        let answers = park_on(async {
            // Every statement prepared first, so the pipeline goes out in order.
            let cached = client.statement_cache.size();
            let mut prepared = Vec::with_capacity(all.len());
            for (sql, ..) in &all {
                prepared.push(client.prepare_cached(sql).await?);
            }
            let new = client.statement_cache.size().saturating_sub(cached) as u64;
            ROUND_TRIPS.fetch_add(new + 1, Ordering::Relaxed);
            STATEMENTS.fetch_add(all.len() as u64, Ordering::Relaxed);
            let sends: Vec<Sending<'_, Result<Answer, tokio_postgres::Error>>> = all
                .iter()
                .zip(&prepared)
                .map(|((_, args, rows), st)| -> Sending<'_, _> {
                    if *rows {
                        Box::pin(async move { Ok((client.query(st, args).await?, 0)) })
                    } else {
                        Box::pin(async move { Ok((Vec::new(), client.execute(st, args).await?)) })
                    }
                })
                .collect();
            Ok::<_, tokio_postgres::Error>(in_order(sends).await)
        })?;
        let mut out = Vec::with_capacity(statements.len());
        for answer in answers {
            out.push(answer?);
        }
        Ok(out.split_off(out.len() - statements.len()))
    }

    /// Forgets what was read ahead from the tables the statement `sql` may write (any table it
    /// names, unless it only reads). Only the tables the kept reads name are looked for in
    /// `sql`: every write passes here.
    fn wrote(&mut self, sql: &str) {
        if self.ahead.is_empty() || sql.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select")) {
            return;
        }
        self.ahead.retain(|a| !a.tables.iter().any(|t| names_table(sql, t)));
    }

    /// Sends what waits and `COMMIT`: one round trip.
    fn commit(&mut self) -> Result<(), StorageError> {
        if !self.began && self.queued.is_empty() {
            // Nothing was asked or written: nothing to send.
            return Ok(());
        }
        self.pipeline(&[("COMMIT", Vec::new(), false)])?;
        Ok(())
    }
}

/// Whether `sql` names `table` as a whole word.
fn names_table(sql: &str, table: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    sql.match_indices(table)
        .any(|(i, _)| !sql[..i].chars().next_back().is_some_and(word) && !sql[i + table.len()..].chars().next().is_some_and(word))
}

/// Polls `futures` in order until every one is done. The client sends a statement when its
/// future is first polled, so they go out in this order, one after another.
async fn in_order<T>(mut futures: Vec<Sending<'_, T>>) -> Vec<T> {
    let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (f, d) in futures.iter_mut().zip(done.iter_mut()) {
            if d.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *d = Some(v),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

fn rows_of(rows: Vec<tokio_postgres::Row>) -> Result<Vec<Row>, StorageError> {
    rows.iter().map(|r| Ok(Row((0..r.len()).map(|i| r.try_get::<_, Value>(i)).collect::<Result<_, _>>()?))).collect()
}

fn params<'a>(args: &'a [Arg<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Conn for PgConn<'_> {
    const DIALECT: Dialect = Dialect::Postgres;

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StorageError> {
        if let Some(a) = self.ahead.iter().find(|a| a.answers(sql, args)) {
            return Ok(a.rows.clone());
        }
        self.wrote(sql);
        let mut answers = self.pipeline(&[(sql, params(args), true)])?;
        rows_of(answers.pop().ok_or(StorageError::Internal)?.0)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StorageError> {
        self.wrote(sql);
        let mut answers = self.pipeline(&[(sql, params(args), false)])?;
        Ok(answers.pop().ok_or(StorageError::Internal)?.1)
    }

    fn send(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), StorageError> {
        self.wrote(sql);
        self.queued.push(Queued { sql: sql.to_string(), args: args.iter().map(OwnedArg::of).collect() });
        Ok(())
    }

    fn read_ahead(&mut self, reads: &[(&str, Vec<Arg<'_>>)]) -> Result<(), StorageError> {
        let fresh: Vec<usize> = (0..reads.len()).filter(|&i| !self.ahead.iter().any(|a| a.answers(reads[i].0, &reads[i].1))).collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let statements: Vec<Statement<'_>> = fresh.iter().map(|&i| (reads[i].0, params(&reads[i].1), true)).collect();
        let answers = self.pipeline(&statements)?;
        for (&i, (rows, _)) in fresh.iter().zip(answers) {
            let (sql, args) = (reads[i].0, &reads[i].1);
            let tables = schema::TABLES.iter().map(|(t, _)| *t).filter(|t| names_table(sql, t)).collect();
            self.ahead.push(ReadAhead {
                sql: sql.to_string(),
                args: args.iter().map(OwnedArg::of).collect(),
                tables,
                rows: rows_of(rows)?,
            });
        }
        Ok(())
    }

    fn lock_change_log(&mut self) -> Result<(), StorageError> {
        if !self.change_log_locked {
            // Nothing waits for the lock's answer: it goes out with the next statement, and
            // PostgreSQL runs that one once the lock is held.
            self.queued.push(Queued { sql: "SELECT pg_advisory_xact_lock($1)".into(), args: vec![OwnedArg::Int(LOCK_CHANGE_LOG)] });
            self.change_log_locked = true;
        }
        Ok(())
    }
}

/// An [`Arg`] kept for a statement sent later.
#[derive(Debug)]
enum OwnedArg {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Texts(Vec<String>),
    OptTexts(Vec<Option<String>>),
    Blobs(Vec<Vec<u8>>),
    Ints(Vec<i64>),
}

impl OwnedArg {
    /// Whether `a` is this argument: the same kind and value.
    fn is(&self, a: &Arg<'_>) -> bool {
        match (self, *a) {
            (OwnedArg::Null, Arg::Null) => true,
            (OwnedArg::Int(k), Arg::Int(g)) => *k == g,
            (OwnedArg::Bool(k), Arg::Bool(g)) => *k == g,
            (OwnedArg::Text(k), Arg::Text(g)) => k == g,
            (OwnedArg::Bytes(k), Arg::Bytes(g)) => k.as_slice() == g,
            (OwnedArg::Texts(k), Arg::Texts(g)) => pairwise(k, g, |k, g| k == g),
            (OwnedArg::OptTexts(k), Arg::OptTexts(g)) => pairwise(k, g, |k, g| k.as_deref() == *g),
            (OwnedArg::Blobs(k), Arg::Blobs(g)) => pairwise(k, g, |k, g| k.as_slice() == *g),
            (OwnedArg::Ints(k), Arg::Ints(g)) => k.as_slice() == g,
            _ => false,
        }
    }

    fn of(a: &Arg<'_>) -> OwnedArg {
        match *a {
            Arg::Null => OwnedArg::Null,
            Arg::Int(v) => OwnedArg::Int(v),
            Arg::Bool(v) => OwnedArg::Bool(v),
            Arg::Text(v) => OwnedArg::Text(v.to_string()),
            Arg::Bytes(v) => OwnedArg::Bytes(v.to_vec()),
            Arg::Texts(v) => OwnedArg::Texts(v.iter().map(|s| s.to_string()).collect()),
            Arg::OptTexts(v) => OwnedArg::OptTexts(v.iter().map(|s| s.map(str::to_string)).collect()),
            Arg::Blobs(v) => OwnedArg::Blobs(v.iter().map(|b| b.to_vec()).collect()),
            Arg::Ints(v) => OwnedArg::Ints(v.to_vec()),
        }
    }
}

impl ToSql for OwnedArg {
    /// Written as the [`Arg`] it was made from.
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            OwnedArg::Null => Arg::Null.to_sql(ty, out),
            OwnedArg::Int(v) => Arg::Int(*v).to_sql(ty, out),
            OwnedArg::Bool(v) => Arg::Bool(*v).to_sql(ty, out),
            OwnedArg::Text(v) => Arg::Text(v).to_sql(ty, out),
            OwnedArg::Bytes(v) => Arg::Bytes(v).to_sql(ty, out),
            OwnedArg::Texts(v) => Arg::Texts(&v.iter().map(String::as_str).collect::<Vec<_>>()).to_sql(ty, out),
            OwnedArg::OptTexts(v) => Arg::OptTexts(&v.iter().map(Option::as_deref).collect::<Vec<_>>()).to_sql(ty, out),
            OwnedArg::Blobs(v) => Arg::Blobs(&v.iter().map(Vec::as_slice).collect::<Vec<_>>()).to_sql(ty, out),
            OwnedArg::Ints(v) => Arg::Ints(v).to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
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

#[cfg(test)]
mod tests;
