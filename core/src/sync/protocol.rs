//! The wire protocol between a device and the hub, defined once for both sides: the sync
//! exchange (postcard-encoded, deflate-compressed bodies, with size limits checked before and
//! while decompressing), the exchange key of a resumable exchange, the enrolment request and
//! answer, the error body every hub error carries, and the encoding of change hashes and actor
//! ids. Everything from the network is hostile.

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
/// Header: the answer formats the device reads besides deflate ([`READS_ZSTD`]), sent with
/// every upload and every "where does it stand" question of an exchange, so a resumed answer
/// is written in the same format as the cut one (ADR 0007).
pub const READS_HEADER: &str = "jemput-reads";
/// [`READS_HEADER`] value of a device that reads [`FORMAT_ZSTD`] answers.
pub const READS_ZSTD: &str = "zstd";

/// Whether `key` is a valid exchange key.
pub fn valid_exchange_key(key: &str) -> bool {
    (8..=32).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// A random key for one exchange (16 characters `[0-9a-f]`, a [`valid_exchange_key`]).
pub fn new_exchange_key() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS random source works");
    hex::encode(b)
}

/// Change hashes as stored and sent: concatenated 32-byte values (defined with the documents).
pub use crate::document::{decode_heads, encode_heads};

/// An Automerge actor id as text: lowercase hex of its 16 bytes.
pub fn actor_hex(actor: &automerge::ActorId) -> String {
    hex::encode(actor.to_bytes())
}

/// Reads an actor id written by [`actor_hex`] (either case); `None` unless it is 32 hex digits.
pub fn actor_from_hex(text: &str) -> Option<automerge::ActorId> {
    let mut b = [0u8; 16];
    hex::decode_to_slice(text, &mut b).ok()?;
    Some(automerge::ActorId::from(b.as_slice()))
}

/// Path of the enrolment call (`POST`, JSON [`EnrolRequest`], answered with [`Enrolment`]).
pub const ENROL_PATH: &str = "/api/v1/enroll";
/// Path of the sync exchange (`POST`); `GET {SYNC_PATH}/{key}` asks where an exchange stands.
pub const SYNC_PATH: &str = "/api/v1/sync";
/// Path of the relay of a colleague's no-signal bundle (`POST`, body = the bundle file).
pub const RELAY_PATH: &str = "/api/v1/relay";

/// What a device sends to enrol with a one-time code (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time enrolment code from the kelurahan.
    pub code: String,
    /// A name for the device, shown to staff.
    pub device_name: String,
    /// The device's Automerge actor id ([`actor_hex`]).
    pub actor: String,
    /// The device's id (a UUID).
    pub device_id: String,
}

/// What the hub gives a newly enrolled device (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// The device's id at the hub.
    pub device_id: String,
    /// The device's secret token (keep it in the platform key store; shown once).
    pub token: String,
    /// The officer.
    pub officer_id: String,
    /// The officer's name (shown on the phone after enrolment).
    #[serde(default)]
    pub officer_name: String,
    /// The receipt prefix allocated to this device.
    pub receipt_prefix: String,
    /// Scope: RW.
    pub rw: u16,
    /// Scope: RT, or none for the whole RW.
    pub rt: Option<u16>,
}

/// The body of every error the hub answers (JSON): a stable code and a message in Bahasa
/// Indonesia for a person, never with personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code.
    pub kode: String,
    /// Message in Bahasa Indonesia.
    pub pesan: String,
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
    /// `automerge::sync::Message::encode()` bytes. Written as one byte string (`serde_bytes`),
    /// in one call rather than one call a byte (serialising an answer's documents byte by
    /// byte was a twentieth of the hub process's instructions, callgrind); in postcard both are
    /// the same bytes, the length then the bytes, so bodies do not change.
    #[serde(with = "serde_bytes")]
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
    /// What the device still holds to send once this message is through, so the office sees
    /// it next to the device's last sync. `None` = not told (a device from before this field;
    /// its bodies end after `docs`, and a hub from before it ignores the bytes that follow).
    pub backlog: Option<Backlog>,
}

/// What a device still holds to send after a message: records with changes the hub lacks that
/// the message leaves out (they go in the next exchanges of the same sync, or the next sync),
/// and records the hub refused that wait for the officer. Counts only; reported by the device
/// and shown to staff as it says (a modified phone can only misreport its own backlog).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Requests not yet sent.
    pub requests: u32,
    /// Complaints and aspirations not yet sent.
    pub complaints: u32,
    /// Records the hub refused, waiting for the officer to correct them.
    pub refused: u32,
}

impl Backlog {
    /// Records still to send (unsent and refused).
    pub fn total(&self) -> u64 {
        self.requests as u64 + self.complaints as u64 + self.refused as u64
    }

    /// For the office, in Bahasa Indonesia: "semua terkirim", or what is left, e.g.
    /// "belum terkirim: 3 permohonan, 1 pengaduan; 2 ditolak, menunggu perbaikan petugas".
    pub fn describe(&self) -> String {
        if self.total() == 0 {
            return "semua terkirim".into();
        }
        let mut unsent = Vec::new();
        if self.requests > 0 {
            unsent.push(format!("{} permohonan", self.requests));
        }
        if self.complaints > 0 {
            unsent.push(format!("{} pengaduan", self.complaints));
        }
        let mut parts = Vec::new();
        if !unsent.is_empty() {
            parts.push(format!("belum terkirim: {}", unsent.join(", ")));
        }
        if self.refused > 0 {
            parts.push(format!("{} ditolak, menunggu perbaikan petugas", self.refused));
        }
        parts.join("; ")
    }
}

/// [`SyncRequest`] as devices before the backlog field wrote it.
#[derive(Deserialize)]
struct SyncRequestV1 {
    version: u16,
    cursor: u64,
    docs: Vec<DocMessage>,
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

/// The refusal code that tells a device a record was erased at the kelurahan, on a resident's
/// request or at the end of its retention period (ADR 0013). The hub sends it for every
/// erased record in the device's scope (once, like any change after the device's cursor) and
/// for every later change a device brings to it; the device deletes its copy. A device from
/// before erasure existed shows it as any refusal: no new wire type was needed.
pub const ERASED_CODE: &str = "data_dihapus";

/// What the officer is told of an erased record.
pub const ERASED_MESSAGE: &str =
    "Data warga ini sudah dihapus oleh kelurahan (atas permintaan warga atau karena masa simpannya habis); salinan di HP ini ikut dihapus";

impl DocRefusal {
    /// The refusal that tells a device document `doc_id` was erased ([`ERASED_CODE`]).
    pub fn erased(doc_id: &str) -> DocRefusal {
        DocRefusal { doc_id: doc_id.to_string(), code: ERASED_CODE.into(), message: ERASED_MESSAGE.into() }
    }

    /// Whether this refusal says the record was erased.
    pub fn is_erasure(&self) -> bool {
        self.code == ERASED_CODE
    }
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
    /// The hub's lineage: a random number that changes only when the hub's database is
    /// restored from a backup (ADR 0014). A device that sees it change knows the hub went back
    /// in time: it starts its cursor over and sends again everything the hub may have lost.
    /// 0 = not told (a hub from before this field; its bodies end after `refused`).
    pub epoch: u64,
}

/// [`SyncResponse`] as hubs before the lineage field wrote it.
#[derive(Deserialize)]
struct SyncResponseV1 {
    version: u16,
    cursor: u64,
    more: bool,
    docs: Vec<DocMessage>,
    refused: Vec<DocRefusal>,
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
/// Body format byte: a zstd frame (RFC 8878), for large hub answers to devices that say they
/// read it ([`READS_HEADER`]): a new phone's first sync of 500 records is about a quarter
/// smaller than with deflate, whose 32 KB window cannot reach the previous records'
/// repetitions (ADR 0007). Only the hub writes it and only devices read it: a request body in
/// this format is refused, so a hostile phone never reaches the hub's decoder with it.
pub const FORMAT_ZSTD: u8 = 2;

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
    Deflater::new(format, flate2::Compression::best().level()).compress(raw)
}

/// A deflate state for bodies of one format and level, kept to compress body after body: a
/// new state costs its allocation and clearing (about a fifth of compressing a hub's answer
/// under callgrind). Each body starts from a reset state with the format's dictionary, so it
/// gives the very bytes a new state gives (see [`compress`]).
pub struct Deflater {
    z: flate2::Compress,
    format: u8,
}

impl Deflater {
    /// A state for `format` ([`FORMAT_PLAIN`] or [`FORMAT_DICTIONARY_V1`]) at deflate level
    /// `level` (0–9; clamped).
    pub fn new(format: u8, level: u32) -> Deflater {
        Deflater { z: flate2::Compress::new(flate2::Compression::new(level.min(9)), false), format }
    }

    /// The body: the format byte, then `raw` deflated (with the dictionary of format 1).
    pub fn compress(&mut self, raw: &[u8]) -> Vec<u8> {
        let z = &mut self.z;
        z.reset();
        if self.format == FORMAT_DICTIONARY_V1 {
            z.set_dictionary(DICTIONARY_V1).expect("setting a dictionary on a reset compressor cannot fail");
        }
        let mut out = Vec::with_capacity(raw.len() / 2 + 64);
        out.push(self.format);
        loop {
            out.reserve(raw.len() / 2 + 64);
            let consumed = z.total_in() as usize;
            let status = z.compress_vec(&raw[consumed..], &mut out, flate2::FlushCompress::Finish).expect("deflate into a Vec cannot fail");
            if status == flate2::Status::StreamEnd {
                return out;
            }
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

/// Decompresses a zstd frame, refusing output over [`MAX_DECODED_BYTES`] (and a frame that
/// asks for a larger window, which would be allocated before any output). The decoder runs
/// under `catch_unwind`, like Automerge decoding (`peer`): a damaged frame is refused, never a
/// crash of the app.
fn unzstd(data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    use std::io::Read;
    std::panic::catch_unwind(|| {
        let mut d = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(data, MAX_DECODED_BYTES as u64)
            .map_err(|_| ProtocolError::Malformed)?;
        let mut out = Vec::with_capacity((data.len() * 4).clamp(256, MAX_DECODED_BYTES));
        (&mut d).take(MAX_DECODED_BYTES as u64 + 1).read_to_end(&mut out).map_err(|_| ProtocolError::Malformed)?;
        if out.len() > MAX_DECODED_BYTES {
            return Err(ProtocolError::TooLarge);
        }
        // Bytes after the frame: not a body this protocol writes.
        if !d.get_ref().is_empty() {
            return Err(ProtocolError::Malformed);
        }
        Ok(out)
    })
    .unwrap_or(Err(ProtocolError::Malformed))
}

/// Decodes a body in format 0 or 1, refusing oversized input before and during decompression.
/// What a hub reads from devices: [`FORMAT_ZSTD`] is refused here (see [`decode_answer`]).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    decode_formats(body, false)
}

/// Decodes a hub's answer: like [`decode`], and [`FORMAT_ZSTD`] too.
pub fn decode_answer<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    decode_formats(body, true)
}

fn decode_formats<T: DeserializeOwned>(body: &[u8], zstd: bool) -> Result<T, ProtocolError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let (format, data) = body.split_first().ok_or(ProtocolError::Malformed)?;
    let raw = match *format {
        FORMAT_PLAIN => inflate(data, None)?,
        FORMAT_DICTIONARY_V1 => inflate(data, Some(DICTIONARY_V1))?,
        FORMAT_ZSTD if zstd => unzstd(data)?,
        _ => return Err(ProtocolError::Version),
    };
    postcard::from_bytes(&raw).map_err(|_| ProtocolError::Malformed)
}

impl SyncRequest {
    /// Decodes and checks a request body.
    pub fn decode(body: &[u8]) -> Result<SyncRequest, ProtocolError> {
        // A body of an older device ends before the backlog: read as "not told".
        let r: SyncRequest = match decode(body) {
            Ok(r) => r,
            Err(ProtocolError::Malformed) => {
                let o: SyncRequestV1 = decode(body)?;
                SyncRequest { version: o.version, cursor: o.cursor, docs: o.docs, backlog: None }
            }
            Err(e) => return Err(e),
        };
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
        // A body of an older hub ends before the lineage: read as "not told".
        let r: SyncResponse = match decode_answer(body) {
            Ok(r) => r,
            Err(ProtocolError::Malformed) => {
                let o: SyncResponseV1 = decode_answer(body)?;
                SyncResponse { version: o.version, cursor: o.cursor, more: o.more, docs: o.docs, refused: o.refused, epoch: 0 }
            }
            Err(e) => return Err(e),
        };
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

    /// The layout of a document message before its bytes were written as one value.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct DocMessageAsNumbers {
        doc_id: String,
        message: Vec<u8>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Optional(#[serde(with = "serde_bytes")] Option<Vec<u8>>);

    #[test]
    fn byte_strings_keep_their_postcard_bytes() {
        for message in [Vec::new(), vec![7u8], (0..=255u8).cycle().take(300).collect::<Vec<_>>()] {
            let now = DocMessage { doc_id: "d-1".into(), message: message.clone() };
            let before = DocMessageAsNumbers { doc_id: "d-1".into(), message: message.clone() };
            let bytes = raw_body(&now);
            assert_eq!(bytes, raw_body(&before));
            assert_eq!(postcard::from_bytes::<DocMessage>(&raw_body(&before)).unwrap(), now);
            assert_eq!(raw_body(&Optional(Some(message.clone()))), raw_body(&Some(message.clone())));
            assert_eq!(postcard::from_bytes::<Optional>(&raw_body(&Some(message.clone()))).unwrap(), Optional(Some(message)));
        }
        assert_eq!(raw_body(&Optional(None)), raw_body(&None::<Vec<u8>>));
        // A length past the end of the input is refused, never allocated.
        assert!(postcard::from_bytes::<DocMessage>(&[1, b'd', 0xff, 0xff, 0xff, 0x7f, 1]).is_err());
    }

    use proptest::prelude::*;

    #[test]
    fn round_trip_and_limits() {
        let req = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: 42,
            docs: vec![DocMessage { doc_id: "0190-abc".into(), message: vec![1, 2, 3] }],
            backlog: Some(Backlog { requests: 3, complaints: 1, refused: 2 }),
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
            backlog: None,
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
    fn a_request_without_a_backlog_reads_as_not_told_and_older_hubs_ignore_it() {
        let req = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: 5,
            docs: vec![DocMessage { doc_id: "doc-1".into(), message: vec![9; 20] }],
            backlog: Some(Backlog { requests: 7, complaints: 0, refused: 1 }),
        };
        assert_eq!(req.backlog.unwrap().total(), 8);
        assert_eq!(req.backlog.unwrap().describe(), "belum terkirim: 7 permohonan; 1 ditolak, menunggu perbaikan petugas");
        assert_eq!(Backlog { requests: 0, complaints: 2, refused: 0 }.describe(), "belum terkirim: 2 pengaduan");
        assert_eq!(Backlog::default().describe(), "semua terkirim");
        // A device from before the backlog: its body ends after the documents.
        #[derive(Serialize)]
        struct Older<'a>(u16, u64, &'a [DocMessage]);
        let older = encode(&Older(req.version, req.cursor, &req.docs));
        assert_eq!(SyncRequest::decode(&older).unwrap(), SyncRequest { backlog: None, ..req.clone() });
        // A hub from before it reads a new body and ignores the backlog that follows.
        #[derive(Deserialize)]
        struct OlderRead(u16, u64, Vec<DocMessage>);
        let read: OlderRead = decode(&encode(&req)).unwrap();
        assert_eq!((read.0, read.1, read.2.len()), (PROTOCOL_VERSION, 5, 1));
        // Cut inside the backlog: refused, never read as another value.
        let body = raw_body(&req);
        for cut in body.len() - 3..body.len() {
            let cut_body = compress(&body[..cut], FORMAT_DICTIONARY_V1);
            let got = SyncRequest::decode(&cut_body);
            assert!(got.is_err() || got.as_ref().unwrap().backlog.is_none(), "cut at {cut}: {got:?}");
        }
    }

    /// A zstd answer body as the hub writes it (format byte, then one frame).
    fn zstd_body(raw: &[u8]) -> Vec<u8> {
        let mut out = vec![FORMAT_ZSTD];
        out.extend(zstd::bulk::compress(raw, 15).unwrap());
        out
    }

    #[test]
    fn zstd_answers_are_read_by_devices_and_refused_as_requests_and_when_damaged() {
        let resp = SyncResponse {
            version: PROTOCOL_VERSION,
            cursor: 3,
            more: false,
            docs: (0..200).map(|i| DocMessage { doc_id: format!("doc-{i}"), message: vec![(i % 7) as u8; 400] }).collect(),
            refused: vec![],
            epoch: 5,
        };
        let body = zstd_body(&raw_body(&resp));
        assert!(body.len() < encode(&resp).len(), "zstd {} vs deflate {}", body.len(), encode(&resp).len());
        assert_eq!(SyncResponse::decode(&body).unwrap(), resp);
        // A hub never reads the format: a device cannot reach the zstd decoder of the hub.
        let req = SyncRequest { version: PROTOCOL_VERSION, cursor: 0, docs: vec![], backlog: None };
        assert_eq!(SyncRequest::decode(&zstd_body(&raw_body(&req))), Err(ProtocolError::Version));
        // Cut anywhere, or followed by other bytes: refused, never a panic or a wrong value.
        for cut in 1..body.len() {
            assert!(SyncResponse::decode(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.extend_from_slice(b"sisa");
        assert_eq!(SyncResponse::decode(&longer), Err(ProtocolError::Malformed));
        // Damaged bytes: refused or (if the damage hits literal bytes) another body that the
        // checks after decoding judge; never a panic.
        for i in (1..body.len()).step_by(7) {
            let mut bad = body.clone();
            bad[i] ^= 0x5a;
            let _ = SyncResponse::decode(&bad);
        }
        // A bomb: small on the wire, over the limit once decompressed.
        let bomb = zstd_body(&vec![0u8; MAX_DECODED_BYTES + 10]);
        assert!(bomb.len() < 4096);
        assert_eq!(decode_answer::<SyncResponse>(&bomb), Err(ProtocolError::TooLarge));
    }

    proptest! {
        #[test]
        fn any_bytes_after_the_zstd_format_byte_are_refused_or_read_never_a_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut body = vec![FORMAT_ZSTD];
            body.extend(data);
            let _ = SyncResponse::decode(&body);
        }
    }

    #[test]
    fn sync_response_round_trips() {
        let resp = SyncResponse {
            version: PROTOCOL_VERSION,
            cursor: 9,
            more: true,
            docs: vec![DocMessage { doc_id: "doc-1".into(), message: vec![7; 40] }],
            refused: vec![DocRefusal { doc_id: "doc-2".into(), code: "nik_tidak_valid".into(), message: "NIK tidak valid".into() }],
            epoch: 0x0123_4567_89ab_cdef,
        };
        assert_eq!(SyncResponse::decode(&encode(&resp)).unwrap(), resp);
        // A hub from before the lineage field: its body ends after the refusals, and reads as
        // "not told" (0), everything else kept.
        #[derive(Serialize)]
        struct Older<'a>(u16, u64, bool, &'a [DocMessage], &'a [DocRefusal]);
        let older = encode(&Older(resp.version, resp.cursor, resp.more, &resp.docs, &resp.refused));
        assert_eq!(SyncResponse::decode(&older).unwrap(), SyncResponse { epoch: 0, ..resp.clone() });
        // A device from before it reads a new body and ignores the lineage that follows.
        #[derive(Deserialize, Debug, PartialEq)]
        struct OlderRead(u16, u64, bool, Vec<DocMessage>, Vec<DocRefusal>);
        let read: OlderRead = decode(&encode(&resp)).unwrap();
        assert_eq!((read.1, read.3.len(), read.4.len()), (9, 1, 1));
    }

    #[test]
    fn an_erasure_notice_round_trips_and_reads_as_a_refusal_to_older_devices() {
        let resp = SyncResponse {
            version: PROTOCOL_VERSION,
            cursor: 12,
            more: false,
            docs: vec![],
            refused: vec![DocRefusal::erased("0190-dihapus"), DocRefusal { doc_id: "x".into(), code: "lain".into(), message: "m".into() }],
            epoch: 7,
        };
        let back = SyncResponse::decode(&encode(&resp)).unwrap();
        assert_eq!(back, resp);
        assert!(back.refused[0].is_erasure() && !back.refused[1].is_erasure());
        assert_eq!(back.refused[0].code, "data_dihapus", "the code is the wire contract");
        // The body starts as the one older devices decode: the same fields, in the same order,
        // with a refusal of a new code (an older device shows it, a newer one deletes its copy),
        // then the hub's lineage (ADR 0014), which they do not read.
        #[derive(Serialize)]
        struct OlderResponse {
            version: u16,
            cursor: u64,
            more: bool,
            docs: Vec<DocMessage>,
            refused: Vec<(String, String, String)>,
        }
        let older = OlderResponse {
            version: PROTOCOL_VERSION,
            cursor: 12,
            more: false,
            docs: vec![],
            refused: resp.refused.iter().map(|r| (r.doc_id.clone(), r.code.clone(), r.message.clone())).collect(),
        };
        assert!(raw_body(&resp).starts_with(&raw_body(&older)));
    }

    #[test]
    fn enrolment_and_error_bodies_round_trip_as_json() {
        let req = EnrolRequest {
            code: "ABCDEFGHJK".into(),
            device_name: "HP Pak RT".into(),
            actor: actor_hex(&crate::document::random_actor()),
            device_id: "0190f0a0-0000-7000-8000-000000000000".into(),
        };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<EnrolRequest>(&json).unwrap(), req);
        // The field names are the wire contract.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["device_name"], "HP Pak RT");
        let answer = Enrolment {
            device_id: req.device_id.clone(),
            token: "T".repeat(32),
            officer_id: "petugas-abc".into(),
            officer_name: "Bu Sri".into(),
            receipt_prefix: "AB".into(),
            rw: 5,
            rt: None,
        };
        let json = serde_json::to_string(&answer).unwrap();
        assert_eq!(serde_json::from_str::<Enrolment>(&json).unwrap(), answer);
        // An older hub does not send the officer's name: it reads as empty.
        let older = r#"{"device_id":"d","token":"t","officer_id":"o","receipt_prefix":"AB","rw":5,"rt":2}"#;
        assert_eq!(serde_json::from_str::<Enrolment>(older).unwrap().officer_name, "");
        let e = ErrorBody { kode: "sibuk".into(), pesan: "hub sedang sibuk".into() };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"kode":"sibuk","pesan":"hub sedang sibuk"}"#);
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), e);
    }

    #[test]
    fn heads_actors_and_exchange_keys_round_trip() {
        let heads = vec![automerge::ChangeHash([1; 32]), automerge::ChangeHash([0xfe; 32])];
        assert_eq!(decode_heads(&encode_heads(&heads)).unwrap(), heads);
        assert!(decode_heads(&[0; 33]).is_err(), "a cut hash is refused, not dropped");
        assert_eq!(decode_heads(&[]).unwrap(), Vec::<automerge::ChangeHash>::new());
        let actor = crate::document::random_actor();
        let text = actor_hex(&actor);
        assert_eq!(text.len(), 32);
        assert_eq!(actor_from_hex(&text), Some(actor.clone()));
        assert_eq!(actor_from_hex(&text.to_ascii_uppercase()), Some(actor));
        assert_eq!(actor_from_hex("zz"), None);
        assert_eq!(actor_from_hex(&"a".repeat(34)), None);
        let key = new_exchange_key();
        assert!(valid_exchange_key(&key), "{key}");
        assert_ne!(key, new_exchange_key());
        assert!(!valid_exchange_key("ABCDEFGH") && !valid_exchange_key("short"));
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
