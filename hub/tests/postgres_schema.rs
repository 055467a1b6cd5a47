//! PostgreSQL schema migrations: a fresh database reaches the current version, instances that
//! start at the same time migrate it once, a database newer than the program is refused
//! without being touched, and a database numbered by PostgreSQL's own history from before the
//! one history (`storage::schema`) is renumbered. Each version on both back ends:
//! `schema_history.rs`.

use jemput_hub::storage::postgres::{PgBackend, SCHEMA_VERSION};
use jemput_hub::storage::StorageError;
use jemput_hub::testing::{postgres_url, BackendKind, TestDb};

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::fresh(BackendKind::Postgres).unwrap();
    // Several instances starting at once.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.location.clone();
            std::thread::spawn(move || PgBackend::connect(&url).map(|b| b.schema_version()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().unwrap(), SCHEMA_VERSION);
    }
    // A newer database.
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    c.execute("UPDATE jemput_schema SET version = $1", &[&(SCHEMA_VERSION as i32 + 1)]).unwrap();
    drop(c);
    assert!(matches!(PgBackend::connect(&db.location), Err(StorageError::Config(_))));
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    let v: i32 = c.query_one("SELECT version FROM jemput_schema", &[]).unwrap().get(0);
    assert_eq!(v as usize, SCHEMA_VERSION + 1, "left as it was");
}

#[test]
fn migration_3_keeps_version_2_data_and_adds_resumable_exchanges() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::fresh(BackendKind::Postgres).unwrap();
    // A version-2 database (migration 3 only adds the `exchanges` table and two document columns)
    // holding a device.
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    c.batch_execute(
"DROP TABLE erased_docs, staff_profiles, web_sessions, rate_limits, seen_marks, office_index, office_tags, office_rows; DROP INDEX audit_by_actor, device_actors_by_device;
         ALTER TABLE devices DROP COLUMN backlog_requests, DROP COLUMN backlog_complaints, DROP COLUMN backlog_refused;
         DROP TABLE exchanges; ALTER TABLE docs DROP COLUMN full_message; ALTER TABLE docs DROP COLUMN heads;
         UPDATE jemput_schema SET version = 2;
         INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0);
         INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ('d1', 'o1', 'HP', '\\x01', 0, 0);",
    )
    .unwrap();
    drop(c);
    let b = PgBackend::connect(&db.location).unwrap();
    assert_eq!(b.schema_version().unwrap(), SCHEMA_VERSION);
    drop(b);
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    let officer: String = c.query_one("SELECT officer_id FROM devices WHERE id = 'd1'", &[]).unwrap().get(0);
    assert_eq!(officer, "o1");
    c.execute("INSERT INTO exchanges (device_id, key, upload, at) VALUES ('d1', 'k1', '\\x00', 1)", &[]).unwrap();
    let n: i64 = c.query_one("SELECT count(*) FROM exchanges", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_database_numbered_before_the_one_history_is_renumbered() {
    if postgres_url().is_none() {
        return;
    }
    // PostgreSQL's own version 2 (the tables of version 3 of the one history), holding a device.
    let db = TestDb::fresh(BackendKind::Postgres).unwrap();
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    c.batch_execute(
"DROP TABLE erased_docs, staff_profiles, web_sessions, rate_limits, seen_marks, office_index, office_tags, office_rows; DROP INDEX audit_by_actor, device_actors_by_device;
         ALTER TABLE devices DROP COLUMN backlog_requests, DROP COLUMN backlog_complaints, DROP COLUMN backlog_refused;
         ALTER TABLE jemput_schema DROP COLUMN unified;
         UPDATE jemput_schema SET version = 2;
         INSERT INTO officers (id, name, rw, rt, created_at) VALUES ('o1', 'Bu Sri', 1, 2, 0);
         INSERT INTO devices (id, officer_id, name, token_hash, prefix_index, created_at) VALUES ('d1', 'o1', 'HP', '\\x01', 0, 0);
         INSERT INTO exchanges (device_id, key, upload, at) VALUES ('d1', 'k1', '\\x00', 1);",
    )
    .unwrap();
    drop(c);
    let b = PgBackend::connect(&db.location).unwrap();
    assert_eq!(b.schema_version().unwrap(), SCHEMA_VERSION, "old 2 is version 3 of the one history");
    drop(b);
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    let n: i64 = c.query_one("SELECT count(*) FROM exchanges", &[]).unwrap().get(0);
    assert_eq!(n, 1, "nothing ran again over the data");

    // PostgreSQL's own version 1 (versions 1 and 2 of the one history): gains version 3.
    c.batch_execute(
        "DROP TABLE erased_docs, staff_profiles, web_sessions, rate_limits, seen_marks, office_index, office_tags, office_rows; DROP INDEX audit_by_actor, device_actors_by_device;
         ALTER TABLE devices DROP COLUMN backlog_requests, DROP COLUMN backlog_complaints, DROP COLUMN backlog_refused;
         DROP TABLE exchanges; ALTER TABLE docs DROP COLUMN full_message; ALTER TABLE docs DROP COLUMN heads;
         ALTER TABLE jemput_schema DROP COLUMN unified; UPDATE jemput_schema SET version = 1;",
    )
    .unwrap();
    drop(c);
    let b = PgBackend::connect(&db.location).unwrap();
    assert_eq!(b.schema_version().unwrap(), SCHEMA_VERSION);
    drop(b);
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    c.execute("INSERT INTO exchanges (device_id, key, upload, at) VALUES ('d1', 'k2', '\\x00', 1)", &[]).unwrap();
    let officer: String = c.query_one("SELECT officer_id FROM devices WHERE id = 'd1'", &[]).unwrap().get(0);
    assert_eq!(officer, "o1");
}

#[test]
fn a_failed_or_panicked_transaction_leaves_nothing_behind_and_gives_its_connection_back() {
    use jemput_hub::storage::postgres::POOL_SIZE;
    use jemput_hub::storage::Backend;
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::fresh(BackendKind::Postgres).unwrap();
    let b = PgBackend::connect(&db.location).unwrap();
    // More than the pool holds, so a connection kept inside a transaction would be met again.
    for _ in 0..=POOL_SIZE {
        let r = b.transaction(&mut |tx| {
            tx.set_meta("k", b"gagal")?;
            Err(StorageError::Internal)
        });
        assert!(matches!(r, Err(StorageError::Internal)));
    }
    for _ in 0..=POOL_SIZE {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            b.transaction(&mut |tx| {
                tx.set_meta("k", b"panik")?;
                panic!("uji: transaksi berhenti di tengah");
            })
        }));
        assert!(r.is_err());
    }
    let mut seen = Some(Vec::new());
    b.transaction(&mut |tx| {
        seen = tx.meta("k")?;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, None, "nothing of the failed transactions was committed");
}
