//! Length limits of every text a person types, in characters (ADR 0009). The phone checks them
//! when the officer saves, the hub checks them on every record a device sends and on every
//! staff input, so no single text can grow a document past what a sync message carries.

use super::Issue;

/// A person's name (applicant, reporter).
pub const NAME: usize = 100;
/// Place of birth.
pub const BIRTH_PLACE: usize = 100;
/// Street, gang and house number.
pub const STREET: usize = 200;
/// A short extra field of a service (`FieldKind::Text`).
pub const TEXT_FIELD: usize = 200;
/// A long extra field of a service (`FieldKind::LongText`), and any extra field's value at most.
pub const LONG_TEXT_FIELD: usize = 2000;
/// The officer's notes on a request.
pub const NOTES: usize = 2000;
/// The reason given with a status (missing document, rejection), by officer or staff.
pub const REASON: usize = 500;
/// A complaint's topic.
pub const TOPIC: usize = 100;
/// A complaint's text.
pub const COMPLAINT_TEXT: usize = 2000;
/// Where a complaint is about.
pub const PLACE_DESCRIPTION: usize = 200;
/// Staff notes on a request.
pub const STAFF_NOTES: usize = 2000;
/// The office's answer to a complaint.
pub const RESPONSE: usize = 2000;
/// A letter number.
pub const LETTER_NUMBER: usize = 100;
/// Identifiers carried in records (record, officer, device, staff ids; requirement and field
/// keys); generated, never typed, but bounded all the same.
pub const IDENTIFIER: usize = 64;
/// Most extra fields or checklist entries one request may carry.
pub const MAX_ENTRIES: usize = 50;

/// An error when `value` (trimmed) is longer than `max` characters: code `terlalu_panjang`,
/// the message naming `label` and the limit.
pub fn check(field: impl Into<String>, label: &str, value: &str, max: usize) -> Option<Issue> {
    // Count at most max + 1 characters: a 2 MiB text costs no more than a short one.
    (value.trim().chars().take(max + 1).count() > max)
        .then(|| Issue::error(field, "terlalu_panjang", format!("{label} terlalu panjang (paling banyak {max} huruf)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes_and_ignores_outer_spaces() {
        assert!(check("n", "Nama", &"é".repeat(NAME), NAME).is_none());
        assert!(check("n", "Nama", &format!("  {}  ", "a".repeat(NAME)), NAME).is_none());
        let i = check("n", "Nama", &"a".repeat(NAME + 1), NAME).unwrap();
        assert_eq!((i.code.as_str(), i.field.as_str()), ("terlalu_panjang", "n"));
        assert_eq!(i.message, "Nama terlalu panjang (paling banyak 100 huruf)");
        assert!(check("x", "Alasan", &"x".repeat(2 << 20), REASON).is_some());
    }
}
