//! Resumable exchanges (ADR 0006): what the hub holds of a device's exchange (the upload
//! received so far, or the answer once applied, both sealed), joining a continued upload onto
//! the held part, and which uploads this hub instance is receiving right now.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use jemput_core::crypto::Cipher;
use jemput_core::sync::protocol;

use crate::error::ServiceError;
use crate::service::officers::{self, Device};
use crate::storage::HubTx;

pub(crate) fn exchange_context(device_id: &str, key: &str) -> Vec<u8> {
    format!("hub:exchange:{device_id}:{key}").into_bytes()
}

/// The device a token belongs to, if it is enrolled and not revoked.
pub fn authorized(tx: &mut dyn HubTx, token: &str) -> Result<Device, ServiceError> {
    let device = officers::device_by_token(tx, token)?.ok_or(ServiceError::Unauthorized("token_salah", "Perangkat tidak dikenal"))?;
    if device.revoked {
        return Err(ServiceError::Unauthorized("perangkat_dicabut", "Perangkat ini sudah dicabut oleh kelurahan"));
    }
    Ok(device)
}

/// What the hub holds of a device's exchange `key`: the answer once applied (uncompressed, see
/// [`protocol::raw_body`]), or else the upload received so far (empty when the key is new).
pub enum Held {
    /// The answer, uncompressed.
    Answer(Vec<u8>),
    /// The upload received so far.
    Upload(Vec<u8>),
}

/// What the hub holds of exchange `key` of a device.
pub fn held(tx: &mut dyn HubTx, cipher: &Cipher, device_id: &str, key: &str) -> Result<Held, ServiceError> {
    let ctx = exchange_context(device_id, key);
    match tx.exchange(device_id)? {
        Some(row) if row.key == key => match row.answer {
            Some(a) => Ok(Held::Answer(cipher.open(&ctx, &a).map_err(|_| ServiceError::Internal)?)),
            None => Ok(Held::Upload(cipher.open(&ctx, &row.upload).map_err(|_| ServiceError::Internal)?)),
        },
        _ => Ok(Held::Upload(Vec::new())),
    }
}

/// The held upload with `part` written at `offset` (what the hub held past `offset` is replaced);
/// `Err` with the held length when the hub holds fewer than `offset` bytes.
pub fn join_upload(mut held: Vec<u8>, offset: usize, part: &[u8]) -> Result<Vec<u8>, usize> {
    if offset > held.len() {
        return Err(held.len());
    }
    held.truncate(offset);
    held.extend_from_slice(part);
    Ok(held)
}

/// The refusal of a continued upload that starts past what the hub holds.
pub fn offset_mismatch(held: usize) -> ServiceError {
    ServiceError::Rejected("offset_tidak_cocok", format!("Hub memegang {held} bita dari unggahan ini; lanjutkan dari sana"))
}

/// The answer formats a device reads (its `jemput-reads` header, ADR 0007).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// It reads [`protocol::FORMAT_ZSTD`] answers.
    pub zstd: bool,
}

impl Reads {
    /// From the value of the `jemput-reads` header, if any (a comma-separated list; unknown
    /// entries are ignored).
    pub fn from_header(value: Option<&str>) -> Reads {
        Reads { zstd: value.is_some_and(|v| v.split(',').any(|f| f.trim() == protocol::READS_ZSTD)) }
    }
}

/// From this many uncompressed bytes on, an answer goes out as zstd to a device that reads it:
/// below, deflate with the preset dictionary is as small or smaller (a frame has its own
/// overhead and no dictionary), and most answers are small.
pub const ZSTD_FROM_BYTES: usize = 16 * 1024;

/// zstd level for answers: 15 writes a first sync of 500 records (477 KB) in about 20 ms at
/// 52 KB; 19 gives 49 KB in 160 ms, too much CPU for an answer any enrolled phone can ask for.
const ZSTD_LEVEL: i32 = 15;

/// A kept answer as sent to a device that reads `reads`: compressed, and deterministic (the
/// same raw answer and `reads` give the same bytes, so a resumed answer continues them; a
/// reused deflate state starts each answer afresh).
pub fn compress_answer(raw: &[u8], reads: Reads) -> Vec<u8> {
    if reads.zstd && raw.len() >= ZSTD_FROM_BYTES {
        // zstd into memory cannot fail for input under its limits; if it ever did, deflate
        // still gives the device an answer it reads.
        if let Ok(z) = zstd::bulk::compress(raw, ZSTD_LEVEL) {
            let mut out = Vec::with_capacity(z.len() + 1);
            out.push(protocol::FORMAT_ZSTD);
            out.extend_from_slice(&z);
            return out;
        }
    }
    // A kept deflate state (a new one is allocated and cleared: a fifth of compressing an
    // answer), taken from the ones idle, and given back unless enough are kept.
    let idle = DEFLATERS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut d = idle.unwrap_or_else(|| protocol::Deflater::new(protocol::FORMAT_DICTIONARY_V1, ANSWER_LEVEL));
    let out = d.compress(raw);
    let mut idle = DEFLATERS.lock().unwrap_or_else(|e| e.into_inner());
    if idle.len() < KEPT_DEFLATERS {
        idle.push(d);
    }
    out
}

/// Deflate level for answers. The best level (9) searches chains of up to 4,096 earlier
/// matches at every byte: compressing answers at 9 was 40 % of the hub process's instructions
/// in scenario 8 (callgrind), for bodies about 1 % smaller than at 6 (what the core uploads at 9
/// stays as it is: that CPU is the phone's, spent once per body).
pub const ANSWER_LEVEL: u32 = 6;

/// Idle deflate states kept for answers (about 300 KB each): answers are compressed on the
/// blocking pool, a few at a time on a small machine.
const KEPT_DEFLATERS: usize = 4;

/// The idle deflate states for answers, each starting every answer afresh.
static DEFLATERS: Mutex<Vec<protocol::Deflater>> = Mutex::new(Vec::new());

/// The exchange keys whose uploads this hub instance is receiving right now. A device asking
/// where such an exchange stands (after its side of the connection broke) waits until the hub
/// has noticed the break and kept what arrived, so the answer counts every byte received.
#[derive(Clone, Default)]
pub struct Receiving(Arc<Mutex<HashSet<String>>>);

/// Removes a key from [`Receiving`] when its upload ends, however it ends.
pub struct ReceivingGuard(Receiving, String);

impl Drop for ReceivingGuard {
    fn drop(&mut self) {
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

impl Receiving {
    /// Marks the upload of `key` as arriving until the guard is dropped.
    pub fn start(&self, key: &str) -> ReceivingGuard {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string());
        ReceivingGuard(self.clone(), key.to_string())
    }

    fn busy(&self, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
    }

    /// Waits (at most `limit`) while the upload of `key` is still being received.
    pub async fn settle(&self, key: &str, limit: std::time::Duration) {
        let until = tokio::time::Instant::now() + limit;
        while self.busy(key) && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_answers_go_out_as_zstd_only_to_devices_that_read_it_and_always_as_the_same_bytes() {
        assert_eq!(Reads::from_header(None), Reads { zstd: false });
        assert_eq!(Reads::from_header(Some("zstd")), Reads { zstd: true });
        assert_eq!(Reads::from_header(Some("br, zstd")), Reads { zstd: true });
        assert_eq!(Reads::from_header(Some("zstdx")), Reads { zstd: false });
        let big: Vec<u8> = (0..ZSTD_FROM_BYTES as u32 + 10).map(|i| (i % 251) as u8).collect();
        let small = &big[..ZSTD_FROM_BYTES - 1];
        let z = Reads { zstd: true };
        assert_eq!(compress_answer(&big, z)[0], protocol::FORMAT_ZSTD);
        assert_eq!(compress_answer(&big, Reads::default())[0], protocol::FORMAT_DICTIONARY_V1);
        assert_eq!(compress_answer(small, z)[0], protocol::FORMAT_DICTIONARY_V1);
        // A resumed answer continues the bytes of the cut one.
        assert_eq!(compress_answer(&big, z), compress_answer(&big, z));
    }

    #[test]
    fn a_reused_deflate_state_writes_what_a_new_one_writes_and_devices_read_it() {
        let text = |n: u32| -> String { (0..n).map(|i| format!("rt {} permohonan {i};", i % 7)).collect() };
        let (a, b) = (protocol::raw_body(&text(900)), protocol::raw_body(&text(40)));
        let fresh = |raw: &[u8]| protocol::Deflater::new(protocol::FORMAT_DICTIONARY_V1, ANSWER_LEVEL).compress(raw);
        // The same thread's state, used for a large answer, then a small one, then the first again.
        let ca = compress_answer(&a, Reads::default());
        let cb = compress_answer(&b, Reads::default());
        assert_eq!((&ca, &cb), (&fresh(&a), &fresh(&b)));
        assert_eq!(compress_answer(&a, Reads::default()), ca);
        // A device reads it (format 1: deflate with the dictionary).
        assert_eq!(ca[0], protocol::FORMAT_DICTIONARY_V1);
        assert_eq!(protocol::decode_answer::<String>(&ca).unwrap(), text(900));
        assert_eq!(protocol::decode_answer::<String>(&cb).unwrap(), text(40));
    }
}
