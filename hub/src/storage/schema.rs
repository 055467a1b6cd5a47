//! The one schema version history both back ends follow. Each version is written once, with a
//! few type words filled in per dialect (`{blob}` is `BLOB` in SQLite and `BYTEA` in
//! PostgreSQL, and so on), and applied in order: SQLite counts the versions that ran in
//! `user_version`, PostgreSQL in the `jemput_schema` table. A database newer than the program
//! is refused, untouched.
//!
//! Until schema v3, PostgreSQL had a shorter history of its own (its version 1 was SQLite's
//! versions 1 and 2 together, its version 2 SQLite's version 3); `jemput_schema` rows from
//! that time have no `unified` mark, and are renumbered (1 → 2, 2 → 3) the first time a newer
//! hub opens the database: the tables they describe are the same.

use super::sql::Dialect;

/// The versions, in order; version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    // 1: the first hub.
    "
CREATE TABLE meta (key TEXT PRIMARY KEY, value {blob} NOT NULL){without_rowid};
CREATE TABLE officers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER, active {bool} NOT NULL DEFAULT {true}, created_at {i64} NOT NULL);
CREATE TABLE enrol_codes (
    code_hash {blob} PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), expires_at {i64} NOT NULL, used_at {i64});
CREATE TABLE devices (
    id TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers(id), name TEXT NOT NULL, token_hash {blob} NOT NULL UNIQUE,
    prefix_index INTEGER NOT NULL UNIQUE, revoked_at {i64}, created_at {i64} NOT NULL, last_seen {i64});
CREATE TABLE device_actors (actor TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id)){without_rowid};
CREATE TABLE docs (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, sealed {blob} NOT NULL, seq {i64} NOT NULL);
CREATE TABLE change_log (seq {serial_key}, doc_id TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL);
CREATE INDEX change_log_by_area ON change_log(rw, rt, seq);
CREATE TABLE device_known (
    device_id TEXT NOT NULL, doc_id TEXT NOT NULL, heads {blob} NOT NULL, pending {blob}, pending_cursor {i64},
    PRIMARY KEY (device_id, doc_id)){without_rowid};
CREATE TABLE audit (id {row_key}, at {i64} NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, doc_id TEXT);
",
    // 2: staff accounts (the single shared staff token of the first hub goes); office index
    // columns on documents.
    "
CREATE TABLE staff (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash {blob} NOT NULL UNIQUE, active {bool} NOT NULL DEFAULT {true}, created_at {i64} NOT NULL);
ALTER TABLE docs ADD COLUMN status TEXT;
ALTER TABLE docs ADD COLUMN receipt TEXT;
CREATE INDEX docs_by_kind ON docs(kind, seq);
CREATE INDEX docs_by_receipt ON docs(receipt) WHERE receipt IS NOT NULL;
DELETE FROM meta WHERE key = 'staff_token';
",
    // 3: resumable sync exchanges (ADR 0006); each document's full message and heads, sent to
    // devices that have none of it without decoding the document.
    "
CREATE TABLE exchanges (
    device_id TEXT PRIMARY KEY REFERENCES devices(id), key TEXT NOT NULL, upload {blob} NOT NULL, answer {blob}, at {i64} NOT NULL)
    {without_rowid};
ALTER TABLE docs ADD COLUMN full_message {blob};
ALTER TABLE docs ADD COLUMN heads {blob};
",
    // 4: the staff dashboard (ADR 0012): roles and sign-in, sessions, throttling, inbox marks,
    // the office index of requests (every column a list filters and sorts on; names and NIKs
    // only as blind tags and inside the sealed row).
    "
CREATE TABLE staff_profiles (
    staff_id TEXT PRIMARY KEY REFERENCES staff(id), role TEXT NOT NULL, username TEXT UNIQUE, password_hash TEXT){without_rowid};
CREATE TABLE web_sessions (
    id_hash {blob} PRIMARY KEY, staff_id TEXT NOT NULL REFERENCES staff(id), csrf TEXT NOT NULL, created_at {i64} NOT NULL,
    last_seen {i64} NOT NULL){without_rowid};
CREATE TABLE rate_limits (key TEXT PRIMARY KEY, first_at {i64} NOT NULL, hits INTEGER NOT NULL){without_rowid};
CREATE TABLE seen_marks (staff_id TEXT PRIMARY KEY, seq {i64} NOT NULL){without_rowid};
CREATE TABLE office_index (
    doc_id TEXT PRIMARY KEY, seq {i64} NOT NULL, status TEXT NOT NULL, rw INTEGER NOT NULL, rt INTEGER NOT NULL, receipt TEXT NOT NULL,
    service TEXT NOT NULL, created_at {i64} NOT NULL, officer_id TEXT NOT NULL){without_rowid};
CREATE INDEX office_index_by_seq ON office_index(seq);
CREATE INDEX office_index_by_area ON office_index(rw, rt, status);
CREATE INDEX office_index_by_status ON office_index(status);
CREATE INDEX office_index_by_receipt ON office_index(receipt);
CREATE INDEX office_index_by_service ON office_index(service, created_at);
CREATE TABLE office_rows (doc_id TEXT PRIMARY KEY, sealed_row {blob} NOT NULL){without_rowid};
CREATE TABLE office_tags (tag {i64} NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (tag, doc_id)){without_rowid};
CREATE INDEX office_tags_by_doc ON office_tags(doc_id);
CREATE INDEX audit_by_actor ON audit(actor, id);
",
    // 5: erasure (ADR 0013): the records whose personal data was erased (the hub keeps only
    // their letter register entry), so every later change to them from any device is refused
    // and every device in scope is told to delete its copy; the staff's reason and who erased.
    "
CREATE TABLE erased_docs (
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, erased_at {i64} NOT NULL, reason TEXT NOT NULL, erased_by TEXT NOT NULL){without_rowid};
",
    // 6: what each device still held to send at its last sync (its backlog, as it reported
    // it), for the office's device list; NULL = not told (a device from before the field).
    "
ALTER TABLE devices ADD COLUMN backlog_requests INTEGER;
ALTER TABLE devices ADD COLUMN backlog_complaints INTEGER;
ALTER TABLE devices ADD COLUMN backlog_refused INTEGER;
",
    // 7: what every sync reads, found without scanning (benchmark scenario 9).
    // - A device's actors by the device: the sign-in of every exchange joined them without an
    //   index, reading every enrolled device's actors.
    // - Sealed bytes kept as they are (PostgreSQL; nothing to do in SQLite). They are
    //   ciphertext, which never compresses, yet PostgreSQL tried to compress every row over
    //   2 KB and then moved its largest value out of line (TOAST): a document row (its snapshot
    //   and full message, about 1 KB each) was split, written and read back through the TOAST
    //   table's index. Now a row up to a page stays whole, and a larger value (a kept
    //   exchange's answer) goes out of line without a compression attempt.
    "
CREATE INDEX device_actors_by_device ON device_actors(device_id);
{sealed_as_is}",
];

/// Every table of the schema with the columns that order its rows, parents before the tables
/// that refer to them: what a backup copies and a restore writes back, on either back end
/// (ADR 0014). A test checks it names every table the migrations create.
pub const TABLES: &[(&str, &str)] = &[
    ("meta", "key"),
    ("officers", "id"),
    ("enrol_codes", "code_hash"),
    ("devices", "id"),
    ("device_actors", "actor"),
    ("docs", "doc_id"),
    ("change_log", "seq"),
    ("device_known", "device_id, doc_id"),
    ("audit", "id"),
    ("staff", "id"),
    ("exchanges", "device_id"),
    ("staff_profiles", "staff_id"),
    ("web_sessions", "id_hash"),
    ("rate_limits", "key"),
    ("seen_marks", "staff_id"),
    ("office_index", "doc_id"),
    ("office_rows", "doc_id"),
    ("office_tags", "tag, doc_id"),
    ("erased_docs", "doc_id"),
];

/// The columns numbered by the database (PostgreSQL sequences, SQLite `AUTOINCREMENT` or row
/// ids): after a restore writes rows back, numbering continues after the highest.
pub const SERIALS: &[(&str, &str)] = &[("change_log", "seq"), ("audit", "id")];

/// The schema version this build writes (the same on both back ends).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The SQL of schema version `version` (1-based) in `dialect`, or `None` past the last.
pub fn migration(dialect: Dialect, version: usize) -> Option<String> {
    let template = MIGRATIONS.get(version.checked_sub(1)?)?;
    let words: &[(&str, &str)] = match dialect {
        Dialect::Sqlite => &[
            ("{blob}", "BLOB"),
            ("{bool}", "INTEGER"),
            ("{true}", "1"),
            ("{i64}", "INTEGER"),
            ("{serial_key}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            ("{row_key}", "INTEGER PRIMARY KEY"),
            ("{without_rowid}", " WITHOUT ROWID"),
            ("{sealed_as_is}", ""),
        ],
        Dialect::Postgres => &[
            ("{blob}", "BYTEA"),
            ("{bool}", "BOOLEAN"),
            ("{true}", "TRUE"),
            ("{i64}", "BIGINT"),
            ("{serial_key}", "BIGSERIAL PRIMARY KEY"),
            ("{row_key}", "BIGSERIAL PRIMARY KEY"),
            ("{without_rowid}", ""),
            (
                "{sealed_as_is}",
                "ALTER TABLE docs ALTER COLUMN sealed SET STORAGE EXTERNAL, ALTER COLUMN full_message SET STORAGE EXTERNAL,
                     SET (toast_tuple_target = 8160);
                 ALTER TABLE exchanges ALTER COLUMN upload SET STORAGE EXTERNAL, ALTER COLUMN answer SET STORAGE EXTERNAL;
                 ALTER TABLE office_rows ALTER COLUMN sealed_row SET STORAGE EXTERNAL;",
            ),
        ],
    };
    Some(words.iter().fold(template.to_string(), |sql, (word, with)| sql.replace(word, with)))
}

/// The refusal of a database whose schema is newer than this program.
pub fn too_new(version: usize) -> super::StorageError {
    super::StorageError::Config(format!(
        "basis data hub versi {version} lebih baru dari program ini (versi {SCHEMA_VERSION}); perbarui jemput-hub"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_fills_every_word_on_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for v in 1..=SCHEMA_VERSION {
                let sql = migration(dialect, v).unwrap();
                assert!(!sql.contains('{') && !sql.contains('}'), "version {v} ({dialect:?}) has a word left: {sql}");
            }
            assert_eq!(migration(dialect, 0), None);
            assert_eq!(migration(dialect, SCHEMA_VERSION + 1), None);
        }
    }
}
