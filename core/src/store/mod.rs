//! The encrypted offline store on the officer's phone: SQLite (WAL, synchronous=FULL) holding
//! each record's Automerge document as encrypted snapshot + chunks, with small index tables for
//! listing and search. Personal data never reaches disk in plaintext.

pub(crate) mod docs;
pub(crate) mod in_flight;
pub mod index;
mod rekey;
pub mod schema;

use std::path::Path;

use automerge::ActorId;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

pub use crate::crypto::MasterKey as StoreKey;
pub use in_flight::ExchangeInFlight;
pub use index::{ComplaintSummary, RequestFilter, RequestSummary};

use crate::catalog::Catalog;
use crate::complaint::{Complaint, ComplaintDraft};
use crate::crypto::Cipher;
use crate::document::{self, DocKind, Record};
use crate::error::{Error, Result};
use crate::kelurahan::{Kelurahan, Retention};
use crate::receipt::{DevicePrefix, ReceiptCode};
use crate::request::{Actor, Request, RequestDraft, Role, Status, StatusChange};
use crate::time_util::{self, DAY_MS};
use crate::validation::{self, Issue};
use docs::StoredDoc;

/// Document id of the catalog.
pub const CATALOG_DOC: &str = "catalog";
/// Document id of the kelurahan profile.
pub const KELURAHAN_DOC: &str = "kelurahan";

const KEY_CHECK_PLAIN: &[u8] = b"jemput: kunci benar";

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Identity {
    /// The device id (UUID), fixed when the store is created.
    pub device_id: String,
    /// The officer the device is enrolled for, once enrolled.
    pub officer_id: Option<String>,
    /// The receipt prefix (allocated by the hub at enrolment; random before).
    pub receipt_prefix: String,
}

/// A saved request or complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Recorded {
    /// Its id.
    pub id: String,
    /// The receipt code to give the resident.
    pub receipt: String,
    /// Warnings the officer confirmed (e.g. a missing document to bring later).
    pub warnings: Vec<Issue>,
}

/// What a retention run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PurgeReport {
    /// Requests removed.
    pub requests: u32,
    /// Complaints removed.
    pub complaints: u32,
}

/// The store. One per device; not shared between threads (wrap it in a mutex).
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) cipher: Cipher,
    pub(crate) actor: ActorId,
    clock: Box<dyn Fn() -> i64 + Send>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store at `path` with the app's 256-bit key. A wrong key gives
    /// [`Error::WrongKey`] and leaves the database untouched.
    pub fn open(path: impl AsRef<Path>, key: &StoreKey) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Store::from_connection(conn, key)
    }

    fn from_connection(mut conn: Connection, key: &StoreKey) -> Result<Store> {
        let cipher = Cipher::new(key, "toko-perangkat");
        // Check the key before anything is written.
        let version = schema::version(&conn)?;
        if version > 0 {
            let check: Option<Vec<u8>> = conn.query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0)).optional()?;
            match check {
                Some(sealed) if cipher.open(b"meta:key_check", &sealed).as_deref() == Ok(KEY_CHECK_PLAIN) => {}
                _ => return Err(Error::WrongKey),
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "cache_size", -2000)?;
        schema::migrate_to(&mut conn, schema::CURRENT_VERSION)?;
        let tx = conn.transaction()?;
        let fresh: bool = tx.query_row("SELECT count(*) = 0 FROM meta WHERE key = 'key_check'", [], |r| r.get(0))?;
        if fresh {
            let put = |k: &str, v: Vec<u8>| tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![k, v]);
            put("key_check", cipher.seal(b"meta:key_check", KEY_CHECK_PLAIN))?;
            put("device_id", uuid::Uuid::new_v4().to_string().into_bytes())?;
            put("actor", document::random_actor().to_bytes().to_vec())?;
            put("receipt_prefix", DevicePrefix::random().as_str().as_bytes().to_vec())?;
            put("receipt_counter", 0u32.to_le_bytes().to_vec())?;
        }
        // The name index's word pairs, once, for a store indexed before them.
        let pairs: bool = tx.query_row("SELECT count(*) > 0 FROM meta WHERE key = ?1", [index::NAME_PAIRS_META], |r| r.get(0))?;
        if !pairs {
            if !fresh {
                index::add_name_pairs(&tx, &cipher)?;
            }
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, x'01')", [index::NAME_PAIRS_META])?;
        }
        tx.commit()?;
        let actor: Vec<u8> = conn.query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get(0))?;
        Ok(Store { conn, cipher, actor: ActorId::from(actor.as_slice()), clock: Box::new(time_util::now_ms) })
    }

    /// Replaces the clock (Unix milliseconds); for tests and simulations.
    pub fn set_clock(&mut self, clock: impl Fn() -> i64 + Send + 'static) {
        self.clock = Box::new(clock);
    }

    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
    }

    fn meta_text(&self, key: &str) -> Result<Option<String>> {
        self.meta(key)?.map(|v| String::from_utf8(v).map_err(|_| Error::Corrupt)).transpose()
    }

    /// This device's identity.
    pub fn identity(&self) -> Result<Identity> {
        Ok(Identity {
            device_id: self.meta_text("device_id")?.ok_or(Error::Corrupt)?,
            officer_id: self.meta_text("officer_id")?,
            receipt_prefix: self.meta_text("receipt_prefix")?.ok_or(Error::Corrupt)?,
        })
    }

    /// Records the enrolment: the officer and the receipt prefix the hub allocated.
    pub fn set_enrolment(&mut self, officer_id: &str, receipt_prefix: &str) -> Result<()> {
        let prefix = DevicePrefix::parse(receipt_prefix).ok_or_else(|| {
            Error::Invalid(vec![Issue::error("receipt_prefix", "prefiks_tidak_valid", "Prefiks kode tanda terima tidak valid")])
        })?;
        let tx = self.conn.transaction()?;
        let old: Option<Vec<u8>> = tx.query_row("SELECT value FROM meta WHERE key = 'receipt_prefix'", [], |r| r.get(0)).optional()?;
        if old.as_deref() != Some(prefix.as_str().as_bytes()) {
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('receipt_counter', ?1)", params![0u32.to_le_bytes().to_vec()])?;
        }
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('receipt_prefix', ?1)", params![prefix.as_str().as_bytes()])?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('officer_id', ?1)", params![officer_id.as_bytes()])?;
        tx.commit()?;
        Ok(())
    }

    fn officer(&self) -> Result<Actor> {
        Ok(Actor { role: Role::Petugas, id: self.identity()?.officer_id.unwrap_or_default() })
    }

    pub(crate) fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        docs::load(&self.conn, &self.cipher, doc_id, &self.actor)
    }

    fn read_record<R: Record>(&self, doc_id: &str) -> Result<Option<R>> {
        match self.load_doc(doc_id)? {
            Some(d) => Ok(Some(document::read(&d.doc)?)),
            None => Ok(None),
        }
    }

    /// Stores a singleton record (catalog, profile), creating or updating its document.
    fn put_singleton<R: Record>(&mut self, doc_id: &str, record: &R) -> Result<()> {
        let now = self.now();
        let existing = self.load_doc(doc_id)?;
        let tx = self.conn.transaction()?;
        match existing {
            Some(mut d) => {
                document::update(&mut d.doc, record)?;
                docs::save(&tx, &self.cipher, &mut d, now, true)?;
            }
            None => {
                let mut doc = document::create(record, &self.actor)?;
                docs::insert(&tx, &self.cipher, doc_id, R::KIND, &mut doc, now, true)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The service catalog: the synced one, or the built-in default before the first sync.
    pub fn catalog(&self) -> Result<Catalog> {
        Ok(self.read_record(CATALOG_DOC)?.unwrap_or_else(Catalog::default_catalog))
    }

    /// Replaces the catalog (the hub's copy arrives by sync; this is for set-up and tests).
    pub fn set_catalog(&mut self, catalog: &Catalog) -> Result<()> {
        self.put_singleton(CATALOG_DOC, catalog)
    }

    /// The kelurahan profile, once known.
    pub fn kelurahan(&self) -> Result<Option<Kelurahan>> {
        self.read_record(KELURAHAN_DOC)
    }

    /// Replaces the kelurahan profile.
    pub fn set_kelurahan(&mut self, kelurahan: &Kelurahan) -> Result<()> {
        self.put_singleton(KELURAHAN_DOC, kelurahan)
    }

    fn today(&self) -> time::Date {
        time_util::date_of_ms(self.now())
    }

    /// Validates a draft and looks for an open request of the same NIK and service.
    /// Returns every issue; errors block saving, warnings need the officer's confirmation.
    pub fn check_request(&self, draft: &RequestDraft) -> Result<Vec<Issue>> {
        let catalog = self.catalog()?;
        let kelurahan = self.kelurahan()?;
        let mut issues = validation::request::validate_request(draft, &catalog, kelurahan.as_ref(), self.today());
        let nik = draft.applicant.nik.trim();
        if !nik.is_empty() {
            for receipt in index::open_duplicates(&self.conn, &self.cipher, nik, &draft.service_code)? {
                issues.push(Issue::warning(
                    "applicant.nik",
                    "kemungkinan_ganda",
                    format!("Warga dengan NIK ini sudah punya permohonan yang sama yang belum selesai (kode {receipt})"),
                ));
            }
        }
        Ok(issues)
    }

    fn next_receipt(tx: &rusqlite::Transaction<'_>) -> Result<ReceiptCode> {
        let prefix: Vec<u8> = tx.query_row("SELECT value FROM meta WHERE key = 'receipt_prefix'", [], |r| r.get(0))?;
        let prefix = DevicePrefix::parse(std::str::from_utf8(&prefix).map_err(|_| Error::Corrupt)?).ok_or(Error::Corrupt)?;
        let counter: Vec<u8> = tx.query_row("SELECT value FROM meta WHERE key = 'receipt_counter'", [], |r| r.get(0))?;
        let counter = u32::from_le_bytes(counter.as_slice().try_into().map_err(|_| Error::Corrupt)?) + 1;
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'receipt_counter'", params![counter.to_le_bytes().to_vec()])?;
        ReceiptCode::new(&prefix, counter).ok_or_else(|| {
            Error::Invalid(vec![Issue::error(
                "receipt",
                "kode_habis",
                "Kode tanda terima perangkat ini sudah habis; daftarkan ulang perangkat di kelurahan",
            )])
        })
    }

    /// Validates and saves a request, giving its receipt code. With warnings (a missing
    /// document, a possible duplicate, a NIK that disagrees with the birth date) the call fails
    /// with [`Error::NeedsConfirmation`] unless `confirmed` is true. Once this returns, the
    /// request survives the app being killed.
    pub fn record_request(&mut self, draft: &RequestDraft, confirmed: bool) -> Result<Recorded> {
        let issues = self.check_request(draft)?;
        if validation::has_errors(&issues) {
            return Err(Error::Invalid(issues.into_iter().filter(Issue::is_error).collect()));
        }
        if !issues.is_empty() && !confirmed {
            return Err(Error::NeedsConfirmation(issues));
        }
        let catalog = self.catalog()?;
        let service = catalog.service(&draft.service_code).ok_or(Error::NotFound)?;
        let now = self.now();
        let officer = self.officer()?;
        let device_id = self.identity()?.device_id;
        let mut applicant = draft.applicant.clone();
        applicant.name = applicant.name.split_whitespace().collect::<Vec<_>>().join(" ");
        applicant.nik = applicant.nik.trim().to_string();
        applicant.kk = applicant.kk.trim().to_string();
        applicant.birth_place = applicant.birth_place.trim().to_string();
        applicant.phone = applicant.phone.as_deref().and_then(validation::phone::normalize_phone);
        let tx = self.conn.transaction()?;
        let receipt = Store::next_receipt(&tx)?;
        let request = Request {
            id: uuid::Uuid::now_v7().to_string(),
            receipt: receipt.as_str().to_string(),
            service_code: service.code.clone(),
            catalog_version: catalog.version,
            applicant,
            checklist: service.requirements.iter().map(|r| (r.code.clone(), draft.documents_seen.contains(&r.code))).collect(),
            fields: draft.fields.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect(),
            notes: draft.notes.trim().to_string(),
            officer_id: officer.id.clone(),
            device_id,
            created_at: now,
            history: vec![StatusChange { status: Status::Dicatat, at: now, by: officer, reason: None }],
            office: Default::default(),
        };
        let mut doc = document::create(&request, &self.actor)?;
        let stored = docs::insert(&tx, &self.cipher, &request.id, DocKind::Request, &mut doc, now, true)?;
        index::put_request(&tx, &self.cipher, stored.rowid, &stored.doc_id, &request, now)?;
        tx.commit()?;
        Ok(Recorded { id: request.id, receipt: request.receipt, warnings: issues })
    }

    /// A request by id.
    pub fn request(&self, id: &str) -> Result<Request> {
        let stored = self.load_doc(id)?.filter(|d| d.kind == DocKind::Request).ok_or(Error::NotFound)?;
        let r: Request = document::read(&stored.doc)?;
        self.as_office_sees(stored.rowid, r)
    }

    /// `r` with the derived "terkirim" step once the hub has confirmed it holds the request
    /// (see `Request::mark_received`).
    pub(crate) fn as_office_sees(&self, rowid: i64, mut r: Request) -> Result<Request> {
        if !docs::hub_heads(&self.conn, rowid)?.is_empty() {
            r.mark_received();
        }
        Ok(r)
    }

    /// A request by receipt code (typed by a person: forgiving of case and spacing).
    pub fn request_by_receipt(&self, code: &str) -> Result<Request> {
        let code = ReceiptCode::parse(code).map_err(|i| Error::Invalid(vec![i]))?;
        let id: Option<String> =
            self.conn.query_row("SELECT doc_id FROM requests WHERE receipt = ?1", params![code.as_str()], |r| r.get(0)).optional()?;
        self.request(&id.ok_or(Error::NotFound)?)
    }

    /// A page of requests matching `filter`, newest first. Decodes no documents.
    pub fn list_requests(&self, filter: &RequestFilter, offset: u32, limit: u32) -> Result<Vec<RequestSummary>> {
        index::list_requests(&self.conn, &self.cipher, filter, offset, limit)
    }

    /// How many requests match `filter`.
    pub fn count_requests(&self, filter: &RequestFilter) -> Result<u64> {
        index::count_requests(&self.conn, &self.cipher, filter)
    }

    /// Loads a request, lets `edit` change it, and saves the difference as one change.
    pub(crate) fn edit_request(&mut self, id: &str, edit: impl FnOnce(&mut Request) -> Result<()>) -> Result<Request> {
        let now = self.now();
        let mut stored = self.load_doc(id)?.filter(|d| d.kind == DocKind::Request).ok_or(Error::NotFound)?;
        let mut request: Request = document::read(&stored.doc)?;
        edit(&mut request)?;
        document::update(&mut stored.doc, &request)?;
        let seen = self.as_office_sees(stored.rowid, request)?;
        let tx = self.conn.transaction()?;
        if docs::save(&tx, &self.cipher, &mut stored, now, true)? {
            index::put_request(&tx, &self.cipher, stored.rowid, &stored.doc_id, &seen, now)?;
        }
        tx.commit()?;
        Ok(seen)
    }

    /// The officer moves a request to a status that is theirs (dilengkapi, diserahkan).
    /// Office statuses are refused with [`Error::Forbidden`].
    pub fn set_request_status(&mut self, id: &str, status: Status, reason: Option<String>) -> Result<Request> {
        if let Some(i) = reason.as_deref().and_then(|r| validation::limits::check("reason", "Alasan", r, validation::limits::REASON)) {
            return Err(Error::Invalid(vec![i]));
        }
        let officer = self.officer()?;
        let now = self.now();
        self.edit_request(id, |r| r.change_status(status, officer, reason, now).map_err(Error::Forbidden))
    }

    /// Marks a requirement's document as seen (or not) by the officer.
    pub fn set_document_seen(&mut self, id: &str, requirement_code: &str, seen: bool) -> Result<Request> {
        self.edit_request(id, |r| match r.checklist.get_mut(requirement_code) {
            Some(v) => {
                *v = seen;
                Ok(())
            }
            None => Err(Error::Invalid(vec![Issue::error(
                "documents_seen",
                "dokumen_tidak_dikenal",
                "Persyaratan ini tidak ada pada layanan tersebut",
            )])),
        })
    }

    /// Replaces the officer's notes on a request.
    pub fn set_request_notes(&mut self, id: &str, notes: &str) -> Result<Request> {
        let notes = notes.trim().to_string();
        if let Some(i) = validation::limits::check("notes", "Catatan", &notes, validation::limits::NOTES) {
            return Err(Error::Invalid(vec![i]));
        }
        self.edit_request(id, |r| {
            r.notes = notes;
            Ok(())
        })
    }

    /// Validates and saves a complaint, aspiration or suggestion; gives its receipt code.
    pub fn record_complaint(&mut self, draft: &ComplaintDraft) -> Result<Recorded> {
        let kelurahan = self.kelurahan()?;
        let issues = validation::complaint::validate_complaint(draft, kelurahan.as_ref());
        if validation::has_errors(&issues) {
            return Err(Error::Invalid(issues.into_iter().filter(Issue::is_error).collect()));
        }
        let now = self.now();
        let officer = self.officer()?;
        let device_id = self.identity()?.device_id;
        let tx = self.conn.transaction()?;
        let receipt = Store::next_receipt(&tx)?;
        let complaint = Complaint {
            id: uuid::Uuid::now_v7().to_string(),
            receipt: receipt.as_str().to_string(),
            category: draft.category,
            topic: draft.topic.trim().to_string(),
            text: draft.text.trim().to_string(),
            place: draft.place.clone(),
            reporter: draft.reporter.clone(),
            officer_id: officer.id,
            device_id,
            created_at: now,
            updates: vec![],
        };
        let mut doc = document::create(&complaint, &self.actor)?;
        let stored = docs::insert(&tx, &self.cipher, &complaint.id, DocKind::Complaint, &mut doc, now, true)?;
        index::put_complaint(&tx, stored.rowid, &stored.doc_id, &complaint, now)?;
        tx.commit()?;
        Ok(Recorded { id: complaint.id, receipt: complaint.receipt, warnings: issues })
    }

    /// A complaint by id.
    pub fn complaint(&self, id: &str) -> Result<Complaint> {
        self.read_record::<Complaint>(id)?.ok_or(Error::NotFound)
    }

    /// A page of complaints, newest first.
    pub fn list_complaints(&self, open_only: bool, offset: u32, limit: u32) -> Result<Vec<ComplaintSummary>> {
        index::list_complaints(&self.conn, open_only, offset, limit)
    }

    /// Deletes one request or complaint from this device entirely (its whole document).
    pub fn delete_record(&mut self, id: &str) -> Result<()> {
        let rowid: i64 = self
            .conn
            .query_row("SELECT id FROM docs WHERE doc_id = ?1 AND kind IN ('request', 'complaint')", params![id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound)?;
        docs::delete(&self.conn, rowid)
    }

    /// Removes requests handed over or rejected, and complaints closed, more than
    /// `retention_days` days ago: the whole document is dropped.
    pub fn purge_expired(&mut self, retention_days: u32) -> Result<PurgeReport> {
        self.purge_closed(retention_days, retention_days)
    }

    /// The kelurahan's retention policy as synced with its profile (the defaults before the
    /// first sync, or from a hub without one).
    pub fn retention(&self) -> Result<Retention> {
        Ok(self.kelurahan()?.map(|k| k.retention).unwrap_or_default())
    }

    /// Removes finished records whose time on phones under the synced retention policy has
    /// passed (requests and complaints each by their own period).
    pub fn purge_by_policy(&mut self) -> Result<PurgeReport> {
        let r = self.retention()?;
        self.purge_closed(r.request_days_on_phone, r.complaint_days_on_phone)
    }

    fn purge_closed(&mut self, request_days: u32, complaint_days: u32) -> Result<PurgeReport> {
        let cutoff = |days: u32| self.now().saturating_sub(i64::from(days).saturating_mul(DAY_MS));
        let (request_cutoff, complaint_cutoff) = (cutoff(request_days), cutoff(complaint_days));
        let tx = self.conn.transaction()?;
        let (requests, complaints) = index::closed_before(&tx, request_cutoff, complaint_cutoff)?;
        for rowid in requests.iter().chain(complaints.iter()) {
            docs::delete(&tx, *rowid)?;
        }
        tx.commit()?;
        // Return freed pages to the OS and fold the WAL back, so removed data leaves the files.
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(PurgeReport { requests: requests.len() as u32, complaints: complaints.len() as u32 })
    }
}

#[cfg(test)]
pub(crate) mod tests;
