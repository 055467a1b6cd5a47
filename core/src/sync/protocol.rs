//! The wire format of a sync exchange: postcard-encoded, deflate-compressed bodies, with size
//! limits checked before and while decompressing. Everything from the network is hostile.

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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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

/// Largest preset dictionary.
pub const MAX_DICTIONARY_BYTES: usize = 16 * 1024;

/// The preset deflate dictionary of format 1 (ADR 0007): what every upload repeats, with
/// neutral values (built by `jemput-dictionary`). Frozen: a new dictionary gets a new format
/// byte, and readers keep the old ones.
pub const DICTIONARY_V1: &[u8] = include_bytes!("dictionary-v1.bin");

/// BLAKE3 of [`DICTIONARY_V1`], checked by a test.
#[cfg(test)]
const DICTIONARY_V1_BLAKE3: &str = "024f46fca5cab418a13226005f65d6bacab497420ab02f4f6fa98f0ebbef50d7";

/// Body format byte: raw deflate without a dictionary.
pub const FORMAT_PLAIN: u8 = 0;
/// Body format byte: raw deflate with [`DICTIONARY_V1`] (what [`encode`] writes).
pub const FORMAT_DICTIONARY_V1: u8 = 1;

/// The uncompressed (postcard) bytes of a body.
pub fn raw_body<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("postcard encoding of owned data cannot fail")
}

/// Encodes a body: a format byte, then the postcard bytes deflated with the preset dictionary
/// (which small batches gain most from: an upload of one request shrinks by about half).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_as(value, FORMAT_DICTIONARY_V1)
}

/// Encodes a body in the given format (see [`FORMAT_PLAIN`], [`FORMAT_DICTIONARY_V1`]).
pub fn encode_as<T: Serialize>(value: &T, format: u8) -> Vec<u8> {
    compress(&raw_body(value), format)
}

/// Encodes the uncompressed bytes of a body (from [`raw_body`]) in the given format. The same
/// input gives the same bytes (the hub relies on it to resend part of a kept answer).
pub fn compress(raw: &[u8], format: u8) -> Vec<u8> {
    let mut z = flate2::Compress::new(flate2::Compression::best(), false);
    if format == FORMAT_DICTIONARY_V1 {
        z.set_dictionary(DICTIONARY_V1).expect("setting a dictionary on a fresh compressor cannot fail");
    }
    let mut out = Vec::with_capacity(raw.len() / 2 + 64);
    out.push(format);
    loop {
        out.reserve(raw.len() / 2 + 64);
        let consumed = z.total_in() as usize;
        let status = z.compress_vec(&raw[consumed..], &mut out, flate2::FlushCompress::Finish).expect("deflate into a Vec cannot fail");
        if status == flate2::Status::StreamEnd {
            return out;
        }
    }
}

/// Inflates a raw deflate stream, with an optional preset dictionary, refusing output over
/// [`MAX_DECODED_BYTES`] as soon as it is reached.
fn inflate(data: &[u8], dictionary: Option<&[u8]>) -> Result<Vec<u8>, ProtocolError> {
    let mut z = flate2::Decompress::new(false);
    if let Some(d) = dictionary {
        z.set_dictionary(d).map_err(|_| ProtocolError::Malformed)?;
    }
    let mut out: Vec<u8> = Vec::with_capacity((data.len() * 4).clamp(256, MAX_DECODED_BYTES));
    loop {
        if out.len() > MAX_DECODED_BYTES {
            return Err(ProtocolError::TooLarge);
        }
        if out.len() == out.capacity() {
            // Grow by doubling, but never past one byte over the limit.
            let room = (MAX_DECODED_BYTES + 1).saturating_sub(out.len()).max(1);
            out.reserve(out.len().max(256).min(room));
        }
        let (in_before, out_before) = (z.total_in(), out.len());
        let consumed = (in_before as usize).min(data.len());
        let status =
            z.decompress_vec(&data[consumed..], &mut out, flate2::FlushDecompress::Finish).map_err(|_| ProtocolError::Malformed)?;
        if status == flate2::Status::StreamEnd {
            if out.len() > MAX_DECODED_BYTES {
                return Err(ProtocolError::TooLarge);
            }
            return Ok(out);
        }
        // No progress with room to write: the stream is truncated.
        if z.total_in() == in_before && out.len() == out_before && out.len() < out.capacity() {
            return Err(ProtocolError::Malformed);
        }
    }
}

/// Decodes a body, refusing oversized input before and during decompression.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let (format, data) = body.split_first().ok_or(ProtocolError::Malformed)?;
    let raw = match *format {
        FORMAT_PLAIN => inflate(data, None)?,
        FORMAT_DICTIONARY_V1 => inflate(data, Some(DICTIONARY_V1))?,
        _ => return Err(ProtocolError::Version),
    };
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
            use std::io::Write;
            let mut z = flate2::write::DeflateEncoder::new(vec![FORMAT_PLAIN], flate2::Compression::best());
            z.write_all(&vec![0u8; MAX_DECODED_BYTES + 10]).unwrap();
            z.finish().unwrap()
        };
        assert!(bomb.len() < MAX_BODY_BYTES);
        assert_eq!(SyncRequest::decode(&bomb), Err(ProtocolError::TooLarge));
        assert_eq!(SyncRequest::decode(&vec![0u8; MAX_BODY_BYTES + 1]), Err(ProtocolError::TooLarge));
    }

    #[test]
    fn both_formats_decode_and_unknown_formats_are_refused() {
        let req = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: 7,
            docs: (0..50).map(|i| DocMessage { doc_id: format!("doc-{i}"), message: vec![i as u8; 300] }).collect(),
        };
        let plain = encode_as(&req, FORMAT_PLAIN);
        let dict = encode(&req);
        assert_eq!((plain[0], dict[0]), (FORMAT_PLAIN, FORMAT_DICTIONARY_V1));
        assert_eq!(SyncRequest::decode(&plain).unwrap(), req);
        assert_eq!(SyncRequest::decode(&dict).unwrap(), req);
        // The same body gives the same bytes (a hub resends part of a kept answer).
        assert_eq!(compress(&raw_body(&req), FORMAT_DICTIONARY_V1), dict);
        let mut other = dict.clone();
        other[0] = 9;
        assert_eq!(SyncRequest::decode(&other), Err(ProtocolError::Version));
        // Truncated anywhere: refused, never a panic or a wrong value.
        for cut in 0..dict.len() {
            assert!(SyncRequest::decode(&dict[..cut]).is_err(), "cut at {cut}");
        }
        // Read with the wrong dictionary: refused.
        let mut swapped = dict.clone();
        swapped[0] = FORMAT_PLAIN;
        assert!(SyncRequest::decode(&swapped).is_err());
        assert_eq!(SyncRequest::decode(&[]), Err(ProtocolError::Malformed));
    }

    #[test]
    fn the_dictionary_is_the_frozen_one() {
        // Changing the dictionary breaks every device and hub that uses the old one: a new
        // dictionary needs a new format byte (ADR 0007).
        assert!(DICTIONARY_V1.len() <= MAX_DICTIONARY_BYTES);
        assert_eq!(blake3::hash(DICTIONARY_V1).to_hex().as_str(), DICTIONARY_V1_BLAKE3);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = SyncRequest::decode(&body);
            let _ = SyncResponse::decode(&body);
        }
    }
}
