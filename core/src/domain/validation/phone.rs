//! Indonesian phone numbers: `08…`, `+62 8…` and `62 8…` are the same number. Spaces, dashes,
//! dots and brackets are allowed when typed. Mobile numbers are 10–13 digits in the `08…` form;
//! landlines (area code and number, e.g. `0321 123456`) are 9–12 digits in the `0…` form.
//! The normal form is `62…` (E.164 without the plus).

use super::Issue;

/// The normal form (`628…`) of a valid number, or `None`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let t = s.trim();
    let (plus, rest) = match t.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, t),
    };
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c)) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let national = if let Some(n) = digits.strip_prefix("62") {
        n.to_string()
    } else if plus {
        return None; // another country
    } else if let Some(n) = digits.strip_prefix('0') {
        n.to_string()
    } else {
        return None;
    };
    let ok = match national.as_bytes().first() {
        Some(b'8') => (9..=12).contains(&national.len()),
        Some(b'1'..=b'7' | b'9') => (8..=11).contains(&national.len()),
        _ => false,
    };
    ok.then(|| format!("62{national}"))
}

/// Validates a phone number; the message explains the accepted forms.
pub fn validate_phone(field: &str, s: &str) -> Vec<Issue> {
    if normalize_phone(s).is_some() {
        vec![]
    } else {
        vec![Issue::error(
            field,
            "telepon_tidak_valid",
            "Nomor HP/telepon tidak valid; tulis seperti 0812 3456 7890 atau +62 812 3456 7890",
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_three_forms_are_one_number() {
        for s in ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "62 812.3456.7890", "(0812) 3456 7890"] {
            assert_eq!(normalize_phone(s).as_deref(), Some("6281234567890"), "{s}");
        }
        assert_eq!(normalize_phone("0321 321456").as_deref(), Some("62321321456"), "a Mojokerto landline");
        for bad in ["", "12345", "0812", "+65 8123 4567", "08123456789012345", "0812abc4567", "+", "0000000000"] {
            assert!(normalize_phone(bad).is_none(), "{bad}");
            assert_eq!(validate_phone("p", bad)[0].code, "telepon_tidak_valid");
        }
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent_and_forms_agree(rest in "8[0-9]{8,11}") {
            let a = normalize_phone(&format!("0{rest}"));
            let b = normalize_phone(&format!("+62{rest}"));
            let c = normalize_phone(&format!("62 {rest}"));
            prop_assert!(a.is_some());
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&a, &c);
            let n = a.unwrap();
            prop_assert_eq!(normalize_phone(&n), Some(n.clone()));
            prop_assert_eq!(normalize_phone(&format!("+{n}")), Some(n));
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = validate_phone("p", &s);
        }
    }
}
