//! Receipt codes (kode tanda terima) for residents: `XXXX-XXXX-C` — a 4-character device prefix,
//! a 4-character per-device counter and a check character, over a 31-character alphabet with
//! no 0/O, 1/I/L. Unique across a kelurahan's devices without coordination at recording time
//! (the hub allocates each device a distinct prefix at enrolment), and checkable: every single
//! mistyped character and every swap of two characters is detected. See ADR 0003.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::Issue;

/// The alphabet: digits 2–9 and letters without I, L, O (31 symbols, a prime).
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const BASE: u32 = 31;
/// Codes per device prefix (31⁴).
pub const CODES_PER_PREFIX: u32 = BASE * BASE * BASE * BASE;

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

fn encode4(mut n: u32) -> [u8; 4] {
    let mut out = [0u8; 4];
    for i in (0..4).rev() {
        out[i] = ALPHABET[(n % BASE) as usize];
        n /= BASE;
    }
    out
}

/// The check character for 8 data characters: weights 1..8 on the data and 9 on the check
/// make the weighted sum ≡ 0 (mod 31). Weights are distinct and non-zero mod 31, so any single
/// substitution and any transposition of two different characters changes the sum.
fn check_char(data: &[u8; 8]) -> u8 {
    let sum: u32 = data.iter().enumerate().map(|(i, &c)| value(c).expect("alphabet") * (i as u32 + 1)).sum::<u32>() % BASE;
    // c * 9 ≡ -sum (mod 31); 9⁻¹ ≡ 7 (mod 31) since 63 = 2·31 + 1.
    let c = ((BASE - sum) % BASE) * 7 % BASE;
    ALPHABET[c as usize]
}

/// A device's receipt prefix: 4 characters of the alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DevicePrefix(String);

impl DevicePrefix {
    /// A random prefix, for a device not enrolled yet (see ADR 0003 for the consequences).
    pub fn random() -> DevicePrefix {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).expect("the OS random source works");
        DevicePrefix::from_number(u32::from_le_bytes(b) % CODES_PER_PREFIX)
    }

    fn from_number(n: u32) -> DevicePrefix {
        DevicePrefix(String::from_utf8(encode4(n).to_vec()).expect("ascii"))
    }

    /// The prefix for the hub's `n`-th device of a kelurahan: distinct for every `n` below 31⁴,
    /// spread out so that consecutive devices get unlike prefixes.
    pub fn from_index(n: u32) -> DevicePrefix {
        // 370,373 is not a multiple of 31, so multiplication is a bijection modulo 31⁴.
        let x = (u64::from(n % CODES_PER_PREFIX) * 370_373 + 123_457) % u64::from(CODES_PER_PREFIX);
        DevicePrefix::from_number(x as u32)
    }

    /// Parses a prefix (case-insensitive).
    pub fn parse(s: &str) -> Option<DevicePrefix> {
        let up = s.trim().to_ascii_uppercase();
        (up.len() == 4 && up.bytes().all(|c| value(c).is_some())).then_some(DevicePrefix(up))
    }

    /// The prefix's four characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A receipt code in its display form `XXXX-XXXX-C`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptCode(String);

impl ReceiptCode {
    /// The code for the `counter`-th record of a device (counters start at 1); `None` once the
    /// device has used all 923,520 codes of its prefix (it then needs a new prefix).
    pub fn new(prefix: &DevicePrefix, counter: u32) -> Option<ReceiptCode> {
        if counter == 0 || counter >= CODES_PER_PREFIX {
            return None;
        }
        let mut data = [0u8; 8];
        data[..4].copy_from_slice(prefix.0.as_bytes());
        data[4..].copy_from_slice(&encode4(counter));
        let c = check_char(&data);
        let s = std::str::from_utf8(&data).expect("ascii");
        Some(ReceiptCode(format!("{}-{}-{}", &s[..4], &s[4..], c as char)))
    }

    /// Parses a code as people write it: any case, with or without spaces and dashes.
    pub fn parse(s: &str) -> Result<ReceiptCode, Issue> {
        let chars: Vec<u8> = s.bytes().filter(|b| !b" -_\t.".contains(b)).map(|b| b.to_ascii_uppercase()).collect();
        if chars.iter().any(|c| b"01OIL".contains(c)) {
            return Err(Issue::error(
                "receipt",
                "kode_huruf_salah",
                "Kode tanda terima tidak memakai angka 0 dan 1 atau huruf O, I dan L; periksa kembali tulisan kodenya",
            ));
        }
        if chars.len() != 9 || chars.iter().any(|&c| value(c).is_none()) {
            return Err(Issue::error("receipt", "kode_format", "Kode tanda terima terdiri dari 9 huruf/angka, misalnya K7QM-2F4A-X"));
        }
        let data: [u8; 8] = chars[..8].try_into().expect("8");
        if check_char(&data) != chars[8] {
            return Err(Issue::error("receipt", "kode_salah_ketik", "Kode tanda terima tidak cocok; mungkin ada huruf yang salah ketik"));
        }
        let s = std::str::from_utf8(&chars).expect("ascii");
        Ok(ReceiptCode(format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..])))
    }

    /// The display form with dashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The device prefix part.
    pub fn prefix(&self) -> DevicePrefix {
        DevicePrefix(self.0[..4].to_string())
    }
}

impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ReceiptCode> for String {
    fn from(c: ReceiptCode) -> String {
        c.0
    }
}

impl TryFrom<String> for ReceiptCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ReceiptCode::parse(&s).map_err(|i| i.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_and_forgiving_parse() {
        let p = DevicePrefix::parse("k7qm").unwrap();
        let c = ReceiptCode::new(&p, 1).unwrap();
        assert_eq!(c.as_str().len(), 11);
        assert!(c.as_str().starts_with("K7QM-2223-"), "{c}");
        let plain: String = c.as_str().replace('-', "").to_lowercase();
        assert_eq!(ReceiptCode::parse(&plain).unwrap(), c);
        assert_eq!(ReceiptCode::parse(&format!(" {} ", c.as_str().replace('-', " "))).unwrap(), c);
        assert_eq!(ReceiptCode::parse("K7QM-2O22-X").unwrap_err().code, "kode_huruf_salah");
        assert_eq!(ReceiptCode::parse("K7QM-222").unwrap_err().code, "kode_format");
        assert!(ReceiptCode::new(&p, 0).is_none());
        assert!(ReceiptCode::new(&p, CODES_PER_PREFIX).is_none());
        assert!(ReceiptCode::new(&p, CODES_PER_PREFIX - 1).is_some());
        assert_eq!(c.prefix(), p);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ReceiptCode>(&json).unwrap(), c);
    }

    #[test]
    fn hub_prefixes_are_distinct_and_spread() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..5000 {
            assert!(seen.insert(DevicePrefix::from_index(n)));
        }
        let (a, b) = (DevicePrefix::from_index(0), DevicePrefix::from_index(1));
        assert!(a.as_str().bytes().zip(b.as_str().bytes()).filter(|(x, y)| x != y).count() >= 2, "{a:?} {b:?}");
        assert!(DevicePrefix::parse("K0QM").is_none());
        assert!(DevicePrefix::parse(DevicePrefix::random().as_str()).is_some());
    }

    fn any_code() -> impl Strategy<Value = ReceiptCode> {
        (0..CODES_PER_PREFIX, 1..CODES_PER_PREFIX).prop_map(|(p, n)| ReceiptCode::new(&DevicePrefix::from_index(p), n).unwrap())
    }

    proptest! {
        #[test]
        fn round_trips(c in any_code()) {
            prop_assert_eq!(ReceiptCode::parse(c.as_str()).unwrap(), c.clone());
            prop_assert_eq!(ReceiptCode::parse(&c.as_str().to_lowercase().replace('-', "")).unwrap(), c);
        }

        #[test]
        fn every_substitution_is_detected(c in any_code(), pos in 0usize..9, sym in 0usize..31) {
            let mut chars: Vec<u8> = c.as_str().bytes().filter(|&b| b != b'-').collect();
            prop_assume!(chars[pos] != ALPHABET[sym]);
            chars[pos] = ALPHABET[sym];
            prop_assert!(ReceiptCode::parse(std::str::from_utf8(&chars).unwrap()).is_err());
        }

        #[test]
        fn every_transposition_is_detected(c in any_code(), i in 0usize..9, j in 0usize..9) {
            let mut chars: Vec<u8> = c.as_str().bytes().filter(|&b| b != b'-').collect();
            prop_assume!(chars[i] != chars[j]);
            chars.swap(i, j);
            prop_assert!(ReceiptCode::parse(std::str::from_utf8(&chars).unwrap()).is_err());
        }

        #[test]
        fn distinct_inputs_give_distinct_codes(p1 in 0u32..1000, p2 in 0u32..1000, n1 in 1u32..5000, n2 in 1u32..5000) {
            prop_assume!((p1, n1) != (p2, n2));
            let a = ReceiptCode::new(&DevicePrefix::from_index(p1), n1).unwrap();
            let b = ReceiptCode::new(&DevicePrefix::from_index(p2), n2).unwrap();
            prop_assert_ne!(a, b);
        }

        #[test]
        fn any_text_never_panics(s in "\\PC{0,20}") {
            let _ = ReceiptCode::parse(&s);
        }
    }
}
