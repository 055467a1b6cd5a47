//! How a person's name is searched without keeping it in clear (ADR 0001): the name is cut into
//! words and each word into its prefixes; the phone's store and the hub's office index keep a
//! blind tag of every prefix, and a search looks up the tag of each word typed. So "wahy" finds
//! "Sri Wahyuni" on the phone and on the dashboard alike, and neither keeps a name in clear.

/// Shortest name prefix that is indexed and searchable.
pub const MIN_PREFIX: usize = 2;
/// Longest name prefix that is indexed (longer query words are cut to this).
pub const MAX_PREFIX: usize = 12;

/// Lower-cased words of a name, letters and digits only ("Abd. Rahman-Hakim" → abd, rahman,
/// hakim).
pub fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase())
}

/// Every prefix ([`MIN_PREFIX`] to [`MAX_PREFIX`] characters) of every word of `name`, each
/// once, in order: what an index keeps a tag of.
pub fn prefixes(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(name) {
        let chars: Vec<char> = w.chars().collect();
        for n in MIN_PREFIX..=chars.len().min(MAX_PREFIX) {
            let p: String = chars[..n].iter().collect();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The prefixes to look up for a typed search: each word cut to [`MAX_PREFIX`] characters;
/// words shorter than [`MIN_PREFIX`] are left out (they would match nearly everyone). Empty
/// when nothing searchable was typed.
pub fn query_terms(text: &str) -> Vec<String> {
    words(text).map(|w| w.chars().take(MAX_PREFIX).collect::<String>()).filter(|p| p.chars().count() >= MIN_PREFIX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_every_word_and_queries_cut_the_same_way() {
        assert_eq!(prefixes("Sri Wahyuni"), ["sr", "sri", "wa", "wah", "wahy", "wahyu", "wahyun", "wahyuni"]);
        assert_eq!(prefixes("Abd. Rahman-Rahmat"), ["ab", "abd", "ra", "rah", "rahm", "rahma", "rahman", "rahmat"]);
        assert_eq!(prefixes("Ni Ketut Ayu Oktaviantinirmala").last().unwrap().chars().count(), MAX_PREFIX);
        assert_eq!(query_terms("  wahyu  S "), ["wahyu"]);
        assert_eq!(query_terms("Oktaviantinirmalasari"), ["oktaviantini"]);
        assert!(query_terms("a . -").is_empty());
        // Whatever is typed of a word (from two letters on) is among the word's prefixes.
        for name in ["Siti Aminah", "BUDI santoso", "Ni Ketut Ayu Oktaviantinirmala", "Ọlá Ìbàdàn"] {
            let indexed = prefixes(name);
            for w in words(name) {
                for n in MIN_PREFIX..=w.chars().count() {
                    let typed: String = w.chars().take(n).collect();
                    for t in query_terms(&typed.to_uppercase()) {
                        assert!(indexed.contains(&t), "{name}: {typed} → {t}");
                    }
                }
            }
        }
    }
}
