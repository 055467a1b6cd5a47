//! The sync exchange in flight (ADR 0006, "Surviving a killed process"): before a device sends
//! an exchange it keeps the exchange's key and the exact body it uploads, sealed like the rest
//! of the store, so a sync that starts after the app's process was killed mid-exchange asks the
//! hub where that exchange stands and continues it instead of uploading everything again. The
//! remembered exchange is forgotten in the same transaction that applies its answer (see
//! `Store::apply_sync`), or when it is abandoned, so it is never resumed twice.
//!
//! It lives in `meta` (one row, `exchange_in_flight`): there is at most one exchange in flight,
//! and no schema change was needed.

use rusqlite::{params, Connection};

use super::Store;
use crate::error::{Error, Result};

const META_KEY: &str = "exchange_in_flight";
/// The sealing context of the remembered exchange (also used by the key rotation).
pub(crate) const CONTEXT: &[u8] = b"meta:exchange_in_flight";

/// An exchange this device sent (or was sending) to the hub and whose answer it has not
/// applied yet.
#[derive(Clone, PartialEq, Eq)]
pub struct ExchangeInFlight {
    /// The exchange key the hub knows it by.
    pub key: String,
    /// The exact body being uploaded (an encoded sync request).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for ExchangeInFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds personal data: only its length is shown.
        f.debug_struct("ExchangeInFlight").field("key", &self.key).field("body_len", &self.body.len()).finish()
    }
}

/// Forgets the remembered exchange inside a transaction of the caller (applying its answer).
pub(crate) fn forget_in(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", params![META_KEY])?;
    Ok(())
}

impl Store {
    /// Remembers the exchange about to be sent (its key and the exact body), sealed, replacing
    /// any other. Call it before the first byte goes out.
    pub fn remember_exchange(&mut self, key: &str, body: &[u8]) -> Result<()> {
        let plain = zeroize::Zeroizing::new(postcard::to_allocvec(&(key, body)).map_err(|e| Error::Document(e.to_string()))?);
        let sealed = self.cipher.seal(CONTEXT, &plain);
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![META_KEY, sealed])?;
        Ok(())
    }

    /// The exchange a sync left in flight (the app killed, the sync cancelled, the signal lost
    /// after every retry), if any.
    pub fn exchange_in_flight(&self) -> Result<Option<ExchangeInFlight>> {
        let Some(sealed) = self.meta(META_KEY)? else { return Ok(None) };
        let plain = zeroize::Zeroizing::new(self.cipher.open(CONTEXT, &sealed).map_err(|_| Error::Corrupt)?);
        let (key, body): (String, Vec<u8>) = postcard::from_bytes(&plain).map_err(|_| Error::Corrupt)?;
        Ok(Some(ExchangeInFlight { key, body }))
    }

    /// Forgets the remembered exchange (abandoned: the hub holds none of it, or refused it).
    pub fn forget_exchange(&mut self) -> Result<()> {
        forget_in(&self.conn)?;
        Ok(())
    }
}
