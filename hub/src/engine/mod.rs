//! The hub's sync engine, independent of HTTP: given a device's token, an exchange key and the
//! bytes of an upload, it decides what to accept, refuse and answer, over the storage trait.
//! The HTTP handlers (`crate::api::device`) only parse, authenticate the transport and call it.
//!
//! - [`exchange`]: one exchange in one transaction (apply incoming documents, send the changed
//!   ones of the device's scope), with checks prepared outside the write transaction;
//! - [`held`]: resumable exchanges (ADR 0006), the held upload or answer;
//! - [`bundle`]: bundles brought by hand (imported by staff, or relayed by a colleague's phone);
//! - [`heads`]: what each device is known to hold (known and pending heads);
//! - [`worker`]: where a document's check runs (in process, or a memory-limited worker process).

pub mod bundle;
pub mod exchange;
pub mod heads;
pub mod held;
pub mod worker;

use jemput_core::sync::protocol::{self, SyncRequest};

pub use bundle::{import_bundle_bytes, ImportReport};
pub use exchange::{check_incoming, prepare_checks, Applied, Checked, ToStore, MAX_DOCS_PER_RESPONSE};
pub use held::{authorized, Held, Reads, Receiving, ReceivingGuard};
pub use worker::Isolation;

use crate::error::ServiceError;
use crate::storage::{ExchangeRow, HubDb};

/// How long a question about an exchange waits for an upload of it still arriving.
const UPLOAD_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where an exchange a device asks about stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// The rest of the (compressed) answer after the bytes the device has.
    Answer(Vec<u8>),
    /// The hub holds this many bytes of the upload: continue from there.
    UploadFrom(usize),
}

/// The sync engine of one hub instance. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    db: HubDb,
    isolation: Isolation,
    uploads: Receiving,
}

impl Engine {
    /// An engine over `db`, checking documents as `isolation` says.
    pub fn new(db: HubDb, isolation: Isolation) -> Engine {
        Engine { db, isolation, uploads: Receiving::default() }
    }

    /// Where incoming documents are checked.
    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    /// Marks the upload of exchange `key` as arriving on this instance until the guard drops.
    pub fn receiving(&self, key: &str) -> ReceivingGuard {
        self.uploads.start(key)
    }

    /// Keeps the part of a cut upload that arrived (`part`, written at `offset`), for the device
    /// to continue from. Nothing is kept when the hub holds fewer than `offset` bytes or the
    /// exchange was answered already.
    pub async fn keep_partial(&self, token: String, key: String, offset: usize, part: Vec<u8>) -> Result<(), ServiceError> {
        self.db
            .call(move |tx, cipher| -> Result<(), ServiceError> {
                let device = authorized(tx, &token)?;
                let Held::Upload(held) = held::held(tx, cipher, &device.id, &key)? else { return Ok(()) };
                let Ok(upload) = held::join_upload(held, offset, &part) else { return Ok(()) };
                let sealed = cipher.seal(&held::exchange_context(&device.id, &key), &upload);
                let at = jemput_core::time_util::now_ms();
                Ok(tx.put_exchange(&device.id, &ExchangeRow { key: key.clone(), upload: sealed, answer: None, at })?)
            })
            .await
    }

    /// One sync exchange of the device with `token`: `part` is the upload (from `offset` when a
    /// keyed exchange continues). Returns the answer, compressed in a format the device `reads`
    /// (ADR 0007). With a key (ADR 0006) the
    /// answer is kept with the applied changes (in the same transaction), so a device whose
    /// answer was cut asks for it again instead of sending everything again.
    pub async fn exchange(
        &self,
        token: String,
        key: Option<String>,
        offset: usize,
        part: Vec<u8>,
        reads: Reads,
    ) -> Result<Vec<u8>, ServiceError> {
        // A continued upload: put it together with the part the hub kept.
        let whole = match (&key, offset) {
            (Some(k), o) if o > 0 => {
                let (token, k) = (token.clone(), k.clone());
                let kept = self.db.call_read(move |tx, cipher| {
                    let device = authorized(tx, &token)?;
                    held::held(tx, cipher, &device.id, &k)
                });
                match kept.await? {
                    Held::Answer(raw) => return Ok(held::compress_answer(&raw, reads)),
                    Held::Upload(u) => held::join_upload(u, o, &part).map_err(held::offset_mismatch)?,
                }
            }
            _ => part,
        };
        let req = SyncRequest::decode(&whole)
            .map_err(|_| ServiceError::BadRequest("pesan_rusak", "Pesan sinkronisasi rusak atau terlalu besar"))?;
        // Where writers wait for each other (SQLite), the checks of the incoming documents
        // (decoding and applying Automerge changes, the costly part) run before the write
        // transaction, outside any lock, on the hub as it stands; the transaction reuses each
        // one whose inputs did not change meanwhile. On PostgreSQL they run inside it: it then
        // holds only the locks of the device's own rows (the change log is locked when
        // storing, after them), and reading everything twice would cost more than it spares.
        let prechecked = if req.docs.is_empty() || !self.db.one_writer_at_a_time() {
            Vec::new()
        } else {
            let (token, docs, cursor) = (token.clone(), req.docs.clone(), req.cursor);
            let jobs = self
                .db
                .call_read(move |tx, cipher| {
                    let device = authorized(tx, &token)?;
                    prepare_checks(tx, cipher, &device, &docs, cursor)
                })
                .await?;
            let isolation = self.isolation.clone();
            tokio::task::spawn_blocking(move || {
                jobs.into_iter()
                    .map(|job| {
                        let outcome = isolation.run(&job);
                        (job, outcome)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|_| ServiceError::Internal)?
        };
        let isolation = self.isolation.clone();
        // The answer is kept (sealed) in the same transaction, uncompressed; compressing it, the
        // costly part, happens after the transaction (the same bytes each time, ADR 0006).
        let raw = self
            .db
            .call(move |tx, cipher| -> Result<Vec<u8>, ServiceError> {
                let device = authorized(tx, &token)?;
                // Everything the exchange reads before it writes, asked at once (on PostgreSQL
                // one round trip).
                let ids = exchange::ids_in_order(&req.docs);
                let mut ahead = exchange::reads_of_exchange(&device, key.is_some(), req.cursor);
                if !req.docs.is_empty() {
                    ahead.extend(exchange::reads_of_incoming(&device.id, &ids));
                }
                tx.read_ahead(&ahead)?;
                if let Some(k) = &key {
                    // The same exchange applied already (a replayed or re-sent upload): the same answer.
                    if let Held::Answer(raw) = held::held(tx, cipher, &device.id, k)? {
                        return Ok(raw);
                    }
                }
                let resp = exchange::exchange(tx, cipher, &isolation, &device, &req, &prechecked)?;
                let raw = protocol::raw_body(&resp);
                if let Some(k) = &key {
                    let sealed = cipher.seal(&held::exchange_context(&device.id, k), &raw);
                    let row =
                        ExchangeRow { key: k.clone(), upload: Vec::new(), answer: Some(sealed), at: jemput_core::time_util::now_ms() };
                    tx.put_exchange(&device.id, &row)?;
                }
                Ok(raw)
            })
            .await?;
        tokio::task::spawn_blocking(move || held::compress_answer(&raw, reads)).await.map_err(|_| ServiceError::Internal)
    }

    /// A colleague's no-signal bundle (`bytes`, the bundle file) that the device with `token`
    /// carried and now forwards. Only an enrolled device may relay; the documents are checked
    /// as if the device that wrote them had synced them, and relaying the same bundle twice
    /// changes nothing.
    pub async fn relay(&self, token: String, bytes: Vec<u8>) -> Result<ImportReport, ServiceError> {
        let isolation = self.isolation.clone();
        self.db
            .call(move |tx, cipher| {
                let carrier = authorized(tx, &token)?;
                import_bundle_bytes(tx, cipher, &isolation, &bytes, &format!("relai:perangkat:{}", carrier.id))
            })
            .await
    }

    /// Where exchange `key` of the device with `token` stands, for a device whose connection
    /// broke and which has `received` bytes of the answer. An upload of it still arriving here
    /// is let end first (a break on the device's side reaches the hub a moment later).
    pub async fn resume(&self, token: String, key: String, received: usize, reads: Reads) -> Result<Resumed, ServiceError> {
        if !protocol::valid_exchange_key(&key) {
            return Err(ServiceError::BadRequest("kunci_pertukaran_salah", "Kunci pertukaran sinkronisasi tidak valid"));
        }
        self.uploads.settle(&key, UPLOAD_SETTLE).await;
        let held = self
            .db
            .call_read(move |tx, cipher| {
                let device = authorized(tx, &token)?;
                held::held(tx, cipher, &device.id, &key)
            })
            .await?;
        match held {
            Held::Answer(raw) => {
                let a = held::compress_answer(&raw, reads);
                let rest = a.get(received..).ok_or(ServiceError::BadRequest("posisi_salah", "Posisi jawaban melewati panjangnya"))?;
                Ok(Resumed::Answer(rest.to_vec()))
            }
            Held::Upload(u) => Ok(Resumed::UploadFrom(u.len())),
        }
    }
}
