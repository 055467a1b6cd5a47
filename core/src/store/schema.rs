//! The store's schema and its migrations, keyed on SQLite's `user_version`. Each migration
//! moves the schema up by one version inside one transaction; each has its own test.

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = 4;

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

/// Version 3: the name index keeps each request's recording time after the tag, so a name
/// search walks its first word's entries newest first and stops at the page it shows, instead
/// of reading every entry of the word and sorting them (benchmark scenario 13: 5.4 × slower at
/// 30,000 requests than at 1,000). A request's recording time never changes.
fn v3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE name_tokens_v3 (
            token INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            doc INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
            PRIMARY KEY (token, created_at, doc)
        ) WITHOUT ROWID;
        INSERT INTO name_tokens_v3 (token, created_at, doc)
            SELECT t.token, r.created_at, t.doc FROM name_tokens t JOIN requests r ON r.doc = t.doc;
        DROP TABLE name_tokens;
        ALTER TABLE name_tokens_v3 RENAME TO name_tokens;
        CREATE INDEX name_tokens_by_doc ON name_tokens(doc);",
    )
}

/// Version 4: the request and complaint index rows keep their document's id, so a list, a
/// search or a count reads the index alone instead of one `docs` row per request it shows or
/// skips (a `docs` row holds the sealed snapshot, so each is a page of its own: benchmark
/// scenario 13, a search's 50 rows read 50 more pages, a page at offset 15,000 read 15,000). A
/// document's id never changes.
fn v4(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE requests ADD COLUMN doc_id TEXT NOT NULL DEFAULT '';
        UPDATE requests SET doc_id = (SELECT d.doc_id FROM docs d WHERE d.id = requests.doc);
        ALTER TABLE complaints ADD COLUMN doc_id TEXT NOT NULL DEFAULT '';
        UPDATE complaints SET doc_id = (SELECT d.doc_id FROM docs d WHERE d.id = complaints.doc);",
    )
}

/// The migrations, in order: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[fn(&Transaction<'_>) -> rusqlite::Result<()>] = &[v1, v2, v3, v4];

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
    fn migration_2_to_3_keeps_every_name_tag_with_its_request_time() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO docs (id, doc_id, kind, snapshot, updated_at) VALUES (1, 'r1', 'request', x'01', 1), (2, 'r2', 'request', x'01', 1);
             INSERT INTO requests (doc, receipt, service_code, status, rw, rt, name_sealed, nik_tag, created_at, updated_at)
                 VALUES (1, 'A', 'sktm', 'dicatat', 1, 1, x'00', 1, 100, 100), (2, 'B', 'sktm', 'dicatat', 1, 1, x'00', 2, 200, 200);
             INSERT INTO name_tokens (token, doc) VALUES (7, 1), (7, 2), (8, 2);",
        )
        .unwrap();
        migrate_to(&mut conn, 3).unwrap();
        assert_eq!(version(&conn).unwrap(), 3);
        let rows: Vec<(i64, i64, i64)> = conn
            .prepare("SELECT token, created_at, doc FROM name_tokens ORDER BY token, created_at DESC")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows, [(7, 200, 2), (7, 100, 1), (8, 200, 2)]);
        // Still removed with its document.
        conn.execute("DELETE FROM docs WHERE id = 2", []).unwrap();
        let left: i64 = conn.query_row("SELECT count(*) FROM name_tokens", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 1);
    }

    #[test]
    fn migration_3_to_4_keeps_each_document_id_beside_its_index_row() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO docs (id, doc_id, kind, snapshot, updated_at)
                 VALUES (1, 'r1', 'request', x'01', 1), (2, 'r2', 'request', x'01', 1), (3, 'c1', 'complaint', x'01', 1);
             INSERT INTO requests (doc, receipt, service_code, status, rw, rt, name_sealed, nik_tag, created_at, updated_at)
                 VALUES (1, 'A', 'sktm', 'dicatat', 1, 1, x'00', 1, 100, 100), (2, 'B', 'sktm', 'dicatat', 1, 1, x'00', 2, 200, 200);
             INSERT INTO complaints (doc, receipt, category, status, rw, rt, created_at, updated_at)
                 VALUES (3, 'C', 'jalan', 'dicatat', 1, 1, 300, 300);",
        )
        .unwrap();
        migrate_to(&mut conn, 4).unwrap();
        assert_eq!(version(&conn).unwrap(), 4);
        let ids = |sql: &str| -> Vec<(i64, String)> {
            conn.prepare(sql).unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
        };
        assert_eq!(ids("SELECT doc, doc_id FROM requests ORDER BY doc"), [(1, "r1".to_string()), (2, "r2".to_string())]);
        assert_eq!(ids("SELECT doc, doc_id FROM complaints ORDER BY doc"), [(3, "c1".to_string())]);
        // Still removed with its document.
        conn.execute("DELETE FROM docs WHERE id IN (2, 3)", []).unwrap();
        assert_eq!(ids("SELECT doc, doc_id FROM requests UNION ALL SELECT doc, doc_id FROM complaints"), [(1, "r1".to_string())]);
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
