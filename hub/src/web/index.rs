//! The office index of requests: service, date and officer of each stored request, and blind
//! tags (keyed hashes, ADR 0001) of its NIK and of the words of the applicant's name, so the
//! dashboard filters and searches without opening every document and without keeping names or
//! NIKs in clear. The index catches up with the documents stored since it last ran (by the
//! change-log sequence), so every way a request arrives (sync, bundle, a staff edit) is covered.

use jemput_core::crypto::Cipher;
use jemput_core::document;
use jemput_core::Request;

use crate::db::{self, HubTx};
use crate::error::AppError;
use crate::storage::OfficeIndexRow;

const META_KEY: &str = "web_office_index_seq";

/// Normalises a name word for its tag (lower case, letters and digits only).
fn norm(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The tag of a NIK.
pub fn nik_tag(cipher: &Cipher, nik: &str) -> i64 {
    cipher.tag("web:nik", nik.trim())
}

/// The tag of one word of a name.
pub fn name_tag(cipher: &Cipher, word: &str) -> i64 {
    cipher.tag("web:nama", &norm(word))
}

/// The tags of a request.
pub fn tags_of(cipher: &Cipher, r: &Request) -> Vec<i64> {
    let mut t = vec![nik_tag(cipher, &r.applicant.nik)];
    for w in r.applicant.name.split_whitespace() {
        if !norm(w).is_empty() {
            t.push(name_tag(cipher, w));
        }
    }
    t.sort_unstable();
    t.dedup();
    t
}

/// Brings the index up to date with every request stored since it last ran.
pub fn catch_up(tx: &mut dyn HubTx, cipher: &Cipher) -> Result<(), AppError> {
    let mut after = tx.meta(META_KEY)?.and_then(|b| b.try_into().ok()).map(i64::from_le_bytes).unwrap_or(0);
    let start = after;
    loop {
        let batch = tx.docs_after("request", after, 500)?;
        let Some((last, _)) = batch.last() else { break };
        let last = *last;
        for (_, id) in batch {
            let Some(doc) = db::load_doc(tx, cipher, &id, false)? else { continue };
            let Ok(r) = document::read::<Request>(&doc) else { continue };
            tx.put_office_index(&OfficeIndexRow {
                doc_id: id,
                service: r.service_code.clone(),
                created_at: r.created_at,
                officer_id: r.officer_id.clone(),
                tags: tags_of(cipher, &r),
            })?;
        }
        after = last;
    }
    if after != start {
        tx.set_meta(META_KEY, &after.to_le_bytes())?;
    }
    Ok(())
}
