//! Where the hub keeps its data, behind one trait with two real back ends: SQLite (one file,
//! nothing to install; the default) and PostgreSQL (several hub instances behind a load
//! balancer share one database). The hub's logic (the engine and services) speaks only to
//! [`HubTx`], one transaction's worth of storage primitives; [`HubDb`] runs a closure in a
//! transaction on either back end and commits only when it returns `Ok`, so an answer the hub
//! sends is durable (SQLite `synchronous=FULL`, PostgreSQL's WAL with `fsync`).

pub mod backup;
pub mod backup_image;
pub mod backup_keys;
pub mod postgres;
pub mod schema;
pub mod sql;
pub mod sqlite;
pub mod web_sql;

use std::sync::Arc;

use jemput_core::crypto::{Cipher, MasterKey};
use jemput_core::sync::protocol::Backlog;

pub mod error;

pub use error::{StorageError, TxError};

/// An officer as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Officer {
    /// Officer id.
    pub id: String,
    /// Name.
    pub name: String,
    /// RW.
    pub rw: u16,
    /// RT, or none for the whole RW.
    pub rt: Option<u16>,
    /// Active (not revoked).
    pub active: bool,
}

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaffAccount {
    /// Staff id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Active (not revoked).
    pub active: bool,
}

/// A device row (without its actors).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Officer id.
    pub officer_id: String,
    /// Device name given at enrolment.
    pub name: String,
    /// Scope RW (the officer's).
    pub rw: u16,
    /// Scope RT (the officer's; none = whole RW).
    pub rt: Option<u16>,
    /// Revoked when (ms since epoch).
    pub revoked_at: Option<i64>,
    /// Last sync (ms since epoch).
    pub last_seen: Option<i64>,
    /// What the device still held to send after its last exchange, as it reported it (`None`:
    /// not told, e.g. an app from before the field, or never synced).
    pub backlog: Option<Backlog>,
    /// Index of its receipt prefix (`DevicePrefix::from_index`).
    #[serde(skip)]
    pub prefix_index: u32,
}

/// A new device to insert.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    /// Device id.
    pub id: &'a str,
    /// Officer id.
    pub officer_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Hash of its token.
    pub token_hash: &'a [u8],
    /// Index of its receipt prefix.
    pub prefix_index: u32,
    /// When.
    pub created_at: i64,
}

/// One enrolment code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolCode {
    /// Officer it enrols.
    pub officer_id: String,
    /// Expiry (ms since epoch).
    pub expires_at: i64,
    /// When it was used.
    pub used_at: Option<i64>,
}

/// What the hub knows a device holds of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRow {
    /// Heads the device is known to have (32-byte hashes, concatenated).
    pub heads: Vec<u8>,
    /// Heads sent in an answer, and that answer's cursor; they count once the device comes back
    /// with that cursor.
    pub pending: Option<(Vec<u8>, i64)>,
}

/// Index columns of a stored document (no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocPlace<'a> {
    /// `request`, `complaint`, `catalog`, `kelurahan`.
    pub kind: &'a str,
    /// RW (0 for documents every device gets).
    pub rw: u16,
    /// RT (0 for documents every device gets).
    pub rt: u16,
    /// Status code, for office lists.
    pub status: Option<&'a str>,
    /// Receipt code, for lookups at the counter.
    pub receipt: Option<&'a str>,
}

/// A device's latest resumable sync exchange (ADR 0006): the part of its upload received so far
/// and, once the exchange has been applied, the answer, both sealed. One row per device; a new
/// exchange replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    /// The key the device chose for the exchange.
    pub key: String,
    /// The upload received so far (sealed), empty once answered.
    pub upload: Vec<u8>,
    /// The answer (sealed), once the exchange has been applied.
    pub answer: Option<Vec<u8>>,
    /// Last change (ms since epoch).
    pub at: i64,
}

/// A stored document's message for a device that has none of it (all its changes, sealed), and
/// the document's heads (32-byte hashes, concatenated), so the exchange can send it without
/// decoding the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFull {
    /// The sealed message.
    pub message: Vec<u8>,
    /// The heads.
    pub heads: Vec<u8>,
}

/// One document to store with [`HubTx::store_sealed_docs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedDocIn<'a> {
    /// Document id.
    pub doc_id: &'a str,
    /// Index columns.
    pub place: DocPlace<'a>,
    /// The sealed document.
    pub sealed: &'a [u8],
    /// The sealed message carrying all its changes.
    pub full_message: &'a [u8],
    /// Its heads (32-byte hashes, concatenated).
    pub heads: &'a [u8],
}

/// A filter for office lists of documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocFilter {
    /// Kind of document.
    pub kind: String,
    /// Status code.
    pub status: Option<String>,
    /// RW.
    pub rw: Option<u16>,
    /// RT.
    pub rt: Option<u16>,
}

/// A read a transaction is about to make, named ahead with [`HubTx::read_ahead`] so that
/// PostgreSQL answers several in one round trip. Each names the method that will ask for it,
/// with the same arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ahead<'a> {
    /// [`HubTx::meta`] of this key.
    Meta(&'a str),
    /// [`HubTx::exchange`] of this device (it locks the row).
    Exchange(&'a str),
    /// [`HubTx::sealed_docs`] of these ids, locked or not.
    SealedDocs(&'a [&'a str], bool),
    /// [`HubTx::sealed_fulls`] of these ids.
    SealedFulls(&'a [&'a str]),
    /// [`HubTx::known_many`] of this device and these ids.
    Known(&'a str, &'a [&'a str]),
    /// [`HubTx::erased_among`] of these ids.
    Erased(&'a [&'a str]),
    /// [`HubTx::changes_up_to_top`] of these arguments.
    ChangesUpToTop {
        /// After this sequence number.
        after: i64,
        /// RW.
        rw: u16,
        /// Lowest RT.
        rt_lo: u16,
        /// Highest RT.
        rt_hi: u16,
    },
}

/// One transaction's worth of storage primitives. Implemented by each back end; the logic above
/// it is shared, so both back ends behave the same (one acceptance suite runs against both).
pub trait HubTx {
    /// Makes the reads of `reads` now, together (on PostgreSQL one round trip for all), so
    /// that the methods they name answer from them when asked with the same arguments in this
    /// transaction, until it writes to what they read. Only a hint: what is asked otherwise
    /// is read when it is asked, and SQLite reads everything then.
    fn read_ahead(&mut self, reads: &[Ahead<'_>]) -> Result<(), StorageError>;

    /// A value of the hub's own settings.
    fn meta(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Sets a value of the hub's own settings.
    fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError>;

    /// A sealed document. With `for_update`, the row stays locked until the transaction ends
    /// (another hub instance writing the same document waits).
    fn sealed_doc(&mut self, doc_id: &str, for_update: bool) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores a sealed document, the sealed message carrying all its changes and its heads, and
    /// appends it to the change log; returns its sequence number. Sequence numbers become
    /// visible in the order they were given out.
    fn put_sealed_doc(&mut self, doc_id: &str, place: &DocPlace<'_>, sealed: &[u8], full: &SealedFull) -> Result<i64, StorageError>;
    /// The sealed message carrying all of a document's changes, with its heads (none for a
    /// document stored before schema v3).
    fn sealed_full(&mut self, doc_id: &str) -> Result<Option<SealedFull>, StorageError>;
    /// Ids of documents matching `filter`, newest change first.
    fn doc_ids(&mut self, filter: &DocFilter, offset: u32, limit: u32) -> Result<Vec<String>, StorageError>;
    /// How many documents match `filter`.
    fn count_docs(&mut self, filter: &DocFilter) -> Result<u64, StorageError>;
    /// The id of the record with this receipt code (the engine lets only one record carry a
    /// code; should a database hold two from before, the lowest id, that is the older one).
    fn doc_by_receipt(&mut self, receipt: &str) -> Result<Option<String>, StorageError>;
    /// The highest sequence number in the change log (0 when empty).
    fn top_seq(&mut self) -> Result<i64, StorageError>;
    /// Documents changed with `after < seq <= upto`, in RW `rw` with RT in `rt_lo..=rt_hi`, or
    /// everyone's (RW 0, RT 0); each once, with its last sequence number, oldest first.
    fn changed_docs(&mut self, after: i64, upto: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<Vec<(i64, String)>, StorageError>;

    /// [`HubTx::top_seq`] and [`HubTx::changed_docs`] up to it, read in one statement (so
    /// both see the same state): the highest sequence number, and the documents changed after
    /// `after` up to it in RW `rw` with RT in `rt_lo..=rt_hi` or everyone's.
    fn changes_up_to_top(&mut self, after: i64, rw: u16, rt_lo: u16, rt_hi: u16) -> Result<(i64, Vec<(i64, String)>), StorageError>;

    /// What the hub knows a device holds of a document.
    fn known(&mut self, device_id: &str, doc_id: &str) -> Result<Option<KnownRow>, StorageError>;
    /// Sets the heads a device holds (keeps any pending heads).
    fn set_known(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError>;
    /// Moves pending heads to known heads.
    fn promote_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8]) -> Result<(), StorageError>;
    /// Records heads sent in an answer with cursor `cursor`.
    fn set_pending(&mut self, device_id: &str, doc_id: &str, heads: &[u8], cursor: i64) -> Result<(), StorageError>;
    // ---- Batches: one statement for many documents on PostgreSQL (each statement there is a
    // ---- round trip, made while the exchange may hold the change-log lock); SQLite, in
    // ---- process, runs the single statements in a loop.

    /// [`HubTx::sealed_doc`] for several documents at once: those stored, by id (locked in id
    /// order with `for_update`).
    fn sealed_docs(&mut self, doc_ids: &[&str], for_update: bool) -> Result<Vec<(String, Vec<u8>)>, StorageError>;
    /// [`HubTx::sealed_full`] for several documents at once: those that have one, by id.
    fn sealed_fulls(&mut self, doc_ids: &[&str]) -> Result<Vec<(String, SealedFull)>, StorageError>;
    /// [`HubTx::put_sealed_doc`] for several documents at once (distinct ids), appended to the
    /// change log in the order given. On PostgreSQL the write goes out with the next statement
    /// the transaction waits for (its error, if any, fails that one).
    fn store_sealed_docs(&mut self, docs: &[SealedDocIn<'_>]) -> Result<(), StorageError>;
    /// [`HubTx::known`] for several documents at once: the rows there are, by document id.
    fn known_many(&mut self, device_id: &str, doc_ids: &[&str]) -> Result<Vec<(String, KnownRow)>, StorageError>;
    /// [`HubTx::set_known`] for several documents at once (distinct ids): (document, heads).
    fn set_known_many(&mut self, device_id: &str, rows: &[(&str, &[u8])]) -> Result<(), StorageError>;
    /// [`HubTx::promote_pending`] for several documents at once (distinct ids).
    fn promote_pending_many(&mut self, device_id: &str, rows: &[(&str, &[u8])]) -> Result<(), StorageError>;
    /// [`HubTx::set_pending`] for several documents at once (distinct ids), one answer's cursor.
    fn set_pending_many(&mut self, device_id: &str, rows: &[(&str, &[u8])], cursor: i64) -> Result<(), StorageError>;
    /// Which of `doc_ids` were erased (ADR 0013), by id.
    fn erased_among(&mut self, doc_ids: &[&str]) -> Result<Vec<String>, StorageError>;
    /// [`HubTx::doc_by_receipt`] for several codes at once: (code, the lowest id holding it).
    fn docs_by_receipts(&mut self, receipts: &[&str]) -> Result<Vec<(String, String)>, StorageError>;
    /// [`HubTx::audit`] for several entries at once, in order: (actor, action, document).
    fn audit_many(&mut self, at: i64, entries: &[(&str, &str, Option<&str>)]) -> Result<(), StorageError>;

    /// Forgets every pending head (after a restore, ADR 0014: answers sent before it may not
    /// have reached their devices, and the cursors they wait for mean nothing any more).
    fn forget_pending_heads(&mut self) -> Result<(), StorageError>;

    /// Marks a document erased (ADR 0013); `false` when it already was.
    fn mark_erased(&mut self, erased: &ErasedDoc) -> Result<bool, StorageError>;
    /// The erasure of a document, if it was erased.
    fn erased(&mut self, doc_id: &str) -> Result<Option<ErasedDoc>, StorageError>;
    /// Every erasure, oldest first (carried into a hub restored from a backup, ADR 0014).
    fn erased_all(&mut self) -> Result<Vec<ErasedDoc>, StorageError>;
    /// Forgets what every device was known to hold of a document.
    fn forget_known(&mut self, doc_id: &str) -> Result<(), StorageError>;
    /// Drops every held upload and answer of resumable exchanges (they may carry an erased
    /// document's old changes); a device that asks for one sends its exchange again.
    fn drop_exchanges(&mut self) -> Result<(), StorageError>;

    /// Appends to the audit log.
    fn audit(&mut self, at: i64, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), StorageError>;
    /// The newest audit entries.
    fn audit_tail(&mut self, limit: u32) -> Result<Vec<AuditEntry>, StorageError>;

    /// Inserts an officer.
    fn insert_officer(&mut self, officer: &Officer, created_at: i64) -> Result<(), StorageError>;
    /// All officers.
    fn officers(&mut self) -> Result<Vec<Officer>, StorageError>;
    /// One officer.
    fn officer(&mut self, id: &str) -> Result<Option<Officer>, StorageError>;
    /// Marks an officer inactive; false when unknown.
    fn deactivate_officer(&mut self, id: &str) -> Result<bool, StorageError>;

    /// Inserts an enrolment code (its hash).
    fn insert_enrol_code(&mut self, code_hash: &[u8], officer_id: &str, expires_at: i64) -> Result<(), StorageError>;
    /// An enrolment code, locked for this transaction.
    fn enrol_code(&mut self, code_hash: &[u8]) -> Result<Option<EnrolCode>, StorageError>;
    /// Marks a code used; false when it already was.
    fn use_enrol_code(&mut self, code_hash: &[u8], at: i64) -> Result<bool, StorageError>;

    /// The next free receipt-prefix index.
    fn next_prefix_index(&mut self) -> Result<u32, StorageError>;
    /// Whether a device id is taken.
    fn device_exists(&mut self, id: &str) -> Result<bool, StorageError>;
    /// Inserts a device.
    fn insert_device(&mut self, device: &NewDevice<'_>) -> Result<(), StorageError>;
    /// Binds an Automerge actor id (hex) to a device; `false` (nothing changed) when the actor
    /// id is bound already.
    fn bind_actor(&mut self, actor_hex: &str, device_id: &str) -> Result<bool, StorageError>;
    /// The device with this token hash.
    fn device_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<DeviceRow>, StorageError>;
    /// [`HubTx::device_by_token_hash`] with [`HubTx::device_actors`] (sorted), in one statement.
    fn device_with_actors_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<(DeviceRow, Vec<String>)>, StorageError>;
    /// One device.
    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StorageError>;
    /// Actor ids bound to a device.
    fn device_actors(&mut self, device_id: &str) -> Result<Vec<String>, StorageError>;
    /// All devices.
    fn devices(&mut self) -> Result<Vec<DeviceRow>, StorageError>;
    /// Revokes the devices of an officer.
    fn revoke_devices_of(&mut self, officer_id: &str, at: i64) -> Result<(), StorageError>;
    /// Revokes one device; false when unknown or already revoked.
    fn revoke_device(&mut self, device_id: &str, at: i64) -> Result<bool, StorageError>;
    /// Records a device's last sync.
    fn touch_device(&mut self, device_id: &str, at: i64, backlog: Option<Backlog>) -> Result<(), StorageError>;
    /// A device's latest resumable exchange.
    fn exchange(&mut self, device_id: &str) -> Result<Option<ExchangeRow>, StorageError>;
    /// Stores a device's latest resumable exchange, replacing the one before.
    fn put_exchange(&mut self, device_id: &str, row: &ExchangeRow) -> Result<(), StorageError>;

    /// Inserts a staff account.
    fn insert_staff(&mut self, staff: &StaffAccount, token_hash: &[u8], created_at: i64) -> Result<(), StorageError>;
    /// The active or revoked staff account with this token hash.
    fn staff_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<StaffAccount>, StorageError>;
    /// All staff accounts.
    fn staff_accounts(&mut self) -> Result<Vec<StaffAccount>, StorageError>;
    /// Marks a staff account inactive; false when unknown.
    fn deactivate_staff(&mut self, id: &str) -> Result<bool, StorageError>;

    // ---- Staff dashboard (web): sign-in, sessions, throttling, inbox marks, office index,
    // ---- audit queries. Implemented in the marked block at the end of each back end.

    /// A staff account's role and sign-in (none for an account made before the dashboard).
    fn staff_profile(&mut self, staff_id: &str) -> Result<Option<StaffProfile>, StorageError>;
    /// The profile with this user name (compared as stored: lower case).
    fn staff_profile_by_username(&mut self, username: &str) -> Result<Option<StaffProfile>, StorageError>;
    /// Inserts or replaces a staff account's profile.
    fn put_staff_profile(&mut self, profile: &StaffProfile) -> Result<(), StorageError>;
    /// Inserts a dashboard session.
    fn insert_web_session(&mut self, session: &WebSession) -> Result<(), StorageError>;
    /// The session with this id hash.
    fn web_session(&mut self, id_hash: &[u8]) -> Result<Option<WebSession>, StorageError>;
    /// Records a session's last use.
    fn touch_web_session(&mut self, id_hash: &[u8], at: i64) -> Result<(), StorageError>;
    /// Ends one session.
    fn delete_web_session(&mut self, id_hash: &[u8]) -> Result<(), StorageError>;
    /// Ends every session of a staff account, and every session idle since before `idle_before`.
    fn delete_web_sessions(&mut self, staff_id: Option<&str>, idle_before: i64) -> Result<(), StorageError>;
    /// Counts one hit on `key` in a window of `window_ms` that starts at its first hit; returns
    /// the hits in the current window, this one included.
    fn rate_hit(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError>;
    /// Hits on `key` in its current window (0 when the window has passed).
    fn rate_count(&mut self, key: &str, now: i64, window_ms: i64) -> Result<u32, StorageError>;
    /// Forgets the hits on `key`.
    fn rate_clear(&mut self, key: &str) -> Result<(), StorageError>;
    /// The change-log sequence a staff member last looked at in the inbox.
    fn seen_mark(&mut self, staff_id: &str) -> Result<Option<i64>, StorageError>;
    /// Sets it.
    fn set_seen_mark(&mut self, staff_id: &str, seq: i64) -> Result<(), StorageError>;
    /// Documents of `kind` stored with `seq > after`, oldest first: (seq, id).
    fn docs_after(&mut self, kind: &str, after: i64, limit: u32) -> Result<Vec<(i64, String)>, StorageError>;
    /// Inserts or replaces a document's office index row and its search tags.
    fn put_office_index(&mut self, row: &OfficeIndexRow) -> Result<(), StorageError>;
    /// Indexed documents matching `q`, newest change first: (id, sealed list row).
    fn office_rows(&mut self, q: &OfficeQuery, offset: u32, limit: u32) -> Result<Vec<(String, Vec<u8>)>, StorageError>;
    /// How many indexed documents match `q`.
    fn office_count(&mut self, q: &OfficeQuery) -> Result<u64, StorageError>;
    /// Documents of `kind` per status code.
    fn status_counts(&mut self, kind: &str) -> Result<Vec<(String, u64)>, StorageError>;
    /// Audit entries matching `q`, newest first.
    fn audit_query(&mut self, q: &AuditFilter, offset: u32, limit: u32) -> Result<Vec<AuditEntry>, StorageError>;
    /// The audit entries from `from` (inclusive) to `until` (exclusive), oldest first, at
    /// most `limit`, each with the receipt code of its document when the hub holds one (for
    /// the breach report, ADR 0014).
    fn audit_export(&mut self, from: i64, until: i64, limit: u32) -> Result<Vec<(AuditEntry, Option<String>)>, StorageError>;

    // ---- Access requests and key rotation (ADR 0015). Implemented in the marked block at the
    // ---- end of each back end.

    /// Replaces the blind tags of a document that has no office index row (a complaint), so
    /// an access request finds it; office lists never see them (they read the index).
    fn put_doc_tags(&mut self, doc_id: &str, tags: &[i64]) -> Result<(), StorageError>;
    /// Documents carrying blind tag `tag`: (id, kind), by id.
    fn docs_with_tag(&mut self, tag: i64) -> Result<Vec<(String, String)>, StorageError>;
    /// Up to `limit` stored documents with an id after `after_id`, by id, with what is sealed
    /// in them (for re-sealing under a new data key).
    fn sealed_docs_after(&mut self, after_id: &str, limit: u32) -> Result<Vec<SealedDocRow>, StorageError>;
    /// Replaces a document's sealed bytes and sealed full message in place: same content, same
    /// sequence number, nothing appended to the change log (devices are not sent it again).
    fn reseal_doc(&mut self, doc_id: &str, sealed: &[u8], full_message: Option<&[u8]>) -> Result<(), StorageError>;
    /// The devices that have a stored sync exchange.
    fn exchange_devices(&mut self) -> Result<Vec<String>, StorageError>;
    /// Empties the office index (its rows, sealed rows and tags); the next catch-up rebuilds it.
    fn clear_office_index(&mut self) -> Result<(), StorageError>;

    // Backups and restores of either back end (ADR 0014): the tables copied row by row.
    /// Makes this (read) transaction see one consistent state throughout; it must come before
    /// any other statement (PostgreSQL: `REPEATABLE READ`; a SQLite transaction already does).
    fn snapshot_reads(&mut self) -> Result<(), StorageError>;
    /// A page of the rows of `table` (one of [`schema::TABLES`]), every column in the schema's
    /// order, in the order of the table's key.
    fn table_rows(&mut self, table: &str, offset: u64, limit: u32) -> Result<Vec<sql::Row>, StorageError>;
    /// Writes back one row of `table` as [`HubTx::table_rows`] gave it.
    fn insert_table_row(&mut self, table: &str, row: &sql::Row) -> Result<(), StorageError>;
    /// Deletes every row of every table (a restore into a database that holds no hub yet).
    fn clear_tables(&mut self) -> Result<(), StorageError>;
    /// After rows were written back: the database numbers new rows after the highest restored.
    fn restart_serials(&mut self) -> Result<(), StorageError>;
}

/// A stored document's sealed parts, for re-sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedDocRow {
    /// Document id.
    pub doc_id: String,
    /// The sealed document.
    pub sealed: Vec<u8>,
    /// The sealed message carrying all its changes (none before schema v3).
    pub full_message: Option<Vec<u8>>,
}

/// A document whose personal data was erased (ADR 0013).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErasedDoc {
    /// Document id.
    pub doc_id: String,
    /// `request` or `complaint`.
    pub kind: String,
    /// When (ms since epoch).
    pub erased_at: i64,
    /// Why (the staff's reason, or the retention policy).
    pub reason: String,
    /// Who (`staf:<id>`, `sistem:retensi`).
    pub erased_by: String,
}

/// A staff account's dashboard profile: role and sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffProfile {
    /// Staff id.
    pub staff_id: String,
    /// Role code (`operator`, `pimpinan`, `admin`).
    pub role: String,
    /// User name for signing in (lower case), if the account signs in to the dashboard.
    pub username: Option<String>,
    /// Argon2id hash of the password (PHC string).
    pub password_hash: Option<String>,
}

/// A dashboard session (only the hash of its cookie is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// Hash of the session cookie.
    pub id_hash: Vec<u8>,
    /// Staff id.
    pub staff_id: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Created (ms since epoch).
    pub created_at: i64,
    /// Last use (ms since epoch).
    pub last_seen: i64,
}

/// Office index columns of a request (no personal data in clear: names and NIKs only as blind
/// tags and inside the sealed row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeIndexRow {
    /// Document id.
    pub doc_id: String,
    /// Its change-log sequence (lists are newest change first).
    pub seq: i64,
    /// Status code as the office sees it.
    pub status: String,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// Receipt code.
    pub receipt: String,
    /// Service code.
    pub service: String,
    /// Recorded (ms since epoch).
    pub created_at: i64,
    /// Officer who recorded it.
    pub officer_id: String,
    /// Blind tags of the NIK and of the name's words.
    pub tags: Vec<i64>,
    /// What a list row shows, sealed under the hub's data key (names and NIKs are personal
    /// data), so a list page opens small rows instead of whole documents.
    pub sealed_row: Vec<u8>,
}

/// A query over indexed requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeQuery {
    /// Area and status, as in office lists.
    pub doc: DocFilter,
    /// Service code.
    pub service: Option<String>,
    /// Recorded at or after (ms since epoch).
    pub from: Option<i64>,
    /// Recorded before (ms since epoch).
    pub until: Option<i64>,
    /// Receipt code.
    pub receipt: Option<String>,
    /// Every one of these tags.
    pub tags: Vec<i64>,
    /// Stored after this change-log sequence.
    pub after_seq: Option<i64>,
    /// Recorded by this officer.
    pub officer_id: Option<String>,
}

/// A filter of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this actor.
    pub actor: Option<String>,
    /// Actions starting with this.
    pub action_prefix: Option<String>,
    /// This document.
    pub doc_id: Option<String>,
    /// At or after (ms since epoch).
    pub from: Option<i64>,
    /// Before (ms since epoch).
    pub until: Option<i64>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When (ms since epoch).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which document.
    pub doc_id: Option<String>,
}

/// A storage back end: runs a closure in one transaction, committing when it returns `Ok`.
pub trait Backend: Send + Sync {
    /// Runs `f` in a transaction. A back end may run `f` again after a transient conflict
    /// (e.g. a PostgreSQL deadlock between two hub instances); `f` must only touch the
    /// transaction.
    fn transaction(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError>;
    /// Runs `f`, which only reads, in a transaction that sees one consistent state. A back end
    /// may run it beside a write transaction instead of after it (SQLite: a reader
    /// connection); by default it is a [`Backend::transaction`].
    fn read(&self, f: &mut (dyn FnMut(&mut dyn HubTx) -> Result<(), StorageError> + Send)) -> Result<(), StorageError> {
        self.transaction(f)
    }
    /// A short name for logs (`sqlite`, `postgres`).
    fn name(&self) -> &'static str;
    /// Whether write transactions wait for each other whatever they touch (SQLite: one writer
    /// at a time), so that work done inside one holds up every other writer. PostgreSQL locks
    /// rows, and the change log only while storing.
    fn one_writer_at_a_time(&self) -> bool {
        false
    }
    /// Makes deleted and overwritten rows leave the database files (after an erasure, ADR
    /// 0013), outside any transaction: SQLite (which zeroes freed space, `secure_delete`)
    /// folds its write-ahead log back and truncates it; PostgreSQL rewrites the tables that
    /// held personal data (`VACUUM FULL`).
    fn scrub(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// The `meta` key of the hub's lineage: a random number phones compare from one exchange to
/// the next; a restored database gets a new one, so phones learn that the hub went back in
/// time and send again what it lost (ADR 0014).
pub const EPOCH_KEY: &str = "epoch";

/// The `meta` key of the hub's own Automerge actor (its stamps and staff edits).
pub const HUB_ACTOR_KEY: &str = "actor";

/// The `meta` key of the check value sealed under the current data key (a hub instance
/// started before a key rotation refuses to seal under the retired key, ADR 0015).
pub const KEY_CHECK_KEY: &str = "key_check";

/// A fresh lineage number (never 0, which means "not told" on the wire): 32 random bits, so
/// it costs at most 5 bytes in every answer, and a restore goes unnoticed with a chance of one
/// in four billion.
pub fn new_epoch() -> u64 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the OS random source works");
    u64::from(u32::from_le_bytes(b).max(1))
}

/// The meta key marking a key rotation under way (ADR 0015): a value sealed under the key
/// being retired (the key check is already under the next key); empty or absent when none is.
pub const ROTATION_MARK: &str = "key_rotation";
/// The context the rotation mark is sealed with.
pub const ROTATION_MARK_CONTEXT: &[u8] = b"hub:key_rotation";

/// The hub's database: a back end plus the cipher that seals documents. Cheap to clone.
#[derive(Clone)]
pub struct HubDb {
    backend: Arc<dyn Backend>,
    cipher: Arc<Cipher>,
    /// The register of backup keys whose keys erasures destroy ([`backup_keys`]), if set.
    backup_keys: Option<Arc<std::path::PathBuf>>,
}

impl HubDb {
    /// Opens the database at `location`: a `postgres://` or `postgresql://` URL, or else a
    /// SQLite file path. Checks the data key against the database (a wrong key is an error,
    /// and nothing is written).
    pub fn open(location: &str, key: &MasterKey) -> Result<HubDb, StorageError> {
        let backend: Arc<dyn Backend> = if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Arc::new(postgres::PgBackend::connect(location)?)
        } else {
            Arc::new(sqlite::SqliteBackend::open(std::path::Path::new(location))?)
        };
        HubDb::with_backend(backend, key)
    }

    /// Opens the database at `location` (see [`HubDb::open`]) with the data key and, while a
    /// key rotation is under way (ADR 0015), the next key: the database says which of them it
    /// is sealed under (its key check, and the rotation mark sealed under the next key).
    pub fn open_keys(location: &str, key: &MasterKey, next: Option<&MasterKey>) -> Result<HubDb, StorageError> {
        let backend: Arc<dyn Backend> = if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Arc::new(postgres::PgBackend::connect(location)?)
        } else {
            Arc::new(sqlite::SqliteBackend::open(std::path::Path::new(location))?)
        };
        HubDb::with_backend_keys(backend, key, next)
    }

    /// Wraps an opened back end, checking the data key and, during a key rotation, the next
    /// key (ADR 0015). From its start the rotation seals the database's key check under
    /// `next`, with a rotation mark sealed under the key being retired: with both, the cipher
    /// seals under `next` and opens under both; once the mark is gone (the rotation's last
    /// step), `next` alone is the key; while the key check is still under `key`, `key` alone.
    pub fn with_backend_keys(backend: Arc<dyn Backend>, key: &MasterKey, next: Option<&MasterKey>) -> Result<HubDb, StorageError> {
        let Some(next) = next else { return HubDb::with_backend(backend, key) };
        let (old_c, next_c) = (Cipher::new(key, "hub"), Cipher::new(next, "hub"));
        let (check, mark) = HubDb { backend: backend.clone(), cipher: Arc::new(Cipher::new(key, "hub")), backup_keys: None }
            .with(|tx, _| Ok::<_, StorageError>((tx.meta(KEY_CHECK_KEY)?, tx.meta(ROTATION_MARK)?.filter(|m| !m.is_empty()))))?;
        let cipher = match (check, mark) {
            (Some(c), Some(m)) if next_c.open(b"hub:key_check", &c).is_ok() => {
                if old_c.open(ROTATION_MARK_CONTEXT, &m).is_err() {
                    return Err(StorageError::Config("penggantian kunci yang sedang berjalan dimulai dari kunci lama yang lain".into()));
                }
                Cipher::rotating(next, key, "hub")
            }
            (Some(c), None) if next_c.open(b"hub:key_check", &c).is_ok() => next_c,
            _ => old_c,
        };
        HubDb::checked(backend, cipher)
    }

    /// Wraps an opened back end, checking the data key.
    pub fn with_backend(backend: Arc<dyn Backend>, key: &MasterKey) -> Result<HubDb, StorageError> {
        HubDb::checked(backend, Cipher::new(key, "hub"))
    }

    /// Whether this database is in the middle of a key rotation (its cipher opens under two
    /// keys).
    pub fn is_rotating(&self) -> bool {
        self.cipher.is_rotating()
    }

    fn checked(backend: Arc<dyn Backend>, cipher: Cipher) -> Result<HubDb, StorageError> {
        let db = HubDb { backend, cipher: Arc::new(cipher), backup_keys: None };
        db.with(|tx, cipher| -> Result<(), StorageError> {
            match tx.meta(KEY_CHECK_KEY)? {
                Some(sealed) => {
                    // Mid-rotation, half the documents may be under either key: with one of
                    // them only, refuse rather than serve errors and seal new data under a key
                    // being retired.
                    let rotating = tx.meta(ROTATION_MARK)?.is_some_and(|m| !m.is_empty());
                    if rotating && !cipher.is_rotating() {
                        return Err(StorageError::Config(
                            "penggantian kunci data belum selesai dan kunci barunya tidak diberikan: letakkan berkas \
                             <berkas kunci>.baru di sebelah berkas kunci, lalu jalankan `jemput-hub rotate-key` lagi"
                                .into(),
                        ));
                    }
                    if cipher.open(b"hub:key_check", &sealed).is_err() {
                        return Err(StorageError::Config("kunci data hub salah untuk basis data ini".into()));
                    }
                }
                None => {
                    tx.set_meta(KEY_CHECK_KEY, &cipher.seal(b"hub:key_check", b"ok"))?;
                    tx.set_meta(HUB_ACTOR_KEY, jemput_core::document::random_actor().to_bytes())?;
                }
            }
            // The hub's lineage (ADR 0014): a restore gives the database a new one.
            if tx.meta(EPOCH_KEY)?.is_none() {
                tx.set_meta(EPOCH_KEY, &new_epoch().to_le_bytes())?;
            }
            Ok(())
        })?;
        Ok(db)
    }

    /// The same database, whose erasures also destroy the records' keys in the register of
    /// backup keys at `path` (ADR 0014; [`HubDb::scrub`] applies them).
    pub fn with_backup_keys(mut self, path: std::path::PathBuf) -> HubDb {
        self.backup_keys = Some(Arc::new(path));
        self
    }

    /// The register of backup keys this database's erasures reach, if one was given.
    pub fn backup_keys(&self) -> Option<&std::path::Path> {
        self.backup_keys.as_deref().map(std::path::PathBuf::as_path)
    }

    /// After an erasure: see [`Backend::scrub`]; then [`HubDb::shred_backup_keys`].
    pub fn scrub(&self) -> Result<(), StorageError> {
        self.backend.scrub()?;
        self.shred_backup_keys()
    }

    /// Destroys, in the register of backup keys (when this hub has one and it exists), the key
    /// of every erased record, and refreshes its reachable mirrors: from then on no backup opens
    /// that record's personal data (ADR 0014). Idempotent; also run periodically, so an erasure
    /// made by another hub instance reaches the register too. Returns nothing: how many keys
    /// went is logged.
    pub fn shred_backup_keys(&self) -> Result<(), StorageError> {
        let Some(path) = self.backup_keys.as_deref() else { return Ok(()) };
        if !path.exists() {
            return Ok(());
        }
        let erasures = self.read(|tx, _| tx.erased_all())?;
        let destroyed = backup_keys::apply_erasures(path, &erasures).map_err(|e| StorageError::Config(e.to_string()))?;
        if destroyed > 0 {
            tracing::info!(destroyed, "kunci cadangan catatan yang dihapus dimusnahkan");
        }
        Ok(())
    }

    /// [`HubDb::scrub`] in a blocking task (for request handlers, after an erasure commits).
    pub async fn scrub_in_background(&self) -> Result<(), StorageError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.scrub()).await.map_err(|_| StorageError::Internal)?
    }

    /// The back end's name.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// See [`Backend::one_writer_at_a_time`].
    pub fn one_writer_at_a_time(&self) -> bool {
        self.backend.one_writer_at_a_time()
    }

    /// Runs `f` in a transaction in a blocking task (for request handlers).
    pub async fn call<T: Send + 'static, E: TxError + 'static>(
        &self,
        f: impl FnMut(&mut dyn HubTx, &Cipher) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(f)).await.map_err(|_| E::from(StorageError::Internal))?
    }

    /// Runs `f`, which only reads, in a read transaction in a blocking task (for request
    /// handlers): on SQLite it does not wait for a write transaction.
    pub async fn call_read<T: Send + 'static, E: TxError + 'static>(
        &self,
        f: impl FnMut(&mut dyn HubTx, &Cipher) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read(f)).await.map_err(|_| E::from(StorageError::Internal))?
    }

    /// Runs `f`, which only reads, in a read transaction on this thread. Errors come out as in
    /// [`HubDb::with`].
    pub fn read<T: Send, E: TxError>(&self, f: impl FnMut(&mut dyn HubTx, &Cipher) -> Result<T, E> + Send) -> Result<T, E> {
        self.run(true, f)
    }

    /// Runs `f` in a transaction on this thread (CLI commands, set-up). The caller's error comes
    /// out as it is; a transient storage conflict inside it lets the back end run `f` again.
    pub fn with<T: Send, E: TxError>(&self, f: impl FnMut(&mut dyn HubTx, &Cipher) -> Result<T, E> + Send) -> Result<T, E> {
        self.run(false, f)
    }

    /// Runs `f` in a read (`read`) or write transaction, carrying the caller's error out of the
    /// back end as [`StorageError::Aborted`].
    fn run<T: Send, E: TxError>(&self, read: bool, mut f: impl FnMut(&mut dyn HubTx, &Cipher) -> Result<T, E> + Send) -> Result<T, E> {
        let cipher = self.cipher.clone();
        let mut out = None;
        let mut failed: Option<E> = None;
        let mut body = |tx: &mut dyn HubTx| match f(tx, &cipher) {
            Ok(v) => {
                out = Some(v);
                Ok(())
            }
            Err(e) => {
                let transient = e.storage().is_some_and(StorageError::is_transient);
                failed = Some(e);
                Err(StorageError::Aborted { transient })
            }
        };
        let result = if read { self.backend.read(&mut body) } else { self.backend.transaction(&mut body) };
        match result {
            Ok(()) => out.ok_or_else(|| E::from(StorageError::Internal)),
            Err(StorageError::Aborted { .. }) => Err(failed.unwrap_or_else(|| E::from(StorageError::Internal))),
            Err(e) => Err(E::from(e)),
        }
    }
}
