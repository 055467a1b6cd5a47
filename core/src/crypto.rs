//! Encryption of personal data at rest: XChaCha20-Poly1305 for values, keyed BLAKE3 for the
//! blind index tags that let the store find a NIK or a name without storing it in plaintext.
//! See `docs/adr/0001-encryption-at-rest.md`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Format byte written before every sealed value, so the scheme can change later.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A 256-bit master key, supplied by the app (Android Keystore / iOS Keychain) or the hub's
/// key file. Wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Wraps 32 key bytes.
    pub fn new(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    /// Takes a key from a slice, which must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<MasterKey> {
        <[u8; 32]>::try_from(bytes).ok().map(MasterKey)
    }

    /// A fresh random key.
    pub fn generate() -> MasterKey {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("the OS random source works");
        MasterKey(b)
    }

    /// The raw bytes (for handing to the platform key store).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

/// Seals and opens values, and computes blind index tags, under keys derived from one
/// [`MasterKey`] (separate keys for encryption and for tags).
pub struct Cipher {
    aead: XChaCha20Poly1305,
    tag_key: [u8; 32],
    /// While a key rotation is under way: the key being retired, tried when a value does not
    /// open under this one (ADR 0015). Never used to seal or to tag.
    previous: Option<Box<Cipher>>,
}

impl Drop for Cipher {
    fn drop(&mut self) {
        self.tag_key.zeroize();
    }
}

/// A sealed value failed to open: wrong key, or the bytes were changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenError;

impl Cipher {
    /// Derives the encryption and tag keys from `master`. `purpose` separates key domains
    /// (e.g. the phone store and the hub use different purposes).
    pub fn new(master: &MasterKey, purpose: &str) -> Cipher {
        let mut enc = blake3::derive_key(&format!("jemput 2026 {purpose} enkripsi v1"), &master.0);
        let tag_key = blake3::derive_key(&format!("jemput 2026 {purpose} indeks buta v1"), &master.0);
        let aead = XChaCha20Poly1305::new(&chacha20poly1305::Key::from(enc));
        enc.zeroize();
        Cipher { aead, tag_key, previous: None }
    }

    /// A cipher for a key rotation under way (ADR 0015): seals and tags under `current`, and
    /// opens what is sealed under either `current` or `previous`, so every value opens at every
    /// moment of the rotation.
    pub fn rotating(current: &MasterKey, previous: &MasterKey, purpose: &str) -> Cipher {
        let mut c = Cipher::new(current, purpose);
        c.previous = Some(Box::new(Cipher::new(previous, purpose)));
        c
    }

    /// Whether this cipher still opens values of a key being retired.
    pub fn is_rotating(&self) -> bool {
        self.previous.is_some()
    }

    /// Opens `sealed` under the current key only (not the one being retired): tells whether a
    /// value has been re-sealed already.
    pub fn open_current(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != FORMAT_V1 {
            return Err(OpenError);
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().map_err(|_| OpenError)?;
        self.aead.decrypt(&XNonce::from(nonce), Payload { msg: &sealed[1 + NONCE_LEN..], aad: context }).map_err(|_| OpenError)
    }

    /// Opens `sealed` (under whichever key sealed it) and seals it again under the current key.
    pub fn reseal(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let plain = zeroize::Zeroizing::new(self.open(context, sealed)?);
        Ok(self.seal(context, &plain))
    }

    /// Encrypts `plain`, binding it to `context` (e.g. the record id and column), so a sealed
    /// value copied to another row does not open.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source works");
        let ct = self
            .aead
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: context })
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts a value sealed with [`Cipher::seal`] under the same `context`.
    /// During a key rotation ([`Cipher::rotating`]) a value the current key does not open is
    /// tried under the key being retired.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        match (self.open_current(context, sealed), &self.previous) {
            (Err(_), Some(prev)) => prev.open_current(context, sealed),
            (r, _) => r,
        }
    }

    /// A 64-bit blind index tag of `value` for lookups by equality (e.g. NIK, name prefixes).
    /// Equal inputs give equal tags; without the key a tag reveals nothing about the value.
    pub fn tag(&self, purpose: &str, value: &str) -> i64 {
        let mut h = blake3::Hasher::new_keyed(&self.tag_key);
        h.update(purpose.as_bytes());
        h.update(&[0]);
        h.update(value.as_bytes());
        let out = h.finalize();
        i64::from_le_bytes(out.as_bytes()[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let c = Cipher::new(&MasterKey::generate(), "uji");
        let s = c.seal(b"doc:1", b"Siti Aminah");
        assert_eq!(c.open(b"doc:1", &s).unwrap(), b"Siti Aminah");
        assert!(c.open(b"doc:2", &s).is_err(), "moved to another row");
        let mut t = s.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(c.open(b"doc:1", &t).is_err(), "tampered");
        assert!(!s.windows(4).any(|w| w == b"Siti"));
        assert_ne!(c.seal(b"doc:1", b"x"), c.seal(b"doc:1", b"x"), "fresh nonce each time");
    }

    #[test]
    fn a_rotating_cipher_opens_both_keys_and_seals_and_tags_under_the_new_one() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let before = Cipher::new(&old, "uji");
        let during = Cipher::rotating(&new, &old, "uji");
        let after = Cipher::new(&new, "uji");
        let sealed_old = before.seal(b"c", b"rahasia");
        assert_eq!(during.open(b"c", &sealed_old).unwrap(), b"rahasia");
        assert!(during.open_current(b"c", &sealed_old).is_err(), "not yet re-sealed");
        let resealed = during.reseal(b"c", &sealed_old).unwrap();
        assert_eq!(after.open(b"c", &resealed).unwrap(), b"rahasia");
        assert!(before.open(b"c", &resealed).is_err(), "the retired key no longer opens it");
        assert_eq!(after.open(b"c", &during.seal(b"c", b"baru")).unwrap(), b"baru");
        assert!(after.open(b"c", &sealed_old).is_err());
        assert_eq!(during.tag("nik", "1"), after.tag("nik", "1"));
        assert!(during.open(b"lain", &sealed_old).is_err(), "the context still binds");
    }

    #[test]
    fn wrong_key_does_not_open_and_tags_differ() {
        let a = Cipher::new(&MasterKey::generate(), "uji");
        let b = Cipher::new(&MasterKey::generate(), "uji");
        assert!(b.open(b"c", &a.seal(b"c", b"rahasia")).is_err());
        assert_eq!(a.tag("nik", "3576024405900001"), a.tag("nik", "3576024405900001"));
        assert_ne!(a.tag("nik", "3576024405900001"), b.tag("nik", "3576024405900001"));
        assert_ne!(a.tag("nik", "1"), a.tag("nama", "1"), "purposes are separated");
    }
}
