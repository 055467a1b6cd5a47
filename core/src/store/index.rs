//! The index tables: one small row per request or complaint (receipt, service, status, RT/RW,
//! the applicant's name sealed, blind tags of the NIK and of name prefixes), so that listing
//! and searching never decode documents.

use rusqlite::{params, params_from_iter, types::Value, Connection};
use serde::{Deserialize, Serialize};

use crate::complaint::{Complaint, ComplaintCategory, ComplaintStatus};
use crate::crypto::Cipher;
use crate::domain::name_search;
use crate::error::{Error, Result};
use crate::request::{Request, Status};

/// Which requests to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RequestFilter {
    /// Only this status.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub status: Option<Status>,
    /// Only open requests (not ditolak or diserahkan).
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub open_only: bool,
    /// Only this RW.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub rw: Option<u16>,
    /// Only this RT (with `rw`).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub rt: Option<u16>,
    /// Only this service.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub service_code: Option<String>,
    /// Names containing words that start with each word of this query.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
    /// Only this receipt code (canonical form).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub receipt: Option<String>,
}

/// One line of a request list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RequestSummary {
    /// Request id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// Service code.
    pub service_code: String,
    /// Current status.
    pub status: Status,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// The applicant's name.
    pub applicant_name: String,
    /// When recorded.
    pub created_at: i64,
    /// When last changed.
    pub updated_at: i64,
}

/// One line of a complaint list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ComplaintSummary {
    /// Complaint id.
    pub id: String,
    /// Receipt code.
    pub receipt: String,
    /// Category.
    pub category: ComplaintCategory,
    /// Current status.
    pub status: ComplaintStatus,
    /// RW.
    pub rw: u16,
    /// RT.
    pub rt: u16,
    /// When recorded.
    pub created_at: i64,
}

/// Blind tags of every prefix of every word of `name` ([`name_search::prefixes`]) and of every
/// pair of its words ([`name_search::pair_keys`]).
fn name_tokens(cipher: &Cipher, name: &str) -> Vec<i64> {
    let mut tokens: Vec<i64> = name_search::prefixes(name).iter().map(|p| cipher.tag("nama", p)).collect();
    tokens.extend(pair_tokens(cipher, name));
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

fn pair_tokens(cipher: &Cipher, name: &str) -> Vec<i64> {
    name_search::pair_keys(name).iter().map(|k| cipher.tag("nama-pasangan", k)).collect()
}

/// The meta key marking that the name index holds word pair tags (added after schema version 3;
/// a store from before gets them once, when it is opened, by [`add_name_pairs`]).
pub(super) const NAME_PAIRS_META: &str = "name_pairs";

/// Adds the word pair tags of every request's name to the name index (a store indexed before
/// they existed); the names are read from the index's sealed column, not the documents.
/// Returns how many requests it indexed.
pub(super) fn add_name_pairs(conn: &Connection, cipher: &Cipher) -> Result<u64> {
    let mut read = conn.prepare("SELECT doc, name_sealed, created_at FROM requests")?;
    let mut put = conn.prepare_cached("INSERT OR IGNORE INTO name_tokens (token, created_at, doc) VALUES (?1, ?2, ?3)")?;
    let mut rows = read.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let (rowid, sealed, created_at): (i64, Vec<u8>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let name = cipher.open(&name_context(rowid), &sealed).map_err(|_| Error::Corrupt)?;
        for t in pair_tokens(cipher, &String::from_utf8_lossy(&name)) {
            put.execute(params![t, created_at, rowid])?;
        }
        n += 1;
    }
    Ok(n)
}

/// Blind tag of a NIK.
pub fn nik_tag(cipher: &Cipher, nik: &str) -> i64 {
    cipher.tag("nik", nik.trim())
}

fn name_context(rowid: i64) -> Vec<u8> {
    format!("index:{rowid}:name").into_bytes()
}

/// Writes (or rewrites) the index row of a request stored as `rowid` and `doc_id` in `docs` (the
/// id as stored, not as the document says: they differ only in a document made to mislead).
pub fn put_request(conn: &Connection, cipher: &Cipher, rowid: i64, doc_id: &str, r: &Request, now: i64) -> Result<()> {
    let name_sealed = cipher.seal(&name_context(rowid), r.applicant.name.as_bytes());
    conn.execute(
        "INSERT INTO requests (doc, receipt, service_code, status, rw, rt, name_sealed, nik_tag, created_at, updated_at, closed_at, doc_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(doc) DO UPDATE SET receipt = excluded.receipt, service_code = excluded.service_code,
           status = excluded.status, rw = excluded.rw, rt = excluded.rt, name_sealed = excluded.name_sealed,
           nik_tag = excluded.nik_tag, updated_at = excluded.updated_at, closed_at = excluded.closed_at",
        params![
            rowid,
            r.receipt,
            r.service_code,
            r.status().code(),
            r.applicant.address.rw,
            r.applicant.address.rt,
            name_sealed,
            nik_tag(cipher, &r.applicant.nik),
            r.created_at,
            now,
            r.closed_at(),
            doc_id,
        ],
    )?;
    put_name_tokens(conn, cipher, rowid, r)
}

/// Replaces the blind tags of a request's name prefixes (what a name search looks up), each
/// with the request's recording time (the order a search walks them in).
fn put_name_tokens(conn: &Connection, cipher: &Cipher, rowid: i64, r: &Request) -> Result<()> {
    conn.execute("DELETE FROM name_tokens WHERE doc = ?1", params![rowid])?;
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO name_tokens (token, created_at, doc) VALUES (?1, ?2, ?3)")?;
    for t in name_tokens(cipher, &r.applicant.name) {
        st.execute(params![t, r.created_at, rowid])?;
    }
    Ok(())
}

/// Rewrites what the index row of a request keeps under the key (the sealed name, the NIK's
/// and the name's blind tags) under `cipher`, leaving every other column as it is (a key
/// rotation, ADR 0015).
pub(crate) fn rekey_request(conn: &Connection, cipher: &Cipher, rowid: i64, r: &Request) -> Result<()> {
    let name_sealed = cipher.seal(&name_context(rowid), r.applicant.name.as_bytes());
    conn.execute(
        "UPDATE requests SET name_sealed = ?2, nik_tag = ?3 WHERE doc = ?1",
        params![rowid, name_sealed, nik_tag(cipher, &r.applicant.nik)],
    )?;
    put_name_tokens(conn, cipher, rowid, r)
}

/// Writes (or rewrites) the index row of a complaint stored as `rowid` and `doc_id` in `docs`.
pub fn put_complaint(conn: &Connection, rowid: i64, doc_id: &str, c: &Complaint, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO complaints (doc, receipt, category, status, rw, rt, created_at, updated_at, closed_at, doc_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(doc) DO UPDATE SET status = excluded.status, rw = excluded.rw, rt = excluded.rt,
           updated_at = excluded.updated_at, closed_at = excluded.closed_at",
        params![rowid, c.receipt, c.category.code(), c.status().code(), c.place.rw, c.place.rt, c.created_at, now, c.closed_at(), doc_id],
    )?;
    Ok(())
}

/// The FROM and WHERE clauses of a request filter (the requests are `r`), their parameters, and
/// the ORDER BY that lists them newest first.
pub(super) struct RequestQuery {
    pub(super) from_where: String,
    pub(super) args: Vec<Value>,
    pub(super) newest_first: &'static str,
}

/// Builds the query of a request filter. A name search starts from the name index: the rows of
/// the query's word pair (two words or more) or of its word, newest first in the index itself
/// (schema version 3), each checked against every word by key; a page stops as soon as it is
/// full, so a search costs the page it shows, or its matches when they are fewer, not the size
/// of the store (scanning the requests newest first and testing each one took 22 times longer at
/// 30,000 requests than at 1,000, benchmark scenario 13; reading every entry of the first word
/// and sorting them, 5.4 times; a two-word search from its first word's entries, 7 times).
pub(super) fn request_where(cipher: &Cipher, f: &RequestFilter) -> RequestQuery {
    let mut newest_first = "r.created_at DESC, r.doc DESC";
    let mut clauses = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut from = "requests r";
    if let Some(q) = &f.name {
        let terms = name_search::distinct_terms(&name_search::query_terms(q));
        // Two words or more: start from the names holding the pair (as rare as the matches),
        // then check every word the pair does not imply; one word: from that word's names.
        let pair = name_search::query_pair(&terms);
        let mut tags: Vec<i64> = pair.iter().map(|pair| cipher.tag("nama-pasangan", pair)).collect();
        tags.extend(
            terms
                .iter()
                .filter(|t| !pair.as_deref().is_some_and(|pair| name_search::pair_implies(pair, t)))
                .map(|prefix| cipher.tag("nama", prefix)),
        );
        match tags.split_first() {
            Some((first, rest)) => {
                // CROSS JOIN keeps the name index as the outer loop (SQLite does not reorder it).
                from = "name_tokens t CROSS JOIN requests r ON r.doc = t.doc";
                // The same order (a request's time is copied into its tags), read from the
                // index's own order without sorting.
                newest_first = "t.created_at DESC, t.doc DESC";
                clauses.push("t.token = ?".to_string());
                args.push(Value::Integer(*first));
                // Each other tag by the whole key of its row (the request's time is in every tag
                // of it): a lookup in the same word's rows, which stay in the page cache across
                // a search's candidates, rather than in an index over every request.
                for tag in rest {
                    clauses.push(
                        "EXISTS (SELECT 1 FROM name_tokens n WHERE n.token = ? AND n.created_at = t.created_at AND n.doc = t.doc)"
                            .to_string(),
                    );
                    args.push(Value::Integer(*tag));
                }
            }
            None if !q.trim().is_empty() => clauses.push("0".to_string()),
            None => {}
        }
    }
    if let Some(s) = f.status {
        clauses.push("r.status = ?".to_string());
        args.push(Value::Text(s.code().into()));
    }
    if f.open_only {
        clauses.push("r.closed_at IS NULL".to_string());
    }
    if let Some(rw) = f.rw {
        clauses.push("r.rw = ?".to_string());
        args.push(Value::Integer(rw.into()));
    }
    if let Some(rt) = f.rt {
        clauses.push("r.rt = ?".to_string());
        args.push(Value::Integer(rt.into()));
    }
    if let Some(code) = &f.service_code {
        clauses.push("r.service_code = ?".to_string());
        args.push(Value::Text(code.clone()));
    }
    if let Some(receipt) = &f.receipt {
        clauses.push("r.receipt = ?".to_string());
        args.push(Value::Text(receipt.clone()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    RequestQuery { from_where: format!("FROM {from} {sql}"), args, newest_first }
}

/// A page of requests, newest first.
pub fn list_requests(conn: &Connection, cipher: &Cipher, f: &RequestFilter, offset: u32, limit: u32) -> Result<Vec<RequestSummary>> {
    let RequestQuery { from_where, mut args, newest_first } = request_where(cipher, f);
    let sql = format!(
        "SELECT r.doc_id, r.receipt, r.service_code, r.status, r.rw, r.rt, r.name_sealed, r.created_at, r.updated_at, r.doc
         {from_where} ORDER BY {newest_first} LIMIT ? OFFSET ?"
    );
    args.push(Value::Integer(limit.min(500).into()));
    args.push(Value::Integer(offset.into()));
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, u16>(4)?,
            r.get::<_, u16>(5)?,
            r.get::<_, Vec<u8>>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, i64>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, receipt, service_code, status, rw, rt, sealed, created_at, updated_at, rowid) = row?;
        let name = cipher.open(&name_context(rowid), &sealed).map_err(|_| Error::Corrupt)?;
        out.push(RequestSummary {
            id,
            receipt,
            service_code,
            status: Status::from_code(&status).ok_or(Error::Corrupt)?,
            rw,
            rt,
            applicant_name: String::from_utf8(name).map_err(|_| Error::Corrupt)?,
            created_at,
            updated_at,
        });
    }
    Ok(out)
}

/// How many requests match a filter.
pub fn count_requests(conn: &Connection, cipher: &Cipher, f: &RequestFilter) -> Result<u64> {
    let RequestQuery { from_where, args, .. } = request_where(cipher, f);
    let sql = format!("SELECT count(*) {from_where}");
    Ok(conn.query_row(&sql, params_from_iter(args), |r| r.get::<_, i64>(0))? as u64)
}

/// The duplicate check's query. Its index is named: left to itself, SQLite took the service's
/// index, which yields the rows in time order, and read every request of that service to find
/// the NIK's (at 30,000 requests, 819 pages for each request recorded; benchmark scenario 13),
/// rather than the NIK's index and a sort of its few rows.
pub(super) const OPEN_DUPLICATES: &str = "SELECT receipt FROM requests INDEXED BY requests_by_nik
 WHERE nik_tag = ?1 AND service_code = ?2 AND closed_at IS NULL ORDER BY created_at";

/// Receipts of open requests for this NIK and service (for the duplicate warning).
pub fn open_duplicates(conn: &Connection, cipher: &Cipher, nik: &str, service_code: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(OPEN_DUPLICATES)?;
    let rows = st.query_map(params![nik_tag(cipher, nik), service_code], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A page of complaints, newest first (optionally only open ones).
pub fn list_complaints(conn: &Connection, open_only: bool, offset: u32, limit: u32) -> Result<Vec<ComplaintSummary>> {
    let filter = if open_only { "WHERE c.closed_at IS NULL" } else { "" };
    let sql = format!(
        "SELECT c.doc_id, c.receipt, c.category, c.status, c.rw, c.rt, c.created_at FROM complaints c
         {filter} ORDER BY c.created_at DESC, c.doc DESC LIMIT ?1 OFFSET ?2"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![limit.min(500), offset], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, receipt, category, status, rw, rt, created_at) = row?;
        let category = match category.as_str() {
            "pengaduan" => ComplaintCategory::Pengaduan,
            "aspirasi" => ComplaintCategory::Aspirasi,
            "saran" => ComplaintCategory::Saran,
            _ => return Err(Error::Corrupt),
        };
        out.push(ComplaintSummary {
            id,
            receipt,
            category,
            status: ComplaintStatus::from_code(&status).ok_or(Error::Corrupt)?,
            rw,
            rt,
            created_at,
        });
    }
    Ok(out)
}

/// Documents whose records closed before the cutoffs: requests before `request_cutoff`,
/// complaints before `complaint_cutoff`.
pub fn closed_before(conn: &Connection, request_cutoff: i64, complaint_cutoff: i64) -> Result<(Vec<i64>, Vec<i64>)> {
    let q = |sql: &str, cutoff: i64| -> Result<Vec<i64>> {
        let mut st = conn.prepare(sql)?;
        let rows = st.query_map(params![cutoff], |r| r.get::<_, i64>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok((
        q("SELECT doc FROM requests WHERE closed_at IS NOT NULL AND closed_at < ?1", request_cutoff)?,
        q("SELECT doc FROM complaints WHERE closed_at IS NOT NULL AND closed_at < ?1", complaint_cutoff)?,
    ))
}
