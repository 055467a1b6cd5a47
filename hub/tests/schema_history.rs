//! The one schema version history, tested version by version on both back ends: a database
//! left at version `n - 1` (built from the history's own SQL, holding data) is brought up to
//! date when the hub opens it, keeps its data, and gains what version `n` adds; a database newer
//! than the program is refused, untouched.

use jemput_core::sync::protocol::Backlog;
use jemput_hub::storage::postgres::PgBackend;
use jemput_hub::storage::schema::{migration, SCHEMA_VERSION};
use jemput_hub::storage::sql::Dialect;
use jemput_hub::storage::sqlite::SqliteBackend;
use jemput_hub::storage::{
    AuditFilter, Backend, DocFilter, ErasedDoc, ExchangeRow, HubTx, OfficeIndexRow, OfficeQuery, StaffAccount, StaffProfile, StorageError,
    WebSession,
};
use jemput_hub::testing::postgres_url;

/// Runs a test body once per back end (PostgreSQL skipped with a notice where no test server
/// is configured, a failure in CI).
macro_rules! on_both_backends {
    (fn $name:ident($d:ident) $body:block) => {
        mod $name {
            use super::*;
            fn case($d: Dialect) $body
            #[test]
            fn sqlite() {
                case(Dialect::Sqlite)
            }
            #[test]
            fn postgres() {
                if postgres_url().is_some() {
                    case(Dialect::Postgres)
                }
            }
        }
    };
}

/// An empty database on one back end, reached directly (not through the hub), dropped at the end.
struct Raw {
    location: String,
    conn: RawConn,
    _dir: tempfile::TempDir,
    drop_pg: Option<(String, String)>,
}

enum RawConn {
    Sqlite(rusqlite::Connection),
    Pg(postgres::Client),
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop_pg.take() {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl Raw {
    fn empty(d: Dialect) -> Raw {
        let dir = tempfile::tempdir().unwrap();
        match d {
            Dialect::Sqlite => {
                let path = dir.path().join("hub.db");
                let conn = rusqlite::Connection::open(&path).unwrap();
                Raw { location: path.to_string_lossy().into_owned(), conn: RawConn::Sqlite(conn), _dir: dir, drop_pg: None }
            }
            Dialect::Postgres => {
                let admin = postgres_url().unwrap();
                let name = format!("jemput_uji_skema_{}", jemput_hub::service::random_secret(10).to_lowercase());
                postgres::Client::connect(&admin, postgres::NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let mut u = url::Url::parse(&admin).unwrap();
                u.set_path(&format!("/{name}"));
                let location = u.to_string();
                let conn = postgres::Client::connect(&location, postgres::NoTls).unwrap();
                Raw { location, conn: RawConn::Pg(conn), _dir: dir, drop_pg: Some((admin, name)) }
            }
        }
    }

    /// An empty database brought to version `v` by the history's own SQL.
    fn at_version(d: Dialect, v: usize) -> Raw {
        let mut raw = Raw::empty(d);
        for n in 1..=v {
            raw.exec(&migration(d, n).unwrap());
        }
        match &mut raw.conn {
            RawConn::Sqlite(c) => c.pragma_update(None, "user_version", v as i64).unwrap(),
            RawConn::Pg(c) => c
                .batch_execute(&format!(
                    "CREATE TABLE jemput_schema (version INTEGER NOT NULL, unified BOOLEAN); INSERT INTO jemput_schema VALUES ({v}, TRUE)"
                ))
                .unwrap(),
        }
        raw
    }

    fn dialect(&self) -> Dialect {
        match self.conn {
            RawConn::Sqlite(_) => Dialect::Sqlite,
            RawConn::Pg(_) => Dialect::Postgres,
        }
    }

    fn exec(&mut self, sql: &str) {
        match &mut self.conn {
            RawConn::Sqlite(c) => c.execute_batch(sql).unwrap(),
            RawConn::Pg(c) => c.batch_execute(sql).unwrap(),
        }
    }

    /// A byte string literal in the dialect.
    fn blob(&self, hex: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("x'{hex}'"),
            Dialect::Postgres => format!("'\\x{hex}'::BYTEA"),
        }
    }

    /// The single text column of `sqlite` or `pg`, whichever the back end speaks.
    fn texts(&mut self, sqlite: &str, pg: &str) -> Vec<String> {
        match &mut self.conn {
            RawConn::Sqlite(c) => {
                let mut st = c.prepare(sqlite).unwrap();
                st.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
            }
            RawConn::Pg(c) => c.query(pg, &[]).unwrap().iter().map(|r| r.get(0)).collect(),
        }
    }

    fn tables(&mut self) -> Vec<String> {
        self.texts(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        )
    }

    fn indexes(&mut self, table: &str) -> Vec<String> {
        self.texts(
            &format!("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' ORDER BY name"),
            &format!("SELECT indexname::TEXT FROM pg_indexes WHERE tablename = '{table}' ORDER BY 1"),
        )
    }

    /// PostgreSQL: how many chunks the TOAST table of `table` holds (values moved out of line).
    fn toast_chunks(&mut self, table: &str) -> i64 {
        let RawConn::Pg(c) = &mut self.conn else { unreachable!("PostgreSQL only") };
        let toast: String = c.query_one("SELECT reltoastrelid::regclass::TEXT FROM pg_class WHERE relname = $1", &[&table]).unwrap().get(0);
        c.query_one(&format!("SELECT count(*) FROM {toast}"), &[]).unwrap().get(0)
    }

    fn version(&mut self) -> usize {
        match &mut self.conn {
            RawConn::Sqlite(c) => c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap() as usize,
            RawConn::Pg(c) => c.query_one("SELECT version FROM jemput_schema", &[]).unwrap().get::<_, i32>(0) as usize,
        }
    }

    /// Opens the database as the hub does (which migrates it).
    fn open(&self) -> Result<Box<dyn Backend>, StorageError> {
        Ok(match self.dialect() {
            Dialect::Sqlite => Box::new(SqliteBackend::open(std::path::Path::new(&self.location))?),
            Dialect::Postgres => Box::new(PgBackend::connect(&self.location)?),
        })
    }
}

/// Runs `f` in one transaction of `b`.
fn tx<T>(b: &dyn Backend, mut f: impl FnMut(&mut dyn HubTx) -> Result<T, StorageError> + Send) -> T
where
    T: Send,
{
    let mut out = None;
    b.transaction(&mut |t| {
        out = Some(f(t)?);
        Ok(())
    })
    .unwrap();
    out.unwrap()
}

on_both_backends! {
fn version_1_creates_the_first_schema(d) {
    let mut raw = Raw::at_version(d, 1);
    let t = raw.tables();
    for name in ["meta", "officers", "enrol_codes", "devices", "device_actors", "docs", "change_log", "device_known", "audit"] {
        assert!(t.iter().any(|x| x == name), "missing {name} in {t:?}");
    }
    assert!(!t.iter().any(|x| x == "staff"), "staff accounts come with version 2");
    let b = raw.open().unwrap();
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
}
}

on_both_backends! {
fn version_2_keeps_version_1_data_and_adds_staff_and_office_index(d) {
    let mut raw = Raw::at_version(d, 1);
    let (sealed, token) = (raw.blob("00"), raw.blob("01"));
    raw.exec(&format!(
        "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq) VALUES ('d1', 'request', 1, 2, {sealed}, 1);
         INSERT INTO meta (key, value) VALUES ('staff_token', {token});"
    ));
    let b = raw.open().unwrap();
    let request = DocFilter { kind: "request".into(), ..DocFilter::default() };
    assert_eq!(tx(&*b, |t| t.doc_ids(&request, 0, 10)), vec!["d1".to_string()]);
    let done = DocFilter { status: Some("selesai".into()), ..request.clone() };
    assert_eq!(tx(&*b, |t| t.count_docs(&done)), 0, "a version-1 document has no status yet");
    assert_eq!(tx(&*b, |t| t.sealed_doc("d1", false)), Some(vec![0]));
    assert_eq!(tx(&*b, |t| t.meta("staff_token")), None, "the single shared staff token gives way to named accounts");
    let s = StaffAccount { id: "s1".into(), name: "Pak Lurah".into(), active: true };
    tx(&*b, |t| t.insert_staff(&s, &[7], 0));
    assert_eq!(tx(&*b, |t| t.staff_by_token_hash(&[7])), Some(s.clone()));
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
    assert!(raw.tables().iter().any(|x| x == "staff"));
}
}

on_both_backends! {
fn version_3_keeps_version_2_data_and_adds_resumable_exchanges(d) {
    let mut raw = Raw::at_version(d, 2);
    let (token, sealed) = (raw.blob("01"), raw.blob("00"));
    raw.exec(&format!(
        "INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0);
         INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ('d1', 'o1', 'HP', {token}, 0, 0);
         INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status) VALUES ('doc1', 'request', 1, 2, {sealed}, 1, 'baru');"
    ));
    assert!(!raw.tables().iter().any(|x| x == "exchanges"));
    let b = raw.open().unwrap();
    assert_eq!(tx(&*b, |t| t.device("d1")).unwrap().officer_id, "o1");
    assert_eq!(tx(&*b, |t| t.exchange("d1")), None);
    let row = ExchangeRow { key: "k1".into(), upload: vec![1, 2], answer: None, at: 5 };
    tx(&*b, |t| t.put_exchange("d1", &row));
    assert_eq!(tx(&*b, |t| t.exchange("d1")), Some(row.clone()));
    let row2 = ExchangeRow { key: "k2".into(), upload: vec![], answer: Some(vec![9]), at: 6 };
    tx(&*b, |t| t.put_exchange("d1", &row2));
    assert_eq!(tx(&*b, |t| t.exchange("d1")), Some(row2.clone()), "one row per device, the newest exchange");
    assert_eq!(tx(&*b, |t| t.sealed_doc("doc1", false)), Some(vec![0]));
    assert_eq!(tx(&*b, |t| t.sealed_full("doc1")), None, "a document stored before v3 has no full message yet");
    let open = DocFilter { kind: "request".into(), status: Some("baru".into()), rw: Some(1), rt: Some(2) };
    assert_eq!(tx(&*b, |t| t.count_docs(&open)), 1, "its office index columns are kept");
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
}
}

on_both_backends! {
fn version_4_keeps_version_3_data_and_adds_the_dashboard_tables(d) {
    let mut raw = Raw::at_version(d, 3);
    let token = raw.blob("01");
    raw.exec(&format!("INSERT INTO staff (id, name, token_hash, created_at) VALUES ('s1', 'Bu Rina', {token}, 0);"));
    assert!(!raw.tables().iter().any(|x| x == "staff_profiles"));
    let b = raw.open().unwrap();
    assert_eq!(tx(&*b, |t| t.staff_accounts())[0].name, "Bu Rina");
    assert_eq!(tx(&*b, |t| t.staff_profile("s1")), None, "an account from before the dashboard has no profile");
    // One profile per account, found by its user name; replaced, not doubled.
    let p = StaffProfile { staff_id: "s1".into(), role: "operator".into(), username: Some("rina".into()), password_hash: None };
    tx(&*b, |t| t.put_staff_profile(&p));
    let p2 = StaffProfile { role: "admin".into(), ..p.clone() };
    tx(&*b, |t| t.put_staff_profile(&p2));
    assert_eq!(tx(&*b, |t| t.staff_profile_by_username("rina")), Some(p2));
    // Sessions: stored by hash, touched, ended per account and by idleness.
    let w = WebSession { id_hash: vec![1, 2], staff_id: "s1".into(), csrf: "c".into(), created_at: 10, last_seen: 10 };
    tx(&*b, |t| t.insert_web_session(&w));
    tx(&*b, |t| t.touch_web_session(&[1, 2], 20));
    assert_eq!(tx(&*b, |t| t.web_session(&[1, 2])).map(|s| s.last_seen), Some(20));
    tx(&*b, |t| t.delete_web_sessions(None, 15));
    assert!(tx(&*b, |t| t.web_session(&[1, 2])).is_some(), "used at 20, not idle since before 15");
    tx(&*b, |t| t.delete_web_sessions(Some("s1"), 0));
    assert_eq!(tx(&*b, |t| t.web_session(&[1, 2])), None);
    // Throttling windows.
    assert_eq!(tx(&*b, |t| t.rate_hit("k", 1000, 100)), 1);
    assert_eq!(tx(&*b, |t| t.rate_hit("k", 1050, 100)), 2);
    assert_eq!(tx(&*b, |t| t.rate_count("k", 1099, 100)), 2);
    assert_eq!(tx(&*b, |t| t.rate_hit("k", 1200, 100)), 1, "a new window starts after the old one");
    assert_eq!(tx(&*b, |t| t.rate_count("k", 5000, 100)), 0);
    // The office index: filtered by area, status and a blind tag, newest change first.
    for (i, (rw, status, tags)) in [(1u16, "baru", vec![7i64, 8]), (1, "baru", vec![8]), (2, "selesai", vec![7])].into_iter().enumerate() {
        let row = OfficeIndexRow {
            doc_id: format!("r{i}"),
            seq: i as i64 + 1,
            status: status.into(),
            rw,
            rt: 3,
            receipt: format!("KODE{i}"),
            service: "sktm".into(),
            created_at: 100,
            officer_id: "o1".into(),
            tags,
            sealed_row: vec![i as u8],
        };
        tx(&*b, |t| t.put_office_index(&row));
    }
    let q = OfficeQuery {
        doc: DocFilter { kind: "request".into(), status: Some("baru".into()), rw: Some(1), rt: None },
        tags: vec![8],
        ..OfficeQuery::default()
    };
    assert_eq!(tx(&*b, |t| t.office_count(&q)), 2);
    assert_eq!(tx(&*b, |t| t.office_rows(&q, 0, 10)), vec![("r1".to_string(), vec![1]), ("r0".to_string(), vec![0])]);
    let tagged = OfficeQuery { doc: DocFilter { kind: "request".into(), ..DocFilter::default() }, tags: vec![7, 8], ..OfficeQuery::default() };
    assert_eq!(tx(&*b, |t| t.office_rows(&tagged, 0, 10)), vec![("r0".to_string(), vec![0])], "every tag must match");
    // The audit log by actor and action prefix (LIKE wildcards are plain characters).
    tx(&*b, |t| t.audit(1, "staf:s1", "lihat_permohonan", Some("r0")));
    tx(&*b, |t| t.audit(2, "staf:s1", "lihat%x", None));
    tx(&*b, |t| t.audit(3, "sistem", "lihat_permohonan", None));
    let f = AuditFilter { actor: Some("staf:s1".into()), action_prefix: Some("lihat_".into()), ..AuditFilter::default() };
    let found = tx(&*b, |t| t.audit_query(&f, 0, 10));
    assert_eq!(found.iter().map(|e| (e.at, e.action.as_str())).collect::<Vec<_>>(), vec![(1, "lihat_permohonan")]);
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
    for name in ["staff_profiles", "web_sessions", "rate_limits", "seen_marks", "office_index", "office_rows", "office_tags"] {
        assert!(raw.tables().iter().any(|x| x == name), "missing {name}");
    }
}
}

on_both_backends! {
fn version_5_keeps_version_4_data_and_adds_the_erasure_list(d) {
    let mut raw = Raw::at_version(d, 4);
    let sealed = raw.blob("00");
    raw.exec(&format!(
        "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt) VALUES ('r1', 'request', 5, 3, {sealed}, 1, 'ditolak', 'AB-0001');
         INSERT INTO device_known (device_id, doc_id, heads) VALUES ('d1', 'r1', {sealed});"
    ));
    assert!(!raw.tables().iter().any(|x| x == "erased_docs"), "the erasure list comes with version 5");
    let b = raw.open().unwrap();
    assert_eq!(tx(&*b, |t| t.sealed_doc("r1", false)), Some(vec![0]), "version-4 documents are kept");
    assert_eq!(tx(&*b, |t| t.erased("r1")), None);
    let e = ErasedDoc {
        doc_id: "r1".into(),
        kind: "request".into(),
        erased_at: 9,
        reason: "permintaan warga".into(),
        erased_by: "staf:s1".into(),
    };
    assert!(tx(&*b, |t| t.mark_erased(&e)));
    assert!(!tx(&*b, |t| t.mark_erased(&ErasedDoc { erased_at: 10, ..e.clone() })), "erased once; the first erasure stands");
    assert_eq!(tx(&*b, |t| t.erased("r1")), Some(e.clone()));
    assert!(tx(&*b, |t| t.known("d1", "r1")).is_some());
    tx(&*b, |t| t.forget_known("r1"));
    assert_eq!(tx(&*b, |t| t.known("d1", "r1")), None, "what devices held of an erased record is forgotten");
    b.scrub().unwrap();
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
    assert!(raw.tables().iter().any(|x| x == "erased_docs"));
}
}

on_both_backends! {
fn version_6_keeps_devices_and_adds_their_reported_backlog(d) {
    let mut raw = Raw::at_version(d, 5);
    let token = raw.blob("01");
    raw.exec(&format!(
        "INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0);
         INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at, last_seen) VALUES ('d1', 'o1', 'HP', {token}, 0, 0, 9);"
    ));
    let b = raw.open().unwrap();
    let dev = tx(&*b, |t| t.device("d1")).unwrap();
    assert_eq!((dev.officer_id.as_str(), dev.last_seen, dev.backlog), ("o1", Some(9), None), "synced before v6: not told");
    let backlog = Backlog { requests: 2, complaints: 1, refused: 0 };
    tx(&*b, |t| t.touch_device("d1", 10, Some(backlog)));
    let dev = tx(&*b, |t| t.device("d1")).unwrap();
    assert_eq!((dev.last_seen, dev.backlog), (Some(10), Some(backlog)));
    tx(&*b, |t| t.touch_device("d1", 11, None));
    assert_eq!(tx(&*b, |t| t.devices())[0].backlog, None, "an older app's sync clears the count instead of leaving it stale");
    drop(b);
    assert_eq!(raw.version(), SCHEMA_VERSION);
}
}

/// `n` bytes that do not compress (as sealed bytes are), as hex.
fn incompressible_hex(n: usize, seed: u64) -> String {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{:02x}", x as u8)
        })
        .collect()
}

on_both_backends! {
fn version_7_keeps_documents_and_devices_finds_actors_by_device_and_stores_sealed_bytes_as_they_are(d) {
    let mut raw = Raw::at_version(d, 6);
    let (snapshot, full) = (raw.blob(&incompressible_hex(3000, 7)), raw.blob(&incompressible_hex(3000, 8)));
    let insert = |id: &str, seq: u32| {
        format!(
            "INSERT INTO docs (doc_id, kind, rw, rt, sealed, seq, status, receipt, full_message, heads)
             VALUES ('{id}', 'request', 1, 2, {snapshot}, {seq}, 'diajukan', 'AB-000{seq}', {full}, {})",
            raw.blob("0102")
        )
    };
    let (before, after) = (insert("r1", 1), insert("r2", 2));
    raw.exec(&before);
    let split_before = (d == Dialect::Postgres).then(|| raw.toast_chunks("docs"));
    let token = raw.blob("01");
    raw.exec(&format!(
        "INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0);
         INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ('d1', 'o1', 'HP', {token}, 0, 0);
         INSERT INTO device_actors (actor, device_id) VALUES ('aa01', 'd1'), ('aa02', 'd1');"
    ));
    let b = raw.open().unwrap();
    let kept = tx(&*b, |t| t.sealed_doc("r1", false)).unwrap();
    assert_eq!(kept.len(), 3000, "version-6 documents are kept");
    let (device, actors) = tx(&*b, |t| t.device_with_actors_by_token_hash(&[1])).unwrap();
    assert_eq!((device.id.as_str(), actors), ("d1", vec!["aa01".to_string(), "aa02".to_string()]), "version-6 devices are kept");
    drop(b);
    let indexes = raw.indexes("device_actors");
    assert!(indexes.iter().any(|i| i == "device_actors_by_device"), "a device's actors are found by the device: {indexes:?}");
    assert_eq!(raw.version(), SCHEMA_VERSION);
    if let (Some(split_before), RawConn::Pg(c)) = (split_before, &mut raw.conn) {
        assert!(split_before > 0, "a 6 KB row was split into the TOAST table before version 7");
        let storage: Vec<(String, String)> = c
            .query(
                "SELECT c.relname::TEXT || '.' || a.attname::TEXT, a.attstorage::TEXT FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 WHERE (c.relname, a.attname) IN (('docs', 'sealed'), ('docs', 'full_message'), ('exchanges', 'upload'),
                     ('exchanges', 'answer'), ('office_rows', 'sealed_row')) ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(storage.len(), 5);
        assert!(storage.iter().all(|(_, s)| s == "e"), "sealed bytes are not compressed: {storage:?}");
        let options: Vec<String> = c.query_one("SELECT reloptions FROM pg_class WHERE relname = 'docs'", &[]).unwrap().get(0);
        assert_eq!(options, ["toast_tuple_target=8160"]);
        raw.exec(&after);
        assert_eq!(raw.toast_chunks("docs"), split_before, "a document row of 6 KB now stays whole");
    }
}
}

on_both_backends! {
fn a_newer_database_is_refused_not_damaged(d) {
    let mut raw = Raw::at_version(d, SCHEMA_VERSION);
    match &mut raw.conn {
        RawConn::Sqlite(c) => c.pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1).unwrap(),
        RawConn::Pg(c) => {
            c.execute("UPDATE jemput_schema SET version = $1", &[&(SCHEMA_VERSION as i32 + 1)]).unwrap();
        }
    }
    assert!(matches!(raw.open(), Err(StorageError::Config(_))));
    assert_eq!(raw.version(), SCHEMA_VERSION + 1, "left as it was");
}
}
