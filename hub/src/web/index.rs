//! The office index of requests: service, date and officer of each stored request, blind tags
//! (keyed hashes, ADR 0001) of its NIK and of the words of the applicant's name, and what a list
//! row shows, sealed under the hub's data key; so the dashboard filters, searches and lists
//! without opening every document and without keeping names or NIKs in clear. The index catches up with the documents stored since it last ran (by the
//! change-log sequence), so every way a request arrives (sync, bundle, a staff edit) is covered.

use jemput_core::crypto::Cipher;
use jemput_core::document;
use jemput_core::name_search;
use jemput_core::{Request, Status};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;
use crate::service;
use crate::storage::HubTx;
use crate::storage::OfficeIndexRow;

/// Where the index stands (change-log sequence). `_v2`: since the index also keeps the access
/// tags of ADR 0015; `_v3`: since it keeps a tag of every prefix of every word of a name
/// ([`name_search`]), not only of whole words. A hub indexed before indexes every request again
/// once.
const META_KEY: &str = "web_office_index_seq_v3";

/// What a list row (and an export line) shows of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Document id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// Service code.
    pub service_code: String,
    /// Applicant's name.
    pub name: String,
    /// Applicant's NIK.
    pub nik: String,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// Recorded (ms since epoch).
    pub created_at: i64,
    /// Status as the office sees it.
    pub status: Status,
    /// Reason of the current status.
    pub reason: Option<String>,
    /// Letter number.
    pub letter_number: Option<String>,
    /// Officer who recorded it.
    pub officer_id: String,
}

impl ListRow {
    /// The row of a request (as the office sees it: held by the hub means received).
    pub fn of(r: &Request) -> ListRow {
        let mut r = r.clone();
        r.mark_received();
        ListRow {
            id: r.id.clone(),
            receipt: r.receipt.clone(),
            service_code: r.service_code.clone(),
            name: r.applicant.name.clone(),
            nik: r.applicant.nik.clone(),
            rw: r.applicant.address.rw,
            rt: r.applicant.address.rt,
            created_at: r.created_at,
            status: r.status(),
            reason: r.status_reason().map(str::to_string),
            letter_number: r.office.letter_number.clone(),
            officer_id: r.officer_id.clone(),
        }
    }

    fn seal(&self, cipher: &Cipher) -> Result<Vec<u8>, ServiceError> {
        let bytes = serde_json::to_vec(self).map_err(|_| ServiceError::Internal)?;
        Ok(cipher.seal(format!("web:baris:{}", self.id).as_bytes(), &bytes))
    }

    /// Opens a sealed row of document `id`.
    pub fn open(cipher: &Cipher, id: &str, sealed: &[u8]) -> Result<ListRow, ServiceError> {
        let bytes = cipher.open(format!("web:baris:{id}").as_bytes(), sealed).map_err(|_| ServiceError::Internal)?;
        serde_json::from_slice(&bytes).map_err(|_| ServiceError::Internal)
    }
}

/// The tag of a NIK.
pub fn nik_tag(cipher: &Cipher, nik: &str) -> i64 {
    cipher.tag("web:nik", nik.trim())
}

/// The tag of a name prefix (see [`name_search`]: the index keeps one for every prefix of every
/// word of the applicant's name; a search looks up one per word typed).
pub fn name_tag(cipher: &Cipher, prefix: &str) -> i64 {
    cipher.tag("web:nama", prefix)
}

/// The tags of a request: its NIK's and its name's prefixes'.
pub fn tags_of(cipher: &Cipher, r: &Request) -> Vec<i64> {
    let mut t = vec![nik_tag(cipher, &r.applicant.nik)];
    t.extend(name_search::prefixes(&r.applicant.name).iter().map(|p| name_tag(cipher, p)));
    t.sort_unstable();
    t.dedup();
    t
}

/// Forgets how far the index got, so the next catch-up indexes every request again (after a
/// key rotation, whose new key gives new tags).
pub fn reset(tx: &mut dyn HubTx) -> Result<(), ServiceError> {
    Ok(tx.set_meta(META_KEY, &0i64.to_le_bytes())?)
}

/// Brings the index up to date with every request stored since it last ran.
pub fn catch_up(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<(), ServiceError> {
    let mut after = tx.meta(META_KEY)?.and_then(|b| b.try_into().ok()).map(i64::from_le_bytes).unwrap_or(0);
    let start = after;
    loop {
        let batch = tx.docs_after("request", after, 500)?;
        let Some((last, _)) = batch.last() else { break };
        let last = *last;
        for (seq, id) in batch {
            let Some(doc) = service::load_doc(tx, cipher, &id, false)? else { continue };
            let Ok(r) = document::read::<Request>(&doc) else { continue };
            let row = ListRow::of(&r);
            tx.put_office_index(&OfficeIndexRow {
                sealed_row: row.seal(cipher)?,
                seq,
                status: row.status.code().to_string(),
                rw: row.rw,
                rt: row.rt,
                receipt: row.receipt.clone(),
                doc_id: id,
                service: r.service_code.clone(),
                created_at: r.created_at,
                officer_id: r.officer_id.clone(),
                tags: tags_of(cipher, &r).into_iter().chain(super::access::request_tags(cipher, &r)).collect(),
            })?;
        }
        after = last;
    }
    if after != start {
        tx.set_meta(META_KEY, &after.to_le_bytes())?;
    }
    Ok(())
}

/// The dashboard's erasure form (a request's or a complaint's page): the reason is checked by
/// `service::erasure::check_reason`.
#[derive(Deserialize)]
pub struct EraseForm {
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) alasan: String,
}

/// Erases a record's personal data (`service::erasure::erase`, ADR 0013) and rewrites its
/// office index row from the register entry that remains, in the caller's transaction (the
/// old sealed list row and search tags are overwritten). Scrub the database after the
/// transaction commits ([`crate::storage::HubDb::scrub`]).
pub fn erase_record(
    tx: &mut dyn HubTx,
    cipher: &Cipher,
    doc_id: &str,
    reason: &str,
    by: &str,
    now: i64,
) -> Result<crate::storage::ErasedDoc, ServiceError> {
    let erased = service::erasure::erase(tx, cipher, doc_id, reason, by, now)?;
    catch_up(tx, cipher)?;
    Ok(erased)
}

/// One retention run with the office index kept in step (see
/// `service::erasure::run_retention`).
pub fn run_retention(db: &crate::storage::HubDb, now: i64) -> Result<usize, ServiceError> {
    service::erasure::run_retention(db, now, catch_up)
}
