//! The wire format of a sync exchange: postcard-encoded, deflate-compressed bodies, with size
//! limits checked before and while decompressing. Everything from the network is hostile.

use std::io::{Read, Write};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Protocol version; a hub refuses versions it does not speak.
pub const PROTOCOL_VERSION: u16 = 1;
/// Content type of request and response bodies.
pub const CONTENT_TYPE: &str = "application/x-jemput-sync";
/// Header carrying the key a device gives one exchange, so a cut exchange can be resumed
/// (ADR 0006): 8 to 32 characters `[0-9a-z]`.
pub const EXCHANGE_HEADER: &str = "jemput-exchange";
/// Header: where this part of an upload starts within the whole body (a resumed upload).
pub const OFFSET_HEADER: &str = "jemput-offset";
/// Header: how many bytes of the answer the device already has (asking for the rest).
pub const RECEIVED_HEADER: &str = "jemput-received";

/// Whether `key` is a valid exchange key.
pub fn valid_exchange_key(key: &str) -> bool {
    (8..=32).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// Largest compressed body accepted.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Largest body after decompression.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;
/// Most documents in one exchange.
pub const MAX_DOCS: usize = 2_000;
/// Largest single document message.
pub const MAX_DOC_MESSAGE_BYTES: usize = 1024 * 1024;

/// An Automerge sync message for one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMessage {
    /// Document id.
    pub doc_id: String,
    /// `automerge::sync::Message::encode()` bytes.
    pub message: Vec<u8>,
}

/// What a device sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The hub change-log position the device has fully received.
    pub cursor: u64,
    /// Messages for the device's unsent documents.
    pub docs: Vec<DocMessage>,
}

/// A document change the hub refused, with the reason for the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRefusal {
    /// Document id.
    pub doc_id: String,
    /// Stable code.
    pub code: String,
    /// Message in Bahasa Indonesia.
    pub message: String,
}

/// What the hub answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The change-log position the device reaches once it has applied this response.
    pub cursor: u64,
    /// More changes wait after `cursor`: sync again.
    pub more: bool,
    /// Messages for documents the device sent or that changed in its scope.
    pub docs: Vec<DocMessage>,
    /// Changes refused.
    pub refused: Vec<DocRefusal>,
}

/// A body that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Over a size limit.
    #[error("pesan sinkronisasi terlalu besar")]
    TooLarge,
    /// Not a valid body.
    #[error("pesan sinkronisasi rusak")]
    Malformed,
    /// Another protocol version.
    #[error("versi protokol sinkronisasi tidak didukung")]
    Version,
}

/// Encodes a body: postcard, then raw deflate.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let raw = postcard::to_allocvec(value).expect("postcard encoding of owned data cannot fail");
    let mut z = flate2::write::DeflateEncoder::new(Vec::with_capacity(raw.len() / 2), flate2::Compression::best());
    z.write_all(&raw).expect("writing to a Vec cannot fail");
    z.finish().expect("writing to a Vec cannot fail")
}

/// Decodes a body, refusing oversized input before and during decompression.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let mut raw = Vec::new();
    let read = flate2::read::DeflateDecoder::new(body)
        .take(MAX_DECODED_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|_| ProtocolError::Malformed)?;
    if read > MAX_DECODED_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    postcard::from_bytes(&raw).map_err(|_| ProtocolError::Malformed)
}

impl SyncRequest {
    /// Decodes and checks a request body.
    pub fn decode(body: &[u8]) -> Result<SyncRequest, ProtocolError> {
        let r: SyncRequest = decode(body)?;
        if r.version != PROTOCOL_VERSION {
            return Err(ProtocolError::Version);
        }
        check_docs(&r.docs)?;
        Ok(r)
    }
}

impl SyncResponse {
    /// Decodes and checks a response body.
    pub fn decode(body: &[u8]) -> Result<SyncResponse, ProtocolError> {
        let r: SyncResponse = decode(body)?;
        if r.version != PROTOCOL_VERSION {
            return Err(ProtocolError::Version);
        }
        check_docs(&r.docs)?;
        Ok(r)
    }
}

fn check_docs(docs: &[DocMessage]) -> Result<(), ProtocolError> {
    if docs.len() > MAX_DOCS {
        return Err(ProtocolError::TooLarge);
    }
    for d in docs {
        if d.message.len() > MAX_DOC_MESSAGE_BYTES {
            return Err(ProtocolError::TooLarge);
        }
        if d.doc_id.is_empty() || d.doc_id.len() > 64 || !d.doc_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ProtocolError::Malformed);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_limits() {
        let req = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: 42,
            docs: vec![DocMessage { doc_id: "0190-abc".into(), message: vec![1, 2, 3] }],
        };
        assert_eq!(SyncRequest::decode(&encode(&req)).unwrap(), req);
        let mut bad = req.clone();
        bad.version = 99;
        assert_eq!(SyncRequest::decode(&encode(&bad)), Err(ProtocolError::Version));
        let mut bad = req.clone();
        bad.docs[0].doc_id = "../etc/passwd".into();
        assert_eq!(SyncRequest::decode(&encode(&bad)), Err(ProtocolError::Malformed));
        // A deflate bomb: small on the wire, huge when inflated.
        let bomb = {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(&vec![0u8; MAX_DECODED_BYTES + 10]).unwrap();
            z.finish().unwrap()
        };
        assert!(bomb.len() < MAX_BODY_BYTES);
        assert_eq!(SyncRequest::decode(&bomb), Err(ProtocolError::TooLarge));
        assert_eq!(SyncRequest::decode(&vec![0u8; MAX_BODY_BYTES + 1]), Err(ProtocolError::TooLarge));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = SyncRequest::decode(&body);
            let _ = SyncResponse::decode(&body);
        }
    }
}
