//! No-signal handoff: a device exports every change the hub lacks as one bundle file, to pass
//! by USB, Bluetooth or the share sheet to the office or to a colleague whose phone will have
//! signal. The hub imports it like a sync upload; a colleague's device keeps it (encrypted) and
//! forwards it at its next sync. Importing the same bundle twice changes nothing: Automerge
//! ignores changes it already has.

use serde::{Deserialize, Serialize};

use crate::sync::protocol::{self, DocMessage, ProtocolError};

/// The first bytes of every bundle file.
pub const MAGIC: &[u8; 8] = b"JMPBNDL1";

/// A bundle of one device's unsent changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// The device that wrote the changes.
    pub device_id: String,
    /// Its officer.
    pub officer_id: String,
    /// When it was made (Unix milliseconds).
    pub created_at: i64,
    /// A message per document, carrying every change the hub was not known to have.
    pub docs: Vec<DocMessage>,
}

impl Bundle {
    /// The file contents.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(protocol::encode(self));
        out
    }

    /// Reads a bundle file, with the same limits as a sync body.
    pub fn decode(bytes: &[u8]) -> Result<Bundle, ProtocolError> {
        let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or(ProtocolError::Malformed)?;
        let b: Bundle = protocol::decode(body)?;
        if b.docs.len() > protocol::MAX_DOCS || b.docs.iter().any(|d| d.message.len() > protocol::MAX_DOC_MESSAGE_BYTES) {
            return Err(ProtocolError::TooLarge);
        }
        Ok(b)
    }

    /// A short fingerprint (hex) to recognise the same bundle twice.
    pub fn fingerprint(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex()[..32].to_string()
    }
}
