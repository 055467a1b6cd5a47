//! PostgreSQL schema migrations: a fresh database reaches the current version, instances that
//! start at the same time migrate it once, and a database newer than the program is refused
//! without being touched.

use jemput_hub::error::AppError;
use jemput_hub::storage::postgres::{PgBackend, SCHEMA_VERSION};
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
    assert!(matches!(PgBackend::connect(&db.location), Err(AppError::Config(_))));
    let mut c = postgres::Client::connect(&db.location, postgres::NoTls).unwrap();
    let v: i32 = c.query_one("SELECT version FROM jemput_schema", &[]).unwrap().get(0);
    assert_eq!(v as usize, SCHEMA_VERSION + 1, "left as it was");
}
