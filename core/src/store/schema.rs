//! The store's schema and its migrations, keyed on SQLite's `user_version`. Each migration
//! moves the schema up by one version inside one transaction; each has its own test.

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = 2;

/// Version 1: documents as encrypted snapshot + incremental chunks, and index tables that
/// answer listing and search without decoding documents.
fn v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE docs (
            id INTEGER PRIMARY KEY,
            doc_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            snapshot BLOB NOT NULL,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            chunk_bytes INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE doc_chunks (
            doc INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (doc, seq)
        ) WITHOUT ROWID;

        CREATE TABLE requests (
            doc INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
            receipt TEXT NOT NULL UNIQUE,
            service_code TEXT NOT NULL,
            status TEXT NOT NULL,
            rw INTEGER NOT NULL,
            rt INTEGER NOT NULL,
            name_sealed BLOB NOT NULL,
            nik_tag INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            closed_at INTEGER
        );
        CREATE INDEX requests_by_created ON requests(created_at);
        CREATE INDEX requests_by_status ON requests(status, created_at);
        CREATE INDEX requests_by_area ON requests(rw, rt, created_at);
        CREATE INDEX requests_by_service ON requests(service_code, created_at);
        CREATE INDEX requests_by_nik ON requests(nik_tag, service_code);
        CREATE INDEX requests_by_closed ON requests(closed_at) WHERE closed_at IS NOT NULL;

        CREATE TABLE name_tokens (
            token INTEGER NOT NULL,
            doc INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
            PRIMARY KEY (token, doc)
        ) WITHOUT ROWID;
        CREATE INDEX name_tokens_by_doc ON name_tokens(doc);

        CREATE TABLE complaints (
            doc INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
            receipt TEXT NOT NULL UNIQUE,
            category TEXT NOT NULL,
            status TEXT NOT NULL,
            rw INTEGER NOT NULL,
            rt INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            closed_at INTEGER
        );
        CREATE INDEX complaints_by_created ON complaints(created_at);
        CREATE INDEX complaints_by_closed ON complaints(closed_at) WHERE closed_at IS NOT NULL;",
    )
}

/// Version 2: sync bookkeeping. Each document remembers the heads the hub is known to have and
/// whether it holds changes the hub lacks (`sync_flag` 1) or that the hub refused (2, with the
/// reason in `sync_refusals`). Existing requests and complaints start as unsent. Bundles from
/// colleagues wait in `relay_bundles` (sealed) until this device has signal.
fn v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE docs ADD COLUMN hub_heads BLOB NOT NULL DEFAULT x'';
        ALTER TABLE docs ADD COLUMN sync_flag INTEGER NOT NULL DEFAULT 0;
        UPDATE docs SET sync_flag = 1 WHERE kind IN ('request', 'complaint');
        CREATE INDEX docs_by_sync_flag ON docs(sync_flag) WHERE sync_flag <> 0;
        CREATE TABLE sync_refusals (
            doc INTEGER PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE TABLE relay_bundles (
            fingerprint TEXT PRIMARY KEY,
            sealed BLOB NOT NULL,
            received_at INTEGER NOT NULL
        ) WITHOUT ROWID;",
    )
}

/// The migrations, in order: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[fn(&Transaction<'_>) -> rusqlite::Result<()>] = &[v1, v2];

/// The schema version of an open database.
pub fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Migrates the database up to `target` (normally [`CURRENT_VERSION`]); each step is atomic.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let found = version(conn)?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew { found, supported: CURRENT_VERSION });
    }
    for v in found..target.min(CURRENT_VERSION) {
        let tx = conn.transaction()?;
        MIGRATIONS[v as usize](&tx)?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
        tracing::debug!(from = v, to = v + 1, "skema basis data diperbarui");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn migration_0_to_1_creates_the_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(version(&conn).unwrap(), 0);
        migrate_to(&mut conn, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        assert_eq!(tables(&conn), ["complaints", "doc_chunks", "docs", "meta", "name_tokens", "requests"]);
        // Running again is a no-op.
        migrate_to(&mut conn, CURRENT_VERSION).unwrap();
        assert_eq!(version(&conn).unwrap(), CURRENT_VERSION);
    }

    #[test]
    fn migration_1_to_2_marks_existing_records_unsent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO docs (doc_id, kind, snapshot, updated_at) VALUES ('r1', 'request', x'01', 1), ('c1', 'complaint', x'01', 1), ('catalog', 'catalog', x'01', 1);",
        )
        .unwrap();
        migrate_to(&mut conn, 2).unwrap();
        assert_eq!(version(&conn).unwrap(), 2);
        let flags: Vec<(String, i64, Vec<u8>)> = conn
            .prepare("SELECT doc_id, sync_flag, hub_heads FROM docs ORDER BY doc_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(flags, [("c1".into(), 1, vec![]), ("catalog".into(), 0, vec![]), ("r1".into(), 1, vec![])]);
        assert!(tables(&conn).contains(&"sync_refusals".to_string()));
        assert!(tables(&conn).contains(&"relay_bundles".to_string()));
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1).unwrap();
        assert!(matches!(migrate_to(&mut conn, CURRENT_VERSION), Err(Error::SchemaTooNew { .. })));
        assert_eq!(version(&conn).unwrap(), CURRENT_VERSION + 1);
        assert!(tables(&conn).is_empty());
    }

    #[test]
    fn a_failed_migration_leaves_the_old_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A stray table with a clashing name makes v1 fail half-way; nothing may be left behind.
        conn.execute_batch("CREATE TABLE requests (x INTEGER)").unwrap();
        assert!(migrate_to(&mut conn, 1).is_err());
        assert_eq!(version(&conn).unwrap(), 0);
        assert_eq!(tables(&conn), ["requests"]);
    }
}
